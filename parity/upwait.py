"""``parity up --wait``: after the run, until every container is up (running; healthy where it has a
health check; exited 0 for one that runs to completion) or one cannot get there, at most
``--wait-timeout`` seconds; a line for each that is not up. The containers are looked at again each
time the engine reports a change of one of them (``docker/events.py``: a start, a death, a change of
health), not on a timer."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Callable, TypeVar

from .docker.engine import engine_errors
from .docker.events import ContainerEvents, TimedOut
from .docker.health import SANDBOX_GONE, Condition, condition
from .docker.labels import LABEL_PROJECT
from .docker.plan import AppPlan, PodPlan
from .docker.sandbox import SandboxPlan
from .upresult import UpResult

if TYPE_CHECKING:  # (the SDK is imported by .docker.engine's users, after it)
    import docker

#: --wait: how long a container without a health check must have run (same start, no restart) to count
#: as up: a process that exits at once is caught, not taken for a running one in the instant before it
#: exits. Counted from its start by the engine's clock for one already running when the wait begins
#: (a pod's sandbox, started before its apps: it was counted from the wait's first look, so every
#: --wait took 2 s at least), else from when the wait first saw it running.
STABLE = 2.0
#: --wait: how often the containers are looked at when the engine's event stream has ended (it went
#: away, or closed the stream): polled then, as before the events (0.5 s, Compose's ticker too).
WAIT_POLL = 0.5
#: --wait-timeout's default, in seconds.
DEFAULT_WAIT = 120

T = TypeVar("T")


class Waiting:
    """``--wait``'s part of an ``up`` run (``up._Up``): it reads the run's ``plan``, ``client``,
    ``pod_of`` and ``sandboxes``, asks the engine with its ``_parallel``, and fills its ``result``."""

    plan: AppPlan
    client: docker.DockerClient
    pod_of: dict[str, PodPlan]
    sandboxes: list[SandboxPlan]
    result: UpResult
    _parallel: Callable[[list[Callable[[], T]]], list[T]]

    def _wait_up(self, timeout: float) -> None:
        """--wait: until every container is up (``health.condition``: running, healthy where it has a
        health check; exited 0 for one that runs to completion) or one cannot get there (it exited,
        crash-loops, is unhealthy: the run stops at the first), at most ``timeout`` seconds. Each
        pod's sandbox is waited for too (running: a sandbox that exited took the pod's network
        namespace with it, as a dead pause container does). Each container that is not up gets a line
        in ``result.problems``; log contents are never read."""
        self.result.waited = True
        deadline = time.monotonic() + timeout
        # (init containers: up waited for them, exit 0; a CronJob's: made, never started: on demand)
        services = [s for s in self.plan.services if not s.init and self.pod_of[s.name].run != "on-demand"]
        # What is watched: (the name a problem line gives, the engine's container name).
        watched = [(s.name, self.plan.container_name(s)) for s in services]
        watched += [(sb.pod.sandbox, sb.name) for sb in self.sandboxes]
        # (from a second back: an event between the first inspect and the stream's open is replayed)
        events = ContainerEvents(self.client, f"{LABEL_PROJECT}={self.plan.project}", int(time.time()) - 1,
                                 lambda what: engine_errors(), "watching the project's containers")
        try:
            states = self._conditions(watched, deadline, events)
        finally:
            events.close()
        failed = [key for key, _ in watched if states[key].ok is False]
        pending = [key for key, _ in watched if states[key].ok is None]
        by_name = {c.name: c for c in self.result.containers}
        for s in services:
            c, shown = states[s.name], by_name[s.name]
            shown.state, shown.health, shown.problem = c.state, c.health, c.problem
        sandboxes = {sb.pod.sandbox for sb in self.sandboxes}
        for key, name in watched:
            if key not in (failed or pending):
                continue
            c = states[key]
            problem = c.problem if failed else _not_up_in_time(c, timeout)
            if key in sandboxes:  # (not a container of the pod's: named as the pod's sandbox)
                self.result.problems.append(f"{key} (the pod's sandbox): {problem}{SANDBOX_GONE if failed else ''} "
                                            f"(see: docker logs {name})")
                continue
            by_name[key].problem = problem
            self.result.problems.append(f"{key}: {problem} (see: docker logs {name})")


    def _conditions(self, watched: list[tuple[str, str]], deadline: float,
                    events: ContainerEvents) -> dict[str, Condition]:
        """Each watched container's condition once every one is up, one cannot get there, or
        ``deadline`` (``time.monotonic``) has passed: looked at again at each of their events, and
        when a running container without a health check has run for ``STABLE`` s."""
        seen: dict[str, tuple[tuple, float]] = {}  # watched -> ((StartedAt, RestartCount), running since)
        ids: list[str] = []
        # The engine's clock, asked before the first look: a container running since long before it (a
        # pod's sandbox, started before the apps) has been seen running long enough already.
        engine_now, asked = _epoch(self.client.api.info().get("SystemTime")), time.monotonic()
        first_look = True
        while True:
            count = events.count(ids)  # (before the inspect: a change after it is waited past)
            found = self._parallel([lambda n=name: self.client.api.inspect_container(n) for _, name in watched])
            now = time.monotonic()
            ids = [attrs["Id"] for attrs in found]
            states, pending, settled_at = {}, [], []
            for (key, _), attrs in zip(watched, found):
                c = states[key] = condition(attrs)
                if c.ok and c.health is None and c.state == "running":
                    run = (attrs["State"].get("StartedAt"), c.restarts)
                    if seen.get(key, ((), 0.0))[0] != run:
                        started = _epoch(run[0]) if first_look else None
                        seen[key] = (run, now if started is None or engine_now is None
                                     else min(now, asked - max(0.0, engine_now - started)))
                    if now - seen[key][1] < STABLE:
                        settled_at.append(seen[key][1] + STABLE)  # (up, unless it exits before then)
                elif c.ok is None:
                    pending.append(key)
            if any(c.ok is False for c in states.values()) or not (pending or settled_at) or now >= deadline:
                return states
            first_look = False
            until = min([deadline, *settled_at])
            try:
                events.wait_past(ids, count, until, threading.Event())
            except TimedOut:  # (``until``; or the stream ended: then polled)
                if events.ended:
                    time.sleep(max(0.0, min(WAIT_POLL, until - time.monotonic())))


def _epoch(stamp: str | None) -> float | None:
    """An engine's RFC 3339 time (``2026-12-02T17:26:01.123456789Z``, nanoseconds, or an offset) as Unix
    seconds; None when it is not one."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", stamp or "")
    if not m:
        return None
    try:
        moment = datetime.fromisoformat(m[1] + ("+00:00" if m[3] == "Z" else m[3]))
    except ValueError:
        return None
    return moment.timestamp() + float(f"0.{m[2] or 0}")


def _not_up_in_time(c: Condition, timeout: float) -> str:
    """Why a container that was still settling when --wait-timeout ran out is not up."""
    if c.health == "starting":
        return f"not healthy within {timeout:g} s (its health check has not passed yet)"
    if c.state == "running" and c.completes:
        return f"still running after {timeout:g} s (it runs to completion: exit 0 was waited for)"
    return f"not up within {timeout:g} s ({c.state})"
