"""Thin adapter: a knowledge-base pool (analysis.kb_pool) -> forest_plot rows and diamonds.

Each study row shows the figure as published (the HR and its CI when printed at the plot's level, or
the rate), its year, design and n; a hazard-ratio row whose SE the pool derived from an exact p or from a
CI at another level draws the interval at the plot's level from that SE and says how in a footnote; each stratum with k >= 2 gets a diamond with its prediction interval and tau2,
I2, Q beneath; a one-study stratum gets none (forest_plot enforces it).
"""

from __future__ import annotations

import math
from typing import Any

from matplotlib.axes import Axes

from analysis.effects import z_for_level
from analysis.forest import ForestRow, ForestSummary, forest_plot
from analysis.kb_pool import KBPool
from analysis.policy_effects import P_VALUE_ROUTE


def _num(text) -> float | None:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        return None


def _stratum_label(pool, columns) -> str:
    return " · ".join(str(pool.values[c]) for c in columns)


def _label_columns(result: KBPool) -> list[str]:
    # The design class and the --by columns name a subgroup; unit of analysis and time origin only
    # when they differ between the strata of this plot (they are always strata, rarely news).
    fixed = {"unit_of_analysis", "outcome_time_origin"}
    return [c for c in result.strata if c not in fixed or len({p.values[c] for p in result.pools}) > 1]


#: The mark of a row whose number was not read in the trial's own report, by tier rank (terms/tiers.py).
TIER_MARKS = {"3": "†", "4": "‡", "5": "§", "6": "¶"}


def tier_footnotes(ranks) -> list[str]:
    """One footnote per tier that marks a row, naming the tier."""
    from terms.tiers import TIER_LABEL, TIER_RANK

    label = {str(rank): TIER_LABEL[tier] for tier, rank in TIER_RANK.items()}
    used = sorted({str(r) for r in ranks} & set(TIER_MARKS))
    return [
        f"{TIER_MARKS[r]} not read in the trial's own report: read in a {label[r]} (evidence tier {r} of 6)"
        for r in used
    ]


def percent(level: float) -> str:
    """0.95 -> '95%', 0.8 -> '80%', 0.975 -> '97.5%' (never rounded to a whole percent)."""
    return f"{level * 100:g}%"


def derived_interval(r: Any, level: float) -> tuple[float, float, str, str] | None:
    """A hazard-ratio row's interval at the plot's `level` when the published one cannot be drawn as is:
    (low, high, the row's short text, the footnote's text), or None when the row shows its CI as published
    (or has no SE to derive one from). The SE is the pool's (r.vi, analysis.policy_effects), so the drawn
    interval is the one whose width set the row's weight."""
    route = str(getattr(r, "derivation_route", "") or "")
    published = _num(r.ci_level) if r.ci_low and r.ci_high else None
    if published is not None and abs(published - level) < 1e-9:
        return None
    if not route.startswith((P_VALUE_ROUTE, "SE from")) or not math.isfinite(r.vi):
        return None
    z = z_for_level(level)
    se = math.sqrt(r.vi)
    low, high = math.exp(r.yi - z * se), math.exp(r.yi + z * se)
    if route.startswith(P_VALUE_ROUTE):
        return (
            low,
            high,
            f"{percent(level)} CI derived from p = {r.p_value}",
            f"{percent(level)} CI derived from the exact p = {r.p_value}, "
            + ("the CI being printed without its level: " if r.ci_low and r.ci_high else "no CI being published: ")
            + f"SE = |ln HR| / Φ⁻¹(1 − p/2) = {se:.3f}; interval ln HR ± {z:.3f} SE",
        )
    assert published is not None  # an SE from a CI: the CI's level is known
    return (
        low,
        high,
        f"{percent(level)} CI derived from the {percent(published)} CI",
        f"{percent(level)} CI derived from the published {percent(published)} CI, "
        f"{r.value} ({r.ci_low}–{r.ci_high}): SE = (ln upper − ln lower) / (2 × {z_for_level(published):.3f}) = "
        f"{se:.3f}; interval ln HR ± {z:.3f} SE",
    )


def derivation_footnotes(derivations: list[str], level_text: str) -> list[str]:
    """The rows whose interval is derived, each saying from what; every other row's CI is as published."""
    if not derivations:
        return []
    head = f"CIs as published at {level_text}, except (the interval drawn is the one the pool used):"
    return [head, *(f"– {d}" for d in derivations)]


