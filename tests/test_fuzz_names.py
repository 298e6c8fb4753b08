"""Fuzz: hostile names, keys, paths, values and quantities through the real ``k8s-to-docker`` (and,
live, ``up``), checking what issue 18 promises whatever the input:

- the run ends with exit 0, or exit 2 and one ``parity: ...`` line per problem (no traceback, no
  line broken by a name);
- nothing is written outside the output directory (or the state directory), and nothing that looks
  like a payload ran (no ``pwned`` file anywhere);
- ``sh -n docker.sh`` accepts the script, and running it with a recording ``docker`` gives each
  docker invocation exactly the argv the plan means: every shell word is a literal.

Example counts are CI-sized (``PARITY_PROPERTY_EXAMPLES``, as tests/test_properties.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from parity.docker.planner import build_plan
from parity.errors import ParityError
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from .conftest import PROPERTY_EXAMPLES, property_settings, run_parity
from .docker.test_script_words import docker_calls, intended_calls

EXAMPLES = max(5, PROPERTY_EXAMPLES // 2)
LIVE_EXAMPLES = max(2, EXAMPLES // 10)

label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?\Z")
subdomain = st.lists(label, min_size=1, max_size=3).map(".".join)
#: Shell, path and YAML syntax, separators docker parses, control characters, NUL.
HOSTILE_CHARS = list("ab.-_/\\$()`;'\" \n\t:,=*~#!&|<>{}[]%\x00\x1b\x7f") + ["..", "../", "$(touch pwned)", "`touch pwned`"]
hostile = st.lists(st.sampled_from(HOSTILE_CHARS), min_size=1, max_size=8).map("".join)
key = st.one_of(st.from_regex(r"\A[-._a-zA-Z0-9]{1,12}\Z"), hostile)
path_part = st.one_of(st.from_regex(r"\A[a-z0-9._-]{1,8}\Z"), st.sampled_from([".", "..", "", "a\nb", "$(x)"]))
item_path = st.lists(path_part, min_size=1, max_size=3).map("/".join)
safe_path = st.lists(st.from_regex(r"\A[a-z0-9_-]{1,8}\Z"), min_size=1, max_size=3).map("/".join)
text = st.one_of(st.text(max_size=12), hostile)


#: One False among ten, not at either end (Hypothesis favours the ends of a range).
_GOOD = st.sampled_from([True] * 5 + [False] + [True] * 4)


def mostly(good, bad):
    """``good`` about nine times in ten: most examples get through validation, so generation is fuzzed too."""
    return _GOOD.flatmap(lambda ok: good if ok else bad)

#: Shell syntax that is valid input (values, paths and args may hold any of it, NUL aside).
printable = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
#: (1e400 and 400-digit quantities still end in a traceback: the quantity work of issue 18 adds them.)
quantity = st.sampled_from(["1", "500m", "64Mi", "1e3", "-1", "1.5Gi", "abc", "0.0001", "1Ei", "0"])


@st.composite
def manifest(draw) -> str:
    pod_name = draw(mostly(subdomain, hostile))
    namespace = draw(mostly(st.one_of(st.none(), label), hostile))
    keys = draw(st.lists(mostly(st.from_regex(r"\A[-._a-zA-Z0-9]{1,12}\Z"), hostile), min_size=1, max_size=3,
                        unique=True))
    ctr = draw(mostly(label, hostile))
    volume = draw(mostly(label, hostile))
    paths = draw(st.lists(mostly(safe_path, item_path), min_size=len(keys), max_size=len(keys), unique=True))
    items = [{"key": k, "path": p} for k, p in zip(keys, paths)] if draw(st.booleans()) else None
    mounts = [{"name": volume, "mountPath": "/" + draw(mostly(printable, text)).lstrip("/")}]
    if draw(st.booleans()):
        mounts.append({"name": volume, "mountPath": "/sub/" + draw(label), "subPath": draw(mostly(safe_path, item_path))})
    ns = {"namespace": namespace} if namespace is not None else {}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", **ns},
              "stringData": {k: f"fuzz-value-{i}" for i, k in enumerate(keys)}}
    container = {"name": ctr, "image": draw(mostly(st.just("busybox:latest"), text)),
                 "args": draw(st.lists(mostly(printable, text), max_size=3)),
                 "workingDir": "/" + draw(mostly(printable, text)).lstrip("/"),
                 "env": [{"name": "E", "value": draw(mostly(printable, text))},
                         {"name": "L", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}}],
                 "resources": {"limits": {"memory": draw(quantity)}},
                 "volumeMounts": mounts}
    if draw(st.booleans()):
        container["envFrom"] = [{"secretRef": {"name": "s"}}]
    pod = {"apiVersion": "v1", "kind": draw(st.sampled_from(["Pod", "Deployment", "StatefulSet"])),
           "metadata": {"name": pod_name, **ns}}
    spec = {"containers": [container],
            "volumes": [{"name": volume, "secret": {"secretName": "s", **({"items": items} if items else {})}}]}
    if pod["kind"] == "Pod":
        pod["spec"] = spec
    else:
        pod["spec"] = {"template": {"spec": spec}}
    return yaml.safe_dump_all([secret, pod])


def every_path(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


def check_one_line_problems(result: subprocess.CompletedProcess) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert result.returncode in (0, 2), (result.returncode, stderr)
    lines = stderr.splitlines()
    if result.returncode == 2:
        assert lines and all(line.startswith("parity: ") for line in lines), stderr
        assert result.stdout == b""


def check_inside(root: Path) -> None:
    """Every file and link target under ``root`` resolves inside it."""
    real_root = os.path.realpath(root)
    for p in root.rglob("*"):
        real = os.path.realpath(p)
        assert os.path.commonpath([real_root, real]) == real_root, (p, real)


def plan_in_process(manifest_file: Path):
    inputs = load_inputs([str(manifest_file)])
    workloads = select_workloads(inputs, None)
    (layout,) = build_layouts(inputs, workloads)
    return build_plan(workloads[0], layout, inputs)


SETTINGS = property_settings(EXAMPLES)


@SETTINGS
@given(manifest())
def test_hostile_input_never_writes_outside_the_output_and_docker_sh_words_are_literals(text):
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for sub in ("cwd", "tmp", "state"):
            (tmp / sub).mkdir()
        src = tmp / "in.yaml"
        src.write_text(text)
        before = every_path(tmp)
        out = tmp / "out" / "o"
        result = run_parity("k8s-to-docker", str(src), "-o", str(out), cwd=tmp / "cwd",
                            env={"TMPDIR": str(tmp / "tmp"), "PARITY_STATE_DIR": str(tmp / "state")})
        check_one_line_problems(result)
        event(f"exit {result.returncode}")
        new = every_path(tmp) - before
        assert all(p == str(tmp / "out") or p.startswith(str(tmp / "out") + "/") for p in new), new
        if result.returncode == 2:
            assert not (tmp / "out").exists()
            return
        check_inside(out)
        assert subprocess.run(["sh", "-n", str(out / "docker.sh")]).returncode == 0
        try:
            plan = plan_in_process(src)
        except ParityError as exc:  # the CLI said yes: so must the library
            raise AssertionError(f"in-process plan failed where the CLI succeeded: {exc}") from None
        (tmp / "fake").mkdir()
        assert docker_calls(out, tmp / "fake") == intended_calls(plan, out)
        assert not list(tmp.rglob("pwned*"))


@pytest.mark.live
@property_settings(LIVE_EXAMPLES, live=True)
@given(manifest())
def test_hostile_input_to_up_stays_inside_the_state_directory(docker_client, text):
    """``up`` (its own project and state root) on the same inputs: exit 0 or one line per problem;
    every file it writes is inside its state directory; ``down`` removes its objects and state."""
    project = f"parity-test-fuzz-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for sub in ("cwd", "tmp"):
            (tmp / sub).mkdir()
        src = tmp / "in.yaml"
        src.write_text(text)
        before = every_path(tmp)
        env = {"TMPDIR": str(tmp / "tmp"), "PARITY_STATE_DIR": str(tmp / "state")}
        try:
            result = run_parity("up", str(src), "-p", project, cwd=tmp / "cwd", env=env)
            check_one_line_problems(result)
            new = every_path(tmp) - before
            assert all(p == str(tmp / "state") or p.startswith(str(tmp / "state") + "/") for p in new), new
            if (tmp / "state").exists():
                check_inside(tmp / "state")
            assert not list(tmp.rglob("pwned*"))
        finally:
            down = run_parity("down", "-p", project, env=env)
            assert down.returncode == 0, down.stderr
        leftovers = docker_client.containers.list(all=True, filters={"label": f"io.parity.project={project}"})
        assert leftovers == []
