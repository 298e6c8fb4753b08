"""Bad input, through the real CLI: exit 2, one exact line per problem, no traceback, nothing written.

Every entry of tests/fixtures/bad/catalogue.yaml runs through ``layout``, ``k8s-to-docker -o DIR``,
``diff --compose`` and (live) ``up``. Each run happens in an empty working directory inside
``tmp_path`` with ``TMPDIR`` and ``PARITY_STATE_DIR`` there too, so "nothing written" is checked as
"nothing new anywhere under tmp_path"; for ``up`` also as "no io.parity.* container, volume or image
appeared in the engine".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .badinputs import (BAD, catalogue, command_line, commands_of, entry_id, expand, expected_stderr,
                        make_generated, stdin_of)
from .conftest import ROOT, labelled_objects, remove_labelled, run_parity, unique_name

CATALOGUE = catalogue()
STATIC_CASES = [pytest.param(e, c, id=f"{entry_id(e)}-{c}") for e in CATALOGUE for c in commands_of(e) if c != "up"]
UP_CASES = [pytest.param(e, id=entry_id(e)) for e in CATALOGUE if "up" in commands_of(e)]
LINE = re.compile(r"^parity: (?P<file>[^:]+|<stdin>): (?P<rest>.+)$")


@pytest.fixture(scope="session")
def gen(tmp_path_factory) -> Path:
    """Generated fixtures (over 1 MiB), made once, outside every test's tmp_path."""
    path = tmp_path_factory.mktemp("bad-generated")
    make_generated(path)
    return path


def tree(root: Path) -> list[str]:
    """Every path under root (hidden ones included), relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working directory and an environment whose temporary and state directories are in
    tmp_path, so that anything parity writes anywhere it might shows up there."""
    (tmp_path / "cwd").mkdir()
    (tmp_path / "tmp").mkdir()
    return tmp_path / "cwd", {"TMPDIR": str(tmp_path / "tmp"), "PARITY_STATE_DIR": str(tmp_path / "state")}


def run_entry(entry: dict, command: str, tmp_path: Path, gen: Path, project: str | None = None):
    """Run one catalogue entry's ``command`` in a sandbox (``project``: ``-p`` for ``up``, a name of
    the run's own). Returns the result, the tree of tmp_path before, and the ``-o`` directory."""
    cwd, env = sandbox(tmp_path)
    before = tree(tmp_path)
    out = tmp_path / "out" / "deep" / "setup"  # parents that do not exist yet: none may be left
    command, *args = command_line(entry, command, gen, out)
    own = ["-p", project] if project else []
    result = run_parity(command, *own, *args, input=stdin_of(entry), cwd=cwd, env=env)
    return result, before, out


def test_catalogue_is_complete():
    """At least 30 bad inputs, each with a fixture that exists (or is generated) and an exact message;
    the committed fixtures are all in the catalogue."""
    assert len(CATALOGUE) >= 30
    named = set()
    for entry in CATALOGUE:
        assert entry["stderr"] and entry["about"], entry
        fixture = entry["fixture"]
        if not fixture.startswith("{gen}") and fixture != "does-not-exist.yaml":
            assert (BAD / fixture).exists(), fixture
        named.add(fixture.split("/")[0])
    committed = {p.name for p in BAD.iterdir()} - {"catalogue.yaml", "support", "warn-mode-400-decimal.yaml"}
    assert committed <= named, committed - named


@pytest.mark.parametrize("entry, command", STATIC_CASES)
def test_bad_input_is_one_line_per_problem_exit_2_and_nothing_written(entry, command, tmp_path, gen):
    """Exit 2, exactly the catalogued lines (parity: FILE: OBJECT: FIELD: message), nothing on
    stdout, no traceback, and nothing new under tmp_path: no output directory, no temporary
    directory, no state, no parent directory of -o."""
    result, before, out = run_entry(entry, command, tmp_path, gen)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    assert (result.returncode, stderr) == (2, expected_stderr(entry, gen))
    assert result.stdout == b""
    for line in stderr.splitlines():
        assert LINE.match(line), line
    assert not out.exists() and not (tmp_path / "out").exists()
    assert tree(tmp_path) == before


def test_every_problem_line_names_its_file_and_where_it_applies_the_object_and_field():
    """The catalogue's messages themselves follow the format: a file always; an object (KIND/NAME)
    and a field whenever the problem is inside an object."""
    for entry in CATALOGUE:
        for line in entry["stderr"]:
            m = LINE.match(line)
            assert m, line
            parts = m.group("rest").split(": ")
            if re.fullmatch(r"(<no kind>|[A-Z][A-Za-z]+)/[-a-z0-9?]+", parts[0]):
                assert len(parts) >= 3, f"object without field: {line}"


