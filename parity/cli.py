"""The ``parity`` command line: arguments, calling the pipeline pieces, rendering, exit codes.

Heavy libraries (``docker``, ``kubernetes``) are imported inside the commands that need them, so
``parity layout`` and ``parity --help`` start fast.
"""

from __future__ import annotations

from .gcpause import pause, resume

# The collector is paused while click and this module load (the imports and the commands'
# decorators: ~3 ms of collections over objects that live as long as the process), and runs again
# at the end of this module (``resume``), for any program that imports it.
_collector_was_running = pause()

import functools
import gc
import os
import signal
import sys

import click

from . import __version__
from .docker import DEFAULT_BASE_IMAGE
from .errors import ParityError, error_line
from .output import Painter, colour_enabled, dump_json, printable

#: MANIFEST...: files, directories or "-"; typed as paths so that shells complete file names.
MANIFESTS_ARGUMENT = click.argument("manifests", nargs=-1, type=click.Path(allow_dash=True))
PUBLISH_OPTION = click.option(
    "--publish", type=click.Choice(["default", "all", "none"]), default="default", show_default=True,
    help="Which Service ports go on the host: default = those of NodePort and LoadBalancer Services (at "
         "the nodePort, else the port), all = every Service's, none.")
FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Output format.")
WORKLOAD_OPTION = click.option("--workload", multiple=True, metavar="[NS/]KIND/NAME",
                               help="Only this workload (deploy/api, team-a/sts/db, deployment.apps/api); "
                                    "repeatable. Without NS: in -n's namespace, or the one namespace that has "
                                    "it. Named, a Helm hook is taken too.")
SECRETS_OPTION = click.option("--secrets", "secret_paths", multiple=True, metavar="PATH", type=click.Path(),
                              help="More Secrets/ConfigMaps: manifest files, or a directory of files "
                                   "(NAME=DIR or DIR, as kubectl create secret generic --from-file).")
PROJECT_OPTION = click.option("-p", "--project", "project", metavar="NAME",
                              help="Project name, as Compose's -p (default: parity-KIND-NAME). Names the "
                                   "compose project, containers, volumes and images; up, status and down "
                                   "of one project never touch another's.")
NAMESPACE_OPTION = click.option("--namespace", "-n", default=None,
                                help="Namespace of objects that name none [default], and of a --workload "
                                     "KIND/NAME (without -n: the one namespace that has it); with --from-cluster, "
                                     "the namespace to read (default: the context's).")


def _checked_project(value: str | None) -> str | None:
    """``-p NAME`` checked as Compose checks a project name (exit 2, one line, otherwise)."""
    from .docker.plan import check_project_name

    if value is not None:
        try:
            check_project_name(value)
        except ValueError as exc:
            raise ParityError(f"-p/--project: {exc}") from None
    return value


def cluster_options(fn):
    """--from-cluster KIND/NAME, --context, --kubeconfig: read the workload from a cluster instead."""
    fn = click.option("--kubeconfig", metavar="FILE", type=click.Path(dir_okay=False),
                      help="kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster).")(fn)
    fn = click.option("--context", help="kubeconfig context (default: current-context).")(fn)
    return click.option("--from-cluster", "from_cluster", metavar="KIND/NAME",
                        help="Read the workload and its Secrets/ConfigMaps from a cluster (deploy/api, pod/x).")(fn)


def _meta_option(*decls: str, key: str, **kwargs):
    """An option whose value goes to the click context's ``meta["parity.KEY"]`` (read where inputs
    are gathered, ``_meta``) instead of every command's signature."""
    return click.option(*decls, key, expose_value=False,
                        callback=lambda ctx, param, value: ctx.meta.__setitem__(f"parity.{key}", value), **kwargs)


