"""``parity up``'s plan-only rules (parity/upplan.py), without an engine: what each pod sandbox and
container is started after."""

from __future__ import annotations

from parity.docker.planner import build_app_plan
from parity.docker.sandbox import sandbox_plans
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.upplan import start_after

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

#: A second pod, without init containers.
OTHER = """
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - {name: api, image: busybox:latest}
"""


def start_order(tmp_path, text: str) -> dict[str, list[str]]:
    """``start_after`` of the app in ``text`` (an app of one pod: service names without a prefix)."""
    (tmp_path / "in.yaml").write_text(text)
    inputs = load_inputs([str(tmp_path / "in.yaml")])
    workloads = select_workloads(inputs, None)
    plan = build_app_plan(workloads, build_layouts(inputs, workloads), inputs)
    return start_after(sandbox_plans(plan))


def test_init_containers_one_by_one_then_the_app_containers_each_after_its_sandbox(tmp_path):
    """Each init container (and the native sidecar) starts after its pod's sandbox and the one before
    it, as the kubelet runs them; the app containers each wait for the last (and the sandbox), not
    for each other: they may start together."""
    assert start_order(tmp_path, POD) == {
        "pod_sandbox": [], "migrate": ["pod_sandbox"], "seed": ["pod_sandbox", "migrate"],
        "proxy": ["pod_sandbox", "seed"], "web": ["pod_sandbox", "proxy"], "worker": ["pod_sandbox", "proxy"],
        "cron": ["pod_sandbox", "proxy"]}


def test_each_pod_waits_for_its_own_sandbox_only(tmp_path):
    """In an app of two pods, a container comes after its own pod's sandbox and containers, never the
    other pod's: a pod's app container may start while another pod's sandbox is still being made."""
    order = start_order(tmp_path, POD + OTHER)
    assert list(order.items()) == [  # (in the order actions are reported: the sandboxes first)
        ("waves_pod_sandbox", []), ("other_pod_sandbox", []),
        ("waves_migrate", ["waves_pod_sandbox"]), ("waves_seed", ["waves_pod_sandbox", "waves_migrate"]),
        ("waves_proxy", ["waves_pod_sandbox", "waves_seed"]), ("waves_web", ["waves_pod_sandbox", "waves_proxy"]),
        ("waves_worker", ["waves_pod_sandbox", "waves_proxy"]), ("waves_cron", ["waves_pod_sandbox", "waves_proxy"]),
        ("other_api", ["other_pod_sandbox"])]


def test_a_pod_without_init_containers_starts_each_container_after_its_sandbox(tmp_path):
    start, _, rest = POD.partition("  initContainers:\n")
    assert start_order(tmp_path, start + rest[rest.index("  containers:"):]) == {
        "pod_sandbox": [], "web": ["pod_sandbox"], "worker": ["pod_sandbox"], "cron": ["pod_sandbox"]}
