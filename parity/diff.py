"""``parity diff``: does a compose setup give each container the files the cluster gives it?

Pairs pod containers with compose services (by name, or ``--map``), derives the Docker side
statically (``docker/static_layout.py``) or reads it live from a real engine (a throw-away copy
of the project, or a running project), and compares each pair with ``compare.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as _random
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .compare import Difference, compare_containers
from .docker import tether
from .docker.compose import ComposeProject, compose_binary, compose_message, words_of_config
from .docker.leftovers import diff_owner, sweep, temp_dir
from .docker.plan import LABEL_DIFF_OWNER, LABEL_ROLE
from .docker.static_layout import StaticReader
from .errors import EXIT_DIFFERENT, EXIT_SAME, ParityError, Problem
from .kube.manifests import Workload
from .layout import ContainerLayout, WorkloadLayout
from .outdir import write_file
from .output import Progress

LIVE_PROBE = ".parity-write-probe"


@dataclass
class DiffReport:
    workload: str
    compose_file: str
    mode: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_DIFFERENT if self.differences else EXIT_SAME

    def to_json(self) -> dict:
        return {"format": "parity.diff/v1", "workload": self.workload, "compose": self.compose_file,
                "mode": self.mode, "equal": not self.differences,
                "pairs": [{"container": c, "service": s} for c, s in self.pairs],
                "differences": [d.to_json() for d in self.differences], "notes": self.notes}


def pair(layout: WorkloadLayout, project: ComposeProject, mapping: dict[str, str]) -> tuple[
        list[tuple[ContainerLayout, str]], list[Difference]]:
    pairs, diffs = [], []
    for c in layout.containers:
        service = mapping.get(c.name, c.name)
        if service in project.services:
            pairs.append((c, service))
        else:
            diffs.append(Difference(c.name, "-", "unpaired-container", f"service {service!r}", "absent",
                                    "no compose service runs this container (use --map CONTAINER=SERVICE)"))
    paired = {s for _, s in pairs}
    helpers = _helper_services(project, paired)
    for name in project.services:
        if name not in paired and name not in helpers:
            diffs.append(Difference("-", "-", "unpaired-service", "absent", f"service {name!r}",
                                    "no pod container corresponds to this service"))
    return pairs, diffs


def _helper_services(project: ComposeProject, paired: set[str]) -> set[str]:
    """Data-only services: labelled as such, or feeding a paired service's mounts."""
    helpers = {n for n, s in project.services.items() if (s.get("labels") or {}).get(LABEL_ROLE) == "data"}
    used_volumes = set()
    for name in paired:
        svc = project.services[name]
        helpers |= {str(v).split(":")[0] for v in svc.get("volumes_from") or []}
        used_volumes |= {v.get("source") for v in svc.get("volumes") or [] if v.get("type") == "volume"}
    for name, svc in project.services.items():
        if any(v.get("source") in used_volumes for v in svc.get("volumes") or []):
            helpers.add(name)
    return helpers - paired


def _group_difference(workload: Workload | None, container: str, groups: list[str], user: str | None,
                      ignore: frozenset[str] = frozenset()) -> list[Difference]:
    fs_group = workload.spec.fs_group if workload is not None else None  # None: --observed, no pod spec
    if fs_group is None or "owners" in ignore:  # an "owner" difference like any other
        return []
    primary = (user or "").partition(":")[2]
    if str(fs_group) in [str(g) for g in groups] or primary == str(fs_group):
        return []
    return [Difference(container, "(process)", "owner", f"member of group {fs_group} (fsGroup)",
                       "not a member", "the kubelet adds fsGroup to every container's groups; without it, "
                                       "group-readable secret files cannot be read (add group_add)")]


def static_diff(layout: WorkloadLayout, workload: Workload | None, project: ComposeProject, mapping: dict[str, str],
                ignore: frozenset[str]) -> DiffReport:
    report = DiffReport(layout.ref, project.file, "static", notes=list(project.notes))
    pairs, report.differences = pair(layout, project, mapping)
    reader = StaticReader(project)
    for c, service in pairs:
        report.pairs.append((c.name, service))
        view = reader.view(service, c.name, [m.path for m in c.mounts], c.init)
        report.differences += [Difference(c.name, path, "unknown", "", "", why) for path, why in view.unknown.items()]
        known = [m for m in c.mounts if m.path not in view.unknown]
        expected = ContainerLayout(c.name, c.init, known, [e for e in c.entries
                                                           if any(e.path == m.path or e.path.startswith(m.path + "/")
                                                                  for m in known)])
        report.differences += compare_containers(expected, view.layout, ignore)
        svc = project.services[service]
        report.differences += _group_difference(workload, c.name, svc.get("group_add") or [], svc.get("user"),
                                                ignore)
    return report


