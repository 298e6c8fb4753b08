"""``parity diff`` without an engine: a compose setup read the way Compose reads it, its mounts
followed to their build contexts, and each difference from the cluster reported by path and kind.

The setups come from ``tests/diffcases.py``; ``tests/live/test_diff_live.py`` holds the same
setups to the same expectations in a real engine.
"""

from __future__ import annotations

import json

import pytest

from parity.docker.security import DEFAULT_CAPABILITIES

from .diffcases import (ARTICLE, CASES, DIFF_KEYS, DOC_KEYS, GW, OLD_KEY, ROTATED_KEY, case_article,
                        case_capabilities_dropped, case_cpus_as_a_float32, case_identity_dropped,
                        case_init_not_waited_for, case_init_only_started, case_limits_dropped, case_missing_fs_group,
                        case_network_not_shared, case_no_new_privileges_dropped, case_prebuilt_data_image,
                        case_rotated_secret, generate, run_diff, sha12, verdict)
from .conftest import deployment, run_parity, write


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_setup_gives_exactly_its_differences(tmp_path, name):
    """Every setup shows exactly the (container, path, kind) it was built to show, and exits 0 only
    when it shows none: generated setups are equal, each single change is found where it is."""
    case = CASES[name](tmp_path)
    v = verdict(case.manifests, case.compose, *case.args)
    assert v.kinds == case.expected | case.static_only
    assert v.exit_code == (1 if v.kinds else 0)
    assert v.doc["mode"] == "static"


def test_rotated_secret_shows_digests_never_bytes(tmp_path):
    """A content difference names sizes and short digests of both sides, never the bytes."""
    case = case_rotated_secret(tmp_path)
    d = verdict(case.manifests, case.compose).find(GW, "/etc/secrets/tenant1", "content")
    assert (d["expected"], d["actual"]) == (f"{len(ROTATED_KEY)} bytes {sha12(ROTATED_KEY)}",
                                            f"{len(OLD_KEY)} bytes {sha12(OLD_KEY)}")


def test_missing_fs_group_values(tmp_path):
    """Without fsGroup the files stay 0400 root:root where the kubelet gives 0440 root:2000, the
    mount root lacks setgid, and the process is not in group 2000."""
    case = case_missing_fs_group(tmp_path)
    v = verdict(case.manifests, case.compose)
    pw = (v.find(GW, "/etc/secrets/tenant1", "mode"), v.find(GW, "/etc/secrets/tenant1", "owner"))
    assert [(d["expected"], d["actual"]) for d in pw] == [("0440 -r--r-----", "0400 -r--------"), ("0:2000", "0:0")]
    root = v.find(GW, "/etc/secrets", "mode")
    assert (root["expected"], root["actual"]) == ("3777 drwxrwsrwt", "1777 drwxrwxrwt")
    process = v.find(GW, "(process)", "owner")
    assert (process["expected"], process["actual"]) == ("member of group 2000 (fsGroup)", "not a member")
    assert "group_add" in process["detail"]


def test_article_setup_details(tmp_path):
    """The article's setup: writable through ``volumes_from`` of a named volume, the root mode of the
    image directory COPY created (0755), and no ``..data``, reported once for the whole mount."""
    case = case_article(tmp_path)
    v = verdict(case.manifests, case.compose)
    writable = v.find(GW, "/etc/secrets", "writable")
    assert (writable["expected"], writable["actual"]) == ("read-only", "read-write")
    assert "via volumes_from secrets" in writable["detail"]
    mode = v.find(GW, "/etc/secrets", "mode")
    assert (mode["expected"], mode["actual"]) == ("1777 drwxrwxrwt", "0755 drwxr-xr-x")
    structure = v.find(GW, "/etc/secrets/..data", "structure")
    assert structure["actual"] == "absent"
    assert v.doc["pairs"] == [{"container": GW, "service": GW}]  # the data service is a helper, not unpaired


