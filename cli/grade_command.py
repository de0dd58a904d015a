"""`oligokb grade`: a GRADE summary of findings per pooled stratum (the selection of `oligokb pool kb`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cli.errors import ArgumentError, prefixed_printer, reports_errors
from cli.options import Method, Test, by_columns, policy_options
from cli.pool_commands import (
    ENDPOINT_OPT,
    EXCLUDE_FLAG_OPT,
    KB_FILE_OPT,
    LEVEL_OPT,
    METHOD_OPT,
    OUTCOME_HELP,
    SECONDARY_OPT,
    STATISTIC_HELP,
    STRATUM_LEVEL_OPT,
    TEST_OPT,
    TIERS_OPT,
    TIMEPOINT_HELP,
    check_level,
    pool_selection,
)

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
def grade(
    outcome: str = typer.Option(..., "--outcome", help=OUTCOME_HELP),
    statistic: str = typer.Option(..., "--statistic", help=STATISTIC_HELP),
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="COLUMN[,COLUMN]",
        help="Evidence-table columns, comma-separated, e.g. histology,oligo_state: one row per stratum.",
    ),
    timepoint: float | None = typer.Option(None, "--timepoint", help=TIMEPOINT_HELP),
    method: Method = METHOD_OPT,
    test: Test = TEST_OPT,
    level: float = LEVEL_OPT,
    tiers: str | None = TIERS_OPT,
    include_secondary: bool = SECONDARY_OPT,
    stratum_level: str | None = STRATUM_LEVEL_OPT,
    exclude_flag: list[str] | None = EXCLUDE_FLAG_OPT,
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
    kb_file: Path = KB_FILE_OPT,
    endpoint: str | None = ENDPOINT_OPT,
) -> None:
    from analysis.grade import grade_pool
    from analysis.grade_overrides import apply_overrides, load_overrides
    from analysis.grade_report import grade_frame, grade_json, grade_markdown
    from kb.backend import open_kb
    from kb.rob import rob_table
    from terms.files import write_atomic

    check_level(level)
    if output_format not in GRADE_FORMATS:
        raise ArgumentError(f"--format {output_format!r} is not one of {', '.join(GRADE_FORMATS)}")
    if figure is not None and figure.suffix.lower() not in FIGURE_SUFFIXES:
        raise ArgumentError(f"--figure {figure}: the file must end in .png, .svg or .pdf")
    if overrides_file is not None and not overrides_file.is_file():
        raise ArgumentError(f"--overrides {overrides_file}: no such file")
    overrides_path = overrides_file or (DEFAULT_OVERRIDES if DEFAULT_OVERRIDES.is_file() else None)
    overrides = load_overrides(overrides_path) if overrides_path is not None else ()
    result = pool_selection(
        kb_file,
        outcome,
        statistic,
        by_columns(by),
        timepoint,
        method.value,
        test.value,
        level,
        policy_options(tiers, include_secondary, stratum_level, exclude_flag),
        endpoint,
    )
    for message in result.warnings:
        print(f"warning: {message}", file=sys.stderr)
    rob = rob_table(open_kb(kb_file, endpoint))
    grades, unused = apply_overrides(grade_pool(result, rob), overrides)
    for o in unused:
        print(
            f"warning: {o.where}: the override of {o.domain} for {o.outcome} / {o.statistic}"
            + (f" / {o.stratum}" if o.stratum else "")
            + " matches no stratum of this run; check the labels against the table",
            file=sys.stderr,
        )
    if output_format == "md":
        text = grade_markdown(grades, level_pct=level, method=method.value)
    elif output_format == "json":
        text = grade_json(grades) + "\n"
    else:
        text = grade_frame(grades).to_csv(index=False, lineterminator="\n")
    if figure is not None:
        from analysis.forest_save import save_forest
        from analysis.grade_figure import grade_figure

        save_forest(grade_figure(grades, level_pct=level), figure)
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text.encode("utf-8"))
        print(f"wrote {out}" + (f" and {figure}" if figure is not None else ""), file=sys.stderr)


grade.__doc__ = GRADE_HELP
