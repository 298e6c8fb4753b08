"""Each kubelet rule pinned with the values of its section (§: docs/kubelet-model.md lists each with its source)."""

from __future__ import annotations

import hashlib
import re

import pytest

from parity.errors import ParityError
from parity.kube.fieldref import format_map
from parity.kube.names import go_quote
from parity.layout import TIMESTAMP_DIR_RE

from ..conftest import entries_by_rel, layout_of

SA = "/var/run/secrets/kubernetes.io/serviceaccount"  # the service-account mount (§7.5)

SECRET = """
apiVersion: v1
kind: Secret
metadata: {name: s}
stringData: {a: alpha, b: bravo}
---
"""


def pod(volume: str, mounts: str = "[{name: v, mountPath: /etc/s}]", extra_spec: str = "",
        containers: str | None = None) -> str:
    """A pod with the volume ``v`` under test. It opts out of the service-account volume the API
    server would add (``automountServiceAccountToken: false``), which has tests of its own (§7.5
    below): each test here pins the rules of its one volume."""
    ctrs = containers or f"""
  containers:
  - name: app
    image: busybox
    volumeMounts: {mounts}"""
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: p, labels: {{app: web, tier: "a\\"b"}}, annotations: {{note: "x\\ny"}}}}
spec:
  automountServiceAccountToken: false{extra_spec}{ctrs}
  volumes:
  - name: v
    {volume}
"""


def ts_of(entries: dict) -> str:
    (ts,) = [k for k in entries if k.startswith("..") and k != "..data" and "/" not in k]
    return ts


def test_secret_volume_structure_default_mode(tmp_path):
    """§1 tmpfs root 1777, §2 ts dir 0755, ..data -> ts, one link per key, files 0644 0:0."""
    c = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}")).containers[0]
    got = entries_by_rel(c, "/etc/s")
    ts = ts_of(got)
    assert TIMESTAMP_DIR_RE.match(ts)
    assert got == {
        ".": ("dir", "1777", 0, 0, None),
        ts: ("dir", "755", 0, 0, None),
        f"{ts}/a": ("file", "644", 0, 0, None),
        f"{ts}/b": ("file", "644", 0, 0, None),
        "..data": ("symlink", "777", 0, 0, ts),
        "a": ("symlink", "777", 0, 0, "..data/a"),
        "b": ("symlink", "777", 0, 0, "..data/b"),
    }
    files = {p: (e.size, e.sha256) for p, e in c.visible_files()}
    assert files == {"/etc/s/a": (5, hashlib.sha256(b"alpha").hexdigest()),
                     "/etc/s/b": (5, hashlib.sha256(b"bravo").hexdigest())}
    assert [m.read_only for m in c.mounts] == [True]


def test_configmap_root_is_0777_on_disk(tmp_path):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n---\n" + pod("configMap: {name: c}")
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/s")
    assert got["."] == ("dir", "777", 0, 0, None)


def test_default_mode_and_item_mode(tmp_path):
    text = SECRET + pod("secret: {secretName: s, defaultMode: 0400, items: [{key: a, path: x/y/a.txt}, "
                        "{key: b, path: b, mode: 0440}]}")
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/s")
    ts = ts_of(got)
    assert got[f"{ts}/x/y/a.txt"] == ("file", "400", 0, 0, None)
    assert got[f"{ts}/x"] == ("dir", "755", 0, 0, None)  # intermediate dirs: MkdirAll under umask 022
    assert got[f"{ts}/x/y"] == ("dir", "755", 0, 0, None)
    assert got[f"{ts}/b"] == ("file", "440", 0, 0, None)
    # §2.6: only first path components become links; nested paths are reached through them.
    assert {k for k, v in got.items() if v[0] == "symlink"} == {"..data", "x", "b"}
    assert got["x"][4] == "..data/x"


def test_payload_paths_are_cleaned_as_the_atomic_writer_cleans_them(tmp_path):
    # validatePayload keeps path.Clean of each path: ``./x/./a`` is written at ``x/a``, and the
    # user-visible link is ``x``, not ``.``.
    text = SECRET + pod("secret: {secretName: s, items: [{key: a, path: ./x/./a}, {key: b, path: b/}]}")
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/s")
    ts = ts_of(got)
    assert sorted(got) == sorted([".", ts, f"{ts}/x", f"{ts}/x/a", f"{ts}/b", "..data", "x", "b"])
    assert got["x"][4] == "..data/x" and got[f"{ts}/b"][0] == "file"


def test_empty_items_means_all_keys(tmp_path):
    got = entries_by_rel(layout_of(tmp_path, SECRET + pod("secret: {secretName: s, items: []}")).containers[0],
                         "/etc/s")
    assert {"a", "b"} <= set(got)


def test_decimal_and_octal_modes(tmp_path):
    """§7.4: 0400 is octal (256); 256 and 288 are decimal; both mean the same modes."""
    for written, expected in (("0400", "400"), ("256", "400"), ("288", "440"), ("0o440", "440"), ("511", "777")):
        text = SECRET + pod(f"secret: {{secretName: s, defaultMode: {written}}}")
        got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/s")
        assert got[f"{ts_of(got)}/a"][1] == expected, written


def test_decimal_400_is_accepted_as_0620(tmp_path):
    got = entries_by_rel(layout_of(tmp_path, SECRET + pod("secret: {secretName: s, defaultMode: 400}"))
                         .containers[0], "/etc/s")
    assert got[f"{ts_of(got)}/a"][1] == "620"


def test_decimal_644_is_rejected(tmp_path):
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, SECRET + pod("secret: {secretName: s, defaultMode: 644}"))
    assert str(err.value) == (
        f"{tmp_path}/in.yaml: Pod/p: spec.volumes[0].secret.defaultMode: must be a number between 0 and 0777 "
        "(octal), both inclusive (644 is read as decimal; write 0644 for octal)")



@pytest.mark.parametrize("written, hint", [
    ("01000", ""),  # octal already (512): no "write 0512 for octal" advice
    ("0o1000", ""),
    ("0x200", ""),
    ("512", " (512 is read as decimal; write 0512 for octal)"),
])
def test_mode_hint_tells_octal_01000_from_decimal_512(tmp_path, written, hint):
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, SECRET + pod(f"secret: {{secretName: s, defaultMode: {written}}}"))
    assert str(err.value) == (
        f"{tmp_path}/in.yaml: Pod/p: spec.volumes[0].secret.defaultMode: must be a number between 0 and 0777 "
        f"(octal), both inclusive{hint}")


@pytest.mark.parametrize("written, warned", [("0710", False), ("0o710", False), ("456", True)])
def test_decimal_mode_warning_only_for_modes_written_in_decimal(tmp_path, written, warned):
    from parity.kube.manifests import load_inputs

    path = tmp_path / "in.yaml"
    path.write_text(SECRET + pod(f"secret: {{secretName: s, defaultMode: {written}}}"))
    warnings = load_inputs([str(path)]).warnings
    assert warnings == ([f"{path}: Pod/p: spec.volumes[0].secret.defaultMode: 456 is decimal, i.e. 0710; "
                         "write 0456 if octal was meant"] if warned else [])

FS_GROUP_CASES = [(0o400, "440"), (0o600, "640"), (0o644, "644"), (0o440, "440"), (0o700, "740"),
                  (0o755, "755"), (0o000, "440"), (0o200, "640")]
# 0700 -> 0740, not the 0750 the reference table gives: changeFilePermission (volume_linux.go) ORs
# roMask 0440 into files and adds execMask only for directories.


@pytest.mark.parametrize("mode,expected", FS_GROUP_CASES)
def test_fs_group_file_mode_arithmetic(tmp_path, mode, expected):
    """§5: files |= 0440, group := fsGroup, uid unchanged."""
    text = SECRET + pod(f"secret: {{secretName: s, defaultMode: {mode}}}",
                        extra_spec="\n  securityContext: {fsGroup: 2000, runAsUser: 1000}")
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/s")
    assert got[f"{ts_of(got)}/a"] == ("file", expected, 0, 2000, None)


def test_fs_group_directories_and_roots(tmp_path):
    """§5: dirs |= 02550 (ts dir 0755 -> 02755); roots: tmpfs 03777, configMap disk 02777; links 0:fsGroup."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n---\n" + SECRET +
            pod("secret: {secretName: s, items: [{key: a, path: d/a}]}",
                mounts="[{name: v, mountPath: /etc/s}, {name: c, mountPath: /etc/c}]",
                extra_spec="\n  securityContext: {fsGroup: 3000}")
            + "  - name: c\n    configMap: {name: c}\n")
    c = layout_of(tmp_path, text).containers[0]
    got = entries_by_rel(c, "/etc/s")
    ts = ts_of(got)
    assert got["."] == ("dir", "3777", 0, 3000, None)
    assert got[ts] == ("dir", "2755", 0, 3000, None)
    assert got[f"{ts}/d"] == ("dir", "2755", 0, 3000, None)
    assert got[f"{ts}/d/a"] == ("file", "644", 0, 3000, None)
    assert got["..data"] == ("symlink", "777", 0, 3000, ts)
    assert entries_by_rel(c, "/etc/c")["."] == ("dir", "2777", 0, 3000, None)


def test_run_as_user_does_not_change_owners(tmp_path):
    text = SECRET + pod("secret: {secretName: s}", extra_spec="\n  securityContext: {runAsUser: 1000, runAsGroup: 5}")
    got = entries_by_rel(layout_of(tmp_path, text).containers[0], "/etc/s")
    assert got[f"{ts_of(got)}/a"] == ("file", "644", 0, 0, None)


def test_always_read_only(tmp_path):
    """§6.1: readOnly: false does not make these volumes writable."""
    c = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}",
                                         mounts="[{name: v, mountPath: /etc/s, readOnly: false}]")).containers[0]
    assert c.mounts[0].read_only is True


