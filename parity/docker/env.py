"""A container's environment as Kubernetes builds it, split by whether a value may be written inline.

Kubernetes order: ``envFrom`` sources first, then ``env`` entries (a later name wins), then the
kubelet's service variables (``KUBERNETES_SERVICE_*`` and the service links, ``kube/services.py``)
that neither set. ``$(VAR)`` references in values, ``command`` and ``args`` expand to variables defined
earlier or to a service variable (kubelet ``makeEnvironmentVariables``: ``MappingFuncFor(tmpEnv,
serviceEnv)``; ``$$(VAR)`` is a literal), undefined ones stay as written. Values that come from a Secret or ConfigMap, or that
expand one, go to an owner-only env file; only literal values are written into compose.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import ParityError, Problem
from ..kube import quantity
from ..kube.kubelet import CONFIG_SEEN_ANNOTATION, kubelet_annotations
from ..kube.manifests import Inputs, Workload
from ..kube.podspec import Container
from ..kube.services import service_env

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


@dataclass
class ContainerEnv:
    plain: dict[str, str] = field(default_factory=dict)
    from_objects: dict[str, str] = field(default_factory=dict, repr=False)  # never printed or inlined
    notes: list[str] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)  # the kubelet's service variables (expansion source)

    def set(self, name: str, value: str, sensitive: bool) -> None:
        self.plain.pop(name, None)
        self.from_objects.pop(name, None)
        (self.from_objects if sensitive else self.plain)[name] = value

    def expand(self, text: str, sensitive_ok: bool = False) -> str:
        """Expand ``$(VAR)``; a reference to an object-sourced value is left as written (and noted)
        unless the result is itself kept out of compose.yaml."""

        def repl(match: re.Match) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1)
            if name in self.plain:
                return self.plain[name]
            if name in self.services and name not in self.from_objects:
                return self.services[name]
            if name in self.from_objects:
                if sensitive_ok:
                    return self.from_objects[name]
                self.notes.append(f"$({name}) is not expanded: its value comes from a Secret/ConfigMap "
                                  "and parity does not write such values into compose.yaml")
            return match.group(0)

        return _REF.sub(repl, text)

    def references_objects(self, text: str) -> bool:
        return any(m.group(1) in self.from_objects for m in _REF.finditer(text) if m.group(1))

    def env_file_text(self) -> str:
        """Lines for Compose ``format: raw`` and ``docker run --env-file``: KEY=VALUE, taken literally."""
        return "".join(f"{k}={v}\n" for k, v in self.from_objects.items())


def container_env(w: Workload, ctr: Container, inputs: Inputs) -> ContainerEnv:
    env = ContainerEnv(services=service_env(w.namespace, w.spec.enable_service_links,
                                            list(inputs.services.values())))
    raw = ctr.raw
    for i, src in enumerate(raw.get("envFrom") or []):
        if not isinstance(src, dict):
            continue
        prefix = str(src.get("prefix") or "")
        for kind, store in (("secretRef", inputs.secrets), ("configMapRef", inputs.configmaps)):
            ref = src.get(kind)
            if not isinstance(ref, dict):
                continue
            obj = store.get((w.namespace, str(ref.get("name"))))
            if obj is None:
                if not ref.get("optional"):
                    _missing(w, f"{ctr.field}.envFrom[{i}].{kind}.name",
                             f'{"secret" if kind == "secretRef" else "configmap"} "{ref.get("name")}" not found')
                continue
            for key, value in obj.data.items():
                name = prefix + key
                if not _ENV_NAME.match(name):
                    env.notes.append(f"envFrom key {key!r} skipped: not a valid variable name")
                    continue
                _set_text(env, name, value, sensitive=True)
    for i, item in enumerate(raw.get("env") or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        where = f"{ctr.field}.env[{i}]"
        if "valueFrom" not in item:
            value = str(item.get("value") or "")
            sensitive = env.references_objects(value)
            env.set(name, env.expand(value, sensitive_ok=sensitive), sensitive)
            continue
        vf = item["valueFrom"] or {}
        for kind, store, what in (("secretKeyRef", inputs.secrets, "secret"),
                                  ("configMapKeyRef", inputs.configmaps, "configmap")):
            ref = vf.get(kind)
            if not isinstance(ref, dict):
                continue
            obj = store.get((w.namespace, str(ref.get("name"))))
            key = str(ref.get("key"))
            if obj is None or key not in obj.data:
                if not ref.get("optional"):
                    problem = (f'{what} "{ref.get("name")}" not found' if obj is None
                               else f'{what} "{ref.get("name")}" has no key {key!r}')
                    _missing(w, f"{where}.valueFrom.{kind}", problem)
                continue
            _set_text(env, name, obj.data[key], sensitive=True)
        if "fieldRef" in vf:
            env.set(name, _field_value(w, str((vf["fieldRef"] or {}).get("fieldPath")), env), False)
        if "resourceFieldRef" in vf:
            env.set(name, _resource_value(ctr, vf["resourceFieldRef"] or {}, env), False)
    for name, value in env.services.items():  # the kubelet adds those the container does not set
        if name not in env.plain and name not in env.from_objects:
            env.plain[name] = value
    env.notes.append(SERVICE_ENV_NOTE)
    return env


#: Said once per container: the kubelet's service variables hold cluster IPs, which do not exist here.
SERVICE_ENV_NOTE = ("KUBERNETES_SERVICE_HOST and the other Service variables name each Service by its DNS name "
                    "(NAME.NAMESPACE.svc.cluster.local) where the cluster gives its virtual IP; no Kubernetes API "
                    "server runs here (kubernetes.default.svc.cluster.local does not resolve)")


def _set_text(env: ContainerEnv, name: str, data: bytes, sensitive: bool) -> None:
    text = data.decode("utf-8", errors="replace")
    if "\n" in text or "\r" in text or "\x00" in text:
        what = "a NUL byte" if "\x00" in text else "a line break"
        env.notes.append(f"{name} is left out: its value has {what}, which env files cannot carry")
        return
    env.set(name, text, sensitive)


def _missing(w: Workload, field_path: str, message: str) -> None:
    raise ParityError(Problem(f"{message} (not optional: the container would fail with "
                              "CreateContainerConfigError)", file=w.file, obj=w.ref, field=field_path))


def _field_value(w: Workload, path: str, env: ContainerEnv) -> str:
    simple = {"metadata.name": w.pod_name, "metadata.namespace": w.namespace,
              "spec.serviceAccountName": w.spec.service_account_name or "default"}
    if path in simple:
        return simple[path]
    # The kubelet reads env fieldRefs from its own copy of the pod, with its annotations (kubelet_annotations).
    for prefix, values in (("metadata.labels['", w.pod_labels), ("metadata.annotations['", kubelet_annotations(w))):
        if path.startswith(prefix) and path.endswith("']"):
            if path[len(prefix):-2] == CONFIG_SEEN_ANNOTATION:
                env.notes.append(f"fieldRef {path} holds a placeholder: the kubelet's first-seen time of the pod")
            return values.get(path[len(prefix):-2], "")
    env.notes.append(f"fieldRef {path} has no local value (set to empty)")
    return ""


def _resource_value(ctr: Container, ref: dict, env: ContainerEnv) -> str:
    section, _, resource = str(ref.get("resource")).partition(".")
    resources = ctr.raw.get("resources") or {}
    value = (resources.get(section) or {}).get(resource)
    if value is None and section == "requests":
        value = (resources.get("limits") or {}).get(resource)
    if value is None:
        env.notes.append(f"resourceFieldRef {ref.get('resource')}: no value set (the node's amount in the cluster)")
        return "0"
    try:
        return quantity.divide_ceil(quantity.parse(value), quantity.parse(ref.get("divisor") or "1"),
                                    resource == "cpu")
    except (ValueError, ZeroDivisionError):
        env.notes.append(f"resourceFieldRef {ref.get('resource')}: cannot compute")
        return "0"
