"""A container's environment as Kubernetes builds it, split by whether a value may be written inline.

Kubernetes order: ``envFrom`` sources first, then ``env`` entries (a later name wins), then the
kubelet's service variables (``KUBERNETES_SERVICE_*`` and the service links, ``kube/services.py``)
that neither set. ``$(VAR)`` references in values, ``command`` and ``args`` expand to variables defined
earlier or to a service variable (kubelet ``makeEnvironmentVariables``: ``MappingFuncFor(tmpEnv,
serviceEnv)``; ``$$(VAR)`` is a literal), undefined ones stay as written. Values that come from a Secret or ConfigMap, or that
expand one, go to owner-only files; only literal values are written into compose.yaml.

Values with line breaks (a PEM from a Secret) reach the container byte for byte (issue 13), each
emitter its own way, since Docker's line-based ``--env-file`` cannot carry them:

- Compose: a dotenv ``env_file`` (compose-go ``dotenv/parser.go``) with every value single-quoted:
  inside single quotes nothing is expanded and line breaks (LF, CR) are kept; a backslash escapes
  only the quote, and is kept before anything else, so backslashes pair up. Hence a quote is written
  ``\\'``, and a value where a quote or the value's end follows an odd run of backslashes cannot be
  written (the quote would be taken as escaped): said, and left out of that file only;
- docker.sh: ``docker run --env-file`` for one-line values (it reads lines literally, but drops a
  line's final CR), and ``-e NAME`` with NAME exported by an owner-only shell file the script sources
  in a subshell for values with a line break (``docker run -e NAME`` takes the value from the
  CLI's environment, never from its argv, which other users can read). Names the shell or the docker
  CLI itself read (``PATH``, ``HOME``, ``DOCKER_*``...) and names that are no shell variable name
  (``a-b``) cannot be exported there: said;
- ``parity up``: the Docker SDK, any value but NUL.

A NUL byte can be in no process environment (``execve`` takes C strings): such a value is left out,
said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import Problems
from ..kube.fieldref import DownwardAPI
from ..kube.manifests import Inputs, Workload
from ..kube.podspec import Container, FieldSelector, KeySelector
from ..kube.services import CLUSTER_IP_UNKNOWN, service_env, service_value_holds_cluster_ip
from ..kube.subpathexpr import MAX_ARG_STRLEN, ExpansionTooLong

#: ``ContainerEnv.origins`` of the kubelet's service variables (``envfacet`` groups them by it).
SERVICE_VARIABLES = "the kubelet's service variables"
#: ``expansion.Expand`` (third_party/forked/golang/expansion): ``$$`` is ``$``; ``$(`` up to the first
#: ``)`` names a variable, whatever is between (the API server takes any printable name but '=').
_REF = re.compile(r"\$\$|\$\(([^)]*)\)")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


@dataclass
class ContainerEnv:
    """A container's variables, split by where they may be written, and what ``diff``'s environment
    facet (``parity/envfacet.py``) needs to judge them: where each comes from (``origins``), which
    hold a Secret's value (``secret``) and which the cluster gives a value parity cannot know
    (``unknown``: compared by presence only)."""

    plain: dict[str, str] = field(default_factory=dict)
    from_objects: dict[str, str] = field(default_factory=dict, repr=False)  # never printed or inlined
    notes: list[str] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)  # the kubelet's service variables (expansion source)
    origins: dict[str, str] = field(default_factory=dict)  # name -> where its value comes from (never the value)
    secret: set[str] = field(default_factory=set)  # names whose value is, or expands, a Secret's
    unknown: dict[str, str] = field(default_factory=dict)  # name -> why the cluster's value is not known here

    def set(self, name: str, value: str, sensitive: bool, origin: str = "", secret: bool = False,
            unknown: str | None = None) -> None:
        self.plain.pop(name, None)
        self.from_objects.pop(name, None)
        (self.from_objects if sensitive else self.plain)[name] = value
        self.origins[name] = origin
        self.secret.discard(name)
        self.unknown.pop(name, None)
        if secret:
            self.secret.add(name)
        if unknown:
            self.unknown[name] = unknown

    def references(self, text: str) -> list[str]:
        """The names ``$(NAME)`` in ``text`` refers to that expand (set before, or a service variable)."""
        return [m.group(1) for m in _REF.finditer(text) if m.group(1)
                and (m.group(1) in self.plain or m.group(1) in self.from_objects or m.group(1) in self.services)]

    def expand(self, text: str, sensitive_ok: bool = False) -> str:
        """Expand ``$(VAR)``; a reference to an object-sourced value is left as written (and noted)
        unless the result is itself kept out of compose.yaml.

        Raises:
            ExpansionTooLong: the result passed the kernel's ``MAX_ARG_STRLEN`` (stopped there).
        """
        size = len(text)

        def value(match: re.Match) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1)
            if name in self.plain:
                return self.plain[name]
            if name in self.services and name not in self.from_objects:
                return self.services[name]
            if name in self.from_objects:
                if sensitive_ok:
                    return self.from_objects[name]
                self.notes.append(f"$({name}) is not expanded: its value comes from a Secret/ConfigMap "
                                  "and parity does not write such values into compose.yaml")
            return match.group(0)

        def repl(match: re.Match) -> str:
            nonlocal size
            out = value(match)
            size += len(out) - len(match.group(0))
            if size > MAX_ARG_STRLEN:
                raise ExpansionTooLong()
            return out

        return _REF.sub(repl, text)

    def references_objects(self, text: str) -> bool:
        return any(m.group(1) in self.from_objects for m in _REF.finditer(text) if m.group(1))

    def dotenv_text(self) -> str:
        """Compose's env file: ``KEY='VALUE'`` for each value ``compose_quoted`` can write."""
        quoted = ((k, compose_quoted(v)) for k, v in self.from_objects.items())
        return "".join(f"{k}={q}\n" for k, q in quoted if q is not None)

    def env_file_text(self) -> str:
        """``docker run --env-file``'s lines (KEY=VALUE, taken literally): the one-line values."""
        return "".join(f"{k}={v}\n" for k, v in self.from_objects.items() if not has_line_break(v))

    @property
    def exported(self) -> list[str]:
        """docker.sh: the names set with ``-e NAME`` from the sourced exports file (``exports_text``)."""
        return [k for k, v in self.from_objects.items() if has_line_break(v) and shell_exportable(k)]

    def exports_text(self) -> str:
        """docker.sh's shell file for the values with a line break: ``export NAME='VALUE'`` (POSIX
        single quotes keep every byte; a quote is written ``'\\''``)."""
        return "".join(f"export {k}='" + self.from_objects[k].replace("'", "'\\''") + "'\n" for k in self.exported)

    def unwritable_notes(self) -> list[str]:
        """What the emitters cannot carry of the object-sourced values, by name (never a value)."""
        notes = []
        for k, v in self.from_objects.items():
            if compose_quoted(v) is None:
                notes.append(f"{k} is left out of compose.yaml's env file: a quote or its end follows an odd "
                             "number of backslashes, which Compose's env file reads as an escaped quote "
                             "(docker.sh and parity up set it)")
            if has_line_break(v) and not shell_exportable(k):
                notes.append(f"{k} is left out of docker.sh: its value has a line break, which docker run "
                             "--env-file cannot carry, and the name cannot be exported by the script"
                             + (" (the shell or the docker CLI reads it)" if _SHELL_NAME.match(k) else
                                " (not a shell variable name)") + " (compose.yaml and parity up set it)")
        return notes


