"""Shared test helpers: build layouts from YAML text, run the real CLI, reach the real engine."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

import pytest

# A shell without job control starts a background job (`cmd &`) with SIGINT ignored, and Python then
# installs no KeyboardInterrupt handler; the children the tests start inherit the ignore. The Ctrl-C
# tests (tests/test_schedule.py, tests/test_faults.py) then saw nothing: restore Python's default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "in.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _metadata(name: str, namespace: str | None) -> str:
    """``{name: NAME}`` or ``{name: NAME, namespace: NS}``: an object's metadata as a YAML flow mapping."""
    return f"{{name: {name}" + (f", namespace: {namespace}" if namespace else "") + "}"


def _placed(lines: str, indent: str) -> str:
    """YAML ``lines`` (any indentation, leading blank lines and trailing newline optional) dedented,
    then indented by ``indent``, ending in a newline (nothing for no lines)."""
    text = textwrap.indent(textwrap.dedent(lines).lstrip("\n"), indent)
    return text if not text or text.endswith("\n") else text + "\n"


def workload(kind: str, name: str, pod_spec: str, *, namespace: str | None = None, annotations: str | None = None,
             spec: str = "") -> str:
    """The manifest of an ``apps/v1`` workload KIND NAME (selector and pod labels ``app: NAME``) whose
    pod template has this spec.

    Args:
        kind: Deployment, StatefulSet, DaemonSet or ReplicaSet.
        name: the workload's name (and its ``app`` label).
        pod_spec: the YAML under the template's ``spec:``, at any indentation (dedented, then placed).
        namespace: ``metadata.namespace``, when not the default.
        annotations: the pod template's annotations, as a YAML flow mapping (``{team: blue}``).
        spec: lines of the workload's own spec before its selector (``serviceName: db``), dedented.

    Returns:
        The YAML document, without ``---``.
    """
    meta = _metadata(name, namespace)
    pod_meta = f"{{labels: {{app: {name}}}" + (f", annotations: {annotations}" if annotations else "") + "}"
    return (f"apiVersion: apps/v1\nkind: {kind}\nmetadata: {meta}\nspec:\n" + _placed(spec, "  ")
            + f"  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {pod_meta}\n    spec:\n"
            + _placed(pod_spec, "      "))


def deployment(name: str, pod_spec: str, *, namespace: str | None = None, annotations: str | None = None) -> str:
    """``workload`` for a Deployment (see there)."""
    return workload("Deployment", name, pod_spec, namespace=namespace, annotations=annotations)


def pod_manifest(name: str, spec: str, *, namespace: str | None = None) -> str:
    """The manifest of a Pod NAME whose spec is ``spec``: YAML lines at any indentation (dedented,
    then placed under ``spec:``), or a flow mapping (``{containers: [...]}``) on ``spec:``'s line;
    ``namespace`` when not the default. Without ``---``."""
    head = f"apiVersion: v1\nkind: Pod\nmetadata: {_metadata(name, namespace)}\nspec:"
    return f"{head} {spec}\n" if spec.startswith("{") else f"{head}\n" + _placed(spec, "  ")


def service(name: str, spec: str, *, namespace: str | None = None) -> str:
    """The manifest of a Service NAME whose spec is ``spec``, a YAML flow mapping
    (``{selector: {app: api}, ports: [{port: 80}]}``); ``namespace`` when not the default. Without ``---``."""
    meta = _metadata(name, namespace)
    return f"apiVersion: v1\nkind: Service\nmetadata: {meta}\nspec: {spec}\n"


def layouts_of(tmp_path: Path, text: str, workload: str | None = None):
    inputs = load_inputs([str(write(tmp_path, text))])
    return build_layouts(inputs, select_workloads(inputs, workload))


def layout_of(tmp_path: Path, text: str, workload: str | None = None):
    (only,) = layouts_of(tmp_path, text, workload)
    return only


def entries_by_rel(container, mount_path: str) -> dict[str, tuple]:
    """{path relative to the mount: (type, "%o" mode, uid, gid, target)} for quick exact asserts."""
    out = {}
    for e in container.entries:
        if e.path == mount_path or e.path.startswith(mount_path.rstrip("/") + "/"):
            rel = "." if e.path == mount_path else e.path[len(mount_path.rstrip("/")) + 1:]
            out[rel] = (e.type, f"{e.mode:o}", e.uid, e.gid, e.target)
    return out


def unique_name(prefix: str) -> str:
    """``PREFIX-XXXXXXXX`` (8 random hex digits): a name of this run's own for what it makes in the
    shared engine (a project, a workload's suffix), so that runs in parallel, and a user's own
    objects, never share it, and a test removes only what it made.

    Args:
        prefix: the readable part (``parity-test``; ``-hyg`` for a suffix).

    Returns:
        The name.
    """
    return f"{prefix}-{secrets.token_hex(4)}"


