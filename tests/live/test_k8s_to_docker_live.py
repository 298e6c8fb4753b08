"""k8s-to-docker against the real engine: each container of a generated setup sees exactly the
files the kubelet model predicts, and cannot write to them even as root."""

from __future__ import annotations

import subprocess

import pytest

from ..conftest import ROOT, unique_name
from .helpers import compose, compose_container, compose_up, differences_against_cluster, generate, predicted, \
    write_as_root

FIXTURES = ROOT / "tests" / "fixtures" / "live"
# Copied unchanged from kubernetes/website (Apache-2.0 / CC BY 4.0); see that directory's README.md.
DOCS = ROOT / "tests" / "fixtures" / "k8s-docs-examples"

SETUPS = {
    "article": [str(ROOT / "manifests" / "api-gateway")],
    "richer": [str(ROOT / "manifests" / "richer")],
    "cronjob-optional": [str(FIXTURES / "cronjob-optional.yaml")],
    "statefulset-projected": [str(FIXTURES / "statefulset-projected.yaml")],
}


@pytest.mark.live
@pytest.mark.parametrize("name", sorted(SETUPS))
def test_generated_compose_gives_the_cluster_layout(docker_client, tmp_path, name):
    manifests = SETUPS[name]
    summary = generate(tmp_path / "out", *manifests)
    layout = predicted(*manifests)
    with compose_up(tmp_path / "out", summary):
        assert differences_against_cluster(docker_client, summary["project"], layout) == []
        for c in layout.containers:
            ctr = compose_container(docker_client, summary["project"], c.name)
            if c.init:
                assert ctr.attrs["State"]["ExitCode"] == 0, f"init container {c.name} failed"
                continue
            for m in c.mounts:
                code, output = write_as_root(ctr, m.path)
                assert code != 0 and "Read-only file system" in output, (c.name, m.path, output)


@pytest.mark.live
def test_docs_examples_as_they_are(docker_client, tmp_path):
    """The Kubernetes documentation's own manifests, unchanged except for the image (no registry here)."""
    for example in ("secret-pod", "projected", "projected-nondefault-mode"):
        src = DOCS / example
        work = tmp_path / example
        work.mkdir()
        for f in src.iterdir():
            text = f.read_text().replace('"nginx"', '"busybox:latest"').replace("busybox:1.28", "busybox:latest")
            (work / f.name).write_text(text)
        summary = generate(work / "out", str(work / "pod.yaml"), *[str(p) for p in work.glob("secret*.yaml")])
        layout = predicted(str(work / "pod.yaml"), *[str(p) for p in work.glob("secret*.yaml")])
        with compose_up(work / "out", summary):
            assert differences_against_cluster(docker_client, summary["project"], layout) == [], example


@pytest.mark.live
def test_compose_config_accepts_every_generated_file(tmp_path):
    for name, manifests in sorted(SETUPS.items()):
        generate(tmp_path / name, *manifests)
        result = compose(tmp_path / name, "config", "--quiet", check=False)
        assert result.returncode == 0, (name, result.stderr)


@pytest.mark.live
@pytest.mark.parametrize("name", ["article", "richer"])
def test_docker_sh_gives_the_same_layout(docker_client, tmp_path, name):
    """The article's flow with plain docker commands: build, create, --volumes-from NAME:ro."""
    out = tmp_path / "out"
    summary = generate(out, *SETUPS[name])
    layout = predicted(*SETUPS[name])
    project = summary["project"]
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        for c in layout.containers:
            if c.init:
                continue
            ctr = docker_client.containers.get(f"{project}.{c.name}")
            from parity.compare import compare_containers
            from parity.docker.readback import container_layout
            actual = container_layout(ctr, c.name, [m.path for m in c.mounts])
            assert compare_containers(c, actual) == [], c.name
            assert ctr.attrs["HostConfig"]["VolumesFrom"] == [f"{project}.{c.name}_mounts:ro"]
            for m in c.mounts:
                code, output = write_as_root(ctr, m.path)
                assert code != 0 and "Read-only file system" in output
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)
    assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={project}"}) == []
    assert docker_client.volumes.list(filters={"label": f"io.parity.project={project}"}) == []


@pytest.mark.live
def test_data_context_builds_with_the_legacy_builder(docker_client, tmp_path):
    """docker-py's images.build is the legacy builder: no --chmod, COPY resets owners. The context
    must still give exact modes, owners and symlinks (ADD of the payload tar)."""
    out = tmp_path / "out"
    summary = generate(out, *SETUPS["statefulset-projected"])
    tag = unique_name("parity-test-legacy") + ":latest"
    image, _ = docker_client.images.build(path=str(out / "data"), tag=tag, rm=True)
    try:
        ctr = docker_client.containers.create(tag)
        try:
            from parity.docker.readback import read_tree
            entries = {e.path: e for e in read_tree(ctr, "/parity/volumes/db")}
            root = entries["/parity/volumes/db"]
            assert (f"{root.mode:o}", root.uid, root.gid) == ("3777", 0, 3000)
            (ts,) = [p for p in entries if p.startswith("/parity/volumes/db/..1970")
                     and p.count("/") == 4]
            pw = entries[f"{ts}/auth/password"]
            assert (f"{pw.mode:o}", pw.uid, pw.gid, pw.size) == ("440", 0, 3000, 28)
            assert entries["/parity/volumes/db/..data"].target == ts.rsplit("/", 1)[1]
        finally:
            ctr.remove(v=True)
        assert image.labels["io.parity.workload"] == "StatefulSet/ledger"
        assert image.labels["io.parity.role"] == "data"
        assert summary["images"][0].startswith(f"{summary['project']}-data:")
    finally:
        docker_client.images.remove(tag, force=True)


