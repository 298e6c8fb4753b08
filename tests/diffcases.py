"""Compose setups for the ``parity diff`` tests, each differing from the cluster in one known way.

Every setup starts from a real ``parity k8s-to-docker`` output (or the article's hand-written one)
and changes one thing, the way a user or a stale checkout would. The static tests
(``tests/test_diff_static.py``) and the live tests (``tests/live/test_diff_live.py``) share them, so
both modes are held to the same expectations. Nothing here needs an engine.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from .conftest import ROOT, deployment, run_parity

ARTICLE = ROOT / "manifests" / "api-gateway"
#: Given with the article's manifests for hand-written setups (no service-account mount): the default
#: ServiceAccount without token automounting, so the pod has no kube-api-access-* volume.
NO_AUTOMOUNT = ROOT / "tests" / "fixtures" / "no-automount"
RICHER = ROOT / "manifests" / "richer"
SA = "/var/run/secrets/kubernetes.io/serviceaccount"  # the mount the API server adds (kubelet-model §7.5)
TERMINATION_LOG = "/dev/termination-log"  # the default terminationMessagePath: the kubelet binds a file there

OLD_KEY = "tenant1-api-key-3f9a1c"
ROTATED_KEY = "tenant1-ROTATED-9d41e7"
EXTRA_FILE_VALUE = "leftover-debug-token-5521"
#: Every secret value any setup here puts in a manifest, a build context or an image. No diff run
#: may print one (``run_diff`` checks stdout and stderr of each).
ENV_PASSWORD = "envpass-4c1d9e77"  # the env case's Secret value (tests/test_diff_env.py)
ENV_PASSWORD_CHANGED = "envpass-CHANGED-0b9e21"
SECRET_VALUES = [OLD_KEY, "tenant2-api-key-7b2e4d", "tenant3-api-key-c81f0a", ROTATED_KEY, EXTRA_FILE_VALUE,
                 "s3cr3t-db-password", "ak_live_1234567890", "not-a-real-one", ENV_PASSWORD, ENV_PASSWORD_CHANGED]

DIFF_KEYS = {"container", "path", "kind", "expected", "actual", "detail"}
DOC_KEYS = {"format", "workload", "compose", "mode", "equal", "pairs", "differences", "notes"}
MODE_SPECIFIC = {"stale", "unknown"}


def sha12(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Running the command


def run_diff(*args: str) -> subprocess.CompletedProcess:
    """``parity diff ARGS`` through the real entry point; fails the test if any secret value shows."""
    result = run_parity("diff", *args)
    for value in SECRET_VALUES:
        for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            assert value.encode() not in text, f"secret value {value[:6]}... printed on {stream}"
    return result


@dataclass
class Verdict:
    exit_code: int
    doc: dict

    @property
    def kinds(self) -> set[tuple[str, str, str]]:
        """(container, path, kind) of every difference."""
        return {(d["container"], d["path"], d["kind"]) for d in self.doc["differences"]}

    def facts(self, drop: set[str] = frozenset()) -> set[tuple[str, str, str, str, str]]:
        """(container, path, kind, expected, actual): what a reader learns, minus the wording of details."""
        return {(d["container"], d["path"], d["kind"], d["expected"], d["actual"]) for d in self.doc["differences"]
                if d["kind"] not in drop}

    def find(self, container: str, path: str, kind: str) -> dict:
        (d,) = [d for d in self.doc["differences"] if (d["container"], d["path"], d["kind"]) == (container, path, kind)]
        return d


def verdict(manifests: list[str], compose: Path, *args: str) -> Verdict:
    """``parity diff --format json``: exit code and parsed document (exit 0 or 1 only)."""
    result = run_diff(*manifests, "--compose", str(compose), "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr.decode()
    assert result.stderr == b"", result.stderr.decode()
    doc = json.loads(result.stdout)
    assert doc["equal"] is (result.returncode == 0)
    keys = [(d["container"], d["path"], d["kind"]) for d in doc["differences"]]
    assert len(keys) == len(set(keys)), f"a difference reported twice: {keys}"
    return Verdict(result.returncode, doc)


# ---------------------------------------------------------------------------------------------
# Building setups


@dataclass
class Case:
    """A compose setup, the manifests it is checked against, and the differences it must show."""

    manifests: list[str]
    compose: Path
    expected: set[tuple[str, str, str]]  # (container, path, kind), in both modes
    args: tuple[str, ...] = ()
    static_only: set[tuple[str, str, str]] = field(default_factory=set)  # e.g. "unknown"


def manifests_copy(dest: Path, src: Path = ARTICLE, edit: Callable[[str], str] = lambda text: text) -> Path:
    """Copy a manifest directory, passing every file's text through ``edit``."""
    dest.mkdir(parents=True)
    for f in sorted(src.iterdir()):
        (dest / f.name).write_text(edit(f.read_text()))
    return dest


def generate(out: Path, *manifests: str | Path) -> Path:
    """``parity k8s-to-docker`` into ``out``; the path of its compose.yaml."""
    import secrets

    # A project of the test's own (-p): a user's running example keeps its objects.
    result = run_parity("k8s-to-docker", *map(str, manifests), "-o", str(out), "--format", "json",
                        "-p", f"parity-test-{secrets.token_hex(4)}")
    assert result.returncode == 0, result.stderr.decode()
    return out / "compose.yaml"


def edit_compose(path: Path, change: Callable[[dict], None]) -> Path:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def add_to_payload(compose: Path, name: str, data: bytes, mode: int = 0o644) -> None:
    """Rebuild the data image's payload tar with one more file (as a stale or hand-edited context would)."""
    payload = compose.parent / "data" / "payload.tar"
    with tarfile.open(payload) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    with tarfile.open(payload, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, content in members:
            tar.addfile(member, io.BytesIO(content) if content is not None else None)
        extra = tarfile.TarInfo(name)
        extra.size, extra.mode = len(data), mode
        tar.addfile(extra, io.BytesIO(data))


def with_fs_group(pod: str, fs_group: bool) -> str:
    """The article's pod with ``defaultMode: 0400``, and with or without ``fsGroup: 2000``."""
    pod = pod.replace("        secretName: api-gateway-secrets",
                      "        secretName: api-gateway-secrets\n        defaultMode: 0400")
    if fs_group:
        pod = pod.replace("spec:\n  containers:", "spec:\n  securityContext:\n    fsGroup: 2000\n  containers:")
    return pod


def with_sub_path(pod: str) -> str:
    """The article's pod, also mounting one key as a file (subPath) at /etc/tenant1-key."""
    return pod.replace("          readOnly: true",
                       "          readOnly: true\n        - name: secrets\n          mountPath: /etc/tenant1-key\n"
                       "          subPath: tenant1")


def write_article_setup(directory: Path, app_image: str) -> Path:
    """The article's own compose setup (seed-data-only-containers.md), verbatim but for the app image:
    flat files COPY'd into a data image, a named volume, ``volumes_from`` without ``:ro``."""
    directory.mkdir(parents=True)
    for n, value in ((1, OLD_KEY), (2, "tenant2-api-key-7b2e4d"), (3, "tenant3-api-key-c81f0a")):
        (directory / f"tenant{n}-secret").write_text(value)
        (directory / f"tenant{n}-secret").chmod(0o644)
    (directory / "Dockerfile").write_text(
        "FROM busybox\n\n"
        "# Copy the secrets file into the container\n"
        "COPY tenant1-secret /etc/secrets/tenant1\n"
        "COPY tenant2-secret /etc/secrets/tenant2\n"
        "COPY tenant3-secret /etc/secrets/tenant3\n\n"
        "# Declare a volume at the location of the secrets\n"
        "VOLUME /etc/secrets\n")
    compose = directory / "docker-compose.yml"
    compose.write_text(
        "version: '3.8'\n"
        "services:\n"
        "  secrets:\n"
        "    build: .\n"
        "    volumes:\n"
        "      - secrets_volume:/etc/secrets\n"
        "  api-gateway:\n"
        f"    image: {app_image}\n"
        "    volumes_from:\n"
        "      - secrets\n"
        "    ports:\n"
        '      - "80:80"\n'
        "    container_name: api-gateway\n\n"
        "volumes:\n"
        "  secrets_volume:\n")
    return compose


# ---------------------------------------------------------------------------------------------
# The cases: one known difference each (the live tests run the same builders)

GW = "api-gateway"


def case_equal_article(tmp: Path) -> Case:
    return Case([str(ARTICLE)], generate(tmp / "out", ARTICLE), set())


def case_equal_richer(tmp: Path) -> Case:
    return Case([str(RICHER)], generate(tmp / "out", RICHER), set())


def case_rotated_secret(tmp: Path) -> Case:
    """Generated before a Secret rotation, checked against the rotated Secret."""
    compose = generate(tmp / "out", ARTICLE)
    new = manifests_copy(tmp / "new", edit=lambda t: t.replace(OLD_KEY, ROTATED_KEY))
    return Case([str(new)], compose, {(GW, "/etc/secrets/tenant1", "content")})


def case_default_mode(tmp: Path) -> Case:
    """Generated before ``defaultMode: 0400`` was set on the volume."""
    compose = generate(tmp / "out", ARTICLE)
    new = manifests_copy(tmp / "new", edit=lambda t: with_fs_group(t, fs_group=False))
    return Case([str(new)], compose, {(GW, f"/etc/secrets/tenant{n}", "mode") for n in (1, 2, 3)})


def _without_tenant3(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "tenant3" not in line) + "\n"


def case_removed_key_extra(tmp: Path) -> Case:
    """Generated before key tenant3 was removed from the Secret: the setup still has it."""
    compose = generate(tmp / "out", ARTICLE)
    new = manifests_copy(tmp / "new", edit=_without_tenant3)
    return Case([str(new)], compose, {(GW, "/etc/secrets/tenant3", "extra")})


def case_removed_key_missing(tmp: Path) -> Case:
    """Generated from a Secret that lacks tenant3, checked against the one that has it."""
    old = manifests_copy(tmp / "old", edit=_without_tenant3)
    return Case([str(ARTICLE)], generate(tmp / "out", old), {(GW, "/etc/secrets/tenant3", "missing")})


def case_writable_mount(tmp: Path) -> Case:
    """The generated compose file with ``read_only`` dropped from the app's volume."""
    compose = generate(tmp / "out", ARTICLE)

    def drop_read_only(doc: dict) -> None:
        for v in doc["services"][GW]["volumes"]:
            v.pop("read_only")

    edit_compose(compose, drop_read_only)
    return Case([str(ARTICLE)], compose, {(GW, "/etc/secrets", "writable"), (GW, SA, "writable")})


def case_termination_log_dropped(tmp: Path) -> Case:
    """The generated compose file without the app's termination-message bind (an edited or older file):
    the kubelet binds a writable file at /dev/termination-log; here there is none."""
    compose = generate(tmp / "out", ARTICLE)

    def drop(doc: dict) -> None:
        svc = doc["services"][GW]
        svc["volumes"] = [v for v in svc["volumes"] if v["target"] != TERMINATION_LOG]

    edit_compose(compose, drop)
    return Case([str(ARTICLE)], compose, {(GW, TERMINATION_LOG, "volume")})


def case_termination_log_read_only(tmp: Path) -> Case:
    """The generated compose file with the app's termination-message bind made read-only."""
    compose = generate(tmp / "out", ARTICLE)

    def read_only(doc: dict) -> None:
        for v in doc["services"][GW]["volumes"]:
            if v["target"] == TERMINATION_LOG:
                v["read_only"] = True

    edit_compose(compose, read_only)
    return Case([str(ARTICLE)], compose, {(GW, TERMINATION_LOG, "volume")})


def case_missing_fs_group(tmp: Path) -> Case:
    """Generated from the pod without fsGroup, checked against the pod with ``fsGroup: 2000``: files
    keep 0400 root:root (the kubelet gives 0440 root:2000) and the process lacks group 2000."""
    without = manifests_copy(tmp / "without", edit=lambda t: with_fs_group(t, fs_group=False))
    with_ = manifests_copy(tmp / "with", edit=lambda t: with_fs_group(t, fs_group=True))
    expected = {(GW, p, k) for p in ["/etc/secrets", "/etc/secrets/..<timestamp>"]
                + [f"/etc/secrets/tenant{n}" for n in (1, 2, 3)] for k in ("mode", "owner")}
    # The service-account volume too: its root and timestamped directory get the group and setgid, its
    # files the group, and the token 0640 (0600 with an fsGroup, then the group's read bit).
    expected |= {(GW, p, k) for p in [SA, f"{SA}/..<timestamp>", f"{SA}/token"] for k in ("mode", "owner")}
    expected |= {(GW, f"{SA}/{f}", "owner") for f in ("ca.crt", "namespace")}
    return Case([str(with_)], generate(tmp / "out", without), expected | {(GW, "(process)", "owner")})


def case_extra_file_in_image(tmp: Path) -> Case:
    """The data image's payload rebuilt with one more file at the top of the volume."""
    compose = generate(tmp / "out", ARTICLE)
    add_to_payload(compose, "parity/volumes/secrets/leftover.txt", EXTRA_FILE_VALUE.encode())
    return Case([str(ARTICLE)], compose, {(GW, "/etc/secrets/leftover.txt", "extra")})


def case_unpaired(tmp: Path) -> Case:
    """The app service renamed: neither the container nor the service finds its partner."""
    compose = generate(tmp / "out", ARTICLE)
    edit_compose(compose, lambda doc: doc["services"].__setitem__("gateway", doc["services"].pop(GW)))
    return Case([str(ARTICLE)], compose, {(GW, "-", "unpaired-container"), ("-", "-", "unpaired-service")})


def case_unpaired_mapped(tmp: Path) -> Case:
    """The same renamed service, paired with ``--map``: equal."""
    unpaired = case_unpaired(tmp)
    return Case(unpaired.manifests, unpaired.compose, set(), ("--map", f"{GW}=gateway"))


def case_sub_path_is_a_directory(tmp: Path) -> Case:
    """A subPath file mount whose host source became a directory: a dir where a file belongs."""
    manifests = manifests_copy(tmp / "m", edit=with_sub_path)
    compose = generate(tmp / "out", manifests)
    (bind,) = [v["source"] for v in yaml.safe_load(compose.read_text())["services"][GW]["volumes"]
               if v["type"] == "bind" and v["target"] != TERMINATION_LOG]
    source = compose.parent / bind
    source.unlink()
    source.mkdir()
    return Case([str(manifests)], compose, {(GW, "/etc/tenant1-key", "type")})


def case_article(tmp: Path, app_image: str = "parity-difftest-api-gateway:latest") -> Case:
    """The article's compose setup: writable mount (``volumes_from`` has no ``:ro``, and Compose would
    drop it anyway), a 0755 root instead of the kubelet's 1777, no ``..data`` structure."""
    compose = write_article_setup(tmp / "article", app_image)
    # Without NO_AUTOMOUNT the setup also lacks the service-account mount: statically "unknown" (the
    # app image is built elsewhere), live "missing"; the not-hidden case pins that difference.
    return Case([str(ARTICLE), str(NO_AUTOMOUNT)], compose, {
        (GW, "/etc/secrets", "writable"), (GW, "/etc/secrets", "mode"), (GW, "/etc/secrets/..data", "structure"),
        (GW, TERMINATION_LOG, "volume"), (GW, SERVICE_VARIABLES, "environment")})


def case_prebuilt_data_image(tmp: Path, image: str = "parity-difftest-prebuilt:latest") -> Case:
    """The generated setup with the data service using an image built elsewhere (no ``build``)."""
    compose = generate(tmp / "out", ARTICLE)

    def prebuilt(doc: dict) -> None:
        data = doc["services"]["parity-data"]
        del data["build"]
        data["image"] = image

    edit_compose(compose, prebuilt)
    # The service-account files are in that image too: just as unknown statically.
    return Case([str(ARTICLE)], compose, set(), static_only={(GW, "/etc/secrets", "unknown"), (GW, SA, "unknown")})


def case_not_hidden(tmp: Path) -> Case:
    """The app mounts nothing at the secret path and its image has files there: the cluster would hide
    them behind the volume; here the app sees the image's own files and none of the Secret's."""
    app = tmp / "app"
    app.mkdir(parents=True)
    (app / "baked").write_text("from the image")
    (app / "Dockerfile").write_text("FROM busybox:latest\nCOPY baked /etc/secrets/baked\n")
    compose = tmp / "compose.yaml"
    compose.write_text(f"services:\n  {GW}:\n    build: ./app\n    command: [sh, -c, 'sleep 600']\n")
    missing = {(GW, f"/etc/secrets/{t}", "missing") for t in ("tenant1", "tenant2", "tenant3")}
    missing |= {(GW, p, "missing") for p in (SA, f"{SA}/ca.crt", f"{SA}/namespace", f"{SA}/token")}
    missing.add((GW, f"{SA}/..data", "structure"))
    return Case([str(ARTICLE)], compose, missing | {
        (GW, "/etc/secrets", "not-hidden"), (GW, "/etc/secrets", "mode"), (GW, "/etc/secrets/baked", "extra"),
        (GW, "/etc/secrets/..data", "structure"), (GW, TERMINATION_LOG, "volume"),
        (GW, SERVICE_VARIABLES, "environment")})


NESTED_POD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: app}
data: {a.conf: "x=1\\n"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: sub}
data: {b.conf: "y=2\\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: nest}
spec:
  containers:
    - name: app
      image: busybox:latest
      command: ["sh", "-c", "while true; do sleep 3600; done"]
      volumeMounts:
        - {name: sub, mountPath: /etc/app/sub}
        - {name: app, mountPath: /etc/app}
  volumes:
    - {name: sub, configMap: {name: sub}}
    - {name: app, configMap: {name: app}}
"""


def case_nested_mount_listed_before_its_parent(tmp: Path) -> Case:
    """A mount nested in another, listed first: the engine mounts parents first whatever the order,
    so the nested volume's root (not the parent's mount-point directory) is what the app sees."""
    manifests = tmp / "m"
    manifests.mkdir(parents=True)
    (manifests / "pod.yaml").write_text(NESTED_POD)
    return Case([str(manifests)], generate(tmp / "out", manifests), set())


# ---------------------------------------------------------------------------------------------
# Process facets: identity, capabilities, privileges, limits (issue 13; parity/facets.py)

#: A pod whose container sets every facet: runAsUser/runAsGroup, supplementalGroups, capabilities,
#: no_new_privs, memory and CPU limits (251m: a float32 `cpus: 0.251` is NanoCPUs 250999984).
FACETS_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: facets}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000, 5000]}
  containers:
    - name: app
      image: busybox:latest
      command: ["sh", "-c", "while true; do sleep 3600; done"]
      securityContext:
        allowPrivilegeEscalation: false
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, CHOWN]}
      resources: {limits: {memory: 64Mi, cpu: 251m}}
"""


def _service_case(tmp: Path, pod: str, change: Callable[[dict], None], expected: set[tuple[str, str, str]]) -> Case:
    """The generated setup of the manifest ``pod`` with one facet changed in the service ``app``."""
    manifests = tmp / "m"
    manifests.mkdir(parents=True)
    (manifests / "pod.yaml").write_text(pod)
    compose = generate(tmp / "out", manifests)
    edit_compose(compose, lambda doc: change(doc["services"]["app"]))
    return Case([str(manifests)], compose, expected)


def _facets_case(tmp: Path, change: Callable[[dict], None], expected: set[tuple[str, str, str]]) -> Case:
    """The generated setup of ``FACETS_POD`` with one facet changed in the app's service."""
    return _service_case(tmp, FACETS_POD, change, expected)


def _pop(*keys: str) -> Callable[[dict], None]:
    return lambda svc: [svc.pop(k) for k in keys]


def case_facets_equal(tmp: Path) -> Case:
    return _facets_case(tmp, lambda svc: None, set())


def case_identity_dropped(tmp: Path) -> Case:
    """``user`` and ``group_add`` gone: the image's user, no supplementary groups."""
    return _facets_case(tmp, _pop("user", "group_add"), {("app", "(user)", "identity"), ("app", "(groups)", "identity")})


def case_capabilities_dropped(tmp: Path) -> Case:
    """``cap_add``/``cap_drop`` gone: Docker's default 14 instead of NET_BIND_SERVICE and CHOWN."""
    return _facets_case(tmp, _pop("cap_add", "cap_drop"), {("app", "(capabilities)", "capabilities")})


def case_no_new_privileges_dropped(tmp: Path) -> Case:
    return _facets_case(tmp, _pop("security_opt"), {("app", "(no-new-privileges)", "privileges")})


def case_limits_dropped(tmp: Path) -> Case:
    return _facets_case(tmp, _pop("mem_limit", "cpu_quota", "cpu_period"),
                        {("app", "(memory limit)", "limits"), ("app", "(cpu limit)", "limits")})


def case_cpus_as_a_float32(tmp: Path) -> Case:
    """The CPU limit written as Compose's ``cpus: 0.251``: a float32, NanoCPUs 250999984, so a CFS quota
    of 25099 µs where the kubelet sets 25100."""
    def cpus(svc: dict) -> None:
        _pop("cpu_quota", "cpu_period")(svc)
        svc["cpus"] = 0.251

    return _facets_case(tmp, cpus, {("app", "(cpu limit)", "limits")})


def _richer_case(tmp: Path, change: Callable[[dict], None], expected: set[tuple[str, str, str]]) -> Case:
    compose = generate(tmp / "out", RICHER)
    edit_compose(compose, lambda doc: change(doc["services"]))
    return Case([str(RICHER)], compose, expected)


