"""Forest plots on plain numbers: study squares and whiskers, pooled diamonds, text columns.

`forest_plot` is the drawing function (metafor's ``forest.default``, not ``forest.rma``): it
takes `ForestRow`s (one per study, on the display scale, e.g. HR as published) and
`ForestSummary`s (pooled diamonds, already computed), draws on ``ax`` or on a new figure sized
to the content, and returns the Axes. A thin adapter turns `analysis.results` objects into these
rows; this module computes nothing statistical.

Layout, left to right (RevMan/metafor order)::

    Study (wrapped) | Year · design · n | plot | Weight | HR (95% CI)

Column widths are measured from the text (fixed font sizes) and placed in inches from the Axes
edges, so with ``ax=None`` nothing overlaps or is clipped however many rows there are: the
figure height grows with the rows. With your own ``ax``, leave room left and right of it for
the text columns (``save_forest`` uses a tight bounding box, so a saved file keeps them).

Conventions (domain guide 6.6 and 6.7): a subgroup with one estimable study gets no diamond and
no heterogeneity text, only "k = 1, not pooled"; one plot shows one measure on one axis.

The figure is not registered with pyplot (no global state; ``plt.show()`` is never called).
In a notebook display ``ax.figure``; write files with `save_forest`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import ticker, transforms
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Polygon

from analysis.forest_input import (
    CheckedRow,
    CheckedSummary,
    ForestRow,
    ForestSummary,
    check_options,
    check_rows,
    check_summaries,
)

__all__ = ["ForestRow", "ForestSummary", "forest_plot", "format_estimate"]

# --- Layout constants (points for fonts, inches for distances) -------------------------------
FONT_PT = 9.0  #: study rows, headers, ticks
SMALL_PT = 8.0  #: heterogeneity text and prediction interval text
TITLE_PT = 11.0
ROW_IN = 0.22  #: height of one row unit (one text line at FONT_PT plus spacing)
GAP_IN = 0.18  #: gap between text columns and between the columns and the plot
MARGIN_IN = 0.12  #: figure margin when ax is None
PLOT_WIDTH_IN = 3.2  #: default width of the plotting region
LABEL_WRAP = 36  #: characters per line of a study label before it wraps
FOOTNOTE_WRAP = 110  #: characters per line of a footnote under the rows
MARKER_MAX_PT = 12.0  #: side of the square of the heaviest study
MARKER_MIN_PT = 4.0  #: smallest square, so light studies stay visible
MARKER_PT = 7.0  #: square side when no weight is given
STATS_LINE = 0.85  #: height of one heterogeneity text line, in row units
DIAMOND_HALF = 0.36  #: half-height of a diamond, in row units
LOG_CAP = (0.01, 100.0)  #: automatic log-axis limits never extend beyond these
#: Nice ticks for log axes spanning more than six doublings (1-2-5 per decade).
_DECADE_TICKS = tuple(sorted(m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5)))

#: Artist gids, so adapters and tests can find what was drawn.
GID_STUDY = "forest-study"  # Line2D square marker, one per estimable study
GID_CI = "forest-ci"  # Line2D whisker
GID_ARROW = "forest-ci-arrow"  # Line2D arrowhead where a CI/PI runs off the axis
GID_DIAMOND = "forest-diamond"  # Polygon, one per pooled summary with k >= 2
GID_PI = "forest-pi"  # Line2D prediction interval through a diamond
GID_NULL = "forest-null-line"
GID_OVERALL = "forest-overall-line"

_COLOR_STUDY = "#1f3b63"
_COLOR_SUBGROUP = "#8c8c8c"
_COLOR_OVERALL = "black"
_COLOR_NOTE = "#555555"


# --- Small helpers ---------------------------------------------------------------------------


def _fmt(value: float, digits: int) -> str:
    """Fixed decimals; significant digits for tiny values; typographic minus."""
    if not math.isfinite(value):
        return "NA"
    text = f"{value:.{digits}g}" if 0 < abs(value) < 10.0**-digits else f"{value:.{digits}f}"
    return text.replace("-", "\u2212")


def _fmt_range(low: float, high: float, digits: int) -> str:
    sep = " to " if (low < 0 or high < 0) else "\u2013"
    return f"{_fmt(low, digits)}{sep}{_fmt(high, digits)}"


def format_estimate(estimate, ci_low, ci_high, digits: int = 2) -> str:
    """The right-hand column text: "0.47 (0.30–0.74)"; "−0.20 (−0.50 to 0.10)" when a bound is
    negative; "0.47 (CI not reported)"; "not estimable" without an estimate."""
    est = math.nan if estimate is None else float(estimate)
    low = math.nan if ci_low is None else float(ci_low)
    high = math.nan if ci_high is None else float(ci_high)
    if not math.isfinite(est):
        return "not estimable"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{_fmt(est, digits)} (CI not reported)"
    return f"{_fmt(est, digits)} ({_fmt_range(low, high, digits)})"


def _plain(text: str) -> str:
    """Escape '$' so user text is never parsed as mathtext."""
    return text.replace("$", r"\$")


_MEASURER = RendererAgg(10, 10, 72)  # 72 dpi: pixels are points


def _width_in(text: str, size: float, weight: str = "normal") -> float:
    """Width in inches of (multi-line) text at a font size; 3 % slack for hinting."""
    if not text:
        return 0.0
    prop = FontProperties(size=size, weight=weight)
    widest = max(_MEASURER.get_text_width_height_descent(line, prop, ismath=False)[0] for line in text.split("\n"))
    return 1.03 * widest / 72.0


def _nice_ticks(low: float, high: float, log: bool) -> list[float]:
    """Ticks covering [low, high]: powers of two (0.25, 0.5, 1, 2, 4) on short log spans,
    1-2-5 per decade on longer ones; matplotlib's nice steps on a linear axis."""
    if log:
        a, b = math.floor(math.log2(low) + 1e-9), math.ceil(math.log2(high) - 1e-9)
        if b == a:
            a, b = a - 1, b + 1
        if b - a <= 6 and a >= -4:
            return [2.0**e for e in range(a, b + 1)]
        below = [t for t in _DECADE_TICKS if t <= low * (1 + 1e-9)]
        above = [t for t in _DECADE_TICKS if t >= high * (1 - 1e-9)]
        lo_t = below[-1] if below else _DECADE_TICKS[0]
        hi_t = above[0] if above else _DECADE_TICKS[-1]
        ticks = [t for t in _DECADE_TICKS if lo_t <= t <= hi_t]
        if len(ticks) > 9:  # too crowded: whole decades only, limits widened to decades
            ticks = [
                10.0**e for e in range(math.floor(math.log10(lo_t) + 1e-9), math.ceil(math.log10(hi_t) - 1e-9) + 1)
            ]
        return ticks
    if high <= low:
        low, high = low - 1.0, high + 1.0
    ticks = [float(t) for t in ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)]
    lo_t = max(t for t in ticks if t <= low + 1e-12)
    hi_t = min(t for t in ticks if t >= high - 1e-12)
    return [t for t in ticks if lo_t - 1e-12 <= t <= hi_t + 1e-12]


