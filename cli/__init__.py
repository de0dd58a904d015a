"""oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy.

The CLI is thin: it parses arguments, calls kb/ and analysis/, prints, and maps error classes to
exit codes (0 ok, 1 non-conformant, 2 bad input, 3 internal).
"""

from typing import Any

import typer
from typer.core import TyperGroup

from cli import (
    build_commands,
    cite_command,
    curation_commands,
    find_command,
    forest_command,
    grade_command,
    pool_commands,
    query_commands,
    review_commands,
)

#: The commands in the order `oligokb --help` lists them.
COMMANDS: tuple[tuple[str, Any], ...] = (
    ("build", build_commands.build),
    ("synth", build_commands.synth),
    ("validate", build_commands.validate),
    ("summary", query_commands.summary),
    ("query", query_commands.query),
    ("serve", query_commands.serve),
    ("export", query_commands.export),
    ("cite", cite_command.cite),
    ("conflicts", curation_commands.conflicts),
    ("coverage", curation_commands.coverage),
    ("pool", pool_commands.pool_app),
    ("forest", forest_command.forest),
    ("grade", grade_command.grade),
    ("leave-one-out", review_commands.leave_one_out),
    ("cumulative", review_commands.cumulative),
    ("funnel", review_commands.funnel),
    ("rob-sensitivity", review_commands.rob_sensitivity),
    ("find", find_command.find),
)


class _Ordered(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:  # Any: typer's vendored click Context
        return [name for name, _ in COMMANDS]


app = typer.Typer(cls=_Ordered, no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode=None)


@app.callback()
def _root() -> None:
    """oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy."""


for _name, _command in COMMANDS:
    if isinstance(_command, typer.Typer):
        app.add_typer(_command, name=_name)
    else:
        app.command(_name)(_command)


def main() -> None:
    app(prog_name="oligokb")
