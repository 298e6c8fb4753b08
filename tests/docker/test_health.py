"""Probes as Docker health checks (issue 13: lifecycle): the one mapping (parity/docker/health.py) in
compose.yaml, docker.sh and parity up's options, with what is not reproduced said."""

from __future__ import annotations

import subprocess

import yaml

from parity.docker.dockersh import script_commands
from parity.docker.health import from_compose, from_inspect, health_plan, tcp_check
from parity.docker.planner import build_app_plan
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import pod_manifest, run_parity, write

POD = "\n" + pod_manifest("web", """
  automountServiceAccountToken: false
  initContainers:
  - name: proxy
    image: busybox:latest
    restartPolicy: Always
    ports: [{name: admin, containerPort: 15000}]
    startupProbe: {tcpSocket: {port: admin}, periodSeconds: 2, failureThreshold: 30}
  containers:
  - name: app
    image: busybox:latest
    env:
    - {name: FILE, value: /tmp/ready}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: s, key: k, optional: true}}}
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      exec: {command: [test, -f, "$(FILE)", "$(TOKEN)", "$(NOPE)", "$$(FILE)"]}
      periodSeconds: 5
      timeoutSeconds: 2
      failureThreshold: 4
      successThreshold: 2
    livenessProbe:
      httpGet: {path: /healthz, port: http, httpHeaders: [{name: X-Probe, value: "1"}]}
      initialDelaySeconds: 7
    startupProbe: {exec: {command: ["true"]}, initialDelaySeconds: 3, periodSeconds: 4, failureThreshold: 5}
  - name: grpc
    image: busybox:latest
    livenessProbe: {grpc: {port: 9000}}
    readinessProbe: {httpGet: {port: metrics, scheme: HTTPS}}
  - name: plain
    image: busybox:latest
""")


def _plan(tmp_path, text: str = POD):
    inputs = load_inputs([str(write(tmp_path, text))])
    workloads = select_workloads(inputs, None)
    return build_app_plan(workloads, build_layouts(inputs, workloads), inputs)


def _services(plan):
    return {s.name: s for s in plan.services}


def test_the_readiness_probe_becomes_the_health_check_with_the_kubelets_expansion_and_timing(tmp_path):
    app = _services(_plan(tmp_path))["app"]
    # $(FILE) is its env value, $(TOKEN) (valueFrom) is empty as ExpandContainerCommandOnlyStatic makes it,
    # an unknown name stays, $$ is a literal $; the startup probe's budget (3 + 4 x 5 s) is the start period.
    assert app.health.test == ("CMD", "test", "-f", "/tmp/ready", "", "$(NOPE)", "$(FILE)")
    assert (app.health.interval, app.health.timeout, app.health.retries, app.health.start_period) == (5, 2, 4, 23)
    assert app.health.probe == "readinessProbe"


def test_compose_docker_sh_and_up_get_the_same_health_check(tmp_path):
    plan = _plan(tmp_path)
    app = _services(plan)["app"]
    assert app.health.compose() == {"test": ["CMD", "test", "-f", "/tmp/ready", "", "$(NOPE)", "$(FILE)"],
                                    "interval": "5s", "timeout": "2s", "retries": 4, "start_period": "23s"}
    assert app.health.sdk() == {"test": ["CMD", "test", "-f", "/tmp/ready", "", "$(NOPE)", "$(FILE)"],
                                "interval": 5_000_000_000, "timeout": 2_000_000_000, "retries": 4,
                                "start_period": 23_000_000_000}
    run = next(c.argv for c in script_commands(plan) if c.argv[:2] == ("docker", "run") and "web.app" in
               " ".join(c.argv))
    i = run.index("--health-cmd")
    assert run[i:i + 10] == ("--health-cmd", "exec test -f /tmp/ready '' '$(NOPE)' '$(FILE)'", "--health-interval",
                             "5s", "--health-timeout", "2s", "--health-retries", "4", "--health-start-period", "23s")
    plain = next(c.argv for c in script_commands(plan) if c.argv[:2] == ("docker", "run") and
                 c.argv[c.argv.index("--name") + 1].endswith(".plain"))
    assert not any(w.startswith("--health") for w in plain)


def test_compose_yaml_holds_the_health_check_and_compose_reads_it_back_the_same(tmp_path):
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, POD)), "-o", str(out))
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load((out / "compose.yaml").read_text())
    assert doc["services"]["app"]["healthcheck"]["test"][-1] == "$$(FILE)"  # Compose would interpolate a bare $
    assert "healthcheck" not in doc["services"]["plain"]
    config = subprocess.run(["docker", "compose", "-f", str(out / "compose.yaml"), "config", "--format", "json"],
                            capture_output=True, text=True, check=True).stdout
    import json
    normalised = json.loads(config)["services"]
    plan = _plan(tmp_path)
    for name in ("proxy", "app"):
        assert from_compose(normalised[name].get("healthcheck")).key == _services(plan)[name].health.key


