"""Services in the Docker plan and the generated files (issue 12): each pod's sandbox carries its DNS
names, forwards a Service port to its targetPort, and publishes per --publish."""

from __future__ import annotations

import json

from parity.docker.composefile import compose_dict
from parity.docker.dockersh import script_commands
from parity.docker.plan import SANDBOX_COMMAND, pod_networks, sandbox_command
from parity.docker.planner import build_app_plan
from parity.docker.sandbox import sandbox_plans, up_networks
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.kube.services import HostPort, PortForward

from ..conftest import deployment, service, workload, write

#: Four workloads over two namespaces: same-named Deployments `api` in team-a and team-b, each behind a
#: Service `api` whose named targetPort differs from its port; a headless Service `db` governing the
#: StatefulSet `db` (pod db-0); a NodePort Service `web` in team-a.
APP = "---\n".join([
    deployment("api", "containers: [{name: app, image: busybox:latest, ports: [{name: http, containerPort: 8080}]}]",
               namespace="team-a"),
    deployment("api", "containers: [{name: app, image: busybox:latest, ports: [{name: http, containerPort: 9090}]}]",
               namespace="team-b"),
    workload("StatefulSet", "db", "containers: [{name: db, image: busybox:latest, ports: [{containerPort: 5432}]}]",
             namespace="team-b", spec="serviceName: db"),
    deployment("web", "containers: [{name: web, image: busybox:latest, ports: [{containerPort: 8000}]}]",
               namespace="team-a"),
    service("api", "{selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}", namespace="team-a"),
    service("api", "{selector: {app: api}, ports: [{name: http, port: 80, targetPort: http}]}", namespace="team-b"),
    service("db", "{clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}", namespace="team-b"),
    service("web", "{type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: 8000, nodePort: 30080}]}",
            namespace="team-a")])


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
        {"default": ["api.team-a", "api.team-a.svc", "api.team-a.svc.cluster.local"], "by-namespace-team-a": ["api"]},
        {"default": ["api.team-b", "api.team-b.svc", "api.team-b.svc.cluster.local"], "by-namespace-team-b": ["api"]},
        {"default": ["db.team-b", "db.team-b.svc", "db.team-b.svc.cluster.local", "db-0.db.team-b",
                     "db-0.db.team-b.svc", "db-0.db.team-b.svc.cluster.local"], "by-namespace-team-b": ["db", "db-0.db"]},
        {"default": ["web.team-a", "web.team-a.svc", "web.team-a.svc.cluster.local"], "by-namespace-team-a": ["web"]}]


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
    assert doc["networks"] == {"by-namespace-team-a": {}, "by-namespace-team-b": {}}
    box = doc["services"]["team-b_db_pod_sandbox"]
    assert box["networks"] == {
        "default": {"aliases": ["db.team-b", "db.team-b.svc", "db.team-b.svc.cluster.local", "db-0.db.team-b",
                                "db-0.db.team-b.svc", "db-0.db.team-b.svc.cluster.local"]},
        "by-namespace-team-b": {"aliases": ["db", "db-0.db"]}}
    assert doc["services"]["team-a_web_pod_sandbox"]["ports"] == ["30080:8000/tcp"]
    assert doc["services"]["team-a_api_pod_sandbox"]["command"][2].startswith("nc -ll -p 80 -e nc 127.0.0.1 8080 & ")
    argv = [c.argv for c in script_commands(plan)]
    assert ("docker", "network", "create", "--label", f"io.parity.project={plan.project}", "--",
            f"{plan.project}_by-namespace-team-b") in argv
    assert ("docker", "network", "connect", "--alias", "db", "--alias", "db-0.db", "--", f"{plan.project}_by-namespace-team-b",
            f"{plan.project}.team-b_db_pod_sandbox") in argv


