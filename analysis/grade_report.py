"""GRADE summary of findings as text: a Markdown table a reviewer can paste (with footnotes giving each
judgement's reason), a long table (one row per stratum and domain) for CSV, and JSON records."""

from __future__ import annotations

import json
import math
import string

import pandas as pd

from analysis.grade import DOMAIN_LABELS, DOMAINS, NOT_ASSESSABLE, Judgement, StratumGrade

#: Columns of `grade_frame` (CSV), in order.
GRADE_COLUMNS = (
    "outcome",
    "statistic",
    "timepoint_months",
    "stratum",
    "k",
    "participants",
    "participants_known",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_level",
    "design",
    "domain",
    "suggested",
    "reason",
    "override",
    "override_reason",
    "final",
    "downgrade",
    "certainty_start",
    "certainty",
    "certainty_symbols",
)


def grade_frame(grades: tuple[StratumGrade, ...]) -> pd.DataFrame:
    """One row per stratum and domain, GRADE_COLUMNS."""
    rows = []
    for g in grades:
        head = {k: v for k, v in g.to_dict().items() if k not in ("domains", "studies")}
        for j in g.domains:
            rows.append(head | j.to_dict())
    return pd.DataFrame(rows, columns=list(GRADE_COLUMNS))


def grade_json(grades: tuple[StratumGrade, ...]) -> str:
    def clean(x: object) -> object:
        return None if isinstance(x, float) and not math.isfinite(x) else x

    records = [{k: clean(v) for k, v in g.to_dict().items()} for g in grades]
    return json.dumps({"grades": records}, indent=2, ensure_ascii=False, allow_nan=False)


def effect_text(g: StratumGrade) -> str:
    """'HR 0.51 (0.43 to 0.62)', or the rate in percent; '' without an estimate."""
    if g.estimate is None:
        return ""
    ci = f" ({g.ci_low:.2f} to {g.ci_high:.2f})" if g.ci_low is not None and g.ci_high is not None else ""
    if g.statistic == "hazard ratio":
        return f"HR {g.estimate:.2f}{ci}"
    return f"{g.estimate:.1f}%{ci.replace(')', ' %)')}"


def analysis_title(g: StratumGrade) -> str:
    when = f" at {g.timepoint_months:g} months" if g.timepoint_months is not None else ""
    return f"{g.outcome} ({g.statistic}{when})"


def participants_text(g: StratumGrade) -> str:
    if g.participants is None:
        return "not reported"
    return f"{g.participants}" + ("" if g.participants_known == g.k else f" ({g.participants_known} of {g.k} trials)")


def footnote_mark(i: int) -> str:
    """a, b, ..., z, aa, ab, ... (footnote marks of the table)."""
    letters = string.ascii_lowercase
    return letters[i] if i < 26 else footnote_mark(i // 26 - 1) + letters[i % 26]


def footnote_text(j: Judgement) -> str:
    text = f"{DOMAIN_LABELS[j.domain].capitalize()}: suggested {j.suggested}: {j.reason}."
    if j.override:
        text += f" Reviewer's judgement: {j.override}: {j.override_reason}"
        text += "" if j.override_reason.endswith(".") else "."
    return text


def cell_and_notes(grades: tuple[StratumGrade, ...]) -> tuple[list[dict[str, str]], list[str]]:
    """Per grade, the domain cells with footnote marks; and the footnotes in order. Every judgement has a
    footnote (a "not serious" one says why too: a reader may disagree with the numbers)."""
    cells: list[dict[str, str]] = []
    notes: list[str] = []
    for g in grades:
        row = {}
        for j in g.domains:
            mark = footnote_mark(len(notes))
            notes.append(f"{mark}. {footnote_text(j)}")
            shown = j.final if j.override is None else f"{j.final} (override)"
            row[j.domain] = f"{shown} <sup>{mark}</sup>"
        cells.append(row)
    return cells, notes


def grade_markdown(grades: tuple[StratumGrade, ...], *, level_pct: float = 95.0, method: str = "REML") -> str:
    """A GRADE summary-of-findings table in Markdown, with footnotes giving every judgement's reason."""
    if not grades:
        return "No stratum to grade: no estimate passes the pooling policy.\n"
    head = ["Outcome", "Stratum", "Trials (k)", "Participants", f"Effect ({level_pct:g}% CI)"]
    head += [DOMAIN_LABELS[d].capitalize() for d in DOMAINS] + ["Certainty"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cells, notes = cell_and_notes(grades)
    for g, row in zip(grades, cells, strict=True):
        values = [analysis_title(g), g.stratum, str(g.k), participants_text(g), effect_text(g)]
        values += [row[d] for d in DOMAINS] + [f"{g.symbols} {g.certainty}"]
        lines.append("| " + " | ".join(v.replace("|", "/") for v in values) + " |")
    starts = sorted(
        {
            ("randomised trials start at high" if g.randomised else "non-randomised evidence starts at low")
            for g in grades
        }
    )
    lines += [
        "",
        f"Certainty: {'; '.join(starts)}; each serious judgement takes one level off, very serious two, "
        f"never below very low. Pooled with {method}; judgements suggested by oligokb grade (docs/grade.md) "
        "unless marked override.",
        *unassessed_rob_note(grades),
        "",
        *notes,
    ]
    return "\n".join(lines) + "\n"


def unassessed_rob_note(grades: tuple[StratumGrade, ...]) -> list[str]:
    """A warning under the table when risk of bias could not be judged: the certainty then leaves it out."""
    if all(g.domain("risk_of_bias").final != NOT_ASSESSABLE for g in grades):
        return []
    return [
        "",
        "**Risk of bias was not assessable for at least one row: its certainty does not account for risk of "
        "bias until the trials' RoB 2 judgements are in the sheets or a reviewer sets the domain.**",
    ]
