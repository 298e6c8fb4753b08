"""Every field of a pod template and what parity does with it: the field-coverage table.

The guide's rule is "what parity cannot reproduce, it says: never a silent drop". This table is where
each field of the pod spec (``fields.py``, generated from the kubernetes client's models) is decided,
once: ``reproduced`` (with the module that does it), ``said`` (a note names it when it is set: where),
``refused`` (parity exits 2 naming it: where) or ``irrelevant`` (it does not change what the pod's
processes see on one machine: why). tests/kube/test_coverage.py fails when a field reachable from
``V1PodSpec`` has no row, so a client that gains a field forces a decision, and runs a pod with each
``said`` field set to check that its note is in k8s-to-docker's output and the generated README.

A row of a field whose type has fields of its own (``affinity``, ``lifecycle.preStop``) decides the
whole value; a field of that kind without a row is decided by the rows of its type's fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from .fields import TYPES

REPRODUCED, SAID, REFUSED, IRRELEVANT = "reproduced", "said", "refused", "irrelevant"
#: The type every pod template's spec is.
ROOT = "V1PodSpec"


@dataclass(frozen=True)
class Coverage:
    """One field's disposition and where it is kept (a module) or why it does not matter."""

    disposition: str  # REPRODUCED, SAID, REFUSED or IRRELEVANT
    where: str


def _rows(disposition: str, where: str, *keys: str) -> dict[str, Coverage]:
    return {key: Coverage(disposition, where) for key in keys}


_PODVAL = "kube/podvalidation.py unreproduced_fields"
_SCHEDULING = "scheduling only: which node runs the pod, never what its processes see on one machine"
_WINDOWS = "read on Windows nodes only: parity reproduces Linux containers"
_OTHER_VOLUME = "kube/podspec.py Volume.unreproduced (the volume's type needs the cluster's storage)"

