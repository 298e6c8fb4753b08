"""Values compared and hashed by their fields, as frozen dataclasses are, made cheaply at start-up.

``@valueclass`` on a ``Value`` subclass makes it a dataclass whose ``__init__`` is the only generated
method; ``__eq__``, ``__hash__`` and ``__repr__`` are ``Value``'s, reading the fields through one
``operator.attrgetter`` per class (C, as fast as the generated tuple). Why not
``@dataclass(frozen=True)``: start-up (issue 17). The ``dataclasses`` module compiles each
generated method with ``exec`` at every run of parity: ``frozen`` adds a ``__setattr__`` and a
``__delattr__`` per class and an ``__init__`` that sets each field through ``object.__setattr__``,
and ``eq``/``hash``/``repr`` three more methods per class: ~1.3 ms a class against ~0.2 ms.

The values are not frozen: nothing assigns to them after they are made (``dataclasses.replace``
makes a changed copy). Don't assign to a field: a value may be shared (by every container and
workload that holds it) and its hash must not change. Every field takes part in equality, hash and
repr (no ``field(compare=False)`` or ``repr=False``). ``tests/test_values.py`` holds the equality,
hash and repr of every class against the frozen dataclass of the same fields.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter


class Value:
    """What a value shares: equality, hash and repr by its fields, in their order (as a dataclass's
    with ``frozen=True``, or ``eq=True, unsafe_hash=True``)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _key = staticmethod(lambda value: ())  # the fields' values (``valueclass`` sets one per class)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._key(self) == other._key(other)
        return NotImplemented

    def __hash__(self):
        return hash(self._key(self))

    def __repr__(self):
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"


def valueclass(cls):
    """Make ``cls`` (a ``Value`` subclass) a dataclass with only its ``__init__`` generated."""
    undocumented = cls.__dict__.get("__doc__") is None
    if undocumented:  # (dataclass would make it a docstring of its signature, through inspect.signature:
        cls.__doc__ = " "  # ~50 us a class at every start; the class stays without one)
    cls = dataclass(eq=False, repr=False)(cls)
    if undocumented:
        cls.__doc__ = None
    cls._fields = names = tuple(f.name for f in fields(cls))
    getter = attrgetter(*names) if names else None
    # (attrgetter of one name gives the value itself: a tuple keeps one shape for every class)
    cls._key = staticmethod((lambda v: (getter(v),)) if len(names) == 1 else getter if names else (lambda v: ()))
    return cls
