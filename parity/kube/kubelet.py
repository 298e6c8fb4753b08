"""What the kubelet writes into each container, predicted from a pod spec and its Secrets/ConfigMaps.

Each rule cites its section (§, listed with its upstream kubelet source in docs/kubelet-model.md) and
the kubelet function it comes from; docs/kubelet-model.md lists them all. Steps, as the kubelet runs them:

0. the pod as admitted (§7.5): the API server's ServiceAccount plugin adds the ``kube-api-access-*``
   volume and its mount in every container (``admitted_spec``);
1. payload (§3): per volume type, a map ``relative path -> bytes, mode, owner`` (``_Pod.payload``);
2. the emptyDir that backs the volume (§1, §5): tmpfs root 1777 or disk root 0777, fsGroup walk
   (``_backing_dir``);
3. nested mountpoints (§6.3) made in the still empty root (``_nested_mountpoints``);
4. AtomicWriter (§2): timestamped directory, files, fsGroup walk (§5), ``..data``, top-level links
   (``_atomic_write``);
5. per container (§6): a missing subPath becomes a directory (``_prepare_sub_paths``), then read-only
   mounts and subPath binds (``_container_layout``).

``build_layout`` runs them in this order, each step marked in its body.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import operator
import posixpath
import time
from dataclasses import field
from typing import Callable

from ..errors import Problems
from ..gcpause import gc_paused
from ..layout import (DATA_DIR_NAME, DIR, FILE, MAX_SYMLINK_HOPS, SYMLINK, ContainerLayout, Entry, Mount, MountCover,
                      Subtree, VolumeLayout, WorkloadLayout, sha256_hex)
from ..values import Value, valueclass
from .fieldref import DownwardAPI
from .manifests import Inputs, Workload
from .names import go_quote, shown
from .podspec import (ClaimSource, ConfigMapSource, Container, DownwardFile, DownwardSource, EmptyDirSource,
                      EphemeralSource, HostPathSource, KeyToPath, OtherSource, PodSpec, ProjectedSource, SecretSource,
                      TokenSource, Volume, VolumeMount)

TMPFS_ROOT_MODE = 0o1777  # emptyDir{medium: Memory}: tmpfs mounted without mode= (§1)
DISK_ROOT_MODE = 0o777  # emptyDir{}: setupDir chmods to exactly 0777 (§1)
TS_DIR_MODE = 0o755  # newTimestampDir chmods explicitly (§2.2)
INTERMEDIATE_DIR_MODE = 0o755  # MkdirAll(0777) under the kubelet's umask 022 (§2.3)
FS_GROUP_FILE_MASK = 0o440  # roMask (§5)
FS_GROUP_DIR_MASK = 0o2550  # roMask | execMask | setgid (§5)
FS_GROUP_RW_DIR_MASK = 0o2770  # the emptyDir's own walk on its root: rwMask 0660 | execMask 0110 | setgid

_PATH_OF = operator.itemgetter(0)  # an Entry's path, as a sort key in C

PLACEHOLDER_TOKEN = b"parity.placeholder.token"
TOKEN_VOLATILE = ("the API server mints the token (a signed, expiring JWT bound to the pod): no cluster, "
                  "no real token")



# ---------------------------------------------------------------------------------------------
# Step 0: the pod as admitted (§7.5). The API server's ServiceAccount admission plugin
# (plugin/pkg/admission/serviceaccount/admission.go) changes every pod before the kubelet sees it.

SA_VOLUME_PREFIX = "kube-api-access-"  # ServiceAccountVolumeName + "-"
SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"  # DefaultAPITokenMountPath
#: The files of that volume (``TokenVolumeSource``): what a pod, parity in one included, reads there.
SA_TOKEN_FILE, SA_CA_FILE, SA_NAMESPACE_FILE = "token", "ca.crt", "namespace"
SA_DEFAULT_NAME = "default"  # DefaultServiceAccountName
SA_TOKEN_EXPIRATION = 3607  # serviceaccount.WarnOnlyBoundTokenExpirationSeconds (1 h + 7 s)
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
#: apiserver's names.SimpleNameGenerator: 5 characters of this alphabet (no vowels, no 0/1/3).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
PLACEHOLDER_ROOT_CA = b"parity.placeholder.ca.crt"
ROOT_CA_VOLATILE = ("the cluster's root CA (ConfigMap kube-root-ca.crt, which the cluster publishes in every "
                    "namespace) is not in the input: give it to predict ca.crt")


@valueclass  # (a pod-spec value, as its base)
class RootCAConfigMap(ConfigMapSource):
    """The injected volume's ``kube-root-ca.crt`` source. Not optional upstream, but the cluster's
    root-ca-cert-publisher makes that ConfigMap in every namespace: absent from the input, ca.crt is
    a placeholder (volatile) rather than an error."""


def service_account_volume_name(w: Workload) -> str:
    """``kube-api-access-XXXXX``. The API server picks the 5 characters at random
    (``SimpleNameGenerator``); parity derives them from the workload's identity, from the same
    alphabet, so that the same input always gives the same name."""
    digest = hashlib.sha256(f"{w.namespace}/{w.kind}/{w.name}".encode()).digest()
    return SA_VOLUME_PREFIX + "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in digest[:5])


def automounts_token(w: Workload, inputs: Inputs) -> bool:
    """``shouldAutomount``: the pod's ``automountServiceAccountToken`` wins, then its ServiceAccount's
    (``serviceAccountName``, "default" when unset) when the input holds it, else true."""
    if w.spec.automount_service_account_token is not None:
        return w.spec.automount_service_account_token
    account = inputs.service_accounts.get((w.namespace, w.spec.service_account_name or SA_DEFAULT_NAME))
    if account is not None and account.automount is not None:
        return account.automount
    return True


def admitted_spec(w: Workload, inputs: Inputs) -> PodSpec:
    """The pod spec after ``mountServiceAccountToken``: every container (init containers included)
    without a mount at ``SA_MOUNT_PATH`` gets a read-only one of the token volume, appended to its
    mounts; the volume is appended to the pod's unless one named ``kube-api-access-*`` is there
    already (a pod read back from a cluster), whose name the mounts then use. ``w.spec`` itself
    is left as written."""
    spec = w.spec
    if not automounts_token(w, inputs):
        return spec
    existing = next((v for v in spec.volumes if v.name.startswith(SA_VOLUME_PREFIX)), None)
    name = existing.name if existing is not None else service_account_volume_name(w)
    where = f"{w.field_prefix}.volumes[{len(spec.volumes)}]"  # where the API server puts it

    def mounted(ctr: Container) -> Container:
        if any(m.mount_path == SA_MOUNT_PATH for m in ctr.volume_mounts):
            return ctr
        field_path = f"{ctr.field}.volumeMounts[{len(ctr.volume_mounts)}]"
        return dataclasses.replace(ctr, volume_mounts=ctr.volume_mounts + [
            VolumeMount(name, SA_MOUNT_PATH, True, None, field_path)])

    init = [mounted(c) for c in spec.init_containers]
    regular = [mounted(c) for c in spec.containers]
    needed = any(a is not b for a, b in zip(init + regular, spec.all_containers))
    volumes = spec.volumes
    if existing is None and needed:
        sources = f"{where}.projected.sources"
        volumes = volumes + [Volume(name, ProjectedSource((
            TokenSource(SA_TOKEN_FILE, SA_TOKEN_EXPIRATION, None, f"{sources}[0].serviceAccountToken"),
            RootCAConfigMap(ROOT_CA_CONFIGMAP,
                            (KeyToPath(SA_CA_FILE, SA_CA_FILE, None, f"{sources}[1].configMap.items[0]"),),
                            False, None, f"{sources}[1].configMap"),
            DownwardSource((DownwardFile(SA_NAMESPACE_FILE, "metadata.namespace", None, None, None, None,
                                         f"{sources}[2].downwardAPI.items[0]"),), None, f"{sources}[2].downwardAPI"),
        ), 0o644, f"{where}.projected"), where)]
    return dataclasses.replace(spec, volumes=volumes, init_containers=init, containers=regular)


#: The termination-message file's mode and owner (pkg/kubelet/kuberuntime/kuberuntime_container.go
#: ``makeMounts``: ``os.Create`` by the kubelet, root, then ``Chmod(0666)`` whatever the umask).
TERMINATION_LOG_MODE = 0o666
TERMINATION_LOG_OWNER = (0, 0)


def termination_log_paths(spec: PodSpec) -> list[tuple[Container, str]]:
    """Each container's termination-message file, as the kubelet's runtime manager makes it
    (``makeMounts``): for every container it starts (init containers and sidecars included) whose
    ``terminationMessagePath`` is not empty, an empty file created in the pod's directory (a new one
    per container start), chmod ``TERMINATION_LOG_MODE``, bind-mounted read-write at that path after
    the container's volume mounts; the kubelet reads it back when the container ends (at most 4096
    bytes) as its termination message. The API server defaults the path to /dev/termination-log, so
    an empty path (no file, no mount) only comes from a pod read back from elsewhere.

    Returns:
        (container, path) in the pod's container order, of the files a local setup binds: not those
        ``termination_log_unbound`` says it cannot.
    """
    return [(c, c.termination_message_path) for c in spec.all_containers if termination_log_path(c)]


def termination_log_path(c: Container) -> str | None:
    """``c``'s terminationMessagePath where a local setup binds its file (``termination_log_paths``);
    None: no path, or one ``termination_log_unbound`` says no setup can bind."""
    path = c.termination_message_path
    return path if path and _unbindable(c) is None else None


def termination_log_unbound(spec: PodSpec) -> list[tuple[Container, str, str]]:
    """The termination-message paths no local setup can bind, with why: a relative path (Docker mounts
    only at absolute paths) and a path that is also one of the container's volumeMounts (Docker
    refuses two mounts at one path, "Duplicate mount point": compose, docker.sh and up failed with the
    engine's words and no field). Said in a note (``termination_log_notes``), never silently dropped.

    Returns:
        (container, path, why) in the pod's container order.
    """
    return [(c, c.termination_message_path, why) for c in spec.all_containers
            if c.termination_message_path and (why := _unbindable(c)) is not None]


def _unbindable(c: Container) -> str | None:
    """Why ``c``'s (non-empty) terminationMessagePath cannot be bound locally; None: it can."""
    path = c.termination_message_path
    if not path.startswith("/"):
        return "a relative path (Docker mounts only at absolute paths)"
    if any(posixpath.normpath(m.mount_path) == posixpath.normpath(path) for m in c.volume_mounts):
        return "it is also a volumeMount's mountPath (Docker refuses two mounts at one path)"
    return None


def cluster_published(src: SecretSource | ConfigMapSource) -> bool:
    """Whether the cluster itself publishes the object ``src`` names, whatever the input holds:
    ``kube-root-ca.crt`` (root-ca-cert-publisher, in every namespace, holding ``ca.crt`` only)."""
    return not isinstance(src, SecretSource) and src.name == ROOT_CA_CONFIGMAP


def absent_optional_notes(workload: Workload, inputs: Inputs) -> list[str]:
    """An optional Secret or ConfigMap a volume names (its own or projected) that the input does not
    hold: the kubelet mounts what exists, here nothing, so the volume is empty; said (``parity layout``'s
    notes, ``diff``'s, k8s-to-docker's and ``up``'s), so that it does not read as parity losing files
    (longhorn's optional longhorn-grpc-tls, which its manager creates later). Not said of an object
    the cluster publishes (``cluster_published``).

    Args:
        workload: the workload whose volumes are read.
        inputs: the Secrets and ConfigMaps of the input.

    Returns:
        One note per absent optional object, in volume order, naming the volume.
    """
    notes = []
    for v in workload.spec.volumes:
        sources = v.source.sources if isinstance(v.source, ProjectedSource) else (v.source,)
        for src in sources:
            if not isinstance(src, (SecretSource, ConfigMapSource)) or not src.optional or cluster_published(src):
                continue
            kind, store = ("secret", inputs.secrets) if isinstance(src, SecretSource) else ("configmap",
                                                                                            inputs.configmaps)
            if (workload.namespace, src.name) not in store:
                notes.append(f"volume \"{v.name}\": {kind} {src.name} (optional) is not in the input: nothing of it "
                             "is mounted here, as in a cluster where it does not exist; give it to predict its files")
    return notes


def termination_log_notes(spec: PodSpec, label: Callable[[str], str] = str) -> list[str]:
    """What parity says of the termination-message files it reproduces (``termination_log_paths``):
    one note per container, ``LABEL: ...``, the same words for the same path, so that a whole app's
    containers are said together (``plan.group_notes``). ``label`` names a container in the note
    (a Compose service name)."""
    return [f"{label(c.name)}: terminationMessagePath {path} is an empty writable file (0666 0:0, as the kubelet "
            "makes it) bound from termination/SERVICE of the setup; Docker does not read it into the container's "
            "status (read it there), and it keeps what was written across restarts until the setup is written "
            "again (the kubelet gives each start a new file)"
            for c, path in termination_log_paths(spec)] + [
        f"{label(c.name)}: terminationMessagePath {path} is not reproduced: {why}"
        for c, path, why in termination_log_unbound(spec)]


@valueclass
class PayloadFile(Value):
    data: bytes
    mode: int
    fs_user: int | None = None
    volatile: str | None = None
    sha256: str = field(init=False)  # of ``data``: the timestamp name, the entry and the contents need it

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", sha256_hex(self.data))


Payload = dict[str, PayloadFile]


def timestamp_dir_name(volume: str, payload: Payload, epoch: int) -> str:
    """``..YYYY_MM_DD_HH_MM_SS.N`` (§2.2). The kubelet picks N at random; parity derives it from the
    content so that the same input always gives the same layout and new content a new name."""
    fed = [volume.encode()]  # (hashed at once: one update per file cost as much as the rest)
    for path in sorted(payload):
        f = payload[path]
        fed.append(f"{path}\0{f.mode}\0{f.fs_user}\0".encode())
        fed.append(bytes.fromhex(f.sha256))
    suffix = int.from_bytes(hashlib.sha256(b"".join(fed)).digest()[:4], "big")
    return f"{_timestamp(epoch)}.{suffix}"


@functools.lru_cache(maxsize=8)  # one epoch per run: formatted once, not once per volume
def _timestamp(epoch: int) -> str:
    return time.strftime("..%Y_%m_%d_%H_%M_%S", time.gmtime(epoch))


def _elsewhere_hint(store: dict, name: str) -> str:
    """A hint for a Secret/ConfigMap found under the same name in another namespace of the input (a
    missing metadata.namespace, or ``--secrets`` read into the default namespace)."""
    others = sorted(ns for ns, n in store if n == name)
    if not others:
        return ""
    return (f"; the input has it in namespace {', '.join(go_quote(ns) for ns in others)}: set its "
            "metadata.namespace, or -n NAMESPACE for objects that name none and for --secrets")


class _Pod:
    """One workload's context while its payloads are built: lookups and error reporting."""

    def __init__(self, workload: Workload, inputs: Inputs, problems: Problems, epoch: int = 0):
        self.w, self.inputs, self.problems = workload, inputs, problems
        self.fs_group = workload.spec.fs_group
        self.fs_user = fs_user_from(workload)
        self.downward = DownwardAPI(workload, self.bad, epoch)

    def bad(self, field: str, message: str) -> None:
        self.problems.add(message, file=self.w.file, obj=self.w.ref, field=f"{field}")

    # §3.1 / §3.2: secret and configMap payloads share MakePayload's shape.
    def object_payload(self, src: SecretSource | ConfigMapSource, default_mode: int) -> Payload:
        is_secret = isinstance(src, SecretSource)
        store = self.inputs.secrets if is_secret else self.inputs.configmaps
        obj = store.get((self.w.namespace, src.name))
        kind = "secret" if is_secret else "configmap"
        name_field = f"{src.field}.{'secretName' if is_secret and src.default_mode is not None else 'name'}"
        # The cluster publishes kube-root-ca.crt in every namespace (root-ca-cert-publisher), holding
        # ca.crt only: never missing there, only here, whether the API server's volume or the manifest
        # names it (a bound token written out: strimzi, Vault's and linkerd's injectors).
        published = obj is None and cluster_published(src)
        data = {SA_CA_FILE: PLACEHOLDER_ROOT_CA} if published else obj.data if obj is not None else None
        volatile = ROOT_CA_VOLATILE if published else None
        if data is None:
            if not src.optional:
                self.bad(name_field, f'{kind} {go_quote(src.name)} not found in namespace {go_quote(self.w.namespace)} '
                                     "(not optional: the pod would stay in ContainerCreating)"
                                     + _elsewhere_hint(store, src.name))
            return {}
        if not src.items:
            return {key: PayloadFile(value, default_mode, volatile=volatile) for key, value in data.items()}
        payload: Payload = {}
        for item in src.items:
            if item.key not in data:
                if not src.optional:
                    what = "secret key" if is_secret else "config key"
                    hint = ("; the cluster publishes kube-root-ca.crt with ca.crt only" if published else
                            "; the API server adds this volume (kube-api-access-*) for the service-account token: "
                            "give kube-root-ca.crt its ca.crt, or set automountServiceAccountToken: false"
                            if isinstance(src, RootCAConfigMap) else "")
                    self.bad(f"{item.field}.key",
                             f"{kind} {go_quote(src.name)} references non-existent {what}: {shown(item.key)}{hint}")
                continue
            payload[item.path] = PayloadFile(data[item.key], default_mode if item.mode is None else item.mode,
                                             volatile=volatile)
        return payload

    # §3.3
    def downward_payload(self, src: DownwardSource, default_mode: int) -> Payload:
        payload: Payload = {}
        for item in src.items:
            data, volatile = self.downward_value(item)
            if data is not None:
                payload[posixpath.normpath(item.path)] = PayloadFile(data, default_mode if item.mode is None
                                                                     else item.mode, volatile=volatile)
        return payload

    def downward_value(self, item: DownwardFile) -> tuple[bytes | None, str | None]:
        """One item's bytes and why they may differ, from the one downward API implementation
        (kube/fieldref.py, shared with container env)."""
        if item.field_path is not None:
            value = self.downward.field(item.field_path)
        else:
            value = self.downward.resource(item.resource_selector, None, f"{item.field}.resourceFieldRef")
        return (None, None) if value is None else (value.text.encode(), value.volatile)

    # §3.4
    def projected_payload(self, src: ProjectedSource) -> Payload:
        payload: Payload = {}
        for source in src.sources:  # in order; later sources overwrite the same path
            if isinstance(source, (SecretSource, ConfigMapSource)):
                part = self.object_payload(source, src.default_mode)
            elif isinstance(source, DownwardSource):
                part = self.downward_payload(source, src.default_mode)
            else:
                part = self.token_payload(source, src.default_mode)
            for path, f in part.items():
                payload[posixpath.normpath(path)] = f
        return payload

    def token_payload(self, src: TokenSource, default_mode: int) -> Payload:
        mode = 0o600 if (self.fs_group is not None or self.fs_user is not None) else default_mode
        return {src.path: PayloadFile(PLACEHOLDER_TOKEN, mode, self.fs_user, TOKEN_VOLATILE)}

    def payload(self, volume: Volume) -> Payload:
        s = volume.source
        if isinstance(s, (SecretSource, ConfigMapSource)):
            return self.object_payload(s, s.default_mode or 0)
        if isinstance(s, DownwardSource):
            return self.downward_payload(s, s.default_mode or 0)
        if isinstance(s, ProjectedSource):
            return self.projected_payload(s)
        return {}


def fs_user_from(w: Workload) -> int | None:
    """``util.FsUserFrom`` (§3.4): the runAsUser every container shares, else None."""
    pod_user = w.spec.security.run_as_user
    users = [c.security.run_as_user if c.security.run_as_user is not None else pod_user
             for c in w.spec.all_containers]
    users += [u if u is not None else pod_user for u in w.spec.ephemeral_run_as_users]
    if not users or any(u is None for u in users) or len(set(users)) != 1:
        return None
    return users[0]


# ---------------------------------------------------------------------------------------------
# The volume tree: relative paths ("" is the volume root).


class VolumeTree:
    """One volume's files as the kubelet leaves them, paths relative to the volume root."""

    def __init__(self, volume: Volume, root_mode: int, fs_group: int | None):
        self.volume = volume
        self.fs_group = fs_group
        gid = fs_group or 0
        if fs_group is not None:
            root_mode |= FS_GROUP_RW_DIR_MASK  # the wrapped emptyDir's own ownership walk (§5)
        self.entries: dict[str, Entry] = {"": Entry("", DIR, root_mode, 0, gid)}
        self._links = False  # any symlink yet (write() adds ..data): mkdir_all's fast path until then
        self._sorted: list[str] | None = None  # sorted(entries), for placed()
        self._subtrees: dict[tuple[str, bool], Subtree] = {}  # subtree(): (real path, writable) -> it

    @property
    def root(self) -> Entry:
        return self.entries[""]

    def mkdir_all(self, rel: str, mode: int) -> None:
        """``MkdirAll`` in the volume: missing directories get ``mode``; a setgid parent passes on its
        group and setgid bit, as Linux does."""
        if not self._links:
            self._mkdir_all_plain(rel, mode)
            return
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            real = self.real_path(path)
            if real is not None and real in self.entries:
                continue
            parent = self.entries.get(self.real_path("/".join(parts[: i - 1])) or "")
            inherit = parent is not None and parent.mode & 0o2000
            target = real if real is not None else path
            self.entries[target] = Entry(target, DIR, mode | (0o2000 if inherit else 0), 0,
                                         parent.gid if inherit else 0)

    def _mkdir_all_plain(self, rel: str, mode: int) -> None:
        """``mkdir_all`` in a tree without symlinks (before the payload is written: the nested
        mountpoints), where a path is its own real path and every directory's parents exist. It
        looks for the deepest existing prefix from the end, so that a mount nested under a
        thousand others costs the directories it adds rather than a walk from the root per prefix."""
        parts = [p for p in rel.split("/") if p and p != "."]  # as real_path reads them
        entries = self.entries
        have = len(parts)
        path = "/".join(parts)
        while have and path not in entries:
            have -= 1
            path = path[:path.rfind("/")] if have else ""
        parent = entries[path]
        for part in parts[have:]:
            path = f"{path}/{part}" if path else part
            inherit = parent.mode & 0o2000
            parent = entries[path] = Entry(path, DIR, mode | inherit, 0, parent.gid if inherit else 0)

    def real_path(self, rel: str) -> str | None:
        """``rel`` with every symlink resolved inside the volume; components past the first missing
        one are kept as written. None on a symlink loop."""
        parts = [p for p in rel.split("/") if p and p != "."]
        current, i, hops = "", 0, 0
        while i < len(parts):
            nxt = f"{current}/{parts[i]}" if current else parts[i]
            entry = self.entries.get(nxt)
            if entry is None:
                return "/".join([nxt] + parts[i + 1:])
            if entry.type == SYMLINK:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = posixpath.normpath(posixpath.join(posixpath.dirname(nxt), entry.target or ""))
                parts = [p for p in target.split("/") if p and p != "."] + parts[i + 1:]
                current, i = "", 0
                continue
            current, i = nxt, i + 1
        return current

    def file_on_the_way(self, rel: str) -> str | None:
        """The first leading part of ``rel`` (as written) that is a file, if any: the kubelet cannot
        resolve a path through it (``ENOTDIR``)."""
        parts = rel.split("/")
        for i in range(1, len(parts)):
            real = self.real_path("/".join(parts[:i]))
            entry = self.entries.get(real) if real is not None else None
            if entry is not None and entry.type == FILE:
                return "/".join(parts[:i])
        return None

    def write(self, payload: Payload, ts_name: str, problems_cb) -> None:
        """``AtomicWriter.Write`` on an empty volume, fsGroup walk included (§2, §5)."""
        for path in payload:
            err = validate_payload_path(path)
            if err:
                problems_cb(path, err)
                return
        payload = {_clean_path(p): f for p, f in payload.items()}  # validatePayload cleans paths
        entries = self.entries
        # With fsGroup, what the payload adds is made as the walk after it leaves it (§5): its mode
        # masked, its group fsGroup's; only what was there before is walked (_fs_group_walk).
        walked = self.fs_group is not None
        before = list(entries.items()) if walked else []
        gid = (self.fs_group or 0) if walked else 0
        file_mask, dir_mask = (FS_GROUP_FILE_MASK, FS_GROUP_DIR_MASK) if walked else (0, 0)
        entries[ts_name] = _new_entry((ts_name, DIR, TS_DIR_MODE | dir_mask, 0, gid, None, None, None, None))
        for path in sorted(payload):
            f = payload[path]
            parts = path.split("/")
            for i in range(1, len(parts)):
                d = f"{ts_name}/" + "/".join(parts[:i])
                existing = entries.get(d)
                if existing is not None and existing.type != DIR:
                    problems_cb(path, f"'{'/'.join(parts[:i])}' is both a file and a directory in the payload")
                    return
                if existing is None:
                    entries[d] = _new_entry((d, DIR, INTERMEDIATE_DIR_MODE | dir_mask, 0, gid, None, None, None, None))
            full = f"{ts_name}/{path}"
            existing = entries.get(full)
            if existing is not None and existing.type == DIR:
                problems_cb(path, f"'{path}' is both a file and a directory in the payload")
                return
            entries[full] = _new_entry((full, FILE, f.mode | file_mask, f.fs_user if f.fs_user is not None else 0, gid,
                                        len(f.data), f.sha256, None, f.volatile))
        if walked:
            self._fs_group_walk(before)
        # ..data and the top-level links are made after the walk, in the (setgid, when fsGroup) root:
        # they take the root's group as every new entry there does (§5).
        link_gid = self.root.gid if self.root.mode & 0o2000 else 0
        self._links = True
        entries[DATA_DIR_NAME] = _new_entry((DATA_DIR_NAME, SYMLINK, 0o777, 0, link_gid, None, None, ts_name, None))
        for first in sorted({p.split("/")[0] for p in payload}):
            if first not in entries:  # createUserVisibleFiles: only when the name is free
                entries[first] = _new_entry((first, SYMLINK, 0o777, 0, link_gid, None, None, f"{DATA_DIR_NAME}/{first}",
                                             None))

    def _fs_group_walk(self, walked: list[tuple[str, Entry]]) -> None:
        """``VolumeOwnership.ChangePermissions`` with the read-only mask (§5), of the ``walked``
        entries still in the tree (those ``write`` did not make already walked)."""
        gid = self.fs_group or 0
        entries = self.entries
        for path, e in walked:
            if entries.get(path) is not e:
                continue  # replaced by the payload's own, made walked
            kind, mode = e[1], e[2]
            if kind == FILE:
                mode |= FS_GROUP_FILE_MASK
            elif kind == DIR:
                mode |= FS_GROUP_DIR_MASK
            entries[path] = _new_entry((path, kind, mode, e[3], gid) + e[5:])

    def placed(self, rel: str, mount_path: str) -> list[Entry]:
        """Entries at and below ``rel`` (a real path, "" for the root) as a container mounting it at
        ``mount_path`` sees them: ``rel`` itself at ``mount_path``."""
        base = mount_path.rstrip("/")  # posixpath.join, minus its checks (paths here are clean)
        if rel == "":
            return [e.moved(f"{base}/{p}" if p else mount_path) for p, e in self.entries.items()]
        # The paths under ``rel`` are one run of the sorted paths: found by bisection, so that many
        # subPath mounts of one big volume do not each scan all of it.
        entries, prefix, cut = self.entries, rel + "/", len(rel)
        if self._sorted is None or len(self._sorted) != len(entries):  # entries are only ever added
            self._sorted = sorted(entries)
        paths = self._sorted
        first = last = bisect.bisect_left(paths, prefix)
        while last < len(paths) and paths[last].startswith(prefix):
            last += 1
        shown = [entries[rel].moved(mount_path)] if rel in entries else []
        return shown + [entries[p].moved(base + p[cut:]) for p in paths[first:last]]


    def subtree(self, rel: str) -> Subtree:
        """What a mount of the real path ``rel`` ("" the root) shows, relative to its mount point,
        made once for every container that mounts it: ``placed``'s entries, or only the mounted
        directory itself for a writable volume (what is in it is the pod's). Call it once the tree
        is complete (the entries are not added to after)."""
        writable = self.volume.writable
        found = self._subtrees.get((rel, writable))
        if found is None:
            shown = self.placed(rel, "")
            if writable:
                shown = [e for e in shown if e.path == ""]
            found = self._subtrees[(rel, writable)] = Subtree(shown)
        return found


#: An Entry from the tuple of all its fields, without the Python-level ``__new__`` NamedTuple
#: generates (once per entry of every volume: issue 17).
_new_entry = functools.partial(tuple.__new__, Entry)
#: ``posixpath.normpath`` of a payload path, once per distinct path (pods repeat their items' paths).
_clean_path = functools.lru_cache(maxsize=4096)(posixpath.normpath)


@functools.lru_cache(maxsize=4096)  # pods repeat their items' paths
def validate_payload_path(path: str) -> str | None:
    """``validatePath`` (§2.1): the whole mount fails on a bad payload path."""
    if not path:
        return "empty path"
    if path.startswith("/"):
        return "must be a relative path"
    if len(path.encode()) > 4096:
        return "path longer than 4096 bytes"
    parts = path.split("/")
    if len(path) > 63 and any(len(p.encode()) > 255 for p in parts):  # (a character is at most 4 bytes)
        return "a path element is longer than 255 bytes"
    if ".." in parts:
        return "must not contain '..'"
    if parts[0].startswith(".."):
        return "must not start with '..'"
    if posixpath.normpath(path) == ".":
        # validatePath lets it through; writePayloadToDir then writes the file onto the timestamped
        # directory itself, which fails, and so does the mount.
        return "names the volume's own directory: the kubelet cannot write a file there and fails the mount"
    return None


def _root_mode(volume: Volume) -> int:
    """The root of the emptyDir that backs the volume (§1): configMap and a disk emptyDir are
    directories (0777), the others tmpfs (1777)."""
    s = volume.source
    if isinstance(s, ConfigMapSource) or isinstance(s, EmptyDirSource) and not s.memory:
        return DISK_ROOT_MODE
    return TMPFS_ROOT_MODE


def build_layout(workload: Workload, inputs: Inputs, problems: Problems, epoch: int = 0) -> WorkloadLayout | None:
    """The predicted layout of every container (init containers first), or None with problems added.

    The kubelet's steps, numbered as in the module docstring."""
    pod = _Pod(workload, inputs, problems, epoch)
    before = len(problems.items)
    spec = admitted_spec(workload, inputs)  # step 0 (§7.5)
    spec, expr_notes = _expanded_sub_paths(spec, workload, inputs, pod.bad)  # (makeMounts: subPathExpr)
    if len(problems.items) > before:
        return None
    trees: dict[str, VolumeTree] = {}
    contents: dict[str, bytes] = {}
    nested = _nested_mountpoints(spec.all_containers)  # step 3's directories, every volume's at once
    for volume in spec.volumes:
        if isinstance(volume.source, EmptyDirSource) and not volume.unreproduced():
            # An emptyDir is its root directory only (§1, §5): what the pod writes is not predicted.
            tree = _backing_dir(volume, spec.fs_group)
            for rel in nested.get(volume.name, ()):
                tree.mkdir_all(rel, INTERMEDIATE_DIR_MODE)
            trees[volume.name] = tree
            continue
        if not volume.modelled:
            continue
        payload = pod.payload(volume)  # step 1 (§3)
        tree = _backing_dir(volume, spec.fs_group)  # step 2 (§1, §5)
        for rel in nested.get(volume.name, ()):  # step 3 (§6.3)
            tree.mkdir_all(rel, INTERMEDIATE_DIR_MODE)
        _atomic_write(tree, payload, epoch, pod)  # step 4 (§2, §5)
        for f in payload.values():
            contents[f.sha256] = f.data
        trees[volume.name] = tree
    if len(problems.items) > before:
        return None
    _prepare_sub_paths(spec, trees, pod)  # step 5 (§6.2)
    if len(problems.items) > before:
        return None
    declared = {v.name: v for v in spec.volumes}
    containers = [_container_layout(ctr, trees, declared) for ctr in spec.all_containers]  # step 5 (§6.1)
    volumes = [VolumeLayout(name, source_name(t.volume), sorted(t.entries.values(), key=_PATH_OF),
                            t.volume.type) for name, t in trees.items()]
    return WorkloadLayout(workload.kind, workload.name, workload.namespace, containers, contents, volumes,
                          run=workload.run, notes=([workload.scale_note] if workload.scale_note else [])
                          + absent_optional_notes(workload, inputs)
                          + [f"{name}: {note}" for name, note in expr_notes])


def _expanded_sub_paths(spec: PodSpec, workload: Workload, inputs: Inputs,
                        bad: Callable[[str, str], None]) -> tuple[PodSpec, list[tuple[str, str]]]:
    """Each mount's ``subPathExpr`` expanded into its subPath from the container's variables, as
    ``makeMounts`` does before anything is mounted (``kube/subpathexpr.py``): a failure is the
    container's (``bad(field, message)``); a stand-in value a note, (container name, text)."""
    if not any(m.sub_path_expr for c in spec.all_containers for m in c.volume_mounts):
        return spec, []
    from .subpathexpr import ExpansionTooLong, expand_sub_path_expr, kubelet_env  # (only for pods that have one)
    notes: list[tuple[str, str]] = []

    def expanded(ctr: Container) -> Container:
        if not any(m.sub_path_expr for m in ctr.volume_mounts):
            return ctr
        try:
            env = kubelet_env(workload, ctr, inputs)
        except ExpansionTooLong as exc:  # (the container never starts: its variable is the problem)
            bad(exc.field, str(exc))
            return ctr
        mounts = []
        for m in ctr.volume_mounts:
            if m.sub_path_expr:
                result = expand_sub_path_expr(m.sub_path_expr, env)
                if result.error:
                    bad(f"{m.field}.subPathExpr", result.error)
                notes.extend((ctr.name, f"{m.field}.subPathExpr {m.sub_path_expr} is {go_quote(result.sub_path or '')} "
                                        f"here, another path in the cluster: {note}") for note in result.notes)
                m = dataclasses.replace(m, sub_path=result.sub_path)
            mounts.append(m)
        return dataclasses.replace(ctr, volume_mounts=mounts)

    spec = dataclasses.replace(spec, init_containers=[expanded(c) for c in spec.init_containers],
                               containers=[expanded(c) for c in spec.containers])
    return spec, notes


def sub_path_expr_notes(workload: Workload, inputs: Inputs, label: Callable[[str], str] = str) -> list[str]:
    """The notes of the pod's subPathExprs whose value here is a stand-in (a Deployment's pod name...),
    each ``LABEL: text`` (``label`` names the container). The layout says them, and so do
    ``k8s-to-docker`` and ``up`` (``docker/planner.py``).

    Args:
        workload: the pod template (its containers' ``subPathExpr`` mounts).
        inputs: the objects its variables come from.
        label: how a container is named in a note (its name by default).

    Returns:
        One note per stand-in value, in mount order (failures are the layout's to refuse: none here).
    """
    _, notes = _expanded_sub_paths(workload.spec, workload, inputs, lambda field, message: None)
    return [f"{label(name)}: {note}" for name, note in notes]


def _backing_dir(volume: Volume, fs_group: int | None) -> VolumeTree:
    """Step 2: the empty directory the kubelet wraps the volume in (§1), owned by fsGroup (§5)."""
    return VolumeTree(volume, _root_mode(volume), fs_group)


def _atomic_write(tree: VolumeTree, payload: Payload, epoch: int, pod: "_Pod") -> None:
    """Step 4: ``AtomicWriter.Write`` of the payload into its timestamped directory (§2, §5); a bad
    payload path fails the volume."""
    ts = timestamp_dir_name(tree.volume.name, payload, epoch)
    tree.write(payload, ts, lambda p, err: pod.bad(tree.volume.field, f"payload path {go_quote(p)}: {err}"))


def _prepare_sub_paths(spec: PodSpec, trees: dict[str, VolumeTree], pod: "_Pod") -> None:
    """Step 5, before the mounts: missing subPaths become directories in the volume root at container
    start (§6.2, ``doSafeMakeDir``); one that goes through a file cannot be resolved, and the
    container fails to start."""
    for ctr in spec.all_containers:
        for m in ctr.volume_mounts:
            tree = trees.get(m.name)
            rel = _sub_rel(m.sub_path) if tree and m.sub_path else ""
            if not rel:
                continue
            blocking = tree.file_on_the_way(rel)
            if blocking is not None:
                pod.bad(f"{m.field}.subPath", f"{go_quote(m.sub_path)} goes through the file {go_quote(blocking)}: "
                        f"the kubelet fails the mount (failed to prepare subPath for volumeMount "
                        f"{go_quote(m.name)} of container {go_quote(ctr.name)})")
            elif tree.real_path(rel) not in tree.entries:
                tree.mkdir_all(rel, tree.root.mode)


def _sub_rel(sub_path: str) -> str:
    clean = posixpath.normpath(sub_path)
    return "" if clean == "." else clean


def _nested_mountpoints(containers: list[Container]) -> dict[str, list[str]]:
    """``MakeNestedMountpoints`` (§6.3): for each volume, the directories (relative to its root) to
    make for every other mount beneath one of its own (subPath-less) mounts, in the kubelet's
    order: container by container, each of the volume's mounts, the others as declared.

    A container's mount paths are sorted once: those under a base are one run of that order
    (they share its prefix), found by bisection instead of testing every pair of mounts."""
    wanted: dict[str, list[str]] = {}
    for ctr in containers:
        mounts = ctr.volume_mounts
        by_path = sorted(range(len(mounts)), key=lambda i: mounts[i].mount_path)
        paths = [mounts[i].mount_path for i in by_path]
        for m in mounts:
            if m.sub_path:
                continue
            base = m.mount_path
            prefix = base.rstrip("/") + "/"
            first = last = bisect.bisect_left(paths, prefix)
            while last < len(paths) and paths[last].startswith(prefix):
                last += 1
            under = sorted(i for i in by_path[first:last] if mounts[i].mount_path != base)
            if under:
                wanted.setdefault(m.name, []).extend(mounts[i].mount_path[len(prefix):] for i in under)
    return wanted


