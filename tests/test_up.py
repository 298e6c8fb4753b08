"""``parity up``'s order of work, without an engine: which containers may be created at once."""

from __future__ import annotations

from parity.docker.planner import build_plan
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.up import waves

POD = """
apiVersion: v1
kind: Pod
metadata: {name: waves}
spec:
  initContainers:
  - {name: migrate, image: busybox:latest}
  - {name: seed, image: busybox:latest}
  - {name: proxy, image: busybox:latest, restartPolicy: Always}
  containers:
  - {name: web, image: busybox:latest}
  - {name: worker, image: busybox:latest}
  - {name: cron, image: busybox:latest}
"""


def plan_of(tmp_path, text: str):
    (tmp_path / "in.yaml").write_text(text)
    inputs = load_inputs([str(tmp_path / "in.yaml")])
    workloads = select_workloads(inputs, None)
    return build_plan(workloads[0], build_layouts(inputs, workloads)[0], inputs)


def test_init_containers_one_by_one_then_the_app_containers_together(tmp_path):
    """Each init container (and the native sidecar) starts after the one before it, as the kubelet
    runs them; the app containers, which all wait for the last, form one wave created at once."""
    plan = plan_of(tmp_path, POD)
    assert [[s.name for s in w] for w in waves(plan.services)] == [
        ["migrate"], ["seed"], ["proxy"], ["web", "worker", "cron"]]


def test_a_pod_without_init_containers_is_one_wave(tmp_path):
    start, _, rest = POD.partition("  initContainers:\n")
    plan = plan_of(tmp_path, start + rest[rest.index("  containers:"):])
    assert [[s.name for s in w] for w in waves(plan.services)] == [["web", "worker", "cron"]]


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
