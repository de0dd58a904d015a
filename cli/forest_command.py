"""`oligokb forest`: the forest plot of a knowledge-base pool (the selection of `oligokb pool kb`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cli.errors import ArgumentError, prefixed_printer, reports_errors
from cli.options import STRATUM_LEVEL_HELP, TIERS_HELP, Method, Test, by_columns, policy_options
from cli.pool_commands import pool_selection

PLOT_SUFFIXES = (".svg", ".png", ".pdf")


@reports_errors(prefixed_printer("forest"))
def forest(
    outcome: str = typer.Option(..., "--outcome", help='Outcome label, e.g. "overall survival".'),
    statistic: str = typer.Option(..., "--statistic", help='"hazard ratio" or "landmark rate" (...).'),
    out: Path = typer.Option(..., "--out", help="plot.svg, plot.png or plot.pdf (written atomically)."),
    by: str | None = typer.Option(
        None, "--by", help="Evidence-table columns, comma-separated (histology,oligo_state)."
    ),
    timepoint: float | None = typer.Option(None, "--timepoint", help="Months, for landmark rates."),
    method: Method = typer.Option(Method.REML, "--method", help="tau2 estimator."),
    test: Test = typer.Option(Test.z, "--test", help="z, knha or adhoc."),
    level: float = typer.Option(95.0, "--level", help="CI/PI level in percent."),
    tiers: str | None = typer.Option(None, "--tiers", metavar="TIERS", help=TIERS_HELP),
    include_secondary: bool = typer.Option(
        False, "--include-secondary", help="All tiers (the default; kept for scripts)."
    ),
    stratum_level: str | None = typer.Option(
        None, "--stratum-level", metavar="COLUMN=LEVEL[,...]", help=STRATUM_LEVEL_HELP
    ),
    title: str | None = typer.Option(None, "--title", help="Plot title."),
    svg_text: bool = typer.Option(
        False,
        "--svg-text",
        help="SVG only: write the text as text (editable in Inkscape or Illustrator, a smaller file, drawn with "
        "the viewer's fonts) instead of glyph outlines (the same on every machine).",
    ),
    kb_file: Path = typer.Option(Path("data/studies.ttl"), "--kb", help="Knowledge base (Turtle)."),
    endpoint: str | None = typer.Option(
        None, "--endpoint", help="Read the evidence from this SPARQL 1.1 endpoint instead of --kb."
    ),
) -> None:
    """Forest plot of a knowledge-base pool (same selection as `oligokb pool`): SVG, PNG or PDF."""
    from analysis.forest_kb import forest_from_pool
    from analysis.forest_save import save_forest

    if out.suffix.lower() not in PLOT_SUFFIXES:
        raise ArgumentError(f"--out {out}: the file must end in .svg, .png or .pdf")
    if svg_text and out.suffix.lower() != ".svg":
        raise ArgumentError(f"--svg-text is for an SVG file; --out {out} is not one (end it in .svg)")
    result = pool_selection(
        kb_file,
        outcome,
        statistic,
        by_columns(by),
        timepoint,
        method.value,
        test.value,
        level,
        policy_options(tiers, include_secondary, stratum_level),
        endpoint,
    )
    if not result.pools:
        raise ArgumentError("no estimate passes the pooling policy; `oligokb pool` with the same options lists why")
    save_forest(forest_from_pool(result, title=title), out, text_as_text=svg_text)
    print(
        f"wrote {out}: {sum(p.k for p in result.pools)} estimates in {len(result.pools)} strata; "
        f"{len(result.excluded)} left out (see `oligokb pool` with the same options)",
        file=sys.stderr,
    )
