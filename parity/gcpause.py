"""Pausing the cyclic garbage collector while a bulk of acyclic objects is built.

Loading manifests, building layouts and making the JSON document allocate hundreds of thousands of
live, acyclic objects. Each allocation burst would trigger a collection that walks the whole and
growing heap for cycles there are none of: a quarter to a half of the work at 10k documents.

Pausing alone only defers that work: the allocation count keeps growing, so the first allocation
after ``gc.enable()`` collects every object made meanwhile (~7% of ``parity layout``). So the pause
ends by moving everything tracked into the oldest generation without scanning it (``gc.freeze()``
then ``gc.unfreeze()``: two list splices). Nothing is exempt from later collections; objects are
still freed by reference counting as usual; the collector runs again, as it was, afterwards.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


def pause() -> bool:
    """Pause the collector (``resume`` ends the pause).

    Returns:
        Whether it was running, for ``resume``.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    return was_enabled


def resume(was_enabled: bool) -> None:
    """End a ``pause``: what was made meanwhile goes to the oldest generation, unscanned, and the
    collector runs again if it ran before.

    Args:
        was_enabled: what ``pause`` returned.
    """
    if not gc.get_freeze_count():  # (a program that froze its own objects keeps them frozen: no splice)
        gc.freeze()  # young generations -> permanent, their counts reset...
        gc.unfreeze()  # ...permanent -> oldest: promoted, unscanned, still collectable
    if was_enabled:
        gc.enable()


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = pause()
    try:
        yield
    finally:
        resume(was_enabled)
