"""Writable volumes as the containers of a pod see them (issue 13), through the generated
compose.yaml, docker.sh and ``parity up``: a file the init container writes to an emptyDir (on disk,
and in memory: the pod's sandbox holds the tmpfs) is read by the app container; the emptyDir's mode and owner (``stat -c '%a %u %g'``) are the kubelet's (0777, or
with fsGroup 02777 0:fsGroup; a memory emptyDir 03777); the tmpfs size is sizeLimit (/proc/mounts);
a claim's data survives ``down`` + ``up`` and goes with the explicit option; a hostPath whose type
check fails stops docker.sh and ``up`` with exit 2 and the kubelet's one line."""

from __future__ import annotations

import subprocess

import pytest

from ..conftest import run_parity, unique_name, write
from .helpers import compose, compose_container, compose_up, generate, report

#: The app reports what it sees, then sleeps; each run appends one line to the claim.
REPORT = ("echo Handoff: $(cat /work/handoff); echo Work: $(stat -c '%a %u %g' /work); "
          "echo Mem: $(stat -c '%a %u %g' /mem); echo MemHandoff: $(cat /mem/handoff 2>/dev/null); "
          "echo Size: $(grep ' /mem ' /proc/mounts | grep -o 'size=[0-9a-z]*'); "
          "echo run >> /data/runs; echo Runs: $(wc -l < /data/runs); echo END; exec sleep 3600")

POD = f"""
apiVersion: v1
kind: Pod
metadata: {{name: writer}}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  securityContext: {{fsGroup: 2000}}
  initContainers:
  - name: init
    image: busybox:latest
    command: ["sh", "-c", "echo from-init > /work/handoff; echo from-init > /mem/handoff"]
    volumeMounts: [{{name: work, mountPath: /work}}, {{name: mem, mountPath: /mem}}]
  containers:
  - name: app
    image: busybox:latest
    command: ["sh", "-c", "{REPORT}"]
    volumeMounts:
    - {{name: work, mountPath: /work}}
    - {{name: mem, mountPath: /mem}}
    - {{name: data, mountPath: /data}}
  volumes:
  - {{name: work, emptyDir: {{}}}}
  - {{name: mem, emptyDir: {{medium: Memory, sizeLimit: 64Mi}}}}
  - {{name: data, persistentVolumeClaim: {{claimName: db}}}}
"""


def check(seen: dict, runs: int) -> None:
    assert seen["Handoff"] == "from-init"  # the init container's file, in the app's emptyDir
    assert seen["Work"] == "2777 0 2000"  # the kubelet's 0777 with fsGroup's group and setgid
    assert seen["Mem"] == "3777 0 2000"  # tmpfs 1777 with fsGroup's
    assert seen["MemHandoff"] == "from-init"  # the pod's sandbox held the tmpfs while the init container ended
    assert seen["Size"] == "size=65536k"  # sizeLimit 64Mi
    assert seen["Runs"] == str(runs)  # the claim's data from the runs before


@pytest.mark.live
def test_compose_shares_the_emptydir_and_keeps_the_claim(docker_client, tmp_path):
    out = tmp_path / "out"
    summary = generate(out, str(write(tmp_path, POD)))
    project = summary["project"]
    with compose_up(out, summary):
        check(report(compose_container(docker_client, project, "app")), 1)
        compose(out, "down", "-t", "0")  # without -v: the claim's volume stays, as Compose keeps volumes
        compose(out, "up", "-d")
        check(report(compose_container(docker_client, project, "app")), 2)


@pytest.mark.live
def test_docker_sh_shares_the_emptydir_and_keeps_the_claim_until_asked(docker_client, tmp_path):
    out = tmp_path / "out"
    project = generate(out, str(write(tmp_path, POD)))["project"]
    try:
        for runs in (1, 2):  # docker.sh starts with its own down: the claim survives it
            run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
            check(report(docker_client.containers.get(f"{project}.app")), runs)
        down = subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True, text=True)
        assert down.returncode == 0
        assert f"kept the claims' volumes: {project}.claim.default.db" in down.stderr
        assert docker_client.volumes.get(f"{project}.claim.default.db")
        down = subprocess.run(["sh", str(out / "docker.sh"), "down", "--delete-claims"], capture_output=True,
                              text=True)
        assert down.returncode == 0
        assert docker_client.volumes.list(filters={"label": f"io.parity.project={project}"}) == []
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down", "--delete-claims"], capture_output=True)


