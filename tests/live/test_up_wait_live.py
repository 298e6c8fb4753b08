"""``parity up --wait`` and ``parity status`` on a real engine (issue 13: lifecycle): exit 1 and one line
naming each container that crash-loops, exited or is unhealthy, with its exit code and how to see its
logs (never their contents); exit 0 when every container runs (healthy where it has a probe) and a
Job's has exited 0. Without --wait, ``up`` no longer says "is up"."""

from __future__ import annotations

import json
from textwrap import indent

import pytest

from ..conftest import run_parity, unique_name, write
from .conftest import OwnProject
from .helpers import WEB_CONTAINER

SECRET = "s3cr3t-value-in-the-logs"

CRASH = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: crash}}
spec:
  selector: {{matchLabels: {{app: crash}}}}
  template:
    metadata: {{labels: {{app: crash}}}}
    spec:
      terminationGracePeriodSeconds: 0
      automountServiceAccountToken: false
      containers:
      - name: app
        image: busybox:latest
        command: [sh, -c, "echo {SECRET}; exit 3"]
"""

ONCE = """
apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - {name: app, image: busybox:latest, command: [sh, -c, "exit 3"]}
"""

SICK = """
apiVersion: v1
kind: Pod
metadata: {name: sick}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: [sleep, "3600"]
    livenessProbe: {exec: {command: [test, -f, /nowhere]}, periodSeconds: 1, failureThreshold: 2}
"""

HEALTHY = """
apiVersion: v1
kind: Pod
metadata: {name: fine}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
""" + indent(WEB_CONTAINER, "  ") + """\
  - name: plain
    image: busybox:latest
    command: [sleep, "3600"]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      automountServiceAccountToken: false
      containers:
      - {name: run, image: busybox:latest, command: [sh, -c, "sleep 1; exit 0"]}
"""


def _up_and_status(tmp_path, text: str, own: OwnProject, *extra: str):
    """``up --wait`` of ``text`` in the test's own project, then ``status`` in text and JSON:
    (the manifest's path, up, status, status --format json)."""
    src = str(write(tmp_path, text))
    return src, own.run("up", src, "--wait", *extra), own.run("status"), own.run("status", "--format", "json")


@pytest.mark.live
def test_up_wait_names_a_crash_looping_container_with_its_exit_code_and_status_exits_1(docker_client, tmp_path,
                                                                                       own_project):
    project = own_project.name
    # --wait-timeout 30: the crash loop is named within 30 s (else the line would say "not up within 30 s").
    src, up, status, status_json = _up_and_status(tmp_path, CRASH, own_project, "--wait-timeout", "30")
    assert up.returncode == 1, up.stderr.decode()
    assert up.stderr.decode().splitlines()[-1] == (
        f"parity: app: crash-loops: exits with code 3 and Docker restarts it (see: docker logs {project}.app)")
    assert up.stdout.decode().startswith("Deployment/crash is not up (changed: ")
    assert status.returncode == 1
    assert status.stdout.decode().splitlines()[-2:] == [  # (after the pod sandbox line)
        "  app                  restarting in parity",
        f"      crash-loops: exits with code 3 and Docker restarts it (see: docker logs {project}.app)"]
    (ctr,) = json.loads(status_json.stdout)["workloads"][0]["containers"]
    assert (ctr["state"], ctr["running"], ctr["problem"]) == (
        "restarting", False, "crash-loops: exits with code 3 and Docker restarts it")
    for out in (up, status, status_json):  # the logs are never read, let alone printed
        assert SECRET.encode() not in out.stdout + out.stderr
    # Without --wait, up does not claim the app is up.
    again = own_project.run("up", src)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout.decode().splitlines()[0] == (
        "Deployment/crash started (nothing changed); not waited for: parity up --wait waits until every "
        "container runs and is healthy")


@pytest.mark.live
def test_up_wait_names_a_container_that_exited(docker_client, tmp_path, own_project):
    project = own_project.name
    _, up, status, _ = _up_and_status(tmp_path, ONCE, own_project)
    assert up.returncode == 1
    assert up.stderr.decode().splitlines()[-1] == (
        f"parity: app: exited with code 3 (see: docker logs {project}.app)")
    assert status.returncode == 1
    assert status.stdout.decode().splitlines()[-1] == (
        f"      exited with code 3 (see: docker logs {project}.app)")


@pytest.mark.live
def test_up_wait_names_an_unhealthy_container_and_status_exits_1(docker_client, tmp_path, own_project):
    project = own_project.name
    _, up, status, status_json = _up_and_status(tmp_path, SICK, own_project)
    assert up.returncode == 1
    assert up.stderr.decode().splitlines()[-1] == (
        f"parity: app: unhealthy: its health check failed 2 times in a row (see: docker logs {project}.app)")
    assert status.returncode == 1
    assert status.stdout.decode().splitlines()[-2:] == [  # (after the pod sandbox line)
        "  app                  running (unhealthy) in parity",
        f"      unhealthy: its health check failed 2 times in a row (see: docker logs {project}.app)"]
    (ctr,) = json.loads(status_json.stdout)["workloads"][0]["containers"]
    assert (ctr["state"], ctr["health"], ctr["running"]) == ("running", "unhealthy", False)
    assert docker_client.containers.get(f"{project}.app").attrs["State"]["Health"]["Status"] == "unhealthy"


@pytest.mark.live
def test_up_wait_exits_0_once_every_container_is_up_and_a_jobs_has_exited_0(docker_client, tmp_path, own_project):
    project = own_project.name
    _, up, status, status_json = _up_and_status(tmp_path, HEALTHY, own_project)
    assert up.returncode == 0, up.stderr.decode()
    assert up.stdout.decode().startswith("2 workloads are up (changed: ")
    assert status.returncode == 0, status.stdout.decode()
    doc = json.loads(status_json.stdout)
    assert (doc["ok"], doc["running"]) == (True, True)
    states = {c["name"]: (c["state"], c["health"], c["running"]) for w in doc["workloads"]
              for c in w["containers"]}
    assert states == {"web": ("running", "healthy", True), "plain": ("running", None, True),
                      "run": ("exited", None, True)}
    assert docker_client.containers.get(f"{project}.migrate_run").attrs["State"]["ExitCode"] == 0


SLOW = """
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: [sleep, "3600"]
    readinessProbe: {exec: {command: [test, -f, /nowhere]}, periodSeconds: 60}
"""


@pytest.mark.live
def test_up_wait_and_status_name_a_pod_sandbox_that_exited(docker_client, tmp_path):
    """The pod's sandbox holds its network namespace: one that exits while ``up --wait`` waits (the app's
    first health check is 60 s away) makes the pod not up, and ``up`` names the sandbox, not a
    container of the pod's (it waited for the app only, until its timeout); ``status`` exits 1 with
    the line under the sandbox's."""
    import os
    import subprocess
    import sys
    import time

    from ..conftest import ROOT

    project = unique_name("parity-test-slow")
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    src = str(write(tmp_path, SLOW))
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    up = subprocess.Popen([sys.executable, "-m", "parity.cli", "up", src, "-p", project, "--wait",
                           "--wait-timeout", "120"], cwd=ROOT, env=full_env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # a bound, not a measure: the app starts within seconds
        while time.monotonic() < deadline:
            found = docker_client.containers.list(filters={"name": f"{project}.app", "status": "running"})
            if found:
                break
            time.sleep(0.2)
        assert found, "the app never ran"
        docker_client.containers.get(f"{project}.pod_sandbox").stop(timeout=5)
        out, err = up.communicate(timeout=120)
        assert up.returncode == 1, err.decode()
        assert err.decode().splitlines()[-1] == (
            f"parity: pod_sandbox (the pod's sandbox): exited with code 0: the pod's containers lost its network "
            f"namespace (see: docker logs {project}.pod_sandbox)")
        assert out.decode().startswith("Pod/slow is not up (changed: ")
        status = run_parity("status", "-p", project, env=env)
        assert status.returncode == 1
        assert status.stdout.decode().splitlines()[1:4] == [
            "  (pod sandbox)        exited     DNS names slow",
            f"      exited with code 0: the pod's containers lost its network namespace (see: docker logs "
            f"{project}.pod_sandbox)",
            "  app                  running (starting) in parity"]
        doc = json.loads(run_parity("status", "-p", project, "--format", "json", env=env).stdout)
        sandbox = doc["workloads"][0]["sandbox"]
        assert (doc["running"], sandbox["state"], sandbox["running"], sandbox["problem"]) == (
            False, "exited", False, "exited with code 0")
    finally:
        if up.poll() is None:
            up.kill()
            up.communicate()
        run_parity("down", src, "-p", project, env=env)


TCP_POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: [nc, -ll, -p, "9000", -e, "true"]
    readinessProbe: {{tcpSocket: {{port: {port}}}, periodSeconds: 1, failureThreshold: 2}}
"""


@pytest.mark.live
def test_up_wait_takes_a_tcp_probe_to_healthy_and_names_a_closed_port_unhealthy(docker_client, tmp_path,
                                                                                   own_project):
    """A tcpSocket probe through busybox:latest's nc (no -z): on the port the app listens on, ``up --wait``
    exits 0 with the container healthy; on a port nobody listens on, exit 1 naming it unhealthy."""
    project = own_project.name
    (tmp_path / "open").mkdir()
    _, up, _, status_json = _up_and_status(tmp_path / "open", TCP_POD.format(name="open", port=9000), own_project)
    try:
        assert up.returncode == 0, up.stderr.decode()
        assert up.stdout.decode().startswith("Pod/open is up (changed: ")
        (ctr,) = json.loads(status_json.stdout)["workloads"][0]["containers"]
        assert (ctr["state"], ctr["health"], ctr["running"]) == ("running", "healthy", True)
    finally:
        own_project.run("down")
    (tmp_path / "closed").mkdir()
    _, up, status, _ = _up_and_status(tmp_path / "closed", TCP_POD.format(name="closed", port=9001), own_project)
    assert up.returncode == 1
    assert up.stderr.decode().splitlines()[-1] == (
        f"parity: app: unhealthy: its health check failed 2 times in a row (see: docker logs {project}.app)")
    assert status.returncode == 1


READY_IN_5 = """
apiVersion: v1
kind: Pod
metadata: {name: ready5}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: [sleep, "3600"]
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 5}
"""


@pytest.mark.live
def test_up_wait_looks_at_the_containers_when_the_engine_reports_a_change_not_every_half_second(
        docker_client, tmp_path, own_project, proxy_dir):
    """The app's first health check passes 5 s after its start. ``up --wait`` inspected every container every
    0.5 s meanwhile (at least 9 times each); now it inspects them when the engine's events say one of them
    changed (``docker/events.py``, as ``diff --live``'s start does): at the start, at the events the engine
    replays from the second before, when the sandbox has run for 2 s (no health check: it must be seen
    running that long), at the app's health_status event: at most 4 times. Exit 0, the same output."""
    from pathlib import Path

    from .engineproxy import EngineProxy

    src = str(write(tmp_path, READY_IN_5))
    with EngineProxy(Path(proxy_dir) / "e.sock", rb"(?!)", watch_only=True) as proxy:
        up = run_parity("up", src, "-p", own_project.name, "--wait",
                        env={**own_project.env, "DOCKER_HOST": proxy.docker_host})
    assert up.returncode == 0, up.stderr.decode()
    assert up.stdout.decode().startswith("Pod/ready5 is up (changed: ")
    inspected = [line for line in proxy.seen
                 if line.startswith(b"GET /v") and f"/containers/{own_project.name}.app/json".encode() in line]
    assert 2 <= len(inspected) <= 4, inspected
    assert any(b"/events?" in line for line in proxy.seen)


PLAIN = """
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - {name: app, image: busybox:latest, command: [sleep, "3600"]}
"""


@pytest.mark.live
def test_up_wait_takes_a_container_that_has_run_2_s_already_for_up_at_the_first_look(
        docker_client, tmp_path, own_project, proxy_dir):
    """A container without a health check counts as up once it has run 2 s (a process that exits at once
    is caught). The 2 s were counted from ``--wait``'s first look, so every ``up --wait`` took 2 s at
    least, even of containers that had run for long (every pod's sandbox: started before its apps):
    it looked, waited 2 s, looked again. They are counted from the container's start, by the engine's
    clock: a second ``up --wait`` of the same running pod looks at each container once, and is done."""
    from pathlib import Path

    from .engineproxy import EngineProxy

    src = str(write(tmp_path, PLAIN))
    first = own_project.run("up", src, "--wait")
    assert first.returncode == 0, first.stderr.decode()
    with EngineProxy(Path(proxy_dir) / "e.sock", rb"(?!)", watch_only=True) as proxy:
        again = run_parity("up", src, "-p", own_project.name, "--wait",
                           env={**own_project.env, "DOCKER_HOST": proxy.docker_host})
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout.decode().startswith("Pod/plain is up (nothing changed")
    inspected = [line.split(b" ")[1].split(b"/")[3] for line in proxy.seen
                 if line.startswith(b"GET /v") and line.split(b"?")[0].endswith(b"/json HTTP/1.1\r")
                 and b"/containers/" in line and b"/containers/json" not in line]
    assert sorted(inspected) == [f"{own_project.name}.app".encode(), f"{own_project.name}.pod_sandbox".encode()]
