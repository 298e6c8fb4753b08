"""A whole input as one environment (issue 12): one project, one compose.yaml, one data image, one
docker.sh; service and volume keys unique across pods, by the one rule of plan.pod_keys."""

from __future__ import annotations

import json

import pytest
import yaml

from parity.docker.composefile import compose_yaml
from parity.docker.dockersh import script_commands
from parity.diff import Expected
from parity.docker.plan import app_project_name, note_subjects, pod_keys, service_key, shared_refs
from parity.docker.planner import build_app_plan
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs
from parity.kube.selection import select_workloads

from ..conftest import ROOT, deployment, run_parity, service, write

_API_SPEC = """\
      containers:
      - name: app
        image: busybox:latest
        volumeMounts: [{name: config, mountPath: /etc/config}]
      volumes: [{name: config, configMap: {name: cfg}}]
"""

#: Two workloads of the same name in two namespaces, each with a volume named ``config``.
TWO_TEAMS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: team-a}
data: {mode: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: team-b}
data: {mode: b}
---
""" + deployment("api", _API_SPEC, namespace="team-a") + "---\n" + deployment("api", _API_SPEC, namespace="team-b")

PROJECT = "parity-app_045f621b238207e7"  # sha256 of the sorted namespace/kind/name lines, 16 hex


def one(items):
    (only,) = list(items)
    return only


def _workloads(tmp_path, text: str):
    inputs = load_inputs([str(write(tmp_path, text))])
    workloads = select_workloads(inputs, None)
    return inputs, workloads, build_layouts(inputs, workloads)


def _pod(name: str, namespace: str = "default", kind: str = "Deployment"):
    return type("W", (), {"name": name, "namespace": namespace, "kind": kind})()


def test_several_workloads_make_one_compose_project_with_distinct_keys(tmp_path):
    result = run_parity("k8s-to-docker", str(write(tmp_path, TWO_TEAMS)), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())
    assert doc["name"] == PROJECT
    assert list(doc["services"]) == ["parity-data", "team-a_api_pod_sandbox", "team-a_api_app",
                                     "team-b_api_pod_sandbox", "team-b_api_app"]
    data = doc["services"]["parity-data"]
    # Each pod also has the service-account volume the API server adds (kubelet-model §7.5), keyed alike.
    sa = {team: one(k for k in doc["volumes"] if k.startswith(f"{team}_api_kube-api-access-")) for team in
          ("team-a", "team-b")}
    assert data["volumes"] == [
        {"type": "volume", "source": "team-a_api_config", "target": "/parity/volumes/team-a_api_config"},
        {"type": "volume", "source": sa["team-a"], "target": f"/parity/volumes/{sa['team-a']}"},
        {"type": "volume", "source": "team-b_api_config", "target": "/parity/volumes/team-b_api_config"},
        {"type": "volume", "source": sa["team-b"], "target": f"/parity/volumes/{sa['team-b']}"}]
    assert "io.parity.workload" not in data["labels"]  # the data image belongs to every pod
    for team in ("team-a", "team-b"):
        svc = doc["services"][f"{team}_api_app"]
        assert svc["volumes"] == [{"type": "volume", "source": f"{team}_api_config", "target": "/etc/config",
                                   "read_only": True, "volume": {"nocopy": True}},
                                  {"type": "volume", "source": sa[team],
                                   "target": "/var/run/secrets/kubernetes.io/serviceaccount", "read_only": True,
                                   "volume": {"nocopy": True}},
                                  {"type": "bind", "source": f"./termination/{team}_api_app",
                                   "target": "/dev/termination-log", "read_only": False}]
        assert svc["labels"] == {"io.parity.workload": "Deployment/api", "io.parity.namespace": team,
                                 "io.parity.container": "app", "io.parity.project": PROJECT}
        assert svc["network_mode"] == f"service:{team}_api_pod_sandbox"
        assert doc["volumes"][f"{team}_api_config"]["name"].startswith(f"{PROJECT}.{team}_api_config_")
    assert result.stdout.decode().startswith(f"wrote {tmp_path / 'out'} for 2 workloads: 2 service(s), 4 volume(s)\n")


def test_one_data_image_holds_every_pods_volume(tmp_path):
    import io
    import tarfile

    assert run_parity("k8s-to-docker", str(write(tmp_path, TWO_TEAMS)), "-o", str(tmp_path / "out")).returncode == 0
    with tarfile.open(fileobj=io.BytesIO((tmp_path / "out" / "data" / "payload.tar").read_bytes())) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    # (the file sits in the timestamped directory; the top-level ``mode`` is a symlink to it)
    assert {n.split("/")[2]: b for n, b in files.items() if "kube-api-access" not in n} == {
        "team-a_api_config": b"a", "team-b_api_config": b"b"}


def test_docker_sh_runs_every_pods_containers_in_one_project(tmp_path):
    inputs, workloads, layouts = _workloads(tmp_path, TWO_TEAMS)
    plan = build_app_plan(workloads, layouts, inputs)
    runs = [c.argv for c in script_commands(plan) if c.argv[:2] == ("docker", "run") and "--volumes-from" in c.argv]
    assert [r[r.index("--name") + 1] for r in runs] == [f"{PROJECT}.team-a_api_app", f"{PROJECT}.team-b_api_app"]
    assert [r[r.index("--network") + 1] for r in runs] == [f"container:{PROJECT}.team-a_api_pod_sandbox",
                                                           f"container:{PROJECT}.team-b_api_pod_sandbox"]
    assert [r[r.index("--volumes-from") + 1] for r in runs] == [f"{PROJECT}.team-a_api_app_mounts:ro",
                                                                f"{PROJECT}.team-b_api_app_mounts:ro"]


def test_every_object_of_an_app_names_its_workload_and_namespace(tmp_path):
    """Namespaces are identity on every object (issue 12): in compose.yaml and docker.sh, each
    container, mounts holder and volume of a pod carries its workload and namespace (the two
    Deployment/api stay apart), also in an app of several pods; only the data objects, which hold
    every pod's volumes, carry neither."""
    inputs, workloads, layouts = _workloads(tmp_path, TWO_TEAMS)
    plan = build_app_plan(workloads, layouts, inputs)
    doc = yaml.safe_load(compose_yaml(plan))
    owner = {"team-a": {"io.parity.workload": "Deployment/api", "io.parity.namespace": "team-a"},
             "team-b": {"io.parity.workload": "Deployment/api", "io.parity.namespace": "team-b"}}
    data_labels = {"io.parity.role": "data", "io.parity.project": PROJECT,
                   "io.parity.content-digest": f"sha256:{plan.content_digest}"}
    for key, volume in doc["volumes"].items():
        assert volume["labels"] == {**data_labels, "io.parity.volume": key, **owner[key.split("_")[0]],
                                    "io.parity.content-digest": volume["labels"]["io.parity.content-digest"]}
    assert doc["services"]["parity-data"]["labels"] == data_labels

    def labels(argv: tuple[str, ...]) -> dict[str, str]:
        return dict(argv[i + 1].split("=", 1) for i, w in enumerate(argv) if w == "--label")

    made = [(c.argv[1:3], labels(c.argv), c.argv[-1]) for c in script_commands(plan)]
    volumes = [(lab, name) for (verb, lab, name) in made if verb == ("volume", "create")]
    assert [lab for lab, _ in volumes] == [{**data_labels, "io.parity.volume": name.split(".")[1].rsplit("_", 1)[0],
                                            **owner[name.split(".")[1].split("_")[0]]} for _, name in volumes]
    assert len(volumes) == 4
    holders = [lab for verb, lab, image in made if verb[0] == "create" and "io.parity.role" not in lab]
    runs = [lab for verb, lab, _ in made if verb[0] == "run"]
    assert holders == [{"io.parity.project": PROJECT, **owner[t]} for t in ("team-a", "team-b")]
    assert runs == [lab for t in ("team-a", "team-b")  # each pod's sandbox, then its container
                    for lab in ({**owner[t], "io.parity.role": "sandbox", "io.parity.project": PROJECT},
                                {**owner[t], "io.parity.container": "app", "io.parity.project": PROJECT})]


