"""``--from-cluster``: the client wiring against a fake API server on 127.0.0.1 (no real cluster here).

The fake answers with bodies shaped like the real API's (see fakeapi.py, k8sobjects.py); what these
tests cannot show is how a real API server, RBAC setup or auth plugin behaves (docs/cluster.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from parity.errors import ParityError
from parity.kube import cluster
from parity.kube.cluster import load_from_cluster, references
from parity.kube.kubelet import build_layouts
from parity.kube.manifests import load_inputs, load_objects
from parity.kube.selection import select_workloads
from parity.layout import document

from ..conftest import ROOT, entries_by_rel, precondition_missing
from . import k8sobjects as K
from .fakeapi import FakeAPI, write_kubeconfig

ALL = (K.DB_CREDS, K.TLS, K.ENV_SECRET, K.APP_CONFIG, K.ENV_CM, K.ROOT_CA)


@pytest.fixture
def api():
    with FakeAPI() as fake:
        for obj in ALL + (K.pod(), K.deployment()):
            fake.add(obj)
        yield fake


@pytest.fixture
def kubeconfig(api, tmp_path):
    return str(api.kubeconfig(tmp_path / "kubeconfig"))


def fetch(ref: str, kubeconfig: str, **kw):
    args = {"context": None, "namespace": None, **kw}
    return load_from_cluster(ref, kubeconfig=kubeconfig, **args)


def disk_layout(tmp_path, manifest: str, workload: str):
    (tmp_path / "w.yaml").write_text(manifest)
    (tmp_path / "objs.yaml").write_text(K.OBJECTS_MANIFEST)
    inputs = load_inputs([str(tmp_path / "w.yaml"), str(tmp_path / "objs.yaml")], "default")
    return build_layouts(inputs, select_workloads(inputs, workload))


def one_error(exc_info) -> str:
    (problem,) = exc_info.value.problems
    return str(problem)


def fetch_error(ref: str, kubeconfig: str, **kw) -> str:
    """The one problem ``fetch`` raises for ``ref`` (it must raise one, and only one)."""
    with pytest.raises(ParityError) as exc:
        fetch(ref, kubeconfig, **kw)
    return one_error(exc)


# ---------------------------------------------------------------------------------------------
# Same result as the manifests on disk


def same_as_on_disk(kubeconfig: str, tmp_path, ref: str, manifest: str):
    """``ref`` fetched from the cluster and laid out, checked equal (layout document and contents) to
    ``manifest`` read from disk. Returns (the fetched inputs, their layouts)."""
    inputs = fetch(ref, kubeconfig)
    from_cluster = build_layouts(inputs, inputs.workloads)
    from_disk = disk_layout(tmp_path, manifest, ref)
    assert document(from_cluster) == document(from_disk)
    assert from_cluster[0].contents == from_disk[0].contents
    return inputs, from_cluster


def test_pod_from_cluster_equals_manifests_on_disk(api, kubeconfig, tmp_path):
    inputs, from_cluster = same_as_on_disk(kubeconfig, tmp_path, "pod/web", K.POD_MANIFEST)
    # ...and that common result is the right one, not merely the same.
    app = from_cluster[0].container("app")
    files = {p: (e.mode, e.uid, e.gid, e.sha256) for p, e in app.visible_files()}
    assert files["/etc/db/db/password"] == (0o440, 0, 2000, hashlib.sha256(K.DB_PASSWORD).hexdigest())
    assert files["/etc/bundle/keys/api.key"] == (0o440, 0, 2000, hashlib.sha256(K.API_KEY).hexdigest())
    assert files["/etc/app/logo.bin"] == (0o644, 0, 2000, hashlib.sha256(K.LOGO).hexdigest())
    assert files["/etc/bundle/labels"][3] == hashlib.sha256(b'app="web"\ntier="backend"').hexdigest()
    # The emptyDir hides the secret volume's mountpoint directory there: its own root shows (02777, fsGroup).
    cache = dict(app.visible_dirs())["/etc/db/cache"]
    assert (cache.mode, cache.uid, cache.gid) == (0o2777, 0, 2000)
    assert inputs.workloads[0].file == "cluster:test/dev"
    assert inputs.warnings == []


def test_pod_fetches_exactly_the_referenced_objects(api, kubeconfig):
    """Volumes, projected sources, env valueFrom and envFrom; each once; with the kubeconfig's token."""
    fetch("pod/web", kubeconfig)
    assert api.paths() == [
        "/api/v1/namespaces/dev/pods/web",
        "/api/v1/namespaces/dev/configmaps/app-config",
        "/api/v1/namespaces/dev/configmaps/env-cm",
        "/api/v1/namespaces/dev/configmaps/kube-root-ca.crt",
        "/api/v1/namespaces/dev/configmaps/opt-cm",  # optional, absent (404): fine
        "/api/v1/namespaces/dev/secrets/db-creds",
        "/api/v1/namespaces/dev/secrets/env-secret",
        "/api/v1/namespaces/dev/secrets/tls-bundle",
    ]
    assert {r.authorization for r in api.requests} == {"Bearer t0ken-dev"}


