"""``parity up`` / ``down`` / ``status`` against objects and runs that are not theirs (issue 18):
engine objects parity did not make under the names it wants, two runs at once, a run killed
mid-way, an engine wait that never ends, a tampered state directory. Workloads are renamed
``*-own-XXXXXXXX`` (this run's own suffix) so that nothing else sharing the engine, another run's
included, is touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, run_parity, unique_name
from .engineproxy import EngineProxy
from .test_faults_live import NOTHING, labelled, one_line, renamed

ARTICLE = ROOT / "manifests" / "api-gateway"
RICHER = ROOT / "manifests" / "richer"
SUFFIX = unique_name("-own")  # this run's own: never a user's workload's nor another run's
POD = f"Pod/api-gateway{SUFFIX}"
POD_PROJECT = f"parity-pod-api-gateway{SUFFIX}"
DEPLOY = f"Deployment/tenant-gateway{SUFFIX}"
DEPLOY_PROJECT = f"parity-deployment-tenant-gateway{SUFFIX}"
HANGING = f"hang{SUFFIX}"  # HANGING_POD's pod
AGAIN = "wait for it to end and run parity again"


@pytest.fixture
def env(tmp_path, docker_client):
    """A private state directory; afterwards every renamed workload is removed from the engine."""
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    yield env
    for ref in (f"pod/api-gateway{SUFFIX}", f"deploy/tenant-gateway{SUFFIX}", f"pod/{HANGING}"):
        run_parity("down", "--workload", ref, env=env)


def up_json(env: dict, *args: str) -> dict:
    result = run_parity("up", *args, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def up_article(tmp_path, env: dict) -> tuple[Path, Path]:
    """``up`` of the article's pod renamed ``*SUFFIX``: (its manifest, its state directory)."""
    manifests = renamed(ARTICLE, tmp_path / "article.yaml", SUFFIX)
    up_json(env, str(manifests))
    return manifests, tmp_path / "state" / POD_PROJECT


