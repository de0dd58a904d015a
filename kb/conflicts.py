"""Where two reports of one study disagree on the same figure (value, CI, n), with both quotes.

Two figures are "the same" when they share study, outcome, statistic, time point, time origin (a
report that does not state it matches any), unit of analysis and the compared arms (groups are matched by the study arm they are, since reports name
groups differently; groups that are no arm are matched by label). Numbers are compared as numbers
("0,70" equals "0.70"); a value present in one report and absent in the other is not a conflict.

Each pair has a kind. A report's data cut is the report itself, or for a secondary report the study's
report it quotes (`quotes` in its sheet). When one data cut supersedes the other (directly or through
later reports), the pair is a "later data cut": the numbers moved with follow-up, nobody misquoted. Every
other pair is a "disagreement", such as a review that differs from the very report it quotes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import pandas as pd

# The same figure: one study, outcome, statistic, time point, unit (44 weeks and 4.4 months are not one median),
# and the same group of patients: the arm and, for a subgroup (a histology cohort), its histology and oligo-state.
KEY = [
    "study_id",
    "outcome",
    "statistic",
    "timepoint_months",
    "unit",
    "unit_of_analysis",
    "histology",
    "oligo_state",
    "_group",
    "_reference",
]
NOT_STATED = {"", "not stated"}
FIELDS = {"value": "value", "ci_low": "CI lower bound", "ci_high": "CI upper bound", "ci_level": "CI level", "n": "n"}
COLUMNS = [
    "study_id",
    "study_label",
    "outcome",
    "statistic",
    "group",
    "timepoint_months",
    "field",
    "publication_a",
    "role_a",
    "value_a",
    "quote_a",
    "locator_a",
    "publication_b",
    "role_b",
    "value_b",
    "quote_b",
    "locator_b",
    "primary",
    "statistic_a",
    "statistic_b",
    "kind",
    "explanation",
]
DISAGREEMENT = "disagreement"
LATER_DATA_CUT = "later data cut"
KINDS = (DISAGREEMENT, LATER_DATA_CUT)


USED = [
    "study_id",
    "study_label",
    "outcome",
    "outcome_time_origin",
    "statistic",
    "timepoint_months",
    "unit",
    "unit_of_analysis",
    "histology",
    "oligo_state",
    "group",
    "group_arm_id",
    "reference_group",
    "reference_arm_id",
    "comparison",
    "publication_id",
    "publication_role",
    "publication_year",
    "source_quote",
    "source_locator",
    "statistic_id",
    "supersedes",
    "quotes_publication",
    *FIELDS,
]


def _number(text: str) -> float | None:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        return None


def superseded_by(table: pd.DataFrame) -> dict[str, set[str]]:
    """Per publication: every publication it supersedes, directly or through the reports in between
    (as far as the table shows them: a report without figures has no rows to carry its `supersedes`)."""
    direct: dict[str, set[str]] = {}
    if "supersedes" in table.columns:
        for pub, old in table[["publication_id", "supersedes"]].drop_duplicates().itertuples(index=False):
            direct.setdefault(pub, set()).update(x for x in str(old or "").split(";") if x)
    closure: dict[str, set[str]] = {}
    for pub in direct:
        seen: set[str] = set()
        stack = list(direct[pub])
        while stack:
            old = stack.pop()
            if old not in seen:
                seen.add(old)
                stack.extend(direct.get(old, ()))
        closure[pub] = seen
    return closure


def classify(a: dict, b: dict, supersedes: dict[str, set[str]]) -> tuple[str, str]:
    """(kind, explanation) of a disagreeing pair of figures; a and b are evidence-table records."""

    def cut(r: dict) -> str:
        return r.get("quotes_publication") or r["publication_id"]

    def via(r: dict) -> str:
        return f", which {r['publication_id']} quotes" if r.get("quotes_publication") else ""

    cut_a, cut_b = cut(a), cut(b)
    for new, old, r_old in ((cut_a, cut_b, b), (cut_b, cut_a, a)):
        if new != old and old in supersedes.get(new, ()):
            return LATER_DATA_CUT, f"{new} supersedes {old}{via(r_old)}"
    for r, other in ((a, b), (b, a)):
        if r.get("quotes_publication") and r["quotes_publication"] == other["publication_id"]:
            return DISAGREEMENT, f"{r['publication_id']} quotes {other['publication_id']} and differs from it"
    if cut_a == cut_b and cut_a not in (a["publication_id"], b["publication_id"]):
        return DISAGREEMENT, f"both quote {cut_a} and differ"
    return DISAGREEMENT, "no later report explains the difference"


def find_conflicts(table: pd.DataFrame) -> pd.DataFrame:
    """One row per disagreeing field of a pair of reports; empty frame when all agree."""
    # Only the columns a conflict reads: the pairwise step holds its rows as Python records.
    rows = table[[c for c in USED if c in table.columns]].copy()
    rows["_group"] = rows["group_arm_id"].where(rows["group_arm_id"] != "", "label:" + rows["group"])
    rows["_reference"] = rows["reference_arm_id"].where(
        rows["reference_arm_id"] != "", "label:" + rows["reference_group"]
    )
    # Only figures that two publications report can disagree: drop the rest before the pairwise loop.
    rows = rows[rows.groupby(KEY, sort=False)["publication_id"].transform("nunique") > 1]
    supersedes = superseded_by(table)
    rows = rows.sort_values([*KEY, "publication_role", "publication_year", "publication_id"], kind="stable")
    out = []
    records = rows.to_dict(orient="records")
    start = 0
    while start < len(records):  # one run of records per KEY (the frame is sorted by KEY)
        key = [records[start][k] for k in KEY]
        end = start + 1
        while end < len(records) and [records[end][k] for k in KEY] == key:
            end += 1
        part, start = records[start:end], end
        for i, a in enumerate(part):
            for b in part[i + 1 :]:
                if a["publication_id"] == b["publication_id"]:
                    continue
                origins = {a["outcome_time_origin"], b["outcome_time_origin"]} - NOT_STATED
                if len(origins) > 1:  # different time origins: different figures, not a conflict
                    continue
                for field, label in FIELDS.items():
                    va, vb = _number(a[field]), _number(b[field])
                    if va is None or vb is None or va == vb:
                        continue
                    primary = ";".join(r["publication_id"] for r in (a, b) if r["publication_role"] == "primary")
                    kind, explanation = classify(a, b, supersedes)
                    out.append(
                        {
                            "study_id": a["study_id"],
                            "study_label": a["study_label"],
                            "outcome": a["outcome"],
                            "statistic": a["statistic"],
                            "group": a["comparison"] or a["group"],
                            "timepoint_months": a["timepoint_months"],
                            "field": label,
                            "publication_a": a["publication_id"],
                            "role_a": a["publication_role"],
                            "value_a": a[field],
                            "quote_a": a["source_quote"],
                            "locator_a": a["source_locator"],
                            "publication_b": b["publication_id"],
                            "role_b": b["publication_role"],
                            "value_b": b[field],
                            "quote_b": b["source_quote"],
                            "locator_b": b["source_locator"],
                            "primary": primary,
                            # both figures by id: the reports may name the group differently
                            "statistic_a": a["statistic_id"],
                            "statistic_b": b["statistic_id"],
                            "kind": kind,
                            "explanation": explanation,
                        }
                    )
    return pd.DataFrame(out, columns=COLUMNS)


def conflicts_markdown(conflicts: pd.DataFrame) -> str:
    if conflicts.empty:
        return "No conflicts: every figure reported by two publications of a study agrees.\n"
    n_dis = int((conflicts["kind"] == DISAGREEMENT).sum())
    lines = [
        f"# Conflicts between reports ({len(conflicts)}: {n_dis} {DISAGREEMENT}{'' if n_dis == 1 else 's'}, "
        f"{len(conflicts) - n_dis} from a {LATER_DATA_CUT})",
        "",
        f"A *{LATER_DATA_CUT}* differs because a later report of the study supersedes the one quoted; "
        f"a *{DISAGREEMENT}* has no such explanation (e.g. a review that differs from the report it quotes).",
        "",
    ]
    order = {k: i for i, k in enumerate(KINDS)}
    for (study, label), part in conflicts.groupby(["study_id", "study_label"], sort=True):
        lines += [f"## {label} (`{study}`)", ""]
        part = part.sort_values("kind", key=lambda s: s.map(order), kind="stable")
        for r in cast(Iterable[Any], part.itertuples()):  # rows of text columns (mypy sees any scalar)
            when = f" at {r.timepoint_months} months" if r.timepoint_months else ""
            lines.append(
                f"- **{r.outcome}, {r.statistic}{when}, {r.group}: {r.field}** differs: "
                f"{r.kind} ({r.explanation}; primary: {r.primary or 'none'})"
            )
            lines.append(f"  - {r.publication_a} ({r.role_a}, {r.locator_a}): **{r.value_a}**: “{r.quote_a}”")
            lines.append(f"  - {r.publication_b} ({r.role_b}, {r.locator_b}): **{r.value_b}**: “{r.quote_b}”")
        lines.append("")
    return "\n".join(lines)
