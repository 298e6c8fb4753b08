"""parity follows the docker CLI to the same engine as the Compose it runs (issue 15): DOCKER_HOST,
else DOCKER_CONTEXT, else the current context of the docker config. Proved with a second dockerd on
its own socket, named by a docker context: up, status, diff --live and down all reach it, and the
first engine sees nothing of theirs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from ..conftest import ROOT, unique_name

ARTICLE = str(ROOT / "manifests" / "api-gateway")
# This run's own (unique_name): never a user's project or docker context, nor another run's.
PROJECT = unique_name("parity-test-context")
CONTEXT = unique_name("parity-test-second")


@pytest.fixture(scope="module")
def second_engine(docker_client):
    """A second dockerd with its own socket, data root, containerd namespace and network namespace,
    holding a copy of busybox:latest; stopped and removed afterwards.

    Its own network namespace matters: a dockerd beside the first one in the host's namespace either
    fights over ``docker0`` or, with ``--bridge=none``, deletes it (moby's
    ``removeDefaultBridgeInterface``), cutting every container of the first engine off."""
    root = Path(tempfile.mkdtemp(prefix="parity-d2-", dir="/tmp"))  # short: AF_UNIX paths are limited
    sock = root / "docker.sock"
    netns = f"parity-test-d2-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    log = open(root / "dockerd.log", "wb")
    proc = subprocess.Popen(
        ["nsenter", f"--net=/var/run/netns/{netns}",  # (not `ip netns exec`: it hides the cgroup mounts)
         "dockerd", "-H", f"unix://{sock}", "--data-root", str(root / "data"),
         "--exec-root", str(root / "exec"), "--pidfile", str(root / "pid"), "--iptables=false", "--ip6tables=false",
         "--containerd-namespace", "parity-test-d2", "--containerd-plugins-namespace", "parity-test-d2-plugins"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    host = f"unix://{sock}"
    try:
        deadline = time.time() + 60
        while subprocess.run(["docker", "-H", host, "info"], capture_output=True).returncode != 0:
            assert proc.poll() is None and time.time() < deadline, (root / "dockerd.log").read_text()[-2000:]
            time.sleep(0.5)
        save = subprocess.Popen(["docker", "save", "busybox:latest"], stdout=subprocess.PIPE)
        subprocess.run(["docker", "-H", host, "load", "-q"], stdin=save.stdout, check=True, capture_output=True)
        assert save.wait() == 0
        yield host
    finally:
        subprocess.run(f"docker -H {host} rm -f $(docker -H {host} ps -aq) 2>/dev/null", shell=True,
                       capture_output=True)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        subprocess.run(["umount", "-R", str(root / "exec")], capture_output=True)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def context_env(second_engine, tmp_path):
    """A docker config whose current context is the second engine; DOCKER_HOST unset."""
    config = tmp_path / "docker-config"
    config.mkdir()
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    for args in (["context", "create", CONTEXT, "--docker", f"host={second_engine}"], ["context", "use", CONTEXT]):
        subprocess.run(["docker", *args], env=env, check=True, capture_output=True)
    env["PARITY_STATE_DIR"] = str(tmp_path / "state")
    return env


def parity(env, *args):
    return subprocess.run([sys.executable, "-m", "parity.cli", *args], cwd=ROOT, env=env, capture_output=True)


def names_on(host: str, label: str) -> set[str]:
    out = subprocess.run(["docker", "-H", host, "ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.live
def test_the_current_context_is_the_engine_for_up_status_diff_and_down(context_env, second_engine, tmp_path):
    version = json.loads(parity(context_env, "version", "--format", "json").stdout)
    assert (version["engine"]["endpoint"], version["engine"]["endpoint_source"]) == (
        second_engine, f"context {CONTEXT}")
    first = "unix:///var/run/docker.sock"
    try:
        up = parity(context_env, "up", ARTICLE, "-p", PROJECT)
        assert up.returncode == 0, up.stderr.decode()
        label = f"io.parity.project={PROJECT}"
        assert names_on(second_engine, label) == {f"{PROJECT}.api-gateway", f"{PROJECT}.pod_sandbox", f"{PROJECT}_data"}
        assert names_on(first, label) == set()
        status = parity(context_env, "status", "-p", PROJECT, "--format", "json")
        assert status.returncode == 0
        assert [c["in_parity"] for c in json.loads(status.stdout)["workloads"][0]["containers"]] == [True]
        # Compose runs against the same engine: the live diff finds its containers there.
        out = tmp_path / "gen"
        assert parity(context_env, "k8s-to-docker", ARTICLE, "-o", str(out), "-p", unique_name("parity-test-context-gen")
                      ).returncode == 0
        diff = parity(context_env, "diff", ARTICLE, "--compose", str(out / "compose.yaml"), "--live")
        assert (diff.returncode, diff.stderr) == (0, b""), diff.stdout.decode()
        # DOCKER_CONTEXT overrides the config's current context; DOCKER_HOST overrides both.
        by_env = {**context_env, "DOCKER_CONTEXT": "default"}
        assert json.loads(parity(by_env, "status", "-p", PROJECT, "--format", "json").stdout)["workloads"] == []
        by_host = {**context_env, "DOCKER_HOST": second_engine}
        assert len(json.loads(parity(by_host, "status", "-p", PROJECT, "--format", "json").stdout)["workloads"]) == 1
    finally:
        down = parity(context_env, "down", "-p", PROJECT)
    assert down.returncode == 0, down.stderr.decode()
    assert names_on(second_engine, f"io.parity.project={PROJECT}") == set()


@pytest.mark.live
def test_a_context_that_does_not_exist_is_one_line(context_env):
    result = parity({**context_env, "DOCKER_CONTEXT": "parity-no-such-context"}, "status")
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == ("parity: docker context 'parity-no-such-context' "
                                      "(DOCKER_CONTEXT=parity-no-such-context) does not exist; see `docker context ls`\n")
