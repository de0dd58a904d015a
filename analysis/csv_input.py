"""A CSV of effect sizes (one study a row) read, checked and pooled: `oligokb pool csv FILE`.

Every problem raises `analysis.errors.InputError` naming the file, the data row (numbered from 1,
the header is row 0) and the column. The CSV contract is in docs/analysis.md.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import InputError

#: Output keys of one pooled result, in order (the CLI contract).
RESULT_KEYS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "pi_low",
    "pi_high",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_p",
    "weights_pct",
)
#: Extra, documented keys that help a reader of the JSON.
EXTRA_KEYS = ("method", "test", "test_used", "stat", "df", "studies")


@dataclass(frozen=True)
class EffectTable:
    """The checked rows of a CSV: study labels, the needed columns' values, the --by groups (or None)."""

    studies: list[str]
    values: dict[str, list[float]]
    groups: list[str] | None


def read_table(path: Path, measure: str, by: str | None) -> EffectTable:
    """Read and check the CSV for `measure` (GEN: yi with sei or vi; PLO, PFT: xi, ni)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", source=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", source=name) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if measure == "GEN":
        if "yi" not in header or not ({"sei", "vi"} & set(header)):
            raise InputError(
                f"missing column(s): --measure GEN needs study,yi,sei or "
                f"study,yi,vi; found {','.join(header) or 'no header'}",
                source=name,
            )
        if {"sei", "vi"} <= set(header):
            raise InputError("columns 'sei' and 'vi' are both present; keep one", source=name)
        needed = ["yi", "sei" if "sei" in header else "vi"]
    else:
        needed = ["xi", "ni"]
        missing = [c for c in needed if c not in header]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(repr(c) for c in missing)}"
                f": --measure {measure} needs study,xi,ni; found "
                f"{','.join(header) or 'no header'}",
                source=name,
            )
    if by is not None and by not in header:
        raise InputError(f"--by column '{by}' not found; columns are {','.join(header)}", source=name)
    studies: list[str] = []
    values: dict[str, list[float]] = {c: [] for c in needed}
    groups: list[str] = []
    for row_no, row in enumerate(reader, start=1):
        if all((v or "").strip() == "" for v in row.values()):
            continue
        studies.append((row.get("study") or f"row {row_no}").strip())
        for col in needed:
            cell = (row.get(col) or "").strip()
            try:
                x = float(cell)
            except ValueError:
                x = math.nan
            if not math.isfinite(x):
                raise InputError(f"{cell!r} is not a finite number", row=row_no, column=col, source=name)
            values[col].append(x)
        _check_row(name, row_no, measure, needed, {c: values[c][-1] for c in needed})
        if by is not None:
            g = (row.get(by) or "").strip()
            if not g:
                raise InputError("empty group label", row=row_no, column=by, source=name)
            groups.append(g)
    if not studies:
        raise InputError("no data rows (k = 0); need at least one study", source=name)
    return EffectTable(studies, values, groups if by else None)


def _check_row(name: str, row_no: int, measure: str, needed: list[str], vals: dict[str, float]) -> None:
    if measure == "GEN":
        col = needed[1]
        if vals[col] <= 0:
            what = "standard error" if col == "sei" else "sampling variance"
            raise InputError(f"{what} must be > 0, got {vals[col]:g}", row=row_no, column=col, source=name)
        return
    x, n = vals["xi"], vals["ni"]
    if x < 0:
        raise InputError(f"events must be >= 0, got {x:g}", row=row_no, column="xi", source=name)
    if n <= 0:
        raise InputError(f"sample size must be > 0, got {n:g}", row=row_no, column="ni", source=name)
    if x > n:
        raise InputError(f"{x:g} events exceed ni = {n:g}", row=row_no, column="xi", source=name)


def _result_dict(res: Any, level_pct: float) -> dict[str, Any]:
    d = res.to_dict()
    out = {k: d[k] for k in RESULT_KEYS}
    out.update({k: d[k] for k in EXTRA_KEYS})
    out["level"] = level_pct
    if res.backtransformed is not None:
        out["backtransformed"] = res.backtransformed.to_dict()
    return out


def pool_csv(csv_path: Path, measure: str, method: str, test: str, level_pct: float, by: str | None) -> dict[str, Any]:
    """Read, fit and return the JSON-ready dict of `oligokb pool csv`. A problem the engine finds in
    a value raises InputError naming the file and its data row (1-based)."""
    from analysis.meta import escalc_proportions, meta_analysis
    from analysis.subgroups import subgroup_analysis

    table = read_table(csv_path, measure, by)
    vals, studies = table.values, table.studies
    level = level_pct / 100.0
    try:
        ni = None
        y: Any
        v: Any
        if measure == "GEN":
            y = vals["yi"]
            v = [s**2 for s in vals["sei"]] if "sei" in vals else vals["vi"]
        else:
            y, v = escalc_proportions(vals["xi"], vals["ni"], measure)
            ni = vals["ni"]
        if table.groups is None:
            res = meta_analysis(y, v, method=method, test=test, level=level, studies=studies, measure=measure, ni=ni)
            return _result_dict(res, level_pct)
        sub = subgroup_analysis(
            y, v, table.groups, method=method, test=test, level=level, studies=studies, measure=measure, ni=ni
        )
    except InputError as exc:
        row = None if exc.row is None else exc.row + 1
        raise InputError(exc.problem, row=row, column=exc.column, source=str(csv_path)) from None
    return {
        "overall": _result_dict(sub.overall, level_pct),
        "subgroups": [
            {"group": g, **_result_dict(r, level_pct)} for g, r in zip(sub.groups, sub.subgroups, strict=False)
        ],
        "q_between": sub.q_between.to_dict(),
        "moderator_test": sub.moderator_test.to_dict(),
        "by": by,
    }
