"""Human-readable text for layouts: one block per container, ``ls -l`` style per mount."""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from typing import TYPE_CHECKING

from .layout import FILE, SYMLINK, ContainerLayout, WorkloadLayout, mode_string, short_digest
from .output import Painter, printable

if TYPE_CHECKING:  # (importing them would import the Docker SDK)
    from .docker.generate import Generated
    from .docker.plan import AppPlan
    from .down import DownResult
    from .status import StatusReport
    from .upresult import UpResult


#: How a workload's pod runs, said after its namespace (nothing for a long-running one).
RUN_WORDS = {"once": "; runs once, to completion",
             "on-demand": "; on demand: parity does not schedule it, start it by hand"}


def layout_text(layouts: list[WorkloadLayout], paint: Painter) -> str:
    lines: list[str] = []
    for w in layouts:
        lines.append(paint(printable(f"{w.kind}/{w.name}"), "bold")
                     + printable(f"  (namespace {w.namespace}{RUN_WORDS.get(w.run, '')})"))
        lines.extend(paint(printable(f"  note: {note}"), "yellow") for note in w.notes)
        if not w.containers:
            lines.append("  no containers")
        for c in w.containers:
            lines.extend(_container_lines(c, paint))
        lines.append("")
    return "\n".join(lines)


def _container_lines(c: ContainerLayout, paint: Painter) -> list[str]:
    lines = [f"  {'init container' if c.init else 'container'} {paint(printable(c.name), 'bold')}"]
    if not c.mounts:
        lines.append("    no secret, configMap, projected or downwardAPI mounts")
    shown = c.shown_by()
    for m in c.mounts:
        flags = "read-only" if m.read_only else paint("read-write", "yellow")
        sub = f" subPath {m.sub_path}" if m.sub_path else ""
        source = printable(f"  <- {m.source or m.volume} (volume {m.volume}){sub}")
        lines.append(f"    {paint(printable(m.path), 'blue')}{source}  {flags}")
        own = shown.get(m, [])
        if m.writable_volume:
            article = "an" if m.type[:1] in tuple("aeiou") else "a"  # (an emptyDir, an ephemeral volume)
            lines.append(f"      ({article} {m.type} volume: what the pod writes here is not predicted)")
        for e in own:
            rel = "." if e.path == m.path else posixpath.relpath(e.path, m.path)
            owner = f"{e.uid}:{e.gid}"
            if e.type == FILE:
                size = str(e.size)
                digest = short_digest(e.sha256) + (" (volatile)" if e.volatile else "")
            else:
                size, digest = "", ""
            name = f"{rel} -> {e.target}" if e.type == SYMLINK else rel
            lines.append(f"      {mode_string(e.type, e.mode)}  {owner:<11} {size:>7}  {digest:<19}  {printable(name)}")
    return lines


def diff_text(report, paint: Painter) -> str:
    """Differences grouped by container, then a one-line summary. Digests only, never values."""
    lines = [paint(printable(f"parity diff: {report.workload} vs {report.compose_file} ({report.mode})"), "bold")]
    by_container: dict[str, list] = {}
    for d in report.differences:
        by_container.setdefault(d.container, []).append(d)
    service_of = dict(report.pairs)
    for container, diffs in by_container.items():
        if container == "-":
            lines.append("  compose services")
        else:
            svc = service_of.get(container)
            lines.append(f"  container {paint(printable(container), 'bold')}"
                         + (printable(f" <-> {report.partner} {svc}") if svc else ""))
        for d in diffs:
            parts = [paint(f"{d.kind:<18}", "red"), printable(d.path)]
            if d.expected or d.actual:
                parts.append(printable(f"cluster: {d.expected or '-'}  here: {d.actual or '-'}"))
            lines.append("    " + "  ".join(parts))
            if d.detail:
                lines.append(paint(printable(f"    {'':<18}  {d.detail}"), "dim"))
    for container, service in report.pairs:
        if container not in by_container:
            lines.append(f"  container {paint(printable(container), 'bold')}"
                         + printable(f" <-> {report.partner} {service}: ") + paint("same", "green"))
    for note in report.notes:
        lines.append(paint(printable(f"  note: {note}"), "yellow"))
    n = len(report.differences)
    containers = len([c for c in by_container if c != "-"])
    if n:
        lines.append(paint(f"{n} difference{'s' if n != 1 else ''} in {containers} container"
                           f"{'s' if containers != 1 else ''}", "red"))
    else:
        lines.append(paint(f"no differences: every container sees the cluster's files ({report.mode})", "green"))
    return "\n".join(lines) + "\n"