def pod_diff(expected: WorkloadLayout, observed: WorkloadLayout, ignore: frozenset[str]) -> DiffReport:
    """The prediction (or another observed pod) against what a running pod really has."""
    report = DiffReport(expected.ref, f"pod/{observed.name}", "observed in the cluster")
    for c in expected.containers:
        got = observed.container(c.name)
        if got is None:
            if c.init:
                report.notes.append(f"init container {c.name} is not running: not listed")
            else:
                report.differences.append(Difference(c.name, "-", "unpaired-container", "running", "absent"))
            continue
        report.pairs.append((c.name, c.name))
        report.differences += compare_containers(c, got, ignore)
    return report


# ---------------------------------------------------------------------------------------------
# Live


def _throwaway_images(project: ComposeProject, name: str) -> dict[str, str]:
    """The image names the project builds -> names unique to the throw-away project, so that a
    build never re-tags (and teardown never removes) an image of the user's, or of a parallel run."""
    return {svc["image"]: f"{name}-{sname}:parity-diff" for sname, svc in project.services.items()
            if svc.get("build") and svc.get("image")}


def _throwaway_config(project: ComposeProject, name: str, suffix: str) -> dict:
    """The normalised project with nothing that could touch the user's own objects: explicit
    volume and network names made unique, built images renamed, container names and published
    ports removed. Its containers, volumes, networks and images are labelled as this diff's
    (``LABEL_DIFF_OWNER``)."""
    renamed = _throwaway_images(project, name)
    owner = {LABEL_DIFF_OWNER: diff_owner()}
    services = {}
    for sname, svc in project.services.items():
        svc = {k: v for k, v in svc.items() if k not in ("container_name", "ports")}
        if svc.get("image") in renamed:
            svc["image"] = renamed[svc["image"]]
        svc["labels"] = {**(svc.get("labels") or {}), **owner}
        if isinstance(svc.get("build"), dict):
            svc["build"] = {**svc["build"], "labels": {**(svc["build"].get("labels") or {}), **owner}}
        services[sname] = svc
    return {"name": name, "services": services, "volumes": _owned(project.volumes, owner, suffix),
            "networks": _owned(project.networks, owner, suffix), "secrets": project.secrets,
            "configs": project.configs}


def _owned(section: dict[str, dict], owner: dict[str, str], suffix: str) -> dict[str, dict]:
    """Top-level volumes or networks, each made unique to the throw-away project and labelled as
    this diff's; an external one (the user's own) is used as it is and never removed."""
    out = {}
    for key, spec in section.items():
        spec = dict(spec or {})
        if not spec.get("external"):
            spec["name"] = f"{spec.get('name') or key}-{suffix}"
            spec["labels"] = {**(spec.get("labels") or {}), **owner}
        out[key] = spec
    return out


def refuse_host_access(project: ComposeProject) -> None:
    """Before a throw-away project runs: refuse a setup that reaches into the host.

    Raises:
        ParityError: one line per service and field (``docker/hostaccess.py``), then the way out.
    """
    from .docker.hostaccess import host_access

    problems = host_access(project)
    if problems:
        raise ParityError(problems + [Problem("not run: these services reach into the host; read the file, then "
                                              "pass --allow-host-access to run it anyway", file=project.file)])


DEFAULT_TIMEOUT = 120  # seconds for each wait of a live diff: a compose command, an engine request


class _Waits:
    """Every wait of a live diff bounded by ``timeout``; running out is one line naming the wait."""

    def __init__(self, project: ComposeProject, timeout: float):
        self.project, self.timeout = project, timeout

    def problem(self, what: str) -> Problem:
        return Problem(f"{what} did not finish in {self.timeout:g}s", file=self.project.file)

    @contextlib.contextmanager
    def engine(self, what: str):
        """Engine requests (each bounded by the client's timeout) for ``what``."""
        import docker.errors
        import requests.exceptions

        from .docker.engine import first_line

        try:
            yield
        except docker.errors.NotFound:
            raise
        except (requests.exceptions.RequestException, docker.errors.DockerException) as exc:
            if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower():
                message = f"the Docker engine did not answer in {self.timeout:g}s ({what})"
            else:
                message = f"the Docker engine failed ({what}): {first_line(exc)}"
            raise ParityError(Problem(message, file=self.project.file)) from None


