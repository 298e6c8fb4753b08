"""What the cluster makes of Services, per pod (parity/kube/services.py, issue 12 and 13): selection,
DNS names, port -> targetPort, published ports and the kubelet's service environment."""

from __future__ import annotations

import pytest

from parity.kube.manifests import load_inputs
from parity.kube.services import HostPort, PortForward, resolve, service_env, service_link_vars
from parity.kube.servicespec import ServicePort

from ..conftest import workload, write


def _app(tmp_path, text: str, publish: str = "default"):
    inputs = load_inputs([str(write(tmp_path, text))])
    return resolve(inputs.workloads, list(inputs.services.values()), publish)


def _by_ref(app):
    return {(p.workload.namespace, p.workload.ref): p for p in app.pods}


DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}, tier: {tier}}}}}
    spec:
      containers:
        - name: main
          image: busybox
          ports: [{ports}]
---
"""

SERVICE = """apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  {extra}
  selector: {selector}
  ports: [{ports}]
---
"""


def test_a_service_reaches_its_pods_by_the_four_names_the_cluster_resolves(tmp_path):
    text = (DEPLOY.format(name="web", ns="shop", app="web", tier="front", ports="{name: http, containerPort: 8080}")
            + SERVICE.format(name="frontend", ns="shop", extra="", selector="{app: web}",
                             ports="{name: http, port: 80, targetPort: http}"))
    pod, = _app(tmp_path, text).pods
    assert [s.name for s in pod.services] == ["frontend"]
    assert pod.namespace_names == ["frontend"]  # resolv.conf's first search domain: shop.svc.cluster.local
    assert pod.names == ["frontend.shop", "frontend.shop.svc", "frontend.shop.svc.cluster.local"]
    assert pod.forwards == [PortForward("shop/frontend", 80, 8080, "TCP")]


def test_a_service_selects_only_pods_of_its_namespace_holding_every_selector_pair(tmp_path):
    text = (DEPLOY.format(name="api", ns="team-a", app="api", tier="back", ports="{containerPort: 80}")
            + DEPLOY.format(name="api", ns="team-b", app="api", tier="back", ports="{containerPort: 80}")
            + DEPLOY.format(name="api-canary", ns="team-a", app="api", tier="canary", ports="{containerPort: 80}")
            + SERVICE.format(name="api", ns="team-a", extra="", selector="{app: api, tier: back}",
                             ports="{port: 80}")
            + SERVICE.format(name="api", ns="team-b", extra="", selector="{app: api}", ports="{port: 80}"))
    pods = _by_ref(_app(tmp_path, text))
    assert pods[("team-a", "Deployment/api")].names == ["api.team-a", "api.team-a.svc",
                                                        "api.team-a.svc.cluster.local"]
    assert pods[("team-b", "Deployment/api")].names == ["api.team-b", "api.team-b.svc",
                                                        "api.team-b.svc.cluster.local"]
    assert pods[("team-a", "Deployment/api-canary")].services == []  # tier: canary is not tier: back
    # The short name is the same in both namespaces: each resolves it to its own Service.
    assert pods[("team-a", "Deployment/api")].namespace_names == pods[("team-b", "Deployment/api")].namespace_names \
        == ["api"]


STATEFUL = workload("StatefulSet", "db", """
    hostname: ignored
    containers: [{name: db, image: busybox, ports: [{name: pg, containerPort: 5432}]}]""",
                    namespace="data", spec="serviceName: db") + "---\n"


def test_a_statefulset_pod_is_named_under_its_headless_governing_service(tmp_path):
    # updateIdentity: hostname = pod name (db-0), subdomain = spec.serviceName; the pod's own
    # spec.hostname is replaced. CoreDNS serves db-0.db.data.svc.cluster.local for the headless Service.
    text = STATEFUL + SERVICE.format(name="db", ns="data", extra="clusterIP: None", selector="{app: db}",
                                     ports="{name: pg, port: 5432, targetPort: 15432}")
    pod, = _app(tmp_path, text).pods
    assert pod.namespace_names == ["db", "db-0.db"]
    assert pod.names == ["db.data", "db.data.svc", "db.data.svc.cluster.local",
                         "db-0.db.data", "db-0.db.data.svc", "db-0.db.data.svc.cluster.local"]
    assert pod.forwards == []  # headless: no virtual IP, clients reach the pod's own ports
    assert pod.env["KUBERNETES_SERVICE_HOST"] == "kubernetes.default.svc.cluster.local"
    assert not any(k.startswith("DB_") for k in pod.env)  # a headless Service has no link variables


def test_a_pod_name_needs_a_headless_service_named_by_the_subdomain(tmp_path):
    # Same StatefulSet, its Service not headless, and another Service selecting it not named db.
    text = (STATEFUL + SERVICE.format(name="db", ns="data", extra="", selector="{app: db}", ports="{port: 5432}")
            + SERVICE.format(name="replicas", ns="data", extra="clusterIP: None", selector="{app: db}",
                             ports="{port: 5432}"))
    pod, = _app(tmp_path, text).pods
    assert not any(n.startswith("db-0") for n in pod.names + pod.namespace_names)


def test_the_kubernetes_docs_hostname_and_subdomain_example(tmp_path):
    # "DNS for Services and Pods", Pod's hostname and subdomain fields: busybox1 with hostname busybox-1
    # and subdomain busybox-subdomain is busybox-1.busybox-subdomain.NS.svc.CLUSTER-DOMAIN.
    text = """apiVersion: v1
