"""Read Kubernetes manifests: files, directories, stdin, multi-document streams and lists
(``kind: List``, ``ConfigMapList``... any object with ``items``, as kubectl flattens them).

Produces ``Inputs``: the workloads (any kind with a pod template, reduced to that template) and
the Secrets and ConfigMaps, decoded to bytes and validated as the API server would. The kubelet
rules live in ``kubelet.py``; this module only reads and checks objects (``--secrets`` directories are
read in ``secretdirs.py``, the workloads a command works on chosen in ``selection.py``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from dataclasses import field
from pathlib import Path
from typing import Literal

import yaml

from ..errors import ParityError, Problem, Problems, remember_secrets
from ..gcpause import gc_paused
from ..outdir import OUTPUT_MARK, is_output_dir, output_parts
from ..safefile import FileRefused, read_file, read_stream
from ..values import record
from .names import config_map_key_errors, dns1123_label_errors, invalid, object_name_errors, shown
from .podspec import PodSpec
from .podvalidation import parse_pod_spec
from .volumevalidation import claim_volumes
from .servicespec import Service, parse_service
from .sources import CHART_FILE, MANIFEST_SUFFIXES, Rendered
from .strictfields import unknown_fields
from .yamlload import DuplicateKey, JSONStreamRefused, TooBig, error_text, load_all

MAX_SECRET_BYTES = 1024 * 1024  # the API server's limit on a Secret's (or ConfigMap's) total data

#: The kinds besides workloads that parity reads (others are listed in ``Inputs.other_kinds``).
READ_KINDS = ("Secret", "ConfigMap", "Service", "ServiceAccount")

#: kind -> path of the pod template inside the object.
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}

#: The annotation that makes an object a Helm hook (its value: the hook types, comma-separated), run by
#: Helm around install/upgrade or by ``helm test``, not kept running: left out unless asked for.
HELM_HOOK = "helm.sh/hook"

#: The kinds whose spec has ``replicas``.
REPLICATED_KINDS = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet")

Run = Literal["service", "once", "on-demand"]


@record
class Secret:
    name: str
    namespace: str
    data: dict[str, bytes] = field(repr=False)  # never shown: a repr goes into tracebacks and test reports
    file: str

    @property
    def env_data(self) -> dict[str, bytes]:
        """The keys the kubelet reads for variables (``envFrom``, ``secretKeyRef``): all of them."""
        return self.data


@record
class ConfigMap:
    name: str
    namespace: str
    data: dict[str, bytes]  # `data` (UTF-8) and `binaryData` together; the API keeps their keys disjoint
    file: str
    binary_keys: frozenset[str] = frozenset()  # the keys of `binaryData`

    @property
    def env_data(self) -> dict[str, bytes]:
        """The keys the kubelet reads for variables (``envFrom``, ``configMapKeyRef``): ``data``'s only.
        kubelet_pods.go ``makeEnvironmentVariables`` ranges over ``configMap.Data`` and looks keys up
        there; ``binaryData`` is for volumes (a keyRef to one: "couldn't find key")."""
        if not self.binary_keys:
            return self.data
        return {k: v for k, v in self.data.items() if k not in self.binary_keys}


@record
class ServiceAccount:
    """What parity needs of a ServiceAccount: whether pods running as it get the API token volume."""

    name: str
    namespace: str
    automount: bool | None  # automountServiceAccountToken as written (None: not set)
    file: str

    @property
    def ref(self) -> str:
        return f"ServiceAccount/{self.name}"


@record
class Workload:
    """A pod template and where it came from. ``pod_*`` are the pod's metadata as the kubelet sees it."""

    kind: str
    name: str
    namespace: str
    file: str
    spec: PodSpec
    pod_name: str
    pod_labels: dict[str, str]
    pod_annotations: dict[str, str]
    pod_uid: str | None
    field_prefix: str  # "spec" for a Pod, "spec.template.spec" for a Deployment...
    service_name: str | None = None  # a StatefulSet's spec.serviceName (its pods' subdomain)
    hook: str | None = None  # the object's helm.sh/hook annotation ("pre-install", "test"...): see HELM_HOOK
    replicas: int = 1  # spec.replicas of the kinds that have it (the API server's default: 1)
    controller: str | None = None  # "KIND/NAME" of its controller (metadata.ownerReferences, controller: true)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def qualified_ref(self) -> str:
        """``NS/KIND/NAME``: the workload's identity, as ``--workload`` takes it."""
        return f"{self.namespace}/{self.kind}/{self.name}"

    @property
    def run(self) -> Run:
        """How its pod runs: ``service`` (kept running: restartPolicy Always), ``once`` (to completion:
        a Job, or a pod whose restartPolicy is Never or OnFailure) or ``on-demand`` (a CronJob: the
        cluster starts a Job on its schedule; parity schedules nothing, the user starts it)."""
        if self.kind == "CronJob":
            return "on-demand"
        if self.kind == "Job" or self.spec.restart_policy in ("Never", "OnFailure"):
            return "once"
        return "service"

    @property
    def scale_note(self) -> str | None:
        """What the cluster runs of it that parity does not: parity runs one pod per workload."""
        if self.kind == "DaemonSet":
            return "a DaemonSet runs one pod per node; parity runs one"
        if self.replicas == 0:
            return "replicas: 0: the cluster runs no pod of it; parity runs one"
        if self.replicas > 1:
            return f"replicas: {self.replicas}: parity runs one pod"
        return None


