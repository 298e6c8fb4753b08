"""A Docker plan as files: compose.yaml, docker.sh and the README that explains them.

compose.yaml avoids the traps a real engine springs (docs/docker-differences.md, each with its test):
Compose v2 drops ``:ro`` from ``volumes_from``, so every mount is a long-syntax ``read_only``
volume or bind; a named volume keeps old content, so names carry a content digest; Compose starts
every service, so the data service runs ``true`` and the apps wait for it to complete.
docker.sh is the article's data-only-container flow with plain ``docker`` commands, where
``--volumes-from NAME:ro`` is honoured.
"""

from __future__ import annotations

import csv
import io
import shlex
from dataclasses import dataclass

import yaml

from ..kube.names import shown

from . import hostpath
from .compose import DEFAULT_FILE_NAMES, ON_DEMAND_PROFILE
from .context import PAYLOAD_NAME
from .labels import LABEL_DIGEST, LABEL_PROJECT, LABEL_ROLE, LABEL_VOLUME, ROLE_CLAIM, ROLE_DATA
from .plan import (CLAIM, DATA_SERVICE, SANDBOX, SUBPATH_DIR, TERMINATION_DIR, TMPFS, AppPlan, HostPathPlan, PodPlan,
                   ServicePlan, StoreVolume, pod_networks, sandbox_command)
from .security import CFS_PERIOD

COMPOSE_FILE = DEFAULT_FILE_NAMES[0]  # the name Compose reads first: `docker compose up` in the directory finds it
SCRIPT_FILE = "docker.sh"
README_FILE = "README.md"
DATA_DIR = "data"
ENV_DIR = "env"


def env_file_path(service: ServicePlan) -> str:
    """compose.yaml's ``env_file`` (dotenv, single-quoted values: ``ContainerEnv.dotenv_text``)."""
    return f"{ENV_DIR}/{service.name}.env"


def docker_env_file_path(service: ServicePlan) -> str:
    """docker.sh's ``--env-file`` (one-line values, literal: ``ContainerEnv.env_file_text``)."""
    return f"{ENV_DIR}/{service.name}.docker.env"


def exports_file_path(service: ServicePlan) -> str:
    """docker.sh's shell file exporting the values with a line break (``ContainerEnv.exports_text``)."""
    return f"{ENV_DIR}/{service.name}.docker.sh"


def env_files(service: ServicePlan) -> dict[str, str]:
    """The owner-only env files of a service, by path under the output directory: the non-empty ones."""
    env = service.env
    files = {env_file_path(service): env.dotenv_text(), docker_env_file_path(service): env.env_file_text(),
             exports_file_path(service): env.exports_text()}
    return {path: text for path, text in files.items() if text}


