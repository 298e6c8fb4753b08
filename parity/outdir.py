"""Write an output directory atomically: build it in a temporary sibling, then rename it into place.

Nothing is half-written: on any failure (or Ctrl-C) the temporary directory, which may hold secret
material, is removed, as are parent directories this call created. An existing non-empty directory
is replaced only with ``force``; an existing file is never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .errors import ParityError, Problem


def write_atomically(dest: Path, build: Callable[[Path], None], force: bool = False) -> Path:
    dest = Path(os.path.abspath(dest))
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise ParityError(Problem("exists and is not a directory; refusing to overwrite it", file=str(dest)))
        if any(dest.iterdir()) and not force:
            raise ParityError(Problem("exists and is not empty; use --force to replace it", file=str(dest)))
    created: list[Path] = []
    parent = dest.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    tmp: Path | None = None
    try:
        for d in reversed(created):
            d.mkdir()
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.parity-", dir=dest.parent))  # mode 0700
        build(tmp)
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
            os.rename(dest, old / "x")
            os.rename(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, dest)
        tmp = None
        return dest
    except OSError as exc:
        raise ParityError(Problem(f"cannot write: {exc.strerror or exc}", file=str(dest))) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            for d in created:
                try:
                    d.rmdir()
                except OSError:
                    break


def write_file(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Create ``path`` with ``mode`` from the start (no window where it is more open)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
