"""Fixtures the live tests share."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from ..conftest import precondition_missing
from .engineproxy import engine_socket


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
