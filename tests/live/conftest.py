"""Fixtures the live tests share."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import precondition_missing, run_parity, unique_name
from .engineproxy import engine_socket
from .helpers import engine_objects


@pytest.fixture
def proxy_dir():
    """A short private directory for an ``EngineProxy`` socket (AF_UNIX paths are limited to ~108
    bytes, so not under pytest's tmp_path), removed afterwards. An engine that is not on a Unix socket
    cannot have the proxy in front of it: a missing precondition (a failure under ``CI=true``)."""
    if engine_socket() is None:
        precondition_missing("the engine is not on a Unix socket: the proxy cannot stand in front of it")
    directory = tempfile.mkdtemp(prefix="parity-proxy-", dir="/tmp")
    yield Path(directory)
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class OwnProject:
    """A project of one test's own (``unique_name``: runs in parallel and a user's projects never share
    it) with a private state directory, for ``parity up -p``/``status -p``/``down -p``."""

    name: str
    env: dict[str, str]

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess:
        """``parity COMMAND ARGS... -p NAME`` with this project's state directory."""
        return run_parity(command, *args, "-p", self.name, env=self.env)


@pytest.fixture
def own_project(tmp_path, docker_client):
    """An ``OwnProject`` (``parity-test-XXXXXXXX``, state under tmp_path); afterwards ``parity down -p``
    removes whatever ``up`` made for it (claims too), and nothing else."""
    project = OwnProject(unique_name("parity-test"), {"PARITY_STATE_DIR": str(tmp_path / "state")})
    yield project
    project.run("down", "--delete-claims")


@pytest.fixture
def leaves_nothing_behind(docker_client):
    """Snapshot before, compare after: the test leaves no live diff's throw-away project, and no object
    of the diff tests' own names, behind (``engine_objects``). A file's tests use it with
    ``pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")``."""
    before = engine_objects(docker_client)
    yield
    after = engine_objects(docker_client)
    assert {kind: after[kind] - before[kind] for kind in after} == {kind: set() for kind in after}
