"""ContainerLayout's symlink resolution and visible-tree walk, against a plain reference.

The model's versions take shortcuts for speed (relative targets followed from the link's own
directory, symlinks resolved from the real directory holding them); the reference restarts every
lookup from the root, as the first, obviously right, version did. On random trees with relative,
absolute, ``..`` and looping links, both must agree on every path."""

from __future__ import annotations

import posixpath
import random

import pytest

from parity.layout import DIR, FILE, MAX_SYMLINK_HOPS, SYMLINK, ContainerLayout, Entry, Mount, VolumeLayout


def reference_resolve(by_path: dict[str, Entry], path: str, hops: int = 0) -> Entry | None:
    if hops > MAX_SYMLINK_HOPS:
        return None
    parts = [p for p in path.split("/") if p]
    current = "/"
    for i, part in enumerate(parts):
        current = posixpath.join(current, part)
        entry = by_path.get(current)
        if entry is None:
            continue
        if entry.type == SYMLINK:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(current), entry.target or ""))
            rest = "/".join(parts[i + 1:])
            return reference_resolve(by_path, posixpath.join(target, rest) if rest else target, hops + 1)
    return by_path.get(current) if parts else None


def reference_visible(layout: ContainerLayout) -> dict[str, Entry]:
    """Every user-visible path under the mounts, each resolved from the root."""
    by_path = {e.path: e for e in layout.entries}
    children: dict[str, list[Entry]] = {}
    for e in layout.entries:
        children.setdefault(posixpath.dirname(e.path), []).append(e)
    out: dict[str, Entry] = {}
    for mount in sorted(layout.mounts, key=lambda m: m.path):
        stack = [(mount.path, [])]
        while stack:
            path, above = stack.pop()  # above: the directories (real paths) this path lies in
            if path in out:
                continue
            entry = reference_resolve(by_path, path)
            if entry is None:
                continue
            out[path] = entry
            if entry.type == DIR and entry.path not in above:  # a link to an ancestor: not entered
                for child in children.get(entry.path, ()):
                    name = posixpath.basename(child.path)
                    if not name.startswith(".."):
                        stack.append((posixpath.join(path, name), above + [entry.path]))
    return out


NAMES = ["a", "b", "..data", "..2024_01_01_00_00_00.1", "c"]


def random_layout(rng: random.Random) -> ContainerLayout:
    root = "/etc/m"
    dirs = [root]
    entries = [Entry(root, DIR, 0o1777)]
    paths = {root}
    for _ in range(rng.randint(1, 14)):
        parent = rng.choice(dirs)
        path = f"{parent}/{rng.choice(NAMES)}"
        if path in paths:
            continue
        paths.add(path)
        roll = rng.random()
        if roll < 0.3:
            dirs.append(path)
            entries.append(Entry(path, DIR, 0o755))
        elif roll < 0.6:
            entries.append(Entry(path, FILE, 0o644, size=1, sha256="0" * 64))
        else:
            target = rng.choice([
                rng.choice(NAMES), f"..data/{rng.choice(NAMES)}", f"../{rng.choice(NAMES)}",
                f"./{rng.choice(NAMES)}", f"{root}/{rng.choice(NAMES)}", "/etc", "", "a//b", "..", ".",
                posixpath.basename(path),  # a link to itself: a loop
            ])
            entries.append(Entry(path, SYMLINK, 0o777, target=target))
    mounts = [Mount(root, "v", True)]
    if len(dirs) > 1 and rng.random() < 0.3:
        mounts.append(Mount(rng.choice(dirs[1:]), "w", True))
    return ContainerLayout("c", False, mounts, entries)


@pytest.mark.parametrize("seed", range(300))
def test_resolution_and_walk_agree_with_the_reference(seed):
    rng = random.Random(seed)
    layout = random_layout(rng)
    by_path = {e.path: e for e in layout.entries}
    probes = [e.path for e in layout.entries] + [f"{e.path}/{n}" for e in layout.entries for n in NAMES]
    probes += ["/", "/etc", "/etc/m/a/../b", "//etc/m/a"]
    for path in probes:
        assert layout.resolve(path) == reference_resolve(by_path, path), path
    walked = dict(layout._walk_visible())
    assert walked == reference_visible(layout)


def test_a_chain_of_links_longer_than_the_kernel_allows_resolves_to_nothing():
    chain = [Entry(f"/m/l{i}", SYMLINK, 0o777, target=f"l{i + 1}") for i in range(MAX_SYMLINK_HOPS + 1)]
    ok = [Entry(f"/m/k{i}", SYMLINK, 0o777, target=f"k{i + 1}") for i in range(MAX_SYMLINK_HOPS)]
    layout = ContainerLayout("c", False, [Mount("/m", "v", True)], [
        Entry("/m", DIR, 0o755), *chain, *ok,
        Entry(f"/m/l{MAX_SYMLINK_HOPS + 1}", FILE, 0o644, size=0, sha256="0" * 64),
        Entry(f"/m/k{MAX_SYMLINK_HOPS}", FILE, 0o644, size=0, sha256="0" * 64)])
    assert layout.resolve("/m/l0") is None  # 41 links
    assert layout.resolve("/m/k0").path == f"/m/k{MAX_SYMLINK_HOPS}"  # 40 links: allowed
    visible = dict(layout._walk_visible())
    assert "/m/l0" not in visible and "/m/l1" in visible and "/m/k0" in visible


def test_a_directory_link_to_an_ancestor_is_listed_but_not_entered():
    # As `find -L`: /m/d/up/d/up/... would never end. (Such links come from images and running
    # containers, never from the kubelet.)
    layout = ContainerLayout("c", False, [Mount("/m", "v", True)], [
        Entry("/m", DIR, 0o755), Entry("/m/d", DIR, 0o755), Entry("/m/d/up", SYMLINK, 0o777, target=".."),
        Entry("/m/d/self", SYMLINK, 0o777, target="."), Entry("/m/f", FILE, 0o644, size=0, sha256="0" * 64)])
    assert sorted(layout._walk_visible()) == sorted([
        ("/m", layout.entry("/m")), ("/m/d", layout.entry("/m/d")), ("/m/f", layout.entry("/m/f")),
        ("/m/d/up", layout.entry("/m")), ("/m/d/self", layout.entry("/m/d"))])


def test_a_volume_has_its_own_visible_view_relative_to_its_root():
    # The kubelet's structure (``--flat`` keeps only this view): the timestamped directory, ``..data``
    # and the links are internals; the user sees ``key`` and ``dir/inner`` through them.
    ts = "..2024_01_01_00_00_00.1"
    volume = VolumeLayout("v", "secret/s", [
        Entry("", DIR, 0o1777), Entry(ts, DIR, 0o755), Entry(f"{ts}/key", FILE, 0o644, size=1, sha256="1" * 64),
        Entry(f"{ts}/dir", DIR, 0o755), Entry(f"{ts}/dir/inner", FILE, 0o600, size=1, sha256="2" * 64),
        Entry("..data", SYMLINK, 0o777, target=ts), Entry("key", SYMLINK, 0o777, target="..data/key"),
        Entry("dir", SYMLINK, 0o777, target="..data/dir")])
    assert [(p, e.path) for p, e in volume.visible()] == [
        ("", ""), ("dir", f"{ts}/dir"), ("dir/inner", f"{ts}/dir/inner"), ("key", f"{ts}/key")]
