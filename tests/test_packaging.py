"""parity as others install and run it (issue 15): `pipx install`, the pre-commit hook of
.pre-commit-hooks.yaml through `pre-commit try-repo`, the licence metadata. These install parity from
this checkout into fresh environments (PyPI reached for its dependencies): about a minute each."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from parity import __version__

from .conftest import ROOT, run_parity


def test_pipx_install_then_parity_version(tmp_path):
    env = {**os.environ, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
           "PIPX_MAN_DIR": str(tmp_path / "man")}
    install = subprocess.run([sys.executable, "-m", "pipx", "install", str(ROOT)], env=env, capture_output=True,
                             text=True, timeout=900)
    assert install.returncode == 0, install.stderr
    version = subprocess.run([str(tmp_path / "bin" / "parity"), "version", "--format", "json"], env=env,
                             capture_output=True, cwd=tmp_path, timeout=120)
    assert version.returncode == 0, version.stderr
    doc = json.loads(version.stdout)
    assert (doc["format"], doc["parity"]) == ("parity.version/v1", __version__)
    assert tuple(int(p) for p in doc["docker_sdk"].split(".")[:2]) >= (7, 2)
    licence = subprocess.run([str(tmp_path / "pipx" / "venvs" / "parity" / "bin" / "python"), "-c",
                              "import importlib.metadata as m; print(m.metadata('parity')['License-Expression'])"],
                             capture_output=True, text=True, timeout=120)
    assert licence.stdout == "Apache-2.0\n", licence.stderr  # the installed distribution says its licence


def _sample_repo(path: Path) -> None:
    """A project as a user keeps it: manifests under k8s/, the generated compose setup at the root,
    and YAML that is not Kubernetes (the compose file, Helm-style values) beside them."""
    manifests = ROOT / "manifests" / "api-gateway"
    result = run_parity("k8s-to-docker", str(manifests), "-o", str(path), "-p", "parity-test-hook")
    assert result.returncode == 0, result.stderr.decode()
    shutil.copytree(manifests, path / "k8s")
    (path / "values.yaml").write_text("replicaCount: 1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run([*git, "add", "-Af", "."], cwd=path, check=True)  # -f: the output's .gitignore says '*'
    subprocess.run([*git, "commit", "-qm", "sample"], cwd=path, check=True)


def test_pre_commit_try_repo_runs_the_hook_on_a_sample_repo(tmp_path):
    sample = tmp_path / "sample"
    _sample_repo(sample)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}

    def try_repo() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "parity-diff",
                               "--all-files"], cwd=sample, env=env, capture_output=True, text=True, timeout=900)

    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "parity diff (Kubernetes manifests vs compose)" in passed.stdout and "Passed" in passed.stdout
    # The compose file drifts from the cluster: the mount becomes writable. The hook fails and says so.
    compose = sample / "compose.yaml"
    compose.write_text(compose.read_text().replace("read_only: true", "read_only: false"))
    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout and "writable" in failed.stdout
