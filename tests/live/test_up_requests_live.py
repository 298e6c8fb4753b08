"""``parity up`` of an app asks the engine about its objects in lists, not one by one (issue 17): a
warm run (nothing changed) makes the same requests for an app of 2 workloads as for one of 6, and
none of them names a single container or volume. Requests are seen by a proxy in front of the real
socket (tests/live/engineproxy.py) that lets everything through."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from ..conftest import run_parity, unique_name
from .engineproxy import EngineProxy

PROJECT = unique_name("parity-test-requests")  # this run's own: never a user's or another run's
NEVER = rb"^$(?!x)x"  # a trigger no request line matches: the proxy only watches


def write_app(path: Path, workloads: int) -> Path:
    """``workloads`` Deployments, each mounting its own Secret."""
    docs = []
    for i in range(workloads):
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"req-secret-{i}"},
                     "stringData": {"password": f"value-{i}"}})
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"req-{i}"}, "spec": {
            "selector": {"matchLabels": {"app": f"req-{i}"}}, "template": {
                "metadata": {"labels": {"app": f"req-{i}"}},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "app", "image": "busybox:latest", "command": ["sleep", "3600"],
                    "volumeMounts": [{"name": "secret", "mountPath": "/etc/secret", "readOnly": True}]}],
                    "volumes": [{"name": "secret", "secret": {"secretName": f"req-secret-{i}"}}]}}}})
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


@pytest.fixture
def env(tmp_path, docker_client, proxy_dir):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state"), "PROXY_DIR": str(proxy_dir)}
    yield env
    run_parity("down", "-p", PROJECT, env=env)


def request_kind(line: bytes) -> str:
    """A request line as ``METHOD PATH``, ``?name`` or ``?label`` after a list filtered by names or
    labels: API version and the rest of the query cut, the data image's digest and the project named."""
    method, target = line.decode().split(" ")[:2]
    path, _, query = target.partition("?")
    path = re.sub(r"-data:[0-9a-f]+/", "-data:DIGEST/", re.sub(r"^/v[0-9.]+/", "/", path)).replace(PROJECT, "PROJECT")
    by = next((f"?{key}" for key in ("name", "label") if f"%22{key}%22" in query), "")
    return f"{method} {path}{by}"


def warm_requests(env: dict, app: Path) -> list[str]:
    """The requests (``request_kind``) of a second ``up`` of ``app`` (the first made everything)."""
    first = run_parity("up", str(app), "-p", PROJECT, env=env)
    assert first.returncode == 0, first.stderr.decode()
    with EngineProxy(Path(env["PROXY_DIR"]) / "e.sock", NEVER, watch_only=True) as proxy:
        second = run_parity("up", str(app), "-p", PROJECT, env={**env, "DOCKER_HOST": proxy.docker_host})
    assert second.returncode == 0, second.stderr.decode()
    assert "(nothing changed)" in second.stdout.decode()
    return [request_kind(line) for line in proxy.seen]


def test_a_warm_up_makes_the_same_requests_for_2_workloads_as_for_6(tmp_path, env):
    small = warm_requests(env, write_app(tmp_path / "small.yaml", 2))
    run_parity("down", "-p", PROJECT, env=env)
    large = warm_requests(env, write_app(tmp_path / "large.yaml", 6))
    assert sorted(small) == sorted(large)
    # Nothing asked about one container or volume by name: lists (and the data and app images).
    assert [r for r in large if r.startswith("GET /containers/") and not r.startswith("GET /containers/json?")] == []
    assert [r for r in large if r.startswith("GET /volumes/")] == []
    assert all(r.startswith("GET ") for r in large), large


#: A warm ``up``'s requests: the engine's version (the client is made with it: no ping after), then
#: the sweep's four lists with the name checks' lists and the data image's tag, then, under the
#: lock, the app image, the containers, the data image, the data volumes and the networks again.
SWEEP = ["GET /containers/json?label", "GET /volumes?label", "GET /networks?label", "GET /images/json?label"]
NAME_CHECKS = ["GET /containers/json?name", "GET /networks?name", "GET /volumes?name",
               "GET /images/PROJECT-data:DIGEST/json"]
UNDER_LOCK = ["GET /images/busybox:latest/json", "GET /containers/json?name", "GET /images/PROJECT-data:DIGEST/json",
              "GET /volumes?label", "GET /networks?name"]


def test_a_warm_up_asks_the_engine_its_version_once_and_no_ping(tmp_path, env):
    # connect() pinged the engine after the SDK had asked its version (one round trip more, each
    # command that talks to an engine).
    seen = warm_requests(env, write_app(tmp_path / "app.yaml", 2))
    assert sorted(seen) == sorted(["GET /version"] + SWEEP + NAME_CHECKS + UNDER_LOCK)


