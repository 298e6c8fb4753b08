"""``parity diff --pod`` and ``--observed``: every facet of a running pod, not only its file volumes (issue 13).

The running pod comes from the fake API server (``tests/kube/fakeapi.py``) as the API server sends it
(spec with the server's defaults, status); the expected side is the same pod written as a manifest, or
(``--observed``) the running pod itself. The pod has no file volume (and no service-account token), so
no exec is needed: the file side of ``--pod`` is ``tests/kube/test_observe.py``'s. Differences and
notes are checked exactly, text and JSON, with the exit codes.
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from .conftest import run_parity
from .kube import k8sobjects as K
from .kube.fakeapi import FakeAPI

#: The process facets a pod can set, in the cluster's form: identity, capabilities, privileges,
#: limits, start order (an init container and a native sidecar), a health check, a writable volume.
SPEC = {
    "automountServiceAccountToken": False,
    "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000]},
    "initContainers": [
        {"name": "setup", "image": "busybox:1.36", "command": ["true"]},
        {"name": "proxy", "image": "busybox:1.36", "command": ["sleep", "3600"], "restartPolicy": "Always"},
    ],
    "containers": [{
        "name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["NET_RAW"]}},
        "resources": {"limits": {"memory": "128Mi", "cpu": "500m"}},
        "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 5},
        "livenessProbe": {"exec": {"command": ["true"]}},
        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
    }],
    "volumes": [{"name": "scratch", "emptyDir": {}}],
}

SAME_NOTES = [
    "init container setup is not running: not listed",
    "app: spec.containers[0].livenessProbe: not compared (diff compares the probe parity runs as the health check)",
    "the running pod's writable volumes (emptyDir, claims, hostPath, ephemeral) are compared by their mounts in "
    "its spec: what is in them, and an emptyDir's own mode and owner, is not read",
    "the running pod's identity, capabilities, privileges, limits, network, start order and health check are those "
    "its spec gives (limits: as its status reports them enacted, where it does), by the rules the kubelet applies; "
    "nothing is read from inside its processes",
    "the running pod's environment is not compared: its variables are not in the API and its Secrets and "
    "ConfigMaps are not read (docs/cluster.md)",
]


def manifest(spec: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": K.NS}, "spec": spec}


def running(spec: dict, enacted: dict | None = None) -> dict:
    """The pod as the API server sends it: the init container has completed, the sidecar and the app
    run; ``enacted``: the app's ``status.containerStatuses[].resources`` (in-place resize)."""
    obj = manifest(copy.deepcopy(spec))
    obj["metadata"]["uid"] = "f3b5d7e9-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
    obj["spec"].update({"restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "nodeName": "kind-control-plane"})
    app = K.container_status("app")
    if enacted is not None:
        app["resources"] = enacted
    obj["status"] = {"phase": "Running", "initContainerStatuses": [K.container_status("setup", running=False),
                                                                   K.container_status("proxy")],
                     "containerStatuses": [app]}
    return obj


@pytest.fixture
def cluster(tmp_path):
    """A fake API server and a kubeconfig for it; ``serve(pod)`` puts the running pod there."""
    with FakeAPI() as api:
        yield api, str(api.kubeconfig(tmp_path / "kubeconfig"))


def diff_pod(tmp_path, kubeconfig: str, *args: str):
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(manifest(SPEC)))
    return run_parity("diff", str(path), "--pod", "web", "--kubeconfig", kubeconfig, *args)


def changed_spec() -> dict:
    """The running pod changed in every facet the manifest sets."""
    spec = copy.deepcopy(SPEC)
    spec["hostNetwork"] = True
    spec["securityContext"] = {"runAsUser": 1001, "runAsGroup": 3000}  # no fsGroup, no supplementalGroups
    setup, proxy = spec["initContainers"]
    proxy["securityContext"] = {"privileged": True}
    spec["initContainers"] = [proxy, setup]  # the sidecar first: setup no longer runs before it
    app = spec["containers"][0]
    app["securityContext"] = {}
    app["resources"] = {"limits": {"memory": "128Mi", "cpu": "1"}}
    app["readinessProbe"]["exec"]["command"] = ["cat", "/tmp/up"]
    app["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch", "readOnly": True},
                           {"name": "scratch", "mountPath": "/cache"}]
    spec["containers"].append({"name": "istio-proxy", "image": "busybox:1.36"})
    return spec


