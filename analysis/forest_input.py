"""What a forest plot is drawn from: its rows and pooled summaries, checked before anything is drawn.

`ForestRow` and `ForestSummary` are the public input of analysis.forest.forest_plot; the checks
raise InputError/OptionError naming the row and field, so a bad input never gives half a figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.errors import InputError, OptionError


@dataclass(frozen=True)
class ForestRow:
    """One study row.

    ``estimate``/``ci_low``/``ci_high`` are on the display scale (HR as published, or a percent).
    ``None`` or NaN estimate -> "not estimable", no marker; a missing bound -> no whisker and
    "CI not reported". ``weight_pct`` sizes the square (area proportional to weight) and fills
    the Weight column. ``detail`` is free text such as "2020 · RCT · n=99". ``group`` names the
    subgroup; rows are shown in the order given, grouped in order of first appearance.
    """

    label: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    weight_pct: float | None = None
    detail: str = ""
    group: str | None = None


@dataclass(frozen=True)
class ForestSummary:
    """One pooled diamond: a subgroup's (``group`` = its name) or the overall (``group=None``).

    ``pi_low``/``pi_high`` is the prediction interval, drawn as a thin line through the diamond.
    ``stats_text`` (may hold newlines) is printed beneath it, e.g.
    "τ² = 0.04, I² = 35%, Q = 6.1 (df = 4, p = 0.19)". Several summaries per group (FE and RE)
    are drawn in the order given. A summary is not drawn when its group has fewer than two
    estimable studies; "k = 1, not pooled" is printed instead.
    """

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None = None
    pi_high: float | None = None
    group: str | None = None
    stats_text: str = ""
    weight_pct: float | None = None


def _num(value, *, what: str, index: int, label: str) -> float:
    """A float, NaN for None/NaN; InputError for anything else that is not a real number."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(
            f"{what} of '{label}' is {value!r}, not a number (use None if missing)", row=index, column=what
        )
    return float(value)


# --- Validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedRow:
    label: str
    est: float
    low: float
    high: float
    weight: float
    detail: str
    group: str | None


@dataclass(frozen=True)
class CheckedSummary:
    label: str
    est: float
    low: float
    high: float
    pi_low: float  # NaN: no prediction interval
    pi_high: float
    group: str | None
    stats: str
    weight: float

    @property
    def has_pi(self) -> bool:
        return math.isfinite(self.pi_low) and math.isfinite(self.pi_high)


def check_options(digits, null_value, log_scale, favours, xlim, plot_width) -> None:
    if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 6:
        raise OptionError("digits", digits, "an integer from 0 to 6")
    if null_value is not None and not (isinstance(null_value, (int, float)) and math.isfinite(null_value)):
        raise OptionError("null_value", null_value, "a finite number or None")
    if log_scale and null_value is not None and null_value <= 0:
        raise OptionError("null_value", null_value, "positive on a log axis (1 for ratios)")
    if favours is not None and (len(favours) != 2 or not all(isinstance(f, str) for f in favours)):
        raise OptionError("favours", favours, "a pair of strings (left, right) or None")
    if xlim is not None and (
        len(xlim) != 2
        or not all(math.isfinite(float(v)) for v in xlim)
        or not xlim[0] < xlim[1]
        or (log_scale and xlim[0] <= 0)
    ):
        raise OptionError("xlim", xlim, "a pair (low, high) with low < high (both positive on a log axis)")
    if not (isinstance(plot_width, (int, float)) and 0.5 <= plot_width <= 20):
        raise OptionError("plot_width", plot_width, "a width in inches from 0.5 to 20")


def check_interval(label, i, est, low, high, log_scale, names=("ci_low", "ci_high")) -> None:
    if math.isfinite(low) and math.isfinite(high) and low > high:
        raise InputError(f"{names[0]} {low:g} > {names[1]} {high:g} for '{label}'", row=i, column=names[0])
    if log_scale:
        for name, v in (("estimate", est), (names[0], low), (names[1], high)):
            if math.isfinite(v) and v <= 0:
                raise InputError(
                    f"{name} {v:g} of '{label}' is not positive; a log axis needs ratios "
                    "on their natural scale (exponentiate log HRs, or pass log_scale=False)",
                    row=i,
                    column=name,
                )


def check_rows(rows, log_scale: bool) -> list[CheckedRow]:
    if rows is None or isinstance(rows, (str, bytes)):
        raise InputError("forest_plot needs a list of ForestRow, one per study")
    rows = list(rows)
    if not rows:
        raise InputError("forest_plot needs at least one study row; got none (pass a list of ForestRow)")
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, ForestRow):
            raise InputError(f"expected a ForestRow, got {type(r).__name__}", row=i)
        est, low, high, weight = (
            _num(getattr(r, n), what=n, index=i, label=r.label) for n in ("estimate", "ci_low", "ci_high", "weight_pct")
        )
        est = est if math.isfinite(est) else math.nan
        check_interval(r.label, i, est, low, high, log_scale)
        if math.isfinite(weight) and weight < 0:
            raise InputError(f"weight_pct {weight:g} of '{r.label}' is negative", row=i, column="weight_pct")
        out.append(CheckedRow(str(r.label), est, low, high, weight, str(r.detail or ""), r.group))
    return out


def check_summaries(summaries, groups: list, log_scale: bool) -> list[CheckedSummary]:
    out = []
    for i, s in enumerate(summaries or ()):
        if not isinstance(s, ForestSummary):
            raise InputError(f"expected a ForestSummary, got {type(s).__name__}", row=i)
        if s.group is not None and s.group not in groups:
            raise InputError(
                f"summary '{s.label}' names group {s.group!r}, which no row has "
                f"(groups: {', '.join(repr(g) for g in groups if g is not None)})",
                row=i,
                column="group",
            )
        est, low, high, pi_low, pi_high, weight = (
            _num(getattr(s, n), what=n, index=i, label=s.label)
            for n in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "weight_pct")
        )
        if not all(math.isfinite(v) for v in (est, low, high)):
            raise InputError(f"summary '{s.label}' needs a finite estimate, ci_low and ci_high", row=i)
        if not low <= est <= high:
            raise InputError(f"summary '{s.label}': estimate {est:g} is not within its CI {low:g}–{high:g}", row=i)
        check_interval(s.label, i, est, low, high, log_scale)
        check_interval(s.label, i, est, pi_low, pi_high, log_scale, ("pi_low", "pi_high"))
        out.append(
            CheckedSummary(str(s.label), est, low, high, pi_low, pi_high, s.group, str(s.stats_text or ""), weight)
        )
    return out
