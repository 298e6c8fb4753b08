"""The layout model: what files a container sees, at which paths, with which bytes, modes and owners.

Every loader (Kubernetes manifests, a compose setup, a running container) produces this model and
every emitter and the comparer consume it. It knows nothing about YAML, Docker or Kubernetes.

Two views of one container:
- ``entries``: the raw tree under each mount, as ``ls -la`` would show it, internals included
  (``..data``, the timestamped directory, top-level symlinks);
- ``visible()`` (or ``visible_files()`` / ``visible_dirs()``): what an application reaches by
  user-visible path, with symlinks resolved and ``..``-prefixed internals left out.

File bytes never appear in the model's text or JSON form: files carry a size and a sha256 digest.
The bytes themselves travel beside the model in ``WorkloadLayout.contents`` (digest -> bytes), which
emitters need to build images, and which is never printed.
"""

from __future__ import annotations

import hashlib
import operator
import posixpath
import re
from dataclasses import field
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, TypeVar

from .gcpause import gc_paused
from .values import Value, record, valueclass

FORMAT = "parity.layout/v2"
#: The format before v2: the same workload objects, bare at the top level when there was one.
FORMAT_V1 = "parity.layout/v1"

FILE = "file"
DIR = "dir"
SYMLINK = "symlink"

#: The kubelet's timestamped data directory: ``..YYYY_MM_DD_HH_MM_SS.N`` (N: 1-10 digits; 9 on old Go).
TIMESTAMP_DIR_RE = re.compile(r"^\.\.[0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}\.[0-9]{1,10}$")
#: The symlink to the current timestamped directory, which every top-level name goes through and which
#: the kubelet swaps atomically on an update (kubelet pkg/volume/util/atomic_writer.go ``dataDirName``).
DATA_DIR_NAME = "..data"

MAX_SYMLINK_HOPS = 40  # as Linux's MAXSYMLINKS

#: ``Mount.source`` of a path where the cluster has a mount but the container has none: what is
#: there (if anything) comes from the image.
NOT_A_MOUNT = "image (not a mount)"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def short_digest(digest: str | None) -> str:
    """The form used in reports: enough to tell contents apart, never enough to matter."""
    return f"sha256:{digest[:12]}" if digest else "-"


def mode_string(kind: str, mode: int) -> str:
    """``ls -l`` style permission string, special bits included (``drwxrwxrwt``, ``-rw-r-S---``)."""
    chars = {FILE: "-", DIR: "d", SYMLINK: "l"}[kind]
    bits = ""
    for shift, special, on_char, off_char in ((6, 0o4000, "s", "S"), (3, 0o2000, "s", "S"), (0, 0o1000, "t", "T")):
        triple = (mode >> shift) & 7
        bits += "r" if triple & 4 else "-"
        bits += "w" if triple & 2 else "-"
        if mode & special:
            bits += on_char if triple & 1 else off_char
        else:
            bits += "x" if triple & 1 else "-"
    return chars + bits


class Entry(NamedTuple):
    """One node of a container's file tree.

    ``volatile`` names why the bytes of a file cannot be predicted (a pod uid assigned by the API
    server, a token minted by the cluster); such files are compared on everything but content.

    A NamedTuple rather than a frozen dataclass: as immutable, and made five times faster (a layout
    of a big repository creates hundreds of thousands of them; see docs/performance.md).
    """

    path: str
    type: str
    mode: int
    uid: int = 0
    gid: int = 0
    size: int | None = None
    sha256: str | None = None
    target: str | None = None
    volatile: str | None = None

    def moved(self, path: str) -> "Entry":
        return tuple.__new__(Entry, (path,) + self[1:])  # _replace(path=path), 3x faster

    def to_json(self, at: str | None = None) -> dict:
        """The JSON form; with ``at``, as listed at a user-visible path: that path, and no type."""
        path, kind, mode, uid, gid, size, sha256, target, volatile = self
        out = {"path": path, "type": kind} if at is None else {"path": at}
        out["mode"], out["uid"], out["gid"] = f"{mode:04o}", uid, gid
        if kind == FILE:
            out["size"], out["sha256"] = size, sha256
            if volatile:
                out["volatile"] = volatile
        elif kind == SYMLINK:
            out["target"] = target
        return out

    @classmethod
    def from_json(cls, data: Mapping) -> "Entry":
        return cls(
            path=data["path"],
            type=data.get("type", FILE),
            mode=int(data["mode"], 8),
            uid=int(data.get("uid", 0)),
            gid=int(data.get("gid", 0)),
            size=data.get("size"),
            sha256=data.get("sha256"),
            target=data.get("target"),
            volatile=data.get("volatile"),
        )