def _meta(key: str, default=None):
    """A ``_meta_option``'s value in the running command (``default`` outside one)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(f"parity.{key}", default) if ctx else default


SKIP_NON_KUBERNETES_OPTION = _meta_option(
    "--skip-non-kubernetes", key="skip_non_kubernetes", is_flag=True,
    help="Leave out YAML documents that are not Kubernetes objects (no apiVersion or kind: a compose file, "
         "Helm values, a CI config beside the manifests), with a warning, instead of refusing them.")


def selection_options(fn):
    """Which workloads beside --workload: -l/--selector, --include-hooks (read by ``_select``)."""
    fn = _meta_option("--include-hooks", key="include_hooks", is_flag=True,
                      help="Keep Helm hooks and test pods (objects annotated helm.sh/hook), left out by "
                           "default: Helm runs them around an install or for helm test, not as the app.")(fn)
    return _meta_option("-l", "--selector", key="selector", metavar="SELECTOR",
                        help="Only workloads whose pod template labels match, as kubectl -l: app=api, "
                             "tier!=db, 'env in (dev,qa)', 'env notin (prod)', release, '!canary'.")(fn)


def _select(inputs, workload: tuple[str, ...], namespace: str | None, include_hooks: bool = False):
    """The workloads a command works on (``select_workloads`` with -l and --include-hooks); what it
    left out (Helm hooks, what a controller in the input makes) is said on stderr, never silently."""
    from .kube.selection import select_workloads

    chosen = select_workloads(inputs, workload, namespace=namespace, label_selector=_meta("selector"),
                              include_hooks=include_hooks or bool(_meta("include_hooks")))
    for line in chosen.left_out_lines():
        click.echo(error_line(f"parity: {line}"), err=True)
    return chosen


def kubectl_input_options(fn):
    """kubectl's input flags, beside MANIFEST...: -f FILE|DIR|- (repeatable), -R, -k DIR."""
    fn = _meta_option("-k", "--kustomize", key="kustomize", multiple=True, metavar="DIR",
                      type=click.Path(file_okay=False),
                      help="A kustomization, rendered as kubectl apply -k does (kubectl kustomize, else "
                           "kustomize build).")(fn)
    fn = _meta_option("-R", "--recursive", key="recursive", is_flag=True,
                      help="With -f: read the directories below a -f directory too.")(fn)
    return _meta_option("-f", "--filename", key="filename", multiple=True, metavar="FILE|DIR|-",
                        type=click.Path(allow_dash=True),
                        help="Manifests, as kubectl -f: a file, a directory's own files (-R: all below it), "
                             "or - for stdin. Repeatable.")(fn)


def _inputs_of(manifests: tuple[str, ...]) -> list:
    """MANIFEST... with -f/-R/-k (kubectl's semantics), as ``load_inputs`` takes them."""
    from .kube.sources import gather

    return gather(manifests, _meta("filename", ()), bool(_meta("recursive")), _meta("kustomize", ()))


def workload_options(fn):
    """Where the workload comes from: --secrets, --workload, --namespace and the cluster options."""
    for option in (cluster_options, NAMESPACE_OPTION, selection_options, WORKLOAD_OPTION,
                   SKIP_NON_KUBERNETES_OPTION, SECRETS_OPTION, kubectl_input_options):  # bottom-up
        fn = option(fn)
    return fn


#: True when this process runs one command and ends with it (``run``, the console entry point), not
#: when ``main`` is called in another program's process.
_one_shot = False

#: Characters of ``parity layout --format json`` written at a time (see ``layout``).
_JSON_BATCH = 1 << 18


def run() -> None:
    """The ``parity`` console script and ``python -m parity.cli``."""
    global _one_shot
    _one_shot = True
    from .about import COMPLETE_VAR

    main(prog_name="parity", complete_var=COMPLETE_VAR)


