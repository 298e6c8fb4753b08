"""The YAML loader's fast path builds what PyYAML's generic constructor builds, and refuses the same
documents: the expansion check is skipped only for documents that cannot expand."""

from __future__ import annotations

import json
import random

import pytest
import yaml
from yaml.constructor import BaseConstructor

from parity.kube.jsonstream import JSONStreamRefused
from parity.kube.yamlload import DuplicateKey, KubeLoader, TooBig, WrittenInt, go_resolve, load_all, written_text

from ..conftest import run_parity


class GenericLoader(KubeLoader):
    """KubeLoader's resolution with PyYAML's generic constructor: the reference for the fast path."""

    construct_document = BaseConstructor.construct_document


def generic_load_all(text: str) -> list:
    return [d for d in yaml.load_all(text, Loader=GenericLoader) if d is not None]


SCALARS = ["0400", "0o400", "0800", "400", "-1", "0x1F", "1:20", "2024-01-01", "yes", "~", "null", "true",
           "1e3", "=", "y", "N", "0X1F", "+.5", "._5", "<<", "'quoted'", '"double"', "plain text", "12_000", "0b101",
           "''"]


def random_document(rng: random.Random, depth: int = 0) -> str:
    """Block-style YAML text with scalars that the two YAML versions read differently."""
    def value(d: int) -> str:
        roll = rng.random()
        if d > 3 or roll < 0.5:
            return rng.choice(SCALARS)
        if roll < 0.75:
            return "{" + ", ".join(f"k{i}: {value(d + 1)}" for i in range(rng.randint(0, 3))) + "}"
        return "[" + ", ".join(value(d + 1) for _ in range(rng.randint(0, 3))) + "]"
    return "\n".join(f"key{i}: {value(1)}" for i in range(rng.randint(1, 6))) + "\n"


def test_fast_path_builds_what_the_generic_constructor_builds():
    rng = random.Random(7)
    texts = [random_document(rng) for _ in range(2000)]
    texts += [
        "a: &x {b: 1}\nc: *x\n",  # an alias: one shared object
        "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",  # a merge key: generic path
        "s: !!set {a, b}\n",
        "k: !!binary aGVsbG8=\n",
    ]
    stream = "---\n".join(texts)
    fast, generic = load_all(stream), generic_load_all(stream)
    assert repr(fast) == repr(generic)
    assert len(fast) == 2004  # (repr, not ==: .nan is not equal to itself)


def test_errors_are_the_generic_constructors():
    text = "? [1, 2]\n: x\n"  # a list as a key: unhashable
    with pytest.raises(yaml.constructor.ConstructorError) as generic:
        generic_load_all(text)
    with pytest.raises(yaml.constructor.ConstructorError) as fast:
        load_all(text)
    assert str(fast.value) == str(generic.value)


def test_aliases_share_one_object_as_with_pyyaml():
    doc, = load_all("a: &x {b: 1}\nc: *x\n")
    assert doc == {"a": {"b": 1}, "c": {"b": 1}}
    assert doc["a"] is doc["c"]


def nested(depth: int, alias: bool = False) -> str:
    """A scalar at ``depth`` (the document root is depth 0), in flow sequences."""
    body = "[" * depth + "1" + "]" * depth
    return f"x: &a 1\ny: *a\nz: {body}\n" if alias else body + "\n"


@pytest.mark.parametrize("alias", [False, True])
def test_nesting_limit_is_the_same_on_every_path(alias):
    # Inside the mapping of the alias variant everything sits one level deeper.
    limit = 199 if alias else 200
    assert load_all(nested(limit, alias))
    with pytest.raises(TooBig, match="^nesting deeper than 200 levels$"):
        load_all(nested(limit + 1, alias))


def test_a_merge_key_document_deeper_than_the_limit_is_refused():
    text = "base: &b {x: 1}\nd:\n  <<: *b\n  deep: " + "[" * 199 + "1" + "]" * 199 + "\n"
    with pytest.raises(TooBig, match="nesting deeper"):
        load_all(text)


def test_alias_bomb_is_refused_and_a_modest_one_is_not():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(TooBig, match=r"^aliases expand past 1,000,000 nodes$"):
        load_all("\n".join(lines) + "\n")
    assert load_all("\n".join(lines[:5]) + "\n")  # 9^5 = 59,049 strings: a big file, not a bomb


