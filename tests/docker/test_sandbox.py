"""The pod sandbox (issue 13): one container per pod holds its network namespace, host name, domain,
/etc/hosts entries and ports; every container of the pod joins it (compose and docker.sh)."""

from __future__ import annotations

import pytest
import yaml

from parity.docker.dockersh import PWD_MARK, script_commands
from parity.docker.plan import SANDBOX_COMMAND, pod_host_and_domain
from parity.docker.planner import build_app_plan
from parity.docker.sandbox import sandbox_plans
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import run_parity, workload, write
from ..kube.test_services import KUBERNETES_VARS

def duo(proxy: str, server: str, spec: str = "") -> str:
    """The pod ``duo``: a host name, a subdomain, host aliases (IPv4 and IPv6), an init container, a
    native sidecar ``proxy`` and two containers, ``server`` and ``client`` (a sleep).

    Args:
        proxy: the sidecar's ``command`` and ``ports`` lines (indented 4).
        server: the server's ``command`` and ``ports`` lines (indented 4).
        spec: lines (indented 2) that open the pod's spec.

    Returns:
        The manifest.
    """
    return DUO_TEMPLATE.format(spec=spec, proxy=proxy, server=server)


DUO_TEMPLATE = """
apiVersion: v1
kind: Pod
metadata: {{name: duo}}
spec:
{spec}  hostname: duo-0
  subdomain: peers
  hostAliases:
  - ip: 10.1.2.3
    hostnames: [db.local, cache.local]
  - ip: "2001:db8::5"
    hostnames: [six.local]
  initContainers:
  - name: setup
    image: busybox:latest
    command: [hostname]
  - name: proxy
    image: busybox:latest
    restartPolicy: Always
{proxy}  containers:
  - name: server
    image: busybox:latest
{server}  - name: client
    image: busybox:latest
    command: [sleep, "3600"]
"""

#: ``duo`` with a hostPort (17000), its sidecar asleep on port 15001, and no service-account volume
#: (these tests are about the sandbox: no data service, no volumes).
DUO = duo(proxy='    command: [sleep, "3600"]\n    ports: [{containerPort: 15001}]\n',
          server='    command: [sh, -c, "while :; do echo pong | nc -l -p 7000; done"]\n'
                 "    ports: [{containerPort: 7000, hostPort: 17000}]\n",
          spec="  automountServiceAccountToken: false  # (this test is about the sandbox: no data service, no volumes)\n")

SANDBOX_LABELS = {"io.parity.workload": "Pod/duo", "io.parity.namespace": "default", "io.parity.role": "sandbox",
                  "io.parity.project": "parity-pod-duo"}


def _plan(tmp_path, text: str):
    inputs = load_inputs([str(write(tmp_path, text))])
    workloads = select_workloads(inputs, None)
    return build_app_plan(workloads, build_layouts(inputs, workloads), inputs)


def test_compose_sandbox_holds_the_pods_network_identity_and_every_container_joins_it(tmp_path):
    assert run_parity("k8s-to-docker", str(write(tmp_path, DUO)), "-o", str(tmp_path / "out")).returncode == 0
    doc = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())
    assert list(doc["services"]) == ["pod_sandbox", "setup", "proxy", "server", "client"]
    assert doc["services"]["pod_sandbox"] == {
        "image": "busybox:latest",
        "command": ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $$!; done"],
        "hostname": "duo-0",
        "domainname": "peers.default.svc.cluster.local",
        "extra_hosts": ["db.local:10.1.2.3", "cache.local:10.1.2.3", "six.local:2001:db8::5"],
        "expose": ["15001/tcp", "7000/tcp"],
        "ports": ["17000:7000/tcp"],
        "labels": SANDBOX_LABELS,
        "restart": "unless-stopped",
    }
    for name in ("setup", "proxy", "server", "client"):
        svc = doc["services"][name]
        assert svc["network_mode"] == "service:pod_sandbox"
        assert not {"hostname", "domainname", "extra_hosts", "expose", "ports", "networks"} & set(svc), name
        assert list(svc["depends_on"])[0] == "pod_sandbox"
        assert svc["depends_on"]["pod_sandbox"] == {"condition": "service_started"}
    assert doc["services"]["server"]["depends_on"] == {"pod_sandbox": {"condition": "service_started"},
                                                        "proxy": {"condition": "service_started"}}