kind: Service
metadata: {name: busybox-subdomain}
spec:
  selector: {name: busybox}
  clusterIP: None
  ports: [{name: foo, port: 1234}]
---
apiVersion: v1
kind: Pod
metadata: {name: busybox1, labels: {name: busybox}}
spec:
  hostname: busybox-1
  subdomain: busybox-subdomain
  containers: [{image: busybox:1.28, command: [sleep, "3600"], name: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: busybox2, labels: {name: busybox}}
spec:
  hostname: busybox-2
  subdomain: busybox-subdomain
  containers: [{image: busybox:1.28, command: [sleep, "3600"], name: busybox}]
"""
    one, two = _app(tmp_path, text).pods
    assert "busybox-1.busybox-subdomain.default.svc.cluster.local" in one.names
    assert "busybox-2.busybox-subdomain.default.svc.cluster.local" in two.names
    assert "busybox-subdomain.default.svc.cluster.local" in one.names and \
        "busybox-subdomain.default.svc.cluster.local" in two.names  # both pods' A records


def test_a_named_target_port_is_resolved_against_each_pods_own_container_ports(tmp_path):
    text = (DEPLOY.format(name="v1", ns="shop", app="web", tier="a", ports="{name: http, containerPort: 8080}")
            + DEPLOY.format(name="v2", ns="shop", app="web", tier="b", ports="{name: http, containerPort: 9090}")
            + DEPLOY.format(name="v3", ns="shop", app="web", tier="c", ports="{name: admin, containerPort: 7070}")
            + SERVICE.format(name="web", ns="shop", extra="", selector="{app: web}",
                             ports="{port: 80, targetPort: http}"))
    pods = _by_ref(_app(tmp_path, text))
    assert pods[("shop", "Deployment/v1")].forwards == [PortForward("shop/web", 80, 8080, "TCP")]
    assert pods[("shop", "Deployment/v2")].forwards == [PortForward("shop/web", 80, 9090, "TCP")]
    v3 = pods[("shop", "Deployment/v3")]
    assert v3.forwards == [] and v3.notes == [
        "Service shop/web port 80: targetPort 'http' names no TCP port of Deployment/v3's containers: the cluster "
        "leaves the pod out of this port's endpoints (podutil.FindPort), so it is not reachable through the "
        "Service here either"]


def test_a_named_target_port_matches_the_protocol_and_native_sidecars_too(tmp_path):
    text = """apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: p}}
