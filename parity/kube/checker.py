"""The field checks every part of the pod spec's validation uses: ``_Checker`` adds each problem with
its file, object and field path (as kubectl names it) and reads maps, lists, strings, booleans,
integers, ids, modes, ports and paths the way the API server's decoder and validation take them.
"""

from __future__ import annotations

import re

from ..errors import Problems
from . import quantity
from .fieldref import RESOURCE_FIELDS
from .names import dns1123_label_errors, go_quote, invalid, port_name_errors
from .yamlload import written_text


MODE_MAX = 0o777
ID_MAX = 2147483647  # validation.IsValidUserID / IsValidGroupID

#: Decimal values people write on purpose (kubectl prints modes in decimal): never warned about.
_KNOWN_DECIMAL_MODES = {256, 288, 292, 320, 360, 365, 384, 416, 420, 432, 436, 438, 448, 488, 493, 504, 509, 511}


#: apimachinery's resource.ErrFormatWrong: what the API server's decoder says of a malformed quantity.
QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


class _Checker:
    """Helpers that add problems with file/object context and a field path."""

    def __init__(self, problems: Problems, file: str, ref: str):
        self.problems, self.file, self.ref = problems, file, ref

    def bad(self, field_path: str, message: str) -> None:
        self.problems.add(message, file=self.file, obj=self.ref, field=field_path)

    def map(self, value, field_path: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(field_path, "must be a map")
            return {}
        return value

    def list(self, value, field_path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(field_path, "must be a list")
            return []
        return value

    def string(self, value, field_path: str, required: bool = False) -> str | None:
        if value is None or value == "":
            if required:
                self.bad(field_path, "Required value")
            return None
        if not isinstance(value, str):
            self.bad(field_path, "must be a string")
            return None
        return value

    def label(self, value, field_path: str) -> str | None:
        """A required DNS-1123 label (``ValidateDNS1123Label``): container and volume names."""
        name = self.string(value, field_path, required=True)
        if name is None:
            return None
        errors = dns1123_label_errors(name)
        for message in errors:
            self.bad(field_path, invalid(name, message))
        return None if errors else name

    def boolean(self, value, field_path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.bad(field_path, "must be true or false")
            return False
        return value

    def opt_bool(self, value, field_path: str) -> bool | None:
        """A boolean whose absence means something of its own (the pod's value, a default)."""
        return None if value is None else self.boolean(value, field_path)

    def strings(self, value, field_path: str) -> tuple[str, ...]:
        """A list of strings (null items decode to "", as Go's decoder makes them)."""
        if value.__class__ is list and all(isinstance(x, str) for x in value):
            return tuple(value)  # (the usual list: nothing to say, no item's field path to make)
        return tuple(self.string(x, f"{field_path}[{i}]") or "" for i, x in enumerate(self.list(value, field_path)))

    def port_num_or_name(self, value, field_path: str) -> int | str | None:
        """``ValidatePortNumOrName`` (an IntOrString port): a number 1-65535 or a port's name."""
        if isinstance(value, str):
            errors = port_name_errors(value)
            for message in errors:
                self.bad(field_path, invalid(value, message))
            return None if errors else value
        n = self.integer(value, field_path)
        if value is None or n is not None and not 1 <= n <= 65535:
            self.bad(field_path, f"Invalid value: {n or 0}: must be between 1 and 65535, inclusive")
            return None
        return n

    def descending_path(self, path: str, field_path: str) -> bool:
        """``validateLocalDescendingPath``: relative, without a '..' element; each failure said (both
        for ``/../x``). Returns whether the path passed."""
        ok = not path.startswith("/")
        if not ok:
            self.bad(field_path, "must be a relative path")
        if ".." in path.split("/"):
            self.bad(field_path, "must not contain '..'")
            ok = False
        return ok

    def integer(self, value, field_path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str) and field_path.lower().endswith("mode") and re.fullmatch(r"0?[0-7]{3,4}", value):
                hint = f" (write {value} without quotes: YAML reads a number with a leading 0 as octal)"
            self.bad(field_path, f"must be an integer, not {'a string' if isinstance(value, str) else repr(value)}"
                                 + hint)
            return None
        if isinstance(value, float):
            if not value.is_integer():
                self.bad(field_path, "must be an integer")
                return None
            value = int(value)
        return int(value)  # (a yamlload.WrittenInt becomes the plain int: only mode() needs its text)

    def ident(self, value, field_path: str) -> int | None:
        """A user or group id, as ``IsValidUserID``/``IsValidGroupID`` check it."""
        n = self.integer(value, field_path)
        if n is not None and not 0 <= n <= ID_MAX:
            self.bad(field_path, f"must be between 0 and {ID_MAX}, inclusive")
            return None
        return n

    def mode(self, value, field_path: str) -> int | None:
        # The text as written (yamlload keeps it for integers not written in plain decimal): 01000
        # is octal already (512), where a decimal 512 is the "meant 0512" slip the hint is for.
        if value is None:  # (most items have no mode of their own)
            return None
        written = written_text(value)
        mode = self.integer(value, field_path)
        if mode is None:
            return None
        if not 0 <= mode <= MODE_MAX:
            hint = ""
            if (written is None and str(mode).isdigit() and set(str(mode)) <= set("01234567")
                    and int(str(mode), 8) <= MODE_MAX):
                hint = f" ({mode} is read as decimal; write 0{mode} for octal)"
            self.bad(field_path, f"must be a number between 0 and 0777 (octal), both inclusive{hint}")
            return None
        digits = str(mode)
        if (written is None and len(digits) == 3 and set(digits) <= set("01234567")
                and mode not in _KNOWN_DECIMAL_MODES):
            self.problems.warnings.append(
                f"{self.file}: {self.ref}: {field_path}: {mode} is decimal, i.e. 0{mode:o}; "
                f"write 0{digits} if octal was meant")
        return mode

    def local_path(self, value, field_path: str) -> str | None:
        """``ValidateLocalNonReservedPath``: relative, no ``..`` element, not starting with ``..``."""
        path = self.string(value, field_path, required=True)
        if path is None:
            return None
        if "\x00" in path:  # open(2) takes a C string: the kubelet's writer fails the volume's setup
            self.bad(field_path, "holds a NUL byte, which no file name can carry (the kubelet could not write "
                                 "the volume: the pod would not start)")
            return None
        ok = self.descending_path(path, field_path)
        if path.startswith("..") and not path.startswith("../"):  # "../x": said once, by the '..' element
            self.bad(field_path, "must not start with '..'")
            ok = False
        return path if ok else None


def _check_resource_selector(resource: str | None, divisor: str | None, where: str, c: _Checker) -> None:
    """``validateContainerResourceFieldSelector`` and ``validateContainerResourceDivisor``, for env
    and downward API volumes alike."""
    if not resource:
        return  # (Required: said where the field is read)
    if resource not in RESOURCE_FIELDS and not resource.startswith(("limits.hugepages-", "requests.hugepages-")):
        c.bad(f"{where}.resource", f"Unsupported value: {go_quote(resource)}: supported values: "
              + ", ".join(go_quote(f) for f in sorted(RESOURCE_FIELDS)))
    elif divisor is not None and resource in RESOURCE_FIELDS:
        error = quantity.divisor_error(resource.partition(".")[2], divisor)
        if error:
            c.bad(f"{where}.divisor", invalid(resource, error))
