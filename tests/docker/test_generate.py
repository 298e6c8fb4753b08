"""k8s-to-docker's files, statically: structure, permissions, secret hygiene, atomic writing."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import tarfile

import pytest
import yaml

from ..conftest import ROOT, run_parity, write
from ..kube.test_services import KUBERNETES_VARS

#: What the kubelet adds to every container (kube/services.py), in compose.yaml's environment.
KUBERNETES_ENV = dict(KUBERNETES_VARS)

ARTICLE = str(ROOT / "manifests" / "api-gateway")
RICHER = str(ROOT / "manifests" / "richer")
ARTICLE_SECRETS = [b"tenant1-api-key-3f9a1c", b"tenant2-api-key-7b2e4d", b"tenant3-api-key-c81f0a"]

ENV_POD = """
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: "s3cr3t-$HOME-value", user: admin, "2nd": "y"}  # (plain y is a boolean to kubectl)
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {LEVEL: debug, "1st": x}
---
apiVersion: v1
kind: Pod
metadata: {name: envy}
spec:
  containers:
  - name: app
    image: busybox:latest
    command: ["sh", "-c", "echo $(GREETING) $(TOKEN)"]
    env:
    - {name: GREETING, value: "hello $(USER_NAME)"}
    - {name: PRICE, value: "5$"}
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
    - {name: URL, value: "https://$(TOKEN)@example"}
    envFrom:
    - {prefix: CFG_, configMapRef: {name: cfg}}
    - {secretRef: {name: creds}}
"""


def gen(tmp_path, *args):
    return run_parity("k8s-to-docker", *args, "-o", str(tmp_path / "out"))


def test_article_compose_file(tmp_path):
    assert gen(tmp_path, ARTICLE).returncode == 0
    doc = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())
    assert "version" not in doc
    assert list(doc["services"]) == ["parity-data", "pod_sandbox", "api-gateway"]
    app = doc["services"]["api-gateway"]
    # The pod's secret volume, and the service-account volume the API server adds (kubelet-model §7.5).
    secrets, sa = doc["volumes"]
    assert (secrets, re.fullmatch(r"kube-api-access-[a-z0-9]{5}", sa) is not None) == ("secrets", True)
    assert doc["volumes"][secrets]["name"].startswith("parity-pod-api-gateway.secrets_")
    assert doc["volumes"][sa]["name"].startswith(f"parity-pod-api-gateway.{sa}_")
    assert app["volumes"] == [{"type": "volume", "source": "secrets", "target": "/etc/secrets", "read_only": True,
                               "volume": {"nocopy": True}},
                              {"type": "volume", "source": sa, "target": "/var/run/secrets/kubernetes.io/serviceaccount",
                               "read_only": True, "volume": {"nocopy": True}},
                              {"type": "bind", "source": "./termination/api-gateway", "target": "/dev/termination-log",
                               "read_only": False}]
    assert "volumes_from" not in app  # Compose drops ':ro' from volumes_from
    assert app["depends_on"] == {"parity-data": {"condition": "service_completed_successfully"},
                                 "pod_sandbox": {"condition": "service_started"}}
    assert app["entrypoint"] == ["sh", "-c", "while true; do sleep $$3600; done".replace("$$", "")]
    assert app["network_mode"] == "service:pod_sandbox"
    assert doc["services"]["pod_sandbox"]["expose"] == ["80/tcp"]  # Docker takes ports on the namespace's owner
    assert app["labels"] == {"io.parity.workload": "Pod/api-gateway", "io.parity.namespace": "default",
                             "io.parity.container": "api-gateway", "io.parity.project": "parity-pod-api-gateway"}
    data = doc["services"]["parity-data"]
    assert data["build"] == {"context": "./data"}
    assert data["volumes"] == [{"type": "volume", "source": "secrets", "target": "/parity/volumes/secrets"},
                               {"type": "volume", "source": sa, "target": f"/parity/volumes/{sa}"}]


def test_output_permissions_and_no_secret_outside_owner_only_parts(tmp_path):
    result = gen(tmp_path, ARTICLE)
    out = tmp_path / "out"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "data" / "payload.tar").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "data" / "Dockerfile").stat().st_mode) == 0o600
    for name in ("compose.yaml", "docker.sh", "README.md", "data/Dockerfile"):
        text = (out / name).read_bytes()
        assert not any(s in text for s in ARTICLE_SECRETS), name
    assert not any(s in result.stdout + result.stderr for s in ARTICLE_SECRETS)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directory left behind


def test_payload_tar_is_exact_and_deterministic(tmp_path):
    gen(tmp_path, RICHER)
    first = (tmp_path / "out" / "data" / "payload.tar").read_bytes()
    assert run_parity("k8s-to-docker", RICHER, "-o", str(tmp_path / "again")).returncode == 0
    assert (tmp_path / "again" / "data" / "payload.tar").read_bytes() == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert [n for n in members][:3] == ["parity", "parity/volumes", "parity/volumes/config"]
    root = members["parity/volumes/credentials"]
    assert (oct(root.mode), root.uid, root.gid, root.uname) == ("0o3777", 0, 2000, "")
    (ts,) = [n for n in members if n.startswith("parity/volumes/credentials/..1970") and n.count("/") == 3]
    key = members[f"{ts}/api/key"]
    assert (oct(key.mode), key.uid, key.gid, key.size) == ("0o440", 0, 2000, 18)
    link = members["parity/volumes/credentials/api"]
    assert (link.issym(), link.linkname) == (True, "..data/api")
    assert {m.mtime for m in members.values()} == {0}


def test_dockerfile_is_legacy_builder_friendly(tmp_path):
    gen(tmp_path, ARTICLE)
    text = (tmp_path / "out" / "data" / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "FROM busybox:latest"
    assert lines[1] == "ADD payload.tar /"
    assert lines[-1] == 'CMD ["true"]'
    assert "--chmod" not in text and "COPY" not in text
    assert 'io.parity.workload="Pod/api-gateway"' in text and "tenant1-api-key" not in text


def test_env_values_from_objects_go_to_an_owner_only_env_file(tmp_path):
    src = write(tmp_path, ENV_POD)
    result = gen(tmp_path, str(src))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    app = yaml.safe_load((out / "compose.yaml").read_text())["services"]["app"]
    # Literal values inline, with '$' escaped for Compose; nothing from a Secret inline.
    assert app["environment"] == {"GREETING": "hello $$(USER_NAME)", "PRICE": "5$$", **KUBERNETES_ENV}
    assert app["env_file"] == [{"path": "./env/app.env"}]
    env_file = out / "env" / "app.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # Compose's dotenv format, single-quoted: '$' is literal there (tests/docker/test_env_bytes.py).
    assert env_file.read_text() == ("CFG_LEVEL='debug'\nCFG_1st='x'\ntoken='s3cr3t-$HOME-value'\nuser='admin'\n"
                                    "TOKEN='s3cr3t-$HOME-value'\nURL='https://s3cr3t-$HOME-value@example'\n")
    # docker run --env-file reads lines literally: no quotes.
    assert (out / "env" / "app.docker.env").read_text() == (
        "CFG_LEVEL=debug\nCFG_1st=x\ntoken=s3cr3t-$HOME-value\nuser=admin\n"
        "TOKEN=s3cr3t-$HOME-value\nURL=https://s3cr3t-$HOME-value@example\n")
    # $(TOKEN) in the command is not expanded: that would write a secret into compose.yaml.
    assert app["entrypoint"] == ["sh", "-c", "echo hello $$(USER_NAME) $$(TOKEN)"]
    assert b"s3cr3t" not in (out / "compose.yaml").read_bytes() + (out / "docker.sh").read_bytes()
    summary = json.loads(run_parity("k8s-to-docker", str(src), "-o", str(tmp_path / "j"), "--format",
                                    "json").stdout)
    assert "app: envFrom key '2nd' skipped: not a valid variable name" in summary["differences"]


def test_refuses_non_empty_directory_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("user data")
    result = gen(tmp_path, ARTICLE)
    assert result.returncode == 2
    assert result.stderr.decode() == f"parity: {out}: exists and is not empty; use --force to replace it\n"
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    (out / "mine.txt").unlink()  # (empty: written into as it is)
    assert gen(tmp_path, ARTICLE).returncode == 0
    assert gen(tmp_path, ARTICLE, "--force").returncode == 0  # parity's own output: replaced
    assert sorted(p.name for p in out.iterdir()) == [".gitignore", ".parity-output", "README.md", "compose.yaml",
                                                     "data", "docker.sh", "env", "subpath", "termination"]
    assert (out / ".gitignore").read_text() == "*\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_force_never_replaces_a_directory_parity_did_not_write(tmp_path):
    """``--force`` replaces only a directory holding parity's marker: ``-o ~ --force`` (or any
    directory of the user's) is refused, one line, and left as it was."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("user data")
    result = gen(tmp_path, ARTICLE, "--force")
    assert (result.returncode, result.stderr.decode()) == (2, (
        f"parity: {out}: exists, is not empty and was not written by parity (no .parity-output in it); "
        "refusing to replace it, even with --force\n"))
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_force_never_writes_over_an_input(tmp_path):
    """``k8s-to-docker DIR -o DIR --force`` (or -o a parent of an input) is refused before anything is
    written: the manifests stay."""
    src = tmp_path / "manifests"
    src.mkdir()
    (src / "pod.yaml").write_text((ROOT / "manifests" / "api-gateway" / "pod.yaml").read_text())
    (src / "secret.yaml").write_text((ROOT / "manifests" / "api-gateway" / "secret.yaml").read_text())
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    for output in (src, tmp_path):
        result = run_parity("k8s-to-docker", str(src), "-o", str(output), "--force")
        assert (result.returncode, result.stderr.decode()) == (2, (
            f"parity: {output}: holds the input {src}: parity never writes over its inputs; choose another -o\n"))
        assert {p.name: p.read_bytes() for p in src.iterdir()} == before
    secrets_dir = tmp_path / "creds"
    secrets_dir.mkdir()
    result = run_parity("k8s-to-docker", str(src), "--secrets", f"creds={secrets_dir}", "-o", str(secrets_dir),
                        "--force")
    assert result.returncode == 2 and "holds the input" in result.stderr.decode()