def test_named_ports_resolve_among_the_containers_own_ports(tmp_path):
    s = _services(_plan(tmp_path))
    assert s["proxy"].health.test == ("CMD", "sh", "-c", "nc -z -w 1 127.0.0.1 15000 2>/dev/null || "
                                                         "nc -w 1 127.0.0.1 15000 -e true")
    assert s["proxy"].health.probe == "startupProbe"
    assert s["proxy"].health.start_period == 0  # its own initialDelaySeconds
    # "metrics" is no port of the grpc container: not reproduced, and grpc never is.
    assert s["grpc"].health is None


def test_a_tcp_check_passes_with_either_nc_and_quotes_the_probes_host():
    """Debian's small BusyBox nc has no -z (the check was never healthy there): ``nc -z`` first, else
    BusyBox's ``-e true`` once connected; the host is the manifest's, so it is shell-quoted."""
    assert tcp_check("127.0.0.1", 8080, 3) == (
        "sh", "-c", "nc -z -w 3 127.0.0.1 8080 2>/dev/null || nc -w 3 127.0.0.1 8080 -e true")
    assert tcp_check("db;reboot", 5432, 1) == (
        "sh", "-c", "nc -z -w 1 'db;reboot' 5432 2>/dev/null || nc -w 1 'db;reboot' 5432 -e true")


def test_what_a_health_check_does_not_reproduce_is_said(tmp_path):
    plan = _plan(tmp_path)
    notes = [d for d in plan.differences if "Probe" in d]
    assert notes == [
        "proxy: spec.initContainers[0].startupProbe: the kubelet stops a startup probe once it passed; Docker "
        "keeps running it",
        "proxy: spec.initContainers[0].startupProbe: the health check runs nc (with -z, else BusyBox's -e true) "
        "through sh inside the container: the "
        "image must provide it (parity cannot know); it connects to 127.0.0.1 (the pod's shared localhost) where "
        "the kubelet connects to the pod IP: a server that listens on 127.0.0.1 only passes here and fails in "
        "the cluster",
        "app: spec.containers[0].livenessProbe: not reproduced: Docker runs one health check per container, and "
        "parity runs the readinessProbe",
        "app: spec.containers[0].startupProbe: not reproduced: Docker runs one health check per container, and "
        "parity runs the readinessProbe",
        "app: spec.containers[0].livenessProbe: Docker never restarts an unhealthy container; a failing liveness "
        "probe restarts it in the cluster",
        "app: spec.containers[0].readinessProbe.successThreshold 2: Docker calls a container healthy after one "
        "success",
        "grpc: spec.containers[1].readinessProbe: port 'metrics' is not one of the container's ports: the "
        "kubelet's probe fails to resolve it every time and keeps no result (a readiness probe never passes, a "
        "liveness probe never fails); not reproduced",
        "grpc: spec.containers[1].livenessProbe: a grpc probe is not reproduced (no gRPC health client can be "
        "assumed in the image)",
    ]


def test_an_http_probe_is_busybox_wget_with_its_headers_and_scheme(tmp_path):
    text = POD.replace("readinessProbe:\n      exec: {command: [test, -f, \"$(FILE)\", \"$(TOKEN)\", \"$(NOPE)\", "
                       "\"$$(FILE)\"]}", "readinessProbe:\n      httpGet: {path: healthz, port: 8080, host: \"::1\", "
                       "scheme: HTTPS, httpHeaders: [{name: Host, value: web.local}]}")
    app = _services(_plan(tmp_path, text))["app"]
    assert app.health.test == ("CMD", "wget", "-q", "-O", "/dev/null", "--no-check-certificate", "--header",
                               "Host: web.local", "https://[::1]:8080/healthz")


def test_inspect_and_compose_durations_read_back_as_seconds():
    assert from_inspect({"Test": ["CMD", "true"], "Interval": 5_000_000_000, "Timeout": 0, "Retries": 0}).key == \
        (("CMD", "true"), 5, 30, 3, 0)  # 0: the engine's default (30 s, 3 retries)
    assert from_inspect({"Test": ["NONE"]}) is None
    assert from_compose({"test": "curl -f x", "interval": "1m30s", "start_period": "500ms"}).key == \
        (("CMD-SHELL", "curl -f x"), 90, 30, 3, 0)
    assert from_compose({"test": ["CMD", "true"], "disable": True}) is None


def test_a_container_without_probes_has_no_health_check():
    from parity.kube.podspec import Container, SecurityContext
    plan = health_plan(Container("c", "busybox", False, [], SecurityContext(), "spec.containers[0]"))
    assert plan.check is None and plan.notes == ()


