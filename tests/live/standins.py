"""Stand-in images for a public install's whole app under ``parity up`` (no registry answers here).

``parity up`` runs the images the manifests name, so each stand-in is built from busybox and tagged
with the vendor's image name, by the test that removes it afterwards (a name the engine already has
is never touched: the test is skipped). A stand-in holds ``/standin``, a shell script that does what
the cluster needs of the container and no more: it exits 0 for the exact arguments of an init
container, else listens (BusyBox ``httpd``, which answers 200 for the probe paths placed in its
root) on the container's declared and probed ports and sleeps until SIGTERM. It is copied to every
command path a container of the install runs (``/usr/local/bin/NAME`` for a bare name), so the
vendor's commands and arguments stay as they are. An ``nc`` wrapper gives the Debian BusyBox's
``nc`` the ``-z`` the tcpSocket health check uses; ``USER 65532`` where a container asks for
runAsNonRoot without a runAsUser (the vendor's image names a non-root user).
"""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess

import yaml

TEMPLATE = {"Deployment": ("spec", "template"), "StatefulSet": ("spec", "template"), "DaemonSet": ("spec", "template"),
            "Job": ("spec", "template"), "Pod": ()}
BUSYBOX_PATHS = ("/bin/", "/usr/bin/")
NC = '#!/bin/sh\nif [ "$1" = -z ]; then shift; exec /bin/nc "$@" </dev/null; fi\nexec /bin/nc "$@"\n'


def _pod_specs(directory: pathlib.Path):
    """(kind, pod spec) of each workload of the install."""
    for f in sorted(directory.rglob("*.y*ml")):
        for doc in yaml.load_all(f.read_text(), Loader=yaml.CBaseLoader):
            if doc and doc.get("kind") in TEMPLATE:
                template = doc
                for key in TEMPLATE[doc["kind"]]:
                    template = template[key]
                yield doc["kind"], template.get("spec") or {}


def _needs(directory: pathlib.Path) -> dict[str, dict]:
    """Per image: command paths, init argument lines, ports per argument line, probe paths, non-root."""
    images: dict[str, dict] = {}
    for kind, spec in _pod_specs(directory):
        inits = spec.get("initContainers") or []
        for c in inits + (spec.get("containers") or []):
            im = images.setdefault(c["image"], {"cmds": set(), "probe_cmds": set(), "inits": set(), "ports": {},
                                                "paths": set(), "non_root": False})
            pod_sc, sc = spec.get("securityContext") or {}, c.get("securityContext") or {}
            im["non_root"] |= (sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) == "true"
                               and not sc.get("runAsUser", pod_sc.get("runAsUser")))
            argv = (c.get("command") or []) + (c.get("args") or [])
            line = " ".join(argv[1:] if c.get("command") else argv)  # what the script sees as "$*"
            if c.get("command"):
                im["cmds"].add(c["command"][0])
            if (c in inits and c.get("restartPolicy") != "Always") or kind == "Job":
                im["inits"].add(line)  # (a Job's containers run to completion too: nginx-gateway-fabric's certs)
            named = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
            ports = {int(p["containerPort"]) for p in c.get("ports") or []}
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = c.get(kind) or {}
                if probe.get("httpGet") or probe.get("tcpSocket"):
                    port = named.get((probe.get("httpGet") or probe.get("tcpSocket"))["port"],
                                     (probe.get("httpGet") or probe.get("tcpSocket"))["port"])
                    ports.add(int(port))
                    if probe.get("httpGet"):
                        im["paths"].add(probe["httpGet"].get("path") or "/")
                if probe.get("exec"):
                    im["probe_cmds"].add(probe["exec"]["command"][0])
            im["ports"].setdefault(line, set()).update(ports)
    return images


def _script(im: dict) -> str:
    lines = ["#!/bin/sh", 'case "$*" in']
    lines += [f"  {shlex.quote(line)}) exit 0 ;;" for line in sorted(im["inits"])]
    lines += ["esac", 'case "$*" in']
    lines += [f"  {shlex.quote(line)}) " + " ".join(f"httpd -f -p {p} -h /standin-www &" for p in sorted(ports)) + " ;;"
              for line, ports in sorted(im["ports"].items()) if ports]
    lines += ["esac", "trap 'exit 0' TERM INT", "sleep 2147483647 & wait", ""]
    return "\n".join(lines)


def _placed(command: str) -> str | None:
    """Where a command goes in the stand-in (None: BusyBox has it; /bin/bash, which rook's toolbox
    runs, it has not)."""
    if command in ("sh", "cp", "ln", "cat", "sleep") or (command.startswith(BUSYBOX_PATHS)
                                                         and os.path.basename(command) != "bash"):
        return None
    if command.startswith("./"):
        return "/" + command[2:]
    return command if command.startswith("/") else f"/usr/local/bin/{command}"


def build(directory: pathlib.Path, workdir: pathlib.Path, tags: list[str]) -> None:
    """Build a stand-in for every image of the install, adding each tag to ``tags`` once it exists
    (all new to the engine: the caller removes them, even after a failed build).

    Raises:
        LookupError: an image name the engine has already, or one pinned by digest (no tag can stand in).
    """
    needs = _needs(directory)
    have = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True,
                          text=True, check=True).stdout.split()
    for ref in needs:
        if "@" in ref or (ref if ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest") in have:
            raise LookupError(ref)
    for n, (ref, im) in enumerate(sorted(needs.items())):
        ctx = workdir / f"standin-{n}"
        ctx.mkdir(parents=True)
        (ctx / "standin").write_text(_script(im))
        (ctx / "nc").write_text(NC)
        run = ["chmod 0755 /standin /usr/local/bin/nc", "mkdir -p /standin-www", "echo ok > /standin-www/index.html"]
        for path in sorted(im["paths"]):
            path = path.split("?")[0].strip("/")
            if path:
                run.append(f"mkdir -p /standin-www/{shlex.quote(os.path.dirname(path) or '.')} && "
                           f"echo ok > /standin-www/{shlex.quote(path)}")
        for command, source in [(c, "/standin") for c in sorted(im["cmds"])] + \
                               [(c, "/bin/true") for c in sorted(im["probe_cmds"] - im["cmds"])]:
            if (to := _placed(command)) is not None:
                run.append(f"mkdir -p {shlex.quote(os.path.dirname(to))} && cp {source} {shlex.quote(to)}")
        (ctx / "Dockerfile").write_text("\n".join(
            ["FROM busybox:latest", "COPY standin /standin", "COPY nc /usr/local/bin/nc", "RUN " + " && ".join(run)]
            + (["USER 65532"] if im["non_root"] else []) + ['ENTRYPOINT ["/standin"]', "CMD []", ""]))
        subprocess.run(["docker", "build", "-q", "-t", ref, str(ctx)], capture_output=True, check=True)
        tags.append(ref)


def remove(tags: list[str]) -> None:
    """Untag (and so remove) the stand-ins this test built."""
    for tag in tags:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True)