@pytest.mark.live
def test_changed_secret_never_serves_stale_bytes(docker_client, tmp_path):
    """Docker fills a named volume only when it is empty; a rotated Secret must still reach the app."""
    pod = (ROOT / "manifests" / "api-gateway" / "pod.yaml").read_text()
    secret = (ROOT / "manifests" / "api-gateway" / "secret.yaml").read_text()
    src = tmp_path / "manifests"
    src.mkdir()
    (src / "pod.yaml").write_text(pod)
    (src / "secret.yaml").write_text(secret)
    out = tmp_path / "out"
    first = generate(out, str(src))
    second = first
    try:
        compose(out, "up", "-d", "--build")
        (src / "secret.yaml").write_text(secret.replace("tenant1-api-key-3f9a1c", "tenant1-ROTATED"))
        second = generate(out, str(src), extra=("--force", "-p", first["project"]))
        assert first["volumes"]["secrets"] != second["volumes"]["secrets"]
        compose(out, "up", "-d", "--build")
        ctr = compose_container(docker_client, second["project"], "api-gateway")
        assert ctr.exec_run(["cat", "/etc/secrets/tenant1"]).output == b"tenant1-ROTATED"
        assert differences_against_cluster(docker_client, second["project"], predicted(str(src))) == []
    finally:
        compose(out, "down", "-v", "-t", "0", check=False)
        for s in (first, second):
            for image in s["images"]:
                subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)
        for v in docker_client.volumes.list(filters={"label": f"io.parity.project={first['project']}"}):
            v.remove(force=True)


@pytest.mark.live
def test_app_image_files_under_the_mount_are_hidden(docker_client, tmp_path):
    """In the cluster the volume hides whatever the image has at the mountPath; same here."""
    ctx = tmp_path / "app"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox:latest\nRUN mkdir -p /etc/secrets && "
                                    "echo baked-in > /etc/secrets/from-image && echo old > /etc/secrets/tenant1\n")
    tag = unique_name("parity-test-app") + ":latest"
    docker_client.images.build(path=str(ctx), tag=tag, rm=True)
    try:
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "pod.yaml").write_text(
            (ROOT / "manifests/api-gateway/pod.yaml").read_text().replace("image: busybox:latest",
                                                                          f"image: {tag}"))
        (tmp_path / "m" / "secret.yaml").write_text((ROOT / "manifests/api-gateway/secret.yaml").read_text())
        summary = generate(tmp_path / "out", str(tmp_path / "m"))
        with compose_up(tmp_path / "out", summary):
            assert differences_against_cluster(docker_client, summary["project"],
                                               predicted(str(tmp_path / "m"))) == []
            ctr = compose_container(docker_client, summary["project"], "api-gateway")
            assert ctr.exec_run(["ls", "-A", "/etc/secrets"]).output.split() == [
                b"..1970_01_01_00_00_00.3553484229", b"..data", b"tenant1", b"tenant2", b"tenant3"]
    finally:
        docker_client.images.remove(tag, force=True)


@pytest.mark.live
def test_a_native_sidecar_runs_beside_the_app(docker_client, tmp_path):
    """``compose up`` returns with the sidecar (an init container with ``restartPolicy: Always``) and
    the app both running, the init containers before and after it exited 0. (It used to wait for the
    sidecar to exit, which a proxy never does: the app never started; the timeout only ends that hang.)"""
    from ..docker.test_generate import NATIVE_SIDECAR

    src = tmp_path / "meshed.yaml"
    src.write_text(NATIVE_SIDECAR)
    summary = generate(tmp_path / "out", str(src))
    out = tmp_path / "out"
    try:
        up = subprocess.run(["docker", "compose", "-f", str(out / "compose.yaml"), "up", "-d", "--build"],
                            capture_output=True, text=True, timeout=180)
        assert up.returncode == 0, up.stderr
        states = {name: compose_container(docker_client, summary["project"], name).attrs["State"]
                  for name in ("setup", "proxy", "migrate", "app")}
        assert {n: (s["Status"], s["ExitCode"]) for n, s in states.items()} == {
            "setup": ("exited", 0), "proxy": ("running", 0), "migrate": ("exited", 0), "app": ("running", 0)}
    finally:
        compose(out, "down", "-v", "-t", "0", check=False)
        for image in summary.get("images", []):
            subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)


