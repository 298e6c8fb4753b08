"""``parity.values``: the classes made with ``@valueclass`` (pod-spec values, and the frozen
dataclasses of the layout path since issue 17's start-up work) compare, hash and show as the frozen
dataclass of the same fields does."""

from __future__ import annotations

import dataclasses
import importlib

from parity.values import Value

#: Every module that holds a value class (the layout path's, and those beside it).
MODULES = ("parity.errors", "parity.layout", "parity.kube.podspec", "parity.kube.kubelet", "parity.kube.servicespec",
           "parity.kube.yamlload", "parity.kube.fieldref", "parity.kube.containervalidation", "parity.kube.sources")


def _classes() -> list[type]:
    found = {}
    for name in MODULES:
        for obj in vars(importlib.import_module(name)).values():
            if isinstance(obj, type) and issubclass(obj, Value) and obj is not Value:
                found[obj] = None
    return list(found)


def test_every_value_class_compares_hashes_and_shows_as_its_frozen_dataclass_did():
    """For every class, against ``@dataclass(frozen=True)`` of the same fields: equality within and
    across classes, the hash, and the repr (one field, several, fields set after ``__init__``)."""
    classes = _classes()
    assert len(classes) >= 40
    names_of = {"Problem", "Mount", "PayloadFile", "ServicePort", "DuplicateKey", "FieldValue", "_PodContext",
                "Rendered", "KeyToPath", "RootCAConfigMap"}
    assert names_of <= {c.__name__ for c in classes}
    for cls in classes:
        names = [f.name for f in dataclasses.fields(cls)]
        twin = dataclasses.make_dataclass(cls.__name__, [(n, object) for n in names], frozen=True)
        twin.__qualname__ = cls.__qualname__
        values = [(f"v-{n}", 7) for n in names]

        def made(kind, which):
            obj = kind.__new__(kind)
            for n, v in zip(names, values):
                object.__setattr__(obj, n, v[which])  # (as __init__ and __post_init__ leave them)
            return obj

        one, same, other = made(cls, 0), made(cls, 0), made(cls, 1)
        ref, ref_other = made(twin, 0), made(twin, 1)
        assert (one == same, one != same, hash(one) == hash(same)) == (True, False, True), cls
        assert (one == other) == (ref == ref_other) and repr(one) == repr(ref), cls
        assert hash(one) == hash(ref), cls  # (the same tuple of fields)
        assert one.__eq__(ref) is NotImplemented and one != ref  # another class: never equal


def test_a_value_made_through_its_init_is_the_frozen_dataclass_value():
    """The generated ``__init__`` (defaults, ``__post_init__``) sets what the frozen dataclass set."""
    from parity.errors import Problem
    from parity.kube.kubelet import PayloadFile
    from parity.layout import Mount

    assert Problem("m") == Problem("m", None, None, None) and str(Problem("m", "f", "o", "x")) == "f: o: x: m"
    assert Mount("/a", "v", True) == Mount("/a", "v", True, None, "", "")
    assert len({Mount("/a", "v", True), Mount("/a", "v", True)}) == 1
    f = PayloadFile(b"x", 0o644)
    assert f.sha256 == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    assert f == PayloadFile(b"x", 0o644) and f != PayloadFile(b"x", 0o600)
