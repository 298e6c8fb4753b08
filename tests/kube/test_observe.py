"""``--observed``: the listing script, its parser and the exec wiring.

The script really runs here (GNU find/stat, and busybox when present) on a tree built to match
the kubelet model's prediction, under a root directory that stands in for the container's
filesystem; the fake API server carries its output over the exec websocket exactly as the API
server does (v4/v5 channel framing, split into frames). No real container or cluster is involved.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from parity.diff import files_only  # the model of a pod without its writable volumes: what --observed reads
from parity.errors import ParityError
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_objects
from parity.kube.observe import (LISTING_SCRIPT, UNREADABLE, listing_argv, observed_layout, parse_listing,
                                 proc_mounts_escape)
from parity.layout import DIR, FILE, SYMLINK, ContainerLayout, Entry, Mount, WorkloadLayout

from ..conftest import precondition_missing
from . import k8sobjects as K
from .fakeapi import ExecResult, FakeAPI

IS_ROOT = os.geteuid() == 0

VOLUMES = [
    {"name": "creds", "secret": {"secretName": "db-creds", "defaultMode": 256,
                                 "items": [{"key": "password", "path": "db/password"}]}},
    {"name": "cache", "emptyDir": {}},
    {"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}},
    {"name": "tls", "secret": {"secretName": "tls-bundle", "defaultMode": 420}},
    {"name": "info", "downwardAPI": {"defaultMode": 420, "items": [
        {"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}},
        {"path": "meta/name", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}]}},
    {"name": "bundle", "projected": {"defaultMode": 420, "sources": [
        {"secret": {"name": "tls-bundle", "items": [{"key": "api.key", "path": "keys/api.key", "mode": 256}]}},
        {"configMap": {"name": "app-config", "items": [{"key": "app.yaml", "path": "app.yaml"}]}}]}},
]
APP_MOUNTS = [
    {"name": "creds", "mountPath": "/etc/db", "readOnly": True},
    {"name": "cache", "mountPath": "/etc/db/cache"},
    {"name": "config", "mountPath": "/etc/app conf"},
    {"name": "tls", "mountPath": "/etc/tls/ca.pem", "subPath": "ca.pem"},
    {"name": "info", "mountPath": "/etc/podinfo"},
    {"name": "bundle", "mountPath": "/etc/bundle"},
]
SIDECAR_MOUNTS = [{"name": "info", "mountPath": "/podinfo"}]
EMPTYDIR_ONLY = [{"name": "cache", "mountPath": "/cache"}]

#: /proc/mounts inside the container, as containerd on a kind node shows it (paths octal-escaped).
MOUNT_TABLE = """\
overlay / overlay rw,relatime,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/13/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/13/work 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /etc/db tmpfs ro,relatime,size=8039880k,inode64 0 0
/dev/vda1 /etc/db/cache ext4 rw,relatime 0 0
/dev/vda1 /etc/app\\040conf ext4 ro,relatime 0 0
tmpfs /etc/tls/ca.pem tmpfs ro,relatime,size=8039880k,inode64 0 0
tmpfs /etc/podinfo tmpfs {info},relatime,size=8039880k,inode64 0 0
tmpfs /etc/bundle tmpfs ro,relatime,size=8039880k,inode64 0 0
tmpfs /podinfo tmpfs ro,relatime,size=8039880k,inode64 0 0
"""


def the_pod(running: bool = True) -> dict:
    """A pod as the API server returns it. It has no kube-api-access-* volume, which only a pod with
    ``automountServiceAccountToken: false`` lacks: said so, or the prediction would add one."""
    extra = [K.container("sidecar", SIDECAR_MOUNTS), K.container("scratch", EMPTYDIR_ONLY)]
    pod = K.pod(volumes=VOLUMES, mounts=APP_MOUNTS, env=False, running=running, extra_containers=extra)
    pod["spec"]["automountServiceAccountToken"] = False
    return pod


def predicted() -> WorkloadLayout:
    inputs = load_objects([the_pod(), K.DB_CREDS, K.TLS, K.APP_CONFIG], "cluster:test/dev", "dev")
    (layout,) = build_layouts(inputs, inputs.workloads)
    return layout


def as_seen_by_us(c: ContainerLayout) -> ContainerLayout:
    """Owners we can give files here: the model's when root, else our own."""
    if IS_ROOT:
        return c
    ids = (os.getuid(), os.getgid())
    return ContainerLayout(c.name, c.init, c.mounts,
                           [Entry(e.path, e.type, e.mode, *ids, e.size, e.sha256, e.target, e.volatile)
                            for e in c.entries])


