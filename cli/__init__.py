"""oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy.

The CLI is thin: it parses arguments, calls kb/ and analysis/, prints, and maps error classes to
exit codes (0 ok, 1 non-conformant, 2 bad input, 3 internal).
"""
import typer

from cli import analysis_commands, find_command, kb_commands

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode=None)


@app.callback()
def _root() -> None:
    """oligokb: evidence knowledge base and meta-analysis for metastasis-directed radiotherapy."""


kb_commands.register(app)
kb_commands.register_curation(app)
analysis_commands.register(app)
analysis_commands.register_forest(app)
find_command.register(app)


def _pool_csv_flag(argv: list[str]) -> list[str]:
    """`oligokb pool --outcome ... --csv` (no FILE) asks for CSV output, as the issue's contract
    writes it; `--csv FILE` stays the CSV input mode. Rewrite the bare flag to --format csv."""
    if "pool" not in argv or "--csv" not in argv:
        return argv
    i = argv.index("--csv")
    if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
        return argv[:i] + ["--format", "csv"] + argv[i + 1:]
    return argv


def main() -> None:
    import sys

    app(args=_pool_csv_flag(sys.argv[1:]), prog_name="oligokb")
