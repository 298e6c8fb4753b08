"""Dockerfiles and build contexts for the static-versus-live differential tests of ``parity diff``.

Each case is the article's setup (a data service whose image fills a named volume that the app
mounts read-only at /etc/secrets) with the data image written one way a user writes Dockerfiles:
``.dockerignore``, ``--chmod``, ``WORKDIR``, ``ARG``/``ENV``, stages, directives, symlinks, tars.
``plain`` is what the case's image holds, written with nothing but ``COPY`` of plain files: a static
diff must read the case as it reads ``plain`` (or say ``unknown``), and a live diff must agree with
it (``tests/live/test_diff_live.py``). Nothing here needs an engine.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .diffcases import OLD_KEY, ROTATED_KEY

TENANTS = {"tenant1": OLD_KEY, "tenant2": "tenant2-api-key-7b2e4d", "tenant3": "tenant3-api-key-c81f0a"}
COPY_ALL = "COPY tenant1 tenant2 tenant3 /etc/secrets/\n"

#: The kubelet's service variables of the ``kubernetes`` Service, which every container has (the
#: environment facet; these setups are about files): the cluster IP's by any name.
SERVICE_VARIABLES = """\
x-service-variables: &service-variables
  KUBERNETES_SERVICE_HOST: kubernetes.default.svc
  KUBERNETES_SERVICE_PORT: "443"
  KUBERNETES_SERVICE_PORT_HTTPS: "443"
  KUBERNETES_PORT: tcp://kubernetes.default.svc:443
  KUBERNETES_PORT_443_TCP: tcp://kubernetes.default.svc:443
  KUBERNETES_PORT_443_TCP_PROTO: tcp
  KUBERNETES_PORT_443_TCP_PORT: "443"
  KUBERNETES_PORT_443_TCP_ADDR: kubernetes.default.svc
"""

SETUP = SERVICE_VARIABLES.replace("{", "{{").replace("}", "}}") + """\
services:
  secrets:
    build:
      context: ./data
{build}    volumes:
      - secrets_volume:/etc/secrets
  api-gateway:
    image: busybox:latest
    command: ["sh", "-c", "while true; do sleep 3600; done"]
    depends_on:
      secrets: {{condition: service_completed_successfully}}
    environment: *service-variables
    volumes:
      - secrets_volume:/etc/secrets:ro
      - ./termination-log:/dev/termination-log
volumes:
  secrets_volume: {{}}
"""


@dataclass
class DockerfileCase:
    dockerfile: str
    fill: Callable[[Path], None]  # writes the rest of the context
    build: dict[str, object] = field(default_factory=dict)  # more keys of the compose ``build`` section
    plain_mode: int = 0o644  # the mode of the tenant files in the image
    plain_values: dict[str, str] = field(default_factory=lambda: dict(TENANTS))
    plain_dockerfile: str = "FROM busybox:latest\n" + COPY_ALL  # the same image in plainer words
    unknown: bool = False  # the static diff must say unknown (the builder's rules cannot be read here)
    live_builds: bool = True  # whether the engine here builds it at all


def write_setup(directory: Path, dockerfile: str, fill: Callable[[Path], None], build: dict | None = None) -> Path:
    data = directory / "data"
    data.mkdir(parents=True)
    fill(data)
    (data / "Dockerfile").write_text(dockerfile)
    extra = "".join(f"      {k}: {v}\n" if not isinstance(v, dict) else
                    f"      {k}:\n" + "".join(f"        {a}: {b}\n" for a, b in v.items())
                    for k, v in (build or {}).items())
    compose = directory / "compose.yaml"
    compose.write_text(SETUP.format(build=extra))
    (directory / "termination-log").write_bytes(b"")  # the kubelet's termination-message file: these cases are not about it
    return compose


def tenants(mode: int = 0o644, values: dict[str, str] | None = None, under: str = "") -> Callable[[Path], None]:
    def fill(ctx: Path) -> None:
        (ctx / under).mkdir(parents=True, exist_ok=True)
        for name, value in (values or TENANTS).items():
            (ctx / under / name).write_text(value)
            (ctx / under / name).chmod(mode)
    return fill


def plain_setup(directory: Path, case: DockerfileCase) -> Path:
    """The case's image written with plain COPY of plain files."""
    return write_setup(directory, case.plain_dockerfile,
                       both(tenants(case.plain_mode, case.plain_values), lambda ctx: (ctx / "empty").mkdir()))


