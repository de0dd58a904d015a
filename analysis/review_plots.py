"""Plots of the review analyses: the cumulative meta-analysis (forest-style, one row per study added) and
the funnel plot with Egger's verdict. They take `analysis.review`'s tables and `FunnelData`, return the
Figure (not registered with pyplot) and are saved with `analysis.forest_save.save_forest`."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.forest import FONT_PT, SMALL_PT, TITLE_PT, format_estimate
from analysis.policy import RATIO_STATISTICS
from analysis.review import FunnelData

_COLOR = "#1f3b63"
_COLOR_NOTE = "#555555"
LABEL_CHARS = 48  #: a study label longer than this is shortened with "..."
ROW_IN = 0.26  #: height of one cumulative row
FUNNEL_IN = (4.6, 4.0)  #: width, height of one funnel panel
#: Hazard-ratio ticks; the axis shows those within its limits (a log locator leaves only 0.5 and 1 on
#: a typical 0.3-1 range).
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _axis(ax: Axes, ratio: bool) -> None:
    """A log axis with plain tick labels for ratios; a percent axis for rates."""
    if ratio:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.FixedLocator(RATIO_TICKS))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.tick_params(labelsize=SMALL_PT)


def cumulative_plot(table: pd.DataFrame, *, statistic: str, title: str | None = None, level: float = 0.95) -> Figure:
    """One panel per stratum of `analysis.review.pool_cumulative`'s table: row i is the pool after the
    i-th study (by year), its estimate and CI, with "+ study (year)" on the left and "k, estimate (CI)"
    on the right; a dashed line at no effect for hazard ratios."""
    ratio = statistic in RATIO_STATISTICS
    strata = list(dict.fromkeys(table["stratum"])) if not table.empty else []
    heights = [max(len(table[table["stratum"] == s]), 1) + 1.6 for s in strata] or [2.0]
    fig = Figure(figsize=(9.5, 0.9 + ROW_IN * sum(heights)), layout="constrained")
    axes = fig.subplots(len(heights), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    if not strata:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no estimate passes the pooling policy", ha="center", fontsize=FONT_PT)
    for ax, stratum in zip(axes, strata, strict=False):
        rows = table[table["stratum"] == stratum].reset_index(drop=True)
        n = len(rows)
        ypos = np.arange(n)[::-1]
        est, lo, hi = (rows[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
        ax.hlines(ypos, lo, hi, color=_COLOR, lw=1.2)
        ax.plot(est, ypos, "D", color=_COLOR, ms=5)
        if ratio:
            ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        _axis(ax, ratio)
        ax.set_yticks(ypos)
        ax.set_yticklabels(
            [
                "+ " + textwrap.shorten(str(s), LABEL_CHARS, placeholder="...") + (f" ({y})" if y is not None else "")
                for s, y in zip(rows["study"], rows["year"], strict=True)
            ],
            fontsize=FONT_PT,
        )
        right = ax.secondary_yaxis("right")
        right.set_yticks(
            ypos,
            labels=[f"k = {k}  {format_estimate(e, a, b)}" for k, e, a, b in zip(rows["k"], est, lo, hi, strict=True)],
            fontsize=FONT_PT,
        )
        right.tick_params(length=0)
        ax.set_ylim(-0.8, n - 0.2)
        ax.set_title(f"{stratum}: cumulative by publication year", fontsize=FONT_PT, loc="left")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel(
        ("hazard ratio" if ratio else "percent") + f" ({level * 100:g}% CI, pooled up to each study)", fontsize=FONT_PT
    )
    if title:
        fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def funnel_plot(funnels: Sequence[FunnelData], *, statistic: str, title: str | None = None) -> Figure:
    """One panel per stratum (metafor's funnel.rma): each study's estimate against its standard error
    (0 at the top), the pooled estimate's vertical line and the pseudo-CI region estimate +/- z * se;
    the panel's title gives Egger's test or why it was not run. Hazard ratios on a log axis; rates on
    the logit scale (the model's), labelled in percent."""
    ratio = statistic in RATIO_STATISTICS
    n = max(len(funnels), 1)
    fig = Figure(figsize=(FUNNEL_IN[0] * n, FUNNEL_IN[1]), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    if not funnels:
        axes[0].set_axis_off()
        axes[0].text(0.5, 0.5, "no stratum with two or more studies", ha="center", fontsize=FONT_PT)
    # Model scale -> what the axis shows: the HR (log axis), or the proportion (logit axis, % labels).
    show = np.exp if ratio else (lambda y: 1.0 / (1.0 + np.exp(-y)))
    for ax, f in zip(axes, funnels, strict=False):
        top = float(f.sei.max()) * 1.08
        se = np.linspace(0.0, top, 100)
        low, high = f.limits(se)
        ax.fill_betweenx(se, show(low), show(high), color="#eeeeee", zorder=0)
        ax.plot(show(low), se, color="grey", ls="--", lw=0.9)
        ax.plot(show(high), se, color="grey", ls="--", lw=0.9)
        ax.axvline(float(show(f.estimate)), color="black", lw=0.9)
        ax.plot(show(f.yi), f.sei, "o", color=_COLOR, ms=5, mec="white", mew=0.5, zorder=3)
        if ratio:
            _axis(ax, ratio)
            ax.set_xlabel("hazard ratio (log scale)", fontsize=FONT_PT)
        else:
            ax.set_xscale("logit")
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x * 100:g}%"))
            ax.xaxis.set_minor_formatter(ticker.NullFormatter())
            ax.tick_params(labelsize=SMALL_PT)
            ax.set_xlabel("rate (logit scale)", fontsize=FONT_PT)
        ax.set_ylim(top, 0.0)
        ax.set_ylabel("standard error", fontsize=FONT_PT)
        verdict = textwrap.fill(f.test.verdict(), 60)
        ax.set_title(f"{f.stratum} (k = {len(f.yi)})\n{verdict}", fontsize=SMALL_PT, loc="left")
        ax.annotate(
            f"dashed: pseudo {100 * _level(f.z):.0f}% limits around the pooled estimate",
            (0.0, -0.2),
            xycoords="axes fraction",
            fontsize=SMALL_PT - 1,
            color=_COLOR_NOTE,
        )
    if title:
        fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def _level(z: float) -> float:
    """The two-sided level of a normal critical value (0.95 for 1.96)."""
    return math.erf(z / math.sqrt(2.0))
