"""oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy.

The CLI is thin: it parses arguments, calls kb/ and analysis/, prints, and maps error classes to
exit codes (0 ok, 1 non-conformant, 2 bad input, 3 internal).
"""
import typer

from cli import analysis_commands, kb_commands

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode=None)


@app.callback()
def _root() -> None:
    """oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy."""


kb_commands.register(app)
analysis_commands.register(app)


def main() -> None:
    app()
