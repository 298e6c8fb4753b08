"""The parts of a pod spec parity needs, as typed dataclasses.

Every field parity acts on is read, once, into these typed values with the API server's defaults:
nothing downstream of the loader reads the raw manifest. Fields parity does not act on are not kept.
The raw spec is read and validated as the API server does in ``podvalidation.py`` (the pod),
``containervalidation.py`` (its containers) and ``volumevalidation.py`` (its volumes).

The values are ``parity.values.valueclass``es: compared and hashed by their fields, as frozen
dataclasses are, but not frozen (start-up: see ``parity/values.py``). Don't assign to a field: a
value is shared by every container and workload that holds it, and its hash must not change.
``tests/test_values.py`` holds the equality, hash and repr.
"""

from __future__ import annotations

from dataclasses import field, replace

from ..values import Value, record, valueclass
from .names import go_quote


@valueclass
class KeyToPath(Value):
    key: str
    path: str
    mode: int | None
    field: str


@valueclass
class SecretSource(Value):
    name: str
    items: tuple[KeyToPath, ...]
    optional: bool
    default_mode: int | None  # None inside a projection: projected volumes have one defaultMode
    field: str


@valueclass
class ConfigMapSource(Value):
    name: str
    items: tuple[KeyToPath, ...]
    optional: bool
    default_mode: int | None
    field: str


@valueclass
class DownwardFile(Value):
    path: str
    field_path: str | None
    resource: str | None  # resourceFieldRef.resource
    container: str | None  # resourceFieldRef.containerName
    divisor: str | None
    mode: int | None
    field: str

    @property
    def resource_selector(self) -> "ResourceSelector":
        return ResourceSelector(self.resource or "", self.container, self.divisor)


@valueclass
class DownwardSource(Value):
    items: tuple[DownwardFile, ...]
    default_mode: int | None
    field: str


@valueclass
class TokenSource(Value):
    path: str
    expiration_seconds: int
    audience: str | None
    field: str


@valueclass
class ProjectedSource(Value):
    sources: tuple[SecretSource | ConfigMapSource | DownwardSource | TokenSource, ...]
    default_mode: int
    field: str


@valueclass
class ClaimSource(Value):
    """A persistentVolumeClaim volume: declared in the pod, or one the StatefulSet controller adds for
    each of its ``volumeClaimTemplates`` (``updateStorage``: claim ``<template>-<set>-<ordinal>``).
    Its data outlives the pod: reproduced as a named volume of the app, one per claim (namespace and
    claim name), kept by ``down`` unless asked."""

    claim_name: str
    read_only: bool = False
    template: bool = False  # from the StatefulSet's volumeClaimTemplates


@valueclass
class EmptyDirSource(Value):
    """``emptyDir``: a directory made for the pod, shared by its containers, gone with the pod.
    ``medium`` as written ("" disk, "Memory" tmpfs, "HugePages..."); ``size_limit`` in bytes (None:
    unset), as the quantity ``sizeLimit`` written."""

    medium: str = ""
    size_limit: int | None = None
    size_text: str | None = None  # sizeLimit as written, for messages

    @property
    def memory(self) -> bool:
        return self.medium == "Memory"


#: ``HostPathType`` values (``validateHostPathType``'s set, in ``sets.List`` order: sorted).
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
                   "Socket")


@valueclass
class HostPathSource(Value):
    """``hostPath``: a path of the node (here: of the Docker host) bound into the containers."""

    path: str
    type: str = ""  # HostPathUnset: no check


@valueclass
class EphemeralSource(Value):
    """A generic ephemeral volume: a claim made from ``volumeClaimTemplate`` for this pod and deleted
    with it (claim ``<pod>-<volume>``); reproduced as a named volume of the pod, removed with it."""

    read_only: bool = False
    storage_class: str | None = None  # the template's spec.storageClassName as written (None: the default)
    size: str | None = None  # its spec.resources.requests.storage as written


