"""The documents say what the code is (issue 16): ``docs/design.md`` names every module of
``parity/``, and nothing cites reference material that a clone of the repository does not have."""

from __future__ import annotations

import re
import subprocess

from .conftest import ROOT

#: Reference material kept beside the repository on the developers' machines, never in it.
OUTSIDE_REFERENCE = "../" + "shared"


def _modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "parity").rglob("*.py") if p.name != "__init__.py")


def test_design_md_names_every_module_of_parity():
    # A row names a module by its path, or by its file name beside another of its folder's
    # (`parity/kube/cluster.py`, `observe.py`).
    design = (ROOT / "docs" / "design.md").read_text()
    named = set(re.findall(r"`parity/([\w/]+\.py)`", design))
    folders = {name.rpartition("/")[0] for name in named}
    short = set(re.findall(r"`(\w+\.py)`", design))
    missing = [m for m in _modules() if m[len("parity/"):] not in named
               and not (m.rpartition("/")[2] in short and m[len("parity/"):].rpartition("/")[0] in folders)]
    assert len(_modules()) >= 50  # the package, not an empty glob
    assert missing == []


def test_nothing_in_the_repository_cites_the_reference_material_outside_it():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    citing = []
    for name in tracked.decode().split("\0"):
        path = ROOT / name
        if not name or name.startswith("tests/fixtures/") or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        citing += [f"{name}:{i}" for i, line in enumerate(text.splitlines(), 1) if OUTSIDE_REFERENCE in line]
    assert citing == []
