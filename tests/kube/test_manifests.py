"""parity/kube/manifests.py and strictfields.py: what the loader takes, skips and refuses (issue 15)."""

from __future__ import annotations

import pytest

from parity.errors import ParityError
from parity.kube.manifests import load_inputs, load_objects

from ..conftest import run_parity, write

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: app, image: busybox}]
"""


def test_documents_that_are_not_kubernetes_objects_are_skipped_only_when_asked(tmp_path):
    write(tmp_path, POD, "pod.yaml")
    write(tmp_path, "services:\n  app: {image: busybox}\n", "compose.yaml")
    write(tmp_path, "replicaCount: 1\n---\n" + POD.replace("web", "web2"), "mixed.yaml")
    with pytest.raises(ParityError) as refused:
        load_inputs([str(tmp_path)])
    assert [p.field for p in refused.value.problems] == ["kind", "kind"]
    inputs = load_inputs([str(tmp_path)], skip_non_kubernetes=True)
    assert sorted(w.name for w in inputs.workloads) == ["web", "web2"]
    assert inputs.warnings == [
        f"{tmp_path}/compose.yaml: skipped 1 document(s) that are not Kubernetes objects (no apiVersion or kind)",
        f"{tmp_path}/mixed.yaml: skipped 1 document(s) that are not Kubernetes objects (no apiVersion or kind)"]


def test_unknown_fields_are_refused_in_files_with_a_hint(tmp_path):
    path = write(tmp_path, POD.replace("image: busybox", "image: busybox, imagePullPolice: Always")
                 + "  restartpolicy: Never\n")
    with pytest.raises(ParityError) as refused:
        load_inputs([str(path)])
    assert [str(p) for p in refused.value.problems] == [
        f'{path}: Pod/web: spec.containers[0].imagePullPolice: unknown field (did you mean "imagePullPolicy"?)',
        f'{path}: Pod/web: spec.restartpolicy: unknown field (did you mean "restartPolicy"?)']


def test_fields_of_custom_resources_and_of_other_api_versions_are_not_judged(tmp_path):
    crd_like = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {anything: 1}\n"
    old = POD.replace("apiVersion: v1", "apiVersion: v1beta1") + "  madeUp: 1\n"
    assert [ref for _, ref in load_inputs([str(write(tmp_path, crd_like))]).other_kinds] == ["Widget/w"]
    # A Pod of apiVersion v1beta1 is still read as a Pod (the loader keys on kind), unchecked for fields.
    assert [w.name for w in load_inputs([str(write(tmp_path, old, "old.yaml"))]).workloads] == ["web"]


def test_objects_from_a_cluster_are_not_checked_for_fields():
    """A cluster newer than parity's field table may return fields parity does not know yet."""
    import yaml

    obj = yaml.safe_load(POD)
    obj["spec"]["someFieldOfAFutureRelease"] = True
    assert [w.name for w in load_objects([obj], "cluster:test").workloads] == ["web"]


def test_base64_text_under_string_data_is_warned_about_without_its_value(tmp_path):
    secret = ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n"
              "  token: c2VjcmV0LXRva2VuLXZhbHVlCg==\n  plain: not-base64-at-all\n  short: Zm9vYmFy\n")
    result = run_parity("layout", str(write(tmp_path, POD + "---\n" + secret)))
    assert result.returncode == 0
    assert result.stderr.decode() == (
        f"parity: warning: {tmp_path}/in.yaml: Secret/s: stringData[token]: looks base64-encoded; stringData takes "
        "the value as it is (data: takes base64), so the file holds the encoded text\n")


def test_yaml_that_is_not_a_kubernetes_object_is_refused_with_the_way_out(tmp_path):
    path = write(tmp_path, "services:\n  app: {image: busybox}\n", "compose.yaml")
    result = run_parity("layout", str(path))
    assert (result.returncode, result.stderr.decode()) == (2, (
        f"parity: {path}: <no kind>/?: kind: Required value (not a Kubernetes object: --skip-non-kubernetes "
        "leaves such documents out)\n"))


def test_a_wrongly_typed_value_is_named_in_words_whatever_the_loader_made_of_it(tmp_path):
    """Integers keep their written text in a subclass of int: the message still says "a number"."""
    path = write(tmp_path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: 0755, b: 0x1F, c: yes}\n")
    result = run_parity("layout", str(path))
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"parity: {path}: ConfigMap/c: data[a]: must be a string, not a number",
        f"parity: {path}: ConfigMap/c: data[b]: must be a string, not a number",
        f"parity: {path}: ConfigMap/c: data[c]: must be a string, not a boolean"]
