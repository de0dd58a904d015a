"""A pooled forest plot is never silent about where its inputs were read: a row not read in the trial's own
report carries its tier's mark, with a footnote naming the tier (issue 14); years are the study's own."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from test_policy import row, table  # noqa: E402

from analysis.forest_kb import TIER_MARKS, forest_from_pool  # noqa: E402
from analysis.kb_pool import pool_knowledge_base  # noqa: E402


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_rows_read_outside_the_trials_report_are_marked_and_footnoted():
    rows = table(
        row(
            study_id="a",
            study_label="Alpha",
            publication_id="a2019",
            publication_year="2019",
            value="0.57",
            ci_low="0.30",
            ci_high="1.10",
            evidence_tier_id="trial_abstract",
            evidence_tier="trial's own abstract",
            tier_rank="2",
        ),
        row(
            study_id="b",
            study_label="Beta",
            publication_id="b-news",
            publication_year="2024",
            value="0.70",
            ci_low="0.50",
            ci_high="0.98",
            evidence_tier_id="coverage_page",
            evidence_tier="coverage page",
            tier_rank="6",
            publication_role="secondary",
            quotes_publication="b2023",
            quotes_publication_year="2023",
        ),
        row(
            study_id="c",
            study_label="Gamma",
            publication_id="c-review",
            publication_year="2022",
            value="0.47",
            ci_low="0.30",
            ci_high="0.74",
            publication_role="secondary",
            quotes_publication="c2016",
            quotes_publication_year="2016",
        ),
    )
    result = pool_knowledge_base(rows, outcome="overall survival", statistic="hazard ratio")
    texts = _texts(forest_from_pool(result))
    assert "Alpha (a2019)" in texts  # the trial's own abstract: no mark
    assert f"Beta (b-news) {TIER_MARKS['6']}" in texts
    assert f"Gamma (c-review) {TIER_MARKS['5']}" in texts
    assert "¶ not read in the trial's own report: read in a coverage page (evidence tier 6 of 6)" in texts
    assert "§ not read in the trial's own report: read in a review or meta-analysis (evidence tier 5 of 6)" in texts
    assert not any(t.startswith("†") for t in texts)  # no conference abstract among the rows: no such footnote
    # the year shown is the study's own report's (2016), never the review's (2022)
    details = [t.split(" · ")[0] for t in texts]
    assert "2016" in details and "2022" not in details


def test_a_ci_derived_from_the_exact_p_is_drawn_and_said_to_be_derived():
    import math

    from scipy import stats

    rows = table(
        row(study_id="f", study_label="Phi", publication_id="f1", value="0.60", p_value="0.04"),
        row(study_id="a", study_label="Alpha", publication_id="a1", value="0.57", ci_low="0.30", ci_high="1.10"),
    )
    result = pool_knowledge_base(rows, outcome="overall survival", statistic="hazard ratio")
    texts = _texts(forest_from_pool(result))
    se = abs(math.log(0.6)) / stats.norm.isf(0.04 / 2)  # the SE from the exact two-sided p
    low, high = (0.6 * math.exp(s * stats.norm.isf(0.025) * se) for s in (-1, 1))
    assert f"0.60 ({low:.2f}–{high:.2f})" in texts  # the interval the pool used, not "CI not reported"
    assert any(t.endswith("95% CI derived from p = 0.04") for t in texts)
    assert "0.57 (0.30–1.10)" in texts and not any("derived" in t and "Alpha" in t for t in texts)
