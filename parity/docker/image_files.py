"""What files an image built from a local context holds, without building it.

Follows BuildKit, the builder ``docker compose build`` uses (measured on Docker 20.10 with Compose
v2; ``DOCKER_BUILDKIT=0`` selects the legacy builder, and what that one does differently is unknown):

- ``COPY``/``ADD`` from the context make owners 0:0 (``--chown=UID[:GID]`` sets them, on the
  directories they create too) and keep the context's modes (``--chmod=OCTAL`` replaces them on every
  file and directory copied, not on the directories created above them, which are 0755);
- ``COPY --from=STAGE`` keeps the stage's owners and modes; ``FROM STAGE`` starts from the stage;
- a relative destination is relative to ``WORKDIR``; ``WORKDIR`` creates its directories owned by the
  current ``USER``;
- ``ARG``/``ENV`` values (``build.args`` of the compose file included) are substituted in paths and flags;
- ``ADD`` of a local tar (plain, gzip, bzip2 or xz, told by content, not name) extracts it with the
  archive's owners and modes (``--chown``/``--chmod`` do not apply to its members; the archive's
  ``./`` entry does not change the destination);
- the context is what ``.dockerignore`` leaves, and paths resolve inside it (``buildcontext.py``).

The base image is assumed to hold nothing at the paths compared (secret mount points) nor under the
paths a ``COPY --from`` copies. What cannot be known statically is said, with the reason: for the whole
image (``RUN``, heredocs, ``# syntax=``, flags the builder may not know) or for the paths it touches
(``ADD`` of a URL, ``COPY --from`` another image, named owners): ``unknown_at``.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from dataclasses import dataclass, field

from ..layout import DIR, FILE, SYMLINK, Entry
from .buildcontext import Budget, Context, archive_entries, archive_kind, file_digest, read_text
from .dockerfile import Instruction, Unreadable, parse, substitute


@dataclass
class ImageFiles:
    entries: dict[str, Entry] = field(default_factory=dict)  # absolute path -> entry
    volumes: list[str] = field(default_factory=list)
    unknown: str | None = None  # why no file of the image can be known
    uncertain: dict[str, str] = field(default_factory=dict)  # path -> why what is at and under it is unknown
    uncertain_entries: dict[str, str] = field(default_factory=dict)  # path -> why that entry alone is unknown

    def subtree(self, path: str) -> list[Entry]:
        prefix = path.rstrip("/") + "/"
        return [e for p, e in self.entries.items() if p == path or p.startswith(prefix)]

    def unknown_at(self, path: str) -> str | None:
        """Why the image's files at or under ``path`` cannot be known, or None."""
        if self.unknown:
            return self.unknown
        for where, why in self.uncertain.items():
            if _under(where, path) or _under(path, where):
                return why
        for where, why in self.uncertain_entries.items():
            if _under(where, path):
                return why
        return None

    def copy(self) -> "ImageFiles":
        return ImageFiles(dict(self.entries), list(self.volumes), self.unknown, dict(self.uncertain),
                          dict(self.uncertain_entries))

    def _mkdirs(self, path: str, uid: int = 0, gid: int = 0) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in self.entries:
                self.entries[d] = Entry(d, DIR, 0o755, uid, gid)

    def put(self, entry: Entry) -> None:
        self.entries[entry.path] = entry


def _under(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip("/") + "/")


@dataclass
class _Stage:
    name: str
    files: ImageFiles
    workdir: str | None  # None: the base image's, which is not known here
    user: tuple[int, int] | str  # numeric uid:gid, or why it is not known
    env: dict[str, str]  # ENV values
    args: dict[str, str]  # ARG values declared in the stage
    external: bool  # starts from an image of the engine's (not scratch or another stage)


