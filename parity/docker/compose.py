"""Read a compose setup the way Compose does.

With the Compose binary available, its own normalisation is the truth: ``docker compose config
--format json`` applies interpolation, ``extends``, profiles, ``.env`` files, long-syntax volumes and
absolute paths. Without it, a small fallback covers the common subset (short and long volume syntax,
``${VAR:-default}`` interpolation, relative paths) and says so. The normalised config can hold
secret values (Compose inlines ``env_file`` contents): it stays in memory and is never printed.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, ScalarNode

from ..errors import ParityError, Problem
from ..kube.yamlload import TooBig, check_bounded, error_text
from ..safefile import FileRefused, read_file


@dataclass
class ComposeProject:
    file: str
    name: str
    services: dict[str, dict]
    volumes: dict[str, dict]
    normalised_by: str  # "docker compose config" or "parity fallback"
    notes: list[str] = field(default_factory=list)
    networks: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, dict] = field(default_factory=dict)  # file or environment sources, never values
    configs: dict[str, dict] = field(default_factory=dict)
    #: the files read (absolute), in merge order; ``file`` names them for messages
    paths: list[str] = field(default_factory=list)

    @property
    def directory(self) -> str:
        """The project directory: the first file's, as Compose has it (relative paths resolve there)."""
        return os.path.dirname(self.paths[0] if self.paths else os.path.abspath(self.file))

    def volume_name(self, key: str) -> str:
        """Compose's engine name for a volume key of a compose file it reads (compose-go's loader:
        ``name:``, else ``PROJECT_KEY``); parity names its own volumes with
        ``docker.plan.engine_volume_name``."""
        spec = self.volumes.get(key) or {}
        return spec.get("name") or f"{self.name}_{key}"


@dataclass(frozen=True)
class ComposeCommand:
    """How parity runs Compose v2: the words before Compose's own arguments, and what the docker CLI
    adds to the environment of a plugin it runs.

    Attributes:
        argv: ``("docker", "compose")``, the plugin binary run as the CLI runs it
            (``(PATH, "compose")``), or ``("docker-compose",)``.
        env: variables added to this process's environment for the command.
    """

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def environ(self) -> dict[str, str] | None:
        """The command's environment (None: this process's own, unchanged)."""
        return {**os.environ, **dict(self.env)} if self.env else None


#: The docker CLI running its Compose plugin: three processes (the CLI, the plugin for its metadata,
#: the plugin for the command). ``load_compose`` runs the plugin itself when ``find_plugin`` finds it.
PLUGIN = ComposeCommand(("docker", "compose"))
STANDALONE = ComposeCommand(("docker-compose",))
#: Compose commands that a command of this process has just run with success: no need to probe them.
_RAN: list[ComposeCommand] = []

#: docker/cli's plugin directories after the config's (cli-plugins/manager, manager_unix.go
#: ``defaultSystemPluginDirs``), in its order.
SYSTEM_PLUGIN_DIRS = ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                      "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")
#: What the docker CLI sets for a plugin it runs (cli-plugins/manager ``ReexecEnvvar``: its own
#: ``argv[0]``); with it, the plugin runs as ``docker compose``, not as a standalone ``docker-compose``.
REEXEC_ENV = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND"


