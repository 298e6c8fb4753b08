"""Which workloads each command works on, through the real CLI (issue 12): --workload (repeatable,
NS/KIND/NAME or -n), -l/--selector, Helm hooks left out and said (--include-hooks), exact stderr lines
and exit codes."""

from __future__ import annotations

import json

import pytest

from .conftest import run_parity, write

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-a}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: api, tier: back}}
    spec: {containers: [{name: app, image: busybox}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-b}
spec:
  template:
    metadata: {labels: {app: api, tier: back, env: qa}}
    spec: {containers: [{name: app, image: busybox}]}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: team-a
  annotations: {helm.sh/hook: "pre-install,pre-upgrade", helm.sh/hook-weight: "-5"}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {restartPolicy: Never, containers: [{name: migrate, image: busybox}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-test
  namespace: team-a
  labels: {app: api}
  annotations: {helm.sh/hook: test}
spec: {restartPolicy: Never, containers: [{name: probe, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: team-a}
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: report}}
        spec: {restartPolicy: OnFailure, containers: [{name: report, image: busybox}]}
"""

HOOKS_LINE = ("parity: left out: 2 Helm hook(s): Job/migrate (pre-install,pre-upgrade), Pod/api-test (test); "
              "--include-hooks adds them\n")
AMBIGUOUS = ("parity: --workload deploy/api: ambiguous, 2 match: team-a/Deployment/api, team-b/Deployment/api; "
             "name one as NS/KIND/NAME (or with -n NS)\n")


@pytest.fixture
def app(tmp_path) -> str:
    return str(write(tmp_path, APP, "app.yaml"))


def headers(stdout: bytes) -> list[str]:
    """layout's text: one header line per workload."""
    return [line for line in stdout.decode().splitlines() if line and not line.startswith(" ")]


def test_layout_takes_every_workload_but_the_helm_hooks_and_says_which_it_left_out(app):
    result = run_parity("layout", app)
    assert (result.returncode, result.stderr.decode()) == (0, HOOKS_LINE)
    assert [h.split("  ")[0] for h in headers(result.stdout)] == ["Deployment/api", "Deployment/api", "CronJob/report"]
    included = run_parity("layout", app, "--include-hooks")
    assert (included.returncode, included.stderr) == (0, b"")
    assert len(headers(included.stdout)) == 5


@pytest.mark.parametrize("args, expected", [
    (["--workload", "team-b/deploy/api"], [("Deployment", "api", "team-b")]),
    (["--workload", "deploy/api", "-n", "team-a"], [("Deployment", "api", "team-a")]),
    (["--workload", "deployment.apps/api", "--namespace", "team-b"], [("Deployment", "api", "team-b")]),
    (["--workload", "cj/report", "--workload", "team-a/deploy/api"],  # input order, whatever the flags' order
     [("Deployment", "api", "team-a"), ("CronJob", "report", "team-a")]),
    (["--workload", "job/migrate"], [("Job", "migrate", "team-a")]),  # named: a hook is taken
    (["-l", "env=qa"], [("Deployment", "api", "team-b")]),
    (["--selector", "app in (report, nothing)"], [("CronJob", "report", "team-a")]),
    (["-l", "tier,!env"], [("Deployment", "api", "team-a")]),
])
def test_layout_json_holds_the_workloads_chosen(app, args, expected):
    result = run_parity("layout", app, "--format", "json", *args)
    assert (result.returncode, result.stderr) == (0, b"")
    doc = json.loads(result.stdout)
    assert [(w["workload"]["kind"], w["workload"]["name"], w["workload"]["namespace"])
            for w in doc["workloads"]] == expected


@pytest.mark.parametrize("command", ["layout", "k8s-to-docker", "diff", "up", "status", "down"])
def test_every_command_refuses_an_ambiguous_workload_with_the_candidates(app, tmp_path, command):
    """Regression: the first of the two was taken, silently (and `up` replaced team-a's with team-b's)."""
    extra = {"k8s-to-docker": ["-o", str(tmp_path / "out")], "diff": ["--compose", str(tmp_path / "none.yaml")]}
    result = run_parity(command, app, "--workload", "deploy/api", *extra.get(command, []),
                        env={"PARITY_STATE_DIR": str(tmp_path / "state")})
    assert (result.returncode, result.stderr.decode(), result.stdout) == (2, AMBIGUOUS, b"")
    assert not (tmp_path / "out").exists() and not (tmp_path / "state").exists()


@pytest.mark.parametrize("command", ["layout", "k8s-to-docker", "diff", "up", "status", "down"])
def test_every_command_refuses_a_bad_selector_with_kubernetes_words(app, tmp_path, command):
    extra = {"k8s-to-docker": ["-o", str(tmp_path / "out")], "diff": ["--compose", str(tmp_path / "none.yaml")]}
    result = run_parity(command, app, "-l", "env in qa", *extra.get(command, []),
                        env={"PARITY_STATE_DIR": str(tmp_path / "state")})
    assert (result.returncode, result.stderr.decode()) == (
        2, "parity: -l/--selector \"env in qa\": unable to parse requirement: found 'qa' expected: '('\n")


def test_nothing_but_hooks_left_is_exit_2_with_the_hint(app):
    result = run_parity("layout", app, "-l", "app=api,!tier")
    assert (result.returncode, result.stderr.decode(), result.stdout) == (
        2, "parity: no workload left: left out: 2 Helm hook(s): Job/migrate (pre-install,pre-upgrade), "
           "Pod/api-test (test); --include-hooks adds them\n", b"")
    assert run_parity("layout", app, "-l", "app=api,!tier", "--include-hooks").returncode == 0


def test_k8s_to_docker_and_static_diff_work_on_the_selected_workload(app, tmp_path):
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", app, "-l", "env=qa", "-o", str(out))
    assert (gen.returncode, gen.stderr) == (0, b""), gen.stderr
    diff = run_parity("diff", app, "--workload", "team-b/deploy/api", "--compose", str(out / "compose.yaml"))
    assert (diff.returncode, diff.stderr) == (0, b""), diff.stdout


@pytest.mark.parametrize("args, line", [
    (["--workload", "svc/api"], "parity: --workload svc/api: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api or "
                                "team-a/deploy/api (KIND: Pod, Deployment, ReplicaSet, ReplicationController, "
                                "StatefulSet, DaemonSet, Job, CronJob, PodTemplate)"),
    (["-l", "app=api"], "parity: -l/--selector needs MANIFEST... (the labels are in the manifests)"),
])
def test_down_without_manifests_checks_its_workload_reference_before_the_engine(tmp_path, args, line):
    result = run_parity("down", *args, env={"PARITY_STATE_DIR": str(tmp_path / "state")})
    assert (result.returncode, result.stderr.decode()) == (2, line + "\n")


def test_the_same_file_given_twice_is_read_once_with_a_warning(tmp_path):
    pod = write(tmp_path, "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
                          "spec: {containers: [{name: app, image: busybox}]}\n", "pod.yaml")
    result = run_parity("layout", str(pod), str(pod), "--format", "json")
    assert result.returncode == 0
    assert result.stderr.decode() == (f"parity: warning: {pod}: Pod/web: given again (namespace default, first in "
                                      f"{pod}); the last one read is used, as kubectl apply -f applies both in turn\n")
    assert len(json.loads(result.stdout)["workloads"]) == 1


def test_layout_says_how_each_workload_runs_and_the_replicas_it_does_not(app):
    """Text: after the namespace, how the pod runs (nothing for a long-running one), then a note for
    replicas; JSON: `run`, `notes` per workload and the hooks `left_out` (documented in
    docs/layout-format.md)."""
    text = run_parity("layout", app, "--include-hooks")
    assert text.returncode == 0
    lines = text.stdout.decode().splitlines()
    assert lines[:2] == ["Deployment/api  (namespace team-a)", "  note: replicas: 3: parity runs one pod"]
    assert [line for line in lines if line and not line.startswith(" ")] == [
        "Deployment/api  (namespace team-a)",
        "Deployment/api  (namespace team-b)",
        "Job/migrate  (namespace team-a; runs once, to completion)",
        "Pod/api-test  (namespace team-a; runs once, to completion)",
        "CronJob/report  (namespace team-a; on demand: parity does not schedule it, start it by hand)"]
    doc = json.loads(run_parity("layout", app, "--format", "json").stdout)
    assert [(w["workload"]["name"], w["workload"]["namespace"], w["run"], w["notes"]) for w in doc["workloads"]] == [
        ("api", "team-a", "service", ["replicas: 3: parity runs one pod"]),
        ("api", "team-b", "service", []),
        ("report", "team-a", "on-demand", [])]
    assert doc["left_out"] == [
        {"kind": "Job", "name": "migrate", "namespace": "team-a", "helm_hook": "pre-install,pre-upgrade"},
        {"kind": "Pod", "name": "api-test", "namespace": "team-a", "helm_hook": "test"}]
    included = json.loads(run_parity("layout", app, "--format", "json", "--include-hooks").stdout)
    assert included["left_out"] == [] and [w["run"] for w in included["workloads"]] == [
        "service", "service", "once", "once", "on-demand"]
