"""Manifests read as kubectl reads them (issue 14): lists of any kind, whole streams."""

from __future__ import annotations

import pytest

from parity.errors import ParityError
from parity.kube.manifests import load_inputs

from ..conftest import entries_by_rel, layout_of, pod_manifest, run_parity, write

POD = "\n" + pod_manifest("p", """
  containers:
    - name: app
      image: busybox
      volumeMounts: [{name: dash, mountPath: /etc/dash}, {name: creds, mountPath: /etc/creds}]
  volumes:
    - {name: dash, configMap: {name: dashboard-a}}
    - {name: creds, secret: {secretName: creds}}
""")


def test_configmap_list_is_flattened_as_kubectl_flattens_it(tmp_path):
    # kube-prometheus ships its 33 Grafana dashboards as one `kind: ConfigMapList`.
    text = POD + """---
apiVersion: v1
kind: ConfigMapList
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: dashboard-a}
    data: {a.json: "{}"}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: dashboard-b}
    data: {b.json: "{}"}
---
apiVersion: v1
kind: SecretList
items:
  - metadata: {name: creds}
    stringData: {token: t0}
"""
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/dash")
    assert got["a.json"] == ("symlink", "777", 0, 0, "..data/a.json")
    # An item with neither kind nor apiVersion takes the list's kind minus "List" (decodeToList).
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/creds")
    assert got["token"] == ("symlink", "777", 0, 0, "..data/token")


def test_any_kind_with_items_is_a_list_and_lists_nest(tmp_path):
    text = """
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: DeploymentList
    items:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: web, image: nginx}]}
  - apiVersion: v1
    kind: ConfigMapList
    items: null
"""
    inputs = load_inputs([str(write(tmp_path, text))])
    assert [w.ref for w in inputs.workloads] == ["Deployment/web"]
    assert inputs.other_kinds == [] and inputs.configmaps == {}


def test_items_that_are_not_a_list_are_refused_as_kubectl_refuses_them(tmp_path):
    path = write(tmp_path, "apiVersion: v1\nkind: ConfigMapList\nmetadata: {name: x}\nitems: {a: b}\n")
    with pytest.raises(ParityError) as err:
        load_inputs([str(path)])
    assert str(err.value) == (f"{path}: ConfigMapList/x: items: must be a list (kubectl reads an object with items "
                              "as a list of objects)")


