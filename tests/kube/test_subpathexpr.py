"""``subPathExpr`` (parity/kube/subpathexpr.py): the kubelet expands it from the container's variables
into the mount's subPath (``makeMounts``, ``ExpandContainerVolumeMounts``); parity did the same where
it knows the values and refused every one before ("not supported by parity")."""

from __future__ import annotations

import hashlib

import pytest

from parity.kube.subpathexpr import EnvValue, expand_sub_path_expr, go_expand
from parity.layout import Mount

from ..conftest import entries_by_rel, layout_of, run_parity, write

POD = """
apiVersion: v1
kind: %(kind)s
metadata: {name: web, namespace: shop}
spec:
%(spec)s
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf, namespace: shop}
data:
  web.conf: "x=1\\n"
  shop.ini: "ns\\n"
"""

SPEC = """  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: EXT, value: conf}
    - {name: FILE, value: "$(POD_NAME).$(EXT)"}
    volumeMounts:
    - {name: conf, mountPath: /etc/app.conf, subPathExpr: "$(POD_NAME).$(EXT)"}
    - {name: conf, mountPath: /etc/ns.ini, subPathExpr: "$(NS).ini"}
    - {name: conf, mountPath: /etc/again.conf, subPathExpr: "$(FILE)"}
    - {name: logs, mountPath: /logs, subPathExpr: "$(POD_NAME)"}
  volumes:
  - {name: conf, configMap: {name: conf}}
  - {name: logs, emptyDir: {}}"""


def _pod(kind: str = "Pod", spec: str = SPEC) -> str:
    if kind == "Pod":
        return POD % {"kind": kind, "spec": spec}
    template = "\n".join("      " + line[2:] if line.strip() else line for line in spec.splitlines())
    return POD.replace("apiVersion: v1\nkind: %(kind)s", "apiVersion: apps/v1\nkind: %(kind)s", 1) % {
        "kind": kind, "spec": "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
                             "    spec:\n" + template}


@pytest.mark.parametrize("text,expanded", [
    ("$(A)/x", "a/x"), ("$$(A)", "$(A)"), ("$(A", "$(A"), ("$A", "$A"), ("x$", "x$"), ("$(A)$(A)", "aa"),
    ("$(a b)", "<a b>"), ("$$$(A)", "$a"),
])
def test_expansion_is_gos_expansion_expand(text, expanded):
    """third_party/forked/golang/expansion ``Expand``: ``$(NAME)`` up to the first ``)``, ``$$`` is ``$``,
    any other ``$`` stays."""
    assert go_expand(text, lambda name: "a" if name == "A" else f"<{name}>") == expanded


def test_a_pods_subpathexpr_is_its_subpath_from_the_containers_environment(tmp_path):
    """A Pod's name and namespace are the cluster's: each mount is the subPath its expression expands to,
    with the file of that key (a literal expanding earlier variables too), the emptyDir's per-pod
    directory; no note."""
    layout = layout_of(tmp_path, _pod())
    (app,) = layout.containers
    assert [(m.path, m.sub_path) for m in app.mounts] == [
        ("/etc/app.conf", "web.conf"), ("/etc/ns.ini", "shop.ini"), ("/etc/again.conf", "web.conf"), ("/logs", "web")]
    assert app.mounts[3] == Mount("/logs", "logs", False, "web", "emptyDir", "emptyDir")
    assert entries_by_rel(app, "/etc/app.conf") == {".": ("file", "644", 0, 0, None)}
    (conf,) = [e for e in app.entries if e.path == "/etc/app.conf"]
    assert (conf.size, conf.sha256) == (4, hashlib.sha256(b"x=1\n").hexdigest())
    (ini,) = [e for e in app.entries if e.path == "/etc/ns.ini"]
    assert ini.sha256 == hashlib.sha256(b"ns\n").hexdigest()
    assert layout.notes == []


def test_a_deployments_pod_name_in_a_subpathexpr_is_said_to_differ(tmp_path):
    """A Deployment's pod name is its controller's: the subPath is made from parity's stand-in name, and
    the layout, k8s-to-docker (and its README) say so, naming the variable; the emptyDir's subPath is
    said not reproduced (as a subPath is)."""
    layout = layout_of(tmp_path, _pod("Deployment"))
    field = "spec.template.spec.containers[0].volumeMounts"
    why = '$(POD_NAME) is "web" here (the Deployment controller names the pod)'
    assert layout.notes == [
        f'app: {field}[0].subPathExpr $(POD_NAME).$(EXT) is "web.conf" here, another path in the cluster: {why}',
        f'app: {field}[2].subPathExpr $(FILE) is "web.conf" here, another path in the cluster: $(FILE) is "web.conf" '
        "here (it expands $(POD_NAME): the Deployment controller names the pod)",
        f'app: {field}[3].subPathExpr $(POD_NAME) is "web" here, another path in the cluster: {why}']
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", str(write(tmp_path, _pod("Deployment"))), "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    said = [line.strip()[len("note: "):] for line in gen.stdout.decode().splitlines() if "subPathExpr" in line]
    assert said == ['app: subPathExpr $(POD_NAME) of emptyDir volume "logs" is not reproduced: nothing is mounted at '
                    "/logs here (Docker mounts a subpath of a volume from API 1.45 on; this engine's API is older)"
                    ] + layout.notes
    readme = (out / "README.md").read_text()
    assert all(f"- {note}\n" in readme for note in said)


