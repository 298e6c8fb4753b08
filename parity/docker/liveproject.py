"""The compose project a live diff reads back: a throw-away copy of the user's setup, or a running project.

``with live_project(project, timeout) as live:`` connects to the engine, removes what a killed live
diff left (``leftovers.py``), writes a copy of the project that cannot touch the user's own objects
(``throwaway_config``) to an owner-only temporary directory, has Compose create it (``docker compose
up --no-start --build``, the command tethered to this process, ``tether.py``), starts its containers
in ``depends_on`` order as soon as each one's conditions hold (``livestart.py``: Compose's own start
waits on a 500 ms ticker), all bounded in time, and, whatever happens in the block (a
failure, a wait that ran out, Ctrl-C, SIGTERM), tears it down through the engine: containers,
volumes, networks, built images and the temporary directory. With ``running=NAME`` it reads that project as it is and
changes nothing. Which container pairs with which service, and what counts as a difference, is
``diff.py``'s business: this module only runs and reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import secrets as _random
import shutil
import stat
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence, TypeVar

from ..errors import ParityError, Problem
from ..layout import ContainerLayout
from ..outdir import block_signals_in_this_thread, write_file
from ..output import Progress
from . import tether
from .compose import ComposeCommand, ComposeProject, compose_binary, compose_message, words_of_config
from .labels import COMPOSE_PROJECT, COMPOSE_SERVICE, LABEL_DIFF_OWNER, LABEL_ROLE, ROLE_SANDBOX, run_owner
from .leftovers import sweep, temp_dir
from .listrows import container_name
from .events import StreamEnded, TimedOut
from .livestart import (DependencyFailed, StartFailed, compose_start_needed, condition_met, dependencies,
                        start_project)
from .plan import TERMINATION_DIR

#: The file a live diff tries to create (then removes) in each mount, as root, to see if it is writable.
LIVE_PROBE = ".parity-write-probe"

T = TypeVar("T")

DEFAULT_TIMEOUT = 120  # seconds for each wait of a live diff: a compose command, an engine request


def throwaway_images(project: ComposeProject, name: str) -> dict[str, str]:
    """The image names the project builds -> names unique to the throw-away project, so that a
    build never re-tags (and teardown never removes) an image of the user's, or of a parallel run."""
    return {svc["image"]: f"{name}-{sname}:parity-diff" for sname, svc in project.services.items()
            if svc.get("build") and svc.get("image")}


def throwaway_config(project: ComposeProject, name: str, suffix: str,
                     rebound: Mapping[str, str] | None = None) -> dict:
    """The normalised project with nothing that could touch the user's own objects: explicit
    volume and network names made unique, built images renamed, container names and published
    ports removed, the files its containers may write bound from copies (``rebound``). Its
    containers, volumes, networks and images are labelled as this diff's (``LABEL_DIFF_OWNER``).

    Args:
        project: the user's setup, as Compose normalised it.
        name: the throw-away project's name.
        suffix: appended to explicit volume and network names.
        rebound: bind sources (absolute, as normalised) -> the throw-away copies bound instead
            (``termination_copies``).

    Returns:
        A compose config (JSON-able); it holds the setup's env values: write it owner-only.
    """
    renamed = throwaway_images(project, name)
    owner = {LABEL_DIFF_OWNER: run_owner()}
    services = {}
    for sname, svc in project.services.items():
        # (profiles: the services read are the ones to run, the on-demand ones too: compose.ON_DEMAND_PROFILE)
        svc = {k: v for k, v in svc.items() if k not in ("container_name", "ports", "profiles")}
        if svc.get("image") in renamed:
            svc["image"] = renamed[svc["image"]]
        if rebound and svc.get("volumes"):
            svc["volumes"] = [{**m, "source": rebound[m["source"]]}
                              if isinstance(m, dict) and m.get("type") == "bind" and m.get("source") in rebound
                              else m for m in svc["volumes"]]
        svc["labels"] = {**(svc.get("labels") or {}), **owner}
        if isinstance(svc.get("build"), dict):
            svc["build"] = {**svc["build"], "labels": {**(svc["build"].get("labels") or {}), **owner}}
        services[sname] = svc
    return {"name": name, "services": services, "volumes": _owned(project.volumes, owner, suffix),
            "networks": _owned(project.networks, owner, suffix), "secrets": project.secrets,
            "configs": project.configs}


