"""Field references: the downward API's ``fieldRef`` and ``resourceFieldRef``, for volume files and
container env alike.

Kubernetes shares one extraction between the two paths: ``pkg/fieldpath/fieldpath.go``
(``SplitMaybeSubscriptedPath``, ``ExtractFieldPathAsString``, ``FormatMap``) and
``pkg/api/v1/resource/helpers.go`` (``ExtractContainerResourceValue``). So does parity: the syntax
and the supported paths live here, and so do the values.
"""

from __future__ import annotations

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
