"""The API server's rules for names and keys, with its messages, and Go's quoting for showing them.

Every name a manifest gives that parity turns into a path, a shell word, a label or an engine object
name (object names, namespaces, container and volume names, Secret/ConfigMap keys) is checked here
first, so nothing that the API server would refuse gets that far. The rules and the messages are
apimachinery's ``pkg/util/validation/validation.go`` (``IsDNS1123Label``, ``IsDNS1123Subdomain``,
``IsConfigMapKey``, ``IsValidPortName``) and ``pkg/api/validation`` (``NameIsDNSSubdomain``...);
which rule applies to which name is ``pkg/apis/core/validation/validation.go`` and its apps and
batch siblings.

Python's ``re`` ``$`` also matches before a final newline, unlike Go's: every pattern here is used
with ``fullmatch``, so ``"token\\n"`` is not a key.
"""

from __future__ import annotations

import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
CRONJOB_NAME_MAX = 52  # batch ValidateCronJobCreate: DNS1035LabelMaxLength - 11 (the Job suffix)

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_KEY_FMT = "[-._a-zA-Z0-9]+"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_FMT + ")?"
_LABEL_RE = re.compile(_LABEL_FMT)
_DNS1035_RE = re.compile(_DNS1035_FMT)
_QUALIFIED_RE = re.compile(_QUALIFIED_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_SUBDOMAIN_RE = re.compile(_SUBDOMAIN_FMT)
_KEY_RE = re.compile(_KEY_FMT)
_PORT_CHARS_RE = re.compile("[-a-z0-9]+")


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """apimachinery's ``RegexError``, spacing included."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    return message + " (e.g. " + " or ".join(f"'{e}', " for e in examples) + f"regex used for validation is '{fmt}')"


def _length_and_pattern_errors(value: str, max_len: int, pattern: re.Pattern, message: str, fmt: str,
                               *examples: str) -> list[str]:
    """The two checks most of apimachinery's name validators make, in their order: at most ``max_len``
    characters, then the whole value matching ``pattern`` (said with ``RegexError``)."""
    errors = []
    if len(value) > max_len:
        errors.append(max_len_error(max_len))
    if not pattern.fullmatch(value):
        errors.append(regex_error(message, fmt, *examples))
    return errors


def dns1123_label_errors(value: str) -> list[str]:
    """``IsDNS1123Label``: container, volume and namespace names, a StatefulSet's name."""
    errors = []
    if len(value) > DNS1123_LABEL_MAX:
        errors.append(max_len_error(DNS1123_LABEL_MAX))
    if not _LABEL_RE.fullmatch(value):
        if _SUBDOMAIN_RE.fullmatch(value):
            errors.append("must not contain dots")
        else:
            errors.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                                      "or '-', and must start and end with an alphanumeric character",
                                      _LABEL_FMT, "my-name", "123-abc"))
    return errors


def dns1035_label_errors(value: str) -> list[str]:
    """``IsDNS1035Label``: a Service's name (``ValidateServiceName``: it becomes a DNS label and an
    environment variable prefix, so it starts with a letter)."""
    return _length_and_pattern_errors(value, DNS1123_LABEL_MAX, _DNS1035_RE,
                                      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                                      "start with an alphabetic character, and end with an alphanumeric character",
                                      _DNS1035_FMT, "my-name", "abc-123")


