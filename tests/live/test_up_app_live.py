"""``parity up`` / ``status`` / ``down`` of a whole app (issue 12): every workload of the input as one
environment, the namespace part of each workload's identity."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ..conftest import ROOT, run_parity, unique_name
from .engineproxy import EngineProxy

APP = str(ROOT / "tests" / "fixtures" / "live" / "two-teams-app.yaml")
PROJECT = unique_name("parity-test-app")  # this run's own: never a user's or another run's
SERVICES = ["team-a_api_api", "team-b_api_api", "team-a_worker_wait", "team-a_worker_worker"]


@pytest.fixture
def state(tmp_path, docker_client):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    yield env
    run_parity("down", "-p", PROJECT, env=env)


def up(env):
    result = run_parity("up", APP, "-p", PROJECT, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def token(client, service: str) -> str:
    code, out = client.containers.get(f"{PROJECT}.{service}").exec_run(["cat", "/etc/creds/token"])
    assert code == 0, out
    return out.decode()


def status(env, *args) -> tuple[int, dict]:
    result = run_parity("status", "-p", PROJECT, "--format", "json", *args, env=env)
    return result.returncode, json.loads(result.stdout)


@pytest.mark.live
def test_one_up_runs_every_workload_of_the_input_as_one_environment(docker_client, state):
    """Three workloads, two of them Deployment/api in different namespaces: one project, each api
    sees its own namespace's Secret, status lists each workload by namespace, all in parity."""
    result = up(state)
    assert result["workload"] == "3 workloads" and result["project"] == PROJECT
    assert [c["name"] for c in result["containers"]] == SERVICES
    assert [c["state"] for c in result["containers"]] == ["running", "running", "exited", "running"]
    assert token(docker_client, "team-a_api_api") == "team-a-token"
    assert token(docker_client, "team-b_api_api") == "team-b-token"
    assert token(docker_client, "team-a_worker_worker") == "team-a-token"
    code, report = status(state)
    assert code == 0
    assert [(w["namespace"], w["workload"], w["prediction"], [c["in_parity"] for c in w["containers"]])
            for w in report["workloads"]] == [
        ("team-a", "Deployment/api", "stored by parity up", [True]),
        ("team-a", "Deployment/worker", "stored by parity up", [True, True]),
        ("team-b", "Deployment/api", "stored by parity up", [True])]
    assert up(state)["actions"] == []  # idempotent: nothing changed, nothing done


