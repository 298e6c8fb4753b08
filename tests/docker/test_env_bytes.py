"""Env values with line breaks (a PEM from a Secret) reach the container byte for byte (issue 13).

Statically: the generated env files hold each value so that Compose itself (``docker compose config``)
and docker.sh (run by ``sh`` with a recording ``docker`` first on PATH) give back the exact bytes;
none is inline in compose.yaml or docker.sh; every env file is owner-only; a value one emitter cannot
carry is said by name, never written mangled. Live: tests/live/test_env_bytes_live.py.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest
import yaml

from parity.docker.env import compose_quoted

from ..conftest import run_parity, write

#: Values as a Secret's bytes: line breaks LF and CRLF, a trailing newline, quotes, '$', backslashes.
VALUES = {
    "PEM": b"-----BEGIN CERTIFICATE-----\nMIIB+zCCAaWgAwIBAgIU\nq'x\"y$HOME\n-----END CERTIFICATE-----\n",
    "CRLF": b"first\r\nsecond\r\n",
    "CR": b"only\r",
    "QUOTES": b"'start and end'\n\\\\'even backslashes before a quote\n$$ and ${X} and \\n literal",
    "ONELINE": b"plain $HOME 'q' \"d\" \\ # not a comment",
    "ENDS_BACKSLASH": b"line\nends with one\\",  # Compose cannot: the closing quote would be escaped
}
#: A name docker.sh cannot export (no shell variable name), with a line break.
DASHED = ("a-b", b"x\ny\n")


def manifest() -> str:
    data = {**{k: base64.b64encode(v).decode() for k, v in VALUES.items()},
            DASHED[0]: base64.b64encode(DASHED[1]).decode()}
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: tls}}
        data: {json.dumps(data)}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {{name: bytes}}
        spec:
          automountServiceAccountToken: false
          containers:
          - name: app
            image: busybox:latest
            envFrom: [{{secretRef: {{name: tls}}}}]
            env:
            - {{name: PEM_AGAIN, valueFrom: {{secretKeyRef: {{name: tls, key: PEM}}}}}}
        """)


def expected() -> dict[str, str]:
    return {**{k: v.decode() for k, v in VALUES.items()}, DASHED[0]: DASHED[1].decode(),
            "PEM_AGAIN": VALUES["PEM"].decode()}