def test_generated_volume_names_follow_the_content_and_up_volume_names_stay(tmp_path):
    # compose.yaml/docker.sh name a volume after its content (Docker never refills a volume that
    # has content); parity up keeps one name and updates the volume in place.
    names = []
    for mode in ("a", "changed"):
        inputs, workloads, layouts = _workloads(tmp_path, TWO_TEAMS.replace("{mode: a}", "{mode: %s}" % mode))
        plan = build_app_plan(workloads, layouts, inputs)
        v = one(v for v in plan.volumes if v.key == "team-a_api_config")
        assert v.docker_name == f"{PROJECT}.team-a_api_config_{v.digest[:12]}"
        assert plan.volume_name(v) == f"{PROJECT}.team-a_api_config"
        names.append(v.docker_name)
    assert names[0] != names[1]


def test_the_project_of_an_app_does_not_depend_on_input_order(tmp_path):
    docs = TWO_TEAMS.split("\n---\n")
    swapped = "\n---\n".join(docs[:2] + [docs[3], docs[2]])
    _, first, _ = _workloads(tmp_path, TWO_TEAMS)
    _, second, _ = _workloads(tmp_path, swapped)
    assert [w.namespace for w in second] == ["team-b", "team-a"]
    assert app_project_name(first) == app_project_name(second) == PROJECT


