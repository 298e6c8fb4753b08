"""What ``parity layout`` imports (issue 17): the layout path only. Start-up is paid by every run, so
what only other commands use (the text renderer's Docker wording, the Docker side) is imported by
them, not by ``parity layout --format json``. Read from Python's own import log (``-X importtime``)."""

from __future__ import annotations

from .conftest import ROOT, run_parity

APP = str(ROOT / "manifests" / "api-gateway")


def _imported(*args: str) -> set[str]:
    proc = run_parity(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0, proc.stderr.decode()
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.decode().splitlines()
            if line.startswith("import time:")}


def test_layout_as_json_imports_neither_the_text_renderer_nor_the_docker_side():
    modules = _imported("layout", "--format", "json", APP)
    assert "parity.kube.kubelet" in modules  # (the log is read: the layout path is in it)
    assert {m.split(".")[0] for m in modules} & {"docker", "kubernetes"} == set()
    assert sorted(m for m in modules if m == "parity.render" or m.startswith("parity.docker.")) == []


def test_layout_as_text_imports_its_renderer():
    modules = _imported("layout", APP)
    assert "parity.render" in modules
    # the status wording's Docker health rules, and fractions for the resource divisors' values
    # (asked only by a pod with a resourceFieldRef divisor): imported by what needs them
    assert sorted(m for m in modules if m.startswith("parity.docker.") or m == "fractions") == []


def test_layout_of_container_resources_does_not_import_fractions(tmp_path):
    """The resources' quantities are checked without their values (``quantity.check``): only a
    resourceFieldRef needs them, and with them the ``fractions`` module (~4 ms of every run that
    had a ``resources`` section: issue 17)."""
    path = tmp_path / "deploy.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers:\n"
                    "    - name: a\n      image: busybox:latest\n"
                    "      resources: {limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 1e3, memory: 1.5Gi}}\n",
                    encoding="utf-8")
    for args in (["--format", "json"], []):
        modules = _imported("layout", *args, str(path))
        assert "parity.kube.containervalidation" in modules
        assert "fractions" not in modules


def test_importing_the_cli_leaves_the_collector_as_it_found_it():
    """``parity.cli`` pauses the cyclic GC while click and its own module load (issue 17: start-up)
    and ends the pause at the end of its module: a program importing it keeps its collector running,
    or stopped, as it was; nothing made meanwhile is left in the young generations to be scanned at
    the next allocation."""
    import subprocess
    import sys

    code = ("import gc, sys\n"
            "if sys.argv[1] == 'off': gc.disable()\n"
            "import parity.cli\n"
            "print(gc.isenabled(), gc.get_count()[1:], gc.get_freeze_count())\n")
    for state, shown in (("on", "True"), ("off", "False")):
        proc = subprocess.run([sys.executable, "-c", code, state], capture_output=True, text=True, cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT)}, check=True)
        assert proc.stdout == f"{shown} (0, 0) 0\n", proc.stdout


def test_importing_the_cli_keeps_what_the_importing_program_froze_frozen():
    """A program that froze its objects (``gc.freeze()``, before forking workers) keeps them frozen
    when it imports parity: ending the pause used to move every frozen object back into the oldest
    generation (review 7, R-H: 8,934 frozen objects -> 0)."""
    import subprocess
    import sys

    code = ("import gc\n"
            "kept = [[] for _ in range(1000)]\n"
            "gc.freeze()\n"
            "before = gc.get_freeze_count()\n"
            "import parity.cli\n"
            "print(gc.isenabled(), gc.get_freeze_count() > before - 100 > 1000)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT)}, check=True)
    assert proc.stdout == "True True\n", proc.stdout
