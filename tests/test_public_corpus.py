"""The public corpus (``tests/fixtures/public/``): vendor install manifests and rendered charts kept
unchanged, each with its ``SOURCE.md`` (repository, commit, licence, sha256 of every file), and, apart
from them, made-up Secrets for the ones a controller would create (``parity-made-up-secrets.yaml``).

For every workload of every entry: ``layout`` succeeds, ``k8s-to-docker`` writes a setup, and the
static ``diff`` of that setup against the same manifests is equal. The whole entry is read as one
input (``layout DIR``), as a user feeds ``helm template`` or an ``install.yaml``: one document that
kubectl accepts never fails the stream. Runs in-process (the functions the commands call, one parse
per entry); ``test_the_real_cli_on_a_sample`` runs the console entry point on a few workloads.

``test_each_entry_as_a_whole_app_through_the_cli`` runs the console entry point on each whole entry,
without ``--workload`` (issue 12: every workload of the input in one compose project). Size of the
corpus, counted for it: 45 entries, 954 YAML documents (23 of them made-up Secrets/ConfigMaps), 120
workloads over 25 namespaces, 338 compose services (173 workload containers, init and sidecar ones
included, 120 pod sandboxes and 45 parity data services, one per entry). The eight entries of the
sixth session's sweep (cert-manager, contour, kourier, gatekeeper, longhorn, strimzi, descheduler,
kube-thanos) add 17 s to this file's run (measured at load 3.4); the seven of the seventh session's
(calico, secrets-store-csi-driver, falco, spire, nginx-gateway-fabric, rook-ceph, cloudnative-pg)
add 14 s (measured at load 6); the four of the eighth session's (argo-rollouts, keda,
node-problem-detector, csi-driver-nfs) add 4.4 s (measured at load 1.7).

Cases that fail today because of a known bug carry ``xfail(strict=True)`` naming it (``KNOWN``): the
fix's landing turns them into XPASS failures, so it must remove the marker.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

import pytest
import yaml
from click.testing import CliRunner

from parity.cli import main
from parity.diff import Expected, static_diff
from parity.docker.compose import load_compose
from parity.docker.generate import generate
from parity.docker.plan import group_notes
from parity.docker.planner import build_app_plan, build_plan
from parity.errors import ParityError
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import TEMPLATE_PATHS, load_inputs
from parity.kube.selection import select_workloads
from parity.layout import document, from_document
from parity.output import Painter
from parity.render import layout_text

from .conftest import ROOT, run_parity

CORPUS = ROOT / "tests" / "fixtures" / "public"
MADE_UP = "parity-made-up-secrets.yaml"
ENTRIES = sorted(p.name for p in CORPUS.iterdir() if (p / "SOURCE.md").is_file())

#: (entry, "KIND/NAME" or "*" for every workload of the entry) -> the known bug it fails on today.
#: "*" also marks the whole-input test of the entry.
KNOWN: dict[tuple[str, str], str] = {}

_WORKLOAD_KIND = re.compile(r"kind: *[\"']?(?:%s)[\"']?[ \t]*$" % "|".join(TEMPLATE_PATHS), re.M)
_DOCUMENT_START = re.compile(r"^---", re.M)


def _corpus_workloads() -> list[tuple[str, str, str]]:
    """(entry, namespace, KIND/NAME) of every workload, read without parity (which some entries
    fail today): a plain-string YAML reading of the documents that name a workload kind."""
    out = []
    for entry in ENTRIES:
        for f in sorted((CORPUS / entry).rglob("*")):
            if f.suffix not in (".yaml", ".yml", ".json") or f.name == MADE_UP:
                continue
            for chunk in _DOCUMENT_START.split(f.read_text()):
                if not _WORKLOAD_KIND.search(chunk):  # (cheap: skips the CRDs and dashboards)
                    continue
                for doc in yaml.load_all(chunk, Loader=yaml.CBaseLoader):
                    for obj in doc.get("items", []) if doc and doc.get("kind", "").endswith("List") else [doc]:
                        if obj and obj.get("kind") in TEMPLATE_PATHS:
                            meta = obj.get("metadata") or {}
                            out.append((entry, meta.get("namespace") or "default", f"{obj['kind']}/{meta['name']}"))
    return out


WORKLOADS = _corpus_workloads()


def _marked(entry: str, ref: str):
    reason = KNOWN.get((entry, ref)) or KNOWN.get((entry, "*"))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@functools.lru_cache(maxsize=None)
def _inputs(entry: str):
    """The whole entry read once, as ``parity layout DIR`` reads it (or the error it gives)."""
    try:
        return load_inputs([str(CORPUS / entry)])
    except ParityError as exc:
        return exc


def _documents(entry: str) -> int:
    """The YAML documents of an entry that hold an object (made-up Secrets included: the commands read them)."""
    return sum(1 for f in sorted((CORPUS / entry).rglob("*")) if f.suffix in (".yaml", ".yml", ".json")
               for doc in yaml.load_all(f.read_text(), Loader=yaml.CBaseLoader) if doc)


def test_the_corpus_is_large_and_varied_enough():
    """At least 15 public installs, each with its source; the shapes the issues name are all there."""
    assert len(ENTRIES) >= 15
    # The counts the module docstring records (adding an entry updates them there).
    assert (len(ENTRIES), sum(_documents(e) for e in ENTRIES), len(WORKLOADS)) == (45, 954, 120)
    kinds = {ref.split("/")[0] for _, _, ref in WORKLOADS}
    assert {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} <= kinds
    assert len({ns for _, ns, _ in WORKLOADS}) >= 10
    text = "".join(f.read_text() for f in CORPUS.rglob("*.y*ml") if f.name != MADE_UP)
    for shape in ("volumeClaimTemplates:", "kind: ConfigMapList", "projected:", "subPath:", "initContainers:",
                  "restartPolicy: Always", "secretKeyRef:", "downwardAPI:", "kind: CustomResourceDefinition",
                  "mountPropagation: Bidirectional", "audience: spire-server", "imagePullPolicy: Always"):
        assert shape in text, shape


@pytest.mark.parametrize("entry", ENTRIES)
def test_each_entry_is_the_upstream_text_with_its_source(entry):
    """SOURCE.md names the repository, the commit and the licence, and every file but the made-up
    Secrets is byte for byte what it says (its sha256); the made-up file says it is made up."""
    source = (CORPUS / entry / "SOURCE.md").read_text()
    assert re.search(r"^- Repository: https://github\.com/[\w.-]+/[\w.-]+$", source, re.M)
    assert re.search(r"^- Commit: `[0-9a-f]{40}`$", source, re.M)
    assert re.search(r"^- Licence: .+ \(upstream file `[^`]+`", source, re.M)
    listed = dict(re.findall(r"^\| `([^`]+)` \| `[^`]+` \| \d+ \| `([0-9a-f]{64})` \|$", source, re.M))
    present = {str(f.relative_to(CORPUS / entry)) for f in (CORPUS / entry).rglob("*")
               if f.is_file() and f.name not in ("SOURCE.md", MADE_UP)}
    assert set(listed) == present
    for name, digest in listed.items():
        assert hashlib.sha256((CORPUS / entry / name).read_bytes()).hexdigest() == digest, name
    made_up = CORPUS / entry / MADE_UP
    if made_up.exists():
        assert made_up.read_text().startswith("# MADE UP for parity's tests: NOT upstream text")


@pytest.mark.parametrize("entry", [pytest.param(e, marks=_marked(e, "*")) for e in ENTRIES])
def test_layout_reads_each_entry_as_one_input(entry):
    """``parity layout DIR`` over the whole entry exits 0 and shows every workload it holds."""
    result = CliRunner().invoke(main, ["layout", "--format", "json", str(CORPUS / entry)])
    assert result.exit_code == 0, result.stderr
    shown = sorted(w.ref for w in from_document(json.loads(result.stdout)))
    assert shown == sorted(ref for e, _, ref in WORKLOADS if e == entry)


_GROUPED = re.compile(r"^(?P<names>[^ :]+(?:, [^ :]+)+) \((?P<n>\d+) (?:containers|workloads|of them)\): (?P<text>.*)$", re.S)


def _said(notes: list[str]) -> set[tuple[str, str]]:
    """(subject, text) of each note, a grouped note read back into one pair per subject it names."""
    pairs = set()
    for note in notes:
        m = _GROUPED.match(note)
        if m:
            names = m["names"].split(", ")
            assert len(names) == int(m["n"]), note
            pairs |= {(name, m["text"]) for name in names}
        else:
            pairs.add(tuple(note.split(": ", 1)) if ": " in note else ("", note))
    return pairs


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_whole_apps_notes_say_each_text_once_and_still_name_every_container(entry):
    """A whole app's notes (k8s-to-docker's text and README, up's notes: ``AppPlan.differences``) say
    each text once, naming every container it concerns, where they said it once per container
    (microservices-demo: 86 note lines); read back, the grouped notes say exactly what the
    per-pod notes said: no container, no note dropped."""
    inputs = _inputs(entry)
    if isinstance(inputs, ParityError):
        raise inputs
    workloads = select_workloads(inputs)
    plan = build_app_plan(workloads, build_layouts(inputs, workloads), inputs)
    each = [d for p in plan.pods for d in p.differences]
    grouped = plan.differences
    assert _said(grouped) == _said(each)
    subjects = {s.name for s in plan.services} | {p.subject for p in plan.pods}
    texts = [m["text"] if (m := _GROUPED.match(n)) else n.split(": ", 1)[1] for n in grouped
             if _GROUPED.match(n) or n.split(": ", 1)[0] in subjects]
    assert sorted(texts) == sorted(set(texts))  # a text said of a container or workload: one note
    assert group_notes(each, {s.name for s in plan.services}, {p.subject for p in plan.pods}) == grouped


def test_microservices_demos_service_account_placeholders_are_one_note_each():
    """microservices-demo, 12 workloads, 13 containers: the token and ca.crt placeholders, said once per
    container (26 lines), are two notes naming the 13 containers; 87 notes in all became 22, then 12 with the readiness note said of each container (corpus, sixth session);
    the 8 pods' terminationGracePeriodSeconds (5 s, where Docker waits 10 s) are said since the field-coverage
    table (95 notes, one of the app)."""
    inputs = _inputs("microservices-demo")
    workloads = select_workloads(inputs)
    plan = build_app_plan(workloads, build_layouts(inputs, workloads), inputs)
    assert (len([d for p in plan.pods for d in p.differences]), len(plan.differences)) == (95, 13)
    token = [d for d in plan.differences if "serviceaccount/token holds a placeholder" in d]
    assert [d.split(": /var")[0] for d in token] == [
        "frontend_server, adservice_server, currencyservice_server, cartservice_server, redis-cart_redis, "
        "loadgenerator_frontend-check, loadgenerator_main, recommendationservice_server, checkoutservice_server, "
        "emailservice_server, paymentservice_server, shippingservice_server, productcatalogservice_server "
        "(13 containers)"]


def _workload_id(entry: str, namespace: str, ref: str) -> str:
    """ENTRY:KIND/NAME, with the namespace when the entry has that workload in two (contour's install)."""
    twice = sum(1 for e, _, r in WORKLOADS if (e, r) == (entry, ref)) > 1
    return f"{entry}:{namespace}/{ref}" if twice else f"{entry}:{ref}"


@pytest.mark.parametrize("entry,namespace,ref", [pytest.param(*w, marks=_marked(w[0], w[2]), id=_workload_id(*w))
                                                  for w in WORKLOADS])
def test_every_workload_lays_out_generates_and_diffs_equal(tmp_path, entry, namespace, ref):
    """layout, k8s-to-docker, then the static diff of the generated compose: equal, no difference,
    no ``unknown`` (what the commands do, minus the re-parse of the entry for each)."""
    inputs = _inputs(entry)
    if isinstance(inputs, ParityError):
        raise inputs
    (workload,) = select_workloads(inputs, f"{namespace}/{ref}")
    assert workload.namespace == namespace  # --workload NS/KIND/NAME picked this one
    (layout,) = build_layouts(inputs, [workload])
    assert layout_text([layout], Painter(False)) and document([layout])
    plan = build_plan(workload, layout, inputs)
    out = tmp_path / "out"
    generate(plan, out)
    report = static_diff(Expected([layout], [workload], inputs=inputs), load_compose(str(out / "compose.yaml")), {},
                         frozenset())
    assert [(d.container, d.path, d.kind, d.expected, d.actual) for d in report.differences] == []
    assert report.exit_code == 0
    assert {c for c, _ in report.pairs} == {c.name for c in layout.containers}


#: Lines ``layout`` and ``k8s-to-docker`` may print on stderr for a corpus entry: one per mount of a
#: volume parity does not reproduce (emptyDir, PVC, hostPath...), nothing else.
_UNREPRODUCED = re.compile(r'^parity: warning: \S+: \w+/[\w.-]+: \S+\.volumeMounts\[\d+\]: \w+ volume "[^"]+"'
                           r"( \(claim \S+(, from volumeClaimTemplates)?\))? is not reproduced by parity: "
                           r"nothing is mounted at \S+ here$")


#: A few workloads through the console entry point, as a user runs them: a StatefulSet, native
#: sidecars with projected volumes, a Job, and the app whose peers issue 12 names.
CLI_SAMPLE = [("argo-cd", "sts/argocd-application-controller"), ("linkerd-control-plane", "deploy/linkerd-destination"),
              ("ingress-nginx", "job/ingress-nginx-admission-create"), ("microservices-demo", "deploy/redis-cart")]


@pytest.mark.parametrize("entry,workload", CLI_SAMPLE)
def test_the_real_cli_on_a_sample(tmp_path, entry, workload):
    """``parity layout``, ``k8s-to-docker`` and ``diff --compose`` exit 0 from the command line."""
    src = str(CORPUS / entry)
    layout = run_parity("layout", src, "--workload", workload)
    assert layout.returncode == 0, layout.stderr.decode()
    assert all(_UNREPRODUCED.match(line) for line in layout.stderr.decode().splitlines()), layout.stderr.decode()
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", src, "--workload", workload, "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    diff = run_parity("diff", src, "--workload", workload, "--compose", str(out / "compose.yaml"))
    assert diff.returncode == 0, diff.stdout.decode() + diff.stderr.decode()
    assert diff.stdout.decode().splitlines()[-1] == "no differences: every container sees the cluster's files (static)"




@pytest.mark.parametrize("entry", ENTRIES)
def test_each_entry_as_a_whole_app_through_the_cli(tmp_path, entry):
    """Without ``--workload``, as a user runs them on a render or an install: ``parity layout ENTRY`` and
    ``parity k8s-to-docker ENTRY -o OUT`` exit 0 with only the unreproduced-volume warnings on stderr;
    ``compose.yaml`` is one project holding one service per container of every workload (init and
    sidecar containers included, each labelled with its workload and container) plus parity's helper
    services (labelled ``io.parity.role``: the data service); ``parity diff ENTRY --compose
    OUT/compose.yaml`` finds every container's files the same (exit 0)."""
    src = str(CORPUS / entry)
    layout = run_parity("layout", "--format", "json", src)
    assert layout.returncode == 0, layout.stderr.decode()
    assert all(_UNREPRODUCED.match(line) for line in layout.stderr.decode().splitlines()), layout.stderr.decode()
    layouts = from_document(json.loads(layout.stdout))
    assert sorted(w.ref for w in layouts) == sorted(ref for e, _, ref in WORKLOADS if e == entry)

    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", src, "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    assert all(_UNREPRODUCED.match(line) for line in gen.stderr.decode().splitlines()), gen.stderr.decode()
    services = yaml.safe_load((out / "compose.yaml").read_text())["services"]
    labels = {name: s.get("labels") or {} for name, s in services.items()}
    helpers = sorted(name for name, lab in labels.items() if "io.parity.role" in lab)
    sandboxes = sorted(name for name, lab in labels.items() if lab.get("io.parity.role") == "sandbox")
    assert len(sandboxes) == len(layouts)  # one pod sandbox per workload
    assert sorted(set(helpers) - set(sandboxes)) in ([], ["parity-data"])
    paired = sorted((lab["io.parity.workload"], lab["io.parity.container"])
                    for name, lab in labels.items() if name not in helpers)
    assert paired == sorted((w.ref, c.name) for w in layouts for c in w.containers)
    assert len(services) == len(paired) + len(helpers)

    diff = run_parity("diff", src, "--compose", str(out / "compose.yaml"))
    assert diff.returncode == 0, diff.stdout.decode() + diff.stderr.decode()
    assert all(_UNREPRODUCED.match(line) for line in diff.stderr.decode().splitlines()), diff.stderr.decode()
    assert diff.stdout.decode().splitlines()[-1] == "no differences: every container sees the cluster's files (static)"
