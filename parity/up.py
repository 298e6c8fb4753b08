"""``parity up``: an app's containers (every selected workload's) on a real engine, kept in parity.

``up`` reconciles the engine with the plan, through the Docker SDK:
- the data image (built from the generated context, tagged by content digest) exists;
- one volume per Kubernetes volume, with a stable name, holds the current tree. A new volume is
  filled by copy-up when the data container is created. When a Secret changes, the volume is
  updated **in place** the way the kubelet does it: the new timestamped directory is copied in and
  ``..data`` is swapped atomically (``mv -T``, a rename), so running apps see the new files without
  a restart. Where that is impossible (the volume root itself changes) the volume is recreated;
- each app container runs with a config digest label; it is recreated only when its config changes
  (env from a Secret, subPath files: neither updates in place, in the cluster either);
- the project network(s) and one sandbox per pod (``docker/sandbox.py``: its host name, /etc/hosts,
  DNS names, published ports, network sysctls, Service forwarders), which every container of the pod
  joins (``network_mode container:SANDBOX_ID``). A sandbox is recreated when its config changed or it
  no longer runs, and then so is every container of its pod (their network namespace went with it),
  init containers included: the kubelet makes a new pod sandbox in that case, and runs them again.
A second ``up`` with nothing changed makes no engine change at all.

Like Compose, ``up`` makes its engine requests concurrently where nothing orders them (``PARALLEL``
at once): the name checks, the engine reads, the app images, the volumes. Then every object is made
as soon as what it comes after is (``_make``, ``schedule.run_by_dependency``, up to ``MAX_STARTS`` at
once): the networks while the data image is built and the volumes filled, each pod's sandbox once
the networks are there, each container once its own pod's sandbox runs, the data volumes are filled
and the services it depends on in the plan have started or completed (``start_after``: each init
container after the one before it, the app containers after the last), never after every other
pod's, as Compose starts each service once its own ``depends_on`` are met. ``actions`` are reported
in the plan's order (data image and volumes, stores, networks, sandboxes, containers) whatever order
the requests finished in.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from .docker.emit import DATA_DIR
from .docker.engine import (DEFAULT_TIMEOUT, Listed, by_label, connect, containers_named, engine_errors,
                             ensure_image, first_line, requests_errors, volumes_named)
from .docker.health import SANDBOX_GONE, Condition, condition
from .docker.inplace import swap_in_place, volume_shape
from .docker.labels import (LABEL_CONFIG, LABEL_DIGEST, LABEL_PROJECT, LABEL_ROLE, LABEL_UP_OWNER,
                            LABEL_VOLUME_DIGEST, LABEL_VOLUME_SHAPE, ROLE_DATA, compose_labels, not_ours,
                            owner_pid, run_owner)
from .docker.leftovers import owner_alive, sweep
from .docker.sandbox import SandboxPlan, sandbox_plans, up_networks
from .docker.security import verify_run_as_non_root
from .docker import hostpath
from .docker.emit import store_labels
from .docker.plan import CLAIM, DATA_SERVICE, AppPlan, DataVolume, ServicePlan, StoreVolume
from .errors import ParityError
from .layout import WorkloadLayout, document
from .outdir import OUTPUT_MARK, OUTPUT_MARK_TEXT, inside, signals_held, write_file
from .output import Progress
from .schedule import Stopped, run_by_dependency
from .state import (LAYOUT_FILE, MAX_STATE_BYTES, STATE_FILE, ProjectLock, is_real_dir, project_lock,
                    read_state_json, remove_state_dir, state_root)

# The SDK after .docker.engine, which defers its paramiko import (see there).
import docker  # noqa: E402
import docker.errors  # noqa: E402
from docker.types import Mount  # noqa: E402


@dataclass
class UpContainer:
    """A container ``up`` runs for a workload container, as it is after the run."""

    name: str  # the Kubernetes container
    container: str  # the engine's container
    id: str  # short id
    state: str  # Docker's status: running, restarting, exited...
    init: bool
    mounts: list[str]  # the mountPaths parity fills
    health: str | None = None  # Docker's health status (None: no health check)
    problem: str | None = None  # why it is not up, when it is not (Condition.problem), else None

    def to_json(self) -> dict:
        return {"name": self.name, "container": self.container, "id": self.id, "state": self.state,
                "init": self.init, "mounts": self.mounts, "health": self.health, "problem": self.problem}


@dataclass(frozen=True)
class OnDemand:
    """A pod ``up`` made and did not start (a CronJob: parity schedules nothing), and how to run it."""

    workload: str  # KIND/NAME
    namespace: str
    command: str  # the docker commands that run it once, in order (init containers first)


@dataclass
class UpResult:
    workload: str
    project: str
    state_dir: str
    actions: list[str] = field(default_factory=list)  # what changed, in order (empty: nothing)
    containers: list[UpContainer] = field(default_factory=list)
    #: The pods ``up`` made but did not start (CronJobs: never scheduled), with the command that runs one.
    on_demand: list[OnDemand] = field(default_factory=list)
    waited: bool = False  # --wait: the containers were waited for
    #: With --wait, one line per container that is not up: ``SERVICE: PROBLEM (see: docker logs NAME)``.
    problems: list[str] = field(default_factory=list)
    #: What still differs from the cluster, and why (the plan's differences, as k8s-to-docker prints them).
    notes: list[str] = field(default_factory=list)

    @property
    def is_up(self) -> bool | None:
        """Whether every container is up (None: not waited for, so not known)."""
        return not self.problems if self.waited else None

    def to_json(self) -> dict:
        return {"format": "parity.up/v1", "workload": self.workload, "project": self.project,
                "state_dir": self.state_dir, "changed": bool(self.actions), "actions": self.actions,
                "waited": self.waited, "up": self.is_up, "problems": self.problems, "notes": self.notes,
                "containers": [c.to_json() for c in self.containers],
                "on_demand": [{"workload": o.workload, "namespace": o.namespace, "run": o.command}
                              for o in self.on_demand]}


def _config_digest(s: ServicePlan) -> str:
    config = {
        "image": s.image, "entrypoint": s.entrypoint, "command": s.command, "env": s.env.plain,
        "env_objects": hashlib.sha256(json.dumps(s.env.from_objects, sort_keys=True).encode()).hexdigest(),
        "user": s.user, "groups": s.group_add, "ro": s.read_only_rootfs, "wd": s.working_dir,
        "security": s.security.config(),
        **({"health": s.health.sdk()} if s.health else {}),  # (absent without one: digests made before stay)
        "hostname": s.hostname, "restart": s.restart, "ports": s.ports, "tty": s.tty, "stdin": s.stdin_open,
        "volumes": [(m.target, m.volume) + (() if m.read_only else ("rw",)) for m in s.volumes],
        "binds": [(b.target, [(e.path, e.type, e.mode, e.uid, e.gid, e.sha256, e.target) for e in b.entries])
                  for b in s.binds],
    }
    if s.host_paths:  # (only then: an app without hostPath keeps its digests)
        config["host_paths"] = [(h.target, h.source, h.read_only) for h in s.host_paths]
    if s.termination:  # the termination-message file's bind (a container made before it had none)
        config["termination"] = s.termination
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()



#: Engine requests one ``up`` makes at once. Compose makes them all at once; a few already keep a
#: 2-core engine busy (measured: benchmarks/bench.py, app_up), and more only queue inside dockerd.
PARALLEL = 8
#: ``_make``'s steps at once, at most (the data image and volumes, the networks, the pods' sandboxes
#: and containers): each as soon as what it comes after is done, so with as many at once as there
#: are pods no pod waits for another's (an app of 12 pods made its sandboxes in two rounds of
#: ``PARALLEL`` after the data image, then the app containers: 1.43x Compose's ``up -d``). Also the
#: SDK client's connection pool (``connect``): a request beyond the pool would open a connection of
#: its own and log a warning when it is discarded.
MAX_STARTS = 32
#: ``_make``'s steps before the pods': the data image and volumes, the stores, the networks (their
#: keys hold spaces: no service or sandbox is named so).
DATA, STORES, NETWORKS = "(data volumes)", "(stores)", "(networks)"
#: While waiting for an init container, how often a worker looks whether the run was stopped.
WAIT_SLICE = 1.0
#: --wait: how often the containers are looked at, and how long a container without a health check
#: must be seen running (same start, no restart) to count as up: a process that exits at once is
#: caught, not taken for a running one in the instant before it exits.
WAIT_POLL = 0.5
STABLE = 2.0
#: --wait-timeout's default, in seconds.
DEFAULT_WAIT = 120

T = TypeVar("T")


def start_after(sandboxes: list[SandboxPlan]) -> dict[str, list[str]]:
    """What each pod sandbox and container is started after, as compose.yaml orders them: a
    container after its own pod's sandbox (whose network namespace it joins) and the services it
    depends on in the plan (``depends_on``, ``started_after``: each init container after the one
    before it, native sidecars included, the app containers after the last); a sandbox after nothing.

    Args:
        sandboxes: one per pod (``sandbox.sandbox_plans``).

    Returns:
        Sandbox service name (``PodPlan.sandbox``) or service name -> the names it comes after, in
        the plan's order: the sandboxes, then each pod's services.
    """
    after: dict[str, list[str]] = {sb.pod.sandbox: [] for sb in sandboxes}
    for sb in sandboxes:
        for s in sb.pod.services:
            after[s.name] = [sb.pod.sandbox] + s.depends_on + s.started_after
    return after


class _Up:
    """One ``up`` run: reconcile the engine with ``plan``."""

    def __init__(self, plan: AppPlan, layouts: list[WorkloadLayout], progress: Progress,
                 timeout: float = DEFAULT_TIMEOUT, wait: float | None = None):
        self.plan, self.layouts, self.progress, self.timeout, self.wait = plan, layouts, progress, timeout, wait
        self.client = connect(timeout, max_pool_size=MAX_STARTS)
        self.state_dir = inside(state_root(), plan.project)  # (a -p name is checked; this asserts it)
        self.result = UpResult(plan.subject, plan.project, str(self.state_dir), notes=list(plan.differences))
        self.pod_of = {s.name: pod for pod in plan.pods for s in pod.services}
        self.sandboxes = sandbox_plans(plan)
        self.sandbox_of = {s.name: sb for sb in self.sandboxes for s in sb.pod.services}
        self.sandbox_ids: dict[str, str] = {}  # sandbox container name -> its id, once it runs
        self.networks: dict[str, object] = {}  # engine network name -> the SDK's Network
        #: Whose the data image, data container and volumes are: the workload's in an app of one
        #: pod, the whole app's (no workload label) otherwise (``AppPlan.data_labels``).
        self.data_workload = plan.pods[0].workload_ref if len(plan.pods) == 1 else None
        self.owner = run_owner()
        #: On every object this run creates (see ``LABEL_UP_OWNER``).
        self.owner_label = {LABEL_UP_OWNER: self.owner}
        self._stop = threading.Event()  # set when a step failed or the run was interrupted
        #: The app's containers as one list request found them once the run holds the lock (what
        #: this run removes is taken out): what reconciling each container starts from.
        self.listed: dict[str, Listed] = {}
        self.data_image_id = ""  # the data image's id, once it exists
        #: The project's data volumes, its store volumes and its networks as the same reads found
        #: them (``_read_engine``), by name.
        self.data_volumes: dict[str, object] = {}
        self.store_volumes: dict[str, object] = {}
        self.found_networks: dict[str, object] = {}

    # -- concurrency -----------------------------------------------------------------------
    def _parallel(self, steps: list[Callable[[], T]]) -> list[T]:
        """Run ``steps`` at once (at most ``PARALLEL``); their results in the order given.

        A failure stops the steps not yet started; the first failure in the given order is raised
        once every started step has ended, and so is Ctrl-C (a request abandoned half-way would
        finish after the roll-back: Docker then even makes a missing volume itself, unlabelled).
        """
        return run_by_dependency({str(i): step for i, step in enumerate(steps)}, {}, PARALLEL, self._stop)

    def _make(self) -> bool:
        """The data image and volumes, the stores, the networks and each pod's sandbox and
        containers, each step as soon as what it comes after has ended: a sandbox after the networks
        and the stores (it holds the pod's tmpfs volumes), a container after its pod's sandbox and the
        services it depends on (``start_after``), the data volumes and the stores. So the sandboxes
        start while the data image is built, and a pod's containers once its own sandbox runs.
        Whether a sandbox or container has anything to do is looked at when its turn comes (the
        volume steps remove the containers that mount a volume they recreate): only those that do
        take a worker (a warm run: none). The steps run in workers, so Ctrl-C waits for the started
        ones: a request abandoned half-way would finish after the roll-back (Docker then even makes a
        missing volume itself, unlabelled, filled with secrets). Actions go to the result in the
        plan's order: the data image and volumes, the stores, the networks, the sandboxes, the
        containers.

        Returns:
            Whether any container was started, created or recreated.
        """
        after = start_after(self.sandboxes)
        for sb in self.sandboxes:
            after[sb.pod.sandbox] += [NETWORKS, STORES]
            for s in sb.pod.services:
                after[s.name] += [DATA, STORES]
        steps: dict[str, Callable[[], list[str]]] = {}
        if self.plan.volumes:
            steps[DATA] = self._data  # (its actions go to the result as they are done: the first)
        if self.plan.stores:
            steps[STORES] = self._stores
        steps[NETWORKS] = self._networks
        sandboxes = {sb.pod.sandbox: sb for sb in self.sandboxes}
        services = {s.name: s for s in self.plan.services}
        steps.update({k: lambda sb=sb: self._sandbox(sb) for k, sb in sandboxes.items()})
        steps.update({k: lambda s=s: self._container(s) for k, s in services.items()})
        touched: list[str] = []

        def nothing_to_do(key: str) -> bool:
            if key in sandboxes and self._sandbox_kept(sandboxes[key]):
                self.sandbox_ids[sandboxes[key].name] = self.listed[sandboxes[key].name].id
                return True
            if key in services:  # (its digest names its sandbox: one made anew changes it)
                if self._unchanged(services[key]):
                    return True
                touched.append(key)
            return False

        for actions in run_by_dependency(steps, after, MAX_STARTS, self._stop, nothing_to_do):
            self.result.actions.extend(actions or [])
        return bool(touched)

    def _data(self) -> list[str]:
        """The data image and the data volumes (``_data_image``, ``_volumes``); their actions go to
        the result as they are done (no other step's do)."""
        self._data_image()
        self._volumes()
        return []

    # -- state directory -------------------------------------------------------------------
    def write_state(self) -> bool:
        """Regenerate the owner-only state directory when the plan changed; True if it did."""
        digest = hashlib.sha256(json.dumps([self.plan.content_digest] + [
            _config_digest(s) for s in self.plan.services]).encode()).hexdigest()
        state_file = self.state_dir / STATE_FILE
        if self._state_intact(digest):
            return False
        self.progress(f"writing {self.state_dir}")
        from .docker.generate import generate  # (here: a warm run, which writes nothing, needs none of it)

        try:
            self.state_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.state_dir.is_dir() and not (self.state_dir / OUTPUT_MARK).exists():
                # A state directory written before parity marked its outputs: it is parity's own.
                write_file(self.state_dir / OUTPUT_MARK, OUTPUT_MARK_TEXT, 0o644)
            generate(self.plan, self.state_dir, force=True)
            (self.state_dir / LAYOUT_FILE).write_text(json.dumps(document(self.layouts), indent=1))
            state_file.write_text(json.dumps({"digest": digest, "workload": self.plan.subject}))
        except OSError as exc:
            raise ParityError(f"{self.state_dir}: cannot write the state directory: "
                              f"{exc.strerror or exc}") from None
        return True

    def _state_intact(self, digest: str) -> bool:
        """Whether the state directory is the one this plan writes: a real directory whose state.json
        (read with a size bound, never through a symlink) holds ``digest``, and whose subPath
        files, which containers bind, are inside it (nothing planted there points out of it). When
        not, ``write_state`` writes it again."""
        if not is_real_dir(self.state_dir):
            return False
        try:
            if read_state_json(self.state_dir / STATE_FILE, MAX_STATE_BYTES).get("digest") != digest:
                return False
        except (FileNotFoundError, ParityError):
            return False
        return all(self._bind_source(path) is not None for s in self.plan.services
                   for path in [b.host_path for b in s.binds] + ([s.termination_file] if s.termination else []))

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
                error = verify_run_as_non_root(user, s.name, sec.pod)
            if error is not None:
                raise ParityError(f"{s.name}: CreateContainerConfigError: {error} (the kubelet does not start "
                                  "this container; nothing was started)")

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

    def _bind_source(self, host_path: str) -> str | None:
        """The host path a subPath bind mounts, if it resolves inside the state directory."""
        root = os.path.realpath(self.state_dir)
        path = os.path.join(root, host_path)
        return path if os.path.realpath(path) == path and os.path.lexists(path) else None

    def _bound(self, host_path: str) -> str:
        """The host path a bind mounts (``_bind_source``), which ``write_state`` made.

        Raises:
            ParityError: it no longer resolves inside the state directory (changed since).
        """
        source = self._bind_source(host_path)
        if source is None:  # write_state wrote it just now: someone changed it since
            raise ParityError(f"{self.state_dir / host_path}: changed outside parity during the run "
                              "(it no longer resolves inside the state directory); run parity up again")
        return source

    # -- reconcile ---------------------------------------------------------------------------
    def up(self) -> UpResult:
        with engine_errors():
            # A killed parity diff --live's leftovers go, and every name is checked before anything
            # is written or created: reads (and the sweep's removals of others' objects) that
            # nothing orders, at once.
            self._parallel([lambda: sweep(self.client)] + self._name_checks())
            for h in {h.source: h for sv in self.plan.services for h in sv.host_paths}.values():
                hostpath.prepare(h)  # the kubelet's type checks, before the pod's containers
            with project_lock(self.plan.project, self.plan.subject) as lock:
                self._run(lock)
            if self.wait is not None:  # (the lock is not held while waiting: status and down may run)
                self._wait_up(self.wait)
        return self.result

    def _run(self, lock: ProjectLock) -> None:
        """``up`` under the project's lock: first a killed run's leftovers go, then the journal
        says this run is in progress until it ends (see parity/state.py)."""
        self._recover(lock)
        fresh = not os.path.lexists(self.state_dir)
        lock.write_journal({"command": "up", "owner": self.owner, "fresh": fresh})
        try:
            self.write_state()
            self._read_engine()
            self._check_run_as_non_root()
            touched = self._make()
        except BaseException:
            with signals_held():
                if self._roll_back(self.owner, fresh):  # else the journal stays for the next run
                    lock.write_journal(None)
                    if fresh:
                        lock.unlink()
            raise
        lock.write_journal(None)
        self._report(None if touched else self.listed)

    def _recover(self, lock: ProjectLock) -> None:
        """A run killed mid-way (SIGKILL, a crash: no roll-back ran) left its journal in the lock:
        remove what it made, as its roll-back would have."""
        journal = lock.journal()
        if not journal or journal.get("command") != "up" or owner_alive(journal["owner"]):
            return
        self.progress(f"removing what a killed parity up (pid {owner_pid(journal['owner'])}) left")
        with signals_held():
            self._roll_back(journal["owner"], journal.get("fresh") is True)
        lock.write_journal(None)
        self.result.actions.append(f"removed what a killed run left (pid {owner_pid(journal['owner'])})")

    def _roll_back(self, owner: str, fresh: bool) -> bool:
        """Remove what the run ``owner`` made: every container, volume and image of the project
        labelled with it (so an object created just as the run was interrupted is found too), and the
        state directory if that run created it. The engine may be gone: then what is left stays
        labelled for ``parity down`` (and the next ``up``).

        Returns:
            Whether the engine could be asked (False: it went away; objects may be left).
        """
        if fresh:
            remove_state_dir(self.state_dir)
        label = {LABEL_PROJECT: self.plan.project, LABEL_UP_OWNER: owner}
        try:
            containers = by_label(self.client.containers, **label)
            volumes = by_label(self.client.volumes, **label)
            images = by_label(self.client.images, **label)
            networks = by_label(self.client.networks, **label)
        except Exception:  # noqa: BLE001 - the engine went away: nothing can be removed
            return False
        undo = [lambda c=c: c.remove(force=True, v=True) for c in containers]
        undo += [lambda n=n: n.remove() for n in networks]  # (once the containers on them are gone)
        undo += [lambda v=v: v.remove(force=True) for v in volumes]
        undo += [lambda i=i: self.client.images.remove(i.id, force=True) for i in images]
        for step in undo:
            try:
                step()
            except Exception:  # noqa: BLE001 - best effort; the original error is what is reported
                pass
        return True

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

    def _read_engine(self) -> None:
        """What reconciling starts from, asked once the run holds the lock, all at once (reads that
        nothing orders; a warm run makes no other request): each app image (pulled when missing:
        ``ensure_image``), the app's containers (one list), the data image, the project's data
        volumes, its store volumes and its networks. An image that cannot be had is the error said
        first, as when it was asked first."""
        plan = self.plan
        images = dict.fromkeys([sb.image for sb in self.sandboxes] + [s.image for s in plan.services])

        def containers() -> None:
            self.listed = containers_named(self.client, [plan.data_container] + [
                plan.container_name(s) for s in plan.services] + [sb.name for sb in self.sandboxes])

        def data_image() -> None:
            try:
                self.data_image_id = self.client.images.get(plan.data_image).id
            except docker.errors.ImageNotFound:
                self.data_image_id = ""

        def data_volumes() -> None:
            self.data_volumes = {v.name: v for v in by_label(self.client.volumes, **{LABEL_PROJECT: plan.project,
                                                                                     LABEL_ROLE: ROLE_DATA})}

        def store_volumes() -> None:  # (a list's rows carry the Options _stores compares)
            self.store_volumes = volumes_named(self.client, [v.docker_name for v in plan.stores])

        def networks() -> None:
            wanted = up_networks(plan)
            self.found_networks = {n.name: n for n in self.client.networks.list(names=wanted) if n.name in wanted}

        steps: list[Callable[[], object]] = [lambda i=i: ensure_image(self.client, i) for i in images]
        steps += [containers, networks]
        if plan.volumes:
            steps += [data_image, data_volumes]
        if plan.stores:
            steps.append(store_volumes)
        self._parallel(steps)

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

    def _volume_of(self, key: str) -> str:
        """The engine name of the volume a service mounts by key (data volume or store)."""
        for v in self.plan.volumes:
            if v.key == key:
                return self.plan.volume_name(v)
        return next(v.docker_name for v in self.plan.stores if v.key == key)

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

    def _on_demand_command(self, pod) -> str:
        """The docker commands that run an on-demand pod once: each init container to completion,
        in order, then the app containers (attached when there is one)."""
        inits = [self.plan.container_name(s) for s in pod.services if s.init]
        apps = [self.plan.container_name(s) for s in pod.services if not s.init]
        steps = [f"docker start -a {name}" for name in inits]
        steps += ([f"docker start -a {apps[0]}"] if len(apps) == 1 else
                  [f"docker start {' '.join(apps)}", f"docker wait {' '.join(apps)}"])
        return " && ".join(steps)

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
            self.listed.pop((row.get("Names") or ["/"])[0].lstrip("/"), None)

    def _report(self, listed: dict[str, Listed] | None) -> None:
        """The containers as they are now: ``listed`` when the run changed none of them, else listed again."""
        self.result.on_demand = [OnDemand(p.workload_ref, p.namespace, self._on_demand_command(p))
                                 for p in self.plan.pods if p.run == "on-demand"]
        found = listed if listed is not None else containers_named(
            self.client, [self.plan.container_name(s) for s in self.plan.services])
        for s in self.plan.services:
            ctr = found.get(self.plan.container_name(s))
            if ctr is None:  # removed by someone else since this run made it
                raise ParityError(f"the Docker engine failed: No such container: {self.plan.container_name(s)}")
            self.result.containers.append(UpContainer(
                s.name, ctr.name, ctr.id[:12], ctr.state, s.init,
                [m.target for m in s.volumes] + [b.target for b in s.binds]))

    def _wait_up(self, timeout: float) -> None:
        """--wait: until every container is up (``health.condition``: running, healthy where it has a
        health check; exited 0 for one that runs to completion) or one cannot get there (it exited,
        crash-loops, is unhealthy: the run stops at the first), at most ``timeout`` seconds. Each
        pod's sandbox is waited for too (running: a sandbox that exited took the pod's network
        namespace with it, as a dead pause container does). Each container that is not up gets a line
        in ``result.problems``; log contents are never read."""
        self.result.waited = True
        deadline = time.monotonic() + timeout
        # (init containers: up waited for them, exit 0; a CronJob's: made, never started: on demand)
        services = [s for s in self.plan.services if not s.init and self.pod_of[s.name].run != "on-demand"]
        # What is watched: (the name a problem line gives, the engine's container name).
        watched = [(s.name, self.plan.container_name(s)) for s in services]
        watched += [(sb.pod.sandbox, sb.name) for sb in self.sandboxes]
        seen: dict[str, tuple[tuple, float]] = {}  # watched -> ((StartedAt, RestartCount), first seen)
        while True:
            found = self._parallel([lambda n=name: self.client.api.inspect_container(n) for _, name in watched])
            now = time.monotonic()
            states, pending, unsettled = {}, [], []
            for (key, _), attrs in zip(watched, found):
                c = states[key] = condition(attrs)
                if c.ok and c.health is None and c.state == "running":
                    run = (attrs["State"].get("StartedAt"), c.restarts)
                    if seen.get(key, ((), 0.0))[0] != run:
                        seen[key] = (run, now)
                    if now - seen[key][1] < STABLE:
                        unsettled.append(key)  # (up, unless it exits within STABLE s)
                elif c.ok is None:
                    pending.append(key)
            failed = [key for key, _ in watched if states[key].ok is False]
            if failed or not (pending or unsettled) or now >= deadline:
                break
            time.sleep(WAIT_POLL)
        by_name = {c.name: c for c in self.result.containers}
        for s in services:
            c, shown = states[s.name], by_name[s.name]
            shown.state, shown.health, shown.problem = c.state, c.health, c.problem
        sandboxes = {sb.pod.sandbox for sb in self.sandboxes}
        for key, name in watched:
            if key not in (failed or pending):
                continue
            c = states[key]
            problem = c.problem if failed else _not_up_in_time(c, timeout)
            if key in sandboxes:  # (not a container of the pod's: named as the pod's sandbox)
                self.result.problems.append(f"{key} (the pod's sandbox): {problem}{SANDBOX_GONE if failed else ''} "
                                            f"(see: docker logs {name})")
                continue
            by_name[key].problem = problem
            self.result.problems.append(f"{key}: {problem} (see: docker logs {name})")


def _not_up_in_time(c: Condition, timeout: float) -> str:
    """Why a container that was still settling when --wait-timeout ran out is not up."""
    if c.health == "starting":
        return f"not healthy within {timeout:g} s (its health check has not passed yet)"
    if c.state == "running" and c.completes:
        return f"still running after {timeout:g} s (it runs to completion: exit 0 was waited for)"
    return f"not up within {timeout:g} s ({c.state})"


def up(plan: AppPlan, layouts: list[WorkloadLayout], progress: Progress | None = None,
       timeout: float | None = None, wait: float | None = None) -> UpResult:
    """Reconcile the engine with the plan (see the module docstring).

    Args:
        plan: the app's Docker plan (every selected workload: one environment).
        layouts: the predicted layout of each of its pods, in order (stored for ``status``).
        progress: where step messages go.
        timeout: seconds parity waits for the engine, per request and per wait (None: DEFAULT_TIMEOUT).
        wait: ``--wait``: seconds to wait, after the run, until every container is up (None: no wait);
            ``result.problems`` then names each container that is not.

    Returns:
        What was done, and the containers.

    Raises:
        ParityError: the engine failed or refused, a name is someone else's, another run holds the
            workload's lock, or a wait timed out; what this run made is removed.
    """
    return _Up(plan, layouts, progress or Progress(), timeout or DEFAULT_TIMEOUT, wait).up()


def _read_timed_out(exc: Exception) -> bool:
    """Whether a request failed only because the answer took longer than its timeout (the SDK over
    a unix socket wraps urllib3's ReadTimeoutError in a ConnectionError)."""
    import requests.exceptions
    import urllib3.exceptions

    return isinstance(exc, requests.exceptions.ReadTimeout) or any(
        isinstance(a, urllib3.exceptions.ReadTimeoutError) for a in exc.args)


def _not_ours_volume(name: str, ref: str) -> str:
    return (f"a volume named {name} exists and was not created by parity for {ref}; parity will not use or "
            f"remove it: remove it yourself (docker volume rm {name}) and run parity up again")