def test_an_output_inside_an_input_directory_is_never_read_back(tmp_path):
    """``k8s-to-docker DIR`` twice, with the default output (``DIR/parity-out/NAME`` when run in DIR):
    the second run reads the manifests only, not the first run's files; the same holds for -o DIR/out.
    Given explicitly, an output directory is read without what parity wrote in it (a repository
    generated with -o REPO keeps its manifests beside the setup)."""
    src = tmp_path / "manifests"
    src.mkdir()
    for name in ("pod.yaml", "secret.yaml"):
        (src / name).write_text((ROOT / "manifests" / "api-gateway" / name).read_text())
    first = run_parity("k8s-to-docker", ".", cwd=src)
    assert first.returncode == 0, first.stderr
    (src / "parity-out" / "api-gateway" / "extra.yaml").write_text("kind: Pod\nmetadata: {name: Bad_Name}\n")
    second = run_parity("k8s-to-docker", ".", "--force", cwd=src)
    # (never read, and never silently: a manifest parity did not write is in its output)
    assert (second.returncode, second.stderr.decode()) == (0, "parity: warning: ./parity-out/api-gateway: skipped: "
                                                              "parity's own output (it holds .parity-output); give its "
                                                              "files directly to read them\n")
    inner = run_parity("k8s-to-docker", str(src), "-o", str(src / "out"))
    assert (inner.returncode, inner.stderr) == (0, b"")
    again = run_parity("layout", str(src))
    assert again.returncode == 0 and again.stdout.count(b"container api-gateway") == 1, again.stdout
    direct = run_parity("layout", str(src / "out"))
    assert (direct.returncode, direct.stderr.decode()) == (2, (
        f"parity: {src / 'out'}: directory holds no *.yaml, *.yml or *.json file\n"))
    (src / "out" / "k8s").mkdir()
    for name in ("pod.yaml", "secret.yaml"):
        (src / "out" / "k8s" / name).write_text((src / name).read_text())
    beside = run_parity("layout", str(src / "out"))
    assert beside.returncode == 0 and beside.stdout.count(b"container api-gateway") == 1, beside.stderr


def test_refuses_to_overwrite_a_file(tmp_path):
    target = tmp_path / "out"
    target.write_text("precious")
    result = gen(tmp_path, ARTICLE, "--force")
    assert result.returncode == 2
    assert "exists and is not a directory; refusing to overwrite it" in result.stderr.decode()
    assert target.read_text() == "precious"


def test_bad_input_writes_nothing(tmp_path):
    src = write(tmp_path, (ROOT / "manifests/api-gateway/pod.yaml").read_text())  # no Secret
    result = run_parity("k8s-to-docker", str(src), "-o", str(tmp_path / "deep" / "out"))
    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1
    assert 'secret "api-gateway-secrets" not found' in result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.yaml"]


def test_json_summary(tmp_path):
    result = run_parity("k8s-to-docker", RICHER, "-o", str(tmp_path / "out"), "--format", "json")
    summary = json.loads(result.stdout)
    assert summary["format"] == "parity.k8s-to-docker/v1"
    assert summary["workload"] == {"kind": "Deployment", "name": "tenant-gateway", "namespace": "default"}
    assert summary["services"] == ["check-config", "gateway", "log-shipper"]
    assert sorted(summary["volumes"]) == ["config", "credentials", "kube-api-access-gfg58", "podinfo"]
    assert summary["files"][:2] == ["compose.yaml", "docker.sh"]
    assert "subpath/gateway/3-.netrc" in summary["files"]


def test_flat_drops_the_kubelet_structure(tmp_path):
    gen(tmp_path, ARTICLE, "--flat")
    with tarfile.open(tmp_path / "out" / "data" / "payload.tar") as tar:
        names = {m.name: m for m in tar.getmembers()}
    (sa,) = [n for n in names if re.fullmatch(r"parity/volumes/kube-api-access-[a-z0-9]{5}", n)]
    assert sorted(names) == ["parity", "parity/volumes", sa, f"{sa}/ca.crt", f"{sa}/namespace", f"{sa}/token",
                             "parity/volumes/secrets", "parity/volumes/secrets/tenant1",
                             "parity/volumes/secrets/tenant2", "parity/volumes/secrets/tenant3"]
    assert names["parity/volumes/secrets/tenant1"].isfile()


def test_subpath_file_is_materialised_with_its_mode_and_owner(tmp_path):
    gen(tmp_path, RICHER)
    path = tmp_path / "out" / "subpath" / "gateway" / "3-.netrc"
    st = os.lstat(path)
    assert stat.S_IMODE(st.st_mode) == 0o440
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (0, 2000)
    assert stat.S_IMODE((tmp_path / "out" / "subpath").stat().st_mode) == 0o700


