"""``parity down``: remove what ``parity up`` made for a workload or a project, and nothing else.

What goes is found by label (``docker/labels.py``), never by name: the containers (pod sandboxes
included), volumes and data image ``up`` made for the project (each carries ``up``'s run label), its
networks once no container is left on them, and the state directory.
Another project's objects stay, and so does what ``docker compose`` (any ``-p``) or docker.sh made
from parity's generated files, though they carry the same ``io.parity.*`` labels; a running
``parity diff --live`` keeps its own, a dead one's leftovers go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .docker.engine import by_label, connect, engine_errors
from .docker.labels import (LABEL_DIFF_OWNER, LABEL_NAMESPACE, LABEL_PROJECT, LABEL_ROLE, LABEL_VOLUME,
                            LABEL_VOLUME_DIGEST, LABEL_VOLUME_SHAPE, LABEL_WORKLOAD, ROLE_CLAIM, ROLE_DATA, made_by_up,
                            run_owner)
from .docker.leftovers import owned_by_running_diff, sweep
from .state import project_lock, remove_state_dir, state_root

# The SDK after .docker.engine, which defers its paramiko import (see there).
import docker.errors  # noqa: E402


@dataclass
class Removed:
    """Names of what ``down`` removed, by kind (images: their tags, else their short id)."""

    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    #: Claims' volumes left in place (the app's data: ``--delete-claims`` removes them).
    kept: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"containers": self.containers, "volumes": self.volumes, "images": self.images,
                "networks": self.networks, "kept": self.kept}


@dataclass
class DownResult:
    """One ``down``: of a workload (``KIND/NAME``) in a project, or of a whole project (workload None)."""

    workload: str | None
    project: str
    removed: Removed
    #: The other projects where ``parity up`` runs the workload (said when nothing of it was in
    #: ``project``: ``up APP`` then ``down APP --workload W`` looks in W's own default project).
    elsewhere: list[str] = field(default_factory=list)
    namespace: str | None = None  # the workload's, when ``down`` was given it

    def to_json(self) -> dict:
        return {"workload": self.workload, "project": self.project, "removed": self.removed.to_json(),
                "elsewhere": self.elsewhere}


def down_json(results: list[DownResult]) -> dict:
    """The ``--format json`` document of one ``parity down`` run."""
    return {"format": "parity.down/v2", "results": [r.to_json() for r in results]}


def _removed_by_down(labels: dict | None, project: str) -> bool:
    """Whether ``down`` of ``project`` removes an object: one ``parity up`` made for that project, or
    the leftover of a ``parity diff --live`` whose process is gone; never a running diff's objects,
    another project's, nor what Compose or docker.sh made from parity's files (same labels)."""
    labels = labels or {}
    if labels.get(LABEL_DIFF_OWNER):
        return not owned_by_running_diff(labels)
    return made_by_up(labels, project)


@engine_errors()
def down(workload_ref: str | None, project: str, namespace: str | None = None,
         delete_claims: bool = False) -> DownResult:
    """Remove every container, volume and image ``parity up`` made for ``project`` (and the workload,
    when given), and the project's state directory once nothing of the project is left. Another
    project's objects (another ``-p``, or a ``docker compose -p`` run of the generated file) are
    never touched; a running ``parity diff --live`` keeps its own, a dead one's leftovers of the
    workload go too.

    Args:
        workload_ref: ``KIND/NAME``, or None for every workload of the project.
        project: the project name (its state directory's name).
        namespace: the workload's namespace (its containers carry it: two namespaces' workloads of
            one name may share a project); None: any.
        delete_claims: remove the persistentVolumeClaims' volumes too (kept otherwise: the app's
            data survives ``down`` and ``up``, as a claim outlives its pods in the cluster).

    Returns:
        What was removed.

    Raises:
        ParityError: the engine failed, or another ``up``/``down`` of the project is running.
    """
    client = connect()
    with project_lock(project, workload_ref or f"project {project}") as lock:
        lock.write_journal({"command": "down", "owner": run_owner()})
        removed, elsewhere = _remove_labelled(client, workload_ref, project, namespace, delete_claims)
        # An app's other workloads still run from the state directory (their subPath files):
        # it goes with the project's last container.
        if workload_ref is None or not any(made_by_up(c.labels, project)
                                           for c in by_label(client.containers, **{LABEL_PROJECT: project})):
            remove_state_dir(state_root() / project)  # (a symlink there is unlinked, never followed)
            lock.unlink()  # (a killed up's journal goes with it: everything it made was removed)
        else:
            lock.write_journal(None)
    return DownResult(workload_ref, project, removed, elsewhere, namespace)


def _remove_labelled(client, workload_ref: str | None, project: str, namespace: str | None,
                     delete_claims: bool = False) -> tuple[Removed, list[str]]:
    """What goes, and (of a workload) the other projects where ``parity up`` runs it."""
    label = {LABEL_WORKLOAD: workload_ref} if workload_ref else {LABEL_PROJECT: project}
    removed = Removed()
    elsewhere: set[str] = set()

    def goes(labels: dict | None) -> bool:
        labels = labels or {}
        if namespace and labels.get(LABEL_NAMESPACE, namespace) != namespace:
            return False  # another namespace's workload of the same name
        return _removed_by_down(labels, project)

    # In this order: volumes and images are listed once the containers using them are gone.
    for ctr in by_label(client.containers, **label):
        if goes(ctr.labels):
            ctr.remove(force=True, v=True)  # v: anonymous volumes too, they may hold secrets
            removed.containers.append(ctr.name)
        elif workload_ref and (not namespace or ctr.labels.get(LABEL_NAMESPACE, namespace) == namespace) \
                and made_by_up(ctr.labels, other := ctr.labels.get(LABEL_PROJECT, "")):
            elsewhere.add(other)
    for net in by_label(client.networks, **{LABEL_PROJECT: project}):
        if _removed_by_down(net.attrs.get("Labels"), project):
            try:  # only once empty: the app's other pods (another namespace's) may still use it
                net.remove()
                removed.networks.append(net.name)
            except docker.errors.APIError as exc:
                if exc.status_code not in (403, 404, 409):  # in use (403 on older engines, 409), gone
                    raise
    volumes = [vol for vol in by_label(client.volumes, **label) if goes(vol.attrs.get("Labels"))]  # (no .labels)
    # A claim's volume is the app's data: kept unless asked (``delete_claims``).
    removed.kept = [v.name for v in volumes if (v.attrs.get("Labels") or {}).get(LABEL_ROLE) == ROLE_CLAIM
                    and not delete_claims]
    volumes = [v for v in volumes if v.name not in removed.kept]
    if workload_ref and volumes:
        _release(client, project, volumes)
    for vol in volumes:
        vol.remove(force=True)
        removed.volumes.append(vol.name)
    for image in by_label(client.images, **label):
        if not goes(image.labels):
            continue
        try:
            client.images.remove(image.id, force=True)
            removed.images.extend(image.tags or [image.short_id])
        except docker.errors.NotFound:
            pass
    sweep(client)  # after this project's own: a dead diff's objects of the workload are counted above
    return removed, sorted(elsewhere)


def _release(client, project: str, volumes: list) -> None:
    """Let one workload's volumes of an app of several pods go: the app's data container (created,
    never started) mounts every pod's volumes, and the engine removes no volume a container mounts.
    It is recreated without them: the same image, the same mounts and labels but theirs (its labels
    say what each volume holds: the next ``up`` then creates and fills the workload's volumes anew
    and keeps every other workload's as they are)."""
    from docker.types import Mount

    names = {v.name for v in volumes}
    keys = {(v.attrs.get("Labels") or {}).get(LABEL_VOLUME) for v in volumes}
    dropped = {prefix + k for k in keys if k for prefix in (LABEL_VOLUME_DIGEST, LABEL_VOLUME_SHAPE)}
    for ctr in by_label(client.containers, **{LABEL_PROJECT: project, LABEL_ROLE: ROLE_DATA}):
        mounts = ctr.attrs.get("Mounts") or []
        if not made_by_up(ctr.labels, project) or not any(m.get("Name") in names for m in mounts):
            continue
        keep = [Mount(m["Destination"], m["Name"], type="volume") for m in mounts
                if m.get("Type") == "volume" and m.get("Name") not in names]
        labels = {k: v for k, v in ctr.labels.items() if k not in dropped}
        ctr.remove(force=True, v=False)
        client.containers.create(ctr.attrs["Image"], name=ctr.name, labels=labels, mounts=keep)
