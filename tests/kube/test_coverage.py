"""The field-coverage table (parity/kube/coverage.py): every field of a pod template is decided, and
every field said not reproduced is said, in k8s-to-docker's output and the generated README."""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner

from parity.cli import main
from parity.kube.coverage import COVERAGE, IRRELEVANT, REFUSED, REPRODUCED, SAID, undecided
from parity.kube.fields import TYPES


def test_every_field_of_a_pod_template_is_decided_in_the_coverage_table():
    """A field the client gains (fields.py regenerated) has no row: the walk from V1PodSpec names it."""
    assert undecided() == []


def test_the_walk_names_a_field_the_table_does_not_decide(monkeypatch):
    monkeypatch.setitem(TYPES, "V1PodSpec", {**TYPES["V1PodSpec"], "newField": "", "newThing": "V1NewThing"})
    monkeypatch.setitem(TYPES, "V1NewThing", {"inner": ""})
    assert undecided() == ["V1PodSpec.newField", "V1NewThing.inner"]


def test_each_row_names_a_known_field_with_one_of_the_four_dispositions_and_where():
    stale = [key for key in COVERAGE if key.split(".", 1)[1] not in TYPES.get(key.split(".", 1)[0], {})]
    assert stale == []
    assert {c.disposition for c in COVERAGE.values()} == {REPRODUCED, SAID, REFUSED, IRRELEVANT}
    assert [key for key, c in COVERAGE.items() if not c.where] == []


def test_scheduling_fields_are_irrelevant_not_notes():
    for key in ("affinity", "nodeSelector", "tolerations", "topologySpreadConstraints", "priorityClassName",
                "preemptionPolicy"):
        assert COVERAGE[f"V1PodSpec.{key}"].disposition == IRRELEVANT


BASE = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"automountServiceAccountToken": False, "containers": [{"name": "app", "image": "busybox:latest"}]}}
_EXEC = {"exec": {"command": ["true"]}}
_CLAIM = [{"name": "gpu", "resourceClaimName": "gpu-claim"}]


def _pod(spec: dict | None = None, ctr: dict | None = None, volume: dict | None = None, mount: dict | None = None):
    pod = copy.deepcopy(BASE)
    pod["spec"].update(spec or {})
    pod["spec"]["containers"][0].update(ctr or {})
    if volume is not None:
        pod["spec"]["volumes"] = [{"name": "data", **volume}]
    if mount is not None:
        pod["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data", **mount}]
    return pod


def _volume_type(kind: str, source: dict):
    return _pod(volume={kind: source}, mount={}), f'{kind} volume "data" is not reproduced'


