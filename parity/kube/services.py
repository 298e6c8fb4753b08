"""What the cluster makes of the Services in the input, for each pod: pure rules, no Docker.

For every workload's pod (one pod per workload, ``Workload.pod_name``):

- which Services select it: a Service selects the pods of its own namespace whose labels hold every
  pair of its selector (``labels.SelectorFromSet``); a Service with no (or an empty) selector gets no
  endpoints from the endpoints controller;
- every DNS name that reaches it, as CoreDNS's kubernetes plugin serves them (Kubernetes "DNS for
  Services and Pods"): ``svc.ns.svc.cluster.local`` and the shorter forms the pod's resolv.conf search
  list (``ns.svc.cluster.local svc.cluster.local cluster.local``) completes: ``svc`` (only from the
  Service's own namespace), ``svc.ns``, ``svc.ns.svc``; and ``host.sub.ns.svc.cluster.local`` (and its
  short forms) when the pod has ``hostname`` and a ``subdomain`` naming a headless Service that
  selects it (endpoint controller ``ShouldSetHostname``); a StatefulSet's pods get ``hostname`` =
  pod name and ``subdomain`` = ``spec.serviceName`` from its controller (``updateIdentity``);
- each Service port reached on it: ``targetPort`` resolved against the pod's container ports as the
  endpoints controller resolves it (``podutil.FindPort``: a name matches a port of that name and
  protocol in the containers, then in the native sidecars); an unresolvable name is said, never
  dropped. A ClusterIP Service's ``port`` -> ``targetPort`` translation happens at the virtual IP
  (kube-proxy); a headless Service has none: clients reach the pod's own ports;
- which Service ports the host publishes (``--publish``: NodePort and LoadBalancer Services by
  default, ``all``, or ``none``);
- the environment the kubelet adds to every container (kubelet ``getServiceEnvVarMap`` and
  ``pkg/kubelet/envvars/envvars.go`` ``FromServices``): the ``kubernetes`` Service of ``default``
  always, and with ``enableServiceLinks`` (default true) every Service of the pod's namespace that has
  a cluster IP (not headless, not ExternalName).

Cluster IPs cannot exist locally: where the kubelet writes a Service's virtual IP, parity writes the
Service's DNS name (``svc.ns.svc.cluster.local``), which reaches the same pods here, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .manifests import Workload
from .servicespec import Service, ServicePort

CLUSTER_DOMAIN = "cluster.local"
PUBLISH_POLICIES = ("default", "all", "none")
MASTER_NAMESPACE = "default"
MASTER_SERVICE = "kubernetes"
#: The API server's own Service, as every cluster has it (port 443 named https).
MASTER_PORTS = (ServicePort("https", 443, 6443, "TCP", None, "spec.ports[0]"),)
STATEFULSET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
STATEFULSET_POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


#: Said once per pod: the kubelet's service variables hold cluster IPs, which do not exist here.
SERVICE_ENV_NOTE = ("KUBERNETES_SERVICE_HOST and the other Service variables name each Service by its DNS name "
                    "(NAME.NAMESPACE.svc.cluster.local) where the cluster gives its virtual IP; no Kubernetes API "
                    "server runs here (kubernetes.default.svc.cluster.local does not resolve)")


#: Why a service variable that holds a cluster IP is compared by presence only (``diff``'s environment facet).
CLUSTER_IP_UNKNOWN = "the cluster's value is the Service's cluster IP (parity writes its DNS name)"


def service_value_holds_cluster_ip(value: str) -> bool:
    """Does a value of ``service_env`` stand for a Service's cluster IP (``*_SERVICE_HOST``, ``*_ADDR``:
    the DNS name; ``*_PORT``, ``*_PORT_N_PROTO``: a URL with it), rather than a port or a protocol
    the cluster gives as parity does?"""
    suffix = f".svc.{CLUSTER_DOMAIN}"
    return value.endswith(suffix) or f"{suffix}:" in value


@dataclass(frozen=True)
class PodPort:
    """A port declared by one of the pod's containers (``podspec.ContainerPort``, with its container)."""

    container: str
    name: str | None
    port: int
    protocol: str