def materialize(c: ContainerLayout, contents: dict[str, bytes], root: Path) -> None:
    """Build the predicted tree under ``root``: the container's filesystem as the kubelet leaves it."""
    for e in sorted(c.entries, key=lambda e: e.path):
        p = root / e.path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        if e.type == DIR:
            p.mkdir(exist_ok=True)
        elif e.type == FILE:
            p.write_bytes(contents[e.sha256])
        else:
            os.symlink(e.target, p)
    for e in sorted(c.entries, key=lambda e: e.path, reverse=True):  # children first: modes may lock dirs
        p = root / e.path.lstrip("/")
        if IS_ROOT:
            os.lchown(p, e.uid, e.gid)
        if e.type != SYMLINK:
            os.chmod(p, e.mode)


class LocalExec:
    """Runs the command it is sent under ``root`` (paths prefixed, the mount table swapped for ours)
    and sends back the output with the prefix taken off again, as if run in the container."""

    def __init__(self, root: Path, table: Path):
        self.root, self.table = root, table
        self.calls: list[tuple[list[str], str | None]] = []

    def __call__(self, argv: list[str], container: str | None) -> ExecResult:
        self.calls.append((argv, container))
        if argv[:5] != ["sh", "-c", LISTING_SCRIPT, "sh", "/proc/mounts"]:
            return ExecResult(status={"metadata": {}, "status": "Failure", "message": "unexpected command",
                                      "reason": "InternalError", "code": 500})
        pairs = argv[5:]
        local = argv[:4] + [str(self.table)] + [str(self.root) + a if i % 2 == 0 else a for i, a in enumerate(pairs)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}  # containers rarely set a locale
        run = subprocess.run(local, capture_output=True, timeout=30, env=env)
        out = run.stdout.replace(b"\0" + str(self.root).encode(), b"\0")
        err = run.stderr.replace(str(self.root).encode(), b"")
        if run.returncode:
            return ExecResult(out, err, {"metadata": {}, "status": "Failure",
                                         "message": f"command terminated with non-zero exit code: exit status "
                                                    f"{run.returncode}", "reason": "NonZeroExitCode",
                                         "details": {"causes": [{"reason": "ExitCode",
                                                                 "message": str(run.returncode)}]}})
        return ExecResult(out, err)


@pytest.fixture
def world(tmp_path):
    """The predicted tree on disk, a mount table, and a fake API server whose exec runs the script there."""
    layout = predicted()
    root = tmp_path / "rootfs"
    for name in ("app", "sidecar"):
        materialize(files_only(layout.container(name)), layout.contents, root)
    (root / "etc/db/cache").mkdir()  # the emptyDir mounted inside the secret: not modelled, must not show
    (root / "etc/db/cache/junk.txt").write_text("scratch")
    table = tmp_path / "mounts"
    table.write_text(MOUNT_TABLE.format(info="ro"))
    local = LocalExec(root, table)
    with FakeAPI() as api:
        api.add(the_pod())
        api.exec_handler = local
        yield api, local, layout, root, table, tmp_path


def observe(api, tmp_path, container=None):
    return observed_layout("web", container=container, context=None, namespace=None,
                           kubeconfig=str(api.kubeconfig(tmp_path / "kubeconfig")))


def one_error(exc_info) -> str:
    (problem,) = exc_info.value.problems
    return str(problem)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol,frame_size", [("v4.channel.k8s.io", 1000), ("v5.channel.k8s.io", 61)])
