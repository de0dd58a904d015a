"""Forest plot drawing (analysis/forest.py) under the Agg backend: what is drawn where.

The rows below are made-up DEMO numbers, not evidence. Each test checks something a wrong plot
would break: diamond count, one-study subgroups, axis scale and tick labels, marker and whisker
positions, text columns, overlap on 45 rows, and the bytes of saved files.
"""

from __future__ import annotations

import itertools
import os
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from analysis import forest as fp  # noqa: E402
from analysis.errors import InputError, OptionError  # noqa: E402
from analysis.forest import ForestRow, ForestSummary, forest_plot, format_estimate  # noqa: E402
from analysis.forest_save import save_forest  # noqa: E402

#: Text boxes may touch by rounding; anything more is an overlap (display pixels at 100 dpi).
OVERLAP_TOL_PX = 0.5
#: Positions read back from Line2D/Polygon data are the floats we passed in.
POS_RTOL = 1e-12

MAGIC = {".svg": (b"<?xml", b"<svg"), ".png": (b"\x89PNG",), ".pdf": (b"%PDF",)}


# --- DEMO data (plain functions, not fixtures: fixtures live in conftest.py) -----------------


def demo_rows() -> list[ForestRow]:
    return [
        ForestRow("Demo A (Author 2019)", 0.47, 0.30, 0.74, 28.4, "2019 · RCT · n=99", "RCT"),
        ForestRow("Demo B (Author 2021)", 0.62, 0.41, 0.95, 31.0, "2021 · RCT · n=142", "RCT"),
        ForestRow("Demo C (Author 2023)", 0.85, 0.44, 1.63, 14.9, "2023 · RCT · n=58", "RCT"),
        ForestRow("Demo D (Author 2020)", 0.55, 0.30, 1.01, 25.7, "2020 · cohort · n=311", "Cohort"),
    ]


def demo_summaries(with_k1_summary: bool = True) -> list[ForestSummary]:
    out = [
        ForestSummary(
            "Subtotal RCT",
            0.60,
            0.45,
            0.80,
            0.31,
            1.17,
            group="RCT",
            stats_text="τ² = 0.02, I² = 12%, Q = 2.3 (df = 2, p = 0.32)",
            weight_pct=74.3,
        )
    ]
    if with_k1_summary:  # a caller that pools a one-study subgroup anyway
        out.append(
            ForestSummary(
                "Subtotal cohort", 0.55, 0.30, 1.01, group="Cohort", stats_text="τ² = 0, I² = 0%, Q = 0 (df = 0, p = 1)"
            )
        )
    out.append(
        ForestSummary(
            "Overall",
            0.59,
            0.45,
            0.77,
            0.34,
            1.02,
            stats_text="τ² = 0.03, I² = 18%, Q = 3.7 (df = 3, p = 0.30)",
            weight_pct=100.0,
        )
    )
    return out


def many_rows(k: int) -> list[ForestRow]:
    return [
        ForestRow(
            f"Demo study {i + 1:02d} (Author {2000 + i})",
            0.5 + 0.02 * i,
            0.3 + 0.01 * i,
            0.9 + 0.03 * i,
            100.0 / k,
            f"{2000 + i} · cohort · n={50 + i}",
        )
        for i in range(k)
    ]


