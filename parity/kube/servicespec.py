"""A Service object, typed and checked as the API server checks the fields parity uses.

The rules and messages are ``pkg/apis/core/validation/validation.go`` ``ValidateService`` and
``validateServicePort`` (with ``ValidatePortNumOrName`` for a targetPort, ``ValidateLabels`` for the
selector), the defaults ``pkg/apis/core/v1/defaults.go`` ``SetDefaults_Service`` (type ClusterIP,
protocol TCP, targetPort = port) and the NodePort allocator's range check
(``pkg/registry/core/service/portallocator``, default range 30000-32767). What parity computes from
Services (DNS names, ports, environment) is ``services.py``.
"""

from __future__ import annotations

from dataclasses import field

from ..errors import Problems
from ..values import Value, record, valueclass
from .names import dns1123_label_errors, go_quote, invalid, ip_address_errors, label_value_errors, \
    port_name_errors, qualified_name_errors, shown

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
NODE_PORT_RANGE = (30000, 32767)  # the API server's default --service-node-port-range
HEADLESS = "None"  # core.ClusterIPNone
PORT_RANGE_ERROR = "must be between 1 and 65535, inclusive"  # IsValidPortNum


@valueclass
class ServicePort(Value):
    """One ``spec.ports[i]``, defaulted: ``target_port`` is a number or a container port's name."""

    name: str  # "" when unnamed (only a single port may be)
    port: int
    target_port: int | str
    protocol: str
    node_port: int | None
    field: str  # "spec.ports[0]"


@record
class Service:
    name: str
    namespace: str
    file: str
    type: str
    cluster_ip: str  # as written: "" (allocated by the cluster), "None" (headless) or an address
    selector: dict[str, str] | None  # None: no selector (its endpoints are managed by someone else)
    ports: list[ServicePort] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"Service/{self.name}"

    @property
    def headless(self) -> bool:
        return self.cluster_ip == HEADLESS

    @property
    def ip_set(self) -> bool:
        """Whether the cluster gives it a virtual IP (``IsServiceIPSet`` once allocated): not headless,
        not ExternalName."""
        return not self.headless and self.type != "ExternalName"


