"""Engine object names are injective: no two workloads, and no two objects of one workload, share one.

Names are read from what k8s-to-docker writes (its JSON summary, compose.yaml and docker.sh), so
they are the names `docker compose`, `sh docker.sh` and `parity up` give the engine.
"""

from __future__ import annotations

import json
import shlex

import yaml

from parity.docker.plan import project_name

from ..conftest import run_parity, write


def pod(name: str, namespace: str | None = None, containers=("app",), volume: str = "creds") -> str:
    ns = f", namespace: {namespace}" if namespace else ""
    ctrs = "\n".join(f"    - {{name: {c}, image: busybox:latest, volumeMounts: [{{name: {volume}, mountPath: /s}}]}}"
                     for c in containers)
    return f"""
apiVersion: v1
kind: Secret
metadata: {{name: creds{ns}}}
stringData: {{token: same-bytes-everywhere}}
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}{ns}}}
spec:
  containers:
{ctrs}
  volumes:
    - {{name: {volume}, secret: {{secretName: creds}}}}
"""


def object_names(tmp_path, text: str, tag: str) -> dict[str, set[str]]:
    """Every engine object name a generated setup uses: {"project", "containers", "volumes", "images"}."""
    out = tmp_path / f"out-{tag}"
    result = run_parity("k8s-to-docker", str(write(tmp_path, text, f"{tag}.yaml")), "-o", str(out), "--format",
                        "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    compose = yaml.safe_load((out / "compose.yaml").read_text())
    containers, volumes = set(), {v["name"] for v in (compose.get("volumes") or {}).values()}
    for line in (out / "docker.sh").read_text().splitlines():
        words = shlex.split(line, comments=True) if line.startswith(("docker ", "DOCKER_BUILDKIT")) else []
        if "--name" in words:
            containers.add(words[words.index("--name") + 1])
        if words[:3] == ["docker", "volume", "create"]:
            volumes.add(words[words.index("--") + 1])
    return {"project": {summary["project"]}, "containers": containers, "volumes": volumes,
            "images": set(summary["images"])}


def assert_disjoint(a: dict[str, set[str]], b: dict[str, set[str]]) -> None:
    for kind in a:
        assert not a[kind] & b[kind], (kind, a[kind] & b[kind])


def test_pods_a_dot_b_and_a_dash_b_share_no_name(tmp_path):
    """``a.b`` and ``a-b`` made one project (the second up took the first over): now every project,
    container, volume and image name differs; ``a-b`` keeps its readable names."""
    dotted, dashed = object_names(tmp_path, pod("a.b"), "dotted"), object_names(tmp_path, pod("a-b"), "dashed")
    assert_disjoint(dotted, dashed)
    assert dashed["project"] == {"parity-pod-a-b"}
    assert dashed["containers"] == {"parity-pod-a-b_data", "parity-pod-a-b.pod_sandbox", "parity-pod-a-b.app",
                                    "parity-pod-a-b.app_mounts"}
    (project,) = dotted["project"]
    assert project.startswith("parity-pod-a-b_") and len(project) == len("parity-pod-a-b_") + 16


def test_one_name_in_two_namespaces_shares_no_name(tmp_path):
    default, other = object_names(tmp_path, pod("web"), "default"), object_names(tmp_path, pod("web", "prod"), "prod")
    assert_disjoint(default, other)
    assert default["project"] == {"parity-pod-web"}


def test_a_dash_inside_names_cannot_join_two_workloads(tmp_path):
    """Pod ``a`` with container ``b-c`` and volume ``b-c``, pod ``a-b`` with container ``c`` and volume
    ``c``: with '-' joins both were parity-pod-a-b-c. A container named ``data`` is not the data
    container, nor ``x-mounts`` another container's mount holder."""
    first = object_names(tmp_path, pod("a", containers=("b-c", "data", "x", "x-mounts"), volume="b-c"), "first")
    second = object_names(tmp_path, pod("a-b", containers=("c",), volume="c"), "second")
    assert_disjoint(first, second)
    # data container, sandbox, 4 apps, 4 mount holders: all distinct
    assert len(first["containers"]) == 1 + 1 + 4 + 4


def test_project_names_are_injective_and_readable_when_they_can_be():
    names = {project_name(kind, name, ns) for kind in ("Pod", "Deployment") for ns in ("default", "prod")
             for name in ("a", "a-b", "a.b", "a-b-0123456789abcdef", "x" * 63, "x" * 64, "x" * 253)}
    assert len(names) == 2 * 2 * 7
    assert project_name("Deployment", "api") == "parity-deployment-api"
    assert all(len(n) <= 90 and "." not in n for n in names)
