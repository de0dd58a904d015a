"""`oligokb find SOURCE.txt`: the statistic mentions of a text (extract.finder), as JSON, a draft sheet or a table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from cli.errors import ArgumentError, console_printer, reports_errors

FORMATS = ("json", "yaml", "table")


@reports_errors(console_printer(width=None))
def find(
    source: Path = typer.Argument(..., help="Plain text of an abstract, an excerpt or a paper (UTF-8)."),
    fmt: str = typer.Option(
        "table", "--format", help="json (for tools), yaml (draft sheet entries) or table (for a person)."
    ),
) -> None:
    """Find every statistic mention of a text: kind, value, CI (level as a fraction), p, unit, time point, group cue,
    offsets and the sentence. --format yaml drafts the statistics: and groups: of a publication sheet.

    Exit 0 (also when nothing is found), 2 on a file that cannot be read or an unknown format.
    """
    from extract.finder import find as find_mentions

    if fmt not in FORMATS:
        raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArgumentError(f"{source}: cannot read the text: {exc}") from None
    mentions = find_mentions(text)
    if fmt == "json":
        keys = (
            "kind",
            "value",
            "ci_low",
            "ci_high",
            "ci_level",
            "p_value",
            "unit",
            "timepoint",
            "group",
            "start",
            "end",
            "quote",
        )
        out = {"source": str(source), "mentions": [{k: m.as_dict()[k] for k in keys} for m in mentions]}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    elif fmt == "yaml":
        from extract.draft import draft, to_yaml

        sys.stdout.write(to_yaml(draft(mentions, source.name), source, len(mentions)))
    else:
        _table(mentions, source)


def _table(mentions: list[Any], source: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    table = Table(title=f"{source.name}: {len(mentions)} statistic mentions", show_lines=False)
    for col in ("kind", "value", "CI", "level", "p", "unit", "time point", "group cue", "chars"):
        table.add_column(col, overflow="fold")

    def num(x: object) -> str:
        return "" if x is None else x if isinstance(x, str) else format(x, "g")

    for m in mentions:
        ci = f"{num(m.ci_low)} to {num(m.ci_high)}" if m.ci_low is not None else ""
        level = format(m.ci_level, "g") if m.ci_level is not None else ""  # a fraction, as in the sheets
        tp = f"{num(m.timepoint)} months" if m.timepoint is not None else ""
        table.add_row(
            m.kind, num(m.value), ci, level, m.p_value or "", m.unit or "", tp, m.group or "", f"{m.start}-{m.end}"
        )
    out.print(table)
