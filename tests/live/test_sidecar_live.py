"""Native sidecars on a real engine (issue 13, done-when: "native sidecar started first and the app not
blocked"), through the generated compose.yaml, docker.sh and ``parity up --wait``: the init container
before the sidecar has exited 0 before the sidecar starts, the sidecar starts before the next init
container and the app, and the app runs beside it (nothing waits for the sidecar to exit)."""

from __future__ import annotations

import re
import subprocess

import pytest

from ..conftest import run_parity, unique_name, write
from .helpers import compose, compose_container, generate

POD = """
apiVersion: v1
kind: Pod
metadata: {name: meshed}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  initContainers:
  - {name: setup, image: busybox:latest, command: ["true"]}
  - {name: proxy, image: busybox:latest, command: [sleep, "3600"], restartPolicy: Always}
  - {name: migrate, image: busybox:latest, command: ["true"]}
  containers:
  - {name: app, image: busybox:latest, command: [sleep, "3600"]}
"""


def instant(stamp: str) -> str:
    """An engine timestamp (RFC 3339, nanoseconds with trailing zeros cut) in a form that sorts."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", whole), stamp
    return f"{whole}.{fraction:0<9}"


def check(states: dict[str, dict]) -> None:
    """``states``: inspect's State of each container still there (docker.sh removes init containers)."""
    assert (states["proxy"]["Status"], states["app"]["Status"]) == ("running", "running")
    assert instant(states["proxy"]["StartedAt"]) <= instant(states["app"]["StartedAt"])
    for init in ("setup", "migrate"):
        if init in states:
            assert (states[init]["Status"], states[init]["ExitCode"]) == ("exited", 0)
    if "setup" in states:
        assert instant(states["setup"]["FinishedAt"]) <= instant(states["proxy"]["StartedAt"])
    if "migrate" in states:
        assert instant(states["proxy"]["StartedAt"]) <= instant(states["migrate"]["StartedAt"])
        assert instant(states["migrate"]["FinishedAt"]) <= instant(states["app"]["StartedAt"])


@pytest.mark.live
def test_compose_starts_the_sidecar_first_and_the_app_beside_it(docker_client, tmp_path):
    out = tmp_path / "out"
    project = generate(out, str(write(tmp_path, POD)))["project"]
    try:
        up = subprocess.run(["docker", "compose", "-f", str(out / "compose.yaml"), "up", "-d"],
                            capture_output=True, text=True, timeout=180)  # (a bound: it used to hang)
        assert up.returncode == 0, up.stderr
        check({n: compose_container(docker_client, project, n).attrs["State"]
               for n in ("setup", "proxy", "migrate", "app")})
    finally:
        compose(out, "down", "-v", "-t", "0", check=False)


@pytest.mark.live
def test_docker_sh_starts_the_sidecar_first_and_the_app_beside_it(docker_client, tmp_path):
    out = tmp_path / "out"
    project = generate(out, str(write(tmp_path, POD)))["project"]
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
        check({n: docker_client.containers.get(f"{project}.{n}").attrs["State"] for n in ("proxy", "app")})
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)


@pytest.mark.live
def test_up_wait_starts_the_sidecar_first_and_the_app_beside_it(docker_client, tmp_path):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    src = str(write(tmp_path, POD))
    project = unique_name("parity-test-meshed")
    try:
        result = run_parity("up", src, "-p", project, "--wait", env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout.decode().startswith("Pod/meshed is up (changed: ")
        check({n: docker_client.containers.get(f"{project}.{n}").attrs["State"]
               for n in ("setup", "proxy", "migrate", "app")})
    finally:
        run_parity("down", src, "-p", project, env=env)