def gen(tmp_path):
    src = write(tmp_path, manifest())
    result = run_parity("k8s-to-docker", str(src), "-o", str(tmp_path / "out"), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    return tmp_path / "out", json.loads(result.stdout)


@pytest.mark.parametrize("value", ["", "a", "'", "''", "a'b", "\\", "\\\\", "a\\", "a\\\\", "\\'", "\\\\'",
                                   "\\\\\\'", "x\\y", "\n", "\r\n", "'\n'", "$x", "\\\\\\"])
def test_compose_quoting_gives_the_value_back_or_refuses(value):
    """``compose_quoted`` against a transcription of compose-go's single-quote loop (dotenv/parser.go
    ``extractVarValue``): whatever it writes reads back as the value; None only when no writing can."""
    quoted = compose_quoted(value)
    escaped_quote_or_end = any(
        (i == len(value) or value[i] == "'") and (len(value[:i]) - len(value[:i].rstrip("\\"))) % 2 == 1
        for i in range(len(value) + 1))
    assert (quoted is None) == escaped_quote_or_end
    if quoted is not None:
        assert _compose_go_single_quoted(quoted) == (value, "")


def _compose_go_single_quoted(src: str) -> tuple[str, str]:
    """compose-go's loop for a quoted value, as written upstream: (value, rest)."""
    chars, escape = [], False
    for i in range(1, len(src)):
        c = src[i]
        if c != "'":
            if not escape and c == "\\":
                escape = True
                continue
            if escape:
                escape = False
                chars.append("\\")
            chars.append(c)
            continue
        if escape:
            escape = False
            chars.append(c)
            continue
        return "".join(chars), src[i + 1:]
    raise ValueError("unterminated")


def test_compose_reads_every_value_back_byte_for_byte(tmp_path):
    """The values as Compose's own parser reads the generated env file: equal, CRLF and trailing
    newlines included; the one it cannot read is absent from the file and said by name."""
    out, summary = gen(tmp_path)
    compose_text = (out / "compose.yaml").read_text()
    app = yaml.safe_load(compose_text)["services"]["app"]
    assert app["env_file"] == [{"path": "./env/app.env"}]
    proc = subprocess.run(["docker", "compose", "-f", str(out / "compose.yaml"), "config", "--format", "json"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)["services"]["app"]["environment"]
    # `config` prints a literal '$' as '$$' (its own output is interpolated again when read).
    seen = {k: v.replace("$$", "$") for k, v in seen.items() if not k.startswith("KUBERNETES_")}
    want = expected()
    del want["ENDS_BACKSLASH"]
    assert seen == want
    assert ("app: ENDS_BACKSLASH is left out of compose.yaml's env file: a quote or its end follows an odd number "
            "of backslashes, which Compose's env file reads as an escaped quote (docker.sh and parity up set it)"
            in summary["differences"])


def test_docker_sh_gives_docker_every_value_byte_for_byte(tmp_path):
    """``sh docker.sh`` with a recording ``docker``: one-line values by ``--env-file`` (its lines, as
    docker reads them), values with line breaks by ``-e NAME`` from the CLI's environment, which the
    script's sourced exports file set: exact bytes, none on any argv."""
    out, summary = gen(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "docker"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        with open(os.environ["FAKE_DOCKER_LOG"], "a") as f:
            f.write(json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ)}}) + "\\n")
        """))
    fake.chmod(0o755)
    log = tmp_path / "log"
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_DOCKER_LOG": str(log)}
    run = subprocess.run(["sh", str(out / "docker.sh")], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    (call,) = [c for c in calls if c["argv"][:1] == ["run"] and "io.parity.role=sandbox" not in c["argv"]]
    argv = call["argv"]
    given = {}
    env_file = argv[argv.index("--env-file") + 1]
    assert env_file == "env/app.docker.env"
    for line in (out / env_file).read_text().split("\n"):  # docker/cli opts.ParseEnvFile: KEY=VALUE lines
        if line:
            key, _, value = line.partition("=")
            given[key] = value
    exported = [argv[i + 1] for i, w in enumerate(argv) if w == "-e" and "=" not in argv[i + 1]]
    assert exported == ["PEM", "CRLF", "CR", "QUOTES", "ENDS_BACKSLASH", "PEM_AGAIN"]
    given.update({k: call["env"][k] for k in exported})
    want = expected()
    del want[DASHED[0]]
    assert given == want
    everything = " ".join(w for c in calls for w in c["argv"])
    assert not any(v.decode() in everything for v in VALUES.values())
    assert (f"app: {DASHED[0]} is left out of docker.sh: its value has a line break, which docker run --env-file "
            "cannot carry, and the name cannot be exported by the script (not a shell variable name) "
            "(compose.yaml and parity up set it)") in summary["differences"]


def test_env_values_are_in_owner_only_files_only(tmp_path):
    out, _ = gen(tmp_path)
    assert sorted(p.name for p in (out / "env").iterdir()) == ["app.docker.env", "app.docker.sh", "app.env"]
    assert stat.S_IMODE((out / "env").stat().st_mode) == 0o700
    for p in (out / "env").iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    public = b"".join((out / n).read_bytes() for n in ("compose.yaml", "docker.sh", "README.md"))
    for value in VALUES.values():
        for line in value.splitlines():
            if len(line) >= 8:
                assert line not in public


def test_a_nul_byte_is_left_out_and_said(tmp_path):
    nul, lines = base64.b64encode(b"a\x00b").decode(), base64.b64encode(b"a\nb").decode()
    src = write(tmp_path, textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: s}}
        data: {{NUL: {nul}, OK: {lines}}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {{name: p}}
        spec:
          containers: [{{name: app, image: busybox:latest, envFrom: [{{secretRef: {{name: s}}}}]}}]
        """))
    result = run_parity("k8s-to-docker", str(src), "-o", str(tmp_path / "out"), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    assert ("app: NUL is left out: its value has a NUL byte, which no process environment can hold"
            in json.loads(result.stdout)["differences"])
    assert (tmp_path / "out" / "env" / "app.env").read_text() == "OK='a\nb'\n"


def test_a_trust_anchor_under_the_ssl_cert_names_is_never_exported_to_docker_sh(tmp_path):
    """``SSL_CERT_FILE``/``SSL_CERT_DIR`` are read by the docker CLI that docker.sh runs (Go's
    crypto/x509 ``loadSystemRoots``: its roots for a TLS daemon): a PEM exported under them made the
    script's own docker calls look for a file named by the certificate's text. Left out of docker.sh
    and said; compose.yaml's env file still has them."""
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    data = {k: base64.b64encode(pem).decode() for k in ("SSL_CERT_FILE", "SSL_CERT_DIR", "CA_PEM")}
    src = write(tmp_path, textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: ca}}
        data: {json.dumps(data)}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {{name: p}}
        spec:
          automountServiceAccountToken: false
          containers: [{{name: app, image: busybox:latest, envFrom: [{{secretRef: {{name: ca}}}}]}}]
        """))
    result = run_parity("k8s-to-docker", str(src), "-o", str(tmp_path / "out"), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    exports = (tmp_path / "out" / "env" / "app.docker.sh").read_text()
    assert [line.split("=")[0] for line in exports.splitlines() if line.startswith("export ")] == ["export CA_PEM"]
    differences = json.loads(result.stdout)["differences"]
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        assert (f"app: {name} is left out of docker.sh: its value has a line break, which docker run --env-file "
                "cannot carry, and the name cannot be exported by the script (the shell or the docker CLI reads "
                "it) (compose.yaml and parity up set it)") in differences
    assert "SSL_CERT_FILE=" in (tmp_path / "out" / "env" / "app.env").read_text()