def test_a_recursive_document_is_refused_as_too_deep():
    with pytest.raises(TooBig, match="nesting deeper than 200 levels"):
        load_all("r: &r [*r]\n")


def test_yaml_errors_come_before_expansion_errors():
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(yaml.YAMLError):
        load_all(bomb + "---\nkey: [unclosed\n")


# What sigs.k8s.io/yaml's YAMLToJSON (v1.3.0 over go-yaml v2.4.0, as kubectl reads manifests) makes
# of ``v: TEXT``, run on each of these: the value after JSON, i.e. the value kubectl sends.
KUBECTL_READS = [
    ("=", "="), ("y", True), ("Y", True), ("n", False), ("N", False), ("yes", True), ("no", False),
    ("on", True), ("OFF", False), ("True", True), ("~", None), ("null", None), ("NULL", None),
    ("0644", 420), ("0o644", 420), ("0O644", 420), ("0x1F", 31), ("0X1F", 31), ("+0x1F", 31), ("-0x1F", -31),
    ("0b101", 5), ("0B101", 5), ("-0b101", -5), ("0800", 800.0), ("09", 9.0), ("1:20", "1:20"),
    ("190:20:30", "190:20:30"), (".Nan", ".Nan"), ("1e3", 1000.0), ("1E3", 1000.0), ("+.5", 0.5), ("-.5", -0.5),
    (".5", 0.5), ("._5", "._5"), (".5_5", 0.55), ("1_000", 1000), ("1_000.5", 1000.5), ("0_7", 7), ("1_", 1),
    ("_1", "_1"), ("0x_1F", 31), ("1.", 1.0), ("+1", 1), ("1.5e", "1.5e"), ("2024-01-01", "2024-01-01"),
    ("2001-12-14 21:59:43.10", "2001-12-14 21:59:43.10"), ("<<", "<<"), ("1e400", "1e400"), ("inf", "inf"),
    ("+inf", "+inf"), ("0o", "0o"), ("0x", "0x"), ("1__0", 10), ("18446744073709551615", 18446744073709551615),
    ("0x8000000000000000", 9223372036854775808),
]


@pytest.mark.parametrize("text, value", KUBECTL_READS)
def test_plain_scalars_read_as_kubectl_reads_them(text, value):
    doc, = load_all(f"v: {text}\n")
    got = doc["v"]
    assert got == value and type(got) is (WrittenInt if type(value) is int and text != str(value) else type(value))
    if type(got) is WrittenInt:  # the text is kept for messages (podspec's mode hint)
        assert written_text(got) == text and repr(got) == repr(value)


def test_equals_sign_is_the_string_kubectl_reads_not_a_yaml_value_tag():
    # kube-prometheus CRDs: `enum: [=, ...]`. PyYAML tags a plain "=" !!value and no constructor takes it.
    doc, = load_all("enum: [=, '!=', =~]\n=: x\n")
    assert doc == {"enum": ["=", "!=", "=~"], "=": "x"}


@pytest.mark.parametrize("text, key", [("1", "1"), ("0x10", "16"), ("true", "true"), ("yes", "true"), ("y", "true"),
                                       ("1.5", "1.5"), ("1e3", "1000"), ("1e7", "1e+07"), ("0.000001", "1e-06"),
                                       ("1.23456789", "1.2345679"), ("123456789.0", "1.2345679e+08"), ("-0.0", "-0"),
                                       (".inf", ".inf"), ("=", "="), ("2024-01-01", "2024-01-01")])
def test_map_keys_become_the_json_strings_kubectl_makes(text, key):
    doc, = load_all(f"{text}: a\n")
    assert doc == {key: "a"}


def test_merged_and_flow_keys_are_json_strings_on_the_generic_path_too():
    doc, = load_all("a: &x {1: 2, .inf: 3}\nb:\n  <<: *x\n  2: 4\n")
    assert doc == {"a": {"1": 2, ".inf": 3}, "b": {"1": 2, ".inf": 3, "2": 4}}


@pytest.mark.parametrize("text, where", [("v: .inf\n", "line 1, column 4"), ("v: [1, -.Inf]\n", "line 1, column 8"),
                                         ("v: .nan\n", "line 1, column 4"), ("~: a\n", "line 1, column 1")])
