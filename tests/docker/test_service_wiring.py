"""Services in the Docker plan and the generated files (issue 12): each pod's sandbox carries its DNS
names, forwards a Service port to its targetPort, and publishes per --publish."""

from __future__ import annotations

from parity.docker.emit import compose_dict, script_commands
from parity.docker.plan import SANDBOX_COMMAND, build_app_plan, pod_networks, sandbox_command
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs, select_workloads
from parity.kube.services import HostPort, PortForward

from ..conftest import write

#: Four workloads over two namespaces: same-named Deployments `api` in team-a and team-b, each behind a
#: Service `api` whose named targetPort differs from its port; a headless Service `db` governing the
#: StatefulSet `db` (pod db-0); a NodePort Service `web` in team-a.
APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-a}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: app, image: busybox:latest, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team-b}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: app, image: busybox:latest, ports: [{name: http, containerPort: 9090}]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team-b}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: busybox:latest, ports: [{containerPort: 5432}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: busybox:latest, ports: [{containerPort: 8000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: team-a}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: team-b}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: team-b}
spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team-a}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8000, nodePort: 30080}]}
"""


def _plan(tmp_path, text=APP, **options):
    inputs = load_inputs([str(write(tmp_path, text))])
    workloads = select_workloads(inputs, None)
    return build_app_plan(workloads, build_layouts(inputs, workloads), inputs, **options)


def test_each_pod_plan_carries_its_names_forwards_and_host_ports(tmp_path):
    plan = _plan(tmp_path)
    pods = {(p.namespace, p.name): p for p in plan.pods}
    a, b, db, web = pods["team-a", "api"], pods["team-b", "api"], pods["team-b", "db"], pods["team-a", "web"]
    assert a.aliases == ["api.team-a", "api.team-a.svc", "api.team-a.svc.cluster.local"]
    assert b.aliases == ["api.team-b", "api.team-b.svc", "api.team-b.svc.cluster.local"]
    assert a.short_aliases == b.short_aliases == ["api"]
    assert db.aliases == ["db.team-b", "db.team-b.svc", "db.team-b.svc.cluster.local",
                          "db-0.db.team-b", "db-0.db.team-b.svc", "db-0.db.team-b.svc.cluster.local"]
    assert db.short_aliases == ["db", "db-0.db"]
    # the named targetPort resolved per pod; nothing to forward for the headless Service
    assert a.forwards == [PortForward("team-a/api", 80, 8080, "TCP")]
    assert b.forwards == [PortForward("team-b/api", 80, 9090, "TCP")]
    assert db.forwards == [] and web.forwards == [PortForward("team-a/web", 80, 8000, "TCP")]
    # --publish default: the NodePort Service only, at its nodePort, into the pod's target port
    assert [p.published for p in plan.pods] == [[], [], [], [HostPort("team-a/web", 30080, 8000, "TCP")]]


def test_short_names_go_on_a_network_of_their_namespace_when_the_app_spans_several(tmp_path):
    # `api` must reach team-a's api from team-a and team-b's from team-b, as each pod's first search
    # domain (NS.svc.cluster.local) completes it; one Docker network would answer both.
    assert pod_networks(_plan(tmp_path)) == [
        {"default": ["api.team-a", "api.team-a.svc", "api.team-a.svc.cluster.local"], "ns-team-a": ["api"]},
        {"default": ["api.team-b", "api.team-b.svc", "api.team-b.svc.cluster.local"], "ns-team-b": ["api"]},
        {"default": ["db.team-b", "db.team-b.svc", "db.team-b.svc.cluster.local", "db-0.db.team-b",
                     "db-0.db.team-b.svc", "db-0.db.team-b.svc.cluster.local"], "ns-team-b": ["db", "db-0.db"]},
        {"default": ["web.team-a", "web.team-a.svc", "web.team-a.svc.cluster.local"], "ns-team-a": ["web"]}]


def test_one_namespace_keeps_every_name_on_the_project_network(tmp_path):
    one = "\n---\n".join(d for d in APP.split("\n---\n") if "team-b" not in d)
    networks = pod_networks(_plan(tmp_path, one))
    assert networks == [{"default": ["api.team-a", "api.team-a.svc", "api.team-a.svc.cluster.local", "api"]},
                        {"default": ["web.team-a", "web.team-a.svc", "web.team-a.svc.cluster.local", "web"]}]


def test_publish_all_and_none(tmp_path):
    assert [[f"{h.host}:{h.target}" for h in p.published] for p in _plan(tmp_path, publish="all").pods] == [
        ["80:8080"], [], ["5432:5432"], ["30080:8000"]]  # team-b's api: 80/tcp is taken
    assert [p.published for p in _plan(tmp_path, publish="none").pods] == [[], [], [], []]
    notes = _plan(tmp_path, publish="all").pods[1].differences
    assert "Service team-b/api port 80: host port 80/TCP is already published for Service team-a/api: not published" \
        in notes


def test_the_sandbox_forwards_each_service_port_then_waits_as_before(tmp_path):
    plan = _plan(tmp_path)
    a, b, db, web = plan.pods
    assert sandbox_command(a) == ["sh", "-c", "nc -ll -p 80 -e nc 127.0.0.1 8080 & " + SANDBOX_COMMAND[2]]
    assert sandbox_command(db) == SANDBOX_COMMAND


def test_compose_and_docker_sh_carry_the_names_networks_and_forwarders(tmp_path):
    plan = _plan(tmp_path)
    doc = compose_dict(plan)
    assert doc["networks"] == {"ns-team-a": {}, "ns-team-b": {}}
    box = doc["services"]["team-b_db_pod_sandbox"]
    assert box["networks"] == {
        "default": {"aliases": ["db.team-b", "db.team-b.svc", "db.team-b.svc.cluster.local", "db-0.db.team-b",
                                "db-0.db.team-b.svc", "db-0.db.team-b.svc.cluster.local"]},
        "ns-team-b": {"aliases": ["db", "db-0.db"]}}
    assert doc["services"]["team-a_web_pod_sandbox"]["ports"] == ["30080:8000/tcp"]
    assert doc["services"]["team-a_api_pod_sandbox"]["command"][2].startswith("nc -ll -p 80 -e nc 127.0.0.1 8080 & ")
    argv = [c.argv for c in script_commands(plan)]
    assert ("docker", "network", "create", "--label", f"io.parity.project={plan.project}", "--",
            f"{plan.project}_ns-team-b") in argv
    assert ("docker", "network", "connect", "--alias", "db", "--alias", "db-0.db", "--", f"{plan.project}_ns-team-b",
            f"{plan.project}.team-b_db_pod_sandbox") in argv