def test_string_data_wins_over_data(tmp_path):
    text = """
apiVersion: v1
kind: Secret
metadata: {name: s}
data: {a: b2xk}
stringData: {a: new}
---
""" + pod("secret: {secretName: s}")
    c = layout_of(tmp_path, text).containers[0]
    assert dict((p, e.sha256) for p, e in c.visible_files()) == {"/etc/s/a": hashlib.sha256(b"new").hexdigest()}


def test_configmap_binary_data_bytes(tmp_path):
    """e2e: binaryData de ca fe ba d0 fe ff round-trips."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData: {bin: 3sr+utD+/w==}\n---\n"
            + pod("configMap: {name: c}"))
    w = layout_of(tmp_path, text)
    (path, entry), = w.containers[0].visible_files()
    assert w.contents[entry.sha256] == bytes.fromhex("decafebad0feff")
    assert entry.size == 7


def test_optional_missing_secret_gives_empty_volume(tmp_path):
    """TestPluginOptional: only ..data and an empty ts dir."""
    got = entries_by_rel(layout_of(tmp_path, pod("secret: {secretName: nope, optional: true}")).containers[0],
                         "/etc/s")
    ts = ts_of(got)
    assert set(got) == {".", ts, "..data"}


def test_missing_secret_not_optional_is_an_error(tmp_path):
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, pod("secret: {secretName: nope}"))
    assert str(err.value) == (f'{tmp_path}/in.yaml: Pod/p: spec.volumes[0].secret.secretName: secret "nope" not '
                              'found in namespace "default" (not optional: the pod would stay in ContainerCreating)')


def test_missing_key(tmp_path):
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, SECRET + pod("secret: {secretName: s, items: [{key: zz, path: zz}]}"))
    assert str(err.value).endswith('spec.volumes[0].secret.items[0].key: secret "s" references non-existent secret '
                                   "key: zz")
    got = entries_by_rel(layout_of(tmp_path, SECRET + pod(
        "secret: {secretName: s, optional: true, items: [{key: zz, path: zz}, {key: a, path: a}]}")).containers[0],
        "/etc/s")
    assert "zz" not in got and "a" in got


def test_projected_merge_order_last_source_wins(tmp_path):
    """§3.4: whole-object projections colliding on a path: the later source wins, no error."""
    text = """
