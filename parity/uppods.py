"""``parity up``'s pod steps: the project networks (kept or created), each pod's sandbox (kept while
it runs with the plan's config, else made again: ``docker/sandbox.py`` says how), and each container
(kept, started, created or recreated as its config digest says, in its pod's sandbox; an init
container waited for until it exits)."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Callable, TypeVar

from .docker.engine import Listed, first_line, requests_errors
from .docker.labels import LABEL_CONFIG, LABEL_PROJECT, compose_labels
from .docker.plan import AppPlan, PodPlan, ServicePlan
from .docker.sandbox import SandboxPlan, up_networks
from .errors import ParityError
from .outdir import signals_held
from .output import Progress
from .schedule import Stopped
from .upplan import _config_digest

# The SDK after .docker.engine, which defers its paramiko import (see there).
import docker  # noqa: E402
import docker.errors  # noqa: E402
from docker.types import Mount  # noqa: E402

#: While waiting for an init container, how often a worker looks whether the run was stopped.
WAIT_SLICE = 1.0

T = TypeVar("T")


class PodSteps:
    """The pod steps of an ``up`` run (``up._Up``): they read the run's ``plan``, ``client``,
    ``progress``, ``timeout``, ``owner_label``, ``pod_of``, ``sandbox_of`` and what ``_read_engine``
    found (``listed``, ``found_networks``), fill its ``networks`` and ``sandbox_ids``, stop waiting
    when its ``_stop`` is set, and bind what the state directory holds (``StateDir._bound``)."""

    plan: AppPlan
    client: docker.DockerClient
    progress: Progress
    timeout: float
    owner_label: dict[str, str]
    pod_of: dict[str, PodPlan]
    sandbox_of: dict[str, SandboxPlan]
    listed: dict[str, Listed]
    found_networks: dict[str, object]
    networks: dict[str, object]
    sandbox_ids: dict[str, str]
    _stop: threading.Event
    _parallel: Callable[[list[Callable[[], T]]], list[T]]
    _bound: Callable[[str], str]

    def _networks(self) -> list[str]:
        """The project network and each namespace's (``sandbox.up_networks``): kept (as ``_read_engine``
        found them), or created; what was done."""
        wanted = up_networks(self.plan)
        found = self.found_networks

        def ensure(name: str) -> str | None:
            if name in found:  # (_name_checks: it is this app's)
                self.networks[name] = found[name]
                return None
            self.networks[name] = self.client.networks.create(
                name, driver="bridge", check_duplicate=True,
                labels={LABEL_PROJECT: self.plan.project, **self.owner_label})
            return f"created network {name}"

        return [a for a in self._parallel([lambda n=n: ensure(n) for n in wanted]) if a]

    def _sandbox_kept(self, sb: SandboxPlan) -> bool:
        """Whether the pod's sandbox is there with the plan's config and runs: kept as it is."""
        ctr = self.listed.get(sb.name)
        return ctr is not None and ctr.labels.get(LABEL_CONFIG) == sb.digest and ctr.state == "running"

    def _sandbox(self, sb: SandboxPlan) -> list[str]:
        """The pod's sandbox, not kept (``_sandbox_kept``): (re)created on its networks with its
        aliases, and started; what was done."""
        digest = sb.digest
        ctr = self.listed.get(sb.name)
        action = "created" if ctr is None else "recreated"
        if ctr is not None:
            self.client.api.remove_container(ctr.id, force=True, v=True)
        (first, aliases), *more = sb.networks.items()
        self.progress(f"starting {sb.pod.sandbox}")
        try:
            with signals_held():
                made = self.client.containers.create(
                    sb.image, network=first,
                    networking_config={first: self.client.api.create_endpoint_config(aliases=aliases or None)},
                    labels={**sb.labels, LABEL_CONFIG: digest, **self.owner_label,
                            **compose_labels(self.plan.project, sb.pod.sandbox, digest)},
                    **sb.create_kwargs())
                for name, names in more:
                    self.networks[name].connect(made, aliases=names or None)
                made.start()
        except docker.errors.APIError as exc:
            raise ParityError(f"starting {sb.pod.sandbox} failed: {first_line(exc)}") from None
        self.sandbox_ids[sb.name] = made.id
        return [f"{action} {sb.pod.sandbox}"]

    def _unchanged(self, s: ServicePlan) -> bool:
        """Whether the service's container is there with its config and needs no start: nothing to do."""
        ctr = self.listed.get(self.plan.container_name(s))
        # A Job's containers ran to completion once, a CronJob's run when the user starts them:
        # neither is started again (nor is an init container that ran); a restarting one is left to
        # Docker's restart policy (a start would race it).
        return ctr is not None and ctr.labels.get(LABEL_CONFIG) == self._container_digest(s) and (
            s.init or self.pod_of[s.name].run != "service" or ctr.state in ("running", "restarting"))

    def _container_digest(self, s: ServicePlan) -> str:
        """The container's config digest label: its config, and the sandbox whose network namespace it
        joins (a container still in a replaced sandbox's is recreated, as the kubelet recreates a pod's
        containers in its new sandbox)."""
        joined = self.sandbox_ids[self.sandbox_of[s.name].name]
        return hashlib.sha256(f"{_config_digest(s)} {joined}".encode()).hexdigest()

    def _container(self, s: ServicePlan) -> list[str]:
        """Create, recreate or start the service's container as needed; what was done."""
        plan = self.plan
        name = plan.container_name(s)
        digest = self._container_digest(s)
        joined = f"container:{self.sandbox_ids[self.sandbox_of[s.name].name]}"
        ctr = self.listed.get(name)
        pod = self.pod_of[s.name]
        if self._unchanged(s):
            return []
        if ctr is not None and ctr.labels.get(LABEL_CONFIG) == digest:  # there, stopped
            self.client.api.start(ctr.id)
            return [f"started {s.name}"]
        if ctr is not None:
            self.client.api.remove_container(ctr.id, force=True, v=True)
            actions = [f"recreated {s.name}"]
        else:
            actions = [f"created {s.name}"]
        mounts = [Mount(m.target, self._volume_of(m.volume), type="volume", read_only=m.read_only, no_copy=True)
                  for m in s.volumes]
        mounts += [Mount(h.target, h.source, type="bind", read_only=h.read_only) for h in s.host_paths]
        mounts += [Mount(b.target, self._bound(b.host_path), type="bind", read_only=True) for b in s.binds]
        if s.termination:  # read-write, as the kubelet binds it (kubelet.termination_log_paths)
            mounts.append(Mount(s.termination, self._bound(s.termination_file), type="bind", read_only=False))
        self.progress(f"starting {s.name}" if pod.run != "on-demand" else f"creating {s.name} (on demand)")
        kwargs = dict(
            name=name, network_mode=joined, user=s.user, group_add=s.group_add or None,
            environment={**s.env.from_objects, **s.env.plain}, working_dir=s.working_dir,
            read_only=s.read_only_rootfs, mounts=mounts, tty=s.tty, stdin_open=s.stdin_open,
            labels={**s.labels, LABEL_CONFIG: digest, **self.owner_label,
                    **compose_labels(self.plan.project, s.name, digest)},
        )  # (host name and ports are the sandbox's: Docker refuses them with network_mode container:)
        if s.entrypoint is not None:
            kwargs["entrypoint"] = s.entrypoint
        if s.command is not None:
            kwargs["command"] = s.command
        kwargs.update(self._security_kwargs(s))
        if s.health:
            kwargs["healthcheck"] = s.health.sdk()
        if not s.init and s.restart != "no":
            kwargs["restart_policy"] = {"Name": s.restart}
        try:
            with signals_held():
                ctr = self.client.containers.create(s.image, **kwargs)
                if pod.run != "on-demand":  # (a CronJob's: made, never started by up)
                    ctr.start()
        except docker.errors.APIError as exc:
            raise ParityError(f"starting {s.name} failed: {first_line(exc)}") from None
        if s.init and pod.run != "on-demand":
            code = self._wait(ctr, s.name, name)
            if code != 0:
                raise ParityError(f"init container {s.name} exited with code {code} (see: docker logs {name})")
        return actions

    def _volume_of(self, key: str) -> str:
        """The engine name of the volume a service mounts by key (data volume or store)."""
        for v in self.plan.volumes:
            if v.key == key:
                return self.plan.volume_name(v)
        return next(v.docker_name for v in self.plan.stores if v.key == key)

    def _security_kwargs(self, s: ServicePlan) -> dict:
        """The SDK's options for a service's capabilities, privileges, sysctls and limits."""
        sec = s.security
        kwargs: dict = {}
        for key, value in (("cap_add", sec.cap_add), ("cap_drop", sec.cap_drop), ("security_opt", sec.security_opt),
                           ("sysctls", sec.sysctls), ("mem_limit", sec.memory), ("nano_cpus", sec.nano_cpus)):
            if value:
                kwargs[key] = value
        if sec.privileged:
            kwargs["privileged"] = True
        return kwargs

    def _wait(self, ctr, service: str, name: str) -> int:
        """An init container's exit code, waited for in slices (a worker sees the run stopping)."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return ctr.wait(timeout=max(0.1, min(WAIT_SLICE, deadline - time.monotonic()))).get("StatusCode")
            except requests_errors() as exc:
                if self._stop.is_set():
                    raise Stopped() from None
                if not _read_timed_out(exc) or time.monotonic() >= deadline:
                    raise ParityError(f"init container {service} did not finish within {self.timeout:g} s (see: "
                                      f"docker logs {name}); give it longer with --timeout") from None


def _read_timed_out(exc: Exception) -> bool:
    """Whether a request failed only because the answer took longer than its timeout (the SDK over
    a unix socket wraps urllib3's ReadTimeoutError in a ConnectionError)."""
    import requests.exceptions
    import urllib3.exceptions

    return isinstance(exc, requests.exceptions.ReadTimeout) or any(
        isinstance(a, urllib3.exceptions.ReadTimeoutError) for a in exc.args)
