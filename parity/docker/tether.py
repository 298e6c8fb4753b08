"""Run a command (Compose) so that it never outlives parity, and can be stopped whole.

A compose command is a tree of processes: ``docker`` starts the ``docker-compose`` plugin, which
may start ``buildx``. Killing ``docker`` alone leaves the plugin creating containers for a run that
is gone; an older CLI does not tell its plugin it died. So each command runs under a small guard,
in a process group of its own: the guard asks the kernel for a signal when parity dies (Linux
``PR_SET_PDEATHSIG``: it comes even when parity is SIGKILLed) and kills the whole group; parity
kills the group itself on a timeout, Ctrl-C or SIGTERM. Elsewhere than Linux there is no such
signal: a SIGKILLed parity leaves the command to finish, and the next run removes what it made.

This file is also the guard: ``python tether.py PARENT_PID COMMAND...`` (run by path, so that it
imports nothing of parity's).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
GRACE = 10  # seconds to collect the output of a group just killed


class Tethered:
    """A command started tethered to this process (``start``), to wait for or stop."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None):
        self.argv = argv
        self.started = time.monotonic()
        #: what it printed (stdout, then stderr), once it has ended or been stopped (None: not known)
        self.output: str | None = None
        # The guard runs without ``site`` (-S: it imports only the standard library; 7-10 ms less before
        # the command starts, the editable install's finder not loaded) and isolated (-I: no PYTHON*
        # variable, no user site, not its own directory first on sys.path, which holds parity's modules).
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", os.path.abspath(__file__), str(os.getpid()), *argv],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env,
                                     start_new_session=True)  # its own group: killed whole, and no terminal Ctrl-C

    def wait(self, timeout: float) -> subprocess.CompletedProcess:
        """The finished command: return code, stdout, stderr.

        Args:
            timeout: seconds it may take, counted from its start.

        Raises:
            subprocess.TimeoutExpired: it did not finish in time; the whole command is killed first.
        """
        try:
            out, err = self.proc.communicate(timeout=max(0.0, timeout - (time.monotonic() - self.started)))
        except BaseException:  # the timeout, Ctrl-C, SIGTERM: nothing of the command survives
            self.output = _kill_group(self.proc)
            raise
        self.output = out + err
        return subprocess.CompletedProcess(self.argv, self.proc.returncode, out, err)

    def stop(self) -> None:
        """Kill the whole command, unless it has ended (its group's id may be another's by now), and
        collect it (``output``)."""
        if self.proc.returncode is None:
            self.output = _kill_group(self.proc)


def start(argv: list[str], env: dict[str, str] | None = None) -> Tethered:
    """``argv`` started now, output captured as text, tethered to this process.

    Args:
        argv: the command.
        env: its environment (None: this process's).
    """
    return Tethered(argv, env)


def run(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``argv`` to completion, output captured as text, tethered to this process.

    Args:
        argv: the command.
        timeout: seconds it may take.
        env: its environment (None: this process's).

    Returns:
        The finished command: return code, stdout, stderr.

    Raises:
        subprocess.TimeoutExpired: it did not finish in time; the whole command is killed first.
    """
    return start(argv, env).wait(timeout)


def _kill_group(proc: subprocess.Popen) -> str | None:
    """Kill ``proc``'s whole group and collect it; returns all it printed (None: not known)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        out, err = proc.communicate(timeout=GRACE)  # (with what an interrupted communicate had read)
        return (out or "") + (err or "")
    except subprocess.TimeoutExpired:  # something left the group and holds the pipes: stop reading
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        proc.wait()
        return None


def _die_with_parent(signum: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        pass


def _guard(parent: int, argv: list[str]) -> int:
    def stop(signum, frame):
        os.killpg(0, signal.SIGKILL)  # the command's whole tree, and this guard

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop)
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # parity died before the kernel was asked
        return 137
    rc = subprocess.call(argv)
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(_guard(int(sys.argv[1]), sys.argv[2:]))
