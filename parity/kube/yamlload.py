"""YAML read the way kubectl reads it (sigs.k8s.io/yaml over go-yaml v2), on libyaml's C parser.

PyYAML's YAML 1.1 resolver and go-yaml v2 agree on most plain scalars. Where they differ in a way
that changes a manifest's meaning, this loader follows go-yaml (``strconv.ParseInt(s, 0, 64)``):
- ``0o400`` is an integer (256), as Go >= 1.13 parses it; PyYAML would read a string;
- ``0800`` is not octal; go-yaml falls back to a float (800), which the API then rejects as a mode;
- ``1:20`` (YAML 1.1 sexagesimal) stays a string, as in go-yaml;
- ``2024-01-01`` stays a string (go-yaml turns it into a timestamp string, never a date object).
"""

from __future__ import annotations

import re

import yaml

_INT_RE = re.compile(r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o[0-7_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""", re.X)
_FLOAT_RE = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class KubeLoader(yaml.CSafeLoader):
    """CSafeLoader with go-yaml v2's integer/float resolution and no timestamps."""


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
KubeLoader.add_implicit_resolver(_INT_TAG, _INT_RE, list("-+0123456789"))
KubeLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_RE, list("-+0123456789."))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith(("0x", "0X")):
        return sign * int(digits[2:], 16)
    if digits.startswith(("0b", "0B")):
        return sign * int(digits[2:], 2)
    if digits.startswith(("0o", "0O")):
        return sign * int(digits[2:], 8)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)
    return sign * int(digits)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.endswith("inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text.endswith("nan"):
        return float("nan")
    return float(text)


KubeLoader.add_constructor(_INT_TAG, _construct_int)
KubeLoader.add_constructor(_FLOAT_TAG, _construct_float)


def load_all(text: str) -> list:
    """Every document of a YAML (or JSON) stream; ``None`` documents (``---`` alone) dropped."""
    return [doc for doc in yaml.load_all(text, Loader=KubeLoader) if doc is not None]
