"""``parity status``: what ``parity up`` runs on the engine, and whether each container is in parity.

Each running workload container (found by label, ``docker/labels.py``) is read back live and
compared with the prediction: the manifests given, else the layout ``up`` stored in the project's
state directory (read under the project's shared lock, never trusted as a path).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from .compare import Difference
from .docker.engine import connect, engine_errors
from .docker.health import Condition, condition
from .docker.labels import (LABEL_CONTAINER, LABEL_NAMESPACE, LABEL_PROJECT, LABEL_ROLE, LABEL_WORKLOAD,
                            ROLE_SANDBOX, is_workload_container)
from .errors import ParityError
from .layout import WorkloadLayout, from_document
from .state import LAYOUT_FILE, MAX_LAYOUT_BYTES, is_real_dir, project_lock, read_state_json, state_root

#: Where a workload's prediction came from (``WorkloadStatus.prediction``).
FROM_MANIFESTS = "manifests"
FROM_STATE = "stored by parity up"
NO_PREDICTION = "none (run parity status with the manifests)"

T = TypeVar("T")


@dataclass
class ContainerStatus:
    """One container: its state, whether it runs as it should, and whether its files are the predicted
    ones (None: no prediction to check against)."""

    name: str  # the Kubernetes container
    container: str  # the engine's container
    state: str  # Docker's status: running, restarting, exited... (health.Condition.state)
    in_parity: bool | None = None
    differences: list[Difference] = field(default_factory=list)
    health: str | None = None  # Docker's health status (None: no health check)
    #: Why it is not running as it should (restarting, exited, unhealthy: ``health.Condition.problem``).
    problem: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "container": self.container, "state": self.state, "health": self.health,
                "running": self.problem is None, "problem": self.problem, "in_parity": self.in_parity,
                "differences": [d.to_json() for d in self.differences]}


@dataclass
class SandboxStatus:
    """The pod's sandbox (it holds the pod's network namespace): its state and the DNS names by which
    the pod's peers reach it, per network."""

    container: str  # the engine's container
    state: str
    names: dict[str, list[str]] = field(default_factory=dict)  # network -> aliases
    #: Why it does not run (``health.Condition.problem``): the pod's containers lost their network namespace.
    problem: str | None = None

    def to_json(self) -> dict:
        return {"container": self.container, "state": self.state, "names": self.names,
                "running": self.problem is None, "problem": self.problem}


@dataclass
class WorkloadStatus:
    workload: str  # KIND/NAME
    namespace: str
    project: str
    prediction: str  # FROM_MANIFESTS, FROM_STATE or NO_PREDICTION
    containers: list[ContainerStatus] = field(default_factory=list)
    sandbox: SandboxStatus | None = None
    #: False: a workload of the manifests given that nothing runs (``parity up`` starts it).
    up: bool = True

    def to_json(self) -> dict:
        return {"workload": self.workload, "namespace": self.namespace, "project": self.project, "up": self.up,
                "prediction": self.prediction, "containers": [c.to_json() for c in self.containers],
                "sandbox": self.sandbox.to_json() if self.sandbox else None}


@dataclass
class StatusReport:
    workloads: list[WorkloadStatus] = field(default_factory=list)
    #: Projects on the engine that run parity's workloads but were not made by ``parity up`` with this
    #: state directory (another user's or a test's state root, ``docker compose`` of a generated file):
    #: named, not checked, and no part of the exit code (``status -p PROJECT`` checks one).
    elsewhere: list[str] = field(default_factory=list)
    state_root: str = ""  # where ``parity up`` keeps the state of the projects listed (``state.state_root``)

    @property
    def in_parity(self) -> bool:
        """No checked container differs."""
        return not any(c.in_parity is False for w in self.workloads for c in w.containers)

    @property
    def running(self) -> bool:
        """Every workload is up, every container runs as it should: none restarting, exited (a Job's or
        an init container's: exited non-zero) or unhealthy; and every pod's sandbox runs."""
        return all(w.up for w in self.workloads) and not any(
            c.problem for w in self.workloads for c in w.containers) and not any(
            w.sandbox.problem for w in self.workloads if w.sandbox is not None)

    @property
    def ok(self) -> bool:
        """Exit 0 (else 1): every container runs as it should and none differs."""
        return self.in_parity and self.running

    def to_json(self) -> dict:
        return {"format": "parity.status/v1", "ok": self.ok, "running": self.running, "in_parity": self.in_parity,
                "workloads": [w.to_json() for w in self.workloads], "elsewhere": self.elsewhere,
                "state_root": self.state_root}


#: A workload's identity in a project: (namespace, ``KIND/NAME``).
WorkloadId = tuple[str, str]