def test_project_option_names_the_app(tmp_path):
    result = run_parity("k8s-to-docker", str(write(tmp_path, TWO_TEAMS)), "-o", str(tmp_path / "out"),
                        "-p", "shop", "--format", "json")
    summary = json.loads(result.stdout)
    assert summary["project"] == "shop"
    assert "workload" not in summary
    sa = [one(v for v in p["volumes"] if "_api_kube-api-access-" in v) for p in summary["pods"]]  # (§7.5)
    assert summary["pods"] == [
        {"kind": "Deployment", "name": "api", "namespace": "team-a", "sandbox": "team-a_api_pod_sandbox",
         "services": ["team-a_api_app"], "volumes": ["team-a_api_config", sa[0]]},
        {"kind": "Deployment", "name": "api", "namespace": "team-b", "sandbox": "team-b_api_pod_sandbox",
         "services": ["team-b_api_app"], "volumes": ["team-b_api_config", sa[1]]}]
    assert sa[0].startswith("team-a_") and sa[1].startswith("team-b_")
    assert summary["services"] == ["team-a_api_app", "team-b_api_app"]


@pytest.mark.parametrize("pods, keys", [
    ([_pod("web")], [""]),
    ([_pod("web"), _pod("db", kind="StatefulSet")], ["web", "db"]),
    ([_pod("web", "a"), _pod("web", "b"), _pod("db", "a")], ["a_web", "b_web", "a_db"]),
    ([_pod("web", "a"), _pod("web", "a", "StatefulSet")], ["a_deployment_web", "a_statefulset_web"]),
])
def test_pod_keys_take_the_shortest_form_that_keeps_every_pod_apart(pods, keys):
    assert pod_keys(pods) == keys


def test_the_same_workload_twice_is_refused():
    with pytest.raises(ValueError, match=r"^a/deployment/web: the same workload is in the input twice$"):
        pod_keys([_pod("web", "a"), _pod("web", "a")])


def test_service_keys_are_container_names_for_one_pod_and_joined_for_several():
    assert service_key("", "app") == "app"
    assert service_key("a_web", "app") == "a_web_app"