TEMPLATE_SPEC_FIELDS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: robot-app}
spec:
  # (A decoy `serviceAccountName` on the Deployment's own spec is refused as an unknown field now:
  # kubectl's strict validation; the template's value is what the env var must show.)
  selector: {matchLabels: {app: r}}
  template:
    metadata: {labels: {app: r}}
    spec:
      serviceAccountName: robot
      restartPolicy: Always
      containers:
      - name: app
        image: busybox:latest
        env:
        - name: SA
          valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      containers:
      - {name: run, image: busybox:latest, env: [{name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: retry}
spec:
  restartPolicy: OnFailure
  serviceAccountName: pod-robot
  containers:
  - {name: app, image: busybox:latest, env: [{name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]}
"""


def test_service_account_and_restart_policy_come_from_the_pod_spec(tmp_path):
    """A template's pod spec, not the workload's own spec (a Deployment's ``spec`` is not the pod's)."""
    src = write(tmp_path, TEMPLATE_SPEC_FIELDS)
    got = {}
    for ref in ("deploy/robot-app", "job/once", "pod/retry"):
        out = tmp_path / ref.replace("/", "-")
        result = run_parity("k8s-to-docker", str(src), "--workload", ref, "-o", str(out))
        assert result.returncode == 0, result.stderr
        services = yaml.safe_load((out / "compose.yaml").read_text())["services"]
        (svc,) = [s for name, s in services.items() if name not in ("parity-data", "pod_sandbox")]
        got[ref] = (svc["environment"], svc["restart"])
    assert got == {"deploy/robot-app": ({"SA": "robot", **KUBERNETES_ENV}, "unless-stopped"),
                   "job/once": ({"SA": "default", **KUBERNETES_ENV}, "no"),
                   "pod/retry": ({"SA": "pod-robot", **KUBERNETES_ENV}, "on-failure")}


def test_unreproduced_volumes_are_said_in_the_output_and_the_readme(tmp_path):
    # Before: a volumeClaimTemplates mount failed the whole input, and emptyDir/hostPath mounts
    # vanished from the generated setup while the README said "none beyond the list above". Now those
    # are reproduced (their notes say how they differ); a type parity cannot reproduce is said.
    from ..kube.test_manifests_read import statefulset_sharing

    path = write(tmp_path, statefulset_sharing("csi: {driver: x.example}"))
    result = gen(tmp_path, str(path))
    assert result.returncode == 0, result.stderr
    notes = ['db: csi volume "share" is not reproduced by parity (it needs the cluster\'s storage: parity reproduces '
             'emptyDir, persistentVolumeClaim, hostPath and ephemeral volumes as Docker volumes or binds): nothing is '
             'mounted at /share here',
             'hostPath volume "host" binds /var/log of the Docker host (not a cluster node\'s): it reaches into the host']
    assert [line.strip() for line in result.stdout.decode().splitlines() if 'volume "' in line] == \
        [f"note: {n}" for n in notes]
    readme = (tmp_path / "out" / "README.md").read_text()
    assert [line for line in readme.splitlines() if 'volume "' in line] == [f"- {n}" for n in notes]
    assert "none beyond the list above" not in readme
    warnings = [line for line in result.stderr.decode().splitlines() if line.startswith("parity: warning:")]
    assert len(warnings) == 1 and all("is not reproduced by parity" in w for w in warnings)


NATIVE_SIDECAR = """
apiVersion: v1
kind: Pod
metadata: {name: meshed}
spec:
  restartPolicy: Never
  initContainers:
  - {name: setup, image: busybox:latest, command: ["true"]}
  - {name: proxy, image: busybox:latest, command: ["sleep", "3600"], restartPolicy: Always}
  - {name: migrate, image: busybox:latest, command: ["true"]}
  containers:
  - {name: app, image: busybox:latest, command: ["sleep", "3600"]}
"""


def test_a_native_sidecar_keeps_running_and_the_next_containers_wait_for_its_start(tmp_path):
    """An init container with ``restartPolicy: Always`` (linkerd's proxy, KEP-753) is a sidecar: the
    kubelet starts the next container once it has started, keeps it running and restarts it, whatever
    the pod's restartPolicy. Waiting for it to complete would never start the app."""
    assert gen(tmp_path, str(write(tmp_path, NATIVE_SIDECAR))).returncode == 0
    services = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())["services"]
    done, started = {"condition": "service_completed_successfully"}, {"condition": "service_started"}
    data = {"parity-data": done}  # every container mounts the service-account volume (kubelet-model §7.5)
    pod = {"pod_sandbox": started}  # every container joins the pod's sandbox once it has started
    assert {name: (s["restart"], s.get("depends_on")) for name, s in services.items()} == {
        "parity-data": ("no", None),
        "pod_sandbox": ("unless-stopped", None),
        "setup": ("no", {**data, **pod}),
        "proxy": ("unless-stopped", {**data, **pod, "setup": done}),
        "migrate": ("no", {**data, **pod, "proxy": started}),
        "app": ("no", {**data, **pod, "migrate": done}),
    }
    script = (tmp_path / "out" / "docker.sh").read_text()
    runs = {line.split("--name ")[1].split()[0].rsplit(".", 1)[1]: line for line in script.splitlines()
            if line.startswith("docker run ")}
    assert runs["proxy"].startswith("docker run -d ") and "--restart unless-stopped" in runs["proxy"]
    assert runs["setup"].startswith("docker run --rm ") and runs["migrate"].startswith("docker run --rm ")
    readme = (tmp_path / "out" / "README.md").read_text()
    sa = "`/var/run/secrets/kubernetes.io/serviceaccount`"
    assert "- `proxy` (sidecar: an init container that keeps running; the next containers start once it has " \
           f"started): {sa}" in readme
    assert f"- `setup` (init container, runs to completion first): {sa}" in readme


def test_env_field_refs_read_the_kubelets_annotations(tmp_path):
    # The kubelet resolves fieldRefs on its own copy of the pod: kubernetes.io/config.source is "api".
    src = write(tmp_path, """
apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {team: ledger}}
spec:
  containers:
  - name: app
    image: busybox:latest
    env:
    - {name: SOURCE, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['kubernetes.io/config.source']"}}}
    - {name: SEEN, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['kubernetes.io/config.seen']"}}}
    - {name: TEAM, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['team']"}}}
""")
    result = gen(tmp_path, str(src))
    assert result.returncode == 0, result.stderr
    app = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())["services"]["app"]
    assert app["environment"] == {"SOURCE": "api", "SEEN": "1970-01-01T00:00:00.000000000Z", "TEAM": "ledger",
                                  **KUBERNETES_ENV}
    # The same reason a downward API volume's file gives (one implementation: kube/fieldref.py).
    assert ("note: app: SEEN: fieldRef metadata.annotations['kubernetes.io/config.seen']: the kubelet stamps "
            "kubernetes.io/config.seen with the time it first saw the pod") in result.stdout.decode()


SERVICE_ENV_APP = """apiVersion: v1
kind: Service
metadata: {name: redis-cart, namespace: shop}
spec: {selector: {app: redis}, ports: [{name: redis, port: 6379, targetPort: 6380}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: elsewhere}
spec: {selector: {app: redis}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: cart, namespace: shop}
spec:
  enableServiceLinks: LINKS
  containers:
  - name: app
    image: busybox:latest
    command: [sh, -c, "echo $(REDIS_CART_SERVICE_PORT)"]
    env:
    - {name: ADDR, value: "$(REDIS_CART_SERVICE_HOST):$(REDIS_CART_SERVICE_PORT)"}
    - {name: REDIS_CART_PORT, value: mine}
"""


def test_the_kubelets_service_variables_reach_compose_and_expand_in_values_and_commands(tmp_path):
    # kubelet makeEnvironmentVariables: $(VAR) may name a service variable; a variable the container sets
    # itself wins over the kubelet's; the Service of another namespace gives nothing.
    src = write(tmp_path, SERVICE_ENV_APP.replace("LINKS", "true"))
    result = gen(tmp_path, str(src))
    assert result.returncode == 0, result.stderr
    app = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())["services"]["app"]
    host = "redis-cart.shop.svc.cluster.local"
    assert app["environment"] == {
        "ADDR": f"{host}:6379", "REDIS_CART_PORT": "mine", **KUBERNETES_ENV,
        "REDIS_CART_SERVICE_HOST": host, "REDIS_CART_SERVICE_PORT": "6379", "REDIS_CART_SERVICE_PORT_REDIS": "6379",
        "REDIS_CART_PORT_6379_TCP": f"tcp://{host}:6379", "REDIS_CART_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_CART_PORT_6379_TCP_PORT": "6379", "REDIS_CART_PORT_6379_TCP_ADDR": host}
    assert app["entrypoint"] == ["sh", "-c", "echo 6379"]


def test_enable_service_links_false_leaves_only_the_kubernetes_variables(tmp_path):
    src = write(tmp_path, SERVICE_ENV_APP.replace("LINKS", "false"))
    result = gen(tmp_path, str(src))
    assert result.returncode == 0, result.stderr
    app = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())["services"]["app"]
    assert app["environment"] == {"ADDR": "$$(REDIS_CART_SERVICE_HOST):$$(REDIS_CART_SERVICE_PORT)",
                                  "REDIS_CART_PORT": "mine", **KUBERNETES_ENV}


