"""Tar members as layout entries: the one place that knows how Docker's tars carry files.

Used for archives the engine streams (``get_archive``) and for tars in build contexts (``ADD``):
the mode field carries type bits (mask with 0o7777), owners are numeric (names are the host's and
ignored), symlinks keep their exact target.
"""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from typing import Iterator

from ..layout import DIR, FILE, SYMLINK, Entry


def tar_entries(tar: tarfile.TarFile, base: str) -> Iterator[Entry]:
    """The entry at ``base``/member name of every member, in archive order (files with their digest)."""
    for member in tar:
        path = posixpath.normpath(posixpath.join(base, member.name))
        mode = member.mode & 0o7777
        if member.isdir():
            yield Entry(path, DIR, mode, member.uid, member.gid)
        elif member.issym():
            yield Entry(path, SYMLINK, 0o777, member.uid, member.gid, target=member.linkname)
        elif member.isfile():
            f = tar.extractfile(member)
            data = f.read() if f else b""
            yield Entry(path, FILE, mode, member.uid, member.gid, len(data), hashlib.sha256(data).hexdigest())
        elif member.islnk():  # a hard link inside the archive: the same file again, bytes elsewhere
            yield Entry(path, FILE, mode, member.uid, member.gid)
