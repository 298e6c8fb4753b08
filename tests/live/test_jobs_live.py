"""What is not a long-running pod, on the real engine (issue 12): a Job runs once, to completion,
and is never started again; a CronJob is never scheduled (nothing starts it: not ``parity up``,
``docker compose up`` or docker.sh) but runs on demand, the way each says."""

from __future__ import annotations

import json
import subprocess

import pytest

from ..conftest import ROOT, run_parity, unique_name

APP = str(ROOT / "tests" / "fixtures" / "live" / "jobs-app.yaml")
PROJECT = unique_name("parity-test-jobs")  # this run's own: never a user's or another run's


@pytest.fixture
def state(tmp_path, docker_client):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    yield env
    run_parity("down", "-p", PROJECT, env=env)


def up(env) -> dict:
    result = run_parity("up", APP, "-p", PROJECT, "--format", "json", env=env)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def ran(ctr) -> tuple[str, int, int, str]:
    """Status, exit code, restarts, and when it started (the zero time: never)."""
    ctr.reload()
    s = ctr.attrs["State"]
    return ctr.status, s["ExitCode"], ctr.attrs["RestartCount"], s["StartedAt"]


NEVER = "0001-01-01T00:00:00Z"


@pytest.mark.live
def test_up_runs_a_job_once_and_a_cronjob_only_on_demand(docker_client, state):
    """``parity up``: the Job's container runs to completion (exit 0, no restart) and a second up
    leaves it exited, not started again; the CronJob's containers are created, never started, and
    the command up prints runs the pod once (init container first), which the next up leaves."""
    result = up(state)
    names = {c["name"]: c["container"] for c in result["containers"]}
    assert sorted(names) == ["api_api", "migrate_migrate", "report_prepare", "report_report"]
    job = docker_client.containers.get(names["migrate_migrate"])
    assert job.wait(timeout=60)["StatusCode"] == 0
    assert b"migrated with 10 bytes of token" in job.logs()
    first = ran(job)
    assert first[:3] == ("exited", 0, 0)
    for name in ("report_prepare", "report_report"):
        assert ran(docker_client.containers.get(names[name]))[::3] == ("created", NEVER)
    assert result["on_demand"] == [{"workload": "CronJob/report", "namespace": "default", "run": (
        f"docker start -a {PROJECT}.report_prepare && docker start -a {PROJECT}.report_report")}]
    text = run_parity("up", APP, "-p", PROJECT, env=state).stdout.decode()
    assert text.splitlines()[-1] == (
        "CronJob/report (namespace default): on demand, not started (parity never schedules it); run it once "
        f"with: docker start -a {PROJECT}.report_prepare && docker start -a {PROJECT}.report_report")
    assert ran(job) == first  # not started again
    run = subprocess.run(result["on_demand"][0]["run"], shell=True, capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "prepared\nreport: token\n"), run.stderr
    after = [ran(docker_client.containers.get(names[n])) for n in ("report_prepare", "report_report")]
    assert [a[:3] for a in after] == [("exited", 0, 0), ("exited", 0, 0)]
    assert up(state)["actions"] == []
    assert ran(job) == first and [ran(docker_client.containers.get(names[n]))
                                  for n in ("report_prepare", "report_report")] == after
    code = run_parity("status", "-p", PROJECT, env=state)
    assert code.returncode == 0, code.stdout.decode()


@pytest.mark.live
def test_compose_and_docker_sh_run_a_job_once_and_a_cronjob_only_on_demand(docker_client, tmp_path):
    """The generated compose.yaml and docker.sh: ``up`` runs the Job to completion (exit 0, never
    restarted) and starts nothing of the CronJob (its services are in the ``on-demand`` profile,
    docker.sh keeps them in its ``run``); ``docker compose run --rm`` and ``sh docker.sh run
    NAMESPACE/KIND/NAME``, as the output says, run it once, init container first."""
    out = tmp_path / "out"
    project = unique_name("parity-test-jobs-compose")
    made = run_parity("k8s-to-docker", APP, "-o", str(out), "-p", project)
    assert made.returncode == 0, made.stderr.decode()
    assert made.stdout.decode().splitlines()[-1] == (
        f"CronJob/report (namespace default) is never scheduled: run it once with: docker compose -f {out}/compose.yaml "
        f"run --rm report_report (or: sh {out}/docker.sh run default/CronJob/report)")
    compose = ["docker", "compose", "-f", str(out / "compose.yaml")]
    label = {"label": f"io.parity.project={project}"}
    try:
        started = subprocess.run(compose + ["up", "-d", "--build"], capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
        services = {c.labels["com.docker.compose.service"]: c
                    for c in docker_client.containers.list(all=True, filters=label)}
        assert sorted(services) == ["api_api", "api_pod_sandbox", "migrate_migrate", "migrate_pod_sandbox",
                                    "parity-data"]  # nothing of the CronJob
        assert services["migrate_migrate"].wait(timeout=60)["StatusCode"] == 0
        assert ran(services["migrate_migrate"])[:3] == ("exited", 0, 0)
        once = subprocess.run(compose + ["run", "--rm", "report_report"], capture_output=True, text=True)
        assert (once.returncode, once.stdout) == (0, "report: token\n"), once.stderr
        prepare = [c for c in docker_client.containers.list(all=True, filters=label)
                   if c.labels["com.docker.compose.service"] == "report_prepare"]
        assert [ran(c)[:3] for c in prepare] == [("exited", 0, 0)]
    finally:
        subprocess.run(compose + ["--profile", "on-demand", "down", "-v", "-t", "0"], capture_output=True)
    assert docker_client.containers.list(all=True, filters=label) == []  # the profile's containers too
    try:
        script = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert script.returncode == 0, script.stderr
        assert script.stdout.splitlines()[-2] == (
            f"CronJob/report is never scheduled: run it once with: sh {out}/docker.sh run default/CronJob/report")
        names = {c.name: c for c in docker_client.containers.list(all=True, filters=label)}
        assert not [n for n in names if ".report_" in n]
        job = names[f"{project}.migrate_migrate"]
        assert job.wait(timeout=60)["StatusCode"] == 0 and ran(job)[:3] == ("exited", 0, 0)
        for _ in range(2):  # (a second run replaces the first one's containers)
            once = subprocess.run(["sh", str(out / "docker.sh"), "run", "default/CronJob/report"],
                                  capture_output=True, text=True)
            assert (once.returncode, once.stdout) == (0, "prepared\nreport: token\n"), once.stderr
        report = docker_client.containers.get(f"{project}.report_report")
        assert ran(report)[:2] == ("exited", 0)
        wrong = subprocess.run(["sh", str(out / "docker.sh"), "run", "CronJob/nope"], capture_output=True, text=True)
        assert (wrong.returncode, wrong.stderr) == (
            2, "docker.sh: run: no on-demand workload named so; there are: default/CronJob/report\n")
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)
    assert docker_client.containers.list(all=True, filters=label) == []