def test_a_host_port_of_0_publishes_nothing(tmp_path):
    """hostPort 0 is the API's zero value, not set (AccumulateUniqueHostPorts skips it): the port is
    exposed, nothing is published (parity wrote ``-p 0:9090/tcp``: a random port of the host)."""
    src = tmp_path / "pod.yaml"
    src.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                   "  - {name: app, image: busybox:latest, ports: [{containerPort: 9090, hostPort: 0}, "
                   "{containerPort: 53, hostPort: 5353, protocol: UDP}]}\n")
    assert gen(tmp_path, str(src)).returncode == 0
    pod = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())["services"]["pod_sandbox"]
    assert (pod["expose"], pod["ports"]) == (["9090/tcp", "53/udp"], ["5353:53/udp"])  # on the pod's sandbox
    script = (tmp_path / "out" / "docker.sh").read_text()
    assert "-p 5353:53/udp" in script and "-p 0:" not in script
SECURE_POD = """
apiVersion: v1
kind: Pod
metadata: {name: hardened, namespace: team, uid: 0b5e-uid}
spec:
  securityContext:
    runAsNonRoot: true
    sysctls:
    - {name: net.ipv4.ip_unprivileged_port_start, value: "80"}
    - {name: kernel.shm_rmid_forced, value: "1"}
  containers:
  - name: app
    image: busybox:latest
    securityContext:
      runAsUser: 1000
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, net_raw]}
    resources:
      limits: {memory: 64Mi, cpu: 250m, ephemeral-storage: 1Gi}
      requests: {memory: 32Mi, cpu: 1m}
  - name: tools
    image: busybox:latest
    securityContext: {privileged: true}
    resources: {limits: {cpu: "1.0005", memory: 1e8}}
"""


def test_security_context_and_limits_reach_compose_and_docker_sh(tmp_path):
    """Capabilities (Kubernetes names are Docker's, upper-cased as both runtimes do), no_new_privs
    from ``allowPrivilegeEscalation: false``, privileged, the pod's namespaced sysctls and the
    kubelet's exact limits (memory bytes rounded up; CPU in millicores rounded up: 1.0005 -> 1.001)."""
    result = gen(tmp_path, str(write(tmp_path, SECURE_POD)), "--format", "json")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    services = yaml.safe_load((out / "compose.yaml").read_text())["services"]
    keys = ("cap_add", "cap_drop", "privileged", "security_opt", "sysctls", "mem_limit", "cpu_quota", "cpu_period")
    sysctls = {"kernel.shm_rmid_forced": "1"}  # the network one is the sandbox's (Docker writes it at each start)
    assert services["pod_sandbox"]["sysctls"] == {"net.ipv4.ip_unprivileged_port_start": "80"}
    assert {k: services["app"].get(k) for k in keys} == {
        "cap_add": ["NET_BIND_SERVICE", "NET_RAW"], "cap_drop": ["ALL"], "privileged": None,
        "security_opt": ["no-new-privileges:true"], "sysctls": sysctls, "mem_limit": 64 * 2 ** 20,
        "cpu_quota": 25000, "cpu_period": 100000}
    assert {k: services["tools"].get(k) for k in keys} == {
        "cap_add": None, "cap_drop": None, "privileged": True, "security_opt": None, "sysctls": sysctls,
        "mem_limit": 10 ** 8, "cpu_quota": 100100, "cpu_period": 100000}
    script = (out / "docker.sh").read_text()
    runs = {line.split("--name ")[1].split()[0].rsplit(".", 1)[1]: line for line in script.splitlines()
            if line.startswith("docker run ")}
    assert ("--cap-add NET_BIND_SERVICE --cap-add NET_RAW --cap-drop ALL --security-opt no-new-privileges:true "
            "--sysctl kernel.shm_rmid_forced=1 --memory 67108864 --cpus 0.25 ") in runs["app"]
    assert "--privileged --sysctl kernel.shm_rmid_forced=1 --memory 100000000 --cpus 1.001 " in runs["tools"]
    assert " --sysctl net.ipv4.ip_unprivileged_port_start=80 --restart unless-stopped " in runs["pod_sandbox"]
    differences = json.loads(result.stdout)["differences"]
    for line in ("app: resources.requests (cpu, memory) are not enforced locally: Docker has no scheduler and no "
                 "reservation",
                 "app: resources.limits ephemeral-storage not reproduced (Docker applies memory and cpu limits only)",
                 "tools: privileged: the container gets every device and capability of this machine (Docker "
                 "--privileged), as it gets the node's in the cluster: it reaches the host",
                 "tools: runAsNonRoot: parity up checks the image's USER as the kubelet does; compose.yaml and "
                 "docker.sh start the container whatever user the image names"):
        assert line in differences
    assert not any(d.startswith("app: runAsNonRoot") for d in differences)  # runAsUser 1000 settles it
    readme = (out / "README.md").read_text()
    assert "- tools: privileged: the container gets every device" in readme


def test_compose_cpu_limit_is_the_kubelets_exact_quota_not_a_float32(tmp_path):
    """Compose reads ``cpus`` as a float32 (compose-go ``ServiceConfig.CPUS``): ``1.999`` gave NanoCPUs
    1998999936, a CFS quota of 199899 µs where the kubelet sets 199900. The generated file says the
    quota and period themselves, as Compose's own parser reads them (live: cgroup cpu.max in
    tests/live/test_security_live.py)."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: cpu}\nspec:\n  containers:\n  - name: app\n"
           "    image: busybox:latest\n    resources: {limits: {cpu: 1999m}}\n")
    assert gen(tmp_path, str(write(tmp_path, pod))).returncode == 0
    proc = subprocess.run(["docker", "compose", "-f", str(tmp_path / "out" / "compose.yaml"), "config", "--format",
                           "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    app = json.loads(proc.stdout)["services"]["app"]
    assert (app.get("cpu_quota"), app.get("cpu_period"), app.get("cpus")) == (199900, 100000, None)


def test_a_tiny_cpu_limit_is_the_kubelets_minimum_quota_and_a_tiny_memory_limit_is_said(tmp_path):
    """The kubelet's smallest CFS quota is 1000 us a 100 ms period (10m, also Docker's --cpus minimum);
    Docker refuses memory limits below 6 MiB, so such a limit is said rather than failing every start."""
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: tiny}\nspec:\n  containers:\n  - name: app\n"
           "    image: busybox:latest\n    resources: {limits: {cpu: 1m, memory: 4Mi}}\n")
    result = gen(tmp_path, str(write(tmp_path, pod)), "--format", "json")
    assert result.returncode == 0, result.stderr
    app = yaml.safe_load((tmp_path / "out" / "compose.yaml").read_text())["services"]["app"]
    assert (app["cpu_quota"], app["cpu_period"]) == (1000, 100000) and "mem_limit" not in app
    assert "app: memory limit 4Mi is not applied: Docker refuses limits below 6 MiB" in \
        json.loads(result.stdout)["differences"]


def test_run_as_non_root_with_run_as_user_0_is_the_kubelets_config_error(tmp_path):
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: rooty, uid: 5f0c2a4e-0000-4000-8000-000000000001}\nspec:\n"
           "  securityContext: {runAsNonRoot: true}\n"
           "  containers:\n  - name: app\n    image: busybox:latest\n    securityContext: {runAsUser: 0}\n")
    result = gen(tmp_path, str(write(tmp_path, pod)), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert ("app: CreateContainerConfigError in the cluster: container's runAsUser breaks non-root policy "
            "(pod: \"rooty_default(5f0c2a4e-0000-4000-8000-000000000001)\", container: app); parity up refuses to "
            "start it, compose.yaml and docker.sh do not check it") in json.loads(result.stdout)["differences"]


def test_the_kubelets_message_names_a_pod_without_a_written_uid_by_the_uid_its_downward_api_shows(tmp_path):
    """The kubelet names a pod ``NAME_NAMESPACE(UID)`` (format.Pod), and the API server gives every pod a
    UID; a manifest rarely writes one. The runAsNonRoot refusal said ``rooty_default()``, an empty UID the
    kubelet never shows (closing note 6). It names the UID parity gives the pod, the one its downward
    API's metadata.uid file holds (``fieldref.pod_uid``): one value for both."""
    pod = """
apiVersion: v1
kind: Pod
metadata: {name: rooty}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - name: app
    image: busybox:latest
    securityContext: {runAsUser: 0}
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI: {items: [{path: uid, fieldRef: {fieldPath: metadata.uid}}]}
"""
    result = gen(tmp_path, str(write(tmp_path, pod)), "--format", "json")
    assert result.returncode == 0, result.stderr
    with tarfile.open(tmp_path / "out" / "data" / "payload.tar") as tar:
        (uid,) = [tar.extractfile(m).read().decode() for m in tar.getmembers()
                  if m.isfile() and m.name.startswith("parity/volumes/info/..") and m.name.endswith("/uid")]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)
    assert ("app: CreateContainerConfigError in the cluster: container's runAsUser breaks non-root policy "
            f"(pod: \"rooty_default({uid})\", container: app); parity up refuses to start it, compose.yaml and "
            "docker.sh do not check it") in json.loads(result.stdout)["differences"]


