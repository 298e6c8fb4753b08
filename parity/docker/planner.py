"""Building the Docker plan (``plan.py``'s types) from the selected workloads and their predicted
layouts: one ``PodPlan`` per workload, its services (containers), data volumes, writable volumes,
subPath binds and hostPaths, the Services' DNS names and ports, and what cannot be reproduced (said,
in the plan's differences).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from ..errors import ParityError, Problem
from ..layout import WRITABLE_TYPES, ContainerLayout, Mount, VolumeLayout, WorkloadLayout
from ..kube.containervalidation import reference_error
from ..kube.fieldref import pod_uid
from ..kube.kubelet import absent_optional_notes, sub_path_expr_notes, termination_log_notes, termination_log_path
from ..kube.manifests import Inputs, Workload
from ..kube.names import go_quote
from ..kube.podspec import ClaimSource, Container, EmptyDirSource, EphemeralSource, HostPathSource, Volume
from ..kube.services import SERVICE_ENV_NOTE, resolve
from ..kube.subpathexpr import ExpansionTooLong
from . import DEFAULT_BASE_IMAGE
from .env import ContainerEnv, container_env
from .health import health_plan
from .labels import LABEL_CONTAINER, LABEL_PROJECT
from .plan import (CLAIM, DATA_SERVICE, EPHEMERAL, SUBPATH_DIR, TMPFS, AppPlan, BindPlan, DataVolume, HostPathPlan,
                   PodPlan, ServicePlan, StoreVolume, VolumeMountPlan, app_project_name, claim_key, engine_volume_name,
                   note_subjects, pod_host_and_domain, pod_keys, said_of, service_key, shared_refs)
from .security import host_namespace_notes, identity, pod_ref, sandbox_sysctls, security_settings


def flatten(volume: VolumeLayout) -> VolumeLayout:
    """``--flat``: the user-visible tree only (no ``..data``, timestamped directory or links)."""
    return VolumeLayout(volume.name, volume.source, [e.moved(p) for p, e in volume.visible()])


def build_app_plan(workloads: Sequence[Workload], layouts: Sequence[WorkloadLayout], inputs: Inputs, *,
                   flat: bool = False, base_image: str = DEFAULT_BASE_IMAGE, project: str | None = None,
                   publish: str = "default") -> AppPlan:
    """The Docker plan of every selected workload as one environment.

    Args:
        workloads: the selected workloads, in input order (one pod each).
        layouts: their predicted layouts, in the same order.
        inputs: what the workloads read (Secrets, ConfigMaps...).
        flat: ``--flat``: user-visible files only in every volume.
        base_image: the data image's base.
        project: ``-p``; default ``app_project_name``.
        publish: ``--publish``: which Service ports the host publishes (``kube/services.py``).

    Returns:
        The app's plan: ``pods`` in the workloads' order.

    Raises:
        ValueError: a bad base image, a container named as a parity service, a workload given twice.
    """
    base_error = reference_error(base_image)
    if base_error:  # it becomes the data image's FROM and the sandboxes' image: Compose would refuse the file
        raise ValueError(f"--base-image: Invalid value: {go_quote(base_image)}: not a valid image reference "
                         f"({base_error}): Compose refuses a compose file naming it")
    project = project or app_project_name(workloads)
    plan = AppPlan(project, "", base_image, flat, [], {})
    for w, layout, key, shares_ref, named in zip(workloads, layouts, pod_keys(workloads), shared_refs(workloads),
                                                 note_subjects(workloads)):
        plan.pods.append(_pod_plan(w, layout, inputs, key, plan, shares_ref, named))
        plan.contents.update(layout.contents)
    _add_services(plan, workloads, inputs, publish)
    if DATA_SERVICE in {s.name for s in plan.services}:
        raise ValueError(f"a container is named {DATA_SERVICE!r}, the name parity gives the data service")
    plan.data_image = f"{project}-data:{plan.content_digest[:12]}"
    return plan


def build_plan(workload: Workload, layout: WorkloadLayout, inputs: Inputs, *, flat: bool = False,
               base_image: str = DEFAULT_BASE_IMAGE, project: str | None = None,
               publish: str = "default") -> AppPlan:
    """The plan of an app that is this one workload (``build_app_plan`` of one)."""
    return build_app_plan([workload], [layout], inputs, flat=flat, base_image=base_image, project=project,
                          publish=publish)


def _add_services(plan: AppPlan, workloads: Sequence[Workload], inputs: Inputs, publish: str) -> None:
    """Each pod's DNS names, host ports and port forwards from the Services of the input
    (``kube/services.py``); what they cannot do here goes to the pod's differences (about a Service
    that reaches no pod: the first pod's)."""
    app = resolve(list(workloads), list(inputs.services.values()), publish)
    for pod, found, w in zip(plan.pods, app.pods, workloads):
        pod.aliases = list(found.names)
        pod.short_aliases = list(found.namespace_names)
        pod.published = list(found.published)
        pod.forwards = list(found.forwards)
        pod.differences.extend(found.notes)
        ready = [service_key(pod.key, c.name) for c in w.spec.all_containers
                 if c.readiness_probe is not None and (c.sidecar or not c.init)]
        if found.names:
            # The endpoints controller lists a pod's address only when it is Ready; a network alias
            # answers as soon as the sandbox runs. Said of each container in the same words, so that
            # a whole app says it once (``group_notes``: kube-thanos' 16 workloads said it 14 times).
            pod.differences.extend(
                f"{svc}: readinessProbe does not gate its pod's Service DNS names here: a pod that is not ready "
                "still answers at them (in the cluster it leaves the Service's endpoints until it is ready)"
                for svc in ready)
    if plan.pods:  # about the app as a whole: said once
        plan.pods[0].differences.extend(app.notes + [SERVICE_ENV_NOTE])


