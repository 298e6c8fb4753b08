"""``parity k8s-to-docker``: a Docker plan written out as a directory a developer can run.

Layout of the directory (all secret-bearing parts owner-only):
``compose.yaml``, ``docker.sh``, ``README.md``, ``data/`` (Dockerfile + payload.tar, 0700/0600),
``env/`` (0700, files 0600), ``subpath/`` (0700; files keep their predicted mode and owner),
``termination/`` (0700; one empty file per container, the kubelet's 0666 0:0: bound read-write at its
terminationMessagePath).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..kube.kubelet import TERMINATION_LOG_MODE, TERMINATION_LOG_OWNER
from ..layout import DIR, FILE, SYMLINK
from ..outdir import inside, write_atomically, write_file
from .context import PAYLOAD_NAME, dockerfile, payload_tar
from .composefile import compose_yaml
from .dockersh import docker_script
from .emit import COMPOSE_FILE, DATA_DIR, ENV_DIR, README_FILE, SCRIPT_FILE, env_files
from .readme import readme
from .plan import SUBPATH_DIR, TERMINATION_DIR, AppPlan, BindPlan, ServicePlan


@dataclass
class Generated:
    directory: Path
    files: list[str]
    warnings: list[str]

    def to_json(self, plan: AppPlan) -> dict:
        pods = [{"kind": p.kind, "name": p.name, "namespace": p.namespace, "sandbox": p.sandbox,
                 "services": [s.name for s in p.services], "volumes": [v.key for v in p.volumes]} for p in plan.pods]
        return {
            "format": "parity.k8s-to-docker/v1",
            # "workload": the one workload of a single-workload input (as before apps); "pods": all.
            **({"workload": {k: pods[0][k] for k in ("kind", "name", "namespace")}} if len(pods) == 1 else {}),
            "pods": pods,
            "directory": str(self.directory),
            "files": self.files,
            "project": plan.project,
            "images": [plan.data_image] if plan.volumes else [],
            "services": [s.name for s in plan.services],
            "volumes": {v.key: v.docker_name for v in plan.volumes},
            "differences": plan.differences + self.warnings,
        }


def _materialise(root: Path, bind: BindPlan, contents: dict[str, bytes], can_chown: bool) -> None:
    """A subPath mount's file or directory on the host, with the predicted mode and owner."""
    base = inside(root, bind.host_path)
    base.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for entry in sorted(bind.entries, key=lambda e: e.path):
        path = base / entry.path if entry.path else base
        if entry.type == DIR:
            path.mkdir(exist_ok=True)
        elif entry.type == SYMLINK:
            os.symlink(entry.target or "", path)
        elif entry.type == FILE:
            write_file(path, contents[entry.sha256 or ""], 0o600)
    for entry in sorted(bind.entries, key=lambda e: e.path, reverse=True):
        path = base / entry.path if entry.path else base
        if can_chown:
            os.lchown(path, entry.uid, entry.gid)
        if entry.type != SYMLINK:
            os.chmod(path, entry.mode)  # after chown, which clears setgid on files


def make_termination_file(root: Path, service: ServicePlan, can_chown: bool) -> None:
    """A service's termination-message file: empty, with the kubelet's mode (whatever the umask) and,
    when parity runs as root, its owner (``kubelet.termination_log_paths``)."""
    path = inside(root, service.termination_file)
    path.parent.mkdir(exist_ok=True, mode=0o700)
    write_file(path, b"", 0o600)
    if can_chown:
        os.chown(path, *TERMINATION_LOG_OWNER)
    os.chmod(path, TERMINATION_LOG_MODE)


def generate(plan: AppPlan, dest: Path, force: bool = False, mtime: int = 0,
             inputs: tuple[str, ...] = ()) -> Generated:
    """Write the plan's files into ``dest`` atomically (``outdir.write_atomically``); ``inputs``: the
    paths the plan was read from, which the output may neither be nor hold."""
    files: list[str] = []
    warnings: list[str] = []
    can_chown = os.geteuid() == 0
    if any(s.binds for s in plan.services) and not can_chown:
        warnings.append("subPath files are bind-mounted from the host and parity (not root) could not give them "
                        "their cluster owner; their uid:gid is yours")
    if any(s.termination for s in plan.services) and not can_chown:
        warnings.append(f"the termination-message files ({TERMINATION_DIR}/) are bind-mounted from the host and parity "
                        "(not root) could not give them the kubelet's owner 0:0; their uid:gid is yours (mode 0666: "
                        "every user can still write them)")

    def build(tmp: Path) -> None:
        def put(rel: str, data: bytes | str, mode: int) -> None:
            write_file(inside(tmp, rel), data, mode)
            files.append(rel)

        for d in (DATA_DIR, ENV_DIR, SUBPATH_DIR):
            (tmp / d).mkdir(mode=0o700)
        put(COMPOSE_FILE, compose_yaml(plan), 0o644)
        put(SCRIPT_FILE, docker_script(plan), 0o755)
        if plan.volumes:
            put(f"{DATA_DIR}/Dockerfile", dockerfile(plan), 0o600)
            put(f"{DATA_DIR}/{PAYLOAD_NAME}", payload_tar(plan, mtime), 0o600)
        for s in plan.services:
            for path, text in env_files(s).items():
                put(path, text, 0o600)
            for b in s.binds:
                _materialise(tmp, b, plan.contents, can_chown)
                files.append(b.host_path)
            if s.termination:
                make_termination_file(tmp, s, can_chown)
                files.append(s.termination_file)
        put(README_FILE, readme(plan, warnings), 0o644)
        os.chmod(tmp, 0o700)

    directory = write_atomically(dest, build, force, inputs)
    return Generated(directory, files, warnings)
