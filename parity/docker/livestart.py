"""Starting a throw-away project's containers in ``depends_on`` order, as soon as each one's conditions hold.

``parity diff --live`` has Compose create its throw-away project (``docker compose up --no-start
--build``: the images built, the networks, volumes and containers made by Compose from the file as
Compose reads it: the first half of Compose's ``up``, the same ``create`` with the same options,
docker/compose ``cmd/compose/up.go``) and starts the containers itself, through the engine. Compose's
own start checks each ``depends_on`` condition other than ``service_started`` on a 500 ms ticker
(docker/compose ``pkg/compose/convergence.go``, ``waitDependencies``): in a generated setup every
app container waits for the data container, which runs ``true`` and exits at once, and was started
0.5-0.6 s after it. Here each condition is checked each time the engine reports a change of the
container (its events: start, die, health_status, destroy), never on a timer: on its inspect, or, for
completion of a container the engine does not restart, on its ``die`` event and the exit code it
carries.

What is kept of Compose 2.40's start (``start``, ``startService``, ``waitDependencies``,
``isServiceHealthy``, ``isServiceCompleted``), the one home of those rules here:

- a service starts once every service it depends on has started and each condition holds
  (``schedule.run_by_dependency``, which orders ``parity up``'s steps too); independent services
  start side by side, as Compose's graph traversal starts them; a service's own containers one
  after another, each by one start request (``ContainerStart``, no options);
- ``service_started``: the dependency's start requests returned; ``service_completed_successfully``:
  a container of the dependency has exited (its exit code decides); ``service_healthy``: every
  container of it is healthy (one that exited, is unhealthy or has no health check fails);
- a dependency that fails its condition stops the start (nothing more is started), unless the
  ``depends_on`` entry says ``required: false``; a dependency with no container is not waited for;
  an unknown condition is not waited for (Compose warns and goes on).

Not done here, so a project that needs it is started by Compose itself (``compose_start_needed``):
Compose copies ``secrets``/``configs`` given by ``content`` or ``environment`` into each container
before its start, and runs ``post_start`` hooks after it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ..schedule import run_by_dependency
from .events import ContainerEvents
from .labels import COMPOSE_PROJECT, COMPOSE_SERVICE

STARTED = "service_started"
HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"

#: Compose's label saying whether a container is a one-off (``docker compose run``): not started by ``up``.
COMPOSE_ONEOFF = "com.docker.compose.oneoff"


def compose_start_needed(services: Mapping[str, dict], secrets: Mapping[str, dict],
                         configs: Mapping[str, dict]) -> str | None:
    """What in a project only Compose's own start does (its containers are then started by Compose).

    Args:
        services, secrets, configs: the project as Compose normalised it (``docker compose config``).

    Returns:
        Why Compose must start it (a ``post_start`` hook, a secret or config copied in at the
        start), or None when parity can.
    """
    for name, svc in services.items():
        if svc.get("post_start") or svc.get("pre_start"):
            return f"service {name} has start hooks"
        for key, section in (("secrets", secrets), ("configs", configs)):
            for ref in svc.get(key) or []:
                source = ref.get("source") if isinstance(ref, dict) else ref
                spec = section.get(str(source)) or {}
                if spec.get("content") or spec.get("environment"):  # (a file: a bind, made by Compose)
                    return f"service {name}'s {key} are copied in by Compose at the start"
    return None


@dataclass(frozen=True)
class Dependency:
    """One ``depends_on`` entry of a service, as Compose normalised it."""

    service: str
    condition: str
    required: bool = True

    @property
    def waited(self) -> bool:
        """Whether it is waited for after the dependency's start (Compose waits for these conditions only)."""
        return self.condition in (HEALTHY, COMPLETED)

    @property
    def step(self) -> str:
        """The key of its wait among the start's steps (a service name holds no space)."""
        return f"{self.service} {self.condition}" + ("" if self.required else " optional")