def requests_while_held(env: dict, app: Path, trigger: bytes, expected: Counter) -> Counter:
    """A warm ``up`` of ``app`` whose first request matching ``trigger`` is held: every request
    (``request_kind``) made before it is released, once they include ``expected`` (or after 60 s:
    what would come after the held one never comes), and then a moment more; the run then completes.
    (Requests made at once reach the engine in any order: the held one need not be the first.)"""
    first = run_parity("up", str(app), "-p", PROJECT, env=env)
    assert first.returncode == 0, first.stderr.decode()
    with EngineProxy(Path(env["PROXY_DIR"]) / "e.sock", trigger, action="hold") as proxy:
        full_env = {**os.environ, **env, "DOCKER_HOST": proxy.docker_host,
                    "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.Popen([sys.executable, "-m", "parity.cli", "up", str(app), "-p", PROJECT], env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert proxy.triggered.wait(60)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if Counter(request_kind(line) for line in proxy.seen) >= expected:
                    time.sleep(0.5)  # (anything more would come now)
                    break
                time.sleep(0.05)
            seen = Counter(request_kind(line) for line in proxy.seen)
        finally:
            proxy.release()
            out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert "(nothing changed)" in out.decode()
    return seen


def test_a_warm_up_asks_the_sweeps_and_the_name_checks_lists_at_once(tmp_path, env):
    # They went one after another: 8 round trips where one does.
    trigger = rb"GET /v[0-9.]+/containers/json\?.*%22name%22"  # the name checks' container list
    seen = requests_while_held(env, write_app(tmp_path / "app.yaml", 2), trigger,
                               Counter(["GET /version"] + NAME_CHECKS))
    assert seen - Counter(SWEEP) == Counter(["GET /version"] + NAME_CHECKS), seen


def test_a_warm_up_asks_what_it_reconciles_from_at_once_under_the_lock(tmp_path, env):
    # The app images, the containers, the data image, the volumes and the networks: one after another.
    trigger = rb"GET /v[0-9.]+/images/busybox:latest/json"
    before = Counter(["GET /version"] + SWEEP + NAME_CHECKS)
    seen = requests_while_held(env, write_app(tmp_path / "app.yaml", 2), trigger, before + Counter(UNDER_LOCK))
    assert seen == before + Counter(UNDER_LOCK), seen


def test_an_in_place_update_makes_its_writer_and_data_container_without_inspecting_them(tmp_path, env):
    # The SDK's containers.create inspects what it made: the writer and the new data container were
    # each a round trip more (a rotated Secret's run made 23 requests for the 12-workload app, now 20).
    app = write_app(tmp_path / "app.yaml", 2)
    first = run_parity("up", str(app), "-p", PROJECT, env=env)
    assert first.returncode == 0, first.stderr.decode()
    rotated = tmp_path / "rotated.yaml"
    rotated.write_text(app.read_text().replace("value-0", "rotated-0"))
    with EngineProxy(Path(env["PROXY_DIR"]) / "e.sock", NEVER, watch_only=True) as proxy:
        second = run_parity("up", str(rotated), "-p", PROJECT, "--format", "json",
                            env={**env, "DOCKER_HOST": proxy.docker_host})
    assert second.returncode == 0, second.stderr.decode()
    built, *actions = json.loads(second.stdout)["actions"]
    assert built.startswith("built image ")
    assert actions == [f"updated volume {PROJECT}.req-0_secret in place", "created data container"]
    seen = [request_kind(line) for line in proxy.seen]
    assert [r for r in seen if re.fullmatch(r"GET /containers/[0-9a-f]+/json", r)] == []
    assert Counter(r.split(" ")[0] for r in seen if "/containers/" in r and r.split(" ")[0] != "GET") == Counter(
        {"POST": 4, "DELETE": 2})  # the writer (create, start, wait, remove), the data container (remove, create)


def test_a_dead_diffs_image_another_sweep_removes_first_does_not_fail_the_command(tmp_path, env, docker_client):
    # The sweep (of dead live diffs' leftovers) that up, down and diff --live begin with lists, then
    # removes what a dead diff left. Two commands sweeping at once both list the same leftover; the
    # one whose remove comes second gets "no such image", and that must not fail its command. (Until
    # 0b04b19 the race was the sweep's per-image inspect; this test held that inspect, which the sweep
    # no longer makes, so it had stopped testing anything: now it holds the remove, and checks it did.)
    import io
    import socket

    from parity.docker.labels import LABEL_DIFF_OWNER

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process is gone: its diff is dead, its leftovers are swept
    owner = f"{socket.gethostname()}:{gone.pid}"
    image, _ = docker_client.images.build(fileobj=io.BytesIO(
        f"FROM busybox:latest\nLABEL {LABEL_DIFF_OWNER}={owner} test={PROJECT}-sweep-race\n".encode()), rm=True)
    try:
        trigger = rb"DELETE /v[0-9.]+/images/" + image.id.encode()
        with EngineProxy(Path(env["PROXY_DIR"]) / "e.sock", trigger, action="hold") as proxy:
            full_env = {**os.environ, **env, "DOCKER_HOST": proxy.docker_host,
                        "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
            proc = subprocess.Popen([sys.executable, "-m", "parity.cli", "down", "-p", PROJECT], env=full_env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert proxy.triggered.wait(120), "the sweep never removed the dead diff's image"
            docker_client.images.remove(image.id, force=True)  # the other command's sweep, first
            proxy.release()
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert b"no such image" not in err.lower() and b"Traceback" not in err
    finally:
        try:
            docker_client.images.remove(image.id, force=True)
        except Exception:  # noqa: BLE001 - removed by the test already
            pass


def test_status_of_a_project_inspects_each_of_its_containers_once_and_no_other(tmp_path, env, docker_client):
    # status listed every project's containers and sandboxes, inspected each one (others' too), and
    # inspected each of its own again before reading its mounts: 48 inspects for argo-cd's 24.
    other = f"{PROJECT}-other"
    try:
        for project, app in ((PROJECT, write_app(tmp_path / "app.yaml", 2)),
                             (other, write_app(tmp_path / "other.yaml", 1))):
            up = run_parity("up", str(app), "-p", project, env=env)
            assert up.returncode == 0, up.stderr.decode()
        with EngineProxy(Path(env["PROXY_DIR"]) / "e.sock", NEVER, watch_only=True) as proxy:
            status = run_parity("status", "-p", PROJECT, env={**env, "DOCKER_HOST": proxy.docker_host})
        assert status.returncode == 0, status.stdout.decode() + status.stderr.decode()
        inspected = [re.match(r"GET /v[0-9.]+/containers/([0-9a-f]+)/json", line.decode()) for line in proxy.seen]
        from parity.docker.labels import LABEL_PROJECT, LABEL_WORKLOAD

        own = {c.id for c in docker_client.containers.list(all=True, filters={
            "label": [f"{LABEL_PROJECT}={PROJECT}", LABEL_WORKLOAD]})}
        assert len(own) == 4  # two workloads: each an app container and a pod sandbox (not the data container)
        assert sorted(m.group(1) for m in inspected if m) == sorted(own)
    finally:
        run_parity("down", "-p", other, env=env)


#: A pod that writes BIG_MIB MiB into its emptyDir, then says so (/data/done).
BIG_MIB = 64
WRITER = f"""
apiVersion: v1
kind: Secret
metadata: {{name: writer-secret}}
stringData: {{password: not-a-real-one}}
---
apiVersion: v1
kind: Pod
metadata: {{name: writer}}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: [sh, -c, "dd if=/dev/zero of=/data/big bs=1M count={BIG_MIB} 2>/dev/null && touch /data/done;
      exec sleep 3600"]
    volumeMounts:
    - {{name: data, mountPath: /data}}
    - {{name: secret, mountPath: /etc/secret, readOnly: true}}
  volumes:
  - {{name: data, emptyDir: {{}}}}
  - {{name: secret, secret: {{secretName: writer-secret}}}}
"""


def test_status_reads_a_writable_volumes_directory_not_what_the_pod_wrote_there(tmp_path, env, own_project,
                                                                              docker_client):
    # status archived each writable volume whole (every byte the pod wrote: argo-cd's binaries in an
    # emptyDir), then compared only the directory itself (compare._without_pod_writes).
    app = tmp_path / "writer.yaml"
    app.write_text(WRITER)
    up = run_parity("up", str(app), "-p", own_project.name, env=env)
    assert up.returncode == 0, up.stderr.decode()
    app_ctr = docker_client.containers.get(f"{own_project.name}.app")
    assert app_ctr.exec_run(["sh", "-c", "until [ -e /data/done ]; do sleep 0.1; done; stat -c %s /data/big"]
                            ).output == f"{BIG_MIB << 20}\n".encode()
    with EngineProxy(Path(env["PROXY_DIR"]) / "e.sock", NEVER, watch_only=True) as proxy:
        status = run_parity("status", "-p", own_project.name, "--format", "json",
                            env={**env, "DOCKER_HOST": proxy.docker_host})
    assert status.returncode == 0, status.stdout.decode() + status.stderr.decode()
    (workload,) = json.loads(status.stdout)["workloads"]
    assert [(c["name"], c["in_parity"], c["differences"]) for c in workload["containers"]] == [("app", True, [])]
    # Each path is still read (the emptyDir's own directory is compared: type, mode, owner) ...
    archives = sorted(re.sub(r"^GET /v[0-9.]+/containers/[0-9a-f]+/", "", line.decode().split(" HTTP")[0])
                      for line in proxy.seen if b"/archive?" in line)
    assert archives == ["archive?path=%2Fdata", "archive?path=%2Fetc%2Fsecret"]
    # ... but not the 64 MiB below it (before: all of it, 67 MB and more through the proxy).
    assert proxy.answered < 16 << 20, proxy.answered
