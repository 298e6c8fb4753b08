"""Which Compose reads a compose file (issue 17): the docker CLI's Compose plugin, found as the CLI
finds it and run directly as the CLI runs it (one process, not the CLI and two plugin runs), at
once, without ``docker compose version`` first; only when it fails is Compose probed, so a missing
plugin still ends in the standalone ``docker-compose`` or parity's own reader, as before. A
``docker`` on PATH and a plugin in ``$DOCKER_CONFIG/cli-plugins`` that log their arguments stand in
front of the real ones."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from parity.docker.compose import SYSTEM_PLUGIN_DIRS, find_plugin, plugin_dirs

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


def fake_plugin(config: Path, log: Path, body: str) -> Path:
    """A Compose plugin in ``config``/cli-plugins (``DOCKER_CONFIG``'s, where the docker CLI looks
    first) that logs the ``DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND`` it was given and its arguments,
    then runs ``body``."""
    plugins = config / "cli-plugins"
    plugins.mkdir(parents=True)
    script = plugins / "docker-compose"
    script.write_text(f'#!/bin/sh\necho "$DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND $*" >> {log}\n{body}\n')
    script.chmod(0o755)
    return script


def test_the_plugin_is_run_as_the_docker_cli_runs_it_without_the_cli(tmp_path, generated):
    """The Compose plugin the docker CLI would run (here the one in ``$DOCKER_CONFIG/cli-plugins``,
    which the CLI looks at before the system's directories) reads the file, run directly as the CLI
    runs it (``compose ARGS``, ``DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND=docker``): one process instead
    of the CLI and two plugin runs (issue 17). The docker CLI itself is not run at all; the old code
    ran ``docker compose config``."""
    real_docker, real_plugin = shutil.which("docker"), find_plugin()
    if real_docker is None or real_plugin is None or run_parity("version").returncode != 0:
        precondition_missing("no docker CLI and Compose plugin: run scripts/testbed.sh")
    docker_log, plugin_log = tmp_path / "docker.log", tmp_path / "plugin.log"
    env = fake_docker(tmp_path / "bin", docker_log, f'exec {real_docker} "$@"')
    fake_plugin(tmp_path / "config", plugin_log, f'exec {real_plugin} "$@"')
    result = run_parity("diff", ARTICLE, "--compose", str(generated), env={**env, "DOCKER_CONFIG": str(tmp_path / "config")})
    assert result.returncode == 0, result.stderr.decode()
    # (--profile on-demand: a CronJob's services are read too, e34ba76)
    assert plugin_log.read_text().splitlines() == [
        f"docker compose -f {generated} --profile on-demand config --format json"]
    assert not docker_log.exists()


def test_a_plugin_that_fails_is_probed_and_parity_reads_the_file_itself_as_before(tmp_path, generated):
    """The plugin found fails as a missing one does (and the docker CLI has none either): Compose is
    probed (``docker compose version``), there is none, and parity reads the file itself, exactly
    as with no Compose at all."""
    docker_log, plugin_log = tmp_path / "docker.log", tmp_path / "plugin.log"
    # What the docker CLI says when it has no compose plugin (and nothing else answers).
    env = fake_docker(tmp_path / "bin", docker_log, "echo \"docker: '$1' is not a docker command.\" >&2; exit 1")
    fake_plugin(tmp_path / "config", plugin_log, "echo 'exec format error' >&2; exit 1")
    with_fake = run_parity("diff", ARTICLE, "--compose", str(generated),
                           env={**env, "DOCKER_CONFIG": str(tmp_path / "config")})
    empty = tmp_path / "empty"
    empty.mkdir()
    without = run_parity("diff", ARTICLE, "--compose", str(generated), env={"PATH": str(empty)})
    assert (with_fake.returncode, with_fake.stdout, with_fake.stderr) == (without.returncode, without.stdout,
                                                                         without.stderr)
    assert with_fake.returncode == 0, with_fake.stderr.decode()
    assert plugin_log.read_text().splitlines() == [
        f"docker compose -f {generated} --profile on-demand config --format json"]
    assert docker_log.read_text().splitlines() == ["compose version"]


def run_parity_without_system_plugins(*args: str, env: dict) -> subprocess.CompletedProcess:
    """``run_parity`` on a machine whose docker/cli system plugin directories are empty (this one's
    are not: parity's list of them is emptied in the process)."""
    code = ("import sys; import parity.docker.compose as c; c.SYSTEM_PLUGIN_DIRS = (); "
            "from parity.cli import run; sys.argv = ['parity', *sys.argv[1:]]; run()")
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, cwd=ROOT, env=full_env)


def test_no_plugin_anywhere_runs_docker_compose_then_probes_and_reads_the_file_itself_as_before(tmp_path, generated):
    """No plugin in any directory the CLI searches: parity runs ``docker compose config`` through
    the CLI as before (a CLI may have been built with directories of its own), and when that fails,
    probes and reads the file itself, exactly as with no Compose at all."""
    docker_log = tmp_path / "docker.log"
    env = fake_docker(tmp_path / "bin", docker_log, "echo \"docker: '$1' is not a docker command.\" >&2; exit 1")
    (tmp_path / "config").mkdir()
    env.update({"DOCKER_CONFIG": str(tmp_path / "config"), "HOME": str(tmp_path)})
    with_fake = run_parity_without_system_plugins("diff", ARTICLE, "--compose", str(generated), env=env)
    empty = tmp_path / "empty"
    empty.mkdir()
    without = run_parity("diff", ARTICLE, "--compose", str(generated), env={"PATH": str(empty)})
    assert (with_fake.returncode, with_fake.stdout, with_fake.stderr) == (without.returncode, without.stdout,
                                                                         without.stderr)
    assert docker_log.read_text().splitlines() == [f"compose -f {generated} --profile on-demand config --format json",
                                                   "compose version"]


def test_the_plugin_directories_are_the_docker_clis_in_its_order(tmp_path, monkeypatch):
    """docker/cli cli-plugins/manager ``getPluginDirs``: the config file's ``cliPluginsExtraDirs``,
    then the config directory's ``cli-plugins`` (``$DOCKER_CONFIG``, else ``~/.docker``), then
    ``defaultSystemPluginDirs``; the first directory holding ``docker-compose`` is the one run."""
    assert SYSTEM_PLUGIN_DIRS == ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                                  "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")
    system = [tmp_path / f"system{i}" for i in range(4)]
    monkeypatch.setattr("parity.docker.compose.SYSTEM_PLUGIN_DIRS", tuple(map(str, system)))
    config, extra = tmp_path / "config", tmp_path / "extra"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": [str(extra)]}))
    env = {"DOCKER_CONFIG": str(config), "HOME": str(tmp_path / "home")}
    assert plugin_dirs(env) == [str(extra), str(config / "cli-plugins"), *map(str, system)]
    assert plugin_dirs({"HOME": str(tmp_path / "home")}) == [str(tmp_path / "home" / ".docker" / "cli-plugins"),
                                                             *map(str, system)]
    order = [extra, config / "cli-plugins", *system]
    for directory in order:
        directory.mkdir(exist_ok=True)
        (directory / "docker-compose").write_text("#!/bin/sh\n")
        (directory / "docker-compose").chmod(0o755)
    for i, directory in enumerate(order):
        assert find_plugin(env) == str(directory / "docker-compose"), i
        (directory / "docker-compose").unlink()
    assert find_plugin(env) is None