class _Vars(dict):
    """Variables of a stage; a name it does not define may come from an external base image."""

    def __init__(self, values: dict[str, str], external: bool):
        super().__init__(values)
        self.external = external

    def __missing__(self, name: str) -> str:
        if self.external:
            raise Unreadable(f"${name} is not set in the Dockerfile and may come from the base image")
        raise KeyError(name)


def builder() -> str:
    """``buildkit`` or ``legacy``: the builder ``docker compose build`` uses, from ``DOCKER_BUILDKIT``
    as the docker CLI reads it (Go ``strconv.ParseBool``; unset or empty: BuildKit on Linux)."""
    value = os.environ.get("DOCKER_BUILDKIT", "")
    if value in ("", "1", "t", "T", "TRUE", "true", "True"):
        return "buildkit"
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return "legacy"
    raise Unreadable(f"DOCKER_BUILDKIT={value!r} is not a boolean: Compose refuses to build")


def image_from_build(context: str, dockerfile: str = "Dockerfile", args: dict | None = None,
                     target: str | None = None, inline: str | None = None) -> ImageFiles:
    """The files of the image a compose ``build`` section makes.

    Args:
        context: the build context directory.
        dockerfile: the Dockerfile's path, relative to ``context`` or absolute.
        args: ``build.args`` (a value of None: not passed).
        target: ``build.target``, the stage to build (default: the last).
        inline: ``build.dockerfile_inline``, the Dockerfile's text.

    Returns:
        The image's files; ``unknown`` (whole image) or ``uncertain`` (some paths) with the reasons.
    """
    try:
        return _Build(context, dockerfile, {k: str(v) for k, v in (args or {}).items() if v is not None},
                      target).run(inline)
    except Unreadable as exc:
        return ImageFiles(unknown=str(exc))
    except OSError as exc:
        return ImageFiles(unknown=f"cannot read the build context: {exc.strerror}")


