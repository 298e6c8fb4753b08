"""YAML read the way kubectl reads it (sigs.k8s.io/yaml over go-yaml v2), on libyaml's C parser.

kubectl turns each document into JSON with go-yaml v2's resolver (``resolve.go``) and then reads the
JSON. Plain scalars are resolved here by a port of that resolver, not by PyYAML's YAML 1.1 one; the
differences that change a manifest's meaning (each checked against sigs.k8s.io/yaml's
``YAMLToJSON``, and pinned in tests/kube/test_yamlload.py):
- ``=`` is the string "=" (PyYAML: the ``!!value`` tag, which no constructor takes);
- ``y``/``Y``/``n``/``N`` are booleans, as ``yes``/``no``/``on``/``off`` are;
- integers are ``strconv.ParseInt(s, 0, 64)`` with ``_`` removed: ``0644`` and ``0o644`` are octal
  (420), ``0X1F``/``0B101``/``0O17`` too; ``0800`` is not octal and falls back to a float (800);
- ``+.5``/``-.5`` are floats; ``._5`` and ``1e400`` are strings;
- ``1:20`` (YAML 1.1 sexagesimal) and timestamps (``2024-01-01``) stay strings, as written;
- ``.inf``/``.nan`` resolve to floats that JSON cannot carry: kubectl refuses the document;
- keys become JSON strings: ``1`` -> "1", ``yes``/``true`` -> "true", ``1.5`` -> "1.5" (float32
  ``%g``); a null key is refused, as kubectl refuses it.

Speed: ``parity layout`` must cost little more than the bare libyaml parse, and most of that parse
is PyYAML's Python-level resolver and constructor. So plain scalars' tags are memoised, the
documents are built by one tight recursive function instead of the generic generator machinery,
and the cyclic GC is paused while a stream is built (see ``KubeLoader`` and ``load_all``).
"""

from __future__ import annotations

import bisect
import math
import operator
import re
import struct

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..gcpause import gc_paused
from ..values import Value, valueclass

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_DEFAULT_TAGS = {ScalarNode: _STR_TAG, SequenceNode: _SEQ_TAG, MappingNode: _MAP_TAG}
MAX_DEPTH = 200  # levels of nesting a document may have (load_all, check_bounded)
MAX_NODES = 1_000_000  # objects (nodes) a document may expand to through aliases
_FAST_MAX_DEPTH = MAX_DEPTH  # deeper documents take the generic path, and load_all refuses them


# ---------------------------------------------------------------------------------------------
# go-yaml v2's resolve(), for plain scalars

_GO_BOOLS = {**dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
             **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False)}
_GO_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_GO_SPECIAL_FLOATS = {**dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
                      **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
                      **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf)}
#: resolveTable: the first character decides which resolutions are tried at all.
_HINT_MAP_ONLY = frozenset("yYnNtTfFoO~")
_HINT_NUMBER = frozenset("+-0123456789")
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DIGITS = {16: frozenset("0123456789abcdefABCDEF"), 10: frozenset("0123456789"), 8: frozenset("01234567"),
           2: frozenset("01")}
_OUT_OF_RANGE = object()


def _go_parse_int(text: str):
    """``strconv.ParseInt(text, 0, 64)``, else ``ParseUint(text, 0, 64)``: the integer, None when
    the text is no integer literal, ``_OUT_OF_RANGE`` when it is one too big for 64 bits."""
    sign, body = 1, text
    if body[:1] in ("+", "-"):
        sign, body = (-1 if body[0] == "-" else 1), body[1:]
    base, digits = 10, body
    if len(body) > 1 and body[0] == "0":
        prefix = body[1].lower()
        base, digits = {"x": (16, body[2:]), "o": (8, body[2:]), "b": (2, body[2:])}.get(prefix, (8, body[1:]))
    if not digits or not set(digits) <= _DIGITS[base]:
        return None
    if len(digits.lstrip("0")) > 64:  # past 64 bits in any base; never converted (see _go_parse_big)
        return _OUT_OF_RANGE
    n = sign * int(digits, base)
    if -(1 << 63) <= n < (1 << 63) or (0 <= n < (1 << 64) and text[0] != "+"):  # ParseUint takes no sign
        return n
    return _OUT_OF_RANGE


