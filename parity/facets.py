"""What a container's process is, beyond its files: identity, capabilities, privileges, limits.

``diff`` compares these facets of each paired container (issue 13). The cluster's side comes from
the pod spec, as the kubelet and the CRI runtime apply it (``docker/security.py``); the Docker side
from the same settings in either form: a compose service as Compose normalised it (static) or a
container's ``HostConfig``/``Config`` as the engine reports it (live). Both are reduced to what the
process gets (the capability set by moby's rules, the CFS quota per period), so the static and the
live diff give the same verdict on the same setup. Differences name settings, never a value of the
environment (the environment facet itself, ``envfacet.py``, shows digests, never a Secret's).

Kinds (``compare.Difference.kind``), each with its path:
- ``identity``: ``(user)`` uid[:gid], ``(groups)`` supplementary groups other than fsGroup (a
  missing fsGroup is the ``owner`` difference ``(process)``: reported once);
- ``capabilities``: ``(capabilities)``, the effective set;
- ``privileges``: ``(privileged)``, ``(no-new-privileges)``;
- ``limits``: ``(memory limit)`` bytes, ``(cpu limit)`` the CFS quota as a share of one CPU;
- ``lifecycle``: ``(start after NAME)``, init containers complete, in order, before the next
  container starts, and a native sidecar has started before the containers after it (compose
  ``depends_on`` conditions; live: the ``com.docker.compose.depends_on`` label Compose puts on each
  container, so both read the same edges);
- ``network``: ``(network)``, a pod's containers share one network namespace (the pause container's,
  here the pod's sandbox: compose ``network_mode: service:SANDBOX``, live ``container:ID``), or the
  host's with ``hostNetwork``.

Beside them, ``health`` (``docker/health.compare_health``: ``(health check)``) and ``environment``
(``envfacet.compare_environment``: ``(env NAME)``, the variables the process gets, never a value).

``diff --pod`` (a running pod, ``kube/observe.py``) judges the same facets with the same functions:
the running pod's side is ``cluster_facets`` of its spec (its resources as the status reports them
enacted), its start order ``kubelet_depends_on``, its network ``host_network_differences`` (the
kubelet gives no container of a pod a namespace of its own).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from fractions import Fraction

from .compare import Difference
from .docker.security import (ALL_CAPABILITIES, CFS_PERIOD, SecuritySettings, cluster_capabilities,
                              docker_capabilities, identity)
from .kube.podspec import Container, PodSpec


@dataclass(frozen=True)
class ProcessFacets:
    """One container's process settings, reduced to what the process gets."""

    user: str | None  # uid[:gid]; None: the image's USER
    groups: frozenset[str]
    capabilities: frozenset[str]
    privileged: bool
    no_new_privileges: bool
    memory: int | None  # bytes; None: no limit
    cpu: Fraction | None  # CPUs (CFS quota / period); None: no limit


def cluster_facets(spec: PodSpec, ctr: Container, security: SecuritySettings) -> ProcessFacets:
    """The facets the kubelet gives ``ctr`` (``security``: ``security_settings`` of it).

    A memory limit below Docker's minimum is not compared (Docker refuses it; k8s-to-docker says so).
    """
    sc = ctr.security.over(spec.security)
    user, groups = identity(spec, ctr)
    return ProcessFacets(
        user=user, groups=frozenset(groups) - _fs_group(spec),
        capabilities=cluster_capabilities(sc.capabilities_add, sc.capabilities_drop, bool(sc.privileged)),
        privileged=bool(sc.privileged), no_new_privileges=security.no_new_privileges, memory=security.memory,
        cpu=None if security.milli_cpu is None else Fraction(security.cfs_quota, CFS_PERIOD))


def _fs_group(spec: PodSpec | None) -> frozenset[str]:
    return frozenset() if spec is None or spec.fs_group is None else frozenset({str(spec.fs_group)})


def compose_facets(service: dict, spec: PodSpec | None) -> ProcessFacets:
    """The facets Compose gives a service's container (``docker compose config`` keys; compose
    ``getDeployResources``: ``deploy.resources.limits`` over ``mem_limit``/``cpus``, both as float32
    CPUs times 1e9, truncated to NanoCPUs)."""
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    memory = limits.get("memory") or service.get("mem_limit")
    cpus = limits.get("cpus") or service.get("cpus")
    nano = int(_float32(_float32(float(cpus)) * 1e9)) if cpus else 0
    return _docker_facets(user=service.get("user"), groups=service.get("group_add") or [],
                          cap_add=service.get("cap_add") or [], cap_drop=service.get("cap_drop") or [],
                          privileged=bool(service.get("privileged")), security_opt=service.get("security_opt") or [],
                          memory=_ram_bytes(memory), nano_cpus=nano,
                          quota=int(service.get("cpu_quota") or 0), period=int(service.get("cpu_period") or 0),
                          spec=spec)


