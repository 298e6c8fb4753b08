"""Two layouts of one container -> the differences, each with a path and a kind.

Two passes, so that one fault is reported once:
- the user-visible view (symlinks resolved, ``..`` internals skipped): missing, extra, type,
  content, mode, owner of every file and directory an application can reach;
- the raw tree (unless ``structure`` is ignored): the kubelet's internals, ``..data``, the
  timestamped directory (matched by pattern, never by name: the kubelet picks it at random) and
  whether a top-level name is a symlink, a file or a directory.
Symlink owners are not compared: they do not affect access and vary across kubelet versions.
Differences show modes, owners and short digests, never file bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .layout import (DATA_DIR_NAME, FILE, NOT_A_MOUNT, SYMLINK, TIMESTAMP_DIR_RE, ContainerLayout, Entry, Mount,
                     mode_string, short_digest)

@dataclass(frozen=True)
class Difference:
    """``kind``: missing, extra, content, mode, owner, type, writable, volume, structure, not-hidden,
    stale, unpaired-container, unpaired-service or unknown; the process facets identity, capabilities,
    privileges and limits come from ``facets.compare_facets`` (lifecycle and network from ``facets.py``
    too), health from ``docker/health.compare_health``, environment (``(env NAME)``: a variable
    missing, extra or with another value, shown by digest, a Secret's not at all) from
    ``envfacet.compare_environment``. ``volume``: a writable volume (emptyDir, claim, hostPath,
    ephemeral) missing, extra, or read-only where the cluster's is writable (or the reverse).
    ``--ignore`` (structure, owners, modes) leaves some out: see ``compare_containers``."""

    container: str
    path: str
    kind: str
    expected: str = ""
    actual: str = ""
    detail: str = ""

    def to_json(self) -> dict:
        return {"container": self.container, "path": self.path, "kind": self.kind, "expected": self.expected,
                "actual": self.actual, "detail": self.detail}


def _canonical(path: str) -> str:
    return "/".join("..<timestamp>" if TIMESTAMP_DIR_RE.match(p) else p for p in path.split("/"))


def _describe(e: Entry) -> str:
    if e.type == SYMLINK:
        return f"symlink -> {_canonical(e.target or '')}"
    return e.type


def _is_internal(path: str) -> bool:
    return any(p.startswith("..") for p in path.split("/"))


def compare_containers(expected: ContainerLayout, actual: ContainerLayout,
                       ignore: frozenset[str] = frozenset()) -> list[Difference]:
    name = expected.name
    out: list[Difference] = []

    def add(path: str, kind: str, exp: str = "", act: str = "", detail: str = "") -> None:
        out.append(Difference(name, path, kind, exp, act, detail))

    # Mounts: present, and refusing writes where the cluster refuses them.
    actual_mounts = {m.path: m for m in actual.mounts}
    if any(m.writable_volume for m in expected.mounts):
        # An absent writable volume is one difference (below), not also its missing root directory.
        absent = {m.path for m in expected.mounts if m.writable_volume
                  and (actual_mounts.get(m.path) is None or actual_mounts[m.path].source == NOT_A_MOUNT)}
        expected, actual = _without_pod_writes(expected, absent=absent), _without_pod_writes(actual, expected)
    for m in expected.mounts:
        got = actual_mounts.get(m.path)
        if m.writable_volume:
            out.extend(_writable_volume(name, m, got))
            continue
        if got is None or got.source == NOT_A_MOUNT:
            shown = [e for e in actual.entries if e.path == m.path or e.path.startswith(m.path + "/")]
            if got is not None and shown:
                add(m.path, "not-hidden", f"a read-only mount of {m.source or m.volume}",
                    f"no mount: the image's own {len(shown)} entries",
                    "in the cluster the volume hides whatever the image has at this path")
            continue  # missing files are reported through the visible view below
        if m.read_only and not got.read_only:
            via = f" ({got.source})" if got.source else ""
            add(m.path, "writable", "read-only", "read-write",
                f"the cluster mounts this volume read-only; here root can change it for every consumer{via}")

    # The user-visible view.
    exp_view = dict(expected.visible())
    act_view = dict(actual.visible())
    for path in sorted(set(exp_view) | set(act_view)):
        e, a = exp_view.get(path), act_view.get(path)
        if a is None:
            add(path, "missing", _summary(e), "")
        elif e is None:
            add(path, "extra", "", _summary(a))
        elif e.type != a.type:
            add(path, "type", e.type, a.type)
        else:
            out.extend(_compare_attrs(name, path, e, a, ignore))

    if "structure" not in ignore:
        backing = {_canonical(e.path) for e in list(exp_view.values()) + list(act_view.values())}
        out.extend(_compare_raw(name, expected, actual, ignore, backing))
    return out


def _writable_volume(container: str, m: Mount, got: Mount | None) -> list[Difference]:
    """The writable-volume facet of one mount: there, and writable exactly when the cluster's is."""
    want = f"a {'read-only' if m.read_only else 'writable'} {m.type} volume ({m.source})"
    if got is None or got.source == NOT_A_MOUNT:
        return [Difference(container, m.path, "volume", want, "no mount",
                           "what the pod writes here goes to the container's own layer (or fails on a read-only "
                           "root filesystem) and is not shared with the pod's other containers")]
    if got.read_only != m.read_only:
        return [Difference(container, m.path, "volume", want,
                           f"a {'read-only' if got.read_only else 'writable'} mount ({got.source})",
                           "writes fail here" if got.read_only else "the cluster refuses writes here")]
    return []


def extra_writable(container: str, expected: ContainerLayout, declared: list[tuple[str, bool, str]]) -> list[Difference]:
    """Writable mounts the Docker side declares where the cluster has no mount: ``declared`` is
    (target, read_only, what) of each mount a compose service (or its container) declares itself."""
    paths = {m.path for m in expected.mounts}
    return [Difference(container, target, "volume", "no mount", f"a writable mount ({what})",
                       "the cluster gives this container no volume here: what it writes is shared or kept here only")
            for target, read_only, what in declared if not read_only and target not in paths]


def termination_log(container: str, path: str, declared: list[tuple[str, bool, str]]) -> list[Difference]:
    """The kubelet's termination-message file (``kubelet.termination_log_paths``): a writable mount at
    the container's ``terminationMessagePath`` among those the Docker side declares (as for
    ``extra_writable``, whose check leaves this path to this one)."""
    found = [(read_only, what) for target, read_only, what in declared if target == path]
    want = "a writable file (the kubelet's termination-message file, 0666)"
    if not found:
        return [Difference(container, path, "volume", want, "no mount",
                           "what the container writes here on exit (why it ended) goes to its own layer, or fails, "
                           "and is read nowhere")]
    read_only, what = found[-1]
    if read_only:
        return [Difference(container, path, "volume", want, f"a read-only mount ({what})", "writes fail here")]
    return []


def _without_pod_writes(layout: ContainerLayout, by: ContainerLayout | None = None,
                        absent: set[str] = frozenset()) -> ContainerLayout:
    """``layout`` without what the pod writes in writable volumes (``by``'s, default its own): only
    the mounted directory itself is kept where ``by`` predicts it (an emptyDir's root), unless the
    mount is ``absent`` on the other side."""
    by = by or layout
    writable = {m.path for m in by.mounts if m.writable_volume}
    predicted = {e.path for e in by.entries} - set(absent)

    def keep(path: str) -> bool:
        m = by.mount_for(path)
        return m is None or m.path not in writable or (path == m.path and path in predicted)

    return ContainerLayout(layout.name, layout.init, layout.mounts, [e for e in layout.entries if keep(e.path)])


def _summary(e: Entry) -> str:
    if e.type == FILE:
        return f"{mode_string(e.type, e.mode)} {e.uid}:{e.gid} {e.size} bytes {short_digest(e.sha256)}"
    return f"{mode_string(e.type, e.mode)} {e.uid}:{e.gid}"


def _compare_attrs(container: str, path: str, e: Entry, a: Entry, ignore: frozenset[str]) -> list[Difference]:
    out = []
    if e.type == FILE and not e.volatile and e.sha256 and a.sha256 and e.sha256 != a.sha256:
        out.append(Difference(container, path, "content", f"{e.size} bytes {short_digest(e.sha256)}",
                              f"{a.size} bytes {short_digest(a.sha256)}"))
    if "modes" not in ignore and e.mode != a.mode:
        out.append(Difference(container, path, "mode", f"{e.mode:04o} {mode_string(e.type, e.mode)}",
                              f"{a.mode:04o} {mode_string(a.type, a.mode)}"))
    if "owners" not in ignore and (e.uid, e.gid) != (a.uid, a.gid):
        out.append(Difference(container, path, "owner", f"{e.uid}:{e.gid}", f"{a.uid}:{a.gid}"))
    return out


def _compare_raw(container: str, expected: ContainerLayout, actual: ContainerLayout,
                 ignore: frozenset[str], backing: set[str] = frozenset()) -> list[Difference]:
    """The kubelet's structure: internals and the kind of each top-level name. A mount whose
    ``..data`` is missing altogether is one difference, not one per entry. An internal entry that a
    user-visible path resolves to (``..<timestamp>/key`` behind ``key``; ``backing``, canonical
    paths) was compared in the visible pass: comparing it again would report one fault twice."""
    out = []
    exp = {_canonical(e.path): e for e in expected.entries}
    act = {_canonical(e.path): e for e in actual.entries}
    flat_mounts = [m.path for m in expected.mounts
                   if f"{m.path}/{DATA_DIR_NAME}" in exp and f"{m.path}/{DATA_DIR_NAME}" not in act]
    for m in flat_mounts:
        inside = [p for p in exp if p.startswith(m + "/") and _is_internal(p)]
        out.append(Difference(container, f"{m}/{DATA_DIR_NAME}", "structure", f"{DATA_DIR_NAME} -> ..<timestamp>/ "
                              f"({len(inside) - 1} entries inside)", "absent",
                              f"no kubelet structure: applications that watch {DATA_DIR_NAME} for updates will not "
                              "see one, and top-level names are not symlinks"))

    def in_flat(path: str) -> bool:
        return any(path.startswith(m + "/") for m in flat_mounts)

    for path in sorted(set(exp) | set(act)):
        e, a = exp.get(path), act.get(path)
        internal = _is_internal(path)
        if in_flat(path) and (internal or (e is not None and e.type == SYMLINK)):
            continue
        if internal and path in backing:
            continue
        if not internal and e is not None and a is not None and SYMLINK not in (e.type, a.type):
            continue  # a plain file or directory here is a user-visible path: compared in the visible pass
        if e is None or a is None:
            if internal and e is not None:
                out.append(Difference(container, path, "structure", _describe(e), "absent"))
            elif internal and a is not None:
                out.append(Difference(container, path, "structure", "absent", _describe(a)))
            continue  # a missing or extra user-visible name was reported in the visible pass
        if e.type != a.type or (e.type == SYMLINK and _canonical(e.target or "") != _canonical(a.target or "")):
            out.append(Difference(container, path, "structure" if internal else "type", _describe(e),
                                  _describe(a)))
        elif internal and e.type != SYMLINK:
            out.extend(_compare_attrs(container, path, e, a, ignore))
    return out