class _Build:
    def __init__(self, context: str, dockerfile: str, build_args: dict[str, str], target: str | None):
        self.context_dir = context
        self.dockerfile = dockerfile
        self.build_args = build_args
        self.target = target
        self.builder = builder()
        self.budget = Budget()
        self.ctx: Context | None = None
        self.stages: list[_Stage] = []

    def run(self, inline: str | None) -> ImageFiles:
        if inline is None:
            text = read_text(os.path.join(self.context_dir, self.dockerfile))
        else:
            text = inline
        df = parse(text)
        self.escape = df.escape
        rel = os.path.relpath(os.path.join(self.context_dir, self.dockerfile), self.context_dir)
        self.ctx = Context(self.context_dir, None if rel.startswith("..") else rel)
        if self.builder == "legacy" and not self.ctx.included(rel):
            raise Unreadable(".dockerignore leaves the Dockerfile out: the legacy builder sends it anyway")
        global_args: dict[str, str] = {}
        stage: _Stage | None = None
        for ins in df.instructions:
            where = f"line {ins.line}: {ins.keyword}"
            if ins.keyword == "FROM":
                if stage is not None and self.target and stage.name.lower() == self.target.lower():
                    break  # later stages are not built
                stage = self._from(ins, global_args)
                self.stages.append(stage)
            elif stage is None:
                if ins.keyword != "ARG":
                    raise Unreadable(f"{where} before FROM: the builder refuses the Dockerfile")
                for name, value in self._arg_pairs(ins, _Vars(global_args, False)):
                    global_args[name] = value
            else:
                self._step(stage, ins, where, global_args)
        if stage is None:
            raise Unreadable("the Dockerfile has no FROM")
        if self.target:
            named = [s for s in self.stages if s.name.lower() == self.target.lower()]
            if not named:
                raise Unreadable(f"build target {self.target!r} is not a stage of the Dockerfile")
            stage = named[-1]
        return stage.files

    # -- instructions ---------------------------------------------------------------------------

    def _vars(self, stage: _Stage) -> _Vars:
        return _Vars({**stage.args, **stage.env}, stage.external)

    def _word(self, word: str, stage: _Stage) -> str:
        return substitute(word, self._vars(stage), self.escape)

    def _arg_pairs(self, ins: Instruction, variables: dict) -> list[tuple[str, str]]:
        out = []
        for word in ins.args:
            name, eq, default = word.partition("=")
            if name in self.build_args:
                out.append((name, self.build_args[name]))
            elif eq:
                out.append((name, substitute(default, variables, self.escape)))
            else:
                out.append((name, variables.get(name, "")))
        return out

    def _from(self, ins: Instruction, global_args: dict[str, str]) -> _Stage:
        words = [substitute(w, _Vars(global_args, False), self.escape) for w in ins.args]
        if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
            raise Unreadable(f"line {ins.line}: FROM {' '.join(words)}: not read statically")
        base, name = words[0], words[2] if len(words) == 3 else str(len(self.stages))
        earlier = [s for s in self.stages if s.name.lower() == base.lower()]
        if earlier:
            b = earlier[-1]
            return _Stage(name, b.files.copy(), b.workdir, b.user, dict(b.env), {}, b.external)
        if base == "scratch":
            return _Stage(name, ImageFiles(), "/", (0, 0), {}, {}, False)
        return _Stage(name, ImageFiles(), None, f"the base image {base}'s user is not known here", {}, {}, True)

    def _step(self, stage: _Stage, ins: Instruction, where: str, global_args: dict[str, str]) -> None:
        kw = ins.keyword
        if kw == "ARG":
            for name, value in self._arg_pairs(ins, _Vars({**global_args, **stage.args, **stage.env}, False)):
                stage.args[name] = value
        elif kw == "ENV":
            words = ins.args
            pairs = [w.partition("=")[::2] for w in words] if words and "=" in words[0] else \
                [(words[0], " ".join(words[1:]))] if words else []
            values = [(k, self._word(v, stage)) for k, v in pairs]  # all substituted with the values before
            stage.env.update(values)
        elif kw == "WORKDIR":
            self._workdir(stage, self._word(ins.text, stage), where)
        elif kw == "USER":
            user = self._word(ins.text, stage)
            uid, _, gid = user.partition(":")
            if uid in ("root", "0") and gid in ("", "root", "0"):
                stage.user = (0, 0)
            elif uid.isdigit() and gid.isdigit():
                stage.user = (int(uid), int(gid))
            else:
                stage.user = f"USER {user}: its ids come from the image's /etc/passwd and /etc/group"
        elif kw == "VOLUME":
            stage.files.volumes.extend(self._word(w, stage) for w in ins.args)
        elif kw == "RUN":
            stage.files.unknown = "a RUN step may change files; only a live check can tell"
        elif kw in ("COPY", "ADD"):
            self._copy(stage, ins, where)
        elif kw not in ("CMD", "ENTRYPOINT", "LABEL", "EXPOSE", "HEALTHCHECK", "SHELL", "STOPSIGNAL",
                        "MAINTAINER", "ONBUILD"):
            raise Unreadable(f"{where}: not an instruction this reader knows")

    def _workdir(self, stage: _Stage, path: str, where: str) -> None:
        if not path.startswith("/"):
            if stage.workdir is None:
                return  # relative to the base image's, unknown: stays unknown
            path = posixpath.join(stage.workdir, path)
        path = posixpath.normpath(path)
        stage.workdir = path
        created = [d for d in _parents_and_self(path) if d not in stage.files.entries]
        if isinstance(stage.user, str) or (self.builder == "legacy" and stage.user != (0, 0)):
            why = stage.user if isinstance(stage.user, str) else "the legacy builder's WORKDIR owner"
            for d in created:
                stage.files.uncertain_entries[d] = f"{where} {path} creates it owned by the current user; {why}"
            return
        uid, gid = stage.user
        stage.files._mkdirs(path, uid, gid)

    def _copy(self, stage: _Stage, ins: Instruction, where: str) -> None:
        flags = {k: self._word(v, stage) for k, v in ins.flags.items()}
        other = sorted(set(flags) - {"chown", "chmod", "from"})
        if other or (ins.keyword == "ADD" and "from" in flags):
            bad = other[0] if other else "from"
            raise Unreadable(f"{where} --{bad}: builders differ on it (Docker 20.10's refuses it); only a live "
                             "check can tell")
        words = [self._word(a, stage) for a in ins.args]
        if len(words) < 2:
            raise Unreadable(f"{where} needs a source and a destination")
        *sources, dest = words
        mode = None
        if "chmod" in flags:
            if self.builder == "legacy":
                raise Unreadable(f"{where} --chmod: the legacy builder (DOCKER_BUILDKIT=0) refuses it")
            if not re.fullmatch(r"[0-7]{3,4}", flags["chmod"]):
                raise Unreadable(f"{where} --chmod={flags['chmod']}: only octal modes are read statically")
            mode = int(flags["chmod"], 8)
        files = stage.files
        if not dest.startswith("/"):
            if stage.workdir is None:
                files.unknown = (f"{where} copies to {dest!r}, relative to the base image's working directory, "
                                 "which is not known here (set WORKDIR)")
                return
        target = posixpath.normpath(posixpath.join(stage.workdir or "/", dest))
        many = len(sources) > 1 or any(c in s for s in sources for c in "*?[")
        to_dir = dest.endswith(("/", "/.")) or dest in (".", "..") or many or \
            (files.entries.get(target) or Entry("", FILE, 0)).type == DIR
        owner = _owner(flags.get("chown"))
        if owner is None:
            files.uncertain[target] = f"{where} --chown={flags['chown']} names a user; only numeric ids are known"
            return
        if "from" in flags:
            self._copy_from_stage(stage, flags["from"], sources, target, to_dir, owner, bool(flags.get("chown")),
                                  mode, where)
            return
        for src in sources:
            if src.startswith(("http://", "https://", "git@", "git://")):
                files.uncertain[target] = f"{where} of a remote source ({src}) cannot be read statically"
                continue
            rels = self.ctx.glob(src) if any(c in src for c in "*?[") else [src]
            if not rels:
                raise Unreadable(f"{where}: no file of the build context matches {src}")
            for rel in rels:
                self._copy_one(files, rel, target, to_dir, owner, mode, ins.keyword == "ADD", where)

    def _copy_one(self, files: ImageFiles, rel: str, target: str, to_dir: bool, owner: tuple[int, int],
                  mode: int | None, is_add: bool, where: str) -> None:
        real = self.ctx.resolve(rel)
        if real is None:
            raise Unreadable(f"{where}: {rel} is not in the build context (missing, or left out by "
                             ".dockerignore): the build fails")
        st = os.lstat(self.ctx.host(real))
        uid, gid = owner
        if stat.S_ISREG(st.st_mode) and is_add:
            fd = self.ctx.open(real, f"{where} {rel}")
            try:
                kind = archive_kind(fd, f"{where} {rel}")
                if kind is not None:
                    files._mkdirs(target, uid, gid)
                    for e in archive_entries(fd, kind, target, self.budget, f"{where} {rel}"):
                        files.put(e)
                    return
            finally:
                os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            files._mkdirs(target, uid, gid)
            for inner, est in self.ctx.tree(real, self.budget):
                path = posixpath.join(target, inner)
                self._put_host(files, f"{real}/{inner}".strip("/"), path, est, owner, mode, where)
        elif stat.S_ISREG(st.st_mode):
            path = posixpath.join(target, posixpath.basename(rel.rstrip("/"))) if to_dir else target
            files._mkdirs(posixpath.dirname(path), uid, gid)
            self._put_host(files, real, path, st, owner, mode, where)
        else:
            files.uncertain[target] = f"{where}: {rel} is not a file or directory"

    def _put_host(self, files: ImageFiles, rel: str, path: str, st: os.stat_result, owner: tuple[int, int],
                  mode: int | None, where: str) -> None:
        """``path`` in the image from ``rel`` in the context (``st``: its lstat)."""
        uid, gid = owner
        own = stat.S_IMODE(st.st_mode) if mode is None else mode
        if stat.S_ISLNK(st.st_mode):
            files.put(Entry(path, SYMLINK, 0o777, uid, gid, target=os.readlink(self.ctx.host(rel))))
        elif stat.S_ISDIR(st.st_mode):
            files.put(Entry(path, DIR, own, uid, gid))
        elif stat.S_ISREG(st.st_mode):
            fst, digest = self.ctx.digest(rel, self.budget, f"{where} {path}")
            files.put(Entry(path, FILE, own, uid, gid, fst.st_size, digest))
        else:
            files.uncertain[path] = f"{where}: the build context holds a device, socket or FIFO there"

    def _copy_from_stage(self, stage: _Stage, source: str, sources: list[str], target: str, to_dir: bool,
                         owner: tuple[int, int], chowned: bool, mode: int | None, where: str) -> None:
        files = stage.files
        named = [s for s in self.stages[:-1] if s.name.lower() == source.lower()]
        if not named:
            files.uncertain[target] = f"{where} --from={source} copies from another image"
            return
        src_stage = named[-1]
        if self.builder == "legacy":
            files.uncertain[target] = f"{where} --from: the legacy builder's owners are not read statically"
            return
        for src in sources:
            path = posixpath.normpath("/" + src.lstrip("/"))
            why = src_stage.files.unknown_at(path)
            if why or any(c in src for c in "*?["):
                files.uncertain[target] = f"{where} --from={source} {src}: {why or 'a pattern'}"
                continue
            tree = src_stage.files.subtree(path)
            top = src_stage.files.entries.get(path)
            if top is None:
                files.uncertain[target] = (f"{where} --from={source} {src}: not made by the Dockerfile, so it comes "
                                           "from the base image, not known here")
                continue
            uid, gid = owner
            if top.type == DIR:
                files._mkdirs(target, uid, gid)
                moved = [e.moved(target + e.path[len(path):]) for e in tree if e.path != path]
            else:
                at = posixpath.join(target, posixpath.basename(path)) if to_dir else target
                files._mkdirs(posixpath.dirname(at), uid, gid)
                moved = [top.moved(at)]
            for e in moved:
                if mode is not None and e.type != SYMLINK:
                    e = e._replace(mode=mode)
                files.put(e._replace(uid=uid, gid=gid) if chowned else e)


