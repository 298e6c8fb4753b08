"""A Docker plan as docker.sh: the article's data-only-container flow with plain ``docker`` commands,
where ``--volumes-from NAME:ro`` is honoured. Every word is quoted and every command ends its options
with ``--``; ``sh docker.sh down`` removes everything, ``sh docker.sh run NS/KIND/NAME`` runs an
on-demand pod once.
"""

from __future__ import annotations

import csv
import io
import shlex
from dataclasses import dataclass

from . import hostpath
from .emit import (COMPOSE_FILE, DATA_DIR, docker_env_file_path, env_files, exports_file_path, on_demand_pods,
                   one_line, script_run_name, store_labels)
from .labels import LABEL_PROJECT, LABEL_ROLE, ROLE_CLAIM
from .plan import TMPFS, AppPlan, PodPlan, ServicePlan, pod_networks, sandbox_command


def _q(text: str) -> str:
    return shlex.quote(text)


#: In docker.sh, a bind source is the one part of a word that is not a literal: the script's own
#: directory (``$PWD``, after ``cd "$(dirname "$0")"``). In a ``Command``'s argv it stands as this
#: mark, which no generated path holds, and only ever inside a double-quoted CSV field of a
#: ``--mount`` value: docker reads ``--mount`` with Go's encoding/csv (docker/cli opts/mount.go), so
#: a directory holding ',' would split the field and one holding '"' would be refused. The script
#: puts there ``$(pwd_csv)``: ``$PWD`` with each '"' doubled (``PWD_CSV_FUNCTION``), when it runs.
PWD_MARK = "\x00PWD\x00"

#: docker.sh's function ``pwd_csv`` (see ``PWD_MARK``): POSIX sh (dash), parameter expansions only. A
#: function, not a variable: a command's exports file is sourced before its words are expanded, and a
#: container's variable must not be able to change a bind source (env.shell_exportable keeps PWD out).
PWD_CSV_FUNCTION = [
    "pwd_csv() {  # the script's directory as it stands in a quoted CSV field of --mount (docker reads it as CSV)",
    "    rest=$PWD escaped=",
    "    while :; do",
    "        case $rest in",
    "            *\\\"*) escaped=$escaped${rest%%\\\"*}'\"\"'; rest=${rest#*\\\"} ;;",
    "            *) printf '%s' \"$escaped$rest\"; return ;;",
    "        esac",
    "    done",
    "}",
]


def script_word(word: str, directory: str) -> str:
    """A word of a ``Command``'s argv as docker receives it when docker.sh runs in ``directory``.

    Args:
        word: one element of ``Command.argv``.
        directory: the script's directory (its ``$PWD``).

    Returns:
        The word with ``PWD_MARK`` replaced by the directory, escaped for the quoted CSV field it stands in.
    """
    return word.replace(PWD_MARK, directory.replace('"', '""'))


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
            words.append(_q(before) + '"$(pwd_csv)"' + _q(after) if mark else _q(w))
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
    never = ["--pull", "never"] if s.pull_never else []  # (docker CLI 20.10 and later)
    run = ["docker", "run", *(["-d"] if not s.init else ["--rm"]), "--name", plan.container_name(s), *never,
           *_label_options(s.labels)]
    if mounts:
        commands.append(Command(("docker", "create", "--name", holder, *label, *_label_options(pod.identity_labels()),
                                 *mounts, *([] if plan.volumes else never), "--",
                                 plan.data_image if plan.volumes else s.image), quiet))
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


def _run_security(s: ServicePlan) -> list[str]:
    """``docker run`` options for the same settings as ``composefile._compose_security``."""
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
    stays one field (``-v`` would split it at ':'). A source under the script's directory
    (``PWD_MARK``) is always a quoted field: what the directory holds is known only when it runs."""
    buf = io.StringIO()
    fields = [f"type={kind}", f"src={source}", f"dst={target}"] + ([flag] if flag else [])
    if PWD_MARK not in source:
        csv.writer(buf, lineterminator="").writerow(fields)
        return buf.getvalue()
    csv.writer(buf, lineterminator="").writerow(fields[:1])
    buf.write(',"' + fields[1].replace('"', '""') + '",')
    csv.writer(buf, lineterminator="").writerow(fields[2:])
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
        *PWD_CSV_FUNCTION,
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
