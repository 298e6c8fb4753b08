"""The Docker plan (built by ``planner.py`` from the workloads and their predicted layouts): what to build,
create and mount.

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
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..layout import Entry, VolumeLayout
from ..kube.manifests import Workload
from ..kube.podspec import HostAlias
from ..kube.services import CLUSTER_DOMAIN, HostPort, PortForward, pod_hostname as pod_identity
from .env import ContainerEnv
from .health import HealthCheck
from .security import SecuritySettings
from .labels import LABEL_DIGEST, LABEL_NAMESPACE, LABEL_PROJECT, LABEL_ROLE, LABEL_VOLUME, LABEL_WORKLOAD, ROLE_DATA, \
    ROLE_SANDBOX


def workload_subject(kind: str, name: str, namespace: str, shares_ref: bool) -> str:
    """A workload as notes name it (``PodPlan.subject``, ``diff``'s notes): ``KIND/NAME``, or
    ``NAMESPACE/KIND/NAME`` (as ``--workload`` takes it) when another selected workload has the same
    kind and name."""
    return f"{namespace}/{kind}/{name}" if shares_ref else f"{kind}/{name}"


def shared_refs(workloads: Sequence[Workload]) -> list[bool]:
    """For each workload, whether another selected workload has the same kind and name (in another
    namespace): ``workload_subject``'s ``shares_ref``, one rule for k8s-to-docker's notes (``PodPlan``)
    and ``diff``'s, so that their subjects cannot drift apart.

    Args:
        workloads: the selected workloads, in input order.

    Returns:
        One flag per workload, in the same order.
    """
    counts = Counter(w.ref for w in workloads)
    return [counts[w.ref] > 1 for w in workloads]


def note_subjects(workloads: Sequence[Workload]) -> list[str]:
    """For each workload, the subject that starts a note said of its volumes or inputs (``said_of``):
    none (``""``) when the app is this one workload, whose pod is the app (as ``pod_keys`` gives it no
    key); else ``workload_subject``, with the namespace when ``shared_refs`` says so. One rule for
    k8s-to-docker's notes (``planner``) and diff's (``Expected.volume_notes``), which decided it apart:
    by the pod's key and by counting the workloads.

    Args:
        workloads: the selected workloads, in input order.

    Returns:
        One subject per workload, in the same order.
    """
    if len(workloads) == 1:
        return [""]
    return [workload_subject(w.kind, w.name, w.namespace, shares)
            for w, shares in zip(workloads, shared_refs(workloads))]


def said_of(subject: str, note: str) -> str:
    """``note`` as said of ``subject`` (``note_subjects``): ``SUBJECT: NOTE``, or the note alone."""
    return f"{subject}: {note}" if subject else note


def group_notes(notes: list[str], containers: set[str], workloads: set[str]) -> list[str]:
    """Notes ``SUBJECT: TEXT`` whose TEXT is the same for several subjects (a container's Compose service
    name, or a workload's ``KIND/NAME``), said once where the first was: ``a, b, c (3 containers): TEXT``
    (a whole app says the service-account placeholders of each of its containers: microservices-demo,
    24 lines). Every subject stays named; a note of one subject, or not of a known subject, is unchanged.

    Args:
        notes: the plan's notes, in order.
        containers: the subjects that are containers (Compose service names).
        workloads: the subjects that are workloads (``PodPlan.subject``: ``KIND/NAME``).

    Returns:
        The notes, grouped, in the order of each group's first note.
    """
    subjects = containers | workloads
    split = [n.split(": ", 1) if ": " in n else [None, n] for n in notes]
    split = [(s, t) if s in subjects else (None, n) for (s, t), n in zip(split, notes)]
    said: dict[str, list[str]] = {}
    for subject, text in split:
        if subject is not None and subject not in said.setdefault(text, []):
            said[text].append(subject)
    out, done = [], set()
    for (subject, text), note in zip(split, notes):
        if subject is None or len(said[text]) == 1:
            out.append(note)
        elif text not in done:
            done.add(text)
            names = said[text]
            kind = ("containers" if all(n in containers for n in names)
                    else "workloads" if all(n in workloads for n in names) else "of them")
            out.append(f"{', '.join(names)} ({len(names)} {kind}): {text}")
    return out


DATA_ROOT = "/parity/volumes"
DATA_SERVICE = "parity-data"
#: The pod sandbox's part of its service key (``PodPlan.sandbox``): holds '_', so it is never a container
#: name (a DNS-1123 label) nor a name a Service resolves (no Kubernetes DNS name holds '_').
SANDBOX = "pod_sandbox"
#: The sandbox's command: like the kubelet's pause container, it only holds the pod's namespaces, and
#: it exits at once on SIGTERM (a shell as PID 1 gets no default signal handling: the trap gives it one;
#: ``sleep & wait`` lets the trap run while it waits).
SANDBOX_COMMAND = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
SUBPATH_DIR = "subpath"  # in the output directory: the files subPath mounts bind
#: In the output directory: one empty file per container, bound read-write at its terminationMessagePath
#: (``ServicePlan.termination_file``; kube/kubelet.py ``termination_log_paths``).
TERMINATION_DIR = "termination"


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
    volume: str  # DataVolume.key or StoreVolume.key
    target: str
    read_only: bool = True  # the file volumes always; a writable volume as its mount (or claim) says


#: ``StoreVolume.kind``: what parity makes of a writable volume that is not filled from the data image.
CLAIM, EPHEMERAL, TMPFS = "claim", "ephemeral", "tmpfs"


@dataclass(frozen=True)
class StoreVolume:
    """A writable volume not filled from the data image (an emptyDir on disk is a ``DataVolume``
    whose tree is its root directory: the copy-up gives the root the kubelet's mode and owner).

    - ``claim``: a persistentVolumeClaim (or volumeClaimTemplates) of the app, one per namespace and
      claim name (pods naming the same claim share it), kept by ``parity down`` unless asked;
    - ``ephemeral``: a generic ephemeral volume, the pod's, removed with it;
    - ``tmpfs``: an emptyDir with ``medium: Memory``, a tmpfs volume of the local driver with the
      kubelet's size (``sizeLimit``) and root mode, held mounted by the pod's sandbox so that what the
      init containers write there is still there for the app (the local driver unmounts a tmpfs
      volume when its last container stops)."""

    key: str
    kind: str
    docker_name: str
    namespace: str = ""
    claim: str = ""
    size: int | None = None
    mode: int = 0o1777
    gid: int | None = None

    @property
    def driver_opts(self) -> dict[str, str]:
        """The local driver's options: a tmpfs mount (``o`` as mount(8) takes it), else none."""
        if self.kind != TMPFS:
            return {}
        o = ([f"size={self.size}"] if self.size else []) + [f"mode={self.mode:o}"]
        o += [f"gid={self.gid}"] if self.gid is not None else []
        return {"type": "tmpfs", "device": "tmpfs", "o": ",".join(o)}

    @property
    def hold_path(self) -> str:
        """Where the pod's sandbox mounts a tmpfs volume to keep it alive."""
        return f"{DATA_ROOT}/{self.key}"


@dataclass(frozen=True)
class HostPathPlan:
    """A hostPath mount: the host's ``source`` bound at ``target``, after the kubelet's ``type`` check."""

    source: str
    target: str
    read_only: bool
    type: str  # HostPathType: "" (no check), Directory, DirectoryOrCreate, File, FileOrCreate...
    field: str  # the volume's field, for messages (with the workload's file and KIND/NAME)
    file: str = ""
    obj: str = ""


@dataclass(frozen=True)
class BindPlan:
    """A subPath mount: host path (relative to the output directory) bound read-only at target."""

    host_path: str
    target: str
    entries: tuple[Entry, ...]  # relative to the bound path ("" is the file or directory itself)


@dataclass
class ServicePlan:
    name: str  # the compose service key (``service_key``): the container's name when the app is one pod
    container: str  # the Kubernetes container name
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
    security: SecuritySettings = field(default_factory=SecuritySettings)  # capabilities, privileges, limits
    health: HealthCheck | None = None  # the container's probe as a Docker health check (docker/health.py)
    host_paths: list[HostPathPlan] = field(default_factory=list)  # hostPath volumes: binds of the host's paths
    #: The container's terminationMessagePath (None: empty, no file): ``termination_file`` is bound there.
    termination: str | None = None
    #: ``imagePullPolicy: Never``: the image is never pulled, a missing one fails the container as the
    #: kubelet's ErrImageNeverPull does (Compose ``pull_policy: never``, ``docker run --pull never``, ``up``).
    pull_never: bool = False

    @property
    def termination_file(self) -> str:
        """The termination-message file, relative to the output (or ``up``'s state) directory: one per
        service (a service key holds only a DNS label's characters and '_')."""
        return f"{TERMINATION_DIR}/{self.name}"


@dataclass
class PodPlan:
    """One selected workload's pod: its containers (services), its volumes, its sandbox's identity."""

    kind: str
    name: str
    namespace: str
    key: str  # the pod's part of its service and volume keys ("" when the app is this one pod): pod_keys
    hostname: str  # the pod's host name (pod_host_and_domain)
    volumes: list[DataVolume]
    services: list[ServicePlan]
    differences: list[str] = field(default_factory=list)  # what still differs from the cluster, and why
    #: How the pod runs (``Workload.run``): ``service``; ``once`` (a Job: to completion, never started
    #: again); ``on-demand`` (a CronJob: never scheduled, its containers are made but started by hand).
    run: str = "service"
    domain: str = ""  # SUBDOMAIN.NAMESPACE.svc.CLUSTER_DOMAIN with spec.subdomain, else none
    host_aliases: list[HostAlias] = field(default_factory=list)  # spec.hostAliases: /etc/hosts entries
    #: Writable volumes not filled from the data image (claims are the app's: see AppPlan.claims).
    stores: list[StoreVolume] = field(default_factory=list)
    #: DNS names by which peers on the project network reach this pod (the sandbox's aliases: Services,
    #: ``kube/services.py``), from any namespace.
    aliases: list[str] = field(default_factory=list)
    #: The names that reach it only from its own namespace (``svc``, ``pod-0.svc``): on the project
    #: network too when that is unambiguous, else on its namespace's network (``pod_networks``).
    short_aliases: list[str] = field(default_factory=list)
    #: Service ports put on the host (on the sandbox: ``--publish``).
    published: list[HostPort] = field(default_factory=list)
    #: Service ports that arrive at another port of the pod (the sandbox forwards them).
    forwards: list[PortForward] = field(default_factory=list)
    #: The pod's network sysctls: set on the sandbox (``security.sandbox_sysctls``).
    sysctls: dict[str, str] = field(default_factory=dict)
    #: Another selected workload has the same kind and name (in another namespace): notes name this
    #: one with its namespace (``subject``).
    shares_ref: bool = False

    @property
    def workload_ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def subject(self) -> str:
        """The workload as the plan's notes name it: ``KIND/NAME``, or ``NAMESPACE/KIND/NAME`` (as
        ``--workload`` takes it) when another selected workload has the same kind and name: contour's
        install runs Deployment/contour in two namespaces, and its notes said the same line twice."""
        return workload_subject(self.kind, self.name, self.namespace, self.shares_ref)

    def identity_labels(self) -> dict[str, str]:
        """Whose an engine object is: the pod's workload and namespace (``LABEL_NAMESPACE``: two
        namespaces' workloads of one kind and name may share a project)."""
        return {LABEL_WORKLOAD: self.workload_ref, LABEL_NAMESPACE: self.namespace}

    @property
    def sandbox(self) -> str:
        """The service key of the pod's sandbox, the container that holds the pod's network namespace
        and host name (as the kubelet's pause container does): every container of the pod joins it."""
        return service_key(self.key, SANDBOX)

    @property
    def ports(self) -> tuple[list[str], list[str]]:
        """What the sandbox exposes and publishes: the containers' ports (Docker refuses both on a
        container that joins another's network namespace), then ``published``."""
        expose = [e for s in self.services for e in s.expose]
        ports = [p for s in self.services for p in s.ports]
        ports += [f"{h.host}:{h.target}/{h.protocol.lower()}" for h in self.published]
        return list(dict.fromkeys(expose)), list(dict.fromkeys(ports))

    def sandbox_labels(self, project: str) -> dict[str, str]:
        return {**self.identity_labels(), LABEL_ROLE: ROLE_SANDBOX, LABEL_PROJECT: project}


@dataclass
class AppPlan:
    """Every selected workload as one local environment: one compose project, one data image holding
    every pod's volume trees (under distinct keys), one docker.sh, one README."""

    project: str
    data_image: str
    base_image: str
    flat: bool
    pods: list[PodPlan]
    contents: dict[str, bytes] = field(repr=False)

    @property
    def volumes(self) -> list[DataVolume]:
        return [v for p in self.pods for v in p.volumes]

    @property
    def services(self) -> list[ServicePlan]:
        return [s for p in self.pods for s in p.services]

    @property
    def stores(self) -> list[StoreVolume]:
        """Every writable volume not filled from the data image, each once (a claim several pods name
        is one volume)."""
        return list({v.key: v for p in self.pods for v in p.stores}.values())

    @property
    def differences(self) -> list[str]:
        """What differs from the cluster, each note once: the same words said of several containers
        (or workloads) are one note that names them all (``group_notes``)."""
        containers = {s.name for s in self.services}
        workloads = {p.subject for p in self.pods}
        return group_notes([d for p in self.pods for d in p.differences], containers, workloads)

    @property
    def subject(self) -> str:
        """What the app is, in one phrase for headers and messages: ``KIND/NAME`` for one pod."""
        if len(self.pods) == 1:
            return self.pods[0].workload_ref
        return f"{len(self.pods)} workloads"

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

    def sandbox_container(self, pod: PodPlan) -> str:
        """docker.sh: the container name of a pod's sandbox."""
        return f"{self.project}.{pod.sandbox}"

    @property
    def network(self) -> str:
        """docker.sh: the project network every sandbox joins (compose makes its own ``PROJECT_default``)."""
        return f"{self.project}_network"

    def scoped_network(self, key: str) -> str:
        """docker.sh: a namespace's network for its short Service names (``pod_networks``'s key), named as
        Compose names its networks (``PROJECT_by-namespace-team-a``)."""
        return f"{self.project}_{key}"

    def volume_name(self, volume: "DataVolume") -> str:
        """``parity up``'s volume for a Kubernetes volume (stable: updated in place): ``engine_volume_name``."""
        return engine_volume_name(self.project, volume.key)

    def data_labels(self) -> dict[str, str]:
        """The data image's, data container's and volumes' labels (the workload's only when the
        app is one pod: they belong to every pod of an app)."""
        workload = self.pods[0].identity_labels() if len(self.pods) == 1 else {}
        return {**workload, LABEL_ROLE: ROLE_DATA, LABEL_PROJECT: self.project,
                LABEL_DIGEST: f"sha256:{self.content_digest}"}

    def volume_labels(self) -> dict[str, dict[str, str]]:
        """Each data volume's labels, by key: the data objects' (``data_labels``), the volume's key and
        whose it is, its pod's workload and namespace, also in an app of several pods (``down
        --workload`` of one workload of an app removes its volumes, and another namespace's
        same-named workload keeps its own)."""
        data = self.data_labels()  # once: it hashes every volume's digest
        return {v.key: {**data, LABEL_VOLUME: v.key, **p.identity_labels()} for p in self.pods for v in p.volumes}


def engine_volume_name(project: str, key: str, digest: str | None = None) -> str:
    """The engine name of a pod's volume: the single home of the rule (compose.yaml's ``name:``,
    docker.sh, ``parity up``).

    Args:
        project: the app's project (``AppPlan.project``).
        key: the volume's key in the app, ``service_key`` of its pod's key and its Kubernetes name
            (compose's volume key, the data image's directory under ``DATA_ROOT``).
        digest: the content digest (``VolumeLayout.digest``) for a volume named after its content;
            None for a stable name.

    Returns:
        ``PROJECT.KEY_DIGEST12`` (the digest's first 12 hex digits) for the generated compose.yaml and
        docker.sh: a changed Secret gets a new volume, since Docker fills a volume from an image only
        when it is empty (a reused name would serve stale bytes); ``PROJECT.KEY`` for ``parity up``,
        which updates its volumes in place and keeps their digests in labels. A project name holds no
        '.': the name splits at its first '.' into project and the rest (see the engine object names
        of ``AppPlan``).
    """
    return f"{project}.{key}_{digest[:12]}" if digest is not None else f"{project}.{key}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def _readable_part(text: str) -> str:
    """The readable part of a digest-qualified project name: a slug cut to 40 characters."""
    return _slug(text)[:40].strip("-")


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
    return f"{readable}{_readable_part(name)}_{digest}"


def pod_hostname(pod_name: str) -> str:
    """The kubelet's ``truncatePodHostnameIfNeeded``: at most 63 characters, without a trailing
    '-' or '.' (a pod name may have 253; the kernel takes 64 bytes with the terminating NUL)."""
    return pod_name if len(pod_name) <= 63 else pod_name[:63].rstrip("-.")


def pod_host_and_domain(workload: Workload) -> tuple[str, str]:
    """The pod's host name and domain as the kubelet makes them (kubelet pkg/kubelet/kubelet_pods.go
    ``GeneratePodHostNameAndDomain``, then ``GetNodenameForKernel`` of pkg/kubelet/util for
    ``setHostnameAsFQDN``): ``spec.hostname`` (else the pod's name) cut to 63 characters; with
    ``spec.subdomain``, the domain ``SUBDOMAIN.NAMESPACE.svc.cluster.local`` (a StatefulSet's pods:
    their name and ``serviceName``, as its controller sets them: services.pod_hostname); with
    ``setHostnameAsFQDN`` and a domain, the host name is the full name.

    Raises:
        ValueError: ``setHostnameAsFQDN`` makes a name longer than the kernel's 64 characters (the
            kubelet refuses to start such a pod).
    """
    spec_hostname, subdomain = pod_identity(workload)  # (a StatefulSet's controller sets both)
    hostname = pod_hostname(spec_hostname or workload.pod_name)
    domain = f"{subdomain}.{workload.namespace}.svc.{CLUSTER_DOMAIN}" if subdomain else ""
    if workload.spec.set_hostname_as_fqdn and domain:
        fqdn = f"{hostname}.{domain}"
        if len(fqdn) > 64:
            raise ValueError(f"{workload.file}: {workload.ref}: {workload.field_prefix}.setHostnameAsFQDN: the pod's "
                             f"FQDN {fqdn} is too long (64 characters is the max, {len(fqdn)} characters requested): "
                             "the kubelet does not start this pod")
        return fqdn, ""
    return hostname, domain


def pod_keys(workloads: Sequence[Workload]) -> list[str]:
    """Each selected workload's part of its service and volume keys, in order: the single home of
    the naming rule (emitters, ``parity up`` and ``diff``'s pairing use it through ``service_key``).

    One workload: ``""`` (its services are its container names, its volumes its volume names).
    Several: the shortest form that keeps every workload apart, the same form for all of them:
    ``NAME``, else ``NAMESPACE_NAME``, else ``NAMESPACE_KIND_NAME`` (kind in lower case). '_' is
    in no Kubernetes name, so with one form for all, a key's '_'-separated parts say which
    workload and which container or volume it is: the rule is injective.

    Raises:
        ValueError: the same workload (namespace, kind, name) is selected twice.
    """
    if len(workloads) == 1:
        return [""]
    forms = ((lambda w: (w.name,)), (lambda w: (w.namespace, w.name)),
             (lambda w: (w.namespace, w.kind.lower(), w.name)))
    for form in forms:
        keys = ["_".join(form(w)) for w in workloads]
        if len(set(keys)) == len(keys):
            return keys
    twice = next(k for k in keys if keys.count(k) > 1)
    raise ValueError(f"{twice.replace('_', '/')}: the same workload is in the input twice")


def claim_key(namespace: str, claim: str) -> str:
    """The compose volume key of a persistentVolumeClaim: ``claim.NAMESPACE.CLAIM``. A claim is
    namespace-scoped and shared by the pods that name it, so it belongs to no pod's keys; '.' is in
    no pod volume key (DNS-1123 labels and '_'), so it never meets one."""
    return f"claim.{namespace}.{claim}"


def service_key(pod_key: str, name: str) -> str:
    """The compose service key (and docker.sh's container name suffix) of a pod's container, and the
    compose volume key of a pod's volume: the name itself in an app of one pod, else
    ``POD_KEY_NAME`` (see ``pod_keys``)."""
    return f"{pod_key}_{name}" if pod_key else name


def app_project_name(workloads: Sequence[Workload]) -> str:
    """The default project of an app: ``project_name`` of its workload when it is one; for several,
    ``parity-app-NAMESPACE_<16 hex>`` (``parity-app_<16 hex>`` over several namespaces), the digest
    of the sorted ``namespace/kind/name`` of every workload: the same input selection gives the same
    project whatever the order of files and documents; another selection is another environment."""
    if len(workloads) == 1:
        w = workloads[0]
        return project_name(w.kind, w.name, w.namespace)
    ids = sorted(f"{w.namespace}/{w.kind}/{w.name}" for w in workloads)
    digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    namespaces = {w.namespace for w in workloads}
    readable = f"parity-app-{_readable_part(next(iter(namespaces)))}" if len(namespaces) == 1 else "parity-app"
    return f"{readable}_{digest}"


def pod_networks(plan: AppPlan) -> list[dict[str, list[str]]]:
    """For each pod, the networks its sandbox joins (compose keys) and its aliases on each: the
    project network (``default``) with every name that reaches the pod from any namespace. The names
    that reach it only from its own namespace (``svc``, ``pod-0.svc``) go on the project network too
    when the app has one namespace (or no such name); else on a network of that namespace
    (``namespace_network``) that every pod of the namespace joins, so that ``api`` in team-a and
    ``api`` in team-b each resolve in their own namespace, as the pods' search domains resolve them in
    the cluster (one network would answer both)."""
    scoped = len({p.namespace for p in plan.pods}) > 1 and any(p.short_aliases for p in plan.pods)
    out = []
    for pod in plan.pods:
        if not scoped:
            out.append({"default": pod.aliases + pod.short_aliases})
        else:
            out.append({"default": list(pod.aliases), namespace_network(pod.namespace): list(pod.short_aliases)})
    return out


def namespace_network(namespace: str) -> str:
    """The compose network key of a namespace's short names (a namespace is a DNS-1123 label).

    Its name sorts before the project network's (``PROJECT_by-namespace-NS`` before Compose's
    ``PROJECT_default`` and docker.sh's ``PROJECT_network``), and that decides which answers a name:
    Docker's DNS asks the client's networks one by one and answers from the first that knows the
    name, in the order libnetwork sorts a container's endpoints (``Endpoint.Less``: priority, gateway,
    internal, then the network's name). Docker also makes each container's host name a name on every
    network it joins, so the project network knows ``api`` as the host name of team-b's pod too: the
    namespace's network must be asked first."""
    return f"by-namespace-{namespace}"


def sandbox_command(pod: PodPlan) -> list[str]:
    """The pod's sandbox command: ``SANDBOX_COMMAND``, after one forwarder per Service port that
    arrives at another port of the pod: busybox ``nc -ll -p PORT -e nc 127.0.0.1 TARGET`` keeps
    listening on the Service's port and relays each connection to the target port on the pod's own
    localhost (docs/docker-differences.md, "Services and DNS")."""
    if not pod.forwards:
        return SANDBOX_COMMAND
    starts = "".join(f"nc -ll -p {f.port} -e nc 127.0.0.1 {f.target} & " for f in pod.forwards)
    return [*SANDBOX_COMMAND[:2], starts + SANDBOX_COMMAND[2]]
