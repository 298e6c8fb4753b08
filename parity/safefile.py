"""Reading files parity is given (manifests, compose and env files, ``--secrets`` directories,
build contexts) without letting the file decide what is read or how much.

Every read here:
- opens the file once and reads through that descriptor, so a name swapped for a symlink or another
  file between a check and the read cannot change what is read (``fstat`` of the open file decides);
- refuses what is not a regular file (a FIFO would block the run for ever, a device never ends),
  opening with ``O_NONBLOCK`` so that even the open of a FIFO returns;
- refuses a file by the size ``fstat`` reports before reading a byte (a 2 GiB sparse file costs
  nothing to make), and reads at most ``limit + 1`` bytes in case it grows meanwhile.

``read_beneath`` also keeps a read inside one directory: each step of the path is opened from the
directory's descriptor with ``O_NOFOLLOW``, so no symlink swapped in on the way can lead out of it.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

MAX_INPUT_BYTES = 64 * 1024 * 1024  # a manifest, compose or env file: far past any real one

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class FileRefused(Exception):
    """A file parity will not read; ``reason`` is one line fit for ``Problem`` (no content quoted).

    ``size`` is set when the file was refused for its size alone (from ``fstat``, nothing read)."""

    def __init__(self, reason: str, size: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.size = size


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symlink")):
        if test(mode):
            return name
    return "not a regular file"


def cannot_read(exc: OSError) -> str:
    """The one line for a file that cannot be read (a symlink loop said as such)."""
    if exc.errno == errno.ELOOP:
        return "cannot read: a symlink loop (too many levels of symbolic links)"
    return f"cannot read: {exc.strerror or exc}"


def read_fd(fd: int, limit: int) -> bytes:
    """The whole content of the open file ``fd`` (which the caller closes), if it is a regular file of
    at most ``limit`` bytes.

    Raises:
        FileRefused: not a regular file, or larger than ``limit`` (by fstat, or grown while read).
    """
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"not a regular file ({_kind(st.st_mode)}); parity reads regular files only")
    if st.st_size > limit:
        raise FileRefused(f"file is {st.st_size} bytes; parity reads at most {limit}", size=st.st_size)
    chunks, total = [], 0
    while total <= limit:
        try:
            chunk = os.read(fd, min(limit + 1 - total, 1 << 20))
        except OSError as exc:
            raise FileRefused(cannot_read(exc)) from None
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise FileRefused(f"file grew past {limit} bytes while read; parity reads at most {limit}", size=total)
    return b"".join(chunks)


def read_file(path: str, limit: int = MAX_INPUT_BYTES, *, follow_symlinks: bool = True) -> bytes:
    """A regular file's content, read through one descriptor with its size checked first.

    Args:
        path: the file (a symlink to a regular file is followed unless ``follow_symlinks`` is False).
        limit: the most bytes accepted.
        follow_symlinks: False opens with ``O_NOFOLLOW``: a symlink is refused.

    Returns:
        The bytes.

    Raises:
        FileRefused: missing, unreadable, a symlink loop, not a regular file, or over ``limit``.
    """
    flags = _OPEN_FLAGS | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks and os.path.islink(path):
            raise FileRefused("is a symlink; refusing to follow it") from None
        raise FileRefused(cannot_read(exc)) from None
    try:
        return read_fd(fd, limit)
    finally:
        os.close(fd)


def read_stream(stream: BinaryIO, limit: int = MAX_INPUT_BYTES) -> bytes:
    """At most ``limit`` bytes of a stream (stdin); ``FileRefused`` when it holds more."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(f"input is over {limit} bytes; parity reads at most {limit}")
    return data


def open_beneath(dir_fd: int, relpath: str) -> int:
    """A descriptor (the caller closes it) of the file at ``relpath`` under the directory open as
    ``dir_fd``, every step opened with ``O_NOFOLLOW`` and the last without blocking on a FIFO: the
    open cannot leave that directory, whatever is renamed or swapped for a symlink meanwhile.

    Raises:
        FileRefused: the path has ``..``, or a step is (now) a symlink or missing.
    """
    parts = [p for p in relpath.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise FileRefused("path leaves the directory; refusing to read it")
    fds: list[int] = []
    try:
        current = dir_fd
        for part in parts[:-1]:
            current = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=current)
            fds.append(current)
        return os.open(parts[-1], _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=current)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise FileRefused("changed to a symlink while read; refusing to follow it") from None
        raise FileRefused(cannot_read(exc)) from None
    finally:
        for fd in fds:
            os.close(fd)


def read_beneath(dir_fd: int, relpath: str, limit: int) -> bytes:
    """A regular file under the directory open as ``dir_fd``, opened by ``open_beneath``: the read
    cannot leave that directory, whatever is renamed or swapped for a symlink meanwhile.

    Args:
        dir_fd: an open directory.
        relpath: a relative path without ``..`` (e.g. from ``os.path.relpath`` of a resolved path).
        limit: the most bytes accepted.

    Raises:
        FileRefused: a step is (now) a symlink or missing, the file is not regular or over ``limit``.
    """
    fd = open_beneath(dir_fd, relpath)
    try:
        return read_fd(fd, limit)
    finally:
        os.close(fd)