def _parents_and_self(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _owner(chown: str | None) -> tuple[int, int] | None:
    if not chown:
        return (0, 0)
    user, _, group = chown.partition(":")
    if not user.isdigit() or (group and not group.isdigit()):
        return None
    return int(user), int(group or user)


def host_tree(path: str, budget: Budget | None = None) -> list[Entry]:
    """A bind mount's source as the container sees it: host modes and numeric owners, files hashed in
    chunks within ``budget``.

    Raises:
        Unreadable: more than the budget's entries or bytes.
    """
    budget = budget or Budget()
    out: list[Entry] = []

    def add(full: str, rel: str) -> None:
        budget.entry(full)
        st = os.lstat(full)
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            out.append(Entry(rel, SYMLINK, 0o777, st.st_uid, st.st_gid, target=os.readlink(full)))
        elif stat.S_ISDIR(st.st_mode):
            out.append(Entry(rel, DIR, mode, st.st_uid, st.st_gid))
            for name in sorted(os.listdir(full)):
                add(os.path.join(full, name), f"{rel}/{name}" if rel else name)
        elif stat.S_ISREG(st.st_mode):
            fst, digest = file_digest(full, budget, full)
            out.append(Entry(rel, FILE, mode, fst.st_uid, fst.st_gid, fst.st_size, digest))

    if os.path.lexists(path):
        add(path, "")
    return out
