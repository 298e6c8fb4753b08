"""A pod's containers and security contexts, typed (``podspec.Container``) and validated as
``validateContainers``, ``validateInitContainers``, ``ValidateSecurityContext``, ``ValidateEnv``,
``validateContainerPorts`` and ``validateProbe`` validate them: command, args, env and envFrom,
ports, resources, restartPolicy, lifecycle hooks and probes, with the API server's defaults.
"""

from __future__ import annotations

import functools
import posixpath
import re

from ..values import Value, valueclass
from . import quantity
from .checker import QUANTITY_FORMAT, _Checker, _check_resource_selector
from .fieldref import CONVERTIBLE_FIELDS, ENV_FIELDS, split_subscripted
from .names import go_quote, invalid, port_name_errors, qualified_name_errors, regex_error
from .podspec import (Container, ContainerPort, EnvFromSource, EnvVar, ExecAction, FieldSelector, GRPCAction,
                      Handler, HTTPGetAction, KeySelector, Lifecycle, Probe, ResourceSelector, Resources,
                      SeccompProfile, SecurityContext, SleepAction, TCPSocketAction, VolumeMount)

#: Why a mount path holding a NUL byte is refused (mount(2) takes C strings: the runtime fails the
#: container), as written or as a subPathExpr expands (``kube/subpathexpr.py``).
MOUNT_PATH_NUL = "a NUL byte, which no mount path can carry (the container would fail to start)"


def _parse_security(sc: dict, prefix: str, c: _Checker, host_users: bool = True) -> SecurityContext:
    """A container's or the pod's ``securityContext`` (``ValidateSecurityContext``,
    ``validatePodSpecSecurityContext``)."""
    if not sc:  # (unset in most pods and containers: every field at its default, nothing to check)
        return SecurityContext()
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
    elif image and (why := image_reference_error(image)):
        # The API server takes it; the kubelet cannot parse it as a reference (image_manager.go
        # applyDefaultImageTag: ErrInvalidImageName), and no argv can carry a NUL: refused here.
        c.bad(f"{prefix}.image", invalid(image, why))
        image = None
    mounts: list[VolumeMount] = []
    paths: set[str] = set()
    # (validateMountPropagation reads it per mount, so its Forbidden line comes with the mount's own)
    sc = raw.get("securityContext")
    privileged = isinstance(sc, dict) and sc.get("privileged") is True
    for i, m in enumerate(c.list(raw.get("volumeMounts"), f"{prefix}.volumeMounts")):
        where = f"{prefix}.volumeMounts[{i}]"
        m = c.map(m, where)
        vname = c.string(m.get("name"), f"{where}.name", required=True)
        mpath = c.string(m.get("mountPath"), f"{where}.mountPath", required=True)
        if vname and vname not in volume_names:
            c.bad(f"{where}.name", f"Not found: {go_quote(vname)}")
        if mpath and "\x00" in mpath:
            # mount(2) takes a C string: the runtime fails the container; no docker.sh word carries it.
            c.bad(f"{where}.mountPath", f"holds {MOUNT_PATH_NUL}")
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
                c.bad(f"{where}.subPath", f"holds {MOUNT_PATH_NUL}")
            else:
                c.descending_path(sub, f"{where}.subPath")
        expr = c.string(m.get("subPathExpr"), f"{where}.subPathExpr")
        if expr:  # (validateVolumeMounts: an empty one is no expression)
            if sub:
                c.bad(f"{where}.subPathExpr", invalid(expr, "subPathExpr and subPath are mutually exclusive"))
            if "\x00" in expr:
                c.bad(f"{where}.subPathExpr", f"holds {MOUNT_PATH_NUL}")
            else:
                c.descending_path(expr, f"{where}.subPathExpr")
        read_only = c.boolean(m.get("readOnly"), f"{where}.readOnly")
        _check_propagation(m, read_only, privileged, where, c)
        if vname and mpath:
            mounts.append(VolumeMount(vname, mpath, read_only, sub, where, expr or None))
    security = _parse_security(c.map(raw.get("securityContext"), f"{prefix}.securityContext"),
                               f"{prefix}.securityContext", c, pod.host_users)
    runtime = _parse_runtime(raw, prefix, c)
    lifecycle_fields = _parse_lifecycle_fields(raw, prefix, init, c, pod)
    if not name or not image:
        return None
    return Container(name, image, init, mounts, security, prefix, **runtime, **lifecycle_fields)