def test_docker_sh_runs_the_sandbox_on_the_project_network_and_the_containers_in_it(tmp_path):
    plan = _plan(tmp_path, DUO)
    commands = [c.argv for c in script_commands(plan)]
    assert commands[0] == ("docker", "network", "create", "--label", "io.parity.project=parity-pod-duo", "--",
                           "parity-pod-duo_network")
    assert commands[1] == (
        "docker", "run", "-d", "--name", "parity-pod-duo.pod_sandbox",
        "--label", "io.parity.workload=Pod/duo", "--label", "io.parity.namespace=default",
        "--label", "io.parity.role=sandbox",
        "--label", "io.parity.project=parity-pod-duo", "--network", "parity-pod-duo_network",
        "--hostname", "duo-0", "--domainname", "peers.default.svc.cluster.local",
        "--add-host", "db.local:10.1.2.3", "--add-host", "cache.local:10.1.2.3", "--add-host", "six.local:2001:db8::5",
        "--expose", "15001/tcp", "--expose", "7000/tcp", "-p", "17000:7000/tcp",
        "--restart", "unless-stopped", "--", "busybox:latest", *SANDBOX_COMMAND)
    runs = {c[c.index("--name") + 1]: c for c in commands[2:]}
    assert list(runs) == ["parity-pod-duo.setup", "parity-pod-duo.proxy", "parity-pod-duo.server",
                          "parity-pod-duo.client"]
    assert runs["parity-pod-duo.server"] == (
        "docker", "run", "-d", "--name", "parity-pod-duo.server", "--label", "io.parity.workload=Pod/duo",
        "--label", "io.parity.namespace=default", "--label", "io.parity.container=server",
        "--label", "io.parity.project=parity-pod-duo",
        "--mount", f'type=bind,"src={PWD_MARK}/termination/server",dst=/dev/termination-log',
        "--network", "container:parity-pod-duo.pod_sandbox",
        *[w for k, v in KUBERNETES_VARS for w in ("-e", f"{k}={v}")], "--restart", "unless-stopped",
        "--entrypoint", "sh", "--", "busybox:latest", "-c", "while :; do echo pong | nc -l -p 7000; done")
    for argv in runs.values():
        assert not {"--hostname", "--expose", "-p", "--add-host"} & set(argv)
    assert run_parity("k8s-to-docker", str(write(tmp_path, DUO)), "-o", str(tmp_path / "out")).returncode == 0
    script = (tmp_path / "out" / "docker.sh").read_text()
    assert "    nets=$(docker network ls -q --filter label=io.parity.project=parity-pod-duo)\n" \
           '    [ -z "$nets" ] || docker network rm $nets >/dev/null\n' in script


MEMORY_POD = """
apiVersion: v1
kind: Pod
metadata: {name: mem}
spec:
  automountServiceAccountToken: false
  initContainers: [{name: init, image: busybox:latest, volumeMounts: [{name: scratch, mountPath: /mem}]}]
  containers: [{name: app, image: busybox:latest, volumeMounts: [{name: scratch, mountPath: /mem}]}]
  volumes: [{name: scratch, emptyDir: {medium: Memory, sizeLimit: 1Mi}}]
"""


