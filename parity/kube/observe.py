"""``--observed``: what a running pod's container really has under its secret-ish mounts.

The model predicts; this reads the truth, in the same ``parity.layout`` model, so the two can be
compared (does the model hold on this cluster?). One small ``sh`` script runs in the container
through the exec API and prints, for everything under each secret/configMap/projected/downwardAPI
mount: path, raw mode (type and special bits), uid, gid, size, symlink target and the sha256 of
regular files. No file contents leave the pod. Fields are NUL-terminated, so any file name (spaces,
newlines, backslashes) comes back unambiguously. Only ``sh``, ``find``, ``stat``, ``sha256sum`` and
``readlink`` are needed: busybox and coreutils both have them.
"""

from __future__ import annotations

import dataclasses
import json
import re
import stat as st
from dataclasses import dataclass

from ..errors import ParityError, Problem
from ..layout import DIR, FILE, SYMLINK, ContainerLayout, Entry, Mount, WorkloadLayout
from .cluster import Connection, connect
from .kubelet import container_mounts, source_name
from .manifests import Workload, load_objects
from .podspec import Container, Resources, Volume

EXEC_TIMEOUT = 120  # seconds for the whole listing
UNREADABLE = "unreadable by the container's user"

#: argv after ``sh -c SCRIPT sh``: the mount table, then pairs (mount path, the same path escaped the
#: way /proc/mounts writes it). Records, every field NUL-terminated:
#:   M <mount path> <mount options from the table, "" if none>
#:   E <path> "<raw mode hex> <uid> <gid> <size>" <symlink target or ""> <sha256, "?" if unreadable, or "">
LISTING_SCRIPT = r"""
tab=$1; shift; rc=0
while [ $# -ge 2 ]; do
  m=$1; esc=$2; shift 2
  opts=
  while read -r _dev mnt _fs o _rest; do
    if [ "$mnt" = "$esc" ]; then opts=$o; fi
  done < "$tab"
  printf 'M\0%s\0%s\0' "$m" "$opts"
  find "$m" -xdev -exec sh -c '
    for f in "$@"; do
      t=; h=
      if [ -L "$f" ]; then t=$(readlink "$f")
      elif [ -f "$f" ]; then h=$(sha256sum 2>/dev/null <"$f") && h=${h%% *} || h="?"; fi
      printf "E\0%s\0%s\0%s\0%s\0" "$f" "$(stat -c "%f %u %g %s" "$f")" "$t" "$h"
    done' sh {} + || rc=1
done
exit $rc
"""


def proc_mounts_escape(path: str) -> str:
    """A path as the kernel writes it in /proc/mounts: space, tab, newline and backslash octal-escaped."""
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


def listing_argv(mount_paths: list[str], mount_table: str = "/proc/mounts") -> list[str]:
    argv = ["sh", "-c", LISTING_SCRIPT, "sh", mount_table]
    for path in mount_paths:
        argv += [path, proc_mounts_escape(path)]
    return argv


@dataclass
class Listing:
    options: dict[str, str]  # mount path -> its options in the mount table ("" when it is no mount point)
    entries: list[Entry]


def parse_listing(data: bytes) -> Listing:
    """The script's output -> mount options and entries. Raises ParityError on anything malformed."""
    fields = data.split(b"\0")
    if fields[-1] != b"":
        raise ParityError("the listing from the container is truncated")
    fields.pop()
    options: dict[str, str] = {}
    entries: dict[str, Entry] = {}
    i = 0
    while i < len(fields):
        tag = fields[i]
        if tag == b"M" and i + 2 < len(fields):
            options[_text(fields[i + 1])] = _text(fields[i + 2])
            i += 3
        elif tag == b"E" and i + 4 < len(fields):
            entry = _entry(*(fields[i + 1:i + 5]))
            entries[entry.path] = entry
            i += 5
        else:
            raise ParityError(f"the listing from the container is malformed at field {i}")
    return Listing(options, sorted(entries.values(), key=lambda e: e.path))


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _entry(raw_path: bytes, raw_stat: bytes, raw_target: bytes, raw_sha: bytes) -> Entry:
    path = _text(raw_path)
    parts = raw_stat.split()
    if len(parts) != 4:
        raise ParityError(f"cannot stat {path!r} in the container (did the volume change while it was listed?)")
    raw_mode, uid, gid, size = int(parts[0], 16), int(parts[1]), int(parts[2]), int(parts[3])
    mode = st.S_IMODE(raw_mode)
    clean = re.sub("/{2,}", "/", path)  # some finds print DIR//NAME for a start path ending in "/"
    if st.S_ISDIR(raw_mode):
        return Entry(clean, DIR, mode, uid, gid)
    if st.S_ISLNK(raw_mode):
        return Entry(clean, SYMLINK, mode, uid, gid, target=_text(raw_target))
    if st.S_ISREG(raw_mode):
        sha = raw_sha.decode("ascii", "replace")
        if sha == "?":
            return Entry(clean, FILE, mode, uid, gid, size, None, volatile=UNREADABLE)
        return Entry(clean, FILE, mode, uid, gid, size, sha)
    kind = {st.S_IFIFO: "a fifo", st.S_IFSOCK: "a socket", st.S_IFCHR: "a character device",
            st.S_IFBLK: "a block device"}.get(st.S_IFMT(raw_mode), "not a regular file")
    return Entry(clean, FILE, mode, uid, gid, None, None, volatile=kind)


