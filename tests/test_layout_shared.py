"""Containers made of shared subtrees (``ContainerLayout.placed``, issue 17) are the containers the
re-rooted copies made: same entries, same user-visible view, same JSON, same text.

The fast path is a second way to the same layout; each test builds both and compares them, on
random inputs, so that a divergence in any field, path or order fails."""

from __future__ import annotations

import random

import pytest

from parity.kube import kubelet
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.layout import (DIR, FILE, MAX_SYMLINK_HOPS, SYMLINK, ContainerLayout, Entry, Mount, Subtree, WorkloadLayout,
                           _contained_view, _walked_view, document_text)
from parity.output import Painter
from parity.render import layout_text

#: Mount points none of which starts with another (``ContainerLayout.placed``'s precondition).
APART = ["/a", "/b/c", "/d/e", "/f", "/g/h/i"]
NAMES = ["", "/x", "/x/y", "/..d", "/..d/y", "/..d/x", "/z", "/z/w", "/sp ace", "/é"]
TARGETS = ["y", "..d", "..d/y", "x/y", "z", "loop", "x", "..d/x/y", "missing/y", "f",  # plain
           # ("f" from a mount point that is a link: the mount at /f)
           "../x", "/a/x", "/b/c/z", "", ".", "x/../z", "./y", "x//y"]  # not contained


def _random_subtree(rng: random.Random) -> list[Entry]:
    entries = []
    for name in rng.sample(NAMES, rng.randint(0, len(NAMES))):
        kind = rng.choice([FILE, DIR, DIR, SYMLINK]) if name else rng.choice([DIR, DIR, DIR, FILE, SYMLINK])
        if kind == FILE:
            entries.append(Entry(name, FILE, rng.choice([0o400, 0o644]), rng.choice([0, 1000]), 0, rng.randint(0, 9),
                                 rng.choice(["ab" * 32, "cd" * 32]), volatile=rng.choice([None, "why"])))
        elif kind == DIR:
            entries.append(Entry(name, DIR, rng.choice([0o755, 0o1777, 0o2755]), 0, rng.choice([0, 2000])))
        else:
            entries.append(Entry(name, SYMLINK, 0o777, 0, 0, target=rng.choice(TARGETS)))
    return entries


def _both(rng: random.Random) -> tuple[ContainerLayout, ContainerLayout]:
    """One container two ways: shared subtrees, and the same entries re-rooted into a list."""
    points = rng.sample(APART, rng.randint(0, len(APART)))
    segments = [(where, Subtree(_random_subtree(rng))) for where in points]
    # The model's mounts: some of the subtrees' mount points (not all are shown: a claim's is
    # not a subtree, an unreproduced volume's subtree is not a model mount), in any order.
    shown = [p for p in APART if rng.random() < 0.7]
    rng.shuffle(shown)
    mounts = [Mount(p, f"v{i}", True, None, "secret/s", "secret") for i, p in enumerate(shown)]
    plain = ContainerLayout("c", False, list(mounts),
                            [e.moved(where + e.path) for where, tree in segments for e in tree.entries])
    return ContainerLayout.placed("c", False, list(mounts), segments), plain


@pytest.mark.parametrize("seed", range(400))
def test_a_container_of_shared_subtrees_is_the_container_of_copies(seed):
    """Entries, the user-visible view, path lookups and the JSON document agree, on random subtrees
    with files, directories and symlinks (relative, absolute, ``..``, ``.``, empty, loops, to
    missing paths) under random mount points, some of them not model mounts."""
    rng = random.Random(seed)
    shared, plain = _both(rng)
    assert shared.visible() == plain.visible()  # before entries are made: from the subtrees
    assert document_text([WorkloadLayout("Pod", "p", "ns", [shared])]) == \
        document_text([WorkloadLayout("Pod", "p", "ns", [plain])])
    for path in ["/a", "/a/x/y", "/b/c/z", "/d/e/..d/y", "/f/loop", "/g/h/i/x", "/nowhere"]:
        assert shared.resolve(path) == plain.resolve(path)
        assert shared.entry(path) == plain.entry(path)
    assert shared == plain
    assert shared.entries == plain.entries


#: Paths of every shape a subtree could be given: the kubelet's ("/a/b"), and others its fast walk
#: leaves to the walk through a layout (relative, doubled or trailing slashes, "/" itself).
ODD_NAMES = NAMES + ["/x//y", "//x", "/x/", "/", "x", "/x/..y", "/x/..y/z", "/.x", "/z/w/v"]
PLAIN_TARGETS = ["y", "..d", "..d/y", "x/y", "z", "loop", "x", "..d/x/y", "missing/y", "z/w", ".x", "x/..y"]


