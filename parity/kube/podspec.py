"""The parts of a pod spec parity needs, as typed dataclasses, validated as the API server does.

Validation messages follow ``pkg/apis/core/validation/validation.go`` and name the field the way
kubectl does (``spec.volumes[0].secret.defaultMode``). Only what shapes files in containers (and
what the Compose emitter needs) is parsed; everything else is kept raw on ``Container.raw``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ..errors import Problems
from . import quantity
from .names import dns1123_label_errors, go_quote, invalid, port_name_errors
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
    Its data lives outside the pod: not reproduced as files (see ``unreproduced``)."""

    claim_name: str
    read_only: bool = False
    template: bool = False  # from the StatefulSet's volumeClaimTemplates


@dataclass(frozen=True)
class OtherSource:
    """A volume type parity does not model (emptyDir, hostPath, ephemeral, csi...)."""

    type: str
    medium: str | None = None


VolumeSource = SecretSource | ConfigMapSource | DownwardSource | ProjectedSource | ClaimSource | OtherSource


@dataclass(frozen=True)
class Volume:
    name: str
    source: VolumeSource
    field: str

    @property
    def modelled(self) -> bool:
        return not isinstance(self.source, (OtherSource, ClaimSource))

    @property
    def type(self) -> str:
        return {SecretSource: "secret", ConfigMapSource: "configMap", DownwardSource: "downwardAPI",
                ProjectedSource: "projected", ClaimSource: "persistentVolumeClaim"}.get(
                    type(self.source)) or self.source.type  # type: ignore[union-attr]

    def unreproduced(self) -> str | None:
        """What a container mounting this volume misses locally (None for the modelled types)."""
        if self.modelled:
            return None
        what = f'{self.type} volume "{self.name}"'
        if isinstance(self.source, ClaimSource):
            what += f" (claim {self.source.claim_name}{', from volumeClaimTemplates' if self.source.template else ''})"
        return f"{what} is not reproduced by parity"


@dataclass(frozen=True)
class VolumeMount:
    name: str
    mount_path: str
    read_only: bool
    sub_path: str | None
    field: str


