"""What files an image built from a local context holds, without building it.

Follows the legacy builder's rules measured in docker-semantics.md §1: ``COPY`` keeps the context's
modes but makes owners 0:0 (``--chown`` sets them, on created parent directories too); directories
``COPY`` creates are 0755; copying ``dir/`` does not carry the source directory's mode; a source that
is itself a symlink is followed, symlinks inside a copied directory stay symlinks; ``ADD`` of a local
tar extracts it as it is. The base image is assumed to hold nothing at the paths compared (secret
mount points); anything that cannot be known statically (``RUN``, multi-stage copies, remote
``ADD``, named owners, variables in paths) makes the image ``unknown``, with the reason.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import DIR, FILE, SYMLINK, Entry
from .tarentries import tar_entries


@dataclass
class ImageFiles:
    entries: dict[str, Entry] = field(default_factory=dict)  # absolute path -> entry
    volumes: list[str] = field(default_factory=list)
    unknown: str | None = None

    def subtree(self, path: str) -> list[Entry]:
        prefix = path.rstrip("/") + "/"
        return [e for p, e in self.entries.items() if p == path or p.startswith(prefix)]

    def _mkdirs(self, path: str, uid: int = 0, gid: int = 0) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in self.entries:
                self.entries[d] = Entry(d, DIR, 0o755, uid, gid)

    def put(self, entry: Entry) -> None:
        self.entries[entry.path] = entry


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    if current:
        lines.append(current)
    return lines


def _args(rest: str) -> tuple[dict[str, str], list[str]]:
    """Flags (``--chown=0:2000``) and arguments, JSON-array form included."""
    flags: dict[str, str] = {}
    words = rest.split()
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    text = " ".join(words)
    if text.startswith("["):
        try:
            return flags, [str(x) for x in json.loads(text)]
        except json.JSONDecodeError:
            pass
    return flags, words


def image_from_build(context: str, dockerfile: str = "Dockerfile") -> ImageFiles:
    image = ImageFiles()
    path = Path(context) / dockerfile
    try:
        lines = _logical_lines(path.read_text())
    except OSError as exc:
        image.unknown = f"cannot read {path}: {exc.strerror}"
        return image
    stages = 0
    for line in lines:
        word, _, rest = line.partition(" ")
        instr = word.upper()
        flags, args = _args(rest)
        if instr == "FROM":
            stages += 1
            if stages > 1:
                image.unknown = "multi-stage Dockerfile: only the last stage's own COPY/ADD can be read"
            image.entries.clear()
        elif instr in ("COPY", "ADD"):
            if "from" in flags:
                image.unknown = f"{instr} --from copies from another image"
                continue
            if len(args) < 2:
                continue
            *sources, dest = args
            if any("$" in a for a in args):
                image.unknown = f"{instr} uses variables in its paths"
                continue
            owner = _owner(flags.get("chown"))
            if owner is None:
                image.unknown = f"{instr} --chown={flags.get('chown')} names a user; only numeric ids can be known"
                continue
            for src in sources:
                reason = _copy(image, Path(context), src, dest, owner, instr == "ADD", len(sources) > 1)
                if reason:
                    image.unknown = reason
        elif instr == "VOLUME":
            image.volumes.extend(args)
        elif instr == "RUN":
            image.unknown = "a RUN step may change files; only a live check can tell"
    return image


def _owner(chown: str | None) -> tuple[int, int] | None:
    if not chown:
        return (0, 0)
    user, _, group = chown.partition(":")
    if not user.isdigit() or (group and not group.isdigit()):
        return None
    return int(user), int(group or user)


def _copy(image: ImageFiles, context: Path, src: str, dest: str, owner: tuple[int, int], is_add: bool,
          many: bool) -> str | None:
    if src.startswith(("http://", "https://", "git@")):
        return f"ADD of a remote source ({src}) cannot be read statically"
    matches = sorted(glob.glob(str(context / src))) if any(c in src for c in "*?[") else [str(context / src)]
    if not matches:
        return f"COPY source {src} is not in the build context"
    to_dir = dest.endswith("/") or many or len(matches) > 1
    uid, gid = owner
    for match in matches:
        real = Path(os.path.realpath(match))  # a top-level symlink source is followed
        if is_add and real.is_file() and _is_tar(real):
            image._mkdirs(dest, uid, gid)
            _extract(image, real, dest.rstrip("/") or "/")
            continue
        if real.is_dir():
            target = dest.rstrip("/") or "/"
            image._mkdirs(target, uid, gid)
            _copy_tree(image, real, target, uid, gid)
        elif real.is_file():
            target = posixpath.join(dest, real.name) if to_dir else dest
            image._mkdirs(posixpath.dirname(target), uid, gid)
            data = real.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            image.put(Entry(target, FILE, stat.S_IMODE(real.stat().st_mode), uid, gid, len(data), digest))
        else:
            return f"COPY source {src} is not a file or directory"
    return None


def _copy_tree(image: ImageFiles, src: Path, dest: str, uid: int, gid: int) -> None:
    """What COPY of a directory adds under ``dest`` (made by the caller): its contents, owned uid:gid."""
    for e in host_tree(str(src))[1:]:  # [0] is the directory itself
        image.put(e._replace(path=posixpath.join(dest, e.path), uid=uid, gid=gid))


def host_tree(path: str) -> list[Entry]:
    """A bind mount's source as the container sees it: host modes and numeric owners."""
    out: list[Entry] = []

    def add(full: str, rel: str) -> None:
        st = os.lstat(full)
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            out.append(Entry(rel, SYMLINK, 0o777, st.st_uid, st.st_gid, target=os.readlink(full)))
        elif stat.S_ISDIR(st.st_mode):
            out.append(Entry(rel, DIR, mode, st.st_uid, st.st_gid))
            for name in sorted(os.listdir(full)):
                add(os.path.join(full, name), f"{rel}/{name}" if rel else name)
        elif stat.S_ISREG(st.st_mode):
            with open(full, "rb") as f:
                data = f.read()
            out.append(Entry(rel, FILE, mode, st.st_uid, st.st_gid, len(data), hashlib.sha256(data).hexdigest()))

    if os.path.lexists(path):
        add(path, "")
    return out


def _is_tar(path: Path) -> bool:
    if any(fnmatch.fnmatch(path.name, p) for p in ("*.tar", "*.tar.gz", "*.tgz", "*.tar.bz2", "*.tar.xz")):
        return True
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _extract(image: ImageFiles, path: Path, dest: str) -> None:
    with tarfile.open(path) as tar:
        for entry in tar_entries(tar, dest):
            image.put(entry)