def test_each_container_gets_a_termination_message_file_bound_read_write_at_its_path(tmp_path):
    """kuberuntime_container.go makeMounts: each container (init included) gets an empty file, chmod
    0666, bound read-write at its terminationMessagePath. The output holds one per service under
    termination/ (0666 0:0: parity runs as root here), compose.yaml and docker.sh bind it, and the
    note says where it is and how it differs, once per pod, naming each path."""
    src = write(tmp_path, """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers: [{name: setup, image: busybox:latest, terminationMessagePath: /tmp/why}]
  containers: [{name: app, image: busybox:latest}]
""")
    result = gen(tmp_path, str(src))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    for service in ("setup", "app"):
        st = (out / "termination" / service).lstat()
        assert (stat.S_ISREG(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size) == (
            True, 0o666, 0, 0, 0)
    doc = yaml.safe_load((out / "compose.yaml").read_text())
    assert [v for v in doc["services"]["setup"]["volumes"] if v["type"] == "bind"] == [
        {"type": "bind", "source": "./termination/setup", "target": "/tmp/why", "read_only": False}]
    assert [v for v in doc["services"]["app"]["volumes"] if v["type"] == "bind"] == [
        {"type": "bind", "source": "./termination/app", "target": "/dev/termination-log", "read_only": False}]
    script = (out / "docker.sh").read_text()
    assert script.count('--mount \'type=bind,"src=\'"$(pwd_csv)"\'/termination/setup",dst=/tmp/why\' ') == 1
    assert script.count('--mount \'type=bind,"src=\'"$(pwd_csv)"\'/termination/app",dst=/dev/termination-log\' ') == 1
    notes = [f"{service}: terminationMessagePath {path} is an empty writable file (0666 0:0, as the kubelet makes "
             "it) bound from termination/SERVICE of the setup; Docker does not read it into the container's status "
             "(read it there), and it keeps what was written across restarts until the setup is written again (the "
             "kubelet gives each start a new file)" for service, path in (("setup", "/tmp/why"),
                                                                         ("app", "/dev/termination-log"))]
    assert [line.strip() for line in result.stdout.decode().splitlines() if "terminationMessagePath" in line] == [
        f"note: {note}" for note in notes]
    readme = (out / "README.md").read_text()
    assert [line for line in readme.splitlines() if "terminationMessagePath " in line] == [f"- {n}" for n in notes]
    assert not [line for line in readme.splitlines() if "termination" in line and "not reproduced" in line]


def test_a_termination_path_docker_cannot_bind_is_said_and_not_bound(tmp_path):
    """A terminationMessagePath that is also a volumeMount's path (Docker refuses two mounts at one
    path: compose, docker.sh and up failed with "Duplicate mount point" and no field), or a relative
    one (Docker mounts only at absolute paths): no termination file, no bind, a note naming it."""
    src = write(tmp_path, """
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  automountServiceAccountToken: false
  volumes: [{name: scratch, emptyDir: {}}]
  initContainers: [{name: setup, image: busybox:latest, terminationMessagePath: why}]
  containers:
  - name: app
    image: busybox:latest
    terminationMessagePath: /scratch/
    volumeMounts: [{name: scratch, mountPath: /scratch}]
""")
    result = gen(tmp_path, str(src))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert not (out / "termination").exists()
    doc = yaml.safe_load((out / "compose.yaml").read_text())
    assert [v["target"] for s in doc["services"].values() for v in s.get("volumes") or [] if v["type"] == "bind"] == []
    assert "termination/" not in (out / "docker.sh").read_text()
    assert [line.strip() for line in result.stdout.decode().splitlines() if "terminationMessagePath" in line] == [
        "note: setup: terminationMessagePath why is not reproduced: a relative path (Docker mounts only at absolute "
        "paths)",
        "note: app: terminationMessagePath /scratch/ is not reproduced: it is also a volumeMount's mountPath (Docker "
        "refuses two mounts at one path)"]


def test_the_same_note_of_several_containers_is_said_once_naming_them_all():
    """``group_notes`` (AppPlan.differences: k8s-to-docker's text and README, up's notes): a text said of
    several containers (or workloads) is one note where the first was, naming each in order, with their
    count; a text of one subject, a note of no known subject (a ``KIND/NAME`` it does not know, a note
    with no subject) and a text said twice of one subject are as they were."""
    from parity.docker.plan import group_notes

    notes = ["a_x: /t holds a placeholder: p", "Deployment/a: scale 3", "a_x: only a", "b_y: /t holds a placeholder: p",
             "KUBERNETES_SERVICE_HOST: app-wide", "Deployment/b: scale 3", "b_y: /t holds a placeholder: p",
             "Job/z: scale 3", "c_z: /t holds a placeholder: p", "c_z: scale 3"]
    assert group_notes(notes, {"a_x", "b_y", "c_z"}, {"Deployment/a", "Deployment/b"}) == [
        "a_x, b_y, c_z (3 containers): /t holds a placeholder: p",
        "Deployment/a, Deployment/b, c_z (3 of them): scale 3",
        "a_x: only a",
        "KUBERNETES_SERVICE_HOST: app-wide",
        "Job/z: scale 3"]
    assert group_notes(notes[:2] + notes[5:6], set(), {"Deployment/a", "Deployment/b"}) == [
        "a_x: /t holds a placeholder: p", "Deployment/a, Deployment/b (2 workloads): scale 3"]


@pytest.mark.parametrize("name", ["not-a-dir", "not\\ca-dir"])
def test_docker_sh_says_a_failed_host_path_type_check_in_ups_shape_before_any_docker_call(tmp_path, name):
    """docker.sh's hostPath type check fails as ``parity up``'s does: ``parity: FILE: KIND/NAME:
    spec.volumes[i].hostPath: ...`` (it printed the message alone, no file, object or field), exit 2,
    before the script makes anything (a recording ``docker`` first on PATH sees only the clean-up of
    a previous run: listings and the data image's removal). A backslash in the path is printed as it
    is (dash's ``echo`` read ``\\c`` in it as "stop here": the line is printed with ``printf``)."""
    not_a_dir = tmp_path / name
    not_a_dir.write_text("x")
    src = write(tmp_path, f"""
apiVersion: v1
kind: Pod
metadata: {{name: hostly}}
spec:
  automountServiceAccountToken: false
  containers: [{{name: app, image: busybox:latest, volumeMounts: [{{name: host, mountPath: /host}}]}}]
  volumes: [{{name: host, hostPath: {{path: {not_a_dir}, type: Directory}}}}]
""")
    assert gen(tmp_path, str(src)).returncode == 0
    bindir, log = tmp_path / "bin", tmp_path / "docker.log"
    bindir.mkdir()
    (bindir / "docker").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (bindir / "docker").chmod(0o755)
    run = subprocess.run(["sh", str(tmp_path / "out" / "docker.sh")], capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"})
    assert (run.returncode, run.stderr.splitlines()) == (2, [
        f"parity: {src}: Pod/hostly: spec.volumes[0].hostPath: hostPath type check failed: {not_a_dir} is not a "
        "directory"])
    assert [call.split()[:2] for call in log.read_text().splitlines()] == [
        ["ps", "-aq"], ["volume", "ls"], ["volume", "ls"], ["network", "ls"], ["image", "rm"]]


SAID_NOT_SILENT = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    readinessProbe: {exec: {command: ["true"]}}
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: eph, mountPath: /eph}
    - {name: host, mountPath: /host}
  volumes:
  - {name: scratch, emptyDir: {sizeLimit: 1Gi}}
  - name: eph
    ephemeral:
      volumeClaimTemplate:
        spec: {storageClassName: fast, accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Gi}}}
  - {name: host, hostPath: {path: /var/log, type: Directory}}
