"""parity/kube/sources.py: kubectl's input flags (-f, -R, -k) and charts/kustomizations given as
plain directories (issue 15). -k renders with the real kubectl (or kustomize) on PATH."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ..conftest import ROOT, run_parity

ARTICLE = ROOT / "manifests" / "api-gateway"


def names(result) -> list[str]:
    assert result.returncode == 0, result.stderr.decode()
    return [w["workload"]["name"] for w in json.loads(result.stdout)["workloads"]]


def test_f_reads_a_directorys_own_files_and_r_the_ones_below(tmp_path):
    (tmp_path / "top").mkdir()
    shutil.copytree(ARTICLE, tmp_path / "top" / "below")
    shutil.copy(ROOT / "manifests" / "richer" / "tenants.yaml", tmp_path / "top")
    top = str(tmp_path / "top")
    assert names(run_parity("layout", "-f", top, "--format", "json")) == ["tenant-gateway"]
    assert sorted(names(run_parity("layout", "-f", top, "-R", "--format", "json"))) == ["api-gateway", "tenant-gateway"]
    # MANIFEST... keeps parity's own reading: directories recursively.
    assert sorted(names(run_parity("layout", top, "--format", "json"))) == ["api-gateway", "tenant-gateway"]
    # -f is repeatable, takes files and -, and mixes with MANIFEST...
    text = (ARTICLE / "secret.yaml").read_text()
    both = run_parity("layout", "-f", str(ARTICLE / "pod.yaml"), "-f", "-", "--format", "json", input=text)
    assert names(both) == ["api-gateway"]
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    shutil.copy(ARTICLE / "pod.yaml", empty / "sub")
    result = run_parity("layout", "-f", str(empty))
    assert (result.returncode, result.stderr.decode()) == (
        2, f"parity: {empty}: directory holds no *.yaml, *.yml or *.json file (-R reads the ones below it)\n")


def _kustomization(path):
    shutil.copytree(ARTICLE, path)
    (path / "kustomization.yaml").write_text("namespace: team-a\nresources: [pod.yaml, secret.yaml]\n")


def test_k_renders_a_kustomization_as_kubectl_apply_k(tmp_path):
    assert shutil.which("kubectl") or shutil.which("kustomize"), "kubectl or kustomize is part of the machine"
    _kustomization(tmp_path / "kz")
    result = run_parity("layout", "-k", str(tmp_path / "kz"), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    (workload,) = json.loads(result.stdout)["workloads"]
    assert workload["workload"] == {"kind": "Pod", "name": "api-gateway", "namespace": "team-a"}
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"  # added at admission (kubelet-model §7.5)
    assert [f["path"] for f in workload["containers"][0]["files"]] == [f"/etc/secrets/tenant{i}" for i in (1, 2, 3)] + [
        f"{sa}/ca.crt", f"{sa}/namespace", f"{sa}/token"]
    (namespace,) = [f for f in workload["containers"][0]["files"] if f["path"] == f"{sa}/namespace"]
    assert namespace["size"] == len("team-a")


def test_k_without_a_renderer_says_how(tmp_path):
    _kustomization(tmp_path / "kz")
    bare = tmp_path / "bin"
    bare.mkdir()
    os.symlink(shutil.which("python3") or "/usr/bin/python3", bare / "python3")
    result = run_parity("layout", "-k", str(tmp_path / "kz"), env={"PATH": str(bare)})
    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"parity: {tmp_path}/kz: -k needs kubectl or kustomize on PATH to render the kustomization; or render it "
        f"elsewhere and pipe it in: kustomize build {tmp_path}/kz | parity COMMAND -\n")


def test_a_failing_render_is_one_line_without_its_output(tmp_path):
    kz = tmp_path / "kz"
    kz.mkdir()
    (kz / "kustomization.yaml").write_text("resources: [missing-secret-file.yaml]\n")
    result = run_parity("layout", "-k", str(kz))
    assert result.returncode == 2 and result.stderr.decode().count("\n") == 1
    tool = "kubectl kustomize" if shutil.which("kubectl") else "kustomize build"
    assert result.stderr.decode().startswith(f"parity: {kz}: {tool} failed (exit 1); run `")


@pytest.mark.parametrize("marker, message", [
    ("kustomization.yaml", "a kustomization, not manifests: give it as -k {d} (rendered with kubectl kustomize), "
                           "or kubectl kustomize {d} | parity COMMAND -"),
    ("Chart.yaml", "a Helm chart, not manifests: render it first (helm template NAME {d} | parity COMMAND -)"),
])
def test_a_chart_or_kustomization_given_as_manifests_says_how_to_render_it(tmp_path, marker, message):
    d = tmp_path / "thing"
    shutil.copytree(ARTICLE, d)
    (d / marker).write_text("name: thing\n" if marker == "Chart.yaml" else "resources: [pod.yaml]\n")
    for args in ([str(d)], ["-f", str(d)]):
        result = run_parity("layout", *args)
        assert (result.returncode, result.stderr.decode()) == (2, f"parity: {d}: {message.format(d=d)}\n")


def test_a_chart_inside_a_walked_directory_is_skipped_with_a_warning(tmp_path):
    shutil.copytree(ARTICLE, tmp_path / "repo" / "k8s")
    chart = tmp_path / "repo" / "charts" / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\n")
    (chart / "templates" / "pod.yaml").write_text("metadata:\n  name: {{ .Release.Name }}\n")
    result = run_parity("layout", str(tmp_path / "repo"), "--format", "json")
    assert names(result) == ["api-gateway"]
    assert result.stderr.decode() == (f"parity: warning: {chart}: a Helm chart, skipped: render it (helm template NAME "
                                      f"{chart} | parity COMMAND -)\n")


def test_a_directory_parity_wrote_inside_the_input_is_skipped_with_a_warning(tmp_path):
    """Never silent: a .parity-output marker (planted, or a real output dir) hides its directory from
    the walk, and the run says so, since kubectl apply -R would read it."""
    (tmp_path / "v" / "sub").mkdir(parents=True)
    shutil.copy(ARTICLE / "pod.yaml", tmp_path / "v" / "sub")
    shutil.copy(ARTICLE / "secret.yaml", tmp_path / "v")
    (tmp_path / "v" / "sub" / ".parity-output").write_text("")
    result = run_parity("layout", str(tmp_path / "v"))
    assert result.returncode == 2
    assert result.stderr.decode().splitlines()[0] == (
        f"parity: warning: {tmp_path}/v/sub: skipped: parity's own output (it holds .parity-output); give its "
        "files directly to read them")