def _pod_plan(workload: Workload, layout: WorkloadLayout, inputs: Inputs, key: str, plan: AppPlan,
              shares_ref: bool = False, named: str = "") -> PodPlan:
    """One workload's pod. ``named``: what starts the notes of its volumes and inputs (``note_subjects``)."""
    declared = {v.name: v for v in workload.spec.volumes}
    volumes, stores = [], []
    for tree in layout.volumes:
        source = declared[tree.name].source if tree.name in declared else None
        if isinstance(source, EmptyDirSource) and source.memory:
            root = next(e for e in tree.entries if e.path == "")
            vkey = service_key(key, tree.name)
            stores.append(StoreVolume(vkey, TMPFS, engine_volume_name(plan.project, vkey), size=source.size_limit,
                                      mode=root.mode, gid=workload.spec.fs_group))
            continue
        tree = flatten(tree) if plan.flat and tree.type not in WRITABLE_TYPES else tree
        digest = tree.digest()
        vkey = service_key(key, tree.name)
        volumes.append(DataVolume(vkey, engine_volume_name(plan.project, vkey, digest), digest, tree))
    for v in workload.spec.volumes:
        if isinstance(v.source, ClaimSource):
            ckey = claim_key(workload.namespace, v.source.claim_name)
            stores.append(StoreVolume(ckey, CLAIM, engine_volume_name(plan.project, ckey), workload.namespace,
                                      v.source.claim_name))
        elif isinstance(v.source, EphemeralSource):
            vkey = service_key(key, v.name)
            stores.append(StoreVolume(vkey, EPHEMERAL, engine_volume_name(plan.project, vkey)))
    hostname, domain = pod_host_and_domain(workload)
    pod = PodPlan(workload.kind, workload.name, workload.namespace, key, hostname, volumes, [], domain=domain,
                  host_aliases=list(workload.spec.host_aliases), run=workload.run,
                  sysctls=sandbox_sysctls(workload.spec), stores=stores, shares_ref=shares_ref)
    last_init: Container | None = None  # each container waits for the init container before it
    for ctr, ctr_layout in zip(workload.spec.all_containers, layout.containers):
        service = _service(workload, ctr, ctr_layout, inputs, plan, pod)
        if last_init is not None:
            (service.started_after if last_init.sidecar else service.depends_on).append(service_key(key,
                                                                                                   last_init.name))
        if ctr.init:
            last_init = ctr
        pod.services.append(service)
        pod.differences.extend(f"{service.name}: {note}" for note in service.env.notes)
        service.security, notes = security_settings(workload.spec, ctr, pod_ref(workload.pod_name, workload.namespace,
                                                                                pod_uid(workload)))
        pod.differences.extend(f"{service.name}: {note}" for note in notes)
        health = health_plan(ctr)
        service.health = health.check
        pod.differences.extend(f"{service.name}: {note}" for note in health.notes)
    pod.differences.extend(f"{pod.subject}: {note}" for note in host_namespace_notes(workload.spec))
    # Said of the container's service (as its other notes are), or of the pod for a pod's field.
    pod.differences.extend(f"{service_key(key, f.container) if f.container else pod.subject}: {f.field}: {f.why}"
                           for f in workload.spec.unreproduced_fields)
    pod.differences.extend(f"{service_key(key, ctr.name)}: {note}"
                           for ctr, _, note in workload.spec.unreproduced_mounts())
    pod.differences.extend(_writable_notes(pod, workload, named))
    pod.differences.extend(said_of(named, note)  # (kubelet: the layout says them too)
                           for note in absent_optional_notes(workload, inputs))
    pod.differences.extend(_volatile_notes(layout, key))
    pod.differences.extend(sub_path_expr_notes(workload, inputs, lambda name: service_key(key, name)))
    pod.differences.extend(termination_log_notes(workload.spec, lambda name: service_key(key, name)))  # (issue 13)
    if workload.scale_note:
        pod.differences.append(f"{pod.subject}: {workload.scale_note}")
    return pod


