"""``parity status`` lists anyone's containers (parity/status.py): a container that another command
removes between the engine's list and its inspect is left out. The SDK's ``containers.list`` failed the
whole call ("No such container"), so ``parity status`` exited 2 while another project's ``down`` ran."""

from __future__ import annotations

import secrets

import docker.errors
import pytest

from parity.docker.labels import LABEL_PROJECT, LABEL_ROLE, LABEL_WORKLOAD, ROLE_SANDBOX
from parity.status import sandboxes_running, workloads_running


@pytest.mark.parametrize("role", ["app", "sandbox"])
def test_a_container_removed_between_list_and_inspect_is_left_out(docker_client, role):
    project = f"parity-test-lists-{secrets.token_hex(4)}"
    labels = {LABEL_PROJECT: project, LABEL_WORKLOAD: "Deployment/web", "io.parity.container": "app"}
    if role == "sandbox":
        labels = {LABEL_PROJECT: project, LABEL_WORKLOAD: "Deployment/web", LABEL_ROLE: ROLE_SANDBOX}
    made = [docker_client.containers.create("busybox:latest", ["true"], labels={**labels, LABEL_WORKLOAD:
                                                                              f"Deployment/web-{i}"})
            for i in range(4)]
    real_list = docker_client.api.containers
    victims = iter(made[:2])

    def list_then_remove_one(*args, **kwargs):
        rows = real_list(*args, **kwargs)  # the real list request ...
        docker_client.api.remove_container(next(victims).id)  # ... then another command's removal
        return rows

    read = workloads_running if role == "app" else sandboxes_running
    docker_client.api.containers = list_then_remove_one
    try:
        with pytest.raises(docker.errors.NotFound):  # the SDK's list without ignore_removed
            docker_client.containers.list(all=True, filters={"label": f"{LABEL_PROJECT}={project}"})
        found = read(docker_client)
    finally:
        del docker_client.api.containers  # the class's method again
        for c in made[2:]:
            c.remove(force=True)
    assert sorted(ref for p, _, ref in found if p == project) == ["Deployment/web-2", "Deployment/web-3"]
