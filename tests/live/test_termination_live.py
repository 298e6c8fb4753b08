"""The kubelet's termination-message file (issue 13), through the generated compose.yaml, docker.sh
and ``parity up``: each container, the init container included, finds a writable regular file at
its ``terminationMessagePath``, empty, 0666 and 0:0 (kuberuntime_container.go ``makeMounts``), even
as a non-root user on a read-only root filesystem; what it writes there is read on the host
afterwards (the output's, or ``up``'s state directory's ``termination/SERVICE``)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from ..conftest import run_parity, unique_name, write
from .helpers import compose, docker_sh_up, generate

#: Each container writes what it saw of its file into the file itself.
SEEN = 's=$(stat -c "%F %a %u %g" "$0"); echo "$s $(id -u)" > "$0"'

POD = f"""
apiVersion: v1
kind: Pod
metadata: {{name: ender}}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  securityContext: {{runAsUser: 1000, runAsGroup: 1000}}
  initContainers:
  - name: init
    image: busybox:latest
    terminationMessagePath: /tmp/why
    command: ["sh", "-c", '{SEEN}', /tmp/why]
  containers:
  - name: app
    image: busybox:latest
    securityContext: {{readOnlyRootFilesystem: true}}
    command: ["sh", "-c", '{SEEN}; exec sleep 3600', /dev/termination-log]
"""

#: What each container saw before it wrote: the kubelet's empty 0666 root-owned file; it runs as 1000.
EXPECTED = "regular empty file 666 0 0 1000\n"


def written(directory: Path) -> dict[str, str]:
    """The termination files of ``directory`` once the app has written its own (bounded wait: the
    app writes it as it starts)."""
    deadline = time.monotonic() + 60
    while not (directory / "termination" / "app").read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    return {name: (directory / "termination" / name).read_text() for name in ("init", "app")}


@pytest.mark.live
def test_compose_binds_a_writable_termination_file_in_each_container(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, POD)))
    try:
        compose(out, "up", "-d")
        assert written(out) == {"init": EXPECTED, "app": EXPECTED}
    finally:
        compose(out, "down", "-v", "-t", "0", check=False)
        for image in summary.get("images", []):
            subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)


@pytest.mark.live
def test_docker_sh_binds_a_writable_termination_file_in_each_container(docker_client, tmp_path):
    out = tmp_path / "out"
    generate(out, str(write(tmp_path, POD)))
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert written(out) == {"init": EXPECTED, "app": EXPECTED}
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)


#: A subPath file (docker.sh binds it read-only from the output) read into the termination file
#: (bound read-write from the output): both bind sources are under the script's directory.
SUBPATH_POD = """
apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {k: subpath-content}
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: ["sh", "-c", 'cat /etc/conf/k > /dev/termination-log; exec sleep 3600']
    volumeMounts: [{name: c, mountPath: /etc/conf/k, subPath: k}]
  volumes: [{name: c, configMap: {name: conf}}]
"""


@pytest.mark.live
@pytest.mark.parametrize("directory", ["out,dir", 'out"dir'])
def test_docker_sh_binds_from_a_directory_holding_a_comma_or_quote(docker_client, tmp_path, directory):
    """docker reads ``--mount`` as CSV: the script quotes its own directory's field when it runs. With
    the directory unquoted, ',' split the source (docker: ``invalid field ... must be a key=value
    pair``) and '"' was a bare quote (docker: ``bare \" in non-quoted-field``)."""
    out = tmp_path / directory
    generate(out, str(write(tmp_path, SUBPATH_POD)))
    with docker_sh_up(out):
        deadline = time.monotonic() + 60
        while not (out / "termination" / "app").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (out / "termination" / "app").read_text() == "subpath-content"


@pytest.mark.live
def test_up_binds_a_writable_termination_file_from_its_state_directory_removed_by_down(docker_client, tmp_path):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    src = str(write(tmp_path, POD))
    project = unique_name("parity-test-ender")
    state = tmp_path / "state" / project
    try:
        result = run_parity("up", src, "-p", project, env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert written(state) == {"init": EXPECTED, "app": EXPECTED}
        mount = [m for m in docker_client.containers.get(f"{project}.app").attrs["Mounts"]
                 if m["Destination"] == "/dev/termination-log"]
        assert [(m["Type"], m["Source"], m["RW"]) for m in mount] == [("bind", str(state / "termination" / "app"), True)]
        down = run_parity("down", src, "-p", project, env=env)
        assert down.returncode == 0, down.stderr.decode()
        assert not state.exists()
    finally:
        run_parity("down", src, "-p", project, env=env)


@pytest.mark.live
@pytest.mark.usefixtures("leaves_nothing_behind")
def test_diff_live_leaves_the_users_termination_files_empty(docker_client, tmp_path):
    """``diff --live`` runs a throw-away copy of the output's compose project: its containers write
    their termination messages into copies in its own temporary directory (removed with it), never
    into the output's ``termination/`` files; the verdict is the output's (no difference)."""
    out = tmp_path / "out"
    src = str(write(tmp_path, POD))
    summary = generate(out, src)
    try:
        result = run_parity("diff", src, "--compose", str(out / "compose.yaml"), "--live")
        assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
        assert {name: (out / "termination" / name).read_text() for name in ("init", "app")} == {"init": "", "app": ""}
    finally:
        for image in summary.get("images", []):
            subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)
