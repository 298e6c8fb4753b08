"""Tar members as layout entries: the one place that knows how Docker's tars carry files.

Used for archives the engine streams (``get_archive``) and for tars in build contexts (``ADD``):
the mode field carries type bits (mask with 0o7777), owners are numeric (names are the host's and
ignored), symlinks keep their exact target, a hard link is its target's file again (size and digest),
and file bytes are hashed in chunks, never held whole.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from typing import Callable, Iterator

from ..layout import DIR, FILE, SYMLINK, Entry

CHUNK = 1024 * 1024


def _sha256(member: tarfile.TarInfo, read: Callable[[int], bytes]) -> str:
    h = hashlib.sha256()
    while chunk := read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def tar_entries(tar: tarfile.TarFile, base: str,
                digest: Callable[[tarfile.TarInfo, Callable[[int], bytes]], str] = _sha256) -> Iterator[Entry]:
    """The entry at ``base``/member name of every member, in archive order (files with their digest,
    computed by ``digest(member, read)``; a caller bounds what it reads there)."""
    files: dict[str, Entry] = {}
    for member in tar:
        path = posixpath.normpath(posixpath.join(base, member.name))
        mode = member.mode & 0o7777
        if member.isdir():
            yield Entry(path, DIR, mode, member.uid, member.gid)
        elif member.issym():
            yield Entry(path, SYMLINK, 0o777, member.uid, member.gid, target=member.linkname)
        elif member.isfile():
            f = tar.extractfile(member)
            sha = digest(member, f.read) if f else hashlib.sha256().hexdigest()
            files[path] = Entry(path, FILE, mode, member.uid, member.gid, member.size, sha)
            yield files[path]
        elif member.islnk():  # a hard link inside the archive: the same file again, bytes earlier in it
            target = files.get(posixpath.normpath(posixpath.join(base, member.linkname)))
            yield target.moved(path) if target else Entry(path, FILE, mode, member.uid, member.gid)
