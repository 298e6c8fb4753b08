"""A container's security context and resource limits as Docker settings (issue 13).

One home for the mapping every emitter reads (compose.yaml, docker.sh, ``parity up``) and for the
kubelet's ``runAsNonRoot`` check:

- capabilities: Kubernetes names (``NET_ADMIN``, ``ALL``) are Docker's ``--cap-add``/``--cap-drop``
  names (the CRI runtime prefixes ``CAP_``, Docker accepts both); the starting set is the runtime's
  default, the same 14 capabilities for containerd and Docker (docs/docker-differences.md);
- ``allowPrivilegeEscalation: false`` is ``no_new_privs`` (kubelet ``AddNoNewPrivileges``: only an
  explicit false sets it), Docker's ``no-new-privileges:true``;
- ``privileged: true`` is Docker's privileged mode: every device and capability of the host;
- the pod's sysctls (namespaced ones only: the API server refuses the others) are Docker's sysctls:
  the network ones on the pod's sandbox (``sandbox_sysctls``), the others on each container;
- memory and CPU limits: the kubelet's cgroup values (``Limits.Memory().Value()`` bytes rounded up;
  CPU as ``MilliValue()`` millicores, at least 10m: ``milliCPUToQuota``'s minimum quota of 1000 µs
  per 100 ms period, which is also Docker's ``--cpus`` minimum of 0.01; Compose gets the quota and
  period themselves, its ``cpus`` being a float32). Requests and other resources
  have no local equivalent: said, never dropped silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..kube import quantity
from ..kube.checker import ID_MAX
from ..kube.names import go_quote
from ..kube.podspec import Container, PodSpec

#: Docker refuses a memory limit below 6 MiB (moby daemon ``linuxMinMemory``); the kubelet does not.
DOCKER_MIN_MEMORY = 6 * 1024 * 1024
#: The capabilities every container starts with, Docker's and containerd's (moby ``oci/caps/defaults.go``
#: ``DefaultCapabilities``): adding one of them gives nothing beyond what any container has.
DEFAULT_CAPABILITIES = frozenset({"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID",
                                  "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",
                                  "AUDIT_WRITE"})
#: Every Linux capability (linux/capability.h, 0-40), what ``privileged`` or an added ``ALL`` gives
#: (moby ``caps.GetAllCapabilities``; containerd's ``WithAllCurrentCapabilities`` on this kernel).
ALL_CAPABILITIES = frozenset({
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE"})
#: kubelet ``MinQuotaPeriod`` (1000 µs of a 100000 µs period): the smallest CPU limit, in millicores.
MIN_MILLI_CPU = 10
#: The kubelet's CFS period (``QuotaPeriod``, 100 ms in µs), also Docker's default for ``--cpus``.
CFS_PERIOD = 100_000


@dataclass
class SecuritySettings:
    """What a container's securityContext, the pod's sysctls and the container's limits make of it."""

    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    no_new_privileges: bool = False
    sysctls: dict[str, str] = field(default_factory=dict)
    memory: int | None = None  # bytes
    milli_cpu: int | None = None
    pod: str = ""  # the pod as the kubelet's messages name it (pod_ref)
    #: runAsNonRoot is set and no runAsUser: the image's USER decides at start (``verify_run_as_non_root``).
    check_image_user: bool = False
    #: The kubelet refuses to start the container whatever the image (runAsNonRoot with runAsUser 0).
    config_error: str | None = None

    @property
    def cpus(self) -> str | None:
        """Docker's ``--cpus`` / Compose's ``cpus``: the millicores as an exact decimal."""
        if self.milli_cpu is None:
            return None
        whole, milli = divmod(self.milli_cpu, 1000)
        return f"{whole}.{milli:03d}".rstrip("0").rstrip(".") if milli else str(whole)

    @property
    def nano_cpus(self) -> int | None:
        """Docker's ``NanoCpus`` (docker.sh's ``--cpus``, parsed exactly by the CLI; ``parity up``)."""
        return None if self.milli_cpu is None else self.milli_cpu * 10 ** 6

    @property
    def cfs_quota(self) -> int | None:
        """The kubelet's CFS quota in µs per ``CFS_PERIOD`` (``milliCPUToQuota``): Compose's ``cpu_quota``.
        Compose's ``cpus`` is a float32 (compose-go ``types.ServiceConfig.CPUS``, times 1e9 as NanoCPUs):
        ``1.999`` became 1998999936 ns, quota 199899 where the kubelet sets 199900."""
        return None if self.milli_cpu is None else self.milli_cpu * CFS_PERIOD // 1000

    @property
    def security_opt(self) -> list[str]:
        return ["no-new-privileges:true"] if self.no_new_privileges else []

    def config(self) -> dict:
        """The settings as plain data (``parity up``'s config digest)."""
        return {"cap_add": self.cap_add, "cap_drop": self.cap_drop, "privileged": self.privileged,
                "nnp": self.no_new_privileges, "sysctls": self.sysctls, "memory": self.memory,
                "milli_cpu": self.milli_cpu}


