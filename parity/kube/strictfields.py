"""Unknown fields, refused as the API server's strict field validation refuses them (kubectl's
default, ``--validate=strict``): a typo such as ``defaultmode: 0400`` would otherwise be dropped in
silence and the cluster would apply something else than the manifest says.

The known fields come from ``fields.py``, generated from the ``kubernetes`` client's models (the
API's OpenAPI schema) by ``scripts/gen_fields.py``. Only the kinds and API versions listed there are
checked; custom resources and older beta versions are taken as they are.
"""

from __future__ import annotations

from typing import Iterator

from .fields import API_VERSIONS, ROOTS, TYPES


def unknown_fields(obj: dict, kind: str) -> Iterator[tuple[str, str]]:
    """Every field of ``obj`` its type does not have, as the API server names it.

    Args:
        obj: a decoded manifest of ``kind``.
        kind: the object's kind.
    Yields:
        ``(path, hint)``: the field's path (``spec.template.spec.volumes[0].secret.defaultmode``) and
        ``' (did you mean "defaultMode"?)'`` when a known field is close, else ``""``.
    """
    root = ROOTS.get(kind)
    if root is not None and obj.get("apiVersion") == API_VERSIONS[kind] and not _all_known(obj, root):
        yield from _walk(obj, root, "")


def _all_known(value: object, type_ref: str) -> bool:
    """Whether ``_walk`` would find nothing: the same descent, without the paths and generators it
    needs only to name what it finds (nearly every manifest has no unknown field, and this check ran
    on every field of every object: issue 17)."""
    ref = _compiled(type_ref)
    return ref is None or _known(value, ref)


def _compiled(type_ref: str) -> object:
    """A type reference as ``_known`` reads it: a type name (a mapping with fields), ``[item]`` (a
    list) or ``{"": item}`` (a map), the items compiled; None for a value with nothing to check
    (``""``, ``[]``, ``{}``)."""
    if type_ref.startswith(("[]", "{}")):
        inner = _compiled(type_ref[2:])
        return None if inner is None else [inner] if type_ref[0] == "[" else {"": inner}
    return type_ref or None


#: Each type's fields (a keys view: a mapping's keys are checked against it in one C-level
#: comparison), and those of its fields that have fields of their own to check, compiled.
_STRUCTS = {name: (fields.keys(), {key: ref for key, sub in fields.items() if (ref := _compiled(sub))})
            for name, fields in TYPES.items()}


def _known(value: object, ref: object) -> bool:
    if ref.__class__ is str:
        if isinstance(value, dict):  # (a wrong type is the loader's type checks' to report)
            known, nested = _STRUCTS[ref]
            if not value.keys() <= known:  # a key not a field (not a string: not one either)
                return False
            for key, item in value.items():
                sub = nested.get(key)
                if sub is not None and not _known(item, sub):
                    return False
    elif ref.__class__ is list:
        if isinstance(value, list):
            inner = ref[0]
            for item in value:
                if not _known(item, inner):
                    return False
    elif isinstance(value, dict):
        inner = ref[""]
        for item in value.values():
            if not _known(item, inner):
                return False
    return True


def _walk(value: object, type_ref: str, path: str) -> Iterator[tuple[str, str]]:
    """Depth first, in document order (nesting is bounded by the YAML loader's depth limit)."""
    if not type_ref:
        return
    if type_ref.startswith("[]"):
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _walk(item, type_ref[2:], f"{path}[{i}]")
    elif type_ref.startswith("{}"):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from _walk(item, type_ref[2:], f"{path}[{key}]")
    elif isinstance(value, dict):  # (a wrong type is the loader's type checks' to report)
        fields = TYPES[type_ref]
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key in fields:
                yield from _walk(item, fields[key], where)
            else:
                yield where, _hint(str(key), fields)


def _hint(key: str, fields: dict[str, str]) -> str:
    import difflib  # here: only a manifest with an unknown field needs it (start-up, issue 17)

    same_case = [f for f in fields if f.lower() == key.lower()]
    close = same_case or difflib.get_close_matches(key, list(fields), n=1, cutoff=0.8)
    return f' (did you mean "{close[0]}"?)' if close else ""
