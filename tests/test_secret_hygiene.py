"""Secret hygiene: no secret value in anything parity prints, labels or embeds; secret material on the
host is owner-only.

Every command (layout, k8s-to-docker, diff static and live, up, status, down; text and JSON) runs over
the fixture corpus (manifests/, tests/fixtures/live/) and the bad-input catalogue, and everything
it produces is scanned for every secret value those fixtures hold: stdout, stderr (the progress
messages ``up`` prints on a terminal included), the generated compose.yaml, docker.sh, README.md and
Dockerfile, the state ``up`` keeps, and in the engine the images' labels and build history, the
containers' labels (``docker inspect`` Config.Labels) and the volumes' labels. Values shorter than 4
bytes are left out: they match by accident.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from parity.kube.manifests import TEMPLATE_PATHS

from .badinputs import BAD, catalogue, command_line, entry_id, make_generated, stdin_of
from .badinputs import bad_secret_values
from .conftest import ROOT, run_on_a_terminal, run_parity, unique_name

FIXTURES = ROOT / "tests" / "fixtures" / "live"
CORPUS = {
    "api-gateway": ROOT / "manifests" / "api-gateway",
    "richer": ROOT / "manifests" / "richer",
    "statefulset-projected": FIXTURES / "statefulset-projected.yaml",
    "cronjob-optional": FIXTURES / "cronjob-optional.yaml",
}
MIN_LEN = 4
NEVER_HOLD_VALUES = ("compose.yaml", "docker.sh", "README.md", "data/Dockerfile")


def _documents(path: Path) -> list[dict]:
    files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]


def corpus_secret_values() -> set[bytes]:
    """Every Secret value in the corpus, decoded, and its base64 form (parity never needs to print either)."""
    values: set[bytes] = set()
    for path in CORPUS.values():
        for doc in _documents(path):
            if doc.get("kind") != "Secret":
                continue
            values.update(base64.b64decode(v) for v in (doc.get("data") or {}).values())
            values.update(str(v).encode() for v in (doc.get("stringData") or {}).values())
    values |= {base64.b64encode(v) for v in values}
    return values


SECRETS = {v for v in corpus_secret_values() | bad_secret_values() if len(v) >= MIN_LEN}


def leaks(blob: bytes) -> list[str]:
    """The secret values found in ``blob`` (as reprs, so a failure shows which one)."""
    return sorted(repr(v[:12]) for v in SECRETS if v in blob)


def output_of(result: subprocess.CompletedProcess) -> bytes:
    return result.stdout + b"\n" + result.stderr


def renamed_corpus(dest: Path, suffix: str) -> dict[str, Path]:
    """The corpus with every workload renamed (NAME-suffix): live runs then touch only their own
    engine objects, whatever else shares the engine. Secrets and ConfigMaps are unchanged."""
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    for key, path in CORPUS.items():
        docs = _documents(path)
        for doc in docs:
            if doc.get("kind") in TEMPLATE_PATHS:
                doc["metadata"]["name"] += suffix
        out[key] = dest / f"{key}.yaml"
        out[key].write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return out


def test_the_scan_has_values_to_find_and_finds_them(tmp_path):
    """A scanner that finds nothing proves nothing: the corpus yields the values, and they are found
    where they belong (the data image's payload, the owner-only env file)."""
    assert {b"tenant1-api-key-3f9a1c", b"s3cr3t-db-password", b"correct horse battery staple",
            b"compose-envfile-secret-value", b"outside-the-secrets-dir-value"} <= SECRETS
    assert len(SECRETS) >= 30
    assert run_parity("k8s-to-docker", str(CORPUS["richer"]), "-o", str(tmp_path / "out")).returncode == 0
    payload = (tmp_path / "out" / "data" / "payload.tar").read_bytes()
    assert b"s3cr3t-db-password" in payload and repr(b"s3cr3t-db-password"[:12]) in leaks(payload)


@pytest.mark.parametrize("name", list(CORPUS))
def test_static_commands_never_print_or_embed_a_secret(name, tmp_path):
    """layout, k8s-to-docker and the static diff (text and JSON) print no secret value; the generated
    compose.yaml, docker.sh, README.md and Dockerfile hold none either."""
    manifests = str(CORPUS[name])
    runs = [run_parity("layout", manifests), run_parity("layout", manifests, "--format", "json")]
    text_out, json_out = tmp_path / "text", tmp_path / "json"
    runs.append(run_parity("k8s-to-docker", manifests, "-o", str(text_out)))
    runs.append(run_parity("k8s-to-docker", manifests, "-o", str(json_out), "--format", "json"))
    runs.append(run_parity("diff", manifests, "--compose", str(text_out / "compose.yaml")))
    runs.append(run_parity("diff", manifests, "--compose", str(json_out / "compose.yaml"), "--format", "json"))
    assert [r.returncode for r in runs] == [0] * 6, [r.stderr for r in runs]
    for r in runs:
        assert leaks(output_of(r)) == []
    for out in (text_out, json_out):
        for rel in NEVER_HOLD_VALUES:
            if (out / rel).exists():
                assert leaks((out / rel).read_bytes()) == [], rel


def assert_owner_only(root: Path) -> None:
    """Owner-only secret material: the directory itself is 0700; every file holding a secret value
    lives in data/, env/ or subpath/, which are 0700 and ours, and is 0600 unless it is a subPath
    file (those keep the mode the cluster gives them, inside the 0700 subpath/)."""
    me = os.geteuid()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700 and root.stat().st_uid == me
    for sub in ("data", "env", "subpath"):
        st = (root / sub).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o700, me), sub
    bearing = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or not leaks(path.read_bytes()):
            continue
        rel = path.relative_to(root)
        bearing.append(str(rel))
        assert rel.parts[0] in ("data", "env", "subpath"), f"secret material outside the owner-only parts: {rel}"
        if rel.parts[0] != "subpath":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, rel
    assert bearing, "the scan found no secret material at all: it would prove nothing"


