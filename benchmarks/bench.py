"""parity's benchmarks: every figure is a ratio against a baseline measured in the same run.

Absolute times swing with the machine (and with a noisy neighbour on a shared one); a ratio
against the bare libyaml parse, or against a bare interpreter start, stays comparable between runs
and machines. Baseline and candidate repetitions are interleaved so that drift hits both alike.

Extension point: ``BENCHMARKS`` lists functions ``fn(ctx) -> list[Row]``. An engine benchmark
(cold/warm ``parity up``, ``parity diff --live``) is one more function appended there, built on
``compare`` with a baseline such as the raw engine operations it performs (``time_command`` and
``time_call`` time a command or a Python call).

Corpora (``corpus.py``): the Deployment corpus (app + log shipper), the multi-container corpus (init
+ app + sidecar, four volumes and a subPath each; also at 1 and 10 containers per pod), the public
installs (``tests/fixtures/public``, replicated), one pod of many volumes.

Usage: ``python benchmarks/bench.py [--sizes 1000,10000] [--repeat 5] [--out DIR] [--check] [--only NAMES]
[--clock wall|cpu]``
(``bash benchmarks/run.sh`` passes its arguments through).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus, write_many_volumes, write_multi_corpus, write_public_corpus  # noqa: E402

PYTHON = sys.executable
PARITY = str(Path(PYTHON).with_name("parity"))  # the console script pip installed beside the interpreter
EXAMPLE = "manifests/api-gateway"
#: The benchmarks' own project (-p): a user's `parity up` of the example is never touched.
BENCH_PROJECT = "parity-bench-example"
FORBIDDEN_IMPORTS = ("docker", "kubernetes")  # only commands that talk to an engine/cluster may import them
VOLUME_SIZES = (1000, 10000)  # volumes in the one pod of ``many_volumes``
VOLUME_GROWTH_TARGET = 1.5  # per-volume cost at the largest size over the smallest: 1.0 is linear
JSON_VALUES = (2000, 8000)  # values of each stream in ``json_streams``
CONTAINER_COUNTS = (1, 10)  # containers per pod in ``containers_per_pod``
CONTAINER_DOCS = 1000  # documents of each of those corpora (a third of them pods)
PUBLIC_COPIES = 5  # the public installs, 463 documents, five times: 2,315 documents, 41 MB


@dataclass
class Row:
    """One line of the table: a candidate against its baseline, timed in interleaved pairs.

    ``ratio`` is the median of the pairs' ratios (each candidate run over the baseline run just
    before it): a slow spell on a shared machine slows both runs of a pair, so it cancels out of
    their ratio, where it would shift the two medians apart. The medians are shown too."""

    name: str
    baseline: str
    median_s: float
    baseline_s: float
    target: float | None = None  # ratio the candidate must stay under
    notes: dict = field(default_factory=dict)
    min_s: float | None = None  # the fastest repetitions: noise only ever adds time, so their
    baseline_min_s: float | None = None  # ratio is another steady figure (shown beside)
    paired_ratio: float | None = None
    skipped: str | None = None  # why it was not measured (no engine): shown instead of figures

    @property
    def ratio(self) -> float | None:
        if self.skipped:
            return None
        return self.paired_ratio if self.paired_ratio is not None else self.median_s / self.baseline_s

    @property
    def min_ratio(self) -> float | None:
        return self.min_s / self.baseline_min_s if self.min_s and self.baseline_min_s else None

    @property
    def ok(self) -> bool | None:
        return None if self.target is None or self.skipped else self.ratio <= self.target


def skipped(name: str, why: str) -> Row:
    """A row that could not be measured: the table says so instead of a 0.00x."""
    return Row(name, "", 0.0, 0.0, skipped=why)


@dataclass
class Context:
    sizes: list[int]
    repeat: int
    out: Path
    corpora: dict[int, Path] = field(default_factory=dict)
    env: dict = field(default_factory=dict)  # for commands: see command_env


def command_env(out: Path) -> dict:
    """Commands run as an installed tool runs: from cached bytecode (kept out of the tree, in OUT), and
    this checkout's code: the ``parity`` script beside the interpreter imports the editable install's
    (the main checkout's) otherwise, so a benchmark run from another worktree measured main's code."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


#: "wall" (elapsed time, the default) or "cpu" (--clock cpu: the CPU time the process, or the
#: command and its children, used): on a machine others share, a run waits for a CPU for as long as
#: it likes, and that wait is in its wall time but not in its CPU time. The commands timed with it
#: are single-threaded and do no I/O to wait on; engine benchmarks always time the wall clock
#: (the engine's work is done by dockerd, not by the command).
CLOCK = "wall"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_call(fn: Callable[[], object]) -> float:
    gc.collect()  # each repetition starts from the same heap, not from the previous one's garbage
    clock = time.process_time if CLOCK == "cpu" else time.perf_counter
    start = clock()
    fn()
    return clock() - start


def time_command(argv: list[str], env: dict, wall: bool = False) -> float:
    """Seconds ``argv`` took: by CLOCK, or elapsed time with ``wall`` (engine commands)."""
    clock = _children_cpu if CLOCK == "cpu" and not wall else time.perf_counter
    start = clock()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    took = clock() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return took


def compare(name: str, baseline_name: str, baseline: Callable[[], float], candidate: Callable[[], float],
            repeat: int, target: float | None = None, **notes) -> Row:
    """``repeat`` interleaved runs of two timers (each returns seconds), after a warm-up of each."""
    baseline(), candidate()
    base, cand = [], []
    for _ in range(repeat):
        base.append(baseline())
        cand.append(candidate())
    return Row(name, baseline_name, statistics.median(cand), statistics.median(base), target, notes, min(cand),
               min(base), statistics.median(c / b for c, b in zip(cand, base)))


# ---------------------------------------------------------------------------------------------
# Benchmarks


class BareLoader(yaml.CSafeLoader):
    """PyYAML's safe loader on libyaml, nothing else, but for one tag: a plain ``=`` (in CRD schemas:
    kube-prometheus) resolves to YAML 1.1's ``!!value``, which the safe loader refuses; kubectl and
    parity read it as the string it is."""


BareLoader.add_constructor("tag:yaml.org,2002:value", BareLoader.construct_yaml_str)


def bare_parse(path: Path) -> list:
    """The baseline: libyaml's C parser with PyYAML's safe constructor, nothing else."""
    return list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=BareLoader))


