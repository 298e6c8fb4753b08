"""Objects as the API server returns them (``kubectl get -o json``): defaults filled in, modes in
decimal, Secret data base64-encoded, server-set metadata present. Each has an equivalent manifest
written the way a person would (``stringData``, octal modes, no defaults) for the "same result as
files" tests.
"""

from __future__ import annotations

import base64
from textwrap import indent

NS = "dev"
DB_PASSWORD = b"s3cr3t-Pa55w0rd!"
API_KEY = b"ak_live_9f8e7d6c5b4a"
ENV_TOKEN = b"env-only-token-42"
LOGO = bytes([0xDE, 0xCA, 0xFE, 0xBA, 0xD0, 0xFE, 0xFF])
CA_CRT = ("-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mtc2Vy\n"
          "-----END CERTIFICATE-----\n")
SECRET_VALUES = (DB_PASSWORD, API_KEY, ENV_TOKEN)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def meta(name: str, uid: str, **extra) -> dict:
    return {"name": name, "namespace": NS, "uid": uid, "resourceVersion": "48213",
            "creationTimestamp": "2026-03-01T19:17:08Z", **extra}


def secret(name: str, data: dict[str, bytes], uid: str = "5c0f3f4e-8a51-4b0e-9a57-2f0c7c1d9a10") -> dict:
    return {"kind": "Secret", "apiVersion": "v1", "metadata": meta(name, uid),
            "data": {k: b64(v) for k, v in data.items()}, "type": "Opaque"}


def configmap(name: str, data: dict[str, str], binary: dict[str, bytes] | None = None,
              uid: str = "0d6e2f61-7c7a-4f57-8f11-4d1f3b2c9e21") -> dict:
    out = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta(name, uid), "data": data}
    if binary:
        out["binaryData"] = {k: b64(v) for k, v in binary.items()}
    return out


DB_CREDS = secret("db-creds", {"password": DB_PASSWORD, "username": b"app"})
TLS = secret("tls-bundle", {"api.key": API_KEY, "ca.pem": CA_CRT.encode()},
             uid="a3b1c2d4-0e5f-4a6b-8c7d-9e0f1a2b3c4d")
ENV_SECRET = secret("env-secret", {"token": ENV_TOKEN}, uid="7e1d2c3b-4a59-4687-a9b0-c1d2e3f4a5b6")
APP_CONFIG = configmap("app-config", {"app.yaml": "port: 8080\nlog: debug\n"}, {"logo.bin": LOGO})
ENV_CM = configmap("env-cm", {"MODE": "dev"}, uid="1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9")
ROOT_CA = configmap("kube-root-ca.crt", {"ca.crt": CA_CRT}, uid="9a8b7c6d-5e4f-4321-8fed-cba987654321")


def container_status(name: str, running: bool = True) -> dict:
    state = ({"running": {"startedAt": "2026-03-01T19:17:12Z"}} if running else
             {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-03-01T19:17:09Z",
                             "finishedAt": "2026-03-01T19:17:10Z", "containerID": "containerd://4c1f"}})
    return {"name": name, "state": state, "lastState": {}, "ready": running, "restartCount": 0,
            "image": "docker.io/library/busybox:1.36", "imageID": "docker.io/library/busybox@sha256:768e",
            "containerID": "containerd://9f0e8d7c6b5a", "started": running}


def container(name: str, mounts: list[dict], env: bool = False) -> dict:
    out = {"name": name, "image": "busybox:1.36", "command": ["sh", "-c", "sleep 3600"],
           "resources": {}, "volumeMounts": mounts, "terminationMessagePath": "/dev/termination-log",
           "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}
    if env:
        out["env"] = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "token"}}},
                      {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "opt-cm", "key": "level",
                                                                          "optional": True}}}]
        out["envFrom"] = [{"configMapRef": {"name": "env-cm"}}]
    return out