def go_resolve(text: str) -> tuple[str, object]:
    """A plain scalar as go-yaml v2's ``resolve("", text)`` reads it: (tag, value). Timestamps are
    strings (sigs.k8s.io/yaml decodes into interface{}, where go-yaml keeps a timestamp's text)."""
    hint = text[:1]
    if text in _GO_NULLS:
        return _NULL_TAG, None
    if hint in _HINT_MAP_ONLY:
        value = _GO_BOOLS.get(text)
        return (_BOOL_TAG, value) if value is not None else (_STR_TAG, text)
    if text in _GO_SPECIAL_FLOATS:
        return _FLOAT_TAG, _GO_SPECIAL_FLOATS[text]
    if hint == ".":
        try:  # strconv.ParseFloat on the text as written; out of range (1e400) is an error there
            value = float(text)
        except ValueError:
            return _STR_TAG, text
        return (_FLOAT_TAG, value) if math.isfinite(value) else (_STR_TAG, text)
    if hint not in _HINT_NUMBER:
        return _STR_TAG, text
    plain = text.replace("_", "")
    if not plain:
        return _STR_TAG, text
    n = _go_parse_int(plain)
    if n is not None and n is not _OUT_OF_RANGE:
        return _INT_TAG, n
    if _YAML_STYLE_FLOAT.match(plain):
        value = float(plain)
        if math.isfinite(value):
            return _FLOAT_TAG, value
    if n is _OUT_OF_RANGE:  # a hexadecimal, octal or binary literal past 64 bits: big.Int
        return _INT_TAG, _go_parse_big(plain)
    return _STR_TAG, text


#: Digits of an integer literal parity converts (Python's own guard against quadratic conversion is
#: 4,300 decimal digits); no field of a Kubernetes object holds a number near this long.
MAX_INT_DIGITS = 1000


def _go_parse_big(plain: str) -> int:
    sign = -1 if plain.startswith("-") else 1
    body = plain.lstrip("+-")
    base = {"x": 16, "o": 8, "b": 2}.get(body[1:2].lower(), 8) if body[:1] == "0" and len(body) > 1 else 10
    digits = body[2:] if base != 10 and body[1:2].lower() in ("x", "o", "b") else body
    if len(digits.lstrip("0")) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(None, None, f"an integer of {len(digits)} digits: parity reads "
                                                f"at most {MAX_INT_DIGITS}", None)
    return sign * int(digits, base)


def json_key(key, mark=None):
    """A map key as sigs.k8s.io/yaml's ``convertToJSONableObject`` turns it into a JSON key: ints
    in decimal, booleans as true/false, floats as Go's ``FormatFloat(f, 'g', -1, 32)``. A null key
    has no JSON form: kubectl refuses the document ("unsupported map key")."""
    if key.__class__ is str:
        return key
    if key is True or key is False:
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _go_format_float32(key)
    if key is None:
        raise yaml.constructor.ConstructorError(None, None, "a null map key has no JSON form (kubectl: "
                                                "\"unsupported map key\")", mark)
    return key


def _go_format_float32(f: float) -> str:
    """``strconv.FormatFloat(f, 'g', -1, 32)``, with go-yaml's names for infinities and NaN."""
    if math.isnan(f):
        return ".nan"
    try:
        f32 = struct.unpack("f", struct.pack("f", f))[0]
    except OverflowError:
        f32 = math.copysign(math.inf, f)
    if math.isinf(f32):
        return ".inf" if f32 > 0 else "-.inf"
    if f32 == 0:
        return "-0" if math.copysign(1, f32) < 0 else "0"
    for precision in range(1, 10):  # the shortest digits that read back as the same float32
        text = f"{f32:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f32:
            break
    mantissa, exp_text = text.split("e")
    exp = int(exp_text)
    digits = mantissa.replace("-", "").replace(".", "").rstrip("0") or "0"
    sign = "-" if f32 < 0 else ""
    if exp < -4 or exp >= 6:  # %e: 'g' with the shortest digits uses an exponent threshold of 6
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    point = exp + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