def test_up_s_sandbox_holds_the_memory_emptydir_as_compose_and_docker_sh_make_it(tmp_path):
    """The local driver unmounts a tmpfs volume (and loses its files) when its last container stops:
    the pod's sandbox holds a memory emptyDir mounted, so what the init container writes there is there
    for the app. ``parity up`` gives its sandbox the same mount as compose.yaml and docker.sh (it
    gave none: the init container's files were gone)."""
    plan = _plan(tmp_path, MEMORY_POD)
    (sb,) = sandbox_plans(plan)
    assert sb.holds == {"parity-pod-mem.scratch": "/parity/volumes/scratch"}
    assert sb.create_kwargs()["mounts"] == [{"Type": "volume", "Source": "parity-pod-mem.scratch",
                                             "Target": "/parity/volumes/scratch", "ReadOnly": False,
                                             "VolumeOptions": {"NoCopy": True}}]
    assert run_parity("k8s-to-docker", str(write(tmp_path, MEMORY_POD)), "-o", str(tmp_path / "out")).returncode == 0
    doc = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())
    assert doc["services"]["pod_sandbox"]["volumes"] == [{"type": "volume", "source": "scratch",
                                                         "target": "/parity/volumes/scratch", "volume": {"nocopy": True}}]
    assert doc["volumes"]["scratch"]["name"] == "parity-pod-mem.scratch"
    sandbox_run = next(c.argv for c in script_commands(plan) if "parity-pod-mem.pod_sandbox" in c.argv[:5])
    assert "type=volume,src=parity-pod-mem.scratch,dst=/parity/volumes/scratch,volume-nocopy" in sandbox_run
    (tmp_path / "duo").mkdir()
    (duo_sandbox,) = sandbox_plans(_plan(tmp_path / "duo", DUO))
    assert duo_sandbox.holds == {} and "mounts" not in duo_sandbox.create_kwargs()


def test_static_diff_takes_the_sandbox_for_a_helper(tmp_path):
    src = str(write(tmp_path, DUO))
    assert run_parity("k8s-to-docker", src, "-o", str(tmp_path / "out")).returncode == 0
    result = run_parity("diff", src, "--compose", str(tmp_path / "out" / "compose.yaml"))
    assert result.returncode == 0, result.stdout.decode()
    assert "unpaired" not in result.stdout.decode()


def _workload(tmp_path, spec: str, name: str = "web", namespace: str = "default"):
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec}" \
           "  containers: [{name: app, image: busybox:latest}]\n"
    inputs = load_inputs([str(write(tmp_path, text))])
    (w,) = select_workloads(inputs, None)
    return w


@pytest.mark.parametrize("spec, expected", [
    ("", ("web", "")),
    ("  hostname: web-0\n", ("web-0", "")),
    ("  subdomain: peers\n", ("web", "peers.team.svc.cluster.local")),
    ("  hostname: web-0\n  subdomain: peers\n  setHostnameAsFQDN: true\n", ("web-0.peers.team.svc.cluster.local", "")),
    ("  setHostnameAsFQDN: true\n", ("web", "")),  # no subdomain: no domain to add
])
def test_host_name_and_domain_as_the_kubelet_makes_them(tmp_path, spec, expected):
    assert pod_host_and_domain(_workload(tmp_path, spec, namespace="team")) == expected


def test_a_long_pod_name_is_cut_to_63_characters_without_a_trailing_dash(tmp_path):
    name = "a" * 62 + "-b" + "c" * 10
    assert pod_host_and_domain(_workload(tmp_path, "", name=name)) == ("a" * 62, "")


def test_a_statefulset_pod_has_its_name_and_service_as_host_and_subdomain(tmp_path):
    """The StatefulSet controller sets each pod's hostname and subdomain (``updateIdentity``)."""
    text = workload("StatefulSet", "db", "containers: [{name: app, image: busybox:latest}]", namespace="data",
                    spec="serviceName: db-peers")
    inputs = load_inputs([str(write(tmp_path, text))])
    (w,) = select_workloads(inputs, None)
    assert pod_host_and_domain(w) == ("db-0", "db-peers.data.svc.cluster.local")