@valueclass
class OtherSource(Value):
    """A volume type parity does not reproduce (nfs, csi, iscsi, image, gitRepo...): said, never dropped."""

    type: str
    medium: str | None = None


VolumeSource = (SecretSource | ConfigMapSource | DownwardSource | ProjectedSource | ClaimSource | EmptyDirSource
                | HostPathSource | EphemeralSource | OtherSource)

#: The volume types whose mounts are writable directories (unless readOnly): no files predicted.
WRITABLE_SOURCES = (EmptyDirSource, ClaimSource, HostPathSource, EphemeralSource)
_UNMODELLED_SOURCES = (OtherSource,) + WRITABLE_SOURCES
#: Each source's Kubernetes volume type (``OtherSource`` holds its own).
_SOURCE_TYPES = {SecretSource: "secret", ConfigMapSource: "configMap", DownwardSource: "downwardAPI",
                 ProjectedSource: "projected", ClaimSource: "persistentVolumeClaim", EmptyDirSource: "emptyDir",
                 HostPathSource: "hostPath", EphemeralSource: "ephemeral"}


@valueclass
class Volume(Value):
    name: str
    source: VolumeSource
    field: str

    @property
    def modelled(self) -> bool:
        """Its files are predicted (secret, configMap, downwardAPI, projected)."""
        return not isinstance(self.source, _UNMODELLED_SOURCES)

    @property
    def writable(self) -> bool:
        """A directory the containers write to (emptyDir, claims, hostPath, ephemeral): reproduced
        as a mount, with no files predicted."""
        return isinstance(self.source, WRITABLE_SOURCES)

    @property
    def type(self) -> str:
        return _SOURCE_TYPES.get(type(self.source)) or self.source.type  # type: ignore[union-attr]

    def unreproduced(self) -> str | None:
        """What a container mounting this volume misses locally (None for the types parity reproduces)."""
        s = self.source
        if isinstance(s, EmptyDirSource) and s.medium not in ("", "Memory"):
            return (f'emptyDir volume "{self.name}" with medium {go_quote(s.medium)} (huge pages) is not reproduced '
                    "by parity")
        if not isinstance(s, OtherSource):
            return None
        return (f'{self.type} volume "{self.name}" is not reproduced by parity (it needs the cluster\'s storage: '
                "parity reproduces emptyDir, persistentVolumeClaim, hostPath and ephemeral volumes as Docker volumes "
                "or binds)")


@valueclass
class VolumeMount(Value):
    name: str
    mount_path: str
    read_only: bool
    sub_path: str | None
    field: str
    sub_path_expr: str | None = None  # (expanded into sub_path by the kubelet: kube/subpathexpr.py)


@valueclass
class SeccompProfile(Value):
    type: str  # Localhost, RuntimeDefault or Unconfined
    localhost_profile: str | None = None


@valueclass
class SecurityContext(Value):
    """A container's ``securityContext``, or the pod's (``PodSecurityContext``: the fields both have).
    None: not set (the pod's value, or the runtime's default, applies)."""

    run_as_user: int | None = None
    run_as_group: int | None = None
    read_only_root_filesystem: bool | None = None
    run_as_non_root: bool | None = None
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    capabilities_add: tuple[str, ...] = ()
    capabilities_drop: tuple[str, ...] = ()
    proc_mount: str | None = None  # Default or Unmasked
    seccomp_profile: SeccompProfile | None = None

    def over(self, pod: "SecurityContext") -> "SecurityContext":
        """The container's context with the pod's values where it sets none (kubelet
        pkg/securitycontext/util.go ``DetermineEffectiveSecurityContext``: runAsUser, runAsGroup,
        runAsNonRoot and seccompProfile come from the pod unless the container sets them)."""
        return replace(self,
                       run_as_user=self.run_as_user if self.run_as_user is not None else pod.run_as_user,
                       run_as_group=self.run_as_group if self.run_as_group is not None else pod.run_as_group,
                       run_as_non_root=self.run_as_non_root if self.run_as_non_root is not None
                       else pod.run_as_non_root,
                       seccomp_profile=self.seccomp_profile or pod.seccomp_profile)