#: Documents of kinds parity does not read that once failed the whole stream: (document, its KIND/NAME).
UNREAD_KINDS = [
    # kube-prometheus: PrometheusRule/AlertmanagerConfig CRDs hold `enum: [=, '!=', =~, '!~']`.
    pytest.param("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: matchers.example.com}
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            matchType: {enum: [=, '!=', =~, '!~'], type: string}
""", "CustomResourceDefinition/matchers.example.com", id="crd-with-an-equals-enum"),
    pytest.param("""apiVersion: example.com/v1
kind: Widget
metadata: {name: s}
spec: {ports: [{port: 80}], ports: [{port: 81}]}
""", "Widget/s", id="a-key-given-twice"),
]


@pytest.mark.parametrize("document, ref", UNREAD_KINDS)
def test_a_document_of_a_kind_parity_does_not_read_never_fails_the_stream(tmp_path, document, ref):
    text = document + "---\n" + pod_manifest("p", "{containers: [{name: app, image: busybox}]}")
    inputs = load_inputs([str(write(tmp_path, text))])
    assert [w.ref for w in inputs.workloads] == ["Pod/p"]
    assert inputs.other_kinds == [(str(tmp_path / "in.yaml"), ref)]


STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - name: db
          image: busybox
          volumeMounts:
            - {name: creds, mountPath: /etc/creds}
            - {name: scratch, mountPath: /tmp}
            - {name: host, mountPath: /host}
            - {name: storage, mountPath: /var/lib/db}
      volumes:
        - {name: creds, secret: {secretName: creds}}
        - {name: scratch, emptyDir: {}}
        - {name: host, hostPath: {path: /var/log}}
  volumeClaimTemplates:
    - metadata: {name: storage}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: t0}
"""


def test_a_mount_of_a_volume_claim_template_is_a_volume_of_the_pod(tmp_path):
    # It failed as `volumeMounts[3].name: Not found: "storage"`, which blocked every workload of the input.
    from parity.kube.podspec import ClaimSource

    inputs = load_inputs([str(write(tmp_path, STATEFULSET))])
    (w,) = inputs.workloads
    storage = [v for v in w.spec.volumes if v.name == "storage"]
    assert [(v.type, v.source, v.field, v.modelled) for v in storage] == [
        ("persistentVolumeClaim", ClaimSource("storage-db-0", read_only=False, template=True),
         "spec.volumeClaimTemplates[0]", False)]
    got = entries_by_rel(layout_of(tmp_path, STATEFULSET).containers[0], "/etc/creds")
    assert got["token"] == ("symlink", "777", 0, 0, "..data/token")


def statefulset_sharing(source: str) -> str:
    """``STATEFULSET`` with one more volume, ``share``, of this source (``nfs: {...}``), mounted at /share."""
    text = STATEFULSET.replace("            - {name: storage, mountPath: /var/lib/db}",
                               "            - {name: storage, mountPath: /var/lib/db}\n"
                               "            - {name: share, mountPath: /share}")
    return text.replace("        - {name: host, hostPath: {path: /var/log}}",
                        "        - {name: host, hostPath: {path: /var/log}}\n"
                        f"        - {{name: share, {source}}}")


def test_unreproduced_volumes_are_said_once_each_never_dropped_silently(tmp_path):
    text = statefulset_sharing("nfs: {server: nfs.example, path: /exports}")
    path = write(tmp_path, text + """---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers: [{name: app, image: busybox, volumeMounts: [{name: scratch, mountPath: /tmp}]}]
  volumes: [{name: scratch, csi: {driver: x.example}}]
""")
    result = run_parity("layout", str(path), "--workload", "sts/db")
    assert result.returncode == 0
    where = f"parity: warning: {path}: StatefulSet/db: spec.template.spec.containers[0]"
    # One line per mount of a volume type parity does not reproduce, for the chosen workload only
    # (Pod/other's csi volume is not this run's business); emptyDir, hostPath and the claim are reproduced.
    assert result.stderr.decode().splitlines() == [
        f"{where}.volumeMounts[4]: nfs volume \"share\" is not reproduced by parity (it needs the cluster's "
        "storage: parity reproduces emptyDir, persistentVolumeClaim, hostPath and ephemeral volumes as Docker "
        "volumes or binds): nothing is mounted at /share here",
    ]
    shown = result.stdout.decode()
    for line in ("/tmp  <- emptyDir (volume scratch)  read-write", "/host  <- hostPath /var/log (volume host)  read-write",
                 "/var/lib/db  <- persistentVolumeClaim/storage-db-0 (volume storage)  read-write"):
        assert line in shown


def test_a_claim_template_replaces_a_same_named_template_volume(tmp_path):
    # The StatefulSet controller's updateStorage: claim volumes first, template volumes of the same name dropped.
    text = STATEFULSET.replace("- {name: host, hostPath: {path: /var/log}}",
                               "- {name: host, hostPath: {path: /var/log}}\n        - {name: storage, emptyDir: {}}")
    (w,) = load_inputs([str(write(tmp_path, text))]).workloads
    assert [(v.name, v.type) for v in w.spec.volumes] == [
        ("storage", "persistentVolumeClaim"), ("creds", "secret"), ("scratch", "emptyDir"), ("host", "hostPath")]


def test_a_claim_template_without_a_name_is_refused(tmp_path):
    text = STATEFULSET.replace("- metadata: {name: storage}", "- metadata: {}")
    with pytest.raises(ParityError) as err:
        load_inputs([str(write(tmp_path, text))])
    assert str(err.value).splitlines()[0] == (
        f"{tmp_path}/in.yaml: StatefulSet/db: spec.volumeClaimTemplates[0].metadata.name: Required value")


def test_a_key_given_twice_in_an_object_parity_reads_is_refused_with_both_lines(tmp_path):
    # kubectl apply -f keeps the last value without a word (kubernetes#125885: a second `containers:`
    # silently replaced the first); -k (kustomize) and Helm refuse it. Which value was meant?
    text = """apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata:
      name: p
      labels: {app.kubernetes.io/name: a, app.kubernetes.io/name: b}
    spec:
      containers:
        - name: app
          image: busybox
          image: nginx
  - apiVersion: v1
    kind: Service
    metadata: {name: s}
    spec: {selector: {app: a}, selector: {app: b}}
"""
    path = write(tmp_path, text)
    with pytest.raises(ParityError) as err:
        load_inputs([str(path)])
    assert str(err.value).splitlines() == [
        f'{path}: Pod/p: metadata.labels[app.kubernetes.io/name]: line 8: mapping key "app.kubernetes.io/name" '
        "already defined at line 8",
        f'{path}: Pod/p: spec.containers[0].image: line 13: mapping key "image" already defined at line 12',
        f'{path}: Service/s: spec.selector: line 17: mapping key "selector" already defined at line 17',
    ]  # (Services are read since issue 12: which selector was meant matters as much)
