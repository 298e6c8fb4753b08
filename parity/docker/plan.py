"""From a workload and its predicted layout to a Docker plan: what to build, create and mount.

The plan is the intermediate object every Docker-side emitter reads (compose.yaml, docker.sh,
the data image's build context, ``parity up``), so the mapping decisions live here once:

- each modelled Kubernetes volume becomes one named Docker volume, named after its content
  digest (a changed Secret gets a new volume: Docker fills a volume from an image only when it
  is empty, so reusing a name would serve stale bytes);
- a data-only image holds every volume tree, with exact modes, owners and symlinks, under
  ``/parity/volumes/<volume>``; a data container that mounts the empty named volumes there fills
  them by copy-up (the volume root takes the image directory's mode and owner: 1777, 3777...);
- each app container mounts the named volumes at its own mountPaths, read-only and ``nocopy``
  (so the app image's files there stay hidden, as in the cluster);
- subPath mounts, which Docker volumes cannot express before API 1.45, become read-only bind
  mounts of a host file (or directory) materialised with the predicted bytes, mode and owner.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass, field

from ..layout import ContainerLayout, Entry, Mount, VolumeLayout, WorkloadLayout
from ..kube.manifests import Inputs, Workload
from ..kube.podspec import Container
from .env import ContainerEnv, container_env
from .labels import LABEL_CONTAINER, LABEL_DIGEST, LABEL_PROJECT, LABEL_ROLE, LABEL_WORKLOAD, ROLE_DATA

DATA_ROOT = "/parity/volumes"
DATA_SERVICE = "parity-data"
SUBPATH_DIR = "subpath"  # in the output directory: the files subPath mounts bind
DEFAULT_BASE_IMAGE = "busybox:latest"


@dataclass(frozen=True)
class DataVolume:
    """A Kubernetes volume as a named Docker volume filled from the data image."""

    key: str  # the Kubernetes volume name (compose's volume key)
    docker_name: str
    digest: str
    tree: VolumeLayout

    @property
    def image_path(self) -> str:
        return f"{DATA_ROOT}/{self.key}"


@dataclass(frozen=True)
class VolumeMountPlan:
    volume: str  # DataVolume.key
    target: str


@dataclass(frozen=True)
class BindPlan:
    """A subPath mount: host path (relative to the output directory) bound read-only at target."""

    host_path: str
    target: str
    entries: tuple[Entry, ...]  # relative to the bound path ("" is the file or directory itself)


@dataclass
class ServicePlan:
    name: str
    init: bool
    image: str
    entrypoint: list[str] | None
    command: list[str] | None
    env: ContainerEnv
    working_dir: str | None
    user: str | None
    group_add: list[str]
    read_only_rootfs: bool
    expose: list[str]
    ports: list[str]
    volumes: list[VolumeMountPlan]
    binds: list[BindPlan]
    depends_on: list[str]  # services that must have completed successfully first
    restart: str
    hostname: str
    tty: bool
    stdin_open: bool
    labels: dict[str, str]
    started_after: list[str] = field(default_factory=list)  # services that must have started first
    sidecar: bool = False  # a native sidecar (see podspec.Container.sidecar): init is False, it keeps running


@dataclass
class DockerPlan:
    kind: str
    name: str
    namespace: str
    project: str
    data_image: str
    base_image: str
    flat: bool
    volumes: list[DataVolume]
    services: list[ServicePlan]
    contents: dict[str, bytes] = field(repr=False)
    differences: list[str] = field(default_factory=list)  # what still differs from the cluster, and why

    @property
    def workload_ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def content_digest(self) -> str:
        h = hashlib.sha256(self.base_image.encode())
        for v in self.volumes:
            h.update(f"{v.key}={v.digest}\n".encode())
        return h.hexdigest()

    # Engine object names. A project name never holds '.'; container and volume names (DNS-1123
    # labels) hold neither '.' nor '_'. So "PROJECT.NAME" splits at its first '.', and a '_' suffix
    # says the role: no two workloads, and no two objects of one, ever share a name (a '-' join did:
    # project parity-pod-a with container b-c was project parity-pod-a-b with container c).
    @property
    def data_container(self) -> str:
        """The data-only container's name (parity up, docker.sh)."""
        return f"{self.project}_data"

    def container_name(self, service: "ServicePlan") -> str:
        """A service's container name (parity up, docker.sh)."""
        return f"{self.project}.{service.name}"

    def mounts_container(self, service: "ServicePlan") -> str:
        """docker.sh: the data-only container holding a service's mounts (``--volumes-from``)."""
        return f"{self.project}.{service.name}_mounts"

    def volume_name(self, volume: "DataVolume") -> str:
        """``parity up``'s volume for a Kubernetes volume (stable: updated in place)."""
        return f"{self.project}.{volume.key}"

    def data_labels(self) -> dict[str, str]:
        return {LABEL_WORKLOAD: self.workload_ref, LABEL_ROLE: ROLE_DATA, LABEL_PROJECT: self.project,
                LABEL_DIGEST: f"sha256:{self.content_digest}"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


#: Compose's rule for project names (compose-go loader: lowercase letters, digits, '-' and '_',
#: starting with a letter or digit); parity's names are prefixes of container/volume/image names too.
_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")


def check_project_name(name: str) -> str:
    """A project name given by the user (``-p``), checked as Compose checks it.

    Raises:
        ValueError: the name would not be accepted by Compose as a project name.
    """
    if not _PROJECT_NAME.match(name):
        raise ValueError(f"invalid project name {name!r}: lowercase letters, digits, '-' and '_' only, "
                         f"starting with a letter or digit (as Compose's -p)")
    return name


_READABLE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def project_name(kind: str, name: str, namespace: str = "default") -> str:
    """The compose project / object-name prefix for a workload, one per (namespace, kind, name).

    ``parity-<kind>-<name>`` when that says it all: the namespace is ``default`` and the name is a
    DNS-1123 label (no dots, at most 63 characters). Otherwise the readable part loses what a
    project name cannot hold ('.' becomes '-', long names are cut) and a digest of the identity
    keeps it apart: ``parity-pod-a-b_<16 hex>`` for ``a.b``, which is not ``parity-pod-a-b`` (a
    readable name never holds '_').
    """
    readable = f"parity-{_slug(kind)}-"
    if namespace == "default" and _READABLE.fullmatch(name):
        return readable + name
    digest = hashlib.sha256(f"{namespace}/{kind}/{name}".encode()).hexdigest()[:16]
    return f"{readable}{_slug(name)[:40].strip('-')}_{digest}"


def flatten(volume: VolumeLayout) -> VolumeLayout:
    """``--flat``: the user-visible tree only (no ``..data``, timestamped directory or links)."""
    view = ContainerLayout("flat", False, [Mount("/v", volume.name, True)],
                           [e.moved("/v" + ("/" + e.path if e.path else "")) for e in volume.entries])
    entries = [e.moved(p[3:]) for p, e in view.visible()]
    return VolumeLayout(volume.name, volume.source, entries)


def pod_hostname(pod_name: str) -> str:
    """The kubelet's ``truncatePodHostnameIfNeeded``: at most 63 characters, without a trailing
    '-' or '.' (a pod name may have 253; the kernel takes 64 bytes with the terminating NUL)."""
    return pod_name if len(pod_name) <= 63 else pod_name[:63].rstrip("-.")


def build_plan(workload: Workload, layout: WorkloadLayout, inputs: Inputs, *, flat: bool = False,
               base_image: str = DEFAULT_BASE_IMAGE, project: str | None = None) -> DockerPlan:
    if not base_image or any(not ch.isprintable() or ch.isspace() for ch in base_image):
        raise ValueError(f"--base-image {base_image!r}: an image reference has no spaces or control characters")
    project = project or project_name(workload.kind, workload.name, workload.namespace)
    trees = [flatten(v) if flat else v for v in layout.volumes]
    volumes = []
    for tree in trees:
        digest = tree.digest()
        volumes.append(DataVolume(tree.name, f"{project}.{tree.name}_{digest[:12]}", digest, tree))
    names = {c.name for c in workload.spec.all_containers}
    if DATA_SERVICE in names:
        raise ValueError(f"a container is named {DATA_SERVICE!r}, the name parity gives the data service")
    plan = DockerPlan(workload.kind, workload.name, workload.namespace, project, "", base_image, flat, volumes, [],
                      dict(layout.contents))
    plan.data_image = f"{project}-data:{plan.content_digest[:12]}"
    last_init: Container | None = None  # each container waits for the init container before it
    for ctr, ctr_layout in zip(workload.spec.all_containers, layout.containers):
        service = _service(workload, ctr, ctr_layout, inputs, plan)
        if last_init is not None:
            (service.started_after if last_init.sidecar else service.depends_on).append(last_init.name)
        if ctr.init:
            last_init = ctr
        plan.services.append(service)
        plan.differences.extend(f"{ctr.name}: {note}" for note in service.env.notes)
    plan.differences.extend(f"{ctr.name}: {note}" for ctr, _, note in workload.spec.unreproduced_mounts())
    plan.differences.extend(_volatile_notes(layout))
    return plan


def _service(w: Workload, ctr: Container, layout: ContainerLayout, inputs: Inputs, plan: DockerPlan) -> ServicePlan:
    raw = ctr.raw
    pod_sc = w.spec.security
    uid = ctr.security.run_as_user if ctr.security.run_as_user is not None else pod_sc.run_as_user
    gid = ctr.security.run_as_group if ctr.security.run_as_group is not None else pod_sc.run_as_group
    user = None if uid is None else (f"{uid}:{gid}" if gid is not None else str(uid))
    groups = ([str(w.spec.fs_group)] if w.spec.fs_group is not None else []) + \
        [str(g) for g in w.spec.supplemental_groups if g != w.spec.fs_group]
    env = container_env(w, ctr, inputs)
    volumes: list[VolumeMountPlan] = []
    binds: list[BindPlan] = []
    shown = layout.shown_by()
    for i, m in enumerate(layout.mounts):
        if m.sub_path is None:
            volumes.append(VolumeMountPlan(m.volume, m.path))
            continue
        own = tuple(e.moved("" if e.path == m.path else e.path[len(m.path) + 1:])
                    for e in shown.get(m, []))
        # The host file's name: the mount index makes it unique, the mountPath's last part readable
        # (only safe characters of it: a mountPath may hold anything the API server allows).
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", posixpath.basename(m.path)) or "root"
        binds.append(BindPlan(f"{SUBPATH_DIR}/{ctr.name}/{i}-{readable[:64]}", m.path, own))
    expose, ports = [], []
    for p in raw.get("ports") or []:
        if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
            proto = str(p.get("protocol") or "TCP").lower()
            expose.append(f"{p['containerPort']}/{proto}")
            if isinstance(p.get("hostPort"), int):
                ports.append(f"{p['hostPort']}:{p['containerPort']}/{proto}")
    # The API server defaults restartPolicy to Always; a Job's template must say OnFailure or Never.
    policy = w.spec.restart_policy or ("Never" if w.kind in ("Job", "CronJob") else "Always")
    if ctr.sidecar:  # restarted whenever it exits, whatever the pod's restartPolicy
        restart = "unless-stopped"
    else:
        restart = "no" if ctr.init else {"Always": "unless-stopped", "OnFailure": "on-failure", "Never": "no"}[policy]
    command = raw.get("command")
    args = raw.get("args")
    return ServicePlan(
        name=ctr.name, init=ctr.init and not ctr.sidecar, sidecar=ctr.sidecar, image=ctr.image,
        entrypoint=[env.expand(str(x)) for x in command] if isinstance(command, list) else None,
        command=[env.expand(str(x)) for x in args] if isinstance(args, list) else ([] if command else None),
        env=env, working_dir=raw.get("workingDir") if isinstance(raw.get("workingDir"), str) else None,
        user=user, group_add=groups, read_only_rootfs=bool(ctr.security.read_only_root_filesystem),
        expose=expose, ports=ports, volumes=volumes, binds=binds, depends_on=[], restart=restart,
        hostname=pod_hostname(w.pod_name), tty=raw.get("tty") is True, stdin_open=raw.get("stdin") is True,
        labels={LABEL_WORKLOAD: plan.workload_ref, LABEL_CONTAINER: ctr.name, LABEL_PROJECT: plan.project},
    )


def _volatile_notes(layout: WorkloadLayout) -> list[str]:
    notes = set()
    for c in layout.containers:
        for path, e in c.visible_files():
            if e.volatile:
                notes.add(f"{c.name}: {path} holds a placeholder: {e.volatile}")
    return sorted(notes)