@dataclass(frozen=True)
class PortForward:
    """A ClusterIP Service port that arrives on the pod at another port: ``svc:port`` must reach
    ``target`` inside the pod's network namespace."""

    service: str  # "ns/name"
    port: int
    target: int
    protocol: str


@dataclass(frozen=True)
class HostPort:
    """A Service port published on the host: ``host`` on the host reaches ``target`` in the pod."""

    service: str
    host: int
    target: int
    protocol: str


@dataclass
class PodServices:
    """What the Services make of one workload's pod."""

    workload: Workload
    services: list[Service] = field(default_factory=list)  # the Services selecting it, input order
    names: list[str] = field(default_factory=list)  # DNS names reaching it from any namespace
    namespace_names: list[str] = field(default_factory=list)  # short names, only from its own namespace
    forwards: list[PortForward] = field(default_factory=list)
    published: list[HostPort] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # the kubelet's service variables, in order
    notes: list[str] = field(default_factory=list)


@dataclass
class AppServices:
    pods: list[PodServices]  # one per workload, in the workloads' order
    notes: list[str]  # about Services as a whole (selecting nothing, ExternalName...)


def service_label(service: Service) -> str:
    return f"{service.namespace}/{service.name}"


def fqdn(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}"


def dns_forms(name: str, namespace: str) -> tuple[str, list[str]]:
    """The names the cluster's resolver completes to ``name.namespace.svc.cluster.local``: the one
    that works only inside ``namespace`` (``name``, completed by its first search domain), and those
    that work from any namespace."""
    return name, [f"{name}.{namespace}", f"{name}.{namespace}.svc", fqdn(name, namespace)]


def pod_labels(w: Workload) -> dict[str, str]:
    """The pod's labels as the cluster has them: a StatefulSet's controller adds the pod's name and
    index (``updateIdentity``), which per-pod Services select."""
    labels = dict(w.pod_labels)
    if w.kind == "StatefulSet":
        labels[STATEFULSET_POD_NAME_LABEL] = w.pod_name
        labels[STATEFULSET_POD_INDEX_LABEL] = "0"
    return labels


def pod_hostname(w: Workload) -> tuple[str | None, str | None]:
    """``(hostname, subdomain)`` of the pod: a StatefulSet's controller sets them to the pod's name and
    ``spec.serviceName`` (``updateIdentity``); other pods have what their spec says."""
    if w.kind == "StatefulSet":
        return w.pod_name, w.service_name
    return w.spec.hostname, w.spec.subdomain


def selects(service: Service, w: Workload) -> bool:
    """Whether ``service`` selects ``w``'s pod: same namespace, every selector pair among its labels."""
    if not service.selector or service.namespace != w.namespace:
        return False
    labels = pod_labels(w)
    return all(labels.get(k) == v for k, v in service.selector.items())


def container_ports(w: Workload) -> list[PodPort]:
    """The pod's declared ports, in ``FindPort``'s order: containers, then native sidecars."""
    out = []
    for ctr in w.spec.containers + [c for c in w.spec.init_containers if c.sidecar]:
        out.extend(PodPort(ctr.name, p.name, p.container_port, p.protocol) for p in ctr.ports)
    return out


def find_port(w: Workload, port: ServicePort) -> int | None:
    """``podutil.FindPort``: a number as it is; a name, the first container port of that name and the
    Service port's protocol. None when no port has that name."""
    if isinstance(port.target_port, int):
        return port.target_port
    for cp in container_ports(w):
        if cp.name == port.target_port and cp.protocol == port.protocol:
            return cp.port
    return None


def env_name(text: str) -> str:
    """envvars.go ``makeEnvVariableName``: upper case, '-' as '_' (nothing else: a port name with a
    leading digit gives ``..._SERVICE_PORT_8083``, as the upstream test expects)."""
    return text.replace("-", "_").upper()


