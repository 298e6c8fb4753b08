"""One error type for every bad input, carrying where it was found.

Commands print each problem as one line, ``FILE: OBJECT: FIELD: message``, and exit 2. Messages
never carry a secret's value: callers describe values by key name or digest only.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_ERROR = 2


@dataclass(frozen=True)
class Problem:
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