@valueclass
class DuplicateKey(Value):
    """A key given twice in one mapping. kubectl's ``apply -f`` keeps the last silently (go-yaml v2's
    non-strict ``setMapIndex``); ``apply -k`` (kustomize, yaml.v3) and strict decoders refuse it with
    "mapping key ... already defined at line N". The loader keeps the last, as kubectl does, and
    reports each one here: manifests refuses those in the objects it reads.

    ``doc`` is the index of the document in ``load_all``'s result; ``path`` leads from it to the key
    (map keys and list indexes); lines are 1-based."""

    doc: int
    path: tuple
    line: int
    first_line: int


class _Unusual(Exception):
    """A node the fast constructor leaves to PyYAML's generic one (merge keys, !!set, odd keys...)."""


class KubeLoader(yaml.CSafeLoader):
    """CSafeLoader with go-yaml v2's resolution of plain scalars (``go_resolve``) and JSON map keys.

    Builds exactly the objects (and raises exactly the errors) CSafeLoader's machinery would: the
    fast path covers plain maps, sequences and the str/int/float/bool/null scalars, and any other
    document is rebuilt from scratch by the generic constructor.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}
        self._plain_values: dict[tuple[str, str], object] = {}  # _construct_plain's memo
        self._duplicates: list[tuple] = []  # (mapping node, key node, first key node) of the document
        self._flattened: dict[int, object] = {}  # id -> node: mappings whose merge keys are flattened
        self.doc_duplicates: list[tuple[tuple, int, int]] = []  # (path, line, first line), after a document
        self._scalar_constructors = {tag: self.yaml_constructors[tag] for tag in
                                     (_INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG)}

    def resolve(self, kind, value, implicit):
        """Called by the C composer for every node. There are no path resolvers, so a plain
        scalar's tag depends on its text only: memoised (manifests repeat keys and values a lot)."""
        if kind is ScalarNode and implicit[0]:
            tag = self._plain_tags.get(value)
            if tag is None:
                # "<<" keeps PyYAML's merge tag: flatten_mapping merges by it, as go-yaml merges a
                # plain "<<" key (a "<<" value is the string, see _construct_merge_value).
                tag = self._plain_tags[value] = _MERGE_TAG if value == "<<" else go_resolve(value)[0]
            return tag
        return _DEFAULT_TAGS[kind]

    def construct_object(self, node, deep=False):
        """PyYAML's, except that a constructor failing on a value (``!!int Passw0rd``: ValueError,
        ``!!timestamp x``: AttributeError...) is a YAML error at the node, not an exception whose text
        quotes the value (and escapes as a traceback)."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
            if isinstance(exc, TooBig):
                raise
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value as {_tag_name(node.tag)}",
                                                    node.start_mark) from None

    # The C composer calls these two around every node to track path resolvers, and there are
    # none (see resolve). C built-ins that take the same arguments and do nothing save two Python
    # calls per node (~9% of a parse).
    descend_resolver = staticmethod(operator.is_)  # (current_node, current_index): ignored
    ascend_resolver = staticmethod(tuple)  # (): ignored

    def construct_document(self, node):
        # ``bounded``: the document was built without following an alias, so it has no more nodes
        # than its text and cannot be a "billion laughs" (load_all checks the others).
        self.bounded = True
        self._duplicates, self.doc_duplicates = [], []
        try:
            doc = self._build(node, {}, 0)
        except Exception:  # _Unusual, or an error the generic constructor must raise its own way
            self.bounded = False
            self._duplicates, self._flattened = [], {}
            doc = super().construct_document(node)
            self._flattened = {}
        if self._duplicates:
            self.doc_duplicates = self._locate_duplicates(node)
        return doc

    def _key_identity(self, key_node):
        """A key node's JSON key, for comparing keys of one mapping (None: not comparable)."""
        if key_node.__class__ is not ScalarNode:
            return None
        if key_node.tag == _STR_TAG:
            return key_node.value
        if key_node.tag in _PLAIN_TAGS:
            try:
                return json_key(_plain_value(key_node))
            except yaml.YAMLError:
                return None
        return None

    def _note_duplicate(self, node, key_node, key) -> None:
        first = next((kn for kn, _ in node.value if self._key_identity(kn) == key), key_node)
        self._duplicates.append((node, key_node, first))

    def _locate_duplicates(self, root) -> list[tuple[tuple, int, int]]:
        """(path to the key, its line, the first one's line) of each duplicate, by one walk of the nodes."""
        wanted = {id(m) for m, _, _ in self._duplicates}
        paths: dict[int, tuple] = {}
        seen: set[int] = set()
        stack = [(root, ())]
        while stack and len(paths) < len(wanted):
            node, path = stack.pop()
            if id(node) in seen or node.__class__ is ScalarNode:
                continue
            seen.add(id(node))
            if id(node) in wanted:
                paths.setdefault(id(node), path)
            if node.__class__ is MappingNode:  # (pushed in reverse: visited in document order)
                stack.extend((vn, path + (self._key_identity(kn),)) for kn, vn in reversed(node.value))
            else:
                stack.extend((item, path + (i,)) for i, item in reversed(list(enumerate(node.value))))
        out = []
        for mapping, key_node, first in self._duplicates:
            path = paths.get(id(mapping), ()) + (self._key_identity(key_node),)
            out.append((path, key_node.start_mark.line + 1, first.start_mark.line + 1))
        return out

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
                k = key_node.value if key_node.tag == _STR_TAG else self._key(key_node, built, depth)
                if k in mapping:
                    self._note_duplicate(node, key_node, k)
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

    def _key(self, key_node, built: dict, depth: int):
        """A map key as its JSON key (json_key). A plain scalar key is read without the value checks:
        ``.inf`` is a fine key (".inf"), only a value cannot be infinite."""
        if key_node.__class__ is ScalarNode and key_node.tag in _PLAIN_TAGS:
            return json_key(_plain_value(key_node), key_node.start_mark)
        return json_key(self._build(key_node, built, depth), key_node.start_mark)

    def flatten_mapping(self, node):
        """PyYAML's merge-key flattening, once per node, after noting the keys given twice among the
        node's own (a key merged in with ``<<`` and given again is an override, not a duplicate)."""
        if id(node) in self._flattened:
            return  # merged entries are in node.value now: no merge key left to flatten
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key_identity(key_node)
            if key is not None:
                if key in seen:
                    self._duplicates.append((node, key_node, seen[key]))
                else:
                    seen[key] = key_node
        super().flatten_mapping(node)
        self._flattened[id(node)] = node

    def construct_mapping(self, node, deep=False):
        """The generic path's mappings (PyYAML's, merge keys flattened), with JSON keys as on the
        fast path."""
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(None, None, f"expected a mapping node, but found {node.id}",
                                                    node.start_mark)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is ScalarNode and key_node.tag in _PLAIN_TAGS:
                key = json_key(_plain_value(key_node), key_node.start_mark)
            else:
                key = json_key(self.construct_object(key_node, deep=deep), key_node.start_mark)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                        "found unhashable key", key_node.start_mark) from None
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