apiVersion: v1
kind: Secret
metadata: {name: one}
stringData: {k: first}
---
apiVersion: v1
kind: Secret
metadata: {name: two}
stringData: {k: second}
---
""" + pod("projected: {defaultMode: 0440, sources: [{secret: {name: one}}, {secret: {name: two}}]}")
    c = layout_of(tmp_path, text).containers[0]
    assert [(p, e.sha256, f"{e.mode:o}") for p, e in c.visible_files()] == [
        ("/etc/s/k", hashlib.sha256(b"second").hexdigest(), "440")]


def test_projected_duplicate_explicit_paths_rejected(tmp_path):
    text = SECRET + pod("projected: {sources: [{secret: {name: s, items: [{key: a, path: x}]}}, "
                        "{secret: {name: s, items: [{key: b, path: x}]}}]}")
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, text)
    assert 'spec.volumes[0].projected.sources[1].secret.items[0].path: conflicting duplicate paths: "x"' in str(err.value)


def test_projected_nondefault_mode_example_shape(tmp_path):
    """The Kubernetes docs example: two items into one sub-directory, mode 511 (0777)."""
    text = """
apiVersion: v1
kind: Secret
metadata: {name: mysecret}
stringData: {username: admin}
---
apiVersion: v1
kind: Secret
metadata: {name: mysecret2}
stringData: {password: "1f2d1e2e67df"}
---
""" + pod("projected: {sources: [{secret: {name: mysecret, items: [{key: username, path: my-group/my-username}]}},"
          " {secret: {name: mysecret2, items: [{key: password, path: my-group/my-password, mode: 511}]}}]}")
    c = layout_of(tmp_path, text).containers[0]
    assert [(p, f"{e.mode:o}") for p, e in c.visible_files()] == [
        ("/etc/s/my-group/my-password", "777"), ("/etc/s/my-group/my-username", "644")]
    assert [p for p, _ in c.visible_dirs()] == ["/etc/s", "/etc/s/my-group"]


@pytest.mark.parametrize("security,mode,uid,gid", [
    ("", "644", 0, 0),
    ("\n  securityContext: {runAsUser: 1000}", "600", 1000, 0),
    ("\n  securityContext: {fsGroup: 10000}", "640", 0, 10000),
    ("\n  securityContext: {runAsUser: 1000, fsGroup: 10000}", "640", 1000, 10000),
])
def test_service_account_token_mode_and_owner(tmp_path, security, mode, uid, gid):
    """service_accounts.go e2e: the token is 0600 with an fsUser or fsGroup, owned by the fsUser."""
    text = pod("projected: {sources: [{serviceAccountToken: {path: token}}]}", extra_spec=security)
    c = layout_of(tmp_path, text).containers[0]
    (path, entry), = c.visible_files()
    assert (path, f"{entry.mode:o}", entry.uid, entry.gid) == ("/etc/s/token", mode, uid, gid)
    assert entry.volatile == "the API server mints the token (a signed, expiring JWT bound to the pod): no cluster, no real token"


def test_fs_user_needs_every_container_to_agree(tmp_path):
    containers = """
  containers:
  - {name: a, image: x, securityContext: {runAsUser: 1000}, volumeMounts: [{name: v, mountPath: /t}]}
  - {name: b, image: x, securityContext: {runAsUser: 1001}}"""
    c = layout_of(tmp_path, pod("projected: {sources: [{serviceAccountToken: {path: token}}]}",
                                containers=containers)).containers[0]
    (_, entry), = c.visible_files()
    assert (f"{entry.mode:o}", entry.uid) == ("644", 0)


def test_downward_api_formatting(tmp_path):
    """§3.3: maps as sorted key="value" lines with Go %q quoting, no trailing newline; scalars raw."""
    text = pod("downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}, "
               "{path: ann, fieldRef: {fieldPath: metadata.annotations}}, "
               "{path: name, fieldRef: {fieldPath: metadata.name}}, "
               "{path: ns, fieldRef: {fieldPath: metadata.namespace}}, "
               "{path: tier, fieldRef: {fieldPath: \"metadata.labels['tier']\"}}, "
               "{path: uid, fieldRef: {fieldPath: metadata.uid}}]}")
    w = layout_of(tmp_path, text)
    files = {p.rsplit("/", 1)[1]: e for p, e in w.containers[0].visible_files()}
    content = {name: w.contents[e.sha256] for name, e in files.items()}
    assert content["labels"] == b'app="web"\ntier="a\\"b"'
    assert content["ann"] == (b'kubernetes.io/config.seen="1970-01-01T00:00:00.000000000Z"\n'
                              b'kubernetes.io/config.source="api"\nnote="x\\ny"')
    assert content["name"] == b"p"
    assert content["ns"] == b"default"
    assert content["tier"] == b'a"b'
    assert files["uid"].volatile == "the API server assigns the pod's uid"
    assert files["labels"].volatile is None


def test_annotations_file_holds_the_annotations_the_kubelet_adds_to_its_copy_of_the_pod(tmp_path):
    """pkg/kubelet/config/config.go: every pod from the API server gets kubernetes.io/config.source="api"
    and kubernetes.io/config.seen=<first seen, RFC3339NanoFixed>, overwriting the manifest's; the
    downward API reads that copy. The time is the cluster's: a placeholder at SOURCE_DATE_EPOCH, volatile."""
    text = pod("downwardAPI: {items: [{path: all, fieldRef: {fieldPath: metadata.annotations}}, "
               "{path: source, fieldRef: {fieldPath: \"metadata.annotations['kubernetes.io/config.source']\"}}, "
               "{path: seen, fieldRef: {fieldPath: \"metadata.annotations['kubernetes.io/config.seen']\"}}, "
               "{path: note, fieldRef: {fieldPath: \"metadata.annotations['note']\"}}]}"
               ).replace('annotations: {note: "x\\ny"}', 'annotations: {note: "x\\ny", kubernetes.io/config.source: file}')
    assert "config.source: file" in text  # the manifest's own value, which the kubelet overwrites
    w = layout_of(tmp_path, text)
    files = {p.rsplit("/", 1)[1]: e for p, e in w.containers[0].visible_files()}
    content = {name: w.contents[e.sha256] for name, e in files.items()}
    assert content == {"all": b'kubernetes.io/config.seen="1970-01-01T00:00:00.000000000Z"\n'
                              b'kubernetes.io/config.source="api"\nnote="x\\ny"',
                       "source": b"api", "seen": b"1970-01-01T00:00:00.000000000Z", "note": b"x\ny"}
    seen = "the kubelet stamps kubernetes.io/config.seen with the time it first saw the pod"
    assert {name: e.volatile for name, e in files.items()} == {
        "all": f"{seen}; admission plugins may add annotations (e.g. kubernetes.io/limit-ranger), and so may "
               "kubectl apply on a Pod (kubectl.kubernetes.io/last-applied-configuration)",
        "source": None, "seen": seen, "note": None}


