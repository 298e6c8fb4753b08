"""The unknown-field check's fast path (``strictfields._all_known``, issue 17) must agree with the
walk that names the fields (``_walk``) on every object: the manifests parity ships and reads in its
tests, and each of them with one key added, renamed or given a wrong case at any depth."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.kube.fields import API_VERSIONS, ROOTS
from parity.kube.strictfields import _all_known, _walk
from parity.kube.yamlload import load_all

from ..conftest import ROOT


def _objects() -> list[dict]:
    """Every object of a checked kind and version in the examples and the fixtures (bad ones included)."""
    found = []
    for path in sorted([*ROOT.glob("manifests/**/*.yaml"), *ROOT.glob("tests/fixtures/**/*.yaml")]):
        try:
            docs = load_all(path.read_text(encoding="utf-8"))  # as parity reads them
        except Exception:  # noqa: BLE001 - a bad fixture parity refuses: nothing to check in it
            continue
        found += [d for d in docs if isinstance(d, dict) and d.get("kind") in ROOTS
                  and d.get("apiVersion") == API_VERSIONS[d["kind"]]]
    return found


OBJECTS = _objects()


def _copy(value):
    """A copy of the dicts and lists (the loader's int subclass cannot be deep-copied, nor need be)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return [_copy(v) for v in value] if isinstance(value, list) else value


def _containers(value, out: list) -> list:
    """Every dict and list inside ``value``, ``value`` included (the places a key can go wrong)."""
    if isinstance(value, (dict, list)):
        out.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, out)
    return out


def test_the_fast_check_agrees_with_the_walk_on_every_shipped_object():
    assert len(OBJECTS) > 100
    for obj in OBJECTS:
        root = ROOTS[obj["kind"]]
        assert _all_known(obj, root) == (not list(_walk(obj, root, ""))), obj.get("metadata")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_fast_check_agrees_with_the_walk_with_one_key_changed_anywhere(data):
    obj = _copy(data.draw(st.sampled_from(OBJECTS)))
    root = ROOTS[obj["kind"]]
    places = [c for c in _containers(obj, []) if isinstance(c, dict)]
    place = data.draw(st.sampled_from(places))
    key = data.draw(st.sampled_from(sorted(map(str, place))) if place else st.just("x"))
    change = data.draw(st.sampled_from(["add", "rename", "case", "int key"]))
    if change == "add":
        place[data.draw(st.text(min_size=1, max_size=5))] = data.draw(st.sampled_from([1, "v", {}, [], {"a": 1}]))
    elif change == "rename" and key in place:
        place[key + "x"] = place.pop(key)
    elif change == "case" and key in place:
        place[key.swapcase()] = place.pop(key)
    elif change == "int key":
        place[7] = "v"
    assert _all_known(obj, root) == (not list(_walk(obj, root, "")))