def test_image_built_elsewhere_is_unknown_not_equal(tmp_path):
    """Where the files come from an image with no local build context, static analysis says it
    cannot know (kind ``unknown``, exit 1) instead of guessing "equal"."""
    case = case_prebuilt_data_image(tmp_path)
    v = verdict(case.manifests, case.compose)
    assert v.exit_code == 1
    d = v.find(GW, "/etc/secrets", "unknown")
    assert "parity-difftest-prebuilt:latest" in d["detail"] and "--live" in d["detail"]


def test_text_report(tmp_path):
    """The readable report: a header, differences grouped under their container and service, and a
    one-line summary; an equal setup says so in one line per pair."""
    case = case_rotated_secret(tmp_path)
    result = run_diff(*case.manifests, "--compose", str(case.compose))
    assert result.returncode == 1
    assert result.stdout.decode().splitlines() == [
        f"parity diff: Pod/api-gateway vs {case.compose} (static)",
        "  container api-gateway <-> service api-gateway",
        f"    content             /etc/secrets/tenant1  cluster: {len(ROTATED_KEY)} bytes {sha12(ROTATED_KEY)}  "
        f"here: {len(OLD_KEY)} bytes {sha12(OLD_KEY)}",
        "1 difference in 1 container",
    ]
    same = run_diff(str(ARTICLE), "--compose", str(generate(tmp_path / "same", ARTICLE)))
    assert same.returncode == 0
    assert same.stdout.decode().splitlines()[1:] == [
        "  container api-gateway <-> service api-gateway: same",
        "no differences: every container sees the cluster's files (static)",
    ]


def test_process_facets_in_text_and_json(tmp_path):
    """Each process facet is its own difference, in the text report and in ``--format json``, with the
    cluster's and Docker's values (settings, never an environment value), exit 1."""
    case = case_identity_dropped(tmp_path / "identity")
    result = run_diff(*case.manifests, "--compose", str(case.compose))
    assert result.returncode == 1
    assert result.stdout.decode().splitlines()[1:] == [
        "  container app <-> service app",
        "    identity            (user)  cluster: 1000:3000  here: the image's USER",
        "                        the process runs as another user than in the cluster (runAsUser/runAsGroup: "
        "compose user)",
        "    identity            (groups)  cluster: 4000, 5000  here: none",
        "                        supplementary groups differ (supplementalGroups: compose group_add)",
        "2 differences in 1 container",
    ]
    case = case_capabilities_dropped(tmp_path / "caps")
    d = verdict(case.manifests, case.compose).find("app", "(capabilities)", "capabilities")
    assert (d["expected"], d["actual"]) == ("CHOWN, NET_BIND_SERVICE", ", ".join(sorted(DEFAULT_CAPABILITIES)))
    assert d["detail"].startswith("extra here: AUDIT_WRITE, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_RAW, ")
    case = case_cpus_as_a_float32(tmp_path / "cpus")
    v = verdict(case.manifests, case.compose)
    assert v.exit_code == 1
    d = v.find("app", "(cpu limit)", "limits")
    assert (d["expected"], d["actual"]) == ("25100 us per 100000 us (0.251 CPU)",
                                            "25099 us per 100000 us (0.25099 CPU)")
    case = case_no_new_privileges_dropped(tmp_path / "nnp")
    d = verdict(case.manifests, case.compose).find("app", "(no-new-privileges)", "privileges")
    assert (d["expected"], d["actual"]) == ("yes", "no")
    case = case_limits_dropped(tmp_path / "limits")
    d = verdict(case.manifests, case.compose).find("app", "(memory limit)", "limits")
    assert (d["expected"], d["actual"]) == ("67108864 bytes", "no limit")
    case = case_init_only_started(tmp_path / "started")
    d = verdict(case.manifests, case.compose).find("gateway", "(start after check-config)", "lifecycle")
    assert (d["expected"], d["actual"]) == ("after check-config completed",
                                            "after check-config started, without waiting for it to complete")
    case = case_network_not_shared(tmp_path / "network")
    d = verdict(case.manifests, case.compose).find("side", "(network)", "network")
    assert d["actual"] == "its own network namespace"
    assert d["expected"].startswith("the network namespace of service ")
    case = case_init_not_waited_for(tmp_path / "not-waited")
    d = verdict(case.manifests, case.compose).find("gateway", "(start after check-config)", "lifecycle")
    assert (d["expected"], d["actual"]) == ("after check-config completed", "without waiting for check-config")