# Plain scalars are resolved by go_resolve (KubeLoader.resolve): PyYAML's implicit resolvers are
# not consulted, but the C composer calls resolve() only for nodes it cannot tag itself.
KubeLoader.yaml_implicit_resolvers = {}


_PLAIN_TAGS = frozenset((_INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG))
_NOT_YET = object()


class WrittenInt(int):
    """An integer not written in plain decimal (``0644``, ``0o644``, ``0x1A4``, ``1_000``): the value,
    plus the text it was written as, so that a message about it can tell ``01000`` (octal 512) from
    a decimal 512 (see checker's mode check). Equal to, and hashed as, the plain int."""

    def __new__(cls, value: int, text: str):
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __repr__(self) -> str:
        return int.__repr__(self)


# Dumped as the plain integer wherever a manifest's value reaches a YAML file parity writes.
yaml.SafeDumper.add_representer(WrittenInt, yaml.representer.SafeRepresenter.represent_int)
yaml.CSafeDumper.add_representer(WrittenInt, yaml.representer.SafeRepresenter.represent_int)


def written_text(value) -> str | None:
    """The text an integer was written as when it was not plain decimal, else None."""
    return value.text if value.__class__ is WrittenInt else None


def _plain_value(node: yaml.ScalarNode):
    """An int, float, bool or null scalar as go_resolve reads it; an explicit tag must fit the text
    (``!!int "0x1F"``), except that ``!!float`` takes an integer, as in go-yaml."""
    text = node.value
    tag, value = go_resolve(text)
    if tag == _INT_TAG:
        if node.tag == _FLOAT_TAG:
            return float(value)
        if text != str(value):
            value = WrittenInt(value, text)
    if tag != node.tag:
        raise yaml.constructor.ConstructorError(None, None, f"cannot decode a {node.tag.rsplit(':', 1)[-1]} from "
                                                "this text", node.start_mark)
    return value