def termination_copies(project: ComposeProject, tmp: str) -> dict[str, str]:
    """The termination-message files (``TERMINATION_DIR/SERVICE`` of the output, bound read-write:
    ``kubelet.termination_log_paths``) copied into ``tmp``, empty, with the original's mode and, when
    parity may, owner: a throw-away container that writes its message writes the copy, never the
    user's output. A source that is not a regular file is left alone (Compose refuses it, as it
    would the user's).

    Args:
        project: the user's setup, as Compose normalised it (bind sources absolute).
        tmp: the throw-away project's owner-only temporary directory.

    Returns:
        Each copied source -> its copy, for ``throwaway_config``.
    """
    home = os.path.join(project.directory, TERMINATION_DIR)
    copies: dict[str, str] = {}
    for svc in project.services.values():
        for m in svc.get("volumes") or []:
            source = m.get("source") if isinstance(m, dict) and m.get("type") == "bind" else None
            if not source or os.path.dirname(source) != home or source in copies:
                continue
            try:
                st = os.stat(source)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            copy = os.path.join(tmp, TERMINATION_DIR, os.path.basename(source))
            os.makedirs(os.path.dirname(copy), mode=0o700, exist_ok=True)
            write_file(Path(copy), b"", 0o600)
            if os.geteuid() == 0:
                os.chown(copy, st.st_uid, st.st_gid)
            os.chmod(copy, stat.S_IMODE(st.st_mode))  # after chown, which clears setgid
            copies[source] = copy
    return copies


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


