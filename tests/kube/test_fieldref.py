"""parity/kube/fieldref.py: one downward API for volume files and container env (issue 16).

Kubernetes shares ``pkg/fieldpath`` and ``resource.ExtractContainerResourceValue`` between a
downwardAPI volume and ``env[].valueFrom``: the same pod gives the same value, and a reference that
cannot be resolved fails the pod the same way. So do parity's two paths: same values, same reasons
when a value is a placeholder, problems collected with file/object/field on both.
"""

from __future__ import annotations

import pytest

from parity.docker.env import container_env
from parity.errors import ParityError
from parity.kube.fieldref import split_subscripted
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs

from ..conftest import deployment, write

POD = deployment("web", """\
      initContainers:
      - {name: side, image: busybox:latest, restartPolicy: Always, resources: {limits: {memory: 1Gi, cpu: 1500m}}}
      containers:
      - name: app
        image: busybox:latest
        resources: {limits: {memory: 128Mi}}
        env:
        %(env)s
        volumeMounts: [{name: info, mountPath: /info}]
      volumes:
      - name: info
        downwardAPI:
          items:
          %(items)s
""", annotations="{team: blue}")

#: (file/variable name, fieldRef path or (resource, containerName, divisor))
REFS = [("name", "metadata.name"), ("uid", "metadata.uid"), ("app", "metadata.labels['app']"),
        ("missing", "metadata.labels['missing']"), ("team", "metadata.annotations['team']"),
        ("seen", "metadata.annotations['kubernetes.io/config.seen']"),
        ("sidemem", ("limits.memory", "side", "1Mi")), ("sidecpu", ("limits.cpu", "side", "1m")),
        ("appmem", ("limits.memory", "app", "1Ki")), ("appcpu", ("limits.cpu", "app", None)),
        ("reqcpu", ("requests.cpu", "app", None))]


def _ref(ref) -> str:
    if isinstance(ref, str):
        return f'fieldRef: {{fieldPath: "{ref}"}}'
    resource, ctr, divisor = ref
    return (f"resourceFieldRef: {{resource: {resource}, containerName: {ctr}"
            + (f", divisor: {divisor}" if divisor else "") + "}")


def _manifest(refs) -> str:
    env = "\n        ".join(f"- {{name: {n.upper()}, valueFrom: {{{_ref(r)}}}}}" for n, r in refs)
    items = "\n          ".join(f"- {{path: {n}, {_ref(r)}}}" for n, r in refs)
    return POD % {"env": env, "items": items}


def test_env_and_volume_files_get_the_same_values_and_the_same_reasons(tmp_path):
    inputs = load_inputs([str(write(tmp_path, _manifest(REFS)))])
    (w,) = inputs.workloads
    (layout,) = build_layouts(inputs, [w])
    app = next(c for c in layout.containers if c.name == "app")
    files = {path.rsplit("/", 1)[1]: e for path, e in app.visible_files()}
    env = container_env(w, w.spec.containers[0], inputs)
    for name, ref in REFS:
        entry = files[name]
        assert env.plain[name.upper()].encode() == layout.contents[entry.sha256], name
        what = f"fieldRef {ref}" if isinstance(ref, str) else f"resourceFieldRef {ref[0]}"
        reason = [n for n in env.notes if n.startswith(f"{name.upper()}: ")]
        assert reason == ([f"{name.upper()}: {what}: {entry.volatile}"] if entry.volatile else []), name
    # The values themselves (the kubelet's): the sidecar's limits are read, not the env's own container's.
    assert {k: env.plain[k] for k in ("NAME", "APP", "MISSING", "TEAM", "SIDEMEM", "SIDECPU", "APPMEM", "APPCPU",
                                      "REQCPU")} == {
        "NAME": "web", "APP": "web", "MISSING": "", "TEAM": "blue", "SIDEMEM": "1024", "SIDECPU": "1500",
        "APPMEM": "131072", "APPCPU": "0", "REQCPU": "0"}
    assert env.plain["UID"] and env.plain["SEEN"] == "1970-01-01T00:00:00.000000000Z"
    assert "NAME: fieldRef metadata.name: the Deployment controller names the pod" in env.notes
    assert "APPCPU: resourceFieldRef limits.cpu: no limit set: the kubelet writes the node's allocatable amount" \
        in env.notes