def popen_parity(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "parity.cli", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def project_volumes(client, project: str) -> set[str]:
    return {v.name for v in client.volumes.list() if v.name.startswith(project + ".")}


# -- objects parity did not make -----------------------------------------------------------------

@pytest.mark.live
@pytest.mark.parametrize("labels", [{}, {"io.parity.project": "parity-pod-other", "io.parity.workload": "Pod/other"}],
                         ids=["unlabelled", "another-workload"])
def test_a_volume_up_wants_that_parity_did_not_make_is_refused_and_left_alone(tmp_path, env, docker_client, labels):
    """Before: up used the squatter's volume as is (the app read the squatter's bytes, and the
    squatter's volume was filled with the secrets)."""
    manifests = renamed(ARTICLE, tmp_path / "article.yaml", SUFFIX)
    name = f"{POD_PROJECT}.secrets"
    squatter = docker_client.volumes.create(name, labels=labels)
    try:
        result = run_parity("up", str(manifests), env=env)
        assert one_line(result) == (
            f"parity: a volume named {name} exists and was not created by parity for {POD}; parity will not use "
            f"or remove it: remove it yourself (docker volume rm {name}) and run parity up again\n")
        assert labelled(docker_client, POD) == NOTHING
        assert not (tmp_path / "state").exists()
        assert run_parity("down", str(manifests), env=env).returncode == 0
        vol = docker_client.volumes.get(name)
        assert (vol.attrs["Labels"] or {}) == labels
        reader = docker_client.containers.run("busybox:latest", ["ls", "-A", "/v"], remove=True,
                                              mounts=[{"Target": "/v", "Source": name, "Type": "volume"}])
        assert reader == b""  # never filled with the workload's secrets
    finally:
        squatter.remove(force=True)


@pytest.mark.live
def test_an_image_with_the_data_images_tag_that_parity_did_not_build_is_refused(tmp_path, env, docker_client):
    """Before: an unlabelled image carrying the data image's tag was used as the data image."""
    manifests = renamed(ARTICLE, tmp_path / "article.yaml", SUFFIX)
    generated = run_parity("k8s-to-docker", str(manifests), "-o", str(tmp_path / "out"), "--format", "json")
    (tag,) = json.loads(generated.stdout)["images"]
    busybox = docker_client.images.get("busybox:latest")
    busybox.tag(tag)
    try:
        result = run_parity("up", str(manifests), env=env)
        assert one_line(result) == (
            f"parity: an image tagged {tag} exists and was not built by parity for {POD}; parity will not use "
            f"it as the data image: remove the tag (docker image rm {tag}) and run parity up again\n")
        assert labelled(docker_client, POD) == NOTHING
        assert not (tmp_path / "state").exists()
        assert docker_client.images.get(tag).id == busybox.id
    finally:
        docker_client.images.remove(tag)  # the tag only: busybox:latest stays


@pytest.mark.live
def test_a_container_labelled_for_another_workload_is_refused_and_left_alone(tmp_path, env, docker_client):
    """Before: a container with the right project label but another workload's was replaced."""
    manifests = renamed(ARTICLE, tmp_path / "article.yaml", SUFFIX)
    name = f"{POD_PROJECT}.api-gateway"
    squatter = docker_client.containers.create("busybox:latest", ["true"], name=name, labels={
        "io.parity.project": POD_PROJECT, "io.parity.workload": "Pod/another"})
    try:
        result = run_parity("up", str(manifests), env=env)
        assert one_line(result) == (f"parity: a container named {name} exists and was not created by parity for "
                                    f"{POD}; remove or rename it\n")
        assert labelled(docker_client, POD) == NOTHING
        assert docker_client.containers.get(name).id == squatter.id
    finally:
        squatter.remove(force=True)


# -- runs at once, killed runs, waits ------------------------------------------------------------

@pytest.mark.live
def test_a_second_up_while_one_runs_fails_cleanly_and_the_first_completes(tmp_path, env, proxy_dir, docker_client):
    """The first up is held (by the proxy) just before it creates its last container. Before: a
    second up ran alongside it and said "is up" while the first was still making its objects."""
    manifests = renamed(RICHER, tmp_path / "richer.yaml", SUFFIX)
    trigger = rb"POST /v[0-9.]+/containers/create\?name=" + DEPLOY_PROJECT.encode() + rb"\.log-shipper"
    with EngineProxy(proxy_dir / "e.sock", trigger, action="hold") as proxy:
        first = popen_parity({**env, "DOCKER_HOST": proxy.docker_host}, "up", str(manifests))
        try:
            assert proxy.triggered.wait(120)
            busy = f"parity: another parity up on {DEPLOY} is running (pid {first.pid}); {AGAIN}\n"
            assert one_line(run_parity("up", str(manifests), env=env)) == busy
            assert one_line(run_parity("down", str(manifests), env=env)) == busy
            assert one_line(run_parity("status", env=env)) == busy
        finally:
            proxy.release()
            out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err.decode()
    assert out.decode().startswith(f"{DEPLOY} started (changed: ")  # (is up: only after --wait saw it)
    left = labelled(docker_client, DEPLOY)
    assert len(left["containers"]) == 5 and len(left["volumes"]) == 4  # + the service-account volume (kubelet-model §7.5)
    # (the containers: 3 of the pod, its sandbox, the data container)
    assert project_volumes(docker_client, DEPLOY_PROJECT) == set(left["volumes"])  # none unlabelled
    status = run_parity("status", "--format", "json", env=env)
    assert status.returncode == 0, status.stderr.decode()
    (w,) = [w for w in json.loads(status.stdout)["workloads"] if w["workload"] == DEPLOY]
    assert [c["in_parity"] for c in w["containers"]] == [True, True, True]


@pytest.mark.live
def test_the_next_up_removes_what_a_killed_up_left(tmp_path, env, proxy_dir, docker_client):
    """An up updating a volume in place is SIGKILLed while its one-shot writer container runs. Before:
    the writer container stayed (until down); now the next up removes it, finishes the update and
    says so."""
    manifests = renamed(RICHER, tmp_path / "richer.yaml", SUFFIX)
    up_json(env, str(manifests))
    rotated = tmp_path / "rotated.yaml"
    rotated.write_text(manifests.read_text().replace("czNjcjN0LWRiLXBhc3N3b3Jk", "cm90YXRlZC1wYXNzd29yZA=="))
    writers = {"label": [f"io.parity.workload={DEPLOY}", "io.parity.role=writer"]}
    with EngineProxy(proxy_dir / "e.sock", rb"POST /v[0-9.]+/containers/[0-9a-f]+/wait", action="hold") as proxy:
        killed = popen_parity({**env, "DOCKER_HOST": proxy.docker_host}, "up", str(rotated))
        try:
            assert proxy.triggered.wait(120)
        finally:
            killed.kill()
            killed.communicate(timeout=60)
            proxy.release()
    assert len(docker_client.containers.list(all=True, filters=writers)) == 1  # what the killed run left
    result = up_json(env, str(rotated))
    assert docker_client.containers.list(all=True, filters=writers) == []
    assert result["actions"][0] == f"removed what a killed run left (pid {killed.pid})"
    assert f"updated volume {DEPLOY_PROJECT}.credentials in place" in result["actions"]
    shipper = docker_client.containers.get(f"{DEPLOY_PROJECT}.log-shipper")
    assert shipper.exec_run(["cat", "/var/run/shipper/creds/db/password"]).output == b"rotated-password"
    assert up_json(env, str(rotated))["actions"] == []


HANGING_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  initContainers:
    - {name: wait-forever, image: "busybox:latest", command: [sleep, "3600"]}
  containers:
    - name: app
      image: busybox:latest
      command: [sleep, "3600"]
      volumeMounts: [{name: creds, mountPath: /creds}]
  volumes:
    - {name: creds, secret: {secretName: hang-creds}}
---
apiVersion: v1
kind: Secret
metadata: {name: hang-creds}
stringData: {token: not-a-real-token}
""" % HANGING


@pytest.mark.live
def test_an_init_container_that_never_ends_times_out_and_leaves_nothing(tmp_path, env, docker_client):
    """Before: up waited for the init container forever (no timeout on any engine wait)."""
    manifest = tmp_path / "hang.yaml"
    manifest.write_text(HANGING_POD)
    result = subprocess.run([sys.executable, "-m", "parity.cli", "up", str(manifest), "--timeout", "10"], cwd=ROOT,
                            env={**os.environ, **env}, capture_output=True, timeout=240)
    assert one_line(result) == ("parity: init container wait-forever did not finish within 10 s (see: docker logs "
                                f"parity-pod-{HANGING}.wait-forever); give it longer with --timeout\n")
    assert labelled(docker_client, f"Pod/{HANGING}") == NOTHING
    assert not (tmp_path / "state").exists() or list((tmp_path / "state").iterdir()) == []


# -- a tampered state directory ------------------------------------------------------------------

@pytest.mark.live
def test_a_tampered_stored_layout_is_one_line_for_status(tmp_path, env, docker_client):
    """Before: a layout.json of the wrong shape gave a traceback."""
    _, state_dir = up_article(tmp_path, env)
    layout = state_dir / "layout.json"
    layout.write_text('{"format": "parity.layout/v1", "containers": 5}')
    assert one_line(run_parity("status", env=env)) == (
        f"parity: {layout}: is not the layout parity up stored (it was changed outside parity); run parity up "
        "again, or parity status with the manifests\n")
    layout.write_text("[1, 2")
    assert one_line(run_parity("status", env=env)) == (
        f"parity: {layout}: is not valid JSON (it was changed outside parity); remove the state directory "
        "(parity down) and run parity up again\n")


@pytest.mark.live
def test_a_symlink_planted_for_the_stored_layout_is_not_followed(tmp_path, env, docker_client):
    """Before: status read whatever a symlink in place of layout.json pointed to (/dev/zero: forever)."""
    _, state_dir = up_article(tmp_path, env)
    layout = state_dir / "layout.json"
    outside = tmp_path / "outside.json"
    shutil.move(layout, outside)
    layout.symlink_to(outside)
    assert one_line(run_parity("status", env=env)) == (
        f"parity: {layout}: is a symlink; refusing to follow it (parity never writes such a file there); remove "
        "it, or the state directory, and run parity again\n")


@pytest.mark.live
def test_a_tampered_state_file_is_rewritten_not_a_traceback(tmp_path, env, docker_client):
    """Before: a state.json holding a JSON list gave a traceback."""
    manifests, state_dir = up_article(tmp_path, env)
    state = state_dir / "state.json"
    state.write_text("[1]")
    assert up_json(env, str(manifests))["actions"] == []
    assert isinstance(json.loads(state.read_text())["digest"], str)


@pytest.mark.live
def test_a_subpath_file_swapped_for_a_symlink_is_never_bound(tmp_path, env, docker_client):
    """A subPath file of the state directory replaced by a symlink to a host file. Before: up bound the
    host file into the recreated container; now it writes the state directory again and binds the
    predicted file."""
    manifests = renamed(RICHER, tmp_path / "richer.yaml", SUFFIX)
    up_json(env, str(manifests))
    (bound,) = (tmp_path / "state" / DEPLOY_PROJECT / "subpath" / "gateway").iterdir()
    outside = tmp_path / "host-file"
    outside.write_text("host bytes\n")
    bound.unlink()
    bound.symlink_to(outside)
    docker_client.containers.get(f"{DEPLOY_PROJECT}.gateway").remove(force=True)
    up_json(env, str(manifests))
    gateway = docker_client.containers.get(f"{DEPLOY_PROJECT}.gateway")
    netrc = gateway.exec_run(["cat", "/root/.netrc"], user="0").output
    assert b"not-a-real-one" in netrc and b"host bytes" not in netrc
    assert not bound.is_symlink()
    assert outside.read_text() == "host bytes\n"


@pytest.mark.live
def test_a_symlink_planted_as_the_lock_file_is_one_line(tmp_path, env, docker_client):
    manifests = renamed(ARTICLE, tmp_path / "article.yaml", SUFFIX)
    (tmp_path / "state").mkdir()
    lock = tmp_path / "state" / f"{POD_PROJECT}.lock"
    lock.symlink_to(tmp_path / "elsewhere")
    assert one_line(run_parity("up", str(manifests), env=env)) == (
        f"parity: {lock}: is a symbolic link, which parity never makes; remove it\n")
    assert not (tmp_path / "elsewhere").exists()
    assert labelled(docker_client, POD) == NOTHING


@pytest.mark.live
def test_down_removes_a_symlink_planted_as_the_state_directory_not_its_target(tmp_path, env, docker_client):
    manifests, state_dir = up_article(tmp_path, env)
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep").write_text("mine\n")
    shutil.rmtree(state_dir)
    state_dir.symlink_to(target)
    result = run_parity("down", str(manifests), env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert not os.path.lexists(state_dir)
    assert (target / "keep").read_text() == "mine\n"
    assert labelled(docker_client, POD) == NOTHING
