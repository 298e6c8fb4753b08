"""No skipped test in CI (developer guide): a test whose precondition this machine lacks (an engine,
a tool, root) stops through ``tests/conftest.py``'s ``precondition_missing``, which fails it under
``CI=true`` and skips it elsewhere; no test skips any other way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

from .conftest import ROOT

#: The ways pytest offers to skip a test (spelled in pieces, so that this file does not match itself).
SKIPS = re.compile(r"pytest\.(skip\(|importorskip\(|mark\.skip)|\bskip" + r"if\b")

TINY = textwrap.dedent("""\
    from tests.conftest import docker_client, precondition_missing

    def test_a_tool_that_is_not_there():
        precondition_missing("frobnicate is not installed")

    def test_the_engine(docker_client):
        pass
    """)


def run_pytest(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    """pytest on TINY (a missing tool; an engine at a socket nobody listens on), as CI=``ci`` would."""
    (tmp_path / "test_tiny.py").write_text(TINY)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PYTHONPATH=str(ROOT), DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "test_tiny.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def summary(result: subprocess.CompletedProcess) -> list[str]:
    """The lines of pytest's short test summary and its count line, the skips' locations cut."""
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    return [re.sub(r"^SKIPPED \[1\] \S+: ", "SKIPPED: ", re.sub(r" in [0-9.]+s$", "", line))
            for line in lines[start + 1:]]


ENGINE = "no Docker engine answers (DockerException); run scripts/testbed.sh"


def test_under_ci_a_missing_precondition_fails_the_test(tmp_path):
    result = run_pytest(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert summary(result) == [
        "FAILED test_tiny.py::test_a_tool_that_is_not_there - Failed: frobnicate is not installed "
        "(CI=true: a missing precondition fails)",
        f"ERROR test_tiny.py::test_the_engine - Failed: {ENGINE} (CI=true: a missing precondition fails)",
        "1 failed, 1 error"], result.stdout


def test_elsewhere_a_missing_precondition_skips_the_test_with_its_reason(tmp_path):
    result = run_pytest(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert summary(result) == ["SKIPPED: frobnicate is not installed", f"SKIPPED: {ENGINE}", "2 skipped"], result.stdout


def test_no_test_skips_other_than_through_precondition_missing():
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name == "test_preconditions.py":
            continue
        for line in path.read_text().splitlines():
            if SKIPS.search(line):
                found.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert found == ["tests/conftest.py: pytest.skip(reason)"]
