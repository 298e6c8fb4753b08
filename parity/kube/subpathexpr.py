"""``subPathExpr``: a mount's subPath made by the kubelet from the container's environment.

The kubelet (pkg/kubelet/kubelet_pods.go ``makeMounts``) expands the expression with
``kubecontainer.ExpandContainerVolumeMounts`` (pkg/kubelet/container/helpers.go): Go's
``expansion.Expand`` (third_party/forked/golang/expansion) over the container's variables as
``makeEnvironmentVariables`` made them (envFrom, then env in order, each literal expanding the ones
before it and the service variables, then the service variables the container does not set). A
reference to a variable that is not set, or set to "", fails the container ("missing value for
NAME"); so does a result that is absolute ("error SubPath `...` must not be an absolute path") or
holds a ``..`` element ("unable to provision SubPath `...`: must not contain '..'"). The result is
then a subPath like any other.

Where parity knows the values (literals, the pod's namespace, a Pod's or StatefulSet pod's name,
ConfigMap keys) the result is the cluster's. Where it does not (a Deployment's pod name, which its
controller makes; a Service variable holding the cluster IP) the result is made from parity's
stand-in value, and where parity has none (the node's name) from the variable's name; a note says
which variable and why. A Secret's value never becomes a
path parity shows: such an expression is refused.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .containervalidation import MOUNT_PATH_NUL
from .fieldref import DownwardAPI
from .manifests import Inputs, Workload
from .names import go_quote
from .podspec import Container, FieldSelector, KeySelector
from .services import service_env, service_value_holds_cluster_ip


class EnvValue(NamedTuple):
    """A variable as the kubelet sets it: its text here, why the cluster's may differ (None: the
    same), and the Secret it comes from (None: no Secret's value)."""

    text: str
    unknown: str | None = None
    secret: str | None = None

    def __repr__(self) -> str:
        # A repr goes into tracebacks and test reports: a Secret's value is never in it.
        text = "(a Secret's value: not shown)" if self.secret else repr(self.text)
        return f"EnvValue(text={text}, unknown={self.unknown!r}, secret={self.secret!r})"


#: The kernel's bound on one string of a process's argv or environment (``MAX_ARG_STRLEN``, 32 pages
#: of 4096 bytes, the NUL included): past it ``execve`` fails with E2BIG, so a container whose variable
#: or argument is longer never starts. Every ``$(VAR)`` expansion stops there (review 8, S-L: each
#: value may repeat the one before it, a 5.8 KB pod expanded to 2 GB and parity died of MemoryError).
MAX_ARG_STRLEN = 32 * 4096


class ExpansionTooLong(ValueError):
    """An expansion passed ``MAX_ARG_STRLEN``; its text is the problem's message (no value in it)."""

    field = ""  # the env entry's field path, where one is known (``kubelet_env``)

    def __init__(self) -> None:
        super().__init__(f"Invalid value: expands to more than {MAX_ARG_STRLEN} characters, more than the kernel "
                         "takes for one variable or argument (MAX_ARG_STRLEN): the container would fail to start "
                         "(argument list too long)")


def go_expand(text: str, mapping: Callable[[str], str]) -> str:
    """``expansion.Expand``: ``$(NAME)`` is ``mapping(NAME)`` (any text up to the first ``)``), ``$$``
    is ``$``, any other ``$`` (an unclosed ``$(`` included) stays as written.

    Args:
        text: the text as written (a ``subPathExpr``, an env value).
        mapping: a name's replacement (``MappingFuncFor``: an undefined name gives ``$(NAME)`` back).

    Returns:
        The text expanded.

    Raises:
        ExpansionTooLong: the result passed ``MAX_ARG_STRLEN`` (stopped there: never built whole).
    """
    out, i, size = [], 0, len(text)
    while i < len(text):
        c = text[i]
        if c != "$" or i + 1 == len(text):
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append("$(")
                i += 2
            else:
                value = mapping(text[i + 2:close])
                size += len(value)
                if size > MAX_ARG_STRLEN:
                    raise ExpansionTooLong()
                out.append(value)
                i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def _service_unknown(value: str) -> str | None:
    """A service variable's value is the cluster's when it is a port or a protocol; a host or an
    address names the Service by DNS name here where the cluster gives its virtual IP (which is
    which: ``services.service_value_holds_cluster_ip``, the rule the env facet uses too)."""
    if not service_value_holds_cluster_ip(value):
        return None
    return "a Service variable: the cluster gives the Service's virtual IP, parity its DNS name"


def kubelet_env(w: Workload, ctr: Container, inputs: Inputs) -> dict[str, EnvValue]:
    """The container's variables as ``makeEnvironmentVariables`` makes them (values only: what is
    missing and not optional is ``docker/env.py``'s ``container_env`` to report, not this).

    Args:
        w: the workload (its namespace, pod metadata for ``fieldRef``, ``enableServiceLinks``).
        ctr: the container.
        inputs: the Secrets, ConfigMaps and Services read.

    Returns:
        name -> its ``EnvValue`` (text here, why the cluster's may differ, the Secret it comes from),
        in the kubelet's order: envFrom, env, then the service variables the container does not set.

    Raises:
        ExpansionTooLong: an env value expands past ``MAX_ARG_STRLEN`` (its ``field`` names the entry).
    """
    services = service_env(w.namespace, w.spec.enable_service_links, list(inputs.services.values()))
    downward = DownwardAPI(w, lambda field, message: None)
    env: dict[str, EnvValue] = {}
    for src in ctr.env_from:
        obj = (inputs.secrets if src.kind == "secret" else inputs.configmaps).get((w.namespace, src.name))
        for key, data in (obj.env_data.items() if obj is not None else ()):
            env[src.prefix + key] = EnvValue(data.decode("utf-8", errors="replace"), None,
                                             f'secret "{src.name}"' if src.kind == "secret" else None)
    for item in ctr.env:
        ref = item.value_from
        if ref is None:
            used: list[tuple[str, EnvValue]] = []

            def mapping(name: str) -> str:
                value = env.get(name)
                if value is None and name in services:
                    value = EnvValue(services[name], _service_unknown(services[name]))
                if value is None:
                    return f"$({name})"  # (MappingFuncFor: an undefined reference stays as written)
                used.append((name, value))
                return value.text

            try:
                text = go_expand(item.value, mapping)
            except ExpansionTooLong as exc:
                exc.field = f"{item.field}.value"
                raise
            unknown = next((f"it expands $({n}): {u.unknown}" for n, u in used if u.unknown), None)
            env[item.name] = EnvValue(text, unknown, next((u.secret for _, u in used if u.secret), None))
        elif isinstance(ref, KeySelector):
            obj = (inputs.secrets if ref.kind == "secret" else inputs.configmaps).get((w.namespace, ref.name))
            if obj is not None and ref.key in obj.env_data:
                env[item.name] = EnvValue(obj.env_data[ref.key].decode("utf-8", errors="replace"), None,
                                          f'secret "{ref.name}"' if ref.kind == "secret" else None)
        else:
            value = (downward.field(ref.field_path) if isinstance(ref, FieldSelector)
                     else downward.resource(ref, ctr, f"{item.field}.valueFrom.resourceFieldRef"))
            if value is not None:
                env[item.name] = EnvValue(value.text, value.volatile)
    for name, text in services.items():
        env.setdefault(name, EnvValue(text, _service_unknown(text)))
    return env


class Expanded(NamedTuple):
    """A subPathExpr expanded: the subPath (None: the container fails to start, ``error`` says why)
    and what of it the cluster may make differently (one note per variable)."""

    sub_path: str | None
    error: str | None = None
    notes: tuple[str, ...] = ()


def expand_sub_path_expr(expr: str, env: dict[str, EnvValue]) -> Expanded:
    """``ExpandContainerVolumeMounts``, then makeMounts' checks of the result.

    Args:
        expr: the mount's ``subPathExpr`` (the API server's checks passed).
        env: the container's variables (``kubelet_env``).

    Returns:
        The subPath, or the error the kubelet fails the container with (a Secret's value in the
        result is refused the same way: parity shows subPaths); notes naming each variable whose
        value here is a stand-in, and why.
    """
    missing: set[str] = set()
    secrets: list[str] = []
    notes: list[str] = []

    def mapping(name: str) -> str:
        value = env.get(name)
        if value is not None and value.unknown and not value.text:  # (spec.nodeName: set in the cluster)
            notes.append(f"$({name}) has no value here ({value.unknown}): {go_quote(name)} stands in")
            return name
        if value is None or not value.text:
            missing.add(name)
            return ""
        if value.secret:
            secrets.append(f"$({name}) comes from {value.secret}")
        if value.unknown:
            notes.append(f"$({name}) is {go_quote(value.text)} here ({value.unknown})")
        return value.text

    try:
        expanded = go_expand(expr, mapping)
    except ExpansionTooLong as exc:
        return Expanded(None, str(exc))
    if missing:
        return Expanded(None, f"missing value for {', '.join(sorted(missing))} (the kubelet fails the container: "
                              "a subPathExpr variable must be set and not empty)")
    if secrets:
        return Expanded(None, f"{'; '.join(dict.fromkeys(secrets))}: parity does not make a Secret's value into a "
                              "path it shows (use a value that is not secret)")
    if expanded.startswith("/"):
        return Expanded(None, f"error SubPath `{expanded}` must not be an absolute path (the kubelet fails the "
                              "container)")
    if ".." in expanded.split("/"):
        return Expanded(None, f"unable to provision SubPath `{expanded}`: must not contain '..' (the kubelet fails "
                              "the container)")
    if "\x00" in expanded:  # (a value's: the expression as written was checked; filepath.Join, mkdir fail)
        return Expanded(None, f"its expansion holds {MOUNT_PATH_NUL}")
    return Expanded(expanded, None, tuple(dict.fromkeys(notes)))
