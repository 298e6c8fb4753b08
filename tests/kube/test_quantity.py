"""Quantities the downward API reads (``resourceFieldRef``), as apimachinery's ``ParseQuantity``
reads them (``pkg/api/resource/suffix.go``: decimal suffixes ``n u m "" k M G T P E``, binary
``Ki`` to ``Ei``, exponents ``e``/``E``)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from parity.kube import quantity

from .test_kubelet import layout_of, pod


@pytest.mark.parametrize("text, value", [
    ("500000u", Fraction(1, 2)), ("1n", Fraction(1, 10 ** 9)), ("250000000n", Fraction(1, 4)),
    ("1.5u", Fraction(3, 2 * 10 ** 6)), ("2", 2), ("500m", Fraction(1, 2)), ("1e3", 1000), ("1Ki", 1024),
])
def test_nano_and_micro_suffixes_are_quantities(text, value):
    assert quantity.parse(text) == value


def test_nano_and_micro_quantities_reach_the_downward_api(tmp_path):
    """issue 14: ``cpu: 500000u`` was refused as an invalid quantity; the kubelet writes the
    millicores, rounded up: 500000u -> 500, 1n -> 1."""
    containers = """
  containers:
  - name: app
    image: x
    resources: {limits: {cpu: 500000u}, requests: {cpu: 1n}}
    volumeMounts: [{name: v, mountPath: /r}]"""
    text = pod("downwardAPI: {items: ["
               "{path: lim, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}, "
               "{path: req, resourceFieldRef: {containerName: app, resource: requests.cpu, divisor: 1m}}, "
               "{path: cores, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1000000u}}]}",
               containers=containers)
    w = layout_of(tmp_path, text)
    got = {p.rsplit("/", 1)[1]: w.contents[e.sha256] for p, e in w.containers[0].visible_files()}
    assert got == {"lim": b"500", "req": b"1", "cores": b"1"}
