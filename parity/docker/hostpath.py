"""hostPath volumes on the Docker host: the kubelet's type checks (pkg/volume/hostpath/host_path.go
``checkTypeInternal``), run by ``parity up`` in Python and by docker.sh in sh, with the same words.

A hostPath reaches into the host: ``diff --live`` refuses a setup that binds one unless
``--allow-host-access`` (docker/hostaccess.py), and every output says so.
"""

from __future__ import annotations

import os
import stat

from ..errors import ParityError, Problem, error_line
from .plan import HostPathPlan

#: HostPathType -> (the sh test, the stat predicate, the kubelet's words when the check fails).
CHECKS = {
    "Directory": ("-d", stat.S_ISDIR, "is not a directory"),
    "DirectoryOrCreate": ("-d", stat.S_ISDIR, "is not a directory"),
    "File": ("-f", stat.S_ISREG, "is not a file"),
    "FileOrCreate": ("-f", stat.S_ISREG, "is not a file"),
    "Socket": ("-S", stat.S_ISSOCK, "is not a socket file"),
    "CharDevice": ("-c", stat.S_ISCHR, "is not a character device"),
    "BlockDevice": ("-b", stat.S_ISBLK, "is not a block device"),
}


def failure(h: HostPathPlan) -> Problem:
    """The kubelet's message for ``h`` failing its type check, where it applies (the workload's file,
    KIND/NAME and the volume's field): the one line ``up`` and docker.sh both print."""
    return Problem(f"hostPath type check failed: {h.source} {CHECKS[h.type][2]}", **_where(h))


def _where(h: HostPathPlan) -> dict:
    return dict(file=h.file or None, obj=h.obj or None, field=h.field or None)


def prepare(h: HostPathPlan) -> None:
    """Check ``h`` as the kubelet does before the pod's containers start, making what ``*OrCreate``
    (and an unset type: the container runtime makes a missing source a directory) may make: a 0755
    directory (``MakeDir``: ``os.MkdirAll(path, 0755)``), an empty 0644 file (``MakeFile``, whose
    parent must exist).

    Raises:
        ParityError: the path is not of its type (the kubelet's words, with the volume's field), or
            cannot be made.
    """
    where = _where(h)
    try:
        if h.type in ("", "DirectoryOrCreate") and not os.path.lexists(h.source):
            os.makedirs(h.source, 0o755, exist_ok=True)
        elif h.type == "FileOrCreate" and not os.path.lexists(h.source):
            fd = os.open(h.source, os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)
        if not h.type:
            return
        try:
            mode = os.stat(h.source).st_mode
        except FileNotFoundError:
            mode = 0
        if not CHECKS[h.type][1](mode):
            raise ParityError(failure(h))
    except OSError as exc:
        raise ParityError(Problem(f"hostPath {h.source}: {exc.strerror}", **where)) from None


def shell_lines(plans: list[HostPathPlan]) -> list[str]:
    """The same checks in sh (docker.sh), each path once: make what may be made, then test the type;
    a failure prints the one line and exits 2."""
    import shlex

    lines = []
    for h in {h.source: h for h in plans}.values():
        path = shlex.quote(h.source)
        if h.type in ("", "DirectoryOrCreate"):
            lines.append(f"[ -e {path} ] || [ -L {path} ] || mkdir -p -m 0755 -- {path}")
        elif h.type == "FileOrCreate":
            lines.append(f"[ -e {path} ] || [ -L {path} ] || (umask 022 && : > {path})")
        if h.type:
            message = shlex.quote("parity: " + error_line(str(failure(h))))
            # printf, not echo: dash's echo reads backslashes in the path (\c ends the line there)
            lines.append(f"[ {CHECKS[h.type][0]} {path} ] || {{ printf '%s\\n' {message} >&2; exit 2; }}")
    return lines