def case_init_not_waited_for(tmp: Path) -> Case:
    """The app no longer waits for the init container: Compose starts both at once."""
    return _richer_case(tmp, lambda services: services["gateway"]["depends_on"].pop("check-config"),
                        {("gateway", "(start after check-config)", "lifecycle")})


def case_init_only_started(tmp: Path) -> Case:
    """The app waits for the init container to start, not to complete."""
    def started(services: dict) -> None:
        services["gateway"]["depends_on"]["check-config"]["condition"] = "service_started"

    return _richer_case(tmp, started, {("gateway", "(start after check-config)", "lifecycle")})


#: Two containers of one pod: in the cluster they share the pod's network namespace (localhost).
NET_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: net}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 0
  containers:
    - {name: app, image: busybox:latest, command: ["sh", "-c", "while true; do sleep 3600; done"]}
    - {name: side, image: busybox:latest, command: ["sh", "-c", "while true; do sleep 3600; done"]}
"""


def _net_case(tmp: Path, change: Callable[[dict], None], expected: set[tuple[str, str, str]]) -> Case:
    manifests = tmp / "m"
    manifests.mkdir(parents=True)
    (manifests / "pod.yaml").write_text(NET_POD)
    compose = generate(tmp / "out", manifests)
    edit_compose(compose, lambda doc: change(doc["services"]))
    return Case([str(manifests)], compose, expected)


def case_network_joined_by_hand(tmp: Path) -> Case:
    """The sidecar joins the app's network namespace (``network_mode: service:app``, as a hand-written
    setup would): the same namespace as the app's, wherever that one is (its own, or the sandbox's)."""
    def join(services: dict) -> None:
        services["side"]["network_mode"] = "service:app"
        services["side"].pop("hostname", None)  # Docker takes a host name only on the namespace's owner

    return _net_case(tmp, join, set())


def case_network_not_shared(tmp: Path) -> Case:
    """The sidecar out of the pod's network namespace: its own, localhost is not the app's."""
    return _net_case(tmp, lambda services: services["side"].pop("network_mode", None),
                     {("side", "(network)", "network")})


# ---------------------------------------------------------------------------------------------
# The health-check facet (issue 13: lifecycle; parity/docker/health.py)

#: A pod whose readinessProbe becomes the app's health check (its liveness probe is said, not run).
HEALTH_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  automountServiceAccountToken: false
  containers:
    - name: app
      image: busybox:latest
      command: ["sh", "-c", "while true; do sleep 3600; done"]
      env: [{name: MARK, value: /tmp/ready}]
      readinessProbe: {exec: {command: [test, -e, "$(MARK)"]}, periodSeconds: 5, failureThreshold: 4}
      livenessProbe: {exec: {command: ["true"]}}
"""


