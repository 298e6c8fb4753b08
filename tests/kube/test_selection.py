"""parity/kube/selection.py select_workloads and labelselector.py (issue 12): which workloads a command
works on: --workload (repeatable, namespace-qualified), -l as kubectl, Helm hooks left out, how each
workload runs, and objects given twice."""

from __future__ import annotations

import pytest

from parity.errors import ParityError
from parity.kube.labelselector import SelectorError, parse
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import write


def workload(kind: str, name: str, namespace: str = "default", labels: str = "{}", extra_meta: str = "",
             spec: str = "", pod_spec: str = "") -> str:
    """One workload's manifest (a Deployment-like kind gets a template; a CronJob a jobTemplate)."""
    pod = f"{pod_spec}containers: [{{name: app, image: busybox}}]"
    api = {"Pod": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}.get(kind, "apps/v1")
    own_labels = f", labels: {labels}" if kind == "Pod" else ""
    head = (f"apiVersion: {api}\nkind: {kind}\n"
            f"metadata: {{name: {name}, namespace: {namespace}{own_labels}{extra_meta}}}\n")
    if kind == "Pod":
        return head + f"spec: {{{pod}}}\n"
    template = f"{{metadata: {{labels: {labels}}}, spec: {{{pod}}}}}"
    if kind == "CronJob":
        return head + f"spec: {{schedule: '@hourly', jobTemplate: {{spec: {{template: {template}}}}}}}\n"
    return head + f"spec: {{{spec}template: {template}}}\n"


def load(tmp_path, *docs: str, name: str = "in.yaml"):
    return load_inputs([str(write(tmp_path, "---\n".join(docs), name))])


def refs(workloads) -> list[str]:
    return [w.qualified_ref for w in workloads]


def error_lines(exc: pytest.ExceptionInfo) -> list[str]:
    return [str(p) for p in exc.value.problems]


TWO_APIS = (workload("Deployment", "api", "team-a"), workload("Deployment", "api", "team-b"),
            workload("StatefulSet", "db", "team-a"))


def test_a_workload_named_in_two_namespaces_is_ambiguous_never_the_first(tmp_path):
    """Regression: `--workload deploy/grafana` with the same Deployment in two namespaces took the
    first one read, silently."""
    inputs = load(tmp_path, *TWO_APIS)
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs, "deploy/api")
    assert error_lines(exc) == ["--workload deploy/api: ambiguous, 2 match: team-a/Deployment/api, "
                                "team-b/Deployment/api; name one as NS/KIND/NAME (or with -n NS)"]
    assert refs(select_workloads(inputs, "team-b/deploy/api")) == ["team-b/Deployment/api"]
    assert refs(select_workloads(inputs, "deploy/api", namespace="team-b")) == ["team-b/Deployment/api"]
    # A KIND/NAME found in one namespace only needs none.
    assert refs(select_workloads(inputs, "sts/db")) == ["team-a/StatefulSet/db"]


def test_workload_is_repeatable_in_input_order_and_each_names_one(tmp_path):
    inputs = load(tmp_path, *TWO_APIS)
    chosen = select_workloads(inputs, ["sts/db", "team-a/deploy/api", "team-a/Deployment/api"])
    assert refs(chosen) == ["team-a/Deployment/api", "team-a/StatefulSet/db"]
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs, ["sts/db", "deploy/api", "pod/nope"])
    assert error_lines(exc) == [
        "--workload deploy/api: ambiguous, 2 match: team-a/Deployment/api, team-b/Deployment/api; name one as "
        "NS/KIND/NAME (or with -n NS)",
        "--workload pod/nope: not found; there are: team-a/Deployment/api, team-b/Deployment/api, "
        "team-a/StatefulSet/db"]


def test_not_found_lists_the_same_name_elsewhere_first(tmp_path):
    inputs = load(tmp_path, *TWO_APIS)
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs, "sts/api")
    assert error_lines(exc) == ["--workload sts/api: not found; there are: team-a/Deployment/api, "
                                "team-b/Deployment/api"]
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs, "deploy/api", namespace="team-c")
    assert error_lines(exc) == ["--workload deploy/api: not found in namespace team-c; there are: "
                                "team-a/Deployment/api, team-b/Deployment/api"]


@pytest.mark.parametrize("text", ["deploy/api", "Deployment/api", "deployments/api", "deployment.apps/api",
                                  "team-a/DEPLOY/api", "team-a/deployments.apps/api", "deployments.v1.apps/api"])
def test_kubectl_spellings_of_a_kind_are_taken(tmp_path, text):
    assert refs(select_workloads(load(tmp_path, TWO_APIS[0]), text)) == ["team-a/Deployment/api"]


