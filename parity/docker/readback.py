"""Read what a container really sees under given paths, through the engine, into the layout model.

``get_archive`` works on created, running and stopped containers alike and returns raw tar
metadata (numeric owners, symlinks as symlinks, file bytes to hash), so it is more faithful than
exec'ing ``find``/``stat`` in an image that may not have them (docker-semantics.md §6). Read-only
state is not in a tar: it comes from the container's ``Mounts[].RW``.
"""

from __future__ import annotations

import posixpath
import tarfile
from typing import Collection, Iterable, Iterator, Mapping

from ..layout import NOT_A_MOUNT, ContainerLayout, Entry, Mount
from .tarentries import tar_entries


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


def _archive_entries(container, path: str, **digest) -> Iterator[Entry]:
    """The entries of the engine's archive of ``path`` in ``container``, in archive order, absolute
    paths (``digest``: ``tar_entries``' own); none for a missing path."""
    import docker.errors

    try:
        chunks, _stat = container.get_archive(path)
    except docker.errors.NotFound:
        return
    base = posixpath.dirname(path.rstrip("/")) or "/"
    with tarfile.open(fileobj=_Stream(chunks), mode="r|") as tar:
        yield from tar_entries(tar, base, **digest)


def read_tree(container, path: str) -> list[Entry]:
    """Every entry at and below ``path`` in ``container`` (a docker-py Container), absolute paths.
    A missing path gives an empty list."""
    return list(_archive_entries(container, path))


def mount_flags(container, fresh: bool = False) -> dict[str, bool]:
    """Destination -> read-only, as the engine reports the container's mounts (``fresh``: the
    container's attributes were just read, by a list or an inspect: no second inspect)."""
    if not fresh:
        container.reload()
    return {m["Destination"]: not m.get("RW", True) for m in container.attrs.get("Mounts", [])}


def read_root(container, path: str) -> list[Entry]:
    """The entry at ``path`` itself (a writable volume's root: what the pod wrote below is not read)."""
    entries = _archive_entries(container, path, digest=lambda _member, _read: "")
    try:
        first = next(entries, None)  # the archive's first member is ``path`` itself
    finally:
        entries.close()
    return [first] if first is not None and first.path == path else []


def read_path(container, path: str, root: bool = False) -> list[Entry]:
    """What ``container`` shows at ``path``: every entry at and below it, or with ``root`` (a
    writable volume: what the pod wrote there is not compared, and a hostPath may be the host's
    whole tree) the directory itself only."""
    return read_root(container, path) if root else read_tree(container, path)


def container_layout(container, name: str, paths: list[str], init: bool = False,
                     fresh: bool = False, roots: Collection[str] = (),
                     trees: Mapping[str, list[Entry]] | None = None) -> ContainerLayout:
    """The layout ``container`` shows at ``paths`` (the mount points to compare), read through the
    engine (``fresh``: as for ``mount_flags``). At ``roots`` only the directory itself
    (``read_path``). ``trees``: what ``read_path`` gave for each path, when the caller read them
    already (side by side: ``liveproject.LiveProject.read``)."""
    flags = mount_flags(container, fresh)
    mounts, entries = [], {}
    for path in paths:
        read_only = flags.get(path)
        source = "engine" if read_only is not None else NOT_A_MOUNT
        mounts.append(Mount(path, "", bool(read_only), None, source))
        for e in (trees[path] if trees is not None else read_path(container, path, path in roots)):
            entries[e.path] = e
    return ContainerLayout(name, init, mounts, list(entries.values()))
