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

from ..errors import Problems
from ..kube.fieldref import DownwardAPI
from ..kube.manifests import Inputs, Workload
from ..kube.podspec import Container, FieldSelector, KeySelector
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
    problems = Problems()
    downward = DownwardAPI(w, lambda field, message: problems.add(message, file=w.file, obj=w.ref, field=field))
    for src in ctr.env_from:
        secret = src.kind == "secret"
        kind = "secretRef" if secret else "configMapRef"
        obj = (inputs.secrets if secret else inputs.configmaps).get((w.namespace, src.name))
        if obj is None:
            if not src.optional:
                _missing(problems, w, f"{src.field}.{kind}.name",
                         f'{"secret" if secret else "configmap"} "{src.name}" not found')
            continue
        for key, value in obj.data.items():
            name = src.prefix + key
            if not _ENV_NAME.match(name):
                env.notes.append(f"envFrom key {key!r} skipped: not a valid variable name")
                continue
            _set_text(env, name, value, sensitive=True)
    for item in ctr.env:
        name, ref = item.name, item.value_from
        if ref is None:
            sensitive = env.references_objects(item.value)
            env.set(name, env.expand(item.value, sensitive_ok=sensitive), sensitive)
        elif isinstance(ref, KeySelector):
            secret = ref.kind == "secret"
            what = "secret" if secret else "configmap"
            obj = (inputs.secrets if secret else inputs.configmaps).get((w.namespace, ref.name))
            if obj is None or ref.key not in obj.data:
                if not ref.optional:
                    problem = (f'{what} "{ref.name}" not found' if obj is None
                               else f'{what} "{ref.name}" has no key {ref.key!r}')
                    _missing(problems, w, f"{item.field}.valueFrom.{'secretKeyRef' if secret else 'configMapKeyRef'}",
                             problem)
                continue
            _set_text(env, name, obj.data[ref.key], sensitive=True)
        else:  # the downward API, as a volume file gets it (kube/fieldref.py)
            if isinstance(ref, FieldSelector):
                value, what = downward.field(ref.field_path), f"fieldRef {ref.field_path}"
            else:
                value = downward.resource(ref, ctr, f"{item.field}.valueFrom.resourceFieldRef")
                what = f"resourceFieldRef {ref.resource}"
            if value is None:
                continue
            if value.volatile:
                env.notes.append(f"{name}: {what}: {value.volatile}")
            env.set(name, value.text, False)
    problems.raise_if_any()
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


def _missing(problems: Problems, w: Workload, field_path: str, message: str) -> None:
    problems.add(f"{message} (not optional: the container would fail with CreateContainerConfigError)",
                 file=w.file, obj=w.ref, field=field_path)