def test_go_quote():
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("tab\there\x01\x7f") == '"tab\\there\\x01\\x7f"'
    assert go_quote("héllo ✓") == '"héllo ✓"'
    assert format_map({"b": "2", "a": "1"}) == 'a="1"\nb="2"'


def test_template_pod_metadata_is_volatile(tmp_path):
    text = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: x, volumeMounts: [{name: v, mountPath: /etc/p}]}]
      volumes:
      - name: v
        downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}},
                              {path: labels, fieldRef: {fieldPath: metadata.labels}}]}
"""
    w = layout_of(tmp_path, text)
    vol = {p: e.volatile for p, e in w.containers[0].visible_files()}
    assert vol == {"/etc/p/labels": "the Deployment controller adds labels (pod-template-hash)",
                   "/etc/p/name": "the Deployment controller names the pod",
                   f"{SA}/ca.crt": "the cluster's root CA (ConfigMap kube-root-ca.crt, which the cluster publishes in "
                                   "every namespace) is not in the input: give it to predict ca.crt",
                   f"{SA}/namespace": None,
                   f"{SA}/token": "the API server mints the token (a signed, expiring JWT bound to the pod): no "
                                  "cluster, no real token"}


def resource_field_files(tmp_path, resources: str, *refs: str) -> dict[str, bytes]:
    """The files the kubelet writes for a downwardAPI volume of ``resourceFieldRef`` items about the
    container ``app``, which has these resources.

    Args:
        tmp_path: where the manifest is written.
        resources: the container's ``resources`` (a YAML flow mapping).
        refs: one item each, ``"PATH RESOURCE [DIVISOR]"`` (``"mem limits.memory 1Mi"``).

    Returns:
        {file name: contents}.
    """
    containers = f"""
  containers:
  - name: app
    image: x
    resources: {resources}
    volumeMounts: [{{name: v, mountPath: /r}}]"""
    items = []
    for ref in refs:
        path, resource, *divisor = ref.split()
        items.append(f"{{path: {path}, resourceFieldRef: {{containerName: app, resource: {resource}"
                     + "".join(f", divisor: {d}" for d in divisor) + "}}")
    w = layout_of(tmp_path, pod("downwardAPI: {items: [" + ", ".join(items) + "]}", containers=containers))
    return {p.rsplit("/", 1)[1]: w.contents[e.sha256] for p, e in w.containers[0].visible_files()}


def test_resource_field_ref(tmp_path):
    got = resource_field_files(tmp_path, "{limits: {memory: 64Mi, cpu: 250m}}",
                               "mem limits.memory 1Mi", "cpu limits.cpu", "mcpu requests.cpu 1m")
    assert got == {"mem": b"64", "cpu": b"1", "mcpu": b"250"}


def test_sub_path_file(tmp_path):
    """§6.2: a single read-only regular file with the payload's mode and owner, no siblings."""
    text = SECRET + pod("secret: {secretName: s, defaultMode: 0400}",
                        mounts="[{name: v, mountPath: /app/a.txt, subPath: a}]",
                        extra_spec="\n  securityContext: {fsGroup: 7}")
    c = layout_of(tmp_path, text).containers[0]
    assert [(e.path, e.type, f"{e.mode:o}", e.uid, e.gid) for e in c.entries] == [
        ("/app/a.txt", "file", "440", 0, 7)]
    assert c.mounts[0].sub_path == "a" and c.mounts[0].read_only


