"""``parity.values``: the classes made with ``@valueclass`` (pod-spec values, and the frozen
dataclasses of the layout path since issue 17's start-up work) compare, hash and show as the frozen
dataclass of the same fields does."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

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


def _generator():
    import runpy
    from pathlib import Path

    return runpy.run_path(str(Path(__file__).resolve().parent.parent / "scripts" / "gen_valuemethods.py"))


def test_valuemethods_is_what_its_generator_writes_now():
    """parity/valuemethods.py is current: regenerated, it is the same text (run
    scripts/gen_valuemethods.py after adding a value class or record, or changing its fields)."""
    from pathlib import Path

    import parity.valuemethods

    assert Path(parity.valuemethods.__file__).read_text(encoding="utf-8") == _generator()["module_text"]()


def test_every_value_class_and_record_takes_its_methods_from_valuemethods_not_from_exec():
    """No value class or record of parity compiles a method at start-up: each is the function of
    valuemethods.py, made from the source ``methods_source`` writes for the class as it is now."""
    from parity import valuemethods
    from parity.values import MADE, methods_source

    classes = _generator()["made_classes"]()
    assert set(_classes()) <= set(classes) and len(classes) == len(valuemethods.METHODS)
    records = [c for c in classes if MADE[c] == ("__init__", "__repr__", "__eq__")]
    assert {"ContainerLayout", "WorkloadLayout", "Workload", "Inputs", "PodSpec", "Container", "Service"} <= \
        {c.__name__ for c in records}
    for cls in classes:
        assert valuemethods.METHODS[f"{cls.__module__}.{cls.__qualname__}"][0] == methods_source(cls, MADE[cls])
        for name in MADE[cls]:
            method = vars(cls)[name]
            assert method.__code__.co_filename == valuemethods.__file__, (cls, name)
            assert method.__qualname__ == f"{cls.__qualname__}.{name}"


def _twin(cls, **params):
    """The dataclass that ``@dataclass(**params)`` makes of ``cls``'s fields (defaults, factories,
    init, repr and compare as they are)."""
    specs = []
    for f in dataclasses.fields(cls):
        kw = {"init": f.init, "repr": f.repr, "compare": f.compare}
        if f.default is not dataclasses.MISSING:
            kw["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            kw["default_factory"] = f.default_factory
        specs.append((f.name, object, dataclasses.field(**kw)))
    twin = dataclasses.make_dataclass(cls.__name__, specs, **params)
    twin.__qualname__ = cls.__qualname__
    return twin


def test_every_generated_init_takes_and_sets_what_the_dataclass_init_does():
    """Parameters (names, kinds, defaults as shown), and what an instance holds made with every
    argument and with the required ones only (defaults and fresh default factories)."""
    import inspect

    for cls in _generator()["made_classes"]():
        twin = _twin(cls, eq=False)
        ours, theirs = inspect.signature(cls.__init__), inspect.signature(twin.__init__)
        assert [(p.name, p.kind, repr(p.default)) for p in ours.parameters.values()] == \
            [(p.name, p.kind, repr(p.default)) for p in theirs.parameters.values()], cls
        if hasattr(cls, "__post_init__"):
            continue  # (PayloadFile: test_a_value_made_through_its_init_is_the_frozen_dataclass_value)
        params = list(ours.parameters.values())[1:]
        every = [f"v-{p.name}" for p in params]
        required = [f"v-{p.name}" for p in params if p.default is inspect.Parameter.empty]
        for args in (every, required):
            assert vars(cls(*args)) == vars(twin(*args)), (cls, args)
    from parity.kube.podspec import Resources

    assert Resources().requests == {} and Resources().requests is not Resources().requests
    assert Resources({"cpu": "1"}).requests == {"cpu": "1"} and Resources().limits == {}


def test_every_record_shows_compares_and_hashes_as_its_dataclass_does():
    """``@record`` against ``@dataclass`` of the same fields: the repr (fields left out of it, a
    record that holds itself: ``...``), equality (fields left out of it, another class: never
    equal) and no hash."""
    from parity.values import MADE

    records = [c for c in _generator()["made_classes"]() if MADE[c] == ("__init__", "__repr__", "__eq__")]
    assert len(records) >= 11
    for cls in records:
        twin = _twin(cls)
        names = [f.name for f in dataclasses.fields(cls)]

        def made(kind, values):
            obj = kind.__new__(kind)
            for n, v in zip(names, values):
                setattr(obj, n, v)
            return obj

        first = [f"v-{n}" for n in names]
        for i in range(len(names)):  # each field changed alone: equal or not as the dataclass says
            changed = first[:i] + [7] + first[i + 1:]
            assert (made(cls, first) == made(cls, changed)) == (made(twin, first) == made(twin, changed)), (cls, i)
            assert repr(made(cls, changed)) == repr(made(twin, changed)), (cls, i)
        one = made(cls, first)
        assert one == made(cls, first) and not one != made(cls, first) and one != made(twin, first)
        assert one.__eq__(made(twin, first)) is NotImplemented and cls.__hash__ is None
        loop, loop_twin = made(cls, [None] * len(names)), made(twin, [None] * len(names))
        setattr(loop, names[0], [loop])
        setattr(loop_twin, names[0], [loop_twin])
        assert repr(loop) == repr(loop_twin) and "[...]" in repr(loop), cls


def test_a_class_the_module_does_not_hold_as_it_is_gets_the_dataclass_methods():
    """A class added, or changed since valuemethods.py was generated (here: podspec.KeyToPath's and
    podspec.Container's names with other fields), is not given the stale methods: it gets those
    ``methods_source`` writes for it, compiled then."""
    from parity.values import record, valueclass

    def make(qualname, decorator, bases):
        ns = {"__module__": "parity.kube.podspec", "__qualname__": qualname,
              "__annotations__": {"key": "str", "extra": "int", "items": "dict"}, "extra": 1,
              "items": dataclasses.field(default_factory=dict)}
        return decorator(type(qualname, bases, ns))

    for cls in (make("KeyToPath", valueclass, (Value,)), make("NotGenerated", valueclass, (Value,)),
                make("Container", record, ()), make("NotGeneratedEither", record, ())):
        one = cls("k")
        assert (one.key, one.extra, one.items) == ("k", 1, {}) and cls("k", 2, {"a": 1}).items == {"a": 1}
        assert cls.__init__.__code__.co_filename == "<string>" and one == cls("k") and one != cls("k", 2)
        assert repr(one) == f"{cls.__qualname__}(key='k', extra=1, items={{}})"


def test_adding_a_class_to_valuemethods_adds_its_own_lines_and_changes_no_other():
    """The generated entries were numbered by position (``_SOURCE_11``, ``_make_11``): one class added
    renumbered every later one (72 lines changed for one class), and two helpers adding classes at once
    always conflicted (review 7, R-L). Each class's entries are named after it now: the module with a
    class is the module without it plus that class's own block and its ``METHODS`` line, nothing else."""
    from parity.values import MADE, methods_source

    generator = _generator()
    classes = generator["made_classes"]()
    added = next(c for c in classes if c.__qualname__ == "Container" and c.__module__ == "parity.kube.podspec")
    name = generator["generated_name"](added)
    assert name == "kube__podspec__Container"
    source = methods_source(added, MADE[added])
    block = f"\n\n_SOURCE_{name} = {source!r}\n\n\n" + source.replace("def __make__(", f"def _make_{name}(", 1)
    entry = f"    'parity.kube.podspec.Container': (_SOURCE_{name}, _make_{name}),\n"
    with_it = generator["module_text"](classes)
    without = generator["module_text"]([c for c in classes if c is not added])
    assert with_it.count(block) == 1 and with_it.count(entry) == 1
    assert with_it.replace(block, "", 1).replace(entry, "", 1) == without


def test_keyword_only_fields_and_init_false_defaults_are_made_as_dataclasses_makes_them_and_initvar_is_refused():
    """``methods_source`` wrote every field as a positional parameter (a kw_only field after a defaulted
    one: a SyntaxError), set a ``field(init=False)`` with a default on the instance (dataclasses leaves it
    to the class attribute), and dropped an ``InitVar`` from ``__init__`` and ``__post_init__`` (review 7,
    R-G; no class used them). Keyword-only fields and init=False defaults are made as dataclasses makes
    them (signature, what an instance holds, repr, equality); an InitVar and a field without a default
    after one with a default are refused, loudly, in dataclasses' words."""
    import inspect

    from parity.values import record

    def spec():
        return {"__module__": "tests.test_values", "__qualname__": "Mixed",
                "__annotations__": {"a": "int", "b": "int", "c": "int", "d": "list", "e": "int"},
                "b": 2, "c": dataclasses.field(kw_only=True), "d": dataclasses.field(default_factory=list, kw_only=True),
                "e": dataclasses.field(init=False, default=5)}

    ours, theirs = record(type("Mixed", (), spec())), dataclasses.dataclass(type("Mixed", (), spec()))
    assert [(p.name, p.kind) for p in inspect.signature(ours.__init__).parameters.values()] == \
        [(p.name, p.kind) for p in inspect.signature(theirs.__init__).parameters.values()] == [
            ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), ("a", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            ("b", inspect.Parameter.POSITIONAL_OR_KEYWORD), ("c", inspect.Parameter.KEYWORD_ONLY),
            ("d", inspect.Parameter.KEYWORD_ONLY)]
    one, twin = ours(1, c=3), theirs(1, c=3)
    assert vars(one) == vars(twin) == {"a": 1, "b": 2, "c": 3, "d": []} and one.e == twin.e == 5
    assert repr(one) == repr(twin) == "Mixed(a=1, b=2, c=3, d=[], e=5)"
    assert one == ours(1, 2, c=3, d=[]) and one != ours(1, c=4)
    with pytest.raises(TypeError) as raised:
        ours(1, 2, 3)
    assert str(raised.value) == "Mixed.__init__() takes from 2 to 3 positional arguments but 4 were given"

    initvar = {"__module__": "tests.test_values", "__qualname__": "WithInitVar",
               "__annotations__": {"a": "int", "scale": "dataclasses.InitVar[int]"}}
    with pytest.raises(TypeError) as raised:
        record(type("WithInitVar", (), initvar))
    assert str(raised.value) == ("tests.test_values.WithInitVar: InitVar field 'scale': not supported by "
                                 "parity.values (use a plain @dataclass)")
    bad_order = {"__module__": "tests.test_values", "__qualname__": "BadOrder",
                 "__annotations__": {"a": "int", "b": "int"}, "a": 1}
    with pytest.raises(TypeError) as raised:
        record(type("BadOrder", (), bad_order))
    assert str(raised.value) == "non-default argument 'b' follows default argument 'a'"
    with pytest.raises(TypeError) as raised:  # (Python 3.12 names the default argument too)
        dataclasses.dataclass(type("BadOrder", (), dict(bad_order)))
    assert str(raised.value).startswith("non-default argument 'b' follows default argument")