def container_layout(ctr: Container, volumes: list[Volume], listing: Listing) -> ContainerLayout:
    """The listing as the model shows a container: only what the innermost mount at each path holds,
    and only for secret/configMap/projected/downwardAPI volumes (others hide what is beneath them)."""
    by_name = {v.name: v for v in volumes}
    mounts = [(vm.mount_path, by_name.get(vm.name)) for vm in ctr.volume_mounts]

    def modelled_at(path: str) -> bool:
        holders = [(mp, v) for mp, v in mounts if path == mp or path.startswith(mp.rstrip("/") + "/")]
        if not holders:
            return False
        _, volume = max(holders, key=lambda mv: len(mv[0]))
        return volume is not None and volume.modelled

    entries = [e for e in listing.entries if modelled_at(e.path)]
    out_mounts = []
    for vm in ctr.volume_mounts:
        volume = by_name.get(vm.name)
        if volume is not None and volume.modelled:
            read_only = "ro" in listing.options.get(vm.mount_path, "").split(",")
            out_mounts.append(Mount(vm.mount_path, vm.name, read_only, vm.sub_path, source_name(volume), volume.type))
    return ContainerLayout(ctr.name, ctr.init, out_mounts, entries)


# ---------------------------------------------------------------------------------------------
# The cluster side


def observed_layout(pod_name: str, *, container: str | None, context: str | None, namespace: str | None,
                    kubeconfig: str | None) -> WorkloadLayout:
    """What ``container`` (default: kubectl's default container) of the running pod has under its
    modelled mounts, read through one exec call."""
    return observed_pod(pod_name, containers=[container], context=context, namespace=namespace,
                        kubeconfig=kubeconfig)


def observed_pod(pod_name: str, *, containers: list[str | None] | None = None, context: str | None,
                 namespace: str | None, kubeconfig: str | None) -> WorkloadLayout:
    """The running pod's containers (all running ones when ``containers`` is None), one exec each.
    Containers that are not running (finished init containers) are left out."""
    return read_pod(pod_name, containers=containers, context=context, namespace=namespace,
                    kubeconfig=kubeconfig).layout


@dataclass(frozen=True)
class ObservedPod:
    """A running pod as read from the cluster.

    Attributes:
        layout: what its running containers have under their file mounts (one exec each).
        workload: the pod itself, as the API server holds it (admission's additions included), each
            container's resources as the kubelet enacted them where the status says (``enacted``).
    """

    layout: WorkloadLayout
    workload: Workload

    @property
    def unlisted(self) -> list[Container]:
        """The pod's containers whose files were not listed (not running: a finished init container)."""
        listed = {c.name for c in self.layout.containers}
        return [ctr for ctr in self.workload.spec.all_containers if ctr.name not in listed]

    def mounted(self) -> WorkloadLayout:
        """Every container of the pod in spec order, as the prediction shows one: the listed files,
        and the writable mounts (emptyDir, claims, hostPath, ephemeral) from the spec, under which the
        listing reads nothing; an ``unlisted`` container has its writable mounts only."""
        declared = {v.name: v for v in self.workload.spec.volumes}
        out = []
        for ctr in self.workload.spec.all_containers:
            c = self.layout.container(ctr.name) or ContainerLayout(ctr.name, ctr.init, [], [])
            writable = [m for m in container_mounts(ctr, declared) if m.writable_volume]
            out.append(ContainerLayout(c.name, c.init, c.mounts + writable, c.entries))
        return WorkloadLayout(self.layout.kind, self.layout.name, self.layout.namespace, out)


