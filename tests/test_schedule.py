"""``schedule.run_by_dependency``: each step as soon as what it comes after has ended, never before;
a failure or Ctrl-C stops what was not started, once the started steps have ended. Real threads;
each step records when it starts and ends (events order the steps: no timing is asserted)."""

from __future__ import annotations

import signal
import os
import time
import threading

import pytest

from parity.schedule import Stopped, run_by_dependency

#: How long a step waits for something the test expects to happen (a deadlock guard, never reached
#: when the schedule is right).
GUARD = 10.0


class Recorder:
    """Steps that log ``start KEY`` and ``end KEY`` and check that what they come after has ended."""

    def __init__(self, after: dict[str, list[str]]):
        self.after = after
        self.log: list[str] = []
        self.early: list[str] = []  # steps that started before one they come after ended
        self.lock = threading.Lock()
        self.started = {k: threading.Event() for k in after}

    def step(self, key: str, body=None):
        def run():
            with self.lock:
                self.early += [key] if any(f"end {d}" not in self.log for d in self.after[key]) else []
                self.log.append(f"start {key}")
            self.started[key].set()
            try:
                return body() if body else key
            finally:
                with self.lock:
                    self.log.append(f"end {key}")
        return run

    def wait_started(self, key: str) -> None:
        if not self.started[key].wait(GUARD):
            raise AssertionError(f"{key} did not start")


def test_a_step_starts_as_soon_as_what_it_comes_after_ended_while_others_still_run():
    """Pod b's sandbox runs until pod a's app container has started: a's app starts right after a's
    own sandbox, not after every sandbox (a schedule by waves deadlocks here until the guard)."""
    after = {"sandbox-a": [], "sandbox-b": [], "app-a": ["sandbox-a"], "app-b": ["sandbox-b"]}
    rec = Recorder(after)
    steps = {k: rec.step(k) for k in after}
    steps["sandbox-b"] = rec.step("sandbox-b", lambda: rec.wait_started("app-a") or "sandbox-b")
    assert run_by_dependency(steps, after, 4, threading.Event()) == list(after)
    assert rec.early == []
    assert rec.log.index("start app-a") < rec.log.index("end sandbox-b")
    assert rec.log.index("start app-b") > rec.log.index("end sandbox-b")


def test_nothing_starts_before_what_it_comes_after_and_results_come_in_the_given_order():
    """A pod of init containers one after the other, then three app containers, beside a second pod:
    each step starts only once every step it comes after has ended, whatever the order they end in;
    a key it comes after that is not a step (a container with nothing to do) is not waited for."""
    after = {"sb1": [], "sb2": [], "init1": ["sb1"], "init2": ["sb1", "init1"], "web": ["sb1", "init2"],
             "worker": ["sb1", "init2", "kept"], "cron": ["sb1", "init2"], "api": ["sb2"]}
    rec = Recorder({**after, "worker": ["sb1", "init2"]})
    # sb2 ends only once pod 1's app containers run, web only once api runs: out of the given order.
    bodies = {"sb2": lambda: rec.wait_started("cron"), "web": lambda: rec.wait_started("api")}
    steps = {k: rec.step(k, bodies.get(k, lambda k=k: k)) for k in after}
    results = run_by_dependency(steps, after, 4, threading.Event())
    assert results == [None if k in bodies else k for k in after]
    assert rec.early == []
    assert sorted(rec.log) == sorted([f"start {k}" for k in after] + [f"end {k}" for k in after])


def test_a_failure_stops_what_was_not_started_once_the_started_steps_ended():
    """Pod b's sandbox fails while pod a's init container runs: the init container sees the run
    stopping and ends (Stopped), nothing after either of them starts, and the failure is raised
    (not the Stopped) only once the init container has ended."""
    after = {"sandbox-a": [], "sandbox-b": [], "init-a": ["sandbox-a"], "app-a": ["sandbox-a", "init-a"],
             "app-b": ["sandbox-b"]}
    rec = Recorder(after)
    stop = threading.Event()

    def fail():
        rec.wait_started("init-a")
        raise RuntimeError("starting b_pod_sandbox failed")

    def init():  # as up's _wait: gives up when the run stops
        if not stop.wait(GUARD):
            raise AssertionError("the run was not stopped")
        raise Stopped()

    steps = {k: rec.step(k) for k in after}
    steps["sandbox-b"], steps["init-a"] = rec.step("sandbox-b", fail), rec.step("init-a", init)
    with pytest.raises(RuntimeError, match="starting b_pod_sandbox failed"):
        run_by_dependency(steps, after, 4, stop)
    assert "end init-a" in rec.log  # (ended before the failure was raised)
    assert sorted(k.split()[1] for k in rec.log if k.startswith("start")) == ["init-a", "sandbox-a", "sandbox-b"]


