"""Typed errors. Each carries where the problem is and what to do; only the CLI and the app catch them.

Exit codes (CLI): 0 ok, 1 non-conformant (SHACL), 2 bad input, 3 internal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in one input file: `file`, the field path (`a.b[2].c`), what is wrong, how to fix."""

    file: str
    field: str
    problem: str
    fix: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.field or '(file)'}: {self.problem}"
        return text + (f"\n    fix: {self.fix}" if self.fix else "")


class OligokbError(Exception):
    """The root of every error the tool raises on purpose; `exit_code` is the CLI's exit status for it."""

    exit_code = 3


class InputError(OligokbError):
    """Bad input: one or more problems in sheets or arguments (exit 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        items = [problems] if isinstance(problems, (Problem, str)) else problems
        self.problems = [p if isinstance(p, Problem) else Problem("", "", p) for p in items]
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{len(self.problems)} problem(s) in the input; nothing was written."
        return "\n".join([head, *(str(p) for p in self.problems)])


class UnknownTermError(OligokbError, ValueError):
    """A vocabulary term that is not in its scheme; the message lists the closest terms."""

    exit_code = 2


class QueryRefused(OligokbError):
    """A query that the read-only surfaces refuse (update, SERVICE, FROM)."""

    exit_code = 2


class NonConformant(OligokbError):
    """The graph violates the SHACL shapes (exit 1)."""

    exit_code = 1