def capability_name(name: str) -> str:
    """``net_admin``, ``CAP_NET_ADMIN`` -> ``NET_ADMIN`` (both runtimes take either form)."""
    name = str(name).upper()
    return name[4:] if name.startswith("CAP_") else name


def cluster_capabilities(add, drop, privileged: bool) -> frozenset[str]:
    """The capability set the CRI runtime gives (containerd ``WithAddedCapabilities`` /
    ``WithDroppedCapabilities``): privileged is every one; an added ``ALL`` starts from every one, a
    dropped ``ALL`` from none, else the default set; then the named adds, then the named drops (a
    capability both added and dropped is dropped)."""
    if privileged:
        return ALL_CAPABILITIES
    add, drop = {capability_name(c) for c in add}, {capability_name(c) for c in drop}
    caps = set(ALL_CAPABILITIES if "ALL" in add else () if "ALL" in drop else DEFAULT_CAPABILITIES)
    return frozenset((caps | (add - {"ALL"})) - drop)


def docker_capabilities(add, drop, privileged: bool) -> frozenset[str]:
    """The capability set Docker gives (moby ``oci/caps`` ``TweakCapabilities``): privileged is every
    one; an added ``ALL`` is every one but the drops; a dropped ``ALL`` is the adds; else the default
    set without the drops, then the adds (a capability both added and dropped is kept)."""
    if privileged:
        return ALL_CAPABILITIES
    add, drop = {capability_name(c) for c in add}, {capability_name(c) for c in drop}
    if "ALL" in add:
        return frozenset(ALL_CAPABILITIES - drop)
    if "ALL" in drop:
        return frozenset(add)
    return frozenset((DEFAULT_CAPABILITIES - drop) | add)


def identity(spec: PodSpec, ctr: Container) -> tuple[str | None, list[str]]:
    """The process's user (``uid[:gid]`` from runAsUser/runAsGroup, the container's over the pod's;
    None: the image's USER) and its supplementary groups (fsGroup first, then supplementalGroups),
    as Docker's ``user`` and ``group_add`` take them."""
    sc = ctr.security.over(spec.security)
    uid, gid = sc.run_as_user, sc.run_as_group
    user = None if uid is None else (f"{uid}:{gid}" if gid is not None else str(uid))
    groups = ([str(spec.fs_group)] if spec.fs_group is not None else []) + \
        [str(g) for g in spec.supplemental_groups if g != spec.fs_group]
    return user, groups


def pod_ref(pod_name: str, namespace: str, uid: str | None) -> str:
    """kubelet ``format.Pod``: ``NAME_NAMESPACE(UID)``."""
    return f"{pod_name}_{namespace}({uid or ''})"


def security_settings(spec: PodSpec, ctr: Container, pod: str) -> tuple[SecuritySettings, list[str]]:
    """The Docker settings of one container, and the notes on what differs from the cluster.

    Args:
        spec: the pod spec (its security context and sysctls).
        ctr: the container.
        pod: the pod as the kubelet names it in messages (``pod_ref``).

    Returns:
        The settings and one line per difference (for k8s-to-docker's notes and README).
    """
    sc = ctr.security.over(spec.security)
    notes: list[str] = []
    s = SecuritySettings(cap_add=[c.upper() for c in sc.capabilities_add],
                         cap_drop=[c.upper() for c in sc.capabilities_drop],
                         privileged=bool(sc.privileged), no_new_privileges=sc.allow_privilege_escalation is False,
                         sysctls={x.name: x.value for x in spec.sysctls if x.namespace != "net"}, pod=pod)
    if s.privileged:
        notes.append("privileged: the container gets every device and capability of this machine (Docker "
                     "--privileged), as it gets the node's in the cluster: it reaches the host")
    if sc.run_as_non_root:
        if sc.run_as_user == 0:
            s.config_error = (f"container's runAsUser breaks non-root policy (pod: {go_quote(pod)}, "
                              f"container: {ctr.name})")
            notes.append(f"CreateContainerConfigError in the cluster: {s.config_error}; parity up refuses to "
                         "start it, compose.yaml and docker.sh do not check it")
        elif sc.run_as_user is None:
            s.check_image_user = True
            notes.append("runAsNonRoot: parity up checks the image's USER as the kubelet does; compose.yaml and "
                         "docker.sh start the container whatever user the image names")
    limits = ctr.resources.limits
    if "memory" in limits:
        try:
            memory = math.ceil(quantity.parse(limits["memory"]))
        except ValueError:  # QuantityOverflow: beyond any machine's memory anyway
            memory = None
        if memory is not None and memory < DOCKER_MIN_MEMORY:
            notes.append(f"memory limit {limits['memory']} is not applied: Docker refuses limits below 6 MiB")
        elif memory is not None:
            s.memory = memory
    if "cpu" in limits:
        try:
            s.milli_cpu = max(MIN_MILLI_CPU, math.ceil(quantity.parse(limits["cpu"]) * 1000))
        except ValueError:
            notes.append(f"cpu limit {limits['cpu']} is not applied: beyond the kubelet's int64 arithmetic")
    if ctr.resources.requests:
        notes.append("resources.requests (" + ", ".join(sorted(ctr.resources.requests)) + ") are not enforced "
                     "locally: Docker has no scheduler and no reservation")
    other = sorted(set(limits) - {"memory", "cpu"})
    if other:
        notes.append("resources.limits " + ", ".join(other) + " not reproduced (Docker applies memory and cpu "
                     "limits only)")
    return s, notes