def bare_parse_gc_paused(path: Path) -> list:
    """For reference only: parity's loader pauses the cyclic GC while it builds a stream."""
    gc.disable()
    try:
        return bare_parse(path)
    finally:
        gc.enable()


def layout_json(path: Path) -> str:
    """What ``parity layout --format json FILE`` computes, through the library calls the CLI makes."""
    from parity.kube.kubelet import build_layouts
    from parity.kube.manifests import load_inputs
    from parity.kube.selection import select_workloads
    from parity.layout import document_text

    inputs = load_inputs([str(path)])
    return document_text(build_layouts(inputs, select_workloads(inputs, None)))


BARE_PARSE_CMD = [PYTHON, "-c", "import sys, yaml\n"
                  "class L(yaml.CSafeLoader): pass\n"  # as BareLoader
                  "L.add_constructor('tag:yaml.org,2002:value', L.construct_yaml_str)\n"
                  "list(yaml.load_all(open(sys.argv[1], encoding='utf-8').read(), Loader=L))"]


def cli_layout_json(name: str, path: Path, ctx: Context, repeat: int, **notes) -> Row:
    """``parity layout --format json FILE`` against the bare parse of FILE in a command of its own."""
    return compare(name, "bare parse subprocess", lambda: time_command(BARE_PARSE_CMD + [str(path)], ctx.env),
                   lambda: time_command([PARITY, "layout", "--format", "json", str(path)], ctx.env), repeat, 1.3,
                   bytes=path.stat().st_size, **notes)


