"""A reviewer's overrides of the suggested GRADE judgements: a YAML file (docs/grade.md shows its shape),
read with the sheets' safe loader, checked field by field, and applied to graded strata.

    overrides:
      - outcome: progression-free survival
        statistic: hazard ratio
        stratum: randomised          # optional: every stratum of the analysis when absent
        timepoint_months: 24         # optional: landmark rates only
        domain: indirectness         # risk_of_bias, inconsistency, indirectness, imprecision, publication_bias
        judgement: serious           # not serious, serious, very serious
        reason: "why, in words a reader of the table understands"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.grade import DOMAINS, NOT_SERIOUS, SERIOUS, VERY_SERIOUS, StratumGrade, with_override
from terms.errors import InputError, Problem

#: Judgements a reviewer may set ("not assessable" is the tool's to say, not an override).
OVERRIDE_JUDGEMENTS = (NOT_SERIOUS, SERIOUS, VERY_SERIOUS)
REQUIRED = ("outcome", "statistic", "domain", "judgement", "reason")
OPTIONAL = ("stratum", "timepoint_months")


class OverrideFileError(InputError):
    """A GRADE override file that cannot be used (exit 2): each problem names the file, the field and the fix."""


@dataclass(frozen=True)
class Override:
    outcome: str
    statistic: str
    domain: str
    judgement: str
    reason: str
    stratum: str | None = None
    timepoint_months: float | None = None
    where: str = ""  # "FILE: overrides[i]", for messages

    def matches(self, grade: StratumGrade) -> bool:
        return (
            self.outcome.casefold() == grade.outcome.casefold()
            and self.statistic.casefold() == grade.statistic.casefold()
            and (self.stratum is None or self.stratum.casefold() == grade.stratum.casefold())
            and (self.timepoint_months is None or self.timepoint_months == grade.timepoint_months)
        )


def parse_overrides(data: Any, source: str) -> tuple[Override, ...]:
    """The loaded YAML document -> overrides; every problem at once, as one OverrideFileError."""

    def line(node: Any, key: str | None = None) -> int | None:
        lines = getattr(node, "lines", {})
        return lines.get(key) if key else None

    if data is None:
        return ()
    if not isinstance(data, dict) or set(data) != {"overrides"}:
        raise OverrideFileError(
            Problem(
                source, "(file)", "the file must hold one key, overrides: a list", "start the file with 'overrides:'"
            )
        )
    items = data["overrides"]
    if items is None:
        return ()
    if not isinstance(items, list):
        raise OverrideFileError(
            Problem(source, "overrides", "is not a list", "write each override as a '- ' item", line(data, "overrides"))
        )
    problems: list[Problem] = []
    out: list[Override] = []
    for i, item in enumerate(items):
        at = f"overrides[{i}]"
        if not isinstance(item, dict):
            problems.append(
                Problem(source, at, "is not a mapping", "give outcome, statistic, domain, judgement, reason")
            )
            continue
        bad = len(problems)
        for key in sorted(set(item) - set(REQUIRED) - set(OPTIONAL)):
            allowed = ", ".join(REQUIRED + OPTIONAL)
            problems.append(Problem(source, f"{at}.{key}", "unknown field", f"use only {allowed}", line(item, key)))
        for key in REQUIRED:
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(
                    Problem(source, f"{at}.{key}", "is missing or empty", f"give the {key} as text", line(item, key))
                )
        if isinstance(item.get("domain"), str) and item["domain"] not in DOMAINS:
            problems.append(
                Problem(
                    source,
                    f"{at}.domain",
                    f"{item['domain']!r} is not a GRADE domain",
                    "one of " + ", ".join(DOMAINS),
                    line(item, "domain"),
                )
            )
        if isinstance(item.get("judgement"), str) and item["judgement"] not in OVERRIDE_JUDGEMENTS:
            problems.append(
                Problem(
                    source,
                    f"{at}.judgement",
                    f"{item['judgement']!r} is not a judgement a reviewer sets",
                    "one of " + ", ".join(OVERRIDE_JUDGEMENTS),
                    line(item, "judgement"),
                )
            )
        timepoint: float | None = None
        if item.get("timepoint_months") is not None:
            try:
                timepoint = float(str(item["timepoint_months"]))
            except ValueError:
                problems.append(
                    Problem(
                        source,
                        f"{at}.timepoint_months",
                        f"{item['timepoint_months']!r} is not a number",
                        "months, e.g. 24",
                        line(item, "timepoint_months"),
                    )
                )
        stratum = item.get("stratum")
        if stratum is not None and not isinstance(stratum, str):
            problems.append(
                Problem(
                    source, f"{at}.stratum", "is not text", "the stratum as the table shows it", line(item, "stratum")
                )
            )
        if len(problems) == bad:
            out.append(
                Override(
                    item["outcome"].strip(),
                    item["statistic"].strip(),
                    item["domain"],
                    item["judgement"],
                    item["reason"].strip(),
                    stratum.strip() if isinstance(stratum, str) else None,
                    timepoint,
                    f"{source}: {at}",
                )
            )
    if problems:
        raise OverrideFileError(problems)
    return tuple(out)


def load_overrides(path: Path) -> tuple[Override, ...]:
    """Read an override file with the sheets' safe YAML loader (extract.yaml_io), then parse it."""
    from extract.yaml_io import load_sheet

    return parse_overrides(load_sheet(Path(path)), str(path))


def apply_overrides(
    grades: tuple[StratumGrade, ...], overrides: tuple[Override, ...]
) -> tuple[tuple[StratumGrade, ...], tuple[Override, ...]]:
    """Each grade with the overrides that match it (a later override of the same domain wins), and the
    overrides that matched no stratum (the caller says so: a misspelt outcome must not pass silently)."""
    used: set[int] = set()
    out = []
    for grade in grades:
        for i, o in enumerate(overrides):
            if o.matches(grade):
                grade = with_override(grade, o.domain, o.judgement, o.reason)
                used.add(i)
        out.append(grade)
    return tuple(out), tuple(o for i, o in enumerate(overrides) if i not in used)
