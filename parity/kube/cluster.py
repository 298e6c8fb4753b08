"""``--from-cluster KIND/NAME``: read a workload and the Secrets/ConfigMaps it references from a cluster.

Developers often have the manifests but not the real Secret values; the cluster has both. Objects
are fetched as the raw JSON the API server sends (what ``kubectl get -o json`` prints) and fed to
``manifests.load_objects``, so validation and decoding are exactly those of files on disk.

Nothing fetched is written to disk or logged, and no message carries a value: problems name the
object, the namespace and the API server. ``kubernetes`` is imported inside functions only, so that
``parity --help`` and commands on files never load it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ParityError, Problem
from .kubelet import ROOT_CA_CONFIGMAP, SA_CA_FILE, SA_MOUNT_PATH, SA_NAMESPACE_FILE, SA_TOKEN_FILE
from .manifests import Inputs, load_objects
from .podspec import ConfigMapSource, KeySelector, PodSpec, ProjectedSource, SecretSource
from .selection import parse_kind_name

#: Where a pod finds its service account credentials (in-cluster config); tests point it elsewhere.
IN_CLUSTER_DIR = SA_MOUNT_PATH
#: (connect, read) seconds for each API request.
REQUEST_TIMEOUT = (10, 60)
#: urllib3 retries per request. None, as kubectl: a dead cluster fails at once, and urllib3 would
#: log each retry as a WARNING on stderr.
RETRIES = 0


@dataclass(frozen=True)
class Resource:
    """How to read one kind: its RBAC resource name (for messages) and the client method that GETs it."""

    plural: str
    api: str
    reader: str


RESOURCES: dict[str, Resource] = {
    "Pod": Resource("pods", "CoreV1Api", "read_namespaced_pod"),
    "PodTemplate": Resource("podtemplates", "CoreV1Api", "read_namespaced_pod_template"),
    "ReplicationController": Resource("replicationcontrollers", "CoreV1Api",
                                      "read_namespaced_replication_controller"),
    "Secret": Resource("secrets", "CoreV1Api", "read_namespaced_secret"),
    "ConfigMap": Resource("configmaps", "CoreV1Api", "read_namespaced_config_map"),
    "Deployment": Resource("deployments.apps", "AppsV1Api", "read_namespaced_deployment"),
    "ReplicaSet": Resource("replicasets.apps", "AppsV1Api", "read_namespaced_replica_set"),
    "StatefulSet": Resource("statefulsets.apps", "AppsV1Api", "read_namespaced_stateful_set"),
    "DaemonSet": Resource("daemonsets.apps", "AppsV1Api", "read_namespaced_daemon_set"),
    "Job": Resource("jobs.batch", "BatchV1Api", "read_namespaced_job"),
    "CronJob": Resource("cronjobs.batch", "BatchV1Api", "read_namespaced_cron_job"),
}


@dataclass
class Connection:
    """An API client bound to one context and namespace; ``label`` names the source in problems."""

    api_client: Any
    context: str
    namespace: str

    @property
    def host(self) -> str:
        return str(self.api_client.configuration.host)

    @property
    def label(self) -> str:
        return f"cluster:{self.context}/{self.namespace}"

    def close(self) -> None:
        self.api_client.close()

    def get(self, kind: str, name: str, *, missing_ok: bool = False) -> dict | None:
        """The object as the API server sends it; None when it does not exist and ``missing_ok``."""
        import urllib3
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        resource = RESOURCES[kind]
        reader = getattr(getattr(client, resource.api)(self.api_client), resource.reader)
        try:
            raw = reader(name, self.namespace, _preload_content=False, _request_timeout=REQUEST_TIMEOUT).data
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            if missing_ok and getattr(exc, "status", None) == 404:
                return None
            raise self.error(exc, "get", resource.plural, f"{kind}/{name}") from None
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise ParityError(Problem("the API server sent something that is not an object", file=self.label,
                                      obj=f"{kind}/{name}"))
        obj.setdefault("kind", kind)  # single GETs carry kind and apiVersion; keep the loader's input whole
        return obj

    def error(self, exc: BaseException, verb: str, plural: str, ref: str | None) -> ParityError:
        """One line for a failed request. Only an error ``Status``'s own message is ever quoted, never a body
        that could hold an object's data."""
        status = getattr(exc, "status", None)
        where = dict(file=self.label, obj=ref)
        if status == 403:
            return ParityError(Problem(f'forbidden: cannot {verb} {plural} in namespace "{self.namespace}" (RBAC)',
                                       **where))
        if status == 404:
            return ParityError(Problem(f'not found in namespace "{self.namespace}"', **where))
        if status == 401:
            return ParityError(Problem(f'unauthorized: the API server at {self.host} rejected the credentials '
                                       f'of context "{self.context}"', **where))
        if status and isinstance(status, int):
            return ParityError(Problem(f"the API server answered {status} {getattr(exc, 'reason', '') or ''}"
                                       f"{_status_message(exc)}".rstrip(), **where))
        return ParityError(Problem(f"cannot reach the API server at {self.host}: {_network_reason(exc)}",
                                   file=self.label))


