"""A Docker plan's README.md: how to start and stop it, what was generated, each pod's sandbox,
containers and mounts, and what still differs from the cluster (never a silent drop).
"""

from __future__ import annotations

from .compose import ON_DEMAND_PROFILE
from .context import PAYLOAD_NAME
from .emit import (COMPOSE_FILE, DATA_DIR, ENV_DIR, SCRIPT_FILE, compose_down_command, compose_run_command,
                   on_demand_pods, script_run_name)
from .plan import DATA_SERVICE, SANDBOX, SUBPATH_DIR, TERMINATION_DIR, AppPlan, PodPlan, ServicePlan


def _role(s: ServicePlan) -> str:
    if s.init:
        return " (init container, runs to completion first)"
    if s.sidecar:
        return " (sidecar: an init container that keeps running; the next containers start once it has started)"
    return ""


def _service_lines(services: list[ServicePlan], indent: str = "") -> str:
    return "\n".join(f"{indent}- `{s.name}`{_role(s)}: "
                     + (", ".join(f"`{m.target}`" for m in s.volumes) or "no secret volumes")
                     + ("".join(f", `{b.target}` (subPath file)" for b in s.binds)) for s in services)


#: How compose services are named, for the README of an app of several pods (the rule: plan.pod_keys).
_NAMING = ("Services are named `WORKLOAD_CONTAINER` after the workload's name and the container's, and each "
           f"pod's sandbox `WORKLOAD_{SANDBOX}`; when two selected workloads share a name, every service name "
           "carries the namespace too (`NAMESPACE_WORKLOAD_CONTAINER`), and when they also share the namespace, "
           "the kind (`NAMESPACE_KIND_WORKLOAD_CONTAINER`). '_' is in no Kubernetes name, so no two containers "
           "get the same service.")


def _sandbox_line(pod: PodPlan, indent: str = "") -> str:
    extra = [f"domain `{pod.domain}`"] if pod.domain else []
    extra += [f"`{a.ip}` as {', '.join(f'`{n}`' for n in a.hostnames)} in /etc/hosts" for a in pod.host_aliases]
    extra += [f"DNS names {', '.join(f'`{a}`' for a in pod.aliases)}"] if pod.aliases else []
    extra += [f"from its namespace also {', '.join(f'`{a}`' for a in pod.short_aliases)}"] if pod.short_aliases else []
    extra += [f"Service port {f.port} forwarded to {f.target}" for f in pod.forwards]
    expose, ports = pod.ports
    extra += [f"ports {', '.join(f'`{x}`' for x in expose)}"] if expose else []
    extra += [f"published {', '.join(f'`{x}`' for x in ports)}"] if ports else []
    return (f"{indent}- `{pod.sandbox}` (the pod's sandbox, holding its network namespace: host name `{pod.hostname}`"
            + "".join(f", {x}" for x in extra) + "): every container below joins it")


def _on_demand_section(plan: AppPlan) -> str:
    """The README's lines on the pods that are not long-running: how each runs, and how to run a
    CronJob's (never scheduled)."""
    once = [p for p in plan.pods if p.run == "once"]
    lines = [f"- `{p.workload_ref}` (namespace `{p.namespace}`) runs once, to completion (restart "
             + ", ".join(sorted({f"`{s.restart}`" for s in p.services if not s.init})) + "): `parity up` starts it "
             "once; `docker compose up` and `sh docker.sh` start it again each time (Compose starts every "
             "stopped service)." for p in once]
    for p in on_demand_pods(plan):
        lines.append(f"- `{p.workload_ref}` (namespace `{p.namespace}`) is a CronJob: nothing here schedules it, "
                     f"and `up` starts none of its services (Compose profile `{ON_DEMAND_PROFILE}`). Run it once "
                     f"with `{compose_run_command(p)}`, or `sh {SCRIPT_FILE} run {script_run_name(p)}`, or, "
                     "after `parity up`, the `docker start -a` commands it prints.")
    if not lines:
        return ""
    return "\n## What is not a long-running pod\n\n" + "\n".join(lines) + "\n"