@pytest.mark.live
def test_down_of_one_namespaces_workload_leaves_the_same_named_other(docker_client, state, tmp_path):
    """``down --workload team-b/deploy/api`` removes team-b's api and its volumes (its Secret's and its
    service-account's: issue 12, they stayed, unlabelled by workload): team-a's api (same kind and
    name), its volumes and the worker keep running, the state directory stays for them, and so does
    what ``docker compose -p`` made of the generated file of the same app (the same ``io.parity.*``
    labels, not parity up's). The next up brings team-b's back, its volumes filled anew, and changes
    nothing else; ``down -p`` then removes everything."""
    out = tmp_path / "out"
    other = unique_name("parity-test-app-compose")  # (its own data image too: the same tag would be parity up's to use)
    assert run_parity("k8s-to-docker", APP, "-o", str(out), "-p", other).returncode == 0
    compose = ["docker", "compose", "-f", str(out / "compose.yaml"), "-p", other]
    theirs = {"label": f"com.docker.compose.project={other}"}
    try:
        made = subprocess.run(compose + ["up", "-d"], capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        compose_before = objects(docker_client, theirs)
        up(state)
        label = {"label": f"io.parity.project={PROJECT}"}
        before = objects(docker_client, label)
        result = run_parity("down", "--workload", "team-b/deploy/api", "-p", PROJECT, env=state)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode() == "Deployment/api: removed 2 container(s), 2 volume(s), 0 image(s)\n"
        team_b = [f"{PROJECT}.team-b_api_api", f"{PROJECT}.team-b_api_pod_sandbox"]  # the pod and its sandbox
        team_b_volumes = sorted(v for v in before[1] if v.startswith(f"{PROJECT}.team-b_api_"))
        assert [v.split("_api_")[1].split("-")[0] for v in team_b_volumes] == ["creds", "kube"]
        after = objects(docker_client, label)
        # (the data container is made anew without team-b's volumes: the engine removes no mounted volume)
        assert ({k: v for k, v in after[0].items() if k != f"{PROJECT}_data"}, after[1]) == (
            {k: v for k, v in before[0].items() if k not in team_b + [f"{PROJECT}_data"]},
            [v for v in before[1] if v not in team_b_volumes])
        assert docker_client.containers.get(f"{PROJECT}.team-a_api_api").status == "running"
        assert token(docker_client, "team-a_api_api") == "team-a-token"
        assert objects(docker_client, theirs) == compose_before
        assert os.path.isdir(os.path.join(state["PARITY_STATE_DIR"], PROJECT))
        code, report = status(state)
        assert code == 0 and [(w["namespace"], w["workload"]) for w in report["workloads"]] == [
            ("team-a", "Deployment/api"), ("team-a", "Deployment/worker")]
        assert up(state)["actions"] == [f"created volume {v}" for v in team_b_volumes] + [
            "created data container", "created team-b_api_pod_sandbox", "created team-b_api_api"]
        assert token(docker_client, "team-b_api_api") == "team-b-token"
        assert up(state)["actions"] == []
        result = run_parity("down", "-p", PROJECT, env=state)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode() == (f"project {PROJECT}: removed 8 container(s), 6 volume(s), 1 image(s), "
                                          "1 network(s)\n")  # 4 app containers, 3 pod sandboxes, the data container
        assert docker_client.containers.list(all=True, filters=label) == []
        assert docker_client.volumes.list(filters=label) == []
        assert not os.path.exists(os.path.join(state["PARITY_STATE_DIR"], PROJECT))
        assert objects(docker_client, theirs) == compose_before
    finally:
        subprocess.run(compose + ["down", "-v", "-t", "0"], capture_output=True)
        for image in docker_client.images.list(filters={"label": f"io.parity.project={other}"}):
            docker_client.images.remove(image.id, force=True)


def objects(client, filters: dict) -> tuple[dict[str, str], list[str]]:
    """The containers (name: id) and volume names a label filter finds."""
    return ({c.name: c.id for c in client.containers.list(all=True, filters=filters)},
            sorted(v.name for v in client.volumes.list(filters=filters)))


@pytest.mark.live
def test_an_image_that_cannot_be_had_is_named_with_the_containers_that_run_it(docker_client, own_project, tmp_path):
    """A whole app whose worker (init container and app) runs an image the engine lacks and cannot pull:
    up exits 2 with one line naming the image and the two containers that run it (it named none, so a
    digest-pinned image of a 12-workload app had to be searched for), and makes nothing."""
    app = tmp_path / "app.yaml"
    app.write_text(open(APP).read().replace("name: worker\n        image: busybox:latest",
                                            "name: worker\n        image: parity-no-such-image:1")
                   .replace("{name: wait, image: busybox:latest", "{name: wait, image: parity-no-such-image:1"))
    assert app.read_text().count("parity-no-such-image:1") == 2
    result = own_project.run("up", str(app))
    assert result.returncode == 2
    assert result.stderr.decode().startswith(
        "parity: image parity-no-such-image:1 (run by team-a_worker_wait, team-a_worker_worker) is not available "
        "locally and cannot be pulled: ")
    assert len(result.stderr.decode().splitlines()) == 1
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={own_project.name}"}) == []


@pytest.mark.live
def test_every_image_that_cannot_be_had_is_said_not_only_the_first(docker_client, own_project, tmp_path):
    """falco's install under up, its three images absent (corpus, seventh session): up said the first
    one only, so a user pulled it, ran again, and met the next. Each image that cannot be had is one
    line naming the containers that run it, in plan order; exit 2; nothing made."""
    app = tmp_path / "app.yaml"
    app.write_text(open(APP).read().replace("name: worker\n        image: busybox:latest",
                                            "name: worker\n        image: parity-no-such-image:1")
                   .replace("- name: api\n        image: busybox:latest", "- name: api\n        image: parity-no-such-image:2"))
    assert (app.read_text().count("parity-no-such-image:1"), app.read_text().count("parity-no-such-image:2")) == (1, 2)
    result = own_project.run("up", str(app))
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert [line.split(" is not available")[0] for line in lines] == [
        "parity: image parity-no-such-image:2 (run by team-a_api_api, team-b_api_api)",
        "parity: image parity-no-such-image:1 (run by team-a_worker_worker)"]
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={own_project.name}"}) == []


@pytest.mark.live
def test_the_missing_images_are_said_when_another_read_fails_in_the_same_up(docker_client, own_project, tmp_path,
                                                                            proxy_dir):
    """An image the engine lacks and cannot pull, and the engine refusing another of up's first reads (the
    project's data volumes, listed beside the images): up said that failure only, and the image's line
    was lost, so the user fixed the engine and met the image on the next run (review 7, R-N). Both are
    said, the image first, as when it fails alone; exit 2; nothing made."""
    app = tmp_path / "app.yaml"
    app.write_text(open(APP).read().replace("name: worker\n        image: busybox:latest",
                                            "name: worker\n        image: parity-no-such-image:1"))
    assert app.read_text().count("parity-no-such-image:1") == 1
    data_volumes = rb"GET /v[0-9.]+/volumes\?filters=.*io\.parity\.role%3Ddata"  # (only _read_engine lists them so)
    with EngineProxy(proxy_dir / "e.sock", data_volumes, message="simulated engine failure") as proxy:
        result = run_parity("up", str(app), "-p", own_project.name,
                            env={**own_project.env, "DOCKER_HOST": proxy.docker_host})
    lines = result.stderr.decode().splitlines()
    assert result.returncode == 2 and len(lines) == 2, result.stderr.decode()
    assert lines[0].startswith("parity: image parity-no-such-image:1 (run by team-a_worker_worker) is not available "
                               "locally and cannot be pulled: ")
    assert lines[1] == "parity: the Docker engine failed: simulated engine failure"
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={own_project.name}"}) == []


@pytest.mark.live
def test_down_of_one_workload_named_through_the_apps_manifests_says_where_up_runs_it(docker_client, state):
    """down MANIFEST --workload W takes W's own default project, as up MANIFEST --workload W would: after
    an up of the whole app it removed nothing and said only 'removed 0 container(s)' (contour's install,
    sixth session). Now it says in which project parity up runs W and how to take it down there; the
    app keeps running; that command then removes W's containers and no other workload's."""
    from parity.docker.plan import project_name

    up(state)
    listed = {"label": f"io.parity.project={PROJECT}"}

    def workloads_left() -> list[str]:
        return sorted({c.labels.get("io.parity.namespace", "") + "/" + c.labels.get("io.parity.workload", "")
                       for c in docker_client.containers.list(all=True, filters=listed)
                       if "io.parity.workload" in c.labels and c.labels.get("io.parity.role") != "data"})

    before = workloads_left()
    result = run_parity("down", APP, "--workload", "team-a/Deployment/worker", env=state)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().splitlines() == [
        "Deployment/worker: removed 0 container(s), 0 volume(s), 0 image(s)",
        f"  nothing of it in project {project_name('Deployment', 'worker', 'team-a')}; parity up runs it in "
        f"project {PROJECT}: parity down -p {PROJECT} --workload team-a/Deployment/worker"]
    assert workloads_left() == before == ["team-a/Deployment/api", "team-a/Deployment/worker", "team-b/Deployment/api"]
    again = run_parity("down", "-p", PROJECT, "--workload", "team-a/Deployment/worker", env=state)
    assert again.returncode == 0, again.stderr.decode()
    assert again.stdout.decode().startswith("Deployment/worker: removed 3 container(s)")  # wait, worker, sandbox
    assert workloads_left() == ["team-a/Deployment/api", "team-b/Deployment/api"]
