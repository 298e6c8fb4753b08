"""Write an output directory atomically: build it in a temporary sibling, then rename it into place.

Nothing is half-written: on any failure (or Ctrl-C, or SIGTERM) the temporary directory, which may
hold secret material, is removed, as are parent directories this call created. An existing
non-empty directory is replaced only with ``force``; an existing file is never touched. The swap
that replaces an existing directory, and the clean-up, run with SIGINT and SIGTERM held back, so a
signal can neither leave the old directory parked under a temporary name nor interrupt a removal:
it is delivered as soon as they are done.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from .errors import ParityError, Problem

TEMP_MARK = ".parity-"  # temporary directories are named .NAME.parity-XXXXXXXX beside the output
OLD_MARK = ".old-"


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (they stay pending) until the block ends."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_atomically(dest: Path, build: Callable[[Path], None], force: bool = False) -> Path:
    dest = Path(os.path.abspath(dest))
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise ParityError(Problem("exists and is not a directory; refusing to overwrite it", file=str(dest)))
        if any(dest.iterdir()) and not force:
            raise ParityError(Problem("exists and is not empty; use --force to replace it", file=str(dest)))
    created: list[Path] = []
    parent = dest.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    tmp: Path | None = None
    old: Path | None = None
    committed = False
    try:
        for d in reversed(created):
            d.mkdir()
        with signals_held():  # no window where the directory exists and ``tmp`` does not name it
            tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}{TEMP_MARK}", dir=dest.parent))  # mode 0700
        build(tmp)
        with signals_held():
            if dest.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{dest.name}{OLD_MARK}", dir=dest.parent))
                os.rename(dest, old / "x")
            os.rename(tmp, dest)
            tmp = None
            committed = True
        return dest
    except OSError as exc:
        raise ParityError(Problem(f"cannot write: {exc.strerror or exc}", file=str(dest))) from None
    finally:
        with signals_held():
            _clean_up(dest, tmp, old, created, committed)


def _clean_up(dest: Path, tmp: Path | None, old: Path | None, created: list[Path], committed: bool) -> None:
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        if not committed and not os.path.lexists(dest) and os.path.lexists(old / "x"):
            try:
                os.rename(old / "x", dest)  # the replacement failed: the previous output stays
            except OSError:
                pass
        shutil.rmtree(old, ignore_errors=True)
    if not committed:
        for d in created:  # deepest first; rmdir removes only what is (still) empty
            try:
                d.rmdir()
            except OSError:
                pass


def write_file(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Create ``path`` with ``mode`` from the start (no window where it is more open)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
