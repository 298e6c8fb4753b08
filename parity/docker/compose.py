"""Read a compose setup the way Compose does.

With the Compose binary available, its own normalisation is the truth: ``docker compose config
--format json`` applies interpolation, ``extends``, profiles, ``.env`` files, long-syntax volumes and
absolute paths. Without it, a small fallback covers the common subset (short and long volume syntax,
``${VAR:-default}`` interpolation, relative paths) and says so. The normalised config can hold
secret values (Compose inlines ``env_file`` contents): it stays in memory and is never printed.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ParityError, Problem
from ..kube.yamlload import TooBig, check_bounded


@dataclass
class ComposeProject:
    file: str
    name: str
    services: dict[str, dict]
    volumes: dict[str, dict]
    normalised_by: str  # "docker compose config" or "parity fallback"
    notes: list[str] = field(default_factory=list)
    networks: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, dict] = field(default_factory=dict)  # file or environment sources, never values
    configs: dict[str, dict] = field(default_factory=dict)

    def volume_name(self, key: str) -> str:
        spec = self.volumes.get(key) or {}
        return spec.get("name") or f"{self.name}_{key}"


@functools.cache  # asked once per process: a live diff needs it to read the file and to run it
def compose_binary() -> tuple[str, ...] | None:
    """How to run Compose v2 here: the docker CLI plugin, else a standalone docker-compose."""
    if shutil.which("docker"):
        try:
            probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=COMPOSE_CONFIG_TIMEOUT)
        except subprocess.TimeoutExpired:
            probe = None
        if probe is not None and probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    return None


COMPOSE_CONFIG_TIMEOUT = 120  # seconds for `docker compose config`


def _precheck(path: str, file: str) -> None:
    """Refuse what would make Compose itself hang or explode before handing it the file: not text,
    not YAML, an alias bomb or absurd nesting (``docker compose config`` expands aliases for ever)."""
    try:
        text = Path(file).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ParityError(Problem(f"cannot read: {exc.strerror}", file=path)) from None
    except UnicodeDecodeError as exc:
        raise ParityError(Problem(f"not a valid Compose file: not UTF-8 text (byte {exc.start})",
                                  file=path)) from None
    try:
        documents = check_bounded(text)
    except TooBig as exc:
        raise ParityError(Problem(f"not a valid Compose file: {exc}", file=path)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ParityError(Problem(f"not a valid Compose file: invalid YAML: {where}{exc.problem}",
                                  file=path)) from None
    except yaml.YAMLError as exc:
        raise ParityError(Problem(f"not a valid Compose file: invalid YAML: {str(exc).splitlines()[0]}",
                                  file=path)) from None
    except RecursionError:
        raise ParityError(Problem("not a valid Compose file: nesting too deep", file=path)) from None
    if not documents:
        raise ParityError(Problem("not a valid Compose file: empty compose file", file=path))


def _compose_error(stderr: str, file: str) -> str:
    """Compose's last error line, without log prefixes, the file's path or doubled spaces."""
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip() and "level=warning" not in ln]
    text = lines[-1] if lines else "compose config failed"
    text = re.sub(r'^time="[^"]*" level=\w+ msg="(.*)"$', r"\1", text)
    text = text.replace(f"validating {file}: ", "").replace(f"{file}: ", "")
    text = re.sub(r"\s+", " ", text).strip()
    if text.startswith("failed to read "):
        # An env file's error quotes its content, which may be a secret: keep the words before it.
        text = re.split(r"[\"'`]", text, maxsplit=1)[0]
        text = re.sub(r"(is missing a value)\b.*", r"\1", text).rstrip(" :") + " (content not shown)"
    # Compose lists unknown keys in Go's random map order: sorted, the line is the same every run.
    return re.sub(r"(?<=additional properties )('[^']*'(?:, '[^']*')*)",
                  lambda m: ", ".join(sorted(m.group(1).split(", "))), text)


def load_compose(path: str, project: str | None = None) -> ComposeProject:
    file = os.path.abspath(path)
    if os.path.isdir(file):
        raise ParityError(Problem("is a directory, not a compose file", file=path))
    if not os.path.isfile(file):
        raise ParityError(Problem("no such compose file", file=path))
    _precheck(path, file)
    binary = compose_binary()
    if binary is None:
        return _fallback(file, project)
    cmd = [*binary, "-f", file] + (["-p", project] if project else []) + ["config", "--format", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPOSE_CONFIG_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ParityError(Problem(f"not a valid Compose file: docker compose config did not finish in "
                                  f"{COMPOSE_CONFIG_TIMEOUT}s", file=path)) from None
    if proc.returncode != 0:
        raise ParityError(Problem(f"not a valid Compose file: {_compose_error(proc.stderr, file)}", file=path))
    try:
        config = json.loads(proc.stdout)
    except ValueError:
        raise ParityError(Problem("not a valid Compose file: docker compose config printed no JSON",
                                  file=path)) from None
    return ComposeProject(path, config.get("name", ""), config.get("services") or {}, config.get("volumes") or {},
                          "docker compose config", networks=config.get("networks") or {},
                          secrets=config.get("secrets") or {}, configs=config.get("configs") or {})


_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def _interpolate(value):
    if isinstance(value, str):
        def repl(m: re.Match) -> str:
            if m.group(0) == "$$":
                return "$"
            name = m.group(1) or m.group(4)
            current = os.environ.get(name)
            if m.group(2) == ":-" and not current:
                return m.group(3)
            if m.group(2) == "-" and current is None:
                return m.group(3)
            return current or ""
        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    return value


def _fallback(file: str, project: str | None) -> ComposeProject:
    try:
        raw = yaml.safe_load(Path(file).read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ParityError(Problem(f"not a valid Compose file: {str(exc).splitlines()[0]}", file=file)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), dict):
        raise ParityError(Problem("not a valid Compose file: no services map", file=file))
    raw = _interpolate(raw)
    base = os.path.dirname(file)
    services = {}
    for name, svc in raw["services"].items():
        svc = dict(svc or {})
        svc["volumes"] = [_long_volume(v, base) for v in svc.get("volumes") or []]
        build = svc.get("build")
        if isinstance(build, str):
            svc["build"] = {"context": os.path.join(base, build), "dockerfile": "Dockerfile"}
        elif isinstance(build, dict):
            svc["build"] = {**build, "context": os.path.join(base, build.get("context", ".")),
                            "dockerfile": build.get("dockerfile", "Dockerfile")}
        services[name] = svc
    name = project or raw.get("name") or os.path.basename(base)
    return ComposeProject(file, name, services, raw.get("volumes") or {}, "parity fallback",
                          ["Compose was not found: read with parity's fallback (no extends, profiles or .env)"])


def _long_volume(spec, base: str) -> dict:
    if isinstance(spec, dict):
        out = dict(spec)
        if out.get("type") == "bind" and not os.path.isabs(out.get("source", "")):
            out["source"] = os.path.normpath(os.path.join(base, out["source"]))
        return out
    parts = str(spec).split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    source, target = parts[0], parts[1]
    opts = parts[2].split(",") if len(parts) > 2 else []
    out: dict = {"type": "volume", "source": source, "target": target}
    if source.startswith((".", "/", "~")):
        out = {"type": "bind", "source": os.path.normpath(os.path.join(base, os.path.expanduser(source))),
               "target": target}
    if "ro" in opts:
        out["read_only"] = True
    if "nocopy" in opts:
        out["volume"] = {"nocopy": True}
    return out


#: The files Compose reads when given none, in its order (compose-go's default file names; checked
#: against `docker compose config` in a directory holding all four).
DEFAULT_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def default_compose_file(directory: str = ".") -> str | None:
    """The compose file Compose itself would read in ``directory`` when given no ``-f``, if any."""
    for name in DEFAULT_FILE_NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path if directory != "." else name
    return None