"""
#: What parity dropped silently before (issue 13's review): a disk emptyDir's sizeLimit, an ephemeral
#: volume's storage class and size, compose's missing hostPath type check, readiness and Service names.
SAID_VOLUMES = [
    'emptyDir volume "scratch" has sizeLimit 1Gi: not enforced here (the kubelet evicts the pod once the volume '
    "holds more; a Docker volume grows to the disk's size)",
    'ephemeral volume "eph": its claim (storage class fast, size 5Gi requested) is not made here: a local named '
    "volume, of the disk's size, removed with the pod"]
SAID = [
    'hostPath volume "host" binds /var/log of the Docker host (not a cluster node\'s): it reaches into the host, '
    "type Directory: compose does not check it (docker.sh and parity up run the kubelet's check)",
    *SAID_VOLUMES,
    "app: readinessProbe does not gate its pod's Service DNS names here: a pod that is not ready still answers at "
    "them (in the cluster it leaves the Service's endpoints until it is ready)"]


def test_what_no_setup_enforces_is_said_in_the_output_the_readme_and_the_diff(tmp_path):
    """A disk emptyDir's sizeLimit, an ephemeral volume's claim (storage class, size), a hostPath type
    compose does not check, and readiness that does not gate the Service's names: each was dropped
    without a word; now a note in k8s-to-docker's output and README, and the volume ones in diff's."""
    src = write(tmp_path, SAID_NOT_SILENT)
    result = run_parity("k8s-to-docker", str(src), "-o", str(tmp_path / "out"), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    differences = json.loads(result.stdout)["differences"]
    assert [d for d in differences if d in SAID] == SAID
    readme = (tmp_path / "out" / "README.md").read_text().splitlines()
    assert [line for line in readme if line[2:] in SAID] == [f"- {n}" for n in SAID]
    diff = run_parity("diff", str(src), "--compose", str(tmp_path / "out" / "compose.yaml"), "--format", "json")
    assert diff.returncode == 0, diff.stderr.decode()
    assert json.loads(diff.stdout)["notes"] == SAID_VOLUMES


#: The Kubernetes documentation's examples of fields no Docker setup reproduces (pods/resource/
#: pod-level-resources.yaml, pods/restart-policy/restart-all-containers.yaml), with a stop signal.
UNREPRODUCED_FIELDS = """
apiVersion: v1
kind: Pod
metadata: {name: ml-worker}
spec:
  automountServiceAccountToken: false
  os: {name: linux}
  resources: {limits: {cpu: "1", memory: 200Mi}}
  initContainers:
  - name: watcher
    image: busybox:latest
    restartPolicy: Always
    restartPolicyRules: [{action: RestartAllContainers, exitCodes: {operator: In, values: [88]}}]
  containers:
  - name: app
    image: busybox:latest
    lifecycle: {stopSignal: SIGUSR1}
"""


def test_fields_no_setup_reproduces_are_said_not_dropped(tmp_path):
    """Pod-level resources, a container's restartPolicyRules and lifecycle.stopSignal were taken and
    dropped without a word (the documentation's examples, sixth session's sweep): each is a note
    naming its field, in k8s-to-docker's output and the README; a container's field is said of its
    service, as its hooks' and probes' are (seventh session: one home, podvalidation.unreproduced_fields)."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, UNREPRODUCED_FIELDS)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if ": spec." in d]
    assert said == [
        "Pod/ml-worker: spec.resources: pod-level resources are not reproduced: Docker limits each container, never "
        "a pod's containers together",
        "watcher: spec.initContainers[0].restartPolicyRules: not reproduced: Docker restarts a container by its "
        "restart policy alone, whatever its exit code",
        "app: spec.containers[0].lifecycle.stopSignal: not reproduced: Docker stops the container with the "
        "image's STOPSIGNAL, else SIGTERM"]
    readme = (out / "README.md").read_text()
    assert all(f"- {note}" in readme for note in said)


MOUNT_PROPAGATION = """
apiVersion: v1
kind: Pod
metadata: {name: csi-node}
spec:
  automountServiceAccountToken: false
  volumes:
  - {name: pods, hostPath: {path: /var/lib/kubelet/pods}}
  - {name: plugins, hostPath: {path: /var/lib/kubelet/plugins}}
  - {name: conf, emptyDir: {}}
  containers:
  - name: driver
    image: busybox:latest
    securityContext: {privileged: true}
    volumeMounts:
    - {name: pods, mountPath: /var/lib/kubelet/pods, mountPropagation: Bidirectional}
    - {name: plugins, mountPath: /plugins, mountPropagation: HostToContainer}
    - {name: conf, mountPath: /conf, readOnly: true, recursiveReadOnly: IfPossible, mountPropagation: None}
"""


def test_mount_propagation_and_recursive_read_only_are_said_not_dropped(tmp_path):
    """secrets-store-csi-driver's and calico's node DaemonSets bind /var/lib/kubelet/pods with
    ``mountPropagation: Bidirectional``: Docker binds every mount rprivate, and nothing said so
    (corpus, seventh session). Each mount whose propagation or recursive read-only setting is not
    Docker's is a note naming its field, in k8s-to-docker's output and the README, said of the
    container's service (podvalidation.unreproduced_fields); None is Docker's."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, MOUNT_PROPAGATION)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if ": spec." in d]
    assert said == [
        "driver: spec.containers[0].volumeMounts[0].mountPropagation: Bidirectional is not reproduced: Docker "
        "binds the mount rprivate (the kubelet: rshared): what the container mounts beneath it reaches neither the "
        "host nor the pod's other containers",
        "driver: spec.containers[0].volumeMounts[1].mountPropagation: HostToContainer is not reproduced: "
        "Docker binds the mount rprivate (the kubelet: rslave): what the host mounts beneath it after the start "
        "does not appear in the container",
        "driver: spec.containers[0].volumeMounts[2].recursiveReadOnly: IfPossible is not reproduced: Docker "
        "Engine before 25 (API 1.44) makes the mount read-only, not the mounts beneath it (from 25 on, on Linux 5.12 "
        "or later, a read-only bind is recursively read-only)"]
    readme = (out / "README.md").read_text()
    assert all(f"- {note}" in readme for note in said)


HOST_PATHS = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      automountServiceAccountToken: false
      volumes:
      - {name: proc, hostPath: {path: /proc}}
      - {name: run, hostPath: {path: /run/agent, type: DirectoryOrCreate}}
      - {name: etc, hostPath: {path: /etc}}
      - {name: boot, hostPath: {path: /boot}}
      - {name: lock, hostPath: {path: /run/xtables.lock, type: FileOrCreate}}
      - {name: sock, hostPath: {path: /run/agent.d, type: DirectoryOrCreate}}
      containers:
      - name: agent
        image: busybox:latest
        volumeMounts:
        - {name: proc, mountPath: /host/proc, readOnly: true}
        - {name: run, mountPath: /run/agent}
        - {name: etc, mountPath: /host/etc, readOnly: true}
        - {name: boot, mountPath: /host/boot, readOnly: true}
        - {name: lock, mountPath: /run/xtables.lock}
        - {name: sock, mountPath: /run/agent.d}
"""