def test_a_subpathexpr_pod_is_generated_and_diffs_equal(tmp_path):
    """The configMap subPaths made from expressions are bound as files; the static diff finds every
    file the same (the emptyDir's per-pod subPath aside, said not reproduced: left out here)."""
    spec = SPEC.replace('    - {name: logs, mountPath: /logs, subPathExpr: "$(POD_NAME)"}\n', "")
    manifest = write(tmp_path, _pod(spec=spec))
    out = tmp_path / "out"
    gen = run_parity("k8s-to-docker", str(manifest), "-o", str(out))
    assert gen.returncode == 0, gen.stderr.decode()
    assert sorted(p.name for p in (out / "subpath" / "app").iterdir()) == ["0-app.conf", "1-ns.ini", "2-again.conf"]
    diff = run_parity("diff", str(manifest), "--compose", str(out / "compose.yaml"))
    assert diff.returncode == 0, diff.stdout.decode()
    assert diff.stdout.decode().splitlines()[-1] == "no differences: every container sees the cluster's files (static)"


@pytest.mark.parametrize("env,expr,error", [
    ({}, "$(NOPE)/$(ALSO)", "missing value for ALSO, NOPE (the kubelet fails the container: a subPathExpr variable "
                            "must be set and not empty)"),
    ({"E": EnvValue("")}, "$(E)x", "missing value for E (the kubelet fails the container: a subPathExpr variable "
                                   "must be set and not empty)"),
    ({"P": EnvValue("../etc")}, "$(P)", "unable to provision SubPath `../etc`: must not contain '..' (the kubelet "
                                        "fails the container)"),
    ({"P": EnvValue("/etc")}, "$(P)", "error SubPath `/etc` must not be an absolute path (the kubelet fails the "
                                      "container)"),
    ({"K": EnvValue("s3cr3t", None, 'secret "db"')}, "$(K)", '$(K) comes from secret "db": parity does not make a '
                                                            "Secret's value into a path it shows (use a value that "
                                                            "is not secret)"),
    ({"N": EnvValue("a\x00b")}, "x/$(N)", "its expansion holds a NUL byte, which no mount path can carry (the "
                                          "container would fail to start)"),
])
def test_what_the_kubelet_refuses_after_expansion_is_refused(env, expr, error):
    assert expand_sub_path_expr(expr, env) == (None, error, ())


def test_bad_subpathexprs_are_one_line_each_through_the_cli(tmp_path):
    """The API server's checks (validateVolumeMounts: subPath beside it, absolute, '..'), then the
    kubelet's on the expanded path; exit 2, nothing of a Secret's value on stderr."""
    api = SPEC.replace('subPathExpr: "$(NS).ini"}', 'subPathExpr: "/$(NS)/..", subPath: x}')
    result = run_parity("layout", str(write(tmp_path, _pod(spec=api), "api.yaml")))
    where = f"{tmp_path}/api.yaml: Pod/web: spec.containers[0].volumeMounts[1].subPathExpr"
    assert (result.returncode, result.stderr.decode().splitlines()) == (2, [
        f'parity: {where}: Invalid value: "/$(NS)/..": subPathExpr and subPath are mutually exclusive',
        f"parity: {where}: must be a relative path", f"parity: {where}: must not contain '..'"])
    kubelet = (SPEC.replace("    - {name: EXT, value: conf}\n", "    - {name: EXT, value: conf}\n"
                                                                   "    - {name: UP, value: ../x}\n"
                                                                   "    - {name: PW, valueFrom: {secretKeyRef: "
                                                                   "{name: db, key: pw}}}\n")
               .replace('subPathExpr: "$(NS).ini"}', 'subPathExpr: "$(UP)"}')
               .replace('subPathExpr: "$(FILE)"}', 'subPathExpr: "$(PW)"}')
               .replace('subPathExpr: "$(POD_NAME)"}', 'subPathExpr: "$(MISSING)"}'))
    secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {pw: hunter2x}\n"
    result = run_parity("layout", str(write(tmp_path, _pod(spec=kubelet) + secret, "kubelet.yaml")))
    where = f"{tmp_path}/kubelet.yaml: Pod/web: spec.containers[0].volumeMounts"
    assert (result.returncode, result.stderr.decode().splitlines()) == (2, [
        f"parity: {where}[1].subPathExpr: unable to provision SubPath `../x`: must not contain '..' (the kubelet "
        "fails the container)",
        f'parity: {where}[2].subPathExpr: $(PW) comes from secret "db": parity does not make a Secret\'s value into '
        "a path it shows (use a value that is not secret)",
        f"parity: {where}[3].subPathExpr: missing value for MISSING (the kubelet fails the container: a subPathExpr "
        "variable must be set and not empty)"])
    assert b"hunter2x" not in result.stdout + result.stderr


