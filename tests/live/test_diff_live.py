"""``parity diff --live`` in a real engine, held to the same expectations as the static diff.

Each setup of ``tests/diffcases.py`` is checked twice, statically and live (a throw-away Compose
project that parity brings up, reads through the engine and removes); both must report exactly the
setup's differences, with the same paths, kinds and values. ``stale`` (only a running project can
hold old bytes) and ``unknown`` (only static analysis can lack the files) are mode-specific.
Every test leaves no container, volume, network or image behind.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from parity.docker.labels import COMPOSE_PROJECT
from parity.docker.liveproject import LIVE_PROBE

from ..conftest import ROOT, run_on_a_terminal, run_parity, unique_name
from ..diffcases import (ARTICLE, CASES, DIFF_KEYS, DOC_KEYS, GW, MODE_SPECIFIC, NO_AUTOMOUNT, OLD_KEY, ROTATED_KEY, SA,
                         TERMINATION_LOG, Case, add_to_payload, case_article, case_missing_fs_group, case_prebuilt_data_image,
                         case_writable_mount, edit_compose, manifests_copy, run_diff, verdict)
from ..dockerfilecases import CASES as DOCKERFILE_CASES
from ..dockerfilecases import write_setup
from .engineproxy import EngineProxy

#: Every test here leaves no throw-away project, stand-in tag or image behind (tests/live/conftest.py).
pytestmark = pytest.mark.usefixtures("leaves_nothing_behind")


@pytest.fixture
def app_image(docker_client):
    """The article's ``api-gateway:latest`` app image: busybox under a name of this test's own (no
    registry here, and a shared engine may hold an ``api-gateway:latest`` of someone else's)."""
    tag = f"parity-difftest-api-gateway-{secrets.token_hex(4)}:latest"
    docker_client.images.get("busybox:latest").tag(tag)
    yield tag
    docker_client.images.remove(tag)  # untags; busybox stays


def agree(case: Case, *args: str):
    """Static and live diff of one setup: each gives exactly the setup's differences, the same facts
    (container, path, kind, expected, actual) and the same exit code, modulo the mode-specific kinds."""
    static = verdict(case.manifests, case.compose, *case.args, *args)
    live = verdict(case.manifests, case.compose, *case.args, "--live", *args)
    assert live.kinds == case.expected
    assert static.kinds == case.expected | case.static_only
    assert static.facts(drop=MODE_SPECIFIC) == live.facts(drop=MODE_SPECIFIC)
    if not case.static_only:
        assert static.exit_code == live.exit_code == (1 if case.expected else 0)
    assert set(live.doc) == DOC_KEYS and live.doc["format"] == "parity.diff/v1" and live.doc["mode"] == "live"
    assert all(set(d) == DIFF_KEYS for d in live.doc["differences"])
    assert live.doc["pairs"] == static.doc["pairs"]
    return static, live


@pytest.mark.live
@pytest.mark.parametrize("name", sorted(n for n in CASES if n != "article"))
def test_static_and_live_agree(docker_client, tmp_path, name):
    """Generated setups are equal in both modes (exit 0); a rotated Secret (content), a changed
    defaultMode (mode), a removed key (extra / missing), a writable mount, a missing fsGroup (mode and
    owner on files, the process's group), an extra file in the data image (extra), unpaired container
    and service (and --map fixing them), a subPath source that is a directory (type): each is reported
    the same way, with exit 1, by the static and the live diff."""
    agree(CASES[name](tmp_path))


@pytest.mark.live
def test_article_setup(docker_client, tmp_path, app_image):
    """The article's own compose setup, brought up for real: the mount is writable (Compose's
    ``volumes_from`` without ``:ro``), its root is 0755 not 1777, and there is no ``..data``;
    ``container_name`` and ``ports: 80:80`` do not leak out of the throw-away project."""
    _, live = agree(case_article(tmp_path, app_image))
    assert live.find(GW, "/etc/secrets", "mode")["actual"] == "0755 drwxr-xr-x"
    assert docker_client.containers.list(all=True, filters={"name": "^/api-gateway$"}) == []


@pytest.mark.live
def test_ignore_agrees_live(docker_client, tmp_path):
    """``--ignore owners`` drops every owner difference, the process's group included, in both modes."""
    fs = case_missing_fs_group(tmp_path)
    _, live = agree(Case(fs.manifests, fs.compose, {k for k in fs.expected if k[2] != "owner"}), "--ignore", "owners")
    assert {k for _, _, k in live.kinds} == {"mode"}


@pytest.mark.live
def test_image_built_elsewhere(docker_client, tmp_path):
    """A data image with no local build context: static says ``unknown`` (exit 1) rather than
    "equal"; live reads the real files and gives the real verdict: equal against the manifests the
    image was built from, ``content`` against a rotated Secret."""
    tag = f"parity-difftest-prebuilt-{secrets.token_hex(4)}:latest"
    case = case_prebuilt_data_image(tmp_path, image=tag)
    context = tmp_path / "elsewhere"
    context.mkdir()
    (context / "payload.tar").write_bytes((case.compose.parent / "data" / "payload.tar").read_bytes())
    (context / "Dockerfile").write_text('FROM busybox:latest\nADD payload.tar /\nCMD ["true"]\n')
    docker_client.images.build(path=str(context), tag=tag, rm=True)
    try:
        static, live = agree(case)
        assert (static.exit_code, live.exit_code) == (1, 0)
        rotated = [str(manifests_copy(tmp_path / "rotated", edit=lambda t: t.replace(OLD_KEY, ROTATED_KEY)))]
        assert verdict(rotated, case.compose).kinds == case.static_only
        live = verdict(rotated, case.compose, "--live")
        assert (live.exit_code, live.kinds) == (1, {(GW, "/etc/secrets/tenant1", "content")})
    finally:
        docker_client.images.remove(tag, force=True)


@pytest.mark.live
def test_throwaway_project_leaves_the_users_images_alone(docker_client, tmp_path):
    """A service with ``build`` and ``image: NAME`` whose NAME the user already has: the live diff
    builds under a throw-away name, so NAME still points at the user's image afterwards."""
    tag = f"parity-difftest-users-own-{secrets.token_hex(4)}:latest"
    busybox = docker_client.images.get("busybox:latest")
    busybox.tag(tag)
    try:
        case = CASES["equal-article"](tmp_path)
        edit_compose(case.compose, lambda doc: doc["services"]["parity-data"].__setitem__("image", tag))
        agree(case)
        assert docker_client.images.get(tag).id == busybox.id
    finally:
        docker_client.images.remove(tag)


@pytest.mark.live
def test_the_teardown_leaves_the_users_external_volume_and_network(docker_client, tmp_path):
    """A setup whose data service mounts a volume of the user's and whose pod sandbox joins a network of
    the user's (both ``external: true``, run with ``--allow-host-access``): the live diff runs with them
    and, when it removes its throw-away project through the engine, leaves both as they were, the
    file in the volume too."""
    name = f"parity-difftest-external-{secrets.token_hex(4)}"
    volume = docker_client.volumes.create(name)
    network = docker_client.networks.create(name)
    try:
        docker_client.containers.run("busybox:latest", ["sh", "-c", "echo kept > /v/file"], remove=True,
                                     volumes={name: {"bind": "/v", "mode": "rw"}})
        case = CASES["equal-article"](tmp_path)

        def external(doc: dict) -> None:
            doc["volumes"]["users-own"] = {"external": True, "name": name}
            doc["networks"] = {"users-net": {"external": True, "name": name}}
            doc["services"]["parity-data"]["volumes"].append({"type": "volume", "source": "users-own",
                                                              "target": "/users-own"})
            doc["services"]["pod_sandbox"]["networks"] = ["users-net"]

        edit_compose(case.compose, external)
        live = verdict(case.manifests, case.compose, "--live", "--allow-host-access")  # (another's data: refused without)
        assert (live.exit_code, live.kinds) == (0, set())
        assert docker_client.volumes.get(name).name == name
        assert docker_client.networks.get(name).name == name
        assert docker_client.containers.run("busybox:latest", ["cat", "/v/file"], remove=True,
                                            volumes={name: {"bind": "/v", "mode": "ro"}}) == b"kept\n"
    finally:
        volume.remove(force=True)
        network.remove()


STALE_COMPOSE = """\
services:
  secrets:
    build: ./data
    volumes:
      - secrets_volume:/etc/secrets
  api-gateway:
    image: busybox:latest
    command: ["sh", "-c", "while true; do sleep 3600; done"]
    depends_on:
      secrets: {condition: service_completed_successfully}
    volumes:
      - secrets_volume:/etc/secrets:ro
volumes:
  secrets_volume: {}
"""


def _stale_setup(directory: Path) -> Path:
    """A hand-written setup: a data service built from a local context fills a named volume whose
    name carries no digest; the app mounts it read-only."""
    (directory / "data").mkdir(parents=True)
    for n, value in ((1, OLD_KEY), (2, "tenant2-api-key-7b2e4d"), (3, "tenant3-api-key-c81f0a")):
        (directory / "data" / f"tenant{n}").write_text(value)
        (directory / "data" / f"tenant{n}").chmod(0o644)
    (directory / "data" / "Dockerfile").write_text(
        'FROM busybox:latest\nCOPY tenant1 tenant2 tenant3 /etc/secrets/\nCMD ["true"]\n')
    (directory / "compose.yaml").write_text(STALE_COMPOSE)
    return directory / "compose.yaml"


@pytest.mark.live
def test_stale_volume_in_a_running_project(docker_client, tmp_path):
    """Rotate the Secret, rebuild the data image, ``up -d --build`` again: Docker keeps the named
    volume's old bytes. ``--live --project`` against the new manifests reports ``stale`` (and the
    content), where static analysis, reading the already-rotated context, cannot; it inspects the
    running project without changing it."""
    project = f"parity-difftest-stale-{secrets.token_hex(4)}"
    compose_file = _stale_setup(tmp_path / "setup")
    rotated = manifests_copy(tmp_path / "rotated", edit=lambda t: t.replace(OLD_KEY, ROTATED_KEY))

    def compose(*args: str) -> None:
        proc = subprocess.run(["docker", "compose", "-p", project, "-f", str(compose_file), *args],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr

    first_image = None
    try:
        compose("up", "-d", "--build")
        first_image = docker_client.images.get(f"{project}-secrets").id
        (compose_file.parent / "data" / "tenant1").write_text(ROTATED_KEY)
        compose("up", "-d", "--build")
        assert docker_client.images.get(f"{project}-secrets").id != first_image
        (app,) = docker_client.containers.list(filters={"label": [f"{COMPOSE_PROJECT}={project}",
                                                                   "com.docker.compose.service=api-gateway"]})
        assert app.exec_run(["cat", "/etc/secrets/tenant1"]).output == OLD_KEY.encode()  # Docker kept it
        before = sorted(c.id for c in docker_client.containers.list(all=True,
                                                                     filters={"label": f"{COMPOSE_PROJECT}={project}"}))

        # A hand-written setup: no service-account mount (NO_AUTOMOUNT keeps the test about the volume).
        live = verdict([str(rotated), str(NO_AUTOMOUNT)], compose_file, "--live", "--project", project)
        assert live.exit_code == 1
        assert live.doc["mode"] == f"live (project {project})"
        # (and no termination-message file nor the kubelet's service variables: hand-written, it has none)
        assert live.kinds == {(GW, "/etc/secrets", "stale"), (GW, "/etc/secrets/tenant1", "content"),
                              (GW, "/etc/secrets", "mode"), (GW, "/etc/secrets/..data", "structure"),
                              (GW, TERMINATION_LOG, "volume"), (GW, "(env: service variables)", "environment")}
        stale = live.find(GW, "/etc/secrets", "stale")
        assert f"volume {project}_secrets_volume" in stale["detail"]
        assert stale["expected"] == f"content of image {project}-secrets"

        static = verdict([str(rotated), str(NO_AUTOMOUNT)], compose_file)
        assert static.kinds == {(GW, "/etc/secrets", "mode"), (GW, "/etc/secrets/..data", "structure"),
                                (GW, TERMINATION_LOG, "volume"), (GW, "(env: service variables)", "environment")}

        after = sorted(c.id for c in docker_client.containers.list(all=True,
                                                                    filters={"label": f"{COMPOSE_PROJECT}={project}"}))
        assert after == before  # nothing created, recreated or removed in the user's project
        app.reload()
        assert app.status == "running"
        assert docker_client.containers.list(all=True, filters={"label": "io.parity.role=probe"}) == []
    finally:
        subprocess.run(["docker", "compose", "-p", project, "-f", str(compose_file), "down", "-v", "-t", "0",
                        "--rmi", "local"], capture_output=True)
        if first_image:
            try:
                docker_client.images.remove(first_image, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
    assert docker_client.volumes.list(filters={"name": project}) == []
    assert docker_client.networks.list(names=[f"{project}_default"]) == []


@pytest.mark.live
def test_unknown_running_project_is_an_error(docker_client, tmp_path):
    from ..diffcases import ARTICLE, generate, run_diff

    compose = generate(tmp_path / "out", ARTICLE)
    result = run_diff(str(ARTICLE), "--compose", str(compose), "--live", "--project", "parity-no-such-project")
    assert (result.returncode, result.stderr.decode()) == (
        2, "parity: --project parity-no-such-project: no compose project of that name has containers on this engine\n")


# ---------------------------------------------------------------------------------------------
# A hostile compose file (issue 18): host access, time limits, a SIGKILL'd run


def _reach_into_the_host(doc: dict) -> None:
    """The article's app, given the host: its ``/`` bind-mounted, its network stack and its processes
    (``privileged`` cannot run in this test engine: tests/test_diff_static.py checks it is refused)."""
    svc = doc["services"][GW]
    # (no host name to remove: it is the pod sandbox's; the app leaves the pod's network for the host's)
    svc["volumes"].append("/:/host:ro")
    svc["network_mode"] = "host"
    svc["pid"] = "host"


def _diff_objects_created(client, since: int) -> list[str]:
    """Engine events since ``since`` for any object a parity diff labelled as its own."""
    events = client.events(since=since, until=int(time.time()) + 1, decode=True,
                           filters={"label": "io.parity.diff-owner", "event": "create"})
    return [f"{e.get('Type')} {e.get('Actor', {}).get('ID', '')[:12]}" for e in events]


@pytest.mark.live
def test_host_access_is_refused_without_the_flag_and_run_with_it(docker_client, tmp_path):
    """A compose file whose service bind-mounts the host's ``/`` and joins the host's network and
    process namespaces: ``diff --live`` refuses it before anything runs (exit 2, one line per service and
    field, then the way out, no engine object created); ``--allow-host-access`` runs it."""
    from ..diffcases import run_diff

    case = CASES["equal-article"](tmp_path)
    edit_compose(case.compose, _reach_into_the_host)
    host_bind = len(yaml.safe_load(case.compose.read_text())["services"][GW]["volumes"]) - 1  # the one appended
    since = int(time.time())
    refused = run_diff(*case.manifests, "--compose", str(case.compose), "--live")
    where = f"parity: {case.compose}: service {GW}"
    assert (refused.returncode, refused.stdout, refused.stderr.decode().splitlines()) == (2, b"", [
        f"{where}: network_mode: host: shares the host's network stack",
        f"{where}: pid: host: shares the host's processes",
        f"{where}: volumes[{host_bind}]: bind-mounts / from the host, outside the project directory",
        f"parity: {case.compose}: not run: these services reach into the host; read the file, then pass "
        "--allow-host-access to run it anyway"])
    assert _diff_objects_created(docker_client, since) == []

    allowed = verdict(case.manifests, case.compose, "--live", "--allow-host-access")
    # The app left the pod's network namespace for the host's: the network facet says so (it said nothing).
    assert (allowed.exit_code, allowed.facts()) == (1, {
        (GW, "(network)", "network", "the pod's own network namespace", "the host's network namespace")})
    assert allowed.doc["pairs"] == [{"container": GW, "service": GW}]
    assert _diff_objects_created(docker_client, since) != []  # it really ran


@pytest.mark.live
@pytest.mark.parametrize("name", sorted(DOCKERFILE_CASES))
def test_dockerfile_static_agrees_with_live(docker_client, tmp_path, name):
    """Each way of writing the data image (``tests/dockerfilecases.py``), built by the engine's own
    builder: the static diff gives the live diff's verdict, fact for fact, or says ``unknown``; where
    it says unknown because the builder here cannot build the Dockerfile, the live diff fails (exit 2)."""
    case = DOCKERFILE_CASES[name]
    inputs = [str(ARTICLE), str(NO_AUTOMOUNT)]  # a hand-written setup: no service-account mount
    compose = write_setup(tmp_path / "case", case.dockerfile, case.fill, case.build)
    static = verdict(inputs, compose)
    if not case.live_builds:
        assert static.kinds == {(GW, "/etc/secrets", "unknown")}
        result = run_diff(*inputs, "--compose", str(compose), "--live", "--format", "json")
        assert result.returncode == 2 and result.stderr.decode().startswith(f"parity: {compose}: ")
        return
    live = verdict(inputs, compose, "--live")
    if case.unknown:
        assert static.kinds == {(GW, "/etc/secrets", "unknown")}
        return
    assert (static.exit_code, static.facts()) == (live.exit_code, live.facts())


NEVER_COMPLETES = """\
services:
  init:
    image: busybox:latest
    command: ["sleep", "3600"]
  api-gateway:
    image: busybox:latest
    command: ["sleep", "3600"]
    depends_on:
      init: {condition: service_completed_successfully}
"""


def _never_completing_setup(directory: Path) -> Path:
    """The app waits for an init service to complete, and it never does: ``compose up`` waits for ever."""
    directory.mkdir(parents=True)
    (directory / "compose.yaml").write_text(NEVER_COMPLETES)
    return directory / "compose.yaml"


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain ``text`` (a compose run's config path)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and int(pid) != os.getpid():
            out.append(f"{pid}: {cmdline}")
    return out


def _owned_by(client, pid: int) -> dict[str, list[str]]:
    """Engine objects labelled as the live diff of process ``pid`` of this host."""
    label = {"label": f"io.parity.diff-owner={socket.gethostname()}:{pid}"}
    return {"containers": sorted(c.name for c in client.containers.list(all=True, filters=label)),
            "volumes": sorted(v.name for v in client.volumes.list(filters=label)),
            "networks": sorted(n.name for n in client.networks.list(filters=label)),
            "images": sorted(i.id for i in client.images.list(filters=label))}


def _eventually(check, what: str, bound: float = 120):
    """Poll ``check`` until it is true (a bound against a hang, not a timing assertion)."""
    deadline = time.monotonic() + bound
    while not (result := check()):
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)
    return result


@pytest.mark.live
def test_a_dependency_that_never_completes_times_out_and_leaves_nothing(docker_client, tmp_path):
    """``depends_on: service_completed_successfully`` on a service that never exits: ``diff --live
    --timeout 5`` stops waiting, says what it waited for in one line (exit 2), and removes the
    throw-away project, its temporary directory and every compose process."""
    from ..diffcases import ARTICLE

    compose = _never_completing_setup(tmp_path / "setup")
    (tmp_path / "tmp").mkdir()
    result = run_parity("diff", str(ARTICLE), "--compose", str(compose),
                        "--live", "--timeout", "5", env={"TMPDIR": str(tmp_path / "tmp")})
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", f"parity: {compose}: docker compose up did not finish in 5s: waiting for service init to complete "
                "(service api-gateway depends on it)\n")
    assert list((tmp_path / "tmp").iterdir()) == []
    assert _processes_mentioning(str(tmp_path / "tmp")) == []


@pytest.mark.live
def test_an_engine_that_never_answers_the_event_stream_times_out_at_the_timeout(tmp_path, proxy_dir):
    """An engine that accepts ``GET /events`` and never answers (an engine proxy hangs it): the
    start's wait for ``init`` to complete ends at ``--timeout`` with the timeout line, exit 2. On the old
    code the stream was opened in the main thread with no timeout (docker-py's ``events``), and the
    diff hung past ``--timeout`` (review 7, R-A)."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  init:\n    image: busybox:latest\n    command: [\"true\"]\n"
        "  api-gateway:\n    image: busybox:latest\n    command: [sleep, \"600\"]\n"
        "    depends_on:\n      init: {condition: service_completed_successfully}\n")
    events = rb"GET /v[0-9.]+/events[^\r\n]*\r\n(?:[^\r\n]+\r\n)*?User-Agent: docker-sdk-python"  # (parity's, not Compose's)
    with EngineProxy(proxy_dir / "e.sock", events, action="hang", headers=True) as proxy:
        diff = subprocess.Popen([sys.executable, "-m", "parity.cli", "diff", str(ARTICLE), "--compose",
                                 str(tmp_path / "compose.yaml"), "--live", "--timeout", "10"], cwd=ROOT,
                                env={**os.environ, "DOCKER_HOST": proxy.docker_host},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            stdout, stderr = diff.communicate(timeout=120)  # (a bound against a hang, not a timing assertion)
        finally:
            if diff.poll() is None:  # (hung: SIGTERM, so that it removes what it made)
                diff.terminate()
                diff.communicate(timeout=60)
        assert proxy.triggered.is_set(), "the event stream was never asked for"
    # (no "waiting for ...": init did complete, only its event never came, and the line names what is unmet)
    assert (diff.returncode, stdout, stderr.decode()) == (
        2, b"", f"parity: {tmp_path / 'compose.yaml'}: docker compose up did not finish in 10s\n")


@pytest.mark.live
def test_an_event_stream_the_engine_ends_is_said_as_the_engine_failing_not_as_a_timeout(tmp_path, proxy_dir):
    """The engine answers ``GET /events`` and ends the stream at once (an engine proxy: as when the
    engine restarts): the start's wait for ``init`` to complete says the engine failed, exit 2, at
    once. On the old code it said "docker compose up did not finish in 60s" although nothing had
    waited (review 7, R-K)."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  init:\n    image: busybox:latest\n    command: [sleep, \"1\"]\n"
        "  api-gateway:\n    image: busybox:latest\n    command: [sleep, \"600\"]\n"
        "    depends_on:\n      init: {condition: service_completed_successfully}\n")
    events = rb"GET /v[0-9.]+/events[^\r\n]*\r\n(?:[^\r\n]+\r\n)*?User-Agent: docker-sdk-python"  # (parity's, not Compose's)
    with EngineProxy(proxy_dir / "e.sock", events, action="end", headers=True) as proxy:
        result = run_parity("diff", str(ARTICLE), "--compose", str(tmp_path / "compose.yaml"), "--live",
                            "--timeout", "60", env={"DOCKER_HOST": proxy.docker_host})
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", f"parity: {tmp_path / 'compose.yaml'}: the Docker engine failed (watching the throw-away "
                "project's containers): it ended the event stream (did it restart?)\n")


@pytest.mark.live
def test_ctrl_c_while_the_start_waits_for_a_dependency_removes_everything(docker_client, tmp_path):
    """Ctrl-C while parity waits for ``init`` to complete (its container runs, the app's is created,
    not started): the wait gives up at once, the diff says ``interrupted``, exit 130, and the
    throw-away project and its temporary directory are removed (the start's waits end before the
    teardown: ``schedule.run_by_dependency``)."""
    from ..diffcases import ARTICLE

    compose = _never_completing_setup(tmp_path / "setup")
    temp = tmp_path / "tmp"
    temp.mkdir()
    diff = subprocess.Popen([sys.executable, "-m", "parity.cli", "diff", str(ARTICLE), "--compose", str(compose),
                             "--live"], env={**os.environ, "TMPDIR": str(temp)}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    label = {"label": f"io.parity.diff-owner={socket.gethostname()}:{diff.pid}", "status": "running"}
    try:
        _eventually(lambda: [c.labels.get("com.docker.compose.service") for c in docker_client.containers.list(
            filters=label)] == ["init"], "init runs")
    finally:
        diff.send_signal(signal.SIGINT)
        stdout, stderr = diff.communicate(timeout=120)
    assert (diff.returncode, stdout, stderr) == (130, b"", b"parity: interrupted\n")
    assert _owned_by(docker_client, diff.pid) == {"containers": [], "volumes": [], "networks": [], "images": []}
    assert list(temp.iterdir()) == []


STARTS_IN_ORDER = """\
services:
  init:
    image: busybox:latest
    command: ["true"]
  db:
    image: busybox:latest
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
  api-gateway:
    image: busybox:latest
    command: ["sleep", "600"]
    depends_on:
      init: {condition: service_completed_successfully}
      db: {condition: service_healthy}
"""


def _engine_time(text: str) -> datetime.datetime:
    """An engine timestamp (RFC 3339, nanoseconds, ``Z`` or an offset), to the microsecond."""
    m = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert m, text
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(f"{m.group(1)}.{(m.group(2) or '0')[:6].ljust(6, '0')}{zone}")


@pytest.mark.live
def test_compose_creates_the_throwaway_project_and_parity_starts_it_in_depends_on_order(docker_client, tmp_path,
                                                                                         proxy_dir):
    """Compose creates the throw-away project (``up --no-start``: each container is created by Compose's
    request), parity starts it through the engine (every start request is the SDK's, one per
    container), each container once its ``depends_on`` conditions hold: when the app's container
    started, the init container had exited 0 and the db's health check had passed. Read from the
    engine (``State.StartedAt``, ``FinishedAt``, ``Health.Log``) while parity's read-back is held at
    its first request. Fails on the old code, where Compose's ``up`` made the start requests."""
    (tmp_path / "compose.yaml").write_text(STARTS_IN_ORDER)
    with EngineProxy(proxy_dir / "e.sock", rb"POST /v[0-9.]+/containers/[0-9a-f]+/exec", action="hold") as proxy:
        diff = subprocess.Popen([sys.executable, "-m", "parity.cli", "diff", str(ARTICLE), str(NO_AUTOMOUNT),
                                 "--compose", str(tmp_path / "compose.yaml"), "--live"], cwd=ROOT,
                                env={**os.environ, "DOCKER_HOST": proxy.docker_host},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert proxy.triggered.wait(120), "the read-back never began"
            state = {c.labels["com.docker.compose.service"]: c.attrs["State"] for c in docker_client.containers.list(
                all=True, filters={"label": f"io.parity.diff-owner={socket.gethostname()}:{diff.pid}"})}
        finally:
            proxy.release()
            stdout, stderr = diff.communicate(timeout=120)
    assert (diff.returncode, stderr) == (1, b""), stderr.decode()
    assert b"service api-gateway" in stdout
    assert sorted(state) == ["api-gateway", "db", "init"]
    app_started = _engine_time(state["api-gateway"]["StartedAt"])
    assert (state["init"]["Status"], state["init"]["ExitCode"]) == ("exited", 0)
    assert _engine_time(state["init"]["FinishedAt"]) <= app_started
    passed = [entry for entry in state["db"]["Health"]["Log"] if entry["ExitCode"] == 0]
    assert state["db"]["Health"]["Status"] == "healthy" and passed
    assert _engine_time(passed[0]["End"]) <= app_started
    created = [agent for line, agent in proxy.agents if re.match(rb"POST /v[0-9.]+/containers/create", line)]
    started = [agent for line, agent in proxy.agents if re.match(rb"POST /v[0-9.]+/containers/[0-9a-f]+/start", line)]
    assert len(created) == 3 and not any(agent.startswith(b"docker-sdk-python") for agent in created), created
    assert len(started) == 3 and all(agent.startswith(b"docker-sdk-python") for agent in started), started


@pytest.mark.live
def test_a_container_that_exits_between_its_listing_and_its_write_probe_is_read_as_an_exited_one(docker_client,
                                                                                                 tmp_path, proxy_dir):
    """The app's container is running when the read-back lists it and has exited (``sleep 2``) when
    its write probe's exec is asked for (the request held by an engine proxy until then): the engine
    refuses the exec (409), and the container is read as an exited one is, unprobed: the diff reports
    as usual (exit 1: the hand-written setup lacks the pod's volume). On the old code it failed, exit
    2, ``the Docker engine failed (reading service api-gateway): ... is not running``; parity now
    starts a container and reads it back sooner than Compose's ``up`` returned, so one that exits
    at once is caught running more often."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api-gateway:\n    image: busybox:latest\n    command: [sh, -c, 'sleep 2']\n")
    with EngineProxy(proxy_dir / "e.sock", rb"POST /v[0-9.]+/containers/[0-9a-f]+/exec", action="hold") as proxy:
        diff = subprocess.Popen([sys.executable, "-m", "parity.cli", "diff", str(ARTICLE), str(NO_AUTOMOUNT),
                                 "--compose", str(tmp_path / "compose.yaml"), "--live"], cwd=ROOT,
                                env={**os.environ, "DOCKER_HOST": proxy.docker_host},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        label = {"label": f"io.parity.diff-owner={socket.gethostname()}:{diff.pid}", "status": "exited"}
        try:
            assert proxy.triggered.wait(120), "the write probe was never asked for"
            _eventually(lambda: docker_client.containers.list(all=True, filters=label), "the app's container exits")
        finally:
            proxy.release()
            stdout, stderr = diff.communicate(timeout=120)
    assert (diff.returncode, stderr) == (1, b""), stderr.decode()
    assert b"container api-gateway <-> service api-gateway" in stdout


FAILING_DEPENDENCY = {
    "exits non-zero": ("""\
services:
  init:
    image: busybox:latest
    command: ["sh", "-c", "exit 3"]
  api-gateway:
    image: busybox:latest
    command: ["sleep", "600"]
    depends_on:
      init: {condition: service_completed_successfully}
""", "docker compose up failed: service \"init\" didn't complete successfully: exit 3 (service api-gateway "
     "depends on it)"),
    "becomes unhealthy": ("""\
services:
  db:
    image: busybox:latest
    command: ["sleep", "600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
  api-gateway:
    image: busybox:latest
    command: ["sleep", "600"]
    depends_on:
      db: {condition: service_healthy}
""", 'docker compose up failed: dependency failed to start: service "db" is unhealthy (service api-gateway '
     "depends on it)"),
}


@pytest.mark.live
@pytest.mark.parametrize("case", sorted(FAILING_DEPENDENCY))
def test_a_dependency_that_fails_its_condition_stops_the_live_diff_in_one_line(docker_client, tmp_path, proxy_dir,
                                                                               case):
    """A dependency that exits non-zero (``service_completed_successfully``) or becomes unhealthy
    (``service_healthy``) fails the diff as it fails Compose's ``up``: one line naming the service by
    its name in the file (not the throw-away container's), Compose's reason and who depends on it,
    exit 2, nothing on stdout; the app's container is never started, and the throw-away project and
    its temporary directory are removed. On the old code the line was Compose's, mangled (``service
    "init" didn(not shown)``: its apostrophe taken for a quote) or naming the throw-away container."""
    compose, line = FAILING_DEPENDENCY[case]
    (tmp_path / "compose.yaml").write_text(compose)
    (tmp_path / "tmp").mkdir()
    with EngineProxy(proxy_dir / "e.sock", rb"(?!)", watch_only=True) as proxy:  # (it only watches)
        result = run_parity("diff", str(ARTICLE), str(NO_AUTOMOUNT), "--compose", str(tmp_path / "compose.yaml"),
                            "--live", env={"DOCKER_HOST": proxy.docker_host, "TMPDIR": str(tmp_path / "tmp")})
    assert (result.returncode, result.stdout, result.stderr.decode()) == (
        2, b"", f"parity: {tmp_path / 'compose.yaml'}: {line}\n")
    starts = [req for req, _ in proxy.agents if re.match(rb"POST /v[0-9.]+/containers/[0-9a-f]+/start", req)]
    assert len(starts) == 1, starts  # the dependency's: the app's container never started
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.live
def test_an_optional_dependency_that_fails_is_passed_over_as_compose_does(docker_client, tmp_path):
    """``required: false``: the dependency exits non-zero, and the app starts all the same (Compose
    warns and goes on): the diff reads it back and reports as usual (exit 1: the hand-written setup
    lacks the pod's volume)."""
    compose, _ = FAILING_DEPENDENCY["exits non-zero"]
    (tmp_path / "compose.yaml").write_text(compose.replace("service_completed_successfully}",
                                                           "service_completed_successfully, required: false}"))
    result = run_parity("diff", str(ARTICLE), str(NO_AUTOMOUNT), "--compose", str(tmp_path / "compose.yaml"), "--live")
    assert (result.returncode, result.stderr) == (1, b""), result.stderr.decode()
    assert b"container api-gateway <-> service api-gateway" in result.stdout


@pytest.mark.live
@pytest.mark.parametrize("next_run", ["diff --live", "down", "up"])
def test_a_sigkilled_live_diff_leaves_what_the_next_run_removes(docker_client, tmp_path, next_run):
    """kill -9 of ``parity diff --live`` while its throw-away project is up (waiting on a dependency):
    its compose processes die with it; its containers, network and temporary directory are left,
    labelled and named with its pid; the next ``diff --live``, ``up`` or ``down`` removes them."""
    from ..diffcases import ARTICLE
    from .test_faults_live import renamed

    compose = _never_completing_setup(tmp_path / "setup")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {"TMPDIR": str(temp), "PARITY_STATE_DIR": str(tmp_path / "state")}
    victim = subprocess.Popen([sys.executable, "-m", "parity.cli", "diff", str(ARTICLE), "--compose", str(compose),
                               "--live", "--timeout", "600"], env={**os.environ, **env}, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _eventually(lambda: len(_owned_by(docker_client, victim.pid)["containers"]) == 2, "the project is up")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    _eventually(lambda: _processes_mentioning(str(temp)) == [], "no compose process survives", bound=30)
    left = _owned_by(docker_client, victim.pid)
    assert len(left["containers"]) == 2 and len(left["networks"]) == 1
    (leftover_dir,) = temp.iterdir()
    assert leftover_dir.name.startswith(f"parity-diff-{victim.pid}-")

    if next_run == "diff --live":
        case = CASES["equal-article"](tmp_path / "next")
        result = run_parity("diff", *case.manifests, "--compose", str(case.compose), "--live", env=env)
    elif next_run == "up":
        manifests = renamed(ARTICLE, tmp_path / "article.yaml", suffix="-sweep")
        result = run_parity("up", str(manifests), env=env)
        run_parity("down", str(manifests), env=env)
    else:
        result = run_parity("down", "--workload", "pod/parity-difftest-nothing", env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert _owned_by(docker_client, victim.pid) == {"containers": [], "volumes": [], "networks": [], "images": []}
    assert list(temp.iterdir()) == []


@pytest.mark.live
def test_the_write_probe_runs_beside_the_reads_and_its_file_is_never_read_back(docker_client, tmp_path, proxy_dir):
    """In a throw-away project each running container's write probe (one exec) is created before its
    paths are read and runs while they are (issue 17: it ran after them, 60-70 ms more a run). Its
    file, in a mount it could write, is never read back, whether an archive catches it or not: here
    one is there before the probe (the data image puts it at the top of a writable volume), the probe
    removes it, and only the two writable mounts are reported. On the old code the probe was created
    after the archives and the file showed as an extra one."""
    case = case_writable_mount(tmp_path)
    add_to_payload(case.compose, f"parity/volumes/secrets/{LIVE_PROBE}", b"")
    with EngineProxy(proxy_dir / "e.sock", rb"(?!)", watch_only=True) as proxy:  # (a trigger that matches nothing: it only watches)
        result = run_parity("diff", *case.manifests, "--compose", str(case.compose), "--live", "--format", "json",
                            env={"DOCKER_HOST": proxy.docker_host})
    assert (result.returncode, result.stderr) == (1, b""), result.stderr.decode()
    assert {(d["container"], d["path"], d["kind"]) for d in json.loads(result.stdout)["differences"]} == {
        (GW, "/etc/secrets", "writable"), (GW, SA, "writable")}
    asked = [m.groups() for m in map(re.compile(rb"^\S+ /v[0-9.]+/containers/([0-9a-f]+)/(exec|archive)\b").match,
                                     proxy.seen) if m]
    assert [kind for _, kind in asked] == [b"exec", b"archive", b"archive"], asked  # the probe first
    assert len({ctr for ctr, _ in asked}) == 1  # (the app's container: one probe, one archive per mount)


@pytest.mark.live
def test_live_diff_shows_its_steps_on_a_terminal_only(docker_client, tmp_path):
    """A live diff takes seconds: on a terminal it says what it is doing; piped, stderr stays empty."""
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", str(ARTICLE), "-o", str(out), "-p", unique_name("parity-test-progress")).returncode == 0
    args = ["diff", str(ARTICLE), "--compose", str(out / "compose.yaml"), "--live"]
    code, stdout, shown = run_on_a_terminal(*args)
    assert code == 0, stdout + shown
    steps = [line.split(" (")[0] for line in shown.decode().splitlines()]
    assert [s.split(" parity-diff-")[0] for s in steps] == [
        "parity: building and starting the throw-away project", "parity: reading 1 container(s) back from project",
        "parity: removing the throw-away project"]
    piped = run_parity(*args)
    assert (piped.returncode, piped.stderr) == (0, b"")


COMPOSE_SECRETS_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  automountServiceAccountToken: false  # the compose file is hand-written: no service-account mount
  containers:
    - name: app
      image: busybox:latest
      volumeMounts: [{name: db, mountPath: /run/secrets}]
  volumes: [{name: db, secret: {secretName: db, defaultMode: 0400}}]
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {db: "not-a-real-password\\n"}
"""

COMPOSE_SECRETS = """\
services:
  app:
    build: .
    image: parity-difftest-secrets-{tag}
    command: ["sleep", "600"]
    secrets: [db, {{source: db, target: /etc/db-pass}}]
    configs: [app, {{source: app, target: /etc/app.conf, mode: 0440}}]
secrets:
  db: {{file: ./db.txt}}
configs:
  app: {{file: ./app.conf}}
"""


@pytest.mark.live
def test_compose_secrets_and_configs_read_statically_as_live(docker_client, tmp_path):
    """Compose's own secrets:/configs: are read-only binds of their files (their host mode: mode/uid/gid
    do not apply to a bind), at /run/secrets/NAME and /NAME; the engine makes the missing /run/secrets
    0755. Static and live say the same, fact for fact (issue 15)."""
    (tmp_path / "pod.yaml").write_text(COMPOSE_SECRETS_POD)
    (tmp_path / "db.txt").write_text("not-a-real-password\n")
    os.chmod(tmp_path / "db.txt", 0o600)
    (tmp_path / "app.conf").write_text("k=v\n")
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\n")
    (tmp_path / "compose.yaml").write_text(COMPOSE_SECRETS.format(tag=secrets.token_hex(4)))

    def facts(*extra: str) -> list[tuple[str, str, str, str]]:
        result = run_parity("diff", str(tmp_path / "pod.yaml"), "--compose", str(tmp_path / "compose.yaml"),
                            "--format", "json", *extra)
        assert result.returncode == 1, result.stderr.decode()
        return sorted((d["kind"], d["path"], str(d["expected"]), str(d["actual"]))
                      for d in json.loads(result.stdout)["differences"])

    static = facts()
    assert [(k, p) for k, p, _, _ in static] == [
        ("environment", "(env: service variables)"),  # (a hand-written file: no KUBERNETES_* variables)
        ("mode", "/run/secrets"), ("mode", "/run/secrets/db"), ("not-hidden", "/run/secrets"),
        ("structure", "/run/secrets/..data"), ("volume", "/dev/termination-log")]  # (a hand-written file: no termination log)
    assert facts("--live") == static