@record
class Inputs:
    workloads: list[Workload] = field(default_factory=list)
    secrets: dict[tuple[str, str], Secret] = field(default_factory=dict)
    configmaps: dict[tuple[str, str], ConfigMap] = field(default_factory=dict)
    services: dict[tuple[str, str], Service] = field(default_factory=dict)  # (namespace, name), input order
    service_accounts: dict[tuple[str, str], ServiceAccount] = field(default_factory=dict)
    other_kinds: list[tuple[str, str]] = field(default_factory=list)  # (file, "Kind/name") ignored
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: "Inputs") -> None:
        self.warnings.extend(other.warnings)
        self.workloads.extend(other.workloads)
        self.secrets.update(other.secrets)
        self.configmaps.update(other.configmaps)
        self.services.update(other.services)
        self.service_accounts.update(other.service_accounts)
        self.other_kinds.extend(other.other_kinds)

    def non_workloads(self) -> list[tuple[str, str]]:
        """(file, "Kind/name") of the objects that are neither workloads nor Secrets/ConfigMaps."""
        return ([(s.file, s.ref) for s in self.services.values()]
                + [(a.file, a.ref) for a in self.service_accounts.values()] + self.other_kinds)


# ---------------------------------------------------------------------------------------------
# Files


def expand_paths(paths: list, warnings: list[str] | None = None) -> list:
    """Files to read, in a stable order: directories are walked for *.yaml, *.yml and *.json. Every
    such entry that is not a directory is listed, so that a FIFO, a device or a symlink loop there is
    refused with a line by ``read_text`` rather than skipped or waited for. A Helm chart met on the way
    (a directory holding Chart.yaml: templates, not manifests) is skipped, with a line in ``warnings``.
    Rendered streams (``sources.Rendered``, from ``-k``) pass through."""
    out: list = []
    for p in paths:
        if p == "-" or isinstance(p, Rendered):
            out.append(p)
        elif os.path.isdir(p):
            charts: list[str] = []
            outputs: list[str] = []
            # In a directory parity wrote (k8s-to-docker -o REPO), what it wrote is skipped and what the
            # user keeps beside it is read.
            found = _manifest_files(str(Path(p)), charts, output_parts(p) if is_output_dir(p) else set(), outputs)
            if warnings is not None:
                warnings.extend(f"{c}: a Helm chart, skipped: render it (helm template NAME {c} | parity COMMAND -)"
                                for c in charts)
                # Said, never silent: a planted marker must not hide manifests kubectl would apply.
                warnings.extend(f"{d}: skipped: parity's own output (it holds {OUTPUT_MARK}); give its files "
                                "directly to read them" for d in outputs)
            if not found:
                raise ParityError(Problem("directory holds no *.yaml, *.yml or *.json file", file=p))
            out.extend(found)
        elif os.path.lexists(p):
            out.append(p)
        else:
            raise ParityError(Problem("no such file or directory", file=p))
    return out


