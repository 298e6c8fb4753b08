"""``parity diff`` (static) reads a Dockerfile and its build context as the builder does.

Each case of ``tests/dockerfilecases.py`` writes the data image one way users write Dockerfiles; the
static diff must give exactly the verdict it gives for the same files written with plain ``COPY``,
or say ``unknown`` where the builder's rules cannot be read statically. The live tests hold the same
cases against the engine. The bounds: no build context read makes the static diff hold more than a
chunk of a file, expand an archive without end, or open a file outside the context.
"""

from __future__ import annotations

import bz2
import lzma
import subprocess
import sys
import tarfile
import zlib

import pytest

from .conftest import ROOT
from .diffcases import ARTICLE, GW, NO_AUTOMOUNT, verdict
from .dockerfilecases import CASES, COPY_ALL, SERVICE_VARIABLES, member, plain_setup, tenants, write_setup

UNKNOWN = (GW, "/etc/secrets", "unknown")
#: The setups here are hand-written with no service-account mount: the pod is checked without one.
INPUTS = [str(ARTICLE), str(NO_AUTOMOUNT)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_dockerfile_is_read_as_the_builder_reads_it(tmp_path, name):
    case = CASES[name]
    got = verdict(INPUTS, write_setup(tmp_path / "case", case.dockerfile, case.fill, case.build))
    if case.unknown:
        assert got.kinds == {UNKNOWN}
        return
    plain = verdict(INPUTS, plain_setup(tmp_path / "plain", case))
    assert UNKNOWN not in plain.kinds
    assert (got.exit_code, got.facts()) == (plain.exit_code, plain.facts())


def _unknown_detail(tmp_path, dockerfile, fill, peak_mib: int | None = None) -> str:
    compose = write_setup(tmp_path / "setup", dockerfile, fill)
    v = verdict(INPUTS, compose)
    assert v.kinds == {UNKNOWN}
    if peak_mib is not None:
        assert peak_rss_mib(tmp_path, compose) < peak_mib
    return v.find(*UNKNOWN)["detail"]


_MEASURED = """\
import atexit, runpy, sys
out = sys.argv.pop(1)
hwm = lambda: [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
atexit.register(lambda: open(out, "w").write(hwm()))
sys.argv[0] = "parity"
runpy.run_module("parity.cli", run_name="__main__")
"""


def peak_rss_mib(tmp_path, compose) -> float:
    """The static diff of ``compose`` run again in a process of its own: its peak resident memory
    (``VmHWM``: the high-water mark of its own address space, not the forking parent's)."""
    out = tmp_path / "maxrss"
    subprocess.run([sys.executable, "-c", _MEASURED, str(out), "diff", *INPUTS, "--compose", str(compose)],
                   cwd=ROOT, capture_output=True, check=False)
    return int(out.read_text()) / 1024


def test_sparse_tar_added_in_a_dockerfile_is_not_expanded(tmp_path):
    """A 10 kB tar whose sparse member is 8 GiB: the static diff reads the size from the header and
    says unknown with the bound, never expanding the member (the diff process stays small)."""
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate(8 * 1024 ** 3)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    subprocess.run(["tar", "--sparse", "-cf", str(ctx / "sparse.tar"), "-C", str(tmp_path), "big"], check=True)
    assert (ctx / "sparse.tar").stat().st_size < 64 * 1024
    detail = _unknown_detail(tmp_path, "FROM busybox:latest\nADD sparse.tar /etc/secrets/\n",
                             lambda c: (c / "sparse.tar").write_bytes((ctx / "sparse.tar").read_bytes()), 100)
    assert "big" in detail and "256 MiB" in detail and "--live" in detail


def _compressed(compress: str, name: str, mib: int) -> bytes:
    """A tar of one member of ``mib`` MiB of zeros, compressed chunk by chunk (never held whole:
    a child process starts with its parent's memory, and the tests measure the child's)."""
    header = member(name, mode=0o644)
    header.size = mib * 1024 * 1024
    compressor = {"gzip": lambda: zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS),
                  "bzip2": lambda: bz2.BZ2Compressor(9), "xz": lambda: lzma.LZMACompressor()}[compress]()
    out = [compressor.compress(header.tobuf(tarfile.GNU_FORMAT))]
    chunk = b"\0" * (1024 * 1024)
    for _ in range(mib):
        out.append(compressor.compress(chunk))
    out.append(compressor.compress(b"\0" * 1024) + compressor.flush())
    return b"".join(out)


@pytest.mark.parametrize("compress", ["gzip", "bzip2", "xz"])
def test_compressed_tar_bomb_stops_at_the_bound(tmp_path, compress):
    """A small compressed tar that expands to 300 MiB of members (ADD extracts gzip, bzip2 and xz):
    decompressed in chunks, charged to the bound, unknown past it."""

    bomb = _compressed(compress, "zeros", 300)
    assert len(bomb) < 2 * 1024 * 1024
    detail = _unknown_detail(tmp_path, "FROM busybox:latest\nADD bomb /etc/secrets/\n",
                             lambda c: (c / "bomb").write_bytes(bomb), 100)
    assert "256 MiB" in detail