def _tick_label(value: float) -> str:
    return np.format_float_positional(float(value), trim="-", precision=6).replace("-", "\u2212")


# --- Layout ---------------------------------------------------------------------------------


@dataclass
class _Item:
    kind: str  # header, group, study, diamond, stats, note, space
    y: float  # centre, in row units from the top
    obj: object = None
    text: str = ""


def _wrap(text: str, width: int = LABEL_WRAP) -> str:
    lines = []
    for para in str(text).split("\n"):
        lines.extend(textwrap.wrap(para, width=width, break_on_hyphens=False) or [""])
    return "\n".join(lines)


def _plan_rows(studies: list[CheckedRow], pooled: list[CheckedSummary], header_lines: int):
    """Items top to bottom, the y where study rows start, and the total height (row units).

    A group's pooled rows follow its studies; the overall rows come last. A group (or the
    whole plot) with fewer than two estimable studies gets a "k = 1, not pooled" note instead.
    """
    items: list[_Item] = []
    cursor = 0.0

    def add(kind, height, obj=None, text=""):
        nonlocal cursor
        items.append(_Item(kind, cursor + height / 2, obj, text))
        cursor += height

    def add_pooled(group, default_label: str):
        mine = [x for x in pooled if x.group == group]
        k = sum(1 for s in studies if math.isfinite(s.est) and (group is None or s.group == group))
        if k >= 2:
            for x in mine:
                add("diamond", 1.0, x, _wrap(x.label))
                if x.stats or x.has_pi:
                    add("stats", STATS_LINE * (x.stats.count("\n") + 1) + 0.15, x, x.stats)
        elif mine or group is not None:
            add("note", 1.0, None, f"{mine[0].label if mine else default_label}: k = {k}, not pooled")

    groups: list[str | None] = list(dict.fromkeys(s.group for s in studies))
    add("header", float(header_lines))
    add("space", 0.3)
    first_row_top = cursor
    for g in groups:
        if g is not None:
            add("group", 1.0, None, _wrap(str(g)))
        for s in (s for s in studies if s.group == g):
            text = _wrap(s.label)
            add("study", float(text.count("\n") + 1), s, text)
        if g is not None:
            add_pooled(g, "Subtotal")
        add("space", 0.5)
    if any(x.group is None for x in pooled):
        add_pooled(None, "Overall")
        add("space", 0.3)
    return items, first_row_top, cursor