def plain_scalar(text: str):
    """A plain scalar's value as the loader builds it: go_resolve's reading, an integer not written in
    plain decimal a ``WrittenInt`` (jsonstream builds JSON numbers with it).

    Args:
        text: the scalar as written (a JSON number: ``-0``, ``1.5e3``, ``123456789012345678901``).

    Returns:
        The int, float, bool, None, or the text itself when go-yaml reads it as a string (``1e400``).

    Raises:
        yaml.constructor.ConstructorError: an integer past ``MAX_INT_DIGITS`` digits.
    """
    return _plain_value(ScalarNode(go_resolve(text)[0], text))


def _construct_plain(loader: "KubeLoader", node: yaml.ScalarNode):
    """A value: _plain_value, and never a float JSON cannot carry. Memoised per stream, by text and
    tag (ports, modes and replicas repeat; the values are immutable)."""
    key = (node.value, node.tag)
    value = loader._plain_values.get(key, _NOT_YET)
    if value is _NOT_YET:
        value = loader._plain_values[key] = _plain_value(node)
    if value.__class__ is float and not math.isfinite(value):
        # sigs.k8s.io/yaml marshals the document to JSON, which has no infinity or NaN.
        raise yaml.constructor.ConstructorError(None, None, "an infinite or not-a-number float (.inf, .nan) has "
                                                "no JSON form (kubectl: \"json: unsupported value\")",
                                                node.start_mark)
    return value


def _construct_merge_value(loader: yaml.SafeLoader, node):
    """``<<`` anywhere but as a mapping key (where flatten_mapping merges): the string, as in go-yaml."""
    if isinstance(node, ScalarNode):
        return node.value
    raise yaml.constructor.ConstructorError(None, None, "a merge tag on a non-scalar", node.start_mark)


for _tag in (_INT_TAG, _FLOAT_TAG, _BOOL_TAG):
    KubeLoader.add_constructor(_tag, _construct_plain)
KubeLoader.add_constructor(_MERGE_TAG, _construct_merge_value)


def _tag_name(tag: str) -> str:
    """A standard tag's short form (``!!int``); any other tag is the document's text: not shown."""
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else "its tag"