@pytest.mark.live
def test_up_shares_the_emptydir_and_keeps_the_claim_until_asked(docker_client, tmp_path):
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    src = str(write(tmp_path, POD))
    project = unique_name("parity-test-writer")
    claim = f"{project}.claim.default.db"
    try:
        for runs in (1, 2):
            result = run_parity("up", src, "-p", project, env=env)
            assert result.returncode == 0, result.stderr.decode()
            check(report(docker_client.containers.get(f"{project}.app")), runs)
            down = run_parity("down", src, "-p", project, env=env)
            assert down.returncode == 0, down.stderr.decode()
            assert (f"  kept 1 claim volume(s), the app's data: {claim} (parity down --delete-claims removes them)"
                    in down.stdout.decode().splitlines())
        down = run_parity("down", src, "-p", project, "--delete-claims", env=env)
        assert down.returncode == 0 and "kept" not in down.stdout.decode()
        assert docker_client.volumes.list(filters={"label": f"io.parity.project={project}"}) == []
    finally:
        run_parity("down", src, "-p", project, "--delete-claims", env=env)


HOST_PATH_POD = """
apiVersion: v1
kind: Pod
metadata: {{name: hostly}}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    command: [sleep, "3600"]
    volumeMounts: [{{name: host, mountPath: /host}}]
  volumes:
  - {{name: host, hostPath: {{path: {path}, type: Directory}}}}
"""


@pytest.mark.live
def test_a_failed_host_path_type_check_stops_docker_sh_and_up_with_the_kubelets_line(docker_client, tmp_path):
    """The path is a file where the pod wants a directory: the kubelet fails the mount; here
    nothing starts, exit 2, one line (compose has no type check: said in its notes)."""
    not_a_dir = tmp_path / "not-a-dir"
    not_a_dir.write_text("x")
    src = write(tmp_path, HOST_PATH_POD.format(path=not_a_dir))
    out = tmp_path / "out"
    project = generate(out, str(src))["project"]
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode == 2
        assert run.stderr.splitlines() == [
            f"parity: {src}: Pod/hostly: spec.volumes[0].hostPath: hostPath type check failed: {not_a_dir} is not a "
            "directory"]
        assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={project}"}) == []
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    hostly = unique_name("parity-test-hostly")
    up = run_parity("up", str(src), "-p", hostly, env=env)
    assert up.returncode == 2
    assert up.stderr.decode().splitlines() == [
        f"parity: {src}: Pod/hostly: spec.volumes[0].hostPath: hostPath type check failed: {not_a_dir} is not a "
        "directory"]
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={hostly}"}) == []