def _manifest_files(root: str, charts: list[str], skip: set[str], outputs: list[str]) -> list[str]:
    """Every entry under ``root`` named *.yaml, *.yml or *.json that is not a directory, sorted, but
    none of ``root``'s entries named in ``skip`` nor anything in a directory parity wrote. The
    walk keeps its own stack (a directory tree 2,000 levels deep exhausted ``Path.rglob``'s recursion)
    and never enters a symlinked directory (no loops), nor a Helm chart below ``root`` (listed in
    ``charts``), nor a directory parity wrote (listed in ``outputs``)."""
    found: list[str] = []
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as exc:
            raise ParityError(Problem(f"cannot read: {exc.strerror}", file=directory)) from None
        if directory != root and any(e.name == CHART_FILE and e.is_file() for e in entries):
            charts.append(directory)
            continue
        for entry in entries:
            if directory == root and entry.name in skip:
                continue
            if entry.is_dir(follow_symlinks=False):
                if not is_output_dir(entry.path):  # parity-out/NAME inside a manifest directory: never input
                    stack.append(entry.path)
                elif _manifest_files(entry.path, [], output_parts(entry.path), []):
                    outputs.append(entry.path)  # it holds manifests parity did not write: say it is skipped
            elif os.path.splitext(entry.name)[1] in MANIFEST_SUFFIXES:
                found.append(entry.path)
    return sorted(found)


def read_text(path: str) -> str:
    """A manifest file's (or stdin's) text: a regular file (or stdin) of at most ``MAX_INPUT_BYTES``."""
    try:
        raw = read_stream(sys.stdin.buffer) if path == "-" else read_file(path)
    except FileRefused as exc:
        raise ParityError(Problem(exc.reason, file=_name(path))) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParityError(Problem(f"not UTF-8 text (byte {exc.start})", file=_name(path))) from None


def _name(path: str) -> str:
    return "<stdin>" if path == "-" else path


#: id(object) -> (the object, its keys given twice: (path from the object, line, first line)).
Duplicates = dict[int, tuple[dict, list[tuple[tuple, int, int]]]]


def parse_documents(text: str, file: str, duplicates: Duplicates | None = None) -> list:
    """The objects of one stream, lists flattened (``_flatten``). YAML errors become one-line problems.
    Keys given twice go to ``duplicates``, by the object (list item or document) they are in."""
    found: list[DuplicateKey] = []
    try:
        docs = load_all(text, found)
    except yaml.YAMLError as exc:
        raise ParityError(Problem(f"invalid YAML: {error_text(exc)}", file=file)) from None
    except RecursionError:
        raise ParityError(Problem("invalid YAML: nesting too deep", file=file)) from None
    except TooBig as exc:  # a "billion laughs", or absurdly deep
        raise ParityError(Problem(f"invalid YAML: {exc}", file=file)) from None
    except JSONStreamRefused as exc:  # a stream that begins with '{': kubectl's JSON decoder refuses it
        raise ParityError(Problem(f"invalid JSON: {exc} (kubectl reads a stream that begins with '{{' as JSON "
                                  "values one after another, and past the second refuses what JSON refuses: "
                                  "'---' lines between them have it read as YAML)", file=file)) from None
    dups: Duplicates = {} if duplicates is None else duplicates
    for dup in found:
        obj, path = docs[dup.doc], dup.path
        while (len(path) > 2 and path[0] == "items" and isinstance(obj, dict) and isinstance(obj.get("items"), list)
               and isinstance(path[1], int) and isinstance(obj["items"][path[1]], dict)):
            obj, path = obj["items"][path[1]], path[2:]  # a list item is an object of its own
        dups.setdefault(id(obj), (obj, []))[1].append((path, dup.line, dup.first_line))
    out: list = []
    for doc in docs:
        _flatten(doc, file, out, dups)
    return out


