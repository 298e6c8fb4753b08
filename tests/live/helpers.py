"""Live-test helpers: generate a setup, bring it up with the real Compose, read it back, tear down."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

from parity.compare import compare_containers
from parity.docker.readback import container_layout
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import run_parity, unique_name


def predicted(*manifests: str, workload: str | None = None):
    inputs = load_inputs(list(manifests))
    (layout,) = build_layouts(inputs, select_workloads(inputs, workload))
    return layout


def test_project() -> tuple[str, ...]:
    """``-p`` with a project of the test's own: never the default name a user's ``parity up`` or
    ``docker compose up`` of the same example uses (their objects would be the test's to remove)."""
    return ("-p", unique_name("parity-test"))


def generate(out: Path, *manifests: str, extra: tuple[str, ...] = ()) -> dict:
    own = () if "-p" in extra else test_project()
    result = run_parity("k8s-to-docker", *manifests, "-o", str(out), "--format", "json", *own, *extra)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def compose(directory: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", "compose", "-f", str(directory / "compose.yaml"), *args],
                          capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, f"docker compose {' '.join(args)} failed:\n{proc.stderr}"
    return proc


@contextlib.contextmanager
def compose_up(directory: Path, summary: dict):
    """``docker compose up -d --build`` as a user would run it, the on-demand services (a CronJob's)
    too, so that every container the file has is there to read; everything removed afterwards."""
    try:
        compose(directory, "--profile", "on-demand", "up", "-d", "--build")
        yield
    finally:
        compose(directory, "--profile", "on-demand", "down", "-v", "-t", "0", check=False)
        for image in summary.get("images", []):
            subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)


def compose_container(client, project: str, service: str):
    found = client.containers.list(all=True, filters={"label": [f"com.docker.compose.project={project}",
                                                                 f"com.docker.compose.service={service}"]})
    assert len(found) == 1, f"expected one container for {service}, got {len(found)}"
    return found[0]


def differences_against_cluster(client, project: str, layout, name_of=lambda c: c.name):
    """Every container read back through the engine and compared with the kubelet prediction."""
    out = []
    for c in layout.containers:
        ctr = compose_container(client, project, name_of(c))
        actual = container_layout(ctr, c.name, [m.path for m in c.mounts], init=c.init)
        out.extend(compare_containers(c, actual))
    return out


def write_as_root(container, path: str) -> tuple[int, str]:
    """Try to create a file under (or replace) ``path`` as root inside a running container."""
    target = f"{path}/.parity-write-test" if not path.endswith((".netrc",)) else path
    result = container.exec_run(["sh", "-c", f"echo x > '{target}'"], user="0")
    return result.exit_code, result.output.decode(errors="replace")