class Waits:
    """Every wait of a live diff bounded by ``timeout``; running out is one line naming the wait."""

    def __init__(self, project: ComposeProject, timeout: float):
        self.project, self.timeout = project, timeout

    def problem(self, what: str) -> Problem:
        return Problem(f"{what} did not finish in {self.timeout:g}s", file=self.project.file)

    @contextlib.contextmanager
    def engine(self, what: str):
        """Engine requests (each bounded by the client's timeout) for ``what``: a failure or a
        timeout becomes one ``ParityError`` line; ``NotFound`` is the caller's to handle."""
        import docker.errors
        import requests.exceptions

        from .engine import first_line

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
    """The throw-away copy of the project: written to an owner-only temporary directory, created by
    Compose (``docker compose up --no-start --build``, tethered to this process, ``tether.py``), its
    containers started by parity in ``depends_on`` order (``livestart.py``: not on Compose's 500 ms
    ticker), all bounded in time, and torn down through the engine. A project whose start needs
    more of Compose than the start requests (``livestart.compose_start_needed``) is brought up by
    ``docker compose up -d --build`` whole."""

    def __init__(self, project: ComposeProject, binary: ComposeCommand, waits: Waits):
        self.project, self.binary, self.waits = project, binary, waits
        #: the connected client, once ``live_project`` has one (None: the teardown goes through Compose)
        self.client = None
        self._up: tether.Tethered | None = None
        self.suffix = _random.token_hex(4)
        self.name = f"parity-diff-{self.suffix}"
        #: why Compose itself starts the containers (None: parity starts them, ``livestart.py``)
        self.compose_starts = compose_start_needed(project.services, project.secrets, project.configs)
        self.tmp = temp_dir()  # 0700: the config holds env values
        self.config_file = os.path.join(self.tmp, "compose.json")
        try:
            rebound = termination_copies(project, self.tmp)
            #: copy -> the user's file it stands for (what a difference names: ``LiveProject.copies``)
            self.copies = {copy: source for source, copy in rebound.items()}
            write_file(Path(self.config_file), json.dumps(
                throwaway_config(project, self.name, self.suffix, rebound)))  # 0600
        except BaseException:  # (Ctrl-C too) nothing is up yet: only the directory to remove
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _argv(self, *args: str) -> list[str]:
        return [*self.binary.argv, "-f", self.config_file, "-p", self.name, *args]

    def start_up(self) -> None:
        """Start ``docker compose up --no-start`` (tethered; ``up -d`` when Compose must start the
        containers: ``compose_starts``), to run while this process connects to the engine;
        ``wait_up`` waits for it, ``down`` stops it first if it still runs."""
        # Compose's plain progress, whatever COMPOSE_PROGRESS the user set (quiet prints no step):
        # ``_made_nothing`` reads the steps to know whether there is anything to remove.
        env = {**(self.binary.environ() or os.environ), "COMPOSE_PROGRESS": "plain"}
        self._up = tether.start(self._argv("up", "-d" if self.compose_starts else "--no-start", "--build",
                                           "--quiet-pull"), env)

    def wait_up(self) -> None:
        """Wait for ``start_up``'s command, then start the containers it made (``livestart.py``),
        all bounded by the timeout from the command's start. Failures are worded as Compose's ``up``
        words them (the throw-away project stands for ``docker compose up`` of the file).

        Raises:
            ParityError: it failed, a container could not start or a dependency failed its
                condition, or it did not finish in time (what it still waited for, named).
        """
        try:
            proc = self._up.wait(self.waits.timeout)
        except subprocess.TimeoutExpired:
            raise self._timed_out() from None
        if proc.returncode != 0:
            last = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()] or ["compose up failed"]
            message = self._message(last[-1])  # its progress lines come first
            raise ParityError(Problem(f"docker compose up failed: {self._pull_failure(message) or message}",
                                      file=self.project.file))
        if self.compose_starts:
            return
        try:
            start_project(self.client, self.name, self.project.services, self._up.started + self.waits.timeout,
                          self.waits.engine, MAX_PARALLEL)
        except StreamEnded as exc:
            raise ParityError(Problem(str(exc), file=self.project.file)) from None
        except TimedOut:
            raise self._timed_out() from None
        except DependencyFailed as exc:
            raise ParityError(Problem(f"docker compose up failed: {exc}", file=self.project.file)) from None
        except StartFailed as exc:  # (the engine's message quotes the command: shown as Compose's would be)
            message = self._message(f"Error response from daemon: {exc.explanation}")
            raise ParityError(Problem(f"docker compose up failed: {message}", file=self.project.file)) from None

    def _message(self, stderr: str) -> str:
        """Compose's (or the engine's) error as one line that shows no value of the setup (``compose_message``)."""
        words = words_of_config({"services": self.project.services, "volumes": self.project.volumes})
        return compose_message(stderr, self.config_file, words)

    def _timed_out(self) -> ParityError:
        """``up`` did not finish in time: what it still waited for, named."""
        problem = self.waits.problem("docker compose up")
        waiting = self._waiting_for()
        return ParityError(Problem(problem.message + (f": waiting for {waiting}" if waiting else ""),
                                   file=problem.file))

    def _pull_failure(self, reason: str) -> str | None:
        """Compose pulls each image a service runs (not one it builds) before anything else, and its
        error names no image: the first such image the engine lacks, named, with how to get it (for
        the base image of a setup parity generated, its pod sandbox's: ``--base-image``). Services with
        ``pull_policy: never`` (``imagePullPolicy: Never``) pull nothing: an image only they run "is not
        pulled", as ``up`` says it."""
        from .engine import absent_images, unavailable_image

        wanted = [(name, svc["image"], (svc.get("labels") or {}).get(LABEL_ROLE) == ROLE_SANDBOX,
                   svc.get("pull_policy") != "never")
                  for name, svc in self.project.services.items() if svc.get("image") and not svc.get("build")]
        absent = absent_images(self.client, [w[1] for w in wanted])
        if not absent:
            return None
        users = [w for w in wanted if w[1] == absent[0]]
        return unavailable_image(absent[0], reason, any(w[2] for w in users), [w[0] for w in users],
                                 pulled=any(w[3] for w in users))

    def _waiting_for(self) -> str:
        """What ``up`` still waited for: the dependencies whose condition no container meets yet."""
        try:
            states: dict[str, list[dict]] = {}
            for c in self.client.containers.list(all=True, filters={"label": f"{COMPOSE_PROJECT}={self.name}"}):
                states.setdefault(c.labels.get(COMPOSE_SERVICE), []).append(c.attrs.get("State") or {})
        except Exception:  # noqa: BLE001 - an engine that does not answer: say only what timed out
            return ""
        words = {"service_started": "start", "service_healthy": "be healthy",
                 "service_completed_successfully": "complete"}
        out = []
        for name, deps in dependencies(self.project.services).items():
            for d in deps:
                if d.condition in words and condition_met(d.condition, states.get(d.service) or [{}])[0] is not True:
                    out.append(f"service {d.service} to {words[d.condition]} (service {name} depends on it)")
        return "; ".join(out)

    def down(self) -> list[Problem]:
        """Remove everything the project made, through the engine, side by side: its containers
        (killed, as ``-t 0`` does, with their anonymous volumes), then its volumes, networks and
        built images: what ``docker compose down -v -t 0 --rmi local`` removes, without Compose's
        start-up and one request after another. Only this project's objects are touched: containers
        by its project label (the name is this run's own), the rest by that label and this
        process's ``LABEL_DIFF_OWNER`` (an external volume or network, the user's, carries neither).

        Returns:
            What could not be removed (the next run's sweep will), as problems.
        """
        try:
            if self._up is not None:  # still running (a failed connect, Ctrl-C meanwhile): stopped first
                self._up.stop()
            if self.client is not None:
                failed = self._remove_objects()
            elif self._up is None or _made_nothing(self._up.output):
                failed = []
            else:
                failed = self._remove_through_compose()
        finally:  # (Ctrl-C too: the removals already started end first, see ``_side_by_side``)
            shutil.rmtree(self.tmp, ignore_errors=True)
        problems = [Problem(f"{what} could not be removed", file=self.project.file) for what in failed]
        if problems:
            problems.append(Problem(f"the throw-away project {self.name} is left; the next parity diff --live, up "
                                    "or down removes it", file=self.project.file))
        return problems

    def _remove_through_compose(self) -> list[str]:
        """``down``'s removals when parity has no engine client (its connect failed while Compose's
        ``up`` ran): through Compose, which reached the engine if anything was made (``down -v -t 0
        --rmi local``: the project's containers, its own volumes and networks, never an external
        one, and the images it named), then the renamed images (``throwaway_images``: a custom tag,
        which ``--rmi local`` keeps) through the docker CLI. Returns what could not be removed."""
        try:
            down = tether.run(self._argv("down", "-v", "-t", "0", "--rmi", "local", "--remove-orphans"),
                              self.waits.timeout, self.binary.environ())
        except subprocess.TimeoutExpired:
            down = None
        failed = [] if down is not None and down.returncode == 0 else [f"the objects of {self.name}"]
        tags = sorted(set(throwaway_images(self.project, self.name).values()))
        if tags and shutil.which("docker"):
            try:
                rmi = tether.run(["docker", "image", "rm", "-f", *tags], self.waits.timeout)
            except subprocess.TimeoutExpired:
                rmi = None
            if rmi is None or any("No such image" not in line for line in rmi.stderr.splitlines() if line.strip()):
                failed.append(f"the images of {self.name}")
        elif tags:
            failed.append(f"the images of {self.name}")
        return failed

    def _remove_objects(self) -> list[str]:
        """``down``'s removals; returns what could not be removed (``container NAME``, ...)."""
        import docker.errors

        api = self.client.api
        project = f"{COMPOSE_PROJECT}={self.name}"
        owned = {"label": [project, f"{LABEL_DIFF_OWNER}={run_owner()}"]}
        failed: list[str] = []

        def listed(kind: str, request) -> list:
            try:
                with self.waits.engine(f"listing the throw-away project's {kind}"):
                    return request()
            except (ParityError, docker.errors.DockerException):
                failed.append(f"the {kind} of {self.name}")
                return []

        def removal(what: str, request):
            def run() -> None:
                try:
                    with self.waits.engine(f"removing {what}"):
                        request()
                except docker.errors.NotFound:
                    pass  # already gone (or a renamed image never built)
                except (ParityError, docker.errors.DockerException):
                    failed.append(what)
            return run

        # Both labels, as for every other kind: every service of the throw-away config carries this run's
        # owner label, so a Compose project of someone else's that happened to share the name is never touched.
        containers = listed("containers", lambda: api.containers(all=True, filters=owned))
        _side_by_side([removal(f"container {container_name(row)}",
                               lambda row=row: api.remove_container(row["Id"], force=True, v=True))
                       for row in containers])
        # Volumes, networks and images are in use until their containers are gone.
        volumes = listed("volumes", lambda: api.volumes(filters=owned).get("Volumes") or [])
        networks = listed("networks", lambda: api.networks(filters=owned))
        # Built images carry this run's owner label (and Compose's project label, but not from an older
        # Compose): each is removed by its tags, this run's own (``throwaway_images``), as
        # ``--rmi local`` and the renamed images were; a labelled image only when it names this project
        # (an owner HOST:PID repeats across machines where PID 1 runs parity under a stable host name).
        built = listed("images", lambda: api.images(filters=owned))
        tags = set(throwaway_images(self.project, self.name).values())
        for row in built:
            if (row.get("Labels") or {}).get(COMPOSE_PROJECT) == self.name:
                tags.update([t for t in row.get("RepoTags") or [] if t != "<none>:<none>"] or [row["Id"]])
        _side_by_side([removal(f"volume {v['Name']}", lambda v=v: api.remove_volume(v["Name"], force=True))
                       for v in volumes]
                      + [removal(f"network {n['Name']}", lambda n=n: api.remove_network(n["Id"])) for n in networks]
                      + [removal(f"image {t}", lambda t=t: api.remove_image(t, force=True)) for t in sorted(tags)])
        return failed


