"""Synthetic manifest corpora for the benchmarks: realistic Deployments plus the objects they mount.

Every third document is a Deployment; the two before it are the Secret and ConfigMap it uses, so
``parity layout`` resolves every volume (no "not found" error path). Each Deployment exercises what
shapes the predicted layout: secret ``items`` with nested paths and modes, ``defaultMode``,
``fsGroup``/``runAsUser``, a projected volume mixing a Secret, a ConfigMap and the downward API
(labels, annotations, name, a ``resourceFieldRef``), a ``subPath`` mount, a sidecar and an
emptyDir. It also carries what real Deployments carry and parity ignores (env, probes, ports,
resources), so the ratio against the bare parse is not flattered or penalised by a toy shape.

Deterministic: the same N always gives the same bytes.
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: creds-{i}
  namespace: team-{ns}
  labels: {{app: svc-{i}, team: team-{ns}}}
type: Opaque
data:
  db-password: {pw}
  api-key: {key}
stringData:
  .netrc: "machine api-{i}.example.com login svc password not-a-real-one\\n"
  tls.crt: |
    -----BEGIN CERTIFICATE-----
    MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUtZm9yLXN2Yy17aX0wCgYIKoZIzj0E
    AwIwFzEVMBMGA1UEAwwMc3ZjLXtpfS5sb2NhbDAeFw0yNDAxMDEwMDAwMDBaFw0z
    -----END CERTIFICATE-----
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{i}
  namespace: team-{ns}
data:
  app.yaml: |
    listen: 0.0.0.0:8080
    upstreams: [svc-{a}, svc-{b}]
    timeout_ms: {timeout}
  log-level: info
  feature-flags: "new-ui=true,batch={flag}"
binaryData:
  logo.bin: 3sr+utD+/w==
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: team-{ns}
  labels: {{app: svc-{i}, team: team-{ns}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}, tier: backend, version: v{v}}}
      annotations: {{team: team-{ns}, "example.com/owner": "owner-{i}@example.com"}}
    spec:
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
        fsGroup: 2000
      containers:
        - name: app
          image: registry.example.com/svc-{i}:1.{v}.0
          args: ["--config", "/etc/app/app.yaml", "--port", "8080"]
          ports:
            - {{name: http, containerPort: 8080, protocol: TCP}}
          env:
            - {{name: LOG_LEVEL, valueFrom: {{configMapKeyRef: {{name: config-{i}, key: log-level}}}}}}
            - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
          resources:
            requests: {{cpu: 250m, memory: 128Mi}}
            limits: {{cpu: "1", memory: 512Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
            periodSeconds: 10
          volumeMounts:
            - {{name: creds, mountPath: /etc/secrets}}
            - {{name: app-config, mountPath: /etc/app}}
            - {{name: creds, mountPath: /root/.netrc, subPath: .netrc}}
            - {{name: scratch, mountPath: /tmp}}
        - name: log-shipper
          image: registry.example.com/shipper:2.1
          resources:
            requests: {{cpu: 50m, memory: 32Mi}}
          volumeMounts:
            - {{name: creds, mountPath: /var/run/shipper/creds, readOnly: true}}
      volumes:
        - name: creds
          secret:
            secretName: creds-{i}
            defaultMode: 0400
            items:
              - {{key: db-password, path: db/password}}
              - {{key: api-key, path: api/v1/key, mode: 0440}}
              - {{key: tls.crt, path: tls/tls.crt, mode: 0444}}
              - {{key: .netrc, path: .netrc}}
        - name: app-config
          projected:
            defaultMode: 0444
            sources:
              - configMap:
                  name: config-{i}
                  items:
                    - {{key: app.yaml, path: app.yaml}}
                    - {{key: feature-flags, path: flags/features, mode: 0440}}
              - secret:
                  name: creds-{i}
                  items: [{{key: api-key, path: secrets/api-key}}]
              - downwardAPI:
                  items:
                    - {{path: pod/labels, fieldRef: {{fieldPath: metadata.labels}}}}
                    - {{path: pod/annotations, fieldRef: {{fieldPath: metadata.annotations}}}}
                    - {{path: pod/name, fieldRef: {{fieldPath: metadata.name}}}}
                    - path: pod/mem-limit
                      resourceFieldRef: {{containerName: app, resource: limits.memory, divisor: 1Mi}}
        - name: scratch
          emptyDir: {{}}
"""


