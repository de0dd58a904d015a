"""A forest-plot row whose interval the pool derived (from an exact p, or from a CI at another level) draws
that interval and says how in a footnote; a CI at the plot's level is shown as published, untouched."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from scipy import stats  # noqa: E402
from test_policy import row, table  # noqa: E402

from analysis.forest import GID_CI  # noqa: E402
from analysis.forest_kb import forest_from_pool  # noqa: E402
from analysis.kb_pool import pool_knowledge_base  # noqa: E402

Z95 = stats.norm.isf(0.025)


@pytest.fixture(scope="module")
def plot():
    rows = table(
        # No CI, an exact p: the study that carries most of the weight in the example.
        row(study_id="p", study_label="Pi (a trial)", publication_id="p1", value="0.60", p_value="0.004"),
        row(
            study_id="e",
            study_label="Eta",
            publication_id="e1",
            value="0.70",
            ci_low="0.50",
            ci_high="0.98",
            ci_level="0.80",
        ),
        row(study_id="a", study_label="Alpha", publication_id="a1", value="0.57", ci_low="0.30", ci_high="1.10"),
    )
    result = pool_knowledge_base(rows, outcome="overall survival", statistic="hazard ratio")
    ax = forest_from_pool(result)
    return result, ax, [t.get_text() for t in ax.texts]


def _whiskers(ax) -> list[tuple[float, float]]:
    return [tuple(sorted(line.get_xdata())) for line in ax.lines if line.get_gid() == GID_CI]


def _drawn(ax, low: float, high: float) -> bool:
    return any(math.isclose(a, low, rel_tol=1e-9) and math.isclose(b, high, rel_tol=1e-9) for a, b in _whiskers(ax))


def test_a_p_derived_interval_is_drawn_and_footnoted(plot):
    result, ax, texts = plot
    se = abs(math.log(0.6)) / stats.norm.isf(0.004 / 2)  # SE = |ln HR| / z(1 - p/2), by hand
    low, high = (0.6 * math.exp(s * Z95 * se) for s in (-1, 1))
    weights = dict(zip(result.pools[0].studies, result.pools[0].weights_pct, strict=True))
    assert max(weights, key=weights.__getitem__).startswith("Pi")  # it carries the most weight
    assert _drawn(ax, low, high)
    assert f"0.60 ({low:.2f}–{high:.2f})" in texts and not any("not reported" in t for t in texts)
    notes = [t for t in texts if t.startswith("– Pi (p1)")]
    assert len(notes) == 1 and "95% CI derived from the exact p = 0.004" in notes[0].replace("\n", " ")
    assert "no CI being published" in notes[0].replace("\n", " ")


def test_an_80_percent_ci_is_labelled_80_and_its_95_percent_interval_drawn(plot):
    _, ax, texts = plot
    se = (math.log(0.98) - math.log(0.50)) / (2 * stats.norm.isf(0.10))  # the 80% CI at its own level
    low, high = (0.7 * math.exp(s * Z95 * se) for s in (-1, 1))
    assert _drawn(ax, low, high) and not _drawn(ax, 0.50, 0.98)
    note = " ".join(t.replace("\n", " ") for t in texts if t.startswith("– Eta (e1)"))
    assert "95% CI derived from the published 80% CI, 0.70 (0.50–0.98)" in note
    assert any(t.endswith("95% CI derived from the 80% CI") for t in texts)  # the row's own text says so


def test_a_ci_at_the_plots_level_is_as_published_and_unannotated(plot):
    _, ax, texts = plot
    assert _drawn(ax, 0.30, 1.10) and "0.57 (0.30–1.10)" in texts
    assert not any(t.startswith("– Alpha") for t in texts)
    assert "CIs as published at 95%, except (the interval drawn is the one the pool used):" in texts
    assert not any("as published or derived" in t for t in texts)  # the header no longer blurs the two
