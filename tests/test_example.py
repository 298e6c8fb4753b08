"""The README's main example (examples/gateway-app, run by scripts/example.sh): a small whole app that
lays out, generates and diffs equal, with each part of it where the README says it is."""

from __future__ import annotations

import json
import re

import yaml

from .conftest import ROOT, run_parity

EXAMPLE = ROOT / "examples" / "gateway-app"


def test_the_example_script_runs_parity_on_the_example_app():
    """scripts/example.sh runs each step on examples/gateway-app, and the README names it."""
    steps = re.findall(r"^parity (\S+) (\S+)", (ROOT / "scripts" / "example.sh").read_text(), flags=re.M)
    assert steps == [("layout", "examples/gateway-app"), ("k8s-to-docker", "examples/gateway-app"),
                     ("diff", "examples/gateway-app"), ("up", "examples/gateway-app"),
                     ("status", "examples/gateway-app")]
    assert "`parity down examples/gateway-app` removes it again" in (ROOT / "README.md").read_text()


def test_the_example_app_lays_out_its_four_workloads():
    result = run_parity("layout", "--format", "json", str(EXAMPLE))
    assert result.returncode == 0, result.stderr.decode()
    doc = json.loads(result.stdout)
    workloads = {f"{w['workload']['kind']}/{w['workload']['name']}": w for w in doc["workloads"]}
    assert {ref: w["run"] for ref, w in workloads.items()} == {
        "Deployment/api-gateway": "service", "Deployment/web": "service", "Job/migrate": "once",
        "CronJob/report": "on-demand"}
    gateway = workloads["Deployment/api-gateway"]["containers"][0]
    shown = {f["path"]: (f["mode"], f["uid"], f["gid"]) for f in gateway["files"]
             if f["path"].startswith("/etc/secrets/")}
    assert shown == {f"/etc/secrets/tenant{i}": ("0400", 0, 0) for i in (1, 2, 3)}  # defaultMode: 0400


def test_the_example_app_generates_one_environment_that_diffs_equal(tmp_path):
    out = tmp_path / "out"
    made = run_parity("k8s-to-docker", str(EXAMPLE), "-o", str(out))
    assert made.returncode == 0, made.stderr.decode()
    assert made.stdout.decode().startswith(f"wrote {out} for 4 workloads: 4 service(s), 8 volume(s)\n")
    compose = yaml.safe_load((out / "compose.yaml").read_text())
    assert list(compose["services"]) == [
        "parity-data", "api-gateway_pod_sandbox", "api-gateway_gateway", "migrate_pod_sandbox", "migrate_migrate",
        "report_pod_sandbox", "report_report", "web_pod_sandbox", "web_web"]
    assert compose["services"]["api-gateway_pod_sandbox"]["networks"]["default"]["aliases"] == [
        "api-gateway.default", "api-gateway.default.svc", "api-gateway.default.svc.cluster.local", "api-gateway"]
    assert {k for k, v in compose["services"].items() if v.get("profiles") == ["on-demand"]} == {
        "report_pod_sandbox", "report_report"}
    assert (out / ".gitignore").read_text() == "*\n"
    for value in (b"tenant1-api-key-3f9a1c", b"tenant2-api-key-7b2e4d", b"tenant3-api-key-c81f0a"):
        assert value not in made.stdout + made.stderr
        assert value not in (out / "compose.yaml").read_bytes() + (out / "README.md").read_bytes()
    diff = run_parity("diff", str(EXAMPLE), "--compose", str(out / "compose.yaml"))
    assert diff.returncode == 0, diff.stdout.decode()
    assert diff.stdout.decode().endswith("no differences: every container sees the cluster's files (static)\n")