#: What PyYAML quotes with ``%r``: 'text', or "text" when the text holds a '. (libyaml quotes single
#: characters of the grammar, ``expected ',' or '}'``; parity's own messages quote with "...".)
_QUOTED = re.compile(r"'[^']*'|\"[^\"']*'[^\"]*\"")


def _unquoted(text: str) -> str:
    return _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) <= 3 else "(not shown)", text)


def error_text(exc: yaml.YAMLError) -> str:
    """One line about a YAML error that quotes nothing of the document, for ``invalid YAML: ...``.

    A value can be anything, a secret included, and YAML errors can quote it: PyYAML names an unknown
    tag (``password: !Passw0rd`` is the tag ``!Passw0rd``), and its messages quote tokens and anchors.
    So the line is the position and the problem, with what PyYAML quotes (``%r``) left out when it is
    longer than one character (libyaml's own messages quote single characters of the grammar:
    ``expected ',' or '}'``).

    Args:
        exc: any error PyYAML raises.

    Returns:
        ``line L, column C: problem``, or the problem alone when there is no position.
    """
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if problem is None:  # a ReaderError: "unacceptable character #x0001: ..." (a code point, no text)
        return _unquoted(str(exc).splitlines()[0])
    if problem.startswith("could not determine a constructor for the tag"):
        problem = ("unknown tag (not shown): a plain value that starts with '!' is a YAML tag; "
                   "quote the value")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return where + _unquoted(problem)


def load_all(text: str, duplicates: list[DuplicateKey] | None = None) -> list:
    """Every document of a YAML (or JSON) stream; ``None`` documents (``---`` alone) dropped. Keys
    given twice in a mapping are appended to ``duplicates`` (the last value is kept, as kubectl's
    ``apply -f`` keeps it). ``\\'`` in a double-quoted scalar is ``'``, as go-yaml v2 reads it
    (``_go_escapes``; libyaml refuses it): the first such refusal costs one more parse of the stream.

    ``TooBig`` for a document nested deeper than ``MAX_DEPTH`` or expanding, through aliases, past
    ``MAX_NODES`` objects ("billion laughs"); only documents that follow an alias or are deep need
    that count, so most are never walked twice. YAML errors anywhere in the stream come first; their
    line and column are those of the text as written.

    The cyclic GC is paused meanwhile (see ``parity.gcpause``): a quarter of the bare parse's time
    at 10k documents goes to collections that find nothing.

    A stream that begins with ``{`` and that YAML does not read whole (JSON objects with no ``---``
    between them) is read as kubectl's JSON decoder reads it: ``jsonstream.load_json_stream``, which
    raises ``JSONStreamRefused`` for the error kubectl gives."""
    said = len(duplicates) if duplicates is not None else 0
    try:
        docs = _load_yaml(text, duplicates)
    except yaml.YAMLError as exc:
        if not begins_json(text):
            _refuse_separator_text(text, exc)
            raise
    else:
        if not begins_json(text):
            _refuse_separator_text(text, None)
        return docs
    if duplicates is not None:
        del duplicates[said:]
    from . import jsonstream  # (only here: a stream that begins with '{' and that YAML refused)
    return jsonstream.load_json_stream(text, duplicates, _load_yaml)


#: ``unicode.IsSpace`` (apimachinery GuessJSONStream, consumeWhitespace): Unicode's White_Space
#: (Python's ``str.isspace`` adds U+001C-U+001F).
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
_PEEK = 4096  # kubectl's bufferSize: how far GuessJSONStream looks for the '{'


class JSONStreamRefused(ValueError):
    """The stream refused as kubectl refuses it: the 1-based line and column of the character, and Go's
    ``encoding/json`` message (``invalid character '\\'' in string escape code``)."""

    def __init__(self, line: int, column: int, message: str):
        super().__init__(f"line {line}, column {column}: {message}")
        self.line, self.column, self.message = line, column, message