#: A step of ``docker compose up``'s plain progress (``COMPOSE_PROGRESS=plain``): an object it makes
#: (`` Network NAME  Creating``, `` Container NAME  Created``...) or a build's output (``#1 [internal]
#: load build definition``). Compose prints each before asking the engine for it.
_STEP = re.compile(r"^\s*(?:(?:Network|Volume|Container|Image|Service)\s+\S|#\d)")


def _made_nothing(output: str | None) -> bool:
    """Whether a ``docker compose up`` that printed ``output`` cannot have made anything: Compose
    reports each step (``_STEP``) before asking the engine for it, so one that printed no step never
    got that far: its file's warnings, an engine that answers no request or refuses the connection
    (``unable to get image ...: Cannot connect to the Docker daemon``, a failed connect's usual
    causes), an up stopped at once. Output not known: it may have."""
    return output is not None and not any(_STEP.match(line) for line in output.splitlines())


def _side_by_side(actions: list) -> None:
    """Run ``actions`` (each handles its own failures) at once, at most ``MAX_PARALLEL``; returns
    when all have ended (on Ctrl-C too: the pool waits for the started ones)."""
    if len(actions) <= 1:
        for action in actions:
            action()
        return
    with ThreadPoolExecutor(max_workers=min(len(actions), MAX_PARALLEL), initializer=block_signals_in_this_thread) as pool:
        for future in [pool.submit(action) for action in actions]:
            future.result()


