"""Curation commands: conflicts (two reports of one study disagree), coverage (a text's statistics
against its sheet)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import typer

from cli.errors import ArgumentError, console_printer, reports_errors
from cli.options import KB_OPT, SHEETS_OPT

reported = reports_errors(console_printer())
CONFLICT_FORMATS = ("md", "csv")


@reported
def conflicts(
    fmt: str = typer.Option("md", "--format", help="md (a readable report) or csv."),
    kind: str = typer.Option(
        "all",
        "--kind",
        help="all, disagreement (no later report explains it) or "
        "'later data cut' (a later report supersedes the one quoted).",
    ),
    kb_file: Path = KB_OPT,
) -> None:
    """List every figure on which two reports of one study disagree (value, CI, n), with both quotes.

    Each pair is a disagreement or a later data cut: a secondary report is compared through the report it
    quotes (`quotes` in its sheet), and a report superseded by a later one explains a difference."""
    from kb.conflicts import KINDS, conflicts_markdown, find_conflicts
    from kb.export import evidence_table
    from kb.store import load_store

    if fmt not in CONFLICT_FORMATS:
        raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(CONFLICT_FORMATS)}")
    if kind != "all" and kind not in KINDS:
        raise ArgumentError(f"--kind {kind!r} is not one of all, " + ", ".join(repr(k) for k in KINDS))
    store: Any = load_store(kb_file)  # conflicts are kept once per KB version (kb.materialise)
    found = store.cached("conflicts", lambda: find_conflicts(evidence_table(store)))
    if kind != "all":
        found = found[found["kind"] == kind].reset_index(drop=True)
    if fmt == "csv":
        sys.stdout.write(found.to_csv(index=False, lineterminator="\n"))
    else:
        sys.stdout.write(conflicts_markdown(found))


@reported
def coverage(
    source: Path = typer.Argument(..., help="Plain text of the publication (e.g. ../shared/seeds/004_....txt)."),
    publication: str = typer.Option(..., "--publication", help="The publication id whose sheet is checked."),
    sheets: Path = SHEETS_OPT,
    show: str = typer.Option("missing", "--show", help="missing (default), all, or none: which mentions to list."),
) -> None:
    """Find the statistic mentions in a text and say which are in the sheet of that publication.

    Exit 0 when every mention is covered or listed in the sheet's left_out, 1 when some are missing.
    """
    from rich.console import Console

    from extract.coverage import coverage as find_coverage
    from extract.sheets import load_extractions

    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgumentError(f"{source}: cannot read the text: {exc}") from None
    ex = load_extractions(sheets)
    pub = ex.publications.get(publication)
    if pub is None:
        raise ArgumentError(
            f"--publication {publication!r} has no sheet in {sheets}/publications; known: {', '.join(sorted(ex.publications))}"
        )
    figures: list[tuple[str, list[str]]] = []
    left_out: list[str] = []
    for report in pub.reports:
        left_out.extend(report.left_out)
        for group in report.groups:
            if group.source is not None and group.n is not None:
                figures.append((group.source.quote, [str(group.n)]))
        for stat in report.statistics:
            numbers = [format(stat.value, "f")]
            if stat.ci is not None:
                numbers += [format(stat.ci.low, "f"), format(stat.ci.level * 100, "f")]
                if stat.ci.high is not None:
                    numbers.append(format(stat.ci.high, "f"))
            if stat.p_value:
                numbers.append(stat.p_value.lstrip("<>=≤≥ "))
            if stat.timepoint_months is not None:
                numbers.append(format(stat.timepoint_months, "f"))
            figures.append((stat.source.quote, numbers))
    for study in ex.studies.values():
        for src in [i.source for i in study.oligo_state.inputs] + (
            [study.histology_composition.source] if study.histology_composition else []
        ):
            if src.publication == publication:
                figures.append((src.quote, re.findall(r"\d+(?:[.,]\d+)?", src.quote)))
    results = find_coverage(text, figures, left_out)
    counts = {status: sum(1 for _, s in results if s == status) for status in ("covered", "left out", "MISSING")}
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    for mention, status in results:
        if show == "all" or (show == "missing" and status == "MISSING"):
            out.print(f"[{status}] {mention.kind} {', '.join(mention.numbers)}: …{mention.context}…", markup=False)
    out.print(
        f"{publication}: {len(results)} statistic mentions: {counts['covered']} covered, "
        f"{counts['left out']} left out with a reason, {counts['MISSING']} missing",
        markup=False,
    )
    if counts["MISSING"]:
        raise typer.Exit(1)
