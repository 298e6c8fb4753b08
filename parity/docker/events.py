"""The engine's events of a set of containers, counted per container, waited on instead of a timer.

A wait reads a count, inspects, and when what it waits for does not hold yet, waits until the count
moves: the engine reports every change that matters (``CHANGES``: a start, a death, a change of
health, a removal), so nothing is polled. ``parity diff --live``'s start waits on them for each
``depends_on`` condition (``livestart.py``), and ``parity up --wait`` for each container to be up
(``upwait.py``).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, ContextManager, Sequence

from ..outdir import block_signals_in_this_thread
from ..schedule import Stopped

#: How often a wait looks whether it is to stop (another step failed, Ctrl-C): a flag of this
#: process, not the engine (the engine's answer comes as an event).
STOP_SLICE = 0.2

#: The container events after which a container's condition may have changed (``health_status``
#: matches ``health_status: healthy`` and the like: the engine's filter is a prefix for it; the
#: engine logs it when the status changes, not at each check).
CHANGES = ("start", "die", "health_status", "destroy")


class TimedOut(Exception):
    """The wait's deadline passed (or the stream ended: ``StreamEnded``) before the containers had
    another event."""


class StreamEnded(TimedOut):
    """The engine ended the event stream before the deadline (it restarted, or went away): no event
    will come. A ``TimedOut`` for a wait that polls instead (``upwait``); its text is the line for
    one that cannot (``diff --live``'s start: review 7, R-K, where it read "did not finish in Ns"
    at once)."""

    def __init__(self, what: str):
        super().__init__(f"the Docker engine failed ({what}): it ended the event stream (did it restart?)")


class ContainerEvents:
    """The engine's events (``CHANGES``) of the containers that carry one label, counted per container: a
    wait reads the count, inspects, and when its condition is not met yet waits until the count moves.

    The stream replays what the engine logged since ``since`` before what comes next: an event
    between the request and the engine's subscription is not lost.

    Args:
        client: a docker-py client.
        label: ``KEY=VALUE``, the containers' label (a project's).
        since: a Unix time, in seconds: the events from then on are counted.
        engine: a context manager factory turning the engine's failures into one line for ``what``.
        what: what the stream is for, in that line (``watching the throw-away project's containers``).
    """

    def __init__(self, client, label: str, since: int, engine: Callable[[str], ContextManager], what: str):
        self._client, self._label, self._since, self._engine, self._what = client, label, since, engine, what
        self._stream = None
        self._failure: Exception | None = None  # the open's, for ``wait_past`` to say in ``engine``'s words
        self._closed = False
        self._counts: dict[str, int] = {}
        self._exits: dict[str, int] = {}  # container -> the exit code of its last ``die``
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="parity-events", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        block_signals_in_this_thread()  # (Ctrl-C and SIGTERM are the main thread's: outdir.py)
        try:
            # Opened here, not by the caller: docker-py opens ``/events`` with no timeout, so an
            # engine that never answers would hold the main thread past the deadline; here the
            # waits' deadline bounds it, and a project that waits on no event never waits on it.
            try:
                stream = self._client.api.events(since=self._since, decode=True, filters={
                    "type": "container", "label": self._label, "event": list(CHANGES)})
            except Exception as exc:  # noqa: BLE001 - said by ``wait_past``, in the waiting thread
                self._failure = exc
                return
            with self._changed:
                self._stream = stream
                closed = self._closed
            if closed:  # (``close`` came first)
                stream.close()
                return
            for event in stream:
                with self._changed:
                    cid = event.get("id") or (event.get("Actor") or {}).get("ID") or ""
                    self._counts[cid] = self._counts.get(cid, 0) + 1
                    code = ((event.get("Actor") or {}).get("Attributes") or {}).get("exitCode")
                    if event.get("Action") == "die" and str(code).lstrip("-").isdigit():
                        self._exits[cid] = int(code)
                    self._changed.notify_all()
        except Exception:  # noqa: BLE001 - closed (``close``) or the engine went away: the waits time out
            pass
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def exited(self, ids: Sequence[str]) -> list[dict]:
        """The ``State`` of each of ``ids`` that has died, as its ``die`` event says (``exited``,
        its exit code): the engine sets the state before it reports the event, and holds the
        container's lock until it has unmounted it, which an inspect waits for (tens of ms)."""
        with self._changed:
            return [{"Status": "exited", "ExitCode": self._exits[i]} for i in ids if i in self._exits]

    def count(self, ids: Sequence[str]) -> int:
        """How many events ``ids`` have had so far."""
        with self._changed:
            return sum(self._counts.get(i, 0) for i in ids)

    def wait_past(self, ids: Sequence[str], seen: int, deadline: float, stop: threading.Event) -> None:
        """Until ``ids`` have had more than ``seen`` events.

        Raises:
            TimedOut: ``deadline`` (``time.monotonic``) passed first.
            StreamEnded: the engine ended the stream first (not ``close``).
            Stopped: ``stop`` was set first.
            ParityError: the engine refused or failed the stream's open (``engine``'s line).
        """
        with self._changed:
            while sum(self._counts.get(i, 0) for i in ids) <= seen:
                if stop.is_set():
                    raise Stopped()
                if self._failure is not None:
                    with self._engine(self._what):
                        raise self._failure
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimedOut()
                if self._ended:
                    raise StreamEnded(self._what)
                self._changed.wait(min(left, STOP_SLICE))

    @property
    def ended(self) -> bool:
        """Whether the stream has ended (closed, or the engine went away): no more events come."""
        with self._changed:
            return self._ended

    def close(self) -> None:
        with self._changed:
            self._closed = True
            stream = self._stream
        if stream is None:  # (not open yet: ``_read`` closes it once it is)
            return
        try:
            stream.close()
        except Exception:  # noqa: BLE001 - already closed by the engine
            pass