def test_observed_layout_equals_the_prediction(world, protocol, frame_size):
    api, local, layout, _, _, tmp_path = world
    api.protocol, api.frame_size = protocol, frame_size
    observed = observe(api, tmp_path)
    assert observed == WorkloadLayout("Pod", "web", "dev", [as_seen_by_us(files_only(layout.container("app")))])
    # The same layout, checked against values rather than against the model alone.
    app = observed.containers[0]
    assert app.mounts == [Mount("/etc/db", "creds", True, None, "secret/db-creds", "secret"),
                          Mount("/etc/app conf", "config", True, None, "configMap/app-config", "configMap"),
                          Mount("/etc/tls/ca.pem", "tls", True, "ca.pem", "secret/tls-bundle", "secret"),
                          Mount("/etc/podinfo", "info", True, None, "downwardAPI", "downwardAPI"),
                          Mount("/etc/bundle", "bundle", True, None, "projected", "projected")]
    files = {p: (e.mode, e.size, e.sha256) for p, e in app.visible_files()}
    assert files == {
        "/etc/app conf/app.yaml": (0o644, 22, hashlib.sha256(b"port: 8080\nlog: debug\n").hexdigest()),
        "/etc/app conf/logo.bin": (0o644, 7, hashlib.sha256(K.LOGO).hexdigest()),
        "/etc/bundle/app.yaml": (0o644, 22, hashlib.sha256(b"port: 8080\nlog: debug\n").hexdigest()),
        "/etc/bundle/keys/api.key": (0o440, len(K.API_KEY), hashlib.sha256(K.API_KEY).hexdigest()),
        "/etc/db/db/password": (0o440, len(K.DB_PASSWORD), hashlib.sha256(K.DB_PASSWORD).hexdigest()),
        "/etc/podinfo/labels": (0o644, 24, hashlib.sha256(b'app="web"\ntier="backend"').hexdigest()),
        "/etc/podinfo/meta/name": (0o644, 3, hashlib.sha256(b"web").hexdigest()),
        "/etc/tls/ca.pem": (0o644, len(K.CA_CRT), hashlib.sha256(K.CA_CRT.encode()).hexdigest()),
    }
    root = app.entry("/etc/db")
    assert (root.type, oct(root.mode)) == (DIR, "0o3777")
    assert app.entry("/etc/db/..data").type == SYMLINK
    assert not any(e.path.startswith("/etc/db/cache") for e in app.entries)
    # One exec, into the default container, running sh with our script; one GET before it.
    ((argv, container),) = local.calls
    assert container == "app" and argv[:4] == ["sh", "-c", LISTING_SCRIPT, "sh"]
    assert argv[5:] == ["/etc/db", "/etc/db", "/etc/app conf", "/etc/app\\040conf", "/etc/tls/ca.pem",
                        "/etc/tls/ca.pem", "/etc/podinfo", "/etc/podinfo", "/etc/bundle", "/etc/bundle"]
    assert api.paths() == ["/api/v1/namespaces/dev/pods/web", "/api/v1/namespaces/dev/pods/web/exec"]
    exec_query = dict(api.requests[1].query)
    assert {k: exec_query[k] for k in ("container", "stdout", "stderr", "stdin", "tty")} == {
        "container": "app", "stdout": "true", "stderr": "true", "stdin": "false", "tty": "false"}


def test_a_writable_mount_is_reported_as_such(world):
    api, _, _, _, table, tmp_path = world
    table.write_text(MOUNT_TABLE.format(info="rw"))
    mounts = {m.path: m.read_only for m in observe(api, tmp_path).containers[0].mounts}
    assert mounts == {"/etc/db": True, "/etc/app conf": True, "/etc/tls/ca.pem": True, "/etc/podinfo": False,
                      "/etc/bundle": True}
    # No line for a mount path: not a mount point at all, so nothing makes it read-only.
    table.write_text("".join(line + "\n" for line in MOUNT_TABLE.format(info="ro").splitlines()
                             if " /etc/bundle " not in line))
    mounts = {m.path: m.read_only for m in observe(api, tmp_path).containers[0].mounts}
    assert mounts == {"/etc/db": True, "/etc/app conf": True, "/etc/tls/ca.pem": True, "/etc/podinfo": True,
                      "/etc/bundle": False}


