"""What a ``parity diff --live`` that was killed leaves behind: found by owner, removed by the next run.

A live diff's throw-away project is owned by its process: every container, volume, network and
built image carries ``LABEL_DIFF_OWNER`` = ``HOST:PID``, and its temporary directory (which holds
the compose config, env values included) is ``$TMPDIR/parity-diff-PID-*``. Its compose commands
die with it (``tether.py``). A SIGKILL skips the clean-up, so ``diff --live``, ``up`` and ``down``
call ``sweep`` first: whatever a process that no longer exists on this host owned is removed. A
live owner, another host's (parity cannot tell whether it runs) or another user's is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import tempfile

from .labels import LABEL_DIFF_OWNER
from .listrows import container_name

TEMP_PREFIX = "parity-diff-"
_TEMP_NAME = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    except (ValueError, OverflowError):
        return False
    return True


def owner_alive(owner: str | None) -> bool:
    """Whether the ``HOST:PID`` in a ``LABEL_DIFF_OWNER`` may still be running: on this host, its
    process exists; on another host parity cannot tell, so it assumes so. No owner: False."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return True
    if not pid.isdigit():
        return False  # not a label parity wrote
    return _pid_alive(int(pid))


def owned_by_running_diff(labels: dict | None) -> bool:
    """Whether an engine object belongs to a ``parity diff --live`` that may still be running."""
    return owner_alive((labels or {}).get(LABEL_DIFF_OWNER))


def temp_dir() -> str:
    """A new owner-only directory for this process's throw-away project, findable by its pid."""
    return tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")


def _dead(labels: dict | None) -> bool:
    return LABEL_DIFF_OWNER in (labels or {}) and not owned_by_running_diff(labels)


def sweep(client) -> list[str]:
    """Remove every engine object and temporary directory of a live diff whose process is gone.

    Args:
        client: a connected docker-py client.

    Returns:
        What was removed (``container NAME``, ``volume NAME``, ``network NAME``, ``image ID``,
        ``directory PATH``), in that order.
    """
    removed = []
    only = {"label": LABEL_DIFF_OWNER}
    # The engine's lists, one request each: the SDK's containers.list and images.list inspect every
    # object they list, and one that a running diff removes meanwhile failed the whole command.
    # Containers first: a volume, network or image in use cannot go.
    for row in client.api.containers(all=True, filters=only):
        if _dead(row.get("Labels")):
            _quietly(lambda: client.api.remove_container(row["Id"], force=True, v=True))
            removed.append(f"container {container_name(row)}")
    for vol in client.volumes.list(filters=only):
        if _dead(vol.attrs.get("Labels")):
            _quietly(lambda: vol.remove(force=True))
            removed.append(f"volume {vol.name}")
    for net in client.networks.list(filters=only):
        if _dead(net.attrs.get("Labels")):
            _quietly(net.remove)
            removed.append(f"network {net.name}")
    for row in client.api.images(filters=only):
        if _dead(row.get("Labels")):
            _quietly(lambda: client.api.remove_image(row["Id"], force=True))
            removed.append(f"image {row['Id'][:17] if row['Id'].startswith('sha256:') else row['Id'][:10]}")
    return removed + [f"directory {d}" for d in sweep_temp_dirs()]


def sweep_temp_dirs() -> list[str]:
    """Remove this user's ``parity-diff-PID-*`` temporary directories whose process is gone."""
    root = tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match or _pid_alive(int(match.group(1))):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():  # never a link, never someone else's
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def _quietly(action) -> None:
    """A leftover's removal refused (already gone, being removed by another sweep, still in use by
    an object of someone else's): the run that asked goes on; the next sweep tries again."""
    import docker.errors

    try:
        action()
    except docker.errors.APIError:
        pass