@pytest.mark.parametrize("text, lines", [
    ("api", ["--workload api: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api or team-a/deploy/api (KIND: Pod, "
             "Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job, CronJob, PodTemplate)"]),
    ("svc/api", ["--workload svc/api: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api or team-a/deploy/api "
                 "(KIND: Pod, Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job, CronJob, "
                 "PodTemplate)"]),
    ("deployment.batch/api", ["--workload deployment.batch/api: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api "
                              "or team-a/deploy/api (KIND: Pod, Deployment, ReplicaSet, ReplicationController, "
                              "StatefulSet, DaemonSet, Job, CronJob, PodTemplate)"]),
    ("deploy.v1/api", ["--workload deploy.v1/api: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api or "
                       "team-a/deploy/api (KIND: Pod, Deployment, ReplicaSet, ReplicationController, StatefulSet, "
                       "DaemonSet, Job, CronJob, PodTemplate)"]),
    ("a/b/deploy/api", ["--workload a/b/deploy/api: expected KIND/NAME or NS/KIND/NAME, e.g. deploy/api or "
                        "team-a/deploy/api (KIND: Pod, Deployment, ReplicaSet, ReplicationController, StatefulSet, "
                        "DaemonSet, Job, CronJob, PodTemplate)"]),
    ("Team_A/deploy/api", ['--workload Team_A/deploy/api: namespace: Invalid value: "Team_A": a lowercase RFC 1123 '
                           "label must consist of lower case alphanumeric characters or '-', and must start and end "
                           "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation "
                           "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]),
])
def test_a_malformed_workload_reference_is_refused(tmp_path, text, lines):
    with pytest.raises(ParityError) as exc:
        select_workloads(load(tmp_path, TWO_APIS[0]), text)
    assert error_lines(exc) == lines


# --- -l/--selector ------------------------------------------------------------------------------

LABELLED = (workload("Deployment", "web", labels="{app: web, tier: front, env: qa}"),
            workload("Deployment", "api", labels="{app: api, tier: back, env: prod, rank: '7'}"),
            workload("StatefulSet", "db", labels="{app: db, tier: back}"),
            workload("Pod", "debug", labels="{canary: ''}"))


@pytest.mark.parametrize("selector, names", [
    ("app=web", ["web"]), ("app==web", ["web"]), ("app = web", ["web"]),
    ("tier!=back", ["web", "debug"]),  # != matches objects without the label
    ("tier in (back)", ["api", "db"]), ("env in (qa,prod)", ["web", "api"]),
    ("env notin (prod)", ["web", "db", "debug"]),  # so does notin
    ("env", ["web", "api"]), ("!env", ["db", "debug"]), ("canary", ["debug"]), ("canary=", ["debug"]),
    ("tier=back,!env", ["db"]), ("tier=back, env", ["api"]),
    ("rank>5", ["api"]), ("rank<5", []), ("", ["web", "api", "db", "debug"]),
    ("x in (in, notin)", []),  # in a value list, in and notin are values
])
def test_label_selectors_match_as_kubectl(tmp_path, selector, names):
    inputs = load(tmp_path, *LABELLED)
    selected = parse(selector)
    assert [w.name for w in inputs.workloads if selected.matches(w.pod_labels)] == names


@pytest.mark.parametrize("selector, message", [  # selector.go's messages, word for word
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("env in (qa", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("env in (qa prod)", "unable to parse requirement: found 'prod', expected: ',' or ')'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a=b,", "found '', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("!!a", "unable to parse requirement: found '!', expected: identifier"),
    ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ("a>b", 'unable to parse requirement: Invalid value: "b": for \'Gt\', \'Lt\' operators, the value must be an '
            "integer"),
    ("-a=b", 'unable to parse requirement: Invalid value: "-a": name part must consist of alphanumeric characters, '
             "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
             "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
    ("a=b_", 'unable to parse requirement: Invalid value: "b_": a valid label must be an empty string or consist of '
             "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
             "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
])
def test_a_bad_label_selector_is_refused_with_kubernetes_words(selector, message):
    with pytest.raises(SelectorError) as exc:
        parse(selector)
    assert str(exc.value) == message


def test_selector_narrows_the_workloads_and_says_when_none_match(tmp_path):
    inputs = load(tmp_path, *LABELLED)
    assert [w.name for w in select_workloads(inputs, label_selector="tier=back")] == ["api", "db"]
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs, label_selector="app=nope")
    assert error_lines(exc) == ['-l/--selector "app=nope": no workload\'s pod template labels match (workloads: '
                                "default/Deployment/web, default/Deployment/api, default/StatefulSet/db, "
                                "default/Pod/debug)"]
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs, "deploy/web", label_selector="app=web")
    assert error_lines(exc) == ["--workload and -l/--selector: give one or the other (kubectl takes no selector "
                                "with KIND/NAME either)"]


# --- Helm hooks ---------------------------------------------------------------------------------

HOOKED = (workload("Deployment", "web", labels="{app: web}"),
          workload("Job", "migrate", labels="{app: web}", extra_meta=", annotations: {helm.sh/hook: pre-install}",
                   pod_spec="restartPolicy: Never, "),
          workload("Pod", "web-test", labels="{app: web}",
                   extra_meta=", annotations: {helm.sh/hook: test, helm.sh/hook-delete-policy: hook-succeeded}",
                   pod_spec="restartPolicy: Never, "))


def test_helm_hooks_are_left_out_and_reported_unless_included(tmp_path):
    inputs = load(tmp_path, *HOOKED)
    chosen = select_workloads(inputs)
    assert refs(chosen) == ["default/Deployment/web"]
    assert [(w.ref, w.hook) for w in chosen.hooks_left_out] == [("Job/migrate", "pre-install"),
                                                                ("Pod/web-test", "test")]
    assert refs(select_workloads(inputs, include_hooks=True)) == [
        "default/Deployment/web", "default/Job/migrate", "default/Pod/web-test"]
    # -l narrows first: only the hooks it matches are reported.
    assert [w.ref for w in select_workloads(inputs, label_selector="app=web").hooks_left_out] == [
        "Job/migrate", "Pod/web-test"]
    # Named, a hook is asked for (as Compose starts a service of a profile when it is named).
    named = select_workloads(inputs, "job/migrate")
    assert (refs(named), named.hooks_left_out) == (["default/Job/migrate"], [])


def test_nothing_but_hooks_is_an_error_that_says_why(tmp_path):
    inputs = load(tmp_path, *HOOKED[1:])
    with pytest.raises(ParityError) as exc:
        select_workloads(inputs)
    assert error_lines(exc) == ["no workload left: left out: 2 Helm hook(s): Job/migrate (pre-install), "
                                "Pod/web-test (test); --include-hooks adds them"]


# --- how each workload runs, and replicas -------------------------------------------------------

def test_each_workload_says_how_it_runs_and_what_scale_parity_drops(tmp_path):
    inputs = load(tmp_path,
                  workload("Deployment", "web", spec="replicas: 3, "),
                  workload("StatefulSet", "db"),
                  workload("Deployment", "idle", spec="replicas: 0, "),
                  workload("DaemonSet", "agent"),
                  workload("Job", "migrate", pod_spec="restartPolicy: OnFailure, "),
                  workload("CronJob", "report", pod_spec="restartPolicy: Never, "),
                  workload("Pod", "once", pod_spec="restartPolicy: Never, "),
                  workload("Pod", "always"))
    assert [(w.name, w.run, w.replicas, w.scale_note) for w in inputs.workloads] == [
        ("web", "service", 3, "replicas: 3: parity runs one pod"),
        ("db", "service", 1, None),
        ("idle", "service", 0, "replicas: 0: the cluster runs no pod of it; parity runs one"),
        ("agent", "service", 1, "a DaemonSet runs one pod per node; parity runs one"),
        ("migrate", "once", 1, None),
        ("report", "on-demand", 1, None),
        ("once", "once", 1, None),
        ("always", "service", 1, None)]


@pytest.mark.parametrize("replicas, line", [
    ("-1", "in.yaml: Deployment/web: spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
    ("'3'", "in.yaml: Deployment/web: spec.replicas: must be a whole number, not a string"),
])
def test_bad_replicas_are_refused(tmp_path, monkeypatch, replicas, line):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, workload("Deployment", "web", spec=f"replicas: {replicas}, "))
    with pytest.raises(ParityError) as exc:
        load_inputs(["in.yaml"])
    assert error_lines(exc) == [line]


# --- the same object twice ----------------------------------------------------------------------

def test_the_same_object_given_twice_is_read_once_the_last_one_and_said(tmp_path, monkeypatch):
    """Regression: the same file given twice (or a directory and a file in it) made two identical
    workloads, silently; kubectl apply -f applies both in turn and the cluster keeps the last."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, workload("Deployment", "web", labels="{v: '1'}") + "---\n" + workload("Pod", "solo"), "a.yaml")
    write(tmp_path, workload("Deployment", "web", labels="{v: '2'}") + "---\n"
          + "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {token: first-secret-value}\n"
          + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {token: second-secret-value}\n"
          + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {v: '1'}, ports: [{port: 80}]}\n"
          + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {v: '2'}, ports: [{port: 80}]}\n",
          "b.yaml")
    inputs = load_inputs(["a.yaml", "b.yaml"])
    assert [(w.qualified_ref, w.pod_labels, w.file) for w in inputs.workloads] == [
        ("default/Deployment/web", {"v": "2"}, "b.yaml"), ("default/Pod/solo", {}, "a.yaml")]
    assert inputs.secrets[("default", "creds")].data == {"token": b"second-secret-value"}
    assert inputs.services[("default", "web")].selector == {"v": "2"}
    assert inputs.warnings == [
        "b.yaml: Secret/creds: given again (namespace default, first in b.yaml); the last one read is used, as "
        "kubectl apply -f applies both in turn",
        "b.yaml: Service/web: given again (namespace default, first in b.yaml); the last one read is used, as "
        "kubectl apply -f applies both in turn",
        "b.yaml: Deployment/web: given again (namespace default, first in a.yaml); the last one read is used, as "
        "kubectl apply -f applies both in turn"]
    assert [w.qualified_ref for w in load_inputs(["a.yaml", "a.yaml"]).workloads] == [
        "default/Deployment/web", "default/Pod/solo"]
    # The same name in another namespace, or of another kind, is another object.
    write(tmp_path, workload("Deployment", "web", "team-b") + "---\n" + workload("StatefulSet", "web"), "c.yaml")
    inputs = load_inputs(["a.yaml", "c.yaml"])
    assert (len(inputs.workloads), inputs.warnings) == (4, [])


# --- what a controller in the input makes -------------------------------------------------------

def owned(doc: str, kind: str, name: str, controller: str = "true") -> str:
    """``doc`` with an owner reference to KIND/NAME in its metadata."""
    return doc.replace("metadata: {", f"metadata: {{ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, "
                                     f"name: {name}, uid: u1, controller: {controller}}}], ", 1)


def test_what_a_controller_in_the_input_makes_is_left_out_and_reported(tmp_path):
    """kubectl get deploy,rs,pod -o yaml holds a Deployment, its ReplicaSet and their Pods: the cluster
    runs the Deployment's pods, so the ReplicaSet and the Pod are its own, not more workloads."""
    inputs = load(tmp_path,
                  workload("Deployment", "api", "shop"),
                  owned(workload("ReplicaSet", "api-5d8f", "shop"), "Deployment", "api"),
                  owned(workload("Pod", "api-5d8f-x2k", "shop"), "ReplicaSet", "api-5d8f"),
                  owned(workload("Pod", "orphan", "shop"), "ReplicaSet", "gone"),  # its owner is not here
                  owned(workload("Pod", "other-ns", "team-b"), "ReplicaSet", "api-5d8f"),  # nor in its namespace
                  owned(workload("Pod", "not-controlled", "shop"), "ReplicaSet", "api-5d8f", controller="false"))
    chosen = select_workloads(inputs)
    assert refs(chosen) == ["shop/Deployment/api", "shop/Pod/orphan", "team-b/Pod/other-ns", "shop/Pod/not-controlled"]
    assert chosen.left_out_lines() == [
        "left out: 2 workload(s) made by a controller in the input: ReplicaSet/api-5d8f (by Deployment/api), "
        "Pod/api-5d8f-x2k (by ReplicaSet/api-5d8f); --workload takes one anyway"]
    assert chosen.left_out_json() == [
        {"kind": "ReplicaSet", "name": "api-5d8f", "namespace": "shop", "controller": "Deployment/api"},
        {"kind": "Pod", "name": "api-5d8f-x2k", "namespace": "shop", "controller": "ReplicaSet/api-5d8f"}]
    assert refs(select_workloads(inputs, "pod/api-5d8f-x2k")) == ["shop/Pod/api-5d8f-x2k"]
    only_made = load(tmp_path, workload("Deployment", "api", "shop", labels="{app: api}"),
                     owned(workload("ReplicaSet", "api-5d8f", "shop", labels="{hash: 5d8f}"), "Deployment", "api"))
    with pytest.raises(ParityError) as exc:
        select_workloads(only_made, label_selector="hash")
    assert error_lines(exc) == ["no workload left: left out: 1 workload(s) made by a controller in the input: "
                                "ReplicaSet/api-5d8f (by Deployment/api); --workload takes one anyway"]


def test_no_workload_names_the_first_objects_read_and_counts_the_rest(tmp_path):
    """A stream of 25 ConfigMaps and no workload: the line names the first LISTED (20), sorted, and
    counts the rest (review 8 S-I: it named all of them, one 135 KB line for 8000)."""
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i:02d}}}\ndata: {{k: v}}\n" for i in range(25)]
    with pytest.raises(ParityError) as exc:
        select_workloads(load(tmp_path, *docs))
    shown = ", ".join(f"ConfigMap/cm-{i:02d}" for i in range(20))
    assert str(exc.value) == (f"{tmp_path}/in.yaml: no workload found (saw {shown} and 5 more); parity reads Pod, "
                              "Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job, CronJob, "
                              "PodTemplate")
