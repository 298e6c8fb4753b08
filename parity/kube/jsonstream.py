"""A stream that begins with ``{`` read as kubectl reads it: JSON objects one after another.

kubectl's ``StreamVisitor`` decodes a manifest with apimachinery's ``YAMLOrJSONDecoder``
(``pkg/util/yaml/decoder.go``). ``GuessJSONStream`` peeks at the first 4096 bytes: when the first
non-space one is ``{``, Go's ``json.Decoder`` reads the stream, one value after another with only
white space (or nothing) between them: ``{...}{...}``, one object a line. When it meets a syntax
error after at most one value, the rest of the stream (from that value's end, white space up to and
including the first line break eaten) goes to the YAML decoder, and if that decoder fails on its
first document the JSON error is the one returned (kubernetes#130666, 1.33). Past two values the
stream is "unambiguous JSON": the JSON error is returned as it is.

A stream that YAML reads whole is read by ``yamlload.load_all`` alone: for it both readings agree
(one JSON object is a YAML flow mapping; ``{...}`` documents between ``---`` lines switch to YAML
after the first). This module reads the others: each JSON value found is then read by the same YAML
loader (so its values, duplicate keys and bounds are those of every other document), alone, its marks
moved to its line and column. YAML refuses some JSON Go's decoder takes (a surrogate pair escape,
white space before ``:``, a key past 1024 characters): such a value is built from the JSON by
``_go_json_value``, with the loader's numbers and duplicate keys. A single object that YAML refuses
comes here too. Python's C JSON scanner finds where each value ends; only on an error does
``_go_syntax_error`` walk the value as Go's ``encoding/json`` scanner does, for its message.
"""

from __future__ import annotations

import json
import re
from typing import Callable

import yaml

from .yamlload import GO_SPACE, MAX_DEPTH, DuplicateKey, JSONStreamRefused, TooBig, plain_scalar

#: Go's json scanner's white space (``isSpace``).
_JSON_SPACE = " \t\r\n"

class _Constant(ValueError):
    """NaN, Infinity, -Infinity: Python's json takes them, Go's refuses them."""


def _refuse_constant(name: str):
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_SEPARATOR = re.compile(r"^---[ \t\r\f\v]*$", re.MULTILINE)  # the YAML reader's document separator line


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _JSON_SPACE:
        pos += 1
    return pos


def _at(text: str, pos: int) -> tuple[int, int]:
    """0-based line and column of ``pos``."""
    line = text.count("\n", 0, pos)
    return line, pos - (text.rfind("\n", 0, pos) + 1)


def _placed(text: str, start: int, end: int) -> str:
    """``text[start:end]`` at its own line and column: line breaks and spaces stand for what is before
    it, so the YAML loader's marks (errors, duplicate keys) are those of the stream."""
    line, column = _at(text, start)
    return "\n" * line + " " * column + text[start:end]


def _moved(exc, lines: int, column: int) -> None:
    """``exc``'s marks ``lines`` lines further down, and ``column`` columns right on the piece's first
    line (the piece was read from where it starts: libyaml's marks cannot be changed, so new ones)."""
    for name in ("context_mark", "problem_mark"):
        mark = getattr(exc, name, None)
        if mark is not None and (lines or column):
            shift = column if mark.line == 0 else 0
            setattr(exc, name, yaml.Mark(mark.name, mark.index, mark.line + lines, mark.column + shift, None, None))


def load_json_stream(text: str, duplicates: list | None, load_yaml: Callable[[str, list | None], list]) -> list:
    """The documents of a stream that begins with ``{``, as kubectl's ``YAMLOrJSONDecoder`` reads it.

    Args:
        text: the stream (``begins_json``).
        duplicates: where keys given twice go (``yamlload.DuplicateKey``, doc indexes in the result).
        load_yaml: ``yamlload``'s reading of YAML text (documents, duplicate keys appended).

    Returns:
        The documents, ``None`` ones (``null``) dropped.

    Raises:
        JSONStreamRefused: the JSON error kubectl returns for the stream.
        yaml.YAMLError: an error of the YAML decoder kubectl switched to, past its first document.
        TooBig: a value nested too deep.
    """
    docs: list = []

    def read(piece: str, lines_before: int = 0, column: int = 0) -> None:
        found: list[DuplicateKey] = []
        try:
            new = load_yaml(piece, found if duplicates is not None else None)
        except yaml.YAMLError as exc:
            _moved(exc, lines_before, column)
            raise
        if duplicates is not None:
            duplicates.extend(DuplicateKey(d.doc + len(docs), d.path, d.line + lines_before, d.first_line + lines_before)
                              for d in found)
        docs.extend(new)

    count, pos = 0, _skip_space(text, 0)
    line, line_start, counted = 0, 0, 0  # (the line of pos, counted as pos moves on: once over the text)
    while pos < len(text):
        try:
            _, end = _DECODER.raw_decode(text, pos)
        except RecursionError:
            raise TooBig(f"nesting deeper than {MAX_DEPTH} levels") from None
        except ValueError:  # (JSONDecodeError, _Constant)
            error = _go_syntax_error(text, pos)
            if count > 1:  # "an unambiguous JSON stream": no switch to YAML
                raise error from None
            _read_rest_as_yaml(text, pos, error, read)
            return docs
        line += text.count("\n", counted, pos)
        line_start = max(line_start, text.rfind("\n", counted, pos) + 1)
        counted = pos
        # The value alone, its marks (of an error, of a key given twice) moved to the stream's line and
        # column afterwards: nothing stands for what came before it, which would make a stream of 10k
        # values (one a line, or glued on one line) a read of 50M characters.
        try:
            read(text[pos:end], line, pos - line_start)
        except yaml.YAMLError as exc:
            # YAML refuses some JSON that Go's decoder takes (a surrogate pair escape, white space
            # before ':', a key past 1024 characters): the value as Go reads it, else YAML's error.
            try:
                value, found = _go_json_value(text, pos, line, len(docs))
            except yaml.YAMLError:
                raise exc from None
            if duplicates is not None:
                duplicates.extend(found)
            if value is not None:
                docs.append(value)
        count += 1
        pos = _skip_space(text, end)
    return docs