def test_values_json_cannot_carry_are_refused_as_kubectl_refuses_them(text, where):
    # kubectl: "error converting YAML to JSON: json: unsupported value: +Inf" / "unsupported map key".
    with pytest.raises(yaml.constructor.ConstructorError) as err:
        load_all(text)
    assert where in str(err.value)


def test_explicit_tags_must_fit_the_text_and_float_takes_an_integer():
    assert load_all("a: !!float 1\nb: !!int '0x1F'\nc: !!bool 'y'\n") == [{"a": 1.0, "b": 31, "c": True}]
    with pytest.raises(yaml.constructor.ConstructorError):
        load_all("a: !!int abc\n")


def test_go_resolve_memo_matches_direct_resolution():
    loader = KubeLoader("")
    try:
        for text, _ in KUBECTL_READS:
            if text != "<<":  # (a "<<" key merges: PyYAML's merge tag, a "<<" value is the string)
                assert loader.resolve(yaml.ScalarNode, text, (True, False)) == go_resolve(text)[0]
    finally:
        loader.dispose()


def test_keys_given_twice_are_reported_and_the_last_kept_as_kubectl_apply_keeps_it():
    found = []
    docs = load_all("a: 1\nb: {c: 1, c: 2}\n---\nl: [{x: 1}, {x: 1, x: 3}]\na: 2\n", found)
    assert docs == [{"a": 1, "b": {"c": 2}}, {"l": [{"x": 1}, {"x": 3}], "a": 2}]
    assert found == [DuplicateKey(0, ("b", "c"), 2, 2), DuplicateKey(1, ("l", 1, "x"), 4, 4)]


def test_keys_given_twice_are_found_on_the_generic_path_too_and_merges_are_no_duplicates():
    # A merge key sends the document to PyYAML's generic constructor: overriding a merged key is fine.
    found = []
    text = "base: &b {x: 1, w: 1}\nd:\n  <<: *b\n  x: 2\n  z: 1\n  z: 3\n"
    assert load_all(text, found) == [{"base": {"x": 1, "w": 1}, "d": {"x": 2, "w": 1, "z": 3}}]
    assert found == [DuplicateKey(0, ("d", "z"), 6, 5)]
    found = []
    assert load_all("1: a\n0x1: b\n", found) == [{"1": "b"}]  # the same JSON key, written two ways
    assert found == [DuplicateKey(0, ("1",), 2, 1)]


def test_an_integer_thousands_of_digits_long_is_one_line_not_a_traceback(tmp_path):
    """Python refuses to convert more than 4,300 digits (and would take quadratic time): a plain
    5,000-digit number in any field is refused by the loader with one line."""
    from ..conftest import run_parity

    path = tmp_path / "big.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {a: b}\nx: " + "9" * 5000 + "\n")
    result = run_parity("layout", str(path))
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == f"parity: {path}: invalid YAML: an integer of 5000 digits: parity reads at most 1000\n"
    # 64-bit values and their neighbours still read as kubectl reads them.
    from parity.kube.yamlload import go_resolve
    assert go_resolve("9223372036854775807")[1] == 2**63 - 1
    assert go_resolve("0" * 5000 + "7")[1] == 7


#: The Kubernetes documentation's envars-file-container.yaml (content/en/examples/pods/inject, the
#: fileKeyRef example), as it is: ``\'`` inside a double-quoted scalar, which go-yaml v2 (kubectl's
#: sigs.k8s.io/yaml) reads as ``'`` and libyaml refuses ("found unknown escape character").
DOCS_ENVFILE = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: envfile-test-pod\nspec:\n  initContainers:\n"
                "    - name: setup-envfile\n      image:  nginx\n      command: ['sh', '-c', \"echo \\\"DB_ADDRESS="
                "\\'address\\'\\nREST_ENDPOINT=\\'endpoint\\'\\\" > /data/config.env\"]\n")


