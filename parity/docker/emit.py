"""What the files a Docker plan is written as share: their names (compose.yaml, docker.sh, README.md,
``data/``, ``env/``, ``termination/``), each service's owner-only env files, the commands that run an on-demand pod or
remove the project, and a writable volume's labels. The files themselves are written by
``composefile.py`` (compose.yaml), ``dockersh.py`` (docker.sh) and ``readme.py`` (README.md).
"""

from __future__ import annotations

from ..kube.names import shown

from .compose import DEFAULT_FILE_NAMES, ON_DEMAND_PROFILE
from .labels import LABEL_DIGEST, LABEL_ROLE, LABEL_VOLUME, ROLE_CLAIM, ROLE_DATA
from .plan import CLAIM, AppPlan, PodPlan, ServicePlan, StoreVolume

COMPOSE_FILE = DEFAULT_FILE_NAMES[0]  # the name Compose reads first: `docker compose up` in the directory finds it
SCRIPT_FILE = "docker.sh"
README_FILE = "README.md"
DATA_DIR = "data"
ENV_DIR = "env"


def env_file_path(service: ServicePlan) -> str:
    """compose.yaml's ``env_file`` (dotenv, single-quoted values: ``ContainerEnv.dotenv_text``)."""
    return f"{ENV_DIR}/{service.name}.env"


def docker_env_file_path(service: ServicePlan) -> str:
    """docker.sh's ``--env-file`` (one-line values, literal: ``ContainerEnv.env_file_text``)."""
    return f"{ENV_DIR}/{service.name}.docker.env"


def exports_file_path(service: ServicePlan) -> str:
    """docker.sh's shell file exporting the values with a line break (``ContainerEnv.exports_text``)."""
    return f"{ENV_DIR}/{service.name}.docker.sh"


def env_files(service: ServicePlan) -> dict[str, str]:
    """The owner-only env files of a service, by path under the output directory: the non-empty ones."""
    env = service.env
    files = {env_file_path(service): env.dotenv_text(), docker_env_file_path(service): env.env_file_text(),
             exports_file_path(service): env.exports_text()}
    return {path: text for path, text in files.items() if text}


def on_demand_pods(plan: AppPlan) -> list[PodPlan]:
    return [p for p in plan.pods if p.run == "on-demand"]


def compose_run_command(pod: PodPlan, compose_file: str = COMPOSE_FILE) -> str:
    """How compose.yaml runs an on-demand pod once: ``run --rm`` of its app container (Compose
    starts the data service, the pod's sandbox and its init containers first), or ``up`` of its
    app containers."""
    apps = [s.name for s in pod.services if not s.init]
    if len(apps) == 1:
        return f"docker compose -f {compose_file} run --rm {apps[0]}"
    return f"docker compose -f {compose_file} up {' '.join(apps)}"


def compose_down_command(plan: AppPlan) -> str:
    """How compose.yaml's project is removed (with the on-demand services' containers: ``down``
    leaves a profile's containers unless the profile is given)."""
    profile = f" --profile {ON_DEMAND_PROFILE}" if on_demand_pods(plan) else ""
    return f"docker compose -f {COMPOSE_FILE}{profile} down -v"


def script_run_name(pod: PodPlan) -> str:
    """What ``sh docker.sh run NAME`` takes to run an on-demand pod: ``NAMESPACE/KIND/NAME``."""
    return f"{pod.namespace}/{pod.workload_ref}"


def store_labels(plan: AppPlan, v: StoreVolume) -> dict[str, str]:
    """A writable volume's labels: a claim is the app's (``ROLE_CLAIM``: kept by down), the others
    belong with the data volumes of the project."""
    labels = {k: x for k, x in plan.data_labels().items() if k != LABEL_DIGEST}
    pod = next((p for p in plan.pods if v in p.stores), None)
    if pod is not None and v.kind != CLAIM:  # a pod's own volume: down --workload removes it with the pod
        labels.update(pod.identity_labels())
    return {**labels, LABEL_ROLE: ROLE_CLAIM if v.kind == CLAIM else ROLE_DATA, LABEL_VOLUME: v.key}


def one_line(text: str) -> str:
    """Text for a comment line of a generated file: a name with a line break (impossible once
    validated, but a comment must never end early) is shown escaped."""
    return shown(text)