def test_other_container_with_c(world):
    api, local, layout, _, _, tmp_path = world
    observed = observe(api, tmp_path, container="sidecar")
    assert observed.containers == [as_seen_by_us(files_only(layout.container("sidecar")))]
    assert observed.containers[0].mounts == [Mount("/podinfo", "info", True, None, "downwardAPI", "downwardAPI")]
    assert [c for _, c in local.calls] == ["sidecar"]


def test_container_without_modelled_mounts_needs_no_exec(world):
    api, local, _, _, _, tmp_path = world
    observed = observe(api, tmp_path, container="scratch")
    assert observed.containers == [ContainerLayout("scratch", False, [], [])]
    assert local.calls == []


def test_unknown_container(world):
    api, _, _, _, _, tmp_path = world
    with pytest.raises(ParityError) as exc:
        observe(api, tmp_path, container="nope")
    assert one_error(exc) == 'cluster:test/dev: Pod/web: no container "nope" (containers: app, sidecar, scratch)'


def test_pod_not_running(world):
    api, local, _, _, _, tmp_path = world
    api.add(the_pod(running=False))
    with pytest.raises(ParityError) as exc:
        observe(api, tmp_path)
    assert one_error(exc) == ('cluster:test/dev: Pod/web: container "app" is not running (state terminated, pod '
                              'phase Succeeded); only a running container can be listed')
    assert local.calls == []


@pytest.mark.parametrize("status", [["Running"],
                                    {"phase": 3, "containerStatuses": [{"name": "app", "state": "running"}]},
                                    {"containerStatuses": [None, {"name": "app", "state": ["running"]}]}],
                         ids=["a-list", "a-string-state", "a-list-state"])
def test_a_pod_status_of_another_shape_is_read_as_saying_nothing(world, status):
    """The status is parsed once into typed statuses (``observe.PodStatus``): a member of another shape
    than the API's says nothing, so the container is not running, in one line. Before: a traceback
    (``'list' object has no attribute 'get'``), or a state written as a string read as running."""
    api, local, _, _, _, tmp_path = world
    pod = the_pod()
    pod["status"] = status
    api.add(pod)
    with pytest.raises(ParityError) as exc:
        observe(api, tmp_path)
    assert one_error(exc) == ('cluster:test/dev: Pod/web: container "app" is not running (state unknown, pod '
                              'phase unknown); only a running container can be listed')
    assert local.calls == []


def test_exec_forbidden(world):
    api, _, _, _, _, tmp_path = world
    api.exec_handler = lambda argv, container: ExecResult(handshake_status=403)
    with pytest.raises(ParityError) as exc:
        observe(api, tmp_path)
    assert one_error(exc) == 'cluster:test/dev: Pod/web: forbidden: cannot create pods/exec in namespace "dev" (RBAC)'


def test_container_without_sh(world):
    api, _, _, _, _, tmp_path = world
    message = ('Internal error occurred: error executing command in container: failed to exec in container: failed '
               'to start exec "5b0c": OCI runtime exec failed: exec failed: unable to start container process: exec: '
               '"sh": executable file not found in $PATH: unknown')
    api.exec_handler = lambda argv, container: ExecResult(status={
        "metadata": {}, "status": "Failure", "message": message, "reason": "InternalError",
        "details": {"causes": [{"message": message[len("Internal error occurred: "):]}]}, "code": 500})
    with pytest.raises(ParityError) as exc:
        observe(api, tmp_path)
    assert one_error(exc) == f"cluster:test/dev: Pod/web: cannot run sh in container 'app': {message}"


