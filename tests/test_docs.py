"""The documents say what the code is (issue 16): ``docs/design.md`` names every module of
``parity/``, and nothing cites reference material that a clone of the repository does not have."""

from __future__ import annotations

import re
import subprocess

import pytest

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


def _cells(row: str) -> list[str]:
    """A table row's cells, stripped; a ``|`` inside backticks is text (``mask |= execMask``)."""
    cells, cell, code = [], "", False
    for ch in row.strip()[1:-1]:
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
    return cells + [cell.strip()]


def _rule_rows(doc: str, heading: str) -> list[list[str]]:
    """The rows of the table in the section whose heading starts with ``heading``, as cells."""
    section = doc.split(f"\n{heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [_cells(row) for row in rows[2:]]


def _tests_named(cell: str, default: str | None) -> list[tuple[str | None, str]]:
    """(file, test) of every test a cell names: ``tests/x.py::test_y``, then ``::test_z`` in the same
    file; a bare ``test_z`` is in ``default``."""
    named, current = [], None
    for ref in re.findall(r"`((?:tests/[\w/]+\.py)?(?:::)?test_\w+)`", cell):
        file, sep, test = ref.rpartition("::") if "::" in ref else ("", "", ref)
        current = file or (current if sep else default)
        named.append((current, test))
    return named


@pytest.mark.parametrize("heading, default, at_least", [
    ("## Rules", None, 30),
    ("## Services", "tests/kube/test_services.py", 9),
])
def test_every_kubelet_rule_names_its_tests_and_each_exists(heading, default, at_least):
    doc = (ROOT / "docs" / "kubelet-model.md").read_text()
    catalogue = (ROOT / "tests" / "fixtures" / "bad" / "catalogue.yaml").read_text()
    rows = _rule_rows(doc, heading)
    assert len(rows) >= at_least
    for cells in rows:
        assert len(cells) == 4, f"{cells[0]}: a rule's row has four cells: rule, what, upstream source, test"
        rule, tests = cells[0], cells[3]
        named = _tests_named(tests, default)
        entries = re.findall(r"`([\w.-]+\.yaml)`", tests.partition("catalogue ")[2])
        assert named or entries, f"{rule}: no test named"
        for file, test in named:
            assert file, f"{rule}: {test}: which file?"
            assert re.search(rf"^def {test}\(", (ROOT / file).read_text(), re.M), f"{rule}: {file}::{test} missing"
        for entry in entries:
            assert re.search(rf"^- fixture: \"?(?:\{{gen\}}/)?{re.escape(entry)}\"?$", catalogue, re.M), \
                f"{rule}: catalogue entry {entry} missing"
