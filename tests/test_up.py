"""``parity up``'s order of work, without an engine: its steps run as the plan orders them (``_make``)."""

from __future__ import annotations

import dataclasses
import threading

from parity.docker.planner import build_app_plan
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.up import DATA, NETWORKS
from parity.upplan import start_after

from .test_upplan import OTHER, POD


def test_status_says_a_pod_sandbox_that_does_not_run_and_exits_1():
    """A pod sandbox that exited makes the pod not running (``status`` exit 1: ``StatusReport.ok``), its
    problem line under the ``(pod sandbox)`` line and in the JSON; a running one changes nothing."""
    from parity.output import Painter
    from parity.render import status_text
    from parity.status import ContainerStatus, SandboxStatus, StatusReport, WorkloadStatus

    app = ContainerStatus("app", "p.app", "running", in_parity=True)
    dead = WorkloadStatus("Pod/web", "default", "p", "manifests", [app],
                          SandboxStatus("p.pod_sandbox", "exited", {}, "exited with code 137"))
    report = StatusReport([dead])
    assert (report.running, report.ok) == (False, False)
    assert status_text(report, Painter(False)).splitlines() == [
        "Pod/web  (project p, prediction: manifests)",
        "  (pod sandbox)        exited     no DNS names",
        "      exited with code 137: the pod's containers lost its network namespace (see: docker logs p.pod_sandbox)",
        "  app                  running    in parity"]
    assert dead.to_json()["sandbox"] == {"container": "p.pod_sandbox", "state": "exited", "names": {},
                                         "running": False, "problem": "exited with code 137"}
    dead.sandbox = SandboxStatus("p.pod_sandbox", "running", {})
    assert (report.running, report.ok) == (True, True)


#: An app of more pods than ``up.PARALLEL`` (8): Deployments of one container each.
PODS = 12
#: How long a fake engine step waits for what the test expects to happen (a deadlock guard, never
#: reached when the schedule is right).
GUARD = 10.0