def test_the_extra_plugin_directories_key_is_read_whatever_its_case(tmp_path):
    """The CLI reads config.json with Go's encoding/json: a key matches its field whatever its case
    (``clipluginsextradirs``), the last match winning; parity read the exact key only, and so ran
    another plugin than ``docker compose`` did (the review's reproduction)."""
    config = tmp_path / "config"
    config.mkdir()
    env = {"DOCKER_CONFIG": str(config), "HOME": str(tmp_path)}
    for text, first in (('{"clipluginsextradirs": ["/lower"]}', "/lower"),
                        ('{"cliPluginsExtraDirs": ["/a"], "CLIPLUGINSEXTRADIRS": ["/b"]}', "/b"),
                        ('["not", "an", "object"]', str(config / "cli-plugins"))):
        (config / "config.json").write_text(text)
        assert plugin_dirs(env)[0] == first, text


def test_the_first_plugin_found_is_the_one_or_none_as_in_the_docker_cli(tmp_path, monkeypatch):
    """The CLI runs the first ``docker-compose`` that exists and looks no further: one that is not an
    executable file means no plugin (parity then runs ``docker compose`` and the CLI says what it
    says); a dangling link does not exist (the CLI's ``os.Stat``), so the next directory is tried."""
    system = tmp_path / "system"
    system.mkdir()
    (system / "docker-compose").write_text("#!/bin/sh\n")
    (system / "docker-compose").chmod(0o755)
    monkeypatch.setattr("parity.docker.compose.SYSTEM_PLUGIN_DIRS", (str(system),))
    plugins = tmp_path / "config" / "cli-plugins"
    plugins.mkdir(parents=True)
    env = {"DOCKER_CONFIG": str(tmp_path / "config")}
    (plugins / "docker-compose").symlink_to(tmp_path / "gone")
    assert find_plugin(env) == str(system / "docker-compose")
    (plugins / "docker-compose").unlink()
    (plugins / "docker-compose").write_text("not executable")
    assert find_plugin(env) is None
    (plugins / "docker-compose").unlink()
    (plugins / "docker-compose").mkdir()
    assert find_plugin(env) is None


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