def throughput(ctx: Context) -> list[Row]:
    """``parity layout --format json`` on each corpus, in-process and as the real CLI, vs the bare parse."""
    rows = []
    for n, path in ctx.corpora.items():
        repeat = ctx.repeat if n <= 1000 else max(3, ctx.repeat // 2)  # 10k: ~10 s a repetition
        notes = dict(docs=n, bytes=path.stat().st_size)
        bare = lambda: time_call(lambda: bare_parse(path))  # noqa: E731
        rows.append(compare(f"layout in-process, {n} docs", "bare parse in-process", bare,
                            lambda: time_call(lambda: layout_json(path)), repeat, 1.3, **notes))
        rows.append(cli_layout_json(f"parity layout --format json, {n} docs", path, ctx, repeat, docs=n))
        rows.append(compare(f"(reference) bare parse, GC paused, {n} docs", "bare parse in-process", bare,
                            lambda: time_call(lambda: bare_parse_gc_paused(path)), repeat))
    return rows


def multi_container(ctx: Context) -> list[Row]:
    """``parity layout --format json`` on the multi-container corpus (init + app + sidecar, four
    volumes and a subPath each) at each size: the shape whose output grows with containers x files."""
    rows = []
    for n in ctx.sizes:
        path = write_multi_corpus(ctx.out, n)
        rows.append(cli_layout_json(f"layout --format json, multi-container, {n} docs", path, ctx,
                                    ctx.repeat if n <= 1000 else 3, docs=n, corpus="multi"))
    return rows


def public_installs(ctx: Context) -> list[Row]:
    """``parity layout --format json`` on the public installs (``tests/fixtures/public``, CRD-heavy,
    most documents not workloads), replicated to a few thousand documents."""
    path = write_public_corpus(ctx.out, PUBLIC_COPIES)
    return [cli_layout_json(f"layout --format json, public installs x{PUBLIC_COPIES}", path, ctx, 3,
                            copies=PUBLIC_COPIES, corpus="public")]


def containers_per_pod(ctx: Context) -> list[Row]:
    """``parity layout --format json`` on pods of 1 and of 10 containers (each mounting the same four
    volumes and a subPath), same number of documents: ``container_scaling`` gives the cost per
    container at each count and its growth."""
    rows = []
    for count in CONTAINER_COUNTS:
        path = write_multi_corpus(ctx.out, CONTAINER_DOCS, containers=count, init=0)
        rows.append(cli_layout_json(f"containers per pod: layout --format json, {count}", path, ctx, ctx.repeat,
                                    containers=count * (CONTAINER_DOCS // 3), per_pod=count))
    return rows


def startup(ctx: Context) -> list[Row]:
    """Commands that need no engine start about as fast as importing their two dependencies."""
    baseline = [PYTHON, "-c", "import yaml, click"]
    rows = []
    for args in (["--help"], ["layout", EXAMPLE]):
        rows.append(compare("parity " + " ".join(args), "python -c 'import yaml, click'",
                            lambda: time_command(baseline, ctx.env), lambda: time_command([PARITY] + args, ctx.env),
                            max(10, 3 * ctx.repeat), 1.5, forbidden_imports=forbidden_imports(args, ctx.env)))
    return rows


def forbidden_imports(args: list[str], env: dict) -> list[str]:
    """Top-level packages from FORBIDDEN_IMPORTS that ``parity ARGS`` imports (``-X importtime``)."""
    proc = subprocess.run([PYTHON, "-X", "importtime", PARITY] + args, capture_output=True, text=True, check=True,
                          env=env, cwd=ROOT)
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
             if line.startswith("import time:")}
    return sorted(names & set(FORBIDDEN_IMPORTS))


def generate_throughput(ctx: Context) -> list[Row]:
    """``parity k8s-to-docker`` of one workload picked from each corpus (the whole file is read)."""
    rows = []
    for n, path in ctx.corpora.items():
        out = ctx.out / "k2d"

        def run() -> float:
            took = time_command([PARITY, "k8s-to-docker", str(path), "--workload", "deploy/svc-0", "-o", str(out),
                                 "--force"], ctx.env)
            return took

        rows.append(compare(f"parity k8s-to-docker, {n} docs", "bare parse subprocess",
                            lambda: time_command(BARE_PARSE_CMD + [str(path)], ctx.env), run,
                            ctx.repeat if n <= 1000 else 3, 1.3, docs=n))
    return rows


def many_volumes(ctx: Context) -> list[Row]:
    """One pod of 1k and 10k volumes (side by side, nested under one mount, some through subPath):
    ``parity layout`` (text and JSON) and ``parity k8s-to-docker``. What matters is the growth of
    the per-volume cost between the sizes (``unit_scaling``): 1.0 when linear (issue 18: text was
    cubic, the others quadratic). The bare parse of the same file is the baseline of each row."""
    rows = []
    out = ctx.out / "k2d-volumes"
    for n in VOLUME_SIZES:
        path = str(write_many_volumes(ctx.out, n))
        repeat = ctx.repeat if n <= 1000 else 1  # 10k volumes: k8s-to-docker takes ~40 s a run

        def bare(path=path) -> float:
            return time_command(BARE_PARSE_CMD + [path], ctx.env)

        for label, args in (("parity layout", ["layout", path]),
                            ("parity layout --format json", ["layout", "--format", "json", path]),
                            ("parity k8s-to-docker", ["k8s-to-docker", path, "-o", str(out), "--force"])):
            rows.append(compare(f"{label}, {n} volumes", "bare parse subprocess", bare,
                                lambda args=args: time_command([PARITY] + args, ctx.env), repeat, volumes=n))
    return rows


def json_streams(ctx: Context) -> list[Row]:
    """A stream of JSON ConfigMaps with no ``---`` between them (kubectl's JSON decoder reads it value by
    value: parity's ``jsonstream``), one a line and glued on one line (``{...}{...}``), 2k and 8k values,
    against the same ConfigMaps as YAML documents between ``---`` lines, both through ``load_all``
    in-process. What matters is the growth of the per-value cost (``unit_scaling``): each value was read
    behind a line break per earlier line, then behind a space per earlier character on its line
    (quadratic: 8k glued values 27.7 s)."""
    from parity.kube.yamlload import load_all

    rows = []
    for n in JSON_VALUES:
        values = ['{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c%d"}, "data": {"k": "v%d"}}'
                  % (i, i) for i in range(n)]
        as_yaml = "".join(v + "\n---\n" for v in values)
        for label, between in (("one a line", "\n"), ("glued on one line", "")):
            text = between.join(values)
            rows.append(compare(f"load_all JSON stream, {label}, {n} values", "the same as YAML with ---",
                                lambda: time_call(lambda: load_all(as_yaml)),
                                lambda text=text: time_call(lambda: load_all(text)), ctx.repeat, values=n))
    return rows


def unit_scaling(rows: list[Row], unit: str) -> list[dict]:
    """Cost per ``unit`` (the rows' note: ``volumes`` of ``many_volumes``, ``containers`` of
    ``containers_per_pod``) of each command at each size, and its growth from the smallest size to
    the largest (1.0: linear; VOLUME_GROWTH_TARGET is the limit). Below 1.0: what does not grow
    with the unit (start-up, the rest of each pod) is spread over more units."""
    by_kind: dict[str, list[Row]] = {}
    for r in rows:
        if unit in r.notes and not r.skipped:
            by_kind.setdefault(r.name.rsplit(",", 1)[0], []).append(r)
    out = []
    for kind, rs in by_kind.items():
        rs.sort(key=lambda r: r.notes[unit])
        per_unit = {r.notes[unit]: r.median_s / r.notes[unit] * 1e3 for r in rs}
        growth = per_unit[rs[-1].notes[unit]] / per_unit[rs[0].notes[unit]] if len(rs) > 1 else None
        out.append({"benchmark": kind, "unit": unit, "per_unit_ms": per_unit, "growth": growth,
                    "ok": None if growth is None else growth <= VOLUME_GROWTH_TARGET})
    return out


ENGINE_ROWS = ("parity up, cold (example)", "parity up, warm (nothing changed)", "parity diff --live (example)")


def engine(ctx: Context) -> list[Row]:
    """``parity up`` on the example: cold, against the raw engine operations it performs (build, volume,
    create, start through the SDK, side by side); warm, against its 0.5 s budget; and ``parity diff
    --live`` against bringing the same compose file up and down by hand."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001 - no engine: say so in the table instead
        why = f"no Docker engine ({type(exc).__name__})"
        return [skipped(name, why) for name in ENGINE_ROWS]
    from docker.types import Mount

    env = {**ctx.env, "PARITY_STATE_DIR": str(ctx.out / "state")}
    gen = ctx.out / "engine-gen"
    subprocess.run([PARITY, "k8s-to-docker", EXAMPLE, "-o", str(gen), "--force", "-p", BENCH_PROJECT], env=env,
                   check=True, capture_output=True)

    def down() -> None:
        subprocess.run([PARITY, "down", EXAMPLE, "-p", BENCH_PROJECT], env=env, check=True, capture_output=True)

    def cold_up() -> float:
        down()
        return time_command([PARITY, "up", EXAMPLE, "-p", BENCH_PROJECT], env, wall=True)

    def raw_ops() -> float:
        down()
        start = time.perf_counter()
        client.images.build(path=str(gen / "data"), tag="parity-bench-raw:1", rm=True)
        vol = client.volumes.create("parity-bench-raw")
        data = client.containers.create("parity-bench-raw:1", mounts=[Mount("/parity/volumes/secrets", vol.name)])
        app = client.containers.run("busybox:latest", ["sh", "-c", "sleep 600"], detach=True, mounts=[
            Mount("/etc/secrets", vol.name, read_only=True, no_copy=True)])
        took = time.perf_counter() - start
        app.remove(force=True, v=True)
        data.remove(v=True)
        vol.remove(force=True)
        client.images.remove("parity-bench-raw:1", force=True)
        return took

    rows = [compare(ENGINE_ROWS[0], "the same engine operations through the SDK", raw_ops, cold_up,
                    max(3, ctx.repeat // 2))]
    subprocess.run([PARITY, "up", EXAMPLE, "-p", BENCH_PROJECT], env=env, check=True, capture_output=True)
    rows.append(compare(ENGINE_ROWS[1], "0.5 s budget", lambda: 0.5,
                        lambda: time_command([PARITY, "up", EXAMPLE, "-p", BENCH_PROJECT], env, wall=True), ctx.repeat,
                        1.0))
    down()
    compose_file = str(gen / "compose.yaml")

    def by_hand() -> float:
        start = time.perf_counter()
        subprocess.run(["docker", "compose", "-f", compose_file, "-p", "parity-bench-hand", "up", "-d", "--build"],
                       check=True, capture_output=True)
        subprocess.run(["docker", "compose", "-f", compose_file, "-p", "parity-bench-hand", "down", "-v", "-t", "0"],
                       check=True, capture_output=True)
        return time.perf_counter() - start

    def live_diff() -> float:
        start = time.perf_counter()
        subprocess.run([PARITY, "diff", EXAMPLE, "--compose", compose_file, "--live"], env=env, check=True,
                       capture_output=True)
        return time.perf_counter() - start

    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        rows.append(compare(ENGINE_ROWS[2], "docker compose up -d --build + down -v", by_hand, live_diff,
                            max(3, ctx.repeat // 2), 1.0))  # issue 17
    else:
        rows.append(skipped(ENGINE_ROWS[2], "no docker compose (its baseline)"))
    for image in client.images.list(filters={"label": f"io.parity.project={BENCH_PROJECT}"}):
        client.images.remove(image.id, force=True)
    return rows


#: ``app_up``'s app: this many workloads (Deployments), each with its Secret mounted (stand-in images:
#: busybox): a whole app, not one pod of many containers.
APP_WORKLOADS = 12
#: ``app_up``'s own projects and state root: a user's environments are never touched.
APP_PROJECT = "parity-bench-app"
APP_GEN_PROJECT = "parity-bench-app-gen"  # the generated compose file's (its data image tag)
APP_HAND_PROJECT = "parity-bench-app-hand"  # docker compose -p, the baseline


def write_app(out: Path, workloads: int, rotation: int = 0) -> Path:
    """An app of ``workloads`` Deployments, each mounting its own Secret (two keys, one with ``items``
    and a mode); ``rotation`` changes the first Secret's value only."""
    docs = []
    for i in range(workloads):
        value = f"rotation-{rotation}" if i == 0 else f"value-{i}"
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"app-secret-{i}"},
                     "stringData": {"password": value, "config.yaml": f"service: {i}\n"}})
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"svc-{i}"}, "spec": {
            "selector": {"matchLabels": {"app": f"svc-{i}"}}, "template": {
                "metadata": {"labels": {"app": f"svc-{i}"}},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "app", "image": "busybox:latest", "command": ["sleep", "3600"],
                    "volumeMounts": [{"name": "secret", "mountPath": "/etc/secrets", "readOnly": True}]}],
                    "volumes": [{"name": "secret", "secret": {"secretName": f"app-secret-{i}", "items": [
                        {"key": "password", "path": "password", "mode": 0o400},
                        {"key": "config.yaml", "path": "config.yaml"}]}}]}}}})
    path = out / f"app-{workloads}w-{rotation}.yaml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def app_up(ctx: Context) -> list[Row]:
    """``parity up`` of an app of APP_WORKLOADS workloads with Secrets (issue 17): cold, against
    ``docker compose up -d`` of parity's own generated compose file for the same app (Compose
    creates in parallel; so must parity), each from nothing (data image built, volumes and
    containers created); warm (nothing changed) against its 0.5 s budget; one rotated Secret
    applied in place against its 1 s budget."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001 - no engine: say so in the table instead
        why = f"no Docker engine ({type(exc).__name__})"
        return [skipped(f"parity up, {what} ({APP_WORKLOADS}-workload app)", why)
                for what in ("cold", "warm", "one rotated Secret")]
    env = {**ctx.env, "PARITY_STATE_DIR": str(ctx.out / "state")}
    apps = [write_app(ctx.out, APP_WORKLOADS, r) for r in (0, 1)]
    gen = ctx.out / "app-gen"
    subprocess.run([PARITY, "k8s-to-docker", str(apps[0]), "-o", str(gen), "--force", "-p", APP_GEN_PROJECT],
                   env=env, check=True, capture_output=True)
    compose = ["docker", "compose", "-f", str(gen / "compose.yaml"), "-p", APP_HAND_PROJECT]
    data_image = yaml.safe_load((gen / "compose.yaml").read_text())["services"]["parity-data"]["image"]

    def down() -> None:
        subprocess.run([PARITY, "down", "-p", APP_PROJECT], env=env, check=True, capture_output=True)

    def hand_down() -> None:
        subprocess.run(compose + ["down", "-v", "-t", "0"], check=True, capture_output=True)
        subprocess.run(["docker", "image", "rm", "-f", data_image], check=True, capture_output=True)

    def cold_up() -> float:
        down()
        return time_command([PARITY, "up", str(apps[0]), "-p", APP_PROJECT], env, wall=True)

    def by_hand() -> float:
        hand_down()
        return time_command(compose + ["up", "-d"], env, wall=True)

    notes = {"workloads": APP_WORKLOADS}
    rows = [compare(f"parity up, cold ({APP_WORKLOADS}-workload app)", "docker compose up -d (same app)", by_hand,
                    cold_up, max(3, ctx.repeat // 2), 1.0, **notes)]
    hand_down()
    subprocess.run([PARITY, "up", str(apps[0]), "-p", APP_PROJECT], env=env, check=True, capture_output=True)
    # Warm and rotated runs are timed against a fixed budget, so a busy machine shows in their elapsed
    # time alone: the CPU time parity itself used (its process, not the engine's) is noted beside.
    warm_cpu: list[float] = []
    rows.append(compare(f"parity up, warm ({APP_WORKLOADS}-workload app)", "0.5 s budget", lambda: 0.5,
                        lambda: cpu_noted(warm_cpu, [PARITY, "up", str(apps[0]), "-p", APP_PROJECT], env), ctx.repeat,
                        1.0, **notes))
    rows[-1].notes["cpu_s"] = round(statistics.median(warm_cpu), 3)
    turn = iter(range(10 ** 6))
    rotated_cpu: list[float] = []

    def rotate() -> float:
        return cpu_noted(rotated_cpu, [PARITY, "up", str(apps[next(turn) % 2 ^ 1]), "-p", APP_PROJECT], env)

    rows.append(compare(f"parity up, one rotated Secret ({APP_WORKLOADS}-workload app)", "1 s budget", lambda: 1.0,
                        rotate, ctx.repeat, 1.0, **notes))
    rows[-1].notes["cpu_s"] = round(statistics.median(rotated_cpu), 3)
    down()
    return rows


#: ``up_wait``'s app: this many Deployments, each with a health check (a readiness probe run every second).
WAIT_WORKLOADS = 4
WAIT_PROJECT, WAIT_GEN_PROJECT, WAIT_HAND_PROJECT = "parity-bench-wait", "parity-bench-wait-gen", "parity-bench-wait-hand"


def write_wait_app(out: Path, workloads: int) -> Path:
    """An app of ``workloads`` Deployments, each running busybox with a Secret mounted and a readiness
    probe (``true``, every second: Docker's health check): ``--wait`` waits until each is healthy."""
    docs = []
    for i in range(workloads):
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"wait-secret-{i}"},
                     "stringData": {"password": f"value-{i}"}})
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"ready-{i}"}, "spec": {
            "selector": {"matchLabels": {"app": f"ready-{i}"}}, "template": {
                "metadata": {"labels": {"app": f"ready-{i}"}},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                    "name": "app", "image": "busybox:latest", "command": ["sleep", "3600"],
                    "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
                    "volumeMounts": [{"name": "secret", "mountPath": "/etc/secrets", "readOnly": True}]}],
                    "volumes": [{"name": "secret", "secret": {"secretName": f"wait-secret-{i}"}}]}}}})
    path = out / f"wait-app-{workloads}w.yaml"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def up_wait(ctx: Context) -> list[Row]:
    """``parity up --wait`` of an app of WAIT_WORKLOADS workloads whose containers have health checks,
    from nothing (data image built, volumes and containers created, every container waited for until
    healthy), against ``docker compose up -d --wait`` of parity's own compose file for the same app."""
    name = f"parity up --wait, cold ({WAIT_WORKLOADS} health-checked workloads)"
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - no engine: say so in the table instead
        return [skipped(name, f"no Docker engine ({type(exc).__name__})")]
    env = {**ctx.env, "PARITY_STATE_DIR": str(ctx.out / "state")}
    app = write_wait_app(ctx.out, WAIT_WORKLOADS)
    gen = ctx.out / "wait-gen"
    subprocess.run([PARITY, "k8s-to-docker", str(app), "-o", str(gen), "--force", "-p", WAIT_GEN_PROJECT],
                   env=env, check=True, capture_output=True)
    compose = ["docker", "compose", "-f", str(gen / "compose.yaml"), "-p", WAIT_HAND_PROJECT]
    data_image = yaml.safe_load((gen / "compose.yaml").read_text())["services"]["parity-data"]["image"]

    def down() -> None:
        subprocess.run([PARITY, "down", "-p", WAIT_PROJECT], env=env, check=True, capture_output=True)

    def hand_down() -> None:
        subprocess.run(compose + ["down", "-v", "-t", "0"], check=True, capture_output=True)
        subprocess.run(["docker", "image", "rm", "-f", data_image], check=True, capture_output=True)

    def cold_up() -> float:
        down()
        return time_command([PARITY, "up", str(app), "-p", WAIT_PROJECT, "--wait"], env, wall=True)

    def by_hand() -> float:
        hand_down()
        return time_command(compose + ["up", "-d", "--wait"], env, wall=True)

    try:
        return [compare(name, "docker compose up -d --wait (same app)", by_hand, cold_up, max(3, ctx.repeat // 2),
                        1.0, workloads=WAIT_WORKLOADS)]
    finally:
        hand_down()
        down()


def cpu_noted(cpu: list[float], argv: list[str], env: dict) -> float:
    """The elapsed time of an engine command (``time_command``, wall); its CPU time goes to ``cpu``."""
    before = _children_cpu()
    took = time_command(argv, env, wall=True)
    cpu.append(_children_cpu() - before)
    return took


#: Run in order; each returns rows for the table.
BENCHMARKS: list[Callable[[Context], list[Row]]] = [startup, throughput, multi_container, public_installs,
                                                     containers_per_pod, generate_throughput, many_volumes, json_streams,
                                                     engine,
                                                     app_up, up_wait]


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    try:
        from yaml import _yaml
        libyaml = _yaml.get_version_string()
    except ImportError:
        libyaml = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 2 ** 20, 1),
            "python": platform.python_version(), "pyyaml": yaml.__version__, "libyaml": libyaml,
            "commit": commit.stdout.strip() or None}