def workloads_running(client, project: str | None = None) -> dict[tuple[str, str, str], list]:
    """``parity up``'s app containers in the engine (of ``project`` only, when given), by (project,
    namespace, workload): the same workload may run in several projects (``-p``), and two namespaces'
    in one."""
    out: dict[tuple[str, str, str], list] = {}
    for ctr in _inspected(client, [LABEL_WORKLOAD], project, is_workload_container):
        # (no namespace label: made before parity labelled it, when every project was one workload)
        key = (ctr.labels.get(LABEL_PROJECT, ""), ctr.labels.get(LABEL_NAMESPACE, "default"),
               ctr.labels[LABEL_WORKLOAD])
        out.setdefault(key, []).append(ctr)
    return out


def sandboxes_running(client, project: str | None = None) -> dict[tuple[str, str, str], SandboxStatus]:
    """Each pod sandbox in the engine (of ``project`` only, when given), by (project, namespace,
    workload) as ``workloads_running``."""
    found = _inspected(client, [f"{LABEL_ROLE}={ROLE_SANDBOX}"], project, lambda labels: LABEL_WORKLOAD in labels)
    out = {}
    for ctr, now in zip(found, _side_by_side([lambda c=c: _settled(c) for c in found])):
        labels = ctr.labels
        networks = ctr.attrs.get("NetworkSettings", {}).get("Networks") or {}
        names = {net: [a for a in (ep or {}).get("Aliases") or [] if not ctr.id.startswith(a)]
                 for net, ep in sorted(networks.items())}
        key = (labels.get(LABEL_PROJECT, ""), labels.get(LABEL_NAMESPACE, "default"), labels[LABEL_WORKLOAD])
        out[key] = SandboxStatus(ctr.name, now.state, names, now.problem)
    return out


def _inspected(client, labels: list[str], project: str | None, wanted: Callable[[dict], bool]) -> list:
    """The containers with ``labels`` (and ``project``'s label, when given) whose labels are
    ``wanted``, each inspected (the list lacks a container's health, restart count and network
    aliases): one list request, then the inspects side by side. A container removed between the list and its inspect (another
    project's ``down``) is left out, not an engine failure."""
    import docker.errors

    if project:
        labels = [*labels, f"{LABEL_PROJECT}={project}"]
    rows = client.api.containers(all=True, filters={"label": labels})

    def inspect(container_id: str):
        try:
            return client.containers.get(container_id)
        except docker.errors.NotFound:
            return None

    return [c for c in _side_by_side([lambda r=r: inspect(r["Id"]) for r in rows if wanted(r.get("Labels") or {})])
            if c is not None]


#: Engine requests at once (inspects, path reads), as a live diff's (``liveproject.MAX_PARALLEL``):
#: docker-py keeps 10 connections per client.
MAX_PARALLEL = 8


def _side_by_side(jobs: list[Callable[[], T]]) -> list[T]:
    """Each job's result, in order, the jobs run at most ``MAX_PARALLEL`` at once (the engine serves
    requests in parallel); the first failure in the jobs' order is raised once every job has ended."""
    if len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(len(jobs), MAX_PARALLEL)) as pool:
        futures = [pool.submit(job) for job in jobs]
    return [f.result() for f in futures]


def _plain_name(project: str) -> bool:
    """Whether a project name (from a container label) may be looked up under the state root."""
    return bool(project) and not project.startswith(".") and "/" not in project and "\0" not in project


def made_here(project: str) -> bool:
    """Whether ``parity up`` with this state root made ``project``: its state directory is there. A
    status without ``-p`` or manifests lists only these, so a test's or a benchmark's state root
    never sees a user's environments (nor theirs its), whatever else runs on the engine."""
    return _plain_name(project) and is_real_dir(state_root() / project)


def _stored_layout(project: str, workload: WorkloadId) -> WorkloadLayout | None:
    """The layout ``up`` stored for a workload of a project (under a shared lock: not while an ``up``
    rewrites it), or None. ``project`` comes from a container label: only a plain name is looked up."""
    namespace, ref = workload
    if not _plain_name(project):
        return None
    state_dir = state_root() / project
    with project_lock(project, ref, shared=True, create=False):
        if not is_real_dir(state_dir):
            return None
        path = state_dir / LAYOUT_FILE
        try:
            doc = read_state_json(path, MAX_LAYOUT_BYTES)
        except FileNotFoundError:
            return None
        try:
            layouts = from_document(doc)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            raise ParityError(f"{path}: is not the layout parity up stored (it was changed outside parity); "
                              "run parity up again, or parity status with the manifests") from None
    return next((w for w in layouts if (w.namespace, w.ref) == workload), None)


