"""A volume updated in place the way the kubelet updates a Secret's volume (atomic_writer.go).

The new timestamped directory is copied into the live volume from the data image, ``..data`` is
renamed over the old link (``mv -T``: one rename, so a reader sees the old tree or the new one,
never a mix), links for new top-level names are added, links for names that went are dropped,
and the old directory is removed. A short-lived *writer* container (``ROLE_WRITER``) runs it.
What a rename cannot change (the volume root, the real directories beside ``..data``: the
volume's *shape*) needs a new volume instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shlex

import docker.errors
from docker.types import Mount

from ..errors import ParityError
from ..layout import DATA_DIR_NAME, DIR, SYMLINK
from .engine import first_line, requests_errors
from .labels import LABEL_ROLE, ROLE_WRITER
from .plan import DataVolume

LIVE = "/live"  # where the writer mounts the live volume
#: The new link made beside ``..data`` and renamed over it (atomic_writer.go ``newDataDirName``).
NEW_DATA_DIR_NAME = DATA_DIR_NAME + "_tmp"


def volume_shape(volume: DataVolume) -> str:
    """What an in-place update cannot change: the root and the real directories beside ..data."""
    keep = [e for e in volume.tree.entries if e.path == "" or ("/" not in e.path and e.type == DIR
                                                               and not e.path.startswith(".."))]
    return hashlib.sha256(json.dumps([(e.path, e.mode, e.uid, e.gid) for e in keep]).encode()).hexdigest()[:16]


def swap_script(volume: DataVolume) -> str:
    """The ``sh`` script a writer runs in ``LIVE`` (the data image holds the new tree at
    ``volume.image_path``): idempotent, so a run interrupted half-way is finished by the next."""
    ts = next(e.target for e in volume.tree.entries if e.path == DATA_DIR_NAME)
    names = sorted({e.path for e in volume.tree.entries if "/" not in e.path and e.type == SYMLINK
                    and e.path != DATA_DIR_NAME})
    return "\n".join([
        "set -e", f"cd {LIVE}", f"new={shlex.quote(ts)}", f"old=$(readlink {DATA_DIR_NAME} || true)",
        f'[ -e "$new" ] || cp -a {shlex.quote(volume.image_path)}/"$new" "./$new"',
        'if [ "$old" != "$new" ]; then',
        f'  rm -f {NEW_DATA_DIR_NAME} && ln -s "$new" {NEW_DATA_DIR_NAME} && mv -T {NEW_DATA_DIR_NAME} {DATA_DIR_NAME}',
        "fi",
        f"for n in {' '.join(shlex.quote(n) for n in names)}; do",
        f'  [ -e "$n" ] || [ -L "$n" ] || ln -s "{DATA_DIR_NAME}/$n" "$n"', "done",
        "for n in * .[!.]* ..?*; do",
        '  [ -L "$n" ] || continue',
        f'  case "$(readlink "$n")" in {DATA_DIR_NAME}/*) ;; *) continue ;; esac',
        f'  case " {" ".join(names)} " in *" $n "*) ;; *) rm -f "$n" ;; esac', "done",
        'if [ -n "$old" ] && [ "$old" != "$new" ]; then rm -rf "./$old"; fi',
    ])


def swap_in_place(client, image: str, labels: dict[str, str], volume: DataVolume, name: str,
                  timeout: float) -> None:
    """Update the engine volume ``name`` to ``volume``'s tree with a writer container of ``image``.

    Args:
        client: a connected docker-py client.
        image: the data image (it holds the new tree).
        labels: the writer's labels (``ROLE_WRITER`` is added).
        volume: the planned volume.
        name: the engine volume to update.
        timeout: seconds to wait for the writer.

    Raises:
        ParityError: the writer failed or did not finish in time (it is removed either way).
    """
    # The API's own requests: the SDK's containers.create inspects what it made (a round trip more).
    api = client.api
    writer = api.create_container(
        image, ["sh", "-c", swap_script(volume)], user="0", network_disabled=True,
        labels={**labels, LABEL_ROLE: ROLE_WRITER},
        host_config=api.create_host_config(mounts=[Mount(LIVE, name, type="volume")]))["Id"]
    try:
        api.start(writer)
        code = api.wait(writer, timeout=timeout).get("StatusCode")
    except requests_errors() as exc:
        raise ParityError(f"updating volume {name} in place did not finish within {timeout:g} s "
                          f"({first_line(exc)}); give it longer with --timeout") from None
    finally:
        with contextlib.suppress(docker.errors.DockerException, *requests_errors()):
            api.remove_container(writer, force=True)
    if code != 0:
        raise ParityError(f"updating volume {name} in place failed (exit {code})")