def test_sub_path_missing_key_makes_directory_in_volume_root(tmp_path):
    """§6.2: a missing subPath becomes a directory with the volume root's mode; every mount of the
    volume then sees it."""
    containers = """
  containers:
  - {name: a, image: x, volumeMounts: [{name: v, mountPath: /m, subPath: missing}]}
  - {name: b, image: x, volumeMounts: [{name: v, mountPath: /all}]}"""
    w = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}", containers=containers))
    a, b = w.containers
    assert [(e.path, e.type, f"{e.mode:o}") for e in a.entries] == [("/m", "dir", "1777")]
    assert entries_by_rel(b, "/all")["missing"] == ("dir", "1777", 0, 0, None)


def test_sidecar_sees_same_volume_elsewhere(tmp_path):
    containers = """
  containers:
  - {name: a, image: x, volumeMounts: [{name: v, mountPath: /etc/s}]}
  - {name: b, image: x, volumeMounts: [{name: v, mountPath: /other/place}]}"""
    a, b = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}", containers=containers)).containers
    assert entries_by_rel(a, "/etc/s") == entries_by_rel(b, "/other/place")


def test_nested_mountpoint_directory(tmp_path):
    """§6.3: an emptyDir beneath the secret's mountPath makes a 0755 directory in the secret's root."""
    containers = """
  containers:
  - {name: a, image: x, volumeMounts: [{name: v, mountPath: /etc/app}, {name: cache, mountPath: /etc/app/cache}]}
  - {name: b, image: x, volumeMounts: [{name: v, mountPath: /v}]}"""
    text = SECRET + pod("secret: {secretName: s}", containers=containers) + "  - {name: cache, emptyDir: {}}\n"
    a, b = layout_of(tmp_path, text).containers
    assert entries_by_rel(b, "/v")["cache"] == ("dir", "755", 0, 0, None)
    # Hidden by the emptyDir mounted there: its own root (0777) shows, not the secret's 0755 directory.
    assert a.entry("/etc/app/cache")[1:5] == ("dir", 0o777, 0, 0)


def test_init_containers_come_first(tmp_path):
    containers = """
  initContainers:
  - {name: init, image: x, volumeMounts: [{name: v, mountPath: /i}]}
  containers:
  - {name: app, image: x}"""
    w = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}", containers=containers))
    assert [(c.name, c.init, len(c.mounts)) for c in w.containers] == [("init", True, 1), ("app", False, 0)]


def test_dot_file_keys_are_visible(tmp_path):
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {.hidden: x}\n---\n" + pod(
        "secret: {secretName: s}")
    c = layout_of(tmp_path, text).containers[0]
    assert [p for p, _ in c.visible_files()] == ["/etc/s/.hidden"]


def test_same_content_same_timestamp_name_new_content_new_name(tmp_path):
    a = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}")).containers[0]
    b = layout_of(tmp_path, SECRET + pod("secret: {secretName: s}")).containers[0]
    c = layout_of(tmp_path, SECRET.replace("alpha", "ALPHA") + pod("secret: {secretName: s}")).containers[0]
    assert ts_of(entries_by_rel(a, "/etc/s")) == ts_of(entries_by_rel(b, "/etc/s"))
    assert ts_of(entries_by_rel(a, "/etc/s")) != ts_of(entries_by_rel(c, "/etc/s"))


