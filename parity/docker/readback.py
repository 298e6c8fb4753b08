"""Read what a container really sees under given paths, through the engine, into the layout model.

``get_archive`` works on created, running and stopped containers alike and returns raw tar
metadata (numeric owners, symlinks as symlinks, file bytes to hash), so it is more faithful than
exec'ing ``find``/``stat`` in an image that may not have them (docker-semantics.md §6). Read-only
state is not in a tar: it comes from the container's ``Mounts[].RW``.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from typing import Iterable

from ..layout import DIR, FILE, NOT_A_MOUNT, SYMLINK, ContainerLayout, Entry, Mount


class _Stream:
    """A file-like view over docker-py's chunk iterator, for ``tarfile`` in stream mode."""

    def __init__(self, chunks: Iterable[bytes]):
        self._it = iter(chunks)
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def read_tree(container, path: str) -> list[Entry]:
    """Every entry at and below ``path`` in ``container`` (a docker-py Container), absolute paths.
    A missing path gives an empty list."""
    import docker.errors

    try:
        chunks, _stat = container.get_archive(path)
    except docker.errors.NotFound:
        return []
    base = posixpath.dirname(path.rstrip("/")) or "/"
    entries: list[Entry] = []
    with tarfile.open(fileobj=_Stream(chunks), mode="r|") as tar:
        for member in tar:
            full = posixpath.normpath(posixpath.join(base, member.name))
            mode = member.mode & 0o7777
            if member.isdir():
                entries.append(Entry(full, DIR, mode, member.uid, member.gid))
            elif member.issym():
                entries.append(Entry(full, SYMLINK, 0o777, member.uid, member.gid, target=member.linkname))
            elif member.isfile():
                f = tar.extractfile(member)
                data = f.read() if f else b""
                entries.append(Entry(full, FILE, mode, member.uid, member.gid, len(data),
                                     hashlib.sha256(data).hexdigest()))
            elif member.islnk():  # a hard link inside the archive: same file again
                entries.append(Entry(full, FILE, mode, member.uid, member.gid))
    return entries


def mount_flags(container) -> dict[str, bool]:
    """Destination -> read-only, as the engine reports the container's mounts."""
    container.reload()
    return {m["Destination"]: not m.get("RW", True) for m in container.attrs.get("Mounts", [])}


def container_layout(container, name: str, paths: list[str], init: bool = False) -> ContainerLayout:
    """The layout ``container`` shows at ``paths`` (the mount points to compare), read through the engine."""
    flags = mount_flags(container)
    mounts, entries = [], {}
    for path in paths:
        read_only = flags.get(path)
        source = "engine" if read_only is not None else NOT_A_MOUNT
        mounts.append(Mount(path, "", bool(read_only), None, source))
        for e in read_tree(container, path):
            entries[e.path] = e
    return ContainerLayout(name, init, mounts, list(entries.values()))
