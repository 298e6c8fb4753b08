"""``parity/docker/env.py``: a container's variables as the kubelet makes them."""

from __future__ import annotations

from parity.docker.env import container_env
from parity.kube.manifests import load_inputs

from ..conftest import run_parity


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


BINARY = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {TEXT_KEY: v}\n"
          "binaryData: {BIN_KEY: dGVuYW50LWE=}\n---\n"
          "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  automountServiceAccountToken: false\n"
          "  containers:\n    - name: web\n      image: busybox:latest\n%s")


def test_envfrom_a_configmap_sets_its_data_keys_not_its_binarydata_keys(tmp_path):
    """kubelet_pods.go ``makeEnvironmentVariables`` ranges over ``configMap.Data``: a ``binaryData``
    key is no variable (parity set BIN_KEY=tenant-a, in the env file k8s-to-docker writes too)."""
    pod = tmp_path / "pod.yaml"
    pod.write_text(BINARY % "      envFrom: [{configMapRef: {name: cfg}}]\n")
    inputs = load_inputs([str(pod)])
    (w,) = inputs.workloads
    env = container_env(w, w.spec.containers[0], inputs)
    assert (env.plain.get("BIN_KEY"), env.from_objects) == (None, {"TEXT_KEY": "v"})
    result = run_parity("k8s-to-docker", str(pod), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "env" / "web.env").read_text() == "TEXT_KEY='v'\n"


def test_a_configmapkeyref_to_a_binarydata_key_is_refused_or_skipped_when_optional(tmp_path):
    """``configMap.Data[key]`` misses a ``binaryData`` key: "couldn't find key", the container fails
    (CreateContainerConfigError): one line, exit 2, nothing written; optional: not set."""
    pod = tmp_path / "pod.yaml"
    pod.write_text(BINARY % "      env: [{name: D, valueFrom: {configMapKeyRef: {name: cfg, key: BIN_KEY}}}]\n")
    result = run_parity("k8s-to-docker", str(pod), "-o", str(tmp_path / "out"))
    assert (result.returncode, result.stderr.decode()) == (2, (
        f"parity: {pod}: Pod/web: spec.containers[0].env[0].valueFrom.configMapKeyRef: configmap \"cfg\" has no key "
        "'BIN_KEY' (it is in binaryData, which the kubelet does not read for variables) (not optional: the "
        "container would fail with CreateContainerConfigError)\n"))
    assert not (tmp_path / "out").exists()
    pod.write_text(BINARY % ("      env: [{name: D, valueFrom: {configMapKeyRef: {name: cfg, key: BIN_KEY, "
                             "optional: true}}}]\n"))
    inputs = load_inputs([str(pod)])
    (w,) = inputs.workloads
    env = container_env(w, w.spec.containers[0], inputs)
    assert "D" not in env.plain and "D" not in env.from_objects