def generated_text(result: Generated, plan: AppPlan, paint: Painter) -> str:
    """``parity k8s-to-docker``: what was written where, what still differs, and how to start it."""
    from .docker.emit import (COMPOSE_FILE, SCRIPT_FILE, compose_run_command, on_demand_pods,  # (loaded already)
                              script_run_name)

    lines = [f"wrote {paint(printable(str(result.directory)), 'bold')} for {printable(plan.subject)}: "
             f"{len(plan.services)} service(s), {len(plan.volumes)} volume(s)"]
    lines += [f"  {printable(str(f))}" for f in result.files]
    lines += [paint(printable(f"  note: {note}"), "yellow") for note in plan.differences + result.warnings]
    lines.append(printable(f"start: docker compose -f {result.directory}/{COMPOSE_FILE} up -d --build"))
    for pod in on_demand_pods(plan):
        how = compose_run_command(pod, f"{result.directory}/{COMPOSE_FILE}")
        lines.append(printable(f"{pod.workload_ref} (namespace {pod.namespace}) is never scheduled: run it once "
                               f"with: {how} (or: sh {result.directory}/{SCRIPT_FILE} run {script_run_name(pod)})"))
    return "\n".join(lines) + "\n"


#: ``parity up`` without --wait: what it did not check (it never says "is up" then).
NOT_WAITED = "not waited for: parity up --wait waits until every container runs and is healthy"


#: How many objects of one kind one verb may name before ``up``'s text counts them instead (the JSON
#: lists each action).
_VOLUMES_NAMED = 3
#: An action on one object: VERB KIND NAME (volume, network) or VERB NAME (a container or pod sandbox,
#: by its service key; "created data container" is neither).
_OBJECT_ACTION = re.compile(r"^(created|recreated|started) (?:(volume|network) )?(\S+)$")


def _grouped(actions: list[str]) -> list[str]:
    """``up``'s actions for its text: a whole app creates dozens of volumes (argo-cd: 44), containers and
    pod sandboxes (contour: 10 and 6 on one line of 30 actions), each named on one line that no one reads
    (the containers are listed below it); past ``_VOLUMES_NAMED`` of one verb and kind they are counted,
    where the first was."""
    from .docker.plan import SANDBOX  # (the sandbox's part of its service key; up's text only)

    def kind(a: str) -> tuple[str, str] | None:
        m = _OBJECT_ACTION.match(a)
        if m is None:
            return None
        what = m.group(2) or ("pod sandbox" if m.group(3) == SANDBOX or m.group(3).endswith("_" + SANDBOX)
                              else "container")
        return (m.group(1), what) if (m.group(1), what) != ("started", "volume") else None

    counts = Counter(k for a in actions if (k := kind(a)))
    out, said = [], set()
    for a in actions:
        k = kind(a)
        if k and counts[k] > _VOLUMES_NAMED:
            if k not in said:
                said.add(k)
                plural = "pod sandboxes" if k[1] == "pod sandbox" else k[1] + "s"
                out.append(f"{k[0]} {counts[k]} {plural}")
            continue
        out.append(a)
    return out


def _width(cells, least: int) -> int:
    """A name column's width: its longest cell, at least ``least``, so that every row's next column starts
    at one place (a whole app's service names, ``WORKLOAD_CONTAINER``, outgrow a fixed width: argo-cd's
    run to 65 characters and pushed their row's columns right of the others')."""
    return max([least, *map(len, cells)])


