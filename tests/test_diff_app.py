"""``parity diff`` of a whole app: every selected workload against one compose project (issue 12).

Each workload container is paired with the service parity names for it (``plan.service_key``:
``WORKLOAD_CONTAINER`` when the input has several workloads) and named so in the report; ``--map``
overrides a pairing; parity's helper services (data, sandbox, forwarders) are never unpaired;
unpaired containers and services are reported with their kind, exit 1. The same setups are checked
live in ``tests/live/test_diff_live.py`` (``CASES``), and statically in ``tests/test_diff_static.py``.
"""

from __future__ import annotations

import json

from .diffcases import CASES, app_manifests, case_app_edited, generate, run_diff, verdict


def test_whole_app_text_names_each_container_as_its_service(tmp_path):
    """Text: the unpaired container, the unpaired service and the one real difference, each under its
    container (qualified by its workload), the equal container said to be the same; exit 1."""
    case = case_app_edited(tmp_path)
    result = run_diff(*case.manifests, "--compose", str(case.compose))
    assert (result.returncode, result.stderr) == (1, b"")
    assert result.stdout.decode().splitlines() == [
        f"parity diff: 2 workloads vs {case.compose} (static)",
        "  container web_sidecar",
        "    unpaired-container  -  cluster: service 'web_sidecar'  here: absent",
        "                        no compose service runs this container (use --map CONTAINER=SERVICE)",
        "  compose services",
        "    unpaired-service    -  cluster: absent  here: service 'cache'",
        "                        no pod container corresponds to this service",
        "  container web_app <-> service web_app",
        "    writable            /etc/settings  cluster: read-only  here: read-write",
        "                        the cluster mounts this volume read-only; here root can change it for every "
        "consumer (volume web_settings)",
        "  container api_app <-> service api_app: same",
        "3 differences in 2 containers"]


def test_whole_app_json_pairs_every_workload_container(tmp_path):
    """JSON of the app's own output: the subject, one pair per container of every workload (two
    containers named ``app`` kept apart), the data service not reported, equal, exit 0."""
    case = CASES["app-equal"](tmp_path)
    v = verdict(case.manifests, case.compose)
    assert v.exit_code == 0
    assert v.doc == {"format": "parity.diff/v1", "workload": "2 workloads", "compose": str(case.compose),
                     "mode": "static", "equal": True, "differences": [], "notes": [],
                     "pairs": [{"container": "api_app", "service": "api_app"},
                               {"container": "web_app", "service": "web_app"},
                               {"container": "web_sidecar", "service": "web_sidecar"}]}


def test_whole_app_json_unpaired_on_both_sides(tmp_path):
    """JSON: each unpaired side is a difference of its own kind, with the name it lacks a partner for."""
    case = case_app_edited(tmp_path)
    v = verdict(case.manifests, case.compose)
    assert v.exit_code == 1
    assert v.find("web_sidecar", "-", "unpaired-container") == {
        "container": "web_sidecar", "path": "-", "kind": "unpaired-container", "expected": "service 'web_sidecar'",
        "actual": "absent", "detail": "no compose service runs this container (use --map CONTAINER=SERVICE)"}
    assert v.find("-", "-", "unpaired-service") == {
        "container": "-", "path": "-", "kind": "unpaired-service", "expected": "absent", "actual": "service 'cache'",
        "detail": "no pod container corresponds to this service"}
    assert v.doc["pairs"] == [{"container": "api_app", "service": "api_app"},
                              {"container": "web_app", "service": "web_app"}]


def test_whole_app_map_overrides_and_helpers_are_not_unpaired(tmp_path):
    """``--map web_sidecar=sidecar`` pairs a service named by hand; a sandbox the pod's containers
    join and a service with a parity role label run no container and are not reported."""
    case = CASES["app-mapped"](tmp_path)
    v = verdict(case.manifests, case.compose, *case.args)
    assert (v.exit_code, v.doc["differences"]) == (0, [])
    assert v.doc["pairs"] == [{"container": "api_app", "service": "api_app"},
                              {"container": "web_app", "service": "web_app"},
                              {"container": "web_sidecar", "service": "sidecar"}]
    unmapped = verdict(case.manifests, case.compose)
    assert unmapped.kinds == {("web_sidecar", "-", "unpaired-container"), ("-", "-", "unpaired-service")}
    assert unmapped.find("-", "-", "unpaired-service")["actual"] == "service 'sidecar'"


def test_whole_app_map_names_what_there_is(tmp_path):
    """A ``--map`` naming no container of the app (containers are named as their services) or no
    service: exit 2, one line each, listing the names there are."""
    case = case_app_edited(tmp_path)
    result = run_diff(*case.manifests, "--compose", str(case.compose), "--map", "app=cache", "--map", "web_app=web")
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode().splitlines() == [
        "parity: --map app=cache: no container 'app' in 2 workloads (there are: api_app, web_app, web_sidecar)",
        f"parity: --map web_app=web: no service 'web' in {case.compose} (there are: api_app, api_pod_sandbox, "
        "cache, parity-data, web_app, web_pod_sandbox)"]


def test_whole_app_narrowed_to_one_workload_pairs_by_container_name(tmp_path):
    """``--workload`` narrowing the input to one workload: its containers are named as in a one-workload
    output (the container's name), so the app's services (``web_app``...) are unpaired, and the
    workload's own one-workload output is equal."""
    manifests = app_manifests(tmp_path)
    result = run_diff(str(manifests), "--compose", str(generate(tmp_path / "app", manifests)), "--workload",
                      "deploy/web", "--format", "json")
    assert result.returncode == 1
    assert [(d["container"], d["kind"], d["expected"], d["actual"]) for d in json.loads(result.stdout)["differences"]] == [
        ("app", "unpaired-container", "service 'app'", "absent"),
        ("sidecar", "unpaired-container", "service 'sidecar'", "absent"),
        ("-", "unpaired-service", "absent", "service 'api_app'"),
        ("-", "unpaired-service", "absent", "service 'web_app'"),
        ("-", "unpaired-service", "absent", "service 'web_sidecar'")]
    own = generate(tmp_path / "web", manifests, "--workload", "deploy/web")
    assert verdict([str(manifests)], own, "--workload", "deploy/web").exit_code == 0


def test_a_running_pod_is_one_workloads(tmp_path):
    """``--pod`` compares one running pod: an input of several workloads is refused, naming them."""
    result = run_diff(str(app_manifests(tmp_path)), "--pod", "api-0")
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", "parity: 2 workloads found (Deployment/api, Deployment/web); pick one with --workload KIND/NAME\n")
