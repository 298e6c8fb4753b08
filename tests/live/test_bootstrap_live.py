"""parity up / down / status against the real engine (issue 5)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from parity.compare import compare_containers
from parity.docker.readback import container_layout

from ..conftest import ROOT, run_parity, unique_name
from .helpers import predicted

RICHER = ROOT / "manifests" / "richer"
# The tests' own projects (-p), this run's own (unique_name): never the default names a user's `parity up`
# of the examples gets, nor another run's.
PROJECT = unique_name("parity-test-tenant-gateway")
GW_PROJECT = unique_name("parity-test-api-gateway")


@pytest.fixture
def state(tmp_path, docker_client):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    yield env
    run_parity("down", "-p", PROJECT, env=env)
    run_parity("down", "-p", GW_PROJECT, env=env)


def up(env, *manifests, project=PROJECT):
    result = run_parity("up", *manifests, "-p", project, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def ids(client):
    return {c.name: c.id for c in client.containers.list(all=True, filters={"label": f"io.parity.project={PROJECT}"})}


def assert_layout(client, manifests):
    layout = predicted(*manifests)
    for c in layout.containers:
        ctr = client.containers.get(f"{PROJECT}.{c.name}")
        assert compare_containers(c, container_layout(ctr, c.name, [m.path for m in c.mounts], c.init)) == []


@pytest.mark.live
def test_up_gives_the_cluster_layout_and_is_idempotent(docker_client, state):
    first = up(state, str(RICHER))
    assert first["changed"] is True
    assert [(c["name"], c["state"]) for c in first["containers"]] == [
        ("check-config", "exited"), ("gateway", "running"), ("log-shipper", "running")]
    assert_layout(docker_client, [str(RICHER)])
    before = ids(docker_client)
    second = up(state, str(RICHER))
    assert second["changed"] is False and second["actions"] == []
    assert ids(docker_client) == before
    status = run_parity("status", "-p", PROJECT, "--format", "json", env=state)
    assert status.returncode == 0
    (w,) = json.loads(status.stdout)["workloads"]
    assert (w["workload"], w["prediction"]) == ("Deployment/tenant-gateway", "stored by parity up")
    assert [(c["name"], c["in_parity"]) for c in w["containers"]] == [
        ("check-config", True), ("gateway", True), ("log-shipper", True)]
    state_dir = state["PARITY_STATE_DIR"] + f"/{PROJECT}"
    assert oct(os.stat(state_dir).st_mode & 0o777) == "0o700"


@pytest.mark.live
def test_rotated_secret_reaches_the_running_app_without_a_restart(docker_client, state, tmp_path):
    up(state, str(RICHER))
    shipper = docker_client.containers.get(f"{PROJECT}.log-shipper")
    started = shipper.attrs["State"]["StartedAt"]
    rotated = tmp_path / "rotated"
    shutil.copytree(RICHER, rotated)
    text = (rotated / "tenants.yaml").read_text()
    # New password bytes, and the api-key item dropped: its top-level link must go too.
    text = text.replace("czNjcjN0LWRiLXBhc3N3b3Jk", "cm90YXRlZC1wYXNzd29yZA==")
    text = text.replace("              - {key: api-key, path: api/key, mode: 0440}\n", "")
    (rotated / "tenants.yaml").write_text(text)
    result = up(state, str(rotated))
    assert f"updated volume {PROJECT}.credentials in place" in result["actions"]
    shipper.reload()
    assert (shipper.id, shipper.attrs["State"]["StartedAt"]) == (ids(docker_client)[f"{PROJECT}.log-shipper"],
                                                                 started)
    assert shipper.exec_run(["cat", "/var/run/shipper/creds/db/password"]).output == b"rotated-password"
    assert shipper.exec_run(["ls", "-A", "/var/run/shipper/creds"]).output.split()[1:] == [
        b"..data", b".netrc", b"db"]
    assert_layout(docker_client, [str(rotated)])
    status = run_parity("status", str(RICHER), "-p", PROJECT, env=state)  # the old manifests no longer match
    assert status.returncode == 1
    assert "content      /var/run/shipper/creds/db/password" in status.stdout.decode()
    assert b"czNjcjN0" not in status.stdout and b"s3cr3t" not in status.stdout


@pytest.mark.live
def test_subpath_change_recreates_the_container(docker_client, state, tmp_path):
    up(state, str(RICHER))
    gateway_id = ids(docker_client)[f"{PROJECT}.gateway"]
    rotated = tmp_path / "rotated"
    shutil.copytree(RICHER, rotated)
    text = (rotated / "tenants.yaml").read_text().replace("not-a-real-one", "another-fake-one")
    (rotated / "tenants.yaml").write_text(text)
    up(state, str(rotated))
    gateway = docker_client.containers.get(f"{PROJECT}.gateway")
    assert gateway.id != gateway_id
    assert b"another-fake-one" in gateway.exec_run(["cat", "/root/.netrc"], user="0").output
    assert_layout(docker_client, [str(rotated)])


@pytest.mark.live
def test_down_leaves_nothing_labelled(docker_client, state):
    up(state, str(RICHER))
    result = run_parity("down", str(RICHER), "-p", PROJECT, env=state)
    assert result.returncode == 0
    assert result.stdout.decode() == ("Deployment/tenant-gateway: removed 5 container(s), 4 volume(s), 1 image(s), "
                                      "1 network(s)\n")  # with the pod's sandbox, and the project network
    label = {"label": ["io.parity.workload=Deployment/tenant-gateway", f"io.parity.project={PROJECT}"]}
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.volumes.list(filters=label) == []
    assert docker_client.images.list(filters=label) == []
    assert not os.path.exists(state["PARITY_STATE_DIR"] + f"/{PROJECT}")


@pytest.mark.live
def test_failures_are_one_line_and_leave_nothing(docker_client, state, tmp_path):
    unreachable = run_parity("up", str(RICHER), "-p", PROJECT, env={**state, "DOCKER_HOST": "unix:///nonexistent.sock"})
    assert unreachable.returncode == 2
    assert unreachable.stderr.decode() == (
        "parity: cannot reach the Docker engine at unix:///nonexistent.sock (DOCKER_HOST): no such socket; start it, "
        "or point DOCKER_HOST or `docker context use` at an engine that runs\n")

    src = tmp_path / "m"
    shutil.copytree(ROOT / "manifests" / "api-gateway", src)
    pod = src / "pod.yaml"
    pod.write_text(pod.read_text().replace("image: busybox:latest", "image: parity-no-such-image:1"))
    missing = run_parity("up", str(src), "-p", GW_PROJECT, env=state)
    assert missing.returncode == 2
    assert missing.stderr.decode().startswith(
        "parity: image parity-no-such-image:1 (run by api-gateway) is not available locally and cannot be pulled: ")
    assert missing.stderr.decode().endswith(  # how to get it (engine.unavailable_image)
        "; docker pull parity-no-such-image:1 where a registry has it, or docker load a saved copy\n")
    label = {"label": ["io.parity.workload=Pod/api-gateway", f"io.parity.project={GW_PROJECT}"]}
    assert docker_client.containers.list(all=True, filters=label) == []

    squatter = docker_client.containers.create("busybox:latest", name=f"{GW_PROJECT}.api-gateway")
    try:
        conflict = run_parity("up", str(ROOT / "manifests" / "api-gateway"), "-p", GW_PROJECT, env=state)
        assert conflict.returncode == 2
        assert conflict.stderr.decode() == (f"parity: a container named {GW_PROJECT}.api-gateway exists and "
                                            "was not created by parity for Pod/api-gateway; remove or rename it\n")
    finally:
        squatter.remove(force=True)

    blocker = docker_client.containers.run("busybox:latest", ["sh", "-c", "sleep 60"], detach=True,
                                           ports={"80/tcp": 18080})
    try:
        pod.write_text((ROOT / "manifests/api-gateway/pod.yaml").read_text().replace(
            "- containerPort: 80", "- {containerPort: 80, hostPort: 18080}"))
        port = run_parity("up", str(src), "-p", GW_PROJECT, env=state)
        assert port.returncode == 2
        assert port.stderr.decode().startswith("parity: starting pod_sandbox failed: ")  # the pod's ports are its
        assert docker_client.containers.list(all=True, filters={"label": [
            "io.parity.container=api-gateway", f"io.parity.project={GW_PROJECT}"]}) == []
    finally:
        blocker.remove(force=True)
    # Failed runs leave nothing behind: the next up starts clean and succeeds.
    pod.write_text((ROOT / "manifests/api-gateway/pod.yaml").read_text())
    assert run_parity("up", str(src), "-p", GW_PROJECT, env=state).returncode == 0


@pytest.mark.live
def test_ctrl_c_during_up_leaves_what_up_and_down_handle(docker_client, state):
    proc = subprocess.Popen([sys.executable, "-m", "parity.cli", "up", str(RICHER), "-p", PROJECT], cwd=ROOT,
                            env={**os.environ, **state}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    label = {"label": ["io.parity.workload=Deployment/tenant-gateway", f"io.parity.project={PROJECT}"]}
    while time.time() < deadline and not docker_client.volumes.list(filters=label):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode in (0, 130)
    assert up(state, str(RICHER))["containers"][1]["state"] == "running"
    assert_layout(docker_client, [str(RICHER)])
    assert run_parity("down", "--workload", "deploy/tenant-gateway", "-p", PROJECT, env=state).returncode == 0
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.volumes.list(filters=label) == []


@pytest.mark.live
def test_down_leaves_a_running_diffs_throwaway_objects(docker_client, state):
    """``parity down`` removes what was made for the workload, except the throw-away objects of a
    ``parity diff --live`` whose process still runs; a dead diff's leftovers go too."""
    import socket

    up(state, str(RICHER))
    alive = subprocess.Popen(["sleep", "60"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    made, diff_names = [], {"alive": unique_name("parity-test-diff-alive"), "dead": unique_name("parity-test-diff-dead")}
    try:
        for who, pid in (("alive", alive.pid), ("dead", dead.pid)):
            labels = {"io.parity.workload": "Deployment/tenant-gateway", "io.parity.diff-owner": f"{host}:{pid}"}
            vol = docker_client.volumes.create(diff_names[who], labels=labels)
            ctr = docker_client.containers.create("busybox:latest", ["true"], name=diff_names[who],
                                                  labels=labels)
            made += [vol, ctr]
        result = run_parity("down", "--workload", "deploy/tenant-gateway", "-p", PROJECT, env=state)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode() == ("Deployment/tenant-gateway: removed 6 container(s), 5 volume(s), "
                                          "1 image(s), 1 network(s)\n")
        left = {c.name for c in docker_client.containers.list(
            all=True, filters={"label": "io.parity.workload=Deployment/tenant-gateway"})}
        assert left == {diff_names["alive"]}
        assert {v.name for v in docker_client.volumes.list(
            filters={"label": "io.parity.workload=Deployment/tenant-gateway"})} == {diff_names["alive"]}
    finally:
        alive.kill()
        alive.wait()
        for obj in made:
            try:
                obj.remove(force=True)
            except Exception:  # noqa: BLE001 - removed by the test already
                pass


@pytest.mark.live
def test_two_projects_of_one_workload_stay_apart(docker_client, state):
    """``-p`` names the environment: two projects of the same workload run side by side, ``status -p``
    lists only its own, and ``down`` of one (by -p, by --workload, by manifests) leaves the other
    running: how the test suite leaves a user's running example alone."""
    other = unique_name("parity-test-api-gateway-other")
    article = str(ROOT / "manifests" / "api-gateway")
    try:
        up(state, article, project=GW_PROJECT)
        up(state, article, project=other)
        names = {c.name for c in docker_client.containers.list(
            filters={"label": "io.parity.workload=Pod/api-gateway"})}
        assert {f"{GW_PROJECT}.api-gateway", f"{other}.api-gateway"} <= names
        status = json.loads(run_parity("status", "-p", other, "--format", "json", env=state).stdout)
        assert [(w["workload"], w["project"]) for w in status["workloads"]] == [("Pod/api-gateway", other)]
        for how in (["-p", GW_PROJECT], ["--workload", "pod/api-gateway", "-p", GW_PROJECT],
                    [article, "-p", GW_PROJECT]):
            result = run_parity("down", *how, env=state)
            assert result.returncode == 0, result.stderr.decode()
            survivor = docker_client.containers.get(f"{other}.api-gateway")
            assert survivor.status == "running"
            up(state, article, project=GW_PROJECT) if how[0] != article else None
        assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={GW_PROJECT}"}) == []
        assert run_parity("status", "-p", other, env=state).returncode == 0
    finally:
        run_parity("down", "-p", other, env=state)


def test_a_project_name_compose_would_refuse_is_refused(tmp_path):
    result = run_parity("up", str(ROOT / "manifests" / "api-gateway"), "-p", "My_App", env={
        "PARITY_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "parity: -p/--project: invalid project name 'My_App': lowercase letters, digits, '-' and '_' only, "
        "starting with a letter or digit (as Compose's -p)\n")
    assert not (tmp_path / "state").exists()


@pytest.mark.live
def test_compose_sees_what_up_runs(docker_client, state):
    """``docker compose -p PROJECT ps`` and ``logs`` show the containers ``parity up`` made (issue 15):
    they carry Compose's project and service labels."""
    up(state, str(RICHER))
    ps = subprocess.run(["docker", "compose", "-p", PROJECT, "ps", "-a", "--format", "{{.Service}} {{.State}}"],
                        capture_output=True, text=True)
    assert ps.returncode == 0, ps.stderr
    assert sorted(ps.stdout.split("\n")[:-1]) == [
        "check-config exited", "gateway running", "log-shipper running", "parity-data created", "pod_sandbox running"]
    logs = subprocess.run(["docker", "compose", "-p", PROJECT, "logs", "--no-color", "check-config"],
                          capture_output=True, text=True)
    assert logs.returncode == 0, logs.stderr


@pytest.mark.live
def test_down_leaves_what_compose_made_from_the_generated_file(docker_client, state, tmp_path):
    """``docker compose -p OTHER up`` of parity's generated compose file makes containers, volumes and
    a data image carrying the same ``io.parity.*`` labels as ``parity up``'s (issue 12: ``down
    --workload X`` removed them). ``down`` removes only what ``parity up`` made: here nothing."""
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(RICHER), "-o", str(out), "-p", PROJECT).returncode == 0
    unrelated = unique_name("parity-test-unrelated")
    compose = ["docker", "compose", "-f", str(out / "compose.yaml"), "-p", unrelated]
    data_image = f"{PROJECT}-data"
    try:
        made = subprocess.run(compose + ["up", "-d"], capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        theirs = {"label": f"com.docker.compose.project={unrelated}"}
        before = ({c.name: c.status for c in docker_client.containers.list(all=True, filters=theirs)},
                  sorted(v.name for v in docker_client.volumes.list(filters=theirs)))
        assert len(before[0]) == 5 and len(before[1]) == 4  # 3 + data + sandbox; 4 volumes
        images = [t for i in docker_client.images.list(filters={"label": f"io.parity.project={PROJECT}"})
                  for t in i.tags if t.startswith(data_image)]
        assert len(images) == 1
        for how in (["--workload", "deploy/tenant-gateway", "-p", PROJECT], [str(RICHER), "-p", PROJECT],
                    ["-p", PROJECT]):
            result = run_parity("down", *how, env=state)
            assert result.returncode == 0, result.stderr.decode()
            subject = "project " + PROJECT if how[0] == "-p" else "Deployment/tenant-gateway"
            assert result.stdout.decode() == f"{subject}: removed 0 container(s), 0 volume(s), 0 image(s)\n"
        assert ({c.name: c.status for c in docker_client.containers.list(all=True, filters=theirs)},
                sorted(v.name for v in docker_client.volumes.list(filters=theirs))) == before
        assert docker_client.images.get(images[0])
    finally:
        subprocess.run(compose + ["down", "-v", "-t", "0"], capture_output=True)
        for image in docker_client.images.list(filters={"label": f"io.parity.project={PROJECT}"}):
            if any(t.startswith(data_image) for t in image.tags):
                docker_client.images.remove(image.id, force=True)
