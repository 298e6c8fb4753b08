"""A public install brought up whole, as a user runs it (issue 12/13 on real input): argo-cd's
``install.yaml`` (seven workloads: a StatefulSet, init containers handing a binary over an emptyDir,
read-only root filesystems with an emptyDir at /tmp, runAsNonRoot, httpGet and tcpSocket probes) with
stand-in images (``standins.py``: no registry answers here) through ``parity up --wait``, ``status``,
the generated compose's ``diff --live``, and ``down``, which leaves nothing of the project behind."""

from __future__ import annotations

import json

import pytest

from ..conftest import ROOT, precondition_missing, run_parity, unique_name
from . import standins

ENTRY = ROOT / "tests" / "fixtures" / "public" / "argo-cd"
PROJECT = unique_name("parity-test-public-argocd")  # this run's own


def _project_objects(client, project: str) -> dict[str, list[str]]:
    label = {"label": f"io.parity.project={project}"}
    return {"containers": sorted(c.name for c in client.containers.list(all=True, filters=label)),
            "volumes": sorted(v.name for v in client.volumes.list(filters=label)),
            "networks": sorted(n.name for n in client.networks.list(filters=label)),
            "images": sorted(t for i in client.images.list(filters=label) for t in i.tags)}


@pytest.mark.live
def test_argo_cds_install_runs_whole_under_up_wait_diffs_same_live_and_down_leaves_nothing(docker_client, tmp_path):
    """Every container of the seven workloads runs (healthy where it has a probe parity reproduces), the
    init containers exited 0; status exits 0; the generated compose's live diff finds every container's
    files the same; ``down`` removes every container, volume, network and image of the project."""
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    tags: list[str] = []
    try:
        try:
            standins.build(ENTRY, tmp_path / "standins", tags)
        except LookupError as exc:
            precondition_missing(f"the engine has {exc} already: not this test's to replace (remove that image)")
        up = run_parity("up", str(ENTRY), "-p", PROJECT, "--wait", "--format", "json", env=env)
        assert up.returncode == 0, up.stdout.decode() + up.stderr.decode()
        doc = json.loads(up.stdout)
        assert (doc["workload"], doc["up"], doc["problems"]) == ("7 workloads", True, [])
        assert sorted((c["name"], c["state"], c["health"]) for c in doc["containers"]) == [
            ("argocd-application-controller_argocd-application-controller", "running", "healthy"),
            ("argocd-applicationset-controller_argocd-applicationset-controller", "running", None),
            ("argocd-dex-server_copyutil", "exited", None),
            ("argocd-dex-server_dex", "running", None),
            ("argocd-notifications-controller_argocd-notifications-controller", "running", "healthy"),
            ("argocd-redis_redis", "running", None),
            ("argocd-redis_secret-init", "exited", None),
            ("argocd-repo-server_argocd-repo-server", "running", "healthy"),
            ("argocd-repo-server_copyutil", "exited", None),
            ("argocd-server_argocd-server", "running", "healthy")]
        # What parity does not reproduce is said under up as k8s-to-docker says it.
        out = tmp_path / "out"
        gen = run_parity("k8s-to-docker", str(ENTRY), "-o", str(out), "-p", f"{PROJECT}-compose")
        assert gen.returncode == 0, gen.stderr.decode()
        said = [line.removeprefix("  note: ") for line in gen.stdout.decode().splitlines() if line.startswith("  note: ")]
        assert doc["notes"] == said and len(said) > 7

        status = run_parity("status", "-p", PROJECT, "--format", "json", env=env)
        assert status.returncode == 0, status.stdout.decode()
        assert len(json.loads(status.stdout)["workloads"]) == 7

        live = run_parity("diff", str(ENTRY), "--compose", str(out / "compose.yaml"), "--live", "--format", "json")
        assert live.returncode == 0, live.stdout.decode() + live.stderr.decode()
        assert (json.loads(live.stdout)["mode"], json.loads(live.stdout)["differences"]) == ("live", [])

        assert _project_objects(docker_client, PROJECT)["containers"]  # (it ran: the next check can fail)
        down = run_parity("down", "-p", PROJECT, env=env)
        assert down.returncode == 0, down.stderr.decode()
        assert _project_objects(docker_client, PROJECT) == {"containers": [], "volumes": [], "networks": [],
                                                            "images": []}
    finally:
        run_parity("down", "-p", PROJECT, env=env)
        standins.remove(tags)


NGF = ROOT / "tests" / "fixtures" / "public" / "nginx-gateway-fabric"


@pytest.mark.live
def test_nginx_gateway_fabrics_install_runs_its_job_to_completion_and_its_gateway_healthy(docker_client, tmp_path):
    """nginx-gateway-fabric's install (corpus, seventh session: a read-only root filesystem, an fsGroup
    over a TLS Secret volume, a readiness probe on a named port, imagePullPolicy Always, the Job that
    makes the certificates) under ``up --wait``: the gateway runs healthy, the Job's container exited 0
    (waited for), the pull policy is said among the notes; status exits 0; the generated compose's live
    diff finds every container's files the same; ``down`` leaves nothing of the project."""
    project = unique_name("parity-test-public-ngf")
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    tags: list[str] = []
    try:
        try:
            standins.build(NGF, tmp_path / "standins", tags)
        except LookupError as exc:
            precondition_missing(f"the engine has {exc} already: not this test's to replace (remove that image)")
        up = run_parity("up", str(NGF), "-p", project, "--wait", "--format", "json", env=env)
        assert up.returncode == 0, up.stdout.decode() + up.stderr.decode()
        doc = json.loads(up.stdout)
        assert (doc["workload"], doc["up"], doc["problems"]) == ("2 workloads", True, [])
        assert sorted((c["name"], c["state"], c["health"]) for c in doc["containers"]) == [
            ("nginx-gateway-cert-generator_cert-generator", "exited", None),
            ("nginx-gateway_nginx-gateway", "running", "healthy")]
        assert ("nginx-gateway_nginx-gateway, nginx-gateway-cert-generator_cert-generator (2 containers): "
                "imagePullPolicy: Always (written, or the API server's default for an image without a tag or tagged "
                "latest) is not reproduced: Docker runs the image it has here and pulls only a missing one, where "
                "the kubelet asks the registry for the tag's current image at each start (Compose's pull_policy: "
                "always would replace a local build with the registry's): docker compose pull gets the registry's "
                "current one") in doc["notes"]

        status = run_parity("status", "-p", project, "--format", "json", env=env)
        assert status.returncode == 0, status.stdout.decode()
        assert len(json.loads(status.stdout)["workloads"]) == 2

        out = tmp_path / "out"
        gen = run_parity("k8s-to-docker", str(NGF), "-o", str(out), "-p", f"{project}-compose")
        assert gen.returncode == 0, gen.stderr.decode()
        live = run_parity("diff", str(NGF), "--compose", str(out / "compose.yaml"), "--live", "--format", "json")
        assert live.returncode == 0, live.stdout.decode() + live.stderr.decode()
        assert (json.loads(live.stdout)["mode"], json.loads(live.stdout)["differences"]) == ("live", [])

        assert _project_objects(docker_client, project)["containers"]  # (it ran: the next check can fail)
        down = run_parity("down", "-p", project, env=env)
        assert down.returncode == 0, down.stderr.decode()
        assert _project_objects(docker_client, project) == {"containers": [], "volumes": [], "networks": [],
                                                            "images": []}
    finally:
        run_parity("down", "-p", project, env=env)
        standins.remove(tags)