def test_an_escaped_single_quote_in_a_double_quoted_scalar_is_read_as_kubectl_reads_it():
    """go-yaml v2's scanner takes ``\\'`` in a double-quoted scalar as ``'`` (scannerc.go,
    yaml_parser_scan_flow_scalar); parity refused the documentation's example as invalid YAML. Elsewhere
    a backslash and a quote stay what they are, and duplicates are counted once."""
    (doc,) = load_all(DOCS_ENVFILE)
    assert doc["spec"]["initContainers"][0]["command"] == [
        "sh", "-c", "echo \"DB_ADDRESS='address'\nREST_ENDPOINT='endpoint'\" > /data/config.env"]
    duplicates: list[DuplicateKey] = []
    (doc,) = load_all("a: 'x\\'\nb: \"\\'\\\\'\"\nc: x\\'y\na: 1\n", duplicates)
    assert doc == {"a": 1, "b": "'\\'", "c": "x\\'y"}
    assert len(duplicates) == 1
    with pytest.raises(yaml.YAMLError, match="unknown escape"):
        load_all('a: "\\q"\n')


def test_a_json_object_with_an_escaped_single_quote_is_taken_as_kubectl_takes_it(tmp_path):
    """A stream whose first non-space byte is ``{`` goes to kubectl's JSON decoder first (apimachinery
    ``YAMLOrJSONDecoder``, ``GuessJSONStream``), which refuses ``\\'`` (no JSON escape). Since
    kubernetes#130666 (1.33) a syntax error in the stream's first or second JSON object switches the
    rest of it to the YAML decoder, which reads ``\\'`` as ``'``: kubectl takes such a ``.json`` file,
    and so does parity (closing note 6 listed it as taken where kubectl refuses it: true of kubectl 1.32
    and before, whose JSON decoder refused it). Read as one object, the value as the YAML path reads it."""
    text = (r'{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": '
            r'[{"name": "a", "image": "busybox", "env": [{"name": "X", "value": "it\'s"}]}]}}' + "\n")
    (doc,) = load_all(text)
    assert doc["spec"]["containers"][0]["env"] == [{"name": "X", "value": "it's"}]
    path = tmp_path / "p.json"
    path.write_text(text)
    result = run_parity("layout", str(path))
    assert (result.returncode, result.stderr.decode()) == (0, "")


def _one_escape_at_a_time(text: str, duplicates: list[DuplicateKey]) -> list:
    r"""fda48c3's load_all: at each refused ``\'`` its backslash goes and the whole stream is read again."""
    from parity.kube import yamlload
    while True:
        said = len(duplicates)
        try:
            return yamlload._load_all(text, duplicates)
        except yaml.YAMLError as exc:
            mark = exc.problem_mark
            if exc.problem != "found unknown escape character" or text[mark.index:mark.index + 2] != "\\'":
                raise
            text = text[:mark.index] + text[mark.index + 1:]
            del duplicates[said:]


#: A document with ``\'`` everywhere it can be: refused by libyaml (go-yaml's ``'``) in double-quoted
#: scalars, flow and block, one line or several (a continuation line may begin with one); two
#: characters in a single-quoted, plain or block scalar and in a comment. A key given twice.
ESCAPES_DOC = ("---\nkind: ConfigMap\nmetadata: {{name: c{i}}}  # it\\'s c{i}\ndata:\n  a: \"it\\'s \\\\' \\\"{i}\\\"\"\n"
               "  b: 'x\\'\n  c: x\\'y\n  d: |\n    it\\'s\n    \"q\\'\"\n  e: \"two\n\\'lines\\'\"\n"
               "  f: [\"\\'\", '\\', \\'g]\n  a: \"{i}\\'\"\n...\n")


def test_a_stream_of_escapes_is_read_in_one_more_parse(monkeypatch):
    r"""fda48c3 read the whole stream again for each refused ``\'``: these 200 documents (400 escapes) took
    401 parses (and 800 one-escape ConfigMaps 10 s). Now the first refusal rewrites them all and the
    stream is parsed once more; documents and duplicate records are those of the one-at-a-time reading."""
    from parity.kube import yamlload
    text = "".join(ESCAPES_DOC.format(i=i) if i % 4 == 0 else f"---\nkind: ConfigMap\ndata: {{k: \"it\\'s {i}\"}}\n"
                   for i in range(200))
    expected_duplicates: list[DuplicateKey] = []
    expected = _one_escape_at_a_time(text, expected_duplicates)
    assert expected[1]["data"] == {"k": "it's 1"}
    assert expected[8]["data"] == {"a": "8'", "b": "x\\", "c": "x\\'y", "d": "it\\'s\n\"q\\'\"\n",
                                   "e": "two 'lines'", "f": ["'", "\\", "\\'g"]}
    parses = []
    real = yamlload._load_all
    monkeypatch.setattr(yamlload, "_load_all", lambda *args: parses.append(1) or real(*args))
    duplicates: list[DuplicateKey] = []
    assert load_all(text, duplicates) == expected
    assert duplicates == expected_duplicates and len(duplicates) == 50
    assert len(parses) == 2