_SURROGATE = re.compile("[\ud800-\udfff]")
#: Python's JSON scanner with numbers read as the YAML loader reads a plain scalar (go-yaml's rules:
#: ``-0`` a WrittenInt, past 64 bits a float); strings and containers are _go_json_value's.
_NUMBERS = json.JSONDecoder(parse_int=plain_scalar, parse_float=plain_scalar, parse_constant=_refuse_constant)


def _go_json_value(text: str, start: int, line: int, doc: int) -> tuple[object, list[DuplicateKey]]:
    """The JSON value at ``start`` (one Python's scanner took), built as the YAML loader builds a document
    (numbers by ``plain_scalar``, the last of a key given twice kept) and as Go's ``encoding/json``
    decodes its strings: a surrogate pair escape is one character, a lone surrogate U+FFFD.

    Args:
        text: the stream.
        start: where the value begins.
        line: the 0-based line of ``start``.
        doc: the value's index among the stream's documents.

    Returns:
        The value, and the keys given twice in it (lines 1-based, as the loader reports them).

    Raises:
        TooBig: nesting deeper than ``MAX_DEPTH`` levels.
        yaml.YAMLError: a number the loader refuses (``plain_scalar``).
    """
    found: list[DuplicateKey] = []

    def string(pos: int) -> tuple[str, int]:
        value, end = json.decoder.scanstring(text, pos + 1)
        return _SURROGATE.sub("\ufffd", value), end

    def line_of(pos: int) -> int:
        return line + text.count("\n", start, pos) + 1

    def walk(pos: int, depth: int, path: tuple):
        if depth > MAX_DEPTH:
            raise TooBig(f"nesting deeper than {MAX_DEPTH} levels")
        pos = _skip_space(text, pos)
        c = text[pos]
        if c == '"':
            return string(pos)
        if c == "{":
            obj: dict = {}
            first: dict[str, int] = {}
            pos = _skip_space(text, pos + 1)
            while text[pos] != "}":  # (the text was taken by Python's scanner: keys, ':', ',' are there)
                key_at = pos
                key, pos = string(pos)
                obj[key], pos = walk(_skip_space(text, pos) + 1, depth + 1, path + (key,))
                if key in first:
                    found.append(DuplicateKey(doc, path + (key,), line_of(key_at), line_of(first[key])))
                else:
                    first[key] = key_at
                pos = _skip_space(text, pos)
                if text[pos] == ",":
                    pos = _skip_space(text, pos + 1)
            return obj, pos + 1
        if c == "[":
            items: list = []
            pos = _skip_space(text, pos + 1)
            while text[pos] != "]":
                item, pos = walk(pos, depth + 1, path + (len(items),))
                items.append(item)
                pos = _skip_space(text, pos)
                if text[pos] == ",":
                    pos = _skip_space(text, pos + 1)
            return items, pos + 1
        return _NUMBERS.scan_once(text, pos)  # a number, true, false, null

    return walk(start, 0, ())[0], found


def _read_rest_as_yaml(text: str, pos: int, error: JSONStreamRefused, read: Callable[[str], None]) -> None:
    """The YAML decoder on the stream from ``pos`` (white space eaten up to and including the first
    line break: ``consumeWhitespace``); its failure on its first document is the JSON ``error``."""
    while pos < len(text) and text[pos] in GO_SPACE:
        pos += 1
        if text[pos - 1] == "\n":
            break
    rest = _placed(text, pos, len(text))
    try:
        read(rest)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        content = re.search(r"\S", rest)
        separator = _SEPARATOR.search(rest, content.start()) if content else None
        first_ends = rest.count("\n", 0, separator.start()) if separator else None
        if mark is None or first_ends is None or mark.line < first_ends:
            raise error from None
        raise


