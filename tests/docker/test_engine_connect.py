"""The engine's address (DOCKER_HOST) malformed: one line naming it and what to do, exit 2, for every
command that talks to an engine, and nothing written (issue 18: the SDK's address parser raised a
traceback). No engine is needed: the address fails before any connection."""

from __future__ import annotations

import pytest

from ..conftest import ROOT, run_parity

ARTICLE = str(ROOT / "manifests" / "api-gateway")
HINT = "start it, or point DOCKER_HOST or `docker context use` at an engine that runs"


@pytest.mark.parametrize("host, why", [
    ("tcp://localhost:99999", "Port out of range 0-65535"),
    ("tcp://localhost:abc", "Port could not be cast to integer value as 'abc'"),
    ("tcp://[::1", "Invalid IPv6 URL"),
    ("foo://bar", "Invalid bind address protocol: foo://bar"),
])
@pytest.mark.parametrize("command", ["up", "down", "status", "diff-live"])
def test_a_malformed_engine_address_is_one_line_naming_it(tmp_path, host, why, command):
    args = {"up": ("up", ARTICLE), "down": ("down", "--workload", "pod/api-gateway"), "status": ("status",),
            "diff-live": ("diff", ARTICLE, "--compose", str(tmp_path / "out" / "compose.yaml"), "--live")}[command]
    if command == "diff-live":
        assert run_parity("k8s-to-docker", ARTICLE, "-o", str(tmp_path / "out")).returncode == 0
    result = run_parity(*args, env={"DOCKER_HOST": host, "PARITY_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 2
    assert result.stderr.decode() == f"parity: cannot reach the Docker engine at {host} (DOCKER_HOST): {why}; {HINT}\n"
    assert not (tmp_path / "state").exists()
