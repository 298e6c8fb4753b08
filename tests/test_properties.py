"""Property tests: random valid pods and Secrets.

- ``parity layout`` never crashes (a bad combination is a clean ParityError, never a traceback);
- the static ``parity diff`` of a pod against its own ``k8s-to-docker`` output is always equal;
- a small sample runs live in the engine and is equal too.

Example counts are CI-sized. For long runs: ``PARITY_PROPERTY_EXAMPLES=500 bash scripts/test.sh
tests/test_properties.py`` (the live sample scales to a tenth of that).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from parity.diff import Expected, static_diff
from parity.docker.compose import load_compose
from parity.docker.generate import generate
from parity.docker.planner import build_plan
from parity.errors import ParityError
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from .conftest import PROPERTY_EXAMPLES, property_settings

EXAMPLES = PROPERTY_EXAMPLES
LIVE_EXAMPLES = max(2, EXAMPLES // 10)

key = st.from_regex(r"\A\.?[a-z][a-z0-9._-]{0,8}\Z").filter(lambda k: not k.startswith(".."))
segment = st.from_regex(r"\A[a-z][a-z0-9_-]{0,5}\Z")
rel_path = st.lists(segment, min_size=1, max_size=3).map("/".join)
mode = st.integers(0, 0o777)
value = st.binary(min_size=0, max_size=64)


@st.composite
def secret_and_pod(draw):
    data = draw(st.dictionaries(key, value, min_size=1, max_size=4))
    keys = sorted(data)
    fs_group = draw(st.one_of(st.none(), st.integers(1, 65000)))
    run_as = draw(st.one_of(st.none(), st.integers(1, 65000)))
    volumes, mounts = [], []
    kind = draw(st.sampled_from(["secret", "projected", "configMap"]))
    items = None
    if draw(st.booleans()):
        picked = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
        # Distinct paths: the API server rejects duplicates in a projected volume.
        paths = draw(st.lists(rel_path, min_size=len(picked), max_size=len(picked), unique=True))
        items = [{"key": k, "path": p, **({"mode": draw(mode)} if draw(st.booleans()) else {})}
                 for k, p in zip(picked, paths)]
    default_mode = draw(st.one_of(st.none(), mode))
    optional = draw(st.booleans())
    if kind == "secret":
        src = {"secretName": "s", **({"items": items} if items else {}), "optional": optional}
        if default_mode is not None:
            src["defaultMode"] = default_mode
        volumes.append({"name": "v", "secret": src})
    elif kind == "configMap":
        src = {"name": "c", **({"items": items} if items else {}), "optional": optional}
        if default_mode is not None:
            src["defaultMode"] = default_mode
        volumes.append({"name": "v", "configMap": src})
    else:
        sources = [{"secret": {"name": "s", **({"items": items} if items else {})}}]
        if draw(st.booleans()):
            sources.append({"downwardAPI": {"items": [{"path": "podinfo/name",
                                                       "fieldRef": {"fieldPath": "metadata.name"}}]}})
        if draw(st.booleans()):
            sources.append({"serviceAccountToken": {"path": "token"}})
        src = {"sources": sources, **({"defaultMode": default_mode} if default_mode is not None else {})}
        volumes.append({"name": "v", "projected": src})
    mounts.append({"name": "v", "mountPath": "/etc/" + draw(segment)})
    sidecar = draw(st.booleans())
    if draw(st.booleans()):
        sub = (items[0]["path"] if items else keys[0]) if draw(st.booleans()) else "no-such-key"
        mounts.append({"name": "v", "mountPath": "/opt/sub/" + draw(segment), "subPath": sub})
    security = {k: v for k, v in (("fsGroup", fs_group), ("runAsUser", run_as)) if v is not None}
    containers = [{"name": "app", "image": "busybox:latest", "command": ["sh", "-c", "sleep 600"],
                   "volumeMounts": mounts}]
    if sidecar:
        containers.append({"name": "side", "image": "busybox:latest", "command": ["sh", "-c", "sleep 600"],
                           "volumeMounts": [{"name": "v", "mountPath": "/side/" + draw(segment)}]})
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prop", "labels": {"app": "prop"}},
           "spec": {"securityContext": security, "containers": containers, "volumes": volumes}}
    import base64

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                 "binaryData": {k: base64.b64encode(v).decode() for k, v in data.items()}}
    # As JSON documents (valid YAML): every string quoted, so that kubectl's reading (go-yaml v2, where a
    # plain y or n is a boolean) and the intended value agree; PyYAML's dump leaves `y` plain.
    return "---\n".join(json.dumps(doc) + "\n" for doc in (secret, configmap, pod))


def _layout(text: str, tmp: Path):
    (tmp / "in.yaml").write_text(text)
    inputs = load_inputs([str(tmp / "in.yaml")])
    workloads = select_workloads(inputs, None)
    try:
        (layout,) = build_layouts(inputs, workloads)
    except ParityError as exc:
        # The only invalid combination the strategy can draw: a file and a directory at one path.
        assert all("is both a file and a directory" in p.message for p in exc.problems), str(exc)
        assume(False)
    return inputs, workloads[0], layout


SETTINGS = property_settings(EXAMPLES)


@SETTINGS
@given(secret_and_pod())
def test_layout_never_crashes_and_static_diff_of_own_output_is_equal(text):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        inputs, workload, layout = _layout(text, tmp)
        for c in layout.containers:
            for path, entry in c.visible_files():
                assert entry.sha256 and path.startswith("/")
        plan = build_plan(workload, layout, inputs)
        generate(plan, tmp / "out")
        report = static_diff(Expected([layout], [workload]), load_compose(str(tmp / "out" / "compose.yaml")), {},
                             frozenset())
        assert report.differences == [], [d.to_json() for d in report.differences]


@pytest.mark.live
@property_settings(LIVE_EXAMPLES, live=True)
@given(secret_and_pod())
def test_a_sample_is_equal_live(docker_client, text):
    from .live.helpers import compose, compose_up, differences_against_cluster

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        inputs, workload, layout = _layout(text, tmp)
        plan = build_plan(workload, layout, inputs)
        generate(plan, tmp / "out")
        summary = {"images": [plan.data_image]}
        with compose_up(tmp / "out", summary):
            assert differences_against_cluster(docker_client, plan.project, layout) == []
        assert compose(tmp / "out", "ps", "-a", "-q").stdout.strip() == ""