def forest_from_pool(result: KBPool, *, title: str | None = None, ax: Axes | None = None) -> Axes:
    ratio = result.statistic == "hazard ratio"
    rows, summaries = [], []
    columns = _label_columns(result)
    ranks: list[str] = []
    derivations: list[str] = []  # one footnote per row whose interval is derived, not as published
    r: Any  # a row of the evidence table (itertuples): its fields are the table's columns
    for pool in result.pools:
        group = _stratum_label(pool, columns)
        for r, weight in zip(pool.rows.itertuples(), pool.weights_pct, strict=True):
            n = f"n={r.n}" if r.n else ""
            if ratio and r.n:
                n = f"n={r.n} vs {r.reference_n}" if r.reference_n else f"n={r.n} (experimental arm)"
            years = getattr(r, "study_years", "") or ""
            term = ""
            for column in ("histology", "oligo_state"):  # the term as extracted, where the stratum is broader
                own = getattr(r, f"{column}_term", "") or ""
                if own and own != getattr(r, column, own):
                    term = own
            detail = " · ".join(x for x in (years, r.design, term, n) if x)
            rank = str(getattr(r, "tier_rank", "") or "")
            ranks.append(rank)
            label = f"{r.study_label} ({r.publication_id})" + (f" {TIER_MARKS[rank]}" if rank in TIER_MARKS else "")
            if ratio:
                low, high = _num(r.ci_low), _num(r.ci_high)
                derived = derived_interval(r, result.level)
                shown = ""
                if derived is not None:  # not the published interval: draw the one the pool used, say how
                    low, high, how, note = derived
                    shown = f" · {how}"
                    derivations.append(f"{str(r.study_label).split(' (')[0]} ({r.publication_id}): {note}")
                rows.append(ForestRow(label, _num(r.value), low, high, weight, detail + shown, group))
            else:
                rows.append(
                    ForestRow(
                        label,
                        _num(r.value),
                        _num(r.ci_low) if r.ci_low else None,
                        _num(r.ci_high) if r.ci_high else None,
                        weight,
                        detail,
                        group,
                    )
                )
        if pool.k >= 2 and pool.estimate is not None and pool.ci_low is not None and pool.ci_high is not None:
            stats = (
                f"τ² = {pool.tau2:.3g}, I² = {pool.i2:.0f}%, Q = {pool.q:.2f} (df = {pool.q_df}, p = {pool.q_p:.2g})"
                + (f"; {pool.note}" if pool.note else "")
            )
            summaries.append(
                ForestSummary(
                    f"{result.method} pooled, k = {pool.k}",
                    pool.estimate,
                    pool.ci_low,
                    pool.ci_high,
                    pool.pi_low,
                    pool.pi_high,
                    group=group,
                    stats_text=stats,
                )
            )
    xlim = None
    if ratio:
        # Symmetric on the log scale around 1, so the null line and both "favours" labels show.
        bounds = [v for r in rows for v in (r.estimate, r.ci_low, r.ci_high) if v]
        bounds += [v for s in summaries for v in (s.ci_low, s.ci_high, s.pi_low, s.pi_high) if v]
        half = max(abs(math.log(v)) for v in bounds) * 1.15 if bounds else math.log(4)
        half = min(max(half, math.log(2)), math.log(100))
        xlim = (math.exp(-half), math.exp(half))
    what = f"{result.statistic} of {result.outcome}" + (
        f" at {result.timepoint_months:g} months" if result.timepoint_months else ""
    )
    level_text = percent(result.level)
    return forest_plot(
        rows,
        summaries,
        log_scale=ratio,
        null_value=1.0 if ratio else None,
        xlabel="Hazard ratio (log scale)" if ratio else f"{result.outcome} (%)",
        favours=("favours MDT", "favours control") if ratio else ("", ""),
        ci_label=f"{level_text} CI",
        estimate_header=f"HR ({level_text} CI)" if ratio else f"% ({level_text} CI)",
        xlim=xlim,
        title=title or what,
        footnotes=tier_footnotes(ranks) + derivation_footnotes(derivations, level_text),
        ax=ax,
    )
