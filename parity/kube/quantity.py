"""Kubernetes resource quantities (``500m``, ``64Mi``, ``1e3``) as exact fractions.

Only what the downward API's ``resourceFieldRef`` needs: parse, then divide by a divisor and round
up, as ``pkg/api/v1/resource`` (``convertResourceCPUToString`` and friends) does.

``fractions`` (and the ``decimal`` it loads) is imported on first use: most manifests have no
``resourceFieldRef``, and ``parity layout`` must start fast.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

#: suffix -> (numerator, denominator) of its multiplier (apimachinery suffix.go: n u m "" k M G T P E, Ki..Ei)
_SUFFIXES = {
    "": (1, 1), "n": (1, 10 ** 9), "u": (1, 10 ** 6), "m": (1, 1000), "k": (10 ** 3, 1), "M": (10 ** 6, 1), "G": (10 ** 9, 1), "T": (10 ** 12, 1),
    "P": (10 ** 15, 1), "E": (10 ** 18, 1), "Ki": (2 ** 10, 1), "Mi": (2 ** 20, 1), "Gi": (2 ** 30, 1),
    "Ti": (2 ** 40, 1), "Pi": (2 ** 50, 1), "Ei": (2 ** 60, 1),
}
_RE = re.compile(r"^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$")


@functools.lru_cache(maxsize=1024, typed=True)  # a corpus repeats a handful of quantities
def parse(text) -> Fraction:
    """A quantity's exact value; ``ValueError`` when it is not one."""
    from fractions import Fraction

    match = _RE.match(str(text).strip())
    if not match:
        raise ValueError(f"invalid quantity {text!r}")
    number, exponent, suffix = match.groups()
    value = Fraction(number)
    if exponent:
        value *= Fraction(10) ** int(exponent[1:])
    return value * Fraction(*_SUFFIXES[suffix or ""])


def divide_ceil(value: Fraction, divisor: Fraction, cpu: bool) -> str:
    """The string the kubelet writes: ceil(value / divisor), CPU counted in millicores first."""
    from fractions import Fraction

    if cpu:
        value_m, divisor_m = math.ceil(value * 1000), math.ceil(divisor * 1000)
        return str(math.ceil(Fraction(value_m, divisor_m)))
    return str(math.ceil(math.ceil(value) / math.ceil(divisor)))
