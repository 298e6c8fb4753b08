"""The process facets' readers (parity/facets.py) on inputs the diff cases do not reach."""

from __future__ import annotations

from fractions import Fraction

from parity.docker.security import DEFAULT_CAPABILITIES, cluster_capabilities, docker_capabilities
from parity.facets import compose_facets


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
