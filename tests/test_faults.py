"""Faults without an engine: signals while an output is written, a full or read-only output
filesystem, and an engine that does not answer. Each: a clear line, the right exit code, no
traceback, nothing left behind (no temporary copy of secrets, no half-written output)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import ROOT, precondition_missing, run_parity

RICHER = str(ROOT / "manifests" / "richer")
ARTICLE = str(ROOT / "manifests" / "api-gateway")
SLOW_WRITE = ROOT / "tests" / "fixtures" / "slow_write"  # sitecustomize: PARITY_TEST_WRITE_DELAY


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def start_slow(args: list[str], cwd: Path, delay: float = 0.3) -> subprocess.Popen:
    # The checkout's parity (not an installed one), with the slow-write sitecustomize in front.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(SLOW_WRITE), str(ROOT))),
           "PARITY_TEST_WRITE_DELAY": str(delay)}
    return subprocess.Popen([sys.executable, "-m", "parity.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_temp_copy(parent: Path, name: str, proc: subprocess.Popen) -> Path:
    """The .NAME.parity-XXXX directory, once a first file is in it: the write is under way."""
    deadline = time.time() + 30
    while time.time() < deadline:
        for p in parent.glob(f".{name}.parity-*"):
            if any(p.iterdir()):
                return p
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    raise AssertionError("no temporary directory appeared")


@pytest.mark.parametrize("signum, code, message", [(signal.SIGINT, 130, "parity: interrupted\n"),
                                                    (signal.SIGTERM, 143, "")])
def test_a_signal_mid_write_leaves_no_temporary_copy_and_no_output(signum, code, message, tmp_path):
    """A real SIGINT (Ctrl-C) or SIGTERM while k8s-to-docker writes: exit 130/143, no traceback, and
    afterwards neither the temporary directory (it held the secrets) nor an output directory, nor
    the parent directories -o asked for."""
    (tmp_path / "cwd").mkdir()
    proc = start_slow(["k8s-to-docker", RICHER, "-o", str(tmp_path / "new" / "out")], tmp_path / "cwd")
    temp = wait_for_temp_copy(tmp_path / "new", "out", proc)
    assert temp.stat().st_mode & 0o077 == 0  # the temporary copy itself is owner-only
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.decode(), out) == (code, message, b"")
    assert tree(tmp_path) == ["cwd"]


def test_ctrl_c_while_replacing_with_force_keeps_the_previous_output(tmp_path):
    """--force replaces an existing output only once the new one is complete: Ctrl-C while the new
    one is written leaves the previous output exactly as it was, and no temporary directory."""
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", ARTICLE, "-o", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = start_slow(["k8s-to-docker", RICHER, "-o", str(out), "--force"], tmp_path)
    wait_for_temp_copy(tmp_path, "out", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err.decode()) == (130, "parity: interrupted\n")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_success_and_force_leave_no_temporary_or_old_directory(tmp_path):
    """After a write and a --force replacement: only the output, no .out.parity-* or .out.old-*."""
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", ARTICLE, "-o", str(out)).returncode == 0
    assert run_parity("k8s-to-docker", RICHER, "-o", str(out), "--force").returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert "deployment-tenant-gateway" in (out / "compose.yaml").read_text()


@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs (root can mount one): writes fail with ENOSPC past that."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    mounted = []

    def mount(options: str) -> Path:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)], capture_output=True)
        if proc.returncode != 0:
            precondition_missing(f"cannot mount a tmpfs here ({proc.stderr.decode().strip()})")
        mounted.append(mnt)
        return mnt

    yield mount
    for m in mounted:
        subprocess.run(["umount", str(m)], check=True)


def big_secret_pod(tmp_path: Path) -> Path:
    """The article's pod with a 300 KB Secret: more than the tiny filesystem holds."""
    path = tmp_path / "big.yaml"
    path.write_text(Path(ARTICLE, "pod.yaml").read_text() + "---\napiVersion: v1\nkind: Secret\n"
                    "metadata: {name: api-gateway-secrets}\nstringData:\n  big: " + "x" * 300_000 + "\n")
    return path


def test_a_full_output_filesystem_is_one_line_and_leaves_nothing(tmp_path, tiny_fs):
    """ENOSPC mid-write: exit 2, one line naming the output directory, and the filesystem is as empty
    as before (the partial temporary copy is gone)."""
    if os.geteuid() != 0:
        precondition_missing("mounting a tmpfs needs root")
    mnt = tiny_fs("size=64k,mode=0755")
    src = big_secret_pod(tmp_path)
    result = run_parity("k8s-to-docker", str(src), "-o", str(mnt / "out"))
    assert (result.returncode, result.stderr.decode()) == (
        2, f"parity: {mnt / 'out'}: cannot write: No space left on device\n")
    assert os.listdir(mnt) == []


def test_a_read_only_output_directory_is_one_line_and_leaves_nothing(tmp_path, tiny_fs):
    """A read-only place for the output: exit 2, one line, nothing created."""
    if os.geteuid() == 0:
        mnt = tiny_fs("size=64k,ro")
        reason = "Read-only file system"
    else:  # without root, permissions stop us (they do not stop root)
        mnt = tmp_path / "ro"
        mnt.mkdir(mode=0o500)
        reason = "Permission denied"
    result = run_parity("k8s-to-docker", ARTICLE, "-o", str(mnt / "sub" / "out"))
    expected = f"parity: {mnt / 'sub' / 'out'}: cannot write: {reason}\n"
    assert (result.returncode, result.stderr.decode()) == (2, expected)
    assert os.listdir(mnt) == []


@pytest.fixture
def closed_socket():
    """A Unix socket nobody listens on: DOCKER_HOST pointing at an engine that is down."""
    directory = tempfile.mkdtemp(prefix="parity-closed-", dir="/tmp")  # short: AF_UNIX paths are limited
    path = os.path.join(directory, "docker.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()  # the file stays; connecting to it is refused
    yield f"unix://{path}"
    os.unlink(path)
    os.rmdir(directory)


ENGINE_DOWN = ("parity: cannot reach the Docker engine at {host} (DOCKER_HOST): connection refused; start it, or "
               "point DOCKER_HOST or `docker context use` at an engine that runs\n")


@pytest.mark.parametrize("command", [["up", ARTICLE], ["down", ARTICLE], ["status"], ["status", "--format", "json"],
                                     ["diff", ARTICLE, "--compose", "{out}/compose.yaml", "--live"]],
                         ids=["up", "down", "status", "status-json", "diff-live"])
def test_engine_down_is_one_clear_line_and_exit_2(command, tmp_path, closed_socket):
    """The engine not answering: exit 2, one line that says so, nothing on stdout, no traceback,
    no state directory and no temporary directory."""
    out = tmp_path / "generated"
    assert run_parity("k8s-to-docker", ARTICLE, "-o", str(out)).returncode == 0
    (tmp_path / "tmp").mkdir()
    before = tree(tmp_path)
    env = {"DOCKER_HOST": closed_socket, "PARITY_STATE_DIR": str(tmp_path / "state"), "TMPDIR": str(tmp_path / "tmp")}
    result = run_parity(*[a.replace("{out}", str(out)) for a in command], env=env)
    stderr = result.stderr.decode()
    assert result.returncode == 2 and result.stdout == b""
    assert stderr == ENGINE_DOWN.format(host=closed_socket)
    assert tree(tmp_path) == before


def test_a_signal_between_the_two_renames_of_a_replacement_cannot_lose_the_output(tmp_path, monkeypatch):
    """Replacing an output is two renames (old aside, new in place): a Ctrl-C between them must not
    leave the output missing and the old one parked under a temporary name. The window is two
    system calls wide, so this one runs in-process: the first rename sends SIGINT to ourselves.
    The signal is held until the swap and the clean-up are done, then delivered."""
    from parity import outdir

    dest = tmp_path / "out"
    outdir.write_atomically(dest, lambda d: (d / "version").write_text("old"))
    real_rename, calls = os.rename, []

    def rename_then_interrupt(src, dst):
        real_rename(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(outdir.os, "rename", rename_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        outdir.write_atomically(dest, lambda d: (d / "version").write_text("new"), force=True)
    assert len(calls) == 2  # both renames ran before the signal was delivered
    assert (dest / "version").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