def test_an_env_resource_ref_reads_the_container_it_names(tmp_path):
    """The kubelet's containerResourceRuntimeValue: containerName, when given, picks the container
    (parity read the env's own container: 128 where the sidecar's limit is 1024)."""
    inputs = load_inputs([str(write(tmp_path, _manifest([("m", ("limits.memory", "side", "1Mi"))])))])
    (w,) = inputs.workloads
    assert container_env(w, w.spec.containers[0], inputs).plain["M"] == "1024"


def test_a_missing_container_fails_both_paths_the_same_way_and_every_problem_is_said(tmp_path):
    refs = [("a", ("limits.memory", "nope", None)), ("b", ("limits.cpu", "gone", None))]
    path = write(tmp_path, _manifest(refs))
    inputs = load_inputs([str(path)])
    (w,) = inputs.workloads
    with pytest.raises(ParityError) as volume:
        build_layouts(inputs, [w])
    with pytest.raises(ParityError) as env:
        container_env(w, w.spec.containers[0], inputs)
    where = f"{path}: Deployment/web: spec.template.spec"
    assert [str(p) for p in volume.value.problems] == [
        f'{where}.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName: Not found: "nope"',
        f'{where}.volumes[0].downwardAPI.items[1].resourceFieldRef.containerName: Not found: "gone"']
    assert [str(p) for p in env.value.problems] == [
        f'{where}.containers[0].env[0].valueFrom.resourceFieldRef.containerName: Not found: "nope"',
        f'{where}.containers[0].env[1].valueFrom.resourceFieldRef.containerName: Not found: "gone"']


def test_missing_env_objects_are_all_said_not_only_the_first(tmp_path):
    path = write(tmp_path, """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          containers:
          - name: app
            image: busybox:latest
            envFrom: [{secretRef: {name: nosuch}}]
            env:
            - {name: A, valueFrom: {secretKeyRef: {name: nosuch, key: k}}}
            - {name: B, valueFrom: {configMapKeyRef: {name: nosuch2, key: k}}}
        """)
    inputs = load_inputs([str(path)])
    (w,) = inputs.workloads
    with pytest.raises(ParityError) as refused:
        container_env(w, w.spec.containers[0], inputs)
    tail = " (not optional: the container would fail with CreateContainerConfigError)"
    assert [str(p) for p in refused.value.problems] == [
        f'{path}: Pod/p: spec.containers[0].envFrom[0].secretRef.name: secret "nosuch" not found{tail}',
        f'{path}: Pod/p: spec.containers[0].env[0].valueFrom.secretKeyRef: secret "nosuch" not found{tail}',
        f'{path}: Pod/p: spec.containers[0].env[1].valueFrom.configMapKeyRef: configmap "nosuch2" not found{tail}']


def test_a_resource_or_divisor_the_api_server_refuses_is_refused_on_both_paths_with_its_message(tmp_path):
    refs = [("g", ("limits.gpu", "app", None)), ("d", ("limits.memory", "app", "3"))]
    path = write(tmp_path, _manifest(refs))
    with pytest.raises(ParityError) as refused:
        load_inputs([str(path)])
    where = f"{path}: Deployment/web: spec.template.spec"
    unsupported = ('Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", '
                   '"limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"')
    divisor = ('Invalid value: "limits.memory": only divisor\'s values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, '
               "1Ti, 1Pi, 1Ei are supported with the memory resource")
    assert [str(p) for p in refused.value.problems] == [
        f"{where}.volumes[0].downwardAPI.items[0].resourceFieldRef.resource: {unsupported}",
        f"{where}.volumes[0].downwardAPI.items[1].resourceFieldRef.divisor: {divisor}",
        f"{where}.containers[0].env[0].valueFrom.resourceFieldRef.resource: {unsupported}",
        f"{where}.containers[0].env[1].valueFrom.resourceFieldRef.divisor: {divisor}"]


@pytest.mark.parametrize("path,split", [
    ("metadata.labels['app']", ("metadata.labels", "app", True)),
    ("metadata.annotations['a.b/c']", ("metadata.annotations", "a.b/c", True)),
    ("metadata.labels['x']y']", ("metadata.labels", "x']y", True)),
    ("metadata.name", ("metadata.name", "", False)),
    ("['x']", ("['x']", "", False)),
    ("metadata.labels[x]", ("metadata.labels[x]", "", False)),
])
def test_split_subscripted_is_fieldpaths_split_maybe_subscripted_path(path, split):
    assert split_subscripted(path) == split
