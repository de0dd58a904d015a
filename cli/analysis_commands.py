"""`oligokb pool`: meta-analysis from a CSV of effect sizes (and, later, from the knowledge base)."""
import typer


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the `oligokb` app."""
