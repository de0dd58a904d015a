"""oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy.

The CLI is thin: it parses arguments, calls kb/ and analysis/, prints, and maps error classes to
exit codes (0 ok, 1 non-conformant, 2 bad input, 3 internal).
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

#: The commands in the order `oligokb --help` lists them: name, module (cli.<module>), attribute.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("build", "build_commands", "build"),
    ("synth", "build_commands", "synth"),
    ("validate", "build_commands", "validate"),
    ("summary", "query_commands", "summary"),
    ("query", "query_commands", "query"),
    ("serve", "query_commands", "serve"),
    ("export", "query_commands", "export"),
    ("cite", "cite_command", "cite"),
    ("conflicts", "curation_commands", "conflicts"),
    ("coverage", "curation_commands", "coverage"),
    ("pool", "pool_commands", "pool_app"),
    ("forest", "forest_command", "forest"),
    ("grade", "grade_command", "grade"),
    ("leave-one-out", "review_commands", "leave_one_out"),
    ("cumulative", "review_commands", "cumulative"),
    ("funnel", "review_commands", "funnel"),
    ("rob-sensitivity", "review_commands", "rob_sensitivity"),
    ("find", "find_command", "find"),
)


class _Ordered(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:  # Any: typer's vendored click Context
        return [name for name, _, _ in COMMANDS if name in self.commands]


def _root() -> None:
    """oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy."""


def command_app(names: tuple[str, ...]) -> typer.Typer:
    """The app with the commands `names` only (each command's module imported, its options read by typer)."""
    app = typer.Typer(cls=_Ordered, no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode=None)
    app.callback()(_root)
    for name, module, attribute in COMMANDS:
        if name not in names:
            continue
        command = getattr(import_module(f"cli.{module}"), attribute)
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name)(command)
    return app


@cache
def full_app() -> typer.Typer:
    """Every command: `oligokb --help`, a misspelt command's message, and the tests' CliRunner."""
    return command_app(tuple(name for name, _, _ in COMMANDS))


def __getattr__(name: str) -> Any:
    if name == "app":  # `from cli import app`: built when asked for, not at every start-up
        return full_app()
    raise AttributeError(f"module 'cli' has no attribute {name!r}")


def main() -> None:
    # Only the invoked command's module is imported and only its options are read by typer: the others'
    # imports and typer's work on their options cost every start-up (docs/performance.md, issue 17).
    invoked = sys.argv[1] if len(sys.argv) > 1 else ""
    known = {name for name, _, _ in COMMANDS}
    app = command_app((invoked,)) if invoked in known else full_app()
    app(prog_name="oligokb")