def _escape(value):
    """Compose interpolates ``$``; every string parity writes is meant literally."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [_escape(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape(v) for k, v in value.items()}
    return value




def on_demand_pods(plan: AppPlan) -> list[PodPlan]:
    return [p for p in plan.pods if p.run == "on-demand"]


def compose_run_command(pod: PodPlan, compose_file: str = COMPOSE_FILE) -> str:
    """How compose.yaml runs an on-demand pod once: ``run --rm`` of its app container (Compose
    starts the data service, the pod's sandbox and its init containers first), or ``up`` of its
    app containers."""
    apps = [s.name for s in pod.services if not s.init]
    if len(apps) == 1:
        return f"docker compose -f {compose_file} run --rm {apps[0]}"
    return f"docker compose -f {compose_file} up {' '.join(apps)}"


def compose_down_command(plan: AppPlan) -> str:
    """How compose.yaml's project is removed (with the on-demand services' containers: ``down``
    leaves a profile's containers unless the profile is given)."""
    profile = f" --profile {ON_DEMAND_PROFILE}" if on_demand_pods(plan) else ""
    return f"docker compose -f {COMPOSE_FILE}{profile} down -v"


def script_run_name(pod: PodPlan) -> str:
    """What ``sh docker.sh run NAME`` takes to run an on-demand pod: ``NAMESPACE/KIND/NAME``."""
    return f"{pod.namespace}/{pod.workload_ref}"


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


def store_labels(plan: AppPlan, v: StoreVolume) -> dict[str, str]:
    """A writable volume's labels: a claim is the app's (``ROLE_CLAIM``: kept by down), the others
    belong with the data volumes of the project."""
    labels = {k: x for k, x in plan.data_labels().items() if k != LABEL_DIGEST}
    pod = next((p for p in plan.pods if v in p.stores), None)
    if pod is not None and v.kind != CLAIM:  # a pod's own volume: down --workload removes it with the pod
        labels.update(pod.identity_labels())
    return {**labels, LABEL_ROLE: ROLE_CLAIM if v.kind == CLAIM else ROLE_DATA, LABEL_VOLUME: v.key}


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


def _q(text: str) -> str:
    return shlex.quote(text)


def one_line(text: str) -> str:
    """Text for a comment line of a generated file: a name with a line break (impossible once
    validated, but a comment must never end early) is shown escaped."""
    return shown(text)


#: In docker.sh, a bind source is the one part of a word that is not a literal: the script's own
#: directory (``"$PWD"``, after ``cd "$(dirname "$0")"``). In a ``Command``'s argv it stands as this
#: mark, which no generated path holds.
PWD_MARK = "\x00PWD\x00"


@dataclass(frozen=True)
class Command:
    """One command of docker.sh: its argument vector (every word a literal but for ``PWD_MARK``,
    options ended by ``--`` before the positional arguments) and what follows it on the line."""

    argv: tuple[str, ...]
    tail: str = ""
    #: A shell file (under the output directory) the command's environment comes from: sourced in a
    #: subshell that then execs the command (``-e NAME`` reads NAME there).
    exports: str | None = None

    def line(self) -> str:
        words = []
        for w in self.argv:
            before, mark, after = w.partition(PWD_MARK)
            words.append(_q(before) + '"$PWD"' + _q(after) if mark else _q(w))
        if self.exports:
            return f"( . ./{_q(self.exports)} && exec " + " ".join(words) + " )" + self.tail
        return " ".join(words) + self.tail


def _label_options(labels: dict[str, str]) -> list[str]:
    return [w for k, v in labels.items() for w in ("--label", f"{k}={v}")]


def script_commands(plan: AppPlan) -> list[Command]:
    """The docker commands docker.sh runs after ``down``, in order (also what tests compare it with)."""
    return [c for _, commands in _script_steps(plan) for c in commands]


def _script_steps(plan: AppPlan) -> list[tuple[str, list[Command]]]:
    """docker.sh's steps: what each does (its comment) and its commands."""
    p = plan.project
    label = ["--label", f"{LABEL_PROJECT}={p}"]
    quiet = " >/dev/null"
    networks = pod_networks(plan)
    scoped = sorted({key for nets in networks for key in nets if key != "default"})
    steps = [("The project network: every pod's sandbox joins it" + ("; and each namespace's, for its short "
                                                                    "Service names." if scoped else "."),
              [Command(("docker", "network", "create", *label, "--", net), quiet)
               for net in [plan.network] + [plan.scoped_network(k) for k in scoped]])]
    if plan.volumes:
        data_labels = _label_options(plan.data_labels())
        steps.append(("The data-only image (it holds secret material: never push it).",
                      [Command(("docker", "build", "-q", "-t", plan.data_image, "--", DATA_DIR), quiet)]))
        volume_labels = plan.volume_labels()
        commands = [Command(("docker", "volume", "create", *_label_options(volume_labels[v.key]), "--",
                             v.docker_name), quiet) for v in plan.volumes]
        fills = [w for v in plan.volumes for w in ("-v", f"{v.docker_name}:{v.image_path}")]
        commands.append(Command(("docker", "create", "--name", plan.data_container, *data_labels, *fills, "--",
                                 plan.data_image), quiet))
        steps.append(("Named volumes, filled from the image when the data container is created (never started).",
                      commands))
    if plan.stores:
        steps.append(("Writable volumes not filled from the image (a claim that exists is kept).", store_commands(plan)))
    commands = []
    for pod, nets in zip(plan.pods, networks):
        if pod.run != "on-demand":  # (an on-demand pod's: docker.sh's run, pod_commands)
            commands += pod_commands(plan, pod, nets)
    steps.append(("Per pod: its sandbox (network namespace, host name, /etc/hosts, ports), then per container its "
                  "mounts\n# in a data-only container and the app with --volumes-from :ro, in the sandbox's network.",
                  commands))
    return steps


def pod_commands(plan: AppPlan, pod: PodPlan, nets: dict[str, list[str]]) -> list[Command]:
    """The docker commands that run a pod: its sandbox (on the networks ``nets``, with their aliases:
    plan.pod_networks), then per container its mounts holder and its run."""
    label = ["--label", f"{LABEL_PROJECT}={plan.project}"]
    quiet = " >/dev/null"
    commands: list[Command] = []
    names = {v.key: v.docker_name for v in plan.volumes} | {v.key: v.docker_name for v in plan.stores}
    sandbox = plan.sandbox_container(pod)
    run = ["docker", "run", "-d", "--name", sandbox,
           *_label_options(pod.sandbox_labels(plan.project)),
           "--network", plan.network, *[w for a in nets["default"] for w in ("--network-alias", a)],
           "--hostname", pod.hostname]
    if pod.domain:
        run += ["--domainname", pod.domain]
    run += [w for a in pod.host_aliases for name in a.hostnames for w in ("--add-host", f"{name}:{a.ip}")]
    expose, ports = pod.ports
    run += [w for e in expose for w in ("--expose", e)] + [w for x in ports for w in ("-p", x)]
    run += [w for k, v in pod.sysctls.items() for w in ("--sysctl", f"{k}={v}")]
    run += [w for v in pod.stores if v.kind == TMPFS
            for w in ("--mount", _mount_option("volume", v.docker_name, v.hold_path, "volume-nocopy"))]
    commands.append(Command((*run, "--restart", "unless-stopped", "--", plan.base_image, *sandbox_command(pod)),
                            quiet))
    for key, aliases in nets.items():  # its namespace's network, for the short names
        if key != "default":
            commands.append(Command(("docker", "network", "connect", *[w for a in aliases for w in ("--alias", a)],
                                     "--", plan.scoped_network(key), sandbox), quiet))
    for s in pod.services:
        commands += _script_container(plan, pod, s, names, label, sandbox)
    return commands


def _script_container(plan: AppPlan, pod: PodPlan, s: ServicePlan, names: dict[str, str], label: list[str],
                      sandbox: str) -> list[Command]:
    quiet = " >/dev/null"
    commands = []
    holder = plan.mounts_container(s)
    mounts = [w for m in s.volumes if m.read_only
              for w in ("--mount", _mount_option("volume", names[m.volume], m.target, "volume-nocopy"))]
    mounts += [w for b in s.binds for w in ("--mount", _mount_option("bind", f"{PWD_MARK}/{b.host_path}", b.target,
                                                                       "readonly"))]
    run = ["docker", "run", *(["-d"] if not s.init else ["--rm"]), "--name", plan.container_name(s),
           *_label_options(s.labels)]
    if mounts:
        commands.append(Command(("docker", "create", "--name", holder, *label, *_label_options(pod.identity_labels()),
                                 *mounts, "--", plan.data_image if plan.volumes else s.image), quiet))
        run += ["--volumes-from", f"{holder}:ro"]
    run += writable_mount_options(s, names)
    run += ["--network", f"container:{sandbox}"]
    if s.user:
        run += ["--user", s.user]
    for g in s.group_add:
        run += ["--group-add", g]
    if s.read_only_rootfs:
        run.append("--read-only")
    run += _run_security(s)
    if s.working_dir:
        run += ["--workdir", s.working_dir]
    for k, v in s.env.plain.items():
        run += ["-e", f"{k}={v}"]
    files = env_files(s)
    if docker_env_file_path(s) in files:
        run += ["--env-file", docker_env_file_path(s)]
    run += [w for k in s.env.exported for w in ("-e", k)]  # from the exports file, never argv
    if s.health:
        run += s.health.run_options()
    if s.restart != "no" and not s.init:
        run += ["--restart", s.restart]
    if s.entrypoint is not None:
        run += ["--entrypoint", s.entrypoint[0] if s.entrypoint else ""]
    # "--": an image named like an option ("--privileged") is an image (and refused), not an option.
    run += ["--", s.image, *(s.entrypoint[1:] if s.entrypoint else []), *(s.command or [])]
    commands.append(Command(tuple(run), quiet if not s.init else "",
                            exports_file_path(s) if exports_file_path(s) in files else None))
    return commands


def store_commands(plan: AppPlan) -> list[Command]:
    """docker.sh: create each writable volume not filled from the data image (a claim that exists is
    kept: ``docker volume create`` of an existing name is a no-op)."""
    out = []
    for v in plan.stores:
        opts = [w for k, x in v.driver_opts.items() for w in ("--opt", f"{k}={x}")]
        driver = ["--driver", "local"] if opts else []
        labels = [w for k, x in store_labels(plan, v).items() for w in ("--label", f"{k}={x}")]
        out.append(Command(("docker", "volume", "create", *driver, *opts, *labels, "--", v.docker_name), " >/dev/null"))
    return out


def writable_mount_options(s: ServicePlan, names: dict[str, str]) -> list[str]:
    """docker.sh: a service's writable volumes, hostPath binds and termination-message file, on its own ``docker run`` (a
    ``--volumes-from NAME:ro`` holder would make them read-only)."""
    out = []
    for m in s.volumes:
        if not m.read_only:
            out += ["--mount", _mount_option("volume", names[m.volume], m.target, "volume-nocopy")]
    for h in s.host_paths:
        out += ["--mount", _mount_option("bind", h.source, h.target, "readonly" if h.read_only else "")]
    if s.termination:
        out += ["--mount", _mount_option("bind", f"{PWD_MARK}/{s.termination_file}", s.termination, "")]
    return out


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


def _run_security(s: ServicePlan) -> list[str]:
    """``docker run`` options for the same settings as ``_compose_security``."""
    sec, out = s.security, []
    out += [w for c in sec.cap_add for w in ("--cap-add", c)]
    out += [w for c in sec.cap_drop for w in ("--cap-drop", c)]
    if sec.privileged:
        out.append("--privileged")
    out += [w for o in sec.security_opt for w in ("--security-opt", o)]
    out += [w for k, v in sec.sysctls.items() for w in ("--sysctl", f"{k}={v}")]
    if sec.memory is not None:
        out += ["--memory", str(sec.memory)]
    if sec.cpus is not None:
        out += ["--cpus", sec.cpus]
    return out


def _mount_option(kind: str, source: str, target: str, flag: str) -> str:
    """A ``--mount`` value: CSV, as the docker CLI reads it, so a target holding ',' '=' ':' or '"'
    stays one field (``-v`` would split it at ':')."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([f"type={kind}", f"src={source}", f"dst={target}"] + ([flag] if flag else []))
    return buf.getvalue()


def docker_script(plan: AppPlan) -> str:
    """``sh docker.sh`` starts, ``sh docker.sh down`` removes everything (secret-bearing image included).
    Every word is quoted and every docker command ends its options with ``--``: no name, path or
    value from a manifest can become a command or an option."""
    p = plan.project
    project_filter = _q(f"label={LABEL_PROJECT}={p}")
    lines = [
        "#!/bin/sh",
        f"# Generated by parity from {one_line(plan.subject)}: the same containers and mounts as {COMPOSE_FILE},",
        "# with plain docker commands. A data-only container per app container holds that container's",
        "# mounts at its own paths; the app takes them with --volumes-from NAME:ro (read-only, as in the cluster).",
        "# Each pod's containers share its sandbox's network namespace (--network container:SANDBOX).",
    ]
    if any(s.health for s in plan.services):
        lines.append("# Health checks (from probes) run through the image's /bin/sh here (docker run --health-cmd is "
                     f"always a shell command); {COMPOSE_FILE} and parity up run the probe's argv directly.")
    lines += [
        "set -eu",
        'cd "$(dirname "$0")"',
        "",
        "down() {",
        f"    ids=$(docker ps -aq --filter {project_filter})",
        '    [ -z "$ids" ] || docker rm -f -v $ids >/dev/null',
        f"    vols=$(docker volume ls -q --filter {project_filter})",
        # A claim's volume is the app's data: kept unless asked (sh docker.sh down --delete-claims).
        f"    claims=$(docker volume ls -q --filter {project_filter} --filter {_q(f'label={LABEL_ROLE}={ROLE_CLAIM}')})",
        '    if [ "${1:-}" != --delete-claims ]; then',
        '        for c in $claims; do vols=$(printf \'%s\\n\' $vols | grep -vxF -- "$c" || true); done',
        '        [ -z "$claims" ] || echo "kept the claims\' volumes: $(echo $claims) (sh $0 down --delete-claims removes them)" >&2',
        '    fi',
        '    [ -z "$vols" ] || docker volume rm $vols >/dev/null',
        f"    nets=$(docker network ls -q --filter {project_filter})",
        '    [ -z "$nets" ] || docker network rm $nets >/dev/null',
        f"    docker image rm -- {_q(plan.data_image)} >/dev/null 2>&1 || true",
        "}",
        'if [ "${1:-up}" = down ]; then down "${2:-}"; exit 0; fi',
        *_script_run(plan),
        "down  # start from nothing: no stale volume may serve old secrets",
        "",
    ]
    checks = hostpath.shell_lines([h for s in plan.services for h in s.host_paths])
    if checks:
        lines += ["# hostPath volumes: the kubelet's type checks, on this host (they reach into it).", *checks, ""]
    for i, (what, commands) in enumerate(_script_steps(plan), 1):
        lines.append(f"# {i}. {what}")
        lines += [("DOCKER_BUILDKIT=0 " if c.argv[:2] == ("docker", "build") else "") + c.line() for c in commands]
        lines.append("")
    lines.pop()
    lines += [""] + [f"echo {_q(f'{p.workload_ref} is never scheduled: run it once with: sh ')}\"$0\""
                     f"{_q(' run ' + script_run_name(p))}" for p in on_demand_pods(plan)]
    lines += [f"echo {_q(f'started {plan.subject}; remove everything with: sh ')}\"$0\"' down'", ""]
    return "\n".join(lines)


def _script_run(plan: AppPlan) -> list[str]:
    """docker.sh's ``run NAMESPACE/KIND/NAME``: runs an on-demand pod (a CronJob's: never scheduled,
    ``sh docker.sh`` starts none) once, its earlier run's containers removed first, into the
    volumes and network ``sh docker.sh`` made; exits with its app containers' code, their logs shown."""
    pods = on_demand_pods(plan)
    if not pods:
        return []
    networks = pod_networks(plan)
    lines = ["run() {  # sh docker.sh run NAMESPACE/KIND/NAME: an on-demand pod, once", '    case "${1:-}" in']
    for pod in pods:
        names = [plan.sandbox_container(pod)] + [n for s in pod.services
                                                 for n in (plan.container_name(s), plan.mounts_container(s))]
        apps = [plan.container_name(s) for s in pod.services if not s.init]
        lines.append(f"    {_q(script_run_name(pod))})")
        lines.append(f"        docker network inspect -- {_q(plan.network)} >/dev/null 2>&1 || "
                     "{ echo 'docker.sh: run: start the app first: sh docker.sh' >&2; exit 2; }")
        lines.append("        docker rm -f -v -- " + " ".join(map(_q, names)) + " >/dev/null 2>&1 || true")
        lines += ["        " + c.line() for c in pod_commands(plan, pod, networks[plan.pods.index(pod)])]
        for name in apps:
            lines += [f"        code=$(docker wait -- {_q(name)})", f"        docker logs -- {_q(name)}",
                      '        [ "$code" = 0 ] || exit "$code"']
        lines.append("        ;;")
    there_are = ", ".join(script_run_name(p) for p in pods)
    lines += ["    *) echo " + _q(f"docker.sh: run: no on-demand workload named so; there are: {there_are}")
              + " >&2; exit 2;;", "    esac", "}", 'if [ "${1:-up}" = run ]; then run "${2:-}"; exit 0; fi']
    return lines


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
