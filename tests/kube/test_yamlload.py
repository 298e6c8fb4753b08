"""The YAML loader's fast path builds what PyYAML's generic constructor builds, and refuses the same
documents: the expansion check is skipped only for documents that cannot expand."""

from __future__ import annotations

import random

import pytest
import yaml
from yaml.constructor import BaseConstructor

from parity.kube.yamlload import KubeLoader, TooBig, load_all


class GenericLoader(KubeLoader):
    """KubeLoader's resolution with PyYAML's generic constructor: the reference for the fast path."""

    construct_document = BaseConstructor.construct_document


def generic_load_all(text: str) -> list:
    return [d for d in yaml.load_all(text, Loader=GenericLoader) if d is not None]


SCALARS = ["0400", "0o400", "0800", "400", "-1", "0x1F", "1:20", "2024-01-01", "yes", "~", "null", "true",
           "1e3", ".inf", "-.Inf", ".nan", "'quoted'", '"double"', "plain text", "12_000", "0b101", "''"]


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