def readme(plan: AppPlan, root_warnings: list[str]) -> str:
    if len(plan.pods) == 1:
        title = plan.subject
        services = "one service per pod container, named after it, and the pod's sandbox"
        listing = ("The pod's sandbox, then its containers and their mounts (all read-only, as the kubelet mounts "
                   "them):\n" + _sandbox_line(plan.pods[0]) + "\n" + _service_lines(plan.services))
    else:
        title = f"{plan.subject} as one environment"
        services = "one service per container of each pod and one sandbox per pod (names below)"
        listing = (_NAMING + "\n\nPods (one per workload), each with its sandbox, its containers and their mounts (all "
                   "read-only, as the kubelet mounts them):\n"
                   + "\n".join(f"- `{p.workload_ref}` (namespace `{p.namespace}`):\n" + _sandbox_line(p, "  ") + "\n"
                                + _service_lines(p.services, "  ") for p in plan.pods))
    differences = "\n".join(f"- {d}" for d in plan.differences + root_warnings) or "- none beyond the list above"
    structure = ("the user-visible files only (`--flat`: no `..data` link or timestamped directory)" if plan.flat
                 else "the kubelet's structure: `..data` -> `..<timestamp>` directory and one symlink per "
                      "top-level name, so applications that watch `..data` behave as in the cluster")
    return f"""# {title}: local containers with the cluster's files

Generated by `parity k8s-to-docker`. **The data image (`{plan.data_image}`), `{DATA_DIR}/` and `{ENV_DIR}/`
hold secret material: never push the image, never commit this directory.** Everything secret here is
readable by its owner only.

## Start and stop

    docker compose -f {COMPOSE_FILE} up -d --build       # or: sh {SCRIPT_FILE}
    {compose_down_command(plan)} && docker image rm {plan.data_image}   # or: sh {SCRIPT_FILE} down

(`down -v` removes the secret-bearing volumes; never use `--rmi all`, which also removes your app images.)
{_on_demand_section(plan)}
## What was generated

- `{COMPOSE_FILE}`: {services}, plus `{DATA_SERVICE}`, which fills the
  named volumes from the data image and exits; the app services wait for it.
- `{DATA_DIR}/Dockerfile` and `{DATA_DIR}/{PAYLOAD_NAME}`: the data-only image. The tar carries each volume tree
  with exact modes, owners and symlinks; works with the legacy builder and BuildKit.
- `{SCRIPT_FILE}`: the same with plain `docker` commands (`--volumes-from NAME:ro`).
- `{ENV_DIR}/`: variables whose values come from Secrets or ConfigMaps (never inline in {COMPOSE_FILE}):
  `SERVICE.env` for Compose (values single-quoted, line breaks kept), `SERVICE.docker.env` for `docker run
  --env-file` (one-line values) and `SERVICE.docker.sh`, which {SCRIPT_FILE} sources for values with line breaks.
- `{SUBPATH_DIR}/`: files for subPath mounts, bind-mounted read-only.
- `{TERMINATION_DIR}/`: one empty file per container (0666), bind-mounted read-write at its
  `terminationMessagePath`, as the kubelet does: what a container writes there on exit is read here.

{listing}

Each volume holds {structure}. Volume names carry a digest of their content: a changed Secret gives a new
volume, never stale bytes.

## What still differs from the cluster, and why

- Storage: Docker volumes live on the host's disk, not tmpfs; they persist until `down -v`.
- Updates: the kubelet swaps `..data` when a Secret changes; here, re-run parity (or use `parity up`).
- Network: as behind the kubelet's pause container, a pod's containers share one network namespace
  (`localhost`, ports, host name), held by the pod's sandbox service (listed above; a busybox shell
  that waits, not the pause binary); its host name, domain, /etc/hosts entries (`hostAliases`) and ports
  are set on the sandbox, which Docker requires. The pods share one project network; there is no
  cluster DNS server: a Service's names resolve through the sandboxes' network aliases.
{differences}
"""