def qualified_name_errors(value: str) -> list[str]:
    """``IsQualifiedName``: a label key (``NAME`` or ``PREFIX/NAME``, PREFIX a DNS-1123 subdomain)."""
    message = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
               "alphanumeric character")
    parts = value.split("/")
    if len(parts) > 2:
        return ["a qualified name " + regex_error(message, _QUALIFIED_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errors = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + m for m in dns1123_subdomain_errors(prefix))
    name = parts[-1]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > DNS1123_LABEL_MAX:
        errors.append("name part " + max_len_error(DNS1123_LABEL_MAX))
    if not _QUALIFIED_RE.fullmatch(name):
        errors.append("name part " + regex_error(message, _QUALIFIED_FMT, "MyName", "my.name", "123-abc"))
    return errors


def label_value_errors(value: str) -> list[str]:
    """``IsValidLabelValue``: empty, or at most 63 characters of a qualified name's alphabet."""
    return _length_and_pattern_errors(value, DNS1123_LABEL_MAX, _LABEL_VALUE_RE,
                                      "a valid label must be an empty string or consist of alphanumeric characters, "
                                      "'-', '_' or '.', and must start and end with an alphanumeric character",
                                      _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")


def dns1123_subdomain_errors(value: str) -> list[str]:
    """``IsDNS1123Subdomain``: the names of most objects (Pod, Deployment, Secret, ConfigMap...)."""
    return _length_and_pattern_errors(value, DNS1123_SUBDOMAIN_MAX, _SUBDOMAIN_RE,
                                      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                      "characters, '-' or '.', and must start and end with an alphanumeric character",
                                      _SUBDOMAIN_FMT, "example.com")


def config_map_key_errors(value: str) -> list[str]:
    """``IsConfigMapKey``: a Secret's or ConfigMap's data key (a file name in the volume, a variable
    name with envFrom)."""
    errors = _length_and_pattern_errors(value, DNS1123_SUBDOMAIN_MAX, _KEY_RE,
                                        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                        _KEY_FMT, "key.name", "KEY_NAME", "key-name")
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def port_name_errors(value: str) -> list[str]:
    """``IsValidPortName``: a container port's name."""
    errors = []
    if len(value) > 15:
        errors.append(max_len_error(15))
    if not _PORT_CHARS_RE.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def ip_address_errors(value: str) -> list[str]:
    """``IsValidIP``: an IPv4 or IPv6 address (a pod's ``hostAliases[].ip``, a Service's ``clusterIP``)."""
    import ipaddress  # here: few manifests give an address, and every run of parity imports this module

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []


#: kind -> the rule for its ``metadata.name`` (``ValidateObjectMeta``'s name function).
OBJECT_NAME_RULES = {
    "Pod": dns1123_subdomain_errors,  # ValidatePodName
    "PodTemplate": dns1123_subdomain_errors,
    "ReplicationController": dns1123_subdomain_errors,
    "Deployment": dns1123_subdomain_errors,
    "ReplicaSet": dns1123_subdomain_errors,
    "DaemonSet": dns1123_subdomain_errors,
    "StatefulSet": dns1123_label_errors,  # apps ValidateStatefulSetName: a label (its pods are NAME-N)
    "Job": dns1123_subdomain_errors,
    "CronJob": dns1123_subdomain_errors,
    "Secret": dns1123_subdomain_errors,
    "ConfigMap": dns1123_subdomain_errors,
    "Service": dns1035_label_errors,  # ValidateServiceName
}


def object_name_errors(kind: str, name: str) -> list[str]:
    """The API server's messages for ``metadata.name`` of an object of ``kind`` (empty: valid)."""
    errors = OBJECT_NAME_RULES.get(kind, dns1123_subdomain_errors)(name)
    if kind == "CronJob" and len(name) > CRONJOB_NAME_MAX:
        errors.append(max_len_error(CRONJOB_NAME_MAX))
    return errors


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote``: printable characters kept, the rest escaped. It is how the API server
    shows a bad value (``Invalid value: "a\\nb"``) and how the kubelet writes label values."""
    if s.isprintable() and '"' not in s and "\\" not in s:  # nearly every name: nothing to escape
        return f'"{s}"'
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def shown(text: str) -> str:
    """A name as it can appear inside a one-line message or a field path: as written when it is
    printable, else escaped the way Go quotes it (without the quotes)."""
    return text if text.isprintable() else go_quote(text)[1:-1]


def invalid(value: str, message: str) -> str:
    """The API server's ``field.Invalid`` text: ``Invalid value: "VALUE": MESSAGE``."""
    return f"Invalid value: {go_quote(value)}: {message}"
