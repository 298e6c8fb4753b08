"""Field references: the downward API's ``fieldRef`` and ``resourceFieldRef``, for volume files and
container env alike.

Kubernetes shares one extraction between the two paths: ``pkg/fieldpath/fieldpath.go``
(``SplitMaybeSubscriptedPath``, ``ExtractFieldPathAsString``, ``FormatMap``) and
``pkg/api/v1/resource/helpers.go`` (``ExtractContainerResourceValue``). So does parity: the syntax
and the supported paths live here, and so do the values.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Callable

from ..values import Value, valueclass
from . import quantity
from .names import go_quote

if TYPE_CHECKING:  # (the pod spec's validation imports this module: the types only, for annotations)
    from .manifests import Workload
    from .podspec import Container, ResourceSelector

#: ``validEnvDownwardAPIFieldPathExpressions`` (pkg/apis/core/validation/validation.go), plus the
#: subscripted ``metadata.labels['k']`` and ``metadata.annotations['k']``.
ENV_FIELDS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
              "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")

#: ``validVolumeDownwardAPIFieldPathExpressions``, in the order parity's message lists them.
VOLUME_FIELDS = ("metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations")

#: The labels ``ConvertDownwardAPIFieldLabel`` (pkg/apis/core/pods/helpers.go) accepts for v1 at all;
#: others fail with "field label not supported".
CONVERTIBLE_FIELDS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                      "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
                      "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs", "status.podIP",
                      "status.podIPs")

#: ``validContainerResourceFieldPathExpressions``.
RESOURCE_FIELDS = ("limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory",
                   "requests.ephemeral-storage")


def split_subscripted(path: str) -> tuple[str, str, bool]:
    """``SplitMaybeSubscriptedPath``: ``metadata.labels['k']`` -> (``metadata.labels``, ``k``, True);
    any other path -> (path, "", False)."""
    if not path.endswith("']"):
        return path, "", False
    head, sep, subscript = path[:-2].partition("['")
    if not sep or not head:
        return path, "", False
    return head, subscript, True


#: Labels the controllers add to the pods they create (so a template's labels are not the pod's).
CONTROLLER_LABELS = {
    "Deployment": "pod-template-hash",
    "StatefulSet": "controller-revision-hash, statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index",
    "DaemonSet": "controller-revision-hash, pod-template-generation",
    "Job": "batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name, controller-uid, job-name",
    "CronJob": "batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name, controller-uid, job-name",
}

#: Annotations the kubelet puts on its own copy of every pod it gets from the API server, the copy
#: the downward API reads (pkg/kubelet/config/config.go ``podStorage.merge``: ``ConfigSourceAnnotationKey``
#: = the source, "api"; ``recordFirstSeenTime``: ``ConfigFirstSeenAnnotationKey`` = the time it first
#: saw the pod, ``kubetypes.NewTimestamp().GetString()``, RFC3339NanoFixed in the kubelet's zone).
#: They overwrite a same-named annotation of the manifest.
CONFIG_SOURCE_ANNOTATION = "kubernetes.io/config.source"
CONFIG_SEEN_ANNOTATION = "kubernetes.io/config.seen"
CONFIG_SEEN_VOLATILE = ("the kubelet stamps kubernetes.io/config.seen with the time it first saw the pod")
ANNOTATIONS_VOLATILE = (f"{CONFIG_SEEN_VOLATILE}; admission plugins may add annotations (e.g. "
                        "kubernetes.io/limit-ranger), and so may kubectl apply on a Pod "
                        "(kubectl.kubernetes.io/last-applied-configuration)")
UID_VOLATILE = "the API server assigns the pod's uid"


def pod_uid(w: Workload) -> str:
    """The pod's UID as parity models it: ``metadata.uid`` as the manifest gives it (a Pod may), else a
    stand-in, the same at every run (uuid5 of the workload's namespace, kind and name): the API server
    assigns the real one (``UID_VOLATILE``). One value for the downward API's ``metadata.uid`` and the
    kubelet's messages that name the pod (``security.pod_ref``: ``NAME_NAMESPACE(UID)``), which showed
    an empty UID, ``web_default()``, where the kubelet never does."""
    return w.pod_uid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"parity:{w.namespace}/{w.ref}"))
#: The env-only paths whose values only the cluster knows (the node, the pod's IPs).
_CLUSTER_ONLY = {"spec.nodeName": "the scheduler picks the node", "status.hostIP": "the node's IP",
                 "status.hostIPs": "the node's IPs", "status.podIP": "the pod's IP in the cluster network",
                 "status.podIPs": "the pod's IPs in the cluster network"}


@valueclass
class FieldValue(Value):
    """A downward API value, and, when the cluster's may differ, why (said in the output)."""

    text: str
    volatile: str | None = None


def kubelet_annotations(w: Workload, epoch: int = 0) -> dict[str, str]:
    """The annotations of the kubelet's copy of the pod (what a downward API ``metadata.annotations``
    file holds): the pod's own, plus the source ("api") and the first-seen time, here a placeholder at
    ``epoch`` (SOURCE_DATE_EPOCH) in the kubelet's format, ``2006-01-02T15:04:05.000000000Z``."""
    seen = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(epoch))
    return {**w.pod_annotations, CONFIG_SOURCE_ANNOTATION: "api", CONFIG_SEEN_ANNOTATION: seen}


