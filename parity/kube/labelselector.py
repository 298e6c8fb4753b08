"""Label selectors as ``kubectl -l`` takes them: apimachinery ``pkg/labels/selector.go`` ``Parse``,
its grammar, its matching and its error messages.

    selector    ::= requirement | requirement "," selector
    requirement ::= [!] KEY [ ("in" | "notin") "(" VALUE {"," VALUE} ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]

A KEY alone requires the label, ``!KEY`` its absence; ``notin`` and ``!=`` also match objects without the
label; ``>``/``<`` compare whole numbers. Whitespace separates tokens and is otherwise ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import invalid, label_value_errors, qualified_name_errors

# Tokens, as the lexer's ``string2token``; IDENT and END stand for identifiers and the end of string.
IDENT, END = "identifier", "end of string"
_SYMBOLS = {")", ",", "!", "==", "=", ">", "<", "!=", "(", "in", "notin"}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")
_BINARY = ["in", "notin", "=", "==", "!=", "gt", "lt"]  # how selector.go names them in its messages


class SelectorError(ValueError):
    """A selector that ``labels.Parse`` refuses; the message is its message."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "in", "notin", "=", "==", "!=", ">", "<", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """``Requirement.Matches``."""
        value = labels.get(self.key)
        if self.operator in ("in", "=", "=="):
            return value is not None and value in self.values
        if self.operator in ("notin", "!="):
            return value is None or value not in self.values
        if self.operator == "exists":
            return value is not None
        if self.operator == "!":
            return value is None
        number = _int64(value) if value is not None else None
        if number is None:
            return False
        bound = int(self.values[0])
        return number > bound if self.operator == ">" else number < bound


@dataclass(frozen=True)
class Selector:
    text: str
    requirements: tuple[Requirement, ...]

    def matches(self, labels: dict[str, str]) -> bool:
        """Every requirement holds (an empty selector selects everything)."""
        return all(r.matches(labels) for r in self.requirements)


def _int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``: an optional sign and decimal digits, in range."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    number = int(text)
    return number if -(2 ** 63) <= number < 2 ** 63 else None


def _lex(text: str) -> list[tuple[str, str]]:
    """``Lexer.Lex`` until the end: (token, literal) pairs, ending with END."""
    items: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i == n:
            items.append((END, ""))
            return items
        if text[i] in _SPECIAL:
            # The longest run of special characters that is still a token ("!=", "=="; "=(" is "=" then "(").
            j = i + 1
            if j < n and text[i:j + 1] in _SYMBOLS:
                j += 1
            items.append((text[i:j], text[i:j]))
            i = j
        else:
            j = i
            while j < n and text[j] not in _SPECIAL and text[j] not in _WHITESPACE:
                j += 1
            word = text[i:j]
            items.append((word if word in ("in", "notin") else IDENT, word))
            i = j


def parse(text: str) -> Selector:
    """A selector from its text, as ``labels.Parse``.

    Raises:
        SelectorError: with selector.go's message (e.g. ``unable to parse requirement: found 'b' expected: '('``).
    """
    return Selector(text, tuple(_Parser(_lex(text)).parse()))


class _Parser:
    """``labels.Parser``: in a value position, ``in`` and ``notin`` are identifiers."""

    def __init__(self, items: list[tuple[str, str]]):
        self.items = items
        self.pos = 0

    def look(self, values: bool = True) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        return (IDENT, lit) if values and tok in ("in", "notin") else (tok, lit)

    def take(self, values: bool = True) -> tuple[str, str]:
        item = self.look(values)
        self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        out: list[Requirement] = []
        while True:
            tok, lit = self.look()
            if tok == END:
                return out
            if tok not in (IDENT, "!"):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                out.append(self.requirement())
            except SelectorError as exc:
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            tok, lit = self.take()
            if tok == END:
                return out
            if tok != ",":
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.look()
            if tok not in (IDENT, "!"):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        tok, key = self.take()
        operator = ""
        if tok == "!":
            operator = "!"
            tok, key = self.take()
        if tok != IDENT:
            raise SelectorError(f"found '{key}', expected: identifier")
        errors = qualified_name_errors(key)
        if errors:
            raise SelectorError(invalid(key, "; ".join(errors)))
        if self.look()[0] in (END, ","):
            operator = operator or "exists"
        if operator:
            return Requirement(key, operator)
        tok, lit = self.take(values=False)
        if tok not in ("in", "notin", "=", "==", "!=", ">", "<"):
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY)}")
        values = self.value_set() if tok in ("in", "notin") else self.exact_value()
        problems = [invalid(v, "; ".join(label_value_errors(v))) for v in values if label_value_errors(v)]
        if tok in (">", "<") and _int64(values[0]) is None:
            problems.insert(0, invalid(values[0], "for 'Gt', 'Lt' operators, the value must be an integer"))
        if problems:
            raise SelectorError(problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]")
        return Requirement(key, tok, values)

    def value_set(self) -> tuple[str, ...]:
        """``parseValues``: "(" VALUE {"," VALUE} ")"; empty values count ("(a,)" holds "")."""
        tok, lit = self.take()
        if tok != "(":
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.look()
        if tok == ")":
            self.take()
            return ("",)
        if tok not in (IDENT, ","):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values: list[str] = []
        while True:
            tok, lit = self.take()
            if tok == IDENT:
                values.append(lit)
                tok2, lit2 = self.look()
                if tok2 == ")":
                    break
                if tok2 != ",":
                    raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            elif tok == ",":
                if not values:
                    values.append("")
                tok2, _ = self.look()
                if tok2 in (")", ","):
                    values.append("")
                if tok2 == ")":
                    break
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")
        self.take()  # the ")"
        return tuple(dict.fromkeys(values))

    def exact_value(self) -> tuple[str, ...]:
        """``parseExactValue``: one VALUE, or nothing (the empty value) before "," or the end."""
        tok, _ = self.look()
        if tok in (END, ","):
            return ("",)
        tok, lit = self.take()
        if tok != IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        return (lit,)