@dataclass(frozen=True)
class PodContainerStatus:
    """What parity reads of one entry of the pod's ``initContainerStatuses`` or ``containerStatuses``
    (k8s.io/api core/v1 ``ContainerStatus``)."""

    name: str
    init: bool  # listed under initContainerStatuses (native sidecars too)
    #: The member its ``state`` sets: running, waiting or terminated (the kubelet sets one); None when
    #: the status says none.
    state: str | None
    #: ``resources``: "the compute resource requests and limits that have been successfully enacted on
    #: the running container" (in-place resize, KEP 1287), which the spec's are not while a resize is
    #: pending; None in statuses without it (clusters before in-place resize).
    resources: Resources | None = None


@dataclass(frozen=True)
class PodStatus:
    """The pod's ``status`` as parity reads it, parsed once (``parse``); a member of another shape
    than the API's is read as absent."""

    phase: str  # "unknown" when not said
    containers: tuple[PodContainerStatus, ...] = ()

    @classmethod
    def parse(cls, pod: dict) -> "PodStatus":
        """The status of ``pod`` (the API server's object).

        Args:
            pod: the pod as the API server returns it.

        Returns:
            Its phase and its containers' statuses, init containers' first, each list in its order.
        """
        status = pod.get("status") if isinstance(pod.get("status"), dict) else {}
        found = []
        for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
            items = status.get(key)
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                    continue
                state = item.get("state") if isinstance(item.get("state"), dict) else {}
                res = item.get("resources")
                found.append(PodContainerStatus(
                    item["name"], init, "running" if "running" in state else next(iter(state), None),
                    Resources(_quantities(res.get("requests")), _quantities(res.get("limits")))
                    if isinstance(res, dict) else None))
        phase = status.get("phase")
        return cls(phase if isinstance(phase, str) and phase else "unknown", tuple(found))

    def of(self, ctr: Container) -> PodContainerStatus | None:
        """``ctr``'s status (None when the pod's status does not list it)."""
        return next((c for c in self.containers if (c.init, c.name) == (ctr.init, ctr.name)), None)

    def running(self, ctr: Container) -> bool:
        """Whether ``ctr`` runs, as the status says."""
        found = self.of(ctr)
        return found is not None and found.state == "running"


def enacted(workload: Workload, status: PodStatus) -> Workload:
    """``workload`` with each container's resources as its status reports them enacted
    (``PodContainerStatus.resources``); a container whose status has none keeps the spec's, which is
    then what runs."""
    def one(ctr: Container) -> Container:
        found = status.of(ctr)
        if found is None or found.resources is None:
            return ctr
        return dataclasses.replace(ctr, resources=found.resources)

    if not any(c.resources is not None for c in status.containers):
        return workload
    spec = dataclasses.replace(workload.spec, init_containers=[one(c) for c in workload.spec.init_containers],
                               containers=[one(c) for c in workload.spec.containers])
    return dataclasses.replace(workload, spec=spec)


def _quantities(value) -> dict[str, str]:
    return {k: str(v) for k, v in value.items() if isinstance(k, str)} if isinstance(value, dict) else {}


def read_pod(pod_name: str, *, containers: list[str | None] | None = None, context: str | None,
             namespace: str | None, kubeconfig: str | None) -> ObservedPod:
    """The running pod: its spec and status (one GET) and its containers' file mounts (one exec each).

    Args:
        pod_name: the pod.
        containers: the containers to list (None in the list: kubectl's default container); None:
            every running one (finished init containers are left out).
        context, namespace, kubeconfig: as kubectl takes them.

    Returns:
        The pod as read.

    Raises:
        ParityError: the pod cannot be read, a chosen container is not running or cannot be listed.
    """
    conn = connect(context=context, namespace=namespace, kubeconfig=kubeconfig)
    layouts = []
    try:
        pod = conn.get("Pod", pod_name)
        assert pod is not None
        (workload,) = load_objects([pod], conn.label, conn.namespace).workloads
        status = PodStatus.parse(pod)
        if containers is None:
            chosen = [c for c in workload.spec.all_containers if status.running(c)]
        else:
            chosen = [_pick_container(conn, workload, name) for name in containers]
        modelled = {v.name for v in workload.spec.volumes if v.modelled}
        for ctr in chosen:
            _check_running(conn, status, workload.name, ctr)
            paths = [vm.mount_path for vm in ctr.volume_mounts if vm.name in modelled]
            listing = _run_listing(conn, pod_name, ctr.name, paths) if paths else Listing({}, [])
            layouts.append(container_layout(ctr, workload.spec.volumes, listing))
    finally:
        conn.close()
    return ObservedPod(WorkloadLayout("Pod", workload.name, workload.namespace, layouts), enacted(workload, status))


