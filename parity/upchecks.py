"""What ``parity up`` refuses before it makes anything: an engine object it would use by name that is
not this app's (a container, network, volume or the data image: someone else's is never used,
replaced or removed), and a container the kubelet would not start (``runAsNonRoot``)."""

from __future__ import annotations

from typing import Callable

from .docker.engine import containers_named, volumes_named
from .docker.labels import LABEL_DIGEST, not_ours
from .docker.plan import AppPlan, PodPlan
from .docker.sandbox import SandboxPlan, up_networks
from .docker.security import verify_run_as_non_root
from .errors import ParityError

# The SDK after .docker.engine, which defers its paramiko import (see there).
import docker  # noqa: E402
import docker.errors  # noqa: E402


class Checks:
    """The checks of an ``up`` run (``up._Up``): they read the run's ``plan``, ``client``,
    ``pod_of``, ``sandboxes`` and ``data_workload``."""

    plan: AppPlan
    client: docker.DockerClient
    pod_of: dict[str, PodPlan]
    sandboxes: list[SandboxPlan]
    data_workload: str | None

    def _name_checks(self) -> list[Callable[[], None]]:
        """The checks that every engine object up would use by name (containers, networks, volumes,
        the data image) is this app's (each container its workload's), or absent: someone else's is
        never used, replaced or removed. One list request each, whatever the app's size (one GET per
        name was ~40 for 12 workloads), independent of each other: run at once, the first failing
        in this order is the one said (as when they ran one after another)."""
        ref = self.data_workload
        subject = self.plan.subject

        def containers() -> None:
            owners = {self.plan.data_container: ref} | {
                self.plan.container_name(s): self.pod_of[s.name].workload_ref for s in self.plan.services}
            owners |= {sb.name: sb.pod.workload_ref for sb in self.sandboxes}
            found = containers_named(self.client, list(owners))
            for name, workload in owners.items():
                if name in found and not_ours(found[name].labels, self.plan.project, workload):
                    raise ParityError(f"a container named {name} exists and was not created by parity for "
                                      f"{workload or subject}; remove or rename it")

        def networks() -> None:
            wanted = up_networks(self.plan)
            for net in self.client.networks.list(names=wanted):
                if net.name in wanted and not_ours(net.attrs.get("Labels"), self.plan.project, None):
                    raise ParityError(f"a network named {net.name} exists and was not created by parity for "
                                      f"{subject}; parity will not use or remove it: remove it yourself (docker "
                                      f"network rm {net.name}) or choose another project name (-p)")

        def volumes(names: list[str]) -> None:
            found = volumes_named(self.client, names)
            for name in names:
                if name in found and not_ours(found[name].attrs.get("Labels"), self.plan.project, ref):
                    raise ParityError(_not_ours_volume(name, subject))

        def data_image() -> None:
            try:
                image = self.client.images.get(self.plan.data_image)
            except docker.errors.ImageNotFound:
                return
            if not_ours(image.labels, self.plan.project, ref) or \
                    (image.labels or {}).get(LABEL_DIGEST) != f"sha256:{self.plan.content_digest}":
                raise ParityError(f"an image tagged {self.plan.data_image} exists and was not built by parity for "
                                  f"{subject}; parity will not use it as the data image: remove the tag "
                                  f"(docker image rm {self.plan.data_image}) and run parity up again")

        checks = [containers, networks]
        if self.plan.volumes:
            checks.append(lambda: volumes([self.plan.volume_name(v) for v in self.plan.volumes]))
        if self.plan.stores:
            checks.append(lambda: volumes([v.docker_name for v in self.plan.stores]))
        if self.plan.volumes:
            checks.append(data_image)
        return checks

    def _check_run_as_non_root(self) -> None:
        """The kubelet's runAsNonRoot check, for every container before any is created (the images are
        here: ``ensure_image``).

        Raises:
            ParityError: the kubelet would not start a container (CreateContainerConfigError).
        """
        for s in self.plan.services:
            sec, error = s.security, s.security.config_error
            if error is None and sec.check_image_user:
                user = self.client.images.get(s.image).attrs.get("Config", {}).get("User") or ""
                error = verify_run_as_non_root(user, s.container, sec.pod)  # (the kubelet names the container)
            if error is not None:
                raise ParityError(f"{s.name}: CreateContainerConfigError: {error} (the kubelet does not start "
                                  "this container; nothing was started)")


def _not_ours_volume(name: str, ref: str) -> str:
    return (f"a volume named {name} exists and was not created by parity for {ref}; parity will not use or "
            f"remove it: remove it yourself (docker volume rm {name}) and run parity up again")
