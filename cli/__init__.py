"""oligokb command line (thin: parses arguments, calls kb/ and analysis/, prints)."""
import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


def main() -> None:
    app()
