"""``--secrets PATH``: more Secrets and ConfigMaps for the workloads, from manifest files or from a
directory laid out as ``kubectl create secret generic NAME --from-file=DIR`` reads it (one key per
regular file, symlinks followed only inside the directory, read race-free and bounded).

The objects themselves are checked as ``manifests.py`` checks any Secret.
"""

from __future__ import annotations

import os
import stat

from ..errors import ParityError, Problem, Problems, remember_secrets
from ..safefile import FileRefused, cannot_read, read_beneath
from .manifests import MAX_SECRET_BYTES, Inputs, Secret, _check_total_size, check_key, load_inputs
from .sources import MANIFEST_SUFFIXES


def load_secret_paths(paths: list[str], default_namespace: str = "default") -> Inputs:
    """``--secrets``: manifest files, a directory of manifests, or a directory laid out like
    ``kubectl create secret generic NAME --from-file=DIR`` (``NAME=DIR``, or DIR alone for a Secret
    named after the directory). Symlinks that lead outside such a directory are refused."""
    inputs = Inputs()
    for spec in paths:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = "", spec
        if not os.path.isdir(path):
            if name:
                raise ParityError(Problem("NAME=DIR needs a directory", file=path))
            inputs.merge(load_inputs([path], default_namespace))
            continue
        regular = [e for e in _scandir(path, f"Secret/{name or os.path.basename(os.path.normpath(path))}")
                   if e.is_file(follow_symlinks=False) or e.is_symlink()]
        if not name and regular and all(e.name.endswith(MANIFEST_SUFFIXES) for e in regular):
            inputs.merge(load_inputs([path], default_namespace))
            continue
        secret_name = name or os.path.basename(os.path.normpath(path))
        inputs.secrets[(default_namespace, secret_name)] = _secret_from_dir(secret_name, path, default_namespace)
    return inputs


def _scandir(path: str, ref: str) -> list:
    try:
        return sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        raise ParityError(Problem(f"cannot read: {exc.strerror}", file=path, obj=ref)) from None


def _secret_from_dir(name: str, path: str, namespace: str) -> Secret:
    """``kubectl create secret generic NAME --from-file=DIR``: one key per regular file (sub-directories,
    FIFOs, devices and dangling symlinks are skipped, as kubectl skips them); a symlink is followed only
    to a file inside DIR.

    Race-free: DIR is opened once and each file is read through a descriptor reached from it with
    ``O_NOFOLLOW`` at every step (``read_beneath``), so an entry swapped for a symlink (or a FIFO)
    after it was looked at is refused, never followed out of DIR. Sizes come from ``fstat`` before
    any read, and the reads stop at the Secret's 1 MiB limit: a huge sparse file is refused unread."""
    problems = Problems()
    ref = f"Secret/{name}"
    try:
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ParityError(Problem(f"cannot read: {exc.strerror}", file=path, obj=ref)) from None
    data: dict[str, bytes] = {}
    total = 0
    try:
        root = os.path.realpath(path)
        for entry_name in sorted(os.listdir(dir_fd)):
            entry_path = os.path.join(path, entry_name)
            field_name = f"data[{entry_name}]"
            rel = _secret_dir_entry(dir_fd, entry_name, entry_path, root, problems, ref)
            if rel is None or not check_key(entry_name, problems, entry_path, ref, "data"):
                continue
            try:
                data[entry_name] = read_beneath(dir_fd, rel, max(MAX_SECRET_BYTES - total, 0))
                total += len(data[entry_name])
            except FileRefused as exc:
                if exc.size is None:
                    problems.add(exc.reason, file=entry_path, obj=ref, field=field_name)
                total += exc.size or 0  # over the limit by its size alone: counted, never read
    finally:
        os.close(dir_fd)
    remember_secrets(data.values())
    _check_total_size(total, problems, path, ref)
    problems.raise_if_any()
    return Secret(name, namespace, data, path)


def _secret_dir_entry(dir_fd: int, entry_name: str, entry_path: str, root: str, problems: Problems,
                      ref: str) -> str | None:
    """The path (relative to the directory) of the regular file an entry of a ``--secrets``
    directory stands for, or None when kubectl would skip it or it is refused (then a problem is
    added). Only a guide: ``read_beneath`` re-checks every step when it opens the file."""
    field_name = f"data[{entry_name}]"
    try:
        st = os.stat(entry_name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None  # removed meanwhile
    if not stat.S_ISLNK(st.st_mode):
        return entry_name if stat.S_ISREG(st.st_mode) else None
    try:
        real = os.path.realpath(entry_path, strict=True)
    except FileNotFoundError:
        real = os.path.realpath(entry_path)  # dangling: skipped below unless it points outside
    except OSError as exc:  # a symlink loop
        problems.add(cannot_read(exc), file=entry_path, obj=ref, field=field_name)
        return None
    if os.path.commonpath([root, real]) != root:
        problems.add("symlink points outside the directory; refusing to read it", file=entry_path, obj=ref,
                     field=field_name)
        return None
    if not os.path.isfile(real):
        return None
    return os.path.relpath(real, root)
