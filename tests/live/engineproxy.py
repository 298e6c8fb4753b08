"""A Unix-socket proxy in front of the real Docker engine that fails on one chosen request.

``DOCKER_HOST=unix://PROXY`` makes parity talk to the engine through it. Every request is passed
through unchanged until one matches ``trigger`` (a regex on the request line, e.g.
``rb"POST /v[0-9.]+/build"``); then, by ``action``:

- ``"error"``: that request gets ``HTTP 500 {"message": MESSAGE}`` and never reaches the engine
  (the engine refusing one operation);
- ``"vanish"``: the proxy closes every connection and its socket, unanswered (the engine going
  away mid-command);
- ``"hang"``: that request and every later one that matches stay unanswered, their connections
  open (an engine that accepts requests and never answers them);
- ``"end"``: that request gets ``HTTP 200`` with an empty chunked body and never reaches the
  engine (a stream, such as ``/events``, that the engine ends at once: it restarted);
- ``"hold"``: that request waits until ``release()`` and then goes on to the engine (a command
  stopped at a known point, e.g. to run a second command meanwhile, or to kill it there).

With ``headers=True`` the trigger is searched in the whole request head (``User-Agent: ...``: one
client's requests, not another's); with ``after`` (a regex on request lines), a request that matches
the trigger first waits until one matching ``after`` has gone by (``after_seen``), from any client.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from pathlib import Path

#: Seconds a request held for ``after`` waits at most (then the trigger acts anyway).
AFTER_WAIT = 60
REQUEST_LINE = re.compile(rb"^(?:GET|POST|PUT|DELETE|HEAD) \S+ HTTP/1\.[01]\r?$", re.M)
USER_AGENT = re.compile(rb"^User-Agent: ([^\r\n]*)", re.M | re.I)


def engine_socket() -> str | None:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host[len("unix://"):] if host.startswith("unix://") else None


class EngineProxy:
    def __init__(self, path: Path, trigger: bytes, action: str = "error", message: str = "simulated engine failure",
                 headers: bool = False, after: bytes | None = None, watch_only: bool = False):
        self.path, self.trigger, self.action, self.message = str(path), re.compile(trigger), action, message
        #: False (the default): a block that ends without error but whose trigger never matched fails,
        #: for then the test injected nothing and proved nothing (a request the code stopped making).
        self.watch_only = watch_only
        self.headers, self.after = headers, re.compile(after) if after else None
        self.after_seen = threading.Event()
        self.upstream = engine_socket()
        self.triggered = threading.Event()
        self.released = threading.Event()
        self.seen: list[bytes] = []  # request lines, in order
        #: (request line, its User-Agent or b""), in order: whose request it was (Compose's, the SDK's)
        self.agents: list[tuple[bytes, bytes]] = []
        self.answered = 0  # bytes the engine sent back, over every connection
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def __enter__(self) -> "EngineProxy":
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
        if exc[0] is None and not self.watch_only and not self.triggered.is_set():
            raise AssertionError(f"the proxy's trigger {self.trigger.pattern!r} matched no request: "
                                 "the fault was never injected")

    def release(self) -> None:
        """A held request goes on to the engine."""
        self.released.set()

    def close(self) -> None:
        self.released.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for s in sockets + ([listener] if listener else []):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _accept(self) -> None:
        while True:
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        hung = False
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                if not from_client:
                    with self._lock:
                        self.answered += len(chunk)
                if from_client:
                    lines = REQUEST_LINE.findall(chunk)
                    self.seen += lines
                    if lines:
                        agent = USER_AGENT.search(chunk)
                        self.agents.append((lines[0], agent.group(1) if agent else b""))
                    if self.after and any(self.after.search(line) for line in lines):
                        self.after_seen.set()
                    matched = (bool(lines) and self.trigger.search(chunk) if self.headers
                               else any(self.trigger.search(line) for line in lines))
                    if (self.action == "hang" or not self.triggered.is_set()) and matched:
                        if self.after:
                            self.after_seen.wait(AFTER_WAIT)
                        self.triggered.set()
                        if self.action == "hang":
                            hung = True  # never forwarded, never answered; close() ends it
                            return
                        if self.action == "hold":
                            self.released.wait()
                        else:
                            self._fail(src, dst)
                            return
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst) if not hung else ():
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _fail(self, client: socket.socket, upstream: socket.socket) -> None:
        if self.action == "vanish":
            self.close()
            return
        if self.action == "end":
            client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            return
        body = json.dumps({"message": self.message}).encode()
        client.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                       b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