def test_workload_narrows_the_app_to_one_with_todays_names(tmp_path):
    article, richer = str(ROOT / "manifests" / "api-gateway"), str(ROOT / "manifests" / "richer")
    both = run_parity("k8s-to-docker", article, richer, "-o", str(tmp_path / "both"))
    assert both.returncode == 0, both.stderr
    doc = yaml.safe_load((tmp_path / "both" / "compose.yaml").read_text())
    assert list(doc["services"]) == ["parity-data", "api-gateway_pod_sandbox", "api-gateway_api-gateway",
                                     "tenant-gateway_pod_sandbox", "tenant-gateway_check-config",
                                     "tenant-gateway_gateway", "tenant-gateway_log-shipper"]
    assert doc["services"]["tenant-gateway_gateway"]["depends_on"] == {
        "parity-data": {"condition": "service_completed_successfully"},
        "tenant-gateway_pod_sandbox": {"condition": "service_started"},
        "tenant-gateway_check-config": {"condition": "service_completed_successfully"}}
    assert [v["source"] for v in doc["services"]["tenant-gateway_gateway"]["volumes"]] == [
        "tenant-gateway_credentials", "tenant-gateway_config", "tenant-gateway_podinfo",
        "tenant-gateway_kube-api-access-gfg58", "./subpath/tenant-gateway_gateway/3-.netrc",
        "./termination/tenant-gateway_gateway"]  # (+ kubelet-model §7.5; + its termination-message file)
    one = run_parity("k8s-to-docker", article, richer, "--workload", "deploy/tenant-gateway", "-o", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    doc = yaml.safe_load((tmp_path / "one" / "compose.yaml").read_text())
    assert doc["name"] == "parity-deployment-tenant-gateway"
    assert list(doc["services"]) == ["parity-data", "pod_sandbox", "check-config", "gateway", "log-shipper"]


def test_a_workload_note_names_the_namespace_when_another_namespace_has_the_same_workload(tmp_path):
    """Contour's install runs Deployment/contour (replicas: 2) and DaemonSet/envoy in two namespaces:
    the workload notes said 'Deployment/contour: replicas: 2: parity runs one pod' twice, the same line
    for two workloads. Qualified as --workload takes them (NS/KIND/NAME), they are one note naming both;
    a workload whose kind and name are its own keeps KIND/NAME."""
    spec = _API_SPEC.replace("      containers:", "      hostNetwork: true\n      containers:")
    text = TWO_TEAMS.replace("spec:\n  selector:", "spec:\n  replicas: 2\n  selector:") + "---\n" + deployment(
        "solo", spec.replace("configMap: {name: cfg}", "emptyDir: {}"))
    inputs, workloads, layouts = _workloads(tmp_path, text)
    plan = build_app_plan(workloads, layouts, inputs)
    workload_notes = [d for d in plan.differences if "replicas" in d or "hostNetwork" in d]
    assert workload_notes == [
        "team-a/Deployment/api, team-b/Deployment/api (2 workloads): replicas: 2: parity runs one pod",
        next(d for d in plan.differences if d.startswith("Deployment/solo: hostNetwork"))]
    # The notes, the README and k8s-to-docker's output say it once.
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", str(write(tmp_path, text)), "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    assert gen.stdout.decode().count("replicas: 2: parity runs one pod") == 1
    assert (out / "README.md").read_text().count("replicas: 2: parity runs one pod") == 1


def test_a_whole_apps_readiness_and_volume_notes_are_said_once_and_name_their_workload(tmp_path):
    """kube-thanos' 16 workloads said 'readinessProbe does not gate the Service DNS names here (NAME and
    the other names...)' 14 times, each with its own Service name, and longhorn's 'hostPath volume "dev"
    binds /dev/ ...' named no workload. Said of each container in the same words, the readiness note is
    one note naming every container; a volume's note names its workload."""
    spec = """\
      containers:
      - name: app
        image: busybox:latest
        readinessProbe: {exec: {command: ["true"]}}
        volumeMounts: [{name: logs, mountPath: /logs}]
      volumes: [{name: logs, hostPath: {path: /var/log/NAME}}]
"""
    text = "---\n".join(deployment(n, spec.replace("NAME", n)) + "---\n" + service(n, f"{{selector: {{app: {n}}}, "
                                                                                    "ports: [{port: 80}]}")
                        for n in ("store", "query", "rule"))
    inputs, workloads, layouts = _workloads(tmp_path, text)
    notes = build_app_plan(workloads, layouts, inputs).differences
    assert [n for n in notes if "readinessProbe does not gate" in n] == [
        "store_app, query_app, rule_app (3 containers): readinessProbe does not gate its pod's Service DNS names "
        "here: a pod that is not ready still answers at them (in the cluster it leaves the Service's endpoints "
        "until it is ready)"]
    assert [n for n in notes if "hostPath" in n] == [
        f'Deployment/{n}: hostPath volume "logs" binds /var/log/{n} of the Docker host (not a cluster node\'s): it '
        "reaches into the host" for n in ("store", "query", "rule")]


def test_shared_refs_marks_the_workloads_another_selected_one_shares_kind_and_name_with(tmp_path):
    """One rule for the subjects of k8s-to-docker's notes (``PodPlan.subject``) and diff's
    (``Expected.volume_notes``): ``plan.shared_refs``, written twice before (review 6, F-H). team-a's
    and team-b's Deployment/api share kind and name; Deployment/solo does not."""
    spec = _API_SPEC.replace("configMap: {name: cfg}", "emptyDir: {}")
    text = TWO_TEAMS + "---\n" + deployment("solo", spec)
    inputs, workloads, layouts = _workloads(tmp_path, text)
    assert [w.ref for w in workloads] == ["Deployment/api", "Deployment/api", "Deployment/solo"]
    assert shared_refs(workloads) == [True, True, False]
    assert [p.subject for p in build_app_plan(workloads, layouts, inputs).pods] == [
        "team-a/Deployment/api", "team-b/Deployment/api", "Deployment/solo"]
    assert shared_refs([]) == [] and shared_refs(workloads[2:]) == [False]


def test_a_note_of_a_workloads_volumes_names_it_only_when_the_app_has_several(tmp_path):
    """Whether a note of a workload's volumes or inputs names the workload has one home,
    ``plan.note_subjects``, for k8s-to-docker's notes and diff's: the planner decided it by the pod's key,
    diff's ``Expected.volume_notes`` by counting the workloads (closing note 6). One workload: no name;
    several: ``KIND/NAME``; two of one kind and name in two namespaces: ``NAMESPACE/KIND/NAME``
    (``shared_refs``). Both commands say the same words."""
    spec = _API_SPEC.replace("configMap: {name: cfg}", "emptyDir: {sizeLimit: 1Gi}")
    text = TWO_TEAMS.replace(_API_SPEC, spec) + "---\n" + deployment("solo", spec)
    inputs, workloads, layouts = _workloads(tmp_path, text)
    assert note_subjects(workloads) == ["team-a/Deployment/api", "team-b/Deployment/api", "Deployment/solo"]
    assert note_subjects(workloads[1:]) == ["Deployment/api", "Deployment/solo"]
    assert note_subjects(workloads[2:]) == [""]
    assert note_subjects([]) == []
    note = ('emptyDir volume "config" has sizeLimit 1Gi: not enforced here (the kubelet evicts the pod once the '
            "volume holds more; a Docker volume grows to the disk's size)")
    for chosen, said in ((workloads, [f"{s}: {note}" for s in note_subjects(workloads)]),
                         (workloads[1:], [f"Deployment/api: {note}", f"Deployment/solo: {note}"]),
                         (workloads[2:], [note])):
        chosen_layouts = layouts[len(workloads) - len(chosen):]
        plan = build_app_plan(chosen, chosen_layouts, inputs)
        assert [d for p in plan.pods for d in p.differences if "sizeLimit" in d] == said
        assert [n for n in Expected(chosen_layouts, list(chosen), inputs=inputs).volume_notes()
                if "sizeLimit" in n] == said
