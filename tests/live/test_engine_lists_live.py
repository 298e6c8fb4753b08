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


def test_the_sweep_names_a_container_another_links_to_as_docker_ps_does(docker_client):
    """A container that another links to (the legacy ``--link``) is listed with the link's alias as a
    name too, first when the linker's name sorts first: ``["/LINKER/alias", "/NAME"]``. The sweep of
    dead live diffs said it removed ``container LINKER/alias`` (the first name, whatever it was)."""
    import socket
    import subprocess

    from parity.docker.labels import LABEL_DIFF_OWNER
    from parity.docker.leftovers import sweep

    from ..conftest import unique_name

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process is gone: its diff is dead, its leftovers are swept
    name, linker = unique_name("parity-test-zz-linked"), unique_name("parity-test-aa-linker")
    made = [docker_client.containers.run("busybox:latest", ["sleep", "60"], name=name, detach=True,
                                         labels={LABEL_DIFF_OWNER: f"{socket.gethostname()}:{gone.pid}"})]
    try:
        made.append(docker_client.containers.run("busybox:latest", ["sleep", "60"], name=linker, detach=True,
                                                 links={name: "alias"}))
        rows = docker_client.api.containers(all=True, filters={"id": made[0].id})
        assert rows[0]["Names"] == [f"/{linker}/alias", f"/{name}"]  # what the rule reads
        removed = sweep(docker_client)
        assert f"container {name}" in removed
        assert [r for r in removed if linker in r] == []
        assert docker_client.api.containers(all=True, filters={"id": made[0].id}) == []
    finally:
        for c in made:
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass
