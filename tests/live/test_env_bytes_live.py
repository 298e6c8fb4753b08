"""Env values with line breaks as a process inside the container sees them (issue 13), through the
generated compose.yaml, docker.sh and ``parity up``: the sha256 of each variable's bytes in the
container's process environment equals the Secret's, CRLF, trailing newline, quotes and '$' included; a value an
emitter cannot carry is absent there (and said: tests/docker/test_env_bytes.py), never mangled."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from ..conftest import run_parity, unique_name, write
from ..docker.test_env_bytes import DASHED, VALUES, expected, manifest
from .helpers import compose, compose_container, generate

def pod() -> str:
    return manifest().replace("envFrom:", "command: [sleep, '3600']\n    envFrom:")


def report(ctr) -> dict[str, str]:
    """The sha256 of each variable of the container's first process, from its environment as the
    kernel holds it (``/proc/1/environ``: NUL-separated, exact bytes; the image has no printenv)."""
    code, environ = ctr.exec_run(["cat", "/proc/1/environ"])
    assert code == 0
    pairs = dict(item.partition(b"=")[::2] for item in environ.split(b"\0") if item)
    return {k: hashlib.sha256(pairs[k.encode()]).hexdigest() if k.encode() in pairs else "absent"
            for k in [*VALUES, "PEM_AGAIN"]}


def want(*absent: str) -> dict[str, str]:
    values = expected()
    del values[DASHED[0]]
    return {k: "absent" if k in absent else hashlib.sha256(v.encode()).hexdigest()
            for k, v in values.items()}


@pytest.mark.live
def test_compose_gives_values_with_line_breaks_byte_for_byte(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, pod())))
    try:
        compose(out, "up", "-d")
        assert report(compose_container(docker_client, summary["project"], "app")) == want("ENDS_BACKSLASH")
    finally:
        compose(out, "down", "-v", "-t", "0", check=False)


@pytest.mark.live
def test_docker_sh_gives_values_with_line_breaks_byte_for_byte(docker_client, tmp_path):
    out = tmp_path / "out"
    project = generate(out, str(write(tmp_path, pod())))["project"]
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert report(docker_client.containers.get(f"{project}.app")) == want()
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)


@pytest.mark.live
def test_up_gives_values_with_line_breaks_byte_for_byte(docker_client, tmp_path):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    src = str(write(tmp_path, pod()))
    project = unique_name("parity-test-envbytes")
    try:
        result = run_parity("up", src, "-p", project, env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert report(docker_client.containers.get(f"{project}.app")) == want()
    finally:
        run_parity("down", src, "-p", project, env=env)