def _exit_now(code: int = 0) -> None:
    """End a one-shot process at once, without freeing its objects one by one: after ``parity
    layout`` over 10k manifests that teardown is 5% of the run (mypy exits the same way), and after
    a live diff, with the Docker SDK loaded, 60-70 ms of it. Output is flushed first; if that fails
    (a closed pipe), the normal exit path reports it as usual. Only where nothing is left to do at
    exit: no temporary file, no command or thread still running.

    Args:
        code: the exit status.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return
    os._exit(code)


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: temporary secret copies are removed


def handle_errors(fn):
    """Bad input and failed operations: one line per problem on stderr, exit 2, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        signal.signal(signal.SIGTERM, _terminate)
        try:
            return fn(*args, **kwargs)
        except ParityError as exc:
            for problem in exc.problems:
                click.echo(error_line(f"parity: {problem}"), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("parity: interrupted", err=True)
            sys.exit(130)

    return wrapper


def _only_one(workloads) -> None:
    """Commands that produce one setup need one workload."""
    if len(workloads) > 1:
        raise ParityError(f"{len(workloads)} workloads found ({', '.join(w.ref for w in workloads)}); "
                          "pick one with --workload KIND/NAME")


def _epoch() -> int:
    try:
        return int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    except ValueError:
        raise ParityError("SOURCE_DATE_EPOCH must be a whole number of seconds") from None


def load_layouts(manifests: tuple[str, ...], secret_paths: tuple[str, ...], namespace: str | None,
                 workload: tuple[str, ...], from_cluster: str | None = None, context: str | None = None,
                 kubeconfig: str | None = None):
    """manifests or a cluster (+ --secrets) -> the selected workloads and their predicted layouts."""
    from .kube.kubelet import build_layouts
    from .kube.manifests import check_namespace, load_inputs
    from .kube.secretdirs import load_secret_paths

    if namespace:
        check_namespace(namespace)
    given_namespace = namespace
    if from_cluster:
        if manifests or workload or _meta("selector") is not None or _meta("filename") or _meta("kustomize"):
            raise ParityError("give MANIFEST... (with --workload or -l) or --from-cluster, not both")
        from .kube.cluster import load_from_cluster

        inputs = load_from_cluster(from_cluster, context=context, namespace=namespace, kubeconfig=kubeconfig)
        namespace = inputs.workloads[0].namespace if inputs.workloads else namespace
    else:
        if context or kubeconfig:
            raise ParityError("--context and --kubeconfig need --from-cluster")
        sources = _inputs_of(manifests)
        if not sources:
            raise ParityError("no MANIFEST given (a file, a directory, or - for stdin; or -f, -k), and no "
                              "--from-cluster")
        namespace = namespace or "default"
        inputs = load_inputs(sources, namespace, bool(_meta("skip_non_kubernetes")))
    if secret_paths:
        inputs.merge(load_secret_paths(list(secret_paths), namespace or "default"))
    for warning in inputs.warnings:
        click.echo(error_line(f"parity: warning: {warning}"), err=True)
    workloads = _select(inputs, workload, given_namespace, include_hooks=bool(from_cluster))
    for w in workloads:  # what the chosen workloads mount and parity does not reproduce: never silent
        for _, mount, note in w.spec.unreproduced_mounts():
            click.echo(f"parity: warning: {w.file}: {w.ref}: {mount.field}: {note}", err=True)
    return inputs, workloads, build_layouts(inputs, workloads, _epoch())


def _pod_to_observe(from_cluster: str | None) -> str:
    """The name of the pod --observed reads: --from-cluster must be pod/NAME."""
    from .kube.selection import parse_kind_name

    kind, name = parse_kind_name(from_cluster, "--from-cluster") if from_cluster else (None, None)
    if kind != "Pod":
        raise ParityError("--observed reads a running pod: give --from-cluster pod/NAME")
    return name


def examples(*lines: str) -> str:
    """A command's help epilog: example command lines, kept as written (click's \\b)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             invoke_without_command=True,
             epilog=examples("parity layout manifests/api-gateway",
                             "parity k8s-to-docker manifests/api-gateway -o out",
                             "parity diff manifests/api-gateway --compose out/compose.yaml --live",
                             "parity up manifests/api-gateway && parity status",
                             "parity completion bash > /etc/bash_completion.d/parity"))
@click.version_option(__version__, prog_name="parity")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Make Docker and Compose give each container the files Kubernetes gives it.

    Exit codes: 0 same/ok, 1 differences, 2 error."""
    if ctx.invoked_subcommand is None:  # bare `parity`: the help, as a successful answer
        click.echo(ctx.get_help())


@main.command(short_help="Print the file layout each container sees in the cluster.",
              epilog=examples("parity layout manifests/api-gateway",
                              "parity layout deploy.yaml --workload deploy/api -c app --format json",
                              "helm template my-chart | parity layout -",
                              "parity layout --from-cluster pod/api-0 --observed"))
@MANIFESTS_ARGUMENT
@WORKLOAD_OPTION
@selection_options
@click.option("--container", "-c", help="Only this container.")
@kubectl_input_options
@SECRETS_OPTION
@SKIP_NON_KUBERNETES_OPTION
@NAMESPACE_OPTION
@cluster_options
@click.option("--observed", is_flag=True,
              help="With --from-cluster pod/NAME: list what the running container really has (one exec).")
@FORMAT_OPTION
@handle_errors
def layout(manifests, workload, container, secret_paths, namespace, from_cluster, context, kubeconfig, observed,
           fmt):
    """Print the in-cluster file layout each container sees (predicted from the kubelet's rules, or
    observed in a running pod)."""
    if _one_shot:
        gc.disable()  # over acyclic data, collections would only walk the growing heap
    left_out: list[dict] = []
    if observed:
        from .kube.observe import observed_layout

        layouts = [observed_layout(_pod_to_observe(from_cluster), container=container, context=context,
                                   namespace=namespace, kubeconfig=kubeconfig)]
    else:
        _, chosen, layouts = load_layouts(manifests, secret_paths, namespace, workload, from_cluster, context,
                                          kubeconfig)
        left_out = chosen.left_out_json()
    if container:
        names = sorted({c.name for w in layouts for c in w.containers})
        for w in layouts:
            w.containers = [c for c in w.containers if c.name == container]
        if not any(w.containers for w in layouts):
            raise ParityError(f"--container {container}: no such container (there are: {', '.join(names)})")
    if fmt == "json":
        # In parts, as they are written (the whole text is never held), and as bytes: the text is ASCII
        # (json escapes the rest), so there is nothing for click to re-encode nor to scan for colours.
        from .layout import document_parts

        # About 256 KiB at a time: click.echo flushes each write (three system calls a workload
        # otherwise: ~1,000 for 1k documents), and a part is about one workload.
        batch: list[str] = []
        size = 0
        for part in document_parts(layouts, left_out):
            batch.append(part)
            size += len(part)
            if size >= _JSON_BATCH:
                click.echo("".join(batch).encode("ascii"), nl=False)
                batch, size = [], 0
        click.echo("".join(batch).encode("ascii"), nl=False)
    else:
        from .render import layout_text  # (with the Docker side's health wording: text only)

        click.echo(layout_text(layouts, Painter(colour_enabled())), nl=False)
    if _one_shot and not from_cluster:  # (the kubernetes client removes temporary files at exit)
        _exit_now()


@main.command("k8s-to-docker", short_help="Write the data image, compose.yaml and docker.sh for the workloads.",
              epilog=examples("parity k8s-to-docker manifests/api-gateway -o out",
                              "docker compose -f out/compose.yaml up -d --build",
                              "parity k8s-to-docker app.yaml --secrets api-secrets=./secrets -o out --force"))
@MANIFESTS_ARGUMENT
@click.option("-o", "--output", "output", type=click.Path(), help="Output directory [./parity-out/NAME; for several workloads ./parity-out/PROJECT].")
@workload_options
@click.option("--flat", is_flag=True, help="Drop the kubelet's ..data structure: user-visible files only.")
@click.option("--base-image", default=DEFAULT_BASE_IMAGE, show_default=True,
              help="Base of the data image (needs a `true` command: Compose starts every service).")
@click.option("--force", is_flag=True, help="Replace a non-empty output directory.")
@PUBLISH_OPTION
@PROJECT_OPTION
@FORMAT_OPTION
@handle_errors
def k8s_to_docker(manifests, output, secret_paths, workload, namespace, from_cluster, context, kubeconfig, flat,
                  base_image, force, publish, project, fmt):
    """Write a data-only image, docker commands and a compose file that give each container the
    files, modes, owners and read-only mounts it gets in the cluster: every workload of the input as
    one environment (one compose project), or those --workload selects."""
    from pathlib import Path

    from .docker.generate import generate

    from .docker.planner import build_app_plan
    from .render import generated_text

    inputs, workloads, layouts = load_layouts(manifests, secret_paths, namespace, workload, from_cluster, context,
                                              kubeconfig)
    try:
        plan = build_app_plan(workloads, layouts, inputs, flat=flat, base_image=base_image, publish=publish,
                              project=_checked_project(project))
    except ValueError as exc:
        raise ParityError(str(exc)) from None
    # One workload: ./parity-out/NAME (as before apps); several: ./parity-out/PROJECT.
    dest = Path(output) if output else Path("parity-out") / (plan.pods[0].name if len(plan.pods) == 1 else plan.project)
    read = tuple(manifests) + tuple(p.partition("=")[2] if "=" in p else p for p in secret_paths)
    result = generate(plan, dest, force=force, mtime=_epoch(), inputs=read)
    if fmt == "json":
        click.echo(dump_json(result.to_json(plan)), nl=False)
        return
    click.echo(generated_text(result, plan, Painter(colour_enabled())), nl=False)


@main.command(short_help="Check a compose setup or a running pod against the cluster's files.",
              epilog=examples("parity diff manifests/api-gateway --compose out/compose.yaml",
                              "parity diff manifests/api-gateway --compose out/compose.yaml --live",
                              "parity diff app.yaml --compose compose.yaml --map app=web --format json",
                              "parity diff app.yaml --pod api-0"))
@MANIFESTS_ARGUMENT
@click.option("--compose", "compose_files", metavar="FILE", type=click.Path(), multiple=True,
              help="The compose setup to check; repeat to merge files in order, as Compose's -f [default: as "
                   "docker compose picks them: COMPOSE_FILE, else compose.yaml (or docker-compose.yml...) here or "
                   "above, with its compose.override.yaml].")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="Enable a compose profile, as Compose's --profile (COMPOSE_PROFILES is honoured too).")
