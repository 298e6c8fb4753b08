"""The Docker SDK, wrapped for parity: connect, find parity's objects by label, turn engine errors
into one-line ``ParityError``s. Imported only by commands that talk to an engine."""

from __future__ import annotations

import contextlib

import docker
import docker.errors

from ..errors import ParityError
from .plan import LABEL_PROJECT


def connect() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        raise ParityError(f"cannot reach the Docker engine: {first_line(exc)}") from None


@contextlib.contextmanager
def engine_errors():
    """The engine failing (or going away) mid-command: one line, exit 2, no traceback."""
    import requests.exceptions

    try:
        yield
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ParityError(f"the Docker engine failed: {first_line(exc)}") from None


def first_line(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ensure_image(client: docker.DockerClient, image: str) -> None:
    """An app image must exist locally or be pullable; say which, plainly, when neither."""
    try:
        client.images.get(image)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(image)
    except docker.errors.DockerException as exc:
        raise ParityError(f"image {image} is not available locally and cannot be pulled: {first_line(exc)}") from None


def by_label(collection, **labels: str) -> list:
    """``client.containers`` / ``volumes`` / ``images`` filtered by every given label."""
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
    if collection.__class__.__name__ == "ContainerCollection":
        return collection.list(all=True, filters=filters)
    return collection.list(filters=filters)


def project_containers(client: docker.DockerClient, project: str) -> list:
    return by_label(client.containers, **{LABEL_PROJECT: project})