def _chain(rng: random.Random) -> list[Entry]:
    """Links /c0 -> c1 -> ... -> /cN -> z (plain names), N around the most a walk follows."""
    n = rng.choice([MAX_SYMLINK_HOPS - 2, MAX_SYMLINK_HOPS - 1, MAX_SYMLINK_HOPS, MAX_SYMLINK_HOPS + 1])
    return [Entry(f"/c{i}", SYMLINK, 0o777, target=f"c{i + 1}" if i < n else "z") for i in range(n + 1)]


@pytest.mark.parametrize("seed", range(400))
def test_a_contained_subtree_is_walked_as_through_its_layout(seed):
    """``Subtree.visible`` walks a contained subtree by itself (``_contained_view``): the view is
    the one the walk through a layout gives (``_walked_view``), on random subtrees of files,
    directories, plain-named links (loops, to missing paths, chains around the hop limit) and
    paths of any shape; it declines only paths not of the kubelet's shape."""
    rng = random.Random(seed)
    entries = []
    for name in rng.sample(ODD_NAMES, rng.randint(1, len(ODD_NAMES))):
        kind = rng.choice([FILE, DIR, DIR, SYMLINK]) if name else DIR
        if kind == FILE:
            entries.append(Entry(name, FILE, 0o644, 0, 0, rng.randint(0, 9), "ab" * 32))
        elif kind == DIR:
            entries.append(Entry(name, DIR, rng.choice([0o755, 0o2755]), 0, rng.choice([0, 2000])))
        else:
            entries.append(Entry(name, SYMLINK, 0o777, 0, 0, target=rng.choice(PLAIN_TARGETS)))
    if rng.random() < 0.5:
        entries += _chain(rng)
    entries.sort(key=lambda e: e.path)
    if entries[0].path != "" or entries[0].type == SYMLINK:
        entries.insert(0, Entry("", DIR, 0o755))
    tree = Subtree(list(entries))
    assert tree.contained
    walked = _walked_view(tree.entries)
    fast = _contained_view(tree.entries)
    kubelet_shaped = all(e.path.startswith("/") and not e.path.endswith("/") and "//" not in e.path
                         for e in tree.entries[1:]) and "/" not in {e.path for e in tree.entries}
    assert fast == walked if kubelet_shaped else fast in (None, walked)
    assert tree.visible() == walked


def test_a_chain_of_links_longer_than_the_hop_limit_is_not_listed():
    """As stat(2) fails with ELOOP past 40 links: the start of a 41-link chain is not listed."""
    tree = Subtree([Entry("", DIR, 0o755), Entry("/z", FILE, 0o644, size=1, sha256="ab" * 32)]
                   + [Entry(f"/c{i}", SYMLINK, 0o777, target=f"c{i + 1}" if i < MAX_SYMLINK_HOPS else "z")
                      for i in range(MAX_SYMLINK_HOPS + 1)])
    listed = [p for p, _ in tree.visible()]
    assert "/c0" not in listed and "/c1" in listed and "/z" in listed
    assert tree.visible() == _walked_view(tree.entries)


def test_a_subtree_a_walk_could_leave_is_walked_in_its_container():
    """A symlink whose target leaves its subtree (absolute, ``..``) makes the container walk
    itself whole: what it reaches is in another mount, not in the subtree."""
    out = Subtree([Entry("", DIR, 0o755), Entry("/l", SYMLINK, 0o777, target="/b/f")])
    other = Subtree([Entry("", DIR, 0o755), Entry("/f", FILE, 0o644, size=1, sha256="ab" * 32)])
    mounts = [Mount("/a", "v0", True), Mount("/b", "v1", True)]
    layout = ContainerLayout.placed("c", False, mounts, [("/a", out), ("/b", other)])
    assert not out.contained and layout.shared_segments() is None
    assert [(p, e.path) for p, e in layout.visible() if e.type == FILE] == [("/a/l", "/b/f"), ("/b/f", "/b/f")]


def test_a_subtree_whose_mount_point_is_a_link_is_walked_in_its_container():
    """A subtree that is itself a symlink resolves from the mount point's parent, outside it (here
    into the mount at /f): not ``contained`` either, even with a plain relative target."""
    link = Subtree([Entry("", SYMLINK, 0o777, target="f")])
    other = Subtree([Entry("", DIR, 0o755), Entry("/x", FILE, 0o644, size=1, sha256="ab" * 32)])
    mounts = [Mount("/a", "v0", True), Mount("/f", "v1", True)]
    layout = ContainerLayout.placed("c", False, mounts, [("/a", link), ("/f", other)])
    assert not link.contained and layout.shared_segments() is None
    assert [p for p, e in layout.visible() if e.type == FILE] == ["/a/x", "/f/x"]


# ---------------------------------------------------------------------------------------------
# Through the kubelet's model: pods of random mounts


