"""``parity up``'s state directory (``state.state_root()/PROJECT``, owner-only): the generated files
(the data image's context, subPath files the containers bind), the predicted layouts ``status``
compares with, and ``state.json``, whose digest says which plan wrote it. Written again only when the
plan changed or it is not intact; a bind's source is used only while it resolves inside it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .docker.plan import AppPlan
from .errors import ParityError
from .layout import WorkloadLayout, document
from .outdir import OUTPUT_MARK, OUTPUT_MARK_TEXT, write_file
from .output import Progress
from .state import LAYOUT_FILE, MAX_STATE_BYTES, STATE_FILE, is_real_dir, read_state_json
from .upplan import _config_digest


class StateDir:
    """The state directory's part of an ``up`` run (``up._Up``): it reads the run's ``plan``,
    ``layouts``, ``progress`` and ``state_dir``."""

    plan: AppPlan
    layouts: list[WorkloadLayout]
    progress: Progress
    state_dir: Path

    def write_state(self) -> bool:
        """Regenerate the owner-only state directory when the plan changed; True if it did."""
        digest = hashlib.sha256(json.dumps([self.plan.content_digest] + [
            _config_digest(s) for s in self.plan.services]).encode()).hexdigest()
        state_file = self.state_dir / STATE_FILE
        if self._state_intact(digest):
            return False
        self.progress(f"writing {self.state_dir}")
        from .docker.generate import generate  # (here: a warm run, which writes nothing, needs none of it)

        try:
            self.state_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.state_dir.is_dir() and not (self.state_dir / OUTPUT_MARK).exists():
                # A state directory written before parity marked its outputs: it is parity's own.
                write_file(self.state_dir / OUTPUT_MARK, OUTPUT_MARK_TEXT, 0o644)
            generate(self.plan, self.state_dir, force=True)
            (self.state_dir / LAYOUT_FILE).write_text(json.dumps(document(self.layouts), indent=1))
            state_file.write_text(json.dumps({"digest": digest, "workload": self.plan.subject}))
        except OSError as exc:
            raise ParityError(f"{self.state_dir}: cannot write the state directory: "
                              f"{exc.strerror or exc}") from None
        return True

    def _state_intact(self, digest: str) -> bool:
        """Whether the state directory is the one this plan writes: a real directory whose state.json
        (read with a size bound, never through a symlink) holds ``digest``, and whose subPath
        files, which containers bind, are inside it (nothing planted there points out of it). When
        not, ``write_state`` writes it again."""
        if not is_real_dir(self.state_dir):
            return False
        try:
            if read_state_json(self.state_dir / STATE_FILE, MAX_STATE_BYTES).get("digest") != digest:
                return False
        except (FileNotFoundError, ParityError):
            return False
        return all(self._bind_source(path) is not None for s in self.plan.services
                   for path in [b.host_path for b in s.binds] + ([s.termination_file] if s.termination else []))

    def _bind_source(self, host_path: str) -> str | None:
        """The host path a subPath bind mounts, if it resolves inside the state directory."""
        root = os.path.realpath(self.state_dir)
        path = os.path.join(root, host_path)
        return path if os.path.realpath(path) == path and os.path.lexists(path) else None

    def _bound(self, host_path: str) -> str:
        """The host path a bind mounts (``_bind_source``), which ``write_state`` made.

        Raises:
            ParityError: it no longer resolves inside the state directory (changed since).
        """
        source = self._bind_source(host_path)
        if source is None:  # write_state wrote it just now: someone changed it since
            raise ParityError(f"{self.state_dir / host_path}: changed outside parity during the run "
                              "(it no longer resolves inside the state directory); run parity up again")
        return source