def test_an_error_after_a_rewritten_escape_is_placed_in_the_text_as_written():
    r"""After the rewrite, a later error's column was counted in the rewritten text: ``\q`` after one
    ``\'`` was one column early (line 4, column 17 for column 18)."""
    from parity.kube.yamlload import error_text
    cases = [("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: \"it\\'s \\q\"}\n", 4, 18),
             ("a: \"\\'\\'\"\nb: \"x\\'\n\\'y \\' \\q\"\n", 3, 8),  # two removed before it, one at column 1
             ("a: \"\\'\"\r\nb: {c: \"\\'\\'\", ]\n", 2, 16),  # a parser error after two on its line
             ("\ufeffa: \"\\'\"\nb: \"\\'é\\q\"\n", 2, 8)]  # a BOM; a character past ASCII
    for text, line, column in cases:
        with pytest.raises(yaml.YAMLError) as caught:
            load_all(text)
        assert error_text(caught.value).startswith(f"line {line}, column {column}: "), (text, error_text(caught.value))


def test_a_backslash_quote_that_libyaml_takes_stays_as_written_beside_rewritten_ones():
    r"""Only ``\'`` in a double-quoted scalar is rewritten; in a block, single-quoted or plain scalar,
    a comment, or past a document marker inside a block scalar's text it stays two characters."""
    text = ("a: \"\\'\"\nb: |\n  \\'\n  \"\\'\"\n  --- \"\\'\"\nc: '\\'  # \"\\'\"\nd: x\\'\"\\'\"\n"
            "---\n|\n \"\\'\"\n---\n\"x\\'\"\n")  # (a document on its '---' line: kubectl refuses it)
    assert load_all(text) == [{"a": "'", "b": "\\'\n\"\\'\"\n--- \"\\'\"\n", "c": "\\", "d": "x\\'\"\\'\""},
                              "\"\\'\"\n", "x'"]


# --- a stream that begins with '{': JSON values one after another, as kubectl's YAMLOrJSONDecoder reads it

def _cm(name: str, extra: str = "") -> str:
    return '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "%s"}%s}' % (name, extra)


@pytest.mark.parametrize("text", [
    _cm("a") + "\n" + _cm("b") + "\n" + _cm("c") + "\n",  # one object a line
    _cm("a") + _cm("b") + "  \t" + _cm("c"),  # glued, then white space, no final line break
    "\n  " + _cm("a") + "\r\n\n" + _cm("b") + "\nnull\n" + _cm("c"),  # a null value is no document
])
def test_json_objects_without_separators_are_read_one_after_another_as_kubectl_reads_them(text):
    """Go's json.Decoder reads values with only white space (or nothing) between them; libyaml refused
    the second ("did not find expected <document start>")."""
    assert [d["metadata"]["name"] for d in load_all(text)] == ["a", "b", "c"]


def test_a_json_stream_keeps_the_lines_of_its_keys_given_twice():
    """Each value is read by the YAML loader at its own line: a key given twice is reported there."""
    duplicates: list[DuplicateKey] = []
    docs = load_all(_cm("a") + "\n\n" + _cm("b", ', "data": {"k": "1",\n "k": "2"}') + "\n", duplicates)
    assert docs[1]["data"] == {"k": "2"}
    assert duplicates == [DuplicateKey(1, ("data", "k"), 4, 3)]


