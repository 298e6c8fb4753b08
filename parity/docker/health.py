"""Kubernetes probes as Docker health checks: the one home of the mapping (compose.yaml, docker.sh,
``parity up`` and ``diff``'s health-check facet all read ``health_plan``'s result).

The kubelet runs up to three probes per container (kubelet pkg/kubelet/prober/worker.go); Docker runs
one health check (moby daemon/health.go). Which probe becomes it: the **readinessProbe**, else the
**livenessProbe**, else the **startupProbe**, the first of those parity can reproduce. Docker's
"healthy" is what gates ``depends_on: service_healthy`` and ``parity up --wait``, as readiness gates a
Service's endpoints in the cluster; a liveness probe is the next best long-term check; a startup probe
alone is checked for ever here, where the kubelet stops once it passed. A startup probe beside the
chosen probe widens its ``start_period`` to the startup budget (initialDelaySeconds + periodSeconds x
failureThreshold): the kubelet runs no other probe before the startup probe passed.

Fields (the API server's defaults, ``SetDefaults_Probe``, are already filled in by the loader):
periodSeconds -> interval, timeoutSeconds -> timeout, failureThreshold -> retries,
initialDelaySeconds -> start_period (Docker API 1.41, Docker 20.10: no start_interval).

Handlers:
- ``exec``: ``CMD`` with the exact argv, no shell, after the kubelet's expansion of ``$(VAR)`` with the
  container's ``env`` values as written (``ExpandContainerCommandOnlyStatic``: a ``valueFrom`` variable
  expands to the empty string);
- ``httpGet``: ``wget -q -O /dev/null URL`` (BusyBox's or GNU wget), ``tcpSocket``: ``nc`` (``tcp_check``), run inside
  the container: the image must provide them (parity cannot know); the port, when named, is resolved as
  the kubelet resolves it (pkg/probe/util.go ``ResolveContainerPort``: the container's own ports);
- ``grpc``: not reproduced (no gRPC health client can be assumed in an image).

What a health check cannot do is said (``HealthPlan.notes``): Docker never restarts an unhealthy
container, where a failing liveness probe restarts it in the cluster.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from ..kube.podspec import Container, ExecAction, GRPCAction, HTTPGetAction, Probe, TCPSocketAction

#: The probes in the order one becomes the container's health check (see the module docstring).
PROBE_ORDER = ("readinessProbe", "livenessProbe", "startupProbe")
_ATTRS = {"readinessProbe": "readiness_probe", "livenessProbe": "liveness_probe", "startupProbe": "startup_probe"}

#: Where an httpGet/tcpSocket check connects when the probe names no host: the pod's shared localhost
#: (the kubelet connects to the pod IP, which a container cannot know before it runs).
LOCALHOST = "127.0.0.1"
NS = 1_000_000_000  # Docker's HealthConfig durations are in nanoseconds

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


@dataclass(frozen=True)
class HealthCheck:
    """A Docker health check (``HealthConfig``): ``test`` is ``("CMD", argv...)``; durations in seconds."""

    test: tuple[str, ...]
    interval: int
    timeout: int
    retries: int
    start_period: int
    probe: str  # the probe it comes from: "readinessProbe", "livenessProbe" or "startupProbe"

    @property
    def argv(self) -> tuple[str, ...]:
        return self.test[1:]

    def compose(self) -> dict:
        """compose.yaml's ``healthcheck``."""
        out: dict = {"test": list(self.test), "interval": f"{self.interval}s", "timeout": f"{self.timeout}s",
                     "retries": self.retries}
        if self.start_period:
            out["start_period"] = f"{self.start_period}s"
        return out

    def run_options(self) -> list[str]:
        """docker.sh's ``docker run`` options. ``--health-cmd`` is always run by ``/bin/sh -c``
        (docker/cli opts.go: ``CMD-SHELL``): the argv is quoted for it and ``exec``'d."""
        out = ["--health-cmd", "exec " + " ".join(shlex.quote(a) for a in self.argv),
               "--health-interval", f"{self.interval}s", "--health-timeout", f"{self.timeout}s",
               "--health-retries", str(self.retries)]
        if self.start_period:
            out += ["--health-start-period", f"{self.start_period}s"]
        return out

    def sdk(self) -> dict:
        """``parity up``'s ``healthcheck`` (the Docker SDK: nanoseconds)."""
        return {"test": list(self.test), "interval": self.interval * NS, "timeout": self.timeout * NS,
                "retries": self.retries, "start_period": self.start_period * NS}

    @property
    def key(self) -> tuple:
        """What Docker runs and when: two checks with the same key behave the same (the probe's name aside)."""
        return (self.test, self.interval, self.timeout, self.retries, self.start_period)

    def describe(self) -> str:
        """One line for messages and diff: the command and its timing (no value is secret here: the
        argv holds only what the manifest wrote and plain env values)."""
        return (f"{' '.join(self.argv)} (every {self.interval}s, timeout {self.timeout}s, {self.retries} "
                f"retries, start period {self.start_period}s)")