def test_listing_that_fails_in_the_container(world):
    api, _, _, root, _, tmp_path = world
    shutil.rmtree(root / "etc/bundle")
    with pytest.raises(ParityError) as exc:
        observe(api, tmp_path)
    assert one_error(exc) == ("cluster:test/dev: Pod/web: the listing failed in container 'app' (exit code 1): "
                              "find: '/etc/bundle': No such file or directory")


# ---------------------------------------------------------------------------------------------
# The script and the parser on their own


def _run(argv: list[str], path_dirs: str | None = None, user: int | None = None) -> bytes:
    env = {"PATH": path_dirs} if path_dirs else None
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + argv
    run = subprocess.run(argv, capture_output=True, timeout=30, env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(params=["gnu", "busybox"])
def tool_path(request, tmp_path):
    if request.param == "gnu":
        return None
    busybox = shutil.which("busybox")
    if not busybox:
        precondition_missing("busybox is not installed (scripts/testbed.sh installs busybox-static)")
    bin_dir = tmp_path / "bb"
    bin_dir.mkdir()
    for applet in ("sh", "find", "stat", "sha256sum", "readlink"):
        os.symlink(busybox, bin_dir / applet)
    return str(bin_dir)


def test_odd_names_come_back_exactly(tmp_path, tool_path):
    mount = tmp_path / "m"
    mount.mkdir()
    names = ["new\nline", "sp ace", "tab\there", "back\\slash", "ünï", "-dash", "..hidden", "quote'\"", "E", "M"]
    for i, name in enumerate(names):
        (mount / name).write_bytes(name.encode() * (i + 1))
        os.chmod(mount / name, 0o600 + i)
    (mount / "sub dir").mkdir()
    os.chmod(mount / "sub dir", 0o2750)
    os.symlink("sp ace", mount / "sub dir/link\nname")
    table = tmp_path / "mounts"
    table.write_text(f"tmpfs {proc_mounts_escape(str(mount))} tmpfs ro,nosuid 0 0\n")
    listing = parse_listing(_run(listing_argv([str(mount)], str(table)), tool_path))
    assert listing.options == {str(mount): "ro,nosuid"}
    uid, gid = os.getuid(), os.getgid()
    m = str(mount)
    expected = [Entry(m, DIR, 0o755, uid, gid)]
    for i, name in enumerate(names):
        data = name.encode() * (i + 1)
        expected.append(Entry(f"{m}/{name}", FILE, 0o600 + i, uid, gid, len(data), hashlib.sha256(data).hexdigest()))
    expected += [Entry(f"{m}/sub dir", DIR, 0o2750, uid, gid),
                 Entry(f"{m}/sub dir/link\nname", SYMLINK, 0o777, uid, gid, target="sp ace")]
    os.chmod(mount, 0o755)
    assert listing.entries == sorted(expected, key=lambda e: e.path)


def test_a_file_the_container_user_cannot_read():
    if not IS_ROOT or not shutil.which("setpriv"):
        precondition_missing("needs root and setpriv (util-linux) to list as nobody")
    base = Path(tempfile.mkdtemp(prefix="parity-observe-", dir="/tmp"))  # pytest's tmp is 0700: nobody can't enter
    try:
        os.chmod(base, 0o755)
        mount = base / "m"
        mount.mkdir(mode=0o755)
        (mount / "secret").write_bytes(b"hidden")
        os.chmod(mount / "secret", 0o400)
        (mount / "open").write_bytes(b"visible")
        os.chmod(mount / "open", 0o644)
        listing = parse_listing(_run(listing_argv([str(mount)], "/proc/mounts"), user=65534))
    finally:
        shutil.rmtree(base)
    by_path = {e.path: e for e in listing.entries}
    assert by_path[f"{mount}/secret"] == Entry(f"{mount}/secret", FILE, 0o400, 0, 0, 6, None, volatile=UNREADABLE)
    assert by_path[f"{mount}/open"].sha256 == hashlib.sha256(b"visible").hexdigest()
    assert listing.options == {str(mount): ""}  # not a mount point: no line in the table


def test_proc_mounts_escaping():
    assert proc_mounts_escape("/etc/a b\tc\nd\\e") == "/etc/a\\040b\\011c\\012d\\134e"


def test_malformed_listings_are_errors():
    with pytest.raises(ParityError) as exc:
        parse_listing(b"M\0/etc/x\0ro")
    assert one_error(exc) == "the listing from the container is truncated"
    with pytest.raises(ParityError) as exc:
        parse_listing(b"M\0/etc/x\0ro\0X\0")
    assert one_error(exc) == "the listing from the container is malformed at field 3"
    with pytest.raises(ParityError) as exc:
        parse_listing(b"E\0/etc/x/a\0\0\0\0")
    assert one_error(exc) == ("cannot stat '/etc/x/a' in the container (did the volume change while it was "
                              "listed?)")


# ---------------------------------------------------------------------------------------------
# The command line: --from-cluster, --observed and diff --pod, wired end to end.


def test_cli_diff_pod_against_prediction(world):
    """``parity diff --from-cluster pod/web --pod web``: does the model hold for this running pod?"""
    import json

    from ..conftest import run_parity

    api, _, _, root, _, tmp_path = world
    for obj in (K.DB_CREDS, K.TLS, K.ENV_SECRET, K.APP_CONFIG, K.ENV_CM, K.ROOT_CA):
        api.add(obj)
    kubeconfig = str(api.kubeconfig(tmp_path / "kubeconfig"))
    same = run_parity("diff", "--from-cluster", "pod/web", "--kubeconfig", kubeconfig, "--pod", "web",
                      "--format", "json")
    assert same.returncode == 0, same.stderr.decode()
    report = json.loads(same.stdout)
    assert (report["equal"], report["mode"], report["compose"]) == (True, "observed in the cluster", "pod/web")
    assert [p["container"] for p in report["pairs"]] == ["app", "sidecar", "scratch"]
    # The pod's real file changes (as on a node where something tampered with it): reported, exit 1.
    (ts,) = [p for p in (root / "etc/db").iterdir() if p.name.startswith("..1970")]
    target = ts / "db" / "password"
    os.chmod(target, 0o644)
    target.write_bytes(b"tampered")
    os.chmod(target, 0o440)
    changed = run_parity("diff", "--from-cluster", "pod/web", "--kubeconfig", kubeconfig, "--pod", "web")
    assert changed.returncode == 1
    out = changed.stdout.decode()
    assert "content             /etc/db/db/password" in out and "tampered" not in out
    assert K.DB_PASSWORD.decode() not in out


def test_cli_layout_observed_matches_library(world):
    import json

    from ..conftest import run_parity

    api, _, _, _, _, tmp_path = world
    kubeconfig = str(api.kubeconfig(tmp_path / "kubeconfig"))
    result = run_parity("layout", "--from-cluster", "pod/web", "--observed", "-c", "app", "--kubeconfig",
                        kubeconfig, "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    (doc,) = json.loads(result.stdout)["workloads"]
    assert doc["workload"] == {"kind": "Pod", "name": "web", "namespace": "dev"}
    assert [c["name"] for c in doc["containers"]] == ["app"]
    wrong = run_parity("layout", "--from-cluster", "deploy/web", "--observed", "--kubeconfig", kubeconfig)
    assert (wrong.returncode, wrong.stderr.decode()) == (
        2, "parity: --observed reads a running pod: give --from-cluster pod/NAME\n")
    both = run_parity("layout", "manifests/api-gateway", "--from-cluster", "pod/web", "--kubeconfig", kubeconfig)
    assert both.stderr.decode() == "parity: give MANIFEST... (with --workload or -l) or --from-cluster, not both\n"
    selector = run_parity("layout", "--from-cluster", "pod/web", "-l", "app=web", "--kubeconfig", kubeconfig)
    assert (selector.returncode, selector.stderr.decode()) == (
        2, "parity: give MANIFEST... (with --workload or -l) or --from-cluster, not both\n")