def _status_message(exc: BaseException) -> str:
    """A ``Status`` object's ``message`` (the API server's own one-line explanation), if any."""
    try:
        message = json.loads(getattr(exc, "body", None) or "{}").get("message")
    except (ValueError, AttributeError):
        return ""
    return f": {message.splitlines()[0]}" if isinstance(message, str) and message else ""


def _network_reason(exc: BaseException) -> str:
    """``Connection refused``, ``timed out``, a TLS failure... from urllib3's nested exceptions."""
    text = str(getattr(exc, "reason", None) or exc)
    if "SSLError" in text or "CERTIFICATE" in text.upper():
        detail = text.splitlines()[-1]
        m = re.search(r"\[SSL[^\]]*\] ([^(]+)", detail)
        return "TLS: " + (m.group(1).strip() if m else detail.strip())
    m = re.search(r"\[Errno (-?\d+)\] ([^'\")]+)", text)
    if m:
        return m.group(2).strip()
    if "timed out" in text.lower():
        return "timed out"
    return text.splitlines()[0][:200] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Configuration, as kubectl finds it


def connect(*, context: str | None, namespace: str | None, kubeconfig: str | None) -> Connection:
    """A client configured as kubectl would be: ``--kubeconfig``, else ``$KUBECONFIG`` (a list), else
    ``~/.kube/config``; in-cluster config when none of these exists and we run in a pod."""
    paths = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    existing = [p for p in paths.split(os.pathsep) if p and os.path.exists(os.path.expanduser(p))]
    if not existing and not kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return _connect_in_cluster(context, namespace)
    if not existing:
        raise ParityError(Problem("no such file (give --kubeconfig, set KUBECONFIG, or run in a pod)",
                                  file=f"kubeconfig {paths}"))
    return _connect_kubeconfig(existing, context, namespace)


def _connect_kubeconfig(paths: list[str], context: str | None, namespace: str | None) -> Connection:
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    where = f"kubeconfig {os.pathsep.join(paths)}"
    contexts, current = _read_contexts(paths)
    name = context or current
    if not name:
        raise ParityError(Problem("no current-context; give --context", file=where))
    if name not in contexts:
        have = ", ".join(contexts) or "none"
        raise ParityError(Problem(f'context "{name}" not found (contexts: {have})', file=where))
    ns = namespace or contexts[name].get("namespace") or "default"
    cfg = client.Configuration()
    cfg.retries = RETRIES
    try:
        config.load_kube_config(config_file=os.pathsep.join(paths), context=name, client_configuration=cfg,
                                persist_config=False)
    except (ConfigException, KeyError, TypeError, AttributeError, ValueError, OSError) as exc:
        raise ParityError(Problem(f'context "{name}": {_config_reason(exc)}', file=where)) from None
    if not str(cfg.host or "").startswith(("https://", "http://")):
        raise ParityError(Problem(f'context "{name}": its cluster has no https:// server URL', file=where))
    return Connection(client.ApiClient(cfg), name, ns)


def _read_contexts(paths: list[str]) -> tuple[dict[str, dict], str | None]:
    """Contexts by name and the current one, merged as kubectl does: the first file to set a name or
    ``current-context`` wins."""
    import yaml

    from ..safefile import FileRefused, read_file
    from .yamlload import KubeLoader

    contexts: dict[str, dict] = {}
    current: str | None = None
    for path in paths:
        try:  # bounded, a regular file only (a FIFO would hang), built as client-go reads it
            doc = yaml.load(read_file(os.path.expanduser(path)).decode("utf-8"), Loader=KubeLoader) or {}
        except FileRefused as exc:
            raise ParityError(Problem(exc.reason, file=f"kubeconfig {path}")) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)  # line/column only: the file holds credentials
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ParityError(Problem(f"invalid YAML{at}", file=f"kubeconfig {path}")) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ParityError(Problem(f"cannot read: {getattr(exc, 'strerror', None) or exc}",
                                      file=f"kubeconfig {path}")) from None
        if not isinstance(doc, dict):
            raise ParityError(Problem("invalid kubeconfig: not a map", file=f"kubeconfig {path}"))
        for item in doc.get("contexts") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                contexts.setdefault(item["name"], item.get("context") if isinstance(item.get("context"), dict) else {})
        if not current and isinstance(doc.get("current-context"), str):
            current = doc["current-context"] or None
    return contexts, current