@pytest.mark.parametrize("kind,template", [
    ("Deployment", "spec: {template: TEMPLATE}"),
    ("StatefulSet", "spec: {template: TEMPLATE}"),
    ("DaemonSet", "spec: {template: TEMPLATE}"),
    ("Job", "spec: {template: TEMPLATE}"),
    ("CronJob", "spec: {schedule: '* * * * *', jobTemplate: {spec: {template: TEMPLATE}}}"),
    ("PodTemplate", "template: TEMPLATE"),
])
def test_workload_kinds_extract_the_pod_template(tmp_path, kind, template):
    tpl = "{spec: {containers: [{name: app, image: x, volumeMounts: [{name: v, mountPath: /s}]}], " \
          "volumes: [{name: v, secret: {secretName: s}}]}}"
    text = SECRET + f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: w}}\n" + template.replace("TEMPLATE", tpl)
    w = layout_of(tmp_path, text)
    # The pods of every kind get the service-account volume at admission (§7.5).
    assert (w.kind, w.name, [p for p, _ in w.containers[0].visible_files()]) == (
        kind, "w", ["/s/a", "/s/b", f"{SA}/ca.crt", f"{SA}/namespace", f"{SA}/token"])


#: What every container of the documentation's examples also gets: the service-account volume the API
#: server adds (§7.5), token and ca.crt placeholders (volatile: no cluster, no kube-root-ca.crt given).
SA_FILES = {f"{SA}/ca.crt": ("0644", 25), f"{SA}/namespace": ("0644", 7), f"{SA}/token": ("0644", 24)}


@pytest.mark.parametrize("example,files", [
    ("secret-pod", {"/etc/secret-volume/password": ("0644", 12), "/etc/secret-volume/username": ("0644", 6),
                    **SA_FILES}),
    ("projected", {"/projected-volume/password.txt": ("0644", 12), "/projected-volume/username.txt": ("0644", 5),
                   **SA_FILES}),
    ("projected-nondefault-mode", {"/projected-volume/my-group/my-password": ("0777", 12),
                                   "/projected-volume/my-group/my-username": ("0644", 5), **SA_FILES}),
])
def test_kubernetes_docs_examples_as_they_are(example, files):
    """Manifests from the Kubernetes documentation (flow style, comments, args only, decimal modes),
    with the service-account mount the API server adds to each."""
    import json

    from ..conftest import ROOT, run_parity

    result = run_parity("layout", str(ROOT / "tests" / "fixtures" / "k8s-docs-examples" / example), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    ((container,),) = [w["containers"] for w in json.loads(result.stdout)["workloads"]]
    assert {f["path"]: (f["mode"], f["size"]) for f in container["files"]} == files
    (sa,) = [m for m in container["mounts"] if m["path"] == SA]
    assert (sa["read_only"], sa["source"], re.fullmatch(r"kube-api-access-[a-z0-9]{5}", sa["volume"]) is not None) \
        == (True, "projected", True)
    assert {f["path"]: f.get("volatile", "")[:29] for f in container["files"] if f["path"].startswith(SA)} == {
        f"{SA}/ca.crt": "the cluster's root CA (Config", f"{SA}/namespace": "",
        f"{SA}/token": "the API server mints the toke"}


# ---------------------------------------------------------------------------------------------
# §7.5: the service-account volume the API server's ServiceAccount admission plugin adds.


def bare_pod(spec: str = "", containers: str = "[{name: app, image: busybox}]", meta: str = "name: p") -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata: {{{meta}}}\nspec:\n  containers: {containers}\n{spec}"


def test_every_container_init_included_gets_the_service_account_volume_as_admission_adds_it(tmp_path):
    """mountServiceAccountToken + TokenVolumeSource: one projected volume kube-api-access-XXXXX (token,
    ca.crt from kube-root-ca.crt, namespace; defaultMode 0644) mounted read-only at the default path in
    every container, init containers included; the token and (without kube-root-ca.crt in the input)
    ca.crt are placeholders, volatile; namespace is the pod's."""
    w = layout_of(tmp_path, bare_pod("  initContainers: [{name: setup, image: busybox}]\n",
                                     meta="name: p, namespace: shop"))
    (volume,) = w.volumes
    assert re.fullmatch(r"kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}", volume.name)
    assert [(c.name, c.init, [(m.path, m.volume, m.read_only, m.sub_path) for m in c.mounts]) for c in w.containers] \
        == [("setup", True, [(SA, volume.name, True, None)]), ("app", False, [(SA, volume.name, True, None)])]
    for c in w.containers:
        got = entries_by_rel(c, SA)
        ts = ts_of(got)
        assert got == {
            ".": ("dir", "1777", 0, 0, None),
            ts: ("dir", "755", 0, 0, None),
            f"{ts}/ca.crt": ("file", "644", 0, 0, None),
            f"{ts}/namespace": ("file", "644", 0, 0, None),
            f"{ts}/token": ("file", "644", 0, 0, None),
            "..data": ("symlink", "777", 0, 0, ts),
            "ca.crt": ("symlink", "777", 0, 0, "..data/ca.crt"),
            "namespace": ("symlink", "777", 0, 0, "..data/namespace"),
            "token": ("symlink", "777", 0, 0, "..data/token"),
        }
        files = dict(c.visible_files())
        assert w.contents[files[f"{SA}/namespace"].sha256] == b"shop"
        assert files[f"{SA}/namespace"].volatile is None
        assert w.contents[files[f"{SA}/token"].sha256] == b"parity.placeholder.token"
        assert files[f"{SA}/token"].volatile.startswith("the API server mints the token")
        assert w.contents[files[f"{SA}/ca.crt"].sha256] == b"parity.placeholder.ca.crt"
        assert "kube-root-ca.crt" in files[f"{SA}/ca.crt"].volatile


def test_service_account_volume_name_is_the_same_for_the_same_workload(tmp_path):
    """The random suffix has a deterministic stand-in: the same workload, the same name; another, another."""
    a = layout_of(tmp_path, bare_pod()).volumes[0].name
    b = layout_of(tmp_path, bare_pod()).volumes[0].name
    c = layout_of(tmp_path, bare_pod(meta="name: q")).volumes[0].name
    assert a == b != c


def test_ca_crt_comes_from_the_kube_root_ca_configmap_of_the_pods_namespace(tmp_path):
    cm = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: NS}\n"
          "data: {ca.crt: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}\n---\n")
    w = layout_of(tmp_path, cm.replace("NS", "shop") + bare_pod(meta="name: p, namespace: shop"))
    (c,) = w.containers
    ca = dict(c.visible_files())[f"{SA}/ca.crt"]
    assert (w.contents[ca.sha256], ca.volatile) == (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                                                   None)
    # In another namespace it is not the pod's: placeholder.
    w = layout_of(tmp_path, cm.replace("NS", "other") + bare_pod(meta="name: p, namespace: shop"))
    assert w.contents[dict(w.containers[0].visible_files())[f"{SA}/ca.crt"].sha256] == b"parity.placeholder.ca.crt"