def test_deployment_from_cluster_equals_manifests_on_disk(api, kubeconfig, tmp_path):
    _, from_cluster = same_as_on_disk(kubeconfig, tmp_path, "deploy/api-gateway", K.DEPLOYMENT_MANIFEST)
    assert (from_cluster[0].kind, from_cluster[0].name, from_cluster[0].namespace) == ("Deployment", "api-gateway",
                                                                                       "dev")
    app = from_cluster[0].container("app")
    files = {p: (e.mode, e.size) for p, e in app.visible_files()}
    # The template's pod gets the service-account volume at admission: its ca.crt is the cluster's
    # kube-root-ca.crt, fetched for it; the token (0600: runAsUser 1000 is the FsUser) is a placeholder.
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert files == {"/etc/config/logo.bin": (0o444, 7), "/etc/secrets/password": (0o644, len(K.DB_PASSWORD)),
                     "/etc/secrets/username": (0o644, 3), f"{sa}/ca.crt": (0o644, len(K.CA_CRT)),
                     f"{sa}/namespace": (0o644, 3), f"{sa}/token": (0o600, 24)}
    assert from_cluster[0].contents[dict(app.visible_files())[f"{sa}/ca.crt"].sha256] == K.CA_CRT.encode()
    assert api.paths() == [
        "/apis/apps/v1/namespaces/dev/deployments/api-gateway",
        "/api/v1/namespaces/dev/configmaps/app-config",
        "/api/v1/namespaces/dev/configmaps/env-cm",
        "/api/v1/namespaces/dev/configmaps/opt-cm",
        "/api/v1/namespaces/dev/secrets/db-creds",
        "/api/v1/namespaces/dev/secrets/env-secret",
        "/api/v1/namespaces/dev/configmaps/kube-root-ca.crt",  # for the service-account volume's ca.crt
    ]


def test_references_cover_every_place_a_pod_spec_names_objects():
    """Read from the typed pod spec (issue 16: no raw dict downstream of the loader), ephemeral
    containers' env included (``kubectl debug`` adds them to a running pod)."""
    pod = K.pod()
    pod["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1.36",
                                      "envFrom": [{"secretRef": {"name": "init-env", "optional": True}}]}]
    pod["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox:1.36", "env": [
        {"name": "DBG", "valueFrom": {"configMapKeyRef": {"name": "debug-cm", "key": "k"}}}]}]
    (workload,) = load_objects([pod], "cluster:test/dev", "dev").workloads
    got = [(r.kind, r.name, r.optional, r.volume) for r in references(workload.spec)]
    assert got == [
        ("ConfigMap", "app-config", False, True),
        ("ConfigMap", "debug-cm", False, False),
        ("ConfigMap", "env-cm", False, False),
        ("ConfigMap", "kube-root-ca.crt", False, True),
        ("ConfigMap", "opt-cm", True, False),
        ("Secret", "db-creds", False, True),
        ("Secret", "env-secret", False, False),
        ("Secret", "init-env", True, False),
        ("Secret", "tls-bundle", False, True),
    ]


# ---------------------------------------------------------------------------------------------
# Missing objects


def _pod_with_secret(name: str, optional: bool) -> dict:
    volume = {"name": "s", "secret": {"secretName": name, "defaultMode": 420, "optional": optional}}
    return K.pod(volumes=[volume], mounts=[{"name": "s", "mountPath": "/etc/s"}], env=False)


def test_optional_missing_secret_gives_an_empty_volume(api, kubeconfig):
    api.add(_pod_with_secret("maybe", optional=True))
    inputs = fetch("pod/web", kubeconfig)
    (layout,) = build_layouts(inputs, inputs.workloads)
    got = entries_by_rel(layout.container("app"), "/etc/s")
    (ts,) = [k for k in got if k.startswith("..") and k != "..data"]
    assert got == {".": ("dir", "3777", 0, 2000, None), ts: ("dir", "2755", 0, 2000, None),
                   "..data": ("symlink", "777", 0, 2000, ts)}
    assert api.paths()[-1] == "/api/v1/namespaces/dev/secrets/maybe"