@click.option("--pod", "pod", metavar="NAME",
              help="Instead of a compose setup: a running pod in the cluster (does the model hold there?).")
@workload_options
@click.option("--observed", is_flag=True,
              help="With --from-cluster pod/NAME: the expected side is what that running pod really has.")
@click.option("--map", "mappings", multiple=True, metavar="CONTAINER=SERVICE",
              help="Pair a pod container with a differently named service (in a whole app the container is named "
                   "as parity names its service: WORKLOAD_CONTAINER).")
@click.option("--live", is_flag=True, help="Check with a real engine: bring the setup up in a throw-away project.")
@click.option("-p", "--project", "running", metavar="NAME",
              help="With --live: inspect this running compose project.")
@click.option("--allow-host-access", is_flag=True,
              help="With --live: run services that reach into the host (privileged, host namespaces, added "
                   "capabilities beyond Docker's default set, devices, the engine socket, host paths outside the "
                   "project directory); without it such a setup is refused before anything runs.")
@click.option("--timeout", type=click.IntRange(min=1), metavar="SECONDS",
              help="With --live: how long each wait may take (a compose command, an engine request) "
                   "before the throw-away project is removed and the diff fails  [default: 120].")
@click.option("--ignore", "ignores", multiple=True, type=click.Choice(["structure", "owners", "modes"]),
              help="Leave a class of differences out.")