#: A pod's host namespaces: (PodSpec attribute, field, namespace, what the node's gives the pod, Docker's mode).
_HOST_NAMESPACES = (("host_network", "hostNetwork", "a network", "network (its ports, its host name)",
                     "network_mode: host"),
                    ("host_pid", "hostPID", "a process", "processes", "pid: host"),
                    ("host_ipc", "hostIPC", "an IPC", "shared memory", "ipc: host"))


def host_namespace_notes(spec: PodSpec) -> list[str]:
    """What parity says of a pod that asks for the node's namespaces: not reproduced. Docker's host
    modes would give the pod this machine's network, processes or shared memory, which is host access
    (``docker/hostaccess.py``: ``diff --live`` refuses a setup with them unless --allow-host-access); the
    pod runs in namespaces of its own instead, its network the sandbox's on the project network."""
    return [f"{field}: true is not reproduced: the pod gets {ns} namespace of its own here, where the cluster "
            f"gives it the node's {what}; Docker's {mode} would give it this machine's, which is host access"
            for attr, field, ns, what, mode in _HOST_NAMESPACES if getattr(spec, attr)]


def sandbox_sysctls(spec: PodSpec) -> dict[str, str]:
    """The pod's network sysctls (``net.*``), which go on its sandbox, the container that holds the
    network namespace every container of the pod joins: the kubelet hands the pod's sysctls to the
    runtime with the pod sandbox's config (kuberuntime_sandbox.go ``generatePodSandboxLinuxConfig``),
    so they are set once, before any container of the pod starts. On a container that joins the
    sandbox's namespace, Docker would write them into it again at each start of that container."""
    return {x.name: x.value for x in spec.sysctls if x.namespace == "net"}


def verify_run_as_non_root(image_user: str, ctr_name: str, pod: str) -> str | None:
    """The kubelet's ``verifyRunAsNonRoot`` (pkg/kubelet/kuberuntime/security_context_others.go) for a
    container with runAsNonRoot and no runAsUser, given its image's USER (``Config.User``).

    The runtime (containerd's CRI ``getUserFromImage``) reads the part before ':' as a uid when Go's
    ``strconv.ParseInt(user, 10, 64)`` takes it (ASCII digits, an optional sign, within int64), else as
    a user name; no USER at all is uid 0 (the kubelet's ``getImageUser``: "treat it as root"). A uid
    outside ``IsValidUserID``'s range is refused too (Python's ``isdigit`` took ``١٢`` as a uid and
    ``-1`` as a name, and let 4294967295 start).

    Returns:
        The kubelet's error text (reported as CreateContainerConfigError), or None when it would start.
    """
    user = image_user.partition(":")[0]
    where = f"(pod: {go_quote(pod)}, container: {ctr_name})"
    uid = int(user) if _GO_INT64.match(user) and -(1 << 63) <= int(user) < 1 << 63 else None
    if not user or uid == 0:
        return f"container has runAsNonRoot and image will run as root {where}"
    if uid is None:
        return (f"container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is "
                f"non-root {where}")
    if not 0 <= uid <= ID_MAX:
        return (f"container has runAsNonRoot and image has an invalid user id ({uid}). (Must be 1-({ID_MAX})): "
                f"must be between 0 and {ID_MAX}, inclusive {where}")
    return None


#: What Go's ``strconv.ParseInt(s, 10, 64)`` reads as a number (the range is checked apart).
_GO_INT64 = re.compile(r"[+-]?[0-9]+\Z")