@dataclass
class LiveProject:
    """A compose project up on an engine, to read back.

    Attributes:
        client: the connected docker-py client (each request bounded by the timeout).
        name: the compose project's name (``parity-diff-XXXXXXXX`` for a throw-away copy).
        waits: how each engine request is bounded and reported (``with live.waits.engine(what)``).
        throwaway: whether parity brought it up (and so may write into it: ``probe_writes``).
        copies: the throw-away project's bind sources that are copies (``termination_copies``) ->
            the user's files they stand for: a difference names the user's file, as a static diff does.
    """

    client: object
    name: str
    waits: Waits
    throwaway: bool
    copies: Mapping[str, str] = field(default_factory=dict)

    def containers(self, service: str) -> list:
        """The containers of ``service`` in this project (none: the service has no container)."""
        return self.client.containers.list(all=True, filters={"label": [
            f"{COMPOSE_PROJECT}={self.name}", f"{COMPOSE_SERVICE}={service}"]})

    def read(self, wanted: Sequence[Wanted]) -> list[Read]:
        """What each wanted service's container shows at its paths. The engine serves requests in
        parallel (as it does Compose's), and each path's archive takes it tens of milliseconds, so
        the reads go side by side: the containers, then every path of every container and (in a
        throw-away project) each running container's write probe (``probe_writes``) at once.

        Args:
            wanted: the containers to read, in order.

        Returns:
            One ``Read`` per wanted container, in the same order.

        Raises:
            ParityError: the engine failed or did not answer (``Waits.engine``), for the first
                wanted container (in order) whose read failed.
        """
        from .readback import container_layout, read_path

        found = self._each([(w, lambda w=w: next(iter(self.containers(w.service)), None)) for w in wanted])
        # The engine serialises an exec's creation with a running archive of the same container (both
        # take the container's lock; an archive holds it until it is read) but not the exec's run: each
        # probe is created first, then runs while the archives are read (its run is as long as one).
        probed = [i for i, (w, ctr) in enumerate(zip(wanted, found))
                  if self.throwaway and ctr is not None and ctr.status == "running" and w.paths]
        made = self._each([(wanted[i], lambda i=i: self._create_probe(found[i], wanted[i].paths)) for i in probed])
        execs = {i: exec_id for i, exec_id in zip(probed, made) if exec_id is not None}
        # Each container's probe, then its paths: a failure is raised for the first container in order.
        jobs = [(i, path) for i, (w, ctr) in enumerate(zip(wanted, found))
                if ctr is not None for path in ([None] if i in execs else []) + list(w.paths)]
        done = dict(zip(jobs, self._each([
            (wanted[i], lambda i=i: self._run_probe(execs[i])) if path is None else
            (wanted[i], lambda i=i, path=path: read_path(found[i], path, path in wanted[i].roots))
            for i, path in jobs])))
        answers = {i: done[i, None] for i in execs}
        trees = {key: entries for key, entries in done.items() if key[1] is not None}
        # Where a probe could write, any archive read meanwhile may catch its file, in this container
        # or in another one mounting the same volume or directory: parity's, not the setup's (one of
        # that name there before is the probe's to remove). Elsewhere a file of that name is the setup's.
        written = probe_locations([(found[i].attrs.get("Mounts") or [], found[i].id, wanted[i].paths, answers[i])
                                   for i in answers])
        out = []
        for i, (w, ctr) in enumerate(zip(wanted, found)):
            if ctr is None:
                out.append(Read(None, None))
                continue
            litter = ProbeLitter(ctr.attrs.get("Mounts") or [], ctr.id, written)
            layout = container_layout(ctr, w.name, list(w.paths), w.init, fresh=True, trees={
                path: [e for e in trees[i, path] if e.path not in litter] for path in w.paths})
            out.append(Read(ctr, probe_writes(layout, answers[i]) if i in answers else layout))
        return out

    def _each(self, jobs: list[tuple[Wanted, Callable[[], T]]]) -> list[T]:
        """Each job's result, the jobs run side by side (at most ``MAX_PARALLEL``), each an engine
        wait for its container (``Waits.engine``); the first failure in the jobs' order is raised,
        once every job has ended."""
        def run(w: Wanted, job: Callable[[], T]) -> T:
            with self.waits.engine(f"reading service {w.service}"):
                return job()

        if len(jobs) <= 1:
            return [run(w, job) for w, job in jobs]
        with ThreadPoolExecutor(max_workers=min(len(jobs), MAX_PARALLEL), initializer=block_signals_in_this_thread) as pool:
            futures = [pool.submit(run, w, job) for w, job in jobs]
        return [f.result() for f in futures]

    def _create_probe(self, ctr, paths: Sequence[str]) -> str | None:
        """The write probe's exec in ``ctr`` for ``paths``, created (``_run_probe`` runs it): as root,
        one ``w`` or ``r`` line per path (``_PROBE_SCRIPT``). None when the container has stopped
        since it was listed (the engine refuses an exec in a container that does not run: 409, as
        for one that exits at once): it is read as an exited container is, unprobed."""
        import docker.errors

        try:
            return self.client.api.exec_create(ctr.id, ["sh", "-c", _PROBE_SCRIPT, "sh", *paths], user="0")["Id"]
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                return None
            raise

    def _run_probe(self, exec_id: str) -> list[str]:
        """The answers of a probe ``_create_probe`` made, one per path in order; fewer (none: no shell
        in the image, or the container stopped before the probe could run: 409) when it could not try
        them all."""
        import docker.errors

        try:
            output = self.client.api.exec_start(exec_id)
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                return []
            raise
        return (output or b"").decode("ascii", "replace").split()