spec:
  initContainers:
    - {name: proxy, image: busybox, restartPolicy: Always, ports: [{name: dns, containerPort: 5353, protocol: UDP}]}
    - {name: setup, image: busybox, ports: [{name: web, containerPort: 1111}]}
  containers: [{name: app, image: busybox, ports: [{name: dns, containerPort: 6363}]}]
---
""" + SERVICE.format(name="p", ns="default", extra="", selector="{app: p}",
                     ports="{name: dns, port: 53, protocol: UDP, targetPort: dns}, "
                           "{name: web, port: 80, targetPort: web}")
    pod, = _app(tmp_path, text).pods
    assert pod.forwards == []
    assert pod.notes == [
        "Service default/p port 53 (dns): UDP 53 -> 5353 is not forwarded here (the local forwarder carries TCP "
        "only): use port 5353",  # the sidecar's UDP port, not the app's TCP one of the same name
        "Service default/p port 80 (web): targetPort 'web' names no TCP port of Pod/p's containers: the cluster "
        "leaves the pod out of this port's endpoints (podutil.FindPort), so it is not reachable through the "
        "Service here either"]  # a plain init container's port does not count


def test_a_service_port_a_container_already_listens_on_is_not_forwarded(tmp_path):
    text = (DEPLOY.format(name="web", ns="shop", app="web", tier="a",
                          ports="{containerPort: 80}, {containerPort: 8080}")
            + SERVICE.format(name="web", ns="shop", extra="", selector="{app: web}",
                             ports="{port: 80, targetPort: 8080}"))
    pod, = _app(tmp_path, text).pods
    assert pod.forwards == []
    assert pod.notes == ["Service shop/web port 80 -> 8080: not forwarded here: container main itself listens on "
                         "80 in the pod (in the cluster the Service's virtual IP keeps the two apart)"]


PUBLISHED = (DEPLOY.format(name="web", ns="shop", app="web", tier="a", ports="{name: http, containerPort: 8080}")
             + DEPLOY.format(name="admin", ns="shop", app="admin", tier="a", ports="{containerPort: 9000}")
             + SERVICE.format(name="web", ns="shop", extra="type: NodePort", selector="{app: web}",
                              ports="{name: http, port: 80, targetPort: http, nodePort: 30080}, "
                                    "{name: alt, port: 81, targetPort: http}")
             + SERVICE.format(name="lb", ns="shop", extra="type: LoadBalancer", selector="{app: admin}",
                              ports="{port: 443, targetPort: 9000}")
             + SERVICE.format(name="internal", ns="shop", extra="", selector="{app: admin}",
                              ports="{port: 443, targetPort: 9000}"))


@pytest.mark.parametrize("publish, expected", [
    ("default", {"Deployment/web": [HostPort("shop/web", 30080, 8080, "TCP"), HostPort("shop/web", 81, 8080, "TCP")],
                 "Deployment/admin": [HostPort("shop/lb", 443, 9000, "TCP")]}),
    ("all", {"Deployment/web": [HostPort("shop/web", 30080, 8080, "TCP"), HostPort("shop/web", 81, 8080, "TCP")],
             "Deployment/admin": [HostPort("shop/lb", 443, 9000, "TCP")]}),
    ("none", {"Deployment/web": [], "Deployment/admin": []}),
])
def test_published_ports_follow_the_publish_policy(tmp_path, publish, expected):
    # NodePort: the nodePort when given, else the port; LoadBalancer: the port; the container side is the
    # resolved targetPort (the host port enters the pod directly, no forwarder).
    app = _app(tmp_path, PUBLISHED, publish)
    assert {p.workload.ref: p.published for p in app.pods} == expected
    admin = next(p for p in app.pods if p.workload.name == "admin")
    if publish == "all":  # internal's 443 would take the host port lb already has
        assert admin.notes == ["Service shop/internal port 443: host port 443/TCP is already published for "
                               "Service shop/lb: not published"]
    else:
        assert admin.notes == []


def test_services_that_reach_no_pod_here_are_said(tmp_path):
    text = (DEPLOY.format(name="web", ns="shop", app="web", tier="a", ports="{containerPort: 80}")
            + SERVICE.format(name="nobody", ns="shop", extra="", selector="{app: gone}", ports="{port: 80}")
            + SERVICE.format(name="manual", ns="shop", extra="", selector="{}", ports="{port: 80}")
            + """apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: db.example.com}