def container_facets(attrs: dict, spec: PodSpec | None, image_user: str | None = None,
                     expected_user: str | None = None) -> ProcessFacets:
    """The facets of a container as the engine reports them (``docker inspect``).

    Args:
        attrs: the container's inspect document.
        spec: its pod's spec (fsGroup).
        image_user: its image's ``Config.User``: the engine copies it into the container's
            ``Config.User`` when nothing sets a user, which is "the image's USER", as a compose service
            without ``user:`` (argo-cd's images name 999: every container differed live, not static).
        expected_user: the user the comparison expects: a user set to the image's own USER looks the
            same in the engine as none, so a user equal to both is read as set (``runAsUser: 999`` on
            an image whose USER is 999 is no difference either way).
    """
    host, config = attrs.get("HostConfig") or {}, attrs.get("Config") or {}
    user = config.get("User")
    if user and user == image_user and user != expected_user:
        user = None
    return _docker_facets(user=user, groups=host.get("GroupAdd") or [],
                          cap_add=host.get("CapAdd") or [], cap_drop=host.get("CapDrop") or [],
                          privileged=bool(host.get("Privileged")), security_opt=host.get("SecurityOpt") or [],
                          memory=host.get("Memory") or 0, nano_cpus=host.get("NanoCpus") or 0,
                          quota=host.get("CpuQuota") or 0, period=host.get("CpuPeriod") or 0, spec=spec)


_RAM = re.compile(r"(\d+(?:\.\d+)*) ?([kmgtp])?i?b?", re.I)


def _ram_bytes(value) -> int:
    """A memory size as Compose reads it (go-units ``RAMInBytes``: ``64m`` is 64 MiB), 0 for none;
    ``docker compose config`` gives bytes already, parity's fallback reader the text as written."""
    match = _RAM.fullmatch(str(value or 0).strip())
    if not match:
        return 0
    power = " kmgtp".index((match.group(2) or " ").lower())
    return int(float(match.group(1)) * 1024 ** power)


def _float32(x: float) -> float:
    """``x`` rounded to a Go float32 (Compose's type for CPUs)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _docker_facets(*, user, groups, cap_add, cap_drop, privileged: bool, security_opt, memory: int,
                   nano_cpus: int, quota: int, period: int, spec: PodSpec | None) -> ProcessFacets:
    # moby daemon: NanoCPUs become a quota over a 100 ms period (integer µs, truncated); a quota
    # without a period has the kernel's default period, 100 ms.
    if nano_cpus:
        cpu = Fraction(nano_cpus * CFS_PERIOD // 10 ** 9, CFS_PERIOD)
    elif quota > 0:
        cpu = Fraction(quota, period or CFS_PERIOD)
    else:
        cpu = None
    nnp = any(o.replace("=", ":") in ("no-new-privileges", "no-new-privileges:true") for o in map(str, security_opt))
    return ProcessFacets(user=str(user) if user else None, groups=frozenset(map(str, groups)) - _fs_group(spec),
                         capabilities=docker_capabilities(cap_add, cap_drop, privileged), privileged=privileged,
                         no_new_privileges=nnp, memory=memory or None, cpu=cpu)


def compare_facets(container: str, expected: ProcessFacets, actual: ProcessFacets) -> list[Difference]:
    """The differences between the cluster's facets of ``container`` and Docker's, one per facet."""
    out: list[Difference] = []

    def add(path: str, kind: str, exp: str, act: str, detail: str) -> None:
        out.append(Difference(container, path, kind, exp, act, detail))

    if expected.user != actual.user:
        add("(user)", "identity", expected.user or "the image's USER", actual.user or "the image's USER",
            "the process runs as another user than in the cluster (runAsUser/runAsGroup: compose user)")
    if expected.groups != actual.groups:
        add("(groups)", "identity", _groups(expected.groups), _groups(actual.groups),
            "supplementary groups differ (supplementalGroups: compose group_add)")
    if expected.capabilities != actual.capabilities:
        missing = sorted(expected.capabilities - actual.capabilities)
        extra = sorted(actual.capabilities - expected.capabilities)
        add("(capabilities)", "capabilities", _caps(expected.capabilities), _caps(actual.capabilities),
            "; ".join(part for part in (f"missing here: {', '.join(missing)}" if missing else "",
                                        f"extra here: {', '.join(extra)}" if extra else "") if part)
            + " (capabilities add/drop: compose cap_add/cap_drop)")
    if expected.privileged != actual.privileged:
        add("(privileged)", "privileges", _yes(expected.privileged), _yes(actual.privileged),
            "privileged gives every device and capability of the host (compose privileged)")
    if expected.no_new_privileges != actual.no_new_privileges:
        add("(no-new-privileges)", "privileges", _yes(expected.no_new_privileges), _yes(actual.no_new_privileges),
            "allowPrivilegeEscalation: false sets no_new_privs (compose security_opt: no-new-privileges:true)")
    if expected.memory != actual.memory:
        add("(memory limit)", "limits", _bytes(expected.memory), _bytes(actual.memory),
            "the cgroup memory limit differs (resources.limits.memory: compose mem_limit)")
    if expected.cpu != actual.cpu:
        add("(cpu limit)", "limits", _cpu(expected.cpu), _cpu(actual.cpu),
            "the CFS quota differs (resources.limits.cpu: compose cpu_quota/cpu_period; cpus is a float32)")
    return out


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _groups(groups: frozenset[str]) -> str:
    return ", ".join(sorted(groups, key=lambda g: (not g.isdigit(), int(g) if g.isdigit() else 0, g))) or "none"


def _caps(caps: frozenset[str]) -> str:
    return "ALL" if caps == ALL_CAPABILITIES else ", ".join(sorted(caps)) or "none"


def _bytes(memory: int | None) -> str:
    return "no limit" if memory is None else f"{memory} bytes"


def _cpu(cpu: Fraction | None) -> str:
    if cpu is None:
        return "no limit"
    quota = cpu * CFS_PERIOD
    shown = f"{int(quota)}" if quota.denominator == 1 else f"{float(quota):.3f}"
    return f"{shown} us per {CFS_PERIOD} us ({float(cpu):g} CPU)"


#: A network namespace's owner that is no container: the host's (``hostNetwork``, ``network_mode: host``).
HOST = "(host)"


def compose_network_owner(service: str, services: dict[str, dict]) -> str:
    """Whose network namespace a compose service's container uses: the service that owns it (its
    own name, or the end of its ``network_mode: service:NAME`` chain), ``container:NAME`` as
    written, or ``HOST``."""
    seen = {service}
    while True:
        mode = str((services.get(service) or {}).get("network_mode") or "")
        kind, _, target = mode.partition(":")
        if kind == "service" and target and target not in seen:
            service = target
            seen.add(target)
            continue
        if kind == "container" and target:
            return mode
        return HOST if mode == "host" else service


def container_network_owner(service: str, attrs: dict, inspect) -> str:
    """The same for a container as the engine reports it (``HostConfig.NetworkMode``, followed through
    ``container:ID``); ``inspect(ID)``: that container's (compose service, attrs), or None."""
    seen = set()
    while True:
        mode = str((attrs.get("HostConfig") or {}).get("NetworkMode") or "")
        kind, _, target = mode.partition(":")
        if kind == "container" and target and target not in seen:
            seen.add(target)
            found = inspect(target)
            if found is None:
                return mode
            service, attrs = found
            continue
        return HOST if mode == "host" else service


