"""What ``parity up`` reports (``parity.up/v1``): each container as it is after the run, the pods it
made and did not start, what changed, and with ``--wait`` which containers are not up."""

from __future__ import annotations

from dataclasses import dataclass, field


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
