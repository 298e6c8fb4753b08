"""Terminal output conventions: colour only on a TTY and never when NO_COLOR is set."""

from __future__ import annotations

import os
import sys
from typing import TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}


def colour_enabled(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 name (os decodes it with surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` (a name, a path, a whole message) as one line that a terminal shows as it is.

    Every name parity prints that came from its input (file names, object names, keys, paths) goes
    through here, in error lines and text reports alike (JSON escapes by itself): a name holding a
    newline, an escape sequence (ESC and the other C0/C1 controls), a bidi control, another invisible
    character or bytes that are not UTF-8 would otherwise print over several lines, recolour or
    rewrite the terminal, or crash the output. "Printable" is Python's ``str.isprintable``: what
    Unicode classes as neither "Other" (controls, format characters such as the bidi overrides,
    surrogates, unassigned) nor "Separator" (but the ASCII space). Text that is all printable is
    returned unchanged; other text comes out with each such character as ``\\n``, ``\\r``, ``\\t``,
    ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``. Backslashes stay as they are: a line may already hold a
    name Go-quoted by ``parity.kube.names.shown`` (``data[tok\\n]``), which must read the same.

    Args:
        text: any string (lone surrogates included).

    Returns:
        ``text``, or its escaped form.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


class Painter:
    """Wraps text in ANSI colours when enabled; a no-op otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def dump_json(data) -> str:
    """``json.dumps(data, indent=2)`` and a newline, byte for byte, several times faster.

    The json module indents in pure Python. Nearly all of a layout document is lists of dicts of
    scalars (entries, files, mounts), so those go through its C encoder, given the separators of
    their depth; only the few containers above them are walked here. Anything else (tuples,
    subclasses, cycles, no C encoder) takes json.dumps itself, which also raises its usual errors.
    """
    import json  # here: commands printing text (and --help) start without it
    from itertools import chain

    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    scalars = {str, int, float, bool, type(None)}
    encoders: dict = {}
    parts: list[str] = []

    class Unusual(Exception):
        pass

    def flat(value) -> bool:
        return scalars.issuperset(map(type, value.values() if type(value) is dict else value))

    def c_encode(value, indent: str) -> str:
        """Compact, except that items are separated by a newline and ``indent``."""
        encode = encoders.get(indent)
        if encode is None:
            encode = encoders[indent] = make_encoder(None, json.JSONEncoder().default,
                                                     json.encoder.encode_basestring_ascii, None, ": ",
                                                     ",\n" + indent, False, False, True)
        return "".join(encode(value, 0))

    def emit(value, indent: str) -> None:
        kind = type(value)
        if kind in scalars:
            parts.append(json.dumps(value))
            return
        if kind is not dict and kind is not list:
            raise Unusual
        if not value:
            parts.append("{}" if kind is dict else "[]")
            return
        inner = indent + "  "
        if flat(value):  # '{"a": 1,\n<inner>"b": 2}': only the brackets to open up
            text = c_encode(value, inner)
            parts.extend((text[0], "\n", inner, text[1:-1], "\n", indent, text[-1]))
            return
        if (kind is list and set(map(type, value)) == {dict} and all(value)
                and scalars.issuperset(map(type, chain.from_iterable(map(dict.values, value))))):
            # One C call for the whole list. Its raw newlines are all separators (strings escape
            # theirs), so "},<newline><deeper>{" only ever stands between two of its dicts.
            deeper = inner + "  "
            text = c_encode(value, deeper)[2:-2].replace(f"}},\n{deeper}{{", f"\n{inner}}},\n{inner}{{\n{deeper}")
            parts.extend(("[\n", inner, "{\n", deeper, text, "\n", inner, "}\n", indent, "]"))
            return
        separator = "\n" + inner
        parts.append("{" if kind is dict else "[")
        for item in (value.items() if kind is dict else value):
            parts.append(separator)
            separator = ",\n" + inner
            if kind is dict:
                if type(item[0]) is not str:
                    raise Unusual
                parts.extend((json.dumps(item[0]), ": "))
                item = item[1]
            emit(item, inner)
        parts.extend(("\n", indent, "}" if kind is dict else "]"))

    try:
        if make_encoder is None:
            raise Unusual
        emit(data, "")
    except (Unusual, RecursionError):
        return json.dumps(data, indent=2) + "\n"
    return "".join(parts) + "\n"


class Progress:
    """Step messages of long commands (``up``, ``diff --live``) on stderr, only when it is a terminal:
    a script or CI log gets the result alone."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def __call__(self, message: str) -> None:
        if self.enabled:
            from .errors import error_line  # (errors imports this module)

            print(error_line(f"parity: {message}"), file=sys.stderr, flush=True)
