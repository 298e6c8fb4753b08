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

This module is the run (``_Up``): its state, the lock and journal, the reads it starts from, the
schedule of its steps (``_make``), the roll-back and the report. Its parts, one job each: what it
derives from the plan alone (``upplan.py``), the state directory (``upstate.py``), what it refuses
before making anything (``upchecks.py``), the volume steps (``upvolumes.py``: the data image, the
data volumes and their in-place update, the stores), the pod steps (``uppods.py``: networks,
sandboxes, containers), ``--wait`` (``upwait.py``), and what it reports (``upresult.py``).

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

import os
import threading
from typing import Callable, TypeVar

from .docker.engine import (DEFAULT_TIMEOUT, Listed, by_label, connect, containers_named, engine_errors,
                             ensure_image, volumes_named)
from .docker.labels import LABEL_PROJECT, LABEL_ROLE, LABEL_UP_OWNER, ROLE_DATA, owner_pid, run_owner
from .docker.leftovers import owner_alive, sweep
from .docker.sandbox import sandbox_plans, up_networks
from .docker import hostpath
from .docker.plan import AppPlan
from .errors import ParityError, Problem
from .layout import WorkloadLayout
from .outdir import inside, signals_held
from .output import Progress
from .schedule import run_by_dependency
from .state import ProjectLock, project_lock, remove_state_dir, state_root
from .upchecks import Checks
from .uppods import PodSteps
from .upplan import start_after
from .upresult import OnDemand, UpContainer, UpResult
from .upstate import StateDir
from .upvolumes import VolumeSteps
from .upwait import Waiting

# The SDK after .docker.engine, which defers its paramiko import (see there).
import docker  # noqa: E402
import docker.errors  # noqa: E402

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

T = TypeVar("T")


class _Up(StateDir, Checks, VolumeSteps, PodSteps, Waiting):
    """One ``up`` run: reconcile the engine with ``plan``. Its steps are methods of the parts it is
    made of (``StateDir``, ``Checks``, ``VolumeSteps``, ``PodSteps``, ``Waiting``: one module each),
    which read and set the run's state that ``__init__`` sets up."""

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

    def _read_engine(self) -> None:
        """What reconciling starts from, asked once the run holds the lock, all at once (reads that
        nothing orders; a warm run makes no other request): each app image (pulled when missing:
        ``ensure_image``; never one only ``imagePullPolicy: Never`` containers run), the app's containers (one list), the data image, the project's data
        volumes, its store volumes and its networks. Every image that cannot be had is said (in plan
        order) once all the reads have ended, and before another read's failure when one fails too
        (that failure stops the reads not yet started: an image among them is not said)."""
        plan = self.plan
        images: dict[str, list[str]] = {}  # image -> the services that run it (named if it cannot be had)
        for name, image in [(sb.pod.sandbox, sb.image) for sb in self.sandboxes] + [(s.name, s.image)
                                                                                   for s in plan.services]:
            images.setdefault(image, []).append(name)
        bases = {sb.image for sb in self.sandboxes}
        # (another container's policy pulls it on the node too, as Compose pulls for the others' services)
        pulled = bases | {s.image for s in plan.services if not s.pull_never}

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

        # Every image that cannot be had is said, not only the first: falco's install lacked three, and
        # a user met them one run at a time (corpus, seventh session).
        unavailable: dict[str, ParityError] = {}

        def image(i: str, users: list[str]) -> None:
            try:
                ensure_image(self.client, i, i in bases, users, pull=i in pulled)
            except ParityError as exc:
                unavailable[i] = exc

        def missing() -> list[Problem]:  # (the images' lines, in plan order)
            return [p for i in images if i in unavailable for p in unavailable[i].problems]

        steps: list[Callable[[], object]] = [lambda i=i, u=u: image(i, u) for i, u in images.items()]
        steps += [containers, networks]
        if plan.volumes:
            steps += [data_image, data_volumes]
        if plan.stores:
            steps.append(store_volumes)
        try:
            with engine_errors():  # (the other read's failure in up's words, to be said after the images')
                self._parallel(steps)
        except ParityError as exc:
            raise ParityError([*missing(), *exc.problems]) from None
        if unavailable:
            raise ParityError(missing())

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

    def _on_demand_command(self, pod) -> str:
        """The docker commands that run an on-demand pod once: each init container to completion,
        in order, then the app containers (attached when there is one)."""
        inits = [self.plan.container_name(s) for s in pod.services if s.init]
        apps = [self.plan.container_name(s) for s in pod.services if not s.init]
        steps = [f"docker start -a {name}" for name in inits]
        steps += ([f"docker start -a {apps[0]}"] if len(apps) == 1 else
                  [f"docker start {' '.join(apps)}", f"docker wait {' '.join(apps)}"])
        return " && ".join(steps)


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
