"""``parity layout --format json`` writes its document directly (``layout.document_text``, issue 17):
the bytes must be those of ``dump_json(document(...))``, i.e. of ``json.dumps(..., indent=2)``, on
every input: the bundled examples, every fixture that loads, and generated layouts with the shapes
and strings a real tree may hold (symlinks, volatile files, unknown sizes, non-ASCII and control
characters in names, empty containers and workloads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parity.errors import ParityError
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads
from parity.kube.yamlload import WrittenInt
from parity.layout import DIR, FILE, SYMLINK, ContainerLayout, Entry, Mount, WorkloadLayout, document, \
    document_text, from_document
from parity.output import dump_json

from .conftest import ROOT, run_parity


def _inputs() -> list[Path]:
    """The examples and every fixture directory holding manifests, each read whole (those that fail
    to load are skipped)."""
    fixtures = ROOT / "tests" / "fixtures"
    found = sorted(p for p in (ROOT / "manifests").iterdir() if p.is_dir())
    return found + sorted({p.parent for p in fixtures.rglob("*.y*ml") if p.relative_to(fixtures).parts[0] != "bad"})


def test_the_written_text_is_dump_json_of_the_document_on_every_example_and_fixture():
    """Also against the json module itself (``dump_json`` is hand-written too): the same bytes as
    ``json.dumps(document, indent=2)``, and ``json.loads`` of them gives the document back."""
    compared = 0
    for path in _inputs():
        try:
            inputs = load_inputs([str(path)])
            layouts = build_layouts(inputs, select_workloads(inputs, None))
        except ParityError:
            continue
        text, doc = document_text(layouts), document(layouts)
        assert text == dump_json(doc), path
        assert text == json.dumps(doc, indent=2) + "\n", path
        assert json.loads(text) == doc, path
        compared += 1
    assert compared >= 25  # the examples and the fixture directories, not a vacuous loop


def test_the_cli_prints_the_document_its_reader_reads_back(tmp_path):
    """What the command prints is that text, and ``from_document`` gives back the same layouts."""
    example = ROOT / "manifests" / "api-gateway"
    result = run_parity("layout", "--format", "json", str(example))
    assert result.returncode == 0, result.stderr.decode()
    inputs = load_inputs([str(example)])
    layouts = build_layouts(inputs, select_workloads(inputs, None))
    assert result.stdout.decode() == dump_json(document(layouts))
    assert from_document(json.loads(result.stdout)) == layouts


# Names a real tree may hold: quotes, backslashes, newlines, escape characters, non-ASCII, astral.
_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1, max_size=6) | \
    st.sampled_from(["..data", "..2024_01_01_00_00_00.1", 'a"b', "a\\b", "\x1b[31m", "é", "\U0001f600"])
_PATH = st.lists(_NAME, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
_INT = st.integers(0, 2 ** 31) | st.integers(0, 70000).map(lambda n: WrittenInt(n, str(n)))
_TEXT = st.none() | st.text(max_size=8)


@st.composite
def _entry(draw) -> Entry:
    kind = draw(st.sampled_from([FILE, DIR, SYMLINK]))
    return Entry(draw(_PATH), kind, draw(st.integers(0, 0o7777)), draw(_INT), draw(_INT),
                 draw(st.none() | _INT), draw(st.none() | st.text("0123456789abcdef", min_size=64, max_size=64)),
                 draw(_TEXT | _PATH), draw(_TEXT))


_MOUNT = st.builds(Mount, _PATH, st.text(max_size=6), st.booleans(), st.none() | st.text(max_size=6),
                   st.text(max_size=12))
_CONTAINER = st.builds(lambda name, init, mounts, entries: ContainerLayout(name, init, mounts, entries),
                       st.text(max_size=6), st.booleans(), st.lists(_MOUNT, max_size=3), st.lists(_entry(), max_size=12))
_WORKLOAD = st.builds(WorkloadLayout, st.sampled_from(["Pod", "Deployment", "Jöb"]), st.text(max_size=6),
                      st.text(max_size=6), st.lists(_CONTAINER, max_size=3),
                      run=st.sampled_from(["service", "once", "on-demand"]), notes=st.lists(st.text(max_size=8), max_size=2))
_LEFT_OUT = st.lists(st.fixed_dictionaries({"kind": st.text(max_size=5), "name": st.text(max_size=5),
                                            "namespace": st.text(max_size=5), "helm_hook": st.text(max_size=9)}),
                     max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORKLOAD, max_size=3), _LEFT_OUT)
def test_the_written_text_is_json_dumps_of_the_document_on_generated_layouts(layouts, left_out):
    assert document_text(layouts, left_out) == json.dumps(document(layouts, left_out), indent=2) + "\n"


@pytest.mark.parametrize("shape", ["no workload", "a workload without containers", "a container without mounts"])
def test_empty_lists_are_written_as_json_dumps_writes_them(shape):
    layouts = {"no workload": [],
               "a workload without containers": [WorkloadLayout("Pod", "p", "default", [])],
               "a container without mounts": [WorkloadLayout("Pod", "p", "default",
                                                             [ContainerLayout("c", False, [], [])])]}[shape]
    assert document_text(layouts) == json.dumps(document(layouts), indent=2) + "\n"