class _Throwaway:
    """The throw-away copy of the project: written to an owner-only temporary directory, brought up
    and torn down by Compose, each command tethered to this process (``docker/tether.py``) and
    bounded in time."""

    def __init__(self, client, project: ComposeProject, binary: tuple[str, ...], waits: _Waits):
        self.client, self.project, self.binary, self.waits = client, project, binary, waits
        self.suffix = _random.token_hex(4)
        self.name = f"parity-diff-{self.suffix}"
        self.tmp = temp_dir()  # 0700: the config holds env values
        self.config_file = os.path.join(self.tmp, "compose.json")
        write_file(Path(self.config_file), json.dumps(_throwaway_config(project, self.name, self.suffix)))  # 0600

    def _compose(self, *args: str) -> subprocess.CompletedProcess:
        return tether.run([*self.binary, "-f", self.config_file, "-p", self.name, *args], self.waits.timeout)

    def up(self) -> None:
        try:
            proc = self._compose("up", "-d", "--build", "--quiet-pull")
        except subprocess.TimeoutExpired:
            problem = self.waits.problem("docker compose up")
            waiting = self._waiting_for()
            raise ParityError(Problem(problem.message + (f": waiting for {waiting}" if waiting else ""),
                                      file=problem.file)) from None
        if proc.returncode != 0:
            last = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()] or ["compose up failed"]
            words = words_of_config({"services": self.project.services, "volumes": self.project.volumes})
            message = compose_message(last[-1], self.config_file, words)  # its progress lines come first
            raise ParityError(Problem(f"docker compose up failed: {message}", file=self.project.file))

    def _waiting_for(self) -> str:
        """What ``up`` still waited for: the dependencies whose condition no container meets yet."""
        try:
            state = {c.labels.get("com.docker.compose.service"): c.attrs.get("State") or {}
                     for c in self.client.containers.list(all=True, filters={
                         "label": f"com.docker.compose.project={self.name}"})}
        except Exception:  # noqa: BLE001 - an engine that does not answer: say only what timed out
            return ""
        met = {"service_started": lambda st: st.get("Status") in ("running", "exited"),
               "service_healthy": lambda st: (st.get("Health") or {}).get("Status") == "healthy",
               "service_completed_successfully": lambda st: st.get("Status") == "exited"}
        words = {"service_started": "start", "service_healthy": "be healthy",
                 "service_completed_successfully": "complete"}
        out = []
        for name, svc in self.project.services.items():
            for dep, spec in (svc.get("depends_on") or {}).items():
                condition = (spec or {}).get("condition", "service_started")
                if condition in met and not met[condition](state.get(dep) or {}):
                    out.append(f"service {dep} to {words[condition]} (service {name} depends on it)")
        return "; ".join(out)

    def down(self) -> list[Problem]:
        """Remove everything; what could not be removed (the next run's sweep will) as problems."""
        import docker.errors

        problems = []
        try:
            proc = self._compose("down", "-v", "-t", "0", "--rmi", "local")
            if proc.returncode != 0:
                problems.append(Problem("docker compose down failed", file=self.project.file))
        except subprocess.TimeoutExpired:
            problems.append(self.waits.problem("docker compose down"))
        for tag in _throwaway_images(self.project, self.name).values():
            try:
                with self.waits.engine(f"removing image {tag}"):
                    self.client.images.remove(tag, force=True)
            except docker.errors.NotFound:
                pass
            except (ParityError, docker.errors.DockerException):
                problems.append(Problem(f"image {tag} could not be removed", file=self.project.file))
        shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            problems.append(Problem(f"the throw-away project {self.name} is left; the next parity diff --live, up "
                                    "or down removes it", file=self.project.file))
        return problems


def live_diff(layout: WorkloadLayout, workload: Workload | None, project: ComposeProject, mapping: dict[str, str],
              ignore: frozenset[str], running: str | None = None, timeout: float = DEFAULT_TIMEOUT,
              progress: Progress | None = None) -> DiffReport:
    """The layout each paired service's container really has, read through a real engine.

    Args:
        layout, workload, project, mapping, ignore: as for ``static_diff``.
        running: a running compose project to inspect; None brings up a throw-away copy.
        timeout: seconds each wait may take (a compose command, an engine request).
        progress: step messages (on a terminal only, by default).

    Returns:
        The report.

    Raises:
        ParityError: no Compose, no engine, a failed ``up``, a wait that ran out (the throw-away
            project is removed first).
    """
    from .docker.engine import connect
    from .docker.readback import container_layout

    progress = progress or Progress()
    waits = _Waits(project, timeout)
    client = connect(timeout=timeout)
    report = DiffReport(layout.ref, project.file, "live" if running is None else f"live (project {running})")
    pairs, report.differences = pair(layout, project, mapping)
    binary = compose_binary()
    if binary is None:
        raise ParityError("--live needs Docker Compose v2 (docker compose)")
    with waits.engine("removing what a killed parity diff --live left"):
        sweep(client)
    if running:
        with waits.engine(f"listing project {running}"):
            found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={running}"})
        if not found:
            raise ParityError(f"--project {running}: no compose project of that name has containers on this engine")
    throwaway = None if running else _Throwaway(client, project, binary, waits)
    name = running or throwaway.name
    reader = StaticReader(project) if running else None  # what the images would put in the volumes
    try:
        if throwaway:
            progress(f"building and starting the throw-away project {throwaway.name} (docker compose up, at most "
                     f"{timeout:g}s)")
            throwaway.up()
        progress(f"reading {len(pairs)} container(s) back from project {name}")
        for c, service in pairs:
            report.pairs.append((c.name, service))
            with waits.engine(f"reading service {service}"):
                found = client.containers.list(all=True, filters={"label": [
                    f"com.docker.compose.project={name}", f"com.docker.compose.service={service}"]})
                if not found:
                    report.differences.append(Difference(c.name, "-", "unpaired-container", f"service {service!r}",
                                                         "no container", "the service has no container in the project"))
                    continue
                ctr = found[0]
                actual = container_layout(ctr, c.name, [m.path for m in c.mounts], c.init)
                if throwaway:
                    actual = _probe_writes(ctr, actual)
                report.differences += compare_containers(c, actual, ignore)
                host = ctr.attrs.get("HostConfig", {})
                report.differences += _group_difference(workload, c.name, host.get("GroupAdd") or [],
                                                        ctr.attrs.get("Config", {}).get("User"), ignore)
                if running:
                    report.differences += _stale(client, project, reader, service, c, actual)
    except BaseException as exc:  # a failure, a timeout, Ctrl-C, SIGTERM: the project goes first
        if throwaway:
            left = throwaway.down()
            if isinstance(exc, ParityError):
                exc.problems += left
        raise
    if throwaway:
        progress(f"removing the throw-away project {throwaway.name}")
        left = throwaway.down()
        if left:
            raise ParityError(left)
    return report


