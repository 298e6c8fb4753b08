"""``parity up``'s text (``render.up_text``) for a whole app, as the public corpus showed it: the verb
agrees with "N workloads", dozens of created volumes are counted rather than named on one line, and
what parity does not reproduce is said as ``k8s-to-docker`` says it (it was said nowhere under up)."""

from __future__ import annotations

from parity.output import Painter
from parity.render import up_text
from parity.up import UpContainer, UpResult


def _result(workload: str, volumes: int, notes: list[str], waited: bool = True) -> UpResult:
    actions = ["built image app-data:0123456789ab"] + [f"created volume app.v{i}" for i in range(volumes)]
    actions += ["created data container", "created network app_network", "created web_pod_sandbox", "created web_web"]
    result = UpResult(workload, "app", "/state/app", actions=actions, notes=notes, waited=waited)
    result.containers = [UpContainer("web_web", "app.web_web", "0" * 64, "running", False, ["/tmp"], None, None)]
    return result


def test_an_apps_text_says_are_up_counts_its_volumes_and_gives_its_notes():
    """Seven workloads with 44 volumes (argo-cd's install): "7 workloads are up", "created 44 volumes",
    then each note on its own line, then the containers."""
    notes = ['hostPath volume "root" binds / of the Docker host (not a cluster node\'s): it reaches into the host']
    assert up_text(_result("7 workloads", 44, notes), Painter(False)) == (
        "7 workloads are up (changed: built image app-data:0123456789ab; created 44 volumes; created data container; "
        "created network app_network; created web_pod_sandbox; created web_web)\n"
        "  note: hostPath volume \"root\" binds / of the Docker host (not a cluster node's): it reaches into the host\n"
        "  web_web              app.web_web                              running    /tmp\n")


def test_one_workloads_text_names_its_few_volumes_and_says_is():
    """One workload, three volumes: each named, as before; "is not up" when --wait saw a problem."""
    result = _result("Deployment/web", 3, [])
    result.problems = ["web_web: exited with code 1 (see: docker logs app.web_web)"]
    assert up_text(result, Painter(False)).splitlines()[0] == (
        "Deployment/web is not up (changed: built image app-data:0123456789ab; created volume app.v0; created volume "
        "app.v1; created volume app.v2; created data container; created network app_network; created web_pod_sandbox; "
        "created web_web)")
    assert up_text(_result("2 workloads", 0, [], waited=True), Painter(False)).startswith("2 workloads are up (")