def _inspect(status: str, code: int = 0, policy: str = "unless-stopped", health: str | None = None,
             retries: int = 3) -> dict:
    state = {"Status": status, "ExitCode": code, **({"Health": {"Status": health}} if health else {})}
    return {"State": state, "HostConfig": {"RestartPolicy": {"Name": policy}}, "RestartCount": 0,
            "Config": {"Healthcheck": {"Test": ["CMD", "true"], "Retries": retries}} if health else {}}


def test_a_containers_condition_says_whether_it_runs_as_it_should():
    from parity.docker.health import condition

    def seen(attrs):
        c = condition(attrs)
        return c.ok, c.problem

    assert seen(_inspect("running")) == (True, None)
    assert seen(_inspect("running", health="healthy")) == (True, None)
    assert seen(_inspect("running", health="starting")) == (None, None)
    assert seen(_inspect("running", health="unhealthy", retries=2)) == (
        False, "unhealthy: its health check failed 2 times in a row")
    assert seen(_inspect("restarting", 3)) == (False, "crash-loops: exits with code 3 and Docker restarts it")
    assert seen(_inspect("exited", 0)) == (False, "exited with code 0")  # a long-running one must not end
    assert seen(_inspect("exited", 3, "no")) == (False, "exited with code 3")
    assert seen(_inspect("exited", 0, "no")) == (True, None)  # a Job's, an init container's
    assert seen(_inspect("exited", 0, "on-failure")) == (True, None)
    assert seen(_inspect("running", 0, "no")) == (True, None)  # a pod with restartPolicy Never: up while it runs
    job = _inspect("running", 0, "no")
    job["Config"]["Labels"] = {"io.parity.workload": "Job/migrate"}
    assert seen(job) == (None, None)  # a Job still running: up once it has exited 0
    assert seen(_inspect("created")) == (None, None)


def test_diff_reports_the_health_check_facet_in_text_and_json(tmp_path):
    """diff's ``health`` difference: the generated check taken out of compose.yaml, and retimed."""
    from ..diffcases import case_health_check_dropped, case_health_check_retimed, run_diff, verdict

    case = case_health_check_dropped(tmp_path / "dropped")
    result = run_diff(*case.manifests, "--compose", str(case.compose))
    assert result.returncode == 1
    assert result.stdout.decode().splitlines()[1:] == [
        "  container app <-> service app",
        "    health              (health check)  cluster: test -e /tmp/ready (every 5s, timeout 1s, 4 retries, start "
        "period 0s)  here: none",
        "                        Docker runs the readinessProbe's health check in the cluster's place: a different one "
        "(or none) changes what healthy means (compose healthcheck)",
        "1 difference in 1 container",
    ]
    case = case_health_check_retimed(tmp_path / "retimed")
    d = verdict(case.manifests, case.compose).find("app", "(health check)", "health")
    assert (d["expected"], d["actual"]) == (
        "test -e /tmp/ready (every 5s, timeout 1s, 4 retries, start period 0s)",
        "test -e /tmp/ready (every 30s, timeout 1s, 4 retries, start period 0s)")


def test_lifecycle_hooks_are_said_never_dropped(tmp_path):
    """postStart and preStop hooks (ingress-nginx's controller, contour's envoy, cassandra) have no Docker
    counterpart: each is said, naming its field, in the plan's notes, k8s-to-docker's output and the
    README (they were in none: a preStop that drains connections was dropped silently)."""
    text = "\n" + pod_manifest("web", """
  terminationGracePeriodSeconds: 300
  initContainers:
  - name: proxy
    image: busybox:latest
    restartPolicy: Always
    lifecycle: {postStart: {exec: {command: ["true"]}}, preStop: {sleep: {seconds: 5}}}
  containers:
  - name: app
    image: busybox:latest
    lifecycle: {preStop: {httpGet: {path: /drain, port: 8080}}}
  - name: plain
    image: busybox:latest
""")
    said = [d for d in _plan(tmp_path, text).differences if "lifecycle" in d]
    assert said == [
        "proxy: spec.initContainers[0].lifecycle.postStart: not reproduced: Docker runs no hook when it starts a "
        "container (the kubelet runs it right after the start and kills the container when it fails)",
        "proxy: spec.initContainers[0].lifecycle.preStop: not reproduced: Docker sends the stop signal at once "
        "(the kubelet runs the hook first, within the pod's terminationGracePeriodSeconds, 300 s)",
        "app: spec.containers[0].lifecycle.preStop: not reproduced: Docker sends the stop signal at once (the "
        "kubelet runs the hook first, within the pod's terminationGracePeriodSeconds, 300 s)"]
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", str(write(tmp_path, text)), "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    for note in said:
        assert f"  note: {note}\n" in gen.stdout.decode()
        assert note in (out / "README.md").read_text()
