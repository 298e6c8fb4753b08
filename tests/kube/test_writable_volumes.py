"""Writable volumes in the predicted layout (issue 13): emptyDir, persistentVolumeClaim (and a
StatefulSet's volumeClaimTemplates), hostPath and generic ephemeral volumes are mounts the pod writes
to: the layout shows each mount (writable or not, its type and source) and of an emptyDir its root
directory with the kubelet's mode and fsGroup ownership, never files."""

from __future__ import annotations

from parity.compare import compare_containers
from parity.layout import DIR, ContainerLayout, Entry, Mount

from ..conftest import layout_of

POD = """
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  automountServiceAccountToken: false
%(security)s
  initContainers:
  - name: init
    image: busybox
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: busybox
    volumeMounts:
    - {name: work, mountPath: /work}
    - {name: mem, mountPath: /mem}
    - {name: data, mountPath: /data}
    - {name: logs, mountPath: /host, readOnly: true}
    - {name: eph, mountPath: /eph}
    - {name: work, mountPath: /sub, subPath: a/b}
  volumes:
  - {name: work, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: data, persistentVolumeClaim: {claimName: db, readOnly: true}}
  - {name: logs, hostPath: {path: /var/log, type: Directory}}
  - {name: eph, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}}}
"""


def test_every_writable_volume_is_a_mount_with_its_type_and_whether_it_takes_writes(tmp_path):
    init, app = layout_of(tmp_path, POD % {"security": ""}).containers
    assert init.mounts == [Mount("/work", "work", False, None, "emptyDir", "emptyDir")]
    assert app.mounts == [
        Mount("/work", "work", False, None, "emptyDir", "emptyDir"),
        Mount("/mem", "mem", False, None, "emptyDir (medium Memory, sizeLimit 64Mi)", "emptyDir"),
        Mount("/data", "data", True, None, "persistentVolumeClaim/db", "persistentVolumeClaim"),  # the claim's readOnly
        Mount("/host", "logs", True, None, "hostPath /var/log (type Directory)", "hostPath"),  # the mount's readOnly
        Mount("/eph", "eph", False, None, "ephemeral", "ephemeral"),
        Mount("/sub", "work", False, "a/b", "emptyDir", "emptyDir"),
    ]


def test_the_text_layout_says_each_writable_volume_with_its_article(tmp_path):
    """``parity layout``'s line under a writable mount read "(a emptyDir volume: ...)" and "(a ephemeral
    volume: ...)" on every emptyDir of a whole app (falco's DaemonSet: five; corpus, seventh session)."""
    from parity.output import Painter
    from parity.render import layout_text
    said = [line.strip() for line in layout_text([layout_of(tmp_path, POD % {"security": ""})], Painter(False))
            .splitlines() if "not predicted" in line]
    assert said[1:6] == [f"({article} {kind} volume: what the pod writes here is not predicted)" for article, kind in
                         [("an", "emptyDir"), ("an", "emptyDir"), ("a", "persistentVolumeClaim"), ("a", "hostPath"),
                          ("an", "ephemeral")]]


def test_an_emptydir_is_its_root_directory_0777_on_disk_1777_in_memory_and_nothing_else(tmp_path):
    """kubelet empty_dir.go: setupDir chmods to exactly 0777 whatever the umask; medium Memory mounts
    tmpfs without mode= (root 1777). A missing subPath is made with the root's mode (§6.2). Claims,
    hostPath and ephemeral volumes: no entry (their contents are the storage's)."""
    _, app = layout_of(tmp_path, POD % {"security": ""}).containers
    assert [tuple(e) for e in app.entries] == [
        tuple(Entry("/mem", DIR, 0o1777)), tuple(Entry("/sub", DIR, 0o777)), tuple(Entry("/work", DIR, 0o777))]


def test_fs_group_gives_the_emptydir_root_the_group_and_setgid_of_the_ownership_walk(tmp_path):
    """volume_linux.go SetVolumeOwnership on a writable volume: group fsGroup, mode |= 0660 | 0110
    (directories) | setgid: 02777 on disk, 03777 on tmpfs; the subPath directory inherits both."""
    _, app = layout_of(tmp_path, POD % {"security": "  securityContext: {fsGroup: 2000}"}).containers
    assert {e.path: (e.mode, e.uid, e.gid) for e in app.entries} == {
        "/mem": (0o3777, 0, 2000), "/sub": (0o2777, 0, 2000), "/work": (0o2777, 0, 2000)}


def test_a_volume_without_a_source_is_the_api_servers_default_emptydir(tmp_path):
    text = POD.replace("  - {name: work, emptyDir: {}}", "  - {name: work}") % {"security": ""}
    init, _ = layout_of(tmp_path, text).containers
    assert init.mounts == [Mount("/work", "work", False, None, "emptyDir", "emptyDir")]


def _docker_side(mounts: list[Mount], entries: list[Entry]) -> ContainerLayout:
    return ContainerLayout("app", False, mounts, entries)


def test_the_writable_volume_facet_reports_a_missing_or_read_only_volume_and_ignores_what_the_pod_wrote(tmp_path):
    _, app = layout_of(tmp_path, POD % {"security": ""}).containers
    same = [Mount(m.path, "v", m.read_only, None, "engine") for m in app.mounts]
    files = [Entry("/mem", DIR, 0o1777), Entry("/sub", DIR, 0o777), Entry("/work", DIR, 0o777),
             Entry("/work/written-by-the-app", "file", 0o644, 0, 0, 1, "00"), Entry("/data", DIR, 0o755),
             Entry("/data/pgdata", DIR, 0o700, 999, 999)]
    assert compare_containers(app, _docker_side(same, files)) == []
    # /work read-only, /eph absent: one difference each, of kind "volume".
    broken = [Mount(m.path, "v", m.read_only or m.path == "/work", None, "engine") for m in app.mounts
              if m.path != "/eph"]
    got = [(d.path, d.kind, d.expected, d.actual) for d in compare_containers(app, _docker_side(broken, files))]
    assert got == [("/work", "volume", "a writable emptyDir volume (emptyDir)", "a read-only mount (engine)"),
                   ("/eph", "volume", "a writable ephemeral volume (ephemeral)", "no mount")]
    # The emptyDir's root mode is compared (the kubelet's 0777, not a fresh Docker volume's 0755).
    wrong_mode = [Entry("/mem", DIR, 0o1777), Entry("/sub", DIR, 0o777), Entry("/work", DIR, 0o755)]
    got = [(d.path, d.kind) for d in compare_containers(app, _docker_side(same, wrong_mode))]
    assert got == [("/work", "mode")]