def test_json_document_shape(tmp_path):
    """``--format json``: format ``parity.diff/v1``, ``equal``, the pairs, and each difference with
    exactly container, path, kind, expected, actual and detail."""
    case = case_missing_fs_group(tmp_path)
    v = verdict(case.manifests, case.compose)
    assert set(v.doc) == DOC_KEYS
    assert v.doc["format"] == "parity.diff/v1"
    assert v.doc["workload"] == "Pod/api-gateway"
    assert v.doc["compose"] == str(case.compose)
    assert v.doc["equal"] is False
    assert v.doc["pairs"] == [{"container": GW, "service": GW}]
    assert v.doc["differences"] and all(set(d) == DIFF_KEYS for d in v.doc["differences"])
    assert all(isinstance(d[k], str) for d in v.doc["differences"] for k in DIFF_KEYS)


def _internal(path: str) -> bool:
    return any(part.startswith("..") for part in path.split("/"))


@pytest.mark.parametrize("ignored, kind", [("owners", "owner"), ("modes", "mode"), ("structure", "structure")])
def test_ignore_removes_exactly_one_class(tmp_path, ignored, kind):
    """``--ignore owners|modes|structure`` leaves out that class of difference and nothing else. The
    process's missing fsGroup is an owner difference too; ``structure`` is the kubelet's internals as a
    whole, so the modes and owners of ``..<timestamp>`` go with it."""
    fs = case_missing_fs_group(tmp_path / "fs")
    art = case_article(tmp_path / "art")
    present = set()
    for case in (fs, art):
        full = verdict(case.manifests, case.compose)
        less = verdict(case.manifests, case.compose, "--ignore", ignored)
        kept = {f for f in full.facts() if f[2] != kind and not (ignored == "structure" and _internal(f[1]))}
        assert less.facts() == kept
        present |= {f[2] for f in full.facts()}
    assert kind in present  # the setups do show the class, so its absence means something


def test_ignore_everything_ignorable(tmp_path):
    """With every class ignored, a setup that only differs in modes, owners and structure is equal."""
    case = case_missing_fs_group(tmp_path)
    v = verdict(case.manifests, case.compose, "--ignore", "owners", "--ignore", "modes", "--ignore", "structure")
    assert (v.exit_code, v.kinds) == (0, set())


