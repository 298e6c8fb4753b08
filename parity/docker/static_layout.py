"""What a compose service's container would see at given paths, derived without an engine.

Each mount is followed to its source and the engine's rules applied (docker-semantics.md):
- ``volumes_from`` gives the source service's mounts at the same paths, **read-write**: Compose
  v2 drops ``:ro`` (§5);
- a named or anonymous volume is filled by copy-up from the first container that mounts it, in
  creation order, without ``nocopy`` and with content at that path in its image; the volume root
  takes that image directory's mode and owner (§4);
- a bind mount shows the host's files, modes and owners;
- a path with no mount shows the service image's own files.
Where the content cannot be known (an image built elsewhere, a ``RUN`` step), the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..layout import DIR, NOT_A_MOUNT, ContainerLayout, Entry, Mount, innermost
from .compose import ComposeProject
from .dockerfile import Unreadable
from .image_files import ImageFiles, host_tree, image_from_build


@dataclass
class ServiceMount:
    target: str
    type: str  # volume, bind, tmpfs, anonymous, copied (a compose secret/config from the environment)
    source: str
    read_only: bool
    nocopy: bool
    via: str | None = None  # the service whose mount this is, for volumes_from


@dataclass
class StaticView:
    layout: ContainerLayout
    unknown: dict[str, str] = field(default_factory=dict)  # mount path -> why its files cannot be known


class StaticReader:
    """Derives service views for one compose project, caching image analyses."""

    def __init__(self, project: ComposeProject):
        self.project = project
        self._images: dict[str, ImageFiles] = {}

    def image(self, service: str) -> ImageFiles:
        if service not in self._images:
            svc = self.project.services.get(service) or {}
            build = svc.get("build")
            if isinstance(build, dict) and build.get("context"):
                img = image_from_build(build["context"], build.get("dockerfile") or "Dockerfile", build.get("args"),
                                       build.get("target"), build.get("dockerfile_inline"))
            else:
                img = ImageFiles(unknown=f"image {svc.get('image')!r} is built elsewhere: its files cannot be "
                                         "read without an engine (use --live)")
            self._images[service] = img
        return self._images[service]

    def mounts(self, service: str, seen: frozenset[str] = frozenset()) -> list[ServiceMount]:
        svc = self.project.services.get(service) or {}
        out: dict[str, ServiceMount] = {}
        for source in svc.get("volumes_from") or []:
            src = str(source).split(":")[0]
            if src == "container" or src in seen:
                continue
            for m in self.mounts(src, seen | {service}):
                out[m.target] = ServiceMount(m.target, m.type, m.source, False, m.nocopy, via=src)
        image = self.image(service)
        for path in image.volumes:
            out.setdefault(path, ServiceMount(path, "anonymous", f"{service}:{path}", False, False))
        for v in svc.get("volumes") or []:
            kind = v.get("type", "volume")
            source = v.get("source") or ""
            if kind == "volume" and not source:
                kind, source = "anonymous", f"{service}:{v['target']}"
            out[v["target"]] = ServiceMount(v["target"], kind, source, bool(v.get("read_only")),
                                            bool((v.get("volume") or {}).get("nocopy")))
        for t in svc.get("tmpfs") or []:
            out[str(t)] = ServiceMount(str(t), "tmpfs", "", False, False)
        for m in self._secrets_and_configs(svc):
            out[m.target] = m
        return list(out.values())

    def _secrets_and_configs(self, svc: dict) -> list[ServiceMount]:
        """Compose's own ``secrets:`` and ``configs:`` (not swarm's): a file source is a read-only bind
        of that file (its host mode and owner: ``mode``/``uid``/``gid`` do not apply to a bind), at
        ``/run/secrets/<target>`` for a secret, ``/<target>`` for a config; an ``environment`` or
        ``content`` source is copied into the container at start (measured: Compose v2.40.3)."""
        out = []
        for kind, base in (("secrets", "/run/secrets/"), ("configs", "/")):
            defined = getattr(self.project, kind)
            for ref in svc.get(kind) or []:
                ref = ref if isinstance(ref, dict) else {"source": str(ref)}
                source = str(ref.get("source") or "")
                target = str(ref.get("target") or source)
                target = target if target.startswith("/") else base + target
                spec = defined.get(source) or {}
                if spec.get("file"):
                    out.append(ServiceMount(target, "bind", spec["file"], True, False))
                else:
                    out.append(ServiceMount(target, "copied", f"{kind[:-1]} {source}", False, False))
        return out

    def creation_order(self) -> list[str]:
        order: list[str] = []

        def visit(name: str, stack: tuple[str, ...] = ()) -> None:
            if name in order or name in stack:
                return
            svc = self.project.services.get(name) or {}
            deps = list((svc.get("depends_on") or {}).keys()) if isinstance(svc.get("depends_on"), dict) \
                else list(svc.get("depends_on") or [])
            deps += [str(s).split(":")[0] for s in svc.get("volumes_from") or []]
            for dep in deps:
                visit(dep, stack + (name,))
            order.append(name)

        for name in self.project.services:
            visit(name)
        return order

    def volume_content(self, volume: str) -> tuple[list[Entry], str | None, str | None]:
        """(entries relative to the volume root, who filled it, why unknown) for a named volume."""
        tmpfs = tmpfs_root(self.project.volumes.get(volume) or {})
        if tmpfs is not None:  # the local driver mounts a tmpfs: nothing is copied up that lasts
            return [tmpfs], None, None
        for name in self.creation_order():
            for m in self.mounts(name):
                if m.type != "volume" or m.source != volume or m.nocopy or m.via:
                    continue
                image = self.image(name)
                why = image.unknown_at(m.target)
                if why:
                    return [], name, why
                tree = image.subtree(m.target)
                if tree:
                    return [_rel(e, m.target) for e in tree], name, None
        return [Entry("", DIR, 0o755)], None, None

    def mount_at(self, service: str, path: str) -> Mount:
        """The mount ``service``'s container has exactly at ``path`` (``NOT_A_MOUNT``: none), without
        its files: what a writable volume's facet compares."""
        m = next((x for x in self.mounts(service) if x.target == path), None)
        if m is None:
            return Mount(path, "", False, None, NOT_A_MOUNT)
        return Mount(m.target, m.source, m.read_only, None, _describe(m))

    def declared_mounts(self, service: str) -> list[tuple[str, bool, str]]:
        """(target, read-only, what) of each mount the service declares itself (``volumes:`` and
        ``tmpfs:``, not ``volumes_from`` nor its image's VOLUMEs)."""
        return [(m.target, m.read_only, _describe(m)) for m in self.mounts(service)
                if m.via is None and m.type in ("volume", "bind", "tmpfs")]

    def view(self, service: str, name: str, paths: list[str], init: bool = False) -> StaticView:
        """What ``service``'s container shows at ``paths``. The engine mounts a container's mounts
        parents first, whatever order the compose file lists them in (moby daemon/volumes.go
        ``sortMounts``): each entry comes from the deepest mount that holds it, or the image."""
        mounts = self.mounts(service)
        result = StaticView(ContainerLayout(name, init, [], []))
        entries: list[Entry] = []
        layout_mounts: list[Mount] = []
        for path in paths:
            m = innermost(path, mounts, lambda sm: sm.target)
            if m is None:
                layout_mounts.append(Mount(path, "", False, None, NOT_A_MOUNT))
            else:
                layout_mounts.append(Mount(m.target, m.source, m.read_only, None, _describe(m)))
            nested = [x for x in mounts if x is not m and _under(x.target, path)]
            for source in [m, *nested]:
                tree, unknown = self._placed(service, source, path)
                if unknown:
                    result.unknown[path] = unknown
                    break
                entries += [e for e in tree if _under(e.path, path)
                            and innermost(e.path, mounts, lambda sm: sm.target) is source]
            entries += _mountpoint_dirs(path, nested, {e.path for e in entries})
        result.layout = ContainerLayout(name, init, [lm for lm in layout_mounts if lm.path not in result.unknown],
                                        list({e.path: e for e in entries}.values()))
        return result

    def _placed(self, service: str, m: ServiceMount | None, path: str) -> tuple[list[Entry], str | None]:
        """The entries ``m`` (None: the service's image) holds, at their absolute paths, or why unknown."""
        if m is None:
            image = self.image(service)
            why = image.unknown_at(path)
            if why:
                return [], f"no mount here, and {why}"
            return image.subtree(path), None
        tree, unknown = self._mount_tree(service, m)
        if unknown:
            return [], unknown
        base = m.target
        return [e.moved(base if not e.path else f"{base.rstrip('/')}/{e.path}") for e in tree], None

    def _mount_tree(self, service: str, m: ServiceMount) -> tuple[list[Entry], str | None]:
        if m.type == "bind":
            try:
                return host_tree(m.source), None
            except Unreadable as exc:
                return [], f"bind source {m.source}: {exc}"
        if m.type == "tmpfs":
            return [Entry("", DIR, 0o1777)], None
        if m.type == "copied":
            return [], (f"{m.source} is copied into the container by Compose when it starts (from the environment "
                        "or inline content): use --live to read it")
        if m.type == "anonymous":
            owner = m.source.split(":")[0]
            image = self.image(owner)
            why = image.unknown_at(m.target)
            if why:
                return [], why
            tree = image.subtree(m.target)
            return ([_rel(e, m.target) for e in tree] if tree else [Entry("", DIR, 0o755)]), None
        tree, _filler, unknown = self.volume_content(m.source)
        return tree, unknown