POD_VOLUMES = [
    {"name": "creds", "secret": {"secretName": "db-creds", "defaultMode": 256,
                                 "items": [{"key": "password", "path": "db/password"}]}},
    {"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}},
    {"name": "bundle", "projected": {"defaultMode": 288, "sources": [
        {"secret": {"name": "tls-bundle", "items": [{"key": "api.key", "path": "keys/api.key", "mode": 256}]}},
        {"configMap": {"name": "app-config", "items": [{"key": "app.yaml", "path": "app.yaml"}]}},
        {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"apiVersion": "v1",
                                                                   "fieldPath": "metadata.labels"}}]}}]}},
    {"name": "cache", "emptyDir": {}},
    {"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}}]}},
]
POD_MOUNTS = [
    {"name": "creds", "readOnly": True, "mountPath": "/etc/db"},
    {"name": "config", "mountPath": "/etc/app"},
    {"name": "bundle", "mountPath": "/etc/bundle"},
    {"name": "cache", "mountPath": "/etc/db/cache"},
    {"name": "kube-api-access-x7k2p", "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
]


def pod_spec(volumes: list[dict], mounts: list[dict], env: bool = True) -> dict:
    return {"volumes": volumes, "containers": [container("app", mounts, env)], "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "serviceAccount": "default", "nodeName": "kind-control-plane",
            "securityContext": {"fsGroup": 2000}, "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}],
            "priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority"}


def pod(name: str = "web", volumes: list[dict] | None = None, mounts: list[dict] | None = None,
        env: bool = True, running: bool = True, extra_containers: list[dict] | None = None) -> dict:
    spec = pod_spec(POD_VOLUMES if volumes is None else volumes, POD_MOUNTS if mounts is None else mounts, env)
    spec["containers"] += extra_containers or []
    statuses = [container_status(c["name"], running) for c in spec["containers"]]
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": meta(name, "f3b5d7e9-1a2b-4c3d-8e4f-5a6b7c8d9e0f", labels={"app": "web", "tier": "backend"},
                             annotations={"kubectl.kubernetes.io/default-container": "app"}),
            "spec": spec,
            "status": {"phase": "Running" if running else "Succeeded",
                       "conditions": [{"type": "Ready", "status": "True" if running else "False",
                                       "lastProbeTime": None, "lastTransitionTime": "2026-03-01T19:17:13Z"}],
                       "hostIP": "172.18.0.2", "podIP": "10.244.0.7", "podIPs": [{"ip": "10.244.0.7"}],
                       "startTime": "2026-03-01T19:17:08Z", "containerStatuses": statuses, "qosClass": "BestEffort"}}


#: The app container's env and envFrom as a person writes them (the pod's and the Deployment's):
#: ``TOKEN`` from a Secret key, ``LEVEL`` from an optional ConfigMap key that does not exist, all of
#: ``env-cm``.
APP_ENV = """\
env:
- name: TOKEN
  valueFrom: {secretKeyRef: {name: env-secret, key: token}}
- name: LEVEL
  valueFrom: {configMapKeyRef: {name: opt-cm, key: level, optional: true}}
envFrom:
- configMapRef: {name: env-cm}
"""

