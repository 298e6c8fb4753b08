"""YAML read the way kubectl reads it (sigs.k8s.io/yaml over go-yaml v2), on libyaml's C parser.

PyYAML's YAML 1.1 resolver and go-yaml v2 agree on most plain scalars. Where they differ in a way
that changes a manifest's meaning, this loader follows go-yaml (``strconv.ParseInt(s, 0, 64)``):
- ``0o400`` is an integer (256), as Go >= 1.13 parses it; PyYAML would read a string;
- ``0800`` is not octal; go-yaml falls back to a float (800), which the API then rejects as a mode;
- ``1:20`` (YAML 1.1 sexagesimal) stays a string, as in go-yaml;
- ``2024-01-01`` stays a string (go-yaml turns it into a timestamp string, never a date object).

Speed: ``parity layout`` must cost little more than the bare libyaml parse, and most of that parse
is PyYAML's Python-level resolver and constructor. So plain scalars' tags are memoised, the
documents are built by one tight recursive function instead of the generic generator machinery,
and the cyclic GC is paused while a stream is built (see ``KubeLoader`` and ``load_all``).
"""

from __future__ import annotations

import operator
import re

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..gcpause import gc_paused

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
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_DEFAULT_TAGS = {ScalarNode: _STR_TAG, SequenceNode: _SEQ_TAG, MappingNode: _MAP_TAG}
MAX_DEPTH = 200  # levels of nesting a document may have (load_all, check_bounded)
MAX_NODES = 1_000_000  # objects (nodes) a document may expand to through aliases
_FAST_MAX_DEPTH = MAX_DEPTH  # deeper documents take the generic path, and load_all refuses them


class _Unusual(Exception):
    """A node the fast constructor leaves to PyYAML's generic one (merge keys, !!set, odd keys...)."""


class KubeLoader(yaml.CSafeLoader):
    """CSafeLoader with go-yaml v2's integer/float resolution and no timestamps.

    Builds exactly the objects (and raises exactly the errors) CSafeLoader's machinery would: the
    fast path covers plain maps, sequences and the str/int/float/bool/null scalars, and any other
    document is rebuilt from scratch by the generic constructor.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}
        self._scalar_constructors = {tag: self.yaml_constructors[tag] for tag in
                                     (_INT_TAG, _FLOAT_TAG, "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null")}

    def resolve(self, kind, value, implicit):
        """Called by the C composer for every node. There are no path resolvers, so a plain
        scalar's tag depends on its text only: memoised (manifests repeat keys and values a lot)."""
        if kind is ScalarNode and implicit[0]:
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = self._plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return _DEFAULT_TAGS[kind]

    # The C composer calls these two around every node to track path resolvers, and there are
    # none (see resolve). C built-ins that take the same arguments and do nothing save two Python
    # calls per node (~9% of a parse).
    descend_resolver = staticmethod(operator.is_)  # (current_node, current_index): ignored
    ascend_resolver = staticmethod(tuple)  # (): ignored

    def construct_document(self, node):
        # ``bounded``: the document was built without following an alias, so it has no more nodes
        # than its text and cannot be a "billion laughs" (load_all checks the others).
        self.bounded = True
        try:
            return self._build(node, {}, 0)
        except Exception:  # _Unusual, or an error the generic constructor must raise its own way
            self.bounded = False
            return super().construct_document(node)

    def _build(self, node, built: dict, depth: int):
        """``node`` as CSafeLoader builds it. ``built`` maps id(node) -> object, so that aliases
        share one object and recursive documents come out recursive, as with PyYAML."""
        cls, tag = node.__class__, node.tag
        if cls is ScalarNode:
            if tag == _STR_TAG:
                return node.value
            construct = self._scalar_constructors.get(tag)
            if construct is None:
                raise _Unusual
            return construct(self, node)
        key = id(node)
        if key in built:
            self.bounded = False
            return built[key]
        if depth >= _FAST_MAX_DEPTH:  # so that every node of a fast-built document is within the limit
            raise _Unusual
        depth += 1
        if cls is MappingNode and tag == _MAP_TAG:
            mapping = built[key] = {}
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode:
                    raise _Unusual  # a map or list as a key: unhashable, PyYAML reports it
                # A merge key (<<) or value key (=) has its own tag: _Unusual, for flatten_mapping.
                k = key_node.value if key_node.tag == _STR_TAG else self._build(key_node, built, depth)
                if value_node.tag == _STR_TAG and value_node.__class__ is ScalarNode:  # most values: inlined
                    mapping[k] = value_node.value
                else:
                    mapping[k] = self._build(value_node, built, depth)
            return mapping
        if cls is SequenceNode and tag == _SEQ_TAG:
            sequence = built[key] = []
            for item in node.value:
                sequence.append(self._build(item, built, depth))
            return sequence
        raise _Unusual


KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
KubeLoader.add_implicit_resolver(_INT_TAG, _INT_RE, list("-+0123456789"))
KubeLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT_RE, list("-+0123456789."))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = node.value
    if text.isdigit() and text[0] != "0":  # 443, 3000: most integers in manifests
        return int(text)
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
    """Every document of a YAML (or JSON) stream; ``None`` documents (``---`` alone) dropped.

    ``TooBig`` for a document nested deeper than ``MAX_DEPTH`` or expanding, through aliases, past
    ``MAX_NODES`` objects ("billion laughs"); only documents that follow an alias or are deep need
    that count, so most are never walked twice. YAML errors anywhere in the stream come first.

    The cyclic GC is paused meanwhile (see ``parity.gcpause``): a quarter of the bare parse's time
    at 10k documents goes to collections that find nothing."""
    loader = KubeLoader(text)
    try:
        with gc_paused():
            docs, unbounded = [], []
            while loader.check_data():
                doc = loader.get_data()
                if doc is not None:
                    docs.append(doc)
                    if not loader.bounded:
                        unbounded.append(doc)
    finally:
        loader.dispose()
    for doc in unbounded:
        _check_expansion(doc)
    return docs


def _check_expansion(doc) -> None:
    """Objects (scalars included) ``doc`` expands to, each alias counted again where it is used."""
    memo: dict[int, int] = {}

    def size(node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise TooBig(f"nesting deeper than {MAX_DEPTH} levels")
        if node.__class__ is not dict and node.__class__ is not list:
            return 1
        key = id(node)
        n = memo.get(key)
        if n is None:
            n = 1
            for child in (node.values() if node.__class__ is dict else node):
                n += size(child, depth + 1)
            if n > MAX_NODES:
                raise TooBig(f"aliases expand past {MAX_NODES:,} nodes")
            memo[key] = n
        return n

    size(doc, 0)


class TooBig(ValueError):
    """A YAML stream nested too deep or expanding (through aliases) past any real file's size."""


def check_bounded(text: str) -> int:
    """The number of documents in a YAML stream that something else (Compose) will read, after making
    sure it is not an alias bomb ("billion laughs") or absurdly deep: ``TooBig`` when it is, a
    ``yaml.YAMLError`` when it is not YAML at all. Only nodes are composed (no constructors run), so
    any tag is accepted (Compose's ``!reset``, ``!override``)."""
    count = 0
    for doc in yaml.compose_all(text, Loader=yaml.CSafeLoader):
        if doc is None:
            continue
        count += 1
        memo: dict[int, int] = {}

        def size(node, depth: int) -> int:
            if node.__class__ is ScalarNode:
                return 1
            key = id(node)
            if key in memo:
                return memo[key]
            if depth > MAX_DEPTH:
                raise TooBig(f"nesting deeper than {MAX_DEPTH} levels")
            memo[key] = 1  # a recursive alias counts once
            children = (v for pair in node.value for v in pair) if node.__class__ is MappingNode else node.value
            n = 1 + sum(size(child, depth + 1) for child in children)
            if n > MAX_NODES:
                raise TooBig(f"aliases expand past {MAX_NODES:,} nodes")
            memo[key] = n
            return n

        size(doc, 0)
    return count