def container_env(w: Workload, ctr: Container, inputs: Inputs) -> ContainerEnv:
    env = ContainerEnv(services=service_env(w.namespace, w.spec.enable_service_links,
                                            list(inputs.services.values())))
    problems = Problems()
    downward = DownwardAPI(w, lambda field, message: problems.add(message, file=w.file, obj=w.ref, field=field))
    for name, value in env.services.items():  # a service variable holding a cluster IP: not known here
        if service_value_holds_cluster_ip(value):
            env.unknown[name] = CLUSTER_IP_UNKNOWN
    for src in ctr.env_from:
        secret = src.kind == "secret"
        kind = "secretRef" if secret else "configMapRef"
        obj = (inputs.secrets if secret else inputs.configmaps).get((w.namespace, src.name))
        if obj is None:
            if not src.optional:
                _missing(problems, w, f"{src.field}.{kind}.name",
                         f'{"secret" if secret else "configmap"} "{src.name}" not found')
            continue
        for key, value in obj.env_data.items():
            name = src.prefix + key
            if not _ENV_NAME.match(name):
                env.notes.append(f"envFrom key {key!r} skipped: not a valid variable name")
                continue
            _set_text(env, name, value, sensitive=True, origin=f"envFrom {_KIND_NAMES[src.kind]} {src.name}",
                      secret=secret)
    for item in ctr.env:
        name, ref = item.name, item.value_from
        if ref is None:
            sensitive = env.references_objects(item.value)
            refs = env.references(item.value)
            unknown = ", ".join(f"$({r})" for r in refs if r in env.unknown)
            origin = "a value in the pod spec" + (f" expanding {', '.join(f'$({r})' for r in refs)}" if refs else "")
            try:
                text = env.expand(item.value, sensitive_ok=sensitive)
            except ExpansionTooLong as exc:  # (the container never starts: said, nothing built past the bound)
                problems.add(str(exc), file=w.file, obj=w.ref, field=f"{item.field}.value")
                continue
            env.set(name, text, sensitive, origin=origin,
                    secret=any(r in env.secret for r in refs),
                    unknown=f"it expands {unknown}, whose value is not known here" if unknown else None)
        elif isinstance(ref, KeySelector):
            secret = ref.kind == "secret"
            what = "secret" if secret else "configmap"
            obj = (inputs.secrets if secret else inputs.configmaps).get((w.namespace, ref.name))
            if obj is None or ref.key not in obj.env_data:
                if not ref.optional:
                    problem = (f'{what} "{ref.name}" not found' if obj is None
                               else f'{what} "{ref.name}" has no key {ref.key!r}'
                               + (" (it is in binaryData, which the kubelet does not read for variables)"
                                  if ref.key in obj.data else ""))
                    _missing(problems, w, f"{item.field}.valueFrom.{'secretKeyRef' if secret else 'configMapKeyRef'}",
                             problem)
                continue
            _set_text(env, name, obj.env_data[ref.key], sensitive=True,
                      origin=f"{_KIND_NAMES[ref.kind]} {ref.name}, key {ref.key}", secret=secret)
        else:  # the downward API, as a volume file gets it (kube/fieldref.py)
            if isinstance(ref, FieldSelector):
                value, what = downward.field(ref.field_path), f"fieldRef {ref.field_path}"
            else:
                value = downward.resource(ref, ctr, f"{item.field}.valueFrom.resourceFieldRef")
                what = f"resourceFieldRef {ref.resource}"
            if value is None:
                continue
            if value.volatile:
                env.notes.append(f"{name}: {what}: {value.volatile}")
            env.set(name, value.text, False, origin=what, unknown=value.volatile)
    problems.raise_if_any()
    for name, value in env.services.items():  # the kubelet adds those the container does not set
        if name not in env.plain and name not in env.from_objects:
            env.plain[name] = value
            env.origins[name] = SERVICE_VARIABLES
    env.notes.extend(env.unwritable_notes())
    return env