M = TypeVar("M")


def innermost(path: str, mounts: Iterable[M], mount_path: Callable[[M], str]) -> M | None:
    """The mount that holds ``path`` deepest (a container's, a compose service's), or None."""
    best, best_len = None, -1
    for m in mounts:
        where = mount_path(m)
        if (path == where or path.startswith(where.rstrip("/") + "/")) and len(where) > best_len:
            best, best_len = m, len(where)
    return best


class MountCover:
    """For many paths at once: the best-ranked of a container's mount points that holds each path.

    A mount at ``where`` holds ``path`` when ``path == where`` or ``path`` starts with
    ``where.rstrip("/") + "/"`` (as ``innermost`` tests). ``innermost`` tries every mount for one
    path; this index answers from the path's parent, memoised, so that a container with thousands
    of mounts costs a few dict lookups per path instead of one test per mount (issue 18: a layout
    of 500 volumes took minutes). Ranks are tuples compared with ``max``; ``()`` means "no mount".
    """

    def __init__(self, ranked: Iterable[tuple[str, tuple]]):
        self._at: dict[str, tuple] = {}  # mount path -> best rank of the mounts exactly there
        self._below: dict[str, tuple] = {}  # mount path without trailing "/" -> best rank
        for where, rank in ranked:
            if rank > self._at.get(where, ()):
                self._at[where] = rank
            key = where.rstrip("/")
            if rank > self._below.get(key, ()):
                self._below[key] = rank
        self._above: dict[str, tuple] = {"": ()}  # path -> best rank of the mounts strictly above it

    def best(self, path: str) -> tuple:
        """The highest rank among the mounts that hold ``path``; ``()`` when none does."""
        # _strictly_above(path) inlined for the usual case, a path whose parent directory was asked
        # about before (the entries of a volume, sorted): called once for every entry of every layout.
        cut = path.rfind("/")
        if cut < 0:
            above = ()
        else:
            parent = path[:cut]
            above = self._above.get(parent)
            if above is None:
                above = self._strictly_above(parent)
            here = self._below.get(parent)
            if here is not None and here > above:
                above = here
        at = self._at.get(path)
        return at if at is not None and at > above else above

    def last_over(self, where: str, rank: tuple) -> bool:
        """Whether ``rank`` is the highest among the mounts at ``where`` (with or without a trailing
        slash) and above it: no mount so placed outranks the one at ``where`` on any of its paths."""
        key = where.rstrip("/")
        return self._below.get(key, ()) <= rank and (key == "" or self._strictly_above(key) < rank)

    def _strictly_above(self, path: str) -> tuple:
        """Best rank among mounts whose ``where.rstrip("/")`` is ``path`` cut at one of its slashes."""
        memo = self._above
        found = memo.get(path)
        if found is not None:
            return found
        pending = []
        walk = path
        while walk not in memo:
            cut = walk.rfind("/")
            if cut < 0:  # a relative path: no slash, nothing above
                memo[walk] = ()
                break
            pending.append((walk, walk[:cut]))
            walk = walk[:cut]
        below = self._below
        for child, parent in reversed(pending):
            memo[child] = max(memo[parent], below.get(parent, ()))
        return memo[path]


_PATH_OF = operator.itemgetter(0)  # an Entry's path, as a sort key in C


#: ``Mount.type`` of the volume types whose mounts are directories the pod writes (files not predicted).
WRITABLE_TYPES = ("emptyDir", "persistentVolumeClaim", "hostPath", "ephemeral")


@valueclass
class Mount(Value):
    """A mount in a container: where, from which volume, and whether writes are refused.

    ``type``: the Kubernetes volume type (``secret``... ``emptyDir``); "" on the Docker side, where
    a mount is what the engine says it is. A mount of a ``WRITABLE_TYPES`` volume holds what the
    pod writes: its files are not predicted (an emptyDir's root directory is)."""

    path: str
    volume: str
    read_only: bool
    sub_path: str | None = None
    source: str = ""  # what fills it: "secret/NAME", "configMap/NAME", "projected", "downwardAPI", a docker volume...
    type: str = ""

    @property
    def writable_volume(self) -> bool:
        return self.type in WRITABLE_TYPES

    def to_json(self) -> dict:
        return {"path": self.path, "volume": self.volume, "read_only": self.read_only,
                "sub_path": self.sub_path, "source": self.source, "type": self.type}

    @classmethod
    def from_json(cls, data: Mapping) -> "Mount":
        return cls(data["path"], data.get("volume", ""), bool(data.get("read_only")), data.get("sub_path"),
                   data.get("source", ""), data.get("type", ""))


