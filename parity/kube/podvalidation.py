"""A raw pod spec -> the typed ``PodSpec`` (``podspec.py``), validated as ``ValidatePodSpec`` validates
it: volumes (``volumevalidation.py``), containers (``containervalidation.py``) and the pod-level fields
(ids, hostname, subdomain, hostAliases, DNS policy, host namespaces, sysctls, host ports).

Validation messages follow ``pkg/apis/core/validation/validation.go`` and name the field the way
kubectl does (``spec.volumes[0].secret.defaultMode``).
"""

from __future__ import annotations

import re

from ..errors import Problems
from .checker import _Checker
from .containervalidation import _PodContext, _parse_container, _parse_env, _parse_env_from, _parse_security, \
    pull_policy
from .names import dns1123_label_errors, dns1123_subdomain_errors, go_quote, invalid, ip_address_errors
from .podspec import (Container, EnvFromSource, EnvVar, HostAlias, PodSpec, Sysctl, UnreproducedField, Volume,
                      _sysctl_namespace)
from .volumevalidation import _parse_volume


def parse_pod_spec(spec: dict, prefix: str, problems: Problems, file: str, ref: str,
                   claims: list[Volume] | None = None) -> PodSpec | None:
    """``claims``: the volumes a StatefulSet's controller adds for its ``volumeClaimTemplates``
    (``volumevalidation.claim_volumes``); as its ``updateStorage`` does, they come first and replace template volumes
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
    ephemeral: list[int | None] = []
    ephemeral_env: list[EnvVar] = []
    ephemeral_env_from: list[EnvFromSource] = []
    for i, x in enumerate(c.list(spec.get("ephemeralContainers"), f"{prefix}.ephemeralContainers")):
        if isinstance(x, dict):
            where = f"{prefix}.ephemeralContainers[{i}].securityContext"
            ephemeral.append(_parse_security(c.map(x.get("securityContext"), where), where, c).run_as_user)
            ephemeral_env += _parse_env(x, f"{prefix}.ephemeralContainers[{i}]", c)
            ephemeral_env_from += _parse_env_from(x, f"{prefix}.ephemeralContainers[{i}]", c)
    policy = c.string(spec.get("restartPolicy"), f"{prefix}.restartPolicy")
    if policy is not None and policy not in ("Always", "OnFailure", "Never"):
        c.bad(f"{prefix}.restartPolicy", f'Unsupported value: "{policy}": supported values: "Always", "Never", '
                                         '"OnFailure"')
    account = c.string(spec.get("serviceAccountName"), f"{prefix}.serviceAccountName")
    if not account:  # (the v1 conversion: serviceAccount is its deprecated alias, taken when it is unset)
        account = c.string(spec.get("serviceAccount"), f"{prefix}.serviceAccount") or account
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
                   groups, policy, account, termination_grace_period_seconds=pod.grace_period,
                   ephemeral_env=tuple(ephemeral_env), ephemeral_env_from=tuple(ephemeral_env_from),
                   unreproduced_fields=unreproduced_fields(spec, prefix, pod.grace_period), **extra)


def unreproduced_fields(spec: dict, prefix: str, grace_period: int = 30) -> tuple[UnreproducedField, ...]:
    """The fields of a (valid) pod spec that change how the pod runs and that no Docker setup
    reproduces, each with why: the one home of these notes (k8s-to-docker's output, the README and
    up's notes say them, of the container's service or of the pod). The kubernetes docs' examples of
    pod-level resources (PodLevelResources, beta and on by default since 1.34), container restart rules
    and stop signals were taken and dropped without a word (corpus, sixth session), and so were
    lifecycle hooks (ingress-nginx's controller and contour's envoy drain connections in a preStop hook)
    and mounts' propagation and image pull policies (secrets-store-csi-driver's and calico's node
    plugins, nginx-gateway-fabric: corpus, seventh session).
    (Probes are another rule: one of them becomes the health check, ``docker/health.py``.)

    Args:
        spec: the pod spec as written, already validated (``parse_pod_spec``).
        prefix: its field path (``spec``, ``spec.template.spec``...).
        grace_period: the pod's ``terminationGracePeriodSeconds`` (the API server's default: 30), which
            bounds a preStop hook in the cluster.

    Returns:
        One entry per field, the pod's first, then each container's in spec order.
    """
    out = []
    if spec.get("resources"):
        out.append(UnreproducedField(f"{prefix}.resources", "pod-level resources are not reproduced: Docker limits "
                                     "each container, never a pod's containers together"))
    for key, why in _POD_FIELDS:  # (read by nobody before: taken and dropped without a word)
        if spec.get(key) not in (None, "", []):
            out.append(UnreproducedField(f"{prefix}.{key}", f"not reproduced: {why}"))
    policy = spec.get("dnsPolicy")
    if policy in ("Default", "None"):  # (read and never used before: the pod's resolv.conf is Docker's)
        kubelet = "gives it the node's" if policy == "Default" else "writes one from spec.dnsConfig alone"
        out.append(UnreproducedField(f"{prefix}.dnsPolicy", f"{policy} is not reproduced: the pod's /etc/resolv.conf "
                                     "is Docker's (its embedded DNS server, 127.0.0.11, which answers the app's "
                                     f"names), where the kubelet {kubelet}"))
    if spec.get("dnsConfig"):
        out.append(UnreproducedField(f"{prefix}.dnsConfig", "not reproduced: its nameservers, searches and options are "
                                     "not in the pod's /etc/resolv.conf here (Docker's)"))
    if spec.get("hostUsers") is False:  # (fieldcov: read for validation, said nowhere)
        out.append(UnreproducedField(f"{prefix}.hostUsers", "false is not reproduced: the containers run in this "
                                     "machine's user namespace (Docker's default), where the kubelet gives the pod "
                                     "one of its own (root in the container is not root on the node)"))
    if (spec.get("os") or {}).get("name") == "windows":
        out.append(UnreproducedField(f"{prefix}.os.name", "windows is not reproduced: parity runs Linux containers"))
    psc = spec.get("securityContext") or {}
    out += _security_notes(psc, f"{prefix}.securityContext", None)
    if psc.get("supplementalGroupsPolicy") == "Strict":
        out.append(UnreproducedField(f"{prefix}.securityContext.supplementalGroupsPolicy", "Strict is not "
                                     "reproduced: Docker also gives the user the groups the image's /etc/group "
                                     "names (Merge)"))
    for i, volume in enumerate(spec.get("volumes") or []):
        out += _volume_notes(volume, f"{prefix}.volumes[{i}]")
    for key in ("initContainers", "containers"):
        for i, ctr in enumerate(spec.get(key) or []):
            where, name = f"{prefix}.{key}[{i}]", ctr.get("name")
            lifecycle = ctr.get("lifecycle") or {}
            if lifecycle.get("postStart") is not None:
                out.append(UnreproducedField(
                    f"{where}.lifecycle.postStart", "not reproduced: Docker runs no hook when it starts a container "
                    "(the kubelet runs it right after the start and kills the container when it fails)", name))
            if lifecycle.get("preStop") is not None:
                out.append(UnreproducedField(
                    f"{where}.lifecycle.preStop", "not reproduced: Docker sends the stop signal at once (the kubelet "
                    f"runs the hook first, within the pod's terminationGracePeriodSeconds, {grace_period} s)", name))
            if lifecycle.get("stopSignal"):
                out.append(UnreproducedField(f"{where}.lifecycle.stopSignal", "not reproduced: Docker stops the "
                                             "container with the image's STOPSIGNAL, else SIGTERM", name))
            if ctr.get("restartPolicyRules"):
                out.append(UnreproducedField(f"{where}.restartPolicyRules", "not reproduced: Docker restarts a "
                                             "container by its restart policy alone, whatever its exit code", name))
            if ctr.get("volumeDevices"):
                out.append(UnreproducedField(f"{where}.volumeDevices", "not reproduced: no claim's raw block device "
                                             "is put in the container here", name))
            if ctr.get("terminationMessagePolicy") == "FallbackToLogsOnError":
                out.append(UnreproducedField(f"{where}.terminationMessagePolicy", "FallbackToLogsOnError is not "
                                             f"reproduced: {_LOG_FALLBACK}", name))
            # (nginx-gateway-fabric: Always, said nowhere before; spire's wait-for-it and argo-cd's :latest
            # got it from the API server's defaulting, said nowhere either: review 7, R-C.) Never is
            # reproduced (``ServicePlan.pull_never``).
            if pull_policy(ctr) == "Always":
                out.append(UnreproducedField("imagePullPolicy", _PULL_ALWAYS, name))
            out += _security_notes(ctr.get("securityContext") or {}, f"{where}.securityContext", name)
            if (ctr.get("securityContext") or {}).get("procMount") == "Unmasked":
                out.append(UnreproducedField(f"{where}.securityContext.procMount", "Unmasked is not reproduced: "
                                             "Docker masks and makes read-only parts of /proc (Default)", name))
            for j, mount in enumerate(ctr.get("volumeMounts") or []):
                if mount.get("bindMountOptions"):
                    out.append(UnreproducedField(f"{where}.volumeMounts[{j}].bindMountOptions", "not reproduced: "
                                                 "Docker binds the mount with its default options", name))
                # (secrets-store-csi-driver's and calico's node plugins: Bidirectional, said nowhere before)
                propagation, rro = mount.get("mountPropagation"), mount.get("recursiveReadOnly")
                if propagation in _PROPAGATION:
                    out.append(UnreproducedField(f"{where}.volumeMounts[{j}].mountPropagation",
                                                 f"{propagation} is not reproduced: {_PROPAGATION[propagation]}", name))
                if rro in ("Enabled", "IfPossible"):
                    out.append(UnreproducedField(f"{where}.volumeMounts[{j}].recursiveReadOnly",
                                                 f"{rro} is not reproduced: Docker Engine before 25 (API 1.44) makes "
                                                 "the mount read-only, not the mounts beneath it (from 25 on, on Linux "
                                                 "5.12 or later, a read-only bind is recursively read-only)", name))
    return tuple(out)


#: Pod-spec fields that change how the pod runs and that no reader of parity's took up, in spec order.
_POD_FIELDS = (
    ("runtimeClassName", "the containers run under Docker's default runtime, where the cluster runs them under the "
                         "RuntimeClass's handler"),
    ("activeDeadlineSeconds", "nothing stops the pod here after that many seconds (the kubelet fails it: "
                              "DeadlineExceeded)"),
    ("resourceClaims", "no device a resource driver allocates reaches the containers here"),
    ("hostnameOverride", "the containers' hostname here is the pod's (its hostname, else its name)"),
    ("imagePullSecrets", "Docker pulls with this machine's credentials (docker login), not the Secrets the pod "
                         "names"),
    ("readinessGates", "the pod counts as ready here once its containers are, where the cluster also waits for "
                       "each condition named (set by a controller)"),
    ("schedulingGates", "the cluster does not schedule the pod until its gates are removed; here it starts at once"),
    ("terminationGracePeriodSeconds", "Docker kills a container 10 s after the stop signal (docker stop, docker "
                                      "compose down; parity down at once)"),
)


def _security_notes(sc: dict, where: str, name: str | None) -> list[UnreproducedField]:
    """A pod's or container's seccomp, AppArmor and SELinux settings Docker is not given: it applies
    its default seccomp profile and AppArmor profile (docker-default, where the host has AppArmor)
    and its default SELinux label, which are the runtime defaults (RuntimeDefault: nothing to say).
    They were validated and dropped without a word (fieldcov)."""
    out = []
    for key, what in (("seccompProfile", "seccomp profile"), ("appArmorProfile", "AppArmor profile")):
        kind = (sc.get(key) or {}).get("type")
        if kind in ("Unconfined", "Localhost"):
            local = " (the node's profile is not loaded here)" if kind == "Localhost" else ""
            out.append(UnreproducedField(f"{where}.{key}", f"{kind} is not reproduced: Docker applies its default "
                                         f"{what}{local}", name))
    if sc.get("seLinuxOptions"):
        out.append(UnreproducedField(f"{where}.seLinuxOptions", "not reproduced: Docker gives the container its "
                                     "default SELinux label (on a host with SELinux)", name))
    return out


def _volume_notes(volume: dict, where: str) -> list[UnreproducedField]:
    """A volume's fields Docker is not given: the files' owner (``defaultUser``, an item's ``user``) and
    an emptyDir's ``mode`` (alpha fields: validated nowhere, dropped without a word before fieldcov)."""
    out = []
    for kind in ("secret", "configMap", "downwardAPI", "projected"):
        source = volume.get(kind)
        if not isinstance(source, dict):
            continue
        if source.get("defaultUser") is not None:
            out.append(UnreproducedField(f"{where}.{kind}.defaultUser", _OWNER))
        items = [("items", source.get("items") or [])]
        if kind == "projected":
            items = [(f"sources[{i}].{sub}.items", (src.get(sub) or {}).get("items") or [])
                     for i, src in enumerate(source.get("sources") or []) if isinstance(src, dict)
                     for sub in ("secret", "configMap", "downwardAPI") if isinstance(src.get(sub), dict)]
        for path, entries in items:
            for j, item in enumerate(entries):
                if isinstance(item, dict) and item.get("user") is not None:
                    out.append(UnreproducedField(f"{where}.{kind}.{path}[{j}].user", _OWNER))
    if isinstance(volume.get("emptyDir"), dict) and volume["emptyDir"].get("mode") is not None:
        out.append(UnreproducedField(f"{where}.emptyDir.mode", "not reproduced: the directory has the kubelet's "
                                     "default mode here (0777, 01777 on tmpfs)"))
    return out


#: What parity says of a volume's file owner it is asked to set.
_OWNER = ("not reproduced: the files are made with the owner the kubelet gives them without it (root, the group "
          "fsGroup)")


#: The pull policy Docker is not given: Compose (``pull_policy: missing``, its default) and ``parity up``
#: pull an image only when the engine lacks it, which is IfNotPresent. Compose's ``pull_policy: always``
#: would reproduce it, and would replace the image a developer just built (``myapp:latest``, ``myapp``)
#: with the registry's at every ``up``, or fail where no registry has it: the local image is what a
#: developer runs (docs/docker-differences.md). The same words for every container: one note per app.
_PULL_ALWAYS = ("Always (written, or the API server's default for an image without a tag or tagged latest) is not "
                "reproduced: Docker runs the image it has here and pulls only a missing one, where the kubelet "
                "asks the registry for the tag's current image at each start (Compose's pull_policy: always "
                "would replace a local build with the registry's): docker compose pull gets the registry's "
                "current one")


#: What the kubelet does with FallbackToLogsOnError (kuberuntime_container.go ``getTerminationMessage``,
#: ``readLastStringFromContainerLogs``: ``MaxContainerTerminationMessageLogLines``/``...LogLength``).
_LOG_FALLBACK = ("Docker puts no termination message in a container's status (the kubelet takes the last 80 lines, "
                 "at most 2048 bytes, of a failed container's log when its terminationMessagePath file is empty)")


#: A mount's propagation the kubelet asks of the runtime (kuberuntime ``makeMounts``, CRI
#: ``PROPAGATION_BIDIRECTIONAL``/``HOST_TO_CONTAINER``), where parity's binds and volumes are all
#: Docker's default, rprivate (None is that default: nothing to say).
_PROPAGATION = {
    "Bidirectional": "Docker binds the mount rprivate (the kubelet: rshared): what the container mounts beneath "
                     "it reaches neither the host nor the pod's other containers",
    "HostToContainer": "Docker binds the mount rprivate (the kubelet: rslave): what the host mounts beneath it "
                       "after the start does not appear in the container",
}


#: ``validateSysctls``: the name's pattern, printed as the API server prints its regexp.
_SYSCTL_RE = re.compile(r"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$")


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
    _check_dns_config(spec.get("dnsConfig"), dns, f"{prefix}.dnsConfig", c)
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


def _check_dns_config(raw, policy: str, where: str, c: _Checker) -> None:
    """``validatePodDNSConfig``: dnsPolicy None needs a dnsConfig with a nameserver; at most 3
    nameservers (``MaxDNSNameservers``), each an IP address; at most 32 search paths and 2048
    characters of them, each a DNS-1123 subdomain (a trailing dot allowed); each option named."""
    config = c.map(raw, where)
    servers = c.strings(config.get("nameservers"), f"{where}.nameservers")
    if policy == "None" and raw is None:
        c.bad(where, "Required value: must provide `dnsConfig` when `dnsPolicy` is None")
    elif policy == "None" and not servers:
        c.bad(f"{where}.nameservers", "Required value: must provide at least one DNS nameserver when `dnsPolicy` "
                                      "is None")
    if len(servers) > 3:
        c.bad(f"{where}.nameservers", f"Invalid value: {_go_list(servers)}: must not have more than 3 nameservers")
    for i, server in enumerate(servers):
        for message in ip_address_errors(server):
            c.bad(f"{where}.nameservers[{i}]", invalid(server, message))
    searches = c.strings(config.get("searches"), f"{where}.searches")
    if len(searches) > 32:  # MaxDNSSearchPaths
        c.bad(f"{where}.searches", f"Invalid value: {_go_list(searches)}: must not have more than 32 search paths")
    if len(" ".join(searches)) > 2048:  # MaxDNSSearchListChars, the spaces between them included
        c.bad(f"{where}.searches", f"Invalid value: {_go_list(searches)}: must not have more than 2048 characters "
                                   "(including spaces) in the search list")
    for i, search in enumerate(searches):
        search = search.removesuffix(".")  # ("it is fine to have a trailing dot")
        for message in dns1123_subdomain_errors(search):
            c.bad(f"{where}.searches[{i}]", invalid(search, message))
    for i, option in enumerate(c.list(config.get("options"), f"{where}.options")):
        if not c.string(c.map(option, f"{where}.options[{i}]").get("name"), f"{where}.options[{i}].name"):
            c.bad(f"{where}.options[{i}]", "Required value: must not be empty")


def _go_list(items) -> str:
    """A []string as the API server's ``field.Invalid`` prints it (``ErrorBody``: ``%#v``)."""
    return "[]string{" + ", ".join(go_quote(x) for x in items) + "}"


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