def _health_case(tmp: Path, change: Callable[[dict], None], expected: set[tuple[str, str, str]]) -> Case:
    """The generated setup of ``HEALTH_POD`` with the app's health check changed."""
    return _service_case(tmp, HEALTH_POD, change, expected)


def case_health_check_equal(tmp: Path) -> Case:
    return _health_case(tmp, lambda svc: None, set())


def case_health_check_dropped(tmp: Path) -> Case:
    return _health_case(tmp, _pop("healthcheck"), {("app", "(health check)", "health")})


def case_health_check_retimed(tmp: Path) -> Case:
    """The interval of the generated health check changed by hand: the probe's periodSeconds is 5."""
    return _health_case(tmp, lambda svc: svc["healthcheck"].update(interval="30s"),
                        {("app", "(health check)", "health")})


# ---------------------------------------------------------------------------------------------
# Whole apps: every workload of the input against one compose project (issue 12)

#: Two workloads that both have a container named ``app``: their services are ``api_app`` and
#: ``web_app`` (``plan.service_key``), and so are the containers in the diff's report.
APP = """\
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: shop}
stringData: {password: not-a-real-one}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {mode: fast}
---
""" + deployment("api", """\
      containers:
        - name: app
          image: busybox:latest
          command: [sleep, "3600"]
          volumeMounts: [{name: creds, mountPath: /etc/creds, readOnly: true}]
      volumes: [{name: creds, secret: {secretName: creds, defaultMode: 0440}}]
""", namespace="shop") + """\
---
""" + deployment("web", """\
      containers:
        - name: app
          image: busybox:latest
          command: [sleep, "3600"]
          volumeMounts: [{name: settings, mountPath: /etc/settings}]
        - name: sidecar
          image: busybox:latest
          command: [sleep, "3600"]
      volumes: [{name: settings, configMap: {name: settings}}]
""", namespace="shop")


