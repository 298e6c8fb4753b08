"""``parity up``'s state directory: where it is, the lock that serialises runs on one workload, and
reading its files without trusting them.

The state root (``PARITY_STATE_DIR``, else ``$XDG_STATE_HOME/parity``) holds, per workload project:

- ``PROJECT/``: the generated setup (owner-only: it holds secret files), written by ``up``, removed
  by ``down``;
- ``PROJECT.lock``: ``up`` and ``down`` hold an exclusive ``flock`` on it while they work, ``status``
  a shared one while it reads the stored layout; a second run fails at once with one line rather
  than racing the first (two ``up``s interleaving made unlabelled volumes and reported containers
  that were gone). While an ``up`` runs the file holds its *journal*: its owner ``HOST:PID`` and
  whether it made the state directory; the run clears it when it ends, whether it succeeded or
  rolled back. A journal found by the next run is a killed run's (SIGKILL: nothing ran): that
  next run removes the killed run's objects, found by their ``io.parity.up-owner`` label.

The files are read with ``O_NOFOLLOW`` and a size bound, and only parsed, never used as paths: a
tampered or planted file gives one line, never a read or write outside the state root.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ParityError
from .safefile import FileRefused, read_file

STATE_FILE = "state.json"
LAYOUT_FILE = "layout.json"
LOCK_SUFFIX = ".lock"
MAX_STATE_BYTES = 64 * 1024  # state.json and the lock's journal: a digest, a name, an owner
MAX_LAYOUT_BYTES = 256 * 1024 * 1024  # layout.json: the predicted layout (10k volumes fit)


def state_root() -> Path:
    if os.environ.get("PARITY_STATE_DIR"):
        return Path(os.environ["PARITY_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "parity"


def remove_state_dir(path: Path) -> None:
    """Remove a state directory; a symlink planted in its place goes, never what it points to."""
    if os.path.islink(path):
        with contextlib.suppress(OSError):
            os.unlink(path)
    else:
        shutil.rmtree(path, ignore_errors=True)


def read_state_file(path: Path, limit: int) -> bytes:
    """A file of the state directory, read whole if it is a regular file (never a symlink) of at most
    ``limit`` bytes (``safefile.read_file``: one descriptor, size checked before reading).

    Args:
        path: the file.
        limit: the largest size accepted.

    Returns:
        The bytes.

    Raises:
        FileNotFoundError: there is no such file.
        ParityError: it is a symlink, not a regular file, or larger than ``limit``.
    """
    if not os.path.lexists(path):
        raise FileNotFoundError(str(path))
    try:
        return read_file(str(path), limit, follow_symlinks=False)
    except FileRefused as exc:
        raise ParityError(f"{path}: {exc.reason} (parity never writes such a file there); remove it, or "
                          "the state directory, and run parity again") from None


def read_state_json(path: Path, limit: int) -> dict:
    """``read_state_file`` parsed as a JSON object.

    Raises:
        FileNotFoundError: there is no such file.
        ParityError: not a regular file, too large, not JSON or not an object.
    """
    data = read_state_file(path, limit)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise ParityError(f"{path}: is not valid JSON (it was changed outside parity); remove the state "
                          "directory (parity down) and run parity up again") from None
    if not isinstance(doc, dict):
        raise ParityError(f"{path}: is not a JSON object (it was changed outside parity); remove the state "
                          "directory (parity down) and run parity up again")
    return doc


def is_real_dir(path: Path) -> bool:
    """Whether ``path`` is a directory itself (not a symlink to one)."""
    try:
        return os.path.isdir(path) and not os.path.islink(path)
    except OSError:
        return False


@dataclass
class ProjectLock:
    """The held lock of one workload project (see the module docstring)."""

    path: Path
    fd: int
    workload: str

    def journal(self) -> dict | None:
        """What the last holder left in the lock file: a killed ``up``'s journal, or None."""
        os.lseek(self.fd, 0, os.SEEK_SET)
        data = os.read(self.fd, MAX_STATE_BYTES + 1)
        if not data:
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            return None  # not something parity wrote: nothing to recover from it
        return doc if isinstance(doc, dict) and isinstance(doc.get("owner"), str) else None

    def write_journal(self, doc: dict | None) -> None:
        """Replace the journal (None: clear it)."""
        os.ftruncate(self.fd, 0)
        if doc is not None:
            os.pwrite(self.fd, json.dumps(doc).encode(), 0)

    def unlink(self) -> None:
        """Remove the lock file while holding it (a run that waits on it then retries on a new file)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _holder(fd: int, workload: str) -> str:
    """Which run holds the lock, as its journal says: ``parity up on KIND/NAME is running (pid N)``."""
    try:
        doc = json.loads(os.pread(fd, MAX_STATE_BYTES, 0) or b"null")
        command, pid = str(doc["command"]), int(doc["owner"].rpartition(":")[2])
        return f"parity {command} on {workload} is running (pid {pid})"
    except (ValueError, TypeError, KeyError, AttributeError, OSError):
        return f"parity command on {workload} is running"


@contextlib.contextmanager
def project_lock(project: str, workload: str, shared: bool = False, create: bool = True
                 ) -> Iterator[ProjectLock | None]:
    """Hold the project's lock for the block: exclusive (``up``, ``down``) or shared (``status``).

    Args:
        project: the workload's project name (the state directory's name).
        workload: ``KIND/NAME``, for the message.
        shared: take a shared lock.
        create: make the state root and the lock file when missing; otherwise a missing lock file
            means no run holds it, and the block runs with None.

    Yields:
        The held lock, or None (``create`` false and no lock file).

    Raises:
        ParityError: another run holds the lock, or the lock file cannot be made or opened.
    """
    root = state_root()
    path = root / f"{project}{LOCK_SUFFIX}"
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    while True:
        try:
            if create:
                root.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            if create:
                continue  # the root went away between mkdir and open
            yield None
            return
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ParityError(f"{path}: is a symbolic link, which parity never makes; remove it") from None
            raise ParityError(f"{path}: cannot open the lock file: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            message = _holder(fd, workload)
            os.close(fd)
            raise ParityError(f"another {message}; wait for it to end and run parity again") from None
        # The holder before us may have removed the file after we opened it: then lock the new one.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield ProjectLock(path, fd, workload)
    finally:
        os.close(fd)