@FORMAT_OPTION
@handle_errors
def diff(manifests, compose_files, profiles, pod, secret_paths, workload, namespace, from_cluster, context, kubeconfig,
         observed, mappings, live, running, allow_host_access, timeout, ignores, fmt):
    """Say whether each container sees the files the cluster gives it: a compose setup (--compose,
    statically or --live) or a running pod (--pod) against the prediction (or, with --observed, against
    a running pod). Every selected workload is checked against the one compose setup, each container
    paired with the service parity names for it; containers and services left unpaired are reported.
    Exit 0 when equal, 1 when different, 2 on error."""
    from .docker.compose import load_compose, start_config

    if not compose_files and not pod:
        from .docker.compose import discover_compose_files

        compose_files = discover_compose_files()  # as `docker compose` with no -f
        if not compose_files:
            raise ParityError("say what to check: --compose FILE or --pod NAME (no compose.yaml here)")
    if compose_files and pod:
        raise ParityError("say what to check: --compose FILE or --pod NAME, not both")
    if running and not live:
        raise ParityError("--project needs --live")
    if allow_host_access and not live:
        raise ParityError("--allow-host-access needs --live")
    if timeout is not None and not live:
        raise ParityError("--timeout needs --live")
    mapping = {}
    for m in mappings:
        container, sep, service = m.partition("=")
        if not sep or not container or not service:
            raise ParityError(f"--map {m}: expected CONTAINER=SERVICE")
        mapping[container] = service
    # Compose reads the file (0.2-0.5 s, another process) while this one imports and reads the manifests;
    # a diff that fails before reading it stops it.
    started = start_config(compose_files, running, profiles) if compose_files and not pod else None
    if started is not None:
        click.get_current_context().call_on_close(started.cancel)
    from .diff import Expected, check_mapping, live_diff, pod_diff, refuse_host_access, static_diff
    from .docker.liveproject import DEFAULT_TIMEOUT
    from .render import diff_text

    if observed:
        from .diff import ENVIRONMENT_NOT_COMPARED, POD_FACETS_NOTE, WRITABLE_NOTE
        from .kube.observe import read_pod

        seen = read_pod(_pod_to_observe(from_cluster), context=context, namespace=namespace, kubeconfig=kubeconfig)
        mounted = seen.mounted()
        writable = any(m.writable_volume for c in mounted.containers for m in c.mounts)
        notes = [f"{'init container' if c.init else 'container'} {c.name} is not running: not listed"
                 for c in seen.unlisted]
        expected = Expected([mounted], [seen.workload], notes + [WRITABLE_NOTE] * writable
                            + [POD_FACETS_NOTE, ENVIRONMENT_NOT_COMPARED], frozenset(c.name for c in seen.unlisted))
    else:
        # With manifests, --context/--kubeconfig name the cluster of --pod only.
        reads_cluster = bool(from_cluster) or not pod
        inputs, workloads, layouts = load_layouts(manifests, secret_paths, namespace, workload, from_cluster,
                                                  context if reads_cluster else None,
                                                  kubeconfig if reads_cluster else None)
        # a whole app: every selected workload against one project
        expected = Expected(layouts, workloads, inputs=inputs)
    if pod:
        from .kube.observe import read_pod

        _only_one(expected.workloads)  # one running pod is one workload's
        actual = read_pod(pod, context=context, namespace=namespace, kubeconfig=kubeconfig)
        report = pod_diff(expected, actual, frozenset(ignores))
    else:
        importing = None
        # While Compose normalises a running project's file; a throw-away copy's up starts sooner without it
        # (the import holds the interpreter's lock) and the SDK is imported while the up runs.
        if live and running:
            from .docker.liveproject import import_engine_client_meanwhile

            importing = import_engine_client_meanwhile()
        project = load_compose(compose_files, running, profiles, started=started)
        check_mapping(expected, project, mapping)
        if live:
            if not running and not allow_host_access:
                refuse_host_access(project)
            report = live_diff(expected, project, mapping, frozenset(ignores), running, timeout or DEFAULT_TIMEOUT,
                               importing=importing)
        else:
            report = static_diff(expected, project, mapping, frozenset(ignores))
    if fmt == "json":
        click.echo(dump_json(report.to_json()), nl=False)
    else:
        click.echo(diff_text(report, Painter(colour_enabled())), nl=False)
    if _one_shot and live and not (pod or observed or from_cluster):  # (the kubernetes client removes files at exit)
        # The throw-away project and its temporary directory are gone (``live_project`` returned), the
        # SDK's import thread was joined when it connected, Compose's config was read: nothing is left
        # for the interpreter's own teardown to do but free the SDK's objects one by one.
        if started is not None:
            started.cancel()  # (it has ended: a no-op, said for the record)
        _exit_now(report.exit_code)
    sys.exit(report.exit_code)