def app_manifests(tmp: Path) -> Path:
    path = tmp / "app.yaml"
    tmp.mkdir(parents=True, exist_ok=True)
    path.write_text(APP)
    return path


def case_app_equal(tmp: Path) -> Case:
    """A whole app's own ``k8s-to-docker`` output: every container paired with its service, equal."""
    manifests = app_manifests(tmp)
    return Case([str(manifests)], generate(tmp / "out", manifests), set())


def _app_edited(doc: dict) -> None:
    doc["services"].pop("web_sidecar")
    doc["services"]["cache"] = {"image": "busybox:latest", "command": ["sleep", "3600"]}
    doc["services"]["web_app"]["volumes"][0]["read_only"] = False


def case_app_edited(tmp: Path) -> Case:
    """One workload's sidecar service removed, a service of no workload added, the other container of
    that workload given a writable mount: each reported once, against the right container."""
    manifests = app_manifests(tmp)
    compose = edit_compose(generate(tmp / "out", manifests), _app_edited)
    return Case([str(manifests)], compose, {("web_sidecar", "-", "unpaired-container"),
                                            ("-", "-", "unpaired-service"),
                                            ("web_app", "/etc/settings", "writable")})


def _app_hand_named(doc: dict) -> None:
    services = doc["services"]
    services["sidecar"] = services.pop("web_sidecar")
    # A sandbox of the user's own, holding the pod's network namespace (as the kubelet's pause container).
    services["web_sandbox"] = {"image": "busybox:latest", "command": ["sleep", "3600"]}
    for name in ("web_app", "sidecar"):
        services[name].pop("hostname", None)  # (parity's pod sandbox holds it: none on the containers)
        services[name]["network_mode"] = "service:web_sandbox"
    services["forwarder"] = {"image": "busybox:latest", "command": ["sleep", "3600"],
                             "labels": {"io.parity.role": "forwarder"}}


def case_app_mapped(tmp: Path) -> Case:
    """A service named by hand, paired with ``--map``; a sandbox the app's containers join
    (``network_mode: service:...``) and a service labelled with a parity role are helpers, not unpaired."""
    manifests = app_manifests(tmp)
    compose = edit_compose(generate(tmp / "out", manifests), _app_hand_named)
    return Case([str(manifests)], compose, set(), ("--map", "web_sidecar=sidecar"))


# ---------------------------------------------------------------------------------------------
# The environment facet (parity/envfacet.py): one pod whose variables come from everywhere

ENV_POD = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData: {{password: {ENV_PASSWORD}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{LOG_LEVEL: info, MODE: fast, TEMPLATE: "cost: $5 or $$HOME"}}
---
apiVersion: v1
kind: Pod
metadata: {{name: envpod}}
spec:
  containers:
    - name: app
      image: busybox:latest
      command: ["sh", "-c", "while true; do sleep 3600; done"]
      envFrom: [{{configMapRef: {{name: settings}}}}]
      env:
        - {{name: DATABASE_PASSWORD, valueFrom: {{secretKeyRef: {{name: db, key: password}}}}}}
        - {{name: GREETING, value: "hello $(LOG_LEVEL)"}}
        - {{name: POD_IP, valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}}}
        - {{name: DSN, value: "postgres://app:$(DATABASE_PASSWORD)@db"}}
        - {{name: PRICE, value: "5$ or $$(LOG_LEVEL)"}}
        - {{name: LISTEN, value: "$(POD_IP):8080"}}
"""
ENV_APP = "app"
SERVICE_VARIABLES = "(env: service variables)"


def env_manifests(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "envpod.yaml"
    path.write_text(ENV_POD)
    return path


def edit_env_file(compose: Path, edit: Callable[[str], str]) -> None:
    """Rewrite the generated service's owner-only dotenv file (compose ``env_file``) through ``edit``."""
    path = compose.parent / "env" / f"{ENV_APP}.env"
    path.write_text(edit(path.read_text()))