def run_parity(*args: str, input: str | bytes | None = None, cwd=None, env=None) -> subprocess.CompletedProcess:
    """The real console entry point in a subprocess: exit codes, stdout and stderr as a user sees them.
    The checkout's own ``parity`` runs, whatever ``cwd`` is (an installed copy elsewhere never does)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH")) if p)
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "parity.cli", *args], input=data, capture_output=True,
                          cwd=cwd or ROOT, env=full_env)



def run_on_a_terminal(*args: str, env=None, timeout: float = 300) -> tuple[int, bytes, bytes]:
    """The real CLI with stderr on a pseudo-terminal, where long commands print their steps: (exit
    code, stdout, what the terminal showed)."""
    import pty

    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full_env.get("PYTHONPATH")) if p)
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "parity.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=slave, env=full_env, timeout=timeout)
    finally:
        os.close(slave)
    shown = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # (EIO once the terminal's last writer is gone)
            break
        if not chunk:
            break
        shown.append(chunk)
    os.close(master)
    return proc.returncode, proc.stdout, b"".join(shown)

#: How many examples each property test draws: CI-sized; ``PARITY_PROPERTY_EXAMPLES=500`` for long runs.
PROPERTY_EXAMPLES = int(os.environ.get("PARITY_PROPERTY_EXAMPLES", "40"))


def property_settings(examples: int, *, live: bool = False):
    """The Hypothesis settings of the suite's property tests.

    Args:
        examples: how many examples to draw.
        live: the test also takes a function-scoped fixture (the engine client): allowed, since
            nothing it holds changes between examples.

    Returns:
        ``settings``: no deadline (an example runs the CLI or the engine), too-slow data generation allowed.
    """
    from hypothesis import HealthCheck, settings

    checks = [HealthCheck.too_slow] + ([HealthCheck.function_scoped_fixture] if live else [])
    return settings(max_examples=examples, deadline=None, suppress_health_check=checks)


def precondition_missing(reason: str) -> NoReturn:
    """Stop a test whose precondition (an engine, a tool, root) this machine lacks: with ``CI=true``
    the test fails, elsewhere it is skipped with ``reason``. The suite's only way to skip a test: CI
    never passes with a test that did not run (scripts/test.sh installs every precondition).

    Args:
        reason: what is missing, and how to get it.

    Raises:
        pytest.fail.Exception: under ``CI=true``.
        pytest.skip.Exception: elsewhere.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing precondition fails)")
    pytest.skip(reason)


#: The engine objects a test lists or removes by label, with how the SDK names each one.
ENGINE_KINDS = {"containers": lambda o: o.name, "volumes": lambda o: o.name,
                "images": lambda o: o.short_id, "networks": lambda o: o.name}


def _listed(client, kind: str, label: str) -> list:
    """The engine's objects of ``kind`` (an ``ENGINE_KINDS`` key) carrying ``label``, stopped containers too."""
    extra = {"all": True} if kind == "containers" else {}
    return getattr(client, kind).list(filters={"label": label}, **extra)


def labelled_objects(client, label: str) -> dict[str, list[str]]:
    """The engine's containers, volumes, images and networks carrying ``label``.

    Args:
        client: a docker SDK client.
        label: ``KEY=VALUE`` (or ``KEY``: any value).

    Returns:
        {kind: sorted names (an image: its short id)}, every kind present (an empty list: none).
    """
    return {kind: sorted(name_of(o) for o in _listed(client, kind, label)) for kind, name_of in ENGINE_KINDS.items()}


def remove_labelled(client, label: str) -> None:
    """Remove the engine's containers (forced), then networks, volumes and images carrying ``label``:
    a test's clean-up of what it made, given a label only its own objects carry (a project or workload
    of its own, ``unique_name``). Objects already gone meanwhile are passed over."""
    import docker

    removers = {"containers": lambda o: o.remove(force=True), "networks": lambda o: o.remove(),
                "volumes": lambda o: o.remove(force=True), "images": lambda o: client.images.remove(o.id, force=True)}
    for kind, remove in removers.items():
        for obj in _listed(client, kind, label):
            try:
                remove(obj)
            except docker.errors.NotFound:
                pass


@pytest.fixture(scope="session")
def docker_client():
    """A client for the real engine. CI=true: a missing engine fails; elsewhere the test is skipped."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the engine means "no engine"
        precondition_missing(f"no Docker engine answers ({type(exc).__name__}); run scripts/testbed.sh")
    try:
        client.images.get("busybox:latest")
    except Exception:  # noqa: BLE001
        pytest.fail("busybox:latest is missing: run scripts/testbed.sh")
    return client