class Subtree:
    """One mounted subtree (a volume, or the part of it a subPath names) as every container that
    mounts it sees it, paths relative to the mount point: "" is the mount point itself, "/a/b" a path
    below it. Made once per volume and subPath and shared by the containers that mount it
    (``ContainerLayout.placed``), instead of one re-rooted copy of its entries per container.

    ``contained``: no symlink can lead a walk out of it (the mount point is not one, and every
    target is relative and made of plain names, no ``.``, ``..`` or empty step), so what a
    process reaches under the mount point depends on this subtree alone: its user-visible view
    (``visible``) is walked once and re-rooted under each mount point."""

    __slots__ = ("entries", "contained", "_visible")

    def __init__(self, entries: list[Entry]):
        entries.sort(key=_PATH_OF)
        self.entries = entries
        self.contained = not (entries and entries[0][0] == "" and entries[0].type == SYMLINK) and all(
            _plain_relative(e.target) for e in entries if e.type == SYMLINK)
        self._visible: list[tuple[str, Entry]] | None = None

    def visible(self) -> list[tuple[str, Entry]]:
        """(path relative to the mount point, resolved entry, its path relative too), sorted: what
        ``ContainerLayout.visible`` finds under a mount of this subtree alone, walked once (only
        meaningful when ``contained``)."""
        if self._visible is None:
            entries = self.entries
            if not entries or entries[0][0] != "":
                self._visible = []  # no mount point: nothing is reached under it
            else:
                self._visible = (self.contained and _contained_view(entries)) or _walked_view(entries)
        return self._visible


def _walked_view(entries: list[Entry]) -> list[tuple[str, Entry]]:
    """``Subtree.visible`` of any subtree (``entries``: sorted, the first at ""): walked where it
    is, its mount point moved to "/" (a walk's root is a path), by ``ContainerLayout._walk_from``,
    the paths below it being the relative ones already."""
    alone = ContainerLayout("", False, [], [entries[0].moved("/")] + entries[1:])
    shown = sorted(alone._walk_from("/", alone._by_path["/"], 0, set()), key=_PATH_OF)
    return [(p if p != "/" else "", e if e[0] != "/" else e.moved("")) for p, e in shown]


def _contained_view(entries: list[Entry]) -> list[tuple[str, Entry]] | None:
    """``Subtree.visible`` of a ``contained`` subtree (``entries``: sorted, the first at ""), walked
    as ``ContainerLayout._walk_from`` walks it, without making that layout: the same steps on the
    subtree's own paths, its root at "" instead of "/", and links followed as ``_follow`` follows
    targets made of plain names (the only ones a contained subtree holds). Once for every mounted
    subtree of every pod (issue 17: the walk through the layout cost a tenth of the bare parse on
    the one-container-per-pod corpus, this one 40% less); ``_walked_view`` gives the same view.

    Returns:
        The view, or None for a subtree whose paths are not the kubelet's shape (each below the root
        starting with "/", none ending with "/" nor holding "//" before its last name): then
        ``_walked_view``, where any path is read as ``ContainerLayout._index`` reads it.
    """
    if len(entries) > 1 and (entries[1][0][:1] != "/" or entries[1][0] == "/" or entries[-1][0][:1] != "/"):
        return None  # (sorted: every path but the root's is between the second and the last)
    by_path: dict[str, Entry] = {}
    children: dict[str, list[Entry]] = {}  # directory -> its entries a walk lists (no ".." name)
    for e in entries:
        path = e[0]
        by_path[path] = e
        cut = path.rfind("/")
        if cut < 0:
            continue  # the root
        if cut == len(path) - 1 or path[cut - 1:cut] == "/":
            return None  # an empty name, or "//" before it: ``_index`` reads another parent there
        if path[cut + 1:cut + 3] == "..":
            continue  # the kubelet's internals: reached through links only, never listed
        parent = path[:cut]
        siblings = children.get(parent)
        if siblings is None:
            children[parent] = [e]
        else:
            siblings.append(e)
    out: list[tuple[str, Entry]] = []
    seen: set[str] = set()
    # (visible path, resolved entry, links followed to reach it, the real directories above it)
    stack: list[tuple[str, Entry, int, tuple[str, ...]]] = [("", entries[0], 0, ())]
    while stack:
        path, entry, hops, above = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        out.append((path, entry))
        real = entry[0]
        kids = children.get(real)
        if kids is None or entry[1] != DIR or real in above:
            continue
        above += (real,)
        for child in kids:
            name = child[0][len(real) + 1:]
            if child[1] != SYMLINK:
                stack.append((f"{path}/{name}", child, hops, above))
                continue
            current, parts, i, followed = real, [name], 0, hops  # _follow(real, [name], hops)
            while i < len(parts):
                nxt = f"{current}/{parts[i]}"
                link = by_path.get(nxt)
                if link is not None and link[1] == SYMLINK:
                    followed += 1
                    if followed > MAX_SYMLINK_HOPS:
                        break
                    parts = link[7].split("/") + parts[i + 1:]  # plain names: from the link's directory
                    i = 0
                    continue
                current, i = nxt, i + 1
            else:
                resolved = by_path.get(current)
                if resolved is not None:
                    stack.append((f"{path}/{name}", resolved, followed, above))
    out.sort(key=_PATH_OF)
    return out