def _app_plan(manifests, secret_paths, namespace, workload, from_cluster=None, context=None, kubeconfig=None,
              **plan_options):
    """Every selected workload's Docker plan as one app, and their predicted layouts (up)."""
    from .docker.planner import build_app_plan

    inputs, workloads, layouts = load_layouts(manifests, secret_paths, namespace, workload, from_cluster, context,
                                              kubeconfig)
    try:
        return build_app_plan(workloads, layouts, inputs, **plan_options), layouts
    except ValueError as exc:
        raise ParityError(str(exc)) from None


@main.command(short_help="Build, create and start the app's workloads locally (idempotent).",
              epilog=examples("parity up manifests/api-gateway",
                              "parity up app.yaml --workload deploy/api -p api-dev"))
@MANIFESTS_ARGUMENT
@workload_options
@PUBLISH_OPTION
@PROJECT_OPTION
@FORMAT_OPTION
@click.option("--timeout", type=click.IntRange(1, 86400), metavar="SECONDS",
              help="Longest wait for the engine: each request, the data image build, each init container "
                   "[default: 300].")
@click.option("--wait", "wait", is_flag=True,
              help="Then wait until every container runs (healthy where it has a probe; a Job's: exited 0); "
                   "exit 1 naming each that exited, crash-loops or is unhealthy.")