def _flatten(doc, file: str, out: list, dups: Duplicates) -> None:
    """kubectl's reading of a list (apimachinery ``unstructuredJSONScheme.decode``, cli-runtime
    ``FlattenListVisitor``): any object with an ``items`` key is a list, whatever its kind (``List``,
    ``ConfigMapList``, ``DeploymentList``...); an item with neither ``kind`` nor ``apiVersion`` takes
    the list's kind minus "List" and its apiVersion (``decodeToList``); lists in lists are flattened
    too. ``items: null`` is an empty list; ``items`` that is not a list is refused, as kubectl
    refuses it."""
    if not isinstance(doc, dict) or "items" not in doc:
        out.append(doc)
        return
    items = doc["items"]
    if items is None:
        return
    kind = doc.get("kind") if isinstance(doc.get("kind"), str) else ""
    if not isinstance(items, list):
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        raise ParityError(Problem("must be a list (kubectl reads an object with items as a list of objects)",
                                  file=file, obj=f"{kind or '<no kind>'}/{meta.get('name') or '?'}", field="items"))
    item_kind = kind[: -len("List")] if kind.endswith("List") else kind
    for item in items:
        if isinstance(item, dict) and not item.get("kind") and not item.get("apiVersion"):
            copy = {**item, "kind": item_kind, "apiVersion": doc.get("apiVersion")}
            if id(item) in dups:
                dups[id(copy)] = (copy, dups.pop(id(item))[1])
            item = copy
        _flatten(item, file, out, dups)


# ---------------------------------------------------------------------------------------------
# Objects


def is_kubernetes_object(obj) -> bool:
    """A document that claims to be a Kubernetes object: a mapping with ``apiVersion`` or ``kind``.
    Anything else (a compose file, Helm values, a CI config beside the manifests) is not one."""
    return isinstance(obj, dict) and ("apiVersion" in obj or "kind" in obj)


def load_inputs(paths: list, default_namespace: str = "default", skip_non_kubernetes: bool = False) -> Inputs:
    """Every object of the files, directories or ``-`` given, checked and decoded.

    Args:
        paths: files, directories (walked for manifests), ``-`` for stdin, or streams rendered by
            ``sources.gather`` (``-k``).
        default_namespace: the namespace of objects that name none.
        skip_non_kubernetes: leave out documents that are not Kubernetes objects
            (``is_kubernetes_object``) with one warning per file, instead of refusing them.
    Raises:
        ParityError: every problem found, one per line.
    """
    inputs = Inputs()
    problems = Problems()
    empty: list[str] = []
    for path in expand_paths(paths, problems.warnings):
        if isinstance(path, Rendered):
            file, text = path.name, path.text
        else:
            file, text = _name(path), read_text(path)
        dups: Duplicates = {}
        objs = parse_documents(text, file, dups)
        if skip_non_kubernetes and not all(is_kubernetes_object(o) for o in objs):
            kept = [o for o in objs if is_kubernetes_object(o)]
            problems.warnings.append(f"{file}: skipped {len(objs) - len(kept)} document(s) that are not "
                                     f"Kubernetes objects (no apiVersion or kind)")
            objs = kept
            if not objs:
                continue
        if not objs:
            empty.append(file)
        with gc_paused():  # one object per field of every manifest: see parity.gcpause
            for obj in objs:
                _check_fields(obj, file, problems)
                _load_object(obj, file, default_namespace, inputs, problems, dups.get(id(obj), (None, []))[1])
    if empty and not (inputs.workloads or inputs.secrets or inputs.configmaps or inputs.services
                      or inputs.other_kinds or problems):
        for file in empty:  # nothing at all to read: say which input was empty
            problems.add("empty input: no Kubernetes object", file=file)
    _last_one_wins(inputs, problems.warnings)
    inputs.warnings = problems.warnings
    problems.raise_if_any()
    return inputs


