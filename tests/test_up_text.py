"""``parity up``'s text (``render.up_text``) for a whole app, as the public corpus showed it: the verb
agrees with "N workloads", dozens of created volumes are counted rather than named on one line, and
what parity does not reproduce is said as ``k8s-to-docker`` says it (it was said nowhere under up)."""

from __future__ import annotations

from parity.output import Painter
from parity.render import up_text
from parity.upresult import UpContainer, UpResult


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



#: argo-cd's longest service name (WORKLOAD_CONTAINER), 65 characters: past up's and status' 20.
LONG = "argocd-applicationset-controller_argocd-applicationset-controller"


def test_ups_columns_are_as_wide_as_a_whole_apps_longest_service_name():
    """A service name longer than the name column (argo-cd's, 65 characters) widens the columns for
    every row, so the engine's names, states and mounts each start at one place (they started 45
    characters right of the others' on its row)."""
    result = _result("2 workloads", 0, [])
    result.containers.append(UpContainer(LONG, f"argocd.{LONG}", "1" * 64, "running", False, [], None, None))
    assert up_text(result, Painter(False)).splitlines()[1:] == [
        f"  {'web_web':<65} {'app.web_web':<72} running    /tmp",
        f"  {LONG} argocd.{LONG} running    no secret mounts"]
    assert up_text(result, Painter(False)).splitlines()[1] == (
        "  web_web" + " " * 59 + "app.web_web" + " " * 62 + "running    /tmp")


def test_status_columns_are_as_wide_as_a_whole_apps_longest_service_name():
    """status: the container column takes the longest name of every workload (the pod sandbox's
    line too), so states and verdicts start at one place across workloads."""
    from parity.render import status_text
    from parity.status import ContainerStatus, SandboxStatus, StatusReport, WorkloadStatus

    short = WorkloadStatus("Pod/web", "default", "p", "manifests", [ContainerStatus("web_web", "p.web_web", "running",
                                                                                    in_parity=True)],
                           SandboxStatus("p.web_pod_sandbox", "running", {}))
    long = WorkloadStatus("Deployment/argocd-applicationset-controller", "argocd", "p", "manifests",
                          [ContainerStatus(LONG, f"p.{LONG}", "exited", in_parity=None)])
    assert status_text(StatusReport([short, long]), Painter(False)).splitlines() == [
        "Pod/web  (project p, prediction: manifests)",
        "  (pod sandbox)" + " " * 53 + "running    no DNS names",
        "  web_web" + " " * 59 + "running    in parity",
        "Deployment/argocd-applicationset-controller  (namespace argocd, project p, prediction: manifests)",
        f"  {LONG} exited     not checked"]


def test_a_whole_apps_created_containers_sandboxes_and_networks_are_counted():
    """contour's install, six workloads over two namespaces: up's first line named each of its 30 actions
    (every container and pod sandbox, which the lines below list again); past three of one verb and kind
    they are counted, where the first was, as volumes were."""
    actions = ["built image app-data:0123456789ab", "created 14 volumes", "created data container"]
    actions += [f"created network app_{n}" for n in ("network", "by-namespace-a", "by-namespace-b", "by-namespace-c")]
    actions += [f"created {ns}_{w}_pod_sandbox" for ns in "ab" for w in ("contour", "envoy", "certgen")]
    actions += [f"created {ns}_{w}" for ns in "ab" for w in ("contour_contour", "envoy_envoy", "envoy_init")]
    actions += ["recreated a_certgen_job", "started b_certgen_job"]
    result = UpResult("6 workloads", "app", "/state/app", actions=actions, waited=False)
    assert up_text(result, Painter(False)).splitlines()[0] == (
        "6 workloads started (changed: built image app-data:0123456789ab; created 14 volumes; created data container; "
        "created 4 networks; created 6 pod sandboxes; created 6 containers; recreated a_certgen_job; "
        "started b_certgen_job); not waited for: parity up --wait waits until every container runs and is healthy")