@click.option("--wait-timeout", type=click.IntRange(1, 86400), default=120, show_default=True, metavar="SECONDS",
              help="With --wait: how long to wait.")
@handle_errors
def up(manifests, secret_paths, workload, namespace, from_cluster, context, kubeconfig, publish, project, fmt,
       timeout, wait, wait_timeout):
    """Build, create and start every selected workload's containers with the cluster's files, as one
    environment (one project: -p, or the app's default). Idempotent; a changed Secret reaches
    running containers through the kubelet's atomic ..data swap. With --wait, exit 1 when a container
    is not up (its logs are never printed: see them with docker logs NAME)."""
    from .output import Progress
    from .render import up_text
    from .up import up as do_up

    plan, layouts = _app_plan(manifests, secret_paths, namespace, workload, from_cluster, context, kubeconfig,
                              project=_checked_project(project), publish=publish)
    result = do_up(plan, layouts, Progress(), timeout, wait_timeout if wait else None)
    if fmt == "json":
        click.echo(dump_json(result.to_json()), nl=False)
    else:
        click.echo(up_text(result, Painter(colour_enabled())), nl=False)
    for line in result.problems:
        click.echo(f"parity: {printable(line)}", err=True)
    if result.problems:
        sys.exit(1)


@main.command(short_help="Remove what parity up made for a workload or project.",
              epilog=examples("parity down manifests/api-gateway",
                              "parity down --workload deploy/api",
                              "parity down -p api-dev"))
@MANIFESTS_ARGUMENT
@WORKLOAD_OPTION
@selection_options
@click.option("--namespace", "-n", default=None,
              help="Namespace of objects that name none [default], and of a --workload KIND/NAME (without -n: "
                   "the one namespace that has it).")
@kubectl_input_options
@SKIP_NON_KUBERNETES_OPTION
@PROJECT_OPTION
@click.option("--delete-claims", is_flag=True, default=False,
              help="Remove the persistentVolumeClaims' volumes too (their data: kept by default, as a claim outlives "
                   "its pods).")