def plugin_dirs(environ: Mapping[str, str] | None = None) -> list[str]:
    """Where the docker CLI looks for its plugins, in its order (docker/cli cli-plugins/manager
    ``getPluginDirs``): the config file's ``cliPluginsExtraDirs``, the config directory's
    ``cli-plugins`` (``$DOCKER_CONFIG``, else ``~/.docker``), then ``SYSTEM_PLUGIN_DIRS``. A config
    file that cannot be read adds nothing (the CLI warns and goes on without it).

    Args:
        environ: the environment to read ``DOCKER_CONFIG`` and ``HOME`` from (default: this process's).

    Returns:
        The directories, in the order the CLI looks in them.
    """
    environ = os.environ if environ is None else environ
    config = environ.get("DOCKER_CONFIG") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".docker")
    extra: list[str] = []
    try:
        with open(os.path.join(config, "config.json"), encoding="utf-8") as f:
            pairs = json.load(f, object_pairs_hook=lambda p: p)
        listed = None
        # Go's encoding/json, as the CLI reads it: a key matches its field whatever its case, and a
        # later match overrides an earlier one.
        for key, value in pairs if isinstance(pairs, list) and all(isinstance(p, tuple) for p in pairs) else ():
            if key.lower() == "clipluginsextradirs":
                listed = value
        if isinstance(listed, list):
            extra = [d for d in listed if isinstance(d, str)]
    except (OSError, ValueError, AttributeError):
        pass
    return [*extra, os.path.join(config, "cli-plugins"), *SYSTEM_PLUGIN_DIRS]


def find_plugin(environ: Mapping[str, str] | None = None) -> str | None:
    """The Compose plugin binary the docker CLI would run: ``docker-compose`` in the first of
    ``plugin_dirs`` that has one (the CLI takes the first that exists and looks no further). None
    when there is none, or it is not an executable file (the CLI then says ``compose`` is not a
    docker command), or not on a Unix: parity then runs ``docker compose`` itself.

    Args:
        environ: the environment to read ``DOCKER_CONFIG`` and ``HOME`` from (this process's by default).
    """
    if os.name != "posix":
        return None
    for directory in plugin_dirs(environ):
        path = os.path.join(directory, "docker-compose")
        try:
            st = os.stat(path)
        except FileNotFoundError:  # (a dangling link too) the CLI's ``os.IsNotExist``: the next directory
            continue
        except OSError:
            return None
        return path if stat.S_ISREG(st.st_mode) and os.access(path, os.X_OK) else None
    return None


@functools.cache  # looked up once per process
def plugin_command() -> ComposeCommand:
    """``docker compose`` as parity runs it: the plugin binary found as the CLI finds it
    (``find_plugin``) run as the CLI runs it (one process instead of three: 0.1-0.3 s a command on
    a busy machine), else the docker CLI itself."""
    path = find_plugin()
    return ComposeCommand((path, "compose"), ((REEXEC_ENV, "docker"),)) if path else PLUGIN


def compose_binary() -> ComposeCommand | None:
    """How to run Compose v2 here: the docker CLI plugin (``plugin_command``), else a standalone
    docker-compose; None when neither runs."""
    return _RAN[0] if _RAN else _probe_binary()


@functools.cache  # asked once per process: a live diff needs it to read the file and to run it
def _probe_binary() -> ComposeCommand | None:
    if shutil.which("docker"):
        try:
            probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=COMPOSE_CONFIG_TIMEOUT)
        except subprocess.TimeoutExpired:
            probe = None
        if probe is not None and probe.returncode == 0:
            return plugin_command()
    if shutil.which("docker-compose"):
        return STANDALONE
    return None


COMPOSE_CONFIG_TIMEOUT = 120  # seconds for `docker compose config`


def _precheck(path: str, file: str) -> str:
    """Refuse what would make Compose itself hang or explode before handing it the file: not a
    regular file, not text, not YAML, an alias bomb or absurd nesting (``docker compose config``
    expands aliases for ever). Returns the file's text."""
    try:
        text = read_file(file).decode("utf-8-sig")
    except FileRefused as exc:
        raise ParityError(Problem(exc.reason, file=path)) from None
    except UnicodeDecodeError as exc:
        raise ParityError(Problem(f"not a valid Compose file: not UTF-8 text (byte {exc.start})",
                                  file=path)) from None
    try:
        documents = check_bounded(text)
    except TooBig as exc:
        raise ParityError(Problem(f"not a valid Compose file: {exc}", file=path)) from None
    except yaml.YAMLError as exc:
        raise ParityError(Problem(f"not a valid Compose file: invalid YAML: {error_text(exc)}", file=path)) from None
    except RecursionError:
        raise ParityError(Problem("not a valid Compose file: nesting too deep", file=path)) from None
    if not documents:
        raise ParityError(Problem("not a valid Compose file: empty compose file", file=path))
    return text