def _pick_container(conn: Connection, workload: Workload, name: str | None) -> Container:
    where = dict(file=conn.label, obj=f"Pod/{workload.name}")
    containers = workload.spec.all_containers
    if not name:  # as kubectl exec: the default-container annotation, else the first container
        name = workload.pod_annotations.get("kubectl.kubernetes.io/default-container")
        regular = [c for c in containers if not c.init]
        if not name and regular:
            name = regular[0].name
    chosen = next((c for c in containers if c.name == name), None)
    if chosen is None:
        have = ", ".join(c.name for c in containers)
        raise ParityError(Problem(f'no container "{name}" (containers: {have})', **where))
    return chosen


def _check_running(conn: Connection, status: PodStatus, pod_name: str, ctr: Container) -> None:
    if not status.running(ctr):
        found = status.of(ctr)
        now = found.state if found is not None and found.state else "unknown"
        raise ParityError(Problem(f'container "{ctr.name}" is not running (state {now}, pod phase '
                                  f'{status.phase}); only a running container can be listed',
                                  file=conn.label, obj=f"Pod/{pod_name}"))


def _run_listing(conn: Connection, pod_name: str, container: str, paths: list[str]) -> Listing:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.stream import stream

    ref = f"Pod/{pod_name}"
    core = client.CoreV1Api(conn.api_client)
    try:
        ws = stream(core.connect_get_namespaced_pod_exec, pod_name, conn.namespace, command=listing_argv(paths),
                    container=container, stdin=False, stdout=True, stderr=True, tty=False,
                    _preload_content=False, binary=True)
    except ApiException as exc:  # the websocket client wraps every failure, handshake refusals included
        raise _exec_error(conn, exc, ref) from None
    try:
        ws.run_forever(timeout=EXEC_TIMEOUT)
        timed_out = ws.is_open()
        out, err, status = ws.read_channel(1), ws.read_channel(2), ws.read_channel(3)
    finally:
        ws.close()
    where = dict(file=conn.label, obj=ref)
    if timed_out:
        raise ParityError(Problem(f"the listing in container {container!r} took longer than {EXEC_TIMEOUT}s",
                                  **where))
    _check_status(status, err, container, where)
    return parse_listing(out)


def _check_status(status: bytes, err: bytes, container: str, where: dict) -> None:
    """Channel 3 carries a ``Status``: Success, or why the command failed (never our output)."""
    try:
        doc = json.loads(status.decode("utf-8", "replace")) if status else {}
    except ValueError:
        doc = {}
    if doc.get("status") == "Success":
        return
    stderr = err.decode("utf-8", "replace").strip().splitlines()
    if doc.get("reason") == "NonZeroExitCode":
        causes = (doc.get("details") or {}).get("causes") or [{}]
        code = causes[0].get("message", "?")
        detail = f": {stderr[0]}" if stderr else ""
        raise ParityError(Problem(f"the listing failed in container {container!r} (exit code {code}){detail}",
                                  **where))
    if not doc:
        raise ParityError(Problem(f"the exec stream from container {container!r} ended without a status", **where))
    message = str(doc.get("message") or doc.get("reason") or "unknown failure").splitlines()[0]
    raise ParityError(Problem(f"cannot run sh in container {container!r}: {message[:300]}", **where))


def _exec_error(conn: Connection, exc: BaseException, ref: str) -> ParityError:
    """The websocket client reports a refused upgrade as text ("Handshake status 403 Forbidden ...")."""
    m = re.search(r"Handshake status (\d{3})", str(getattr(exc, "reason", "") or exc))
    if m:
        return conn.error(_Status(int(m.group(1))), "create", "pods/exec", ref)
    return conn.error(exc, "create", "pods/exec", ref)


class _Status(Exception):
    """An HTTP status without a body, for ``Connection.error``."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status, self.reason, self.body = status, "", None