def test_a_running_pod_as_its_manifest_says_is_the_same_and_says_what_it_does_not_read(tmp_path, cluster):
    api, kubeconfig = cluster
    api.add(running(SPEC))
    result = diff_pod(tmp_path, kubeconfig, "--format", "json")
    assert (result.returncode, result.stderr) == (0, b"")
    report = json.loads(result.stdout)
    assert (report["equal"], report["differences"], report["notes"]) == (True, [], SAME_NOTES)
    assert [p["container"] for p in report["pairs"]] == ["setup", "proxy", "app"]


def test_every_facet_of_a_running_pod_is_compared(tmp_path, cluster):
    """Each facet changed in the running pod is one difference of the compose diff's kind and text:
    identity (user, groups, fsGroup), capabilities and privileges (the sidecar made privileged, the
    app's drop and no-new-privileges gone), limits (cpu from the spec, memory from the status's enacted
    resources: an in-place resize), network (hostNetwork), start order (the sidecar moved before the
    init container), health (the probe's command), writable volumes (read-only, one more) and an extra
    container."""
    api, kubeconfig = cluster
    api.add(running(changed_spec(), enacted={"limits": {"memory": "256Mi", "cpu": "1"}}))
    result = diff_pod(tmp_path, kubeconfig, "--format", "json")
    assert (result.returncode, result.stderr) == (1, b"")
    got = [(d["container"], d["path"], d["kind"], d["expected"], d["actual"])
           for d in json.loads(result.stdout)["differences"]]
    user = [("(user)", "identity", "1000:3000", "1001:3000")]
    groups = [("(groups)", "identity", "4000", "none")]
    fs_group = [("(process)", "owner", "member of group 2000 (fsGroup)", "not a member")]
    network = [("(network)", "network", "the pod's own network namespace", "the host's network namespace")]
    assert got == [
        ("setup", *fs_group[0]), ("setup", *user[0]), ("setup", *groups[0]),
        ("proxy", *fs_group[0]), ("proxy", *user[0]), ("proxy", *groups[0]),
        ("proxy", "(capabilities)", "capabilities",
         "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, NET_RAW, SETFCAP, "
         "SETGID, SETPCAP, SETUID, SYS_CHROOT", "ALL"),
        ("proxy", "(privileged)", "privileges", "no", "yes"),
        ("app", "/scratch", "volume", "a writable emptyDir volume (emptyDir)", "a read-only mount (emptyDir)"),
        ("app", "/cache", "volume", "no mount", "a writable mount (emptyDir)"),
        ("app", *fs_group[0]), ("app", *user[0]), ("app", *groups[0]),
        ("app", "(capabilities)", "capabilities",
         "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, "
         "SETPCAP, SETUID, SYS_CHROOT",
         "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, NET_RAW, SETFCAP, "
         "SETGID, SETPCAP, SETUID, SYS_CHROOT"),
        ("app", "(no-new-privileges)", "privileges", "yes", "no"),
        ("app", "(memory limit)", "limits", "134217728 bytes", "268435456 bytes"),
        ("app", "(cpu limit)", "limits", "50000 us per 100000 us (0.5 CPU)", "100000 us per 100000 us (1 CPU)"),
        ("app", "(health check)", "health",
         "cat /tmp/ready (every 5s, timeout 1s, 3 retries, start period 0s)",
         "cat /tmp/up (every 5s, timeout 1s, 3 retries, start period 0s)"),
        ("istio-proxy", "-", "unpaired-container", "absent", "in the running pod"),
        ("setup", *network[0]), ("proxy", *network[0]), ("app", *network[0]),
        ("proxy", "(start after setup)", "lifecycle", "after setup completed", "without waiting for setup"),
    ]