def test_a_pods_host_paths_are_one_note_per_kind_of_check_not_one_per_volume(tmp_path):
    """falco's DaemonSet binds fourteen host paths, calico's fourteen: one line each, the same words
    fourteen times (corpus, seventh session). A pod's hostPath volumes are one note naming each volume
    and its path, one more per hostPath type whose check compose leaves out; a single one keeps its
    sentence (above)."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, HOST_PATHS)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if "hostPath" in d]
    assert said == [
        'hostPath volumes "proc" (/proc), "etc" (/etc), "boot" (/boot) bind these paths of the Docker host (not a '
        "cluster node's): they reach into the host",
        'hostPath volumes "run" (/run/agent), "sock" (/run/agent.d) bind these paths of the Docker host (not a '
        "cluster node's): they reach into the host, type DirectoryOrCreate: compose does not check it (docker.sh "
        "and parity up run the kubelet's check)",
        'hostPath volume "lock" binds /run/xtables.lock of the Docker host (not a cluster node\'s): it reaches into '
        "the host, type FileOrCreate: compose neither checks it nor creates a missing file (docker.sh and parity "
        "up do both)"]
    readme = (out / "README.md").read_text()
    assert all(f"- {note}" in readme for note in said)


DNS_CONFIG = """
apiVersion: v1
kind: Pod
metadata: {name: resolver}
spec:
  automountServiceAccountToken: false
  dnsPolicy: None
  dnsConfig:
    nameservers: [192.0.2.53]
    searches: [corp.example]
    options: [{name: ndots, value: "2"}]
  containers:
  - {name: app, image: busybox:latest}
---
apiVersion: v1
kind: Pod
metadata: {name: node-dns}
spec:
  automountServiceAccountToken: false
  dnsPolicy: Default
  containers:
  - {name: app, image: busybox:latest}
"""


def test_a_pods_dns_policy_and_config_are_said_not_dropped(tmp_path):
    """dnsPolicy was read and never used, dnsConfig not read: a pod's /etc/resolv.conf here is Docker's
    whatever they ask (corpus, seventh session: fields parity took and dropped without a word). A
    policy other than the cluster's DNS and a written dnsConfig are notes naming their field."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, DNS_CONFIG)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if ": spec.dns" in d]
    assert said == [
        "Pod/resolver: spec.dnsPolicy: None is not reproduced: the pod's /etc/resolv.conf is Docker's (its "
        "embedded DNS server, 127.0.0.11, which answers the app's names), where the kubelet writes one from "
        "spec.dnsConfig alone",
        "Pod/resolver: spec.dnsConfig: not reproduced: its nameservers, searches and options are not in the pod's "
        "/etc/resolv.conf here (Docker's)",
        "Pod/node-dns: spec.dnsPolicy: Default is not reproduced: the pod's /etc/resolv.conf is Docker's (its "
        "embedded DNS server, 127.0.0.11, which answers the app's names), where the kubelet gives it the node's"]
    readme = (out / "README.md").read_text()
    assert all(f"- {note}" in readme for note in said)


RUNTIME_FIELDS = """
apiVersion: v1
kind: Pod
metadata: {name: sandboxed}
spec:
  automountServiceAccountToken: false
  runtimeClassName: gvisor
  activeDeadlineSeconds: 600
  resourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]
  volumes:
  - {name: raw, persistentVolumeClaim: {claimName: block}}
  containers:
  - name: app
    image: busybox:latest
    volumeDevices: [{name: raw, devicePath: /dev/xvda}]
"""


def test_a_runtime_class_a_deadline_claims_and_block_devices_are_said_not_dropped(tmp_path):
    """runtimeClassName, a pod's activeDeadlineSeconds, its resourceClaims and a container's
    volumeDevices were read by nobody (corpus, seventh session: every pod-spec field parity takes,
    checked for a reader): each is a note naming its field, a container's said of its service."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, RUNTIME_FIELDS)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if ": spec." in d]
    assert said == [
        "Pod/sandboxed: spec.runtimeClassName: not reproduced: the containers run under Docker's default runtime, "
        "where the cluster runs them under the RuntimeClass's handler",
        "Pod/sandboxed: spec.activeDeadlineSeconds: not reproduced: nothing stops the pod here after that many "
        "seconds (the kubelet fails it: DeadlineExceeded)",
        "Pod/sandboxed: spec.resourceClaims: not reproduced: no device a resource driver allocates reaches the "
        "containers here",
        "app: spec.containers[0].volumeDevices: not reproduced: no claim's raw block device is put in "
        "the container here"]
    readme = (out / "README.md").read_text()
    assert all(f"- {note}" in readme for note in said)


PULL_POLICY = """
apiVersion: v1
kind: Pod
metadata: {name: gateway}
spec:
  automountServiceAccountToken: false
  initContainers:
  - {name: certs, image: registry.example/certgen:v1, imagePullPolicy: Never}
  containers:
  - {name: ctl, image: registry.example/gateway:edge, imagePullPolicy: Always}
  - {name: side, image: registry.example/side:v1, imagePullPolicy: IfNotPresent}
  - {name: plain, image: registry.example/plain:v1}
  - {name: untagged, image: registry.example/untagged}
  - {name: newest, image: registry.example/newest:latest}
  - {name: pinned, image: "registry.example/pinned@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
"""
#: The one note of every container that pulls Always (podvalidation._PULL_ALWAYS).
PULL_ALWAYS = ("imagePullPolicy: Always (written, or the API server's default for an image without a tag or tagged "
               "latest) is not reproduced: Docker runs the image it has here and pulls only a missing one, where the "
               "kubelet asks the registry for the tag's current image at each start (Compose's pull_policy: always "
               "would replace a local build with the registry's): docker compose pull gets the registry's current one")


def test_image_pull_policy_never_is_reproduced_and_always_is_one_note_naming_its_containers(tmp_path):
    """Never was a note ("not reproduced"), though Docker can do it (review 7, R-D): the container's image is
    never pulled, a missing one fails it as the kubelet's ErrImageNeverPull does: compose.yaml says
    ``pull_policy: never``, docker.sh ``docker run --pull never``; nothing is said of it. Always, written or
    the API server's default for an image without a tag or tagged latest (spire's wait-for-it and argo-cd's
    ``:latest`` got it, said nowhere: R-C), is one note for the app naming each container, not one per
    container; IfNotPresent (written, or a tag, or a digest) is Docker's own rule: nothing to say."""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, PULL_POLICY)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if "ull" in d]
    assert said == [f"ctl, untagged, newest (3 containers): {PULL_ALWAYS}"]
    readme = (out / "README.md").read_text()
    assert f"- {said[0]}\n" in readme
    services = yaml.safe_load((out / "compose.yaml").read_text())["services"]
    assert {name: svc.get("pull_policy") for name, svc in services.items() if "pull_policy" in svc} == {
        "certs": "never"}
    runs = [line for line in (out / "docker.sh").read_text().splitlines() if "--pull" in line]
    assert len(runs) == 1 and runs[0].startswith("docker run --rm --name ") and " --pull never " in runs[0]
    assert "registry.example/certgen:v1" in runs[0]


