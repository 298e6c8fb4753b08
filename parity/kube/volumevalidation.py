"""A pod's volumes, typed (``podspec.Volume`` and its sources) and validated as ``validateVolumes``
validates them: secret, configMap, downwardAPI and projected sources (items, modes, paths), emptyDir,
persistentVolumeClaim, hostPath and ephemeral volumes, a StatefulSet's claim templates, and the types
parity does not reproduce (kept, said).
"""

from __future__ import annotations

import posixpath

from ..errors import Problems
from . import quantity
from .checker import QUANTITY_FORMAT, _Checker, _check_resource_selector
from .names import dns1123_subdomain_errors, go_quote, invalid
from .podspec import (HOST_PATH_TYPES, ClaimSource, ConfigMapSource, DownwardFile, DownwardSource, EmptyDirSource,
                      EphemeralSource, HostPathSource, KeyToPath, OtherSource, ProjectedSource, SecretSource,
                      TokenSource, Volume)


DOWNWARD_VOLUME_FIELDS = ("metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels",
                          "metadata.annotations")


def _parse_items(raw, prefix: str, c: _Checker) -> tuple[KeyToPath, ...]:
    items = []
    for i, item in enumerate(c.list(raw, prefix)):
        where = f"{prefix}[{i}]"
        item = c.map(item, where)
        key = c.string(item.get("key"), f"{where}.key", required=True)
        path = c.local_path(item.get("path"), f"{where}.path")
        mode = c.mode(item.get("mode"), f"{where}.mode")
        if key and path:
            items.append(KeyToPath(key, path, mode, where))
    return tuple(items)


def _default_mode(raw: dict, prefix: str, c: _Checker) -> int:
    """A volume's ``defaultMode``, 0644 when unset (as the API server defaults it)."""
    mode = c.mode(raw.get("defaultMode"), f"{prefix}.defaultMode")
    return 0o644 if mode is None else mode


def _parse_secret(raw: dict, prefix: str, c: _Checker, projected: bool) -> SecretSource:
    name_field = "name" if projected else "secretName"
    name = c.string(raw.get(name_field), f"{prefix}.{name_field}", required=True) or ""
    mode = None if projected else _default_mode(raw, prefix, c)  # before the items: the order problems print in
    return SecretSource(name, _parse_items(raw.get("items"), f"{prefix}.items", c),
                        c.boolean(raw.get("optional"), f"{prefix}.optional"), mode, prefix)


def _parse_configmap(raw: dict, prefix: str, c: _Checker, projected: bool) -> ConfigMapSource:
    name = c.string(raw.get("name"), f"{prefix}.name", required=True) or ""
    mode = None if projected else _default_mode(raw, prefix, c)
    return ConfigMapSource(name, _parse_items(raw.get("items"), f"{prefix}.items", c),
                           c.boolean(raw.get("optional"), f"{prefix}.optional"), mode, prefix)


def _parse_downward(raw: dict, prefix: str, c: _Checker, projected: bool) -> DownwardSource:
    items = []
    for i, item in enumerate(c.list(raw.get("items"), f"{prefix}.items")):
        where = f"{prefix}.items[{i}]"
        item = c.map(item, where)
        path = c.local_path(item.get("path"), f"{where}.path")
        mode = c.mode(item.get("mode"), f"{where}.mode")
        fref = c.map(item.get("fieldRef"), f"{where}.fieldRef")
        rref = c.map(item.get("resourceFieldRef"), f"{where}.resourceFieldRef")
        field_path = resource = container = divisor = None
        if bool(fref) == bool(rref):
            c.bad(where, "must specify exactly one of fieldRef and resourceFieldRef")
        elif fref:
            field_path = c.string(fref.get("fieldPath"), f"{where}.fieldRef.fieldPath", required=True)
            if field_path and not _valid_downward_field(field_path):
                c.bad(f"{where}.fieldRef.fieldPath", f'Unsupported value: "{field_path}": supported values: '
                      + ", ".join(f'"{f}"' for f in DOWNWARD_VOLUME_FIELDS))
                field_path = None
        else:
            resource = c.string(rref.get("resource"), f"{where}.resourceFieldRef.resource", required=True)
            container = c.string(rref.get("containerName"), f"{where}.resourceFieldRef.containerName")
            div = rref.get("divisor")
            divisor = str(div) if div is not None else None
            _check_resource_selector(resource, divisor, f"{where}.resourceFieldRef", c)
        if path and (field_path or resource):
            items.append(DownwardFile(path, field_path, resource, container, divisor, mode, where))
    return DownwardSource(tuple(items), None if projected else _default_mode(raw, prefix, c), prefix)