@valueclass
class KeySelector(Value):
    """``valueFrom.secretKeyRef`` / ``configMapKeyRef``: one key of a Secret or ConfigMap."""

    kind: str  # "secret" or "configMap"
    name: str
    key: str
    optional: bool


@valueclass
class FieldSelector(Value):
    """``fieldRef``: a field of the pod (``metadata.name``, ``metadata.labels['k']``...)."""

    field_path: str


@valueclass
class ResourceSelector(Value):
    """``resourceFieldRef``: a container's request or limit, divided (rounded up) by ``divisor``."""

    resource: str  # limits.cpu, requests.memory...
    container_name: str | None
    divisor: str | None  # as written; None: 1


@valueclass
class EnvVar(Value):
    name: str
    value: str  # "" when valueFrom gives it
    value_from: KeySelector | FieldSelector | ResourceSelector | None
    field: str


@valueclass
class EnvFromSource(Value):
    prefix: str
    kind: str  # "secret" or "configMap"
    name: str
    optional: bool
    field: str


@valueclass
class ContainerPort(Value):
    container_port: int
    host_port: int | None  # None: not set (0, the API's zero value, is not set either: nothing is published)
    protocol: str  # TCP (the API server's default), UDP or SCTP
    name: str | None
    host_ip: str | None
    field: str


@valueclass
class Resources(Value):
    """``resources``: quantities as written (``500m``, ``64Mi``), each checked to parse."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)


@valueclass
class ExecAction(Value):
    command: tuple[str, ...]


@valueclass
class HTTPGetAction(Value):
    port: int | str  # a number or a named container port
    path: str = "/"
    scheme: str = "HTTP"
    host: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@valueclass
class TCPSocketAction(Value):
    port: int | str
    host: str | None = None


@valueclass
class GRPCAction(Value):
    port: int
    service: str | None = None


@valueclass
class SleepAction(Value):
    seconds: int


Handler = ExecAction | HTTPGetAction | TCPSocketAction | GRPCAction | SleepAction


@valueclass
class Probe(Value):
    """A liveness, readiness or startup probe, with the API server's defaults filled in."""

    handler: Handler
    initial_delay_seconds: int = 0
    timeout_seconds: int = 1
    period_seconds: int = 10
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace_period_seconds: int | None = None
    field: str = ""


@valueclass
class Lifecycle(Value):
    post_start: Handler | None
    pre_stop: Handler | None
    field: str


@valueclass
class UnreproducedField(Value):
    """A field the API server takes that changes how the pod runs and that no Docker setup reproduces:
    said, never dropped (``podvalidation.unreproduced_fields``)."""

    #: As kubectl names it: spec.containers[0].lifecycle.preStop; only ``imagePullPolicy`` is named alone,
    #: so that the containers that pull Always are one note (``plan.group_notes``), not one per container.
    field: str
    why: str  # "not reproduced: ..." with what Docker does instead
    container: str | None = None  # the container it is of; None: the pod's


@valueclass
class HostAlias(Value):
    ip: str
    hostnames: tuple[str, ...]


@valueclass
class Sysctl(Value):
    name: str
    value: str

    @property
    def namespace(self) -> str | None:
        """The pod namespace that scopes it: ``net``, ``ipc`` or None (``GetNamespace``)."""
        return _sysctl_namespace(self.name)