# What a person writes for the same pod: octal modes, stringData, no server defaults.
POD_MANIFEST = f"""
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: {NS}
  uid: f3b5d7e9-1a2b-4c3d-8e4f-5a6b7c8d9e0f
  labels: {{app: web, tier: backend}}
  annotations: {{kubectl.kubernetes.io/default-container: app}}
spec:
  securityContext: {{fsGroup: 2000}}
  containers:
  - name: app
    image: busybox:1.36
{indent(APP_ENV, "    ")}    volumeMounts:
    - {{name: creds, mountPath: /etc/db, readOnly: true}}
    - {{name: config, mountPath: /etc/app}}
    - {{name: bundle, mountPath: /etc/bundle}}
    - {{name: cache, mountPath: /etc/db/cache}}
    - {{name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}}
  volumes:
  - name: creds
    secret:
      secretName: db-creds
      defaultMode: 0400
      items: [{{key: password, path: db/password}}]
  - name: config
    configMap: {{name: app-config}}
  - name: bundle
    projected:
      defaultMode: 0440
      sources:
      - secret: {{name: tls-bundle, items: [{{key: api.key, path: keys/api.key, mode: 0400}}]}}
      - configMap: {{name: app-config, items: [{{key: app.yaml, path: app.yaml}}]}}
      - downwardAPI: {{items: [{{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}]}}
  - name: cache
    emptyDir: {{}}
  - name: kube-api-access-x7k2p
    projected:
      sources:
      - serviceAccountToken: {{path: token, expirationSeconds: 3607}}
      - configMap: {{name: kube-root-ca.crt, items: [{{key: ca.crt, path: ca.crt}}]}}
      - downwardAPI: {{items: [{{path: namespace, fieldRef: {{fieldPath: metadata.namespace}}}}]}}
"""

OBJECTS_MANIFEST = f"""
apiVersion: v1
kind: Secret
metadata: {{name: db-creds, namespace: {NS}}}
stringData:
  password: "{DB_PASSWORD.decode()}"
  username: app
---
apiVersion: v1
kind: Secret
metadata: {{name: tls-bundle, namespace: {NS}}}
stringData:
  api.key: {API_KEY.decode()}
  ca.pem: |
{"".join("    " + line + chr(10) for line in CA_CRT.splitlines())}---
apiVersion: v1
kind: Secret
metadata: {{name: env-secret, namespace: {NS}}}
data: {{token: {b64(ENV_TOKEN)}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-config, namespace: {NS}}}
data:
  app.yaml: |
    port: 8080
    log: debug
binaryData: {{logo.bin: {b64(LOGO)}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: env-cm, namespace: {NS}}}
data: {{MODE: dev}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: kube-root-ca.crt, namespace: {NS}}}
data:
  ca.crt: |
{"".join("    " + line + chr(10) for line in CA_CRT.splitlines())}"""


def deployment() -> dict:
    template_spec = pod_spec(
        [{"name": "secrets", "secret": {"secretName": "db-creds", "defaultMode": 420}},
         {"name": "config", "configMap": {"name": "app-config", "defaultMode": 420,
                                          "items": [{"key": "logo.bin", "path": "img/logo.bin", "mode": 292}]}}],
        [{"name": "secrets", "mountPath": "/etc/secrets", "readOnly": True},
         {"name": "config", "mountPath": "/etc/config/logo.bin", "subPath": "img/logo.bin"}], env=True)
    for key in ("nodeName", "serviceAccount", "serviceAccountName", "tolerations", "priority",
                "preemptionPolicy", "enableServiceLinks"):
        template_spec.pop(key)
    template_spec["securityContext"] = {"runAsUser": 1000}
    return {"kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": meta("api-gateway", "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", generation=3,
                             annotations={"deployment.kubernetes.io/revision": "3"}),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api-gateway"}},
                     "template": {"metadata": {"labels": {"app": "api-gateway"}}, "spec": template_spec},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%",
                                                                             "maxSurge": "25%"}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
            "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                       "availableReplicas": 2}}


DEPLOYMENT_MANIFEST = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api-gateway, namespace: {NS}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: api-gateway}}}}
  template:
    metadata: {{labels: {{app: api-gateway}}}}
    spec:
      securityContext: {{runAsUser: 1000}}
      containers:
      - name: app
        image: busybox:1.36
{indent(APP_ENV, "        ")}        volumeMounts:
        - {{name: secrets, mountPath: /etc/secrets, readOnly: true}}
        - {{name: config, mountPath: /etc/config/logo.bin, subPath: img/logo.bin}}
      volumes:
      - name: secrets
        secret: {{secretName: db-creds}}
      - name: config
        configMap: {{name: app-config, items: [{{key: logo.bin, path: img/logo.bin, mode: 0444}}]}}
"""