def begins_json(text: str) -> bool:
    """``GuessJSONStream``: is the first non-space character of the stream's first 4096 a ``{``?

    Args:
        text: the whole input, as read.

    Returns:
        True when kubectl would read it as a JSON stream, False when as YAML.
    """
    return text[:_PEEK].lstrip(GO_SPACE).startswith("{")


#: apimachinery ``YAMLReader.Read`` (kubectl's YAML decoder) splits the stream at every line that starts
#: with ``---``, and refuses one with anything but white space and a ``#`` comment after it.
_SEPARATOR_TEXT = re.compile(r"---[^\S\n]*[^\s#]")


def _refuse_separator_text(text: str, error: yaml.YAMLError | None) -> None:
    """The first line that starts with ``---`` and holds more than a comment (``--- {kind: Pod}``,
    ``----``, a PEM line ``-----BEGIN ...`` at column 0 in a quoted scalar) as a YAML error at that
    line, unless ``error`` lies in a document before it (kubectl decodes those first; the reader meets
    the line before it decodes the document that line ends). kubectl's message quotes the rest of the
    line, which may hold a value: parity's does not.

    Args:
        text: a YAML stream.
        error: the loader's error for the stream, or None when it read it.

    Raises:
        yaml.MarkedYAMLError: such a line.
    """
    starts = [0] if text.startswith("---") else []
    at = text.find("\n---")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n---", at + 4)
    for n, start in enumerate(starts):
        if not _SEPARATOR_TEXT.match(text, start):
            continue
        mark = (getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)) if error else None
        if mark is not None and n and mark.line <= text.count("\n", 0, starts[n - 1]):
            return  # the error is in an earlier document: kubectl's is that one
        raise yaml.MarkedYAMLError(problem="a line that starts with --- holds more than a comment after it: "
                                   "kubectl refuses it (\"invalid Yaml document separator: (not shown)\"); "
                                   "start the document on the next line",
                                   problem_mark=yaml.Mark("<unicode string>", start, text.count("\n", 0, start),
                                                          0, None, None))


def _load_yaml(text: str, duplicates: list[DuplicateKey] | None) -> list:
    """``load_all`` of a YAML stream: the documents, ``\\'`` read as go-yaml v2 reads it."""
    said = len(duplicates) if duplicates is not None else 0
    try:
        return _load_all(text, duplicates)
    except yaml.YAMLError as exc:
        error_at = _refused_quote_escape(text, exc)
        if error_at is None:
            raise
    if duplicates is not None:
        del duplicates[said:]  # (the stream is read again from its start)
    rewritten, removed = _go_escapes(text, error_at)
    try:
        return _load_all(rewritten, duplicates)
    except yaml.YAMLError as exc:
        _place_in_original(exc, text, removed)
        raise


#: A document marker line: ``---`` or ``...`` at column 0, then a space, a tab, a line break or the
#: end. No scalar or comment goes past one (libyaml's scanner ends a plain or block scalar there and
#: refuses one inside a quoted scalar), so the text between two is scanned alone as it is in the stream.
_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|\Z)", re.MULTILINE)


def _refused_quote_escape(text: str, exc: yaml.YAMLError) -> int | None:
    """The index in ``text`` of the ``\\'`` libyaml refused with ``exc``, or None for any other error."""
    mark = getattr(exc, "problem_mark", None)
    if getattr(exc, "problem", None) != "found unknown escape character" or mark is None:
        return None
    at = mark.index + (1 if text.startswith("\ufeff") else 0)  # libyaml's index leaves a BOM out
    return at if text[at:at + 2] == "\\'" else None