def _valid_downward_field(path: str) -> bool:
    if path in DOWNWARD_VOLUME_FIELDS:
        return True
    for prefix in ("metadata.labels['", "metadata.annotations['"):
        if path.startswith(prefix) and path.endswith("']") and len(path) > len(prefix) + 2:
            return True
    return False


def _parse_projected(raw: dict, prefix: str, c: _Checker) -> ProjectedSource:
    sources: list = []
    explicit_paths: dict[str, str] = {}
    for i, src in enumerate(c.list(raw.get("sources"), f"{prefix}.sources")):
        where = f"{prefix}.sources[{i}]"
        src = c.map(src, where)
        parsed = None
        if "secret" in src:
            parsed = _parse_secret(c.map(src["secret"], f"{where}.secret"), f"{where}.secret", c, True)
            paths = [(it.path, it.field) for it in parsed.items]
        elif "configMap" in src:
            parsed = _parse_configmap(c.map(src["configMap"], f"{where}.configMap"), f"{where}.configMap", c, True)
            paths = [(it.path, it.field) for it in parsed.items]
        elif "downwardAPI" in src:
            parsed = _parse_downward(c.map(src["downwardAPI"], f"{where}.downwardAPI"), f"{where}.downwardAPI", c,
                                     True)
            paths = [(it.path, it.field) for it in parsed.items]
        elif "serviceAccountToken" in src:
            tok = c.map(src["serviceAccountToken"], f"{where}.serviceAccountToken")
            tpath = c.local_path(tok.get("path"), f"{where}.serviceAccountToken.path")
            exp = c.integer(tok.get("expirationSeconds"), f"{where}.serviceAccountToken.expirationSeconds")
            if exp is not None and not 600 <= exp <= 2 ** 32:
                c.bad(f"{where}.serviceAccountToken.expirationSeconds",
                      "must be at least 10 minutes and no more than 2^32 seconds")
            if tpath:
                parsed = TokenSource(tpath, exp or 3600, tok.get("audience"), f"{where}.serviceAccountToken")
            paths = []  # the token path is not checked against the others (last source wins)
        else:
            kinds = ", ".join(sorted(src)) or "nothing"
            c.bad(where, f"unsupported projection ({kinds}); parity models secret, configMap, downwardAPI "
                         "and serviceAccountToken")
            continue
        for path, fpath in paths:
            clean = posixpath.normpath(path)
            if clean in explicit_paths:
                c.bad(f"{fpath}.path", f'conflicting duplicate paths: "{path}"')
            explicit_paths[clean] = fpath
        if parsed is not None:
            sources.append(parsed)
    return ProjectedSource(tuple(sources), _default_mode(raw, prefix, c), prefix)


_OTHER_TYPES = ("nfs", "csi", "image", "iscsi", "gitRepo", "cephfs", "rbd", "fc", "azureFile", "azureDisk",
                "awsElasticBlockStore", "gcePersistentDisk", "cinder", "flexVolume", "portworxVolume", "vsphereVolume",
                "quobyte", "scaleIO", "storageos", "glusterfs", "photonPersistentDisk", "flocker")