#: For each ``said`` row: a minimal valid pod with the field set, and the start of the note's field.
SAID_EXAMPLES = {
    "V1PodSpec.activeDeadlineSeconds": (_pod({"activeDeadlineSeconds": 60}), "spec.activeDeadlineSeconds"),
    "V1PodSpec.dnsConfig": (_pod({"dnsConfig": {"searches": ["example.com"]}}), "spec.dnsConfig"),
    "V1PodSpec.dnsPolicy": (_pod({"dnsPolicy": "Default"}), "spec.dnsPolicy"),
    "V1PodSpec.hostnameOverride": (_pod({"hostnameOverride": "box"}), "spec.hostnameOverride"),
    "V1PodSpec.hostUsers": (_pod({"hostUsers": False}), "spec.hostUsers"),
    "V1PodSpec.imagePullSecrets": (_pod({"imagePullSecrets": [{"name": "regcred"}]}), "spec.imagePullSecrets"),
    "V1PodSpec.os": (_pod({"os": {"name": "windows"}}), "spec.os.name"),
    "V1PodSpec.readinessGates": (_pod({"readinessGates": [{"conditionType": "example.com/ready"}]}),
                                 "spec.readinessGates"),
    "V1PodSpec.resourceClaims": (_pod({"resourceClaims": _CLAIM}), "spec.resourceClaims"),
    "V1PodSpec.resources": (_pod({"resources": {"limits": {"cpu": "1"}}}), "spec.resources"),
    "V1PodSpec.runtimeClassName": (_pod({"runtimeClassName": "gvisor"}), "spec.runtimeClassName"),
    "V1PodSpec.schedulingGates": (_pod({"schedulingGates": [{"name": "example.com/wait"}]}), "spec.schedulingGates"),
    "V1PodSpec.terminationGracePeriodSeconds": (_pod({"terminationGracePeriodSeconds": 60}),
                                                "spec.terminationGracePeriodSeconds"),
    "V1PodSpec.hostIPC": (_pod({"hostIPC": True}), "hostIPC"),
    "V1PodSpec.hostNetwork": (_pod({"hostNetwork": True}), "hostNetwork"),
    "V1PodSpec.hostPID": (_pod({"hostPID": True}), "hostPID"),
    "V1PodSecurityContext.appArmorProfile": (_pod({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}),
                                             "spec.securityContext.appArmorProfile"),
    "V1PodSecurityContext.seccompProfile": (_pod({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}),
                                            "spec.securityContext.seccompProfile"),
    "V1PodSecurityContext.seLinuxOptions": (_pod({"securityContext": {"seLinuxOptions": {"level": "s0:c1,c2"}}}),
                                            "spec.securityContext.seLinuxOptions"),
    "V1PodSecurityContext.supplementalGroupsPolicy": (
        _pod({"securityContext": {"supplementalGroupsPolicy": "Strict"}}),
        "spec.securityContext.supplementalGroupsPolicy"),
    "V1Container.imagePullPolicy": (_pod(ctr={"imagePullPolicy": "Always"}), "imagePullPolicy"),
    "V1Container.restartPolicyRules": (
        _pod({"initContainers": [{"name": "watcher", "image": "busybox:latest", "restartPolicy": "Always",
                                  "restartPolicyRules": [{"action": "RestartAllContainers",
                                                          "exitCodes": {"operator": "In", "values": [88]}}]}]}),
        "spec.initContainers[0].restartPolicyRules"),
    "V1Container.terminationMessagePolicy": (_pod(ctr={"terminationMessagePolicy": "FallbackToLogsOnError"}),
                                             "spec.containers[0].terminationMessagePolicy"),
    "V1Container.volumeDevices": (
        _pod(ctr={"volumeDevices": [{"name": "data", "devicePath": "/dev/xvda"}]},
             volume={"persistentVolumeClaim": {"claimName": "block"}}), "spec.containers[0].volumeDevices"),
    "V1Lifecycle.postStart": (_pod(ctr={"lifecycle": {"postStart": _EXEC}}), "spec.containers[0].lifecycle.postStart"),
    "V1Lifecycle.preStop": (_pod(ctr={"lifecycle": {"preStop": _EXEC}}), "spec.containers[0].lifecycle.preStop"),
    "V1Lifecycle.stopSignal": (_pod(ctr={"lifecycle": {"stopSignal": "SIGUSR1"}}),
                               "spec.containers[0].lifecycle.stopSignal"),
    "V1SecurityContext.appArmorProfile": (
        _pod(ctr={"securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-app"}}}),
        "spec.containers[0].securityContext.appArmorProfile"),
    "V1SecurityContext.procMount": (_pod({"hostUsers": False}, ctr={"securityContext": {"procMount": "Unmasked"}}),
                                    "spec.containers[0].securityContext.procMount"),
    "V1SecurityContext.seccompProfile": (
        _pod(ctr={"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "app.json"}}}),
        "spec.containers[0].securityContext.seccompProfile"),
    "V1SecurityContext.seLinuxOptions": (_pod(ctr={"securityContext": {"seLinuxOptions": {"type": "spc_t"}}}),
                                         "spec.containers[0].securityContext.seLinuxOptions"),
    "V1ResourceRequirements.claims": (_pod({"resourceClaims": _CLAIM}, ctr={"resources": {"claims": [{"name": "gpu"}]}}),
                                      "spec.resourceClaims"),
    "V1Probe.grpc": (_pod(ctr={"readinessProbe": {"grpc": {"port": 9000}}}), "spec.containers[0].readinessProbe"),
    "V1Probe.successThreshold": (_pod(ctr={"readinessProbe": {**_EXEC, "successThreshold": 2}}),
                                 "spec.containers[0].readinessProbe.successThreshold"),
    "V1Probe.terminationGracePeriodSeconds": (
        _pod(ctr={"livenessProbe": {**_EXEC, "terminationGracePeriodSeconds": 5}}),
        "spec.containers[0].livenessProbe"),
    "V1Volume.awsElasticBlockStore": _volume_type("awsElasticBlockStore", {"volumeID": "vol-1"}),
    "V1Volume.azureDisk": _volume_type("azureDisk", {"diskName": "d", "diskURI": "https://example.com/d"}),
    "V1Volume.azureFile": _volume_type("azureFile", {"secretName": "s", "shareName": "share"}),
    "V1Volume.cephfs": _volume_type("cephfs", {"monitors": ["10.0.0.1:6789"]}),
    "V1Volume.cinder": _volume_type("cinder", {"volumeID": "v"}),
    "V1Volume.csi": _volume_type("csi", {"driver": "secrets-store.csi.k8s.io"}),
    "V1Volume.fc": _volume_type("fc", {"wwids": ["w"]}),
    "V1Volume.flexVolume": _volume_type("flexVolume", {"driver": "example/lvm"}),
    "V1Volume.flocker": _volume_type("flocker", {"datasetName": "d"}),
    "V1Volume.gcePersistentDisk": _volume_type("gcePersistentDisk", {"pdName": "pd"}),
    "V1Volume.gitRepo": _volume_type("gitRepo", {"repository": "https://example.com/r.git"}),
    "V1Volume.glusterfs": _volume_type("glusterfs", {"endpoints": "e", "path": "p"}),
    "V1Volume.image": _volume_type("image", {"reference": "busybox:latest"}),
    "V1Volume.iscsi": _volume_type("iscsi", {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.com.example:t",
                                             "lun": 0}),
    "V1Volume.nfs": _volume_type("nfs", {"server": "nfs.example.com", "path": "/exports"}),
    "V1Volume.photonPersistentDisk": _volume_type("photonPersistentDisk", {"pdID": "p"}),
    "V1Volume.portworxVolume": _volume_type("portworxVolume", {"volumeID": "v"}),
    "V1Volume.quobyte": _volume_type("quobyte", {"registry": "r:7861", "volume": "v"}),
    "V1Volume.rbd": _volume_type("rbd", {"monitors": ["10.0.0.1:6789"], "image": "i"}),
    "V1Volume.scaleIO": _volume_type("scaleIO", {"gateway": "g", "system": "s", "secretRef": {"name": "s"}}),
    "V1Volume.storageos": _volume_type("storageos", {"volumeName": "v"}),
    "V1Volume.vsphereVolume": _volume_type("vsphereVolume", {"volumePath": "[ds] v.vmdk"}),
    "V1SecretVolumeSource.defaultUser": (_pod(volume={"secret": {"secretName": "s", "optional": True,
                                                                 "defaultUser": 1000}}),
                                         "spec.volumes[0].secret.defaultUser"),
    "V1ConfigMapVolumeSource.defaultUser": (_pod(volume={"configMap": {"name": "c", "optional": True,
                                                                       "defaultUser": 1000}}),
                                            "spec.volumes[0].configMap.defaultUser"),
    "V1DownwardAPIVolumeSource.defaultUser": (
        _pod(volume={"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}],
                                     "defaultUser": 1000}}), "spec.volumes[0].downwardAPI.defaultUser"),
    "V1ProjectedVolumeSource.defaultUser": (_pod(volume={"projected": {"sources": [], "defaultUser": 1000}}),
                                            "spec.volumes[0].projected.defaultUser"),
    "V1KeyToPath.user": (
        _pod(volume={"projected": {"sources": [{"configMap": {"name": "c", "optional": True,
                                                              "items": [{"key": "k", "path": "k", "user": 1000}]}}]}}),
        "spec.volumes[0].projected.sources[0].configMap.items[0].user"),
    "V1DownwardAPIVolumeFile.user": (
        _pod(volume={"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"},
                                                "user": 1000}]}}), "spec.volumes[0].downwardAPI.items[0].user"),
    "V1EmptyDirVolumeSource.mode": (_pod(volume={"emptyDir": {"mode": 448}}), "spec.volumes[0].emptyDir.mode"),
    "V1VolumeMount.mountPropagation": (_pod(ctr={"securityContext": {"privileged": True}}, volume={"emptyDir": {}},
                                            mount={"mountPropagation": "Bidirectional"}),
                                       "spec.containers[0].volumeMounts[0].mountPropagation"),
    "V1VolumeMount.recursiveReadOnly": (_pod(volume={"emptyDir": {}},
                                             mount={"readOnly": True, "recursiveReadOnly": "IfPossible"}),
                                        "spec.containers[0].volumeMounts[0].recursiveReadOnly"),
    "V1VolumeMount.bindMountOptions": (_pod(volume={"emptyDir": {}}, mount={"bindMountOptions": ["noexec"]}),
                                       "spec.containers[0].volumeMounts[0].bindMountOptions"),
}