@pytest.mark.parametrize("content", ["services: [a, b\n", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"])
def test_a_file_that_is_not_compose(tmp_path, content):
    """A compose file Compose rejects: exit 2 and one line on stderr that names the file."""
    bad = tmp_path / "not-compose.yaml"
    bad.write_text(content)
    result = run_diff(str(ARTICLE), "--compose", str(bad))
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"parity: {bad}: not a valid Compose file: "), lines


def test_missing_compose_file(tmp_path):
    """A compose file that does not exist: exit 2, one line naming it."""
    missing = tmp_path / "nope.yaml"
    result = run_diff(str(ARTICLE), "--compose", str(missing))
    assert (result.returncode, result.stderr.decode()) == (2, f"parity: {missing}: no such compose file\n")


@pytest.mark.parametrize("args, message", [
    (("--project", "running"), "parity: --project needs --live\n"),
    (("--allow-host-access",), "parity: --allow-host-access needs --live\n"),
    (("--map", "api-gateway"), "parity: --map api-gateway: expected CONTAINER=SERVICE\n"),
    (("--map", "=gateway"), "parity: --map =gateway: expected CONTAINER=SERVICE\n"),
    (("--map", "api-gateway="), "parity: --map api-gateway=: expected CONTAINER=SERVICE\n"),
])
def test_bad_options(tmp_path, args, message):
    """``--project`` without ``--live`` and a ``--map`` that is not CONTAINER=SERVICE: exit 2, one line."""
    compose = generate(tmp_path / "out", ARTICLE)
    result = run_diff(str(ARTICLE), "--compose", str(compose), *args)
    assert (result.returncode, result.stdout, result.stderr.decode()) == (2, b"", message)


def test_image_files_where_the_cluster_has_a_mount_are_not_hidden(tmp_path):
    """A service that mounts nothing at the secret path but whose image has files there: the cluster
    would hide them behind the volume; here the app sees the image's own files."""
    from parity.compare import compare_containers
    from parity.docker.compose import load_compose
    from parity.docker.static_layout import StaticReader

    from .conftest import ROOT, layouts_of

    ctx = tmp_path / "app"
    ctx.mkdir()
    (ctx / "baked").write_text("from the image")
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY baked /etc/secrets/baked\n")
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services:\n  api-gateway:\n    build: ./app\n")
    (layout,) = layouts_of(tmp_path, (ROOT / "manifests/api-gateway/secret.yaml").read_text() + "---\n"
                           + (ROOT / "manifests/api-gateway/pod.yaml").read_text())
    expected = layout.containers[0]
    view = StaticReader(load_compose(str(compose_file))).view("api-gateway", "api-gateway", ["/etc/secrets"])
    kinds = [(d.path, d.kind) for d in compare_containers(expected, view.layout)]
    assert ("/etc/secrets", "not-hidden") in kinds
    assert ("/etc/secrets/baked", "extra") in kinds
    assert ("/etc/secrets/tenant1", "missing") in kinds
    assert not any(k == "writable" for _, k in kinds)


def test_throwaway_project_objects_are_labelled_as_this_diffs(tmp_path):
    """``diff --live`` labels its throw-away containers, images, volumes and networks with its HOST:PID,
    so that ``parity down`` of the same workload leaves a running diff alone, and the next run finds
    a killed one's leftovers."""
    import os
    import socket

    from parity.docker.liveproject import throwaway_config
    from parity.docker.compose import load_compose

    project = load_compose(str(generate(tmp_path / "out", ARTICLE)))
    config = throwaway_config(project, "parity-diff-0123abcd", "0123abcd")
    owner = f"{socket.gethostname()}:{os.getpid()}"
    assert config["services"] and config["volumes"]
    for name, svc in config["services"].items():
        assert svc["labels"]["io.parity.diff-owner"] == owner
        assert svc["labels"]["io.parity.workload"] == "Pod/api-gateway"  # kept: it says what the copy is of
        if "build" in svc:
            assert svc["build"]["labels"]["io.parity.diff-owner"] == owner
    assert any("build" in svc for svc in config["services"].values())
    for key, spec in [*config["volumes"].items(), *config["networks"].items()]:
        assert spec["name"].endswith("-0123abcd") and spec["labels"]["io.parity.diff-owner"] == owner
    assert list(config["networks"]) == ["default"]


HOSTILE_COMPOSE = """\
services:
  app:
    image: busybox:latest
    privileged: true
    network_mode: host
    pid: host
    ipc: host
    uts: host
    userns_mode: host
    cgroup: host
    cap_add: [SYS_ADMIN, NET_ADMIN, NET_RAW]
    devices: ["/dev/kmsg:/dev/kmsg"]
    security_opt: ["seccomp:unconfined", "no-new-privileges:true"]
    use_api_socket: true
    volumes:
      - /:/host:ro
      - ./inside:/inside
      - escape:/escape
      - ./link-out:/linked
      - shared:/shared
      - share:/share
      - theirs:/theirs
      - plugin:/plugin
    secrets: [token, local]
    build:
      context: /etc
      network: host
      ssh: [default]
  peer:
    image: busybox:latest
    network_mode: "container:someone-elses"
    volumes_from: ["container:someone-elses", app]
volumes:
  escape:
    driver_opts: {type: none, o: bind, device: /etc}
  share:
    driver_opts: {type: nfs, o: "addr=127.0.0.1,ro", device: ":/"}
  theirs: {external: true, name: someone-elses-secrets}
  plugin: {driver: some-plugin}
  shared: {}
secrets:
  token: {file: /etc/hostname}
  local: {file: ./token.txt}
"""


def test_host_access_names_each_service_and_field(tmp_path):
    """Everything that reaches into the host, read from Compose's normalised config: privileges, host
    namespaces, capabilities, devices, unconfinement, the engine socket, binds of host paths outside
    the project directory (a symlink inside it leading out too), a container outside the project, a
    bind-backed volume, a host file as a secret, a build context and build options. What stays in the
    project (a bind of a directory inside it, a named volume, a local secret file, no-new-privileges,
    volumes_from a service of the project) passes."""
    from parity.docker.compose import load_compose
    from parity.docker.hostaccess import host_access

    (tmp_path / "inside").mkdir()
    (tmp_path / "link-out").symlink_to("/etc")
    (tmp_path / "token.txt").write_text("local")
    (tmp_path / "compose.yaml").write_text(HOSTILE_COMPOSE)
    project = load_compose(str(tmp_path / "compose.yaml"))
    assert [(p.obj, p.field, p.message) for p in host_access(project)] == [
        ("service app", "privileged", "true: runs with every capability and every host device"),
        ("service app", "network_mode", "host: shares the host's network stack"),
        ("service app", "pid", "host: shares the host's processes"),
        ("service app", "ipc", "host: shares the host's shared memory"),
        ("service app", "uts", "host: shares the host's host name"),
        ("service app", "userns_mode", "host: shares the host's user IDs (no user namespace)"),
        ("service app", "cgroup", "host: shares the host's cgroup tree"),
        ("service app", "cap_add", "NET_ADMIN, SYS_ADMIN: adds kernel capabilities beyond Docker's default set"),
        ("service app", "devices", "/dev/kmsg: passes a host device in"),
        ("service app", "security_opt", "seccomp:unconfined: lifts a confinement"),
        ("service app", "use_api_socket", "true: mounts the Docker engine's socket (control of the host)"),
        ("service app", "volumes[0]", "bind-mounts / from the host, outside the project directory"),
        ("service app", "volumes[3]", f"bind-mounts {tmp_path}/link-out from the host, outside the project directory"),
        ("service app", "build.context", "/etc: sends host files outside the project directory to the build"),
        ("service app", "build.network", "host: builds in the host's network stack"),
        ("service app", "build.ssh", "hands the host's SSH agent or keys to the build"),
        ("service peer", "network_mode", "container:someone-elses: joins a container outside the project"),
        ("service peer", "volumes_from", "container:someone-elses: mounts the volumes of a container outside the "
                                         "project"),
        ("secret token", "file", "/etc/hostname: mounts a host file outside the project directory"),
        ("volume escape", "driver_opts.device", "/etc: a volume backed by a host directory outside the project "
                                                "directory"),
        ("volume plugin", "driver", "volume driver 'some-plugin': storage outside the engine's local volumes"),
        ("volume share", "driver_opts.type", "mounts a 'nfs' filesystem (the host's or the network's)"),
        ("volume theirs", "external", "an existing volume, not the throw-away project's (another project's data)"),
    ]
    assert {p.file for p in host_access(project)} == {str(tmp_path / "compose.yaml")}


def test_host_access_passes_capabilities_every_container_has(tmp_path):
    """Dropping ALL and adding back a capability of Docker's default set (ingress-nginx's
    NET_BIND_SERVICE, metallb's NET_RAW, in any of the forms Docker accepts) reaches no further than
    any container: no host access. One beyond the default set (linkerd-init's NET_ADMIN) is named alone."""
    from parity.docker.compose import load_compose
    from parity.docker.hostaccess import host_access

    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  web:\n    image: busybox:latest\n    cap_drop: [ALL]\n"
        "    cap_add: [NET_BIND_SERVICE, net_raw, CAP_CHOWN]\n"
        "  init:\n    image: busybox:latest\n    cap_add: [NET_ADMIN, NET_RAW]\n")
    project = load_compose(str(tmp_path / "compose.yaml"))
    assert [(p.obj, p.field, p.message) for p in host_access(project)] == [
        ("service init", "cap_add", "NET_ADMIN: adds kernel capabilities beyond Docker's default set"),
    ]


