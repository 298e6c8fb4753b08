"""``parity diff``: does a compose setup give each container the files the cluster gives it?

Pairs the containers of every selected workload with compose services (by the names parity gives
them, ``plan.service_key``, or ``--map``), derives the Docker side
statically (``docker/static_layout.py``) or reads it live from a real engine (a throw-away copy
of the project, or a running project: ``docker/liveproject.py`` runs it), and compares each pair
with ``compare.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from .compare import Difference, compare_containers, extra_writable, termination_log
from .docker.compose import ComposeProject
from .docker.labels import COMPOSE_SERVICE, LABEL_DIFF_OWNER, LABEL_ROLE, ROLE_PROBE, run_owner
from .docker.liveproject import DEFAULT_TIMEOUT
from .docker.plan import note_subjects, pod_keys, said_of, service_key
from .docker.planner import unenforced_volume_notes
from .docker.static_layout import StaticReader
from .docker.security import identity, pod_ref, security_settings
from .errors import EXIT_DIFFERENT, EXIT_SAME, ParityError, Problem
from .facets import (ProcessFacets, Started, cluster_facets, compare_facets, compose_depends_on, compose_facets,
                     compose_network_owner, container_facets, container_network_owner, host_network_differences,
                     kubelet_depends_on, label_depends_on, network_differences, start_order_differences)
from .docker.health import HealthCheck, compare_health, from_compose, from_inspect, health_plan, uncompared_probes
from .envfacet import (Variable, cluster_environment, compare_environment, compose_environment, engine_environment,
                       with_image)
from .kube.fieldref import pod_uid
from .kube.services import CLUSTER_IP_UNKNOWN
from .kube.kubelet import absent_optional_notes, termination_log_paths
from .kube.manifests import Inputs, Workload
from .kube.podspec import Container
from .layout import NOT_A_MOUNT, ContainerLayout, WorkloadLayout
from .output import Progress

if TYPE_CHECKING:
    from .kube.observe import ObservedPod


@dataclass
class DiffReport:
    workload: str  # the subject: ``KIND/NAME`` of one workload, ``N workloads`` of a whole app
    compose_file: str
    mode: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    partner: str = "service"  # what a container is paired with: a compose service, or a running pod's container

    @property
    def exit_code(self) -> int:
        return EXIT_DIFFERENT if self.differences else EXIT_SAME

    def to_json(self) -> dict:
        return {"format": "parity.diff/v1", "workload": self.workload, "compose": self.compose_file,
                "mode": self.mode, "equal": not self.differences,
                "pairs": [{"container": c, "service": s} for c, s in self.pairs],
                "differences": [d.to_json() for d in self.differences], "notes": self.notes}


@dataclass(frozen=True)
class Expected:
    """The cluster's side of a diff: every selected workload (in input order) with its predicted
    layout. A container is named as parity names its compose service (``plan.service_key``): its
    own name when the input is one workload, ``WORKLOAD_CONTAINER`` (qualified as ``plan.pod_keys``
    says) in a whole app; ``--map`` and the report use that name.

    Attributes:
        layouts: the predicted layouts, one per workload (``--observed``: the running pod's, its
            writable mounts from its spec: ``kube/observe.ObservedPod.mounted``).
        workloads: the workloads (``--observed``: the running pod, ``ObservedPod.workload``).
        notes: what the report says of this side (``--observed``: what is not read).
        unlisted: containers whose files were not read (``--observed``: not running).
        inputs: the input's Secrets and ConfigMaps, for the notes of the optional ones it lacks.
    """

    layouts: list[WorkloadLayout]
    workloads: list[Workload | None]
    notes: list[str] = field(default_factory=list)
    unlisted: frozenset[str] = frozenset()
    inputs: Inputs | None = field(default=None, compare=False)  # the manifests' (not with --observed)

    @property
    def subject(self) -> str:
        """``KIND/NAME`` of one workload, ``N workloads`` of several (as ``AppPlan.subject``)."""
        return self.layouts[0].ref if len(self.layouts) == 1 else f"{len(self.layouts)} workloads"

    def containers(self) -> list[tuple[ContainerLayout, Workload | None]]:
        """Every container of every workload, renamed as parity names its service, with its workload."""
        try:
            keys = pod_keys(self.workloads)
        except ValueError as exc:  # the same workload twice: no name can tell them apart
            raise ParityError(str(exc)) from None
        return [(c if service_key(key, c.name) == c.name else
                 ContainerLayout(service_key(key, c.name), c.init, c.mounts, c.entries), w)
                for layout, w, key in zip(self.layouts, self.workloads, keys) for c in layout.containers]

    def spec_containers(self) -> dict[str, Container]:
        """Every container of a workload with a pod spec, by the name ``containers`` gives it."""
        keys = pod_keys(self.workloads) if all(self.workloads) else []
        return {service_key(key, ctr.name): ctr for w, key in zip(self.workloads, keys)
                for ctr in w.spec.all_containers}

    def termination_paths(self) -> dict[str, str]:
        """Each container's termination-message file (``kubelet.termination_log_paths``), by the name
        ``containers`` gives it: of the workloads with a pod spec."""
        keys = pod_keys(self.workloads) if all(self.workloads) else []
        return {service_key(key, ctr.name): path for w, key in zip(self.workloads, keys)
                for ctr, path in termination_log_paths(w.spec)}

    def facets(self) -> dict[str, ProcessFacets]:
        """The process facets (``facets.py``) of every container of a workload with a pod spec."""
        out = {}
        keys = pod_keys(self.workloads) if all(self.workloads) else []
        for w, key in zip(self.workloads, keys):
            for ctr in w.spec.all_containers:
                security, _notes = security_settings(w.spec, ctr, pod_ref(w.pod_name, w.namespace, pod_uid(w)))
                out[service_key(key, ctr.name)] = cluster_facets(w.spec, ctr, security)
        return out

    def volume_notes(self) -> list[str]:
        """What no setup enforces of the writable volumes' limits (``planner.unenforced_volume_notes``)
        and the optional objects the input lacks (``kubelet.absent_optional_notes``: their volumes are
        empty on both sides): said, as k8s-to-docker says it, since there is nothing to compare."""
        workloads = [w for w in self.workloads if w is not None]
        # With several workloads each note names its own, as k8s-to-docker's do: one rule, note_subjects.
        return [said_of(named, note) for w, named in zip(workloads, note_subjects(workloads))
                for note in unenforced_volume_notes(w)
                + (absent_optional_notes(w, self.inputs) if self.inputs is not None else [])]

    def environments(self) -> dict[str, dict[str, Variable]]:
        """The variables the kubelet gives every container ``facets`` covers, by the same name
        (``docker/env.container_env``: the input's Secrets and ConfigMaps); none without the input's
        objects (``--observed``: ``environment_note`` says so).

        Raises:
            ParityError: a variable refers to a Secret or ConfigMap (key) the input lacks and that is not
                optional (the container would not start: k8s-to-docker refuses it alike).
        """
        from .docker.env import container_env

        if self.inputs is None or not all(self.workloads):
            return {}
        return {service_key(key, ctr.name): cluster_environment(container_env(w, ctr, self.inputs))
                for w, key in zip(self.workloads, pod_keys(self.workloads)) for ctr in w.spec.all_containers}

    def health_checks(self) -> dict[str, HealthCheck | None]:
        """The health check (``docker/health.py``) of every container ``facets`` covers, by the same name."""
        keys = pod_keys(self.workloads) if all(self.workloads) else []
        return {service_key(key, ctr.name): health_plan(ctr).check
                for w, key in zip(self.workloads, keys) for ctr in w.spec.all_containers}


@dataclass(frozen=True)
class Pair:
    """A pod container and the compose service that runs it."""

    container: ContainerLayout  # named as ``Expected`` names it
    workload: Workload | None
    service: str


def pair(expected: Expected, project: ComposeProject, mapping: dict[str, str]) -> tuple[list[Pair], list[Difference]]:
    """Each container with its service: the one named as parity names it, or as ``--map`` says.

    Returns:
        The pairs, in container order; an ``unpaired-container`` difference for each container with
        no service, then an ``unpaired-service`` one for each service that runs no container and is
        none of parity's helpers (``_helper_services``).
    """
    pairs, diffs = [], []
    for c, workload in expected.containers():
        service = mapping.get(c.name, c.name)
        if service in project.services:
            pairs.append(Pair(c, workload, service))
        else:
            diffs.append(Difference(c.name, "-", "unpaired-container", f"service {service!r}", "absent",
                                    "no compose service runs this container (use --map CONTAINER=SERVICE)"))
    paired = {p.service for p in pairs}
    helpers = _helper_services(project, paired)
    for name in project.services:
        if name not in paired and name not in helpers:
            diffs.append(Difference("-", "-", "unpaired-service", "absent", f"service {name!r}",
                                    "no pod container corresponds to this service"))
    return pairs, diffs


def _helper_services(project: ComposeProject, paired: set[str]) -> set[str]:
    """Services that run no pod container but serve those that do: parity's own (labelled with a
    role: the data service, a pod's sandbox, a port forwarder), or one a paired service takes its
    mounts (``volumes_from``, a named volume it mounts writable) or its network namespace
    (``network_mode: service:NAME``) from."""
    helpers = {n for n, s in project.services.items() if (s.get("labels") or {}).get(LABEL_ROLE)}
    used_volumes = set()
    for name in paired:
        svc = project.services[name]
        helpers |= {str(v).split(":")[0] for v in svc.get("volumes_from") or []}
        network, _, joined = str(svc.get("network_mode") or "").partition(":")
        if network == "service":
            helpers.add(joined)
        used_volumes |= {v.get("source") for v in svc.get("volumes") or [] if v.get("type") == "volume"}
    # A service filling a volume the pod's containers mount (the article's data container) mounts it
    # writable; one that only reads a shared volume (every container reads the pod's service-account
    # volume) may be a container of its own, and stays a candidate for pairing.
    for name, svc in project.services.items():
        if any(v.get("source") in used_volumes and not v.get("read_only") for v in svc.get("volumes") or []):
            helpers.add(name)
    return helpers - paired


def _group_difference(workload: Workload | None, container: str, groups: list[str], user: str | None,
                      ignore: frozenset[str] = frozenset()) -> list[Difference]:
    fs_group = workload.spec.fs_group if workload is not None else None  # None: --observed, no pod spec
    if fs_group is None or "owners" in ignore:  # an "owner" difference like any other
        return []
    primary = (user or "").partition(":")[2]
    if str(fs_group) in [str(g) for g in groups] or primary == str(fs_group):
        return []
    return [Difference(container, "(process)", "owner", f"member of group {fs_group} (fsGroup)",
                       "not a member", "the kubelet adds fsGroup to every container's groups; without it, "
                                       "group-readable secret files cannot be read (add group_add)")]


def static_diff(expected: Expected, project: ComposeProject, mapping: dict[str, str],
                ignore: frozenset[str]) -> DiffReport:
    """What each paired service's container would show, derived from the compose setup and its
    build contexts without an engine (``docker/static_layout.py``).

    Args:
        expected: the selected workloads and their predicted layouts.
        project: the compose setup, as Compose normalised it.
        mapping: ``--map``: container (as ``Expected`` names it) -> service.
        ignore: classes of differences left out (structure, owners, modes).

    Returns:
        The report.
    """
    report = DiffReport(expected.subject, project.file, "static",
                        notes=list(project.notes) + expected.notes + expected.volume_notes())
    pairs, report.differences = pair(expected, project, mapping)
    reader = StaticReader(project)
    facets, checks, envs = expected.facets(), expected.health_checks(), expected.environments()
    report.notes += environment_notes(envs)
    terminations = expected.termination_paths()
    for p in pairs:
        c, service = p.container, p.service
        report.pairs.append((c.name, service))
        # Writable volumes (emptyDir, claims, hostPath...): their mounts, and an emptyDir's root only
        # (never a bind's host tree: a hostPath of / would be read whole).
        writable = [m for m in c.mounts if m.writable_volume]
        files = [m for m in c.mounts if not m.writable_volume]
        view = reader.view(service, c.name, [m.path for m in files], c.init)
        report.differences += [Difference(c.name, path, "unknown", "", "", why) for path, why in view.unknown.items()]
        known = [m for m in files if m.path not in view.unknown]
        got = [reader.mount_at(service, m.path) for m in writable]
        roots = {e.path for e in c.entries if any(e.path == m.path for m in writable)}
        got_entries = [e for g in got if g.path in roots and g.source != NOT_A_MOUNT
                       for e in reader.view(service, c.name, [g.path], c.init).layout.entries if e.path == g.path]
        actual = ContainerLayout(view.layout.name, view.layout.init, view.layout.mounts + got,
                                 view.layout.entries + got_entries)
        shown = ContainerLayout(c.name, c.init, known + writable,
                                [e for e in c.entries if any(e.path == m.path or e.path.startswith(m.path + "/")
                                                             for m in known) or e.path in roots])
        report.differences += compare_containers(shown, actual, ignore)
        report.differences += _declared(c.name, c, reader.declared_mounts(service), terminations)
        svc = project.services[service]
        report.differences += _group_difference(p.workload, c.name, svc.get("group_add") or [], svc.get("user"),
                                                ignore)
        if c.name in facets:
            report.differences += compare_facets(c.name, facets[c.name], compose_facets(svc, p.workload.spec))
            report.differences += compare_health(c.name, checks[c.name], from_compose(
                svc.get("healthcheck"), escaped=project.normalised_by == "docker compose config"))
        if c.name in envs:
            if project.normalised_by != "docker compose config" and svc.get("env_file"):
                report.notes.append(f"{c.name}: environment not compared: service {service} reads env_file, "
                                    "which only Compose reads (parity's fallback reader does not)")
            else:
                report.differences += compare_environment(c.name, envs[c.name], compose_environment(
                    svc, escaped=project.normalised_by == "docker compose config"))
    report.differences += _network(pairs, lambda p: compose_network_owner(p.service, project.services))
    report.differences += _start_order(expected, pairs, {p.service: compose_depends_on(project.services[p.service])
                                               for p in pairs})
    return report


def environment_notes(envs: dict[str, dict[str, Variable]]) -> list[str]:
    """What the report says of the environment facet: which variables are compared by presence only,
    once per variable. (Without the input's objects, ``--observed``, it is not compared: the command
    says so with ``ENVIRONMENT_NOT_COMPARED``.)"""
    # The kubelet's service variables that hold a cluster IP are not said here (every container has
    # some): the difference that lists the missing ones says it, as docs/docker-differences.md does.
    return [f"{name}: {var}: compared by presence only: {v.unknown}" for name, variables in envs.items()
            for var, v in variables.items() if v.unknown and v.unknown != CLUSTER_IP_UNKNOWN]


#: Said when the cluster's side has no input objects to compute the environment from.
ENVIRONMENT_NOT_COMPARED = ("the running pod's environment is not compared: its variables are not in the API and "
                            "its Secrets and ConfigMaps are not read (docs/cluster.md)")


def _declared(name: str, c: ContainerLayout, declared: list[tuple[str, bool, str]],
              terminations: dict[str, str]) -> list[Difference]:
    """The mounts a service declares itself against the cluster's: a writable one where the cluster
    has none (``extra_writable``), and the termination-message file (``termination_log``), in both
    modes alike."""
    path = terminations.get(name)
    if path is None:
        return extra_writable(name, c, declared)
    return (extra_writable(name, c, [d for d in declared if d[0] != path])
            + termination_log(name, path, declared))


def _start_order(expected: Expected, pairs: list[Pair], deps: dict[str, dict[str, str]]) -> list[Difference]:
    """The ``lifecycle`` facet of each pod (``facets.start_order_differences``), over the edges
    between its paired services only (``deps``), in both modes."""
    spec = expected.spec_containers()
    pods: dict[int, list[Started]] = {}
    for p in pairs:
        ctr = spec.get(p.container.name)
        if ctr is not None and p.service in deps:
            pods.setdefault(id(p.workload), []).append(Started.of(ctr, p.container.name, p.service))
    out = []
    for pod in pods.values():
        services = {s.service for s in pod}
        edges = {s.service: {d: c for d, c in deps[s.service].items() if d in services} for s in pod}
        out += start_order_differences(pod, edges)
    return out


def _network(pairs: list[Pair], owner) -> list[Difference]:
    """The ``network`` facet of each pod (``facets.network_differences``); ``owner(pair)``: the service
    whose network namespace the pair's container uses, None when it has no container."""
    pods: dict[int, tuple[Workload, list[tuple[str, str, str]]]] = {}
    for p in pairs:
        who = owner(p) if p.workload is not None else None
        if who is not None:
            pods.setdefault(id(p.workload), (p.workload, []))[1].append((p.container.name, p.service, who))
    return [d for w, pod in pods.values() for d in network_differences(pod, w.spec.host_network)]


#: What ``diff --pod`` and ``--observed`` cannot know from what they read of a running pod: said in every report.
POD_FACETS_NOTE = ("the running pod's identity, capabilities, privileges, limits, network, start order and health "
                   "check are those its spec gives (limits: as its status reports them enacted, where it does), "
                   "by the rules the kubelet applies; nothing is read from inside its processes")
WRITABLE_NOTE = ("the running pod's writable volumes (emptyDir, claims, hostPath, ephemeral) are compared by their "
                 "mounts in its spec: what is in them, and an emptyDir's own mode and owner, is not read")


def pod_diff(expected: Expected, observed: ObservedPod, ignore: frozenset[str]) -> DiffReport:
    """The prediction (or another observed pod) against a running pod: the files its running containers
    have (one exec each) and every facet the compose diff checks, the running pod's from its spec (and
    status), judged by the same functions (``facets.py``, ``docker/health.py``).

    Args:
        expected: one workload and its predicted (or observed) layout.
        observed: the running pod (``kube/observe.read_pod``).
        ignore: classes of differences left out (structure, owners, modes).

    Returns:
        The report; its notes say what is not read.
    """
    from .kube.kubelet import container_mounts

    layout, workload = expected.layouts[0], expected.workloads[0]
    running = observed.workload
    report = DiffReport(layout.ref, f"pod/{observed.layout.name}", "observed in the cluster",
                        notes=list(expected.notes), partner="container")
    in_pod = {ctr.name: ctr for ctr in running.spec.all_containers}
    declared = {v.name: v for v in running.spec.volumes}
    facets, checks, spec = expected.facets(), expected.health_checks(), expected.spec_containers()
    # Every container of the expected pod, in spec order (an observed pod lists its running ones only).
    names = [ctr.name for ctr in workload.spec.all_containers] if workload else [c.name for c in layout.containers]
    expected_volumes = {v.name: v for v in workload.spec.volumes} if workload else {}
    paired: list[str] = []
    writable_seen = False
    for name in names:
        c, ctr, got = layout.container(name), in_pod.get(name), observed.layout.container(name)
        init = c.init if c is not None else spec[name].init
        if ctr is None or (got is None and not init):
            report.differences.append(Difference(name, "-", "unpaired-container", "running", "absent"))
        if ctr is None:
            continue
        if got is None and init:
            report.notes.append(f"init container {name} is not running: not listed")
        report.pairs.append((name, name))
        paired.append(name)
        # Files as listed (in both pods, when both run it); writable volumes by their mounts in the spec
        # (the listing does not read them).
        writable = [m for m in container_mounts(ctr, declared) if m.writable_volume]
        own = [m for m in (c.mounts if c is not None else container_mounts(spec[name], expected_volumes))
               if m.writable_volume]
        writable_seen = writable_seen or bool(writable or own)
        both = c is not None and got is not None and name not in expected.unlisted  # files listed on both sides
        files = files_only(c) if both else ContainerLayout(name, init, [], [])
        listed = got if both else ContainerLayout(name, init, [], [])
        report.differences += compare_containers(ContainerLayout(name, init, files.mounts + own, files.entries),
                                                 ContainerLayout(name, init, listed.mounts + writable, listed.entries),
                                                 ignore)
        report.differences += extra_writable(name, ContainerLayout(name, init, files.mounts + own, []),
                                             [(m.path, m.read_only, m.source) for m in writable])
        if workload is None or name not in facets:
            continue
        user, groups = identity(running.spec, ctr)
        report.differences += _group_difference(workload, name, groups, user, ignore)
        security, _notes = security_settings(running.spec, ctr, pod_ref(running.pod_name, running.namespace,
                                                                         running.pod_uid))
        report.differences += compare_facets(name, facets[name], cluster_facets(running.spec, ctr, security))
        report.differences += compare_health(name, checks[name], health_plan(ctr).check)
        uncompared = set(uncompared_probes(ctr)) | set(uncompared_probes(spec[name]))
        report.notes += [f"{name}: {field}: not compared (diff compares the probe parity runs as the health "
                         "check)" for field in sorted(uncompared)]
    report.differences += [Difference(ctr.name, "-", "unpaired-container", "absent", "in the running pod",
                                      "the expected pod has no such container (an admission webhook's sidecar?)")
                           for ctr in running.spec.all_containers if ctr.name not in names]
    if workload is not None:
        report.differences += host_network_differences(paired, workload.spec.host_network,
                                                       running.spec.host_network)
        report.differences += start_order_differences(
            [Started.of(ctr, ctr.name, ctr.name) for ctr in workload.spec.all_containers if ctr.name in paired],
            kubelet_depends_on([Started.of(ctr, ctr.name, ctr.name) for ctr in running.spec.all_containers]))
    report.notes += [WRITABLE_NOTE] * writable_seen + [POD_FACETS_NOTE, ENVIRONMENT_NOT_COMPARED]
    report.notes = list(dict.fromkeys(report.notes))  # --observed said some of them already
    return report


def files_only(c: ContainerLayout) -> ContainerLayout:
    """``c`` without its writable volumes (emptyDir, claims...): what ``--observed`` reads of a
    running pod is the files the kubelet writes, not the volumes the pod writes to."""
    writable = [m for m in c.mounts if m.writable_volume]
    if not writable:
        return c
    keep = [m for m in c.mounts if not m.writable_volume]
    return ContainerLayout(c.name, c.init, keep, [e for e in c.entries if (m := c.mount_for(e.path)) is not None
                                                  and not m.writable_volume])


# ---------------------------------------------------------------------------------------------
# Live


def refuse_host_access(project: ComposeProject) -> None:
    """Before a throw-away project runs: refuse a setup that reaches into the host.

    Raises:
        ParityError: one line per service and field (``docker/hostaccess.py``), then the way out.
    """
    from .docker.hostaccess import host_access

    problems = host_access(project)
    if problems:
        raise ParityError(problems + [Problem("not run: these services reach into the host; read the file, then "
                                              "pass --allow-host-access to run it anyway", file=project.file)])


def live_diff(expected: Expected, project: ComposeProject, mapping: dict[str, str], ignore: frozenset[str],
              running: str | None = None, timeout: float = DEFAULT_TIMEOUT,
              progress: Progress | None = None, importing=None) -> DiffReport:
    """The layout each paired service's container really has, read through a real engine.

    Args:
        expected, project, mapping, ignore: as for ``static_diff``.
        running: a running compose project to inspect; None brings up one throw-away copy of the
            whole setup (``docker/liveproject.py``).
        timeout: seconds each wait may take (a compose command, an engine request).
        progress: step messages (on a terminal only, by default).
        importing: as for ``docker.liveproject.live_project``.

    Returns:
        The report.

    Raises:
        ParityError: no Compose, no engine, a failed ``up``, a wait that ran out (the throw-away
            project is removed first).
    """
    from .docker.liveproject import Wanted, live_project

    progress = progress or Progress()
    report = DiffReport(expected.subject, project.file, "live" if running is None else f"live (project {running})",
                        notes=list(expected.notes) + expected.volume_notes())
    pairs, report.differences = pair(expected, project, mapping)
    facets, checks, envs = expected.facets(), expected.health_checks(), expected.environments()
    report.notes += environment_notes(envs)
    terminations = expected.termination_paths()
    with live_project(project, timeout, running, progress, importing) as live:
        reader = StaticReader(project) if running else None  # what the images would put in the volumes
        progress(f"reading {len(pairs)} container(s) back from project {live.name}")
        found = live.read([Wanted(p.service, p.container.name, tuple(m.path for m in p.container.mounts),
                                  p.container.init, tuple(m.path for m in p.container.mounts if m.writable_volume))
                           for p in pairs])
        images: dict[str, dict] = {}  # image id -> its Config (_image_config)
        for p, got in zip(pairs, found):
            c, service = p.container, p.service
            report.pairs.append((c.name, service))
            if got.container is None:
                report.differences.append(Difference(c.name, "-", "unpaired-container", f"service {service!r}",
                                                     "no container", "the service has no container in the project"))
                continue
            report.differences += compare_containers(c, got.layout, ignore)
            report.differences += _declared(c.name, c, declared_mounts(got.container, live.copies), terminations)
            host = got.container.attrs.get("HostConfig", {})
            report.differences += _group_difference(p.workload, c.name, host.get("GroupAdd") or [],
                                                    got.container.attrs.get("Config", {}).get("User"), ignore)
            if c.name in facets or c.name in envs:
                with live.waits.engine(f"reading service {service}'s image"):
                    image = _image_config(live.client, got.container, images)
            if c.name in envs:
                report.differences += compare_environment(
                    c.name, with_image(envs[c.name], engine_environment(image.get("Env"))),
                    engine_environment(got.container.attrs.get("Config", {}).get("Env")))
            if c.name in facets:
                image_user = image.get("User") or None
                report.differences += compare_facets(c.name, facets[c.name],
                                                     container_facets(got.container.attrs, p.workload.spec,
                                                                      image_user, facets[c.name].user))
                live_check = from_inspect(got.container.attrs.get("Config", {}).get("Healthcheck"))
                report.differences += compare_health(c.name, checks[c.name], live_check)
            if running:
                with live.waits.engine(f"reading service {service}"):
                    report.differences += _stale(live.client, project, reader, service, c, got.layout)
        containers = {id(p): got.container for p, got in zip(pairs, found)}

        def inspect(container_id: str) -> tuple[str, dict] | None:
            import docker.errors

            try:
                with live.waits.engine("reading a network namespace's container"):
                    ctr = live.client.containers.get(container_id)
            except docker.errors.NotFound:
                return None
            return ctr.labels.get(COMPOSE_SERVICE) or ctr.name, ctr.attrs

        report.differences += _network(pairs, lambda p: None if containers[id(p)] is None else
                                       container_network_owner(p.service, containers[id(p)].attrs, inspect))
        report.differences += _start_order(expected, pairs, {p.service: label_depends_on(containers[id(p)].labels)
                                                   for p in pairs if containers[id(p)] is not None})
    return report


def declared_mounts(container, copies: Mapping[str, str] | None = None) -> list[tuple[str, bool, str]]:
    """(target, read-only, what) of each mount a container was created with itself (``Mounts``,
    ``Binds`` and ``Tmpfs`` of its host config: not ``volumes_from`` nor its image's VOLUMEs), as
    the static reader's ``declared_mounts`` lists a service's; a source that is a throw-away
    project's copy (``copies``: ``LiveProject.copies``) is named as the user's file it stands for."""
    copies = copies or {}
    host = container.attrs.get("HostConfig") or {}
    out = [(m.get("Target", ""), bool(m.get("ReadOnly")),
            f"{m.get('Type', 'volume')} {copies.get(m.get('Source', ''), m.get('Source', ''))}".strip())
           for m in host.get("Mounts") or []]
    for b in host.get("Binds") or []:
        parts = b.split(":")
        if len(parts) >= 2:
            out.append((parts[1], len(parts) > 2 and "ro" in parts[2].split(","), f"bind {copies.get(parts[0], parts[0])}"))
    out += [(t, False, "tmpfs") for t in host.get("Tmpfs") or {}]
    return out


def _image_config(client, container, seen: dict[str, dict]) -> dict:
    """The ``Config`` of the image a container runs (its ``User``, its ``Env``; empty: the image is
    gone); ``seen`` keeps each image's answer (one request per image, not per container)."""
    import docker.errors

    image = container.attrs.get("Image", "")
    if image not in seen:
        try:
            seen[image] = client.images.get(image).attrs.get("Config") or {}
        except docker.errors.NotFound:
            seen[image] = {}
    return seen[image]


def _stale(client, project: ComposeProject, reader: StaticReader, service: str, c: ContainerLayout,
           actual: ContainerLayout) -> list[Difference]:
    """A running project's named volumes against the image that should have filled them."""
    from .docker.readback import read_tree

    out = []
    svc = project.services.get(service) or {}
    for v in svc.get("volumes") or []:
        if v.get("type") != "volume" or not v.get("source"):
            continue
        _tree, filler, _unknown = reader.volume_content(v["source"])
        filler_svc = project.services.get(filler or "") or {}
        # Compose names an image it builds without an ``image:`` key PROJECT-SERVICE.
        image = filler_svc.get("image") or (f"{project.name}-{filler}" if filler_svc.get("build") else None)
        if not image:
            continue
        filler_target = next((m["target"] for m in filler_svc.get("volumes") or []
                              if m.get("source") == v["source"]), None)
        try:
            probe = client.containers.create(image, entrypoint=["true"],
                                             labels={LABEL_ROLE: ROLE_PROBE, LABEL_DIFF_OWNER: run_owner()})
        except Exception:  # noqa: BLE001 - the image is gone: nothing to compare against
            continue
        try:
            fresh = {e.path[len(filler_target):]: e.sha256 for e in read_tree(probe, filler_target) if e.sha256}
        finally:
            probe.remove(v=True, force=True)
        now = {e.path[len(v["target"]):]: e.sha256 for e in actual.entries
               if e.sha256 and (e.path + "/").startswith(v["target"] + "/")}
        if fresh != now:
            out.append(Difference(c.name, v["target"], "stale", f"content of image {image}",
                                  "older content", f"volume {project.volume_name(v['source'])} was filled from an "
                                  "earlier image; Docker never refills a volume that has content"))
    return out


def check_mapping(expected: Expected, project: ComposeProject, mapping: dict[str, str]) -> None:
    """``--map CONTAINER=SERVICE`` must name a container of the workloads (as ``Expected`` names
    it) and a service of the compose file: a typo would otherwise show as two unpaired differences
    (exit 1) instead of the mistake.

    Raises:
        ParityError: one line per unknown name, listing the names there are.
    """
    containers = [c.name for c, _ in expected.containers()]
    problems = [f"--map {c}={s}: no container {c!r} in {expected.subject} (there are: {', '.join(containers)})"
                for c, s in mapping.items() if c not in containers]
    problems += [f"--map {c}={s}: no service {s!r} in {project.file} (there are: {', '.join(project.services)})"
                 for c, s in mapping.items() if s not in project.services]
    if problems:
        raise ParityError([Problem(p) for p in problems])