SA_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: sa-reader, namespace: shop}
spec:
  initContainers:
    - name: check
      image: busybox:latest
      command: ["sh", "-c", "test \\"$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)\\" = shop"]
  containers:
    - name: app
      image: busybox:latest
      command: ["sh", "-c", "while true; do sleep 3600; done"]
"""


@pytest.mark.live
def test_the_service_account_namespace_is_read_from_inside_through_compose_docker_sh_and_up(docker_client, tmp_path):
    """The volume the API server adds (kubelet-model §7.5), brought up the three ways: the init container
    reads its namespace before the app starts (it exits 0 only if it reads "shop"), the app reads
    ``namespace`` and the token placeholder, read-only, as the prediction says."""
    import secrets

    from parity.compare import compare_containers
    from parity.docker.readback import container_layout

    from ..conftest import run_parity

    src = tmp_path / "sa.yaml"
    src.write_text(SA_POD)
    layout = predicted(str(src))
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"

    def check(ctr, init_ctr) -> None:
        if init_ctr is not None:  # (docker.sh runs init containers with --rm, under set -e: its exit says)
            assert init_ctr.attrs["State"]["ExitCode"] == 0
        assert ctr.exec_run(["cat", f"{sa}/namespace"]).output == b"shop"
        assert ctr.exec_run(["cat", f"{sa}/token"]).output == b"parity.placeholder.token"
        code, output = write_as_root(ctr, sa)
        assert code != 0 and "Read-only file system" in output
        app = layout.container("app")
        assert compare_containers(app, container_layout(ctr, "app", [m.path for m in app.mounts])) == []

    # compose
    summary = generate(tmp_path / "compose", str(src))
    with compose_up(tmp_path / "compose", summary):
        check(compose_container(docker_client, summary["project"], "app"),
              compose_container(docker_client, summary["project"], "check"))
    # docker.sh
    out = tmp_path / "sh"
    summary = generate(out, str(src))
    project = summary["project"]
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        check(docker_client.containers.get(f"{project}.app"), None)
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)
    # parity up
    project = f"parity-test-{secrets.token_hex(4)}"
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    try:
        up = run_parity("up", str(src), "-p", project, env=env)
        assert up.returncode == 0, up.stderr.decode()
        check(docker_client.containers.get(f"{project}.app"), docker_client.containers.get(f"{project}.check"))
    finally:
        assert run_parity("down", "-p", project, env=env).returncode == 0
    for label in (f"io.parity.project={project}", f"io.parity.project={summary['project']}"):
        assert docker_client.containers.list(all=True, filters={"label": label}) == []


NEVER_POD = """
apiVersion: v1
kind: Pod
metadata: {name: never-pulled}
spec:
  automountServiceAccountToken: false
  containers:
  - {name: app, image: "parity-no-such-image:never", imagePullPolicy: Never, command: ["true"]}
"""


@pytest.mark.live
def test_an_image_pull_policy_never_pulls_nothing_through_compose_docker_sh_and_up(docker_client, tmp_path):
    """``imagePullPolicy: Never`` on an image the engine lacks: the kubelet never pulls it and fails the
    container (ErrImageNeverPull). It was a note, and each way asked the registry (review 7, R-D). Now
    Compose (``pull_policy: never``) and docker.sh (``docker run --pull never``) fail on the missing
    image without asking any registry, and ``up`` says the image in one line, exit 2, and makes nothing."""
    import secrets

    from ..conftest import run_parity

    src = tmp_path / "never.yaml"
    src.write_text(NEVER_POD)
    # compose
    summary = generate(tmp_path / "compose", str(src))
    try:
        run = compose(tmp_path / "compose", "up", "-d", "--build", check=False)
        assert run.returncode != 0
        assert "No such image: parity-no-such-image:never" in run.stderr and "registry" not in run.stderr, run.stderr
    finally:
        compose(tmp_path / "compose", "down", "-v", "-t", "0", check=False)
        for image in summary.get("images", []):
            subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)
    # docker.sh
    out = tmp_path / "sh"
    generate(out, str(src))
    try:
        run = subprocess.run(["sh", str(out / "docker.sh")], capture_output=True, text=True)
        assert run.returncode != 0
        assert "No such image: parity-no-such-image:never" in run.stderr and "registry" not in run.stderr, run.stderr
    finally:
        subprocess.run(["sh", str(out / "docker.sh"), "down"], capture_output=True)
    # parity up
    project = f"parity-test-{secrets.token_hex(4)}"
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    try:
        up = run_parity("up", str(src), "-p", project, env=env)
        assert (up.returncode, up.stderr.decode()) == (2, (
            "parity: image parity-no-such-image:never (run by app) is not available locally and is not pulled: its "
            'imagePullPolicy is Never (the kubelet fails the container: Container image "parity-no-such-image:never" '
            "is not present with pull policy of Never); docker pull parity-no-such-image:never where a registry has "
            "it, or docker load a saved copy\n"))
        assert docker_client.containers.list(all=True, filters={"label": f"io.parity.project={project}"}) == []
    finally:
        assert run_parity("down", "-p", project, env=env).returncode == 0
