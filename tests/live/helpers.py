"""Live-test helpers: generate a setup, bring it up with the real Compose, read it back, tear down."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from pathlib import Path

from parity.compare import compare_containers
from parity.docker.labels import COMPOSE_PROJECT
from parity.docker.readback import container_layout
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import run_parity, unique_name


#: A container ``web`` that serves /index.html on its port ``http`` (8080), with a readiness probe
#: that gets it every second (busybox httpd).
WEB_CONTAINER = """\
- name: web
  image: busybox:latest
  command: [sh, -c, "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
  ports: [{name: http, containerPort: 8080}]
  readinessProbe: {httpGet: {path: /index.html, port: http}, periodSeconds: 1}
"""


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


@contextlib.contextmanager
def docker_sh_up(directory: Path, timeout: float | None = None):
    """``sh docker.sh`` of a generated setup, as a user would run it; it must succeed (its completed
    process is yielded); ``sh docker.sh down`` afterwards, whatever happens."""
    try:
        run = subprocess.run(["sh", str(directory / "docker.sh")], capture_output=True, text=True, timeout=timeout)
        assert run.returncode == 0, run.stderr
        yield run
    finally:
        subprocess.run(["sh", str(directory / "docker.sh"), "down"], capture_output=True)


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


def report(ctr) -> dict[str, str]:
    """The ``KEY: value`` lines a container prints at start, up to its line ``END`` (its script
    reports what it sees, then sleeps), waiting for them up to 60 s (a bound, not a measure).

    Args:
        ctr: a docker SDK container.

    Returns:
        {KEY: value (stripped; empty when the line has none)}.
    """
    deadline = time.monotonic() + 60
    while True:
        text = ctr.logs().decode()
        if "END" in text or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    first = text.split("END")[0]
    return {k: v.strip() for k, v in re.findall(r"^(\w+):[ \t]*(.*)$", first, re.M)}


#: Throw-away projects of parity diff --live, and the names the diff tests give their own objects.
OURS = ("parity-diff-", "parity-difftest-")


def _ours(name: str | None) -> bool:
    """Whether an engine object's name or Compose project is a live diff's or a diff test's (``OURS``)."""
    return bool(name) and name.startswith(OURS)


def engine_objects(client) -> dict[str, set[str]]:
    """Containers, volumes, networks and images made by a parity diff throw-away project or by these
    tests (by name or Compose project label), and any probe container parity's stale check creates."""
    return {
        # One list request (no inspect per container): a container another process removes meanwhile
        # would make the inspect fail (docker.errors.NotFound).
        "containers": {c["Names"][0].lstrip("/") for c in client.api.containers(all=True)
                       if _ours(c["Names"][0].lstrip("/")) or _ours((c.get("Labels") or {}).get(COMPOSE_PROJECT))
                       or (c.get("Labels") or {}).get("io.parity.role") == "probe"},
        "volumes": {v.name for v in client.volumes.list()
                    if _ours(v.name) or _ours((v.attrs.get("Labels") or {}).get(COMPOSE_PROJECT))},
        "networks": {n.name for n in client.networks.list() if _ours(n.name)
                     or _ours((n.attrs.get("Labels") or {}).get(COMPOSE_PROJECT))},
        # The images' list request (ImageCollection.list inspects each image: the same race).
        "images": {i["Id"] for i in client.api.images()
                   if any(_ours(t) for t in i.get("RepoTags") or []) or _ours((i.get("Labels") or {}).get(COMPOSE_PROJECT))},
    }


def write_as_root(container, path: str) -> tuple[int, str]:
    """Try to create a file under (or replace) ``path`` as root inside a running container."""
    target = f"{path}/.parity-write-test" if not path.endswith((".netrc",)) else path
    result = container.exec_run(["sh", "-c", f"echo x > '{target}'"], user="0")
    return result.exit_code, result.output.decode(errors="replace")