def parity_objects(client) -> dict[str, dict[str, dict]]:
    """Every container, volume and image carrying an io.parity.* label: {kind: {id: labels}}.
    (Lists only: a sparse container listing and the images' list request, no per-object inspect that
    another engine user's removal could race: ImageCollection.list inspects each image it lists.)"""
    label = {"label": "io.parity.workload"}
    return {
        "containers": {c.id: c.attrs.get("Labels") or {}
                       for c in client.containers.list(all=True, filters=label, sparse=True)},
        "volumes": {v.id: v.attrs.get("Labels") or {} for v in client.volumes.list(filters=label)},
        "images": {i["Id"]: i.get("Labels") or {} for i in client.api.images(filters=label)},
    }


#: The projects of this test's ``up`` runs (``unique_name``): another run of it, in parallel, uses its own.
UP_PROJECT = "parity-test-bad"


def new_objects_for(before: dict, after: dict, workloads: set[str]) -> list[str]:
    """Objects that appeared between two listings and belong to one of ``workloads`` (other test
    sessions may share the engine: their objects are not this test's, nor are those of another run
    of this test, in its own ``UP_PROJECT-*`` project)."""
    out = []
    for kind, objects in after.items():
        for oid, labels in objects.items():
            theirs = labels.get("io.parity.project", "").startswith(UP_PROJECT + "-")
            if oid not in before[kind] and labels.get("io.parity.workload", "").split("/")[-1] in workloads \
                    and not theirs:
                out.append(f"{kind} {oid[:12]} {labels.get('io.parity.workload')}")
    return out


def fixture_workload_names() -> set[str]:
    names = set()
    for path in BAD.rglob("*.yaml"):
        names.update(re.findall(r"name: (bad-[a-z0-9-]+)", path.read_text(errors="replace")))
    return names


@pytest.fixture
def up_project(docker_client):
    """A project of this test's own for ``up -p``; afterwards whatever carries its label (what a bad
    run made despite the test) is removed, and nothing else."""
    project = unique_name(UP_PROJECT)
    yield project
    remove_labelled(docker_client, f"io.parity.project={project}")


@pytest.mark.live
@pytest.mark.parametrize("entry", UP_CASES)
def test_bad_input_to_up_creates_nothing_in_the_engine(entry, tmp_path, gen, up_project, docker_client):
    """``parity up -p PROJECT`` (a project of this run's own) with bad input: the same one line per
    problem and exit 2, no state directory, nothing in the engine labelled with PROJECT, and the
    engine's io.parity.* containers, volumes and images of the fixtures' workloads are the same
    before and after."""
    engine_before = parity_objects(docker_client)
    result, before, _ = run_entry(entry, "up", tmp_path, gen, up_project)
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    assert (result.returncode, stderr) == (2, expected_stderr(entry, gen))
    assert tree(tmp_path) == before
    assert not (tmp_path / "state").exists()
    assert new_objects_for(engine_before, parity_objects(docker_client), fixture_workload_names()) == []
    assert labelled_objects(docker_client, f"io.parity.project={up_project}") == {
        "containers": [], "volumes": [], "images": [], "networks": []}


def test_decimal_400_is_accepted_with_one_warning_line(tmp_path):
    """``defaultMode: 400`` (decimal, i.e. 0620) is what kubectl accepts: exit 0, the layout on
    stdout, and one warning line on stderr that says how to write the octal mode."""
    fixture = BAD / "warn-mode-400-decimal.yaml"
    result = run_parity("layout", str(fixture), cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.decode() == (f"parity: warning: {fixture}: Pod/warn-mode-400: "
                                      "spec.volumes[0].secret.defaultMode: 400 is decimal, i.e. 0620; "
                                      "write 0400 if octal was meant\n")
    assert "-rw--w----  0:0              21" in result.stdout.decode()  # 0620, the decimal 400
    generated = run_parity("k8s-to-docker", str(fixture), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert generated.returncode == 0
    assert generated.stderr.decode().count("\n") == 1 and "parity: warning: " in generated.stderr.decode()


def test_placeholders_cover_every_path_in_the_catalogue(gen):
    """No catalogue line names a machine-specific path: everything goes through {dir}, {gen}, {root}."""
    text = (BAD / "catalogue.yaml").read_text()
    assert str(ROOT) not in text and "/tmp/" not in text
    assert expand("{dir}|{gen}|{root}", gen) == f"{BAD}|{gen}|{ROOT}"
