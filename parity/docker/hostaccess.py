"""What in a compose setup reaches out of its containers into the host running them.

``parity diff --live`` brings a compose file up for real, and people check files they did not
write (a vendor's setup, a chart render). Before anything runs, this reads Compose's normalised
config (``docker compose config``: absolute paths, long syntax, ``extends`` and ``include``
resolved) for everything that gives a container the host: its namespaces, privileges, devices,
the engine's socket, or host files outside the project directory (bind mounts, file secrets and
configs, bind-backed volumes, build contexts). Binds inside the project directory are the setup's
own files and pass, so parity's own generated setups need no permission.
"""

from __future__ import annotations

import os
import re

from ..errors import Problem
from .compose import ComposeProject
from .security import DEFAULT_CAPABILITIES

#: Namespace fields where "host" (or joining a container outside the project) shares the host's.
NAMESPACES = ("network_mode", "pid", "ipc", "uts", "userns_mode", "cgroup")
#: security_opt entries that only take rights away.
HARMLESS_SECURITY_OPT = re.compile(r"^no-new-privileges([:=]true)?$")
#: A build context or path that is a URL (git, https): fetched, not read from the host.
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/)", re.I)


def _inside(path: str, root: str) -> bool:
    """Whether ``path`` (symlinks resolved, as the engine will) is ``root`` or below it."""
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip("/") + "/")


def _namespace(field: str, value) -> str | None:
    value = str(value or "")
    if value == "host":
        return f"{field}: host: shares the host's {_NAMESPACE_WORDS[field]}"
    if value.startswith("container:"):
        return f"{field}: {value}: joins a container outside the project"
    return None


_NAMESPACE_WORDS = {"network_mode": "network stack", "pid": "processes", "ipc": "shared memory", "uts": "host name",
                    "userns_mode": "user IDs (no user namespace)", "cgroup": "cgroup tree"}


def _service(name: str, svc: dict, root: str) -> list[str]:
    """``FIELD: message`` for each host access of one normalised service."""
    out = []
    if svc.get("privileged"):
        out.append("privileged: true: runs with every capability and every host device")
    out += [m for f in NAMESPACES if (m := _namespace(f, svc.get(f)))]
    # Re-adding a default capability (a vendor's drop ALL, add NET_BIND_SERVICE) gives nothing beyond what
    # every container has: only the others reach further. Docker accepts CAP_ and any case.
    extra = sorted(str(c) for c in svc.get("cap_add") or []
                   if str(c).upper().removeprefix("CAP_") not in DEFAULT_CAPABILITIES)
    if extra:
        out.append(f"cap_add: {', '.join(extra)}: adds kernel capabilities beyond Docker's default set")
    for d in svc.get("devices") or []:
        source = d.get("source") if isinstance(d, dict) else str(d).split(":")[0]
        out.append(f"devices: {source}: passes a host device in")
    if svc.get("device_cgroup_rules"):
        out.append("device_cgroup_rules: allows host devices")
    for opt in svc.get("security_opt") or []:
        if not HARMLESS_SECURITY_OPT.match(str(opt)):
            out.append(f"security_opt: {opt}: lifts a confinement")
    if svc.get("use_api_socket"):
        out.append("use_api_socket: true: mounts the Docker engine's socket (control of the host)")
    if svc.get("provider"):
        out.append("provider: runs a program on the host")
    for i, v in enumerate(svc.get("volumes") or []):
        if v.get("type") in ("bind", "npipe") and not _inside(v.get("source") or "/", root):
            out.append(f"volumes[{i}]: bind-mounts {v.get('source')} from the host, outside the project directory")
    for ref in svc.get("volumes_from") or []:
        if str(ref).startswith("container:"):
            out.append(f"volumes_from: {ref}: mounts the volumes of a container outside the project")
    build = svc.get("build")
    if isinstance(build, dict):
        out += [f"build.{m}" for m in _build(build, root)]
    return out


def _build(build: dict, root: str) -> list[str]:
    out = []
    context = build.get("context") or "."
    local = not REMOTE.match(str(context))
    if local and not _inside(context, root):
        out.append(f"context: {context}: sends host files outside the project directory to the build")
    dockerfile = build.get("dockerfile") or ""
    if local and os.path.isabs(dockerfile) and not _inside(dockerfile, root):
        out.append(f"dockerfile: {dockerfile}: a host file outside the project directory")
    for key, path in (build.get("additional_contexts") or {}).items():
        if not REMOTE.match(str(path)) and "://" not in str(path) and not _inside(str(path), root):
            out.append(f"additional_contexts: {key}: {path}: host files outside the project directory")
    if build.get("network") == "host":
        out.append("network: host: builds in the host's network stack")
    if build.get("privileged"):
        out.append("privileged: true: builds with every capability")
    if build.get("entitlements"):
        out.append(f"entitlements: {', '.join(map(str, build['entitlements']))}: extra build privileges")
    if build.get("ssh"):
        out.append("ssh: hands the host's SSH agent or keys to the build")
    return out


def host_access(project: ComposeProject) -> list[Problem]:
    """Every way ``project`` (as ``docker compose config`` normalised it) reaches into the host.

    Args:
        project: the loaded compose setup.

    Returns:
        One ``Problem`` per service (or top-level secret, config, volume) and field, in file order;
        empty when the setup stays inside its containers and its project directory.
    """
    root = os.path.realpath(project.directory)
    out = []
    for name, svc in project.services.items():
        for text in _service(name, svc or {}, root):
            field, _, message = text.partition(": ")
            out.append(Problem(message, file=project.file, obj=f"service {name}", field=field))
    for kind, section in (("secret", project.secrets), ("config", project.configs)):
        for name, spec in section.items():
            path = (spec or {}).get("file")
            if path and not _inside(path, root):
                out.append(Problem(f"{path}: mounts a host file outside the project directory",
                                   file=project.file, obj=f"{kind} {name}", field="file"))
    for name, spec in project.volumes.items():
        device = str(((spec or {}).get("driver_opts") or {}).get("device") or "")
        if device.startswith("/") and not _inside(device, root):
            out.append(Problem(f"{device}: a volume backed by a host directory outside the project directory",
                               file=project.file, obj=f"volume {name}", field="driver_opts.device"))
        for field, message in _volume_reach(spec or {}):
            out.append(Problem(message, file=project.file, obj=f"volume {name}", field=field))
    return out


def _volume_reach(spec: dict) -> list[tuple[str, str]]:
    """A named volume that is not the engine's own local storage: an existing (``external``) volume,
    another driver, or a filesystem the local driver mounts (nfs, cifs, a device: the host's or the
    network's, whatever ``o`` names)."""
    opts = spec.get("driver_opts") or {}
    if spec.get("external"):
        return [("external", "an existing volume, not the throw-away project's (another project's data)")]
    if spec.get("driver") not in (None, "", "local"):
        return [("driver", f"volume driver {spec['driver']!r}: storage outside the engine's local volumes")]
    if str(opts.get("type") or "none") not in ("none", "tmpfs"):
        return [("driver_opts.type", f"mounts a {opts['type']!r} filesystem (the host's or the network's)")]
    return []