def up_text(result: UpResult, paint: Painter) -> str:
    """``parity up``: the workload and what changed ("is up" only when --wait saw every container up),
    then one line per container (its state as last seen) and, indented, why one is not up."""
    actions = printable("changed: " + "; ".join(_grouped(result.actions))) if result.actions else "nothing changed"
    verb = "are" if result.workload.endswith(" workloads") else "is"  # (AppPlan.subject: "N workloads")
    verdict = {True: f"{verb} up", False: paint(f"{verb} not up", "red"), None: "started"}[result.is_up]
    lines = [f"{paint(printable(result.workload), 'bold')} {verdict} ({actions})"]
    if not result.waited:
        lines[0] += f"; {NOT_WAITED}"
    lines += [paint(printable(f"  note: {note}"), "yellow") for note in result.notes]
    name_w = _width((printable(c.name) for c in result.containers), 20)
    container_w = _width((printable(c.container) for c in result.containers), 40)
    for c in result.containers:
        shown = f"{c.state} ({c.health})" if c.health else c.state
        ok = c.problem is None and c.health in (None, "healthy") and c.state in ("running", "exited")
        state = paint(shown, "green" if ok else "red" if c.problem else "yellow")
        mounts = printable(", ".join(c.mounts)) or "no secret mounts"
        lines.append(f"  {printable(c.name):<{name_w}} {printable(c.container):<{container_w}} {state:<10} {mounts}")
        if c.problem:
            lines.append(paint(printable(f"    {c.problem}"), "red"))
    for o in result.on_demand:
        lines.append(printable(f"{o.workload} (namespace {o.namespace}): on demand, not started (parity never "
                               f"schedules it); run it once with: {o.command}"))
    return "\n".join(lines) + "\n"


def down_text(results: list[DownResult]) -> str:
    """``parity down``: one line per workload or project."""
    lines = []
    for r in results:
        removed = r.removed
        lines.append(f"{printable(r.workload or 'project ' + r.project)}: removed {len(removed.containers)} "
                     f"container(s), {len(removed.volumes)} volume(s), {len(removed.images)} image(s)"
                     + (f", {len(removed.networks)} network(s)" if removed.networks else ""))
        if r.elsewhere and not (removed.containers or removed.volumes or removed.images):
            lines.append(printable(f"  nothing of it in project {r.project}; parity up runs it in project "
                                   f"{', '.join(r.elsewhere)}: parity down -p {r.elsewhere[0]} --workload "
                                   f"{r.namespace + '/' if r.namespace else ''}{r.workload}"))
        if removed.kept:
            lines.append(f"  kept {len(removed.kept)} claim volume(s), the app's data: "
                         f"{printable(', '.join(removed.kept))} (parity down --delete-claims removes them)")
    return "".join(line + "\n" for line in lines)


def status_text(report: StatusReport, paint: Painter) -> str:
    """``parity status``: per workload its project and prediction, per container its state and
    verdict, and each difference (digests only)."""
    from .docker.health import SANDBOX_GONE  # (here: parity layout's text needs none of the health rules)
    lines = [] if report.workloads else [
        "parity runs nothing" if not report.elsewhere else "parity up with this state directory runs nothing"]
    name_w = _width((printable(c.name) for w in report.workloads for c in w.containers), 20)
    for w in report.workloads:
        namespace = "" if w.namespace == "default" else f"namespace {w.namespace}, "
        lines.append(f"{paint(printable(w.workload), 'bold')}  "
                     + printable(f"({namespace}project {w.project}, prediction: {w.prediction})"))
        if w.sandbox is not None:  # the pod's network namespace, and the names its peers reach it by
            names = sorted({n for aliases in w.sandbox.names.values() for n in aliases})
            lines.append(printable(f"  {'(pod sandbox)':<{name_w}} {w.sandbox.state:<10} "
                                   + ("DNS names " + ", ".join(names) if names else "no DNS names")))
            if w.sandbox.problem:
                lines.append(paint(printable(f"      {w.sandbox.problem}{SANDBOX_GONE} (see: docker logs "
                                             f"{w.sandbox.container})"), "red"))
        if not w.up:
            lines.append(paint("  not up: nothing runs it (parity up starts it)", "red"))
        for c in w.containers:
            verdict = {True: paint("in parity", "green"), False: paint(
                f"{len(c.differences)} difference(s)", "red"), None: "not checked"}[c.in_parity]
            shown = f"{c.state} ({c.health})" if c.health else c.state
            lines.append(f"  {printable(c.name):<{name_w}} {shown:<10} {verdict}")
            if c.problem:
                lines.append(paint(printable(f"      {c.problem} (see: docker logs {c.container})"), "red"))
            for d in c.differences:
                lines.append(printable(f"      {d.kind:<12} {d.path}  cluster: {d.expected}  here: {d.actual}"))
    if report.elsewhere:  # never silent: what runs that this state root did not make
        lines.append(printable(f"not checked: project(s) {', '.join(report.elsewhere)} (not made by parity up with "
                               f"the state directory {report.state_root}; check one with parity status -p PROJECT)"))
    return "".join(line + "\n" for line in lines)
