"""One error type for every bad input, carrying where it was found.

Commands print each problem as one line, ``FILE: OBJECT: FIELD: message``, and exit 2. Messages
never carry a secret's value: callers describe values by key name or digest only, and, whatever
text a failing tool or engine put into a message, ``error_line`` hides every Secret value this
process read before the line is printed.
"""

from __future__ import annotations

from collections.abc import Iterable

from .output import printable
from .values import Value, valueclass

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_ERROR = 2


@valueclass
class Problem(Value):
    """One violation: where it is (file, object, field) and what is wrong."""

    message: str
    file: str | None = None
    obj: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.obj, self.field) if p]
        return ": ".join(parts + [self.message])


class ParityError(Exception):
    """Bad input or an operation that failed; always reported as one line per problem, exit 2."""

    exit_code = EXIT_ERROR

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems so that one run reports every violation, then raises once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.warnings: list[str] = []  # accepted input that probably means something else

    def add(self, message: str, file: str | None = None, obj: str | None = None, field: str | None = None) -> None:
        self.items.append(Problem(message, file, obj, field))

    def raise_if_any(self) -> None:
        if self.items:
            raise ParityError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


#: The Secret values this process has read, as text (and base64), 4 characters or more (shorter ones
#: match ordinary words by accident, as in the secret scan): see ``error_line``.
_SECRET_TEXTS: set[str] = set()
NOT_SHOWN = "(not shown)"


def remember_secrets(values: Iterable[bytes]) -> None:
    """Record Secret values (as read from manifests, ``--secrets`` or a cluster) for ``error_line``."""
    import base64  # here: parity --help starts without it

    for value in values:
        for form in (value, base64.b64encode(value)):
            try:
                text = form.decode("utf-8")
            except UnicodeDecodeError:
                continue  # bytes that are not text cannot stand in a line as they are
            if len(text) >= 4:
                _SECRET_TEXTS.add(text)


def error_line(text: str) -> str:
    """A line for stderr (an error, a warning, a progress message): every Secret value this process
    read replaced with ``(not shown)``, then ``printable`` (one line, names escaped). The last guard
    behind the rule that messages describe values by key or digest: an engine's or a tool's message
    (a container's environment quoted back, an env file's line) cannot carry one out either.

    Args:
        text: the line.

    Returns:
        The line as it may be printed.
    """
    if _SECRET_TEXTS:
        for secret in sorted((s for s in _SECRET_TEXTS if s in text), key=len, reverse=True):
            text = text.replace(secret, NOT_SHOWN)
    return printable(text)