def test_every_field_no_setup_reproduces_is_decided_in_one_place_of_its_container():
    """Review 6 (F-H): lifecycle.stopSignal's note was made in podvalidation.unreproduced_fields, the
    postStart/preStop notes of the same lifecycle object in planner._lifecycle_notes. One home now,
    ``unreproduced_fields``: every field, its container (None: the pod's), the preStop note with the
    pod's grace period (the API server's default 30 s when unset); the plan says each of the container's
    service, or of the pod, in an app of several workloads too (its service key)."""
    from parity.docker.planner import build_app_plan
    from parity.kube.kubelet import build_layouts
    from parity.kube.manifests import load_objects
    from parity.kube.podspec import UnreproducedField as F
    from parity.kube.selection import select_workloads

    text = UNREPRODUCED_FIELDS.replace("lifecycle: {stopSignal: SIGUSR1}",
                                       "lifecycle: {stopSignal: SIGUSR1, preStop: {sleep: {seconds: 5}}}")
    text = text.replace("    restartPolicy: Always\n", "    restartPolicy: Always\n    lifecycle: {postStart: "
                                                       "{exec: {command: [\"true\"]}}}\n")
    docs = list(yaml.safe_load_all(text + "---\n" + text.replace("ml-worker", "other")
                                   .replace("  os: {name: linux}\n", "  terminationGracePeriodSeconds: 300\n")))
    inputs = load_objects(docs, "test")
    hook = ("not reproduced: Docker runs no hook when it starts a container (the kubelet runs it right after the start "
            "and kills the container when it fails)")
    rules = ("not reproduced: Docker restarts a container by its restart policy alone, whatever its exit code")
    signal = "not reproduced: Docker stops the container with the image's STOPSIGNAL, else SIGTERM"

    def pre_stop(grace):
        return ("not reproduced: Docker sends the stop signal at once (the kubelet runs the hook first, within the "
                f"pod's terminationGracePeriodSeconds, {grace} s)")

    pull = PULL_ALWAYS.split(": ", 1)[1]  # (busybox:latest: the API server's default, Always)

    # (a written grace period is said too, since the field-coverage table: Docker kills 10 s after the signal)
    written = F("spec.terminationGracePeriodSeconds", "not reproduced: Docker kills a container 10 s after the stop "
                "signal (docker stop, docker compose down; parity down at once)")

    def fields(grace):
        return (F("spec.resources", "pod-level resources are not reproduced: Docker limits each container, never a "
                  "pod's containers together"),
                *([written] if grace == 300 else []),
                F("spec.initContainers[0].lifecycle.postStart", hook, "watcher"),
                F("spec.initContainers[0].restartPolicyRules", rules, "watcher"),
                F("imagePullPolicy", pull, "watcher"),
                F("spec.containers[0].lifecycle.preStop", pre_stop(grace), "app"),
                F("spec.containers[0].lifecycle.stopSignal", signal, "app"),
                F("imagePullPolicy", pull, "app"))

    assert [w.spec.unreproduced_fields for w in inputs.workloads] == [fields(30), fields(300)]
    workloads = select_workloads(inputs, None)
    plan = build_app_plan(workloads, build_layouts(inputs, workloads), inputs)
    said = [d for p in plan.pods for d in p.differences if ": spec." in d or ": imagePullPolicy: " in d]
    assert said == [f"{f'{pod}_{f.container}' if f.container else f'Pod/{pod}'}: {f.field}: {f.why}"
                    for pod, grace in (("ml-worker", 30), ("other", 300)) for f in fields(grace)]


def test_a_termination_message_policy_falling_back_to_logs_is_said_not_dropped(tmp_path):
    """``terminationMessagePolicy: FallbackToLogsOnError`` (kube-thanos' and kube-prometheus' containers)
    was parsed and dropped without a word (closing note 6): the kubelet puts a failed container's last
    log lines in its status when the message file is empty; Docker puts no message there. A note naming
    the field, of the container's service, in k8s-to-docker's output and the README; File (the default)
    is the file parity binds, said apart (``termination_log_notes``)."""
    pod = """
apiVersion: v1
kind: Pod
metadata: {name: logs}
spec:
  automountServiceAccountToken: false
  containers:
  - {name: app, image: busybox:latest, terminationMessagePolicy: FallbackToLogsOnError}
  - {name: plain, image: busybox:latest, terminationMessagePolicy: File}
"""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, pod)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if "terminationMessagePolicy" in d]
    assert said == [
        "app: spec.containers[0].terminationMessagePolicy: FallbackToLogsOnError is not reproduced: Docker puts no "
        "termination message in a container's status (the kubelet takes the last 80 lines, at most 2048 bytes, of a "
        "failed container's log when its terminationMessagePath file is empty)"]
    assert f"- {said[0]}" in (out / "README.md").read_text()


def test_an_optional_object_the_input_lacks_is_said_not_taken_for_a_lost_file(tmp_path):
    """longhorn's manager mounts its optional Secret longhorn-grpc-tls, which the install does not hold:
    the layout shows an empty volume, and nothing said why (it read as parity losing the files). Each
    optional Secret or ConfigMap the input lacks, in a volume of its own or projected, is a note; one the
    input holds, or kube-root-ca.crt (the cluster publishes it), is not."""
    text = """
apiVersion: v1
kind: Secret
metadata: {name: present}
stringData: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: mgr}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    image: busybox:latest
    volumeMounts: [{name: tls, mountPath: /tls}, {name: both, mountPath: /both}, {name: there, mountPath: /there}]
  volumes:
  - {name: tls, secret: {secretName: grpc-tls, optional: true}}
  - name: both
    projected:
      sources:
      - configMap: {name: ca-bundle, optional: true}
      - configMap: {name: kube-root-ca.crt, optional: true}
      - secret: {name: present, optional: true}
  - {name: there, secret: {secretName: present, optional: true}}
"""
    out = tmp_path / "out"
    result = run_parity("k8s-to-docker", str(write(tmp_path, text)), "-o", str(out), "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    said = [d for d in json.loads(result.stdout)["differences"] if "(optional)" in d]
    assert said == [
        'volume "tls": secret grpc-tls (optional) is not in the input: nothing of it is mounted here, as in a '
        "cluster where it does not exist; give it to predict its files",
        'volume "both": configmap ca-bundle (optional) is not in the input: nothing of it is mounted here, as in a '
        "cluster where it does not exist; give it to predict its files"]
    assert all(f"- {note}" in (out / "README.md").read_text() for note in said)


def test_an_optional_object_the_input_lacks_is_said_by_layout_and_diff_too(tmp_path):
    """The note above reached k8s-to-docker and up only: ``parity layout`` and ``diff`` (static, and live:
    the same ``Expected.volume_notes``) showed the empty volume without a word (review 6, F-I). One home,
    ``kubelet.absent_optional_notes``: the same words in each."""
    text = """
apiVersion: v1
kind: Pod
metadata: {name: mgr}
spec:
  automountServiceAccountToken: false
  containers:
  - {name: app, image: busybox:latest, volumeMounts: [{name: tls, mountPath: /tls}, {name: ca, mountPath: /ca}]}
  volumes:
  - {name: tls, secret: {secretName: grpc-tls, optional: true}}
  - {name: ca, configMap: {name: kube-root-ca.crt, optional: true}}
"""
    note = ('volume "tls": secret grpc-tls (optional) is not in the input: nothing of it is mounted here, as in a '
            "cluster where it does not exist; give it to predict its files")
    manifest = str(write(tmp_path, text))
    layout = run_parity("layout", manifest)
    assert layout.returncode == 0, layout.stderr.decode()
    assert [line for line in layout.stdout.decode().splitlines() if "note:" in line] == [f"  note: {note}"]
    (doc,) = json.loads(run_parity("layout", manifest, "--format", "json").stdout)["workloads"]
    assert doc["notes"] == [note]
    out = tmp_path / "out"
    assert run_parity("k8s-to-docker", manifest, "-o", str(out)).returncode == 0
    diff = run_parity("diff", manifest, "--compose", str(out / "compose.yaml"), "--format", "json")
    assert diff.returncode == 0, diff.stderr.decode()
    assert [n for n in json.loads(diff.stdout)["notes"] if "(optional)" in n] == [note]