def test_missing_non_optional_secret_is_reported_by_the_kubelet_model(api, kubeconfig):
    api.add(_pod_with_secret("gone", optional=False))
    inputs = fetch("pod/web", kubeconfig)
    with pytest.raises(ParityError) as exc:
        build_layouts(inputs, inputs.workloads)
    assert one_error(exc) == ('cluster:test/dev: Pod/web: spec.volumes[0].secret.secretName: secret "gone" not found '
                              'in namespace "dev" (not optional: the pod would stay in ContainerCreating)')


def test_missing_secret_needed_only_by_env_is_a_warning(api, kubeconfig):
    api.objects.pop("/api/v1/namespaces/dev/secrets/env-secret")
    inputs = fetch("pod/web", kubeconfig)
    assert inputs.warnings == ['cluster:test/dev: Secret/env-secret: not found in namespace "dev"; Pod/web needs it '
                               "for env (the container would not start)"]


# ---------------------------------------------------------------------------------------------
# Errors: one line each, never a value


def test_rbac_denial_on_a_secret(api, kubeconfig):
    api.deny("Secret", "dev", "tls-bundle")
    assert fetch_error("pod/web", kubeconfig) == (
        'cluster:test/dev: Secret/tls-bundle: forbidden: cannot get secrets in namespace "dev" (RBAC)')


def test_rbac_denial_on_the_workload(api, kubeconfig):
    api.deny("Deployment", "dev", "api-gateway")
    assert fetch_error("deployment/api-gateway", kubeconfig) == (
        'cluster:test/dev: Deployment/api-gateway: forbidden: cannot get deployments.apps in '
        'namespace "dev" (RBAC)')


def test_workload_not_found(api, kubeconfig):
    assert fetch_error("sts/nope", kubeconfig) == 'cluster:test/dev: StatefulSet/nope: not found in namespace "dev"'
    assert api.paths() == ["/apis/apps/v1/namespaces/dev/statefulsets/nope"]


def test_unreachable_cluster(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}")
    assert fetch_error("pod/web", str(kubeconfig)) == (
        f"cluster:test/dev: cannot reach the API server at http://127.0.0.1:{port}: "
        "Connection refused")


def test_unauthorized(api, kubeconfig):
    api.objects["/api/v1/namespaces/dev/pods/web"] = (401, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                                            "status": "Failure", "message": "Unauthorized",
                                                            "reason": "Unauthorized", "code": 401})
    assert fetch_error("pod/web", kubeconfig) == (
        f'cluster:test/dev: Pod/web: unauthorized: the API server at {api.url} rejected the '
        'credentials of context "test"')


def test_bad_ref():
    with pytest.raises(ParityError) as exc:
        load_from_cluster("deploy", context=None, namespace=None, kubeconfig="/nonexistent")
    assert one_error(exc) == "--from-cluster deploy: expected KIND/NAME, e.g. deploy/api-gateway or pod/x"
    with pytest.raises(ParityError) as exc:
        load_from_cluster("svc/x", context=None, namespace=None, kubeconfig="/nonexistent")
    assert one_error(exc) == "--from-cluster svc/x: expected KIND/NAME, e.g. deploy/api-gateway or pod/x"


def test_unknown_context(api, kubeconfig):
    assert fetch_error("pod/web", kubeconfig, context="prod") == (
        f'kubeconfig {kubeconfig}: context "prod" not found (contexts: test)')
    assert api.requests == []