def _service(w: Workload, ctr: Container, layout: ContainerLayout, inputs: Inputs, plan: AppPlan,
             pod: PodPlan) -> ServicePlan:
    user, groups = identity(w.spec, ctr)
    env = container_env(w, ctr, inputs)
    volumes: list[VolumeMountPlan] = []
    binds: list[BindPlan] = []
    shown = layout.shown_by()
    declared = {v.name: v for v in w.spec.volumes}
    host_paths: list[HostPathPlan] = []
    for i, m in enumerate(layout.mounts):
        if m.writable_volume:
            _writable_mount(w, m, declared[m.volume], pod, volumes, host_paths)
            continue
        if m.sub_path is None:
            volumes.append(VolumeMountPlan(service_key(pod.key, m.volume), m.path))
            continue
        own = tuple(e.moved("" if e.path == m.path else e.path[len(m.path) + 1:])
                    for e in shown.get(m, []))
        # The host file's name: the mount index makes it unique, the mountPath's last part readable
        # (only safe characters of it: a mountPath may hold anything the API server allows).
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", posixpath.basename(m.path)) or "root"
        binds.append(BindPlan(f"{SUBPATH_DIR}/{service_key(pod.key, ctr.name)}/{i}-{readable[:64]}", m.path, own))
    expose, ports = [], []
    for p in ctr.ports:
        proto = p.protocol.lower()
        expose.append(f"{p.container_port}/{proto}")
        if p.host_port is not None:
            ports.append(f"{p.host_port}:{p.container_port}/{proto}")
    # The API server defaults restartPolicy to Always; a Job's template must say OnFailure or Never.
    policy = w.spec.restart_policy or ("Never" if w.kind in ("Job", "CronJob") else "Always")
    if ctr.sidecar:  # restarted whenever it exits, whatever the pod's restartPolicy
        restart = "unless-stopped"
    else:
        restart = "no" if ctr.init else {"Always": "unless-stopped", "OnFailure": "on-failure", "Never": "no"}[policy]
    return ServicePlan(
        name=service_key(pod.key, ctr.name), container=ctr.name, init=ctr.init and not ctr.sidecar, sidecar=ctr.sidecar, image=ctr.image,
        entrypoint=_expanded(env, w, ctr, "command") if ctr.command is not None else None,
        command=_expanded(env, w, ctr, "args") if ctr.args is not None else ([] if ctr.command else None),
        env=env, working_dir=ctr.working_dir,
        user=user, group_add=groups, read_only_rootfs=bool(ctr.security.read_only_root_filesystem),
        expose=expose, ports=ports, volumes=volumes, binds=binds, depends_on=[], restart=restart,
        hostname=pod.hostname, tty=ctr.tty, stdin_open=ctr.stdin,
        labels={**pod.identity_labels(), LABEL_CONTAINER: ctr.name, LABEL_PROJECT: plan.project},
        host_paths=host_paths, termination=termination_log_path(ctr), pull_never=ctr.image_pull_policy == "Never",
    )


def _expanded(env: ContainerEnv, w: Workload, ctr: Container, name: str) -> list[str]:
    """``ctr.command`` or ``ctr.args`` (``name``) with ``$(VAR)`` expanded, as the kubelet expands them.

    Raises:
        ParityError: an argument expands past the kernel's ``MAX_ARG_STRLEN`` (the container would fail
            to start), naming it.
    """
    out = []
    for i, arg in enumerate(getattr(ctr, name)):
        try:
            out.append(env.expand(arg))
        except ExpansionTooLong as exc:
            raise ParityError(Problem(str(exc), file=w.file, obj=w.ref, field=f"{ctr.field}.{name}[{i}]")) from None
    return out


def _writable_mount(w: Workload, m: Mount, volume: Volume, pod: PodPlan, volumes: list[VolumeMountPlan],
                    host_paths: list[HostPathPlan]) -> None:
    """One mount of a writable volume: a volume mount (writable unless readOnly), or a hostPath bind.
    A subPath into a Docker volume cannot be mounted (the engine mounts subpaths of volumes from API
    1.45 on): not mounted, said (``_writable_notes``)."""
    s = volume.source
    if isinstance(s, HostPathSource):
        source = posixpath.join(s.path, m.sub_path) if m.sub_path else s.path
        host_paths.append(HostPathPlan(source, m.path, m.read_only, s.type, f"{volume.field}.hostPath", w.file, w.ref))
        return
    if m.sub_path:
        return
    key = claim_key(w.namespace, s.claim_name) if isinstance(s, ClaimSource) else service_key(pod.key, volume.name)
    volumes.append(VolumeMountPlan(key, m.path, m.read_only))


def _writable_notes(pod: PodPlan, w: Workload, named: str) -> list[str]:
    """What parity says of a pod's writable volumes: where they differ from the cluster's. ``named``: the
    subject of the volume notes (``note_subjects``)."""
    notes = []
    declared = {v.name: v for v in w.spec.volumes}
    for ctr in w.spec.all_containers:
        svc = service_key(pod.key, ctr.name)
        for m in ctr.volume_mounts:
            v = declared.get(m.name)
            if v is None or not v.writable or v.unreproduced():
                continue
            if (m.sub_path or m.sub_path_expr) and not isinstance(v.source, HostPathSource):
                sub = f"subPath {m.sub_path}" if m.sub_path else f"subPathExpr {m.sub_path_expr}"
                notes.append(f"{svc}: {sub} of {v.type} volume \"{v.name}\" is not reproduced: "
                             f"nothing is mounted at {m.mount_path} here (Docker mounts a subpath of a volume from "
                             "API 1.45 on; this engine's API is older)")
    volume_notes = _host_path_notes([v for v in w.spec.volumes if isinstance(v.source, HostPathSource)])
    for v in w.spec.volumes:
        s = v.source
        if isinstance(s, EmptyDirSource) and s.memory and s.size_limit is None:
            volume_notes.append(f"emptyDir volume \"{v.name}\" (medium Memory) has no sizeLimit: the cluster sizes its "
                                "tmpfs to the pod's memory limit or the node's allocatable memory; here it is the "
                                "kernel's default (half the host's memory)")
        elif isinstance(s, ClaimSource):
            volume_notes.append(f"persistentVolumeClaim {s.claim_name}: a local named volume (its storage class, size "
                                "and access modes are the cluster's); its data survives down and up (parity down "
                                "--delete-claims removes it)")
    # A volume's notes name its workload when the app has several: 'hostPath volume "dev" binds /dev/'
    # said of longhorn's whole install named no pod. (One workload: as before, the app is the pod.)
    volume_notes = [said_of(named, n) for n in volume_notes + unenforced_volume_notes(w)]
    return notes + volume_notes