def test_a_kube_root_ca_configmap_without_ca_crt_fails_the_pod_as_in_the_cluster(tmp_path):
    """The projection's item is not optional: the kubelet cannot mount the volume."""
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt}\ndata: {other: x}\n---\n"
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, cm + bare_pod())
    assert str(err.value) == (f'{tmp_path}/in.yaml: Pod/p: spec.volumes[0].projected.sources[1].configMap.items[0].key: '
                              'configmap "kube-root-ca.crt" references non-existent config key: ca.crt; the API '
                              'server adds this volume (kube-api-access-*) for the service-account token: give '
                              'kube-root-ca.crt its ca.crt, or set automountServiceAccountToken: false')


#: A bound service-account token volume written out in the manifest, as strimzi's cluster operator,
#: Vault's and linkerd's injectors write it (automountServiceAccountToken: false, then the same three
#: sources by hand): its configMap source names the ConfigMap the cluster publishes in every namespace.
BOUND_TOKEN = """\
  automountServiceAccountToken: false
  volumes:
  - name: token
    projected:
      sources:
      - serviceAccountToken: {path: token, expirationSeconds: 3607}
      - configMap:
          name: kube-root-ca.crt
          ITEMS
      - downwardAPI:
          items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]
  - name: ca
    configMap: {name: kube-root-ca.crt, defaultMode: 0600}
"""


@pytest.mark.parametrize("items", ["items: [{key: ca.crt, path: ca.crt}]", "optional: false"])
def test_a_written_out_kube_root_ca_source_is_the_clusters_published_configmap(tmp_path, items):
    """A configMap source (projected or a volume of its own) naming kube-root-ca.crt, absent from the
    input, is the ConfigMap the cluster's root-ca-cert-publisher makes in every namespace: ca.crt is a
    placeholder (volatile), as in the volume the API server adds, not "not found ... would stay in
    ContainerCreating" (strimzi's install failed whole on it)."""
    containers = ("[{name: app, image: busybox, volumeMounts: [{name: token, mountPath: /t, readOnly: true}, "
                  "{name: ca, mountPath: /ca}]}]")
    w = layout_of(tmp_path, bare_pod(BOUND_TOKEN.replace("ITEMS", items), containers))
    files = dict(w.containers[0].visible_files())
    assert sorted(files) == ["/ca/ca.crt", "/t/ca.crt", "/t/namespace", "/t/token"]
    for path, mode in (("/t/ca.crt", 0o644), ("/ca/ca.crt", 0o600)):
        assert (w.contents[files[path].sha256], files[path].mode) == (b"parity.placeholder.ca.crt", mode)
        assert "kube-root-ca.crt, which the cluster publishes in every namespace" in files[path].volatile


def test_a_written_out_kube_root_ca_source_naming_another_key_fails_as_in_the_cluster(tmp_path):
    """The published ConfigMap holds ca.crt only: another key is not there (the kubelet cannot mount it)."""
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, bare_pod(BOUND_TOKEN.replace("ITEMS", "items: [{key: root.pem, path: ca.crt}]"),
                                     "[{name: app, image: busybox, volumeMounts: [{name: token, mountPath: /t}]}]"))
    assert str(err.value) == (f'{tmp_path}/in.yaml: Pod/p: spec.volumes[0].projected.sources[1].configMap.items[0].key: '
                              'configmap "kube-root-ca.crt" references non-existent config key: root.pem; the '
                              'cluster publishes kube-root-ca.crt with ca.crt only')