@pytest.mark.live
def test_diff_reports_the_writable_volume_facet_the_same_static_and_live(docker_client, tmp_path):
    """The generated compose.yaml is the same as the cluster, statically and live; with the emptyDir
    made read-only in the app and the claim's mount gone, both diffs report the two as kind
    ``volume``, with the same verdict (exit 1)."""
    import json

    import yaml

    src = str(write(tmp_path, POD))
    out = tmp_path / "out"
    generate(out, src)
    compose_file = str(out / "compose.yaml")
    for mode in ((), ("--live",)):
        same = run_parity("diff", src, "--compose", compose_file, *mode)
        assert same.returncode == 0, same.stdout.decode() + same.stderr.decode()
    doc = yaml.safe_load((out / "compose.yaml").read_text())
    mounts = doc["services"]["app"]["volumes"]
    for m in mounts:
        if m["target"] == "/work":
            m["read_only"] = True
    doc["services"]["app"]["volumes"] = [m for m in mounts if m["target"] != "/data"]
    (out / "compose.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    seen = {}
    for mode in ((), ("--live",)):
        result = run_parity("diff", src, "--compose", compose_file, "--format", "json", *mode)
        assert result.returncode == 1, result.stderr.decode()
        seen[mode] = sorted((d["container"], d["path"], d["kind"], d["expected"], d["actual"].split(" (")[0])
                            for d in json.loads(result.stdout)["differences"])
    assert seen[()] == seen[("--live",)] == [
        ("app", "/data", "volume", "a writable persistentVolumeClaim volume (persistentVolumeClaim/db)", "no mount"),
        ("app", "/work", "volume", "a writable emptyDir volume (emptyDir)", "a read-only mount"),
    ]


RESIZED = """
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {keys}
---
apiVersion: v1
kind: Pod
metadata: {{name: resized}}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  securityContext: {{fsGroup: {group}}}
  containers:
  - name: app
    image: busybox:latest
    command: ["sh", "-c", "echo Size: $(grep ' /mem ' /proc/mounts | grep -o 'size=[0-9a-z]*'); echo Keys: $(ls /creds | tr '\\\\n' ' '); echo Group: $(stat -c %g /creds); echo END; exec sleep 3600"]
    volumeMounts: [{{name: mem, mountPath: /mem}}, {{name: creds, mountPath: /creds}}]
  volumes:
  - {{name: mem, emptyDir: {{medium: Memory, sizeLimit: {size}}}}}
  - {{name: creds, secret: {{secretName: creds}}}}
"""


@pytest.mark.live
def test_up_recreates_a_resized_memory_emptydir_and_a_reshaped_secret_volume_in_one_run(docker_client, tmp_path):
    """One ``up`` that recreates a store (the tmpfs's sizeLimit changed) and a data volume (its
    root's group, fsGroup, changed: not an in-place swap) side by side: each removes the containers mounting
    its volume first (the app mounts both, the sandbox holds the tmpfs); the app then sees both."""
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    project = unique_name("parity-test-resized")
    src = tmp_path / "app.yaml"
    try:
        for size, keys, group, expected in (("64Mi", "{a: one}", 1000, ("size=65536k", "a", "1000")),
                                            ("32Mi", "{a: one, b: two}", 2000, ("size=32768k", "a b", "2000"))):
            src.write_text(RESIZED.format(size=size, keys=keys, group=group))
            result = run_parity("up", str(src), "-p", project, env=env)
            assert result.returncode == 0, result.stderr.decode()
            seen = report(docker_client.containers.get(f"{project}.app"))
            assert (seen["Size"], seen["Keys"], seen["Group"]) == expected
        said = result.stdout.decode()
        assert f"recreated volume {project}.creds" in said and f"recreated volume {project}.mem" in said
    finally:
        run_parity("down", str(src), "-p", project, "--delete-claims", env=env)


@pytest.mark.live
def test_a_container_one_volume_step_removes_while_another_lists_it_does_not_fail_up(docker_client, tmp_path,
                                                                                    proxy_dir):
    """The race ``_remove_containers_mounting`` (b1b8be2) closed, forced: the data volumes' step and
    the stores' step run side by side, and each removes the containers mounting the volume it
    recreates; the app mounts both. The request that follows one step's list for the app (its remove;
    before b1b8be2, the SDK's inspect of each listed container) is held until the other step has
    removed the app. ``up`` succeeds (the old code failed it with "No such container" and rolled it
    back) and the new app sees both volumes."""
    import re
    import threading
    import time

    from .engineproxy import EngineProxy

    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    project = unique_name("parity-test-race")
    src = tmp_path / "app.yaml"
    try:
        src.write_text(RESIZED.format(size="64Mi", keys="{a: one}", group=1000))
        assert run_parity("up", str(src), "-p", project, env=env).returncode == 0
        app = docker_client.containers.get(f"{project}.app").id
        # Both the volume root's group (fsGroup: recreated, not swapped in place) and the tmpfs size change.
        src.write_text(RESIZED.format(size="32Mi", keys="{a: one, b: two}", group=2000))
        follow_up = re.escape(app).encode()
        trigger = rb"^(?:GET /v[0-9.]+/containers/" + follow_up + rb"/json|DELETE /v[0-9.]+/containers/" + follow_up + rb"\?)"
        removed_meanwhile = threading.Event()
        with EngineProxy(proxy_dir / "e.sock", trigger, action="hold") as proxy:
            def release_once_removed() -> None:
                # (bounds, not measures: a step that never comes leaves the run to the guard below)
                if proxy.triggered.wait(120):
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline:
                        if docker_client.api.containers(all=True, filters={"id": app}) == []:
                            removed_meanwhile.set()
                            break
                        time.sleep(0.05)
                proxy.release()

            releaser = threading.Thread(target=release_once_removed, daemon=True)
            releaser.start()
            result = run_parity("up", str(src), "-p", project, env={**env, "DOCKER_HOST": proxy.docker_host})
            releaser.join(10)
        assert removed_meanwhile.is_set(), "the other step never removed the app while one step's request was held"
        assert result.returncode == 0, result.stderr.decode()
        said = result.stdout.decode()
        assert f"recreated volume {project}.creds" in said and f"recreated volume {project}.mem" in said
        seen = report(docker_client.containers.get(f"{project}.app"))
        assert (seen["Size"], seen["Keys"], seen["Group"]) == ("size=32768k", "a b", "2000")
    finally:
        run_parity("down", str(src), "-p", project, "--delete-claims", env=env)