def test_a_json_error_in_the_first_or_second_value_switches_the_rest_to_yaml():
    r"""kubernetes#130666: after a syntax error with at most one value read, the rest of the stream (from
    the end of that value, white space through the first line break eaten) goes to the YAML decoder,
    which reads ``\'`` as ``'`` and takes YAML documents."""
    escaped = _cm("b", ', "data": {"x": "it\\\'s"}')
    assert [d["metadata"]["name"] for d in load_all(_cm("a") + "\n" + escaped + "\n")] == ["a", "b"]
    assert load_all(_cm("a") + "\nkind: B\n---\nkind: C\n")[1:] == [{"kind": "B"}, {"kind": "C"}]
    assert load_all(escaped + "\n") == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"},
                                         "data": {"x": "it's"}}]


@pytest.mark.parametrize("text,line,column,message", [
    (_cm("a") + "\n" + _cm("b") + "\n" + _cm("c", ', "data": {"x": "it\\\'s"}'), 3, 88,
     "invalid character '\\'' in string escape code"),
    (_cm("a") + _cm("b") + '{"kind": "C", "data": NaN}', 1, 159, "invalid character 'N' looking for beginning of value"),
    (_cm("a") + _cm("b") + '\n{"kind" "C"}', 2, 9, "invalid character '\"' after object key"),
    (_cm("a") + _cm("b") + '\n{"kind": "C" "x"}', 2, 14, "invalid character '\"' after object key:value pair"),
    (_cm("a") + _cm("b") + '\n{"kind": tru}', 2, 13, "invalid character '}' in literal true (expecting 'e')"),
    (_cm("a") + _cm("b") + '\n{"n": 1.}', 2, 9, "invalid character '}' after decimal point in numeric literal"),
    (_cm("a") + _cm("b") + '\n{"s": "a\tb"}', 2, 9, "invalid character '\\t' in string literal"),
    (_cm("a") + _cm("b") + '\n{"kind":', 2, 9, "unexpected EOF"),
    (_cm("a") + _cm("b") + '\n---\n' + _cm("c"), 2, 2, "invalid character '-' in numeric literal"),
])
def test_past_two_json_values_a_syntax_error_is_refused_with_gos_message(text, line, column, message):
    """More than one value read: "an unambiguous JSON stream", no switch to YAML; the error is Go's
    encoding/json one (scanner.go), at the character's line and column."""
    with pytest.raises(JSONStreamRefused) as info:
        load_all(text)
    assert (info.value.line, info.value.column, info.value.message) == (line, column, message)


def test_a_yaml_error_after_the_switch_is_the_json_one_on_the_first_document_only():
    """After the switch, the YAML decoder failing on its first document returns the JSON error that
    caused the switch; on a later document, its own."""
    with pytest.raises(JSONStreamRefused) as info:
        load_all('{"kind": x}\n{"kind": "B"}\n')
    assert str(info.value) == "line 1, column 10: invalid character 'x' looking for beginning of value"
    with pytest.raises(yaml.YAMLError) as yaml_error:
        load_all('{"kind": x}\n---\n{"kind": "B"}{"kind": "C"}\n')
    assert (yaml_error.value.problem, yaml_error.value.problem_mark.line + 1) == (
        "did not find expected <document start>", 3)


def test_a_json_stream_through_the_cli_is_laid_out_and_its_refusal_is_one_line(tmp_path):
    """``parity layout`` of JSON lines: the Pod and its ConfigMap, as ``kubectl apply -f`` reads them."""
    pod = ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "web", '
           '"image": "busybox", "volumeMounts": [{"name": "c", "mountPath": "/etc/c"}]}], "volumes": [{"name": "c", '
           '"configMap": {"name": "a"}}]}}')
    path = tmp_path / "app.json"
    path.write_text(_cm("a", ', "data": {"k": "v"}') + "\n" + pod + "\n")
    result = run_parity("layout", "--format", "json", str(path))
    assert (result.returncode, result.stderr.decode()) == (0, "")
    (workload,) = json.loads(result.stdout)["workloads"]
    assert workload["workload"] == {"kind": "Pod", "name": "web", "namespace": "default"}
    entries = [e for e in workload["containers"][0]["entries"] if e["path"].startswith("/etc/c/")]
    assert [(e["path"], e["type"], e["mode"], e.get("size"), e.get("target")) for e in entries] == [
        ("/etc/c/..1970_01_01_00_00_00.854985918", "dir", "0755", None, None),
        ("/etc/c/..1970_01_01_00_00_00.854985918/k", "file", "0644", 1, None),
        ("/etc/c/..data", "symlink", "0777", None, "..1970_01_01_00_00_00.854985918"),
        ("/etc/c/k", "symlink", "0777", None, "..data/k")]
    path.write_text(_cm("a") + "\n" + pod + "\n" + _cm("b", ', "data": {"x": "it\\\'s"}') + "\n")
    result = run_parity("layout", str(path))
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == (
        f"parity: {path}: invalid JSON: line 3, column 88: invalid character '\\'' in string escape code (kubectl "
        "reads a stream that begins with '{' as JSON values one after another, and past the second refuses what "
        "JSON refuses: '---' lines between them have it read as YAML)\n")