@pytest.mark.parametrize("manifests", ["manifests/api-gateway", "manifests/richer", "tests/fixtures/live"])
def test_generated_setups_need_no_host_access(tmp_path, manifests):
    """parity's own setups (its binds are of files in the output directory) run without the flag."""
    from parity.docker.compose import load_compose
    from parity.docker.hostaccess import host_access

    from .conftest import ROOT

    sources = sorted((ROOT / manifests).glob("*.yaml")) if manifests.endswith("live") else [ROOT / manifests]
    for i, source in enumerate(sources):
        project = load_compose(str(generate(tmp_path / f"out{i}", source)))
        assert project.services and host_access(project) == []


OVERRIDE = """\
services:
  api-gateway:
    volumes:
      - {type: volume, source: secrets, target: /etc/secrets, read_only: false, volume: {nocopy: true}}
  debug-shell:
    image: busybox:latest
    profiles: [debug]
"""


def test_compose_file_rules_are_compose_own(tmp_path):
    """Which files and profiles make the setup: as `docker compose` decides (issue 15). With no
    --compose, the files Compose would read (COMPOSE_FILE, else compose.yaml with its
    compose.override.yaml); --compose repeated merges in order; --profile enables a profile."""
    out = tmp_path / "gen"
    assert run_parity("k8s-to-docker", str(ARTICLE), "-o", str(out), "-p", "parity-test-rules").returncode == 0
    (out / "compose.override.yaml").write_text(OVERRIDE)

    def kinds(*args, cwd=out, env=None):
        result = run_parity("diff", str(ARTICLE), "--format", "json", *args, cwd=cwd, env=env)
        assert result.returncode in (0, 1), result.stderr.decode()
        return result.returncode, sorted(d["kind"] for d in json.loads(result.stdout)["differences"])

    writable = (1, ["writable"])
    assert kinds() == writable  # compose.yaml + compose.override.yaml, found as Compose finds them
    assert kinds(cwd=out / "data") == writable  # ... from a directory below, too
    assert kinds("--compose", "compose.yaml") == (0, [])  # an explicit -f reads that file alone
    assert kinds("--compose", "compose.yaml", "--compose", "compose.override.yaml") == writable
    assert kinds(env={"COMPOSE_FILE": "compose.yaml"}) == (0, [])
    assert kinds("--profile", "debug") == (1, ["unpaired-service", "writable"])
    assert kinds(env={"COMPOSE_PROFILES": "debug"}) == (1, ["unpaired-service", "writable"])


