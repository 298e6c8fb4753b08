"""``subPathExpr`` as a process inside the container sees it (parity/kube/subpathexpr.py): the file of
the ConfigMap key its expression expands to, from a fieldRef (the pod's name, its namespace) and an env
literal, through the generated compose.yaml and ``parity up``; ``diff --live`` finds every file the same."""

from __future__ import annotations

import pytest

from ..conftest import run_parity, unique_name, write
from ..kube.test_subpathexpr import SPEC, _pod
from .helpers import compose, compose_container, generate

SLEEPING = (SPEC.replace("    image: busybox\n", "    image: busybox\n    command: [sleep, '3600']\n")
            .replace('    - {name: logs, mountPath: /logs, subPathExpr: "$(POD_NAME)"}\n', ""))
SEEN = {"/etc/app.conf": b"x=1\n", "/etc/ns.ini": b"ns\n", "/etc/again.conf": b"x=1\n"}


def seen(ctr) -> dict[str, bytes]:
    out = {}
    for path in SEEN:
        code, data = ctr.exec_run(["cat", path])
        assert code == 0, data
        out[path] = data
    return out


@pytest.mark.live
def test_compose_mounts_the_key_a_subpathexpr_names(docker_client, tmp_path):
    out = tmp_path / "out"
    manifest = str(write(tmp_path, _pod(spec=SLEEPING)))
    summary = generate(out, manifest)
    try:
        compose(out, "up", "-d")
        assert seen(compose_container(docker_client, summary["project"], "app")) == SEEN
        diff = run_parity("diff", manifest, "--compose", str(out / "compose.yaml"), "--live")
        assert diff.returncode == 0, diff.stdout.decode() + diff.stderr.decode()
    finally:
        compose(out, "down", "-v", "-t", "0", check=False)


@pytest.mark.live
def test_up_mounts_the_key_a_subpathexpr_names(docker_client, tmp_path):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    src = str(write(tmp_path, _pod(spec=SLEEPING)))
    project = unique_name("parity-test-subpathexpr")
    try:
        result = run_parity("up", src, "-p", project, env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert seen(docker_client.containers.get(f"{project}.app")) == SEEN
        status = run_parity("status", src, "-p", project, env=env)
        assert status.returncode == 0, status.stdout.decode() + status.stderr.decode()
    finally:
        run_parity("down", src, "-p", project, env=env)