def format_map(values: dict[str, str]) -> str:
    """``fieldpath.FormatMap``: sorted ``key="value"`` lines (Go %q), no trailing newline (§3.3)."""
    return "\n".join(f"{k}={go_quote(values[k])}" for k in sorted(values))


class DownwardAPI:
    """The pod as the kubelet's downward API reads it, for volume files and env alike.

    Args:
        w: the workload whose pod is read.
        bad: ``bad(field, message)`` adds a problem (file and object are the caller's): every
            problem is collected, none raised at the first.
        epoch: the placeholder time of the kubelet's first-seen annotation.
    """

    def __init__(self, w: Workload, bad: Callable[[str, str], None], epoch: int = 0):
        self.w, self.bad = w, bad
        self.annotations = kubelet_annotations(w, epoch)

    def field(self, path: str) -> FieldValue:
        """``fieldpath.ExtractFieldPathAsString`` on the kubelet's copy of the pod, plus the paths the
        kubelet answers itself (``podFieldSelectorRuntimeValue``: spec.nodeName, spec.serviceAccountName,
        status.*). ``path`` is one the API server accepted (volumevalidation and containervalidation check it)."""
        w = self.w
        if path == "metadata.name":
            return FieldValue(w.pod_name, None if w.kind in ("Pod", "StatefulSet")
                              else f"the {w.kind} controller names the pod")
        if path == "metadata.namespace":
            return FieldValue(w.namespace)
        if path == "metadata.uid":
            return FieldValue(pod_uid(w), None if w.pod_uid else UID_VOLATILE)
        if path == "spec.serviceAccountName":
            return FieldValue(w.spec.service_account_name or "default")
        if path in _CLUSTER_ONLY:
            return FieldValue("", f"no local value (set to empty): {_CLUSTER_ONLY[path]}")
        labels_volatile = (f"the {w.kind} controller adds labels ({CONTROLLER_LABELS[w.kind]})"
                           if w.kind in CONTROLLER_LABELS else None)
        if path == "metadata.labels":
            return FieldValue(format_map(w.pod_labels), labels_volatile)
        if path == "metadata.annotations":
            return FieldValue(format_map(self.annotations), ANNOTATIONS_VOLATILE)
        head, key, _ = split_subscripted(path)
        if head == "metadata.labels":
            return FieldValue(w.pod_labels.get(key, ""), labels_volatile if key not in w.pod_labels else None)
        return FieldValue(self.annotations.get(key, ""), CONFIG_SEEN_VOLATILE if key == CONFIG_SEEN_ANNOTATION
                          else None)

    def resource(self, sel: ResourceSelector, own: Container | None, where: str) -> FieldValue | None:
        """``resource.ExtractContainerResourceValue`` (pkg/api/v1/resource/helpers.go): ceil(value /
        divisor) of a container's request or limit, CPU in millicores first; the named container
        (``containerName``, ``ExtractResourceValueByContainerName``) or, in env, the container's own.
        A limit not set is the node's allocatable amount (the kubelet's
        ``defaultPodLimitsForDownwardAPI``); a request not set is the limit (the API server's
        defaulting), else 0. None when it cannot be had (a problem at ``where`` added)."""
        ctr = own
        if sel.container_name:
            ctr = next((c for c in self.w.spec.all_containers if c.name == sel.container_name), None)
            if ctr is None:
                self.bad(f"{where}.containerName", f'Not found: "{sel.container_name}"')
                return None
        if ctr is None:
            self.bad(f"{where}.containerName", "Required value: for volumes")
            return None
        section, _, resource = sel.resource.partition(".")
        value = (ctr.resources.limits if section == "limits" else ctr.resources.requests).get(resource)
        if value is None and section == "requests":
            value = ctr.resources.limits.get(resource)  # the API server defaults requests to limits
        try:
            # A zero divisor is the unset one: 1 (ExtractContainerResourceValue: divisor.Cmp(fs.Divisor) == 0).
            divisor = quantity.parse(sel.divisor or "1") or quantity.parse("1")
            if value is None:
                if section == "limits":
                    return FieldValue("0", "no limit set: the kubelet writes the node's allocatable amount")
                value = "0"
            return FieldValue(quantity.divide_ceil(quantity.parse(value), divisor, resource == "cpu"))
        except quantity.QuantityOverflow:  # valid, but what the kubelet's int64 arithmetic makes of it is unknown
            return FieldValue("0", f"{sel.resource} is beyond the kubelet's int64 arithmetic: content not predicted")
        except (ValueError, ZeroDivisionError) as exc:
            self.bad(where, str(exc))
            return None
