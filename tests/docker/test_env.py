"""``parity/docker/env.py``: a container's variables as the kubelet makes them."""

from __future__ import annotations

from parity.docker.env import container_env
from parity.kube.manifests import load_inputs


def test_a_reference_to_any_valid_name_expands_as_the_kubelet_expands_it(tmp_path):
    """The API server takes any printable ASCII name but '=' (``1X``, ``my.var``, ``a b``), and the
    kubelet's ``expansion.Expand`` maps whatever is between ``$(`` and the first ``)``: ``$(1X)`` is
    the value of ``1X`` (parity left it as written: its pattern took C identifiers only); ``$$(1X)``
    stays a literal ``$(1X)``, an undefined ``$(nope)`` and an empty ``$()`` stay as written."""
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n"
                   "      image: busybox:latest\n      env:\n"
                   "        - {name: 1X, value: one}\n        - {name: 'a b', value: two}\n"
                   "        - {name: B, value: '$(1X)-$(a b)-$$(1X)-$(nope)-$()-$($(1X))'}\n")
    inputs = load_inputs([str(pod)])
    (w,) = inputs.workloads
    env = container_env(w, w.spec.containers[0], inputs)
    assert env.plain["B"] == "one-two-$(1X)-$(nope)-$()-$($(1X))"
    assert env.origins["B"] == "a value in the pod spec expanding $(1X), $(a b)"