def _container_layout(ctr: Container, trees: dict[str, VolumeTree], declared: dict[str, Volume],
                      shared: bool = True) -> ContainerLayout:
    """Step 5 (§6.1): what ``ctr`` sees under its mounts. When no mount path is at, above or
    beneath another (``_apart``: every container of the benchmarks' corpora), each mount shows
    all it places and nothing hides it: the container is its mounts' shared subtrees
    (``ContainerLayout.placed``); ``shared=False`` (tests) always re-roots every entry."""
    mounts = container_mounts(ctr, declared)
    if shared and _apart([m.mount_path for m in ctr.volume_mounts]):
        segments = []
        for m in ctr.volume_mounts:
            tree = trees.get(m.name)
            if tree is not None:
                rel = _sub_rel(m.sub_path) if m.sub_path else ""
                segments.append((m.mount_path, tree.subtree((tree.real_path(rel) if rel else "") or "")))
        return ContainerLayout.placed(ctr.name, ctr.init, mounts, segments)
    # Mounts are applied shallowest first; a deeper one hides what a shallower one has at and below
    # its path. So an entry shows when the mount that placed it is the last applied of those that
    # hold its path: one lookup per entry (MountCover) instead of a scan of the entries per mount.
    order = sorted(ctr.volume_mounts, key=lambda m: m.mount_path.count("/"))
    cover = MountCover((m.mount_path, (i,)) for i, m in enumerate(order))
    beneath = _Beneath(order)
    entries: dict[str, Entry] = {}
    for i, m in enumerate(order):
        tree = trees.get(m.name)
        if tree is None:
            continue  # no files predicted (a claim, hostPath...): only hides what is beneath
        rel = _sub_rel(m.sub_path) if m.sub_path else ""
        real = tree.real_path(rel) if rel else ""
        mine = (i,)
        placed = tree.placed(real or "", m.mount_path)
        if tree.volume.writable:  # only the directory mounted: what is in it is the pod's
            placed = [e for e in placed if e.path == m.mount_path]
        if cover.last_over(m.mount_path, mine) and not beneath.later_under(m.mount_path, i):
            # No mount applied after this one holds any of its paths (the usual case): all show.
            for e in placed:
                entries[e.path] = e
            continue
        for e in placed:
            if cover.best(e.path) == mine:
                entries[e.path] = e
    return ContainerLayout(ctr.name, ctr.init, mounts, list(entries.values()))


def _apart(paths: list[str]) -> bool:
    """Whether mount paths are absolute, clean (``posixpath.normpath`` leaves them as written), not
    ``/``, and none starts with another as a string: then none is at, above or beneath another, so
    no mount hides another's entries, and each one's paths sort together."""
    ordered = sorted(paths)
    for i, path in enumerate(ordered):
        if path[:1] != "/" or path == "/" or posixpath.normpath(path) != path:
            return False
        if i and path.startswith(ordered[i - 1]):  # a prefix of any later path is one of the next
            return False
    return True


class _Beneath:
    """Which of a container's mounts (in the order they are applied) lie strictly beneath a path:
    they are one run of the mount paths in sorted order, found by bisection."""

    def __init__(self, order: list):
        self._keys = sorted((m.mount_path.rstrip("/"), i) for i, m in enumerate(order))

    def later_under(self, where: str, index: int) -> bool:
        """Whether a mount applied after the ``index``-th lies strictly beneath ``where``."""
        keys, prefix = self._keys, where.rstrip("/") + "/"
        at = bisect.bisect_left(keys, (prefix,))
        while at < len(keys) and keys[at][0].startswith(prefix):
            if keys[at][1] > index:
                return True
            at += 1
        return False


def container_mounts(ctr: Container, declared: dict[str, Volume]) -> list[Mount]:
    """The mounts of ``ctr`` the model shows (file volumes and writable ones), in declaration order.

    Args:
        ctr: the container.
        declared: the pod's volumes by name.

    Returns:
        One ``Mount`` per mount of a modelled or writable volume parity reproduces. The four file
        volume types are always mounted read-only, whatever readOnly says (§6.1); a writable volume
        as readOnly (or its claim's readOnly) says.
    """
    mounts = []
    for m in ctr.volume_mounts:
        volume = declared.get(m.name)
        if volume is None or not (volume.modelled or volume.writable) or volume.unreproduced():
            continue
        read_only = True if volume.modelled else m.read_only or bool(getattr(volume.source, "read_only", False))
        mounts.append(Mount(m.mount_path, m.name, read_only, m.sub_path, source_name(volume), volume.type))
    return mounts


def source_name(volume: Volume) -> str:
    s = volume.source
    if isinstance(s, SecretSource):
        return f"secret/{s.name}"
    if isinstance(s, ConfigMapSource):
        return f"configMap/{s.name}"
    if isinstance(s, ClaimSource):
        return f"persistentVolumeClaim/{s.claim_name}"
    if isinstance(s, EmptyDirSource):
        size = f", sizeLimit {s.size_text}" if s.size_text else ""
        return f"emptyDir (medium {s.medium}{size})" if s.medium else f"emptyDir{f' ({size[2:]})' if size else ''}"
    if isinstance(s, HostPathSource):
        return f"hostPath {s.path}" + (f" (type {s.type})" if s.type else "")
    if isinstance(s, EphemeralSource):
        return "ephemeral"
    if isinstance(s, OtherSource):
        return s.type
    return volume.type


def build_layouts(inputs: Inputs, workloads: list[Workload], epoch: int = 0) -> list[WorkloadLayout]:
    problems = Problems()
    with gc_paused():  # hundreds of thousands of entries, none in a cycle
        layouts = [build_layout(w, inputs, problems, epoch) for w in workloads]
    problems.raise_if_any()
    return [x for x in layouts if x is not None]
