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
import signal
from pathlib import Path
from typing import Callable, Iterator

from .errors import ParityError, Problem

TEMP_MARK = ".parity-"  # temporary directories are named .NAME.parity-XXXXXXXX beside the output
OLD_MARK = ".old-"
#: Every directory parity writes holds this file: loaders never read such a directory as input
#: (``parity k8s-to-docker DIR`` writes ``DIR/parity-out/NAME``), and ``--force`` replaces only a
#: directory that holds it.
OUTPUT_MARK = ".parity-output"
OUTPUT_MARK_TEXT = ("Written by parity. It holds secret material; parity never reads what it wrote here as "
                    "input and replaces this directory only with --force. Written by parity:\n")
#: ...and this one, so that ``git add`` of a project never picks up the secrets.
GITIGNORE = ".gitignore"


def is_output_dir(path: str | Path) -> bool:
    """Whether ``path`` is a directory parity wrote (it holds ``OUTPUT_MARK``)."""
    return os.path.isfile(os.path.join(path, OUTPUT_MARK))


def output_parts(path: str | Path) -> set[str]:
    """The top-level names parity wrote in an output directory (listed in its marker after the first
    line): a loader given that directory skips them and reads what the user added beside them."""
    try:
        with open(os.path.join(path, OUTPUT_MARK), encoding="utf-8", errors="replace") as f:
            lines = f.read(1 << 16).splitlines()
    except OSError:
        return set()
    return {OUTPUT_MARK, *lines[1:]}


def inside(root: Path, rel: str) -> Path:
    """``root / rel``, asserting that it stays inside ``root``: the one check every generated path
    passes (names are validated before, so this is a last line, not the first).

    Raises:
        ParityError: ``rel`` is absolute, climbs with ``..``, or resolves outside ``root``.
    """
    path = root / rel
    parts = Path(rel).parts
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if (not parts or Path(rel).is_absolute() or ".." in parts
            or os.path.commonpath([real_root, real]) != real_root or real == real_root):
        raise ParityError(Problem(f"refusing to write {rel!r}: it is not inside the output directory", file=str(root)))
    return path


def _check_inputs(dest: Path, inputs: tuple[str, ...]) -> None:
    """No input may be the output directory or lie inside it (``--force`` would delete it)."""
    real = os.path.realpath(dest)
    for given in inputs:
        if given == "-":
            continue
        path = os.path.realpath(given)
        if path == real or os.path.commonpath([real, path]) == real:
            raise ParityError(Problem(f"holds the input {given}: parity never writes over its inputs; "
                                      "choose another -o", file=str(dest)))


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


def block_signals_in_this_thread() -> None:
    """SIGINT and SIGTERM never reach this (worker) thread: a thread pool's ``initializer``. The
    kernel gives a process's signal to any thread not blocking it; taken by a worker, it is still
    raised in the main thread, at its next bytecode, even inside ``signals_held`` (which blocks it in
    the main thread only): a second Ctrl-C then interrupted the wait for the started steps. Blocked
    in every worker, it waits, pending, for the main thread."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def write_atomically(dest: Path, build: Callable[[Path], None], force: bool = False,
                     inputs: tuple[str, ...] = ()) -> Path:
    """Build ``dest`` with ``build(tmp)`` and move it into place (the marker and a ``.gitignore`` of
    ``*`` are written first).

    Args:
        dest: the output directory.
        build: writes the content into the temporary directory it is given.
        force: replace an existing non-empty directory, if parity wrote it.
        inputs: the paths this run read (``-`` for stdin): none may be ``dest`` or inside it.

    Returns:
        ``dest``, absolute.

    Raises:
        ParityError: ``dest`` is (or holds) an input, is a file, or is a non-empty directory without
            ``force`` or not written by parity; or a write failed.
    """
    import tempfile  # here, as shutil below: every command that reads manifests imports this module

    dest = Path(os.path.abspath(dest))
    _check_inputs(dest, inputs)
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise ParityError(Problem("exists and is not a directory; refusing to overwrite it", file=str(dest)))
        if any(dest.iterdir()):
            if not force:
                raise ParityError(Problem("exists and is not empty; use --force to replace it", file=str(dest)))
            if not is_output_dir(dest):
                raise ParityError(Problem(f"exists, is not empty and was not written by parity (no {OUTPUT_MARK} in "
                                          "it); refusing to replace it, even with --force", file=str(dest)))
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
        write_file(tmp / OUTPUT_MARK, OUTPUT_MARK_TEXT, 0o644)
        write_file(tmp / GITIGNORE, "*\n", 0o644)
        build(tmp)
        with open(tmp / OUTPUT_MARK, "w", encoding="utf-8") as f:  # what parity wrote, for output_parts
            f.write(OUTPUT_MARK_TEXT + "".join(f"{name}\n" for name in sorted(os.listdir(tmp))))
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
    import shutil

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