def test_the_text_report_of_a_running_pod_names_each_facet(tmp_path, cluster):
    """Text, one facet changed: the difference under its container with the compose diff's detail, then
    the notes; exit 1. Each container is paired with the running pod's container of its name (the
    report said "service")."""
    api, kubeconfig = cluster
    spec = copy.deepcopy(SPEC)
    spec["containers"][0]["securityContext"]["capabilities"] = {"drop": ["NET_RAW"], "add": ["NET_ADMIN"]}
    api.add(running(spec))
    result = diff_pod(tmp_path, kubeconfig)
    assert (result.returncode, result.stderr) == (1, b"")
    default = "AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE"
    rest = "SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT"
    assert result.stdout.decode().splitlines() == [
        "parity diff: Pod/web vs pod/web (observed in the cluster)",
        "  container app <-> container app",
        f"    capabilities        (capabilities)  cluster: {default}, {rest}  here: "
        f"{default.replace('MKNOD', 'MKNOD, NET_ADMIN')}, {rest}",
        "                        extra here: NET_ADMIN (capabilities add/drop: compose cap_add/cap_drop)",
        "  container setup <-> container setup: same",
        "  container proxy <-> container proxy: same",
        *[f"  note: {note}" for note in SAME_NOTES],
        "1 difference in 1 container",
    ]


def test_observed_pod_is_the_expected_side_with_its_facets(tmp_path, cluster):
    """``--observed``: the running pod itself is the expected side, its facets included: against itself
    it is the same (exit 0); against another running pod that differs, each facet is reported (exit 1),
    and the notes say what is not read once each."""
    api, kubeconfig = cluster
    api.add(running(SPEC))
    other = running(changed_spec(), enacted={"limits": {"memory": "256Mi", "cpu": "1"}})
    other["metadata"]["name"] = "web-2"
    api.add(other)
    same = run_parity("diff", "--from-cluster", "pod/web", "--observed", "--pod", "web", "--kubeconfig", kubeconfig,
                      "--format", "json")
    assert (same.returncode, same.stderr) == (0, b"")
    assert json.loads(same.stdout)["notes"] == [SAME_NOTES[0], SAME_NOTES[2], SAME_NOTES[3], SAME_NOTES[4],
                                                SAME_NOTES[1]]
    changed = run_parity("diff", "--from-cluster", "pod/web", "--observed", "--pod", "web-2", "--kubeconfig",
                         kubeconfig, "--format", "json")
    assert (changed.returncode, changed.stderr) == (1, b"")
    kinds = {(d["container"], d["kind"]) for d in json.loads(changed.stdout)["differences"]}
    assert {"identity", "owner", "capabilities", "privileges", "limits", "health", "volume", "network",
            "lifecycle", "unpaired-container"} == {k for _, k in kinds}

def test_observed_pod_against_a_compose_file_compares_its_facets(tmp_path, cluster):
    """``--observed --compose``: the running pod's facets against the compose file, as the prediction's
    are (they were not compared: the observed side had no pod spec); its finished init container is
    paired with its service (it was an unpaired service), its files said not listed. The file parity
    generates for the manifest is the same (exit 0); one the pod's own capabilities were dropped from is
    one ``capabilities`` difference (exit 1)."""
    api, kubeconfig = cluster
    api.add(running(SPEC))
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(manifest(SPEC)))
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(path), "-o", str(out)).returncode == 0
    observed = ("diff", "--from-cluster", "pod/web", "--observed", "--kubeconfig", kubeconfig)
    same = run_parity(*observed, "--compose", str(out / "compose.yaml"), "--format", "json")
    assert (same.returncode, same.stderr) == (0, b"")
    report = json.loads(same.stdout)
    assert [p["container"] for p in report["pairs"]] == ["setup", "proxy", "app"]
    assert report["notes"] == [SAME_NOTES[0], SAME_NOTES[2], SAME_NOTES[3], SAME_NOTES[4]]
    compose = yaml.safe_load((out / "compose.yaml").read_text())
    del compose["services"]["app"]["cap_drop"]
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(compose))
    changed = run_parity(*observed, "--compose", str(edited), "--format", "json")
    assert (changed.returncode, changed.stderr) == (1, b"")
    assert [(d["container"], d["kind"], d["detail"]) for d in json.loads(changed.stdout)["differences"]] == [
        ("app", "capabilities", "extra here: NET_RAW (capabilities add/drop: compose cap_add/cap_drop)")]


def test_a_pod_that_is_not_there_is_one_error_line(tmp_path, cluster):
    _, kubeconfig = cluster
    result = diff_pod(tmp_path, kubeconfig)
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", 'parity: cluster:test/dev: Pod/web: not found in namespace "dev"\n')
