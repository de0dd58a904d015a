"""A GRADE summary of findings drawn as a figure: one row per stratum, one column per domain, each
judgement coloured, the certainty with its symbols, and the footnotes (the reasons) below."""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure

from analysis.grade import DOMAIN_LABELS, DOMAINS, NOT_ASSESSABLE, NOT_SERIOUS, SERIOUS, VERY_SERIOUS, StratumGrade
from analysis.grade_report import (
    analysis_title,
    effect_text,
    footnote_mark,
    footnote_text,
    participants_text,
    unassessed_rob_note,
)

#: Cell colours by final judgement (light, so black text stays readable in print).
COLOURS = {NOT_SERIOUS: "#d9f0d3", SERIOUS: "#fee8a8", VERY_SERIOUS: "#f4b6b6", NOT_ASSESSABLE: "#e5e5e5"}
CERTAINTY_COLOURS = {"high": "#a6dba0", "moderate": "#d9f0d3", "low": "#fee8a8", "very low": "#f4b6b6"}
_WRAP = 230  # footnote characters per line


def grade_figure(grades: tuple[StratumGrade, ...], *, level_pct: float = 95.0) -> Figure:
    """The summary-of-findings table as a matplotlib Figure (save it with analysis.forest_save.save_forest)."""
    head = ["Outcome / stratum", "k", "Participants", f"Effect ({level_pct:g}% CI)"]
    head += [DOMAIN_LABELS[d].capitalize() for d in DOMAINS] + ["Certainty"]
    widths = [3.0, 0.4, 1.1, 1.7] + [1.25] * len(DOMAINS) + [1.5]
    notes: list[str] = []
    rows: list[list[tuple[str, str]]] = []  # (text, colour) per cell
    for g in grades:
        cells = [
            (textwrap.fill(f"{analysis_title(g)}\n{g.stratum}", 34, replace_whitespace=False), "white"),
            (str(g.k), "white"),
            (participants_text(g), "white"),
            (effect_text(g), "white"),
        ]
        for j in g.domains:
            mark = footnote_mark(len(notes))
            notes.append(textwrap.fill(f"{mark}. {footnote_text(j)}", _WRAP, subsequent_indent="    "))
            shown = j.final + (" (override)" if j.override else "")
            cells.append((textwrap.fill(f"{shown} {mark}", 14), COLOURS[j.final]))
        cells.append((f"{g.symbols}\n{g.certainty}", CERTAINTY_COLOURS[g.certainty]))
        rows.append(cells)
    if not rows:
        notes = ["No stratum to grade: no estimate passes the pooling policy."]
    warning = [textwrap.fill(x.strip("*"), _WRAP) for x in unassessed_rob_note(grades) if x]
    notes = warning + notes
    note_lines = sum(n.count("\n") + 1 for n in notes)
    row_h, head_h, note_h = 0.75, 0.55, 0.17
    total_w = sum(widths)
    height = head_h + row_h * len(rows) + note_h * note_lines + 0.4
    fig = Figure(figsize=(total_w, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, total_w)
    ax.set_ylim(height, 0)
    ax.axis("off")
    x = 0.0
    for text, w in zip(head, widths, strict=True):
        ax.add_patch(_box(x, 0, w, head_h, "#dddddd"))
        ax.text(x + w / 2, head_h / 2, textwrap.fill(text, 16), ha="center", va="center", fontsize=9, weight="bold")
        x += w
    for r, cells in enumerate(rows):
        y = head_h + r * row_h
        x = 0.0
        for c, ((text, colour), w) in enumerate(zip(cells, widths, strict=True)):
            ax.add_patch(_box(x, y, w, row_h, colour))
            left = c == 0
            ax.text(
                x + (0.08 if left else w / 2),
                y + row_h / 2,
                text,
                ha="left" if left else "center",
                va="center",
                fontsize=8,
            )
            x += w
    y = head_h + row_h * len(rows) + 0.2
    for note in notes:
        ax.text(0.05, y, note, ha="left", va="top", fontsize=7)
        y += note_h * (note.count("\n") + 1)
    return fig


def _box(x: float, y: float, w: float, h: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=colour, edgecolor="#888888", linewidth=0.6)