NOT_SHOWN = "(not shown)"
_QUOTE = re.compile(r"'[^']*(?:'|$)|\"[^\"]*(?:\"|$)|`[^`]*(?:`|$)")
_PIECES = re.compile(r"[\s:=,;@|]+")
_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Words:
    """What a compose setup holds, for telling a name from a value in Compose's messages: ``names``
    are its keys (services, volumes, properties, variable names); ``values`` every scalar that is not
    a key, the pieces of those between separators (``SRC:DST``, ``K=V``), and the environment's value
    of each variable it refers to (``${VAR}``): all of 4 characters or more, as in the secret scan."""

    names: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)

    def add_value(self, text: str) -> None:
        for ref in _REFERENCE.findall(text):
            self.add_value_only(os.environ.get(ref, ""))
        self.add_value_only(text)

    def add_value_only(self, text: str) -> None:
        for piece in [text, *_PIECES.split(text)]:
            if len(piece) >= 4:
                self.values.add(piece)


def words_of_text(text: str) -> Words:
    """``Words`` of a compose file's text (already checked by ``check_bounded``: no bomb, not too deep)."""
    words = Words()
    seen: set[int] = set()

    def walk(node) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            words.add_value(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    words.names.add(key.value)
                else:
                    walk(key)
                walk(value)
        else:
            for item in node.value:
                walk(item)

    try:
        for doc in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            if doc is not None:
                walk(doc)
    except yaml.YAMLError:
        pass  # what was read so far is all there is to hide
    return words


def _add_dotenv(words: Words, path: str) -> None:
    """The values of the ``.env`` file Compose interpolates from (next to the compose file), if any:
    an error about an interpolated value shows it, unquoted."""
    try:
        text = read_file(path).decode("utf-8", "replace")
    except FileRefused:
        return
    for line in text.splitlines():
        _, sep, value = line.partition("=")
        if sep:
            words.add_value_only(value.strip().strip("'\""))


def words_of_config(config) -> Words:
    """``Words`` of a config already parsed (Compose's normalised JSON: env files inlined)."""
    words = Words()
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            words.names.update(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None:
            words.add_value(str(item))
    return words


def compose_message(stderr: str, file: str, words: Words) -> str:
    """Compose's error as one line that shows no value, whatever failed.

    Compose's messages quote what they failed on, and that can be a secret: an env file's line, an
    ``environment`` value with a bad ``${`` (on a line of its own), a value interpolated from the
    environment. The rule, for every message: warning lines are dropped and the rest joined on one
    line; quoted text (an unclosed quote runs to the end) is kept only when it names something, one
    of the file's keys or a path of them (``'services[app].mem_limit'``); any value the file holds
    (``Words``), quoted or not, is replaced, except in a path under the compose file's directory (an
    env file's name); and what ``${VAR:?message}`` adds after "is missing a value" is cut. What is
    left out shows as ``(not shown)``.

    Args:
        stderr: what Compose printed.
        file: the compose file's absolute path (dropped where Compose prefixes it).
        words: the names and values of the setup (``words_of_text``, ``words_of_config``).

    Returns:
        One line.
    """
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip() and "level=warning" not in ln]
    lines = [re.sub(r'^time="[^"]*" level=\w+ msg="(.*)"$', r"\1", ln) for ln in lines]
    text = " ".join(lines) or "compose failed"
    text = text.replace(f"validating {file}: ", "").replace(f"{file}: ", "")
    text = re.sub(r"(is missing a value)\b.*", r"\1", text)
    text = _QUOTE.sub(lambda m: m.group(0) if _names_only(m.group(0), words.names) else NOT_SHOWN, text)
    hidden = sorted((v for v in words.values if v not in words.names and v != NOT_SHOWN), key=len, reverse=True)
    if hidden:
        pattern = re.compile(r"(?<![\w.-])(?:" + "|".join(map(re.escape, hidden)) + r")(?![\w-])")
        # Paths under the project's directory (an env file's) are shown: file names, not values.
        paths = re.compile(r"(" + re.escape(os.path.dirname(file)) + r"/[^\s:'\"`]*)")
        text = "".join(part if i % 2 else pattern.sub(NOT_SHOWN, part) for i, part in enumerate(paths.split(text)))
    text = re.sub(r"\s+", " ", text).strip()
    # Compose lists unknown keys in Go's random map order: sorted, the line is the same every run.
    return re.sub(r"(?<=additional properties )('[^']*'(?:, '[^']*')*)",
                  lambda m: ", ".join(sorted(m.group(1).split(", "))), text)


def _names_only(quoted: str, names: set[str]) -> bool:
    """``'services[app].mem_limit'`` (quotes included): does it only name keys of the file?"""
    inner = quoted[1:-1] if len(quoted) >= 2 and quoted[-1] == quoted[0] else None
    parts = [p for p in re.split(r"[.\[\]]+", inner or "") if p]
    return bool(parts) and all(p in names or p.isdigit() for p in parts)


#: The profile of the services of an on-demand pod in a generated compose.yaml (a CronJob's: never
#: started by ``docker compose up``). Always enabled when parity reads a setup: ``docker compose run``
#: starts them as they are, and ``diff`` checks what they see (another setup has no such service).
ON_DEMAND_PROFILE = "on-demand"


def _with_on_demand(profiles: Sequence[str]) -> list[str]:
    """The profiles to give Compose: the user's (``--profile``, else ``COMPOSE_PROFILES``, which Compose
    ignores once a ``--profile`` is given) and ``ON_DEMAND_PROFILE``."""
    given = list(profiles) or [p for p in os.environ.get("COMPOSE_PROFILES", "").split(",") if p]
    return list(dict.fromkeys([*given, ON_DEMAND_PROFILE]))


def _compose_args(paths: str | Sequence[str], project: str | None,
                  profiles: Sequence[str]) -> tuple[list[str], list[str], list[str], str]:
    """The files (absolute, each checked by ``_precheck``), their texts, Compose's arguments for
    ``config --format json``, and the files as messages name them."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    files, texts = [], []
    for path in paths:
        file = os.path.abspath(path)
        if os.path.isdir(file):
            raise ParityError(Problem("is a directory, not a compose file", file=path))
        if not os.path.lexists(file):
            raise ParityError(Problem("no such compose file", file=path))
        texts.append(_precheck(path, file))
        files.append(file)
    args = [*(a for f in files for a in ("-f", f)), *(["-p", project] if project else []),
            *(a for p in _with_on_demand(profiles) for a in ("--profile", p)), "config", "--format", "json"]
    return files, texts, args, ", ".join(paths)


def _first_command() -> ComposeCommand | None:
    """The Compose ``load_compose`` runs at once: the one that last worked, else the plugin
    (``plugin_command``), when there is a docker CLI. Probing it first (``docker compose version``:
    0.1-0.6 s) is only needed when it fails, to tell a missing Compose from a bad file."""
    return _RAN[0] if _RAN else plugin_command() if shutil.which("docker") else None


@dataclass
class StartedConfig:
    """``docker compose config`` started ahead (``start_config``), for ``load_compose`` to finish."""

    key: tuple
    command: ComposeCommand
    proc: subprocess.Popen

    def result(self, shown_as: str) -> subprocess.CompletedProcess | None:
        """The finished command (None: it could not run); a run past ``COMPOSE_CONFIG_TIMEOUT`` is killed.

        Raises:
            ParityError: it did not finish in time.
        """
        try:
            out, err = self.proc.communicate(timeout=COMPOSE_CONFIG_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.cancel()
            raise ParityError(Problem(f"not a valid Compose file: docker compose config did not finish in "
                                      f"{COMPOSE_CONFIG_TIMEOUT}s", file=shown_as)) from None
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)

    def cancel(self) -> None:
        """Stop it if it still runs (the diff failed before reading it); it only reads files."""
        if self.proc.returncode is not None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def start_config(paths: str | Sequence[str], project: str | None = None,
                 profiles: Sequence[str] = ()) -> StartedConfig | None:
    """Start reading the setup with Compose now, while this process does something else (loading
    the manifests); ``load_compose(..., started=)`` takes the result. Whatever would fail (a file
    refused, no docker CLI) is left to ``load_compose``, to fail where and as it always did.

    Args:
        paths, project, profiles: as for ``load_compose``.

    Returns:
        The running command, or None when ``load_compose`` is to do everything itself.
    """
    try:
        _files, _texts, args, _shown = _compose_args(paths, project, profiles)
    except ParityError:
        return None
    command = _first_command()
    if command is None:
        return None
    try:
        proc = subprocess.Popen([*command.argv, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=command.environ())
    except OSError:
        return None
    return StartedConfig((paths if isinstance(paths, str) else tuple(paths), project, tuple(profiles)), command, proc)


def load_compose(paths: str | Sequence[str], project: str | None = None,
                 profiles: Sequence[str] = (), started: StartedConfig | None = None) -> ComposeProject:
    """A compose setup as Compose reads it: one file, or several merged in order (``-f a -f b``).

    Args:
        paths: the compose file, or the files to merge (as Compose's repeated ``-f``).
        project: the project name (``-p``), else Compose's rule (``name:``, ``COMPOSE_PROJECT_NAME``,
            the first file's directory).
        profiles: profiles to enable (``--profile``; ``COMPOSE_PROFILES`` is read by Compose itself).
        started: ``start_config``'s command for the same arguments, if one was started.
    Raises:
        ParityError: a file is missing or not a valid Compose file (no value of it quoted).
    """
    files, texts, args, shown_as = _compose_args(paths, project, profiles)

    def run_config(command: ComposeCommand) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run([*command.argv, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=COMPOSE_CONFIG_TIMEOUT, env=command.environ())
        except subprocess.TimeoutExpired:
            raise ParityError(Problem(f"not a valid Compose file: docker compose config did not finish in "
                                      f"{COMPOSE_CONFIG_TIMEOUT}s", file=shown_as)) from None
        except OSError:  # the plugin found could not be run: probed below, as a failed run
            return None

    key = (paths if isinstance(paths, str) else tuple(paths), project, tuple(profiles))
    if started is not None and started.key != key:
        started.cancel()
        started = None
    binary = started.command if started else _first_command()
    proc = started.result(shown_as) if started else run_config(binary) if binary else None
    if proc is None or proc.returncode != 0:
        probed = compose_binary()
        if probed is not None and (probed != binary or proc is None):
            binary, proc = probed, run_config(probed)
        if probed is None or proc is None:
            if len(files) > 1 or profiles:
                raise ParityError(Problem("merging compose files or enabling profiles needs Compose v2 (docker "
                                          "compose), which was not found", file=shown_as))
            return _fallback(files[0], project)
    if proc.returncode == 0:
        _RAN[:] = [binary]
    if proc.returncode != 0:
        words = words_of_text("\n".join(texts))
        _add_dotenv(words, os.path.join(os.path.dirname(files[0]), ".env"))
        message = compose_message(proc.stderr, files[0], words)
        raise ParityError(Problem(f"not a valid Compose file: {message}", file=shown_as))
    try:
        config = json.loads(proc.stdout)
    except ValueError:
        raise ParityError(Problem("not a valid Compose file: docker compose config printed no JSON",
                                  file=shown_as)) from None
    return ComposeProject(shown_as, config.get("name", ""), config.get("services") or {}, config.get("volumes") or {},
                          "docker compose config", networks=config.get("networks") or {},
                          secrets=config.get("secrets") or {}, configs=config.get("configs") or {}, paths=files)


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


# The compose-spec schema (compose-go schema/compose-spec.json) of what parity reads from a compose
# file, for the fallback reader: without Compose nothing else checks the types, and the diff's
# readers (facets.py, static_layout.py) raised tracebacks on e.g. ``cap_add: 5``. A schema is a
# tuple of JSON types, ``("oneOf", alternatives...)``, or a dict: {"": types, "items": schema,
# "values": schema, KEY: schema}.
_STR, _ARR, _OBJ = ("string",), ("array",), ("object",)
_STRINGS = {"": _ARR, "items": _STR}  # list_of_strings
_LIST_OR_DICT = ("oneOf", {"": _OBJ, "values": ("boolean", "null", "number", "string")}, _STRINGS)
_SERVICE = {
    "": ("object", "null"),
    "image": _STR, "build": ("oneOf", _STR, {"": _OBJ, "context": _STR, "dockerfile": _STR}),
    "user": _STR, "group_add": {"": _ARR, "items": ("number", "string")},
    "cap_add": _STRINGS, "cap_drop": _STRINGS, "security_opt": _STRINGS, "privileged": ("boolean", "string"),
    "read_only": ("boolean", "string"), "mem_limit": ("number", "string"), "cpus": ("number", "string"),
    "cpu_quota": ("number", "string"), "cpu_period": ("number", "string"),
    "deploy": {"": ("null", "object"), "resources": {"": _OBJ, "limits": {
        "": _OBJ, "cpus": ("number", "string"), "memory": _STR}}},
    "healthcheck": {"": _OBJ, "test": ("oneOf", _STR, _STRINGS)},
    "sysctls": _LIST_OR_DICT, "labels": _LIST_OR_DICT, "environment": _LIST_OR_DICT,
    "tmpfs": ("oneOf", _STR, _STRINGS), "volumes_from": _STRINGS, "network_mode": _STR,
    "depends_on": ("oneOf", _STRINGS, {"": _OBJ, "values": {"": _OBJ, "condition": _STR}}),
    "devices": {"": _ARR, "items": ("oneOf", _STR, {"": _OBJ, "source": _STR})},
    "volumes": {"": _ARR, "items": ("oneOf", _STR, {"": _OBJ, "type": _STR, "source": _STR, "target": _STR,
                                                    "read_only": ("boolean", "string"),
                                                    "volume": {"": _OBJ, "nocopy": ("boolean", "string")}})},
    "secrets": {"": _ARR, "items": ("oneOf", _STR, {"": _OBJ, "source": _STR, "target": _STR})},
    "configs": {"": _ARR, "items": ("oneOf", _STR, {"": _OBJ, "source": _STR, "target": _STR})},
    "entrypoint": ("oneOf", ("null",), _STR, _STRINGS), "command": ("oneOf", ("null",), _STR, _STRINGS),
    "working_dir": _STR, "hostname": _STR,
}
_COMPOSE_FILE = {"": _OBJ, "name": _STR, "services": {"": _OBJ, "values": _SERVICE},
                 "volumes": {"": _OBJ, "values": {"": ("null", "object"), "name": _STR, "driver": _STR,
                                                  "driver_opts": _OBJ, "labels": _LIST_OR_DICT}}}
_JSON_TYPES = {"string": lambda v: isinstance(v, str), "array": lambda v: isinstance(v, list),
               "object": lambda v: isinstance(v, dict), "null": lambda v: v is None,
               "boolean": lambda v: isinstance(v, bool),
               "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}


def _schema_error(value, schema, path: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """The first place ``value`` breaks ``schema``, as compose-go's ``Validate`` reports it
    (``getMostSpecificError``: of a oneOf's failures the deepest, the first on a tie; ``must be a
    TYPE``, several types sorted and joined with "or", object said "mapping")."""
    if isinstance(schema, tuple) and schema[0] == "oneOf":
        best = None
        for alternative in schema[1:]:
            error = _schema_error(value, alternative, path)
            if error is None:
                return None
            if best is None or len(error[0]) > len(best[0]):
                best = error
        return best
    types = schema.get("", ()) if isinstance(schema, dict) else schema
    if types and not any(_JSON_TYPES[t](value) for t in types):
        shown = sorted("mapping" if t == "object" else t for t in types)
        return path, "must be a " + (shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1])
    if not isinstance(schema, dict):
        return None
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            error = _schema_error(item, schema["items"], (*path, str(i)))
            if error:
                return error
    if isinstance(value, dict):
        for key, item in value.items():
            sub = schema.get(str(key)) if str(key) else None
            sub = sub if sub is not None else schema.get("values")
            error = _schema_error(item, sub, (*path, str(key))) if sub is not None else None
            if error:
                return error
    return None


def _fallback(file: str, project: str | None) -> ComposeProject:
    try:
        raw = yaml.safe_load(read_file(file).decode("utf-8-sig"))
    except yaml.YAMLError as exc:
        raise ParityError(Problem(f"not a valid Compose file: invalid YAML: {error_text(exc)}", file=file)) from None
    except (UnicodeDecodeError, FileRefused) as exc:
        raise ParityError(Problem(f"not a valid Compose file: {str(exc).splitlines()[0]}", file=file)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("services"), dict):
        raise ParityError(Problem("not a valid Compose file: no services map", file=file))
    raw = _interpolate(raw)
    error = _schema_error(raw, _COMPOSE_FILE, ())
    if error:  # Compose's own line for it (``validating FILE: services.app.cap_add must be a array``)
        raise ParityError(Problem(f"not a valid Compose file: {'.'.join(error[0])} {error[1]}", file=file))
    for name, svc in raw["services"].items():  # (static_layout reads each long-syntax volume's target)
        for i, v in enumerate((svc or {}).get("volumes") or []):
            if isinstance(v, dict) and not v.get("target"):  # Compose: "service volume ... is missing a mount target"
                raise ParityError(Problem(f"not a valid Compose file: services.{name}.volumes.{i} is missing a mount "
                                          "target", file=file))
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


#: The files Compose reads when given none, in its order (compose-go's default file names), and the
#: override it merges over the one it found (the first of these that exists, whatever the base's
#: name). Both orders checked against `docker compose config` in a directory holding all of them.
DEFAULT_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILE_NAMES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                       "docker-compose.override.yaml")


def discover_compose_files(cwd: str = ".", environ: Mapping[str, str] | None = None) -> list[str]:
    """The files ``docker compose`` reads when given no ``-f``: ``COMPOSE_FILE`` (split on
    ``COMPOSE_PATH_SEPARATOR``, default ':'), else the first default file in ``cwd`` or the nearest
    directory above it, plus that directory's override file. Empty when there is none.
    """
    environ = os.environ if environ is None else environ
    if environ.get("COMPOSE_FILE"):
        separator = environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [f for f in environ["COMPOSE_FILE"].split(separator) if f]
    directory = os.path.abspath(cwd)
    while True:
        base = next((n for n in DEFAULT_FILE_NAMES if os.path.isfile(os.path.join(directory, n))), None)
        if base:
            override = next((n for n in OVERRIDE_FILE_NAMES if os.path.isfile(os.path.join(directory, n))), None)
            found = [base] + ([override] if override else [])
            return [os.path.relpath(os.path.join(directory, n)) for n in found]
        parent = os.path.dirname(directory)
        if parent == directory:
            return []
        directory = parent
