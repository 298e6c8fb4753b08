"""Kubernetes resource quantities (``500m``, ``64Mi``, ``1e3``) as exact fractions.

Only what the downward API's ``resourceFieldRef`` needs: parse, then divide by a divisor and round
up, as ``pkg/api/v1/resource`` (``convertResourceCPUToString`` and friends) does.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_SUFFIXES = {
    "": Fraction(1), "m": Fraction(1, 1000), "k": Fraction(10 ** 3), "M": Fraction(10 ** 6),
    "G": Fraction(10 ** 9), "T": Fraction(10 ** 12), "P": Fraction(10 ** 15), "E": Fraction(10 ** 18),
    "Ki": Fraction(2 ** 10), "Mi": Fraction(2 ** 20), "Gi": Fraction(2 ** 30), "Ti": Fraction(2 ** 40),
    "Pi": Fraction(2 ** 50), "Ei": Fraction(2 ** 60),
}
_RE = re.compile(r"^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$")


def parse(text) -> Fraction:
    """A quantity's exact value; ``ValueError`` when it is not one."""
    match = _RE.match(str(text).strip())
    if not match:
        raise ValueError(f"invalid quantity {text!r}")
    number, exponent, suffix = match.groups()
    value = Fraction(number)
    if exponent:
        value *= Fraction(10) ** int(exponent[1:])
    return value * _SUFFIXES[suffix or ""]


def divide_ceil(value: Fraction, divisor: Fraction, cpu: bool) -> str:
    """The string the kubelet writes: ceil(value / divisor), CPU counted in millicores first."""
    if cpu:
        value_m, divisor_m = math.ceil(value * 1000), math.ceil(divisor * 1000)
        return str(math.ceil(Fraction(value_m, divisor_m)))
    return str(math.ceil(math.ceil(value) / math.ceil(divisor)))