def host_location(mounts: Sequence[Mapping], container_id: str, path: str) -> str:
    """Where ``path`` of a container is on the engine's host: under the deepest mount holding it,
    the mount's ``Source`` (a volume's directory or a bind's) and the rest of the path; elsewhere
    (the container's own filesystem, a tmpfs: ``Source`` empty) the container's own.

    Args:
        mounts: the container's ``Mounts``, as the engine's inspect gives them.
        container_id: the container's id, for what no other container can share.
        path: an absolute path in the container.

    Returns:
        A key equal for two containers' paths exactly when they are the same place.
    """
    best = None
    for mount in mounts:
        dest = (mount.get("Destination") or "").rstrip("/") or "/"
        if (path == dest or path.startswith(dest.rstrip("/") + "/")) and (best is None or len(dest) > len(best[0])):
            best = (dest, mount.get("Source") or "")
    if best is None or not best[1]:
        return f"{container_id}:{path}"
    rest = path[len(best[0]):].lstrip("/")
    return posixpath.join(best[1], rest) if rest else best[1]


def probe_locations(probes: Sequence[tuple[Sequence[Mapping], str, Sequence[str], Sequence[str]]]) -> set[str]:
    """Where the write probes put their file for a moment (``host_location``): at the top of each
    path whose probe answered ``w``.

    Args:
        probes: per probed container, its ``Mounts``, its id, the paths probed and the answers.

    Returns:
        The host locations of the probes' files.
    """
    return {host_location(mounts, cid, posixpath.join(path, LIVE_PROBE))
            for mounts, cid, paths, said in probes for path, answer in zip(paths, said) if answer == "w"}