def service_link_vars(name: str, host: str, ports: list[ServicePort] | tuple[ServicePort, ...]) -> dict[str, str]:
    """envvars.go ``FromServices`` for one Service, its cluster IP replaced by ``host``."""
    prefix = env_name(name)
    out = {f"{prefix}_SERVICE_HOST": host, f"{prefix}_SERVICE_PORT": str(ports[0].port)}
    for p in ports:  # every named port (only the first may be unnamed)
        if p.name:
            out[f"{prefix}_SERVICE_PORT_{env_name(p.name)}"] = str(p.port)
    for i, p in enumerate(ports):  # makeLinkVariables: Docker's link variables
        proto = p.protocol.lower()
        url = f"{proto}://{host}:{p.port}"
        if i == 0:
            out[f"{prefix}_PORT"] = url
        port_prefix = f"{prefix}_PORT_{p.port}_{p.protocol.upper()}"
        out[port_prefix] = url
        out[f"{port_prefix}_PROTO"] = proto
        out[f"{port_prefix}_PORT"] = str(p.port)
        out[f"{port_prefix}_ADDR"] = host
    return out


def service_env(namespace: str, enable_service_links: bool, services: list[Service]) -> dict[str, str]:
    """The variables the kubelet gives every container of a pod in ``namespace``
    (``getServiceEnvVarMap``): the master Service ``kubernetes`` of ``default`` always (the input's,
    when it has one with a cluster IP, else the one every cluster has: 443/TCP named https), and, with
    ``enableServiceLinks``, every Service of the namespace with a cluster IP; a Service of the pod's
    namespace replaces a same-named master Service. Ordered by Service name (the kubelet's order is a
    Go map's: none).

    Args:
        namespace: the pod's namespace.
        enable_service_links: the pod's ``spec.enableServiceLinks``.
        services: every Service in the input.
    Returns:
        name -> value, a Service's DNS name where the kubelet writes its cluster IP.
    """
    chosen: dict[str, tuple[str, tuple[ServicePort, ...] | list[ServicePort]]] = {
        MASTER_SERVICE: (fqdn(MASTER_SERVICE, MASTER_NAMESPACE), MASTER_PORTS)}
    with_ip = [s for s in services if s.ip_set and s.ports]
    for s in with_ip:
        if (s.namespace, s.name) == (MASTER_NAMESPACE, MASTER_SERVICE):
            chosen[MASTER_SERVICE] = (fqdn(s.name, s.namespace), s.ports)
    for s in with_ip if enable_service_links else []:
        if s.namespace == namespace:
            chosen[s.name] = (fqdn(s.name, s.namespace), s.ports)
    out: dict[str, str] = {}
    for name in sorted(chosen):
        host, ports = chosen[name]
        out.update(service_link_vars(name, host, ports))
    return out


def resolve(workloads: list[Workload], services: list[Service], publish: str = "default") -> AppServices:
    """Every pod's Services, names, ports and environment.

    Args:
        workloads: the selected workloads (one pod each).
        services: every Service of the input, in input order.
        publish: which Service ports the host publishes: ``default`` (NodePort and LoadBalancer
            Services), ``all`` or ``none``.
    Returns:
        One ``PodServices`` per workload, in order, and notes about Services as a whole.
    Raises:
        ValueError: for an unknown ``publish`` policy (the CLI offers only the known ones).
    """
    if publish not in PUBLISH_POLICIES:
        raise ValueError(f"publish policy {publish!r}: one of {', '.join(PUBLISH_POLICIES)}")
    pods = [PodServices(w) for w in workloads]
    notes: list[str] = []
    used_host: dict[tuple[int, str], str] = {}
    for s in services:
        label = service_label(s)
        if s.type == "ExternalName":
            notes.append(f"Service {label} is ExternalName: its name (a CNAME in the cluster) does not resolve here")
            continue
        if not s.selector:
            notes.append(f"Service {label} has no selector: its endpoints are managed outside the input, "
                         "its name does not resolve here")
            continue
        chosen = [p for p in pods if selects(s, p.workload)]
        if not chosen:
            notes.append(f"Service {label} selects no workload of the input: its name does not resolve here")
            continue
        for pod in chosen:
            _add_service(pod, s)
        if _published(s, publish):
            _publish(s, chosen, used_host)
    for pod in pods:
        w = pod.workload
        pod.env = service_env(w.namespace, w.spec.enable_service_links, services)
    return AppServices(pods, notes)


