"""Manifests read as kubectl reads them (issue 14): lists of any kind, whole streams."""

from __future__ import annotations

import pytest

from parity.errors import ParityError
from parity.kube.manifests import load_inputs

from ..conftest import entries_by_rel, layout_of, write

POD = """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: busybox
      volumeMounts: [{name: dash, mountPath: /etc/dash}, {name: creds, mountPath: /etc/creds}]
  volumes:
    - {name: dash, configMap: {name: dashboard-a}}
    - {name: creds, secret: {secretName: creds}}
"""


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


def test_a_crd_with_an_equals_enum_does_not_fail_the_stream(tmp_path):
    # kube-prometheus: PrometheusRule/AlertmanagerConfig CRDs hold `enum: [=, '!=', =~, '!~']`.
    text = """
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
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: app, image: busybox}]}
"""
    inputs = load_inputs([str(write(tmp_path, text))])
    assert [w.ref for w in inputs.workloads] == ["Pod/p"]
    assert inputs.other_kinds == [(str(tmp_path / "in.yaml"), "CustomResourceDefinition/matchers.example.com")]
