"""A build context as the builder receives it, read within bounds.

- ``.dockerignore`` at the context root leaves paths out, with the Docker SDK's matcher (a port of
  moby's ``fileutils.PatternMatcher``); the Dockerfile itself is left out too when a pattern
  matches it (BuildKit sends the Dockerfile apart; the legacy builder re-adds it).
- a source path is resolved inside the context: ``..`` stops at its root and a symlink is followed
  as if the context root were ``/`` (moby ``symlink.FollowSymlinkInScope``); nothing outside the
  context is ever opened.
- every read is bounded before it starts: a file's size comes from ``fstat`` (a tar member's from
  its header) and is charged to a per-image ``Budget``; bytes are hashed in chunks, never held whole;
  archives are decompressed in chunks, each decompressed byte charged. Past the budget, the image
  is unknown with the reason (``Unreadable``).
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import os
import posixpath
import stat
import tarfile
import zlib
from dataclasses import dataclass

from ..layout import MAX_SYMLINK_HOPS, Entry
from ..safefile import FileRefused, open_beneath, read_file
from .dockerfile import Unreadable
from .tarentries import tar_entries

MAX_CONTEXT_BYTES = 256 * 1024 * 1024  # bytes read, decompressed or hashed for one image
MAX_CONTEXT_ENTRIES = 100_000  # files, directories and tar members for one image
CHUNK = 1024 * 1024
MAX_TEXT_BYTES = 1024 * 1024  # a Dockerfile or .dockerignore: more is no file anyone writes by hand


@dataclass
class Budget:
    """What one image's analysis may still read (bytes) and list (entries)."""

    bytes: int = MAX_CONTEXT_BYTES
    entries: int = MAX_CONTEXT_ENTRIES

    def spend(self, size: int, what: str) -> None:
        if size > self.bytes:
            raise Unreadable(f"{what}: reading it would pass the bound of {MAX_CONTEXT_BYTES // (1024 * 1024)} MiB "
                             "read for one image (static analysis stops there; use --live)")
        self.bytes -= size

    def entry(self, what: str) -> None:
        if self.entries <= 0:
            raise Unreadable(f"{what}: more than {MAX_CONTEXT_ENTRIES:,} files for one image (static analysis "
                             "stops there; use --live)")
        self.entries -= 1


def digest_stream(read, size: int, budget: Budget, what: str, charge: bool = True) -> str:
    """sha256 of the next ``size`` bytes of ``read`` (a read(n) function), checked against ``budget``
    first, and charged to it unless the caller charges the bytes as it reads them."""
    if charge:
        budget.spend(size, what)
    elif size > budget.bytes:
        budget.spend(size, what)  # raises: the header announces more than is left
    h, left = hashlib.sha256(), size
    while left > 0:
        chunk = read(min(CHUNK, left))
        if not chunk:
            break
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest()


def file_digest(path: str, budget: Budget, what: str) -> tuple[os.stat_result, str]:
    """(fstat, sha256) of the regular file at ``path``: opened without following a final symlink or
    blocking on a FIFO; its type and size checked on the open descriptor before reading."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        return fd_digest(fd, budget, what)
    finally:
        os.close(fd)


def fd_digest(fd: int, budget: Budget, what: str) -> tuple[os.stat_result, str]:
    """(fstat, sha256) of the open ``fd``: a regular file, its size charged before reading."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(f"{what} is not a regular file")
    return st, digest_stream(lambda n: os.read(fd, n), st.st_size, budget, what)