def test_the_first_failure_in_the_given_order_is_raised():
    after = {"a": [], "b": [], "c": ["a"]}
    rec = Recorder(after)
    stop = threading.Event()

    def first():  # fails after b has
        if not stop.wait(GUARD):
            raise AssertionError("b's failure did not stop the run")
        raise ValueError("a")

    def second():
        rec.wait_started("a")
        raise ValueError("b")

    with pytest.raises(ValueError, match="^a$"):
        run_by_dependency({"a": rec.step("a", first), "b": rec.step("b", second), "c": rec.step("c")}, after, 2,
                          stop)
    assert "start c" not in rec.log


def test_ctrl_c_stops_what_was_not_started_once_the_started_steps_ended():
    """SIGINT while steps run: KeyboardInterrupt is raised once the started steps have ended (a
    request abandoned half-way would finish after the roll-back), and nothing else starts."""
    after = {"sandbox": [], "other": [], "app": ["sandbox"]}
    rec = Recorder(after)
    stop = threading.Event()
    main = threading.main_thread().ident

    def interrupted():
        rec.wait_started("other")
        signal.pthread_kill(main, signal.SIGINT)
        if not stop.wait(GUARD):  # (the run stops on Ctrl-C; this request then ends)
            raise AssertionError("Ctrl-C did not stop the run")

    def other():
        rec.wait_started("sandbox")
        stop.wait(GUARD)

    with pytest.raises(KeyboardInterrupt):
        run_by_dependency({"sandbox": rec.step("sandbox", interrupted), "other": rec.step("other", other),
                           "app": rec.step("app")}, after, 2, stop)
    assert sorted(rec.log) == ["end other", "end sandbox", "start other", "start sandbox"]


def test_a_second_ctrl_c_still_waits_for_the_started_steps():
    """Two process-directed SIGINTs (as a terminal sends them): the second comes while the run waits
    for its started steps with the signals held in the main thread. The kernel gave it to a worker,
    and the main thread raised KeyboardInterrupt at once: ``b`` went on running after it (after the
    roll-back, in ``parity up``). Workers block the signals: it waits until the started steps end."""
    stop, b_started = threading.Event(), threading.Event()
    log = []

    def a():
        log.append("start a")
        b_started.wait(GUARD)
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C: the run stops
        stop.wait(GUARD)
        time.sleep(0.2)  # (the main thread is now waiting for the workers, signals held)
        os.kill(os.getpid(), signal.SIGINT)  # the second
        log.append("end a")

    def b():
        log.append("start b")
        b_started.set()
        stop.wait(GUARD)
        time.sleep(0.6)  # still running when the second Ctrl-C comes
        log.append("end b")

    with pytest.raises(KeyboardInterrupt):
        run_by_dependency({"a": a, "b": b}, {}, 2, stop)
    assert sorted(log) == ["end a", "end b", "start a", "start b"]


def test_steps_in_a_cycle_are_refused_before_any_starts():
    ran = []
    with pytest.raises(ValueError, match="steps that come after each other in a cycle: a, b"):
        run_by_dependency({"a": lambda: ran.append("a"), "b": lambda: ran.append("b"), "c": lambda: ran.append("c")},
                          {"a": ["b"], "b": ["a"]}, 2, threading.Event())
    assert ran == []


def test_a_stopped_run_starts_nothing():
    stop = threading.Event()
    stop.set()
    ran = []
    with pytest.raises(Stopped):
        run_by_dependency({"a": lambda: ran.append("a"), "b": lambda: ran.append("b")}, {}, 2, stop)
    assert ran == []


def test_a_skipped_step_takes_no_worker_and_what_comes_after_it_runs():
    """``skip`` is asked when a step's turn comes, in the calling thread; a skipped step is never
    called, its result is None, and the steps after it start."""
    asked, threads = [], []
    steps = {k: (lambda k=k: threads.append(threading.current_thread().name) or k) for k in ("a", "b", "c")}
    after = {"b": ["a"], "c": ["b"]}

    def skip(key):
        asked.append((key, threading.current_thread() is threading.main_thread()))
        return key == "b"

    assert run_by_dependency(steps, after, 2, threading.Event(), skip) == ["a", None, "c"]
    assert asked == [("a", True), ("b", True), ("c", True)]
    assert len(threads) == 2 and all(name.startswith("parity-up") for name in threads)