def _config_reason(exc: BaseException) -> str:
    """The client's own message, minus what could carry credentials: it names kubeconfig entries by
    their whole dict (token included), so everything from the first ``{`` is dropped."""
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r" in [^ ]*\{.*$", "", text).split("{")[0].rstrip()
    return text[:200]


def _connect_in_cluster(context: str | None, namespace: str | None) -> Connection:
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    if context:
        raise ParityError(f"--context {context}: running in a pod without a kubeconfig; only the in-cluster "
                          "service account is available")
    cfg = client.Configuration()
    cfg.retries = RETRIES
    try:
        InClusterConfigLoader(token_filename=os.path.join(IN_CLUSTER_DIR, SA_TOKEN_FILE),
                              cert_filename=os.path.join(IN_CLUSTER_DIR, SA_CA_FILE)).load_and_set(cfg)
    except ConfigException as exc:
        raise ParityError(f"in-cluster config: {_config_reason(exc)}") from None
    ns = namespace
    if not ns:
        try:
            with open(os.path.join(IN_CLUSTER_DIR, SA_NAMESPACE_FILE), encoding="utf-8") as f:
                ns = f.read().strip()
        except OSError:
            ns = ""
    return Connection(client.ApiClient(cfg), "in-cluster", ns or "default")


# ---------------------------------------------------------------------------------------------
# What a pod template references


@dataclass
class Reference:
    kind: str  # "Secret" or "ConfigMap"
    name: str
    optional: bool  # every reference to it says optional: true
    volume: bool  # at least one volume (not only env) uses it

    def note(self, optional: bool, volume: bool) -> None:
        self.optional = self.optional and optional
        self.volume = self.volume or volume


def references(spec: PodSpec) -> list[Reference]:
    """Secrets and ConfigMaps a pod spec uses: volumes (projected sources too), ``env[].valueFrom``
    and ``envFrom`` of every container (ephemeral ones too), in a stable order."""
    found: dict[tuple[str, str], Reference] = {}

    def add(kind: str, name: str, optional: bool, volume: bool) -> None:
        if name:
            ref = found.setdefault((kind, name), Reference(kind, name, True, False))
            ref.note(optional, volume)

    for vol in spec.volumes:
        sources = vol.source.sources if isinstance(vol.source, ProjectedSource) else (vol.source,)
        for src in sources:
            if isinstance(src, (SecretSource, ConfigMapSource)):
                add(_KIND[type(src)], src.name, src.optional, True)
    env = [e for ctr in spec.all_containers for e in ctr.env] + list(spec.ephemeral_env)
    env_from = [e for ctr in spec.all_containers for e in ctr.env_from] + list(spec.ephemeral_env_from)
    for var in env:
        if isinstance(var.value_from, KeySelector):
            add(_KIND[var.value_from.kind], var.value_from.name, var.value_from.optional, False)
    for src in env_from:
        add(_KIND[src.kind], src.name, src.optional, False)
    return [found[k] for k in sorted(found)]


#: The API kind of what a typed source names.
_KIND = {SecretSource: "Secret", ConfigMapSource: "ConfigMap", "secret": "Secret", "configMap": "ConfigMap"}


# ---------------------------------------------------------------------------------------------
# The entry point


def load_from_cluster(ref: str, *, context: str | None, namespace: str | None, kubeconfig: str | None) -> Inputs:
    """The workload ``ref`` names and every Secret/ConfigMap its pod template references, as ``Inputs``.

    A referenced object that does not exist is left out: the kubelet model reports the missing
    non-optional ones a volume needs; one only env needs gets a warning here."""
    kind, name = parse_kind_name(ref, "--from-cluster")
    conn = connect(context=context, namespace=namespace, kubeconfig=kubeconfig)
    try:
        workload = conn.get(kind, name)
        assert workload is not None
        objects, warnings = [workload], []
        # The typed pod spec, checked as the whole input is below (its warnings said then, once).
        typed = load_objects([workload], conn.label, conn.namespace).workloads
        refs = references(typed[0].spec) if typed else []
        if kind != "Pod" and not any((r.kind, r.name) == ("ConfigMap", ROOT_CA_CONFIGMAP) for r in refs):
            # The pods a template makes get the service-account volume at admission (kubelet.admitted_spec),
            # whose ca.crt is this ConfigMap's; a Pod read back has that volume already, referenced above.
            refs.append(Reference("ConfigMap", ROOT_CA_CONFIGMAP, True, True))
        for r in refs:
            obj = conn.get(r.kind, r.name, missing_ok=True)
            if obj is not None:
                objects.append(obj)
            elif not r.optional and not r.volume:
                warnings.append(f'{conn.label}: {r.kind}/{r.name}: not found in namespace "{conn.namespace}"; '
                                f"{kind}/{name} needs it for env (the container would not start)")
        inputs = load_objects(objects, conn.label, conn.namespace)
    finally:
        conn.close()
    inputs.warnings.extend(warnings)
    return inputs