def test_a_variable_only_the_cluster_sets_stands_in_by_its_name(tmp_path):
    """``spec.nodeName`` has no local value (empty here, set in the cluster): not "missing" as the kubelet
    would find an empty one, but its name stands in, said."""
    spec = SPEC.replace("    - {name: EXT, value: conf}\n", "    - {name: EXT, value: conf}\n"
                        "    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n"
                        ).replace('subPathExpr: "$(POD_NAME)"}', 'subPathExpr: "$(NODE)/$(POD_NAME)"}')
    layout = layout_of(tmp_path, _pod(spec=spec))
    assert layout.containers[0].mounts[3].sub_path == "NODE/web"
    assert layout.notes == [
        'app: spec.containers[0].volumeMounts[3].subPathExpr $(NODE)/$(POD_NAME) is "NODE/web" here, another path '
        'in the cluster: $(NODE) has no value here (no local value (set to empty): the scheduler picks the node): '
        '"NODE" stands in']


def test_a_configmaps_binarydata_key_is_no_variable_for_a_subpathexpr(tmp_path):
    """envFrom and configMapKeyRef read a ConfigMap's ``data`` only (``makeEnvironmentVariables``):
    ``$(TEXT_KEY)`` expands, ``$(BIN_KEY)`` (a binaryData key) is missing, which fails the container;
    parity made the subPath ``tenant-a`` from it (exit 0)."""
    cm = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bin, namespace: shop}\ndata: {TEXT_KEY: t}\n"
          "binaryData: {BIN_KEY: dGVuYW50LWE=}\n")
    spec = (SPEC.replace("    env:\n", "    envFrom: [{configMapRef: {name: bin}}]\n    env:\n"
                                     "    - {name: D, valueFrom: {configMapKeyRef: {name: bin, key: BIN_KEY, "
                                     "optional: true}}}\n")
            .replace('subPathExpr: "$(NS).ini"}', 'subPathExpr: "$(TEXT_KEY)"}')
            .replace('subPathExpr: "$(FILE)"}', 'subPathExpr: "$(BIN_KEY)"}')
            .replace('subPathExpr: "$(POD_NAME)"}', 'subPathExpr: "$(D)"}'))
    result = run_parity("layout", str(write(tmp_path, _pod(spec=spec) + cm, "bin.yaml")))
    where = f"{tmp_path}/bin.yaml: Pod/web: spec.containers[0].volumeMounts"
    assert (result.returncode, result.stderr.decode().splitlines()) == (2, [
        f"parity: {where}[2].subPathExpr: missing value for BIN_KEY (the kubelet fails the container: a "
        "subPathExpr variable must be set and not empty)",
        f"parity: {where}[3].subPathExpr: missing value for D (the kubelet fails the container: a "
        "subPathExpr variable must be set and not empty)"])
    ok = spec.replace('subPathExpr: "$(BIN_KEY)"}', 'subPathExpr: "x"}').replace('subPathExpr: "$(D)"}',
                                                                                'subPathExpr: "y"}')
    mounts = {m.path: m.sub_path for m in layout_of(tmp_path, _pod(spec=ok) + cm).containers[0].mounts}
    assert mounts["/etc/ns.ini"] == "t"


def test_a_nul_byte_from_a_value_in_a_subpathexpr_is_refused_in_one_line(tmp_path):
    """A ConfigMap value holding NUL, named by a subPathExpr (through envFrom with a prefix): the
    kubelet's filepath.Join and mkdir fail on it, the container does not start; parity made the
    subPath ``a\\x00b`` (exit 0, and k8s-to-docker a bind). The words are those of the check of the
    expression as written (``containervalidation.MOUNT_PATH_NUL``)."""
    cm = ('---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: nul, namespace: shop}\ndata: {nul: "a\\0b"}\n')
    spec = (SPEC.replace("    env:\n", "    envFrom: [{configMapRef: {name: nul}, prefix: C_}]\n    env:\n")
            .replace('subPathExpr: "$(NS).ini"}', 'subPathExpr: "$(C_nul)"}'))
    path = write(tmp_path, _pod(spec=spec) + cm, "nul.yaml")
    line = (f"parity: {path}: Pod/web: spec.containers[0].volumeMounts[1].subPathExpr: its expansion holds a NUL "
            "byte, which no mount path can carry (the container would fail to start)\n")
    for command in (["layout", str(path)], ["k8s-to-docker", str(path), "-o", str(tmp_path / "out")]):
        result = run_parity(*command)
        assert (result.returncode, result.stdout, result.stderr.decode()) == (2, b"", line)
    assert not (tmp_path / "out").exists()