def test_up_makes_the_sandboxes_and_networks_compose_describes(tmp_path):
    """``parity up``'s SDK arguments for each pod's sandbox say what compose.yaml's sandbox service says:
    command (with the forwarders), host and domain name, extra hosts, published ports, network
    sysctls, and per network the same aliases (docker.sh's network names, compose's keys)."""
    text = APP.replace("spec:\n      containers: [{name: db,",
                       "spec:\n      hostAliases: [{ip: 10.1.2.3, hostnames: [legacy]}]\n"
                       "      securityContext: {sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '80'},"
                       " {name: kernel.shm_rmid_forced, value: '1'}]}\n      containers: [{name: db,")
    plan = _plan(tmp_path, text)
    doc = compose_dict(plan)
    p = plan.project
    assert up_networks(plan) == [f"{p}_network", f"{p}_by-namespace-team-a", f"{p}_by-namespace-team-b"]
    keys = {f"{p}_network": "default", f"{p}_by-namespace-team-a": "by-namespace-team-a",
            f"{p}_by-namespace-team-b": "by-namespace-team-b"}
    for sb in sandbox_plans(plan):
        svc = json.loads(json.dumps(doc["services"][sb.pod.sandbox]).replace("$$", "$"))  # as Compose reads it
        kwargs = sb.create_kwargs()
        assert kwargs["name"] == plan.sandbox_container(sb.pod) == f"{p}.{sb.pod.sandbox}"
        assert (kwargs["command"], kwargs["hostname"], kwargs.get("domainname"), kwargs.get("extra_hosts"),
                kwargs.get("sysctls"), kwargs["restart_policy"]) == (
            svc["command"], svc["hostname"], svc.get("domainname"), svc.get("extra_hosts"), svc.get("sysctls"),
            {"Name": svc["restart"]})
        assert {keys[n]: {"aliases": a} for n, a in sb.networks.items()} == svc["networks"]
        assert [f"{h}:{t}" for t, hs in sb.ports.items() for h in hs] == svc.get("ports", [])
        assert sb.labels["io.parity.namespace"] == sb.pod.namespace
    db = next(sb for sb in sandbox_plans(plan) if sb.pod.name == "db")
    assert (db.hostname, db.domainname, db.extra_hosts, db.sysctls) == (
        "db-0", "db.team-b.svc.cluster.local", ["legacy:10.1.2.3"], {"net.ipv4.ip_unprivileged_port_start": "80"})
    # the IPC sysctl stays on the container (its own IPC namespace here); the network one is the sandbox's
    assert doc["services"]["team-b_db_db"]["sysctls"] == {"kernel.shm_rmid_forced": "1"}
    web = next(sb for sb in sandbox_plans(plan) if sb.pod.name == "web")
    assert web.create_kwargs()["ports"] == {"8000/tcp": 30080}


def test_a_changed_sandbox_setting_changes_its_digest_and_nothing_else_does(tmp_path):
    """``up`` keeps a running sandbox whose digest is the plan's: the same plan twice gives the same
    digests; another published port changes only that pod's."""
    before = {sb.name: sb.digest for sb in sandbox_plans(_plan(tmp_path))}
    assert before == {sb.name: sb.digest for sb in sandbox_plans(_plan(tmp_path))}
    after = {sb.name: sb.digest for sb in sandbox_plans(_plan(tmp_path, APP.replace("30080", "30081")))}
    assert [n for n in before if before[n] != after[n]] == [f"{_plan(tmp_path).project}.team-a_web_pod_sandbox"]


def test_host_namespaces_are_said_not_reproduced(tmp_path):
    """hostNetwork (node-exporter, metallb's speaker, flannel in the public corpus), hostPID and hostIPC:
    the pod keeps namespaces of its own (its sandbox on the project network, its ports there), and the
    output says so; Docker's host modes would be host access, which no generated setup asks for."""
    pod = ("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: mon}\nspec:\n"
           "  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n"
           "    spec:\n      hostNetwork: true\n      hostPID: true\n      hostIPC: true\n"
           "      containers: [{name: agent, image: busybox:latest, ports: [{containerPort: 9100, hostPort: 9100}]}]\n")
    plan = _plan(tmp_path, pod)
    assert [d for d in plan.differences if d.startswith("DaemonSet/agent: host")] == [
        "DaemonSet/agent: hostNetwork: true is not reproduced: the pod gets a network namespace of its own here, "
        "where the cluster gives it the node's network (its ports, its host name); Docker's network_mode: host "
        "would give it this machine's, which is host access",
        "DaemonSet/agent: hostPID: true is not reproduced: the pod gets a process namespace of its own here, "
        "where the cluster gives it the node's processes; Docker's pid: host would give it this machine's, which "
        "is host access",
        "DaemonSet/agent: hostIPC: true is not reproduced: the pod gets an IPC namespace of its own here, "
        "where the cluster gives it the node's shared memory; Docker's ipc: host would give it this machine's, "
        "which is host access"]
    services = compose_dict(plan)["services"]
    assert not any(k in svc for svc in services.values() for k in ("pid", "ipc"))
    assert services["pod_sandbox"]["ports"] == ["9100:9100/tcp"] and "network_mode" not in services["pod_sandbox"]