def _check_propagation(m: dict, read_only: bool, privileged: bool, where: str, c: _Checker) -> None:
    """A mount's ``mountPropagation`` and ``recursiveReadOnly``, in validation.go's order
    (``validateMountPropagation``: a value it does not know, then Bidirectional in a container that is
    not privileged; then ``validateMountRecursiveReadOnly``)."""
    # ("" is a value the API server refuses, not an unset field: both are pointers there)
    propagation = "" if m.get("mountPropagation") == "" else c.string(m.get("mountPropagation"),
                                                                       f"{where}.mountPropagation")
    if propagation is not None and propagation not in ("Bidirectional", "HostToContainer", "None"):
        c.bad(f"{where}.mountPropagation", f"Unsupported value: {go_quote(propagation)}: supported values: "
                                           '"Bidirectional", "HostToContainer", "None"')
    if propagation == "Bidirectional" and not privileged:
        c.bad(f"{where}.mountPropagation", "Forbidden: Bidirectional mount propagation is available only to "
                                           "privileged containers")
    rro = "" if m.get("recursiveReadOnly") == "" else c.string(m.get("recursiveReadOnly"),
                                                               f"{where}.recursiveReadOnly")
    if rro in ("Enabled", "IfPossible"):
        if not read_only:
            c.bad(f"{where}.recursiveReadOnly", "Forbidden: may only be specified when readOnly is true")
        if propagation not in (None, "None"):  # (as written, even a value refused above)
            c.bad(f"{where}.recursiveReadOnly", "Forbidden: may only be specified when mountPropagation is None or "
                                                "not specified")
    elif rro is not None and rro != "Disabled":
        c.bad(f"{where}.recursiveReadOnly", f"Unsupported value: {go_quote(rro)}: supported values: "
                                            '"Disabled", "Enabled", "IfPossible"')


@valueclass
class _PodContext(Value):
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
    pull = c.string(raw.get("imagePullPolicy"), f"{prefix}.imagePullPolicy")  # (validatePullPolicy)
    if pull is not None and pull not in ("Always", "IfNotPresent", "Never"):
        c.bad(f"{prefix}.imagePullPolicy", f'Unsupported value: {go_quote(pull)}: supported values: "Always", '
                                           '"IfNotPresent", "Never"')
    else:
        out["image_pull_policy"] = pull_policy(raw)
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
                quantity.check(str(value))
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
        # (most variables have a value; and a source valueFrom does not name has nothing to check: with
        # it absent, each of its checks below sees nothing and says nothing)
        for kind in ("secretKeyRef", "configMapKeyRef"):
            if kind in vf:
                ref = c.map(vf[kind], f"{where}.valueFrom.{kind}")
                name, key = (c.string(ref.get(k), f"{where}.valueFrom.{kind}.{k}", required=True)
                             for k in ("name", "key"))
                optional = c.boolean(ref.get("optional"), f"{where}.valueFrom.{kind}.optional")
                sources.append(KeySelector("secret" if kind == "secretKeyRef" else "configMap", name or "",
                                           key or "", optional))
        if "fieldRef" in vf:
            fref = c.map(vf["fieldRef"], f"{where}.valueFrom.fieldRef")
            field_path = c.string(fref.get("fieldPath"), f"{where}.valueFrom.fieldRef.fieldPath", required=True)
            if field_path is not None:
                _check_env_field_path(field_path, f"{where}.valueFrom.fieldRef", c)
            sources.append(FieldSelector(field_path or ""))
        if "resourceFieldRef" in vf:
            rref = c.map(vf["resourceFieldRef"], f"{where}.valueFrom.resourceFieldRef")
            resource = c.string(rref.get("resource"), f"{where}.valueFrom.resourceFieldRef.resource", required=True)
            container = c.string(rref.get("containerName"), f"{where}.valueFrom.resourceFieldRef.containerName")
            div = rref.get("divisor")
            if div is not None and (isinstance(div, bool) or not isinstance(div, (str, int, float))):
                c.bad(f"{where}.valueFrom.resourceFieldRef.divisor", "must be a quantity (e.g. 1m, 1Mi)")
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


#: distribution/reference regexp.go's ``referencePat`` (name [":" tag] ["@" digest], the name a lower-case
#: path with an optional domain and port) and ``anchoredNamePat``, which the kubelet's ``ParseNormalizedNamed``
#: applies. Go's ``\w`` is ASCII: ``re.ASCII`` keeps Python's Unicode ``\w`` from taking ``busybox:tàg``.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_IMAGE_REFERENCE = re.compile(
    rf"(?P<name>(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME})(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?", re.ASCII)
_IMAGE_NAME = re.compile(rf"(?:(?P<domain>{_DOMAIN_AND_PORT})/)?(?P<path>{_REMOTE_NAME})", re.ASCII)
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")  # ParseNormalizedNamed refuses a bare image ID as a name
_PATH_MAX = 255  # reference.RepositoryNameTotalLengthMax, of the normalised name's path (not its domain)
#: opencontainers/go-digest algorithm.go: the registered algorithms and their exact lower-case hex encoding.
_DIGEST_HEX = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha384": re.compile(r"[a-f0-9]{96}"),
               "sha512": re.compile(r"[a-f0-9]{128}")}