def _env_case(tmp: Path, change: Callable[[dict], None] | None, env_file: Callable[[str], str] | None,
              expected: set[tuple[str, str, str]]) -> Case:
    manifests = env_manifests(tmp)
    compose = generate(tmp / "out", manifests)
    if change is not None:
        edit_compose(compose, change)
    if env_file is not None:
        edit_env_file(compose, env_file)
    return Case([str(manifests)], compose, expected)


def case_env_equal(tmp: Path) -> Case:
    """The generated setup gives the container every variable the kubelet gives it."""
    return _env_case(tmp, None, None, set())


def case_env_value_changed(tmp: Path) -> Case:
    """LOG_LEVEL (from a ConfigMap, by envFrom) set by hand to another value; a variable the pod does
    not have added; POD_IP (status.podIP: not known here) set to an address: no difference."""
    def change(doc: dict) -> None:
        env = doc["services"][ENV_APP]["environment"]
        env.update({"LOG_LEVEL": "debug", "DEBUG": "1", "POD_IP": "10.1.2.3"})
    return _env_case(tmp, change, None, {(ENV_APP, "(env LOG_LEVEL)", "environment"),
                                         (ENV_APP, "(env DEBUG)", "environment")})


def case_env_missing(tmp: Path) -> Case:
    """The password's line gone from the env file, POD_IP gone from ``environment``: both missing."""
    def change(doc: dict) -> None:
        doc["services"][ENV_APP]["environment"].pop("POD_IP")
    return _env_case(tmp, change, lambda text: "".join(line for line in text.splitlines(keepends=True)
                                                       if not line.startswith("DATABASE_PASSWORD=")),
                     {(ENV_APP, "(env DATABASE_PASSWORD)", "environment"), (ENV_APP, "(env POD_IP)", "environment")})


def case_env_secret_changed(tmp: Path) -> Case:
    """The env file holds another password than the Secret (in DSN too, which expands it): a
    difference each, showing neither value."""
    return _env_case(tmp, None, lambda text: text.replace(ENV_PASSWORD, ENV_PASSWORD_CHANGED),
                     {(ENV_APP, "(env DATABASE_PASSWORD)", "environment"), (ENV_APP, "(env DSN)", "environment")})


CASES: dict[str, Callable[[Path], Case]] = {
    "app-equal": case_app_equal,
    "app-edited": case_app_edited,
    "app-mapped": case_app_mapped,
    "nested-mount-listed-before-its-parent": case_nested_mount_listed_before_its_parent,
    "not-hidden": case_not_hidden,
    "equal-article": case_equal_article,
    "equal-richer": case_equal_richer,
    "rotated-secret": case_rotated_secret,
    "default-mode": case_default_mode,
    "removed-key-extra": case_removed_key_extra,
    "removed-key-missing": case_removed_key_missing,
    "writable-mount": case_writable_mount,
    "termination-log-dropped": case_termination_log_dropped,
    "termination-log-read-only": case_termination_log_read_only,
    "missing-fs-group": case_missing_fs_group,
    "extra-file-in-image": case_extra_file_in_image,
    "unpaired": case_unpaired,
    "unpaired-mapped": case_unpaired_mapped,
    "sub-path-is-a-directory": case_sub_path_is_a_directory,
    "article": case_article,
    "facets-equal": case_facets_equal,
    "identity-dropped": case_identity_dropped,
    "capabilities-dropped": case_capabilities_dropped,
    "no-new-privileges-dropped": case_no_new_privileges_dropped,
    "limits-dropped": case_limits_dropped,
    "cpus-as-a-float32": case_cpus_as_a_float32,
    "init-not-waited-for": case_init_not_waited_for,
    "init-only-started": case_init_only_started,
    "network-joined-by-hand": case_network_joined_by_hand,
    "network-not-shared": case_network_not_shared,
    "health-check-equal": case_health_check_equal,
    "health-check-dropped": case_health_check_dropped,
    "health-check-retimed": case_health_check_retimed,
    "env-equal": case_env_equal,
    "env-value-changed": case_env_value_changed,
    "env-missing": case_env_missing,
    "env-secret-changed": case_env_secret_changed,
}