def app_of_pods(tmp_path, monkeypatch, pods: int = PODS):
    """An ``up`` run of ``pods`` Deployments (the first with two init containers) whose engine steps
    are fakes: the schedule is real, no engine is asked."""
    import parity.up
    from parity.output import Progress

    text = POD.replace("kind: Pod\nmetadata: {name: waves}\nspec:", "kind: Pod\nmetadata: {name: pod-0}\nspec:")
    text = text.replace("  - {name: proxy, image: busybox:latest, restartPolicy: Always}\n", "")
    text += "".join(OTHER.replace("name: other", f"name: pod-{i}") for i in range(1, pods))
    (tmp_path / "in.yaml").write_text(text)
    inputs = load_inputs([str(tmp_path / "in.yaml")])
    workloads = select_workloads(inputs, None)
    plan = build_app_plan(workloads, build_layouts(inputs, workloads), inputs)
    monkeypatch.setenv("PARITY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(parity.up, "connect", lambda *args, **kwargs: None)
    run = parity.up._Up(plan, [], Progress(False))
    run.listed = {}
    return run


class FakeEngine:
    """``_data``, ``_networks``, ``_sandbox`` and ``_container`` stand-ins that log each start and end,
    note any step that starts before one it comes after ended, and count the steps running at once."""

    def __init__(self, run, sandbox=None, data=None):
        self.run, self.log, self.early, self.lock = run, [], [], threading.Lock()
        self.after = {DATA: [], NETWORKS: []}
        for sb in run.sandboxes:  # (up._make's order; this app has no stores)
            self.after[sb.pod.sandbox] = [NETWORKS]
            for s in sb.pod.services:
                self.after[s.name] = [sb.pod.sandbox] + s.depends_on + s.started_after + [DATA]
        self.started = {k: threading.Event() for k in self.after}
        self.sandbox_body, self.data_body = sandbox or (lambda sb: None), data or (lambda: None)
        self.running = self.most = 0
        self.network_actions = ["created network"]
        run._data, run._networks = self.data, self.networks
        run._sandbox, run._container = self.sandbox, self.container

    def _step(self, key, body):
        with self.lock:
            self.early += [key] if any(f"end {d}" not in self.log for d in self.after[key]) else []
            self.log.append(f"start {key}")
            self.running += 1
            self.most = max(self.most, self.running)
        self.started[key].set()
        try:
            body()
        finally:
            with self.lock:
                self.log.append(f"end {key}")
                self.running -= 1

    def data(self):  # (the real one adds its actions to the result as it goes)
        self._step(DATA, self.data_body)
        self.run.result.actions += ["built image", "created data container"]
        return []

    def networks(self):
        self._step(NETWORKS, lambda: None)
        return self.network_actions

    def sandbox(self, sb):
        self._step(sb.pod.sandbox, lambda: self.sandbox_body(sb))
        self.run.sandbox_ids[sb.name] = f"made-{sb.name}"
        return [f"created {sb.pod.sandbox}"]

    def container(self, s):
        self._step(s.name, lambda: None)
        return [f"created {s.name}"]

    def wait_started(self, key):
        if not self.started[key].wait(GUARD):
            raise AssertionError(f"{key} did not start")


def test_up_makes_every_pods_sandbox_at_once_and_each_container_right_after_its_own(tmp_path, monkeypatch):
    """An app of 12 pods: the 12 sandboxes are made at once (each waits until all 12 have started:
    in rounds of ``PARALLEL`` = 8 the barrier breaks), while the data image is built (it ends only
    once a sandbox has started: the old run built it first), and a pod's containers start as soon as
    its own sandbox runs, while another pod's is still being made (the last pod's sandbox ends only
    once the first pod's app container has started: a sandbox wave before the containers never gets
    there). Nothing starts before what it comes after; the actions come in the plan's order."""
    run = app_of_pods(tmp_path, monkeypatch)
    assert run.plan.volumes and not run.plan.stores
    all_started = threading.Barrier(PODS, timeout=GUARD)
    last = run.sandboxes[-1].name

    def sandbox(sb):
        all_started.wait()
        if sb.name == last:
            engine.wait_started("pod-0_web")

    engine = FakeEngine(run, sandbox, data=lambda: engine.wait_started("pod-0_pod_sandbox"))
    assert run._make() is True
    assert engine.early == [] and engine.most >= PODS
    assert engine.log.index("start pod-0_web") < engine.log.index(f"end pod-{PODS - 1}_pod_sandbox")
    assert engine.log.index("end pod-0_seed") < engine.log.index("start pod-0_web")
    assert run.result.actions == ["built image", "created data container", "created network"] + [
        f"created {k}" for k in start_after(run.sandboxes)]  # the sandboxes first, then the plan's order


def test_up_gives_work_only_to_pods_and_containers_that_have_some(tmp_path, monkeypatch):
    """A warm run (every sandbox kept, every container unchanged) starts no sandbox or container step;
    a pod whose sandbox stopped gets its sandbox and every container of its pod made again (they
    joined the old one's network namespace), the other pods nothing."""
    from parity.docker.engine import Listed
    from parity.docker.labels import LABEL_CONFIG

    run = app_of_pods(tmp_path, monkeypatch, pods=3)
    for sb in run.sandboxes:
        run.listed[sb.name] = Listed(sb.name, f"id-of-{sb.name}", "running", {LABEL_CONFIG: sb.digest}, "", frozenset())
        run.sandbox_ids[sb.name] = f"id-of-{sb.name}"
    for s in run.plan.services:
        name = run.plan.container_name(s)
        run.listed[name] = Listed(name, f"id-of-{name}", "exited" if s.init else "running",
                                  {LABEL_CONFIG: run._container_digest(s)}, "", frozenset())
    engine = FakeEngine(run)
    engine.network_actions = []
    assert run._make() is False
    assert sorted(engine.log) == sorted(f"{event} {k}" for k in (DATA, NETWORKS) for event in ("start", "end"))
    run.result.actions.clear()

    stopped = run.sandboxes[0].name
    run.listed[stopped] = dataclasses.replace(run.listed[stopped], state="exited")
    assert run._make() is True
    assert run.result.actions == ["built image", "created data container", "created pod-0_pod_sandbox",
                                  "created pod-0_migrate", "created pod-0_seed", "created pod-0_web",
                                  "created pod-0_worker", "created pod-0_cron"]
    assert engine.early == []
