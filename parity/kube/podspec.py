"""The parts of a pod spec parity needs, as typed dataclasses, validated as the API server does.

Validation messages follow ``pkg/apis/core/validation/validation.go`` and name the field the way
kubectl does (``spec.volumes[0].secret.defaultMode``). Every field parity acts on is read here, once,
into typed values with the API server's defaults: nothing downstream of the loader reads the raw
manifest. Fields parity does not act on are not kept.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace

from ..errors import Problems
from . import quantity
from .fieldref import CONVERTIBLE_FIELDS, ENV_FIELDS, RESOURCE_FIELDS, split_subscripted
from .names import (dns1123_label_errors, dns1123_subdomain_errors, go_quote, invalid, ip_address_errors,
                    port_name_errors, qualified_name_errors, regex_error)
from .yamlload import written_text

MODE_MAX = 0o777
ID_MAX = 2147483647  # validation.IsValidUserID / IsValidGroupID

#: Decimal values people write on purpose (kubectl prints modes in decimal): never warned about.
_KNOWN_DECIMAL_MODES = {256, 288, 292, 320, 360, 365, 384, 416, 420, 432, 436, 438, 448, 488, 493, 504, 509, 511}

DOWNWARD_VOLUME_FIELDS = ("metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels",
                          "metadata.annotations")


#: apimachinery's resource.ErrFormatWrong: what the API server's decoder says of a malformed quantity.
QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


@dataclass(frozen=True)
class KeyToPath:
    key: str
    path: str
    mode: int | None
    field: str


@dataclass(frozen=True)
class SecretSource:
    name: str
    items: tuple[KeyToPath, ...]
    optional: bool
    default_mode: int | None  # None inside a projection: projected volumes have one defaultMode
    field: str


@dataclass(frozen=True)
class ConfigMapSource:
    name: str
    items: tuple[KeyToPath, ...]
    optional: bool
    default_mode: int | None
    field: str


@dataclass(frozen=True)
class DownwardFile:
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


@dataclass(frozen=True)
class DownwardSource:
    items: tuple[DownwardFile, ...]
    default_mode: int | None
    field: str


@dataclass(frozen=True)
class TokenSource:
    path: str
    expiration_seconds: int
    audience: str | None
    field: str


@dataclass(frozen=True)
class ProjectedSource:
    sources: tuple[SecretSource | ConfigMapSource | DownwardSource | TokenSource, ...]
    default_mode: int
    field: str


@dataclass(frozen=True)
class ClaimSource:
    """A persistentVolumeClaim volume: declared in the pod, or one the StatefulSet controller adds for
    each of its ``volumeClaimTemplates`` (``updateStorage``: claim ``<template>-<set>-<ordinal>``).
    Its data outlives the pod: reproduced as a named volume of the app, one per claim (namespace and
    claim name), kept by ``down`` unless asked."""

    claim_name: str
    read_only: bool = False
    template: bool = False  # from the StatefulSet's volumeClaimTemplates


@dataclass(frozen=True)
class EmptyDirSource:
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


@dataclass(frozen=True)
class HostPathSource:
    """``hostPath``: a path of the node (here: of the Docker host) bound into the containers."""

    path: str
    type: str = ""  # HostPathUnset: no check


@dataclass(frozen=True)
class EphemeralSource:
    """A generic ephemeral volume: a claim made from ``volumeClaimTemplate`` for this pod and deleted
    with it (claim ``<pod>-<volume>``); reproduced as a named volume of the pod, removed with it."""

    read_only: bool = False


@dataclass(frozen=True)
class OtherSource:
    """A volume type parity does not reproduce (nfs, csi, iscsi, image, gitRepo...): said, never dropped."""

    type: str
    medium: str | None = None


VolumeSource = (SecretSource | ConfigMapSource | DownwardSource | ProjectedSource | ClaimSource | EmptyDirSource
                | HostPathSource | EphemeralSource | OtherSource)

#: The volume types whose mounts are writable directories (unless readOnly): no files predicted.
WRITABLE_SOURCES = (EmptyDirSource, ClaimSource, HostPathSource, EphemeralSource)


@dataclass(frozen=True)
class Volume:
    name: str
    source: VolumeSource
    field: str

    @property
    def modelled(self) -> bool:
        """Its files are predicted (secret, configMap, downwardAPI, projected)."""
        return not isinstance(self.source, (OtherSource,) + WRITABLE_SOURCES)

    @property
    def writable(self) -> bool:
        """A directory the containers write to (emptyDir, claims, hostPath, ephemeral): reproduced
        as a mount, with no files predicted."""
        return isinstance(self.source, WRITABLE_SOURCES)

    @property
    def type(self) -> str:
        return {SecretSource: "secret", ConfigMapSource: "configMap", DownwardSource: "downwardAPI",
                ProjectedSource: "projected", ClaimSource: "persistentVolumeClaim", EmptyDirSource: "emptyDir",
                HostPathSource: "hostPath", EphemeralSource: "ephemeral"}.get(
                    type(self.source)) or self.source.type  # type: ignore[union-attr]

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


@dataclass(frozen=True)
class VolumeMount:
    name: str
    mount_path: str
    read_only: bool
    sub_path: str | None
    field: str


@dataclass(frozen=True)
class SeccompProfile:
    type: str  # Localhost, RuntimeDefault or Unconfined
    localhost_profile: str | None = None


@dataclass(frozen=True)
class SecurityContext:
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


@dataclass(frozen=True)
class KeySelector:
    """``valueFrom.secretKeyRef`` / ``configMapKeyRef``: one key of a Secret or ConfigMap."""

    kind: str  # "secret" or "configMap"
    name: str
    key: str
    optional: bool


@dataclass(frozen=True)
class FieldSelector:
    """``fieldRef``: a field of the pod (``metadata.name``, ``metadata.labels['k']``...)."""

    field_path: str


@dataclass(frozen=True)
class ResourceSelector:
    """``resourceFieldRef``: a container's request or limit, divided (rounded up) by ``divisor``."""

    resource: str  # limits.cpu, requests.memory...
    container_name: str | None
    divisor: str | None  # as written; None: 1


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str  # "" when valueFrom gives it
    value_from: KeySelector | FieldSelector | ResourceSelector | None
    field: str


@dataclass(frozen=True)
class EnvFromSource:
    prefix: str
    kind: str  # "secret" or "configMap"
    name: str
    optional: bool
    field: str


@dataclass(frozen=True)
class ContainerPort:
    container_port: int
    host_port: int | None  # None: not set (0, the API's zero value, is not set either: nothing is published)
    protocol: str  # TCP (the API server's default), UDP or SCTP
    name: str | None
    host_ip: str | None
    field: str


@dataclass(frozen=True)
class Resources:
    """``resources``: quantities as written (``500m``, ``64Mi``), each checked to parse."""

    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecAction:
    command: tuple[str, ...]


@dataclass(frozen=True)
class HTTPGetAction:
    port: int | str  # a number or a named container port
    path: str = "/"
    scheme: str = "HTTP"
    host: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TCPSocketAction:
    port: int | str
    host: str | None = None


@dataclass(frozen=True)
class GRPCAction:
    port: int
    service: str | None = None


@dataclass(frozen=True)
class SleepAction:
    seconds: int


Handler = ExecAction | HTTPGetAction | TCPSocketAction | GRPCAction | SleepAction


@dataclass(frozen=True)
class Probe:
    """A liveness, readiness or startup probe, with the API server's defaults filled in."""

    handler: Handler
    initial_delay_seconds: int = 0
    timeout_seconds: int = 1
    period_seconds: int = 10
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace_period_seconds: int | None = None
    field: str = ""


@dataclass(frozen=True)
class Lifecycle:
    post_start: Handler | None
    pre_stop: Handler | None
    field: str


