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


#: Past this many digits before the point, a quantity is far beyond the kubelet's int64 arithmetic
#: (19 digits): parse() says so instead of building the number (``1e999999999`` never ended).
MAX_DIGITS = 40
INT64_MAX = 2 ** 63 - 1


class QuantityOverflow(ValueError):
    """A valid quantity too large for the kubelet's int64 arithmetic: what it writes is not predicted."""


@functools.lru_cache(maxsize=1024, typed=True)  # a corpus repeats a handful of quantities
def parse(text) -> Fraction:
    """A quantity's exact value, rounded up (away from zero) to a multiple of 1n as
    ``ParseQuantity`` rounds it; binary-suffixed values capped at 2^63-1 as it caps them. Bounded
    work for any input length.

    Raises:
        QuantityOverflow: more than MAX_DIGITS digits before the point.
        ValueError: not a quantity.
    """
    from fractions import Fraction

    number, exponent, suffix, whole, frac = _parts(text)
    sign = -1 if number.startswith("-") else 1
    digits = (whole + frac).lstrip("0")
    if not digits:
        return Fraction(0)
    num, den = _SUFFIXES[suffix or ""]
    # The value is int(digits) * 10**shift * num / den; its order (digits before the point) decides.
    shift = (int(exponent[1:]) if exponent else 0) - len(frac)
    order = len(digits) + shift + len(str(num)) - len(str(den))
    if order > MAX_DIGITS:
        if num != 1 and num % 10:  # a binary suffix: ParseQuantity caps the value at 2^63-1
            return Fraction(sign * INT64_MAX)
        raise QuantityOverflow(f"quantity {text!r} is beyond the kubelet's int64 arithmetic")
    if order < -MAX_DIGITS:  # far below 1n: ParseQuantity rounds any non-zero value up to 1n
        return Fraction(sign, 10 ** 9)
    keep = max(1, order + 30 - len(str(num)) + len(str(den)))  # digits that reach 1n, with room
    sticky = any(c != "0" for c in digits[keep:])
    head = digits[:keep]
    value = Fraction(int(head)) * Fraction(10) ** (shift + len(digits) - len(head)) * Fraction(num, den)
    nanos = math.ceil(value * 10 ** 9) + (1 if sticky and (value * 10 ** 9).denominator == 1 else 0)
    value = Fraction(nanos, 10 ** 9)
    if num != 1 and num % 10 and value > INT64_MAX:
        value = Fraction(INT64_MAX)
    return sign * value


def _parts(text) -> tuple[str, str | None, str | None, str, str]:
    """A quantity's number, exponent, suffix, and the number's digits before and after the point.

    Raises:
        ValueError: not a quantity.
    """
    match = _RE.match(str(text).strip())
    if not match:
        raise ValueError(f"invalid quantity {text!r}")
    number, exponent, suffix = match.groups()
    whole, _, frac = number.lstrip("+-").partition(".")
    if "." in frac or not (whole or frac) or (exponent and len(exponent) > 21):
        raise ValueError(f"invalid quantity {text!r}")
    return number, exponent, suffix, whole, frac


def check(text) -> None:
    """Whether ``text`` is a quantity, as ``parse`` reads it (any size: a valid quantity beyond
    the kubelet's int64 arithmetic passes), without working out its value: the checks of a pod
    spec's resources need no more, and ``parse`` would cost every run the ``fractions`` module.

    Raises:
        ValueError: not a quantity.
    """
    _parts(text)


def divide_ceil(value: Fraction, divisor: Fraction, cpu: bool) -> str:
    """The string the kubelet writes: ceil(value / divisor), CPU counted in millicores first.

    Raises:
        QuantityOverflow: the result does not fit the kubelet's int64.
        ZeroDivisionError: a zero divisor.
    """
    from fractions import Fraction

    if cpu:
        value_m, divisor_m = math.ceil(value * 1000), math.ceil(divisor * 1000)
        result = math.ceil(Fraction(value_m, divisor_m))
    else:
        result = math.ceil(Fraction(math.ceil(value), math.ceil(divisor)))
    if abs(result) > INT64_MAX:
        raise QuantityOverflow("beyond the kubelet's int64 arithmetic")
    return str(result)


#: The divisors the API server allows per resource (validation.go ``validateContainerResourceDivisor``).
_DIVISORS = {
    "cpu": ("1m and 1", {"1m", "1"}),
    "memory": ("1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei",
               {"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"}),
}
_DIVISORS["ephemeral-storage"] = _DIVISORS["memory"]


@functools.cache
def _divisor_values(resource: str) -> frozenset:
    """The divisors of ``_DIVISORS`` by value, made once (a corpus of downward volumes asks for them
    in every pod), when first asked: not at import, which would cost every run of parity the
    ``fractions`` module and the parses."""
    return frozenset(parse(a) for a in _DIVISORS[resource][1])

_RESOURCE_WORDS = {"cpu": "the cpu resource", "memory": "the memory resource",
                   "ephemeral-storage": "the local ephemeral storage resource"}


def divisor_error(resource: str, divisor: str) -> str | None:
    """Why the API server refuses ``divisor`` for ``resource`` (``cpu``, ``memory``,
    ``ephemeral-storage``), or None. Compared by value, as it compares the canonical quantity
    (``1000m`` is ``1``)."""
    words, allowed = _DIVISORS[resource]
    if divisor in allowed:  # as written in the API's list: nothing to parse
        return None
    try:
        value = parse(divisor)
    except ValueError:  # (QuantityOverflow included: far past any allowed divisor)
        value = None
    if value == 0:  # the zero Quantity is "unset": 1 (validateContainerResourceDivisor, ExtractContainerResourceValue)
        return None
    if value is None or value not in _divisor_values(resource):
        return f"only divisor's values {words} are supported with {_RESOURCE_WORDS[resource]}"
    return None
