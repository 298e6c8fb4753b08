"""Which Compose reads a compose file (issue 17): the docker CLI plugin is run at once, without
``docker compose version`` first (a CLI and a plugin start); only when it fails is Compose probed,
so a missing plugin still ends in the standalone ``docker-compose`` or parity's own reader, as before.
A ``docker`` on PATH that logs its arguments stands in front of the real one."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from ..conftest import ROOT, precondition_missing, run_parity

ARTICLE = str(ROOT / "manifests" / "api-gateway")


def fake_docker(bindir: Path, log: Path, body: str) -> dict:
    """A ``docker`` that logs its arguments, one call a line, then runs ``body``; PATH holds only it."""
    bindir.mkdir()
    script = bindir / "docker"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\n{body}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": str(bindir)}


@pytest.fixture
def generated(tmp_path) -> Path:
    assert run_parity("k8s-to-docker", ARTICLE, "-o", str(tmp_path / "out")).returncode == 0
    return tmp_path / "out" / "compose.yaml"


def test_the_compose_plugin_reads_the_file_without_a_version_probe(tmp_path, generated):
    real = shutil.which("docker")
    if real is None or run_parity("version").returncode != 0:
        precondition_missing("no docker CLI: run scripts/testbed.sh")
    log = tmp_path / "calls.log"
    env = fake_docker(tmp_path / "bin", log, f'exec {real} "$@"')
    result = run_parity("diff", ARTICLE, "--compose", str(generated), env=env)
    if "compose" not in log.read_text() or result.returncode == 2:
        precondition_missing("no docker compose plugin here: run scripts/testbed.sh")
    assert result.returncode == 0, result.stderr.decode()
    # (--profile on-demand: a CronJob's services are read too, e34ba76)
    assert log.read_text().splitlines() == [f"compose -f {generated} --profile on-demand config --format json"]


def test_a_missing_plugin_is_probed_and_parity_reads_the_file_itself_as_before(tmp_path, generated):
    log = tmp_path / "calls.log"
    # What the docker CLI says when it has no compose plugin (and nothing else answers).
    env = fake_docker(tmp_path / "bin", log, "echo \"docker: '$1' is not a docker command.\" >&2; exit 1")
    with_fake = run_parity("diff", ARTICLE, "--compose", str(generated), env=env)
    empty = tmp_path / "empty"
    empty.mkdir()
    without = run_parity("diff", ARTICLE, "--compose", str(generated), env={"PATH": str(empty)})
    assert (with_fake.returncode, with_fake.stdout, with_fake.stderr) == (without.returncode, without.stdout,
                                                                         without.stderr)
    assert with_fake.returncode == 0, with_fake.stderr.decode()
    assert log.read_text().splitlines() == [f"compose -f {generated} --profile on-demand config --format json",
                                            "compose version"]


#: Fields the diff's readers take from a compose service (facets.py, static_layout.py, the fallback
#: reader itself), malformed as a hand-written file can have them, and Compose's line for each
#: (``docker compose config``: compose-go's schema, ``validating FILE: PATH must be a TYPE``).
MALFORMED = [
    ("cap_add", 5, "cap_add must be a array"),
    ("healthcheck", [1], "healthcheck must be a mapping"),
    ("mem_limit", {}, "mem_limit must be a number or string"),
    ("user", [], "user must be a string"),
    ("sysctls", 3, "sysctls must be a mapping"),
    ("group_add", 3, "group_add must be a array"),
    ("security_opt", 3, "security_opt must be a array"),
    ("deploy", 3, "deploy must be a mapping or null"),
    ("deploy", {"resources": {"limits": {"memory": []}}}, "deploy.resources.limits.memory must be a string"),
    ("tmpfs", 3, "tmpfs must be a string"),
    ("volumes_from", 3, "volumes_from must be a array"),
    ("volumes", 5, "volumes must be a array"),
    ("healthcheck", {"test": [1]}, "healthcheck.test.0 must be a string"),
    ("secrets", 5, "secrets must be a array"),
    ("volumes", [{"type": "bind", "source": "/tmp", "target": "/x", "volume": 5}], "volumes.0.volume must be a mapping"),
    ("volumes", [{"type": "volume", "target": "/x", "read_only": []}], "volumes.0.read_only must be a boolean or string"),
]


def diff_without_compose(tmp_path: Path, generated: Path, field: str, value) -> tuple[Path, object]:
    """The generated compose file with ``services.api-gateway.FIELD`` set to ``value``, diffed with an
    empty PATH (no Compose: parity's fallback reader): (the edited file, the run)."""
    import yaml

    config = yaml.safe_load(generated.read_text())
    config["services"]["api-gateway"][field] = value
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    empty = tmp_path / "empty"
    empty.mkdir()
    return bad, run_parity("diff", ARTICLE, "--compose", str(bad), env={"PATH": str(empty)})


@pytest.mark.parametrize("field,value,message", MALFORMED, ids=[f"{f}={v!r}" for f, v, _ in MALFORMED])
def test_a_malformed_field_read_without_compose_is_one_line_naming_the_file_service_and_field(
        tmp_path, generated, field, value, message):
    """Without Compose, parity's fallback reader checks the types of what the diff reads, as Compose's
    schema does: one line, the file, ``services.SERVICE.FIELD``, exit 2 (``cap_add: 5``, ``volumes: 5``,
    ``group_add: 3``... were tracebacks; ``user: []``, ``mem_limit: {}``... gave "no differences")."""
    bad, result = diff_without_compose(tmp_path, generated, field, value)
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", f"parity: {bad}: not a valid Compose file: services.api-gateway.{message}\n")
    if shutil.which("docker"):  # Compose itself says the same
        assert run_parity("diff", ARTICLE, "--compose", str(bad)).stderr == result.stderr


def test_a_volume_without_target_read_without_compose_is_one_line(tmp_path, generated):
    """A long-syntax volume without ``target`` (Compose: "service volume services.S.volumes.[0] is
    missing a mount target") was a KeyError traceback in the fallback reader's mounts
    (static_layout's ``v["target"]``); now one line naming the file, service and volume, exit 2."""
    bad, result = diff_without_compose(tmp_path, generated, "volumes", [{"type": "volume", "source": "x"}])
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", f"parity: {bad}: not a valid Compose file: services.api-gateway.volumes.0 is missing a mount target\n")