def _quote_char(c: str) -> str:
    """Go's ``quoteChar``: ``'\\''``, ``'"'``, else strconv.Quote's text between single quotes. Go's
    scanner works on bytes and quotes ``string(c byte)``: a character past ASCII is the Latin-1
    character of its first UTF-8 byte (``'Ã'`` for ``é``)."""
    if c >= "\x80":
        c = chr(c.encode("utf-8", "surrogatepass")[0])
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    escaped = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\"}.get(c)
    if escaped is None:
        escaped = c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 0x80 else f"\\u{ord(c):04x}")
    return f"'{escaped}'"


class _Syntax(Exception):
    def __init__(self, pos: int, message: str):
        super().__init__(message)
        self.pos, self.message = pos, message


def _go_syntax_error(text: str, start: int) -> JSONStreamRefused:
    """The error Go's ``json.Decoder`` gives for the value at ``start`` (encoding/json ``scanner.go``:
    ``invalid character C CONTEXT``; ``unexpected EOF`` when the stream ends inside the value)."""
    try:
        _GoScanner(text).value(start, 0)
        pos, message = len(text), "unexpected EOF"  # (not reached: Python refused a value Go takes)
    except _Syntax as exc:
        pos, message = exc.pos, exc.message
    line, column = _at(text, pos)
    return JSONStreamRefused(line + 1, column + 1, message)


class _GoScanner:
    """encoding/json's scanner, as a recursive walk: where it stops and what it says."""

    _ESCAPES = frozenset('bfnrt\\/"')
    _HEX = frozenset("0123456789abcdefABCDEF")

    def __init__(self, text: str):
        self.text = text

    def _char(self, pos: int) -> str:
        if pos >= len(self.text):
            raise _Syntax(len(self.text), "unexpected EOF")
        return self.text[pos]

    def _fail(self, pos: int, context: str):
        raise _Syntax(pos, f"invalid character {_quote_char(self.text[pos])} {context}")

    def _space(self, pos: int) -> int:
        return _skip_space(self.text, pos)

    def value(self, pos: int, depth: int) -> int:
        if depth > 10000:
            raise _Syntax(pos, "exceeded max depth")
        pos = self._space(pos)
        c = self._char(pos)
        if c == "{":
            return self._object(pos + 1, depth + 1)
        if c == "[":
            return self._array(pos + 1, depth + 1)
        if c == '"':
            return self._string(pos + 1)
        if c == "-" or c.isdigit() and c.isascii():
            return self._number(pos)
        for word in ("true", "false", "null"):
            if c == word[0]:
                for i, expected in enumerate(word[1:], 1):
                    if self._char(pos + i) != expected:
                        self._fail(pos + i, f"in literal {word} (expecting {_quote_char(expected)})")
                return pos + len(word)
        self._fail(pos, "looking for beginning of value")

    def _object(self, pos: int, depth: int) -> int:
        pos = self._space(pos)
        if self._char(pos) == "}":
            return pos + 1
        while True:
            if self._char(pos) != '"':
                self._fail(pos, "looking for beginning of object key string")
            pos = self._space(self._string(pos + 1))
            if self._char(pos) != ":":
                self._fail(pos, "after object key")
            pos = self._space(self.value(pos + 1, depth))
            c = self._char(pos)
            if c == "}":
                return pos + 1
            if c != ",":
                self._fail(pos, "after object key:value pair")
            pos = self._space(pos + 1)

    def _array(self, pos: int, depth: int) -> int:
        pos = self._space(pos)
        if self._char(pos) == "]":
            return pos + 1
        while True:
            pos = self._space(self.value(pos, depth))
            c = self._char(pos)
            if c == "]":
                return pos + 1
            if c != ",":
                self._fail(pos, "after array element")
            pos += 1

    def _string(self, pos: int) -> int:
        while True:
            c = self._char(pos)
            if c == '"':
                return pos + 1
            if c == "\\":
                e = self._char(pos + 1)
                if e == "u":
                    for i in range(2, 6):
                        if self._char(pos + i) not in self._HEX:
                            self._fail(pos + i, "in \\u hexadecimal character escape")
                    pos += 6
                    continue
                if e not in self._ESCAPES:
                    self._fail(pos + 1, "in string escape code")
                pos += 2
                continue
            if c < " ":
                self._fail(pos, "in string literal")
            pos += 1

    def _digits(self, pos: int) -> int:
        while pos < len(self.text) and "0" <= self.text[pos] <= "9":
            pos += 1
        return pos

    def _number(self, pos: int) -> int:
        if self.text[pos] == "-":
            pos += 1
            c = self._char(pos)
            if not "0" <= c <= "9":
                self._fail(pos, "in numeric literal")
        pos = pos + 1 if self.text[pos] == "0" else self._digits(pos)
        if pos < len(self.text) and self.text[pos] == ".":
            pos += 1
            if not "0" <= self._char(pos) <= "9":
                self._fail(pos, "after decimal point in numeric literal")
            pos = self._digits(pos)
        if pos < len(self.text) and self.text[pos] in "eE":
            pos += 1
            if self._char(pos) in "+-":
                pos += 1
            if not "0" <= self._char(pos) <= "9":
                self._fail(pos, "in exponent of numeric literal")
            pos = self._digits(pos)
        return pos