@dataclass(frozen=True)
class ProbeLitter:
    """The paths of a container at which an archive may have caught a write probe's file:
    ``path in litter`` when ``path`` is named ``LIVE_PROBE`` and its host location
    (``host_location``) is one of ``written`` (``probe_locations``)."""

    mounts: Sequence[Mapping]
    container_id: str
    written: set[str]

    def __contains__(self, path: str) -> bool:
        return (posixpath.basename(path) == LIVE_PROBE
                and host_location(self.mounts, self.container_id, path) in self.written)


def probe_writes(layout: ContainerLayout, answers: Sequence[str]) -> ContainerLayout:
    """Read-only by flag is not enough: the probe (``LiveProject._create_probe``) tried to write in
    each mount as root, as an attacker in the app would, only in a throw-away project (a running
    one is the user's: parity writes nothing there). A mount it could not try (no shell in the
    image) is taken as refusing writes, as its flag says.

    Args:
        layout: the container's layout as read, its mounts in the probed paths' order.
        answers: the probe's answers (``w``: root created and removed a file there).

    Returns:
        The layout, each mount read-only only if its flag says so and the probe could not write.
    """
    if not layout.mounts:
        return layout
    mounts = []
    for i, m in enumerate(layout.mounts):
        writable = i < len(answers) and answers[i] == "w"
        mounts.append(type(m)(m.path, m.volume, m.read_only and not writable, m.sub_path, m.source, m.type))
    return ContainerLayout(layout.name, layout.init, mounts, layout.entries)


#: Engine requests at once (reads, removals): the engine's own limits are far above; this bounds
#: parity's threads and the client's connection pool (docker-py keeps 10 connections per client).
MAX_PARALLEL = 8

#: For each mount given as an argument: ``w`` when root can create (and remove) a file in it, else ``r``.
_PROBE_SCRIPT = (f'for d; do if touch "$d/{LIVE_PROBE}" 2>/dev/null && rm -f "$d/{LIVE_PROBE}" 2>/dev/null; '
                 'then echo w; else echo r; fi; done')