MOUNT_PATHS = ["/etc/app", "/etc/app/sub", "/etc/app-x", "/etc", "/srv/data/", "/srv/data/in", "/var/x/./y", "/tmp",
               "/etc/app/..data", "/root/.netrc", "/opt/k"]
SUB_PATHS = [None, None, None, "a", "b/c", "missing", "missing/deeper", "..data/a", "."]
VOLUMES = {
    "s": "secret: {secretName: s, items: [{key: k1, path: a}, {key: k2, path: b/c}, {key: k3, path: b/d/e}]}",
    "all": "secret: {secretName: s}",
    "cm": "configMap: {name: cm, items: [{key: conf, path: a, mode: 0600}]}",
    "p": "projected: {sources: [{secret: {name: s, items: [{key: k1, path: x/y}]}}, {configMap: {name: cm}}]}",
    "d": "downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}",
    "e": "emptyDir: {}",
    "claim": "persistentVolumeClaim: {claimName: c}",
}


def _pod(rng: random.Random, i: int) -> str:
    containers = []
    for c in range(rng.randint(1, 3)):
        mounts = []
        for path in rng.sample(MOUNT_PATHS, rng.randint(0, 5)):
            sub = rng.choice(SUB_PATHS)
            mounts.append(f"{{name: {rng.choice(sorted(VOLUMES))}, mountPath: '{path}'"
                          + (f", subPath: '{sub}'" if sub else "") + "}")
        containers.append(f"  - name: c{c}\n    image: busybox\n    volumeMounts: [{', '.join(mounts)}]")
    volumes = "\n".join(f"  - name: {name}\n    {source}" for name, source in VOLUMES.items())
    return (f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, labels: {{app: x}}}}\nspec:\n"
            f"  securityContext: {{fsGroup: {rng.choice([1000, 2000])}}}\n"
            f"  automountServiceAccountToken: {rng.choice(['true', 'false'])}\n"
            f"  containers:\n" + "\n".join(containers) + f"\n  volumes:\n{volumes}\n")


SECRETS = ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k1: one, k2: two, k3: three}\n---\n"
           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {conf: c, other: o}\n---\n")


@pytest.mark.parametrize("seed", range(60))
def test_the_kubelets_shared_layouts_are_its_copied_ones(seed, tmp_path, monkeypatch):
    """``kubelet._container_layout`` makes a container of shared subtrees when its mount paths are
    apart (``_apart``): the layouts, their JSON and their text are those of the per-entry path
    (``_apart`` answering no), on random pods mixing nested, equal, trailing-slash, ``.``-holding
    and prefix-sharing mount paths, subPaths (missing, through the ``..data`` link, ``..``), and
    writable volumes."""
    rng = random.Random(seed)
    path = tmp_path / "pods.yaml"
    path.write_text(SECRETS + "---\n".join(_pod(rng, i) for i in range(8)))
    inputs = load_inputs([str(path)])
    shared = build_layouts(inputs, select_workloads(inputs, None))
    monkeypatch.setattr(kubelet, "_apart", lambda paths: False)
    copied = build_layouts(inputs, select_workloads(inputs, None))
    made = [c.shared_segments() is not None for w in shared for c in w.containers]
    assert not any(c.shared_segments() is not None for w in copied for c in w.containers)
    assert document_text(shared) == document_text(copied)
    painter = Painter(False)
    assert layout_text(shared, painter) == layout_text(copied, painter)
    assert shared == copied
    if seed == 0:
        assert any(made) and not all(made)  # both paths taken in this input


def test_containers_whose_mounts_are_apart_share_their_subtrees(tmp_path):
    """Three containers mounting the same volumes at their own paths share one subtree per volume
    (and subPath), and one walk of it, instead of a re-rooted copy of its entries each."""
    path = tmp_path / "pod.yaml"
    mounts = "[{name: s, mountPath: /etc/%s}, {name: s, mountPath: /root/.netrc, subPath: b/c}]"
    path.write_text(SECRETS + "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                    + "".join(f"  - {{name: {n}, image: busybox, volumeMounts: {mounts % n}}}\n" for n in ("x1", "x2", "x3"))
                    + "  volumes:\n  - {name: s, " + VOLUMES["s"] + "}\n")
    inputs = load_inputs([str(path)])
    [layout] = build_layouts(inputs, select_workloads(inputs, None))
    trees = [[id(tree) for _, tree in c.shared_segments()] for c in layout.containers]
    assert len(trees) == 3 and trees[0] == trees[1] == trees[2] and len(set(trees[0])) == 3  # + the token volume
    x = layout.container("x1")
    assert [p for p, e in x.visible() if e.type == FILE] == [
        "/etc/x1/a", "/etc/x1/b/c", "/etc/x1/b/d/e", "/root/.netrc",
        "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
        "/var/run/secrets/kubernetes.io/serviceaccount/token"]
