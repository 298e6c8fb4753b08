"""The Docker SDK, wrapped for parity: connect, find parity's objects by label, turn engine errors
into one-line ``ParityError``s. Imported only by commands that talk to an engine, and by them
before the SDK itself (see ``_defer_paramiko``)."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import types
from dataclasses import dataclass
from typing import Mapping


class _Deferred(types.ModuleType):
    """A stand-in for a module not imported yet: the first attribute read imports it (and from then
    on ``sys.modules`` holds the real one)."""

    def __getattr__(self, attr: str):
        import importlib

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def _defer_paramiko() -> None:
    """The Docker SDK imports paramiko (its ssh:// transport, with the cryptography bindings: about a
    quarter of the CPU a warm ``parity up`` takes) whatever the engine's address, and uses it only
    for an ``ssh://`` engine. It gets a stand-in until then; not installed, nothing changes (the SDK
    then says paramiko is missing, as it did)."""
    if "paramiko" in sys.modules:
        return
    import importlib.util

    if importlib.util.find_spec("paramiko") is not None:
        sys.modules["paramiko"] = _Deferred("paramiko")


_defer_paramiko()  # before the SDK's import, below

# The SDK, after the stand-in above.
import docker  # noqa: E402
import docker.errors  # noqa: E402
import requests.exceptions  # noqa: E402

from ..errors import ParityError  # noqa: E402
from .listrows import container_name  # noqa: E402

#: Seconds parity waits for the engine by default: each request, and each wait (a build, an init
#: container, the in-place writer); ``parity up --timeout`` changes it.
DEFAULT_TIMEOUT = 300


@dataclass(frozen=True)
class Endpoint:
    """The engine the docker CLI, and so ``docker compose``, talks to.

    Attributes:
        host: as the CLI names it (``unix:///var/run/docker.sock``, ``tcp://h:2376``, ``ssh://u@h``).
        source: where it was found (``DOCKER_HOST``, ``DOCKER_CONTEXT=NAME``, ``context NAME``, ``default``).
        context: the context to build the client from (``None``: from the environment).
    """

    host: str
    source: str
    context: str | None = None


def resolve_endpoint(environ: Mapping[str, str] | None = None) -> Endpoint:
    """The engine endpoint as the docker CLI resolves it: ``DOCKER_HOST``, else the context named by
    ``DOCKER_CONTEXT``, else the current context of the docker config (``$DOCKER_CONFIG`` or
    ``~/.docker/config.json``), else the default socket. parity's SDK client and the Compose it runs
    must agree on it, or a live diff would look for its containers on another engine.

    Raises:
        ParityError: ``DOCKER_CONTEXT`` or the config names a context that does not exist (the CLI
            refuses it too).
    """
    from docker.context import ContextAPI
    from docker.context.config import get_current_context_name

    environ = os.environ if environ is None else environ
    if environ.get("DOCKER_HOST"):
        return Endpoint(environ["DOCKER_HOST"], "DOCKER_HOST")
    name = environ.get("DOCKER_CONTEXT") or get_current_context_name()
    source = f"DOCKER_CONTEXT={name}" if environ.get("DOCKER_CONTEXT") else f"context {name}"
    if name == "default":
        return Endpoint(DEFAULT_HOST, "default")
    try:
        ctx = ContextAPI.get_context(name)
    except docker.errors.DockerException as exc:
        raise ParityError(f"cannot read docker context {name!r} ({source}): {first_line(exc)}") from None
    if ctx is None:
        raise ParityError(f"docker context {name!r} ({source}) does not exist; see `docker context ls`")
    return Endpoint(ctx.Host or DEFAULT_HOST, source, name)


#: The docker CLI's default endpoint on Linux.
DEFAULT_HOST = "unix:///var/run/docker.sock"


def connect(timeout: float | None = None, max_pool_size: int | None = None) -> docker.DockerClient:
    """A client for the engine the docker CLI would use (``resolve_endpoint``), checked by the one
    request that making it takes: the SDK asks the engine its API version (``GET /version``), which
    no engine that does not answer passes (a ping after it was a second round trip for nothing).

    Args:
        timeout: seconds each request of the client may take (docker-py's default otherwise).
        max_pool_size: connections the client keeps for requests made at once from several threads
            (docker-py's default, 10, otherwise; beyond it a request opens one of its own, and urllib3
            logs a warning when it discards it).

    Raises:
        ParityError: no engine answers there (or, with ``timeout``, none answers in time); the line
            names the endpoint, where it came from and what to do.
    """
    endpoint = resolve_endpoint()
    options: dict = {"timeout": timeout} if timeout else {}
    if max_pool_size:
        options["max_pool_size"] = max_pool_size
    try:  # (ssh:// hosts go through paramiko, the SDK's [ssh] extra, which reads ~/.ssh/config)
        if endpoint.context:
            client = docker.DockerClient.from_context(endpoint.context, **options)
        else:
            client = docker.from_env(use_context=False, **options)
        return client
    except (docker.errors.DockerException, OSError, ValueError) as exc:
        if timeout and "timed out" in str(exc).lower():  # it listens, but does not answer
            raise ParityError(f"the Docker engine at {endpoint.host} ({endpoint.source}) did not answer in "
                              f"{timeout:g}s (connecting)") from None
        raise ParityError(f"cannot reach the Docker engine at {endpoint.host} ({endpoint.source}): "
                          f"{unreachable_reason(exc)}; start it, or point DOCKER_HOST or "
                          f"`docker context use` at an engine that runs") from None


#: What an OS error under a failed connection means, in words (no Python exception text).
_OS_REASONS = {errno.ENOENT: "no such socket", errno.ECONNREFUSED: "connection refused",
               errno.EACCES: "permission denied (is this user in the docker group?)",
               errno.ETIMEDOUT: "timed out", errno.EHOSTUNREACH: "host unreachable"}


def unreachable_reason(exc: BaseException) -> str:
    """The root cause of a failed connection in a few words: the OS error buried in the chain of
    requests/urllib3 wrappers when there is one, else the exception's first line."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and (item.errno is not None or item.strerror):
            return _OS_REASONS.get(item.errno, (item.strerror or "").lower() or first_line(item))
        stack.extend([*item.args, item.__cause__, item.__context__])
    return first_line(exc)


@contextlib.contextmanager
def engine_errors():
    """The engine failing (or going away) mid-command: one line, exit 2, no traceback."""
    try:
        yield
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ParityError(f"the Docker engine failed: {first_line(exc)}") from None


def first_line(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ensure_image(client: docker.DockerClient, image: str, base: bool = False, users: list[str] = (),
                 pull: bool = True) -> None:
    """An app image must exist locally or be pullable; say which, plainly, when neither
    (``unavailable_image``; ``base``: it is the base image parity runs the pod's sandbox on; ``users``:
    the services that run it; ``pull=False``: their ``imagePullPolicy`` is Never, the image is not pulled)."""
    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    if not pull:  # (kubelet images/image_manager.go: ErrImageNeverPull, and its words)
        raise ParityError(unavailable_image(image, f'its imagePullPolicy is Never (the kubelet fails the container: '
                                                   f'Container image "{image}" is not present with pull policy of '
                                                   'Never)', base, users, pulled=False))
    try:
        client.images.pull(image)
    except docker.errors.DockerException as exc:
        raise ParityError(unavailable_image(image, first_line(exc), base, users)) from None


def unavailable_image(image: str, reason: str, base: bool = False, users: list[str] = (), pulled: bool = True) -> str:
    """The one line for an image neither here nor pullable, naming it, what runs it and how to get it.

    Args:
        image: the image reference.
        reason: why the pull failed (the engine's or Compose's words, values already left out).
        base: the image is parity's base image (``--base-image``: the sandbox's and the data image's).
        users: the services (containers) that run it, in plan order: a whole app's image is found by the
            container that names it (microservices-demo's one digest-pinned image named none).
        pulled: False when no pull was tried (``imagePullPolicy: Never``).
    """
    hint = f"docker pull {image} where a registry has it, or docker load a saved copy"
    if base:
        hint += "; or generate with k8s-to-docker --base-image IMAGE, an image you have (docker image ls)"
    run_by = f" (run by {', '.join(users)})" if users else ""
    how = "cannot be pulled" if pulled else "is not pulled"
    return f"image {image}{run_by} is not available locally and {how}: {reason}; {hint}"


def absent_images(client: docker.DockerClient, images: list[str]) -> list[str]:
    """Those of ``images`` the engine does not have (each asked once, in order; an engine that does
    not answer: none said)."""
    absent = []
    for image in dict.fromkeys(images):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            absent.append(image)
        except (docker.errors.DockerException, *requests_errors()):
            return []
    return absent


def by_label(collection, **labels: str) -> list:
    """``client.containers`` / ``volumes`` / ``images`` filtered by every given label."""
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    if collection.__class__.__name__ == "ContainerCollection":
        return collection.list(all=True, filters=filters)
    return collection.list(filters=filters)


@dataclass(frozen=True)
class Listed:
    """A container as the engine lists it: what one list request tells of many containers at once
    (the SDK's ``containers.list`` inspects each one it lists, one request per container)."""

    name: str
    id: str
    state: str  # created, running, exited, ... (the inspect's ``State.Status``)
    labels: dict[str, str]
    image_id: str
    volumes: frozenset[str]  # the names of the volumes it mounts


def containers_named(client: docker.DockerClient, names: list[str]) -> dict[str, Listed]:
    """The containers, anyone's, that have one of ``names``, in one request.

    Args:
        client: a connected client.
        names: container names (without the leading ``/``).

    Returns:
        Those that exist, by name.
    """
    if not names:
        return {}
    wanted = set(names)
    # The engine's name filter matches a pattern anywhere in the name (values or'ed): a superset,
    # narrowed here to the exact names.
    found = {}
    for row in client.api.containers(all=True, filters={"name": sorted(wanted)}):
        name = container_name(row)
        if name in wanted:
            found[name] = Listed(name, row["Id"], row.get("State") or "", row.get("Labels") or {},
                                 row.get("ImageID") or "",
                                 frozenset(m["Name"] for m in row.get("Mounts") or () if m.get("Name")))
    return found


def volumes_named(client: docker.DockerClient, names: list[str]) -> dict:
    """The volumes, anyone's, that have one of ``names``, in one request (see ``containers_named``).

    Returns:
        The SDK's volumes that exist, by name (their ``attrs`` are the list's: ``Labels``).
    """
    if not names:
        return {}
    wanted = set(names)
    return {v.name: v for v in client.volumes.list(filters={"name": sorted(wanted)}) if v.name in wanted}


def requests_errors() -> tuple[type[Exception], ...]:
    """What the SDK raises when a request or a wait times out or the connection drops."""
    return (requests.exceptions.RequestException,)
