"""`oligokb grade`: a GRADE summary of findings per pooled stratum (the selection of `oligokb pool kb`)."""

# No `from __future__ import annotations`: typer reads these signatures, built at import time.
import sys
from pathlib import Path
from typing import Any

import typer

from cli.errors import ArgumentError, prefixed_printer, reports_errors
from cli.selection import selection_command

GRADE_FORMATS = ("md", "csv", "json")
FIGURE_SUFFIXES = (".svg", ".png", ".pdf")
DEFAULT_OVERRIDES = Path("data/grade-overrides.yaml")

GRADE_HELP = """GRADE summary of findings for a knowledge-base pool: per stratum, the five reasons to rate
the certainty of evidence down (risk of bias, inconsistency, indirectness, imprecision, publication
bias), each with a suggested judgement and the numbers behind it, a reviewer's overrides, and the
certainty (high, moderate, low, very low). The rules are in docs/grade.md.

\b
Example:
  oligokb grade --outcome "progression-free survival" --statistic "hazard ratio" --out sof.md --figure sof.png
"""


@reports_errors(prefixed_printer("grade"))
@selection_command(GRADE_FORMATS)
def grade(
    result: Any,
    source: Any,
    output_format: str = typer.Option("md", "--format", help="md (a table to paste into a review), csv or json."),
    out: Path | None = typer.Option(None, "--out", help="Write the table to this file instead of printing it."),
    figure: Path | None = typer.Option(
        None, "--figure", help="Also draw the table as a figure: FILE.png, FILE.svg or FILE.pdf."
    ),
    overrides_file: Path | None = typer.Option(
        None,
        "--overrides",
        metavar="FILE",
        help=f"A reviewer's judgements that replace the suggested ones, each with a reason (YAML; "
        f"docs/grade.md). Default: {DEFAULT_OVERRIDES} when it exists.",
    ),
) -> None:
    from analysis.grade import grade_pool
    from analysis.grade_overrides import apply_overrides, load_overrides
    from analysis.grade_report import grade_frame, grade_json, grade_markdown
    from kb.backend import open_kb
    from kb.rob import rob_table
    from terms.files import write_atomic

    if figure is not None and figure.suffix.lower() not in FIGURE_SUFFIXES:
        raise ArgumentError(f"--figure {figure}: the file must end in .png, .svg or .pdf")
    if overrides_file is not None and not overrides_file.is_file():
        raise ArgumentError(f"--overrides {overrides_file}: no such file")
    overrides_path = overrides_file or (DEFAULT_OVERRIDES if DEFAULT_OVERRIDES.is_file() else None)
    overrides = load_overrides(overrides_path) if overrides_path is not None else ()
    rob = rob_table(open_kb(*source))
    grades, unused = apply_overrides(grade_pool(result, rob), overrides)
    for o in unused:
        print(
            f"warning: {o.where}: the override of {o.domain} for {o.outcome} / {o.statistic}"
            + (f" / {o.stratum}" if o.stratum else "")
            + " matches no stratum of this run; check the labels against the table",
            file=sys.stderr,
        )
    if output_format == "md":
        text = grade_markdown(grades, level_pct=result.level * 100, method=result.method)
    elif output_format == "json":
        text = grade_json(grades) + "\n"
    else:
        text = grade_frame(grades).to_csv(index=False, lineterminator="\n")
    if figure is not None:
        from analysis.forest_save import save_forest
        from analysis.grade_figure import grade_figure

        save_forest(grade_figure(grades, level_pct=result.level * 100), figure)
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text.encode("utf-8"))
        print(f"wrote {out}" + (f" and {figure}" if figure is not None else ""), file=sys.stderr)


grade.__doc__ = GRADE_HELP