def _plain_relative(target: str | None) -> bool:
    """A symlink target a walk follows from the link's own directory downwards only: plain names
    (an absolute target's first step is empty)."""
    return bool(target) and all(step not in ("", ".", "..") for step in target.split("/"))


@record
class ContainerLayout:
    """What one container sees under its modelled mounts."""

    name: str
    init: bool
    mounts: list[Mount]
    entries: list[Entry]

    def __post_init__(self) -> None:
        self.entries.sort(key=_PATH_OF)

    @classmethod
    def placed(cls, name: str, init: bool, mounts: list[Mount],
               segments: Iterable[tuple[str, Subtree]]) -> "ContainerLayout":
        """A container whose entries are shared subtrees, each under its mount point: the same
        layout as ``ContainerLayout(name, init, mounts, [each subtree's entries re-rooted])``, whose
        entries are only made when asked for (``entries``, ``entry``, ``resolve``...): its
        user-visible view and its JSON are written from the subtrees (``visible``,
        ``document_parts``).

        Args:
            name, init, mounts: as the constructor's.
            segments: (mount point, subtree). The mount points are absolute, clean (no trailing
                slash, ``.``, ``..`` or doubled slash), not ``/``, and none starts with another (as
                strings); and no other mount of the container is at or beneath one of them (the
                caller checks: ``kubelet._container_layout``).

        Returns:
            The layout.
        """
        self = cls.__new__(cls)
        self.name, self.init, self.mounts = name, init, mounts
        self._segments = sorted(segments, key=_PATH_OF)  # by mount point: so their entries come sorted
        return self

    def __getattr__(self, attr: str):
        # Only reached for attributes not set yet: a layout made by ``placed`` makes its entries on
        # first use, and every layout indexes them (by path, children) on first use.
        if attr == "entries":
            segments = self.__dict__.get("_segments")
            if segments is None:
                raise AttributeError(attr)
            # Sorted: each subtree is, and mount points none of which starts with another keep
            # each one's paths together, in the mount points' order.
            self.entries = [e.moved(where + e[0]) for where, tree in segments for e in tree.entries]
            return self.entries
        if attr in ("_by_path", "_children"):
            self._index()
            return self.__dict__[attr]
        raise AttributeError(attr)

    def shared_segments(self) -> list[tuple[str, Subtree]] | None:
        """(mount point, subtree) of a layout made by ``placed`` whose subtrees are all
        ``contained``, in mount point order; None for any other layout."""
        segments = self.__dict__.get("_segments")
        if segments is None or not all(tree.contained for _, tree in segments):
            return None
        return segments

    def _index(self) -> None:
        entries = self.entries
        self._by_path = {e.path: e for e in entries}
        children: dict[str, list[Entry]] = {}
        self._children = children
        for e in entries:
            path = e[0]
            # posixpath.dirname(path), without its checks and calls: once per entry of every layout
            head = path[:path.rfind("/") + 1]
            parent = head.rstrip("/") or head
            if parent != path:
                siblings = children.get(parent)
                if siblings is None:
                    children[parent] = [e]
                else:
                    siblings.append(e)

    def entry(self, path: str) -> Entry | None:
        return self._by_path.get(path)

    def resolve(self, path: str) -> Entry | None:
        """The entry a process reaches at ``path``, following symlinks at every step (like stat(2))."""
        return self._follow("", [p for p in path.split("/") if p], 0)[0]

    def _follow(self, current: str, parts: list[str], hops: int) -> tuple[Entry | None, int]:
        """Resolve ``parts`` below ``current`` ("" for the root), a path with no symlink in it, after
        ``hops`` symlinks already followed: the entry reached (None past MAX_SYMLINK_HOPS) and the hops.

        Targets are joined lexically (``a/..`` is dropped, as ``posixpath.normpath`` does). A plain
        relative target is followed from the link's own directory without walking back from the root."""
        by_path = self._by_path
        i = 0
        while i < len(parts):
            nxt = f"{current}/{parts[i]}"
            entry = by_path.get(nxt)  # None: an ancestor the image provides (/etc): passed through
            if entry is not None and entry.type == SYMLINK:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None, hops
                target = entry.target or ""
                steps = target.split("/")
                if target.startswith("/") or "" in steps or "." in steps or ".." in steps:
                    clean = posixpath.normpath(posixpath.join(current or "/", target))
                    parts, current = [p for p in clean.split("/") if p] + parts[i + 1:], ""
                else:
                    parts = steps + parts[i + 1:]
                i = 0
                continue
            current, i = nxt, i + 1
        return (by_path.get(current) if current else None), hops

    def _walk_visible(self) -> Iterator[tuple[str, Entry]]:
        """(user-visible path, resolved entry) for everything under each mount, internals skipped."""
        seen: set[str] = set()
        for mount in sorted(self.mounts, key=lambda m: m.path):
            root, hops = self._follow("", [p for p in mount.path.split("/") if p], 0)
            if root is not None:
                yield from self._walk_from(mount.path, root, hops, seen)

    def _walk_from(self, where: str, root: Entry, hops: int, seen: set[str]) -> Iterator[tuple[str, Entry]]:
        """(user-visible path, resolved entry) for ``root`` (reached at ``where`` after ``hops``
        symlinks) and everything under it, internals skipped; paths in ``seen`` are not walked again.

        Each directory is walked through its resolved entry, so that only symlinks need resolving
        (from the real directory that holds them, with the hops spent to reach it). A directory
        link back to one of its own ancestors (``loop -> ..``) is listed but not entered, as
        ``find -L`` does: its visible paths never end."""
        stack: list[tuple[str, Entry, int, tuple[str, ...]]] = [(where, root, hops, ())]
        children = self._children
        while stack:
            path, entry, hops, above = stack.pop()
            if path in seen:
                continue
            seen.add(path)
            yield path, entry
            if entry.type != DIR or entry.path in above:
                continue
            above += (entry.path,)
            base = path.rstrip("/")
            for child in children.get(entry.path, ()):
                name = child.path[child.path.rfind("/") + 1:]
                if name.startswith(".."):
                    continue
                if child.type == SYMLINK:
                    resolved, child_hops = self._follow(entry.path.rstrip("/"), [name], hops)
                    if resolved is not None:
                        stack.append((f"{base}/{name}", resolved, child_hops, above))
                else:
                    stack.append((f"{base}/{name}", child, hops, above))

    def visible(self) -> list[tuple[str, Entry]]:
        """(user-visible path, resolved file or directory), sorted by path: one walk of the tree, or
        for a layout of shared subtrees (``shared_segments``), each subtree's own walk re-rooted."""
        segments = self.shared_segments()
        if segments is not None:
            walked = {m.path for m in self.mounts}  # what _walk_visible walks: the model's mounts
            return [(where + path, e.moved(where + e[0]))
                    for where, tree in segments if where in walked for path, e in tree.visible()]
        return sorted(self._walk_visible(), key=_PATH_OF)

    def visible_files(self) -> list[tuple[str, Entry]]:
        return [(p, e) for p, e in self.visible() if e.type == FILE]

    def visible_dirs(self) -> list[tuple[str, Entry]]:
        return [(p, e) for p, e in self.visible() if e.type == DIR]

    def mount_for(self, path: str) -> Mount | None:
        """The innermost mount that holds ``path``."""
        return innermost(path, self.mounts, lambda m: m.path)

    def shown_by(self) -> dict[Mount, list[Entry]]:
        """Each mount's entries (in path order): those under it that no deeper mount hides, as
        ``mount_for`` decides; equal mounts share one list. One pass over the entries."""
        cover = MountCover((m.path, (len(m.path), -i)) for i, m in enumerate(self.mounts))
        shown: dict[Mount, list[Entry]] = {}
        for e in self.entries:
            rank = cover.best(e.path)
            if rank:
                shown.setdefault(self.mounts[-rank[1]], []).append(e)
        return shown

    def to_json(self) -> dict:
        shown = {FILE: [], DIR: []}
        for path, entry in self.visible():  # one walk for both lists
            if entry.type in shown:
                shown[entry.type].append(entry.to_json(at=path))
        return {
            "name": self.name,
            "init": self.init,
            "mounts": [m.to_json() for m in self.mounts],
            "files": shown[FILE],
            "dirs": shown[DIR],
            "entries": [e.to_json() for e in self.entries],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "ContainerLayout":
        return cls(data["name"], bool(data.get("init")), [Mount.from_json(m) for m in data.get("mounts", [])],
                   [Entry.from_json(e) for e in data.get("entries", [])])


@record
class VolumeLayout:
    """One volume's whole tree, paths relative to its root ("" is the root itself).

    Container views hold only what each mount shows; emitters need the volume whole (to bake it
    into a data image once and mount it wherever containers want it)."""

    name: str
    source: str
    entries: list[Entry]
    type: str = ""  # the Kubernetes volume type (WRITABLE_TYPES: an emptyDir's root only)

    def visible(self) -> list[tuple[str, Entry]]:
        """The volume's own user-visible view: (path relative to the root, resolved file or directory)
        that a container mounting the whole volume reaches, symlinks resolved and ``..``-prefixed
        internals left out ("" is the root), sorted by path. Walked by ``ContainerLayout.visible``,
        the one home of symlink resolution, with the volume mounted alone at a root of its own."""
        root = "/volume"
        view = ContainerLayout(self.name, False, [Mount(root, self.name, True)],
                               [e.moved(root + ("/" + e.path if e.path else "")) for e in self.entries])
        return [(p[len(root) + 1:], e.moved(e.path[len(root) + 1:])) for p, e in view.visible()]

    def digest(self) -> str:
        """Identity of the tree: paths, types, modes, owners, targets and contents."""
        h = hashlib.sha256()
        for e in sorted(self.entries, key=lambda e: e.path):
            h.update(f"{e.path}\0{e.type}\0{e.mode}\0{e.uid}\0{e.gid}\0{e.sha256}\0{e.target}\n".encode())
        return h.hexdigest()


@record
class WorkloadLayout:
    """Every container of one workload. ``contents`` maps file digests to bytes and is never printed."""

    kind: str
    name: str
    namespace: str
    containers: list[ContainerLayout]
    contents: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    volumes: list[VolumeLayout] = field(default_factory=list, repr=False, compare=False)
    run: str = field(default="service", compare=False)  # Workload.run: service, once or on-demand
    notes: list[str] = field(default_factory=list, compare=False)  # what the cluster runs that parity does not

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    def container(self, name: str) -> ContainerLayout | None:
        return next((c for c in self.containers if c.name == name), None)

    def to_json(self) -> dict:
        return {
            "workload": {"kind": self.kind, "name": self.name, "namespace": self.namespace},
            "run": self.run,
            "notes": list(self.notes),
            "containers": [c.to_json() for c in self.containers],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> "WorkloadLayout":
        w = data["workload"]
        return cls(w["kind"], w["name"], w.get("namespace", "default"),
                   [ContainerLayout.from_json(c) for c in data.get("containers", [])],
                   run=data.get("run", "service"), notes=list(data.get("notes", [])))


def document(layouts: Iterable[WorkloadLayout], left_out: Iterable[Mapping] = ()) -> dict:
    """The ``parity.layout/v2`` JSON document: ``{"format", "workloads": [...], "left_out": [...]}``
    whatever the number of workloads (v1 gave the bare workload shape for one, a list for several).
    ``left_out``: the workloads of the input the selection left out, and why (e.g. ``helm_hook``)."""
    with gc_paused():
        return {"format": FORMAT, "workloads": [w.to_json() for w in layouts], "left_out": list(left_out)}


def document_text(layouts: Iterable[WorkloadLayout], left_out: Iterable[Mapping] = ()) -> str:
    """``dump_json(document(layouts, left_out))``, byte for byte: ``document_parts`` joined."""
    return "".join(document_parts(layouts, left_out))


def document_parts(layouts: Iterable[WorkloadLayout], left_out: Iterable[Mapping] = ()) -> Iterator[str]:
    """``dump_json(document(layouts, left_out))``, byte for byte, written directly, in parts (about
    one per workload): what ``parity layout --format json`` prints as they come, so that the whole
    text (17 MB for the 1k multi-container corpus) is never held, copied or encoded at once.

    The document is mostly the same few dict shapes (an entry, a visible file or directory, a mount)
    repeated hundreds of thousands of times; building each as a dict and encoding it cost as much as
    the rest of the layout after the parse (issue 17). Here each is one format string at its fixed
    depth, with only the strings from the input escaped (by the json module's C escaper, as
    ``json.dumps`` escapes them). ``tests/test_layout.py`` compares both on the fixtures and on
    generated layouts.

    Args:
        layouts: the workloads, in output order.
        left_out: as ``document``'s.

    Yields:
        The indented ``parity.layout/v2`` JSON text, ending with a newline, in consecutive parts.
    """
    import json  # here: text output never imports it
    from json.encoder import encode_basestring_ascii as q  # C

    def small(value: object, indent: str) -> str:
        """A value of no particular shape (a workload's notes, the left-out workloads), at ``indent``.
        A string, and a list of strings (a workload's run and notes), are written as ``json.dumps``
        writes them without it: it makes an encoder at each call (~8 us a list, for every workload)."""
        if value.__class__ is str:
            return q(value)
        if value.__class__ is list and all(v.__class__ is str for v in value):
            return listed([f"{indent}  {q(v)}" for v in value], indent)  # (a string escapes its newlines)
        return json.dumps(value, indent=2).replace("\n", "\n" + indent)

    def listed(items: list[str], indent: str) -> str:
        """A JSON list at ``indent`` of items already written one level deeper."""
        return "[\n" + ",\n".join(items) + f"\n{indent}]" if items else "[]"

    item, field = " " * 12, " " * 14  # entries, files, dirs, mounts: items of a list in a container
    head = f'{item}{{\n{field}"path": '
    tails: tuple[dict, dict] = ({}, {})  # [typed] (the entry but its path) -> the text after the path

    def tail(typed: bool, key: tuple) -> str:
        """What follows the path of an entry whose fields but the path are ``key``: shared by every
        entry of the same type, mode, owner and contents (the same file in each container, in
        ``files`` and ``entries``), so written once."""
        kind, mode, uid, gid, size, sha256, target, volatile = key
        text = f',\n{field}"type": "{kind}"' if typed else ""
        text = f'{text},\n{field}"mode": "{mode:04o}",\n{field}"uid": {int.__repr__(uid)},\n{field}"gid": {int.__repr__(gid)}'
        if kind == FILE:
            size_text = "null" if size is None else int.__repr__(size)
            text = f'{text},\n{field}"size": {size_text},\n{field}"sha256": {"null" if sha256 is None else q(sha256)}'
            if volatile:
                text = f'{text},\n{field}"volatile": {q(volatile)}'
        elif kind == SYMLINK:
            text = f'{text},\n{field}"target": {"null" if target is None else q(target)}'
        text = tails[typed][key] = f"{text}\n{item}}}"
        return text

    def listed_at(shown: list[tuple[str, Entry]]) -> list[str]:
        """``Entry.to_json(at=path)`` of each (path, entry): a visible file or directory."""
        memo = tails[False]
        return [head + q(path) + (memo.get(e[1:]) or tail(False, e[1:])) for path, e in shown]

    def listed_raw(raw: list[Entry]) -> list[str]:
        """``Entry.to_json()`` of each entry."""
        memo = tails[True]
        return [head + q(e[0]) + (memo.get(e[1:]) or tail(True, e[1:])) for e in raw]

    def mount(m: Mount) -> str:
        sub = "null" if m.sub_path is None else q(m.sub_path)
        return (f'{item}{{\n{field}"path": {q(m.path)},\n{field}"volume": {q(m.volume)},\n'
                f'{field}"read_only": {"true" if m.read_only else "false"},\n{field}"sub_path": {sub},\n'
                f'{field}"source": {q(m.source)},\n{field}"type": {q(m.type)}\n{item}}}')

    pieces: dict[int, tuple[list[str], list[str], list[str]]] = {}  # id(subtree) -> its items' text

    def subtree_pieces(tree: Subtree) -> tuple[list[str], list[str], list[str]]:
        """A shared subtree's visible files, directories and entries as items of their lists, each
        but its head and the mount point: the text after the mount point in the item's path (a
        JSON string escapes character by character, so q(where + rest) is q(where) and q(rest)
        joined at the quote). Written once for every container that mounts the subtree."""
        found = pieces.get(id(tree))
        if found is None:
            shown_memo, raw_memo = tails
            files, dirs = [], []
            for path, e in tree.visible():
                if e[1] == FILE:
                    files.append(q(path)[1:] + (shown_memo.get(e[1:]) or tail(False, e[1:])))
                elif e[1] == DIR:
                    dirs.append(q(path)[1:] + (shown_memo.get(e[1:]) or tail(False, e[1:])))
            raw = [q(e[0])[1:] + (raw_memo.get(e[1:]) or tail(True, e[1:])) for e in tree.entries]
            found = pieces[id(tree)] = (files, dirs, raw)
        return found

    def shared_container(c: ContainerLayout, segments: list[tuple[str, Subtree]]) -> tuple[str, str, str]:
        """The files, dirs and entries lists of a layout of shared subtrees (``ContainerLayout.
        shared_segments``): the same text as from ``visible`` and ``entries``, one join per subtree.
        Its subtrees' paths come in the order of their mount points (see ``ContainerLayout.placed``)."""
        walked = {m.path for m in c.mounts}  # as ContainerLayout.visible
        files, dirs, raw = [], [], []
        for where, tree in segments:
            own_files, own_dirs, own_raw = subtree_pieces(tree)
            at = head + q(where)[:-1]
            joiner = ",\n" + at
            if where in walked:
                if own_files:
                    files.append(at + joiner.join(own_files))
                if own_dirs:
                    dirs.append(at + joiner.join(own_dirs))
            if own_raw:
                raw.append(at + joiner.join(own_raw))
        f = " " * 10
        return listed(files, f), listed(dirs, f), listed(raw, f)

    def container(c: ContainerLayout) -> str:
        i, f = " " * 8, " " * 10
        segments = c.shared_segments()
        if segments is not None:
            files, dirs, raw = shared_container(c, segments)
        else:
            shown: dict[str, list[tuple[str, Entry]]] = {FILE: [], DIR: []}
            for path, e in c.visible():
                if e.type in shown:
                    shown[e.type].append((path, e))
            files, dirs = listed(listed_at(shown[FILE]), f), listed(listed_at(shown[DIR]), f)
            raw = listed(listed_raw(c.entries), f)
        return (f'{i}{{\n{f}"name": {q(c.name)},\n{f}"init": {"true" if c.init else "false"},\n'
                f'{f}"mounts": {listed([mount(m) for m in c.mounts], f)},\n'
                f'{f}"files": {files},\n{f}"dirs": {dirs},\n{f}"entries": {raw}\n{i}}}')

    def workload(w: WorkloadLayout) -> str:
        i, f, g = " " * 4, " " * 6, " " * 8
        return (f'{i}{{\n{f}"workload": {{\n{g}"kind": {q(w.kind)},\n{g}"name": {q(w.name)},\n'
                f'{g}"namespace": {q(w.namespace)}\n{f}}},\n'
                f'{f}"run": {small(w.run, f)},\n{f}"notes": {small(list(w.notes), f)},\n'
                f'{f}"containers": {listed([container(c) for c in w.containers], f)}\n{i}}}')

    yield f'{{\n  "format": "{FORMAT}",\n  "workloads": '
    separator = "[\n"  # listed(), one workload at a time
    for w in layouts:
        with gc_paused():
            text = workload(w)
        pieces.clear()  # (a workload's subtrees are its pod's own: held no longer, their memory is reused)
        yield separator + text
        separator = ",\n"
    yield ("[]" if separator == "[\n" else "\n  ]") + f',\n  "left_out": {small(list(left_out), "  ")}\n}}\n'


def from_document(doc: Mapping) -> list[WorkloadLayout]:
    """Layouts from a ``parity.layout/v2`` document, or a ``v1`` one (either of its two shapes)."""
    if doc.get("format") not in (FORMAT, FORMAT_V1):
        raise ValueError(f"not a {FORMAT} document")
    if "workloads" in doc:
        return [WorkloadLayout.from_json(w) for w in doc["workloads"]]
    return [WorkloadLayout.from_json(doc)]
