"""``parity version``: what parity runs with (parity, Python, the Docker SDK, the engine, Compose),
and ``parity completion``: the shell completion script. Engine facts are read live; a missing engine
or Compose is reported as such, not as a failure of the command."""

from __future__ import annotations

from . import __version__

# importlib.metadata, platform and subprocess are imported where used: every command imports this
# module (for COMPLETE_VAR), and they cost more start-up than the rest of what `parity layout` needs
# (importlib.metadata loads the email package).

VERSION_FORMAT = "parity.version/v1"
SHELLS = ("bash", "zsh", "fish")
#: The environment variable click's completion protocol reads (the console script is ``parity``).
COMPLETE_VAR = "_PARITY_COMPLETE"


def _package_version(name: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _engine() -> dict:
    """The engine the Docker SDK reaches (as every engine command does), or why none answers."""
    from .docker.engine import connect, resolve_endpoint
    from .errors import ParityError

    try:
        endpoint = resolve_endpoint()
        client = connect()
    except ParityError as exc:
        return {"reachable": False, "error": str(exc.problems[0])}
    info = client.version()
    return {"reachable": True, "endpoint": endpoint.host, "endpoint_source": endpoint.source,
            "version": info.get("Version"), "api_version": info.get("ApiVersion")}


def _compose() -> str | None:
    """Compose v2's version as parity runs it (``docker compose`` plugin, else ``docker-compose``)."""
    import subprocess

    from .docker.compose import compose_binary

    binary = compose_binary()
    if binary is None:
        return None
    probe = subprocess.run([*binary.argv, "version", "--short"], capture_output=True, text=True, timeout=30,
                           env=binary.environ())
    return probe.stdout.strip() or None if probe.returncode == 0 else None


def version_report() -> dict:
    """The ``parity.version/v1`` document.

    Returns:
        ``{"format", "parity", "python", "click", "pyyaml", "docker_sdk", "kubernetes", "engine", "compose"}``;
        ``engine`` is ``{"reachable": False, "error": ...}`` when no engine answers, ``compose`` is
        ``None`` when Compose v2 is not installed.
    """
    import platform

    return {"format": VERSION_FORMAT, "parity": __version__, "python": platform.python_version(),
            "click": _package_version("click"), "pyyaml": _package_version("PyYAML"),
            "docker_sdk": _package_version("docker"), "kubernetes": _package_version("kubernetes"),
            "engine": _engine(), "compose": _compose()}


def version_text(report: dict) -> str:
    engine = report["engine"]
    engine_line = (f"{engine['version']} (API {engine['api_version']}) at {engine['endpoint']} "
                   f"({engine['endpoint_source']})" if engine["reachable"]
                   else f"not reachable: {engine['error']}")
    rows = [("parity", report["parity"]), ("Python", report["python"]), ("Docker SDK", report["docker_sdk"]),
            ("kubernetes client", report["kubernetes"]), ("click", report["click"]), ("PyYAML", report["pyyaml"]),
            ("Docker engine", engine_line), ("Compose", report["compose"] or "not installed")]
    return "".join(f"{name + ':':<19}{value}\n" for name, value in rows)


def completion_script(cli, shell: str) -> str:
    """The script that makes ``shell`` complete parity's commands, options and file arguments.

    Args:
        cli: the click group (``parity.cli.main``).
        shell: one of ``SHELLS``.
    Returns:
        The script's text, for ``source <(parity completion bash)`` or the shell's completion dir.
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    return cls(cli, {}, "parity", COMPLETE_VAR).source()