@FORMAT_OPTION
@handle_errors
def down(manifests, workload, namespace, project, delete_claims, fmt):
    """Remove every container, volume and image (secret-bearing ones included) parity up made for
    an environment, named by its manifests (the same selection as its up), or for a workload named
    by --workload [NS/]KIND/NAME, in its project (-p, or the default). Objects of other projects, and
    what parity up did not make, are left alone."""
    from .docker.plan import app_project_name, project_name
    from .down import down as do_down, down_json
    from .render import down_text
    from .kube.manifests import check_namespace, load_inputs
    from .kube.selection import parse_workload_ref

    _checked_project(project)
    if namespace:
        check_namespace(namespace)
    sources = _inputs_of(manifests)
    if sources:
        chosen = _select(load_inputs(sources, namespace or "default", bool(_meta("skip_non_kubernetes"))), workload,
                         namespace)
        if len(chosen) > 1:  # the environment up made of them: one project
            project = project or app_project_name(chosen)
            chosen = []
        refs = [(w.kind, w.name, w.namespace) for w in chosen]
    elif _meta("selector") is not None:
        raise ParityError("-l/--selector needs MANIFEST... (the labels are in the manifests)")
    elif workload:
        refs = list(dict.fromkeys((kind, name, ns or namespace or "default")
                                  for ns, kind, name in map(parse_workload_ref, workload)))
    elif project:
        refs = []
    else:
        raise ParityError("name the workload: MANIFEST..., --workload KIND/NAME or -p PROJECT")
    results = ([do_down(f"{kind}/{name}", project or project_name(kind, name, ns), ns, delete_claims)
                for kind, name, ns in refs] or [do_down(None, project, delete_claims=delete_claims)])
    if fmt == "json":
        click.echo(dump_json(down_json(results)), nl=False)
    else:
        click.echo(down_text(results), nl=False)


@main.command(short_help="What parity runs, and whether each container is in parity.",
              epilog=examples("parity status", "parity status manifests/api-gateway --format json",
                              "parity status -p api-dev"))
@MANIFESTS_ARGUMENT
@workload_options
@PROJECT_OPTION
@FORMAT_OPTION
@handle_errors
def status(manifests, secret_paths, workload, namespace, from_cluster, context, kubeconfig, project, fmt):
    """What parity runs, per workload and container, and whether each is in parity (checked live).
    With MANIFEST...: that app's workloads, each of them (one nothing runs: not up), and no other.
    -p NAME: only that project; without it or MANIFESTs, the projects parity up made with this
    state directory (PARITY_STATE_DIR), the others named only. Exit 0 when every workload is up, every container runs as it should
    (healthy where it has a probe; one that runs to completion: exited 0) and is in parity, 1 when any
    is not."""
    from .render import status_text
    from .status import status as do_status

    predictions = {}
    only = app_project = None
    if manifests or from_cluster:
        from .docker.plan import app_project_name

        _, workloads, layouts = load_layouts(manifests, secret_paths, namespace, workload, from_cluster, context,
                                             kubeconfig)
        predictions = {(w.namespace, w.ref): w for w in layouts}
        only = set(predictions)  # the app's workloads, each listed (it listed every workload of the engine)
        app_project = app_project_name(workloads)
    report = do_status(predictions, only, _checked_project(project), app_project)
    if fmt == "json":
        click.echo(dump_json(report.to_json()), nl=False)
    else:
        click.echo(status_text(report, Painter(colour_enabled())), nl=False)
    sys.exit(0 if report.ok else 1)



@main.command(short_help="Versions of parity, Python, the Docker SDK, the engine and Compose.",
              epilog=examples("parity version", "parity version --format json"))
@FORMAT_OPTION
@handle_errors
def version(fmt):
    """The versions parity runs with: parity, Python, its libraries, the Docker engine it reaches
    (the endpoint too) and Compose. An engine that does not answer is reported, not an error."""
    from .about import version_report, version_text

    report = version_report()
    click.echo(dump_json(report) if fmt == "json" else version_text(report), nl=False)


@main.command(short_help="Print the shell completion script (bash, zsh or fish).",
              epilog=examples("source <(parity completion bash)",
                              "parity completion zsh > \"${fpath[1]}/_parity\"",
                              "parity completion fish > ~/.config/fish/completions/parity.fish"))
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell):
    """Print the script that makes SHELL complete parity's commands, options and file names."""
    from .about import completion_script

    click.echo(completion_script(main, shell))


resume(_collector_was_running)  # (paused at the top of this module)

if __name__ == "__main__":  # pragma: no cover
    run()