def texts_of(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def lines_with(ax: Axes, gid: str):
    return [ln for ln in ax.lines if ln.get_gid() == gid]


def diamonds(ax: Axes) -> list[Polygon]:
    return [p for p in ax.patches if isinstance(p, Polygon)]


def drawn_text_boxes(ax: Axes):
    """(text, window extent) of every visible non-empty text of the figure, after a draw."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    artists = list(ax.texts) + list(ax.get_xticklabels()) + [ax.xaxis.label]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in artists if t.get_visible() and t.get_text().strip()]


def assert_no_overlap(ax: Axes) -> None:
    boxes = drawn_text_boxes(ax)
    fig_box = ax.figure.bbox
    for text, box in boxes:
        assert (
            box.x0 >= fig_box.x0 - OVERLAP_TOL_PX
            and box.x1 <= fig_box.x1 + OVERLAP_TOL_PX
            and box.y0 >= fig_box.y0 - OVERLAP_TOL_PX
            and box.y1 <= fig_box.y1 + OVERLAP_TOL_PX
        ), f"{text!r} is clipped by the figure edge: {box} vs {fig_box}"
    for (t1, b1), (t2, b2) in itertools.combinations(boxes, 2):
        dx = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        dy = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        assert dx <= OVERLAP_TOL_PX or dy <= OVERLAP_TOL_PX, f"{t1!r} overlaps {t2!r}"


@pytest.fixture(autouse=True)
def _no_pyplot_figures_left():
    """forest_plot must not create pyplot figures (nothing to show, nothing leaked)."""
    before = set(plt.get_fignums())
    yield
    created = set(plt.get_fignums()) - before
    for num in created:
        plt.close(num)


# --- Structure: diamonds, one-study subgroups -------------------------------------------------


def test_returns_axes_of_a_new_figure_without_pyplot():
    before = plt.get_fignums()
    ax = forest_plot(demo_rows(), demo_summaries())
    assert isinstance(ax, Axes)
    assert ax.figure.axes == [ax]
    assert plt.get_fignums() == before


def test_one_diamond_per_summary_with_k_at_least_2():
    ax = forest_plot(demo_rows(), demo_summaries(with_k1_summary=True))
    polys = diamonds(ax)
    # 3 summaries passed; the cohort subgroup has one study, so only RCT subtotal + overall.
    assert len(polys) == 2
    assert all(p.get_gid() == fp.GID_DIAMOND for p in polys)
    texts = texts_of(ax)
    assert "Subtotal cohort: k = 1, not pooled" in texts
    # domain guide 6.6: k = 1 shows no heterogeneity statistics either
    assert not any("df = 0" in t for t in texts)
    assert "τ² = 0.02, I² = 12%, Q = 2.3 (df = 2, p = 0.32)" in texts
    assert "τ² = 0.03, I² = 18%, Q = 3.7 (df = 3, p = 0.30)" in texts


def test_multiline_stats_text_one_text_per_line_with_pi_on_the_first():
    overall = ForestSummary(
        "Overall",
        0.59,
        0.45,
        0.77,
        0.34,
        1.02,
        stats_text="τ² = 0.03, I² = 18%\nTest for subgroup differences: Q = 0.0 (df = 1, p = 0.87)",
    )
    ax = forest_plot(demo_rows(), [overall])
    by_text = {t.get_text(): t for t in ax.texts}
    first = by_text["τ² = 0.03, I² = 18%"].get_position()[1]
    second = by_text["Test for subgroup differences: Q = 0.0 (df = 1, p = 0.87)"].get_position()[1]
    assert first < second  # inverted y: first line on top
    assert by_text["95% PI 0.34–1.02"].get_position()[1] == first
    assert_no_overlap(ax)


def test_one_study_subgroup_gets_a_note_even_without_a_summary():
    ax = forest_plot(demo_rows(), demo_summaries(with_k1_summary=False))
    assert len(diamonds(ax)) == 2
    assert any(t.endswith("k = 1, not pooled") for t in texts_of(ax))
    assert "RCT" in texts_of(ax) and "Cohort" in texts_of(ax)  # subgroup headers


def test_no_overall_diamond_when_only_one_study_is_estimable():
    rows = [ForestRow("Demo only", 0.7, 0.5, 0.9, 100.0), ForestRow("Demo NE", None, None, None)]
    ax = forest_plot(rows, [ForestSummary("Overall", 0.7, 0.5, 0.9)])
    assert diamonds(ax) == []
    assert "Overall: k = 1, not pooled" in texts_of(ax)


def test_diamond_spans_the_ci_and_peaks_at_the_estimate():
    ax = forest_plot(demo_rows(), demo_summaries())
    overall = max(diamonds(ax), key=lambda p: p.get_xy()[:, 1].mean())  # lowest on the plot
    xy = overall.get_xy()
    assert min(xy[:, 0]) == pytest.approx(0.45, rel=POS_RTOL)
    assert max(xy[:, 0]) == pytest.approx(0.77, rel=POS_RTOL)
    top = xy[xy[:, 1].argmin()]
    assert top[0] == pytest.approx(0.59, rel=POS_RTOL)
    pis = lines_with(ax, fp.GID_PI)
    assert sorted(tuple(ln.get_xdata()) for ln in pis) == [(0.31, 1.17), (0.34, 1.02)]


# --- Axis ---------------------------------------------------------------------------------------


def test_log_axis_plain_tick_labels_and_null_line():
    ax = forest_plot(demo_rows(), demo_summaries())
    ax.figure.canvas.draw()
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0.25", "0.5", "1", "2"]
    assert all(re.fullmatch(r"\d+(\.\d+)?", s) for s in labels)
    assert [t.get_text() for t in ax.get_xticklabels(minor=True)] == []
    null = lines_with(ax, fp.GID_NULL)
    assert len(null) == 1 and list(null[0].get_xdata()) == [1.0, 1.0]
    overall = lines_with(ax, fp.GID_OVERALL)
    assert len(overall) == 1 and list(overall[0].get_xdata()) == [0.59, 0.59]
    assert ax.get_xlabel() == "Hazard ratio"


def test_wide_log_range_uses_1_2_5_ticks():
    rows = [ForestRow("Demo wide", 0.5, 0.02, 30.0)]
    ax = forest_plot(rows)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0.01", "0.1", "1", "10", "100"]
    assert all(re.fullmatch(r"\d+(\.\d+)?", s) for s in labels)


def test_favours_labels_flank_the_null_line_below_the_axis():
    ax = forest_plot(demo_rows(), demo_summaries())
    boxes = dict(drawn_text_boxes(ax))
    left, right = boxes["← favours SABR"], boxes["favours control →"]
    null_x = ax.transData.transform((1.0, 0))[0]
    axis_y = ax.transAxes.transform((0, 0))[1]
    assert left.x1 < null_x < right.x0
    assert left.y1 < axis_y and right.y1 < axis_y
    ticks_bottom = min(b.y0 for t, b in drawn_text_boxes(ax) if t in ("0.25", "1"))
    assert left.y1 <= ticks_bottom + OVERLAP_TOL_PX


def test_linear_proportion_axis_has_no_null_line_or_favours():
    rows = [ForestRow("Demo E", 42.0, 31.5, 53.1, 40.0), ForestRow("Demo F", 55.3, 46.0, 64.3, 60.0)]
    ax = forest_plot(
        rows,
        [ForestSummary("Pooled", 50.2, 40.4, 60.0)],
        log_scale=False,
        null_value=None,
        favours=None,
        xlabel="2-year PFS (%)",
        digits=1,
    )
    ax.figure.canvas.draw()
    assert ax.get_xscale() == "linear"
    assert lines_with(ax, fp.GID_NULL) == []
    assert not any("favours" in t for t in texts_of(ax))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert all(re.fullmatch(r"\d+(\.\d+)?", s) for s in labels) and len(labels) >= 3
    assert "42.0 (31.5–53.1)" in texts_of(ax)
    assert 0 <= ax.get_xlim()[0] and ax.get_xlim()[1] <= 100


# --- Rows: markers, whiskers, text columns ----------------------------------------------------


def test_markers_sit_at_the_estimates_in_row_order_and_scale_with_weight():
    rows = demo_rows()
    ax = forest_plot(rows, demo_summaries())
    markers = lines_with(ax, fp.GID_STUDY)
    assert [m.get_xdata()[0] for m in markers] == pytest.approx([r.estimate for r in rows], rel=POS_RTOL)
    ys = [m.get_ydata()[0] for m in markers]
    assert ys == sorted(ys)  # first row drawn at the top (inverted y)
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    by_weight = sorted(zip((r.weight_pct for r in rows), (m.get_markersize() for m in markers), strict=False))
    sizes = [s for _, s in by_weight]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert all(m.get_marker() == "s" for m in markers)


def test_whiskers_span_the_ci():
    rows = demo_rows()
    ax = forest_plot(rows)
    spans = [tuple(ln.get_xdata()) for ln in lines_with(ax, fp.GID_CI)]
    assert spans == [(r.ci_low, r.ci_high) for r in rows]


def test_ci_off_the_axis_is_clipped_with_an_arrow():
    rows = [ForestRow("Demo in", 0.6, 0.4, 0.9), ForestRow("Demo off", 0.55, 0.18, 5.2)]
    ax = forest_plot(rows, xlim=(0.25, 4))
    arrows = lines_with(ax, fp.GID_ARROW)
    assert [(a.get_marker(), a.get_xdata()[0]) for a in arrows] == [("<", 0.25), (">", 4.0)]
    assert tuple(lines_with(ax, fp.GID_CI)[1].get_xdata()) == (0.25, 4.0)
    assert "0.55 (0.18–5.20)" in texts_of(ax)  # the text keeps the published CI


def test_pooled_ci_and_pi_off_the_axis_get_visible_arrows():
    rows = [ForestRow("Demo A", 0.6, 0.4, 0.9), ForestRow("Demo B", 0.7, 0.5, 1.1)]
    ax = forest_plot(rows, [ForestSummary("Overall", 0.65, 0.2, 1.5, 0.1, 6.0)], xlim=(0.25, 4))
    arrows = lines_with(ax, fp.GID_ARROW)
    # PI beyond both ends, CI beyond the lower end only
    assert sorted((a.get_marker(), a.get_xdata()[0]) for a in arrows) == [("<", 0.25), ("<", 0.25), (">", 4.0)]
    assert all(a.get_color() not in ("none", "None") for a in arrows)
    (diamond,) = diamonds(ax)
    assert min(diamond.get_xy()[:, 0]) == 0.25 and max(diamond.get_xy()[:, 0]) == 1.5


def test_estimate_weight_and_detail_texts():
    rows = demo_rows()
    ax = forest_plot(rows, demo_summaries())
    texts = texts_of(ax)
    assert "0.47 (0.30–0.74)" in texts
    for r in rows:
        assert format_estimate(r.estimate, r.ci_low, r.ci_high) in texts
        assert f"{r.weight_pct:.1f}%" in texts
        assert r.detail in texts and r.label in texts
    assert "0.60 (0.45–0.80)" in texts and "100.0%" in texts and "95% PI 0.34–1.02" in texts
    assert {"Study", "Weight", "Hazard ratio (95% CI)", "Year · design · n"} <= set(texts)


def test_format_estimate():
    assert format_estimate(0.47, 0.3, 0.74) == "0.47 (0.30–0.74)"
    assert format_estimate(-0.2, -0.5, 0.1) == "−0.20 (−0.50 to 0.10)"
    assert format_estimate(0.7, None, None) == "0.70 (CI not reported)"
    assert format_estimate(float("nan"), 0.1, 0.2) == "not estimable"
    assert format_estimate(42.04, 31.5, 53.06, digits=1) == "42.0 (31.5–53.1)"


def test_missing_ci_and_nan_estimate():
    rows = [
        ForestRow("Demo ok", 0.6, 0.4, 0.9, 50.0),
        ForestRow("Demo no CI", 0.7, None, None, None),
        ForestRow("Demo NaN", float("nan"), float("nan"), float("nan"), None),
        ForestRow("Demo None", None, None, None),
    ]
    ax = forest_plot(rows)
    texts = texts_of(ax)
    assert "0.70 (CI not reported)" in texts and texts.count("not estimable") == 2
    assert [m.get_xdata()[0] for m in lines_with(ax, fp.GID_STUDY)] == [0.6, 0.7]
    assert len(lines_with(ax, fp.GID_CI)) == 1
    assert texts.count("\u2014") == 3  # weight dash for rows without a weight


def test_long_labels_wrap():
    label = "Demo trial with a deliberately long label that cannot fit one line (Author 2021)"
    ax = forest_plot([ForestRow(label, 0.6, 0.4, 0.9)])
    wrapped = [t for t in texts_of(ax) if t.replace("\n", " ") == label]
    assert len(wrapped) == 1 and wrapped[0].count("\n") >= 1
    assert all(len(line) <= fp.LABEL_WRAP for line in wrapped[0].split("\n"))


def test_dollar_signs_are_not_mathtext():
    ax = forest_plot([ForestRow("Demo $5 trial$", 0.6, 0.4, 0.9)])
    ax.figure.canvas.draw()  # would raise or render math otherwise
    assert r"Demo \$5 trial\$" in texts_of(ax)


# --- Layout: 45 rows, overlap, given Axes ------------------------------------------------------


def test_45_rows_make_a_taller_figure_without_overlap():
    short = forest_plot(many_rows(10), [ForestSummary("Overall", 0.7, 0.6, 0.8)])
    tall = forest_plot(
        many_rows(45), [ForestSummary("Overall", 0.7, 0.6, 0.8, 0.5, 1.0, stats_text="τ² = 0.01, I² = 5%")]
    )
    h10, h45 = short.figure.get_figheight(), tall.figure.get_figheight()
    assert h45 > h10 + 35 * fp.ROW_IN * 0.99
    assert tall.figure.get_figwidth() == pytest.approx(short.figure.get_figwidth(), rel=0.1)
    assert all(t.get_fontsize() in (fp.FONT_PT, fp.SMALL_PT, fp.TITLE_PT) for t in tall.texts)
    assert_no_overlap(tall)
    assert_no_overlap(short)


def test_subgroup_plot_with_title_and_wrapping_has_no_overlap():
    rows = demo_rows()
    rows[1] = ForestRow(
        "Demo B, a deliberately long label that has to wrap (Author 2021)",
        0.62,
        0.41,
        0.95,
        31.0,
        "2021 · RCT · n=142",
        "RCT",
    )
    ax = forest_plot(
        rows,
        demo_summaries(),
        title="DEMO DATA (not evidence): a long title "
        "that runs on and on to test that it wraps within the figure width",
    )
    assert_no_overlap(ax)


def test_draws_on_a_given_axes_and_returns_it():
    fig, ax = plt.subplots(figsize=(10, 4))
    try:
        out = forest_plot(demo_rows(), demo_summaries(), ax=ax)
        assert out is ax and len(diamonds(ax)) == 2
    finally:
        plt.close(fig)


# --- Input and option errors -------------------------------------------------------------------


def test_empty_input_raises_value_error():
    with pytest.raises(ValueError, match="at least one study row"):
        forest_plot([])


@pytest.mark.parametrize(
    "row, match",
    [
        (ForestRow("Demo", -0.2, -0.5, 0.1), "not positive; a log axis"),
        (ForestRow("Demo", 0.6, 0.9, 0.4), "ci_low 0.9 > ci_high 0.4"),
        (ForestRow("Demo", "0.6", 0.4, 0.9), "not a number"),
    ],
)
def test_bad_rows_raise(row, match):
    with pytest.raises(InputError, match=match):
        forest_plot([row])


def test_bad_prediction_interval_raises():
    with pytest.raises(InputError, match="pi_low 2 > pi_high 0.5 for 'Overall'"):
        forest_plot(demo_rows(), [ForestSummary("Overall", 0.6, 0.5, 0.7, 2.0, 0.5)])


def test_summary_for_unknown_group_raises():
    with pytest.raises(InputError, match="names group 'Other', which no row has"):
        forest_plot(demo_rows(), [ForestSummary("Sub", 0.6, 0.5, 0.7, group="Other")])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"digits": -1}, "digits=-1"),
        ({"xlim": (0, 4)}, "xlim="),
        ({"null_value": 0}, "null_value=0"),
        ({"favours": ("only one",)}, "favours="),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(OptionError, match=match):
        forest_plot(demo_rows(), **kwargs)


# --- Saving -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".svg", ".png", ".pdf", ".PNG"])
def test_save_writes_the_format_of_the_extension(tmp_path, ext):
    ax = forest_plot(demo_rows(), demo_summaries(), title="DEMO DATA (not evidence)")
    path = save_forest(ax, tmp_path / f"forest{ext}")
    head = path.read_bytes()[:200].lstrip()
    assert any(head.startswith(m) or (m == b"<svg" and m in head) for m in MAGIC[ext.lower()])
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


def test_save_png_uses_200_dpi(tmp_path):
    ax = forest_plot(demo_rows())
    path = save_forest(ax.figure, tmp_path / "f.png")
    with open(path, "rb") as fh:
        data = fh.read()
    # pHYs chunk: pixels per metre = 200 dpi / 0.0254
    i = data.index(b"pHYs")
    ppm = int.from_bytes(data[i + 4 : i + 8], "big")
    assert ppm == round(200 / 0.0254)  # the documented default


def test_svg_and_pdf_are_reproducible(tmp_path):
    for ext in (".svg", ".pdf"):
        a = save_forest(forest_plot(demo_rows()), tmp_path / f"a{ext}").read_bytes()
        b = save_forest(forest_plot(demo_rows()), tmp_path / f"b{ext}").read_bytes()
        assert a == b


def test_svg_text_is_outlined_unless_asked_to_stay_text(tmp_path):
    import matplotlib as mpl

    with mpl.rc_context({"svg.fonttype": "none"}):  # a user's matplotlibrc does not change the download
        outlined = save_forest(forest_plot(demo_rows()), tmp_path / "outlined.svg").read_text(encoding="utf-8")
    as_text = save_forest(forest_plot(demo_rows()), tmp_path / "text.svg", text_as_text=True).read_text(
        encoding="utf-8"
    )
    # outlines: no <text> element, each glyph drawn from a path; text: the study labels as the viewer sets them
    text_element = re.compile(r"<text[ >]")
    assert not text_element.search(outlined) and ">Demo A (Author 2019)<" not in outlined
    assert 'xlink:href="#DejaVuSans-' in outlined
    assert text_element.search(as_text)
    assert ">Demo A (Author 2019)<" in as_text and ">2021 · RCT · n=142<" in as_text
    assert "#DejaVuSans-" not in as_text
    assert "sans-serif" in as_text  # a fallback for a browser without DejaVu Sans
    assert len(as_text) < len(outlined) / 3
    # the same drawing otherwise: the markers (squares) and the figure's size are unchanged
    size = re.compile(r'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"')
    assert size.search(as_text).groups() == size.search(outlined).groups()


def test_unsupported_extension_raises_and_writes_nothing(tmp_path):
    ax = forest_plot(demo_rows())
    with pytest.raises(OptionError, match=r"\.svg, \.png, \.pdf"):
        save_forest(ax, tmp_path / "forest.jpg")
    with pytest.raises(OptionError):
        save_forest(ax, tmp_path / "forest")
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "forest.png"
    target.write_bytes(b"old")
    ax = forest_plot(demo_rows())

    def boom(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(ax.figure, "savefig", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        save_forest(ax, target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["forest.png"]


def test_save_overwrites_atomically(tmp_path):
    target = tmp_path / "forest.pdf"
    target.write_bytes(b"old")
    save_forest(forest_plot(demo_rows()), target)
    assert target.read_bytes().startswith(b"%PDF")
    assert os.listdir(tmp_path) == ["forest.pdf"]