@record
class Container:
    name: str
    image: str
    init: bool
    volume_mounts: list[VolumeMount]
    security: SecurityContext
    field: str
    command: tuple[str, ...] | None = None  # None: not set (the image's ENTRYPOINT)
    args: tuple[str, ...] | None = None  # None: not set (the image's CMD, unless command is set)
    working_dir: str | None = None
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[EnvFromSource, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    resources: Resources = field(default_factory=Resources)
    stdin: bool = False
    tty: bool = False
    termination_message_path: str = "/dev/termination-log"
    termination_message_policy: str = "File"
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None
    restart_policy: str | None = None  # init containers only: "Always" makes a native sidecar
    #: As the kubelet gets it: written, else the API server's default (``containervalidation.pull_policy``).
    image_pull_policy: str = "IfNotPresent"

    @property
    def sidecar(self) -> bool:
        """An init container with ``restartPolicy: Always`` (a native sidecar, KEP-753): the kubelet
        starts it in its init order, starts the next container once it has started rather than
        exited, keeps it running for the pod's life and restarts it whenever it exits (kubelet
        pkg/kubelet/kuberuntime/kuberuntime_container.go computeInitContainerActions,
        podutil.IsRestartableInitContainer)."""
        return self.init and self.restart_policy == "Always"


@record
class PodSpec:
    volumes: list[Volume]
    init_containers: list[Container]
    containers: list[Container]
    ephemeral_run_as_users: list[int | None]  # only what FsUserFrom needs from ephemeral containers
    security: SecurityContext
    fs_group: int | None
    supplemental_groups: list[int]
    restart_policy: str | None = None  # as written: None when the manifest leaves it to the default
    service_account_name: str | None = None
    hostname: str | None = None  # spec.hostname / spec.subdomain as written (pod DNS names, services.py)
    subdomain: str | None = None
    host_aliases: tuple[HostAlias, ...] = ()
    set_hostname_as_fqdn: bool = False  # spec.setHostnameAsFQDN: the kernel's host name is the pod's FQDN
    automount_service_account_token: bool | None = None  # None: the ServiceAccount's setting (default true)
    enable_service_links: bool = True  # the API server's default
    sysctls: tuple[Sysctl, ...] = ()
    share_process_namespace: bool = False
    dns_policy: str = "ClusterFirst"  # the API server's default
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    # Ephemeral containers' env and envFrom (kubectl debug): the Secrets/ConfigMaps they name are read
    # with the pod's (``cluster.references``); nothing else of them is reproduced.
    ephemeral_env: tuple[EnvVar, ...] = ()
    ephemeral_env_from: tuple[EnvFromSource, ...] = ()
    termination_grace_period_seconds: int = 30  # the API server's default
    #: Fields the API server takes that change how the pod runs and that no Docker setup reproduces
    #: (pod-level resources, restartPolicyRules, lifecycle hooks and stopSignal): said, never dropped
    #: (``podvalidation.unreproduced_fields``).
    unreproduced_fields: tuple[UnreproducedField, ...] = ()

    @property
    def all_containers(self) -> list[Container]:
        return self.init_containers + self.containers

    def unreproduced_mounts(self) -> list[tuple[Container, VolumeMount, str]]:
        """Every mount of a volume parity does not reproduce, with the one line that says so
        (k8s-to-docker's notes and README, and the loader's warning): never a silent drop."""
        volumes = {v.name: v for v in self.volumes}
        out = []
        for ctr in self.all_containers:
            for m in ctr.volume_mounts:
                note = volumes[m.name].unreproduced() if m.name in volumes else None
                if note:
                    out.append((ctr, m, f"{note}: nothing is mounted at {m.mount_path} here"))
        return out


#: component-helpers/node/util/sysctl ``GetNamespace``: the sysctls a pod's IPC or network namespace scopes.
_IPC_SYSCTLS = ("kernel.sem", "kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced",
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni")
_IPC_SYSCTL_PREFIXES = ("kernel.shm", "kernel.msg", "fs.mqueue.")


def _sysctl_namespace(name: str) -> str | None:
    if "/" in name and ("." not in name or name.index("/") < name.index(".")):
        name = name.translate(str.maketrans("./", "/."))  # ConvertSysctlVariableToDotsSeparator
    if name in _IPC_SYSCTLS or name.startswith(_IPC_SYSCTL_PREFIXES):
        return "ipc"
    return "net" if name.startswith("net.") else None