def test_a_whole_apps_volume_notes_name_their_workload(tmp_path):
    """Three workloads with a disk emptyDir of the same name and sizeLimit, two of them Deployment/api in
    two namespaces: each of diff's notes named no workload ('emptyDir volume "scratch" has sizeLimit 1Gi'
    three times); now each names its own, as k8s-to-docker's notes do (NAMESPACE/ where two share a name)."""
    spec = """\
      containers:
      - {name: app, image: busybox:latest, volumeMounts: [{name: scratch, mountPath: /scratch}]}
      volumes: [{name: scratch, emptyDir: {sizeLimit: 1Gi}}]
"""
    src = write(tmp_path, "---\n".join([deployment("api", spec, namespace="team-a"),
                                         deployment("api", spec, namespace="team-b"), deployment("solo", spec)]))
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(src), "-o", str(out)).returncode == 0
    diff = run_parity("diff", str(src), "--compose", str(out / "compose.yaml"), "--format", "json")
    assert diff.returncode == 0, diff.stderr.decode()
    text = ('emptyDir volume "scratch" has sizeLimit 1Gi: not enforced here (the kubelet evicts the pod once the '
            "volume holds more; a Docker volume grows to the disk's size)")
    assert json.loads(diff.stdout)["notes"] == [f"{w}: {text}" for w in (
        "team-a/Deployment/api", "team-b/Deployment/api", "Deployment/solo")]
