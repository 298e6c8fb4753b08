"""A pod with thousands of volumes lays out in work linear in their number (issue 18).

Text ``layout`` was cubic (each mount asked, for every entry, which of all mounts holds it: 500
volumes took minutes); JSON ``layout`` and ``k8s-to-docker`` were quadratic (nested mountpoints
tried every pair of mounts, each mount scanned every entry placed so far, the compose file hashed
every volume once per volume, every subPath mount of a volume scanned the whole volume).

No timing here (speed goes in ``benchmarks/``): the tests count the Python and C function calls a
run makes, which is deterministic, and require four times the volumes to cost at most about four
times the calls. A counter over budget stops the run, so the old super-linear code fails quickly.
The byte-identity of the faster code is checked by ``MountCover`` against ``innermost`` below and
by the layout tests of the whole suite."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.layout import Mount, MountCover, document, innermost
from parity.output import Painter, dump_json
from parity.render import layout_text

SMALL, LARGE = 60, 240
#: calls(LARGE) / calls(SMALL) stays under this: 4 when linear (plus fixed costs), 16 when quadratic.
GROWTH_LIMIT = 5.0


class _OverBudget(Exception):
    pass


def count_calls(fn, budget: float = float("inf")) -> int:
    """Python and C function calls ``fn()`` makes; raises _OverBudget past ``budget``."""
    calls = 0

    def profile(_frame, event, _arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1
            if calls > budget:
                raise _OverBudget

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def pod_yaml(n: int, shape: str) -> str:
    """A Secret, a ConfigMap and a pod whose one container mounts ``n`` volumes of them.

    shape: ``flat`` (/etc/v0, /etc/v1...), ``nested`` (/etc/app, then /etc/app/v1... under it) or
    ``subpath`` (one Secret volume of n keys, each key mounted at its own path with subPath)."""
    lines = ["apiVersion: v1", "kind: Secret", "metadata: {name: s}", "stringData:"]
    lines += [f"  k{i}: v{i}" for i in range(n if shape == "subpath" else 2)]
    lines += ["---", "apiVersion: v1", "kind: ConfigMap", "metadata: {name: c}", "data: {x: '1', y: '2'}", "---",
              "apiVersion: v1", "kind: Pod", "metadata: {name: big}", "spec:", "  securityContext: {fsGroup: 2000}",
              "  containers:", "  - name: app", "    image: busybox", "    volumeMounts:"]
    for i in range(n):
        if shape == "subpath":
            lines.append(f"    - {{name: v0, mountPath: /etc/f{i}, subPath: k{i}}}")
        else:
            path = f"/etc/v{i}" if shape == "flat" else ("/etc/app" if i == 0 else f"/etc/app/v{i}")
            lines.append(f"    - {{name: v{i}, mountPath: {path}}}")
    lines.append("  volumes:")
    for i in range(1 if shape == "subpath" else n):
        if i % 2:
            lines.append(f"  - {{name: v{i}, configMap: {{name: c, items: [{{key: x, path: d/x}}]}}}}")
        else:
            lines.append(f"  - {{name: v{i}, secret: {{secretName: s}}}}")
    return "\n".join(lines) + "\n"


def _layouts(path: Path):
    inputs = load_inputs([str(path)])
    return inputs, build_layouts(inputs, select_workloads(inputs, None))


def _text(path: Path) -> None:
    layout_text(_layouts(path)[1], Painter(False))


def _json(path: Path) -> None:
    dump_json(document(_layouts(path)[1]))


def _k8s_to_docker(path: Path) -> None:
    from parity.docker.composefile import compose_yaml
    from parity.docker.dockersh import docker_script
    from parity.docker.planner import build_plan

    inputs, layouts = _layouts(path)
    plan = build_plan(select_workloads(inputs, None)[0], layouts[0], inputs)
    compose_yaml(plan)
    docker_script(plan)


def _growth(tmp_path: Path, shape: str, run) -> float:
    small, large = tmp_path / "small.yaml", tmp_path / "large.yaml"
    small.write_text(pod_yaml(SMALL, shape))
    large.write_text(pod_yaml(LARGE, shape))
    run(small)  # imports and caches out of the count
    base = count_calls(lambda: run(small))
    try:
        return count_calls(lambda: run(large), budget=base * GROWTH_LIMIT * 1.5) / base
    except _OverBudget:
        return float("inf")


@pytest.mark.parametrize("shape", ["flat", "nested", "subpath"])
@pytest.mark.parametrize("output", [_text, _json, _k8s_to_docker], ids=["text", "json", "k8s-to-docker"])
def test_layout_work_grows_linearly_with_the_number_of_volumes(tmp_path, shape, output):
    growth = _growth(tmp_path, shape, output)
    assert growth <= GROWTH_LIMIT, f"{LARGE / SMALL:.0f}x the volumes cost {growth:.1f}x the calls"


def test_many_volumes_lay_out_as_few_do(tmp_path):
    """The faster paths give what the kubelet's rules give: a nested pod's parent volume holds one
    mountpoint directory per child mount (setgid from fsGroup), each child shows its own files."""
    path = tmp_path / "nested.yaml"
    path.write_text(pod_yaml(4, "nested"))
    (layout,) = _layouts(path)[1]
    c = layout.containers[0]
    shown = c.shown_by()
    parent = next(m for m in c.mounts if m.path == "/etc/app")
    assert [(e.path, oct(e.mode)) for e in shown[parent] if e.type == "dir" and "..1970" not in e.path] == [
        ("/etc/app", "0o3777")]  # the children's mountpoints are hidden by the children themselves
    volume = next(v for v in layout.volumes if v.name == "v0")
    assert [(e.path, oct(e.mode), e.gid) for e in volume.entries if e.path.startswith("v")] == [
        ("v1", "0o2755", 2000), ("v2", "0o2755", 2000), ("v3", "0o2755", 2000)]
    child = next(m for m in c.mounts if m.path == "/etc/app/v1")
    assert [e.path.split("/")[-2:] for e in shown[child] if e.type == "file"] == [["d", "x"]]


PATHS = ["/", "//", "/a", "/a/", "/a//", "/a/b", "/a/b/", "/ab", "/a/b/c", "/b", "/a/./b", "/a/b/c/d", "x", "x/y"]


@pytest.mark.parametrize("seed", range(300))
def test_mount_cover_picks_the_mount_innermost_picks(seed):
    """``MountCover`` (one lookup per path) agrees with ``innermost`` (every mount per path) on
    random mount sets with duplicates, trailing and doubled slashes, the root and relative paths."""
    rng = random.Random(seed)
    mounts = [Mount(rng.choice(PATHS), f"v{i}", True) for i in range(rng.randint(0, 8))]
    cover = MountCover((m.path, (len(m.path), -i)) for i, m in enumerate(mounts))
    for path in PATHS + ["/a/b/c/d/e", "/a/bc", "/c", "", "/a/b//c"]:
        rank = cover.best(path)
        got = mounts[-rank[1]] if rank else None
        assert got is innermost(path, mounts, lambda m: m.path), (path, mounts)


@pytest.mark.parametrize("seed", range(300))
def test_a_mount_nothing_later_holds_shows_all_its_entries(seed):
    """The layout's fast path (``kubelet._container_layout``): when ``MountCover.last_over`` and
    ``_Beneath.later_under`` say no mount applied after a mount holds its path, above it or beneath
    it, every path it places is indeed its own by ``MountCover.best`` (what each entry is checked
    against otherwise); on random mount sets with duplicates, trailing and doubled slashes, ``.``,
    the root and relative paths. And the fast path is taken where nothing else holds the paths."""
    from parity.kube.kubelet import _Beneath

    rng = random.Random(seed)
    mounts = [Mount(rng.choice(PATHS), f"v{i}", True) for i in range(rng.randint(1, 8))]
    order = sorted(mounts, key=lambda m: m.path.count("/"))  # as _container_layout applies them
    cover = MountCover((m.path, (i,)) for i, m in enumerate(order))
    beneath = _Beneath([type("M", (), {"mount_path": m.path})() for m in order])
    for i, m in enumerate(order):
        base = m.path.rstrip("/")
        placed = [m.path] + [f"{base}/{rel}" for rel in ("b", "b/c", "c", "b/c/d/e", "x", "x/y", ".", "..data/f")]
        fast = cover.last_over(m.path, (i,)) and not beneath.later_under(m.path, i)
        if fast:
            assert all(cover.best(p) == (i,) for p in placed), (m.path, [o.path for o in order])
        if len(order) == 1:
            assert fast