def test_symlink_in_the_context_is_followed_inside_it(tmp_path):
    """A source symlink to an absolute path is resolved with the context as root (as the builder
    does): the file outside the context is never read."""
    def fill(ctx):
        tenants()(ctx)
        (ctx / "etc").mkdir()
        (ctx / "etc" / "tenant1").write_text((ctx / "tenant1").read_text())
        (ctx / "tenant1").unlink()
        (ctx / "tenant1").symlink_to("/etc/tenant1")

    v = verdict(INPUTS, write_setup(tmp_path / "case", "FROM busybox:latest\n" + COPY_ALL, fill))
    plain = verdict(INPUTS, write_setup(tmp_path / "plain", "FROM busybox:latest\n" + COPY_ALL, tenants()))
    assert v.facts() == plain.facts()


def test_legacy_builder_chmod_is_unknown(tmp_path, monkeypatch):
    """``DOCKER_BUILDKIT=0`` selects the legacy builder, which refuses ``--chmod``: unknown, with why."""
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    detail = _unknown_detail(tmp_path, "FROM busybox:latest\nCOPY --chmod=644 tenant1 tenant2 tenant3 /etc/secrets/\n",
                             tenants(0o600))
    assert "legacy builder" in detail


def test_gzip_member_is_hashed_not_held(tmp_path):
    """A 100 MiB file in a gzip'd tar (under the bound) is hashed in chunks: the verdict is the
    content difference, and the diff process stays far below the member's size."""
    packed = _compressed("gzip", "tenant1", 100)
    compose = write_setup(
        tmp_path / "setup", "FROM busybox:latest\nCOPY tenant2 tenant3 /etc/secrets/\nADD t.tgz /etc/secrets/\n",
        lambda c: (tenants()(c), (c / "t.tgz").write_bytes(packed)))
    d = verdict(INPUTS, compose).find(GW, "/etc/secrets/tenant1", "content")
    assert d["actual"].startswith(f"{100 * 1024 * 1024} bytes sha256:")
    assert peak_rss_mib(tmp_path, compose) < 100


def test_sparse_file_in_a_bind_source_is_not_read_whole(tmp_path):
    """A bind mount's source holding a 1 GiB sparse file: its size is checked from ``fstat`` before a
    byte is read, the mount is unknown with the bound, and the diff process stays small."""
    secrets = tmp_path / "secrets"
    tenants()(secrets)
    with open(secrets / "huge", "wb") as f:
        f.truncate(1024 ** 3)
    compose = tmp_path / "compose.yaml"
    compose.write_text(SERVICE_VARIABLES + f"services:\n  {GW}:\n    image: busybox:latest\n"
                       "    environment: *service-variables\n    volumes:\n"
                       f"      - {secrets}:/etc/secrets:ro\n      - {tmp_path}/termination-log:/dev/termination-log\n")
    v = verdict(INPUTS, compose)
    assert v.kinds == {UNKNOWN}
    detail = v.find(*UNKNOWN)["detail"]
    assert detail.startswith(f"bind source {secrets}: {secrets}/huge: ") and "256 MiB" in detail
    assert peak_rss_mib(tmp_path, compose) < 100


def test_a_fifo_for_a_dockerfile_is_unknown_not_a_hang(tmp_path):
    """A build context whose Dockerfile is a FIFO (or .dockerignore is): opened without blocking and
    refused by its type, so the static diff says unknown instead of waiting for a writer for ever."""
    import os

    for name in ("Dockerfile", ".dockerignore"):
        ctx = tmp_path / name / "data"
        ctx.mkdir(parents=True)
        if name != "Dockerfile":
            (ctx / "Dockerfile").write_text("FROM busybox:latest\n" + COPY_ALL)
        os.mkfifo(ctx / name)
        compose = tmp_path / name / "compose.yaml"
        compose.write_text(f"services:\n  {GW}:\n    build: ./data\n")
        result = subprocess.run([sys.executable, "-m", "parity.cli", "diff", *INPUTS, "--compose", str(compose),
                                 "--format", "json"], cwd=ROOT, capture_output=True, timeout=120)
        assert result.returncode == 1, result.stderr
        assert f"{ctx / name}: not a regular file (a FIFO)" in result.stdout.decode()


def test_a_directory_swapped_for_a_symlink_after_resolving_cannot_lead_the_read_out(tmp_path):
    """A context path is resolved, then a directory on it is swapped for a symlink to outside the
    context (as a racing process would): the read opens every step beneath the context root with
    O_NOFOLLOW and refuses, instead of hashing the file outside."""
    from parity.docker.buildcontext import Budget, Context
    from parity.docker.dockerfile import Unreadable

    root, outside = tmp_path / "ctx", tmp_path / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    (root / "d" / "f").write_text("inside")
    (outside / "f").write_text("outside")
    ctx = Context(str(root), "Dockerfile")
    rel = ctx.resolve("d/f")
    assert rel == "d/f" and ctx.digest(rel, Budget(), "d/f")[0].st_size == len("inside")
    (root / "d").rename(root / "d.old")
    (root / "d").symlink_to(outside)
    with pytest.raises(Unreadable, match="changed to a symlink while read"):
        ctx.digest(rel, Budget(), "d/f")