@dataclass(frozen=True)
class _Columns:
    """Widths in inches of the text columns, measured from the text they will hold."""

    left: float  # whole block left of the plot: labels, details (or stats text if wider)
    detail: float  # 0 when no row has a detail
    weight: float  # 0 when nothing has a weight
    estimate: float

    @property
    def right(self) -> float:
        return GAP_IN + (self.weight + GAP_IN if self.weight else 0.0) + self.estimate


def _measure(items, studies, pooled, headers, digits, pi_label) -> _Columns:
    study_header, detail_header, est_header = headers
    label_w = max(
        [_width_in(it.text, FONT_PT) for it in items if it.kind in ("study", "note")]
        + [_width_in(it.text, FONT_PT, "bold") for it in items if it.kind in ("group", "diamond")]
        + [_width_in(study_header, FONT_PT, "bold")]
    )
    detail_w = 0.0
    if any(s.detail for s in studies):
        detail_w = max([_width_in(s.detail, FONT_PT) for s in studies] + [_width_in(detail_header, FONT_PT, "bold")])
    stats_w = max([_width_in(it.text, SMALL_PT) for it in items if it.kind == "stats"] + [0.0])
    left_w = max(label_w + (GAP_IN + detail_w if detail_w else 0.0), stats_w)
    weight_w = 0.0
    if any(math.isfinite(s.weight) for s in studies) or any(math.isfinite(x.weight) for x in pooled):
        weight_w = max(_width_in("Weight", FONT_PT, "bold"), _width_in("100.0%", FONT_PT, "bold"))
    est_w = max(
        [_width_in(format_estimate(s.est, s.low, s.high, digits), FONT_PT) for s in studies]
        + [_width_in(format_estimate(x.est, x.low, x.high, digits), FONT_PT, "bold") for x in pooled]
        + [_width_in(f"{pi_label} {_fmt_range(x.pi_low, x.pi_high, digits)}", SMALL_PT) for x in pooled if x.has_pi]
        + [_width_in(est_header, FONT_PT, "bold")]
    )
    return _Columns(left_w, detail_w, weight_w, est_w)


def _x_axis(ax, studies, pooled, *, log_scale, null_value, xlim, xticks) -> tuple[float, float]:
    """Scale, limits and plain-number ticks of the x axis; returns the limits."""
    if log_scale:
        ax.set_xscale("log")
    if xlim is None:
        vals = [v for s in studies for v in (s.est, s.low, s.high)]
        vals += [v for x in pooled for v in (x.est, x.low, x.high, x.pi_low, x.pi_high)]
        vals = [v for v in vals if math.isfinite(v)]
        if null_value is not None:
            vals.append(float(null_value))
        lo, hi = (min(vals), max(vals)) if vals else ((0.5, 2.0) if log_scale else (0.0, 1.0))
        if log_scale:
            lo, hi = max(lo, LOG_CAP[0]), min(hi, LOG_CAP[1])
        ticks = list(xticks) if xticks is not None else _nice_ticks(lo, hi, log_scale)
        if not log_scale and 0 <= lo and hi <= 100:  # percentages stay within 0-100
            ticks = [t for t in ticks if 0 <= t <= 100] or ticks
        x_lo, x_hi = min(ticks[0], lo), max(ticks[-1], hi)
    else:
        x_lo, x_hi = float(xlim[0]), float(xlim[1])
        ticks = (
            list(xticks) if xticks is not None else [t for t in _nice_ticks(x_lo, x_hi, log_scale) if x_lo <= t <= x_hi]
        )
    ax.set_xlim(x_lo, x_hi)
    ax.xaxis.set_major_locator(ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ticker.FixedFormatter([_tick_label(t) for t in ticks]))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.tick_params(axis="x", labelsize=FONT_PT, length=4, pad=3)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_bounds(x_lo, x_hi)
    ax.set_yticks([])
    ax.patch.set_visible(False)
    return x_lo, x_hi