class Context:
    """One build context directory: what is in it (after ``.dockerignore``) and where its paths lead."""

    def __init__(self, root: str, dockerfile: str | None):
        self.root = os.path.realpath(root)
        self._matcher = None
        ignore = os.path.join(self.root, ".dockerignore")
        if dockerfile and os.path.lexists(os.path.join(self.root, dockerfile + ".dockerignore")):
            raise Unreadable(f"{dockerfile}.dockerignore: newer builders read it instead of .dockerignore, "
                             "older ones do not")
        if os.path.lexists(ignore):
            text = read_text(ignore)
            patterns = [ln.strip() for ln in text.splitlines()]
            patterns = [p for p in patterns if p and not p.startswith("#")]
            if any(p.lstrip("!/").startswith(".dockerignore") for p in patterns):
                raise Unreadable(".dockerignore names itself: builders differ on whether it is then sent")
            if patterns:
                from docker.utils.build import PatternMatcher  # imported only when a context has one

                self._matcher = PatternMatcher(patterns)

    def included(self, rel: str) -> bool:
        """Whether ``rel`` (relative to the root, no leading slash) is sent to the builder."""
        return not rel or self._matcher is None or not self._matcher.matches(rel)

    def resolve(self, rel: str) -> str | None:
        """The context-relative path ``rel`` leads to, symlinks followed within the context; None if
        nothing is there (or it is ignored)."""
        todo = [p for p in rel.split("/") if p and p != "."]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            here = os.path.join(self.root, *done, part)
            try:
                st = os.lstat(here)
            except OSError:
                return None
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    raise Unreadable(f"{rel}: too many levels of symlinks in the build context")
                target = os.readlink(here)
                if target.startswith("/"):
                    done = []
                todo = [p for p in target.split("/") if p and p != "."] + todo
                continue
            done.append(part)
        out = "/".join(done)
        return out if self.included(out) else None

    def glob(self, pattern: str) -> list[str]:
        """Context-relative paths matching ``pattern`` component by component (Go ``filepath.Match``:
        ``*`` and ``?`` match a leading dot too), sorted."""
        if "[" in pattern:
            raise Unreadable(f"source {pattern!r}: character classes in COPY sources are not read statically")
        import fnmatch

        found = [""]
        for part in [p for p in pattern.split("/") if p and p != "."]:
            nxt = []
            for base in found:
                real = self.resolve(base) if base else ""
                if real is None or not os.path.isdir(os.path.join(self.root, real)):
                    continue
                names = sorted(os.listdir(os.path.join(self.root, real)))
                for name in names:
                    if part == ".." or fnmatch.fnmatchcase(name, part):
                        nxt.append(f"{base}/{name}".lstrip("/"))
            found = nxt
        return [f for f in found if self.included(f)]

    def digest(self, rel: str, budget: Budget, what: str) -> tuple[os.stat_result, str]:
        """(fstat, sha256) of the regular file at context-relative ``rel`` (a path ``resolve`` gave),
        opened step by step beneath the context root (``safefile.open_beneath``): a directory swapped
        for a symlink after ``resolve`` cannot lead the read out of the context."""
        fd = self.open(rel, what)
        try:
            return fd_digest(fd, budget, what)
        finally:
            os.close(fd)

    def open(self, rel: str, what: str) -> int:
        """A descriptor (the caller closes it) of context-relative ``rel``, opened beneath the root."""
        root = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return open_beneath(root, rel)
        except FileRefused as exc:
            raise Unreadable(f"{what}: {exc.reason}") from None
        finally:
            os.close(root)

    def host(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def tree(self, rel: str, budget: Budget) -> list[tuple[str, os.stat_result]]:
        """(path below ``rel``, lstat) of everything under the directory ``rel`` that is sent, parents
        first; a directory left out by a pattern is kept when something under it is re-included."""
        out: list[tuple[str, os.stat_result]] = []

        def walk(sub: str) -> bool:
            kept = False
            for name in sorted(os.listdir(self.host(f"{rel}/{sub}".strip("/")))):
                inner = f"{sub}/{name}".lstrip("/")
                full = f"{rel}/{inner}".strip("/")
                budget.entry(full)
                st = os.lstat(self.host(full))
                at = len(out)
                if stat.S_ISDIR(st.st_mode):
                    out.append((inner, st))
                    if not walk(inner) and not self.included(full):
                        del out[at:]
                        continue
                elif self.included(full):
                    out.append((inner, st))
                else:
                    continue
                kept = True
            return kept

        walk("")
        return out


def read_text(path: str, limit: int = MAX_TEXT_BYTES) -> str:
    """A Dockerfile or ``.dockerignore``: read with the shared bounded reader (``safefile``).

    Raises:
        Unreadable: not a regular file, over ``limit``, or unreadable (the reason, no content).
    """
    try:
        return read_file(path, limit).decode("utf-8", errors="replace")
    except FileRefused as exc:
        raise Unreadable(f"{path}: {exc.reason}") from None


# ---------------------------------------------------------------------------------------------
# Archives ADD extracts (moby pkg/archive DetectCompression; BuildKit then checks for a tar header)

_MAGIC = [(b"\x1f\x8b\x08", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd")]


class _Decompressed:
    """A read(n) over a file's decompressed bytes, decompressed in chunks and charged to a budget,
    so that a small archive that expands without end (a bomb) stops at the bound."""

    def __init__(self, fd: int, kind: str, budget: Budget, what: str):
        self._fd, self._kind, self._budget, self._what = fd, kind, budget, what
        self._d = self._new()
        self._buf = b""
        self._pending = b""
        self._eof = False

    def _new(self):
        if self._kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._kind == "bzip2":
            return bz2.BZ2Decompressor()
        if self._kind == "xz":
            return lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=64 * 1024 * 1024)
        return None

    def _more(self) -> bytes:
        if self._d is None:
            return os.read(self._fd, CHUNK)
        while True:
            try:
                if self._kind == "gzip":
                    if not self._pending:
                        self._pending = os.read(self._fd, CHUNK)
                        if not self._pending:
                            return b""
                    out = self._d.decompress(self._pending, CHUNK)
                    self._pending = self._d.unconsumed_tail
                else:
                    data = b""
                    if self._d.needs_input:
                        data, self._pending = self._pending or os.read(self._fd, CHUNK), b""
                        if not data:
                            return b""
                    out = self._d.decompress(data, CHUNK)
            except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
                raise Unreadable(f"{self._what}: damaged {self._kind} data ({exc})") from None
            if self._d.eof:  # a concatenated stream starts again (Go's readers do the same)
                rest = self._d.unused_data
                self._d = self._new()
                self._pending = rest + self._pending
            if out:
                return out

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            raise Unreadable(f"{self._what}: unbounded read")  # tarfile never asks for one in stream mode
        while len(self._buf) < n and not self._eof:
            chunk = self._more()
            if not chunk:
                self._eof = True
                break
            self._budget.spend(len(chunk), self._what)
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def archive_kind(fd: int, what: str) -> str | None:
    """The compression of the tar open as ``fd`` ("gzip", "bzip2", "xz", "" for a plain tar), or None
    when ADD copies it as a plain file. zstd is read as unknown (builders differ)."""
    head = b""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        head = os.read(fd, 8)
        kind = next((k for magic, k in _MAGIC if head.startswith(magic)), "")
        if kind == "zstd":
            raise Unreadable(f"{what}: zstd archive: builders differ on extracting it")
        stream = _Decompressed(fd, kind, Budget(bytes=1024 * 1024), what)
        os.lseek(fd, 0, os.SEEK_SET)
        block = stream.read(tarfile.BLOCKSIZE)
        try:
            tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError:
            return None
        return kind
    except Unreadable:
        if head.startswith(b"\x28\xb5\x2f\xfd"):
            raise
        return None


class _Checked:
    """A tar's members, each refused before it is read when the builder would refuse it."""

    def __init__(self, tar: tarfile.TarFile, dest: str, budget: Budget, what: str):
        self.tar, self.dest, self.budget, self.what = tar, dest, budget, what

    def extractfile(self, member: tarfile.TarInfo):
        return self.tar.extractfile(member)

    def __iter__(self):
        for member in self.tar:
            self.budget.entry(self.what)
            clean = posixpath.normpath(member.name)  # as moby's Untar: Clean, then Join
            if clean == ".." or clean.startswith("../"):
                raise Unreadable(f"{self.what}: member {member.name!r} would land outside {self.dest}")
            if not (member.isdir() or member.issym() or member.isfile() or member.islnk()):
                raise Unreadable(f"{self.what}: member {member.name!r} is a device or FIFO")
            if member.islnk() and not member.linkname:
                raise Unreadable(f"{self.what}: hard link {member.name!r} without a target")
            member.name = clean.lstrip("/") or "."
            yield member


def archive_entries(fd: int, kind: str, dest: str, budget: Budget, what: str) -> list[Entry]:
    """The entries ADD extracts from the tar open as ``fd`` into ``dest``: owners and modes from the
    headers, hard links as their target's file, the archive's own root entry (``./``) not applied
    to ``dest`` (measured: BuildKit keeps the 0755 it creates).

    Raises:
        Unreadable: a member that would land outside ``dest`` (the builder refuses the archive), a
            device or FIFO member, damaged data, or the budget spent.
    """
    os.lseek(fd, 0, os.SEEK_SET)
    out: dict[str, Entry] = {}

    def digest(member: tarfile.TarInfo, read) -> str:
        # The header's size is checked before reading. A plain member's bytes are charged as they are
        # decompressed; a sparse member's holes are not in the stream, so its whole size is charged.
        return digest_stream(read, member.size, budget, f"{what}: {member.name}", charge=member.issparse())

    try:
        stream = _Decompressed(fd, kind, budget, what)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for entry in tar_entries(_Checked(tar, dest, budget, what), dest, digest):
                if entry.path != dest:  # the archive's ./ does not change the destination
                    out[entry.path] = entry
    except (tarfile.TarError, EOFError) as exc:  # a truncated archive is one the builder refuses too
        raise Unreadable(f"{what}: not a readable tar ({exc})") from None
    return list(out.values())