def corpus(n_docs: int) -> str:
    """A multi-document YAML stream of exactly ``n_docs`` documents: Secret, ConfigMap, Deployment..."""
    parts = []
    for k in range(n_docs):
        i = k // 3
        fields = dict(i=i, ns=i % 17, v=i % 9, a=(i + 1) % 500, b=(i + 7) % 500, timeout=1000 + i % 97,
                      flag=i % 2 == 0, pw=base64.b64encode(f"s3cret-{i}".encode()).decode(),
                      key=base64.b64encode(f"ak_live_{i:010d}".encode()).decode())
        parts.append((SECRET, CONFIGMAP, DEPLOYMENT)[k % 3].format(**fields))
    return "---\n".join(parts)


def write_corpus(out_dir: Path, n_docs: int) -> Path:
    """``out_dir/corpus-<n>.yaml``, rewritten only when missing (generation is deterministic)."""
    return _write(out_dir / f"corpus-{n_docs}.yaml", lambda: corpus(n_docs))

#: One container of the multi-container corpus: its volumes (several, with nested items) and what a
#: real container carries beside them. ``{c}`` is the container's name, ``{vols}`` its mounts.
CONTAINER = """\
        - name: {c}
          image: registry.example.com/{c}:1.{v}.0
          args: ["--config", "/etc/{c}/app.yaml"]
          env:
            - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
          resources:
            requests: {{cpu: 50m, memory: 64Mi}}
            limits: {{cpu: 500m, memory: 256Mi}}
          volumeMounts:
            - {{name: creds, mountPath: /etc/{c}/secrets, readOnly: true}}
            - {{name: app-config, mountPath: /etc/{c}/config}}
            - {{name: tls, mountPath: /etc/{c}/tls}}
            - {{name: pod-info, mountPath: /etc/{c}/podinfo}}
            - {{name: creds, mountPath: /root/.netrc, subPath: .netrc}}
"""

MULTI_POD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-{i}
  namespace: team-{ns}
  labels: {{app: svc-{i}, team: team-{ns}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: svc-{i}}}
  template:
    metadata:
      labels: {{app: svc-{i}, tier: backend, version: v{v}}}
      annotations: {{team: team-{ns}, "example.com/owner": "owner-{i}@example.com"}}
    spec:
      securityContext: {{runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000}}
      initContainers:
{init}      containers:
{containers}      volumes:
        - name: creds
          secret:
            secretName: creds-{i}
            defaultMode: 0400
            items:
              - {{key: db-password, path: db/password}}
              - {{key: api-key, path: api/v1/key, mode: 0440}}
              - {{key: .netrc, path: .netrc}}
        - name: tls
          secret: {{secretName: creds-{i}, items: [{{key: tls.crt, path: tls.crt, mode: 0444}}]}}
        - name: app-config
          projected:
            defaultMode: 0444
            sources:
              - configMap:
                  name: config-{i}
                  items:
                    - {{key: app.yaml, path: app.yaml}}
                    - {{key: feature-flags, path: flags/features, mode: 0440}}
                    - {{key: log-level, path: log-level}}
              - secret:
                  name: creds-{i}
                  items: [{{key: api-key, path: secrets/api-key}}]
        - name: pod-info
          downwardAPI:
            items:
              - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}
              - {{path: annotations, fieldRef: {{fieldPath: metadata.annotations}}}}
              - {{path: name, fieldRef: {{fieldPath: metadata.name}}}}
