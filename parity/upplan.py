"""What ``parity up`` derives from the plan alone, before asking the engine: each service's config
digest (its container's label says which config it runs; the state directory's digest holds them
all), and what each pod sandbox and container is started after."""

from __future__ import annotations

import hashlib
import json

from .docker.plan import ServicePlan
from .docker.sandbox import SandboxPlan


def _config_digest(s: ServicePlan) -> str:
    config = {
        "image": s.image, "entrypoint": s.entrypoint, "command": s.command, "env": s.env.plain,
        "env_objects": hashlib.sha256(json.dumps(s.env.from_objects, sort_keys=True).encode()).hexdigest(),
        "user": s.user, "groups": s.group_add, "ro": s.read_only_rootfs, "wd": s.working_dir,
        "security": s.security.config(),
        **({"health": s.health.sdk()} if s.health else {}),  # (absent without one: digests made before stay)
        "hostname": s.hostname, "restart": s.restart, "ports": s.ports, "tty": s.tty, "stdin": s.stdin_open,
        "volumes": [(m.target, m.volume) + (() if m.read_only else ("rw",)) for m in s.volumes],
        "binds": [(b.target, [(e.path, e.type, e.mode, e.uid, e.gid, e.sha256, e.target) for e in b.entries])
                  for b in s.binds],
    }
    if s.host_paths:  # (only then: an app without hostPath keeps its digests)
        config["host_paths"] = [(h.target, h.source, h.read_only) for h in s.host_paths]
    if s.termination:  # the termination-message file's bind (a container made before it had none)
        config["termination"] = s.termination
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def start_after(sandboxes: list[SandboxPlan]) -> dict[str, list[str]]:
    """What each pod sandbox and container is started after, as compose.yaml orders them: a
    container after its own pod's sandbox (whose network namespace it joins) and the services it
    depends on in the plan (``depends_on``, ``started_after``: each init container after the one
    before it, native sidecars included, the app containers after the last); a sandbox after nothing.

    Args:
        sandboxes: one per pod (``sandbox.sandbox_plans``).

    Returns:
        Sandbox service name (``PodPlan.sandbox``) or service name -> the names it comes after, in
        the plan's order: the sandboxes, then each pod's services.
    """
    after: dict[str, list[str]] = {sb.pod.sandbox: [] for sb in sandboxes}
    for sb in sandboxes:
        for s in sb.pod.services:
            after[s.name] = [sb.pod.sandbox] + s.depends_on + s.started_after
    return after