def _go_escapes(text: str, error_at: int) -> tuple[str, list[int]]:
    """``text`` with every ``\\'`` libyaml refuses written as go-yaml v2 reads it, and the indices (in
    ``text``) of the backslashes removed, in order.

    go-yaml v2's scanner (kubectl's sigs.k8s.io/yaml; scannerc.go ``yaml_parser_scan_flow_scalar``)
    takes ``\\'`` in a double-quoted scalar as ``'``; libyaml finds an unknown escape there (the
    Kubernetes documentation's envars-file-container.yaml has four). A ``'`` needs no escape in a
    double-quoted scalar, so the backslash goes. Elsewhere (single-quoted, plain and block scalars,
    comments) libyaml takes ``\\'`` as two characters, and so does go-yaml: it stays.

    Only the text between two document markers that holds ``\\'`` at or after ``error_at`` (the first
    refusal; the stream before it was read) is scanned, by libyaml's C scanner alone (no events, no
    documents): at each refusal, the rest of that double-quoted scalar is rewritten and the piece
    scanned again, so a piece is scanned once more per double-quoted scalar holding ``\\'``.
    """
    pieces, removed = [], []
    starts = [m.start() for m in _DOCUMENT_MARKER.finditer(text)]
    bounds = list(zip([0] + starts, starts + [len(text)]))
    for start, end in bounds:
        piece = text[start:end]
        if end > error_at and "\\'" in piece:
            piece = _unescape_piece(piece, start, removed)
        pieces.append(piece)
    return "".join(pieces), removed


def _unescape_piece(piece: str, start: int, removed: list[int]) -> str:
    """``piece`` (at ``start`` in the stream) without the backslash of each ``\\'`` libyaml refuses;
    their stream indices appended to ``removed``."""
    gone = 0  # backslashes removed from this piece so far, all before the scanner's next refusal
    while True:
        try:
            yaml.CSafeLoader(piece).raw_scan()
            return piece
        except yaml.YAMLError as exc:
            at = _refused_quote_escape(piece, exc)
            if at is None:
                return piece  # another error: the stream's parse reports it
        # The rest of this double-quoted scalar, up to its closing quote: each escape is a backslash
        # and one character, so every \' in it is one libyaml would refuse.
        kept, i, now = [piece[:at]], at, 0
        while i < len(piece) and piece[i] != '"':
            if piece[i] == "\\":
                if piece[i + 1:i + 2] == "'":
                    removed.append(start + gone + i)
                    now += 1
                    kept.append("'")
                else:
                    kept.append(piece[i:i + 2])
                i += 2
            else:
                kept.append(piece[i])
                i += 1
        kept.append(piece[i:])
        piece, gone = "".join(kept), gone + now


def _place_in_original(exc: yaml.YAMLError, text: str, removed: list[int]) -> None:
    """``exc``'s marks (raised from ``text`` rewritten with the backslashes at ``removed`` gone) moved
    to the same places in ``text`` as written: a column counts the backslashes removed before it on
    its line."""
    bom = 1 if text.startswith("\ufeff") else 0  # libyaml's index leaves a BOM out
    # Where the character after each removed backslash is in the rewritten text (non-decreasing).
    landed = [index - n for n, index in enumerate(removed)]
    moved: dict[int, yaml.Mark] = {}  # (libyaml's marks cannot be changed: new ones, one per mark)
    for name in ("context_mark", "problem_mark"):
        mark = getattr(exc, name, None)
        if mark is None:
            continue
        if id(mark) not in moved:
            at = mark.index + bom
            # A mark's line starts column characters before it (libyaml ends the stream on a line of
            # its own, past the text's last line break: so not where the text's last break is).
            before = bisect.bisect_right(landed, at)
            on_line = before - bisect.bisect_left(landed, at - mark.column)
            moved[id(mark)] = yaml.Mark(mark.name, mark.index + before, mark.line, mark.column + on_line, None, None)
        setattr(exc, name, moved[id(mark)])


def _load_all(text: str, duplicates: list[DuplicateKey] | None) -> list:
    loader = KubeLoader(text)
    try:
        with gc_paused():
            docs, unbounded = [], []
            while loader.check_data():
                doc = loader.get_data()
                if doc is not None:
                    if duplicates is not None:
                        duplicates.extend(DuplicateKey(len(docs), path, line, first)
                                          for path, line, first in loader.doc_duplicates)
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