#: "TYPE.field" -> its disposition. Sorted by type, then field.
COVERAGE: dict[str, Coverage] = {
    # -- the pod --
    **_rows(SAID, _PODVAL, "V1PodSpec.activeDeadlineSeconds", "V1PodSpec.dnsConfig", "V1PodSpec.dnsPolicy",
            "V1PodSpec.hostnameOverride", "V1PodSpec.hostUsers", "V1PodSpec.imagePullSecrets", "V1PodSpec.os",
            "V1PodSpec.readinessGates", "V1PodSpec.resourceClaims", "V1PodSpec.resources",
            "V1PodSpec.runtimeClassName", "V1PodSpec.schedulingGates", "V1PodSpec.terminationGracePeriodSeconds"),
    **_rows(SAID, "docker/security.py host_namespace_notes", "V1PodSpec.hostIPC", "V1PodSpec.hostNetwork",
            "V1PodSpec.hostPID"),
    **_rows(REPRODUCED, "kube/kubelet.py (the service account token volume)",
            "V1PodSpec.automountServiceAccountToken", "V1PodSpec.serviceAccountName"),
    **_rows(REPRODUCED, "docker/planner.py (one service per container)", "V1PodSpec.containers",
            "V1PodSpec.initContainers"),
    **_rows(REPRODUCED, "kube/services.py (the Services' variables)", "V1PodSpec.enableServiceLinks"),
    **_rows(REPRODUCED, "docker/composefile.py (extra_hosts)", "V1PodSpec.hostAliases"),
    **_rows(REPRODUCED, "docker/planner.py (the pod's hostname)", "V1PodSpec.hostname",
            "V1PodSpec.setHostnameAsFQDN", "V1PodSpec.subdomain"),
    **_rows(REPRODUCED, "docker/planner.py (Compose's restart)", "V1PodSpec.restartPolicy"),
    **_rows(REPRODUCED, "docker/sandbox.py (the pod's sandbox)", "V1PodSpec.shareProcessNamespace"),
    **_rows(REPRODUCED, "kube/volumevalidation.py, docker/planner.py", "V1PodSpec.volumes"),
    "V1PodSpec.serviceAccount": Coverage(REPRODUCED, "kube/podvalidation.py (serviceAccountName's deprecated "
                                                     "alias, taken when serviceAccountName is unset)"),
    "V1PodSpec.ephemeralContainers": Coverage(
        IRRELEVANT, "the API server refuses them in a new pod and in a template (debug containers added to a "
                    "running pod); a pod read from a cluster gives their uids and variables to the kubelet's "
                    "files (kube/podvalidation.py)"),
    **_rows(IRRELEVANT, _SCHEDULING, "V1PodSpec.affinity", "V1PodSpec.nodeName", "V1PodSpec.nodeSelector",
            "V1PodSpec.preemptionPolicy", "V1PodSpec.priority", "V1PodSpec.priorityClassName",
            "V1PodSpec.schedulerName", "V1PodSpec.schedulingGroup", "V1PodSpec.tolerations",
            "V1PodSpec.topologySpreadConstraints"),
    "V1PodSpec.overhead": Coverage(IRRELEVANT, "the RuntimeClass's accounting for the scheduler and quotas, not a "
                                               "limit the containers see"),
    "V1PodSpec.evictionResponders": Coverage(IRRELEVANT, "who answers the pod's eviction: the cluster's "
                                                         "controllers, never the pod's processes"),
    # -- the pod's security context --
    **_rows(REPRODUCED, "kube/kubelet.py (the files' group), docker/planner.py (group_add)",
            "V1PodSecurityContext.fsGroup", "V1PodSecurityContext.supplementalGroups"),
    **_rows(REPRODUCED, "docker/planner.py (user), docker/security.py (runAsNonRoot)",
            "V1PodSecurityContext.runAsGroup", "V1PodSecurityContext.runAsNonRoot", "V1PodSecurityContext.runAsUser"),
    "V1PodSecurityContext.sysctls": Coverage(REPRODUCED, "docker/security.py (sysctls, the sandbox's net.*)"),
    **_rows(SAID, _PODVAL, "V1PodSecurityContext.appArmorProfile", "V1PodSecurityContext.seccompProfile",
            "V1PodSecurityContext.seLinuxOptions", "V1PodSecurityContext.supplementalGroupsPolicy"),
    "V1PodSecurityContext.fsGroupChangePolicy": Coverage(
        IRRELEVANT, "OnRootMismatch skips the kubelet's recursive chown when the volume's root already has the "
                    "group: the same owners on the volumes parity makes"),
    "V1PodSecurityContext.seLinuxChangePolicy": Coverage(
        IRRELEVANT, "how the kubelet relabels volumes for seLinuxOptions, which is said"),
    "V1PodSecurityContext.windowsOptions": Coverage(IRRELEVANT, _WINDOWS),
    # -- a container (init containers are V1Container too) --
    **_rows(REPRODUCED, "docker/planner.py (the service's command)", "V1Container.args", "V1Container.command"),
    **_rows(REPRODUCED, "docker/env.py", "V1Container.env", "V1Container.envFrom"),
    **_rows(REPRODUCED, "docker/planner.py", "V1Container.image", "V1Container.name", "V1Container.stdin",
            "V1Container.tty", "V1Container.workingDir"),
    **_rows(REPRODUCED, "docker/health.py (one probe is the health check, the others said)",
            "V1Container.livenessProbe", "V1Container.readinessProbe", "V1Container.startupProbe"),
    "V1Container.ports": Coverage(REPRODUCED, "docker/planner.py (published host ports)"),
    "V1Container.resources": Coverage(REPRODUCED, "docker/security.py (memory and cpu limits; the rest said)"),
    "V1Container.restartPolicy": Coverage(REPRODUCED, "docker/planner.py (a native sidecar)"),
    "V1Container.securityContext": Coverage(REPRODUCED, "docker/security.py, docker/planner.py (each field: "
                                                        "V1SecurityContext's rows)"),
    "V1Container.terminationMessagePath": Coverage(REPRODUCED, "kube/kubelet.py (the file the kubelet mounts)"),
    "V1Container.volumeMounts": Coverage(REPRODUCED, "docker/planner.py (each field: V1VolumeMount's rows)"),
    **_rows(SAID, _PODVAL, "V1Container.imagePullPolicy", "V1Container.restartPolicyRules",
            "V1Container.terminationMessagePolicy", "V1Container.volumeDevices"),
    "V1Container.stdinOnce": Coverage(IRRELEVANT, "matters only to a client attached to the container's stdin "
                                                  "(kubectl attach)"),
    "V1Container.resizePolicy": Coverage(IRRELEVANT, "what an in-place resize of the running pod restarts: "
                                                     "nothing resizes it here"),
    **_rows(SAID, _PODVAL, "V1Lifecycle.postStart", "V1Lifecycle.preStop", "V1Lifecycle.stopSignal"),
    # -- a container's security context --
    **_rows(REPRODUCED, "docker/security.py", "V1SecurityContext.allowPrivilegeEscalation",
            "V1SecurityContext.capabilities", "V1SecurityContext.privileged", "V1SecurityContext.runAsNonRoot"),
    **_rows(REPRODUCED, "docker/planner.py (user, read_only)", "V1SecurityContext.readOnlyRootFilesystem",
            "V1SecurityContext.runAsGroup", "V1SecurityContext.runAsUser"),
    **_rows(SAID, _PODVAL, "V1SecurityContext.appArmorProfile", "V1SecurityContext.procMount",
            "V1SecurityContext.seccompProfile", "V1SecurityContext.seLinuxOptions"),
    "V1SecurityContext.windowsOptions": Coverage(IRRELEVANT, _WINDOWS),
    # -- resources, probes, ports, variables --
    **_rows(REPRODUCED, "docker/security.py (memory and cpu limits; requests and other limits said)",
            "V1ResourceRequirements.limits", "V1ResourceRequirements.requests"),
    "V1ResourceRequirements.claims": Coverage(SAID, "kube/podvalidation.py (spec.resourceClaims' note: a claim "
                                                    "a container names is one of the pod's)"),
    **_rows(REPRODUCED, "docker/health.py", "V1Probe.exec", "V1Probe.failureThreshold", "V1Probe.httpGet",
            "V1Probe.initialDelaySeconds", "V1Probe.periodSeconds", "V1Probe.tcpSocket", "V1Probe.timeoutSeconds"),
    **_rows(SAID, "docker/health.py health_plan", "V1Probe.grpc", "V1Probe.successThreshold",
            "V1Probe.terminationGracePeriodSeconds"),
    **_rows(REPRODUCED, "docker/planner.py (ports: HOST:CONTAINER/PROTO)", "V1ContainerPort.containerPort",
            "V1ContainerPort.hostPort", "V1ContainerPort.protocol"),
    "V1ContainerPort.name": Coverage(REPRODUCED, "docker/health.py (a probe's named port)"),
    "V1ContainerPort.hostIP": Coverage(REPRODUCED, "docker/planner.py (the published port's address)"),
    **_rows(REPRODUCED, "docker/env.py", "V1EnvVar.name", "V1EnvVar.value", "V1EnvFromSource.prefix",
            "V1EnvFromSource.configMapRef", "V1EnvFromSource.secretRef", "V1EnvVarSource.configMapKeyRef",
            "V1EnvVarSource.secretKeyRef"),
    **_rows(REPRODUCED, "kube/fieldref.py", "V1EnvVarSource.fieldRef", "V1EnvVarSource.resourceFieldRef"),
    "V1EnvVarSource.fileKeyRef": Coverage(REFUSED, "kube/containervalidation.py (a valueFrom parity does not "
                                                   "model: must specify one of...)"),
    # -- volumes and mounts --
    **_rows(REPRODUCED, "kube/volumevalidation.py, kube/kubelet.py (the files)", "V1Volume.configMap",
            "V1Volume.downwardAPI", "V1Volume.name", "V1Volume.projected", "V1Volume.secret"),
    **_rows(REPRODUCED, "kube/volumevalidation.py, docker/planner.py (a Docker volume or bind)", "V1Volume.emptyDir",
            "V1Volume.ephemeral", "V1Volume.hostPath", "V1Volume.persistentVolumeClaim"),
    **_rows(SAID, _OTHER_VOLUME, "V1Volume.awsElasticBlockStore", "V1Volume.azureDisk", "V1Volume.azureFile",
            "V1Volume.cephfs", "V1Volume.cinder", "V1Volume.csi", "V1Volume.fc", "V1Volume.flexVolume",
            "V1Volume.flocker", "V1Volume.gcePersistentDisk", "V1Volume.gitRepo", "V1Volume.glusterfs",
            "V1Volume.image", "V1Volume.iscsi", "V1Volume.nfs", "V1Volume.photonPersistentDisk",
            "V1Volume.portworxVolume", "V1Volume.quobyte", "V1Volume.rbd", "V1Volume.scaleIO", "V1Volume.storageos",
            "V1Volume.vsphereVolume"),
    **_rows(REPRODUCED, "kube/kubelet.py", "V1SecretVolumeSource.defaultMode", "V1SecretVolumeSource.items",
            "V1SecretVolumeSource.optional", "V1SecretVolumeSource.secretName", "V1ConfigMapVolumeSource.defaultMode",
            "V1ConfigMapVolumeSource.items", "V1ConfigMapVolumeSource.name", "V1ConfigMapVolumeSource.optional",
            "V1DownwardAPIVolumeSource.defaultMode", "V1DownwardAPIVolumeSource.items",
            "V1ProjectedVolumeSource.defaultMode", "V1ProjectedVolumeSource.sources", "V1KeyToPath.key",
            "V1KeyToPath.mode", "V1KeyToPath.path", "V1DownwardAPIVolumeFile.fieldRef", "V1DownwardAPIVolumeFile.mode",
            "V1DownwardAPIVolumeFile.path", "V1DownwardAPIVolumeFile.resourceFieldRef"),
    **_rows(SAID, _PODVAL, "V1SecretVolumeSource.defaultUser", "V1ConfigMapVolumeSource.defaultUser",
            "V1DownwardAPIVolumeSource.defaultUser", "V1ProjectedVolumeSource.defaultUser", "V1KeyToPath.user",
            "V1DownwardAPIVolumeFile.user"),
    **_rows(REPRODUCED, "kube/kubelet.py", "V1VolumeProjection.configMap", "V1VolumeProjection.downwardAPI",
            "V1VolumeProjection.secret", "V1VolumeProjection.serviceAccountToken"),
    **_rows(REFUSED, "kube/volumevalidation.py _parse_projected (unsupported projection)",
            "V1VolumeProjection.clusterTrustBundle", "V1VolumeProjection.podCertificate"),
    **_rows(REPRODUCED, "kube/volumevalidation.py, docker/planner.py", "V1EmptyDirVolumeSource.medium",
            "V1HostPathVolumeSource.path", "V1HostPathVolumeSource.type",
            "V1PersistentVolumeClaimVolumeSource.claimName", "V1PersistentVolumeClaimVolumeSource.readOnly"),
    "V1EmptyDirVolumeSource.sizeLimit": Coverage(REPRODUCED, "docker/planner.py (a Memory volume's size; "
                                                             "on disk: said, not enforced)"),
    "V1EmptyDirVolumeSource.mode": Coverage(SAID, _PODVAL),
    "V1EphemeralVolumeSource.volumeClaimTemplate": Coverage(
        REPRODUCED, "kube/volumevalidation.py (a Docker volume; its storage class and size are the cluster's "
                    "storage, said by the planner)"),
    **_rows(REPRODUCED, "docker/planner.py (the mount)", "V1VolumeMount.mountPath", "V1VolumeMount.name",
            "V1VolumeMount.readOnly", "V1VolumeMount.subPath"),
    "V1VolumeMount.subPathExpr": Coverage(REPRODUCED, "kube/subpathexpr.py"),
    **_rows(SAID, _PODVAL, "V1VolumeMount.mountPropagation", "V1VolumeMount.recursiveReadOnly",
            "V1VolumeMount.bindMountOptions"),
}


def field_type(kind: str) -> str:
    """The type a field's values have in ``fields.TYPES`` ("" for a value with no fields)."""
    return kind.lstrip("[]{}")


def undecided(root: str = ROOT) -> list[str]:
    """The fields reachable from ``root`` that have no row, as "TYPE.field", in walk order.

    A field with a row is decided, its value's fields with it; a field without one whose type has
    fields is decided by its type's fields' rows; any other field without a row is undecided."""
    out: list[str] = []
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        for key, kind in TYPES[name].items():
            if f"{name}.{key}" in COVERAGE:
                continue
            sub = field_type(kind)
            if sub in TYPES:
                todo.append(sub)
            else:
                out.append(f"{name}.{key}")
    return out
