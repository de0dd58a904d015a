"""The search record (data/search/prisma.yaml) as the About page shows it: a PRISMA 2020 flow diagram."""

from __future__ import annotations

from pathlib import Path

import yaml

RECORD = Path(__file__).resolve().parents[1] / "data" / "search" / "prisma.yaml"


def load_record(path: Path = RECORD) -> dict | None:
    """The record, or None when the file is not there (a knowledge base built elsewhere)."""
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _box(name: str, text: str, side: bool = False) -> str:
    label = text.replace("\\", "\\\\").replace('"', '\\"')
    style = 'style="rounded,filled", fillcolor="#f3f3f3"' if side else 'style="rounded"'
    return f'  {name} [shape=box, {style}, label="{label}"];'


def prisma_dot(record: dict) -> str:
    """PRISMA 2020 flow (identification, screening, retrieval, eligibility, included) as Graphviz DOT."""
    ident, screen = record["identification"], record["screening"]
    retr, elig, inc = record["retrieval"], record["eligibility"], record["included"]
    reasons: dict[str, int] = {}
    for item in record.get("not_entered", []):
        reason = str(item.get("reason", "")).split(":")[0].strip() or "other"  # each reason starts with its category
        reasons[reason] = reasons.get(reason, 0) + 1
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
    why = "\n".join(f"{reason[:60]}: {n}" for reason, n in top)
    lines = [
        "digraph prisma {",
        "  rankdir=TB; node [fontname=Helvetica, fontsize=10]; edge [arrowsize=0.6];",
        _box("ident", f"Identification\nRecords identified: {ident['records']}\n({ident['queries']} queries)"),
        _box("screen", f"Screening\nRecords screened: {screen['records_screened']}"),
        _box("screen_x", f"Records excluded: {screen['records_excluded']}", side=True),
        _box("sought", f"Reports sought for retrieval: {retr['reports_sought']}"),
        _box("sought_x", f"Reports not retrieved\n(results not readable): {retr['reports_not_retrieved']}", side=True),
        _box("assessed", f"Reports assessed for eligibility: {elig['reports_assessed']}"),
        _box("assessed_x", f"Reports excluded: {elig['reports_excluded']}" + (f"\n{why}" if why else ""), side=True),
        _box("included", f"Included\nStudies: {inc['studies']}\nReports: {inc['reports']}"),
        "  ident -> screen -> sought -> assessed -> included;",
        "  screen -> screen_x; sought -> sought_x; assessed -> assessed_x;",
        "  { rank=same; screen; screen_x } { rank=same; sought; sought_x } { rank=same; assessed; assessed_x }",
        "}",
    ]
    return "\n".join(lines)