# --- The drawing function --------------------------------------------------------------------


def forest_plot(
    rows: Sequence[ForestRow],
    summaries: Sequence[ForestSummary] = (),
    *,
    log_scale: bool = True,
    null_value: float | None = 1.0,
    xlabel: str = "Hazard ratio",
    favours: tuple[str, str] | None = ("favours SABR", "favours control"),
    ci_label: str = "95% CI",
    title: str | None = None,
    estimate_header: str | None = None,
    detail_header: str = "Year · design · n",
    study_header: str = "Study",
    digits: int = 2,
    xlim: tuple[float, float] | None = None,
    xticks: Sequence[float] | None = None,
    overall_line: bool = True,
    plot_width: float = PLOT_WIDTH_IN,
    footnotes: Sequence[str] = (),
    ax: Axes | None = None,
) -> Axes:
    """Draw a forest plot and return its Axes (the new figure's only Axes when ``ax`` is None).

    Parameters
    ----------
    rows : one `ForestRow` per study, on the display scale. At least one.
    summaries : pooled `ForestSummary`s; ``group=None`` is overall (drawn last), otherwise the
        subgroup's diamond is drawn under its rows. Not drawn for k < 2 estimable studies.
    log_scale : ratio axis (ticks 0.25, 0.5, 1, 2, 4 as plain numbers). False for proportions or
        landmark rates in percent (pass ``null_value=None``: no null line, no favours labels).
    null_value : where the vertical line of no effect goes; None draws none.
    favours : (left, right) labels drawn under the axis either side of the null value as
        "← left" and "right →"; None or ``null_value=None`` omits them.
    xlabel, ci_label : axis label and CI level text; the estimate column header defaults to
        ``f"{xlabel} ({ci_label})"`` (override with ``estimate_header``). The PI text uses
        ``ci_label`` with "CI" replaced by "PI" ("95% PI 0.34–1.02").
    detail_header, study_header : headers of the left columns (the detail column is only
        drawn when a row has a detail; the Weight column only when something has a weight).
    digits : decimals of the estimate column.
    xlim, xticks : axis limits and ticks; default: nice ticks covering every estimate and
        interval (log axes capped at 0.01-100). A CI beyond the limits ends in an arrowhead; the
        text column still prints it in full.
    overall_line : dashed vertical line at the (first) overall estimate.
    plot_width : width of the plotting region in inches when ``ax`` is None.
    ax : draw here; the text columns go outside it (leave margins). None: new figure whose
        height grows with the rows.

    Raises
    ------
    InputError (a ValueError) for no rows, non-numeric values, ci_low > ci_high, non-positive
    values on a log axis, or a summary naming a group no row has. OptionError (a ValueError)
    for bad options.
    """
    check_options(digits, null_value, log_scale, favours, xlim, plot_width)
    studies = check_rows(rows, log_scale)
    pooled = check_summaries(summaries, list(dict.fromkeys(s.group for s in studies)), log_scale)
    pi_label = (ci_label[:-2] + "PI") if ci_label.endswith("CI") else "PI"
    headers = (
        study_header,
        detail_header,
        estimate_header if estimate_header is not None else f"{xlabel} ({ci_label})",
    )
    items, first_row_top, n_units = _plan_rows(studies, pooled, max(h.count("\n") + 1 for h in headers))
    for note in footnotes:  # under the rows, left-aligned; not measured into the label column
        text = _wrap(note, FOOTNOTE_WRAP)
        height = STATS_LINE * (text.count("\n") + 1) + 0.1
        items.append(_Item("footnote", n_units + height / 2, None, text))
        n_units += height
    cols = _measure(items, studies, pooled, headers, digits, pi_label)

    title_text = ""
    if title:  # wrap to the width of the figure's content
        total_w, width = cols.left + GAP_IN + plot_width + cols.right, 200
        title_text = _wrap(title, width)
        while width > 20 and _width_in(title_text, TITLE_PT, "bold") > total_w:
            width -= 4
            title_text = _wrap(title, width)
    title_units = 1.35 * (title_text.count("\n") + 1) + 0.2 if title_text else 0.0

    favours_on = favours is not None and null_value is not None
    if ax is None:
        bottom_in = (0.78 if favours_on else 0.55) if xlabel else (0.5 if favours_on else 0.3)
        fig_w = MARGIN_IN + cols.left + GAP_IN + plot_width + cols.right + MARGIN_IN
        plot_h = (n_units + title_units) * ROW_IN
        fig_h = MARGIN_IN + plot_h + bottom_in + MARGIN_IN
        new_fig = Figure(figsize=(fig_w, fig_h))
        FigureCanvasAgg(new_fig)
        ax = new_fig.add_axes(
            (
                (MARGIN_IN + cols.left + GAP_IN) / fig_w,
                (bottom_in + MARGIN_IN) / fig_h,
                plot_width / fig_w,
                plot_h / fig_h,
            )
        )
    fig: Figure | SubFigure = ax.figure
    x_lo, x_hi = _x_axis(ax, studies, pooled, log_scale=log_scale, null_value=null_value, xlim=xlim, xticks=xticks)
    ax.set_ylim(n_units, -title_units)  # row units, first row at the top

    # Text columns: x in inches from an Axes edge, y in row units.
    blend = transforms.blended_transform_factory(ax.transAxes, ax.transData)

    def put(edge, dx_in, y, text, size=FONT_PT, weight="normal", ha="left", **kw):
        trans = blend + transforms.ScaledTranslation(dx_in, 0, fig.dpi_scale_trans)
        ax.text(
            edge,
            y,
            _plain(text),
            transform=trans,
            fontsize=size,
            fontweight=weight,
            ha=ha,
            va="center",
            multialignment="left",
            clip_on=False,
            **kw,
        )

    label_dx, detail_dx = -(GAP_IN + cols.left), -(GAP_IN + cols.detail)
    weight_dx, est_dx = GAP_IN + cols.weight, cols.right - cols.estimate  # weight: right-aligned

    def weight_text(w, y, weight="normal"):
        if cols.weight:
            put(1, weight_dx, y, f"{w:.1f}%" if math.isfinite(w) else "\u2014", weight=weight, ha="right")

    def arrows(y, low, high, color):  # arrowheads where an interval runs off the axis
        for edge, off, marker in ((x_lo, low < x_lo, "<"), (x_hi, high > x_hi, ">")):
            if off:
                ax.plot(
                    [edge], [y], marker=marker, markersize=5, color=color, lw=0, gid=GID_ARROW, zorder=6, clip_on=False
                )

    def whisker(y, low, high, gid, color):
        a, b = max(low, x_lo), min(high, x_hi)
        if b > a:
            ax.plot([a, b], [y, y], color=color, lw=1.0, solid_capstyle="butt", gid=gid, zorder=2)
        arrows(y, low, high, color)

    if title_text:
        put(0, label_dx, -title_units / 2, title_text, size=TITLE_PT, weight="bold")
    wmax = max([s.weight for s in studies if math.isfinite(s.weight)] + [0.0])
    for it in items:
        y, obj = it.y, it.obj
        if it.kind == "header":
            put(0, label_dx, y, headers[0], weight="bold")
            if cols.detail:
                put(0, detail_dx, y, headers[1], weight="bold")
            if cols.weight:
                put(1, weight_dx, y, "Weight", weight="bold", ha="right")
            put(1, est_dx, y, headers[2], weight="bold")
        elif it.kind == "group":
            put(0, label_dx, y, it.text, weight="bold")
        elif it.kind == "note":
            put(0, label_dx, y, it.text, style="italic", color=_COLOR_NOTE)
        elif it.kind == "footnote":
            put(0, label_dx, y, it.text, size=FONT_PT - 1, color=_COLOR_NOTE)
        elif it.kind == "study":
            put(0, label_dx, y, it.text)
            if obj.detail:
                put(0, detail_dx, y, obj.detail)
            weight_text(obj.weight, y)
            put(1, est_dx, y, format_estimate(obj.est, obj.low, obj.high, digits))
            if not math.isfinite(obj.est):
                continue
            has_ci = math.isfinite(obj.low) and math.isfinite(obj.high)
            if has_ci:
                whisker(y, obj.low, obj.high, GID_CI, "black")
            if x_lo <= obj.est <= x_hi:
                size = (
                    max(MARKER_MIN_PT, MARKER_MAX_PT * math.sqrt(obj.weight / wmax))
                    if math.isfinite(obj.weight) and wmax > 0
                    else MARKER_PT
                )
                ax.plot(
                    [obj.est],
                    [y],
                    marker="s",
                    markersize=size,
                    color=_COLOR_STUDY,
                    lw=0,
                    markeredgewidth=0,
                    gid=GID_STUDY,
                    zorder=4,
                )
            elif not has_ci:
                whisker(y, obj.est, obj.est, GID_CI, "black")  # arrow towards the estimate
        elif it.kind == "diamond":
            put(0, label_dx, y, it.text, weight="bold")
            if math.isfinite(obj.weight):
                weight_text(obj.weight, y, "bold")
            put(1, est_dx, y, format_estimate(obj.est, obj.low, obj.high, digits), weight="bold")
            if obj.has_pi:
                whisker(y, obj.pi_low, obj.pi_high, GID_PI, "#444444")
            a, b, m = max(obj.low, x_lo), min(obj.high, x_hi), min(max(obj.est, x_lo), x_hi)
            ax.add_patch(
                Polygon(
                    [(a, y), (m, y - DIAMOND_HALF), (b, y), (m, y + DIAMOND_HALF)],
                    closed=True,
                    lw=0.8,
                    edgecolor="black",
                    gid=GID_DIAMOND,
                    zorder=5,
                    facecolor=(_COLOR_OVERALL if obj.group is None else _COLOR_SUBGROUP),
                )
            )
            arrows(y, obj.low, obj.high, "black")
        elif it.kind == "stats":  # one text per line, so the PI lines up with the first
            lines = it.text.split("\n")
            first = y - STATS_LINE * (len(lines) - 1) / 2
            for j, line in enumerate(lines):
                if line:
                    put(0, label_dx, first + j * STATS_LINE, line, size=SMALL_PT, color=_COLOR_NOTE)
            if obj.has_pi:
                put(
                    1,
                    est_dx,
                    first,
                    f"{pi_label} {_fmt_range(obj.pi_low, obj.pi_high, digits)}",
                    size=SMALL_PT,
                    color=_COLOR_NOTE,
                )

    # Reference lines and direction labels.
    if null_value is not None and x_lo <= null_value <= x_hi:
        ax.plot([null_value, null_value], [first_row_top, n_units], color="black", lw=0.8, gid=GID_NULL, zorder=1)
    overall = [it for it in items if it.kind == "diamond" and it.obj.group is None]
    if overall_line and overall and x_lo <= overall[0].obj.est <= x_hi:
        ax.plot(
            [overall[0].obj.est] * 2,
            [first_row_top, overall[0].y - DIAMOND_HALF],
            color="#555555",
            lw=0.8,
            ls=(0, (4, 3)),
            gid=GID_OVERALL,
            zorder=1,
        )
    if favours is not None and null_value is not None and x_lo < null_value < x_hi:
        below = transforms.blended_transform_factory(ax.transData, ax.transAxes)
        for text, sign, ha in ((f"\u2190 {favours[0]}", -1, "right"), (f"{favours[1]} \u2192", 1, "left")):
            if favours[(sign + 1) // 2]:
                ax.annotate(
                    _plain(text),
                    xy=(null_value, 0),
                    xycoords=below,
                    xytext=(4 * sign, -22),
                    textcoords="offset points",
                    ha=ha,
                    va="top",
                    fontsize=FONT_PT,
                    annotation_clip=False,
                )
    if xlabel:
        ax.set_xlabel(_plain(xlabel), fontsize=FONT_PT, labelpad=19 if favours_on else 4)
    return ax