def test_missing_kubeconfig(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert fetch_error("pod/web", "/nonexistent/kubeconfig") == (
        "kubeconfig /nonexistent/kubeconfig: no such file (give --kubeconfig, set KUBECONFIG, "
        "or run in a pod)")


def test_broken_kubeconfig_yaml_does_not_echo_credentials(tmp_path):
    path = tmp_path / "kc"
    path.write_text("users:\n- name: u\n  user: {token: SUPERSECRETTOKEN\ncontexts: [\n")
    error = fetch_error("pod/web", str(path))  # (the exception's whole text: it has one problem)
    assert error == f"kubeconfig {path}: invalid YAML at line 4, column 9"
    assert "SUPERSECRETTOKEN" not in error


def test_kubeconfig_errors_never_quote_credentials(tmp_path):
    """The client names a broken entry by its whole dict, token included: the message must not."""
    path = tmp_path / "kc"
    path.write_text("current-context: c\nclusters: [{name: k, cluster: {server: 'http://127.0.0.1:1'}}]\n"
                    "users: [{name: u, userx: {token: SUPERSECRETTOKEN}}]\n"
                    "contexts: [{name: c, context: {cluster: k, user: u}}]\n")
    assert fetch_error("pod/web", str(path)) == (
        f'kubeconfig {path}: context "c": Invalid kube-config file. Expected key user')


def test_kubeconfig_cluster_without_server(tmp_path):
    path = tmp_path / "kc"
    path.write_text("current-context: c\nclusters: [{name: k, cluster: {insecure-skip-tls-verify: true}}]\n"
                    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n")
    assert fetch_error("pod/web", str(path)) == (
        f'kubeconfig {path}: context "c": its cluster has no https:// server URL')


def test_kubeconfig_without_current_context(tmp_path):
    path = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", current=False)
    assert fetch_error("pod/web", str(path)) == f"kubeconfig {path}: no current-context; give --context"


# ---------------------------------------------------------------------------------------------
# Where the namespace and the kubeconfig come from


def test_namespace_flag_overrides_the_context_namespace(api, kubeconfig):
    assert fetch_error("pod/web", kubeconfig, namespace="other") == (
        'cluster:test/other: Pod/web: not found in namespace "other"')
    assert api.paths() == ["/api/v1/namespaces/other/pods/web"]


def test_context_without_namespace_means_default(api, tmp_path):
    path = api.kubeconfig(tmp_path / "kc", namespace=None)
    assert fetch_error("pod/web", str(path)) == 'cluster:test/default: Pod/web: not found in namespace "default"'


def test_kubeconfig_env_list_and_explicit_context(api, tmp_path, monkeypatch):
    other = write_kubeconfig(tmp_path / "other", "http://127.0.0.1:1", context="elsewhere")
    mine = api.kubeconfig(tmp_path / "mine", context="kind-dev")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "absent"), str(other), str(mine)]))
    inputs = load_from_cluster("pod/web", context="kind-dev", namespace=None, kubeconfig=None)
    assert inputs.workloads[0].file == "cluster:kind-dev/dev"
    assert api.paths()[0] == "/api/v1/namespaces/dev/pods/web"


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the in-cluster loader only speaks https)."""
    if not shutil.which("openssl"):
        precondition_missing("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"), "-out",
                    str(d / "cert.pem")], check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


def test_in_cluster_config(tls_cert, tmp_path, monkeypatch):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token-123")
    (sa / "namespace").write_text("dev")
    shutil.copy(tls_cert[0], sa / "ca.crt")
    monkeypatch.setattr(cluster, "IN_CLUSTER_DIR", str(sa))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    with FakeAPI(tls=tls_cert) as fake:
        for obj in ALL + (K.pod(),):
            fake.add(obj)
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(fake.port))
        inputs = load_from_cluster("pod/web", context=None, namespace=None, kubeconfig=None)
        assert inputs.workloads[0].file == "cluster:in-cluster/dev"
        assert {r.authorization for r in fake.requests} == {"bearer sa-token-123"}
        assert len(fake.requests) == 8
        with pytest.raises(ParityError) as exc:
            load_from_cluster("pod/web", context="prod", namespace=None, kubeconfig=None)
        assert one_error(exc) == ("--context prod: running in a pod without a kubeconfig; only the in-cluster service "
                                  "account is available")


def test_untrusted_certificate_is_a_tls_error(tls_cert, tmp_path):
    with FakeAPI(tls=tls_cert) as fake:
        path = fake.kubeconfig(tmp_path / "kc")  # no certificate-authority: the system CAs do not know it
        assert fetch_error("pod/web", str(path)).startswith(
            f"cluster:test/dev: cannot reach the API server at {fake.url}: TLS: certificate verify failed")
        trusted = fake.kubeconfig(tmp_path / "kc2", ca_file=tls_cert[0])
        fake.add(K.pod(env=False, volumes=[], mounts=[]))
        assert fetch("pod/web", str(trusted)).workloads[0].name == "web"


# ---------------------------------------------------------------------------------------------
# Hygiene: nothing on disk, nothing in logs, no import cost


def test_no_secret_value_in_logs_or_on_disk(api, kubeconfig, tmp_path, monkeypatch, caplog):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.chdir(scratch)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    caplog.set_level(logging.DEBUG)
    api.deny("Secret", "dev", "tls-bundle")
    with pytest.raises(ParityError) as exc:
        fetch("pod/web", kubeconfig)
    api.objects.pop("/api/v1/namespaces/dev/secrets/tls-bundle")
    inputs = fetch("pod/web", kubeconfig)
    text = caplog.text + str(exc.value) + "".join(inputs.warnings)
    for value in K.SECRET_VALUES:
        assert value.decode() not in text
        assert K.b64(value) not in text
    assert os.listdir(scratch) == []


def test_importing_the_cli_does_not_load_kubernetes():
    code = ("import sys, parity.cli, parity.kube.cluster, parity.kube.observe; "
            "print(sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []
