"""What is not a long-running pod, on the real engine (issue 12): a Job runs once, to completion,
and is never started again; a CronJob is never scheduled (nothing starts it: not ``parity up``,
``docker compose up`` or docker.sh) but runs on demand, the way each says."""

from __future__ import annotations

import json
import subprocess

import pytest

from ..conftest import ROOT, run_parity

APP = str(ROOT / "tests" / "fixtures" / "live" / "jobs-app.yaml")
PROJECT = "parity-test-jobs"


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