def test_every_said_field_has_an_example():
    assert sorted(SAID_EXAMPLES) == sorted(key for key, c in COVERAGE.items() if c.disposition == SAID)


def _differences(tmp_path, pod: dict) -> tuple[list[str], str]:
    source = tmp_path / "pod.json"
    source.write_text(json.dumps(pod))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["k8s-to-docker", str(source), "-o", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["differences"], (out / "README.md").read_text()


def test_the_base_pod_has_no_note_of_a_field(tmp_path):
    differences, _ = _differences(tmp_path, BASE)
    assert [d for d in differences if ": spec." in d] == []


@pytest.mark.parametrize("key", sorted(SAID_EXAMPLES))
def test_a_said_field_set_is_a_note_naming_it_in_the_output_and_the_readme(tmp_path, key):
    pod, field = SAID_EXAMPLES[key]
    differences, readme = _differences(tmp_path, pod)
    named = [d for d in differences if f": {field}" in d]
    assert named != [], differences
    assert [d for d in named if f"- {d}" not in readme] == []


def test_fields_dropped_without_a_word_before_the_table_are_said(tmp_path):
    """The table's first sweep found these fields validated or ignored and never said (fieldcov): each
    is now a note naming its field, of the pod or of the container's service, in the README too."""
    pod = _pod({"hostUsers": False, "hostnameOverride": "box", "imagePullSecrets": [{"name": "regcred"}],
                "readinessGates": [{"conditionType": "example.com/ready"}],
                "schedulingGates": [{"name": "example.com/wait"}], "terminationGracePeriodSeconds": 60,
                "os": {"name": "windows"},
                "securityContext": {"seccompProfile": {"type": "Unconfined"}, "supplementalGroupsPolicy": "Strict",
                                    "seLinuxOptions": {"level": "s0:c1,c2"}}},
               ctr={"securityContext": {"procMount": "Unmasked", "appArmorProfile": {"type": "Localhost",
                                                                                      "localhostProfile": "k8s-app"}}},
               volume={"emptyDir": {"mode": 448}}, mount={"bindMountOptions": ["noexec"]})
    differences, readme = _differences(tmp_path, pod)
    said = [d for d in differences if ": spec." in d]
    assert said == [
        "Pod/p: spec.hostnameOverride: not reproduced: the containers' hostname here is the pod's (its hostname, else "
        "its name)",
        "Pod/p: spec.imagePullSecrets: not reproduced: Docker pulls with this machine's credentials (docker login), "
        "not the Secrets the pod names",
        "Pod/p: spec.readinessGates: not reproduced: the pod counts as ready here once its containers are, where the "
        "cluster also waits for each condition named (set by a controller)",
        "Pod/p: spec.schedulingGates: not reproduced: the cluster does not schedule the pod until its gates are "
        "removed; here it starts at once",
        "Pod/p: spec.terminationGracePeriodSeconds: not reproduced: Docker kills a container 10 s after the stop "
        "signal (docker stop, docker compose down; parity down at once)",
        "Pod/p: spec.hostUsers: false is not reproduced: the containers run in this machine's user namespace "
        "(Docker's default), where the kubelet gives the pod one of its own (root in the container is not root on "
        "the node)",
        "Pod/p: spec.os.name: windows is not reproduced: parity runs Linux containers",
        "Pod/p: spec.securityContext.seccompProfile: Unconfined is not reproduced: Docker applies its default "
        "seccomp profile",
        "Pod/p: spec.securityContext.seLinuxOptions: not reproduced: Docker gives the container its default SELinux "
        "label (on a host with SELinux)",
        "Pod/p: spec.securityContext.supplementalGroupsPolicy: Strict is not reproduced: Docker also gives the user "
        "the groups the image's /etc/group names (Merge)",
        "Pod/p: spec.volumes[0].emptyDir.mode: not reproduced: the directory has the kubelet's default mode here "
        "(0777, 01777 on tmpfs)",
        "app: spec.containers[0].securityContext.appArmorProfile: Localhost is not reproduced: Docker applies its "
        "default AppArmor profile (the node's profile is not loaded here)",
        "app: spec.containers[0].securityContext.procMount: Unmasked is not reproduced: Docker masks and makes "
        "read-only parts of /proc (Default)",
        "app: spec.containers[0].volumeMounts[0].bindMountOptions: not reproduced: Docker binds the mount with its "
        "default options"]
    assert [d for d in said if f"- {d}" not in readme] == []


def test_a_volumes_file_owner_is_said_not_dropped(tmp_path):
    pod = _pod(volume={"projected": {"defaultUser": 1000, "sources": [
        {"configMap": {"name": "c", "optional": True, "items": [{"key": "k", "path": "k", "user": 1001}]}}]}})
    differences, _ = _differences(tmp_path, pod)
    owner = ("not reproduced: the files are made with the owner the kubelet gives them without it (root, the group "
             "fsGroup)")
    assert [d for d in differences if ": spec." in d] == [
        f"Pod/p: spec.volumes[0].projected.defaultUser: {owner}",
        f"Pod/p: spec.volumes[0].projected.sources[0].configMap.items[0].user: {owner}"]


def test_the_deprecated_service_account_field_names_the_pods_service_account():
    """``serviceAccount`` is serviceAccountName's alias (the v1 conversion takes it when serviceAccountName
    is unset): it was ignored, and the pod got the default account's token and spec.serviceAccountName."""
    from parity.errors import Problems
    from parity.kube.podvalidation import parse_pod_spec
    spec = {"serviceAccount": "robot", "containers": [{"name": "app", "image": "busybox:latest"}]}
    assert parse_pod_spec(spec, "spec", Problems(), "f", "Pod/p").service_account_name == "robot"
    both = {**spec, "serviceAccountName": "web"}
    assert parse_pod_spec(both, "spec", Problems(), "f", "Pod/p").service_account_name == "web"