""")
    assert _app(tmp_path, text).notes == [
        "Service shop/nobody selects no workload of the input: its name does not resolve here",
        "Service shop/manual has no selector: its endpoints are managed outside the input, its name does not "
        "resolve here",
        "Service shop/ext is ExternalName: its name (a CNAME in the cluster) does not resolve here"]


def test_the_upstream_from_services_example_with_the_cluster_ip_as_host():
    # pkg/kubelet/envvars/envvars_test.go TestFromServices, Service by Service (its headless one has none).
    assert list(service_link_vars("foo-bar", "1.2.3.4", [ServicePort("", 8080, 8080, "TCP", None, "")]).items()) == [
        ("FOO_BAR_SERVICE_HOST", "1.2.3.4"), ("FOO_BAR_SERVICE_PORT", "8080"),
        ("FOO_BAR_PORT", "tcp://1.2.3.4:8080"), ("FOO_BAR_PORT_8080_TCP", "tcp://1.2.3.4:8080"),
        ("FOO_BAR_PORT_8080_TCP_PROTO", "tcp"), ("FOO_BAR_PORT_8080_TCP_PORT", "8080"),
        ("FOO_BAR_PORT_8080_TCP_ADDR", "1.2.3.4")]
    assert list(service_link_vars("abc-123", "5.6.7.8", [ServicePort("u-d-p", 8081, 8081, "UDP", None, ""),
                                                         ServicePort("t-c-p", 8081, 8081, "TCP", None, "")])
                .items()) == [
        ("ABC_123_SERVICE_HOST", "5.6.7.8"), ("ABC_123_SERVICE_PORT", "8081"),
        ("ABC_123_SERVICE_PORT_U_D_P", "8081"), ("ABC_123_SERVICE_PORT_T_C_P", "8081"),
        ("ABC_123_PORT", "udp://5.6.7.8:8081"), ("ABC_123_PORT_8081_UDP", "udp://5.6.7.8:8081"),
        ("ABC_123_PORT_8081_UDP_PROTO", "udp"), ("ABC_123_PORT_8081_UDP_PORT", "8081"),
        ("ABC_123_PORT_8081_UDP_ADDR", "5.6.7.8"), ("ABC_123_PORT_8081_TCP", "tcp://5.6.7.8:8081"),
        ("ABC_123_PORT_8081_TCP_PROTO", "tcp"), ("ABC_123_PORT_8081_TCP_PORT", "8081"),
        ("ABC_123_PORT_8081_TCP_ADDR", "5.6.7.8")]
    assert list(service_link_vars("q-u-u-x", "9.8.7.6", [ServicePort("", 8082, 8082, "TCP", None, ""),
                                                         ServicePort("8083", 8083, 8083, "TCP", None, "")])
                .items()) == [
        ("Q_U_U_X_SERVICE_HOST", "9.8.7.6"), ("Q_U_U_X_SERVICE_PORT", "8082"),
        ("Q_U_U_X_SERVICE_PORT_8083", "8083"),  # a port name starting with a digit: no "_" added
        ("Q_U_U_X_PORT", "tcp://9.8.7.6:8082"), ("Q_U_U_X_PORT_8082_TCP", "tcp://9.8.7.6:8082"),
        ("Q_U_U_X_PORT_8082_TCP_PROTO", "tcp"), ("Q_U_U_X_PORT_8082_TCP_PORT", "8082"),
        ("Q_U_U_X_PORT_8082_TCP_ADDR", "9.8.7.6"), ("Q_U_U_X_PORT_8083_TCP", "tcp://9.8.7.6:8083"),
        ("Q_U_U_X_PORT_8083_TCP_PROTO", "tcp"), ("Q_U_U_X_PORT_8083_TCP_PORT", "8083"),
        ("Q_U_U_X_PORT_8083_TCP_ADDR", "9.8.7.6")]


KUBERNETES_VARS = [
    ("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc.cluster.local"), ("KUBERNETES_SERVICE_PORT", "443"),
    ("KUBERNETES_SERVICE_PORT_HTTPS", "443"),
    ("KUBERNETES_PORT", "tcp://kubernetes.default.svc.cluster.local:443"),
    ("KUBERNETES_PORT_443_TCP", "tcp://kubernetes.default.svc.cluster.local:443"),
    ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"), ("KUBERNETES_PORT_443_TCP_PORT", "443"),
    ("KUBERNETES_PORT_443_TCP_ADDR", "kubernetes.default.svc.cluster.local")]


def test_the_kubelet_env_holds_the_master_service_and_the_namespaces_services_with_an_ip(tmp_path):
    text = (DEPLOY.format(name="web", ns="shop", app="web", tier="a", ports="{containerPort: 80}")
            + SERVICE.format(name="redis-cart", ns="shop", extra="", selector="{app: redis}", ports="{port: 6379}")
            + SERVICE.format(name="headless", ns="shop", extra="clusterIP: None", selector="{app: web}",
                             ports="{port: 80}")
            + SERVICE.format(name="elsewhere", ns="other", extra="", selector="{app: web}", ports="{port: 80}"))
    pod, = _app(tmp_path, text).pods
    assert list(pod.env.items()) == KUBERNETES_VARS + [
        ("REDIS_CART_SERVICE_HOST", "redis-cart.shop.svc.cluster.local"), ("REDIS_CART_SERVICE_PORT", "6379"),
        ("REDIS_CART_PORT", "tcp://redis-cart.shop.svc.cluster.local:6379"),
        ("REDIS_CART_PORT_6379_TCP", "tcp://redis-cart.shop.svc.cluster.local:6379"),
        ("REDIS_CART_PORT_6379_TCP_PROTO", "tcp"), ("REDIS_CART_PORT_6379_TCP_PORT", "6379"),
        ("REDIS_CART_PORT_6379_TCP_ADDR", "redis-cart.shop.svc.cluster.local")]


def test_enable_service_links_false_keeps_only_the_master_service(tmp_path):
    text = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec: {enableServiceLinks: false, containers: [{name: app, image: busybox}]}
---
""" + SERVICE.format(name="redis", ns="shop", extra="", selector="{app: redis}", ports="{port: 6379}")
    pod, = _app(tmp_path, text).pods
    assert list(pod.env.items()) == KUBERNETES_VARS


def test_a_kubernetes_service_in_the_input_is_the_master_one_and_a_namespaces_own_replaces_it(tmp_path):
    text = (SERVICE.format(name="kubernetes", ns="default", extra="", selector="{}",
                           ports="{name: https, port: 8443}")
            + SERVICE.format(name="kubernetes", ns="shop", extra="", selector="{}", ports="{port: 1234}"))
    services = list(load_inputs([str(write(tmp_path, text))]).services.values())
    assert service_env("other", True, services)["KUBERNETES_SERVICE_PORT"] == "8443"
    assert service_env("shop", True, services)["KUBERNETES_SERVICE_HOST"] == "kubernetes.shop.svc.cluster.local"
    assert service_env("shop", False, services)["KUBERNETES_SERVICE_PORT"] == "8443"