def _host_path_notes(volumes: list[Volume]) -> list[str]:
    """A pod's hostPath volumes, one note per kind of type check compose leaves out (falco's and
    calico's node pods bind fourteen host paths: fourteen notes of the same words before)."""
    by_type: dict[str, list[Volume]] = {}
    for v in volumes:
        by_type.setdefault(v.source.type, []).append(v)
    notes = []
    for kind, group in by_type.items():
        if len(group) == 1:
            v = group[0]
            notes.append(f"hostPath volume \"{v.name}\" binds {v.source.path} of the Docker host (not a cluster "
                         "node's): it reaches into the host" + _host_path_type_note(kind))
        else:
            named = ", ".join(f"\"{v.name}\" ({v.source.path})" for v in group)
            notes.append(f"hostPath volumes {named} bind these paths of the Docker host (not a cluster node's): "
                         "they reach into the host" + _host_path_type_note(kind))
    return notes


def _host_path_type_note(kind: str) -> str:
    """What compose leaves out of a hostPath's ``type``: it has no type check (``bind.create_host_path``
    only makes a missing directory); docker.sh and ``parity up`` run the kubelet's (docker/hostpath.py)."""
    if kind == "FileOrCreate":
        return (", type FileOrCreate: compose neither checks it nor creates a missing file (docker.sh and parity up "
                "do both)")
    if kind:
        return f", type {kind}: compose does not check it (docker.sh and parity up run the kubelet's check)"
    return ""


def unenforced_volume_notes(w: Workload) -> list[str]:
    """The limits of a pod's writable volumes that nothing enforces here, for k8s-to-docker, ``up``
    and both diffs (which have nothing to compare them with): a disk emptyDir's ``sizeLimit`` (the
    kubelet's eviction manager evicts the pod past it; a Docker volume grows to the disk's size) and a
    generic ephemeral volume's claim (a storage class provisions it with the size requested; here a
    plain local volume, removed with the pod)."""
    notes = []
    for v in w.spec.volumes:
        s = v.source
        if isinstance(s, EmptyDirSource) and not s.medium and s.size_text is not None:
            notes.append(f"emptyDir volume \"{v.name}\" has sizeLimit {s.size_text}: not enforced here (the kubelet "
                         "evicts the pod once the volume holds more; a Docker volume grows to the disk's size)")
        elif isinstance(s, EphemeralSource):
            storage_class = f"storage class {s.storage_class}" if s.storage_class else "the default storage class"
            size = f"size {s.size}" if s.size else "no size"
            notes.append(f"ephemeral volume \"{v.name}\": its claim ({storage_class}, {size} requested) is not made "
                         "here: a local named volume, of the disk's size, removed with the pod")
    return notes


def _volatile_notes(layout: WorkloadLayout, key: str) -> list[str]:
    notes = set()
    for c in layout.containers:
        for path, e in c.visible_files():
            if e.volatile:
                notes.add(f"{service_key(key, c.name)}: {path} holds a placeholder: {e.volatile}")
    return sorted(notes)