"""


def multi_corpus(n_docs: int, containers: int = 2, init: int = 1) -> str:
    """Like ``corpus``, but each Deployment runs ``init`` init containers and ``containers`` regular
    ones (default: init + app + sidecar), each mounting four volumes (two Secrets, a projected
    ConfigMap + Secret, the downward API: 14 files) and a subPath: the shape where the layout's
    output grows with containers x files (issue 17)."""
    parts = []
    for k in range(n_docs):
        i = k // 3
        fields = dict(i=i, ns=i % 17, v=i % 9, a=(i + 1) % 500, b=(i + 7) % 500, timeout=1000 + i % 97,
                      flag=i % 2 == 0, pw=base64.b64encode(f"s3cret-{i}".encode()).decode(),
                      key=base64.b64encode(f"ak_live_{i:010d}".encode()).decode())
        if k % 3 < 2:
            parts.append((SECRET, CONFIGMAP)[k % 3].format(**fields))
            continue
        names = [f"init-{j}" for j in range(init)], ["app"] + [f"sidecar-{j}" for j in range(1, containers)]
        init_text, main_text = ("".join(CONTAINER.format(c=c, v=fields["v"]) for c in group) for group in names)
        parts.append(MULTI_POD.format(init=init_text, containers=main_text, **fields))
    return "---\n".join(parts)


def write_multi_corpus(out_dir: Path, n_docs: int, containers: int = 2, init: int = 1) -> Path:
    """``out_dir/multi-<n>-<init>+<containers>.yaml`` (see ``multi_corpus``), rewritten only when missing."""
    return _write(out_dir / f"multi-{n_docs}-{init}+{containers}.yaml", lambda: multi_corpus(n_docs, containers, init))


def _write(path: Path, make) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(make())
        tmp.replace(path)
    return path


def many_volumes(n_volumes: int) -> str:
    """A Secret, a ConfigMap and one pod whose one container mounts ``n_volumes`` volumes: half
    side by side (``/etc/v<i>``), half nested under the first (``/etc/app/v<i>``), every tenth
    through a subPath: the shapes that made the layout super-linear in the number of volumes."""
    mounts, volumes = [], []
    for i in range(n_volumes):
        path = "/etc/app" if i == 0 else (f"/etc/app/v{i}" if i % 2 else f"/etc/v{i}")
        sub = ", subPath: d/x" if i % 10 == 5 else ""
        mounts.append(f"        - {{name: v{i}, mountPath: {path}{sub}}}")
        source = ("secret: {secretName: creds}" if i % 2 == 0
                  else "configMap: {name: config, items: [{key: app.yaml, path: d/x}]}")
        volumes.append(f"    - {{name: v{i}, {source}}}")
    return (SECRET.format(i=0, ns=0, pw="cHc=", key="a2V5").replace("creds-0", "creds") + "---\n"
            + CONFIGMAP.format(i=0, ns=0, a=1, b=2, timeout=1000, flag=True).replace("config-0", "config")
            + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: many-volumes, namespace: team-0}\nspec:\n"
            "  securityContext: {fsGroup: 2000}\n  containers:\n    - name: app\n      image: busybox\n"
            "      volumeMounts:\n" + "\n".join(mounts) + "\n  volumes:\n" + "\n".join(volumes) + "\n")


def write_many_volumes(out_dir: Path, n_volumes: int) -> Path:
    """``out_dir/volumes-<n>.yaml`` (see ``many_volumes``), rewritten only when missing."""
    return _write(out_dir / f"volumes-{n_volumes}.yaml", lambda: many_volumes(n_volumes))


PUBLIC = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "public"
_NAMESPACE_LINE = re.compile(r"^(\s*(?:- )?namespace: *)([\"']?)([a-z0-9][a-z0-9-]*)\2[ \t]*$", re.M)


def public_corpus(copies: int) -> str:
    """The public installs (``tests/fixtures/public``: vendor install manifests and rendered charts,
    CRD-heavy, most documents not workloads) as one stream, ``copies`` times: copy ``k`` > 0 has each
    ``namespace: NAME`` line renamed ``NAME-cK`` (objects and the Secrets they mount move together),
    so the copies are distinct installs rather than one install repeated. Every file of every entry
    (``*.yaml``, ``*.yml``, ``*.json``, in path order), the made-up Secrets included."""
    files = sorted(p for p in PUBLIC.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    text = "\n---\n".join(p.read_text(encoding="utf-8") for p in files)
    parts = [text]
    for k in range(1, copies):
        parts.append(_NAMESPACE_LINE.sub(lambda m, k=k: f"{m[1]}{m[2]}{m[3]}-c{k}{m[2]}", text))
    return "\n---\n".join(parts)


def write_public_corpus(out_dir: Path, copies: int) -> Path:
    """``out_dir/public-x<copies>.yaml`` (see ``public_corpus``), rewritten only when missing."""
    return _write(out_dir / f"public-x{copies}.yaml", lambda: public_corpus(copies))

if __name__ == "__main__":
    for n in sys.argv[2:] or ["1000", "10000"]:
        print(write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/out"), int(n)))
