"""The label protocol: every label parity writes on engine objects, and how it reads them back.

parity finds its own objects on a shared engine by label, never by name alone: ``up``'s containers,
volumes and data image; ``diff --live``'s throw-away project; the objects of a killed run. Every
``io.parity.*`` label, every role value and the owner format live here, so that the module that
writes a label and the module that reads it agree by construction.

- ``LABEL_PROJECT`` / ``LABEL_WORKLOAD`` / ``LABEL_CONTAINER``: whose object it is (compose.yaml,
  docker.sh and ``up`` write them; ``up``, ``down`` and ``status`` select by them);
- ``LABEL_ROLE``: what a container that is no workload container is for (``ROLE_*``);
- ``LABEL_DIFF_OWNER`` / ``LABEL_UP_OWNER``: ``HOST:PID`` of the run that made the object
  (``run_owner``), so that a killed run's objects are found and a running one's left alone;
- ``LABEL_CONFIG``, ``LABEL_VOLUME_DIGEST`` / ``LABEL_VOLUME_SHAPE`` (+ volume key): what ``up``
  compares to decide whether to recreate or update in place;
- Compose's own ``com.docker.compose.*`` labels (``compose_labels``), so that ``docker compose -p
  NAME ps`` shows what ``up`` runs, and a live project's containers are found per service.
"""

from __future__ import annotations

import os
import socket

LABEL_WORKLOAD = "io.parity.workload"
LABEL_CONTAINER = "io.parity.container"
LABEL_ROLE = "io.parity.role"
LABEL_VOLUME = "io.parity.volume"
LABEL_DIGEST = "io.parity.content-digest"
LABEL_PROJECT = "io.parity.project"
#: On ``up``'s workload containers: the workload's namespace (with ``LABEL_WORKLOAD``, its identity:
#: two namespaces' ``Deployment/api`` may run in one project).
LABEL_NAMESPACE = "io.parity.namespace"
#: On the objects of a ``parity diff --live`` throw-away project: ``HOST:PID`` of the diff that owns
#: them, so that ``parity down`` leaves a running diff's objects alone (it removes them once that
#: process is gone).
LABEL_DIFF_OWNER = "io.parity.diff-owner"
#: On every object a ``parity up`` run creates: ``HOST:PID`` of that run, so that the run's roll-back,
#: or the next run when this one was killed (its journal says so, see parity/state.py), finds them.
LABEL_UP_OWNER = "io.parity.up-owner"
#: On ``up``'s app containers: the digest of the container's configuration (recreated when it changes).
LABEL_CONFIG = "io.parity.config-digest"
#: + volume key, on ``up``'s data container: the volume's content digest and its shape (what an
#: in-place update cannot change).
LABEL_VOLUME_DIGEST = "io.parity.volume-digest."
LABEL_VOLUME_SHAPE = "io.parity.volume-shape."

#: ``LABEL_ROLE`` values. The data-only container (and the data image, the volumes) of a project:
ROLE_DATA = "data"
#: A persistentVolumeClaim's volume: the app's data, kept by ``down`` unless ``--delete-claims``.
ROLE_CLAIM = "claim"
#: ``up``'s short-lived container that updates a volume in place:
ROLE_WRITER = "writer"
#: ``diff --live``'s short-lived container that reads an image's files:
ROLE_PROBE = "probe"
#: A pod's sandbox, which holds the pod's network namespace (as the kubelet's pause container):
ROLE_SANDBOX = "sandbox"
#: The roles of containers that are not a workload's containers.
HELPER_ROLES = (ROLE_DATA, ROLE_WRITER, ROLE_PROBE, ROLE_SANDBOX)

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"


def run_owner() -> str:
    """``HOST:PID`` of this process, as ``LABEL_DIFF_OWNER`` and ``LABEL_UP_OWNER`` hold it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_pid(owner: str) -> str:
    """The PID part of a ``HOST:PID`` owner (for messages)."""
    return owner.rpartition(":")[2]


def compose_labels(project: str, service: str, config_hash: str) -> dict[str, str]:
    """The labels by which Compose finds a project's containers, so that ``docker compose -p PROJECT
    ps`` and ``logs`` show what ``parity up`` runs (Compose's own ``com.docker.compose.*`` names;
    without a config hash, ``ps`` leaves a container out: measured on Compose v2.40.3)."""
    return {COMPOSE_PROJECT: project, COMPOSE_SERVICE: service,
            "com.docker.compose.oneoff": "False", "com.docker.compose.container-number": "1",
            "com.docker.compose.config-hash": config_hash}


def not_ours(labels: dict | None, project: str, workload: str | None) -> bool:
    """Whether an engine object found under a name parity wants is someone else's: not labelled
    for this project (unlabelled, or another project's), or for another workload (``workload``
    None: an object of the whole app, such as the data volumes of several workloads)."""
    labels = labels or {}
    return labels.get(LABEL_PROJECT) != project or (workload is not None and labels.get(LABEL_WORKLOAD) != workload)


def made_by_up(labels: dict | None, project: str) -> bool:
    """Whether ``parity up`` made an object for ``project``: it carries the run label every object
    ``up`` creates has from its creation (``LABEL_UP_OWNER``), and the project's. The same
    ``io.parity.*`` labels are on what ``docker compose`` or docker.sh make from parity's generated
    files (another ``-p`` included): those are not ``up``'s, and ``down`` leaves them."""
    labels = labels or {}
    return bool(labels.get(LABEL_UP_OWNER)) and labels.get(LABEL_PROJECT) == project


def is_workload_container(labels: dict) -> bool:
    """Whether a container labelled with ``LABEL_WORKLOAD`` runs one of the workload's containers
    (not a data, writer or probe helper)."""
    return labels.get(LABEL_ROLE) not in HELPER_ROLES and LABEL_CONTAINER in labels