def _given_again(file: str, ref: str, namespace: str, earlier: str) -> str:
    """The warning for an object read twice (same namespace, kind and name): never a silent pick."""
    return (f"{file}: {ref}: given again (namespace {namespace}, first in {earlier}); the last one read is used, "
            "as kubectl apply -f applies both in turn")


def _last_one_wins(inputs: Inputs, warnings: list[str]) -> None:
    """One workload per namespace/kind/name: ``kubectl apply -f`` applies each object given in turn, so
    the cluster keeps the last; it takes the first one's place in the input order. Each is warned."""
    place: dict[tuple[str, str, str], int] = {}
    kept: list[Workload] = []
    for w in inputs.workloads:
        key = (w.namespace, w.kind, w.name)
        if key in place:
            warnings.append(_given_again(w.file, w.ref, w.namespace, kept[place[key]].file))
            kept[place[key]] = w
        else:
            place[key] = len(kept)
            kept.append(w)
    inputs.workloads = kept


def load_objects(objs: list, source: str, default_namespace: str = "default") -> Inputs:
    """Objects already parsed (e.g. fetched from a cluster), checked and decoded exactly as files are;
    ``source`` names them in problems where a file name would go (``cluster:CONTEXT/NAMESPACE``)."""
    inputs = Inputs()
    problems = Problems()
    for obj in objs:
        _load_object(obj, source, default_namespace, inputs, problems)
    inputs.warnings = problems.warnings
    problems.raise_if_any()
    return inputs