@dataclass(frozen=True)
class HostAlias:
    ip: str
    hostnames: tuple[str, ...]


@dataclass(frozen=True)
class Sysctl:
    name: str
    value: str

    @property
    def namespace(self) -> str | None:
        """The pod namespace that scopes it: ``net``, ``ipc`` or None (``GetNamespace``)."""
        return _sysctl_namespace(self.name)


@dataclass
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

    @property
    def sidecar(self) -> bool:
        """An init container with ``restartPolicy: Always`` (a native sidecar, KEP-753): the kubelet
        starts it in its init order, starts the next container once it has started rather than
        exited, keeps it running for the pod's life and restarts it whenever it exits (kubelet
        pkg/kubelet/kuberuntime/kuberuntime_container.go computeInitContainerActions,
        podutil.IsRestartableInitContainer)."""
        return self.init and self.restart_policy == "Always"


@dataclass
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
    termination_grace_period_seconds: int = 30  # the API server's default

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


class _Checker:
    """Helpers that add problems with file/object context and a field path."""

    def __init__(self, problems: Problems, file: str, ref: str):
        self.problems, self.file, self.ref = problems, file, ref

    def bad(self, field_path: str, message: str) -> None:
        self.problems.add(message, file=self.file, obj=self.ref, field=field_path)

    def map(self, value, field_path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(field_path, "must be a map")
            return {}
        return value

    def list(self, value, field_path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(field_path, "must be a list")
            return []
        return value

    def string(self, value, field_path: str, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                self.bad(field_path, "Required value")
            return None
        if not isinstance(value, str):
            self.bad(field_path, "must be a string")
            return None
        return value

    def label(self, value, field_path: str) -> str | None:
        """A required DNS-1123 label (``ValidateDNS1123Label``): container and volume names."""
        name = self.string(value, field_path, required=True)
        if name is None:
            return None
        errors = dns1123_label_errors(name)
        for message in errors:
            self.bad(field_path, invalid(name, message))
        return None if errors else name

    def boolean(self, value, field_path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.bad(field_path, "must be true or false")
            return False
        return value

    def opt_bool(self, value, field_path: str) -> bool | None:
        """A boolean whose absence means something of its own (the pod's value, a default)."""
        return None if value is None else self.boolean(value, field_path)

    def strings(self, value, field_path: str) -> tuple[str, ...]:
        """A list of strings (null items decode to "", as Go's decoder makes them)."""
        return tuple(self.string(x, f"{field_path}[{i}]") or "" for i, x in enumerate(self.list(value, field_path)))

    def port_num_or_name(self, value, field_path: str) -> int | str | None:
        """``ValidatePortNumOrName`` (an IntOrString port): a number 1-65535 or a port's name."""
        if isinstance(value, str):
            errors = port_name_errors(value)
            for message in errors:
                self.bad(field_path, invalid(value, message))
            return None if errors else value
        n = self.integer(value, field_path)
        if value is None or n is not None and not 1 <= n <= 65535:
            self.bad(field_path, f"Invalid value: {n or 0}: must be between 1 and 65535, inclusive")
            return None
        return n

    def descending_path(self, path: str, field_path: str) -> bool:
        """``validateLocalDescendingPath``: relative, without a '..' element; each failure said (both
        for ``/../x``). Returns whether the path passed."""
        ok = not path.startswith("/")
        if not ok:
            self.bad(field_path, "must be a relative path")
        if ".." in path.split("/"):
            self.bad(field_path, "must not contain '..'")
            ok = False
        return ok

    def integer(self, value, field_path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str) and field_path.lower().endswith("mode") and re.fullmatch(r"0?[0-7]{3,4}", value):
                hint = f" (write {value} without quotes: YAML reads a number with a leading 0 as octal)"
            self.bad(field_path, f"must be an integer, not {'a string' if isinstance(value, str) else repr(value)}"
                                 + hint)
            return None
        if isinstance(value, float):
            if not value.is_integer():
                self.bad(field_path, "must be an integer")
                return None
            value = int(value)
        return int(value)  # (a yamlload.WrittenInt becomes the plain int: only mode() needs its text)

    def ident(self, value, field_path: str) -> int | None:
        """A user or group id, as ``IsValidUserID``/``IsValidGroupID`` check it."""
        n = self.integer(value, field_path)
        if n is not None and not 0 <= n <= ID_MAX:
            self.bad(field_path, f"must be between 0 and {ID_MAX}, inclusive")
            return None
        return n

    def mode(self, value, field_path: str) -> int | None:
        # The text as written (yamlload keeps it for integers not written in plain decimal): 01000
        # is octal already (512), where a decimal 512 is the "meant 0512" slip the hint is for.
        written = written_text(value)
        mode = self.integer(value, field_path)
        if mode is None:
            return None
        if not 0 <= mode <= MODE_MAX:
            hint = ""
            if (written is None and str(mode).isdigit() and set(str(mode)) <= set("01234567")
                    and int(str(mode), 8) <= MODE_MAX):
                hint = f" ({mode} is read as decimal; write 0{mode} for octal)"
            self.bad(field_path, f"must be a number between 0 and 0777 (octal), both inclusive{hint}")
            return None
        digits = str(mode)
        if (written is None and len(digits) == 3 and set(digits) <= set("01234567")
                and mode not in _KNOWN_DECIMAL_MODES):
            self.problems.warnings.append(
                f"{self.file}: {self.ref}: {field_path}: {mode} is decimal, i.e. 0{mode:o}; "
                f"write 0{digits} if octal was meant")
        return mode

    def local_path(self, value, field_path: str) -> str | None:
        """``ValidateLocalNonReservedPath``: relative, no ``..`` element, not starting with ``..``."""
        path = self.string(value, field_path, required=True)
        if path is None:
            return None
        if "\x00" in path:  # open(2) takes a C string: the kubelet's writer fails the volume's setup
            self.bad(field_path, "holds a NUL byte, which no file name can carry (the kubelet could not write "
                                 "the volume: the pod would not start)")
            return None
        ok = self.descending_path(path, field_path)
        if path.startswith("..") and not path.startswith("../"):  # "../x": said once, by the '..' element
            self.bad(field_path, "must not start with '..'")
            ok = False
        return path if ok else None


def parse_pod_spec(spec: dict, prefix: str, problems: Problems, file: str, ref: str,
                   claims: list[Volume] | None = None) -> PodSpec | None:
    """``claims``: the volumes a StatefulSet's controller adds for its ``volumeClaimTemplates``
    (``claim_volumes``); as its ``updateStorage`` does, they come first and replace template volumes
    of the same name."""
    c = _Checker(problems, file, ref)
    before = len(problems.items)
    raw_volumes = c.list(spec.get("volumes"), f"{prefix}.volumes")
    volumes = [_parse_volume(v, f"{prefix}.volumes[{i}]", c) for i, v in enumerate(raw_volumes)]
    volumes = [v for v in volumes if v is not None]
    if claims:
        claimed = {v.name for v in claims}
        volumes = list(claims) + [v for v in volumes if v.name not in claimed]
    seen: set[str] = set()
    for v in volumes:
        if v.name in seen:
            c.bad(f"{v.field}.name", f"Duplicate value: {go_quote(v.name)}")
        seen.add(v.name)

    host_users = c.opt_bool(spec.get("hostUsers"), f"{prefix}.hostUsers") is not False
    grace = c.integer(spec.get("terminationGracePeriodSeconds"), f"{prefix}.terminationGracePeriodSeconds")
    pod = _PodContext(host_users, 30 if grace is None else grace)
    psc = c.map(spec.get("securityContext"), f"{prefix}.securityContext")
    pod_security = _parse_security(psc, f"{prefix}.securityContext", c, host_users)
    fs_group = c.ident(psc.get("fsGroup"), f"{prefix}.securityContext.fsGroup")
    groups = [g for g in (c.ident(x, f"{prefix}.securityContext.supplementalGroups[{i}]")
                          for i, x in enumerate(c.list(psc.get("supplementalGroups"),
                                                       f"{prefix}.securityContext.supplementalGroups")))
              if g is not None]

    # Mounts are checked against every volume declared, a misnamed one included (said once, above).
    names = {v.get("name") for v in raw_volumes if isinstance(v, dict)} | {v.name for v in claims or []}
    init = [_parse_container(x, f"{prefix}.initContainers[{i}]", True, names, c, pod)
            for i, x in enumerate(c.list(spec.get("initContainers"), f"{prefix}.initContainers"))]
    regular = [_parse_container(x, f"{prefix}.containers[{i}]", False, names, c, pod)
               for i, x in enumerate(c.list(spec.get("containers"), f"{prefix}.containers"))]
    if spec.get("containers") in (None, []):  # (not a list at all: c.list said so, once)
        c.bad(f"{prefix}.containers", "Required value")
    ephemeral = []
    for i, x in enumerate(c.list(spec.get("ephemeralContainers"), f"{prefix}.ephemeralContainers")):
        if isinstance(x, dict):
            where = f"{prefix}.ephemeralContainers[{i}].securityContext"
            ephemeral.append(_parse_security(c.map(x.get("securityContext"), where), where, c).run_as_user)
    policy = c.string(spec.get("restartPolicy"), f"{prefix}.restartPolicy")
    if policy is not None and policy not in ("Always", "OnFailure", "Never"):
        c.bad(f"{prefix}.restartPolicy", f'Unsupported value: "{policy}": supported values: "Always", "Never", '
                                         '"OnFailure"')
    account = c.string(spec.get("serviceAccountName"), f"{prefix}.serviceAccountName")
    seen_names: set[str] = set()
    for ctr in [x for x in init + regular if x is not None]:
        if ctr.name in seen_names:
            c.bad(f"{ctr.field}.name", f"Duplicate value: {go_quote(ctr.name)}")
        seen_names.add(ctr.name)
    extra = _parse_pod_fields(spec, prefix, psc, [x for x in init if x], [x for x in regular if x], c)
    if account is not None:
        for message in dns1123_subdomain_errors(account):  # ValidateServiceAccountName
            c.bad(f"{prefix}.serviceAccountName", invalid(account, message))
    if len(problems.items) > before:
        return None
    return PodSpec(volumes, [x for x in init if x], [x for x in regular if x], ephemeral, pod_security, fs_group,
                   groups, policy, account, termination_grace_period_seconds=pod.grace_period, **extra)


#: ``validateSysctls``: the name's pattern, printed as the API server prints its regexp.
_SYSCTL_RE = re.compile(r"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$")
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


def _parse_pod_fields(spec: dict, prefix: str, psc: dict, init: list[Container], regular: list[Container],
                      c: _Checker) -> dict:
    """The pod-level fields beyond volumes, containers and ids (``ValidatePodSpec``): hostname,
    subdomain, hostAliases, DNS policy, host namespaces, sysctls... Returns ``PodSpec`` keyword
    arguments."""
    out: dict = {}
    for key in ("hostname", "subdomain"):
        value = c.string(spec.get(key), f"{prefix}.{key}")
        for message in dns1123_label_errors(value) if value else []:
            c.bad(f"{prefix}.{key}", invalid(value, message))
        out[key] = value
    aliases = []
    for i, alias in enumerate(c.list(spec.get("hostAliases"), f"{prefix}.hostAliases")):
        where = f"{prefix}.hostAliases[{i}]"
        alias = c.map(alias, where)
        ip = c.string(alias.get("ip"), f"{where}.ip") or ""
        for msg in ip_address_errors(ip):
            c.bad(f"{where}.ip", invalid(ip, msg))
        names = c.strings(alias.get("hostnames"), f"{where}.hostnames")
        for j, name in enumerate(names):
            for message in dns1123_subdomain_errors(name):
                c.bad(f"{where}.hostnames[{j}]", invalid(name, message))
        aliases.append(HostAlias(ip, names))
    out["host_aliases"] = tuple(aliases)
    out["set_hostname_as_fqdn"] = c.boolean(spec.get("setHostnameAsFQDN"), f"{prefix}.setHostnameAsFQDN")
    out["automount_service_account_token"] = c.opt_bool(spec.get("automountServiceAccountToken"),
                                                         f"{prefix}.automountServiceAccountToken")
    out["enable_service_links"] = c.opt_bool(spec.get("enableServiceLinks"), f"{prefix}.enableServiceLinks") \
        is not False
    for key, attr in (("shareProcessNamespace", "share_process_namespace"), ("hostNetwork", "host_network"),
                      ("hostPID", "host_pid"), ("hostIPC", "host_ipc")):
        out[attr] = c.boolean(spec.get(key), f"{prefix}.{key}")
    if out["share_process_namespace"] and out["host_pid"]:
        # The internal API keeps both in the pod's security context: the API server names it so.
        c.bad(f"{prefix}.securityContext.shareProcessNamespace",
              "Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled")
    dns = c.string(spec.get("dnsPolicy"), f"{prefix}.dnsPolicy") or "ClusterFirst"
    if dns not in ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"):
        c.bad(f"{prefix}.dnsPolicy", f'Unsupported value: {go_quote(dns)}: supported values: '
                                     '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"')
    out["dns_policy"] = dns
    sysctls, seen = [], set()
    for i, item in enumerate(c.list(psc.get("sysctls"), f"{prefix}.securityContext.sysctls")):
        where = f"{prefix}.securityContext.sysctls[{i}]"
        item = c.map(item, where)
        name = c.string(item.get("name"), f"{where}.name") or ""
        if not name:
            c.bad(f"{where}.name", "Required value")
        elif len(name) > 253 or not _SYSCTL_RE.match(name):
            c.bad(f"{where}.name", invalid(name, f"must have at most 253 characters and match regex "
                                                 f"{_SYSCTL_RE.pattern}"))
        elif name in seen:
            c.bad(f"{where}.name", f"Duplicate value: {go_quote(name)}")
        namespace = _sysctl_namespace(name)
        if namespace == "net" and out["host_network"]:
            c.bad(f"{where}.name", invalid(name, "may not be specified when 'hostNetwork' is true"))
        elif namespace == "ipc" and out["host_ipc"]:
            c.bad(f"{where}.name", invalid(name, "may not be specified when 'hostIPC' is true"))
        seen.add(name)
        sysctls.append(Sysctl(name, c.string(item.get("value"), f"{where}.value") or ""))
    out["sysctls"] = tuple(sysctls)
    _check_host_ports(init, regular, out["host_network"], c)
    return out


def _check_host_ports(init: list[Container], regular: list[Container], host_network: bool,
                      c: _Checker) -> None:
    """``checkHostPortConflicts`` (the regular containers together, each init container alone: they
    run one by one) and ``validatePodHostNetworkDeps``."""
    groups = [[ctr] for ctr in init] + [regular]
    for group in groups:
        taken: set[str] = set()
        for ctr in group:
            for p in ctr.ports:
                if not p.host_port:
                    continue
                key = f"{p.protocol}/{p.host_ip or ''}/{p.host_port}"
                if key in taken:
                    c.bad(f"{p.field}.hostPort", f"Duplicate value: {go_quote(key)}")
                taken.add(key)
    if host_network:
        # A host port must be the container port; 0 (unset) passes: SetDefaults_Pod makes it the
        # container port in a Pod, and so it is when a template's pod is made.
        for ctr in regular:
            for p in ctr.ports:
                hp = p.host_port or 0
                if hp and hp != p.container_port:
                    c.bad(f"{p.field}.hostPort", f"Invalid value: {hp}: must match `containerPort` when "
                                                 "`hostNetwork` is true")


def _parse_security(sc: dict, prefix: str, c: _Checker, host_users: bool = True) -> SecurityContext:
    """A container's or the pod's ``securityContext`` (``ValidateSecurityContext``,
    ``validatePodSpecSecurityContext``)."""
    run_as_user = c.ident(sc.get("runAsUser"), f"{prefix}.runAsUser")
    run_as_group = c.ident(sc.get("runAsGroup"), f"{prefix}.runAsGroup")
    read_only = c.opt_bool(sc.get("readOnlyRootFilesystem"), f"{prefix}.readOnlyRootFilesystem")
    non_root = c.opt_bool(sc.get("runAsNonRoot"), f"{prefix}.runAsNonRoot")
    privileged = c.opt_bool(sc.get("privileged"), f"{prefix}.privileged")
    escalation = c.opt_bool(sc.get("allowPrivilegeEscalation"), f"{prefix}.allowPrivilegeEscalation")
    caps = c.map(sc.get("capabilities"), f"{prefix}.capabilities")
    add = c.strings(caps.get("add"), f"{prefix}.capabilities.add")
    drop = c.strings(caps.get("drop"), f"{prefix}.capabilities.drop")
    proc_mount = c.string(sc.get("procMount"), f"{prefix}.procMount")
    if proc_mount is not None and proc_mount not in ("Default", "Unmasked"):
        c.bad(f"{prefix}.procMount", f'Unsupported value: {go_quote(proc_mount)}: supported values: "Default", '
                                     '"Unmasked"')
    elif proc_mount == "Unmasked" and host_users:
        c.bad(f"{prefix}.procMount", f"{invalid(proc_mount, '`hostUsers` must be false to use `Unmasked`')}")
    seccomp = _parse_seccomp(sc.get("seccompProfile"), f"{prefix}.seccompProfile", c)
    if escalation is False:
        if privileged:
            c.bad(prefix, "Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true")
        if "CAP_SYS_ADMIN" in add:
            c.bad(prefix, "Invalid value: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                          "CAP_SYS_ADMIN")
    return SecurityContext(run_as_user, run_as_group, read_only, non_root, privileged, escalation, add, drop,
                           proc_mount, seccomp)


def _parse_seccomp(raw, prefix: str, c: _Checker) -> SeccompProfile | None:
    """``validateSeccompProfileField``."""
    if raw is None:
        return None
    sp = c.map(raw, prefix)
    kind = c.string(sp.get("type"), f"{prefix}.type")
    profile = c.string(sp.get("localhostProfile"), f"{prefix}.localhostProfile")
    if sp.get("type") in (None, ""):
        c.bad(f"{prefix}.type", "Required value: type is required when seccompProfile is set")
    elif kind is not None and kind not in ("Localhost", "RuntimeDefault", "Unconfined"):
        c.bad(f"{prefix}.type", f'Unsupported value: {go_quote(kind)}: supported values: "Localhost", '
                                '"RuntimeDefault", "Unconfined"')
    if kind == "Localhost":
        if sp.get("localhostProfile") is None:
            c.bad(f"{prefix}.localhostProfile", "Required value: must be set when seccomp type is Localhost")
        elif profile is not None:
            c.descending_path(profile, f"{prefix}.localhostProfile")
    elif sp.get("localhostProfile") is not None:
        c.bad(f"{prefix}.localhostProfile", "Invalid value: can only be set when seccomp type is Localhost")
    return SeccompProfile(kind, profile) if kind else None


def _parse_container(raw, prefix: str, init: bool, volume_names: set[str], c: _Checker,
                     pod: _PodContext | None = None) -> Container | None:
    pod = pod or _PodContext()
    if not isinstance(raw, dict):
        c.bad(prefix, "must be a map")
        return None
    name = c.label(raw.get("name"), f"{prefix}.name")
    image = c.string(raw.get("image"), f"{prefix}.image", required=True)
    if image is not None and image != image.strip():
        c.bad(f"{prefix}.image", invalid(image, "must not have leading or trailing whitespace"))
        image = None
    elif image is not None and any(not ch.isprintable() or ch.isspace() for ch in image):
        # The API server takes it; the kubelet cannot parse it as a reference (image_manager.go
        # applyDefaultImageTag: ErrInvalidImageName), and no argv can carry a NUL: refused here.
        c.bad(f"{prefix}.image", invalid(image, "not a valid image reference (the kubelet fails the "
                                                "container with InvalidImageName: invalid reference format)"))
        image = None
    mounts: list[VolumeMount] = []
    paths: set[str] = set()
    for i, m in enumerate(c.list(raw.get("volumeMounts"), f"{prefix}.volumeMounts")):
        where = f"{prefix}.volumeMounts[{i}]"
        m = c.map(m, where)
        vname = c.string(m.get("name"), f"{where}.name", required=True)
        mpath = c.string(m.get("mountPath"), f"{where}.mountPath", required=True)
        if vname and vname not in volume_names:
            c.bad(f"{where}.name", f"Not found: {go_quote(vname)}")
        if mpath and "\x00" in mpath:
            # mount(2) takes a C string: the runtime fails the container; no docker.sh word carries it.
            c.bad(f"{where}.mountPath", "holds a NUL byte, which no mount path can carry (the container would "
                                        "fail to start)")
            mpath = None
        if mpath:
            if not mpath.startswith("/"):
                # Linux containers: the runtime needs an absolute path.
                c.bad(f"{where}.mountPath", "must be an absolute path")
            clean = posixpath.normpath(mpath)
            if clean in paths:
                c.bad(f"{where}.mountPath", "must be unique")
            paths.add(clean)
            mpath = clean
        sub = c.string(m.get("subPath"), f"{where}.subPath")
        if sub is not None:
            if "\x00" in sub:
                c.bad(f"{where}.subPath", "holds a NUL byte, which no mount path can carry (the container would "
                                          "fail to start)")
            else:
                c.descending_path(sub, f"{where}.subPath")
        if m.get("subPathExpr"):
            c.bad(f"{where}.subPathExpr", "not supported by parity (it depends on runtime environment values)")
        if vname and mpath:
            mounts.append(VolumeMount(vname, mpath, c.boolean(m.get("readOnly"), f"{where}.readOnly"), sub, where))
    security = _parse_security(c.map(raw.get("securityContext"), f"{prefix}.securityContext"),
                               f"{prefix}.securityContext", c, pod.host_users)
    runtime = _parse_runtime(raw, prefix, c)
    lifecycle_fields = _parse_lifecycle_fields(raw, prefix, init, c, pod)
    if not name or not image:
        return None
    return Container(name, image, init, mounts, security, prefix, **runtime, **lifecycle_fields)


@dataclass(frozen=True)
class _PodContext:
    """What a container's checks need from its pod."""

    host_users: bool = True
    grace_period: int = 30


def _no_nul(value: str | None, field_path: str, c: _Checker) -> None:
    """A NUL byte cannot be in a process's argument or environment (``execve`` takes C strings): the
    runtime fails to start the container. Nor could docker.sh or an env file carry it."""
    if value is not None and "\x00" in value:
        c.bad(field_path, "holds a NUL byte, which no process argument or environment value can carry "
                          "(the container would fail to start)")


def _parse_runtime(raw: dict, prefix: str, c: _Checker) -> dict:
    """The fields that say how the container runs (command, env, ports, resources...), typed and
    checked as the API server's decoder and ``validateContainerCommon`` check them. Returns the
    keyword arguments of ``Container``."""
    out: dict = {}
    for name in ("command", "args"):
        items = []
        for i, x in enumerate(c.list(raw.get(name), f"{prefix}.{name}")):
            text = c.string(x, f"{prefix}.{name}[{i}]") if x != "" else ""
            _no_nul(text, f"{prefix}.{name}[{i}]", c)
            items.append(text or "")  # (null decodes to "", as Go's decoder makes it)
        out[name] = tuple(items) if isinstance(raw.get(name), list) else None
    working_dir = raw.get("workingDir")
    _no_nul(c.string(working_dir, f"{prefix}.workingDir"), f"{prefix}.workingDir", c)
    out["working_dir"] = working_dir if isinstance(working_dir, str) else None
    for name in ("tty", "stdin"):
        out[name] = c.boolean(raw.get(name), f"{prefix}.{name}")
    out["ports"] = _parse_ports(raw, prefix, c)
    out["resources"] = _parse_resources(raw, prefix, c)
    out["env_from"] = _parse_env_from(raw, prefix, c)
    out["env"] = _parse_env(raw, prefix, c)
    path = c.string(raw.get("terminationMessagePath"), f"{prefix}.terminationMessagePath")
    out["termination_message_path"] = path or "/dev/termination-log"  # the API server's default
    policy = c.string(raw.get("terminationMessagePolicy"), f"{prefix}.terminationMessagePolicy") or "File"
    if policy not in ("File", "FallbackToLogsOnError"):
        c.bad(f"{prefix}.terminationMessagePolicy", f'Unsupported value: {go_quote(policy)}: supported values: '
                                                    '"File", "FallbackToLogsOnError"')
    out["termination_message_policy"] = policy
    return out


def _parse_ports(raw: dict, prefix: str, c: _Checker) -> tuple[ContainerPort, ...]:
    """``validateContainerPorts``."""
    ports = []
    names: set[str] = set()
    for i, p in enumerate(c.list(raw.get("ports"), f"{prefix}.ports")):
        where = f"{prefix}.ports[{i}]"
        p = c.map(p, where)
        port_name = c.string(p.get("name"), f"{where}.name")
        errors = port_name_errors(port_name) if port_name is not None else []
        for message in errors:
            c.bad(f"{where}.name", invalid(port_name, message))
        if port_name is not None and not errors:
            if port_name in names:
                c.bad(f"{where}.name", f"Duplicate value: {go_quote(port_name)}")
            names.add(port_name)
        numbers = {}
        for key in ("containerPort", "hostPort"):
            n = c.integer(p.get(key), f"{where}.{key}")
            if n is None and key == "containerPort" and p.get(key) is None:
                c.bad(f"{where}.{key}", "Required value")
            elif n is not None and not 1 <= n <= 65535 and not (key == "hostPort" and n == 0):
                c.bad(f"{where}.{key}", "must be between 1 and 65535, inclusive")
                n = None
            numbers[key] = n
        proto = c.string(p.get("protocol"), f"{where}.protocol")
        if proto is not None and proto not in ("TCP", "UDP", "SCTP"):
            c.bad(f"{where}.protocol", f'Unsupported value: "{proto}": supported values: "SCTP", "TCP", "UDP"')
        host_ip = c.string(p.get("hostIP"), f"{where}.hostIP")
        if numbers["containerPort"] is not None:
            ports.append(ContainerPort(numbers["containerPort"], numbers["hostPort"] or None, proto or "TCP",
                                       port_name, host_ip, where))
    return tuple(ports)


def _parse_resources(raw: dict, prefix: str, c: _Checker) -> Resources:
    resources = c.map(raw.get("resources"), f"{prefix}.resources")
    sections: dict[str, dict[str, str]] = {"limits": {}, "requests": {}}
    for section in ("limits", "requests"):
        for key, value in c.map(resources.get(section), f"{prefix}.resources.{section}").items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                c.bad(f"{prefix}.resources.{section}[{key}]", "must be a quantity (e.g. 500m, 64Mi)")
                continue
            try:
                quantity.parse(str(value))
            except quantity.QuantityOverflow:
                pass  # valid: only what the kubelet's int64 arithmetic makes of it is unknown
            except ValueError:  # the decoder's error (resource.ParseQuantity, ErrFormatWrong)
                c.bad(f"{prefix}.resources.{section}[{key}]", f"{go_quote(str(value))}: {QUANTITY_FORMAT}")
                continue
            sections[section][str(key)] = str(value)
    return Resources(requests=sections["requests"], limits=sections["limits"])


def _parse_env_from(raw: dict, prefix: str, c: _Checker) -> tuple[EnvFromSource, ...]:
    """``ValidateEnvFrom``."""
    out = []
    for i, src in enumerate(c.list(raw.get("envFrom"), f"{prefix}.envFrom")):
        where = f"{prefix}.envFrom[{i}]"
        src = c.map(src, where)
        env_prefix = c.string(src.get("prefix"), f"{where}.prefix") or ""
        found = []
        for kind in ("secretRef", "configMapRef"):
            ref = c.map(src.get(kind), f"{where}.{kind}")
            name = c.string(ref.get("name"), f"{where}.{kind}.name", required=kind in src)
            optional = c.boolean(ref.get("optional"), f"{where}.{kind}.optional")
            if kind in src:
                found.append(EnvFromSource(env_prefix, "secret" if kind == "secretRef" else "configMap", name or "",
                                           optional, where))
        if not found:
            c.bad(f"{prefix}.envFrom", 'Invalid value: "": must specify one of: `configMapRef` or `secretRef`')
        elif len(found) > 1:
            c.bad(f"{prefix}.envFrom", 'Invalid value: "": may not have more than one field specified at a time')
        else:
            out.append(found[0])
    return tuple(out)


def _parse_env(raw: dict, prefix: str, c: _Checker) -> tuple[EnvVar, ...]:
    """``ValidateEnv`` and ``validateEnvVarValueFrom``."""
    out = []
    for i, item in enumerate(c.list(raw.get("env"), f"{prefix}.env")):
        where = f"{prefix}.env[{i}]"
        item = c.map(item, where)
        env_name = c.string(item.get("name"), f"{where}.name", required=True)
        if env_name is not None and ("=" in env_name or not (env_name.isascii() and env_name.isprintable())):
            c.bad(f"{where}.name", "a valid environment variable name must consist of printable ASCII characters "
                                   "other than '='")
        value = c.string(item.get("value"), f"{where}.value")
        _no_nul(value, f"{where}.value", c)
        vf = c.map(item.get("valueFrom"), f"{where}.valueFrom")
        sources: list = []
        for kind in ("secretKeyRef", "configMapKeyRef"):
            ref = c.map(vf.get(kind), f"{where}.valueFrom.{kind}")
            name, key = (c.string(ref.get(k), f"{where}.valueFrom.{kind}.{k}", required=kind in vf)
                         for k in ("name", "key"))
            optional = c.boolean(ref.get("optional"), f"{where}.valueFrom.{kind}.optional")
            if kind in vf:
                sources.append(KeySelector("secret" if kind == "secretKeyRef" else "configMap", name or "", key or "",
                                           optional))
        fref = c.map(vf.get("fieldRef"), f"{where}.valueFrom.fieldRef")
        field_path = c.string(fref.get("fieldPath"), f"{where}.valueFrom.fieldRef.fieldPath",
                              required="fieldRef" in vf)
        if field_path is not None:
            _check_env_field_path(field_path, f"{where}.valueFrom.fieldRef", c)
        if "fieldRef" in vf:
            sources.append(FieldSelector(field_path or ""))
        rref = c.map(vf.get("resourceFieldRef"), f"{where}.valueFrom.resourceFieldRef")
        resource = c.string(rref.get("resource"), f"{where}.valueFrom.resourceFieldRef.resource",
                            required="resourceFieldRef" in vf)
        container = c.string(rref.get("containerName"), f"{where}.valueFrom.resourceFieldRef.containerName")
        div = rref.get("divisor")
        if div is not None and (isinstance(div, bool) or not isinstance(div, (str, int, float))):
            c.bad(f"{where}.valueFrom.resourceFieldRef.divisor", "must be a quantity (e.g. 1m, 1Mi)")
        if "resourceFieldRef" in vf:
            _check_resource_selector(resource, None if div is None else str(div),
                                     f"{where}.valueFrom.resourceFieldRef", c)
            sources.append(ResourceSelector(resource or "", container, None if div is None else str(div)))
        if item.get("valueFrom") is not None and not sources:
            c.bad(f"{where}.valueFrom", 'Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, '
                                        "`configMapKeyRef` or `secretKeyRef`")
        elif sources and value:
            c.bad(f"{where}.valueFrom", 'Invalid value: "": may not be specified when `value` is not empty')
        elif len(sources) > 1:
            c.bad(f"{where}.valueFrom", 'Invalid value: "": may not have more than one field specified at a time')
        if env_name is not None:
            out.append(EnvVar(env_name, value or "", sources[0] if sources else None, where))
    return tuple(out)


def _check_env_field_path(path: str, where: str, c: _Checker) -> None:
    """``validateObjectFieldSelector`` with the env's supported paths."""
    head, subscript, subscripted = split_subscripted(path)
    if head not in CONVERTIBLE_FIELDS:
        c.bad(f"{where}.fieldPath", invalid(path, f"error converting fieldPath: field label not supported: {head}"))
    elif subscripted:
        if head not in ("metadata.labels", "metadata.annotations"):
            c.bad(where, invalid(head, "does not support subscript"))
        else:
            key = subscript.lower() if head == "metadata.annotations" else subscript
            for message in qualified_name_errors(key):
                c.bad(where, invalid(key, message))
    elif head not in ENV_FIELDS:
        c.bad(f"{where}.fieldPath", f"Unsupported value: {go_quote(head)}: supported values: "
              + ", ".join(go_quote(f) for f in sorted(ENV_FIELDS)))


def _check_resource_selector(resource: str | None, divisor: str | None, where: str, c: _Checker) -> None:
    """``validateContainerResourceFieldSelector`` and ``validateContainerResourceDivisor``, for env
    and downward API volumes alike."""
    if not resource:
        return  # (Required: said where the field is read)
    if resource not in RESOURCE_FIELDS and not resource.startswith(("limits.hugepages-", "requests.hugepages-")):
        c.bad(f"{where}.resource", f"Unsupported value: {go_quote(resource)}: supported values: "
              + ", ".join(go_quote(f) for f in sorted(RESOURCE_FIELDS)))
    elif divisor is not None and resource in RESOURCE_FIELDS:
        error = quantity.divisor_error(resource.partition(".")[2], divisor)
        if error:
            c.bad(f"{where}.divisor", invalid(resource, error))


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _parse_lifecycle_fields(raw: dict, prefix: str, init: bool, c: _Checker, pod: _PodContext) -> dict:
    """``restartPolicy``, ``lifecycle`` and the probes, as ``validateContainers`` and
    ``validateInitContainers`` take them: an init container has them only as a native sidecar."""
    out: dict = {}
    policy = c.string(raw.get("restartPolicy"), f"{prefix}.restartPolicy")
    if policy is not None and not init:
        c.bad(f"{prefix}.restartPolicy", "Forbidden: may not be set for non-init containers")
    elif policy is not None and policy != "Always":
        c.bad(f"{prefix}.restartPolicy", f'Unsupported value: {go_quote(policy)}: supported values: "Always"')
    out["restart_policy"] = policy
    if init and policy != "Always":
        for key in ("lifecycle",) + _PROBES:
            if raw.get(key) is not None:
                c.bad(f"{prefix}.{key}", "Forbidden: may not be set for init containers without restartPolicy=Always")
        return out
    if raw.get("lifecycle") is not None:
        lc = c.map(raw.get("lifecycle"), f"{prefix}.lifecycle")
        post, pre = (_parse_handler(lc.get(key), f"{prefix}.lifecycle.{key}", _LIFECYCLE_HANDLERS, c, pod)
                     if lc.get(key) is not None else None for key in ("postStart", "preStop"))
        out["lifecycle"] = Lifecycle(post, pre, f"{prefix}.lifecycle")
    for key, attr in zip(_PROBES, ("liveness_probe", "readiness_probe", "startup_probe")):
        if raw.get(key) is not None:
            out[attr] = _parse_probe(raw.get(key), f"{prefix}.{key}", key, c, pod)
    return out


_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")


def _parse_probe(raw, prefix: str, kind: str, c: _Checker, pod: _PodContext) -> Probe | None:
    """``validateProbe`` and its liveness/readiness/startup rules, after ``SetDefaults_Probe``."""
    p = c.map(raw, prefix)
    handler = _parse_handler(p, prefix, _PROBE_HANDLERS, c, pod)
    values = {}
    for key, default in (("initialDelaySeconds", 0), ("timeoutSeconds", 1), ("periodSeconds", 10),
                         ("successThreshold", 1), ("failureThreshold", 3)):
        n = c.integer(p.get(key), f"{prefix}.{key}")
        if n is not None and n < 0:
            c.bad(f"{prefix}.{key}", f"Invalid value: {n}: must be greater than or equal to 0")
        values[key] = default if not n else n  # 0 (or unset) takes the default, as SetDefaults_Probe does
    if kind in ("livenessProbe", "startupProbe") and values["successThreshold"] != 1:
        c.bad(f"{prefix}.successThreshold", f"Invalid value: {values['successThreshold']}: must be 1")
    grace = c.integer(p.get("terminationGracePeriodSeconds"), f"{prefix}.terminationGracePeriodSeconds")
    if grace is not None and kind == "readinessProbe":
        c.bad(f"{prefix}.terminationGracePeriodSeconds", f"Invalid value: {grace}: must not be set for readinessProbes")
    elif grace is not None and grace <= 0:
        c.bad(f"{prefix}.terminationGracePeriodSeconds", f"Invalid value: {grace}: must be greater than 0")
    if handler is None:
        return None
    return Probe(handler, values["initialDelaySeconds"], values["timeoutSeconds"], values["periodSeconds"],
                 values["successThreshold"], values["failureThreshold"], grace, prefix)


def _parse_handler(raw, prefix: str, kinds: tuple[str, ...], c: _Checker, pod: _PodContext) -> Handler | None:
    """``validateHandler``: exactly one action, each checked as its ``validate*Action`` does."""
    h = c.map(raw, prefix)
    handler: Handler | None = None
    found = False
    for kind in kinds:
        if h.get(kind) is None:
            continue
        where = f"{prefix}.{kind}"
        if found:
            c.bad(where, "Forbidden: may not specify more than 1 handler type")
            continue
        found = True
        action = c.map(h.get(kind), where)
        if kind == "exec":
            command = c.strings(action.get("command"), f"{where}.command")
            if not command:
                c.bad(f"{where}.command", "Required value")
            handler = ExecAction(command)
        elif kind == "httpGet":
            port = c.port_num_or_name(action.get("port"), f"{where}.port")
            scheme = c.string(action.get("scheme"), f"{where}.scheme") or "HTTP"
            if scheme not in ("HTTP", "HTTPS"):
                c.bad(f"{where}.scheme", f'Unsupported value: {go_quote(scheme)}: supported values: "HTTP", "HTTPS"')
            headers = []
            for j, header in enumerate(c.list(action.get("httpHeaders"), f"{where}.httpHeaders")):
                header = c.map(header, f"{where}.httpHeaders[{j}]")
                hname = c.string(header.get("name"), f"{where}.httpHeaders[{j}].name") or ""
                if not re.fullmatch("[-A-Za-z0-9]+", hname):
                    c.bad(f"{where}.httpHeaders", invalid(hname, regex_error(
                        "a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+",
                        "X-Header-Name")))
                headers.append((hname, c.string(header.get("value"), f"{where}.httpHeaders[{j}].value") or ""))
            path = c.string(action.get("path"), f"{where}.path") or "/"
            host = c.string(action.get("host"), f"{where}.host")
            handler = HTTPGetAction(port, path, scheme, host, tuple(headers)) if port is not None else None
        elif kind == "tcpSocket":
            port = c.port_num_or_name(action.get("port"), f"{where}.port")
            host = c.string(action.get("host"), f"{where}.host")
            handler = TCPSocketAction(port, host) if port is not None else None
        elif kind == "grpc":
            n = c.integer(action.get("port"), f"{where}.port")
            if n is not None and not 1 <= n <= 65535 or action.get("port") is None:
                c.bad(f"{where}.port", f"Invalid value: {n or 0}: must be between 1 and 65535, inclusive")
            service = c.string(action.get("service"), f"{where}.service")
            handler = GRPCAction(n, service) if n else None
        else:  # sleep (validateSleepAction, with the zero value allowed as current API servers do)
            seconds = c.integer(action.get("seconds"), f"{where}.seconds") or 0
            if not 0 <= seconds <= pod.grace_period:
                c.bad(where, f"Invalid value: {seconds}: must be non-negative and less than "
                             f"terminationGracePeriodSeconds ({pod.grace_period})")
            handler = SleepAction(seconds)
    if not found:
        c.bad(prefix, "Required value: must specify a handler type")
    return handler


def _parse_items(raw, prefix: str, c: _Checker) -> tuple[KeyToPath, ...]:
    items = []
    for i, item in enumerate(c.list(raw, prefix)):
        where = f"{prefix}[{i}]"
        item = c.map(item, where)
        key = c.string(item.get("key"), f"{where}.key", required=True)
        path = c.local_path(item.get("path"), f"{where}.path")
        mode = c.mode(item.get("mode"), f"{where}.mode")
        if key and path:
            items.append(KeyToPath(key, path, mode, where))
    return tuple(items)


def _default_mode(raw: dict, prefix: str, c: _Checker) -> int:
    """A volume's ``defaultMode``, 0644 when unset (as the API server defaults it)."""
    mode = c.mode(raw.get("defaultMode"), f"{prefix}.defaultMode")
    return 0o644 if mode is None else mode


def _parse_secret(raw: dict, prefix: str, c: _Checker, projected: bool) -> SecretSource:
    name_field = "name" if projected else "secretName"
    name = c.string(raw.get(name_field), f"{prefix}.{name_field}", required=True) or ""
    mode = None if projected else _default_mode(raw, prefix, c)  # before the items: the order problems print in
    return SecretSource(name, _parse_items(raw.get("items"), f"{prefix}.items", c),
                        c.boolean(raw.get("optional"), f"{prefix}.optional"), mode, prefix)


def _parse_configmap(raw: dict, prefix: str, c: _Checker, projected: bool) -> ConfigMapSource:
    name = c.string(raw.get("name"), f"{prefix}.name", required=True) or ""
    mode = None if projected else _default_mode(raw, prefix, c)
    return ConfigMapSource(name, _parse_items(raw.get("items"), f"{prefix}.items", c),
                           c.boolean(raw.get("optional"), f"{prefix}.optional"), mode, prefix)


def _parse_downward(raw: dict, prefix: str, c: _Checker, projected: bool) -> DownwardSource:
    items = []
    for i, item in enumerate(c.list(raw.get("items"), f"{prefix}.items")):
        where = f"{prefix}.items[{i}]"
        item = c.map(item, where)
        path = c.local_path(item.get("path"), f"{where}.path")
        mode = c.mode(item.get("mode"), f"{where}.mode")
        fref = c.map(item.get("fieldRef"), f"{where}.fieldRef")
        rref = c.map(item.get("resourceFieldRef"), f"{where}.resourceFieldRef")
        field_path = resource = container = divisor = None
        if bool(fref) == bool(rref):
            c.bad(where, "must specify exactly one of fieldRef and resourceFieldRef")
        elif fref:
            field_path = c.string(fref.get("fieldPath"), f"{where}.fieldRef.fieldPath", required=True)
            if field_path and not _valid_downward_field(field_path):
                c.bad(f"{where}.fieldRef.fieldPath", f'Unsupported value: "{field_path}": supported values: '
                      + ", ".join(f'"{f}"' for f in DOWNWARD_VOLUME_FIELDS))
                field_path = None
        else:
            resource = c.string(rref.get("resource"), f"{where}.resourceFieldRef.resource", required=True)
            container = c.string(rref.get("containerName"), f"{where}.resourceFieldRef.containerName")
            div = rref.get("divisor")
            divisor = str(div) if div is not None else None
            _check_resource_selector(resource, divisor, f"{where}.resourceFieldRef", c)
        if path and (field_path or resource):
            items.append(DownwardFile(path, field_path, resource, container, divisor, mode, where))
    return DownwardSource(tuple(items), None if projected else _default_mode(raw, prefix, c), prefix)


def _valid_downward_field(path: str) -> bool:
    if path in DOWNWARD_VOLUME_FIELDS:
        return True
    for prefix in ("metadata.labels['", "metadata.annotations['"):
        if path.startswith(prefix) and path.endswith("']") and len(path) > len(prefix) + 2:
            return True
    return False


def _parse_projected(raw: dict, prefix: str, c: _Checker) -> ProjectedSource:
    sources: list = []
    explicit_paths: dict[str, str] = {}
    for i, src in enumerate(c.list(raw.get("sources"), f"{prefix}.sources")):
        where = f"{prefix}.sources[{i}]"
        src = c.map(src, where)
        parsed = None
        if "secret" in src:
            parsed = _parse_secret(c.map(src["secret"], f"{where}.secret"), f"{where}.secret", c, True)
            paths = [(it.path, it.field) for it in parsed.items]
        elif "configMap" in src:
            parsed = _parse_configmap(c.map(src["configMap"], f"{where}.configMap"), f"{where}.configMap", c, True)
            paths = [(it.path, it.field) for it in parsed.items]
        elif "downwardAPI" in src:
            parsed = _parse_downward(c.map(src["downwardAPI"], f"{where}.downwardAPI"), f"{where}.downwardAPI", c,
                                     True)
            paths = [(it.path, it.field) for it in parsed.items]
        elif "serviceAccountToken" in src:
            tok = c.map(src["serviceAccountToken"], f"{where}.serviceAccountToken")
            tpath = c.local_path(tok.get("path"), f"{where}.serviceAccountToken.path")
            exp = c.integer(tok.get("expirationSeconds"), f"{where}.serviceAccountToken.expirationSeconds")
            if exp is not None and not 600 <= exp <= 2 ** 32:
                c.bad(f"{where}.serviceAccountToken.expirationSeconds",
                      "must be at least 10 minutes and no more than 2^32 seconds")
            if tpath:
                parsed = TokenSource(tpath, exp or 3600, tok.get("audience"), f"{where}.serviceAccountToken")
            paths = []  # the token path is not checked against the others (last source wins)
        else:
            kinds = ", ".join(sorted(src)) or "nothing"
            c.bad(where, f"unsupported projection ({kinds}); parity models secret, configMap, downwardAPI "
                         "and serviceAccountToken")
            continue
        for path, fpath in paths:
            clean = posixpath.normpath(path)
            if clean in explicit_paths:
                c.bad(f"{fpath}.path", f'conflicting duplicate paths: "{path}"')
            explicit_paths[clean] = fpath
        if parsed is not None:
            sources.append(parsed)
    return ProjectedSource(tuple(sources), _default_mode(raw, prefix, c), prefix)


_OTHER_TYPES = ("nfs", "csi", "image", "iscsi", "gitRepo", "cephfs", "rbd", "fc", "azureFile", "azureDisk",
                "awsElasticBlockStore", "gcePersistentDisk", "cinder", "flexVolume", "portworxVolume", "vsphereVolume",
                "quobyte", "scaleIO", "storageos", "glusterfs", "photonPersistentDisk", "flocker")


def _parse_empty_dir(raw: dict, prefix: str, c: _Checker) -> EmptyDirSource:
    """``emptyDir`` (``validateVolumeSource``: a negative ``sizeLimit`` is forbidden; a malformed one
    fails the decoder, as for resources)."""
    medium = c.string(raw.get("medium"), f"{prefix}.medium") or ""
    size = raw.get("sizeLimit")
    if size is None:
        return EmptyDirSource(medium)
    where = f"{prefix}.sizeLimit"
    if isinstance(size, bool) or not isinstance(size, (str, int, float)):
        c.bad(where, "must be a quantity (e.g. 500m, 64Mi)")
        return EmptyDirSource(medium)
    try:
        value = quantity.parse(str(size))
    except quantity.QuantityOverflow:
        return EmptyDirSource(medium, None, str(size))
    except ValueError:
        c.bad(where, f"{go_quote(str(size))}: {QUANTITY_FORMAT}")
        return EmptyDirSource(medium)
    if value < 0:
        c.bad(where, "Forbidden: SizeLimit field must be a valid resource quantity")
        return EmptyDirSource(medium)
    # The kubelet mounts tmpfs with size=sizeLimit.Value(): whole bytes, rounded up.
    return EmptyDirSource(medium, -(-value.numerator // value.denominator), str(size))


def _parse_host_path(raw: dict, prefix: str, c: _Checker) -> HostPathSource | None:
    """``validateHostPathVolumeSource``: a path, without a '..' element; a known ``type``. Also
    absolute: the single home of that rule (the API server accepts a relative path, but the node
    resolves it against the working directories of its daemons: the kubelet's type check and
    containerd's ``MkdirAll`` against theirs, runc against the container's bundle; compose, docker.sh
    and ``up`` each resolved it somewhere else)."""
    path = c.string(raw.get("path"), f"{prefix}.path", required=True)  # one line for a non-string
    if path is None:
        return None
    ok = True
    if "\x00" in path:  # stat(2) and mount(2) take C strings; up's checks raised a ValueError on it
        c.bad(f"{prefix}.path", "holds a NUL byte, which no host path can carry (the kubelet could not set the "
                                "volume up: the pod would not start)")
        return None
    if ".." in path.split("/"):  # validatePathNoBacksteps
        c.bad(f"{prefix}.path", invalid(path, "must not contain '..'"))
        ok = False
    if not path.startswith("/"):
        c.bad(f"{prefix}.path", invalid(path, "must be an absolute path: the API server accepts a relative one, but "
                                              "the node resolves it against its daemons' working directories (the "
                                              "kubelet's, the container runtime's), not a place of the pod's"))
        ok = False
    kind = raw.get("type")
    if kind is not None and (not isinstance(kind, str) or kind not in HOST_PATH_TYPES):
        c.bad(f"{prefix}.type", f"Unsupported value: {go_quote(str(kind))}: supported values: "
                                + ", ".join(f'"{t}"' for t in HOST_PATH_TYPES))
        ok = False
    return HostPathSource(path, kind or "") if ok else None


def _claim_name(value, field_path: str, c: _Checker) -> str | None:
    """``persistentVolumeClaim.claimName``: the pod's validation only requires it
    (``validatePersistentClaimVolumeSource``), but a claim's own name is a DNS-1123 subdomain
    (``ValidatePersistentVolumeName``): any other name is never found, and the pod stays Pending.
    Refused here, with the field, rather than by the engine (the name makes the claim's volume)."""
    claim = c.string(value, field_path, required=True)
    if claim is None:
        return None
    errors = dns1123_subdomain_errors(claim)
    for message in errors:
        c.bad(field_path, invalid(claim, message) + ": no PersistentVolumeClaim can have this name (the pod would "
                                                    "stay Pending)")
    return None if errors else claim


def _parse_ephemeral(raw: dict, prefix: str, c: _Checker) -> EphemeralSource:
    """``validateEphemeralVolumeSource``: a ``volumeClaimTemplate`` is required (its spec is the
    storage class's business: not reproduced, the volume is a plain Docker volume)."""
    if raw.get("volumeClaimTemplate") is None:
        c.bad(f"{prefix}.volumeClaimTemplate", "Required value")
    else:
        c.map(raw.get("volumeClaimTemplate"), f"{prefix}.volumeClaimTemplate")
    return EphemeralSource(c.boolean(raw.get("readOnly"), f"{prefix}.readOnly"))


def claim_volumes(templates, set_name: str, prefix: str, problems: Problems, file: str, ref: str) -> list[Volume]:
    """A StatefulSet's ``volumeClaimTemplates`` as the volumes its controller gives pod 0
    (``updateStorage``/``getPersistentVolumeClaimName``: claim ``<template>-<set>-0``)."""
    c = _Checker(problems, file, ref)
    out = []
    for i, raw in enumerate(c.list(templates, prefix)):
        where = f"{prefix}[{i}]"
        meta = c.map(c.map(raw, where).get("metadata"), f"{where}.metadata")
        name = c.string(meta.get("name"), f"{where}.metadata.name", required=True)
        if name:
            out.append(Volume(name, ClaimSource(f"{name}-{set_name}-0", template=True), where))
    return out


def _parse_volume(raw, prefix: str, c: _Checker) -> Volume | None:
    raw = c.map(raw, prefix)
    name = c.label(raw.get("name"), f"{prefix}.name")
    if not name:
        return None
    if "secret" in raw:
        return Volume(name, _parse_secret(c.map(raw["secret"], f"{prefix}.secret"), f"{prefix}.secret", c, False),
                      prefix)
    if "configMap" in raw:
        return Volume(name, _parse_configmap(c.map(raw["configMap"], f"{prefix}.configMap"), f"{prefix}.configMap",
                                             c, False), prefix)
    if "downwardAPI" in raw:
        return Volume(name, _parse_downward(c.map(raw["downwardAPI"], f"{prefix}.downwardAPI"),
                                            f"{prefix}.downwardAPI", c, False), prefix)
    if "projected" in raw:
        return Volume(name, _parse_projected(c.map(raw["projected"], f"{prefix}.projected"), f"{prefix}.projected",
                                             c), prefix)
    if "persistentVolumeClaim" in raw:
        pvc = c.map(raw["persistentVolumeClaim"], f"{prefix}.persistentVolumeClaim")
        claim = _claim_name(pvc.get("claimName"), f"{prefix}.persistentVolumeClaim.claimName", c)
        return Volume(name, ClaimSource(claim or "", c.boolean(pvc.get("readOnly"),
                                                                f"{prefix}.persistentVolumeClaim.readOnly")), prefix)
    if "emptyDir" in raw:
        return Volume(name, _parse_empty_dir(c.map(raw["emptyDir"], f"{prefix}.emptyDir"), f"{prefix}.emptyDir", c),
                      prefix)
    if "hostPath" in raw:
        host = _parse_host_path(c.map(raw["hostPath"], f"{prefix}.hostPath"), f"{prefix}.hostPath", c)
        return Volume(name, host, prefix) if host else None
    if "ephemeral" in raw:
        return Volume(name, _parse_ephemeral(c.map(raw["ephemeral"], f"{prefix}.ephemeral"), f"{prefix}.ephemeral",
                                             c), prefix)
    for t in _OTHER_TYPES:
        if t in raw:
            return Volume(name, OtherSource(t), prefix)
    # No source given: the API server defaults it to an emptyDir.
    return Volume(name, EmptyDirSource(), prefix)