def _port_number(value, where: str, problems: Problems, file: str, ref: str) -> int | None:
    """An integer field that must be a port number (``IsValidPortNum``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(f"must be an integer, not {_words(value)}", file=file, obj=ref, field=where)
        return None
    if not 1 <= value <= 65535:
        problems.add(f"Invalid value: {int(value)}: {PORT_RANGE_ERROR}", file=file, obj=ref, field=where)
        return None
    return int(value)


def _words(value) -> str:
    for kind, words in ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
                        (list, "a list"), (dict, "a map")):
        if isinstance(value, kind):
            return words
    return "null" if value is None else type(value).__name__


def parse_service(obj: dict, name: str, namespace: str, file: str, problems: Problems) -> Service | None:
    """A Service manifest (its metadata already checked), or None with the problems added.

    Args:
        obj: the decoded manifest.
        name: its ``metadata.name``.
        namespace: its namespace (defaulted).
        file: where it was read, for problems.
        problems: where problems go.
    Returns:
        The typed Service, defaults applied, or None when it is invalid.
    """
    ref = f"Service/{name}"
    before = len(problems.items)

    def bad(where: str, message: str) -> None:
        problems.add(message, file=file, obj=ref, field=where)

    spec = obj.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        bad("spec", "must be a map")
        return None

    kind = spec.get("type")
    if kind is None or kind == "":
        kind = "ClusterIP"
    elif not isinstance(kind, str):
        bad("spec.type", f"must be a string, not {_words(kind)}")
        kind = "ClusterIP"
    elif kind not in SERVICE_TYPES:
        bad("spec.type", f"Unsupported value: {go_quote(kind)}: supported values: "
                         + ", ".join(f'"{t}"' for t in SERVICE_TYPES))

    cluster_ip = spec.get("clusterIP")
    if cluster_ip is None:
        cluster_ip = ""
    elif not isinstance(cluster_ip, str):
        bad("spec.clusterIP", f"must be a string, not {_words(cluster_ip)}")
        cluster_ip = ""
    if cluster_ip == HEADLESS and kind in ("LoadBalancer", "NodePort"):
        bad("spec.clusterIP", invalid(cluster_ip, f"may not be set to 'None' for {kind} services"))
    elif kind == "ExternalName" and cluster_ip:
        bad("spec.clusterIP", "Forbidden: may not be set for ExternalName services")
    elif cluster_ip not in ("", HEADLESS):
        for msg in ip_address_errors(cluster_ip):
            bad("spec.clusterIP", invalid(cluster_ip, msg))

    raw_ports = spec.get("ports")
    if raw_ports is None:
        raw_ports = []
    if not isinstance(raw_ports, list):
        bad("spec.ports", "must be a list")
        raw_ports = []
    if not raw_ports and cluster_ip != HEADLESS and kind != "ExternalName":
        bad("spec.ports", "Required value")
    ports: list[ServicePort] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_ports):
        port = _parse_port(raw, f"spec.ports[{i}]", len(raw_ports) > 1, kind, names, bad, problems, file, ref)
        if port is not None:
            ports.append(port)
    seen: set[tuple[str, int]] = set()
    seen_node: set[tuple[str, int]] = set()
    for p in ports:  # duplicates by (protocol, port) and (protocol, nodePort), as ValidateService checks them
        if (p.protocol, p.port) in seen:
            bad(p.field, f"Duplicate value: {p.protocol}/{p.port}")
        seen.add((p.protocol, p.port))
        if p.node_port is not None:
            if (p.protocol, p.node_port) in seen_node:
                bad(f"{p.field}.nodePort", f"Duplicate value: {p.node_port}")
            seen_node.add((p.protocol, p.node_port))

    selector = _parse_selector(spec.get("selector"), bad)
    if len(problems.items) > before:
        return None
    return Service(name, namespace, file, kind, cluster_ip, selector, ports)


def _parse_port(raw, where: str, require_name: bool, kind: str, names: set[str], bad, problems: Problems,
                file: str, ref: str) -> ServicePort | None:
    if not isinstance(raw, dict):
        bad(where, "must be a map")
        return None
    before = len(problems.items)
    name = raw.get("name")
    if name is None:
        name = ""
    if not isinstance(name, str):
        bad(f"{where}.name", f"must be a string, not {_words(name)}")
        name = ""
    elif require_name and not name:
        bad(f"{where}.name", "Required value")
    elif name:
        for message in dns1123_label_errors(name):
            bad(f"{where}.name", invalid(name, message))
        if name in names:
            bad(f"{where}.name", f"Duplicate value: {go_quote(name)}")
        names.add(name)
    port = _port_number(raw.get("port", 0), f"{where}.port", problems, file, ref)
    protocol = raw.get("protocol")
    if protocol is None or protocol == "":
        protocol = "TCP"
    elif not isinstance(protocol, str) or protocol not in PROTOCOLS:
        shown_value = go_quote(protocol) if isinstance(protocol, str) else shown(str(protocol))
        bad(f"{where}.protocol", f"Unsupported value: {shown_value}: supported values: "
                                 + ", ".join(f'"{p}"' for p in PROTOCOLS))
    target = raw.get("targetPort")
    if target is None or target == 0 or target == "":
        target = port  # SetDefaults_Service
    elif isinstance(target, str):
        for message in port_name_errors(target):
            bad(f"{where}.targetPort", invalid(target, message))
    else:
        target = _port_number(target, f"{where}.targetPort", problems, file, ref)
    node_port = raw.get("nodePort")
    if node_port in (None, 0):
        node_port = None
    elif kind == "ClusterIP":
        bad(f"{where}.nodePort", "Forbidden: may not be used when `type` is 'ClusterIP'")
    else:
        node_port = _port_number(node_port, f"{where}.nodePort", problems, file, ref)
        low, high = NODE_PORT_RANGE
        if node_port is not None and not low <= node_port <= high:
            bad(f"{where}.nodePort", f"Invalid value: {node_port}: provided port is not in the valid range. "
                                     f"The range of valid ports is {low}-{high}")
    if len(problems.items) > before or port is None or target is None:
        return None
    return ServicePort(name, port, target, protocol, node_port, where)


def _parse_selector(raw, bad) -> dict[str, str] | None:
    """``spec.selector`` (``ValidateLabels``: keys are qualified names, values label values; both
    reported at ``spec.selector`` as the API server reports them). None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        bad("spec.selector", "must be a map of strings")
        return None
    out: dict[str, str] = {}
    for key, value in raw.items():
        key = str(key)
        if not isinstance(value, str):
            bad(f"spec.selector[{shown(key)}]", f"must be a string, not {_words(value)}")
            continue
        for message in qualified_name_errors(key):
            bad("spec.selector", invalid(key, message))
        for message in label_value_errors(value):
            bad("spec.selector", invalid(value, message))
        out[key] = value
    return out
