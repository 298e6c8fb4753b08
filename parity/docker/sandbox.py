"""``parity up``'s pod sandboxes and project networks, as Docker SDK arguments.

What compose.yaml and docker.sh say about each pod's sandbox (``composefile``, ``dockersh``: host and domain name,
/etc/hosts entries, published ports, the pod's network sysctls, the Service forwarders in its
command, its DNS names on the project network and on its namespace's network, the memory emptyDirs
it holds mounted) is planned here
once for ``up``, from the same plan functions (``plan.pod_networks``, ``plan.sandbox_command``,
``PodPlan.ports``). ``up`` creates the networks, then each sandbox, then the pod's containers with
``network_mode container:SANDBOX_ID`` (parity/uppods.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from .labels import LABEL_NAMESPACE, LABEL_PROJECT
from .plan import TMPFS, AppPlan, PodPlan, pod_networks, sandbox_command


@dataclass(frozen=True)
class SandboxPlan:
    """One pod's sandbox container as ``up`` creates it."""

    pod: PodPlan
    name: str  # the engine's container name (``AppPlan.sandbox_container``, as docker.sh names it)
    image: str
    command: list[str]
    hostname: str
    domainname: str
    extra_hosts: list[str]  # NAME:IP, as --add-host
    ports: dict[str, list[int]]  # "PORT/PROTO" -> host ports (published only: Docker's expose is metadata)
    sysctls: dict[str, str]  # the pod's network sysctls (``PodPlan.sysctls``)
    networks: dict[str, list[str]]  # engine network name -> the sandbox's aliases there (first: created on)
    labels: dict[str, str]
    #: The pod's memory emptyDirs it holds mounted (engine volume name -> where), as compose.yaml and
    #: docker.sh make it hold them (``StoreVolume.hold_path``): the local driver unmounts a tmpfs volume,
    #: and loses its files, when its last container stops (an init container's hand-off).
    holds: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """What decides whether an existing sandbox is kept: every setting above."""
        config = {"image": self.image, "command": self.command, "hostname": self.hostname,
                  "domainname": self.domainname, "extra_hosts": self.extra_hosts, "ports": self.ports,
                  "sysctls": self.sysctls, "networks": self.networks, "labels": self.labels}
        if self.holds:  # (only then: a sandbox that holds nothing keeps its digest)
            config["holds"] = self.holds
        return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()

    def create_kwargs(self) -> dict:
        """``client.containers.create`` arguments but the network (``up`` attaches it with the aliases)."""
        kwargs: dict = {"name": self.name, "command": self.command, "hostname": self.hostname,
                        "restart_policy": {"Name": "unless-stopped"}}
        if self.domainname:
            kwargs["domainname"] = self.domainname
        if self.extra_hosts:
            kwargs["extra_hosts"] = self.extra_hosts
        if self.ports:
            kwargs["ports"] = {k: (v[0] if len(v) == 1 else v) for k, v in self.ports.items()}
        if self.sysctls:
            kwargs["sysctls"] = self.sysctls
        if self.holds:  # the API's mount objects (what docker.types.Mount holds), nocopy as in compose.yaml
            kwargs["mounts"] = [{"Type": "volume", "Source": name, "Target": target, "ReadOnly": False,
                                 "VolumeOptions": {"NoCopy": True}} for name, target in self.holds.items()]
        return kwargs


def up_networks(plan: AppPlan) -> list[str]:
    """The engine networks ``up`` makes for the app: the project network, then each namespace's
    (``plan.pod_networks``), as docker.sh names them."""
    keys = sorted({key for nets in pod_networks(plan) for key in nets if key != "default"})
    return [plan.network] + [plan.scoped_network(k) for k in keys]


def sandbox_plans(plan: AppPlan) -> list[SandboxPlan]:
    """Each pod's sandbox, in the plan's order."""
    out = []
    for pod, nets in zip(plan.pods, pod_networks(plan)):
        ports: dict[str, list[int]] = {}
        for p in pod.ports[1]:  # HOST:PORT/PROTO
            host, _, target = p.partition(":")
            ports.setdefault(target, []).append(int(host))
        networks = {plan.network if key == "default" else plan.scoped_network(key): aliases
                    for key, aliases in nets.items()}
        out.append(SandboxPlan(
            pod=pod, name=plan.sandbox_container(pod), image=plan.base_image, command=sandbox_command(pod),
            hostname=pod.hostname, domainname=pod.domain,
            extra_hosts=[f"{name}:{a.ip}" for a in pod.host_aliases for name in a.hostnames],
            ports=ports, sysctls=dict(pod.sysctls), networks=networks,
            labels={**pod.sandbox_labels(plan.project), LABEL_NAMESPACE: pod.namespace,
                    LABEL_PROJECT: plan.project},
            holds={v.docker_name: v.hold_path for v in pod.stores if v.kind == TMPFS}))
    return out