def _check_fields(obj, file: str, problems: Problems) -> None:
    """Fields the API server does not know, refused as kubectl's default strict validation refuses
    them (files only: objects read from a cluster were accepted by it)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
        return
    for where, hint in unknown_fields(obj, obj["kind"]):
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name = meta.get("name")
        ref = f"{shown(obj['kind'])}/{shown(name) if isinstance(name, str) and name else '?'}"
        problems.add(f"unknown field{hint}", file=file, obj=ref, field=shown(where))


def _load_object(obj, file: str, default_ns: str, inputs: Inputs, problems: Problems,
                 duplicates: list[tuple[tuple, int, int]] = ()) -> None:
    if not isinstance(obj, dict):
        problems.add(f"not a Kubernetes object (a YAML {type(obj).__name__})", file=file)
        return
    kind = obj.get("kind")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name")
    shown_name = shown(name) if isinstance(name, str) else "?"
    if not isinstance(kind, str) or not kind:
        hint = ("" if "apiVersion" in obj else " (not a Kubernetes object: --skip-non-kubernetes leaves such "
                                               "documents out)")
        problems.add("Required value" + hint, file=file, obj=f"<no kind>/{shown_name if name else '?'}",
                     field="kind")
        return
    ref = f"{shown(kind)}/{shown_name if name else '?'}"
    if not isinstance(name, str) or not name:
        if kind in TEMPLATE_PATHS or kind in READ_KINDS:
            problems.add("Required value", file=file, obj=ref, field="metadata.name")
        else:
            inputs.other_kinds.append((file, ref))
        return
    if kind not in TEMPLATE_PATHS and kind not in READ_KINDS:
        inputs.other_kinds.append((file, ref))
        return
    if duplicates:
        # An object parity reads, with a key given twice: which value was meant? kubectl apply -f keeps the
        # last silently, -k (kustomize) and Helm refuse; parity refuses, with yaml.v3's words. Other kinds
        # are only listed, so their duplicates do not fail the stream (kubectl apply -f takes them).
        for path, line, first in duplicates:
            problems.add(f'line {line}: mapping key "{path[-1]}" already defined at line {first}', file=file,
                         obj=ref, field=field_path(path))
        return
    namespace = meta.get("namespace") or default_ns
    if not isinstance(namespace, str):
        problems.add("must be a string", file=file, obj=ref, field="metadata.namespace")
        return
    # ValidateObjectMeta: the name by the kind's rule, the namespace as a DNS-1123 label. Both become
    # paths, labels and engine object names: nothing else may get further.
    bad_meta = [("metadata.name", name, m) for m in object_name_errors(kind, name)]
    if meta.get("namespace"):
        bad_meta += [("metadata.namespace", namespace, m) for m in dns1123_label_errors(namespace)]
    for where, value, message in bad_meta:
        problems.add(invalid(value, message), file=file, obj=ref, field=where)
    if bad_meta:
        return
    if kind in READ_KINDS:
        parse = {"Secret": _load_secret, "ConfigMap": _load_configmap, "Service": parse_service,
                 "ServiceAccount": _load_service_account}[kind]
        found = parse(obj, name, namespace, file, problems)
        into = {"Secret": inputs.secrets, "ConfigMap": inputs.configmaps, "Service": inputs.services,
                "ServiceAccount": inputs.service_accounts}[kind]
        if found and (namespace, name) in into:  # the last one wins, as with workloads (_last_one_wins)
            problems.warnings.append(_given_again(file, ref, namespace, into[(namespace, name)].file))
        if found:
            into[(namespace, name)] = found
    else:
        workload = _load_workload(obj, kind, name, namespace, file, problems)
        if workload:
            inputs.workloads.append(workload)


def check_namespace(namespace: str, option: str = "--namespace") -> None:
    """A namespace given on the command line, by the rule ``metadata.namespace`` follows.

    Raises:
        ParityError: when it is not a DNS-1123 label.
    """
    errors = dns1123_label_errors(namespace)
    if errors:
        raise ParityError([Problem(f"{option}: {invalid(namespace, m)}") for m in errors])


_IDENT_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


def field_path(path: tuple) -> str:
    """A path of map keys and list indexes as kubectl names fields: ``spec.containers[0].image``; a key
    that is not a plain name in brackets (``metadata.labels[app.kubernetes.io/name]``)."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, str) and _IDENT_RE.fullmatch(step):
            out += f".{step}" if out else step
        else:
            out += f"[{step}]"
    return out


def check_key(key, problems: Problems, file: str, ref: str, field_name: str) -> bool:
    """The API server's ``IsConfigMapKey``; True when the key is valid."""
    if not isinstance(key, str) or not key:
        problems.add("key must be a non-empty string", file=file, obj=ref, field=f"{field_name}[{key}]")
        return False
    errors = config_map_key_errors(key)
    for message in errors:
        problems.add(invalid(key, message), file=file, obj=ref, field=f"{field_name}[{shown(key)}]")
    return not errors


def _string_map(obj: dict, name: str, problems: Problems, file: str, ref: str) -> dict:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add("must be a map of strings", file=file, obj=ref, field=name)
        return {}
    out = {}
    for key, val in value.items():
        if not isinstance(val, str):
            problems.add(f"must be a string, not {_yaml_type(val)}", file=file, obj=ref,
                         field=f"{name}[{shown(str(key))}]")
            continue
        out[key] = val
    return out


def _yaml_type(value) -> str:
    """What a YAML value is, in words (the loader's int and str subclasses, e.g. an integer that keeps
    its written text, are still "a number" / "a string")."""
    for kind, words in ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
                        (list, "a list"), (dict, "a map")):
        if isinstance(value, kind):
            return words
    return "null" if value is None else type(value).__name__