@pytest.mark.parametrize("name", ["api-gateway", "richer", "statefulset-projected"])
def test_k8s_to_docker_secret_material_is_owner_only(name, tmp_path):
    """Everything k8s-to-docker writes that holds a secret value is owner-only."""
    assert run_parity("k8s-to-docker", str(CORPUS[name]), "-o", str(tmp_path / "out")).returncode == 0
    assert_owner_only(tmp_path / "out")


@pytest.fixture(scope="module")
def gen(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bad-generated")
    make_generated(path)
    return path


@pytest.mark.parametrize("entry", [pytest.param(e, id=entry_id(e)) for e in catalogue()])
def test_bad_inputs_never_print_a_secret(entry, tmp_path, gen):
    """The error lines for bad input name keys, fields and files, never a value: every catalogue
    entry, through k8s-to-docker with JSON output (diff for compose files)."""
    command = "diff" if entry.get("compose") else "k8s-to-docker"
    args = command_line(entry, command, gen, tmp_path / "out") + ["--format", "json"]
    result = run_parity(*args, input=stdin_of(entry), cwd=tmp_path)
    assert result.returncode == 2
    assert leaks(output_of(result)) == []


# ---------------------------------------------------------------------------------------------
# Live


def engine_text(client, workload: str) -> bytes:
    """What the engine shows about a workload's objects besides file contents: image labels and
    build history, container labels (``docker inspect`` Config.Labels), container and volume names
    and labels."""
    label = {"label": f"io.parity.workload={workload}"}
    parts: list = []
    for image in client.images.list(filters=label):
        parts += [image.labels, image.attrs.get("Config", {}).get("Labels"), image.tags,
                  [(h.get("CreatedBy"), h.get("Comment")) for h in image.history()]]
    for ctr in client.containers.list(all=True, filters=label):
        parts += [ctr.name, ctr.labels, ctr.attrs.get("Config", {}).get("Labels"), ctr.attrs.get("Mounts")]
    for volume in client.volumes.list(filters=label):
        parts += [volume.name, volume.attrs.get("Labels")]
    assert parts, f"nothing in the engine for {workload}: the scan would prove nothing"
    return json.dumps(parts, default=str).encode()


def up_on_a_terminal(manifests: str, env: dict) -> bytes:
    """``parity up`` with stderr on a pseudo-terminal, where it prints its progress messages."""
    code, stdout, shown = run_on_a_terminal("up", manifests, env=env, timeout=120)
    assert code == 0, shown
    return stdout + shown


#: Each corpus entry's workload, before ``renamed_corpus`` gives it this run's suffix.
WORKLOADS = {"api-gateway": "Pod/api-gateway", "richer": "Deployment/tenant-gateway",
             "statefulset-projected": "StatefulSet/ledger", "cronjob-optional": "CronJob/nightly"}


@pytest.mark.live
@pytest.mark.parametrize("name", list(WORKLOADS))
def test_up_status_down_never_print_label_or_embed_a_secret(name, tmp_path, docker_client):
    """up (on a terminal, then text and JSON), status (text, JSON, with and without manifests) and
    down print no secret value; the engine's labels and image history hold none; the state up keeps
    is owner-only and its compose.yaml, docker.sh, README.md, Dockerfile and layout hold none."""
    suffix = unique_name("-hyg")  # this run's own objects: parallel runs and a user's are never touched
    corpus = renamed_corpus(tmp_path / "corpus", suffix)
    manifests, workload = str(corpus[name]), WORKLOADS[name] + suffix
    env = {"PARITY_STATE_DIR": str(tmp_path / "state")}
    try:
        progress = up_on_a_terminal(manifests, env)
        assert b"parity: " in progress  # the progress messages were there to be scanned
        runs = [run_parity("up", manifests, env=env), run_parity("up", manifests, "--format", "json", env=env),
                run_parity("status", manifests, env=env), run_parity("status", manifests, "--format", "json", env=env),
                run_parity("status", "--format", "json", env=env)]
        assert [r.returncode for r in runs] == [0] * 5, [r.stderr for r in runs]
        assert leaks(progress) == []
        for r in runs:
            assert leaks(output_of(r)) == []
        assert leaks(engine_text(docker_client, workload)) == []
        (state,) = [p for p in (tmp_path / "state").iterdir() if p.is_dir()]  # (beside it: its lock file)
        assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
        for rel in NEVER_HOLD_VALUES + ("layout.json", "state.json"):
            assert leaks((state / rel).read_bytes()) == [], rel
        if name != "cronjob-optional":  # its only Secret is optional and absent: nothing secret to place
            assert_owner_only(state)
    finally:
        down = run_parity("down", manifests, env=env)
    assert down.returncode == 0 and leaks(output_of(down)) == []
    label = {"label": f"io.parity.workload={workload}"}
    assert docker_client.containers.list(all=True, filters=label) == []
    assert docker_client.volumes.list(filters=label) == [] and docker_client.images.list(filters=label) == []


@pytest.mark.live
def test_live_diff_never_prints_a_secret(tmp_path, docker_client):
    """``parity diff --live`` (text and JSON) prints no secret value, and removes its throw-away
    project, images and temporary directory."""
    suffix = unique_name("-hyg")
    corpus = renamed_corpus(tmp_path / "corpus", suffix)
    env = {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    for name, fmt in (("richer", "text"), ("api-gateway", "json")):
        out = tmp_path / name
        assert run_parity("k8s-to-docker", str(corpus[name]), "-o", str(out)).returncode == 0
        result = run_parity("diff", str(corpus[name]), "--compose", str(out / "compose.yaml"), "--live",
                            "--format", fmt, env=env)
        assert result.returncode == 0, result.stderr.decode()
        assert leaks(output_of(result)) == []
    assert list((tmp_path / "tmp").iterdir()) == []
    for name in ("richer", "api-gateway"):
        label = {"label": f"io.parity.workload={WORKLOADS[name]}{suffix}"}
        assert docker_client.containers.list(all=True, filters=label) == []


def test_bad_fixture_values_are_in_the_scan():
    """The bad fixtures' own secret values (those a careless error message would quote) are scanned for."""
    assert {b"not*base64*missing-b64-secret", b"bad-key-chars-secret-value", b"ctl-secret-\x01-value",
            b"regular-file-secret-value", b"bad-filename-secret-value"} <= SECRETS
    # issue 18: values in YAML tags, compose environment and env files, .env interpolation
    assert {b"tag-secret-value-Passw0rd", b"int-tag-secret-value", b"timestamp-tag-secret-value",
            b"inline-env-secret-value-",
            b"envfile-noname-secret-value", b"dotenv-secret-value"} <= SECRETS
    assert BAD.is_dir()


def test_a_secrets_value_never_shows_in_a_repr():
    """A repr goes into tracebacks, logs and pytest's reports: a Secret shows no ``data``, a payload
    file its size and digest, and the inputs holding them neither (review 7, R-M: ``repr(Secret)``
    printed every value)."""
    from parity.kube.kubelet import PayloadFile
    from parity.kube.manifests import Secret, load_inputs

    value = b"hunter2-" + b"s3cr3t"
    secret = Secret("s", "ns", {"password": value}, "f.yaml")
    assert repr(secret) == "Secret(name='s', namespace='ns', file='f.yaml')"
    payload = PayloadFile(value, 0o400)
    assert repr(payload).startswith("PayloadFile(data=<14 bytes, sha256:") and "s3cr3t" not in repr(payload)
    inputs = load_inputs([str(ROOT / "examples" / "gateway-app")])
    shown = repr(inputs)
    assert inputs.secrets and not any(v.decode(errors="replace") in shown
                                      for s in inputs.secrets.values() for v in s.data.values() if len(v) > 3)


def test_a_containers_variables_never_show_a_secrets_value_in_a_repr(tmp_path):
    """The container's variables as the kubelet makes them (``kubelet_env``'s ``EnvValue``,
    ``container_env``, the diff's ``envfacet.Variable``) hold a Secret's value: their reprs show none
    (review 8, S-G: ``EnvValue(text='hunter2...')`` and ``Variable(value='hunter2...')``); a
    ConfigMap's value, no secret, still shows."""
    from parity.docker.env import container_env
    from parity.envfacet import cluster_environment
    from parity.kube.manifests import load_inputs
    from parity.kube.subpathexpr import kubelet_env

    value = "hunter2-" + "s3cr3t"
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {PW: %s}\n---\n"
                   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {MODE: plain-mode}\n---\n"
                   "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: app\n"
                   "      image: busybox:latest\n      envFrom: [{secretRef: {name: db}}, {configMapRef: {name: cfg}}]\n"
                   "      env:\n        - {name: KEY, valueFrom: {secretKeyRef: {name: db, key: PW}}}\n"
                   "        - {name: DSN, value: 'db://u:$(PW)@h'}\n" % value)
    inputs = load_inputs([str(pod)])
    (w,) = inputs.workloads
    ctr = w.spec.containers[0]
    env = kubelet_env(w, ctr, inputs)
    assert env["KEY"].text == value and env["DSN"].text == f"db://u:{value}@h"
    variables = cluster_environment(container_env(w, ctr, inputs))
    assert variables["KEY"].value == value
    for shown in (repr(env), repr(container_env(w, ctr, inputs)), repr(variables)):
        assert "s3cr3t" not in shown
    assert "plain-mode" in repr(env) and repr(env["KEY"]) == (
        "EnvValue(text=(a Secret's value: not shown), unknown=None, secret='secret \"db\"')")
