"""Probes as health checks on a real engine (issue 13: lifecycle), through the generated compose.yaml,
docker.sh and ``parity up``: the engine runs the check and reports healthy or unhealthy as inspect
shows it, with the HealthConfig parity/docker/health.py maps (a tcpSocket probe too, with the small
BusyBox nc that has no -z: healthy on a listening port, unhealthy on a closed one)."""

from __future__ import annotations

import shlex
import time
from textwrap import indent

import pytest

from ..conftest import write
from .helpers import WEB_CONTAINER, compose_container, compose_up, docker_sh_up, generate

POD = """
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: ready
    image: busybox:latest
    command: [sh, -c, "touch /tmp/ready; exec sleep 3600"]
    env: [{name: MARK, value: /tmp/ready}]
    readinessProbe: {exec: {command: [test, -f, "$(MARK)"]}, periodSeconds: 1}
""" + indent(WEB_CONTAINER, "  ") + """\
  - name: sick
    image: busybox:latest
    command: [sleep, "3600"]
    livenessProbe: {exec: {command: [test, -f, /nowhere]}, periodSeconds: 1, failureThreshold: 2}
  - name: tcp
    image: busybox:latest
    command: [nc, -ll, -p, "9000", -e, "true"]
    readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}
  - name: closed
    image: busybox:latest
    command: [sleep, "3600"]
    readinessProbe: {tcpSocket: {port: 9001}, periodSeconds: 1, failureThreshold: 2}
"""

EXPECTED = {"ready": "healthy", "web": "healthy", "sick": "unhealthy", "tcp": "healthy", "closed": "unhealthy"}
#: A tcpSocket probe's check (health.tcp_check): busybox:latest's nc has no -z, so its -e true decides.
TCP = "nc -z -w 1 127.0.0.1 {0} 2>/dev/null || nc -w 1 127.0.0.1 {0} -e true"
SDK_TESTS = {"ready": ["CMD", "test", "-f", "/tmp/ready"],
             "web": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"],
             "sick": ["CMD", "test", "-f", "/nowhere"],
             "tcp": ["CMD", "sh", "-c", TCP.format(9000)], "closed": ["CMD", "sh", "-c", TCP.format(9001)]}


def settled(containers: dict) -> dict[str, str]:
    """Each container's health once none is ``starting`` any more (a bound, not a measure)."""
    deadline = time.monotonic() + 60
    while True:
        for c in containers.values():
            c.reload()
        health = {n: c.attrs["State"].get("Health", {}).get("Status") for n, c in containers.items()}
        if "starting" not in health.values() or time.monotonic() > deadline:
            return health
        time.sleep(0.5)


def check_config(containers: dict, shell: bool = False) -> None:
    for name, ctr in containers.items():
        hc = ctr.attrs["Config"]["Healthcheck"]
        retries = 2 if name in ("sick", "closed") else 3
        assert (hc["Interval"], hc["Timeout"], hc["Retries"], hc.get("StartPeriod", 0)) == (
            1_000_000_000, 1_000_000_000, retries, 0)
        if shell:  # docker run --health-cmd: always /bin/sh -c
            assert hc["Test"] == ["CMD-SHELL", "exec " + shlex.join(SDK_TESTS[name][1:])]
        else:
            assert hc["Test"] == SDK_TESTS[name]


@pytest.mark.live
def test_compose_runs_each_probe_as_a_health_check(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, POD)))
    with compose_up(out, summary):
        containers = {n: compose_container(docker_client, summary["project"], n) for n in EXPECTED}
        assert settled(containers) == EXPECTED
        check_config(containers)


@pytest.mark.live
def test_docker_sh_runs_each_probe_as_a_health_check(docker_client, tmp_path):
    out = tmp_path / "out"
    project = generate(out, str(write(tmp_path, POD)))["project"]
    with docker_sh_up(out):
        containers = {n: docker_client.containers.get(f"{project}.{n}") for n in EXPECTED}
        assert settled(containers) == EXPECTED
        check_config(containers, shell=True)


@pytest.mark.live
def test_up_runs_each_probe_as_a_health_check(docker_client, tmp_path, own_project):
    src = str(write(tmp_path, POD))
    project = own_project.name
    result = own_project.run("up", src)
    assert result.returncode == 0, result.stderr.decode()
    containers = {n: docker_client.containers.get(f"{project}.{n}") for n in EXPECTED}
    assert settled(containers) == EXPECTED
    check_config(containers)