def network_differences(pod: list[tuple[str, str, str]], host_network: bool) -> list[Difference]:
    """A pod's containers (name, its compose service, the service whose network namespace it uses:
    ``compose_network_owner``), in spec order. In the cluster they share one network namespace
    (``localhost`` between them): each container outside the one most of them share (on a tie, the
    first container's) is a difference. With ``hostNetwork`` the cluster's namespace is the host's,
    which parity does not reproduce (k8s-to-docker says so: Docker's host mode is host access): the
    host's and a namespace of the pod's own both count, as long as the pod's containers share it.
    Without ``hostNetwork`` a container in the host's namespace is a difference, the whole pod there
    too (it was none when all of them were: they shared it)."""
    out = []
    if not host_network:
        out = [Difference(name, "(network)", "network", _POD_NETNS[False], _POD_NETNS[True], _HOST_NETWORK_DETAIL)
               for name, _, owner in pod if owner == HOST]
        pod = [p for p in pod if p[2] != HOST]
    if len(pod) < 2:
        return out
    owners = [owner for _, _, owner in pod]
    shared = max(owners, key=lambda o: (owners.count(o), -owners.index(o)))
    if host_network and HOST in owners:  # one of them in the host's: all of them there, as in the cluster
        shared = HOST
    services = [service for _, service, _ in pod]
    return out + [Difference(name, "(network)", "network", _netns(shared, service, services),
                       _netns(owner, service, services),
                       "in the cluster the pod's containers share one network namespace (localhost between "
                       "them; compose network_mode: service:SANDBOX, docker run --network container:SANDBOX)")
            for name, service, owner in pod if owner != shared]


def host_network_differences(containers: list[str], expected: bool, actual: bool) -> list[Difference]:
    """The ``network`` facet of two pods (``diff --pod``): the kubelet puts every container of a pod in
    the pod's one network namespace, so they can differ only in whose it is, the node's with
    ``hostNetwork`` or the pod's own; one difference per container (``containers``) when they do."""
    if expected == actual:
        return []
    return [Difference(name, "(network)", "network", _POD_NETNS[expected], _POD_NETNS[actual], _HOST_NETWORK_DETAIL)
            for name in containers]


