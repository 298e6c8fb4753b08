"""parity/cli.py conventions (issue 15): bare `parity`, help with examples and whole summaries,
`version`, `completion`, one JSON shape whatever the input."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import ROOT, run_parity

COMMANDS = ["layout", "k8s-to-docker", "diff", "up", "down", "status", "version", "completion"]


def test_bare_parity_prints_its_help_and_succeeds():
    result = run_parity()
    assert (result.returncode, result.stderr) == (0, b"")
    out = result.stdout.decode()
    assert out.startswith("Usage: parity [OPTIONS] COMMAND") or out.startswith("Usage: parity [OPTIONS] [COMMAND]")
    for command in COMMANDS:
        assert f"\n  {command} " in out


def test_command_summaries_are_whole_sentences():
    """click cuts a docstring's first line at 45 characters ("Say whether each container sees...");
    every command names its own short summary, shown whole."""
    out = run_parity("--help").stdout.decode()
    listing = out[out.index("Commands:"):]
    assert "..." not in listing
    assert "Check a compose setup or a running pod against the cluster's" in listing


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_has_examples(command):
    result = run_parity(command, "--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    examples = out[out.index("Examples:"):].splitlines()[1:]
    assert examples and all(line.startswith("    parity ") or line.startswith("    source ")
                            or line.startswith("    docker ") or line.startswith("    helm ") for line in examples)


def test_down_help_offers_only_what_down_takes():
    out = run_parity("down", "--help").stdout.decode()
    assert "--from-cluster" not in out and "--secrets" not in out
    assert "-p, --project NAME" in out


def test_completion_scripts_are_valid_and_complete_options_and_files(tmp_path):
    bash = run_parity("completion", "bash")
    assert bash.returncode == 0
    script = tmp_path / "parity.bash"
    script.write_bytes(bash.stdout)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert b"_PARITY_COMPLETE=bash_complete" in bash.stdout
    for shell, marker in (("zsh", b"#compdef parity"), ("fish", b"complete --no-files --command parity")):
        result = run_parity("completion", shell)
        assert result.returncode == 0 and marker in result.stdout
    # The protocol the script speaks: options by prefix, and file names for paths.
    def complete(words: str) -> list[str]:
        env = {"_PARITY_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
        return run_parity(env=env).stdout.decode().splitlines()
    assert complete("parity diff --comp") == ["plain,--compose"]
    for words, incomplete in (("parity layout man", "man"), ("parity diff x --compose out/c", "out/c"),
                              ("parity up x --secrets s", "s"), ("parity layout --kubeconfig k", "k")):
        assert complete(words) == [f"file,{incomplete}"], words  # "file": the shell completes file names
    assert complete("parity completion z") == ["plain,zsh"]
    wrong = run_parity("completion", "tcsh")
    assert wrong.returncode == 2 and b"'tcsh' is not one of 'bash', 'zsh', 'fish'" in wrong.stderr


def test_version_names_every_part(tmp_path):
    result = run_parity("version", "--format", "json", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["format"] == "parity.version/v1"
    assert set(doc) == {"format", "parity", "python", "click", "pyyaml", "docker_sdk", "kubernetes", "engine",
                        "compose"}
    from parity import __version__
    assert doc["parity"] == __version__ and doc["engine"]["reachable"] is False
    text = run_parity("version", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}).stdout.decode()
    assert text.startswith(f"parity:            {__version__}\nPython:            ")
    assert "Docker engine:     not reachable: cannot reach the Docker engine at unix:///nonexistent/docker.sock" in text


def test_layout_json_has_one_shape_whatever_the_input():
    one = json.loads(run_parity("layout", str(ROOT / "manifests" / "api-gateway"), "--format", "json").stdout)
    several = json.loads(run_parity("layout", str(ROOT / "manifests"), "--format", "json").stdout)
    assert set(one) == set(several) == {"format", "workloads", "left_out"}
    assert one["format"] == several["format"] == "parity.layout/v2"
    assert [w["workload"]["name"] for w in one["workloads"]] == ["api-gateway"]
    assert len(several["workloads"]) > 1


def test_a_v1_layout_document_is_still_read():
    from parity.layout import FORMAT_V1, document, from_document

    doc = json.loads(run_parity("layout", str(ROOT / "manifests" / "api-gateway"), "--format", "json").stdout)
    (workload,) = doc["workloads"]
    v1_single = {"format": FORMAT_V1, **workload}
    v1_several = {"format": FORMAT_V1, "workloads": doc["workloads"]}
    for old in (v1_single, v1_several):
        assert document(from_document(old)) == doc


def test_map_and_container_naming_nothing_are_errors_listing_the_names(tmp_path):
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(ROOT / "manifests" / "api-gateway"), "-o", str(out),
                      "-p", "parity-test-map").returncode == 0
    base = ["diff", str(ROOT / "manifests" / "api-gateway"), "--compose", str(out / "compose.yaml")]
    result = run_parity(*base, "--map", "nope=api-gateway")
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == ("parity: --map nope=api-gateway: no container 'nope' in Pod/api-gateway "
                                      "(there are: api-gateway)\n")
    result = run_parity(*base, "--map", "api-gateway=web")
    assert result.returncode == 2 and result.stderr.decode() == (
        f"parity: --map api-gateway=web: no service 'web' in {out}/compose.yaml (there are: api-gateway, "
        "parity-data, pod_sandbox)\n")
    result = run_parity("layout", str(ROOT / "manifests" / "api-gateway"), "-c", "web")
    assert result.returncode == 2 and result.stderr.decode() == (
        "parity: --container web: no such container (there are: api-gateway)\n")


def test_diff_reads_the_compose_file_compose_would_pick(tmp_path):
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(ROOT / "manifests" / "api-gateway"), "-o", str(out),
                      "-p", "parity-test-default").returncode == 0
    result = run_parity("diff", str(ROOT / "manifests" / "api-gateway"), cwd=out)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert "vs compose.yaml (static)" in result.stdout.decode()
    nothing = run_parity("diff", str(ROOT / "manifests" / "api-gateway"), cwd=tmp_path)
    assert (nothing.returncode, nothing.stderr.decode()) == (
        2, "parity: say what to check: --compose FILE or --pod NAME (no compose.yaml here)\n")


@pytest.mark.parametrize("base, error", [
    ("ko://busybox", "invalid reference format"), ("Busybox", "invalid reference format"),
    ("busybox:-x", "invalid reference format"), ("busybox:t\u00e0g", "invalid reference format"),
    ("busybox@sha256:" + "0" * 32, "invalid checksum digest format")])
def test_a_base_image_compose_cannot_parse_is_refused_naming_the_option(tmp_path, base, error):
    """``--base-image`` goes into compose.yaml (the sandboxes' ``image:``) and the data image's FROM:
    it is checked with the rule container images are checked with (distribution/reference), one line,
    exit 2, nothing written. It had a weaker rule of its own (no spaces): ``ko://busybox`` was written
    and Compose refused the whole file (review 6, F-C)."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(ROOT / "manifests" / "api-gateway"), "--base-image", base, "-o", str(out))
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode().splitlines() == [
        f"parity: --base-image: Invalid value: {json.dumps(base, ensure_ascii=False)}: not a valid image reference "
        f"({error}): Compose refuses a compose file naming it"]
    assert not out.exists() and list(tmp_path.iterdir()) == []
    taken = run_parity("k8s-to-docker", str(ROOT / "manifests" / "api-gateway"), "--base-image", "busybox:1.36",
                       "-o", str(out))
    assert taken.returncode == 0 and "image: busybox:1.36" in (out / "compose.yaml").read_text()
