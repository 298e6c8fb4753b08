"""``parity up``'s volume steps: the data image (kept, else built from the state directory), the
data volumes (kept, updated in place with the kubelet's atomic ``..data`` swap, or recreated; the
data container fills new ones by copy-up), the stores (writable volumes: made when missing, kept, or
made again when a tmpfs's options changed), and, before a volume is recreated, the containers
that mount it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

from .docker.emit import DATA_DIR, store_labels
from .docker.engine import Listed, first_line, requests_errors
from .docker.inplace import swap_in_place, volume_shape
from .docker.labels import (LABEL_PROJECT, LABEL_UP_OWNER, LABEL_VOLUME_DIGEST, LABEL_VOLUME_SHAPE,
                            compose_labels)
from .docker.listrows import container_name
from .docker.plan import CLAIM, DATA_SERVICE, AppPlan, DataVolume, StoreVolume
from .errors import ParityError
from .output import Progress
from .upchecks import _not_ours_volume
from .upresult import UpResult

# The SDK after .docker.engine, which defers its paramiko import (see there).
import docker  # noqa: E402
import docker.errors  # noqa: E402
from docker.types import Mount  # noqa: E402

T = TypeVar("T")


class VolumeSteps:
    """The volume steps of an ``up`` run (``up._Up``): they read the run's ``plan``, ``client``,
    ``progress``, ``timeout``, ``state_dir``, ``owner``, ``owner_label`` and what ``_read_engine``
    found (``listed``, ``data_image_id``, ``data_volumes``, ``store_volumes``), run requests at once
    with its ``_parallel``, and add their actions to its ``result``."""

    plan: AppPlan
    client: docker.DockerClient
    progress: Progress
    timeout: float
    state_dir: Path
    owner: str
    owner_label: dict[str, str]
    listed: dict[str, Listed]
    data_image_id: str
    data_volumes: dict[str, object]
    store_volumes: dict[str, object]
    result: UpResult
    _parallel: Callable[[list[Callable[[], T]]], list[T]]

    def _data(self) -> list[str]:
        """The data image and the data volumes (``_data_image``, ``_volumes``); their actions go to
        the result as they are done (no other step's do)."""
        self._data_image()
        self._volumes()
        return []

    def _data_image(self) -> None:
        """The data image: the one ``_read_engine`` found, else built from the state directory."""
        if self.data_image_id:
            return
        self.progress(f"building {self.plan.data_image}")
        try:
            image, _ = self.client.images.build(path=str(self.state_dir / DATA_DIR), tag=self.plan.data_image,
                                                rm=True, forcerm=True, labels=self.owner_label, timeout=self.timeout)
        except (docker.errors.BuildError, docker.errors.APIError) as exc:
            raise ParityError(f"building the data image failed: {first_line(exc)}") from None
        except requests_errors() as exc:
            raise ParityError(f"building the data image failed: the engine did not answer within "
                              f"{self.timeout:g} s ({first_line(exc)}); give it longer with --timeout") from None
        self.data_image_id = image.id
        self.result.actions.append(f"built image {self.plan.data_image}")

    def _volumes(self) -> None:
        plan = self.plan
        data_name = plan.data_container
        data = self.listed.get(data_name)
        labels = data.labels if data is not None else {}
        existing = self.data_volumes
        shapes = {v.key: volume_shape(v) for v in plan.volumes}
        data_labels = plan.data_labels()  # once: it hashes every volume's digest
        volume_labels = plan.volume_labels()

        def reconcile(v: DataVolume) -> str | None:
            """One volume: kept, updated in place, recreated or created; the action, if any."""
            name = plan.volume_name(v)
            have_digest = labels.get(LABEL_VOLUME_DIGEST + v.key)
            if name in existing and have_digest == v.digest:
                return None
            if name in existing and have_digest and labels.get(LABEL_VOLUME_SHAPE + v.key) == shapes[v.key]:
                self.progress(f"updating volume {name} in place (atomic ..data swap)")
                swap_in_place(self.client, plan.data_image, {**data_labels, **self.owner_label}, v, name,
                              self.timeout)
                return f"updated volume {name} in place"
            if name in existing:
                self.progress(f"recreating volume {name}")
                self._remove_containers_mounting(name)
                existing[name].remove(force=True)
                action = f"recreated volume {name}"
            else:
                action = f"created volume {name}"
            made = self.client.volumes.create(name, labels={**volume_labels[v.key], **self.owner_label})
            # The engine answers a create of an existing name with that volume, whoever made it:
            # one made since _name_checks (a race) is not ours to fill.
            if (made.attrs.get("Labels") or {}).get(LABEL_UP_OWNER) != self.owner:
                raise ParityError(_not_ours_volume(name, plan.subject))
            return action

        actions = [a for a in self._parallel([lambda v=v: reconcile(v) for v in plan.volumes]) if a]
        self.result.actions.extend(actions)
        if not actions and data is not None and data.image_id == self.data_image_id:
            return
        if data is not None:
            try:
                self.client.api.remove_container(data.id, force=True, v=False)
            except docker.errors.NotFound:
                pass  # already removed with a recreated volume
        labels = {**data_labels, **self.owner_label,
                  **compose_labels(plan.project, DATA_SERVICE, plan.content_digest)}
        for v in plan.volumes:
            labels[LABEL_VOLUME_DIGEST + v.key] = v.digest
            labels[LABEL_VOLUME_SHAPE + v.key] = shapes[v.key]
        # Created, never started: creating it fills empty volumes from the image (copy-up). (The API's
        # own request: the SDK's containers.create inspects what it made, a round trip more.)
        api = self.client.api
        api.create_container(plan.data_image, name=data_name, labels=labels, host_config=api.create_host_config(
            mounts=[Mount(v.image_path, plan.volume_name(v), type="volume") for v in plan.volumes]))
        self.result.actions.append("created data container")

    def _stores(self) -> list[str]:
        """Writable volumes not filled from the data image (plan.StoreVolume): made when missing,
        kept otherwise (a claim's data survives down and up; a tmpfs volume whose options changed is
        made again, as a new pod gets a new emptyDir); what was done."""
        plan = self.plan

        def reconcile(v: StoreVolume) -> str | None:
            have = self.store_volumes.get(v.docker_name)
            if have is not None and (v.kind == CLAIM or (have.attrs.get("Options") or {}) == v.driver_opts):
                return None
            action = f"created volume {v.docker_name}"
            if have is not None:
                self._remove_containers_mounting(v.docker_name)  # (made again below: a sandbox holds a tmpfs)
                have.remove(force=True)
                action = f"recreated volume {v.docker_name}"
            made = self.client.volumes.create(v.docker_name, driver="local", driver_opts=v.driver_opts or None,
                                              labels={**store_labels(plan, v), **self.owner_label})
            if (made.attrs.get("Labels") or {}).get(LABEL_UP_OWNER) != self.owner:
                raise ParityError(_not_ours_volume(v.docker_name, plan.subject))
            return action

        return [a for a in self._parallel([lambda v=v: reconcile(v) for v in plan.stores]) if a]

    def _remove_containers_mounting(self, volume: str) -> None:
        """Remove this project's containers that mount ``volume``, before it is recreated (a volume in
        use cannot go), and forget them (``listed``: made again after it). One list request, whose
        rows are not inspected one by one: the data volumes, the stores and the sandboxes are made
        side by side, and a container another step removed meanwhile (one that mounts two recreated
        volumes, a sandbox made again) failed the SDK's per-container inspect, and so the whole up,
        with "No such container". Already gone: done."""
        rows = self.client.api.containers(all=True, filters={"label": f"{LABEL_PROJECT}={self.plan.project}",
                                                             "volume": volume})
        for row in rows:
            try:
                self.client.api.remove_container(row["Id"], force=True, v=True)
            except docker.errors.NotFound:
                pass
            self.listed.pop(container_name(row), None)