def _parse_empty_dir(raw: dict, prefix: str, c: _Checker) -> EmptyDirSource:
    """``emptyDir`` (``validateVolumeSource``: a negative ``sizeLimit`` is forbidden; a malformed one
    fails the decoder, as for resources)."""
    medium = c.string(raw.get("medium"), f"{prefix}.medium") or ""
    size = raw.get("sizeLimit")
    if size is None:
        return EmptyDirSource(medium)
    where = f"{prefix}.sizeLimit"
    if isinstance(size, bool) or not isinstance(size, (str, int, float)):
        c.bad(where, "must be a quantity (e.g. 500m, 64Mi)")
        return EmptyDirSource(medium)
    try:
        value = quantity.parse(str(size))
    except quantity.QuantityOverflow:
        return EmptyDirSource(medium, None, str(size))
    except ValueError:
        c.bad(where, f"{go_quote(str(size))}: {QUANTITY_FORMAT}")
        return EmptyDirSource(medium)
    if value < 0:
        c.bad(where, "Forbidden: SizeLimit field must be a valid resource quantity")
        return EmptyDirSource(medium)
    # The kubelet mounts tmpfs with size=sizeLimit.Value(): whole bytes, rounded up.
    return EmptyDirSource(medium, -(-value.numerator // value.denominator), str(size))


def _parse_host_path(raw: dict, prefix: str, c: _Checker) -> HostPathSource | None:
    """``validateHostPathVolumeSource``: a path, without a '..' element; a known ``type``. Also
    absolute: the single home of that rule (the API server accepts a relative path, but the node
    resolves it against the working directories of its daemons: the kubelet's type check and
    containerd's ``MkdirAll`` against theirs, runc against the container's bundle; compose, docker.sh
    and ``up`` each resolved it somewhere else)."""
    path = c.string(raw.get("path"), f"{prefix}.path", required=True)  # one line for a non-string
    if path is None:
        return None
    ok = True
    if "\x00" in path:  # stat(2) and mount(2) take C strings; up's checks raised a ValueError on it
        c.bad(f"{prefix}.path", "holds a NUL byte, which no host path can carry (the kubelet could not set the "
                                "volume up: the pod would not start)")
        return None
    if ".." in path.split("/"):  # validatePathNoBacksteps
        c.bad(f"{prefix}.path", invalid(path, "must not contain '..'"))
        ok = False
    if not path.startswith("/"):
        c.bad(f"{prefix}.path", invalid(path, "must be an absolute path: the API server accepts a relative one, but "
                                              "the node resolves it against its daemons' working directories (the "
                                              "kubelet's, the container runtime's), not a place of the pod's"))
        ok = False
    kind = raw.get("type")
    if kind is not None and (not isinstance(kind, str) or kind not in HOST_PATH_TYPES):
        c.bad(f"{prefix}.type", f"Unsupported value: {go_quote(str(kind))}: supported values: "
                                + ", ".join(f'"{t}"' for t in HOST_PATH_TYPES))
        ok = False
    return HostPathSource(path, kind or "") if ok else None


def _claim_name(value, field_path: str, c: _Checker) -> str | None:
    """``persistentVolumeClaim.claimName``: the pod's validation only requires it
    (``validatePersistentClaimVolumeSource``), but a claim's own name is a DNS-1123 subdomain
    (``ValidatePersistentVolumeName``): any other name is never found, and the pod stays Pending.
    Refused here, with the field, rather than by the engine (the name makes the claim's volume)."""
    claim = c.string(value, field_path, required=True)
    if claim is None:
        return None
    errors = dns1123_subdomain_errors(claim)
    for message in errors:
        c.bad(field_path, invalid(claim, message) + ": no PersistentVolumeClaim can have this name (the pod would "
                                                    "stay Pending)")
    return None if errors else claim


def _parse_ephemeral(raw: dict, prefix: str, c: _Checker) -> EphemeralSource:
    """``validateEphemeralVolumeSource``: a ``volumeClaimTemplate`` is required (its spec is the
    storage class's business: not reproduced, the volume is a plain Docker volume)."""
    storage_class = size = None
    if raw.get("volumeClaimTemplate") is None:
        c.bad(f"{prefix}.volumeClaimTemplate", "Required value")
    else:
        where = f"{prefix}.volumeClaimTemplate.spec"
        spec = c.map(c.map(raw.get("volumeClaimTemplate"), f"{prefix}.volumeClaimTemplate").get("spec"), where)
        storage_class = c.string(spec.get("storageClassName"), f"{where}.storageClassName")
        requests = c.map(c.map(spec.get("resources"), f"{where}.resources").get("requests"),
                         f"{where}.resources.requests")
        stored = requests.get("storage")  # (said, never checked: the storage class's business)
        size = str(stored) if isinstance(stored, (str, int, float)) and not isinstance(stored, bool) else None
    return EphemeralSource(c.boolean(raw.get("readOnly"), f"{prefix}.readOnly"), storage_class, size)


def claim_volumes(templates, set_name: str, prefix: str, problems: Problems, file: str, ref: str) -> list[Volume]:
    """A StatefulSet's ``volumeClaimTemplates`` as the volumes its controller gives pod 0
    (``updateStorage``/``getPersistentVolumeClaimName``: claim ``<template>-<set>-0``)."""
    c = _Checker(problems, file, ref)
    out = []
    for i, raw in enumerate(c.list(templates, prefix)):
        where = f"{prefix}[{i}]"
        meta = c.map(c.map(raw, where).get("metadata"), f"{where}.metadata")
        name = c.string(meta.get("name"), f"{where}.metadata.name", required=True)
        if name:
            out.append(Volume(name, ClaimSource(f"{name}-{set_name}-0", template=True), where))
    return out


def _parse_volume(raw, prefix: str, c: _Checker) -> Volume | None:
    raw = c.map(raw, prefix)
    name = c.label(raw.get("name"), f"{prefix}.name")
    if not name:
        return None
    if "secret" in raw:
        return Volume(name, _parse_secret(c.map(raw["secret"], f"{prefix}.secret"), f"{prefix}.secret", c, False),
                      prefix)
    if "configMap" in raw:
        return Volume(name, _parse_configmap(c.map(raw["configMap"], f"{prefix}.configMap"), f"{prefix}.configMap",
                                             c, False), prefix)
    if "downwardAPI" in raw:
        return Volume(name, _parse_downward(c.map(raw["downwardAPI"], f"{prefix}.downwardAPI"),
                                            f"{prefix}.downwardAPI", c, False), prefix)
    if "projected" in raw:
        return Volume(name, _parse_projected(c.map(raw["projected"], f"{prefix}.projected"), f"{prefix}.projected",
                                             c), prefix)
    if "persistentVolumeClaim" in raw:
        pvc = c.map(raw["persistentVolumeClaim"], f"{prefix}.persistentVolumeClaim")
        claim = _claim_name(pvc.get("claimName"), f"{prefix}.persistentVolumeClaim.claimName", c)
        return Volume(name, ClaimSource(claim or "", c.boolean(pvc.get("readOnly"),
                                                                f"{prefix}.persistentVolumeClaim.readOnly")), prefix)
    if "emptyDir" in raw:
        return Volume(name, _parse_empty_dir(c.map(raw["emptyDir"], f"{prefix}.emptyDir"), f"{prefix}.emptyDir", c),
                      prefix)
    if "hostPath" in raw:
        host = _parse_host_path(c.map(raw["hostPath"], f"{prefix}.hostPath"), f"{prefix}.hostPath", c)
        return Volume(name, host, prefix) if host else None
    if "ephemeral" in raw:
        return Volume(name, _parse_ephemeral(c.map(raw["ephemeral"], f"{prefix}.ephemeral"), f"{prefix}.ephemeral",
                                             c), prefix)
    for t in _OTHER_TYPES:
        if t in raw:
            return Volume(name, OtherSource(t), prefix)
    # No source given: the API server defaults it to an emptyDir.
    return Volume(name, EmptyDirSource(), prefix)
