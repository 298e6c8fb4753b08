"""parity/docker/engine.py: which engine parity talks to, and the one line it prints when none answers
(no engine needed: these endpoints answer nothing by construction)."""

from __future__ import annotations

import json

import pytest

from ..conftest import run_parity

TAIL = "; start it, or point DOCKER_HOST or `docker context use` at an engine that runs\n"


@pytest.mark.parametrize("host, reason", [
    ("unix:///nonexistent/docker.sock", "no such socket"),
    ("tcp://127.0.0.1:1", "connection refused"),
    ("tcp://localhost:99999", "Port out of range 0-65535"),
    ("ssh://nobody@127.0.0.1:1", "unable to connect to port 1 on 127.0.0.1"),  # paramiko: the SDK's [ssh] extra
], ids=["missing-socket", "refused", "bad-port", "ssh"])
def test_an_unreachable_engine_is_named_with_its_reason(host, reason, tmp_path):
    result = run_parity("status", env={"DOCKER_HOST": host, "PARITY_STATE_DIR": str(tmp_path / "state")})
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == f"parity: cannot reach the Docker engine at {host} (DOCKER_HOST): {reason}{TAIL}"


def test_the_current_context_of_the_docker_config_is_followed(tmp_path):
    """A context (made the way `docker context create` stores it) that points at a dead socket:
    parity goes there, not to the default socket, and says which context sent it."""
    import hashlib

    config = tmp_path / "cfg"
    meta = config / "contexts" / "meta" / hashlib.sha256(b"parity-dead").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "parity-dead", "Metadata": {}, "Endpoints": {
        "docker": {"Host": "unix:///nonexistent/dead.sock", "SkipTLSVerify": False}}}))
    (config / "config.json").write_text(json.dumps({"currentContext": "parity-dead"}))
    env = {"DOCKER_CONFIG": str(config), "DOCKER_HOST": "", "DOCKER_CONTEXT": ""}
    result = run_parity("status", env=env)
    assert result.returncode == 2
    assert result.stderr.decode() == ("parity: cannot reach the Docker engine at unix:///nonexistent/dead.sock "
                                      f"(context parity-dead): no such socket{TAIL}")
    version = json.loads(run_parity("version", "--format", "json", env=env).stdout)
    assert version["engine"] == {"reachable": False, "error": result.stderr.decode()[len("parity: "):-1]}
