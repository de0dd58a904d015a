"""The one mapping from the error root to exit codes: a command decorated with `reports_errors` lets
every `terms.errors.OligokbError` (analysis errors included) propagate; the decorator prints its message
the way the command's group prints messages and exits with the error's `exit_code` (1 non-conformant,
2 bad input, 3 internal)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from terms.errors import OligokbError

P = ParamSpec("P")
R = TypeVar("R")


class ArgumentError(OligokbError, ValueError):
    """A bad argument or combination of arguments found by the CLI itself (exit 2); the message is
    printed as it is."""

    exit_code = 2


Printer = Callable[[OligokbError], None]


def console_printer(width: int | None = 200) -> Printer:
    """Print the message on stderr through rich (no markup), at `width` columns when stderr is not
    a terminal (the knowledge-base commands: 200; `find`: None, rich's default)."""

    def show(exc: OligokbError) -> None:
        from rich.console import Console

        Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else width).print(
            str(exc), markup=False
        )

    return show


def prefixed_printer(command: str) -> Printer:
    """Print `oligokb COMMAND: message` on stderr (the analysis commands); an analysis error that is
    not bad input is `oligokb COMMAND: internal error: message`."""

    def show(exc: OligokbError) -> None:
        from analysis.errors import AnalysisError

        internal = "internal error: " if isinstance(exc, AnalysisError) and exc.exit_code == 3 else ""
        print(f"oligokb {command}: {internal}{exc}", file=sys.stderr)

    return show


def reports_errors(printer: Printer) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a command: an OligokbError is printed by `printer` and exits with its `exit_code`."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return command(*args, **kwargs)
            except OligokbError as exc:
                printer(exc)
                raise typer.Exit(exc.exit_code) from None

        return run

    return decorate
