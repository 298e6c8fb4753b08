"""``parity status MANIFEST...`` (issue 13's review): the app's workloads, each of them, and no other."""

from __future__ import annotations

import json

import pytest

from ..conftest import ROOT, run_parity, unique_name

APP = str(ROOT / "tests" / "fixtures" / "live" / "two-teams-app.yaml")
OTHER = str(ROOT / "manifests" / "api-gateway")
# This run's own projects (unique_name): never a user's environment's nor another run's.
PROJECT = unique_name("parity-test-status-app")
OTHER_PROJECT = unique_name("parity-test-status-other")


@pytest.fixture
def state(tmp_path, docker_client):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    yield env
    for project in (PROJECT, OTHER_PROJECT):
        run_parity("down", "-p", project, env=env)


def report(env, *args) -> tuple[int, list[tuple]]:
    result = run_parity("status", *args, "--format", "json", env=env)
    assert result.returncode in (0, 1), result.stderr.decode()
    doc = json.loads(result.stdout)
    return result.returncode, [(w["namespace"], w["workload"], w["project"], w["up"], len(w["containers"]))
                               for w in doc["workloads"]]


@pytest.mark.live
def test_status_of_manifests_lists_every_workload_of_the_app_and_no_other(docker_client, state):
    """Another app runs on the engine: ``status MANIFEST`` listed it too (every workload the engine
    ran), and said nothing of the app's workloads that were not up. Now: the app's workloads only,
    each of them, one that nothing runs as not up (exit 1, with the project up would give it)."""
    other = run_parity("up", OTHER, "-p", OTHER_PROJECT, env=state)
    assert other.returncode == 0, other.stderr.decode()
    code, listed = report(state, APP, "-p", PROJECT)
    assert (code, listed) == (1, [("team-a", "Deployment/api", PROJECT, False, 0),
                                  ("team-a", "Deployment/worker", PROJECT, False, 0),
                                  ("team-b", "Deployment/api", PROJECT, False, 0)])
    text = run_parity("status", APP, env=state)
    assert text.returncode == 1
    assert text.stdout.decode().count("not up: nothing runs it (parity up starts it)") == 3
    assert "Pod/api-gateway" not in text.stdout.decode()
    up = run_parity("up", APP, "-p", PROJECT, env=state)
    assert up.returncode == 0, up.stderr.decode()
    code, listed = report(state, APP, "-p", PROJECT)
    assert (code, listed) == (0, [("team-a", "Deployment/api", PROJECT, True, 1),
                                  ("team-a", "Deployment/worker", PROJECT, True, 2),
                                  ("team-b", "Deployment/api", PROJECT, True, 1)])
    assert run_parity("down", APP, "--workload", "team-b/deploy/api", "-p", PROJECT, env=state).returncode == 0
    code, listed = report(state, APP, "-p", PROJECT)
    assert (code, listed[-1]) == (1, ("team-b", "Deployment/api", PROJECT, False, 0))


@pytest.mark.live
def test_status_lists_only_the_projects_of_its_own_state_root(tmp_path, docker_client, own_project):
    """A project ``up`` made with another state root (a user's, while the tests run) whose container
    exited: a status without ``-p`` listed it, unchecked, and exited 1 for it (CI's failure of stop 22).
    Now it is named under ``elsewhere`` and left out of the exit code; ``-p`` still checks it."""
    up = own_project.run("up", OTHER)
    assert up.returncode == 0, up.stderr.decode()
    (gateway,) = docker_client.containers.list(
        filters={"label": [f"io.parity.project={own_project.name}", "io.parity.container=api-gateway"]})
    gateway.kill()  # (exit 137: not running as it should)
    mine = {"PARITY_STATE_DIR": str(tmp_path / "mine")}
    result = run_parity("status", "--format", "json", env=mine)
    doc = json.loads(result.stdout)
    assert result.returncode == 0, result.stdout.decode()
    assert own_project.name in doc["elsewhere"] and doc["state_root"] == mine["PARITY_STATE_DIR"]
    assert [w for w in doc["workloads"] if w["project"] == own_project.name] == []
    text = run_parity("status", env=mine).stdout.decode()
    assert ("not checked: project(s) " in text and own_project.name in text
            and f"(not made by parity up with the state directory {mine['PARITY_STATE_DIR']}; "
                "check one with parity status -p PROJECT)" in text)
    assert run_parity("status", "-p", own_project.name, env=mine).returncode == 1
    assert own_project.run("status").returncode == 1  # its own state root lists it: not running


@pytest.mark.live
def test_status_of_manifests_checks_the_apps_workloads_that_compose_runs(tmp_path, docker_client):
    """``docker compose up`` of the generated file, then ``parity status MANIFEST`` (no state of any
    ``up``): the workload is checked where Compose runs it, in parity, exit 0. (The state-root scoping
    of 2b12a93 listed it as not up, exit 1: with MANIFESTs the app's workloads are named, wherever
    they run.)"""
    from .helpers import compose_up, generate
    from .test_faults_live import renamed

    suffix = unique_name("-stc")
    manifests = str(renamed(ROOT / "manifests" / "api-gateway", tmp_path / "app.yaml", suffix))
    out = tmp_path / "out"
    summary = generate(out, manifests)
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    with compose_up(out, summary):
        result = run_parity("status", manifests, "--format", "json", env=env)
        doc = json.loads(result.stdout)
        assert result.returncode == 0, result.stdout.decode()
        (workload,) = doc["workloads"]
        assert (workload["workload"], workload["up"], workload["prediction"]) == (
            f"Pod/api-gateway{suffix}", True, "manifests")
        assert [(c["name"], c["in_parity"]) for c in workload["containers"]] == [("api-gateway", True)]
        assert doc["elsewhere"] == []