def _probe_writes(ctr, layout: ContainerLayout) -> ContainerLayout:
    """Read-only by flag is not enough: try to write as root, as an attacker in the app would."""
    ctr.reload()
    if ctr.status != "running":
        return layout
    mounts = []
    for m in layout.mounts:
        probe = f"{m.path}/{LIVE_PROBE}"
        result = ctr.exec_run(["sh", "-c", f"touch '{probe}' && rm -f '{probe}'"], user="0")
        writable = result.exit_code == 0
        mounts.append(type(m)(m.path, m.volume, m.read_only and not writable, m.sub_path, m.source))
    return ContainerLayout(layout.name, layout.init, mounts, layout.entries)


def _stale(client, project: ComposeProject, reader: StaticReader, service: str, c: ContainerLayout,
           actual: ContainerLayout) -> list[Difference]:
    """A running project's named volumes against the image that should have filled them."""
    from .docker.readback import read_tree

    out = []
    svc = project.services.get(service) or {}
    for v in svc.get("volumes") or []:
        if v.get("type") != "volume" or not v.get("source"):
            continue
        _tree, filler, _unknown = reader.volume_content(v["source"])
        filler_svc = project.services.get(filler or "") or {}
        # Compose names an image it builds without an ``image:`` key PROJECT-SERVICE.
        image = filler_svc.get("image") or (f"{project.name}-{filler}" if filler_svc.get("build") else None)
        if not image:
            continue
        filler_target = next((m["target"] for m in filler_svc.get("volumes") or []
                              if m.get("source") == v["source"]), None)
        try:
            probe = client.containers.create(image, entrypoint=["true"],
                                             labels={LABEL_ROLE: "probe", LABEL_DIFF_OWNER: diff_owner()})
        except Exception:  # noqa: BLE001 - the image is gone: nothing to compare against
            continue
        try:
            fresh = {e.path[len(filler_target):]: e.sha256 for e in read_tree(probe, filler_target) if e.sha256}
        finally:
            probe.remove(v=True, force=True)
        now = {e.path[len(v["target"]):]: e.sha256 for e in actual.entries
               if e.sha256 and (e.path + "/").startswith(v["target"] + "/")}
        if fresh != now:
            out.append(Difference(c.name, v["target"], "stale", f"content of image {image}",
                                  "older content", f"volume {project.volume_name(v['source'])} was filled from an "
                                  "earlier image; Docker never refills a volume that has content"))
    return out


def check_mapping(layout: WorkloadLayout, project: ComposeProject, mapping: dict[str, str]) -> None:
    """``--map CONTAINER=SERVICE`` must name a container of the workload and a service of the compose
    file: a typo would otherwise show as two unpaired differences (exit 1) instead of the mistake.

    Raises:
        ParityError: one line per unknown name, listing the names there are.
    """
    containers = [c.name for c in layout.containers]
    problems = [f"--map {c}={s}: no container {c!r} in {layout.ref} (there are: {', '.join(containers)})"
                for c, s in mapping.items() if c not in containers]
    problems += [f"--map {c}={s}: no service {s!r} in {project.file} (there are: {', '.join(project.services)})"
                 for c, s in mapping.items() if s not in project.services]
    if problems:
        raise ParityError([Problem(p) for p in problems])