def _add_service(pod: PodServices, s: Service) -> None:
    w = pod.workload
    label = service_label(s)
    pod.services.append(s)
    short, names = dns_forms(s.name, s.namespace)
    _extend(pod.namespace_names, [short])
    _extend(pod.names, names)
    hostname, subdomain = pod_hostname(w)
    if s.headless and hostname and subdomain == s.name:  # ShouldSetHostname, served for headless Services
        short, names = dns_forms(f"{hostname}.{s.name}", s.namespace)
        _extend(pod.namespace_names, [short])
        _extend(pod.names, names)
    declared = {(cp.port, cp.protocol): cp.container for cp in container_ports(w)}
    for port in s.ports:
        target = find_port(w, port)
        where = f"Service {label} port {port.port}" + (f" ({port.name})" if port.name else "")
        if target is None:
            pod.notes.append(f"{where}: targetPort {port.target_port!r} names no {port.protocol} port of "
                             f"{w.ref}'s containers: the cluster leaves the pod out of this port's endpoints "
                             "(podutil.FindPort), so it is not reachable through the Service here either")
            continue
        if s.headless or target == port.port:
            continue  # no virtual IP, no translation: clients reach the pod's own port
        if port.protocol != "TCP":
            pod.notes.append(f"{where}: {port.protocol} {port.port} -> {target} is not forwarded here (the "
                             "local forwarder carries TCP only): use port " + str(target))
            continue
        if (port.port, port.protocol) in declared:
            pod.notes.append(f"{where} -> {target}: not forwarded here: container {declared[(port.port, 'TCP')]} "
                             f"itself listens on {port.port} in the pod (in the cluster the Service's virtual "
                             "IP keeps the two apart)")
            continue
        clash = next((f for f in pod.forwards if f.port == port.port and f.protocol == port.protocol), None)
        if clash is not None:
            if clash.target != target:
                pod.notes.append(f"{where} -> {target}: not forwarded here: Service {clash.service} forwards "
                                 f"the same port of this pod to {clash.target}")
            continue
        pod.forwards.append(PortForward(label, port.port, target, port.protocol))


def _extend(names: list[str], more: list[str]) -> None:
    names.extend(n for n in more if n not in names)


def _published(s: Service, publish: str) -> bool:
    if publish == "all":
        return True
    return publish == "default" and s.type in ("NodePort", "LoadBalancer")


def _publish(s: Service, chosen: list[PodServices], used: dict[tuple[int, str], str]) -> None:
    """A published Service port lands on the first pod it selects (a host port reaches one container;
    the cluster balances between all of them). The host port is a NodePort Service's ``nodePort`` when
    given, else the Service's ``port``."""
    label = service_label(s)
    pod = chosen[0]
    if len(chosen) > 1:
        pod.notes.append(f"Service {label} is published on {pod.workload.ref}'s pod only, not on "
                         + ", ".join(p.workload.ref for p in chosen[1:]) + " (a host port reaches one pod)")
    for port in s.ports:
        target = find_port(pod.workload, port)
        if target is None:
            continue  # (said by _add_service)
        host = port.node_port if s.type == "NodePort" and port.node_port else port.port
        owner = used.get((host, port.protocol))
        if owner is not None:
            pod.notes.append(f"Service {label} port {port.port}: host port {host}/{port.protocol} is already "
                             f"published for Service {owner}: not published")
            continue
        used[(host, port.protocol)] = label
        pod.published.append(HostPort(label, host, target, port.protocol))
