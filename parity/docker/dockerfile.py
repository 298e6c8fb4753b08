"""A Dockerfile's text as BuildKit's Dockerfile frontend reads it: parser directives, line
continuations with the directive's escape character, flags, the JSON (exec) form, and the shell
lexer's variable substitution (moby/buildkit frontend/dockerfile/parser and shell/lex.go).

What this reader does not model is reported, never guessed: ``Unreadable`` carries the reason, and
the image is then ``unknown`` (heredocs and ``# syntax=`` frontends depend on the builder's version:
the engine's built-in frontend of Docker 20.10 refuses heredocs).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

class Unreadable(Exception):
    """Why a Dockerfile (or one of its words) cannot be read statically."""


@dataclass
class Instruction:
    line: int  # 1-based line of the instruction's first line
    keyword: str  # upper case
    flags: dict[str, str]  # ``--chown=0:2000`` -> {"chown": "0:2000"}, values not yet substituted
    args: list[str]  # words (or JSON array items), not yet substituted
    text: str  # the arguments as written, after the flags


@dataclass
class Dockerfile:
    instructions: list[Instruction] = field(default_factory=list)
    escape: str = "\\"


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<-?\s*[\"']?[A-Za-z_][A-Za-z0-9_]*")


def parse(text: str) -> Dockerfile:
    """The instructions of ``text``.

    Args:
        text: the Dockerfile's content.

    Returns:
        Its instructions, in order, with the escape character in force.

    Raises:
        Unreadable: a ``# syntax=`` directive (another frontend decides), a heredoc, or an escape
            directive that is not ``\\`` or a backtick.
    """
    lines = text.splitlines()
    escape = "\\"
    start = 0
    seen: set[str] = set()
    for i, raw in enumerate(lines):  # parser directives: only at the very top, each once
        m = _DIRECTIVE.match(raw.strip())
        if not m or m.group(1).lower() in seen:
            break
        key, value = m.group(1).lower(), m.group(2)
        seen.add(key)
        start = i + 1
        if key == "syntax":
            raise Unreadable(f"the Dockerfile names its frontend ({raw.strip()}): the builder fetches that "
                             "frontend at build time, and its rules are not read statically")
        if key == "escape":
            if value not in ("\\", "`"):
                raise Unreadable(f"escape directive {value!r}: the builder accepts only \\ or `")
            escape = value
    out = Dockerfile(escape=escape)
    current, first = "", 0
    for number, raw in enumerate(lines[start:], start + 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comment and empty lines, also inside a continued instruction
        if not current:
            first = number
        if stripped.endswith(escape):
            current += stripped[:-1] + " "
            continue
        out.instructions.append(_instruction(first, current + stripped, escape))
        current = ""
    if current:
        out.instructions.append(_instruction(first, current, escape))
    return out


def _instruction(line: int, text: str, escape: str) -> Instruction:
    word, _, rest = text.strip().partition(" ")
    keyword = word.upper()
    rest = rest.strip()
    if keyword in ("RUN", "COPY", "ADD") and _HEREDOC.search(rest):
        raise Unreadable(f"line {line}: {keyword} uses a heredoc (<<): builders differ on heredocs "
                         "(Docker 20.10's refuses them)")
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        key, _, value = flag[2:].partition("=")
        flags[key.lower()] = value
        rest = rest.strip()
    if rest.startswith("["):
        try:
            items = json.loads(rest)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(x, str) for x in items):
            return Instruction(line, keyword, flags, items, rest)
    return Instruction(line, keyword, flags, _split(rest, escape), rest)


def _split(text: str, escape: str) -> list[str]:
    """Words separated by blanks outside quotes; quotes and escapes are kept for ``substitute``."""
    words, current, quote, i = [], "", None, 0
    while i < len(text):
        c = text[i]
        if c == escape and quote != "'" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if c in "\"'" and quote in (None, c):
            quote = None if quote else c
        if c.isspace() and not quote:
            if current:
                words.append(current)
            current = ""
        else:
            current += c
        i += 1
    if current:
        words.append(current)
    return words


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def substitute(word: str, env: dict[str, str], escape: str = "\\") -> str:
    """``word`` with ``$VAR``, ``${VAR}``, ``${VAR:-default}`` and ``${VAR:+alternative}`` replaced
    as BuildKit's shell lexer does (an unset variable is empty); quotes removed.

    Raises:
        Unreadable: a form this reader does not model (other ``${VAR...}`` operators, unbalanced quotes).
    """
    out: list[str] = []
    i, quote = 0, None
    while i < len(word):
        c = word[i]
        if c == escape and quote != "'" and i + 1 < len(word):
            out.append(word[i + 1])
            i += 2
        elif c in "\"'" and quote in (None, c):
            quote = None if quote else c
            i += 1
        elif c == "$" and quote != "'":
            value, i = _variable(word, i + 1, env)
            out.append(value)
        else:
            out.append(c)
            i += 1
    if quote:
        raise Unreadable(f"unbalanced quote in {word!r}")
    return "".join(out)


def _variable(word: str, i: int, env: dict[str, str]) -> tuple[str, int]:
    if i < len(word) and word[i] == "{":
        end = word.find("}", i)
        if end < 0:
            raise Unreadable(f"missing '}}' in {word!r}")
        body = word[i + 1:end]
        m = _NAME.match(body)
        if not m:
            raise Unreadable(f"variable form ${{{body}}} is not read statically")
        name, op = m.group(0), body[m.end():]
        value = _get(env, name)
        if not op:
            return value, end + 1
        if op.startswith(":-") and "$" not in op:
            return (value or op[2:]), end + 1
        if op.startswith(":+") and "$" not in op:
            return (op[2:] if value else ""), end + 1
        raise Unreadable(f"variable form ${{{body}}} is not read statically")
    m = _NAME.match(word, i)
    if not m:
        return "$", i
    return _get(env, m.group(0)), m.end()


def _get(env: dict[str, str], name: str) -> str:
    """An unset variable is empty; ``env`` may raise ``Unreadable`` for a name it cannot vouch for."""
    try:
        return env[name]
    except KeyError:
        return ""