def table(rows: list[Row]) -> str:
    head = f"{'benchmark':46} {'median':>9} {'baseline':>9} {'ratio':>6} {'target':>7}  {'(min ratio)':>11}  notes"
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.skipped:
            lines.append(f"{r.name:46} {'skipped: ' + r.skipped}")
            continue
        target = f"<={r.target}" if r.target else ""
        verdict = {True: "ok", False: "MISSED", None: ""}[r.ok]
        notes = ", ".join(f"{k}={v}" for k, v in r.notes.items())
        min_ratio = f"({r.min_ratio:.2f}x)" if r.min_ratio else ""
        lines.append(f"{r.name:46} {r.median_s:8.3f}s {r.baseline_s:8.3f}s {r.ratio:5.2f}x {target:>7}  "
                     f"{min_ratio:>11}  {verdict} {notes}".rstrip())
    return "\n".join(lines)


def scaling(rows: list[Row]) -> list[dict]:
    """Per-document cost at each size, and its growth from the smallest size to the largest
    (1.0: linear; the bare parse's own growth, from GC over a bigger heap, is shown beside it)."""
    by_kind: dict[str, list[Row]] = {}
    for r in rows:
        if r.target and "docs" in r.notes:
            by_kind.setdefault(r.name.rsplit(",", 1)[0], []).append(r)
    out = []
    for kind, rs in by_kind.items():
        rs.sort(key=lambda r: r.notes["docs"])
        per_doc = {r.notes["docs"]: {"candidate_us": r.median_s / r.notes["docs"] * 1e6,
                                     "baseline_us": r.baseline_s / r.notes["docs"] * 1e6} for r in rs}
        small, large = per_doc[rs[0].notes["docs"]], per_doc[rs[-1].notes["docs"]]
        # The cost of the documents between the two sizes: fixed costs (interpreter, imports,
        # start-up) cancel out, so this is the throughput ratio proper.
        marginal = None
        if len(rs) > 1:
            marginal = (rs[-1].median_s - rs[0].median_s) / (rs[-1].baseline_s - rs[0].baseline_s)
        out.append({"benchmark": kind, "per_doc": per_doc,
                    "growth": large["candidate_us"] / small["candidate_us"],
                    "baseline_growth": large["baseline_us"] / small["baseline_us"],
                    "marginal_ratio": marginal})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes in documents (default: 1000,10000)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per measurement (median reported)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="what is timed: elapsed time (default) or CPU time, steadier on a shared machine "
                             "(engine benchmarks: elapsed time always)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names to run (default: all: "
                                                   + ", ".join(b.__name__ for b in BENCHMARKS) + ")")
    args = parser.parse_args()
    global CLOCK
    CLOCK = args.clock
    ctx = Context([int(s) for s in args.sizes.split(",")], args.repeat, args.out.resolve())
    ctx.corpora = {n: write_corpus(ctx.out, n) for n in ctx.sizes}
    ctx.env = command_env(ctx.out)

    rows: list[Row] = []
    chosen = set(filter(None, args.only.split(",")))
    for bench in BENCHMARKS:
        if not chosen or bench.__name__ in chosen:
            rows.extend(bench(ctx))
    print(f"clock: {CLOCK} time ({'CPU time of each command or call' if CLOCK == 'cpu' else 'elapsed'}; engine rows: elapsed)")
    print(table(rows))
    growth = scaling(rows)
    for g in growth:
        sizes = list(g["per_doc"])
        if len(sizes) < 2:
            continue
        costs = ", ".join(f"{n}: {c['candidate_us']:.0f} us/doc (bare parse {c['baseline_us']:.0f})"
                          for n, c in g["per_doc"].items())
        marginal = (f"; documents {sizes[0]}..{sizes[-1]} alone (fixed start-up cancelled): "
                    f"{g['marginal_ratio']:.2f}x the bare parse's" if g["marginal_ratio"] else "")
        print(f"{g['benchmark']}: {costs}; per-doc cost x{g['growth']:.2f} from {sizes[0]} to {sizes[-1]} docs "
              f"(bare parse x{g['baseline_growth']:.2f}){marginal}")
    units = unit_scaling(rows, "volumes") + unit_scaling(rows, "containers") + unit_scaling(rows, "values")
    for g in units:
        unit = g["unit"][:-1]  # volume, container
        costs = ", ".join(f"{n} {g['unit']}: {ms:.3f} ms/{unit}" for n, ms in g["per_unit_ms"].items())
        verdict = {True: "linear", False: "MISSED", None: ""}[g["ok"]]
        trend = f"; per-{unit} cost x{g['growth']:.2f} (target <= {VOLUME_GROWTH_TARGET}) {verdict}" \
            if g["growth"] else ""
        print(f"{g['benchmark']}: {costs}{trend}")
    imports = {r.name: r.notes["forbidden_imports"] for r in rows if "forbidden_imports" in r.notes}
    for name, found in imports.items():
        print(f"{name}: {'imports ' + ', '.join(found) if found else 'imports neither docker nor kubernetes'}")

    results = {"machine": machine(), "repeat": ctx.repeat, "clock": CLOCK,
               "rows": [{**asdict(r), "ratio": r.ratio, "min_ratio": r.min_ratio, "ok": r.ok} for r in rows],
               "scaling": growth, "unit_scaling": units}
    ctx.out.mkdir(parents=True, exist_ok=True)
    (ctx.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {ctx.out / 'results.json'}")
    missed = any(r.ok is False for r in rows) or any(imports.values()) or any(g["ok"] is False for g in units)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