#: ``KeySelector.kind`` / ``EnvFromSource.kind`` as the API names the object.
_KIND_NAMES = {"secret": "Secret", "configMap": "ConfigMap"}


def _set_text(env: ContainerEnv, name: str, data: bytes, sensitive: bool, origin: str, secret: bool) -> None:
    text = data.decode("utf-8", errors="replace")
    if "\x00" in text:
        env.notes.append(f"{name} is left out: its value has a NUL byte, which no process environment can hold")
        return
    env.set(name, text, sensitive, origin=origin, secret=secret)


def has_line_break(value: str) -> bool:
    """Docker's ``--env-file`` is line-based (and drops a line's final CR): such a value needs another way."""
    return "\n" in value or "\r" in value


# An odd run of backslashes (not preceded by another) right before a quote or the end of the value.
_ESCAPES_QUOTE = re.compile(r"(?<!\\)\\(?:\\\\)*(?='|\Z)")


def compose_quoted(value: str) -> str | None:
    """``value`` single-quoted for compose-go's dotenv parser (``extractVarValue``: in single quotes a
    backslash is dropped only before the quote, which it escapes; backslashes pair up), or None when
    no quoting gives it back: a quote or the end after an odd run of backslashes."""
    if _ESCAPES_QUOTE.search(value):
        return None
    return "'" + value.replace("'", "\\'") + "'"


_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: What the script's shell and the docker CLI read from their environment: exporting a container's
#: value under one of these names would change how docker.sh itself runs. ``SSL_CERT_FILE`` and
#: ``SSL_CERT_DIR``: the CLI's roots for a TLS daemon (Go crypto/x509 ``loadSystemRoots``, through
#: go-connections' ``SystemCertPool`` when no CA file is given), and a common name for a trust anchor.
_READ_BY_SCRIPT = re.compile(r"(PATH|HOME|IFS|ENV|CDPATH|PWD|OLDPWD|PS[1-4]|TMPDIR|SHELLOPTS|BASH_ENV"
                             r"|[A-Za-z]+_PROXY|[A-Za-z]+_proxy|DOCKER_.*|LD_.*|GO.*|SSL_CERT_FILE|SSL_CERT_DIR)\Z")


def shell_exportable(name: str) -> bool:
    """Can docker.sh's exports file set ``name`` for ``docker run -e NAME`` without changing how the
    script itself runs?"""
    return bool(_SHELL_NAME.match(name)) and not _READ_BY_SCRIPT.match(name)


def _missing(problems: Problems, w: Workload, field_path: str, message: str) -> None:
    problems.add(f"{message} (not optional: the container would fail with CreateContainerConfigError)",
                 file=w.file, obj=w.ref, field=field_path)