#: A running container Docker has restarted is looked at again this many times, ``SETTLE`` s apart: a
#: crash-looping one runs for an instant between restarts and must not be taken for a running one then.
SETTLE_LOOKS, SETTLE = 3, 0.2


def _settled(ctr) -> Condition:
    now = condition(ctr.attrs)
    for _ in range(SETTLE_LOOKS):
        if not (now.ok and now.state == "running" and now.restarts):
            break
        time.sleep(SETTLE)
        ctr.reload()
        now = condition(ctr.attrs)
    return now


@engine_errors()
def status(predictions: dict[WorkloadId, WorkloadLayout], only: set[WorkloadId] | None = None,
           project: str | None = None, app_project: str | None = None) -> StatusReport:
    """Per workload and container: its state and whether it is in parity with the prediction (the
    manifests given, else the layout ``up`` stored), read live through the engine.

    Args:
        predictions: predicted layouts by (namespace, ``KIND/NAME``) (from the manifests given; may be empty).
        only: these workloads (the app's: each is listed, a workload nothing runs as not up), or None
            for every workload the engine runs.
        project: one project's workloads, or None: with ``only``, the app's wherever they run (a
            ``docker compose up`` of its generated file too); without, those of the projects
            ``parity up`` made with this state root (``made_here``; the others named in ``elsewhere``).
        app_project: the project ``parity up`` gives the app (``only``): where a workload that is not
            up would run.

    Returns:
        The report, workloads sorted by (project, namespace, workload), containers by engine name;
        then the workloads of ``only`` that nothing runs.

    Raises:
        ParityError: the engine failed, or a stored layout was changed outside parity.
    """
    from .compare import compare_containers
    from .docker.readback import container_layout, read_path

    client = connect()
    report = StatusReport()
    sandboxes = sandboxes_running(client, project)
    checks: list[tuple[WorkloadStatus, object, str, object]] = []  # (entry, container, name, expected)
    elsewhere: set[str] = set()
    for (ctr_project, namespace, ref), containers in sorted(workloads_running(client, project).items()):
        if only and (namespace, ref) not in only:
            continue
        if project is None and only is None and not made_here(ctr_project):
            elsewhere.add(ctr_project)
            continue
        predicted = predictions.get((namespace, ref))
        source = FROM_MANIFESTS
        if predicted is None:
            predicted = _stored_layout(ctr_project, (namespace, ref))
            source = FROM_STATE if predicted else NO_PREDICTION
        entry = WorkloadStatus(ref, namespace, ctr_project, source,
                               sandbox=sandboxes.get((ctr_project, namespace, ref)))
        for ctr in sorted(containers, key=lambda c: c.name):
            name = ctr.labels[LABEL_CONTAINER]
            checks.append((entry, ctr, name, predicted.container(name) if predicted else None))
        report.workloads.append(entry)
    # Side by side (each a request or more): the containers' states, then every predicted path of
    # every container (each path's archive takes the engine tens of milliseconds). Of a writable
    # volume, the directory itself only: what the pod wrote there is not compared (compare.py
    # ``_without_pod_writes``), and reading it whole read every byte the app wrote (argo-cd's binaries
    # in an emptyDir) or a hostPath's whole host tree, as diff --live does (``LiveProject.read``).
    states = _side_by_side([lambda ctr=ctr: _settled(ctr) for _, ctr, _, _ in checks])
    reads = [(i, m.path, m.writable_volume) for i, (_, _, _, expected) in enumerate(checks) if expected is not None
             for m in expected.mounts]
    trees = {(i, path): tree for (i, path, _), tree in zip(reads, _side_by_side(
        [lambda i=i, path=path, root=root: read_path(checks[i][1], path, root) for i, path, root in reads]))}
    for i, ((entry, ctr, name, expected), now) in enumerate(zip(checks, states)):
        item = ContainerStatus(name, ctr.name, now.state, health=now.health, problem=now.problem)
        if expected is not None:
            paths = [m.path for m in expected.mounts]
            # (fresh: the attributes are the inspect's, or _settled's reload: no second inspect)
            actual = container_layout(ctr, name, paths, expected.init, fresh=True,
                                      trees={path: trees[i, path] for path in paths})
            item.differences = compare_containers(expected, actual)
            item.in_parity = not item.differences
        entry.containers.append(item)
    report.elsewhere, report.state_root = sorted(elsewhere), str(state_root())
    listed = {(w.namespace, w.workload) for w in report.workloads}
    for namespace, ref in sorted((only or set()) - listed):  # never silent: the app's workload that is not up
        report.workloads.append(WorkloadStatus(ref, namespace, project or app_project or "", FROM_MANIFESTS, up=False))
    return report