@pytest.mark.parametrize("between", ["\n", ""], ids=["one-a-line", "glued"])
def test_a_json_stream_is_read_once_not_behind_what_came_before(between):
    """Each value goes to the YAML loader alone, its marks moved to its line and column afterwards. It was
    preceded by a line break per earlier line (10k objects one a line: 50M line breaks read), then, on
    one line, by a space per earlier character (``{...}{...}``: 4k objects 6.4 s, 8k 27.7 s). The loader
    now reads the stream's characters once, and a key given twice keeps its line."""
    from parity.kube.jsonstream import load_json_stream
    from parity.kube.yamlload import _load_yaml
    read: list[int] = []

    def counting(piece, duplicates):
        read.append(len(piece))
        return _load_yaml(piece, duplicates)

    text = "".join(_cm(f"c{i}", ', "data": {"k": "1", "k": "2"}' if i == 999 else "") + between for i in range(1000))
    duplicates: list[DuplicateKey] = []
    docs = load_json_stream(text, duplicates, counting)
    assert (len(docs), len(read), sum(read)) == (1000, 1000, len(text) - len(between) * 1000)
    assert duplicates == [DuplicateKey(999, ("data", "k"), 1000 if between else 1, 1000 if between else 1)]


_LONG_KEY = "k" * 1100


@pytest.mark.parametrize("value,expected", [
    ('{"note": "smile \\ud83d\\ude00", "lone": "\\ud800x"}', {"note": "smile \U0001F600", "lone": "\ufffdx"}),
    ('{"a"\n  : 1, "b"\t:\n"c"}', {"a": 1, "b": "c"}),
    ('{"%s": 1}' % _LONG_KEY, {_LONG_KEY: 1}),
], ids=["surrogate-pair-escape", "colon-on-the-next-line", "key-over-1024-characters"])
def test_json_that_gos_decoder_takes_and_yaml_refuses_is_read_as_kubectl_reads_it(value, expected):
    """A surrogate pair escape (what Python's json.dumps writes for any emoji), white space before ':'
    and a key over 1024 characters: Go's encoding/json takes them, libyaml refused them ("found invalid
    Unicode character escape code", "did not find expected ',' or '}'"), as values 1 and 3 of a stream
    and as a single object. A lone surrogate is U+FFFD, as Go decodes it."""
    assert load_all(value + "\n" + _cm("b") + "\n" + value + "\n")[::2] == [expected, expected]
    assert load_all(value + _cm("b") + value)[::2] == [expected, expected]
    assert load_all(value) == [expected]


def test_json_read_the_go_way_keeps_the_yaml_loaders_numbers_and_keys_given_twice():
    """A value YAML refuses is built from the JSON (jsonstream._go_json_value) as the loader builds one:
    numbers by go-yaml's rules (``-0`` an int written ``-0``, past 64 bits a float, ``1e400`` a string),
    the last of a key given twice kept and reported at its line, the same on the value's first line."""
    from parity.kube.yamlload import written_text
    body = ('"n": -0, "big": 123456789012345678901, "f": 1.5e3, "s": 1e400, "t": true, "z": null, '
            '"x": [1, {"k": 1,\n "k": 2}], "k"\n: 3, "k": 4')
    duplicates: list[DuplicateKey] = []
    refused = load_all(_cm("a") + "\n\n{" + body + ', "e": "\\ud83d\\ude00"}\n', duplicates)[1]
    as_yaml: list[DuplicateKey] = []
    read = load_all(_cm("a") + "\n\n{" + body.replace('"k"\n:', '"k":') + "}\n", as_yaml)[1]
    assert {k: v for k, v in refused.items() if k != "e"} == read == {
        "n": 0, "big": 123456789012345678901.0, "f": 1500.0, "s": "1e400", "t": True, "z": None,
        "x": [1, {"k": 2}], "k": 4}
    assert [type(v) for v in refused.values()][:7] == [type(v) for v in read.values()][:7]
    assert written_text(refused["n"]) == written_text(read["n"]) == "-0"
    assert duplicates == [DuplicateKey(1, ("x", 1, "k"), 4, 3), DuplicateKey(1, ("k",), 5, 4)]
    assert as_yaml == [DuplicateKey(1, ("x", 1, "k"), 4, 3), DuplicateKey(1, ("k",), 4, 4)]