def _b64(value: str) -> bytes:
    """Go's encoding/json []byte decoding: standard alphabet, padding required; CR/LF ignored."""
    cleaned = value.replace("\r", "").replace("\n", "")
    return base64.b64decode(cleaned, validate=True)


def _load_secret(obj: dict, name: str, namespace: str, file: str, problems: Problems) -> Secret | None:
    ref = f"Secret/{name}"
    before = len(problems.items)
    data: dict[str, bytes] = {}
    for key, val in _string_map(obj, "data", problems, file, ref).items():
        if check_key(key, problems, file, ref, "data"):
            try:
                data[key] = _b64(val)
            except (binascii.Error, ValueError):
                problems.add("illegal base64 data (value not shown)", file=file, obj=ref, field=f"data[{key}]")
    # stringData is merged into data by the API server, overwriting a same-named key.
    for key, val in _string_map(obj, "stringData", problems, file, ref).items():
        if check_key(key, problems, file, ref, "stringData"):
            data[key] = val.encode()
            if _looks_base64_encoded(val):
                problems.warnings.append(f"{file}: {ref}: stringData[{shown(key)}]: looks base64-encoded; stringData "
                                         "takes the value as it is (data: takes base64), so the file holds the "
                                         "encoded text")
    remember_secrets(data.values())
    _check_total_size(sum(map(len, data.values())), problems, file, ref)
    if len(problems.items) > before:
        return None
    return Secret(name, namespace, data, file)


def _looks_base64_encoded(value: str) -> bool:
    """Whether a stringData value is probably base64 of text (a value meant for ``data:``): strict
    base64 of at least 12 characters whose bytes are printable UTF-8 text. A random token rarely is."""
    if len(value) < 12 or len(value) % 4 or not value.isascii():
        return False
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return text.strip() != "" and all(c.isprintable() or c in "\n\r\t" for c in text)


def _check_total_size(total: int, problems: Problems, file: str, ref: str) -> None:
    """The API server's limit on a Secret's or ConfigMap's data of ``total`` bytes (``ref``:
    "Secret/NAME", "ConfigMap/NAME")."""
    if total > MAX_SECRET_BYTES:
        kind = ref.split("/", 1)[0]
        problems.add(f"data is {total} bytes; a {kind} holds at most {MAX_SECRET_BYTES}", file=file, obj=ref,
                     field="data")


def _load_configmap(obj: dict, name: str, namespace: str, file: str, problems: Problems) -> ConfigMap | None:
    ref = f"ConfigMap/{name}"
    before = len(problems.items)
    data: dict[str, bytes] = {}
    binary_keys: set[str] = set()
    for key, val in _string_map(obj, "data", problems, file, ref).items():
        if check_key(key, problems, file, ref, "data"):
            data[key] = val.encode()
    for key, val in _string_map(obj, "binaryData", problems, file, ref).items():
        if not check_key(key, problems, file, ref, "binaryData"):
            continue
        if key in data:
            problems.add("duplicate of key present in data", file=file, obj=ref, field=f"binaryData[{key}]")
            continue
        try:
            data[key] = _b64(val)
        except (binascii.Error, ValueError):
            problems.add("illegal base64 data", file=file, obj=ref, field=f"binaryData[{key}]")
        binary_keys.add(key)
    _check_total_size(sum(map(len, data.values())), problems, file, ref)
    if len(problems.items) > before:
        return None
    return ConfigMap(name, namespace, data, file, frozenset(binary_keys))


def _load_service_account(obj: dict, name: str, namespace: str, file: str,
                          problems: Problems) -> ServiceAccount | None:
    """What a ServiceAccount decides for its pods: whether they get the token volume (kubelet §7.5)."""
    automount = obj.get("automountServiceAccountToken")
    if automount is not None and not isinstance(automount, bool):
        problems.add("must be true or false", file=file, obj=f"ServiceAccount/{name}",
                     field="automountServiceAccountToken")
        return None
    return ServiceAccount(name, namespace, automount, file)


