"""The process facets' readers (parity/facets.py) on inputs the diff cases do not reach."""

from __future__ import annotations

from fractions import Fraction

from parity.docker.security import DEFAULT_CAPABILITIES, cluster_capabilities, docker_capabilities
from parity.facets import HOST, compose_facets, network_differences


def test_a_memory_limit_written_with_a_unit_is_read_as_compose_reads_it():
    """parity's fallback reader (no Compose binary) keeps ``mem_limit: 64m`` as written: go-units
    ``RAMInBytes`` reads it as 64 MiB (it was a ValueError traceback)."""
    facets = compose_facets({"mem_limit": "64m", "cpus": "0.5"}, None)
    assert (facets.memory, facets.cpu) == (64 * 2 ** 20, Fraction(1, 2))
    assert compose_facets({"deploy": {"resources": {"limits": {"memory": "1.5g"}}}, "mem_limit": "1m"},
                          None).memory == 3 * 2 ** 29


def test_a_capability_both_added_and_dropped_is_dropped_in_the_cluster_and_kept_by_docker():
    """containerd applies the drops after the adds; moby's TweakCapabilities the adds after the drops."""
    assert "NET_ADMIN" not in cluster_capabilities(["NET_ADMIN"], ["net_admin"], False)
    assert "NET_ADMIN" in docker_capabilities(["NET_ADMIN"], ["CAP_NET_ADMIN"], False)
    assert cluster_capabilities([], ["ALL"], False) == docker_capabilities([], ["ALL"], False) == frozenset()
    assert docker_capabilities([], [], False) == DEFAULT_CAPABILITIES


def test_a_host_network_pod_counts_as_shared_in_its_sandbox_or_in_the_host():
    """hostNetwork is not reproduced (k8s-to-docker says so; Docker's host mode is host access): the
    generated setup's shared sandbox namespace is no difference (it was one for every hostNetwork pod of
    the public corpus: flannel, node-exporter, metallb's speaker), nor is the host's for all of them; a
    pod split between the two is."""
    sandbox = [("init", "ds_init", "ds_pod_sandbox"), ("app", "ds_app", "ds_pod_sandbox")]
    assert network_differences(sandbox, True) == []
    assert network_differences([(n, s, HOST) for n, s, _ in sandbox], True) == []
    assert network_differences([("app", "ds_app", "ds_app")], True) == []
    split = network_differences([sandbox[0], ("app", "ds_app", HOST)], True)
    assert [(d.container, d.kind, d.expected, d.actual) for d in split] == [
        ("init", "network", "the host's network namespace", "the network namespace of service ds_pod_sandbox")]


def test_a_pod_without_host_network_in_the_hosts_namespace_is_a_difference():
    """Without hostNetwork, a service on ``network_mode: host`` is in no namespace of the pod's own:
    one difference per container there, also when the whole pod is (they share it: it was no
    difference) and for a pod of one container (it was none either)."""
    host = [("app", "app", HOST), ("side", "side", HOST)]
    want = ("network", "the pod's own network namespace", "the host's network namespace")
    assert [(d.container, d.kind, d.expected, d.actual) for d in network_differences(host, False)] == [
        ("app", *want), ("side", *want)]
    assert [(d.container, d.path) for d in network_differences([host[0]], False)] == [("app", "(network)")]
    mixed = network_differences([("app", "app", "pod_sandbox"), ("side", "side", "pod_sandbox"),
                                 ("debug", "debug", HOST)], False)
    assert [(d.container, d.expected, d.actual) for d in mixed] == [("debug", *want[1:])]
