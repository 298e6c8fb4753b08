"""Read a compose setup the way Compose does.

With the Compose binary available, its own normalisation is the truth: ``docker compose config
--format json`` applies interpolation, ``extends``, profiles, ``.env`` files, long-syntax volumes and
absolute paths. Without it, a small fallback covers the common subset (short and long volume syntax,
``${VAR:-default}`` interpolation, relative paths) and says so. The normalised config can hold
secret values (Compose inlines ``env_file`` contents): it stays in memory and is never printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ParityError, Problem


@dataclass
class ComposeProject:
    file: str
    name: str
    services: dict[str, dict]
    volumes: dict[str, dict]
    normalised_by: str  # "docker compose config" or "parity fallback"
    notes: list[str] = field(default_factory=list)

    def volume_name(self, key: str) -> str:
        spec = self.volumes.get(key) or {}
        return spec.get("name") or f"{self.name}_{key}"


def compose_binary() -> list[str] | None:
    """How to run Compose v2 here: the docker CLI plugin, else a standalone docker-compose."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def load_compose(path: str, project: str | None = None) -> ComposeProject:
    file = os.path.abspath(path)
    if not os.path.isfile(file):
        raise ParityError(Problem("no such compose file", file=path))
    binary = compose_binary()
    if binary is None:
        return _fallback(file, project)
    cmd = binary + ["-f", file] + (["-p", project] if project else []) + ["config", "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if "level=warning" not in ln]
        raise ParityError(Problem(f"not a valid Compose file: {(lines or ['compose config failed'])[-1]}",
                                  file=path))
    config = json.loads(proc.stdout)
    return ComposeProject(path, config.get("name", ""), config.get("services") or {}, config.get("volumes") or {},
                          "docker compose config")


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
