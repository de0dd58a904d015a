"""Draft extraction-sheet entries from the finder's mentions (`oligokb find SOURCE --format yaml`).

The draft is the `groups:` and `statistics:` of a report in the publication-sheet format
(docs/extraction-sheets.md), with every number, CI, p-value, unit, time point, locator and verbatim quote
filled in from the text. What a finder cannot know is left as TODO, so that `oligokb build` refuses a
draft until a curator fills it in: the outcome, the group (and, for a ratio, the reference group and
whether it is adjusted), and the ids (todo-stat-N, todo-group-N: rename them).

- A count becomes a `groups:` entry with its n (a group size, or the events of a group: the curator decides).
- A p-value printed after a comparison (not inside a ratio's brackets) goes to the statistic just before it
  in the sentence, as the sheets keep it (gomez2019-jco: "each between-arm p is kept as p_value on the
  figure"); a p-value with no statistic before it becomes a test_p_value draft.
- A Lancet middle-dot decimal ("8·4") is written with a point; its quote keeps the middle dot, which the
  sheets' quote check does not read yet: such drafts carry a note saying so.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import yaml

from extract.finder import RATIOS, Mention

TODO = "TODO"
_STATISTIC = {
    "hazard_ratio": "hazard_ratio",
    "odds_ratio": "odds_ratio",
    "risk_ratio": TODO,
    "median": "median",
    "landmark_rate": "landmark_rate",
    "cumulative_incidence": "cumulative_incidence",
    "proportion": "proportion",
    "p_value": "test_p_value",
}


def _printed(n: str) -> str:
    return n.replace("·", ".")


def _level(level: float) -> str:
    return format(Decimal(str(level)).normalize(), "f")


def _source(m: Mention, locator: str) -> dict:
    src: dict = {"locator": f"{locator}, characters {m.start}-{m.end}", "quote": " ".join(m.quote.split())}
    if m.as_printed[:1].isalpha():
        src["number_in_words"] = m.as_printed
    return src


def _value(m: Mention) -> str:
    if m.as_printed[:1].isalpha():
        return format(Decimal(str(m.value)).normalize(), "f")
    return _printed(m.as_printed)


def draft(mentions: list[Mention], locator: str) -> dict:
    """{"groups": [...], "statistics": [...]} drafts, plus "comments": {id: comment line}."""
    groups: list[dict] = []
    stats: list[dict] = []
    comments: dict[str, str] = {}
    by_sentence: dict[str, list[dict]] = {}
    for m in sorted(mentions, key=lambda x: x.start):
        if m.kind == "count":
            gid = f"todo-group-{len(groups) + 1}"
            groups.append({"id": gid, "label": m.group or TODO, "n": int(m.value), "source": _source(m, locator)})
            comments[gid] = (
                f"DRAFT count {m.as_printed}: a group size (fill label, arm) or the events of a group (make it a statistic: count)"
            )
            continue
        if m.kind == "p_value":
            before = by_sentence.get(m.quote, [])
            if before and "p_value" not in before[-1]:
                before[-1]["p_value"] = m.p_value
                comments[before[-1]["id"]] += (
                    f"; p {m.p_value} printed after the comparison: check which figure it belongs to"
                )
                continue
        sid = f"todo-stat-{len(stats) + 1}"
        statistic = _STATISTIC[m.kind]
        if m.kind == "hazard_ratio" and m.label and re.search(r"sub|^s\s*hr$", m.label, re.IGNORECASE):
            statistic = "subdistribution_hazard_ratio"
        entry: dict = {"id": sid, "outcome": TODO, "statistic": statistic, "group": TODO}
        if m.kind in RATIOS or m.kind == "p_value":
            entry["reference_group"] = TODO
        entry["value"] = _value(m) if m.kind != "p_value" else _printed(m.as_printed)
        if m.kind in RATIOS:
            entry["unit"] = "ratio"
        elif m.unit:
            entry["unit"] = m.unit
        if m.ci_low is not None:
            ci: dict = {"low": _printed(m.numbers[1])}
            if m.ci_high == "NR":
                ci["high"] = "NR"
            elif m.ci_high is not None:
                ci["high"] = _printed(m.numbers[2])
            ci["level"] = _level(m.ci_level) if m.ci_level is not None else TODO
            entry["ci"] = ci
        if m.p_value is not None and m.kind != "p_value":
            entry["p_value"] = m.p_value
        elif m.kind == "p_value" and m.p_value and m.p_value[0] in "<>≤≥⩽⩾":
            entry["p_value"] = m.p_value
        if m.timepoint is not None and m.kind in ("landmark_rate", "cumulative_incidence"):
            entry["timepoint_months"] = format(Decimal(str(m.timepoint)).normalize(), "f")
        if m.kind in RATIOS:
            entry["adjusted"] = m.adjusted if m.adjusted is not None else TODO
        entry["source"] = _source(m, locator)
        notes = []
        if "·" in m.as_printed or any("·" in n for n in m.numbers):
            notes.append("the quote prints a middle-dot decimal; the sheets' quote check reads 8.4 or 8,4 only")
        if m.kind == "risk_ratio":
            notes.append("risk ratio: terms/vocab/statistic.ttl has no term for it yet")
        if m.ci_low is not None and m.ci_level is None:
            notes.append("CI printed without its level: read it elsewhere in the paper")
        if notes:
            entry["note"] = "; ".join(notes)
        cue = f" (cue: {m.group!r})" if m.group else ""
        comments[sid] = (
            f"DRAFT {m.kind} {m.as_printed}{cue}: fill outcome, group"
            + (
                ", reference_group, adjusted"
                if m.kind in RATIOS
                else ", reference_group"
                if m.kind == "p_value"
                else ""
            )
            + "; rename the id"
        )
        stats.append(entry)
        by_sentence.setdefault(m.quote, []).append(entry)
    for cue in dict.fromkeys(m.group for m in mentions if m.group and m.kind != "count"):
        if not any(g["label"] == cue for g in groups):
            gid = f"todo-group-{len(groups) + 1}"
            groups.append({"id": gid, "label": cue})
            comments[gid] = "DRAFT group named in the text: fill arm (and n with its source if printed)"
    return {"groups": groups, "statistics": stats, "comments": comments}


def to_yaml(drafted: dict, source: Path, count: int) -> str:
    """The draft as YAML text in the sheet format, each entry under a '# DRAFT' comment."""
    lines = [
        f"# DRAFT from `oligokb find {source}`: {count} statistic mentions.",
        "# Paste these into a report of a publication sheet (docs/extraction-sheets.md). Each entry needs its",
        "# outcome, group (and for a ratio reference_group and adjusted) and an id; `oligokb build` refuses the",
        "# TODO values until then. Numbers, CIs (level as a fraction), p-values, units, time points and the",
        "# verbatim quote are filled in from the text: check each against it.",
        "groups:" if drafted["groups"] else "groups: []",
    ]
    for key in ("groups", "statistics"):
        if key == "statistics":
            lines.append("statistics:" if drafted["statistics"] else "statistics: []")
        for entry in drafted[key]:
            lines.append(f"  # {drafted['comments'][entry['id']]}")
            text = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=200)
            lines.extend("  " + line for line in text.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"
