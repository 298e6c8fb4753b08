"""The engine's container list rows (``GET /containers/json``, the SDK's ``api.containers``) as
parity reads them, without the SDK (``liveproject.py`` imports it only once an engine is asked)."""

from __future__ import annotations

from typing import Mapping


def container_name(row: Mapping) -> str:
    """A listed container's name, as ``docker ps`` shows it.

    The Engine API's ``Names`` holds each name with a leading ``/``, and also, for a container that
    another links to (the legacy ``--link``), the alias as ``/LINKER/ALIAS``, in any order (the
    engine lists ``["/web-b/alias", "/web-a"]`` for ``web-a``); a container being removed may have
    none. As the docker CLI's ``ContainerContext.Names`` (cli/command/formatter/container.go): the
    first name without a ``/`` once the leading one is stripped.

    Args:
        row: one row of the engine's container list (``Names``, ``Id``).

    Returns:
        The name; the short id (12 characters, as ``docker ps`` truncates it) when the row has none.
    """
    for name in row.get("Names") or ():
        name = name[1:] if name.startswith("/") else name
        if "/" not in name:
            return name
    return row["Id"][:12]
