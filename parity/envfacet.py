"""The ``environment`` facet of ``diff``: the variables each container's process gets.

The cluster's side is what the kubelet gives the container (``docker/env.py``'s ``container_env``,
the one home of those rules: ``envFrom`` then ``env``, ``$(VAR)`` expanded, the kubelet's service
variables); the Docker side is what Compose gives the service (static: its ``environment`` as
``docker compose config`` normalises it, ``env_file`` contents inlined) or what the engine reports
of the container (live: ``Config.Env``).

What each runtime adds itself is in neither side, so it is never a difference: the engine and the
CRI runtime (containerd, CRI-O) both put the image's ``ENV`` under the variables the container is
given (a variable the container sets wins), and both add ``HOSTNAME`` (and ``PATH`` when nothing sets
it; Docker also ``TERM`` with a TTY, runc ``HOME``) only when the process starts, outside
``Config.Env`` (moby ``daemon/create.go`` merges the image's ``Env`` into ``Config.Env``;
``container.CreateDaemonEnvironment`` adds the rest at start). The live diff lays the container's
variables over its image's ``Config.Env`` on the cluster's side too, since the cluster runs the same
image; the static diff reads no image, so it compares what each side sets: a variable set to the
image's own value differs statically only.

Values never appear: a value the cluster knows and that comes from no Secret is shown as its size
and a short sha256 digest (as a file's content); a value that is, or expands, a Secret's is shown by
where it comes from only, on both sides, whatever its length (a digest of a short password can be
reversed by trying them); an extra variable is shown as set. A variable whose cluster value parity
cannot know (a ``fieldRef`` to ``status.podIP``, a Service's cluster IP, a value expanding one) is
compared by presence only, and the difference's detail says so.

Kind ``environment``, path ``(env NAME)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .compare import Difference
from .docker.env import SERVICE_VARIABLES, ContainerEnv
from .layout import short_digest

KIND = "environment"
NOT_SET = "not set"
#: The path of the one difference that says which of the kubelet's service variables a container lacks.
SERVICE_VARIABLES_PATH = "(env: service variables)"
#: How a value is shown when it is not shown (module docstring).
SECRET = "set (a Secret's value: not shown)"
OTHER_SECRET = "set to another value (not shown)"
UNKNOWN = "set (its value is not known here)"


@dataclass(frozen=True)
class Variable:
    """One variable of the cluster's side: its value and what ``compare_environment`` needs to show it."""

    value: str = field(repr=False)  # never in a repr (tracebacks, test reports): it may be a Secret's
    origin: str  # where the cluster's value comes from (never the value)
    secret: bool = False  # the value is, or expands, a Secret's: no digest, on either side
    unknown: str | None = None  # why the cluster's value is not known here: compared by presence only


def cluster_environment(env: ContainerEnv) -> dict[str, Variable]:
    """The variables the kubelet gives a container (``env``: ``docker.env.container_env`` of it)."""
    values = {**env.plain, **env.from_objects}
    return {name: Variable(value, env.origins.get(name, ""), name in env.secret, env.unknown.get(name))
            for name, value in values.items()}


def with_image(expected: dict[str, Variable], image_env: dict[str, str]) -> dict[str, Variable]:
    """The cluster's variables laid over the image's ``ENV`` (the CRI runtime does it as the engine does)."""
    return {**{k: Variable(v, "the image's ENV") for k, v in image_env.items()}, **expected}


def compose_environment(service: dict, escaped: bool) -> dict[str, str]:
    """The variables Compose gives a service's container: its ``environment`` as Compose normalised it
    (``env_file`` contents inlined; a name without a value is unset). ``escaped``: ``docker compose
    config`` prints ``$`` as ``$$`` (its output is a compose file again); parity's fallback reader has
    interpolated already."""
    env = service.get("environment") or {}
    if isinstance(env, list):  # the fallback reader keeps the list form: NAME=VALUE, or NAME (unset)
        env = dict(item.partition("=")[::2] if "=" in item else (item, None) for item in map(str, env))
    out = {}
    for name, value in env.items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out[str(name)] = text.replace("$$", "$") if escaped else text
    return out


def engine_environment(env: list[str] | None) -> dict[str, str]:
    """``Config.Env`` (of a container or an image) as a map; an entry without ``=`` is no variable
    (the engine leaves it out of the process's environment), a later entry of a name wins."""
    out = {}
    for item in env or []:
        name, sep, value = str(item).partition("=")
        if sep:
            out[name] = value
    return out


def compare_environment(container: str, expected: dict[str, Variable], actual: dict[str, str]) -> list[Difference]:
    """The cluster's variables of ``container`` against Docker's, by name: one difference per variable
    missing here, extra here, or with another value (a value the cluster's side cannot know: by
    presence only). Values are never shown (module docstring)."""
    out = []
    links = sorted(n for n, v in expected.items() if v.origin == SERVICE_VARIABLES and n not in actual)
    if links:  # one difference for them all: a hand-written setup has none of them, a line each is noise
        out.append(Difference(container, SERVICE_VARIABLES_PATH, KIND,
                              f"{sum(v.origin == SERVICE_VARIABLES for v in expected.values())} variables",
                              f"{len(links)} not set: {', '.join(links)}",
                              "the kubelet gives every container KUBERNETES_SERVICE_* and, with enableServiceLinks, "
                              "NAME_SERVICE_HOST/_PORT... of each Service of its namespace (k8s-to-docker writes "
                              "them; those holding a cluster IP are compared by presence only)"))
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        path = f"(env {name})"
        if want is None:
            out.append(Difference(container, path, KIND, NOT_SET, "set",
                                  "the cluster does not give the container this variable"))
        elif got is None:
            if name in links:
                continue
            out.append(Difference(container, path, KIND, _shown(want), NOT_SET,
                                  f"the cluster gives it ({_from(want)}); here the process does not have it"
                                  + _presence(want)))
        elif want.unknown is None and got != want.value:
            out.append(Difference(container, path, KIND, _shown(want), OTHER_SECRET if want.secret else _value(got),
                                  f"the value differs ({_from(want)})"))
    return out


def _shown(want: Variable) -> str:
    if want.unknown is not None:
        return UNKNOWN
    return SECRET if want.secret else _value(want.value)


def _value(value: str) -> str:
    data = value.encode("utf-8", "surrogateescape")
    return f"{len(data)} bytes {short_digest(hashlib.sha256(data).hexdigest())}"


def _from(want: Variable) -> str:
    return f"from {want.origin}" if want.origin else "from the pod spec"


def _presence(want: Variable) -> str:
    return f"; compared by presence only: {want.unknown}" if want.unknown else ""

