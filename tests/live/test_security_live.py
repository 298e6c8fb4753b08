"""Security context and limits as a process inside the container sees them (issue 13), through the
generated compose.yaml, docker.sh and ``parity up``: CapEff/CapBnd and NoNewPrivs from
/proc/self/status, the memory limit from the cgroup, the CPU quota, the pod's sysctls."""

from __future__ import annotations


import pytest

from ..conftest import write
from .helpers import compose_container, compose_up, docker_sh_up, generate, report

REPORT = ("grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status; "
          "echo Memory: $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes); "
          "echo Quota: $(cat /sys/fs/cgroup/cpu.max 2>/dev/null || "
          "echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)); "
          "echo Sysctl: $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) $(cat /proc/sys/kernel/shm_rmid_forced); "
          "echo END; exec sleep 3600")

POD = f"""
apiVersion: v1
kind: Pod
metadata: {{name: hardened}}
spec:
  terminationGracePeriodSeconds: 0
  securityContext:
    sysctls:
    - {{name: net.ipv4.ip_unprivileged_port_start, value: "80"}}
    - {{name: kernel.shm_rmid_forced, value: "1"}}
  containers:
  - name: app
    image: busybox:latest
    command: ["sh", "-c", "{REPORT}"]
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {{drop: [ALL], add: [NET_BIND_SERVICE, NET_RAW]}}
    resources: {{limits: {{memory: 64Mi, cpu: 250m}}}}
  - name: plain
    image: busybox:latest
    command: ["sh", "-c", "{REPORT}"]
  - name: wide
    image: busybox:latest
    command: ["sh", "-c", "{REPORT}"]
    resources: {{limits: {{cpu: 1999m}}}}
"""

#: CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13); Docker's (and containerd's) default 14 capabilities.
APP_CAPS = f"{(1 << 10) | (1 << 13):016x}"
DEFAULT_CAPS = f"{sum(1 << b for b in (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31)):016x}"


def check(app: dict, plain: dict, wide: dict) -> None:
    assert (app["CapEff"], app["CapBnd"], app["NoNewPrivs"]) == (APP_CAPS, APP_CAPS, "1")
    assert (plain["CapEff"], plain["CapBnd"], plain["NoNewPrivs"]) == (DEFAULT_CAPS, DEFAULT_CAPS, "0")
    assert app["Memory"] == str(64 * 2 ** 20)
    assert app["Quota"].split() == ["25000", "100000"]  # 250m: 25 ms of each 100 ms
    assert app["Sysctl"] == plain["Sysctl"] == "80 1"
    # The kubelet's quota for 1999m exactly: Compose's float32 `cpus` gave 199899 (security.py cfs_quota).
    assert wide["Quota"].split() == ["199900", "100000"]


@pytest.mark.live
def test_compose_gives_the_security_context_and_limits(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, POD)))
    with compose_up(out, summary):
        check(*(report(compose_container(docker_client, summary["project"], n)) for n in ("app", "plain", "wide")))


@pytest.mark.live
def test_docker_sh_gives_the_security_context_and_limits(docker_client, tmp_path):
    out = tmp_path / "out"
    project = generate(out, str(write(tmp_path, POD)))["project"]
    with docker_sh_up(out):
        check(*(report(docker_client.containers.get(f"{project}.{n}")) for n in ("app", "plain", "wide")))


@pytest.mark.live
def test_up_gives_the_security_context_and_limits(docker_client, tmp_path, own_project):
    src = str(write(tmp_path, POD))
    project = own_project.name
    result = own_project.run("up", src)
    assert result.returncode == 0, result.stderr.decode()
    check(*(report(docker_client.containers.get(f"{project}.{n}")) for n in ("app", "plain", "wide")))


@pytest.mark.live
def test_up_refuses_a_run_as_non_root_container_whose_image_runs_as_root(docker_client, tmp_path, own_project):
    """busybox has no USER: the kubelet takes it as uid 0 and never starts the container."""
    src = str(write(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: nonroot, uid: u-1}\nspec:\n"
                              "  securityContext: {runAsNonRoot: true}\n  containers:\n  - name: app\n"
                              "    image: busybox:latest\n    command: [sleep, '3600']\n"))
    project = own_project.name
    result = own_project.run("up", src)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        'parity: app: CreateContainerConfigError: container has runAsNonRoot and image will run as root '
        '(pod: "nonroot_default(u-1)", container: app) (the kubelet does not start this container; nothing '
        'was started)')
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={project}"}) == []


@pytest.mark.live
def test_a_whole_apps_run_as_non_root_refusal_names_the_kubernetes_container(docker_client, tmp_path, own_project):
    """In a whole app (argo-cd's install) the service is WORKLOAD_CONTAINER: the line starts with it, and
    the kubelet's text inside names the container as the kubelet does, by its Kubernetes name (it gave
    the service name: 'container: nonroot_app')."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: NAME, uid: u-1}\nspec:\n  SECURITY\n  containers:\n"
           "  - name: app\n    image: busybox:latest\n    command: [sleep, '3600']\n")
    nonroot = pod.replace("NAME", "nonroot").replace("SECURITY", "securityContext: {runAsNonRoot: true}")
    src = str(write(tmp_path, nonroot + "---\n" + pod.replace("NAME", "other").replace("SECURITY", "hostname: other")))
    result = own_project.run("up", src)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[-1] == (
        'parity: nonroot_app: CreateContainerConfigError: container has runAsNonRoot and image will run as root '
        '(pod: "nonroot_default(u-1)", container: app) (the kubelet does not start this container; nothing '
        'was started)')
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={own_project.name}"}) == []