def both(*fills: Callable[[Path], None]) -> Callable[[Path], None]:
    def fill(ctx: Path) -> None:
        for f in fills:
            f(ctx)
    return fill


def write(name: str, data: bytes | str, mode: int = 0o644) -> Callable[[Path], None]:
    def fill(ctx: Path) -> None:
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_bytes(data.encode() if isinstance(data, str) else data)
        (ctx / name).chmod(mode)
    return fill


def tar_of(members: list[tarfile.TarInfo], contents: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            data = contents.get(m.name)
            if data is not None:
                m.size = len(data)
            tar.addfile(m, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, link: str = "") -> tarfile.TarInfo:
    m = tarfile.TarInfo(name)
    m.type, m.mode, m.linkname = kind, mode, link
    return m


def _tenant_tar(root_mode: int, hard_link: bool = False) -> bytes:
    names = list(TENANTS)
    members = [member("./", tarfile.DIRTYPE, root_mode)]
    members += [member(f"./{n}") for n in names[:1 if hard_link else 3]]
    if hard_link:
        members += [member("./tenant2", tarfile.LNKTYPE, link="./tenant1"), member("./tenant3")]
    return tar_of(members, {f"./{n}": v.encode() for n, v in TENANTS.items() if not (hard_link and n == "tenant2")})


def _outside_symlink(ctx: Path) -> None:
    """tenant1 is a symlink that leaves the context (../../tenant1-real); the builder follows it inside
    the context, where tenant1-real holds the right value; outside, another file holds another."""
    (ctx / "tenant1-real").write_text(OLD_KEY)
    (ctx.parent / "tenant1-real").write_text(ROTATED_KEY)
    os.symlink("../../tenant1-real", ctx / "tenant1")


CASES: dict[str, DockerfileCase] = {
    "dockerignore-leaves-files-out": DockerfileCase(
        "FROM busybox:latest\nCOPY s /etc/secrets/\n",
        both(tenants(under="s"), write("s/debug.log", "not for the image"), write(".dockerignore", "s/*.log\n"))),
    "copy-chmod-sets-the-mode": DockerfileCase(
        "FROM busybox:latest\nCOPY --chmod=644 tenant1 tenant2 tenant3 /etc/secrets/\n", tenants(0o600)),
    "relative-destination-after-workdir": DockerfileCase(
        "FROM busybox:latest\nWORKDIR /etc\nCOPY tenant1 tenant2 tenant3 secrets/\n", tenants()),
    "arg-in-the-destination": DockerfileCase(
        "FROM busybox:latest\nARG DEST=/etc/secrets\nCOPY tenant1 tenant2 tenant3 ${DEST}/\n", tenants()),
    "compose-build-arg-in-the-destination": DockerfileCase(
        "FROM busybox:latest\nARG DEST=/nowhere\nCOPY tenant1 tenant2 tenant3 $DEST/\n", tenants(),
        build={"args": {"DEST": "/etc/secrets"}}),
    "env-in-the-destination": DockerfileCase(
        "FROM busybox:latest\nENV D=/etc/secrets\nCOPY tenant1 tenant2 tenant3 $D/\n", tenants()),
    "multi-stage-copy-from": DockerfileCase(
        "FROM busybox:latest AS files\nCOPY tenant1 tenant2 tenant3 /out/\n"
        "FROM busybox:latest\nCOPY --from=files /out/ /etc/secrets/\n", tenants()),
    "run-in-an-earlier-stage-only": DockerfileCase(
        "FROM busybox:latest AS tools\nRUN true\nFROM busybox:latest\n" + COPY_ALL, tenants()),
    "build-target-stage": DockerfileCase(
        "FROM busybox:latest AS data\n" + COPY_ALL + "FROM busybox:latest\nRUN false\n", tenants(),
        build={"target": "data"}),
    "escape-directive-continuation": DockerfileCase(
        "# escape=`\nFROM busybox:latest\nCOPY tenant1 tenant2 `\n     tenant3 /etc/secrets/\n", tenants()),
    "symlink-leaving-the-context": DockerfileCase(
        "FROM busybox:latest\n" + COPY_ALL,
        both(tenants(values={k: v for k, v in TENANTS.items() if k != "tenant1"}), _outside_symlink)),
    "added-tar-root-entry-keeps-the-destination-mode": DockerfileCase(
        "FROM busybox:latest\nADD secrets.tar /etc/secrets/\n", write("secrets.tar", _tenant_tar(0o700))),
    "added-file-named-tar-that-is-not-one": DockerfileCase(
        "FROM busybox:latest\nADD tenant1.tar /etc/secrets/tenant1\nCOPY tenant2 tenant3 /etc/secrets/\n",
        both(tenants(values={k: v for k, v in TENANTS.items() if k != "tenant1"}), write("tenant1.tar", OLD_KEY))),
    "hard-link-in-an-added-tar": DockerfileCase(
        "FROM busybox:latest\nADD secrets.tar /etc/secrets/\n", write("secrets.tar", _tenant_tar(0o755, True)),
        plain_values={**TENANTS, "tenant2": OLD_KEY}),
    "add-chmod-on-plain-files": DockerfileCase(
        "FROM busybox:latest\nADD --chmod=644 tenant1 tenant2 tenant3 /etc/secrets/\n", tenants(0o600)),
    "add-chmod-does-not-apply-to-tar-members": DockerfileCase(
        "FROM busybox:latest\nADD --chmod=600 secrets.tar /etc/secrets/\n", write("secrets.tar", _tenant_tar(0o755))),
    "variable-the-base-image-may-set": DockerfileCase(
        "FROM busybox:latest\nCOPY tenant1 tenant2 tenant3 ${SECRETS_DIR:-/etc/secrets}/\n", tenants(), unknown=True),
    "copy-link-flag": DockerfileCase(
        "FROM busybox:latest\nCOPY --link tenant1 tenant2 tenant3 /etc/secrets/\n", tenants(), unknown=True,
        live_builds=False),
    "dockerignore-exception-keeps-files": DockerfileCase(
        "FROM busybox:latest\nCOPY s /etc/secrets/\n",
        both(tenants(under="s"), write("s/debug.log", "not for the image"), write(".dockerignore", "s/*\n!s/tenant*\n"))),
    "chown-uid-only-sets-the-group-too": DockerfileCase(
        "FROM busybox:latest\nCOPY --chown=2000 tenant1 tenant2 tenant3 /etc/secrets/\n", tenants(),
        plain_dockerfile="FROM busybox:latest\nCOPY --chown=2000:2000 tenant1 tenant2 tenant3 /etc/secrets/\n"),
    "workdir-created-owned-by-the-user": DockerfileCase(
        "FROM busybox:latest\nUSER 1000:1000\nWORKDIR /etc/secrets\nUSER 0\nCOPY tenant1 tenant2 tenant3 ./\n",
        tenants(), plain_dockerfile="FROM busybox:latest\nCOPY --chown=1000:1000 empty/ /etc/secrets/\n" + COPY_ALL),
    "syntax-directive": DockerfileCase(
        "# syntax=docker/dockerfile:1\nFROM busybox:latest\n" + COPY_ALL, tenants(), unknown=True,
        live_builds=False),
    "heredoc": DockerfileCase(
        f"FROM busybox:latest\nCOPY tenant2 tenant3 /etc/secrets/\nCOPY <<EOF /etc/secrets/tenant1\n{OLD_KEY}\nEOF\n",
        tenants(), unknown=True, live_builds=False),
}