def pod_template(obj: dict, kind: str):
    """The pod template of a workload object (the object itself for a Pod), or whatever stands at its
    path (None, or not a map, in a bad manifest)."""
    template = obj
    for step in TEMPLATE_PATHS[kind]:
        template = template.get(step) if isinstance(template, dict) else None
    return template


def _load_workload(obj: dict, kind: str, name: str, namespace: str, file: str,
                   problems: Problems) -> Workload | None:
    ref = f"{kind}/{name}"
    template = pod_template(obj, kind)
    field_prefix = ".".join(TEMPLATE_PATHS[kind] + ("spec",))
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        problems.add("Required value: a pod spec", file=file, obj=ref, field=field_prefix)
        return None
    pod_meta = obj.get("metadata") if kind == "Pod" else template.get("metadata")
    pod_meta = pod_meta if isinstance(pod_meta, dict) else {}
    labels = _meta_map(pod_meta, "labels", problems, file, ref, field_prefix)
    annotations = _meta_map(pod_meta, "annotations", problems, file, ref, field_prefix)
    claims = (claim_volumes(obj["spec"].get("volumeClaimTemplates"), name, "spec.volumeClaimTemplates", problems,
                            file, ref) if kind == "StatefulSet" else None)
    spec = parse_pod_spec(template["spec"], field_prefix, problems, file, ref, claims)
    replicas = _replicas(obj, kind, problems, file, ref)
    if spec is None or replicas is None:
        return None
    uid = pod_meta.get("uid") if kind == "Pod" and isinstance(pod_meta.get("uid"), str) else None
    pod_name = f"{name}-0" if kind == "StatefulSet" else name
    service_name = obj["spec"].get("serviceName") if kind == "StatefulSet" else None
    if service_name is not None and not isinstance(service_name, str):
        problems.add("must be a string", file=file, obj=ref, field="spec.serviceName")
        return None
    own_annotations = obj["metadata"].get("annotations") if isinstance(obj.get("metadata"), dict) else None
    hook = own_annotations.get(HELM_HOOK) if isinstance(own_annotations, dict) else None
    return Workload(kind, name, namespace, file, spec, pod_name, labels, annotations, uid, field_prefix,
                    service_name=service_name or None, hook=hook.strip() if isinstance(hook, str) else None,
                    replicas=replicas, controller=_controller(obj))


def _controller(obj: dict) -> str | None:
    """``KIND/NAME`` of the owner reference marked ``controller: true`` (the API server allows one;
    a namespaced object's owner is in its namespace), or None."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    owners = meta.get("ownerReferences")
    for owner in owners if isinstance(owners, list) else ():
        if (isinstance(owner, dict) and owner.get("controller") is True and isinstance(owner.get("kind"), str)
                and isinstance(owner.get("name"), str)):
            return f"{owner['kind']}/{owner['name']}"
    return None


def _replicas(obj: dict, kind: str, problems: Problems, file: str, ref: str) -> int | None:
    """``spec.replicas`` (1 when not set, as the API server defaults it), or None when refused."""
    value = obj["spec"].get("replicas") if kind in REPLICATED_KINDS and isinstance(obj.get("spec"), dict) else None
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(f"must be a whole number, not {_yaml_type(value)}", file=file, obj=ref, field="spec.replicas")
        return None
    if value < 0:  # ValidateNonnegativeField
        problems.add(f"Invalid value: {value}: must be greater than or equal to 0", file=file, obj=ref,
                     field="spec.replicas")
        return None
    return int(value)


def _meta_map(meta: dict, name: str, problems: Problems, file: str, ref: str, field_prefix: str) -> dict[str, str]:
    value = meta.get(name) or {}
    where = field_prefix[: -len("spec")] + "metadata." + name if field_prefix != "spec" else f"metadata.{name}"
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.add("must be a map of strings", file=file, obj=ref, field=where)
        return {}
    return {str(k): v for k, v in value.items()}