def dependencies(services: Mapping[str, dict]) -> dict[str, list[Dependency]]:
    """Each service's ``depends_on`` on the project's services (Compose drops an optional one on a
    service the project lacks; a required one it refuses before this), in the file's order.

    Args:
        services: the project's services, as Compose normalised them (``depends_on`` a map).

    Returns:
        Service -> its dependencies.
    """
    out = {}
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):  # (parity's own reader: the short form)
            deps = {d: {} for d in deps}
        out[name] = [Dependency(str(d), str((spec or {}).get("condition") or STARTED),
                                (spec or {}).get("required", True) is not False)
                     for d, spec in deps.items() if d in services]
    return out


def start_after(deps: Mapping[str, Sequence[Dependency]]) -> dict[str, list[str]]:
    """The steps of a start and what each comes after: a service's start after the start of each
    service it depends on and the wait of each condition it needs; a wait after its service's start.

    Args:
        deps: ``dependencies``.

    Returns:
        Step key (a service's name, or ``Dependency.step``) -> the keys it comes after, the
        services first, in the project's order.
    """
    after: dict[str, list[str]] = {name: [d.step if d.waited else d.service for d in ds] for name, ds in deps.items()}
    for ds in deps.values():
        for d in ds:
            if d.waited:
                after.setdefault(d.step, [d.service])
    return after


def condition_met(condition: str, states: Sequence[Mapping]) -> tuple[bool | None, str]:
    """Whether a dependency's containers meet a ``depends_on`` condition, as Compose 2.40 judges it.

    Args:
        condition: ``service_started``, ``service_healthy`` or ``service_completed_successfully``.
        states: the ``State`` of each of the dependency's containers (``docker inspect``).

    Returns:
        (True: met; None: not yet; False: never, with Compose's reason: ``didn't complete
        successfully: exit 1``, ``is unhealthy``...). Started means running or exited; an unknown
        condition is met.
    """
    if condition == COMPLETED:
        for st in states:  # (Compose: the first container that has exited decides)
            if st.get("Status") == "exited":
                code = st.get("ExitCode")
                return (True, "") if code == 0 else (False, f"didn't complete successfully: exit {code}")
        return None, ""
    if condition == HEALTHY:
        for st in states:
            health = (st.get("Health") or {}).get("Status")
            if st.get("Status") == "exited":
                return False, f"exited ({st.get('ExitCode')})"
            if health is None:
                return False, "has no healthcheck configured"
            if health == "unhealthy":
                return False, "is unhealthy"
            if health != "healthy":
                return (None, "") if health == "starting" else (False, f"had unexpected health status {health!r}")
        return True, ""
    if condition == STARTED:
        return (True, "") if all(st.get("Status") in ("running", "exited") for st in states) else (None, "")
    return True, ""


def restarts(svc: Mapping) -> bool:
    """Whether the engine restarts a service's container when it exits (then an exit is not its end):
    its restart policy as Compose 2.40 sets it (``getRestartPolicy``: ``restart``, overridden by
    ``deploy.restart_policy``'s condition; ``no``, ``none`` or nothing: never)."""
    policy = str(svc.get("restart") or "")
    deploy = (svc.get("deploy") or {}).get("restart_policy")
    if deploy is not None:
        policy = str(deploy.get("condition") or "")
    return policy.split(":")[0] not in ("", "no", "none")


class DependencyFailed(Exception):
    """A required dependency can never meet its condition: Compose's ``up`` fails there too."""

    def __init__(self, dependency: Dependency, reason: str, dependants: Sequence[str]):
        prefix = "" if dependency.condition == COMPLETED else "dependency failed to start: "
        who = f"service {dependants[0]} depends" if len(dependants) == 1 else f"services {', '.join(dependants)} depend"
        super().__init__(f'{prefix}service "{dependency.service}" {reason} ({who} on it)')


class StartFailed(Exception):
    """The engine refused a container's start (``explanation``: its message, as Compose prints it
    after ``Error response from daemon:``)."""

    def __init__(self, service: str, explanation: str):
        super().__init__(explanation)
        self.service, self.explanation = service, explanation


def start_project(client, project: str, services: Mapping[str, dict], deadline: float,
                  engine: Callable[[str], object], workers: int = 8) -> None:
    """Start a created Compose project's containers in ``depends_on`` order (module docstring).

    Args:
        client: a docker-py client.
        project: the Compose project's name (its containers carry it in ``com.docker.compose.project``).
        services: its services as Compose normalised them.
        deadline: ``time.monotonic()`` by which every condition must hold.
        engine: a context manager factory turning the engine's failures into one line for ``what``
            (``liveproject.Waits.engine``).
        workers: steps at once (each makes its requests one by one).

    Raises:
        DependencyFailed: a required dependency failed its condition (nothing more was started).
        StartFailed: the engine refused a container's start.
        TimedOut (``events.TimedOut``): a condition did not hold by the deadline.
        StreamEnded (``events.StreamEnded``): the engine ended its event stream before then.
        ParityError: the engine failed or did not answer (``engine``).
    """
    import docker.errors

    with engine("listing the throw-away project's containers"):
        rows = client.api.containers(all=True, filters={"label": [f"{COMPOSE_PROJECT}={project}",
                                                                  f"{COMPOSE_ONEOFF}=False"]})
    if not rows:
        return
    ids: dict[str, list[str]] = {}
    for row in sorted(rows, key=lambda r: int((r.get("Labels") or {}).get("com.docker.compose.container-number") or 0)):
        ids.setdefault((row.get("Labels") or {}).get(COMPOSE_SERVICE, ""), []).append(row["Id"])
    running = {row["Id"] for row in rows if row.get("State") == "running"}
    deps = dependencies(services)
    dependants: dict[str, list[str]] = {}
    for name, ds in deps.items():
        for d in ds:
            dependants.setdefault(d.step, []).append(name)
    stop = threading.Event()
    changes = ContainerEvents(client, f"{COMPOSE_PROJECT}={project}", min(int(row.get("Created") or 0) for row in rows),
                              engine, "watching the throw-away project's containers")

    def start(service: str) -> None:
        for cid in ids.get(service, []):
            if cid in running:
                continue
            with engine(f"starting service {service}"):
                try:
                    client.api.start(cid)
                except docker.errors.APIError as exc:  # the engine's answer (a lost connection: ``engine``'s)
                    raise StartFailed(service, exc.explanation or str(exc)) from None

    def wait(d: Dependency) -> None:
        waited = ids.get(d.service, [])
        # A container that is not restarted once it exits has exited when it died (moby
        # ``handleContainerExit`` sets the state, then reports ``die``, which the stream never
        # misses): its event decides completion, without an inspect.
        by_event = d.condition == COMPLETED and not restarts(services.get(d.service) or {})
        while waited:
            seen = changes.count(waited)
            if by_event:
                met, why = condition_met(d.condition, changes.exited(waited))
            else:
                try:
                    with engine(f"waiting for service {d.service}"):
                        met, why = condition_met(d.condition, [client.api.inspect_container(cid).get("State") or {}
                                                               for cid in waited])
                except docker.errors.NotFound:  # (removed meanwhile, by someone else)
                    met, why = False, "was removed"
            if met:
                return
            if met is False:
                if d.required:
                    raise DependencyFailed(d, why, dependants[d.step])
                return  # (Compose: an optional dependency that failed is passed over, with a warning)
            changes.wait_past(waited, seen, deadline, stop)

    steps: dict[str, Callable[[], None]] = {name: (lambda name=name: start(name)) for name in services}
    for ds in deps.values():
        for d in ds:
            if d.waited:
                steps.setdefault(d.step, lambda d=d: wait(d))
    try:
        run_by_dependency(steps, start_after(deps), workers, stop)
    finally:
        changes.close()