@dataclass(frozen=True)
class HealthPlan:
    """A container's health check (None: none) and what of its probes Docker does not reproduce."""

    check: HealthCheck | None = None
    notes: tuple[str, ...] = ()


def resolve_port(port: int | str, ctr: Container) -> int | None:
    """The kubelet's ``ResolveContainerPort``: a number as is; a name looked up among the container's
    own ports (not the pod's other containers'). None: the name is not there (the kubelet's probe
    errors every time and its result is thrown away)."""
    if isinstance(port, int):
        return port
    return next((p.container_port for p in ctr.ports if p.name == port), None)


def expand_static(command: tuple[str, ...], ctr: Container) -> tuple[str, ...]:
    """kubelet ``ExpandContainerCommandOnlyStatic``: ``$(VAR)`` becomes the ``value`` written for VAR in
    the container's ``env`` (empty for a ``valueFrom`` one; envFrom is not looked at), an unknown name
    stays as written, ``$$`` is ``$``."""
    values = {e.name: e.value for e in ctr.env}

    def repl(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        return values.get(m.group(1), m.group(0))

    return tuple(_REF.sub(repl, arg) for arg in command)


def tcp_check(host: str, port: int, timeout: int) -> tuple[str, ...]:
    """A tcpSocket probe's check: succeeds when a connection to ``host:port`` opens within ``timeout``
    seconds, as the kubelet's (pkg/probe/tcp ``DoTCPProbe``: dial, then close). Through ``/bin/sh``, so
    that both kinds of ``nc`` an image may hold pass: ``nc -z`` (OpenBSD's, the traditional netcat,
    ncat, BusyBox's full build), else the small BusyBox ``nc`` (Debian's busybox-static; no ``-z``), where
    ``-e true`` runs ``true`` once connected and exits 0 (refused: exit 1; measured on this engine's
    busybox:latest). Host and port are shell-quoted: the host comes from the manifest."""
    where = f"-w {int(timeout)} {shlex.quote(host)} {int(port)}"
    return ("sh", "-c", f"nc -z {where} 2>/dev/null || nc {where} -e true")


def _argv(probe: Probe, ctr: Container) -> tuple[tuple[str, ...] | None, str | None]:
    """The check's argv for a probe, or None and why it is not reproduced."""
    h = probe.handler
    if isinstance(h, ExecAction):
        return expand_static(h.command, ctr), None
    if isinstance(h, GRPCAction):
        return None, "a grpc probe is not reproduced (no gRPC health client can be assumed in the image)"
    if isinstance(h, (HTTPGetAction, TCPSocketAction)):
        port = resolve_port(h.port, ctr)
        if port is None:
            return None, (f"port {h.port!r} is not one of the container's ports: the kubelet's probe fails to "
                          "resolve it every time and keeps no result (a readiness probe never passes, a liveness "
                          "probe never fails); not reproduced")
        host = h.host or LOCALHOST
        hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if isinstance(h, TCPSocketAction):
            return tcp_check(host, port, probe.timeout_seconds), None
        path = h.path if h.path.startswith("/") else "/" + h.path
        argv = ["wget", "-q", "-O", "/dev/null"]
        if h.scheme == "HTTPS":
            argv.append("--no-check-certificate")  # the kubelet does not verify the certificate either
        for name, value in h.headers:
            argv += ["--header", f"{name}: {value}"]
        return (*argv, f"{h.scheme.lower()}://{hostport}{path}"), None
    return None, "not a probe handler"  # (sleep: lifecycle hooks only; the loader refuses it in a probe)


def health_plan(ctr: Container) -> HealthPlan:
    """A container's probes as one Docker health check, and what is not reproduced.

    Args:
        ctr: the container (an init container has probes only as a native sidecar).

    Returns:
        The health check (None when the container has no probe parity can reproduce) and notes, each
        one line naming the probe's field (``spec.containers[0].livenessProbe``).
    """
    probes = {kind: getattr(ctr, _ATTRS[kind]) for kind in PROBE_ORDER}
    notes: list[str] = []
    chosen: tuple[str, Probe, tuple[str, ...]] | None = None
    for kind in PROBE_ORDER:
        probe = probes[kind]
        if probe is None:
            continue
        argv, why = _argv(probe, ctr)
        if argv is None:
            notes.append(f"{probe.field}: {why}")
        elif chosen is None:
            chosen = (kind, probe, argv)
        else:
            notes.append(f"{probe.field}: not reproduced: Docker runs one health check per container, and "
                         f"parity runs the {chosen[0]}")
    if chosen is None:
        return HealthPlan(None, tuple(notes))
    kind, probe, argv = chosen
    start = probe.initial_delay_seconds
    startup = probes["startupProbe"]
    if kind != "startupProbe" and startup is not None:
        start = max(start, startup.initial_delay_seconds + startup.period_seconds * startup.failure_threshold)
    check = HealthCheck(("CMD", *argv), probe.period_seconds, probe.timeout_seconds, probe.failure_threshold,
                        start, kind)
    if probes["livenessProbe"] is not None:
        notes.append(f"{probes['livenessProbe'].field}: Docker never restarts an unhealthy container; a failing "
                     "liveness probe restarts it in the cluster")
    if probe.success_threshold > 1:
        notes.append(f"{probe.field}.successThreshold {probe.success_threshold}: Docker calls a container healthy "
                     "after one success")
    if kind == "startupProbe":
        notes.append(f"{probe.field}: the kubelet stops a startup probe once it passed; Docker keeps running it")
    if isinstance(probe.handler, (HTTPGetAction, TCPSocketAction)):
        tool = "wget" if isinstance(probe.handler, HTTPGetAction) else "nc (with -z, else BusyBox's -e true) through sh"
        where = "" if probe.handler.host else (
            f"; it connects to {LOCALHOST} (the pod's shared localhost) where the kubelet connects to the pod IP: "
            "a server that listens on 127.0.0.1 only passes here and fails in the cluster")
        notes.append(f"{probe.field}: the health check runs {tool} inside the container: the image must provide "
                     f"it (parity cannot know){where}")
    return HealthPlan(check, tuple(notes))


def uncompared_probes(ctr: Container) -> list[str]:
    """The fields of ``ctr``'s probes its health check (``health_plan``) does not stand for: a probe
    parity does not turn into a check, and the others beside the one it runs. ``diff --pod`` says
    these are not compared (two pods can differ there with the same check)."""
    check = health_plan(ctr).check
    probes = [getattr(ctr, _ATTRS[kind]) for kind in PROBE_ORDER if check is None or kind != check.probe]
    return [p.field for p in probes if p is not None]


def from_compose(healthcheck: dict | None, escaped: bool = True) -> HealthCheck | None:
    """A compose service's ``healthcheck`` as a ``HealthCheck`` (probe unknown: ""), for diff. None when
    there is none or it is disabled. A ``CMD-SHELL`` test stays as it is (``test`` keeps its first word).

    Args:
        healthcheck: the service's ``healthcheck``.
        escaped: ``docker compose config`` prints ``$`` as ``$$`` (its output is a compose file again);
            False for parity's fallback reader, which has interpolated already.
    """
    if not isinstance(healthcheck, dict) or healthcheck.get("disable"):
        return None
    test = healthcheck.get("test")
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    if not test or test[0] == "NONE":
        return None
    return HealthCheck(tuple(str(t).replace("$$", "$") if escaped else str(t) for t in test), _seconds(healthcheck.get("interval"), 30),
                       _seconds(healthcheck.get("timeout"), 30), int(healthcheck.get("retries") or 3),
                       _seconds(healthcheck.get("start_period"), 0), "")


def from_inspect(config: dict | None) -> HealthCheck | None:
    """A container's ``Config.Healthcheck`` (inspect: nanoseconds, 0 for the engine's default) as a
    ``HealthCheck``, for diff --live. None when there is none."""
    if not config or not config.get("Test") or config["Test"][0] == "NONE":
        return None

    def sec(key: str, default: int) -> int:
        value = config.get(key) or 0
        return value // NS if value else default

    return HealthCheck(tuple(config["Test"]), sec("Interval", 30), sec("Timeout", 30), int(config.get("Retries") or 3),
                       sec("StartPeriod", 0), "")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_UNIT = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def _seconds(value, default: int) -> int:
    """A compose duration (``1m30s``, ``10s``; Compose's JSON may hold a number of ns) in seconds."""
    if value is None or value == "":
        return default
    if isinstance(value, (int, float)):
        return int(value // NS) if value >= NS else int(value)
    total = sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(str(value)))
    return int(total)


@dataclass(frozen=True)
class Condition:
    """How a container is doing, read from the engine (``parity up --wait``, ``parity status``).

    ``ok``: True when it runs (healthy where it has a health check) or, for a container that runs to
    completion, has exited 0; False when it cannot get there by itself (``problem`` says why, one
    phrase, never log contents); None when not settled yet (health ``starting``, a Job's container
    still running, not started yet). A pod's container with restartPolicy Never/OnFailure that is not a
    Job's is up while it runs, as ``kubectl wait --for=condition=Ready`` has it."""

    state: str  # Docker's status: running, restarting, exited, created, paused, dead
    ok: bool | None
    problem: str | None = None
    health: str | None = None  # Docker's health status: starting, healthy, unhealthy (None: no check)
    exit_code: int | None = None
    restarts: int = 0
    completes: bool = False  # it runs to completion (runs_to_completion)


#: What a pod sandbox that does not run means for its pod, after its problem (``up --wait``, ``status``).
SANDBOX_GONE = ": the pod's containers lost its network namespace"


def runs_to_completion(attrs: dict) -> bool:
    """Whether a container is meant to end (an init container, a Job's, a pod with restartPolicy
    Never/OnFailure): parity starts long-running ones, and only those, with ``unless-stopped``."""
    return (attrs.get("HostConfig", {}).get("RestartPolicy") or {}).get("Name") not in ("unless-stopped", "always")


def condition(attrs: dict) -> Condition:
    """A container's ``Condition`` from its inspect document.

    Args:
        attrs: ``docker inspect`` of the container (the SDK's ``Container.attrs``).

    Returns:
        Its condition; the problem names the exit code or the health check's failures.
    """
    st = attrs.get("State") or {}
    status = st.get("Status", "")
    code = st.get("ExitCode")
    health = (st.get("Health") or {}).get("Status")
    completes = runs_to_completion(attrs)

    def make(ok: bool | None, problem: str | None = None) -> Condition:
        return Condition(status, ok, problem, health, code, int(attrs.get("RestartCount") or 0), completes)

    if status == "restarting":
        return make(False, f"crash-loops: exits with code {code} and Docker restarts it")
    if status in ("exited", "dead"):
        return make(True) if completes and code == 0 else make(False, f"exited with code {code}")
    if status == "paused":
        return make(False, "is paused")
    if status != "running":  # created: not started yet; removing
        return make(None)
    if health == "unhealthy":
        retries = (attrs.get("Config", {}).get("Healthcheck") or {}).get("Retries") or 3
        return make(False, f"unhealthy: its health check failed {retries} times in a row")
    if health == "starting" or (completes and _job(attrs)):  # (a Job's is up once it has exited 0)
        return make(None)
    return make(True)


def _job(attrs: dict) -> bool:
    """Whether a container is a Job's (or a CronJob's): parity's workload label says ``Job/NAME``."""
    from .labels import LABEL_WORKLOAD

    workload = ((attrs.get("Config") or {}).get("Labels") or {}).get(LABEL_WORKLOAD, "")
    return workload.startswith(("Job/", "CronJob/"))


def compare_health(container: str, expected: HealthCheck | None, actual: HealthCheck | None) -> list:
    """diff's health-check facet: the check the probes give (``health_plan``) against the one Docker
    runs (``from_compose`` static, ``from_inspect`` live); one ``health`` difference at ``(health check)``
    when what runs, or when, differs. The argv is shown: it holds what the manifest wrote and plain env
    values only (``expand_static``), never a Secret's.

    Returns:
        ``compare.Difference`` items (none, or one).
    """
    from ..compare import Difference

    if (expected.key if expected else None) == (actual.key if actual else None):
        return []
    where = f"the {expected.probe}'s" if expected else "no probe's"
    return [Difference(container, "(health check)", "health", expected.describe() if expected else "none",
                       actual.describe() if actual else "none",
                       f"Docker runs {where} health check in the cluster's place: a different one (or none) "
                       "changes what healthy means (compose healthcheck)")]