_DIGEST_SHAPE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)  # go-digest DigestRegexp


def _split_docker_domain(image: str) -> tuple[str, str]:
    """normalize.go ``splitDockerDomain``: (domain, remainder), a familiar name put under docker.io/library/."""
    first, slash, rest = image.partition("/")
    if not slash:
        return "docker.io", "library/" + image
    if first == "localhost" or any(ch in first for ch in ".:") or first.lower() != first:
        domain, remote = ("docker.io" if first == "index.docker.io" else first), rest
    else:
        domain, remote = "docker.io", image
    if domain == "docker.io" and "/" not in remote:
        remote = "library/" + remote
    return domain, remote


def reference_error(image: str) -> str | None:
    """Why distribution/reference ``ParseNormalizedNamed`` refuses ``image`` (its error's words), or None.
    The one home of the image reference rule: a container's image (``image_reference_error``) and
    k8s-to-docker's ``--base-image`` (the data image's and sandboxes' base) are checked with it.

    Args:
        image: the reference as written.

    Returns:
        ``invalid reference format``, ``repository name must be lowercase``, ``repository name must not be
        more than 255 characters``, ``invalid checksum digest format`` or ``unsupported digest algorithm``;
        None when it parses.
    """
    if _IMAGE_ID.fullmatch(image):
        return "invalid reference format"  # "cannot specify 64-byte hexadecimal strings"
    domain, remainder = _split_docker_domain(image)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        return "invalid reference format"  # "repository name (...) must be lowercase"
    normalised = f"{domain}/{remainder}"
    m = _IMAGE_REFERENCE.fullmatch(normalised)
    if not m:
        lower = normalised.lower()
        return ("repository name must be lowercase" if lower != normalised and _IMAGE_REFERENCE.fullmatch(lower)
                else "invalid reference format")
    if len(_IMAGE_NAME.fullmatch(m["name"])["path"]) > _PATH_MAX:
        return f"repository name must not be more than {_PATH_MAX} characters"
    if m["digest"]:
        algorithm, _, encoded = m["digest"].partition(":")
        if algorithm not in _DIGEST_HEX:
            return ("unsupported digest algorithm" if _DIGEST_SHAPE.fullmatch(m["digest"])
                    else "invalid checksum digest format")
        if not _DIGEST_HEX[algorithm].fullmatch(encoded):
            return "invalid checksum digest format"
    return None


def pull_policy(container: dict) -> str:
    """A container's ``imagePullPolicy`` as the kubelet gets it: as written, else the API server's default
    (pkg/apis/core/v1/defaults.go ``SetDefaults_Container``): Always when pkg/util/parsers
    ``ParseImageName`` gives the tag ``latest`` (written, or neither a tag nor a digest), else IfNotPresent
    (a reference that does not parse too: the defaulting ignores the error).

    Args:
        container: the container as written (its ``imagePullPolicy`` already validated).

    Returns:
        ``Always``, ``IfNotPresent`` or ``Never``.
    """
    written, image = container.get("imagePullPolicy"), container.get("image")
    if written:
        return written
    if not isinstance(image, str) or reference_error(image) is not None:
        return "IfNotPresent"
    m = _IMAGE_REFERENCE.fullmatch("/".join(_split_docker_domain(image)))
    return "Always" if m["tag"] == "latest" or not (m["tag"] or m["digest"]) else "IfNotPresent"


@functools.lru_cache(maxsize=4096)  # every container is checked, and a whole app's images repeat
def image_reference_error(image: str) -> str | None:
    """Why the kubelet cannot pull ``image``, or None: the kubelet's ``applyDefaultImageTag``
    (pkg/kubelet/images/image_manager.go) parses it with distribution/reference ``ParseNormalizedNamed``
    (normalize.go, reference.go, go-digest digest.go), and on its error the container waits with
    InvalidImageName. The API server takes any string. Compose refuses a file naming such an image whole.

    Args:
        image: the reference as written (a container's ``image``, ``--base-image``).

    Returns:
        The reason (the kubelet's error words, with a ``ko resolve`` hint for a ``ko://`` import path:
        knative's and tekton's config/), or None when the kubelet can parse it.
    """
    error = reference_error(image)
    if error is None:
        return None
    why = f"not a valid image reference (the kubelet fails the container with InvalidImageName: {error})"
    if image.startswith("ko://"):
        why += "; ko:// names a Go import path that ko builds: render the manifests with ko resolve -f DIR first"
    return why


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