@dataclass(frozen=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    read_only_root_filesystem: bool | None = None


@dataclass
class Container:
    name: str
    image: str
    init: bool
    volume_mounts: list[VolumeMount]
    security: SecurityContext
    field: str
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def sidecar(self) -> bool:
        """An init container with ``restartPolicy: Always`` (a native sidecar, KEP-753): the kubelet
        starts it in its init order, starts the next container once it has started rather than
        exited, keeps it running for the pod's life and restarts it whenever it exits (kubelet
        pkg/kubelet/kuberuntime/kuberuntime_container.go computeInitContainerActions,
        podutil.IsRestartableInitContainer)."""
        return self.init and self.raw.get("restartPolicy") == "Always"


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
    enable_service_links: bool = True  # spec.enableServiceLinks (SetDefaults_PodSpec: true)

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
        ok = True
        if path.startswith("/"):
            self.bad(field_path, "must be a relative path")
            ok = False
        parts = path.split("/")
        if ".." in parts:
            self.bad(field_path, "must not contain '..'")
            ok = False
        elif path.startswith(".."):
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

    psc = c.map(spec.get("securityContext"), f"{prefix}.securityContext")
    pod_security = _parse_security(psc, f"{prefix}.securityContext", c)
    fs_group = c.ident(psc.get("fsGroup"), f"{prefix}.securityContext.fsGroup")
    groups = [g for g in (c.ident(x, f"{prefix}.securityContext.supplementalGroups[{i}]")
                          for i, x in enumerate(c.list(psc.get("supplementalGroups"),
                                                       f"{prefix}.securityContext.supplementalGroups")))
              if g is not None]

    # Mounts are checked against every volume declared, a misnamed one included (said once, above).
    names = {v.get("name") for v in raw_volumes if isinstance(v, dict)} | {v.name for v in claims or []}
    init = [_parse_container(x, f"{prefix}.initContainers[{i}]", True, names, c)
            for i, x in enumerate(c.list(spec.get("initContainers"), f"{prefix}.initContainers"))]
    regular = [_parse_container(x, f"{prefix}.containers[{i}]", False, names, c)
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
    # ValidatePodSpec: hostname and subdomain, when given, are DNS-1123 labels.
    hostname, subdomain = (c.label(spec.get(k), f"{prefix}.{k}") if spec.get(k) not in (None, "") else None
                           for k in ("hostname", "subdomain"))
    links = spec.get("enableServiceLinks")
    links = True if links is None else c.boolean(links, f"{prefix}.enableServiceLinks")
    seen_names: set[str] = set()
    for ctr in [x for x in init + regular if x is not None]:
        if ctr.name in seen_names:
            c.bad(f"{ctr.field}.name", f"Duplicate value: {go_quote(ctr.name)}")
        seen_names.add(ctr.name)
    if len(problems.items) > before:
        return None
    return PodSpec(volumes, [x for x in init if x], [x for x in regular if x], ephemeral, pod_security, fs_group,
                   groups, policy, account, hostname, subdomain, links)


def _parse_security(sc: dict, prefix: str, c: _Checker) -> SecurityContext:
    return SecurityContext(
        run_as_user=c.ident(sc.get("runAsUser"), f"{prefix}.runAsUser"),
        run_as_group=c.ident(sc.get("runAsGroup"), f"{prefix}.runAsGroup"),
        read_only_root_filesystem=sc.get("readOnlyRootFilesystem") if isinstance(
            sc.get("readOnlyRootFilesystem"), bool) else None,
    )


def _parse_container(raw, prefix: str, init: bool, volume_names: set[str], c: _Checker) -> Container | None:
    if not isinstance(raw, dict):
        c.bad(prefix, "must be a map")
        return None
    name = c.label(raw.get("name"), f"{prefix}.name")
    image = c.string(raw.get("image"), f"{prefix}.image", required=True)
    if image is not None and image != image.strip():
        c.bad(f"{prefix}.image", invalid(image, "must not have leading or trailing whitespace"))
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
            if sub.startswith("/"):
                c.bad(f"{where}.subPath", "must be a relative path")
            elif ".." in sub.split("/"):
                c.bad(f"{where}.subPath", "must not contain '..'")
        if m.get("subPathExpr"):
            c.bad(f"{where}.subPathExpr", "not supported by parity (it depends on runtime environment values)")
        if vname and mpath:
            mounts.append(VolumeMount(vname, mpath, c.boolean(m.get("readOnly"), f"{where}.readOnly"), sub, where))
    security = _parse_security(c.map(raw.get("securityContext"), f"{prefix}.securityContext"),
                               f"{prefix}.securityContext", c)
    _check_runtime_fields(raw, prefix, c)
    if not name or not image:
        return None
    return Container(name, image, init, mounts, security, prefix, raw)


def _no_nul(value: str | None, field_path: str, c: _Checker) -> None:
    """A NUL byte cannot be in a process's argument or environment (``execve`` takes C strings): the
    runtime fails to start the container. Nor could docker.sh or an env file carry it."""
    if value is not None and "\x00" in value:
        c.bad(field_path, "holds a NUL byte, which no process argument or environment value can carry "
                          "(the container would fail to start)")


def _check_runtime_fields(raw: dict, prefix: str, c: _Checker) -> None:
    """The shapes of the fields the Docker emitter reads from ``Container.raw`` (command, env, ports,
    resources...), which the API server's decoder rejects the same way when they are wrong."""
    for name in ("command", "args"):
        for i, x in enumerate(c.list(raw.get(name), f"{prefix}.{name}")):
            if x != "":
                _no_nul(c.string(x, f"{prefix}.{name}[{i}]"), f"{prefix}.{name}[{i}]", c)
    _no_nul(c.string(raw.get("workingDir"), f"{prefix}.workingDir"), f"{prefix}.workingDir", c)
    for name in ("tty", "stdin"):
        c.boolean(raw.get(name), f"{prefix}.{name}")
    for i, p in enumerate(c.list(raw.get("ports"), f"{prefix}.ports")):
        where = f"{prefix}.ports[{i}]"
        p = c.map(p, where)
        port_name = c.string(p.get("name"), f"{where}.name")
        for message in port_name_errors(port_name) if port_name is not None else []:
            c.bad(f"{where}.name", invalid(port_name, message))
        for key in ("containerPort", "hostPort"):
            n = c.integer(p.get(key), f"{where}.{key}")
            if n is None and key == "containerPort" and p.get(key) is None:
                c.bad(f"{where}.{key}", "Required value")
            elif n is not None and not 1 <= n <= 65535 and not (key == "hostPort" and n == 0):
                c.bad(f"{where}.{key}", "must be between 1 and 65535, inclusive")
        proto = c.string(p.get("protocol"), f"{where}.protocol")
        if proto is not None and proto not in ("TCP", "UDP", "SCTP"):
            c.bad(f"{where}.protocol", f'Unsupported value: "{proto}": supported values: "SCTP", "TCP", "UDP"')
    resources = c.map(raw.get("resources"), f"{prefix}.resources")
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
    for i, src in enumerate(c.list(raw.get("envFrom"), f"{prefix}.envFrom")):
        where = f"{prefix}.envFrom[{i}]"
        src = c.map(src, where)
        c.string(src.get("prefix"), f"{where}.prefix")
        for kind in ("secretRef", "configMapRef"):
            ref = c.map(src.get(kind), f"{where}.{kind}")
            c.string(ref.get("name"), f"{where}.{kind}.name", required=kind in src)
            c.boolean(ref.get("optional"), f"{where}.{kind}.optional")
    for i, item in enumerate(c.list(raw.get("env"), f"{prefix}.env")):
        where = f"{prefix}.env[{i}]"
        item = c.map(item, where)
        env_name = c.string(item.get("name"), f"{where}.name", required=True)
        if env_name is not None and ("=" in env_name or not (env_name.isascii() and env_name.isprintable())):
            c.bad(f"{where}.name", "a valid environment variable name must consist of printable ASCII characters "
                                   "other than '='")
        _no_nul(c.string(item.get("value"), f"{where}.value"), f"{where}.value", c)
        vf = c.map(item.get("valueFrom"), f"{where}.valueFrom")
        for kind in ("secretKeyRef", "configMapKeyRef"):
            ref = c.map(vf.get(kind), f"{where}.valueFrom.{kind}")
            for key in ("name", "key"):
                c.string(ref.get(key), f"{where}.valueFrom.{kind}.{key}", required=kind in vf)
            c.boolean(ref.get("optional"), f"{where}.valueFrom.{kind}.optional")
        fref = c.map(vf.get("fieldRef"), f"{where}.valueFrom.fieldRef")
        c.string(fref.get("fieldPath"), f"{where}.valueFrom.fieldRef.fieldPath", required="fieldRef" in vf)
        rref = c.map(vf.get("resourceFieldRef"), f"{where}.valueFrom.resourceFieldRef")
        c.string(rref.get("resource"), f"{where}.valueFrom.resourceFieldRef.resource",
                 required="resourceFieldRef" in vf)
        c.string(rref.get("containerName"), f"{where}.valueFrom.resourceFieldRef.containerName")
        div = rref.get("divisor")
        if div is not None and (isinstance(div, bool) or not isinstance(div, (str, int, float))):
            c.bad(f"{where}.valueFrom.resourceFieldRef.divisor", "must be a quantity (e.g. 1m, 1Mi)")


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


_OTHER_TYPES = ("emptyDir", "hostPath", "nfs", "csi", "ephemeral", "image", "iscsi",
                "gitRepo", "cephfs", "rbd", "fc", "azureFile", "azureDisk", "awsElasticBlockStore",
                "gcePersistentDisk", "cinder", "flexVolume", "portworxVolume", "vsphereVolume", "quobyte",
                "scaleIO", "storageos", "glusterfs", "photonPersistentDisk", "flocker")


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
        claim = c.string(pvc.get("claimName"), f"{prefix}.persistentVolumeClaim.claimName", required=True)
        return Volume(name, ClaimSource(claim or "", c.boolean(pvc.get("readOnly"),
                                                                f"{prefix}.persistentVolumeClaim.readOnly")), prefix)
    for t in _OTHER_TYPES:
        if t in raw:
            medium = raw[t].get("medium") if t == "emptyDir" and isinstance(raw[t], dict) else None
            return Volume(name, OtherSource(t, medium), prefix)
    # No source given: the API server defaults it to an emptyDir.
    return Volume(name, OtherSource("emptyDir"), prefix)
