"""Service objects read and checked as the API server checks them (issue 12)."""

from __future__ import annotations

import pytest

from parity.errors import ParityError
from parity.kube.manifests import load_inputs
from parity.kube.servicespec import ServicePort

from ..conftest import write


def test_a_service_gets_the_api_servers_defaults(tmp_path):
    # SetDefaults_Service: type ClusterIP, protocol TCP, targetPort = port; a named targetPort stays a name.
    text = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: http-alt}
    - {name: admin, port: 9000}
    - {name: dns, port: 53, protocol: UDP, targetPort: 5353}
"""
    inputs = load_inputs([str(write(tmp_path, text))])
    svc = inputs.services[("shop", "web")]
    assert (svc.type, svc.cluster_ip, svc.selector, svc.headless, svc.ip_set) == ("ClusterIP", "", {"app": "web"},
                                                                                  False, True)
    assert svc.ports == [ServicePort("http", 80, "http-alt", "TCP", None, "spec.ports[0]"),
                         ServicePort("admin", 9000, 9000, "TCP", None, "spec.ports[1]"),
                         ServicePort("dns", 53, 5353, "UDP", None, "spec.ports[2]")]
    assert inputs.other_kinds == []


def test_a_headless_service_needs_no_ports_and_has_no_ip(tmp_path):
    text = """apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, selector: {app: db}}
"""
    svc = load_inputs([str(write(tmp_path, text))]).services[("default", "db")]
    assert (svc.headless, svc.ip_set, svc.ports) == (True, False, [])


def test_a_statefulset_keeps_its_service_name_and_a_pod_its_dns_fields(tmp_path):
    text = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-headless
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      enableServiceLinks: false
      containers: [{name: db, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {hostname: p-1, subdomain: group, containers: [{name: app, image: busybox}]}
"""
    sts, pod = load_inputs([str(write(tmp_path, text))]).workloads
    assert (sts.service_name, sts.spec.enable_service_links, sts.spec.hostname) == ("db-headless", False, None)
    assert (pod.service_name, pod.spec.enable_service_links, pod.spec.hostname, pod.spec.subdomain) == (
        None, True, "p-1", "group")


def test_a_cluster_ip_that_is_no_ip_address_is_refused_with_the_api_servers_message(tmp_path):
    # IsValidIP, one home with a pod's hostAliases[].ip (names.ip_address_errors).
    text = """apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: 10.0.0.300, selector: {app: web}, ports: [{port: 80}]}
"""
    with pytest.raises(ParityError) as refused:
        load_inputs([str(write(tmp_path, text))])
    assert [str(p) for p in refused.value.problems] == [
        f'{tmp_path / "in.yaml"}: Service/web: spec.clusterIP: Invalid value: "10.0.0.300": must be a valid IP '
        'address, (e.g. 10.9.8.7 or 2001:db8::ffff)']