@dataclass(frozen=True)
class Wanted:
    """A container to read back: its compose service, the name it gets in the layout, its mount points."""

    service: str
    name: str
    paths: tuple[str, ...]
    init: bool = False
    roots: tuple[str, ...] = ()  # of these paths (writable volumes), the directory itself only


@dataclass(frozen=True)
class Read:
    """A container read back: ``container`` (docker-py, its attributes as listed) and what it shows
    at the wanted paths; both None when the service has no container in the project."""

    container: object
    layout: ContainerLayout | None


def import_engine_client_meanwhile() -> threading.Thread:
    """Import the Docker SDK in the background (a few hundred ms of Python) while this process
    waits on something else, e.g. ``docker compose config``: ``live_project`` waits for it before it
    connects. A failed import is left for the real one to report, where it always was.

    Returns:
        The importing thread (not a daemon: the interpreter waits for it before it exits).
    """
    def work() -> None:
        try:
            from . import engine  # (it imports the SDK, after deferring what it does not need)

            del engine  # only loaded, for later
        except BaseException:  # noqa: BLE001 - the real import says what is wrong
            pass

    thread = threading.Thread(target=work, name="parity-import-docker")
    thread.start()
    return thread


@contextlib.contextmanager
def live_project(project: ComposeProject, timeout: float = DEFAULT_TIMEOUT, running: str | None = None,
                 progress: Progress | None = None, importing: threading.Thread | None = None) -> Iterator[LiveProject]:
    """The project up on the engine for the length of the block; a throw-away copy is always torn down.

    Args:
        project: the setup, as Compose normalised it.
        timeout: seconds each wait may take (a compose command, an engine request).
        running: a running compose project to read as it is; None brings up a throw-away copy.
        progress: step messages (on a terminal only, by default).
        importing: ``import_engine_client_meanwhile``'s thread, if one was started.

    Yields:
        The project to read.

    Raises:
        ParityError: no Compose, no engine, no running project of that name, a failed ``up``, a
            wait that ran out, or a teardown that left something (named, with what the next run
            removes). A failure inside the block gets the teardown's problems appended.
    """
    progress = progress or Progress()
    waits = Waits(project, timeout)
    binary = compose_binary()
    if running or binary is None:  # (no Compose: the engine's own error, if any, comes first, as it did)
        client = _connect(timeout, importing)
        if binary is None:
            raise ParityError("--live needs Docker Compose v2 (docker compose)")
        with waits.engine("removing what a killed parity diff --live left"):
            sweep(client)
        with waits.engine(f"listing project {running}"):
            found = client.containers.list(all=True, filters={"label": f"{COMPOSE_PROJECT}={running}"})
        if not found:
            raise ParityError(f"--project {running}: no compose project of that name has containers on this engine")
        yield LiveProject(client, running, waits, throwaway=False)
        return
    throwaway = _Throwaway(project, binary, waits)
    try:
        progress(f"building and starting the throw-away project {throwaway.name} (docker compose up"
                 f"{'' if throwaway.compose_starts else ' --no-start, then its containers in depends_on order'}, "
                 f"at most {timeout:g}s)")
        # Compose's up starts first; the SDK's import, the connect and the sweep of a dead run's
        # leftovers (which never touches this live run's objects) run meanwhile. A failed connect
        # stops the up and removes what it made (through Compose: ``_Throwaway.down``).
        throwaway.start_up()
        throwaway.client = _connect(timeout, importing)
        with waits.engine("removing what a killed parity diff --live left"):
            sweep(throwaway.client)
        throwaway.wait_up()
        yield LiveProject(throwaway.client, throwaway.name, waits, throwaway=True, copies=throwaway.copies)
    except BaseException as exc:  # a failure, a timeout, Ctrl-C, SIGTERM: the project goes first
        left = throwaway.down()
        if isinstance(exc, ParityError):
            exc.problems += left
        raise
    progress(f"removing the throw-away project {throwaway.name}")
    left = throwaway.down()
    if left:
        raise ParityError(left)


def _connect(timeout: float, importing: threading.Thread | None):
    """The engine client (``engine.connect``), once ``import_engine_client_meanwhile``'s import ended."""
    if importing is not None:
        importing.join()  # never two threads importing the same modules
    from .engine import connect

    return connect(timeout=timeout)
