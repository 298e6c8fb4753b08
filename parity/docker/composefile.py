"""A Docker plan as compose.yaml.

It avoids the traps a real engine springs (docs/docker-differences.md, each with its test): Compose v2
drops ``:ro`` from ``volumes_from``, so every mount is a long-syntax ``read_only`` volume or bind; a
named volume keeps old content, so names carry a content digest; Compose starts every service, so the
data service runs ``true`` and the apps wait for it to complete.
"""

from __future__ import annotations

import yaml

from .compose import ON_DEMAND_PROFILE
from .emit import (COMPOSE_FILE, DATA_DIR, compose_down_command, compose_run_command, env_file_path, env_files,
                   on_demand_pods, one_line, store_labels)
from .labels import LABEL_DIGEST
from .plan import DATA_SERVICE, TMPFS, AppPlan, HostPathPlan, PodPlan, ServicePlan, pod_networks, sandbox_command
from .security import CFS_PERIOD


def _escape(value):
    """Compose interpolates ``$``; every string parity writes is meant literally."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    return value


def compose_dict(plan: AppPlan) -> dict:
    services: dict[str, dict] = {}
    data_deps = {DATA_SERVICE: {"condition": "service_completed_successfully"}} if plan.volumes else {}
    if plan.volumes:
        services[DATA_SERVICE] = {
            "image": plan.data_image,
            "build": {"context": f"./{DATA_DIR}"},
            "volumes": [{"type": "volume", "source": v.key, "target": v.image_path} for v in plan.volumes],
            "labels": plan.data_labels(),
            "restart": "no",
        }
    networks = pod_networks(plan)
    for pod, nets in zip(plan.pods, networks):
        # An on-demand pod's services: never started by `up`; `run SERVICE` starts one and what it needs.
        profiles = {"profiles": [ON_DEMAND_PROFILE]} if pod.run == "on-demand" else {}
        services[pod.sandbox] = {**_compose_sandbox(plan, pod, nets), **profiles}
        for s in pod.services:
            services[s.name] = {**_compose_service(s, pod, data_deps), **profiles}
    doc: dict = {"name": plan.project, "services": services}
    scoped = sorted({key for nets in networks for key in nets if key != "default"})
    if scoped:  # the namespaces' networks for their short names (plan.pod_networks)
        doc["networks"] = {key: {} for key in scoped}
    if plan.volumes:
        labels = plan.volume_labels()
        doc["volumes"] = {v.key: {"name": v.docker_name,
                                  "labels": {**labels[v.key], LABEL_DIGEST: f"sha256:{v.digest}"}}
                          for v in plan.volumes}
    for v in plan.stores:
        spec: dict = {"name": v.docker_name}
        if v.driver_opts:
            spec["driver"] = "local"
            spec["driver_opts"] = v.driver_opts
        spec["labels"] = store_labels(plan, v)
        doc.setdefault("volumes", {})[v.key] = spec
    return _escape(doc)


def _compose_host_path(h: HostPathPlan) -> dict:
    """A hostPath as a bind. Compose creates a missing source directory only when told
    (``create_host_path``): for the types that make a directory (DirectoryOrCreate, and unset, which
    the runtime makes a directory, as containerd does); the others must exist (docker.sh and
    ``parity up`` check the type first; compose only fails when the source is missing)."""
    return {"type": "bind", "source": h.source, "target": h.target, "read_only": h.read_only,
            "bind": {"create_host_path": h.type in ("", "DirectoryOrCreate")}}


def _compose_sandbox(plan: AppPlan, pod: PodPlan, networks: dict[str, list[str]]) -> dict:
    """The pod's sandbox service: everything Docker only takes on the container that owns the network
    namespace (host and domain name, /etc/hosts entries, exposed and published ports, DNS aliases)."""
    svc: dict = {"image": plan.base_image, "command": sandbox_command(pod), "hostname": pod.hostname}
    if pod.domain:
        svc["domainname"] = pod.domain
    if pod.host_aliases:
        svc["extra_hosts"] = [f"{name}:{a.ip}" for a in pod.host_aliases for name in a.hostnames]
    expose, ports = pod.ports
    if expose:
        svc["expose"] = expose
    if ports:
        svc["ports"] = ports
    if pod.sysctls:
        svc["sysctls"] = dict(pod.sysctls)
    if len(networks) > 1 or networks["default"]:
        svc["networks"] = {key: {"aliases": aliases} if aliases else {} for key, aliases in networks.items()}
    held = [v for v in pod.stores if v.kind == TMPFS]
    if held:  # it holds the pod's memory emptyDirs mounted for the pod's life (StoreVolume)
        svc["volumes"] = [{"type": "volume", "source": v.key, "target": v.hold_path, "volume": {"nocopy": True}}
                          for v in held]
    svc["labels"] = pod.sandbox_labels(plan.project)
    svc["restart"] = "unless-stopped"
    return svc


def _compose_service(s: ServicePlan, pod: PodPlan, data_deps: dict) -> dict:
    svc: dict = {"image": s.image}
    if s.pull_never:
        svc["pull_policy"] = "never"
    if s.entrypoint is not None:
        svc["entrypoint"] = s.entrypoint
    if s.command is not None:
        svc["command"] = s.command
    svc["network_mode"] = f"service:{pod.sandbox}"
    if s.working_dir:
        svc["working_dir"] = s.working_dir
    if s.user:
        svc["user"] = s.user
    if s.group_add:
        svc["group_add"] = s.group_add
    if s.read_only_rootfs:
        svc["read_only"] = True
    svc.update(_compose_security(s))
    if s.env.plain:
        svc["environment"] = dict(s.env.plain)
    if env_file_path(s) in env_files(s):  # dotenv (Compose's default format): values single-quoted
        svc["env_file"] = [{"path": f"./{env_file_path(s)}"}]
    if s.tty:
        svc["tty"] = True
    if s.stdin_open:
        svc["stdin_open"] = True
    if s.health:
        svc["healthcheck"] = s.health.compose()
    mounts = [{"type": "volume", "source": m.volume, "target": m.target, "read_only": m.read_only,
               "volume": {"nocopy": True}} for m in s.volumes]
    mounts += [{"type": "bind", "source": f"./{b.host_path}", "target": b.target, "read_only": True}
               for b in s.binds]
    mounts += [_compose_host_path(h) for h in s.host_paths]
    if s.termination:  # the kubelet's termination-message file: read-write (kubelet.termination_log_paths)
        mounts.append({"type": "bind", "source": f"./{s.termination_file}", "target": s.termination,
                       "read_only": False})
    if mounts:
        svc["volumes"] = mounts
    deps = {**data_deps, pod.sandbox: {"condition": "service_started"}}
    deps.update({d: {"condition": "service_completed_successfully"} for d in s.depends_on})
    deps.update({d: {"condition": "service_started"} for d in s.started_after})
    svc["depends_on"] = deps
    svc["labels"] = s.labels
    svc["restart"] = s.restart
    return svc


def _origin(plan: AppPlan) -> str:
    """Where the app comes from, for a header line: ``KIND/NAME (namespace NS)``, or the count."""
    if len(plan.pods) == 1:
        return f"{one_line(plan.subject)} (namespace {one_line(plan.pods[0].namespace)})"
    return f"{plan.subject} (see README.md)"


def compose_yaml(plan: AppPlan) -> str:
    header = (f"# Generated by parity from {_origin(plan)}.\n"
              f"# Start: docker compose -f {COMPOSE_FILE} up -d --build    Stop: {compose_down_command(plan)} "
              f"&& docker image rm {one_line(plan.data_image)}\n"
              + "".join(f"# {one_line(p.workload_ref)} (namespace {one_line(p.namespace)}) is never scheduled: run it "
                        f"once with {compose_run_command(p)}\n" for p in on_demand_pods(plan))
              + "# Every secret mount is read-only (long syntax: Compose drops ':ro' from volumes_from).\n")
    return header + yaml.safe_dump(compose_dict(plan), sort_keys=False, default_flow_style=False, width=120)


def _compose_security(s: ServicePlan) -> dict:
    """Compose keys for a service's capabilities, privileges, sysctls and limits (security.py)."""
    sec, out = s.security, {}
    if sec.cap_add:
        out["cap_add"] = sec.cap_add
    if sec.cap_drop:
        out["cap_drop"] = sec.cap_drop
    if sec.privileged:
        out["privileged"] = True
    if sec.security_opt:
        out["security_opt"] = sec.security_opt
    if sec.sysctls:
        out["sysctls"] = dict(sec.sysctls)
    if sec.memory is not None:
        out["mem_limit"] = sec.memory  # an integer: bytes
    if sec.cfs_quota is not None:  # not `cpus`: a float32 in Compose, 1.999 is not 1999m (security.py)
        out["cpu_period"] = CFS_PERIOD
        out["cpu_quota"] = sec.cfs_quota
    return out