def tmpfs_root(spec: dict) -> Entry | None:
    """The root of a volume the local driver mounts as tmpfs (``driver_opts`` type tmpfs), from its
    ``o`` options (``mode=``, ``uid=``, ``gid=``; tmpfs's default root is 1777 0:0); None for others."""
    opts = spec.get("driver_opts") or {}
    if str(opts.get("type", "")) != "tmpfs" or (spec.get("driver") or "local") != "local":
        return None
    o = dict(x.split("=", 1) for x in str(opts.get("o", "")).split(",") if "=" in x)
    try:
        return Entry("", DIR, int(o.get("mode", "1777"), 8), int(o.get("uid", 0)), int(o.get("gid", 0)))
    except ValueError:
        return Entry("", DIR, 0o1777)


def _mountpoint_dirs(path: str, nested: list[ServiceMount], present: set[str]) -> list[Entry]:
    """The directories the engine creates for mounts beneath ``path`` where the image has none: each
    missing ancestor of a mount's target, from ``path`` down (moby creates mountpoints 0755 root:root,
    e.g. /run/secrets for a compose secret)."""
    made: list[Entry] = []
    for m in nested:
        parts = m.target[len(path.rstrip("/")):].strip("/").split("/")[:-1]
        at = path.rstrip("/") or "/"
        for d in [path] + [f"{at}/{'/'.join(parts[:i + 1])}".replace("//", "/") for i in range(len(parts))]:
            if d not in present:
                present.add(d)
                made.append(Entry(d, DIR, 0o755))
    return made


def _describe(m: ServiceMount) -> str:
    via = f" via volumes_from {m.via}" if m.via else ""
    return f"{m.type} {m.source}{via}".strip()


def _under(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


def _rel(e: Entry, base: str) -> Entry:
    return e.moved("" if e.path == base else e.path[len(base.rstrip("/")) + 1:])
