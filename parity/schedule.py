"""Steps run side by side, each as soon as the steps it comes after have ended (``parity up``'s engine
requests: a pod's containers right after its own sandbox, as Compose starts each service once its own
``depends_on`` are met, not after every other pod's; ``diff --live``'s starts of the containers Compose
created, ``docker/livestart.py``).

What a run guarantees, whatever the order the steps end in: no step starts before those it comes
after have ended; a failure stops the steps not started, and the started ones end before the failure
is raised (and so before a roll-back: a request abandoned half-way would finish after it); Ctrl-C
likewise.
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Callable, Mapping, Sequence, TypeVar

from .outdir import block_signals_in_this_thread, signals_held

T = TypeVar("T")


class Stopped(Exception):
    """A step not started, or given up, because the run is stopping (another step failed, or Ctrl-C)."""


def run_by_dependency(steps: Mapping[str, Callable[[], T]], after: Mapping[str, Sequence[str]], workers: int,
                      stop: threading.Event, skip: Callable[[str], bool] | None = None) -> list[T | None]:
    """Run each step once every step it comes after has ended, at most ``workers`` at once.

    Args:
        steps: key -> step, in the order results (and the first failure) are given in.
        after: key -> the keys of the steps it comes after. A key that is not among ``steps`` has
            nothing to wait for (e.g. a step an app does not need).
        workers: how many steps may run at once (threads; each makes its engine requests one by one).
        stop: set when a step fails or the run is interrupted; a step that waits on something long
            (an init container) looks at it and gives up with ``Stopped``. Set already: nothing starts.
        skip: asked, in the calling thread, when a step's turn comes (what it comes after has
            ended): True when it has nothing to do after all (e.g. a container that a step before it
            could have removed, found as it should be); it then ends at once, with None, without a
            worker (a run with nothing to do starts no thread for it).

    Returns:
        Each step's result, in the order of ``steps`` (None for a skipped one).

    Raises:
        Exception: the first failure in the order of ``steps`` (``Stopped`` only when nothing else
            failed), once every started step has ended; the steps not started then never start.
        BaseException: Ctrl-C (KeyboardInterrupt), likewise once the started steps have ended.
    """
    keys = list(steps)
    if len(keys) < 2 and skip is None:
        return [_guarded(steps[k], stop) for k in keys]  # (one step: no thread)
    waiting = {k: {d for d in after.get(k, ()) if d in steps} for k in keys}
    dependants: dict[str, list[str]] = {k: [] for k in keys}
    for k in keys:
        for d in waiting[k]:
            dependants[d].append(k)
    results: dict[str, T | None] = {}
    failures: dict[str, BaseException] = {}
    running: dict[concurrent.futures.Future, str] = {}
    _check_no_cycle(waiting)
    pool = concurrent.futures.ThreadPoolExecutor(max(1, min(workers, len(keys))), thread_name_prefix="parity-up",
                                                 initializer=block_signals_in_this_thread)

    def start(ready: list[str]) -> None:
        while ready and not stop.is_set():
            k = ready.pop(0)
            if skip is not None and skip(k):
                results[k] = None
                ready += ended(k)
            else:
                # Held: a Ctrl-C inside ``submit`` (it starts the worker's thread and waits for it
                # to run) lost the future and the thread, which the pool then never waited for.
                with signals_held():
                    running[pool.submit(_guarded, steps[k], stop)] = k

    def ended(k: str) -> list[str]:
        """The steps whose turn comes now that ``k`` has ended."""
        now = []
        for d in dependants[k]:
            waiting[d].discard(k)
            if not waiting[d]:
                now.append(d)
        return now

    try:
        start([k for k in keys if not waiting[k]])
        while running:
            done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                k = running.pop(future)
                if future.exception() is not None:
                    failures[k] = future.exception()
                    stop.set()
                    continue
                results[k] = future.result()
                start(ended(k))
    except BaseException:
        stop.set()
        for future in running:
            future.cancel()
        raise
    finally:
        with signals_held():
            pool.shutdown(wait=True)
    for k in keys:
        if k in failures and not isinstance(failures[k], Stopped):
            raise failures[k]
    if len(results) < len(keys):
        raise Stopped()
    return [results[k] for k in keys]


def _check_no_cycle(waiting: Mapping[str, set[str]]) -> None:
    """Raise ValueError when steps come after each other in a cycle (they would never start: a
    plan's mistake, said at once rather than as a run that stops with nothing failed)."""
    left = {k: set(v) for k, v in waiting.items()}
    while left:
        free = [k for k, deps in left.items() if not deps]
        if not free:
            raise ValueError(f"steps that come after each other in a cycle: {', '.join(sorted(left))}")
        for k in free:
            del left[k]
        for deps in left.values():
            deps.difference_update(free)


def _guarded(step: Callable[[], T], stop: threading.Event) -> T:
    if stop.is_set():
        raise Stopped()
    return step()
