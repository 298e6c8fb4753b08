"""The pod sandbox against the real engine (issue 13): a pod's containers share localhost through it,
and see the pod's host name, domain and hostAliases, through compose and through docker.sh."""

from __future__ import annotations

import re
import subprocess

import pytest

from ..conftest import write
from ..docker.test_sandbox import duo
from .helpers import compose_container, compose_up, generate

#: The pod ``duo`` whose containers answer on localhost: the sidecar on 15001, the server on 7000.
POD = duo(proxy='    command: [sh, -c, "while :; do echo pong-from-proxy | nc -l -p 15001; done"]\n',
          server='    command: [sh, -c, "while :; do echo pong-from-server | nc -l -p 7000; done"]\n'
                 "    ports: [{containerPort: 7000}]\n")

#: Until the listener runs: a bounded retry, not a timed assertion.
CONNECT = "for i in $(seq 100); do nc localhost {port} && exit 0; sleep 0.1; done; exit 1"

HOSTS = re.compile(
    r"127\.0\.0\.1\tlocalhost\n"
    r"::1\tlocalhost ip6-localhost ip6-loopback\n"
    r"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
    r"(?P<aliases>(?:[0-9a-f.:]+\t[a-z.]+\n)+)"
    r"(?P<ip>[0-9.]+)\tduo-0\.peers\.default\.svc\.cluster\.local duo-0\n\Z")


def _seen_inside(client_ctr, proxy_ctr) -> None:
    """What the pod's containers see: each other on localhost, the pod's names, its /etc/hosts."""
    def run(ctr, script: str) -> str:
        result = ctr.exec_run(["sh", "-c", script])
        assert result.exit_code == 0, (script, result.output)
        return result.output.decode()

    assert run(client_ctr, CONNECT.format(port=7000)) == "pong-from-server\n"
    assert run(client_ctr, CONNECT.format(port=15001)) == "pong-from-proxy\n"  # the native sidecar
    assert run(proxy_ctr, CONNECT.format(port=7000)) == "pong-from-server\n"
    # (the kernel's domain name is Docker's --domainname: the kubelet leaves it "(none)", see
    # docs/docker-differences.md; it is what gives /etc/hosts the kubelet's FQDN line)
    assert run(client_ctr, "hostname; hostname -f; cat /proc/sys/kernel/domainname") == \
        "duo-0\nduo-0.peers.default.svc.cluster.local\npeers.default.svc.cluster.local\n"
    hosts = HOSTS.fullmatch(run(client_ctr, "cat /etc/hosts"))
    assert hosts, run(client_ctr, "cat /etc/hosts")
    assert sorted(hosts["aliases"].splitlines()) == ["10.1.2.3\tcache.local", "10.1.2.3\tdb.local",
                                                     "2001:db8::5\tsix.local"]


@pytest.mark.live
def test_compose_pod_containers_share_localhost_and_the_pods_names(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, POD)))
    project = summary["project"]
    with compose_up(out, summary):
        sandbox = compose_container(docker_client, project, "pod_sandbox")
        client = compose_container(docker_client, project, "client")
        _seen_inside(client, compose_container(docker_client, project, "proxy"))
        setup = compose_container(docker_client, project, "setup")
        assert setup.attrs["State"]["ExitCode"] == 0
        assert docker_client.api.logs(setup.id) == b"duo-0\n"  # the init container ran in the pod's namespace
        for name in ("setup", "proxy", "server", "client"):
            ctr = compose_container(docker_client, project, name)
            assert ctr.attrs["HostConfig"]["NetworkMode"] == f"container:{sandbox.id}", name
        assert list(sandbox.attrs["NetworkSettings"]["Networks"]) == [f"{project}_default"]
        sandbox.stop(timeout=30)
        sandbox.reload()
        assert sandbox.attrs["State"]["ExitCode"] == 0  # it exits on SIGTERM, as the pause container does


@pytest.mark.live
def test_docker_sh_pod_containers_share_localhost_and_the_pods_names(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, POD)))
    project = summary["project"]
    label = f"io.parity.project={project}"
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        sandbox = docker_client.containers.get(f"{project}.pod_sandbox")
        _seen_inside(docker_client.containers.get(f"{project}.client"),
                     docker_client.containers.get(f"{project}.proxy"))
        for name in ("proxy", "server", "client"):
            ctr = docker_client.containers.get(f"{project}.{name}")
            assert ctr.attrs["HostConfig"]["NetworkMode"] == f"container:{sandbox.id}", name
        assert list(sandbox.attrs["NetworkSettings"]["Networks"]) == [f"{project}_network"]
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)
    assert docker_client.containers.list(all=True, filters={"label": label}) == []
    assert docker_client.networks.list(filters={"label": label}) == []
