"""docker.sh runs exactly the docker commands parity means, whatever a manifest holds.

The script is run for real by ``sh``, with a recording ``docker`` first on PATH: what each docker
invocation received (its argv) must be exactly the plan's command, word for word. So no value,
path or name of a manifest can become a command, an option or a second word, and nothing else runs.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from parity.docker.dockersh import script_commands, script_word
from parity.docker.generate import generate
from parity.docker.labels import LABEL_PROJECT
from parity.docker.planner import build_plan
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

FAKE_DOCKER = textwrap.dedent("""\
    #!{python}
    import json, os, sys
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as f:
        f.write(json.dumps(sys.argv[1:]) + "\\n")
""")

#: Values a manifest may hold where the API server puts no limit on the characters: shell syntax of
#: every kind, option-like words, separators docker's -v and --mount parse.
HOSTILE = """
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {k: secret-words-value}
---
apiVersion: v1
kind: Pod
metadata: {name: words}
spec:
  containers:
  - name: app
    image: busybox:latest
    command: ["sh", "-c", "echo `id` $((1+1)) 'q' \\"d\\" \\\\ ; touch pwned-cmd"]
    args: ["--privileged", "-v", "/:/host", "a\\nb", "$(touch pwned-arg)", "", "*", "~root"]
    workingDir: "/w d/$(touch pwned-wd)"
    env:
    - {name: E, value: "v$(touch pwned-env)`touch pwned-env2`;'\\"|&>x"}
    volumeMounts:
    - {name: v, mountPath: "/m,n:o\\"p'q r$(touch pwned-mount)"}
    - {name: v, mountPath: "/sub,x:y", subPath: k}
  volumes:
  - {name: v, secret: {secretName: s}}
"""


def plan_of(tmp_path: Path, text: str):
    (tmp_path / "in.yaml").write_text(text)
    inputs = load_inputs([str(tmp_path / "in.yaml")])
    workloads = select_workloads(inputs, None)
    (layout,) = build_layouts(inputs, workloads)
    return build_plan(workloads[0], layout, inputs)


def docker_calls(out: Path, tmp_path: Path) -> list[list[str]]:
    """Run ``sh docker.sh`` (cwd: an empty directory) with a recording docker; its invocations."""
    bin_dir, work = tmp_path / "bin", tmp_path / "work"
    bin_dir.mkdir()
    work.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(FAKE_DOCKER.format(python=sys.executable))
    fake.chmod(stat.S_IRWXU)
    log = tmp_path / "docker.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_DOCKER_LOG": str(log)}
    result = subprocess.run(["sh", str(out / "docker.sh")], cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert list(work.iterdir()) == []  # nothing ran that made a file
    return [json.loads(line) for line in log.read_text().splitlines()]


def intended_calls(plan, out: Path) -> list[list[str]]:
    project = f"label={LABEL_PROJECT}={plan.project}"
    return [["ps", "-aq", "--filter", project], ["volume", "ls", "-q", "--filter", project],
            ["volume", "ls", "-q", "--filter", project, "--filter", "label=io.parity.role=claim"],
            ["network", "ls", "-q", "--filter", project], ["image", "rm", "--", plan.data_image]] + [
        [script_word(w, str(out)) for w in c.argv[1:]] for c in script_commands(plan)]


def test_every_word_of_docker_sh_reaches_docker_as_written(tmp_path):
    """Shell syntax in commands, args, env values, workingDir and mountPaths: sh -n accepts the
    script, and each docker invocation gets exactly the plan's argv (nothing expanded, split or run)."""
    plan = plan_of(tmp_path, HOSTILE)
    out = tmp_path / "out"
    generate(plan, out)
    assert subprocess.run(["sh", "-n", str(out / "docker.sh")]).returncode == 0
    calls = docker_calls(out, tmp_path)
    assert calls == intended_calls(plan, out)
    run = calls[-1]
    assert run[run.index("--") + 1:] == ["busybox:latest", "-c", "echo `id` $((1+1)) 'q' \"d\" \\ ; touch pwned-cmd",
                                         "--privileged", "-v", "/:/host", "a\nb", "$(touch pwned-arg)", "", "*",
                                         "~root"]
    assert "-e" in run and run[run.index("-e") + 1] == "E=v$(touch pwned-env)`touch pwned-env2`;'\"|&>x"
    holder = calls[-2]
    assert holder[holder.index("--mount") + 1].endswith(',"dst=/m,n:o""p\'q r$(touch pwned-mount)",volume-nocopy')
    assert not list(tmp_path.rglob("pwned*"))


@pytest.mark.parametrize("directory", ["out,dir", 'out"dir', 'o,u"t""', "out\nx,\"y"])
def test_a_bind_source_in_a_directory_holding_a_comma_or_quote_stays_one_mount_field(tmp_path, directory):
    """docker reads ``--mount`` as CSV (Go's encoding/csv, docker/cli opts/mount.go): the script's
    directory is known only when it runs, so it quotes that field then, '"' doubled. Unquoted, a
    ',' split ``src=`` in two (docker refused ``invalid field``) and a '"' was a bare quote."""
    plan = plan_of(tmp_path, HOSTILE)
    out = tmp_path / directory
    generate(plan, out)
    calls = docker_calls(out, tmp_path)
    assert calls == intended_calls(plan, out)
    mounts = [c[i + 1] for c in calls for i, w in enumerate(c) if w == "--mount" and "type=bind" in c[i + 1]]
    fields = [next(csv.reader([m])) for m in mounts]
    assert fields == [["type=bind", f"src={out}/subpath/app/1-sub_x_y", "dst=/sub,x:y", "readonly"],
                      ["type=bind", f"src={out}/termination/app", "dst=/dev/termination-log"]]


@pytest.mark.parametrize("image", ["--privileged", "-v=/:/host", "--network=host"])
def test_an_image_written_like_an_option_is_never_an_option(tmp_path, image):
    """``image: "--privileged"`` with the real image in args: docker run ends its options with
    ``--``, so the option-like word is the image (which docker then refuses), never an option. (The
    loader refuses such an image, as the kubelet does: not a reference; the plan gets it here directly,
    so that docker.sh's own guard stays proved.)"""
    plan = plan_of(tmp_path, """
apiVersion: v1
kind: Pod
metadata: {name: opt-image}
spec:
  containers:
  - {name: app, image: "busybox:latest", args: [busybox:latest, sh, -c, "sleep 60"]}
""")
    (app,) = [s for s in plan.services if s.container == "app"]
    app.image = image
    out = tmp_path / "out"
    generate(plan, out)
    # (the calls before them fill the service-account volume the API server adds: kubelet-model §7.5)
    runs = [c for c in docker_calls(out, tmp_path) if c[:2] == ["run", "-d"]]
    assert len(runs) == 2  # the pod's sandbox, then the app in its network
    run = runs[-1]
    dash = run.index("--")
    assert run[dash + 1:] == [image, "busybox:latest", "sh", "-c", "sleep 60"]
    assert image not in run[:dash]
