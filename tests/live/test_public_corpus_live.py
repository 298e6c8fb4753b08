"""Public corpus workloads brought up for real: the static and the live diff agree (issue 14).

No registry answers here, so the vendors' images cannot be pulled. Each workload's generated setup
is run with stand-ins: every app image is replaced by busybox under a name of this test's own
(``parity-difftest-corpus-...``, removed afterwards), and every app container's entrypoint by
``sleep`` (``true`` for init containers, which the next ones wait for): the vendor's binary is not in
the stand-in. Nothing else of the generated compose file changes, and neither changes what parity
compares: the data service, the volumes and every mount (paths, read-only, nocopy), users, groups,
read-only root filesystems. The static diff of the edited file must equal the static diff of the
generated one (both empty), and the live diff of the edited file must agree with both.
"""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
import yaml

from parity.docker.labels import LABEL_ROLE, ROLE_SANDBOX
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import ROOT, run_parity
from ..diffcases import Verdict, run_diff

CORPUS = str(ROOT / "tests" / "fixtures" / "public")

#: (entry, workload): a StatefulSet's secret and configMap volumes (argo-cd), projected service-account
#: tokens beside a native sidecar and an init container (linkerd), a webhook certificate a Job makes
#: (ingress-nginx, made up here), one configMap in two containers (istio's prometheus render), nested
#: mounts in a DaemonSet (metallb: /etc/metallb/memberlist in /etc/metallb), a Secret the install
#: creates empty (kubernetes-dashboard), 33 dashboards from a ConfigMapList with a nested mount listed
#: before its parent (kube-prometheus' grafana), a StatefulSet with a claim template (istio's loki render),
#: a bound token volume written out with kube-root-ca.crt's placeholder and automounting off (strimzi),
#: a configMap and the token under an fsGroup beside a claim template (spire's server), a TLS Secret under
#: an fsGroup with runAsUser 101 and a read-only root filesystem (nginx-gateway-fabric).
LIVE_SAMPLE = [
    ("argo-cd", "sts/argocd-application-controller"),
    ("linkerd-control-plane", "deploy/linkerd-destination"),
    ("ingress-nginx", "deploy/ingress-nginx-controller"),
    ("istio-addons-prometheus", "deploy/prometheus"),
    ("metallb", "ds/speaker"),
    ("kubernetes-dashboard", "deploy/kubernetes-dashboard"),
    ("kube-prometheus", "deploy/grafana"),
    ("istio-addons-loki", "sts/loki"),
    ("strimzi", "deploy/strimzi-cluster-operator"),
    ("spire", "sts/spire-server"),
    ("nginx-gateway-fabric", "deploy/nginx-gateway"),
]

#: What a workload's generated setup needs beyond a plain container, as ``diff --live`` refuses it (the
#: vendor asks for it: linkerd's proxy-init rewrites iptables); the test checks that refusal, then runs
#: the setup with --allow-host-access.
HOST_ACCESS = {
    "deploy/linkerd-destination": ["service linkerd-init: cap_add: NET_ADMIN: adds kernel capabilities beyond "
                                   "Docker's default set"],
}


#: Every throw-away project, stand-in tag and image these tests make is gone afterwards.
pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


def verdict(manifests: list[str], compose, *args: str) -> Verdict:
    """``parity diff --format json`` (exit 0 or 1); stderr may only hold warning lines (what parity
    does not reproduce, e.g. an emptyDir, is said there, one line each)."""
    result = run_diff(*manifests, "--compose", str(compose), "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr.decode()
    assert all(line.startswith("parity: warning: ") for line in result.stderr.decode().splitlines())
    return Verdict(result.returncode, json.loads(result.stdout))


def _with_stand_ins(compose: dict, tags: dict[str, str]) -> dict:
    """The generated compose file with each app service's image replaced by its stand-in (``tags``:
    vendor image -> stand-in, filled here) and its entrypoint by one the stand-in has."""
    edited = yaml.safe_load(yaml.safe_dump(compose))
    for name, svc in edited["services"].items():
        if svc.get("build"):  # parity's data service: built from busybox, left as generated
            continue
        image = svc["image"]
        tags.setdefault(image, f"parity-difftest-corpus-{hashlib.sha256(image.encode()).hexdigest()[:12]}"
                               f"-{secrets.token_hex(3)}:standin")
        svc["image"] = tags[image]
        init = any((other.get("depends_on") or {}).get(name, {}).get("condition") == "service_completed_successfully"
                   for other in edited["services"].values())
        svc["entrypoint"] = ["true"] if init else ["sleep", "86400"]
        svc.pop("command", None)
    return edited


@pytest.mark.live
@pytest.mark.parametrize("entry,workload", LIVE_SAMPLE)
def test_static_and_live_diff_agree_on_corpus_workloads(docker_client, tmp_path, entry, workload):
    """Generated from the vendor's manifests, run with stand-in images: static and live diff both
    find every container equal to the cluster's prediction (exit 0, no difference)."""
    manifests = [f"{CORPUS}/{entry}"]
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", *manifests, "--workload", workload, "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    generated = out / "compose.yaml"
    static = verdict(manifests, generated, "--workload", workload)
    assert (static.exit_code, static.doc["differences"]) == (0, [])
    inputs = load_inputs(manifests)
    (layout,) = build_layouts(inputs, select_workloads(inputs, workload))
    assert any(c.mounts for c in layout.containers)  # files to compare (loki's rules sidecar has none of its own)

    tags: dict[str, str] = {}
    stand_in = generated.with_name("compose.stand-in.yaml")  # beside it: the build context is ./data
    original = yaml.safe_load(generated.read_text())
    stand_in.write_text(yaml.safe_dump(_with_stand_ins(original, tags), sort_keys=False))
    busybox = docker_client.images.get("busybox:latest")
    try:
        for tag in tags.values():
            busybox.tag(tag)
        static_edited = verdict(manifests, stand_in, "--workload", workload)
        allow = []
        if workload in HOST_ACCESS:
            refused = run_diff(*manifests, "--compose", str(stand_in), "--workload", workload, "--live")
            reasons = [line.removeprefix(f"parity: {stand_in}: ") for line in refused.stderr.decode().splitlines()
                       if not line.startswith("parity: warning: ")]
            assert (refused.returncode, reasons[:-1]) == (2, HOST_ACCESS[workload])
            allow = ["--allow-host-access"]
        live = verdict(manifests, stand_in, "--workload", workload, "--live", *allow)
        assert static_edited.doc["differences"] == static.doc["differences"] == live.doc["differences"] == []
        assert static_edited.exit_code == live.exit_code == 0
        assert live.doc["mode"] == "live" and live.doc["pairs"] == static.doc["pairs"]
        workload_services = [s for s in original["services"].values()
                             if not s.get("build") and s.get("labels", {}).get(LABEL_ROLE) != ROLE_SANDBOX]
        assert len(live.doc["pairs"]) == len(workload_services)  # the data and sandbox services pair with nothing
    finally:
        for tag in tags.values():
            docker_client.images.remove(tag)  # untags; busybox stays