def test_a_json_stream_with_an_emoji_escape_is_laid_out_as_kubectl_applies_it(tmp_path):
    """``json.dumps`` writes an emoji as a surrogate pair escape: the stream (and a single-object .json
    file) was refused as invalid YAML; kubectl applies both."""
    pod = ('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "annotations": {"note": '
           '"smile \\ud83d\\ude00"}}, "spec": {"containers": [{"name": "web", "image": "busybox"}]}}')
    for name, text in (("stream.json", _cm("a", ', "data": {"k": "\\ud83d\\ude00"}') + "\n" + pod + "\n"),
                       ("one.json", pod)):
        path = tmp_path / name
        path.write_text(text)
        result = run_parity("layout", "--format", "json", str(path))
        assert (result.returncode, result.stderr.decode()) == (0, "")
        (workload,) = json.loads(result.stdout)["workloads"]
        assert workload["workload"] == {"kind": "Pod", "name": "web", "namespace": "default"}


def test_a_json_error_quotes_the_byte_go_quotes_and_unicode_space_leads_to_json():
    """Go's scanner works on bytes: at ``é`` it quotes the first byte as a Latin-1 character, ``'Ã'``
    (parity quoted ``'é'``). GuessJSONStream skips any Unicode space (unicode.IsSpace) before ``{``:
    U+3000 and U+2028 then ``{`` is a JSON stream; U+001C (Python's isspace, not Go's) is not."""
    from parity.kube.yamlload import begins_json
    with pytest.raises(JSONStreamRefused) as info:
        load_all(_cm("a") + "\n" + _cm("b") + '\n{"a": \u00e9}\n')
    assert (info.value.line, info.value.column, info.value.message) == (
        3, 7, "invalid character '\u00c3' looking for beginning of value")
    assert [begins_json(lead + "{") for lead in ("\u3000", "\u2028", "\u1680 \n", "\x1c")] == [True, True, True, False]


@pytest.mark.parametrize("text,line", [
    ("--- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n", 1),
    ("a: 1\n----\nb: 2\n", 2),
    ('a: 1\n---\ns: "x\n-----BEGIN KEY-----\n"\n', 4),  # a PEM line in a quoted scalar: kubectl's reader splits lines
    ("a: [\n---x\n", 2),  # the reader meets the line before the document it ends is decoded
    ("a: 1\n---\nb: [\n---x\n", 4),
])
def test_a_separator_line_holding_more_than_a_comment_is_refused_as_kubectl_refuses_it(text, line):
    """apimachinery YAMLReader.Read: a line that starts with ``---`` and holds anything but white space
    and a ``#`` comment is "invalid Yaml document separator: REST". parity took ``--- {...}``; its
    message does not quote the rest (it may be a value)."""
    with pytest.raises(yaml.YAMLError) as info:
        load_all(text)
    assert info.value.problem == ("a line that starts with --- holds more than a comment after it: kubectl refuses "
                                  "it (\"invalid Yaml document separator: (not shown)\"); start the document on the "
                                  "next line")
    assert (info.value.problem_mark.line + 1, info.value.problem_mark.column) == (line, 0)


def test_separator_lines_with_a_comment_are_taken_and_an_earlier_documents_error_comes_first():
    assert load_all("a: 1\n---   # next\nb: 2\n--- \t\r\nc: 3\n") == [{"a": 1}, {"b": 2}, {"c": 3}]
    with pytest.raises(yaml.YAMLError) as info:
        load_all("a: [\n---\nb: 1\n---x\n")
    assert info.value.problem == "did not find expected node content"
