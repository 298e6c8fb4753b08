"""A fake Kubernetes API server for tests: GETs of objects and the exec websocket, on 127.0.0.1 only.

Bodies are shaped like the real API's (objects as ``kubectl get -o json`` shows them, ``Status``
objects for errors, the exec ``v4``/``v5.channel.k8s.io`` framing). The server shuts itself down
after ``MAX_LIFETIME`` seconds even if a test forgets to, and each connection times out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

import yaml

MAX_LIFETIME = 60.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: kind -> URL path template, as the API serves it.
PATHS = {
    "Pod": "/api/v1/namespaces/{ns}/pods/{name}",
    "Secret": "/api/v1/namespaces/{ns}/secrets/{name}",
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps/{name}",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments/{name}",
    "StatefulSet": "/apis/apps/v1/namespaces/{ns}/statefulsets/{name}",
    "CronJob": "/apis/batch/v1/namespaces/{ns}/cronjobs/{name}",
}
RESOURCE_OF = {"/pods/": ("pods", ""), "/secrets/": ("secrets", ""), "/configmaps/": ("configmaps", ""),
               "/deployments/": ("deployments", "apps"), "/statefulsets/": ("statefulsets", "apps"),
               "/cronjobs/": ("cronjobs", "batch")}


def status(code: int, reason: str, message: str, name: str | None = None, kind: str | None = None,
           group: str | None = None) -> dict:
    """A ``metav1.Status`` as the API server returns it for errors."""
    out: dict = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
                 "reason": reason, "code": code}
    if name is not None:
        details = {"name": name, "kind": kind}
        if group:
            details["group"] = group
        out["details"] = details
    return out


@dataclass
class ExecResult:
    """What an exec call sends back: stdout/stderr bytes and the channel-3 ``Status``."""

    stdout: bytes = b""
    stderr: bytes = b""
    status: dict = field(default_factory=lambda: {"metadata": {}, "status": "Success"})
    handshake_status: int | None = None  # refuse the upgrade with this HTTP status instead


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    authorization: str | None


class FakeAPI:
    """Start with ``with FakeAPI() as api:``; add objects with ``api.add(obj)``."""

    def __init__(self, *, tls: tuple[str, str] | None = None, protocol: str = "v4.channel.k8s.io",
                 frame_size: int = 1000):
        self.objects: dict[str, tuple[int, dict]] = {}
        self.requests: list[Request] = []
        self.exec_handler: Callable[[list[str], str | None], ExecResult] | None = None
        self.protocol = protocol
        self.frame_size = frame_size
        self._tls = tls
        self._server: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    # -- content ---------------------------------------------------------------------------------
    def add(self, obj: dict) -> None:
        meta = obj["metadata"]
        self.objects[PATHS[obj["kind"]].format(ns=meta["namespace"], name=meta["name"])] = (200, obj)

    def deny(self, kind: str, namespace: str, name: str, user: str = "dev") -> None:
        """RBAC refuses this GET (403), with the API server's wording."""
        path = PATHS[kind].format(ns=namespace, name=name)
        plural, group = _resource(path)
        message = (f'{plural}{"." + group if group else ""} "{name}" is forbidden: User "{user}" cannot get '
                   f'resource "{plural}" in API group "{group}" in the namespace "{namespace}"')
        self.objects[path] = (403, status(403, "Forbidden", message, name, plural, group or None))

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def kubeconfig(self, path: Path, *, namespace: str | None = "dev", context: str = "test",
                   ca_file: str | None = None) -> Path:
        """A kubeconfig with one context pointing at this server."""
        return write_kubeconfig(path, self.url, namespace=namespace, context=context, ca_file=ca_file)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> "FakeAPI":
        api = self

        class Handler(_Handler):
            fake = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self._tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self._tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._timer = threading.Timer(MAX_LIFETIME, self._stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer:
            self._timer.cancel()
        self._stop()

    def _stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def write_kubeconfig(path: Path, server: str, *, namespace: str | None = "dev", token: str = "t0ken-dev",
                     context: str = "test", ca_file: str | None = None, current: bool = True) -> Path:
    """A kubeconfig as ``kind`` writes one: a cluster, a user with a bearer token, one context."""
    ctx: dict = {"cluster": f"{context}-cluster", "user": f"{context}-user"}
    if namespace:
        ctx["namespace"] = namespace
    cluster: dict = {"server": server}
    if ca_file:
        cluster["certificate-authority"] = ca_file
    doc: dict = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                 "clusters": [{"name": f"{context}-cluster", "cluster": cluster}],
                 "users": [{"name": f"{context}-user", "user": {"token": token}}],
                 "contexts": [{"name": context, "context": ctx}]}
    if current:
        doc["current-context"] = context
    path.write_text(yaml.safe_dump(doc))
    return path


def _resource(path: str) -> tuple[str, str]:
    return next(v for k, v in RESOURCE_OF.items() if k in path)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAPI
    timeout = 10
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self.fake.requests.append(Request("GET", parts.path, query, self.headers.get("Authorization")))
        if parts.path.endswith("/exec"):
            self._exec(parts.path, query)
            return
        code, body = self.fake.objects.get(parts.path, (404, None))
        if body is None:
            plural, group = _resource(parts.path) if any(k in parts.path for k in RESOURCE_OF) else ("", "")
            name = parts.path.rsplit("/", 1)[-1]
            body = status(404, "NotFound", f'{plural}{"." + group if group else ""} "{name}" not found', name,
                          plural, group or None)
        self._json(code, body)

    def _json(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- exec over a websocket -------------------------------------------------------------------
    def _exec(self, path: str, query: list[tuple[str, str]]) -> None:
        handler = self.fake.exec_handler
        command = [v for k, v in query if k == "command"]
        container = next((v for k, v in query if k == "container"), None)
        result = handler(command, container) if handler else ExecResult(status=status(500, "InternalError", "no"))
        offered = [p.strip() for p in (self.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        if result.handshake_status:
            self._json(result.handshake_status, status(result.handshake_status, "Forbidden",
                                                        'pods "web" is forbidden: User "dev" cannot create resource '
                                                        '"pods/exec" in API group "" in the namespace "dev"',
                                                        "web", "pods"))
            return
        if self.headers.get("Upgrade", "").lower() != "websocket" or self.fake.protocol not in offered:
            self._json(400, status(400, "BadRequest", "Upgrade request required"))
            return
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + WS_GUID).encode()).digest())
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.send_header("Sec-WebSocket-Protocol", self.fake.protocol)
        self.end_headers()
        size = self.fake.frame_size
        for channel, data in ((1, result.stdout), (2, result.stderr)):
            for i in range(0, len(data), size):
                self.wfile.write(_frame(bytes([channel]) + data[i:i + size]))
        self.wfile.write(_frame(b"\x03" + json.dumps(result.status).encode()))
        self.wfile.write(_frame((1000).to_bytes(2, "big"), opcode=0x8))
        self.wfile.flush()
        self.close_connection = True


def _frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """One unmasked server-to-client websocket frame (RFC 6455 §5.2), FIN set."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + n.to_bytes(2, "big")
    else:
        head += bytes([127]) + n.to_bytes(8, "big")
    return head + payload