#: A pod's network namespace by ``hostNetwork``, and why the host's differs.
_POD_NETNS = {True: "the host's network namespace", False: "the pod's own network namespace"}
_HOST_NETWORK_DETAIL = ("the host's network namespace (hostNetwork in the cluster: the node's; compose network_mode: "
                        "host: this machine's) gives the containers its interfaces and ports and what listens on its "
                        "localhost")


def _netns(owner: str, service: str, services: list[str]) -> str:
    if owner == HOST:
        return "the host's network namespace"
    if owner == service:
        return "its own network namespace"
    return f"the network namespace of service {owner}" + (" (a container of the pod)" if owner in services else "")


#: Compose's label of a container's ``depends_on``: ``SERVICE:CONDITION:RESTART,...``.
COMPOSE_DEPENDS_ON = "com.docker.compose.depends_on"
COMPLETED = "service_completed_successfully"
STARTED = "service_started"


def compose_depends_on(svc: dict) -> dict[str, str]:
    """A compose service's ``depends_on`` (normalised by Compose: a map): service -> condition."""
    deps = svc.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(d): "service_started" for d in deps}
    return {str(k): str((v or {}).get("condition") or "service_started") for k, v in deps.items()}


def label_depends_on(labels: dict) -> dict[str, str]:
    """The same from a container's ``com.docker.compose.depends_on`` label."""
    out = {}
    for item in str(labels.get(COMPOSE_DEPENDS_ON) or "").split(","):
        service, _, rest = item.partition(":")
        if service:
            out[service] = rest.partition(":")[0] or "service_started"
    return out


@dataclass(frozen=True)
class Started:
    """A pod's container in spec order for the start-order facet."""

    name: str
    service: str
    init: bool  # an init container that runs to completion
    sidecar: bool  # a native sidecar (restartPolicy: Always)

    @classmethod
    def of(cls, ctr: Container, name: str, service: str) -> "Started":
        """``ctr`` as ``name`` (running as ``service``)."""
        return cls(name, service, ctr.init and not ctr.sidecar, ctr.sidecar)

    @property
    def waited(self) -> str | None:
        """What the kubelet waits for of this container before it starts the ones after it: an init
        container's completion (``COMPLETED``), a native sidecar's start (``STARTED``), nothing of a
        regular container (kuberuntime ``computeInitContainerActions``)."""
        return COMPLETED if self.init else STARTED if self.sidecar else None


def kubelet_depends_on(pod: list[Started]) -> dict[str, dict[str, str]]:
    """A pod's start order as the kubelet keeps it, in ``depends_on`` form (service -> {service:
    condition}): each container after every init container and native sidecar before it in spec
    order. ``diff --pod`` reads a running pod's order this way: ``start_order_differences`` then
    judges it as it judges a compose file's."""
    return {c.service: {p.service: p.waited for p in pod[:i] if p.waited} for i, c in enumerate(pod)}


def start_order_differences(pod: list[Started], deps: dict[str, dict[str, str]]) -> list[Difference]:
    """The kubelet's start order against the services' ``depends_on`` (``deps``: service -> {service:
    condition}, of the pod's services), followed transitively: a container starts after every init
    container before it has completed (``service_completed_successfully``) and every native sidecar
    before it has started (any condition)."""
    memo: dict[str, tuple[set[str], set[str]]] = {}

    def before(service: str, stack: frozenset[str] = frozenset()) -> tuple[set[str], set[str]]:
        """(completed, started) before ``service`` starts."""
        if service in memo:
            return memo[service]
        completed, started = set(), set()
        for dep, condition in (deps.get(service) or {}).items():
            if dep in stack:
                continue
            (completed if condition == COMPLETED else started).add(dep)
            c, s = before(dep, stack | {service})
            completed |= c
            started |= s
        memo[service] = (completed, started)
        return completed, started

    out = []
    for i, c in enumerate(pod):
        completed, started = before(c.service)
        for p in pod[:i]:
            if p.waited == COMPLETED and p.service not in completed:
                actual = (f"after {p.name} started, without waiting for it to complete" if p.service in started
                          else f"without waiting for {p.name}")
                out.append(Difference(c.name, f"(start after {p.name})", "lifecycle", f"after {p.name} completed",
                                      actual, "init containers run to completion, in order, before the next "
                                              "container starts (compose depends_on: condition "
                                              "service_completed_successfully)"))
            elif p.waited == STARTED and p.service not in completed | started:
                out.append(Difference(c.name, f"(start after {p.name})", "lifecycle", f"after {p.name} started",
                                      f"without waiting for {p.name}", "a native sidecar starts before the "
                                      "containers after it (compose depends_on: condition service_started)"))
    return out