@pytest.mark.parametrize("pod_setting, account, mounted", [
    ("automountServiceAccountToken: false", "", False),
    ("automountServiceAccountToken: true", "", True),
    ("", "automountServiceAccountToken: false", False),  # the "default" ServiceAccount
    ("serviceAccountName: robot", "automountServiceAccountToken: false", False),
    ("automountServiceAccountToken: true", "automountServiceAccountToken: false", True),  # the pod's wins
    ("", "automountServiceAccountToken: true", True),
    ("", "{}", True),
])
def test_automount_is_decided_by_the_pod_then_its_service_account(tmp_path, pod_setting, account, mounted):
    """shouldAutomount: the pod's field wins, then the ServiceAccount's (serviceAccountName, else
    "default") when the input has it in the pod's namespace, else the volume is mounted."""
    name = "robot" if "robot" in pod_setting else "default"
    sa = ""
    if account:
        body = "" if account == "{}" else account
        sa = f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}}}\n{body}\n---\n"
    w = layout_of(tmp_path, sa + bare_pod(f"  {pod_setting}\n" if pod_setting else ""))
    assert [m.path for m in w.containers[0].mounts] == ([SA] if mounted else [])
    assert len(w.volumes) == (1 if mounted else 0)


def test_a_service_account_in_another_namespace_does_not_decide(tmp_path):
    sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: other}\n" \
         "automountServiceAccountToken: false\n---\n"
    assert [m.path for m in layout_of(tmp_path, sa + bare_pod()).containers[0].mounts] == [SA]


def test_a_container_that_mounts_the_path_itself_keeps_its_own_volume(tmp_path):
    """Existing mounts at the default path prevent mounting of the API token (admission.go), container
    by container: the other container still gets the token volume."""
    text = SECRET + bare_pod(
        "  volumes: [{name: own, secret: {secretName: s}}]\n",
        containers=f"[{{name: app, image: busybox, volumeMounts: [{{name: own, mountPath: {SA}}}]}}, "
                   "{name: side, image: busybox}]")
    w = layout_of(tmp_path, text)
    app, side = w.containers
    assert [(m.path, m.volume) for m in app.mounts] == [(SA, "own")]
    assert sorted(p for p, _ in app.visible_files()) == [f"{SA}/a", f"{SA}/b"]
    assert [m.path for m in side.mounts] == [SA] and side.mounts[0].volume.startswith("kube-api-access-")
    assert [v.name for v in w.volumes][0] == "own" and len(w.volumes) == 2


def test_no_volume_is_added_when_every_container_mounts_the_path_itself(tmp_path):
    text = SECRET + bare_pod("  volumes: [{name: own, secret: {secretName: s}}]\n",
                             containers=f"[{{name: app, image: busybox, volumeMounts: [{{name: own, mountPath: {SA}}}]}}]")
    assert [v.name for v in layout_of(tmp_path, text).volumes] == ["own"]


def test_a_pod_read_back_with_its_kube_api_access_volume_gets_no_second_one(tmp_path):
    """A pod as the API server returns it already has kube-api-access-*: admission reuses that name."""
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt}\ndata: {ca.crt: x}\n---\n"
    volume = ("  volumes:\n  - name: kube-api-access-x7k2p\n    projected:\n      defaultMode: 420\n      sources:\n"
              "      - serviceAccountToken: {expirationSeconds: 3607, path: token}\n"
              "      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}\n"
              "      - downwardAPI: {items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]}\n")
    w = layout_of(tmp_path, cm + bare_pod(volume, containers=(
        f"[{{name: app, image: busybox, volumeMounts: [{{name: kube-api-access-x7k2p, mountPath: {SA}, "
        "readOnly: true}]}, {name: late, image: busybox}]")))
    assert [v.name for v in w.volumes] == ["kube-api-access-x7k2p"]
    assert [[(m.path, m.volume) for m in c.mounts] for c in w.containers] == [[(SA, "kube-api-access-x7k2p")]] * 2


def test_the_token_follows_fs_group_and_run_as_user_in_the_added_volume(tmp_path):
    """The added token is a serviceAccountToken projection like any other (§3.4, §4, §5)."""
    w = layout_of(tmp_path, bare_pod("  securityContext: {runAsUser: 1000, fsGroup: 2000}\n"))
    got = entries_by_rel(w.containers[0], SA)
    ts = ts_of(got)
    assert (got[f"{ts}/token"], got[f"{ts}/namespace"], got["."]) == (
        ("file", "640", 1000, 2000, None), ("file", "644", 0, 2000, None), ("dir", "3777", 0, 2000, None))


def test_a_service_account_whose_automount_is_not_a_boolean_is_refused(tmp_path):
    text = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}\nautomountServiceAccountToken: \"no\"\n---\n"
    with pytest.raises(ParityError) as err:
        layout_of(tmp_path, text + bare_pod())
    assert str(err.value) == f"{tmp_path}/in.yaml: ServiceAccount/default: automountServiceAccountToken: must be true or false"
