"""The bad-input catalogue (tests/fixtures/bad/catalogue.yaml): loading, placeholders, command lines,
and the secret values the bad fixtures hold (for the secret-hygiene scan)."""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path

import yaml

from .conftest import ROOT

BAD = ROOT / "tests" / "fixtures" / "bad"
COMMANDS = ("layout", "k8s-to-docker", "diff", "up")
OK_COMPOSE = "{dir}/support/compose.yaml"
OVER_LIMIT = 1024 * 1024 + 1  # one byte more than a Secret may hold


def catalogue() -> list[dict]:
    return yaml.safe_load((BAD / "catalogue.yaml").read_text())


def entry_id(entry: dict) -> str:
    name = entry["fixture"].replace("{gen}/", "")
    return f"{name}-stdin" if entry.get("stdin") else name


def commands_of(entry: dict) -> tuple[str, ...]:
    if entry.get("compose"):
        return ("diff",)
    return tuple(entry.get("commands") or COMMANDS)


def make_generated(gen: Path) -> None:
    """Fixtures too big to keep in the repository: a Secret, a ConfigMap and a --secrets directory 1 byte
    over 1 MiB."""
    if (gen / "secret-too-big.yaml").exists():
        return
    (gen / "secret-too-big.yaml").write_text(
        (BAD / "support" / "pod-needs-creds.yaml").read_text()
        + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ndata:\n  big: "
        + base64.b64encode(b"B" * OVER_LIMIT).decode() + "\n")
    (gen / "configmap-too-big.yaml").write_text(
        (BAD / "support" / "pod-needs-creds.yaml").read_text()
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  big: "
        + "C" * OVER_LIMIT + "\n")
    creds = gen / "secrets-too-big" / "creds"
    creds.mkdir(parents=True)
    (creds / "big").write_bytes(b"D" * (OVER_LIMIT - 10))
    (creds / "small").write_bytes(b"0123456789")
    make_hostile_reads(gen)


def make_hostile_reads(gen: Path) -> None:
    """Inputs that attack the readers (issue 18): a FIFO and a device as manifests, a symlink loop and
    a 2 GiB sparse file in --secrets directories, and file names holding a newline, escape sequences
    or bytes that are not UTF-8 (git keeps none of these well: they are made here)."""
    os.mkfifo(gen / "fifo.yaml")
    (gen / "fifo-dir").mkdir()
    os.mkfifo(gen / "fifo-dir" / "pipe.yaml")
    os.symlink("/dev/zero", gen / "dev-zero")
    loop = gen / "secrets-loop" / "creds"
    loop.mkdir(parents=True)
    os.symlink("loop", loop / "loop")
    sparse = gen / "secrets-sparse" / "creds"
    sparse.mkdir(parents=True)
    (sparse / "small").write_bytes(b"0123456789")
    with open(sparse / "huge", "wb") as f:
        f.truncate(2 * 1024 ** 3)  # 2 GiB that cost no disk
    names = gen / "secrets-newline-name" / "creds"
    names.mkdir(parents=True)
    (names / "tok\nen\x1b[31m").write_bytes(b"newline-name-secret-value")
    (gen / "escape-name").mkdir()
    (gen / "escape-name" / "pod\x1b]0;pwned\x07\n\u202e.yaml").write_text("a: [\n")
    (gen / "non-utf8-name").mkdir()
    os.mkdir(os.fsencode(gen / "non-utf8-name") + b"/sub\xff")
    with open(os.fsencode(gen / "non-utf8-name") + b"/sub\xff/bad\xfe.yaml", "w") as f:
        f.write("a: [\n")


def expand(text: str, gen: Path, out: Path | None = None) -> str:
    text = text.replace("{dir}", str(BAD)).replace("{gen}", str(gen)).replace("{root}", str(ROOT))
    return text.replace("{out}", str(out)) if out is not None else text


def command_line(entry: dict, command: str, gen: Path, out: Path) -> list[str]:
    """The real CLI arguments for one catalogue entry and command."""
    if entry.get("compose"):
        args = ["diff", "{root}/manifests/api-gateway", "--compose", entry["compose"], *entry.get("diff_args", [])]
    else:
        args = [command, *entry["args"]]
        if command == "k8s-to-docker":
            args += ["-o", "{out}"]
        elif command == "diff":
            args += ["--compose", OK_COMPOSE]
    return [expand(a, gen, out) for a in args]


def stdin_of(entry: dict) -> bytes | None:
    return (BAD / entry["stdin"]).read_bytes() if entry.get("stdin") else None


def expected_stderr(entry: dict, gen: Path) -> str:
    return "".join(expand(line, gen) + "\n" for line in entry["stderr"])


def bad_secret_values() -> set[bytes]:
    """Every value the bad fixtures' Secrets (and --secrets directories) hold, as written and decoded."""
    values: set[bytes] = set()
    for path in sorted(BAD.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        # Values planted where no Secret holds them (compose files, .env, YAML that does not load)
        # are named *secret-value*.
        values.update(re.findall(rb"[\w.-]*secret-value[\w.-]*", path.read_bytes()))
        if path.parent.name == "creds" or path.name in ("outside-secret.txt", "app.env"):
            values.add(path.read_bytes().strip())
            values.update(line.partition(b"=")[2].strip(b'"') for line in path.read_bytes().splitlines())
            continue
        if path.suffix != ".yaml":
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError, AttributeError):
            values.update(re.findall(rb'"([^"\n]{4,})"', path.read_bytes()))  # unreadable: its quoted values
            continue
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("kind") != "Secret":
                continue
            for key in ("data", "stringData"):
                for value in (doc.get(key) or {}).values():
                    if not isinstance(value, str):
                        continue
                    values.add(value.encode())
                    if key == "data":
                        try:
                            values.add(base64.b64decode(str(value), validate=True))
                        except (binascii.Error, ValueError):
                            pass
    return values
