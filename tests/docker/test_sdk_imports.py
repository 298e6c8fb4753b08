"""The Docker SDK's ssh transport (paramiko, with the cryptography bindings) is imported only when an
``ssh://`` engine uses it (issue 17: it was a quarter of a warm ``parity up``'s CPU): every command
that talks to an engine imports parity.docker.engine before the SDK, which puts a stand-in in its
place; commands that do not (layout, k8s-to-docker) never look for it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..conftest import ROOT

ENGINE_MODULES = "parity.up, parity.down, parity.status, parity.docker.liveproject"


def python(code: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return proc.stdout.split()


@pytest.mark.parametrize("imports", [
    "import parity.up", "import parity.down", "import parity.status",
    # diff --live imports the SDK in a thread while Compose reads the file
    "from parity.docker.liveproject import import_engine_client_meanwhile\nimport_engine_client_meanwhile().join()",
])
def test_engine_commands_leave_paramiko_unimported_until_it_is_used(imports):
    assert python(f"import sys\n{imports}\nimport docker\n"
                  "print('paramiko.transport' in sys.modules, type(sys.modules['paramiko']).__name__)\n"
                  "import paramiko\n"
                  "print(paramiko.SSHClient.__module__, type(sys.modules['paramiko']).__name__)\n"
                  "import docker.transport.sshconn as s\n"
                  "print(s.paramiko.RejectPolicy is sys.modules['paramiko'].RejectPolicy)") == [
        "False", "_Deferred", "paramiko.client", "module", "True"]


def test_an_ssh_engine_fails_as_it_did_without_the_stand_in():
    # Port 9 (discard) on localhost: nothing answers ssh there, so the SDK's paramiko client fails to connect.
    code = ("import docker\n"
            "try:\n"
            "    docker.APIClient(base_url='ssh://nobody@127.0.0.1:9', timeout=5).version()\n"
            "except Exception as exc:\n"
            "    print(type(exc).__module__ + '.' + type(exc).__name__)\n")
    assert python(f"import {ENGINE_MODULES}\n" + code) == python(code)


def test_commands_without_an_engine_do_not_look_for_paramiko():
    assert python("import sys, parity.cli, parity.docker, parity.docker.plan, parity.docker.emit\n"
                  "print('paramiko' in sys.modules, 'docker' in sys.modules)") == ["False", "False"]
