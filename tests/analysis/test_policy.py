"""The pooling policy on hand-made evidence tables: which rows are used, which are left out and why,
and that the pooled numbers are the meta-analysis of the hand-derived effect sizes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import InputError
from analysis.kb_pool import pool_knowledge_base
from analysis.meta import meta_analysis
from analysis.policy import select_estimates
from terms.contract import ALL_COLUMNS


def row(**kw) -> dict:
    base = {c: "" for c in ALL_COLUMNS}
    base.update(
        dict(
            outcome="overall survival",
            statistic="hazard ratio",
            design_class="randomised",
            publication_role="primary",
            group_arm_role="experimental",
            reference_arm_role="control",
            adjusted="false",
            histology="nsclc",
            oligo_state="synchronous oligometastatic disease",
            unit_of_analysis="patient",
            outcome_time_origin="randomisation",
            group_is_subgroup="false",
            ci_level="0.95",
            publication_year="2020",
            group="SABR",
            comparison="SABR vs control",
            unit="",
        )
    )
    base.update({k: str(v) for k, v in kw.items()})
    if not kw.get("evidence_tier_id"):  # a primary report read in full text; a secondary one a review
        base["evidence_tier_id"], base["tier_rank"], base["evidence_tier"] = (
            ("trial_full_report", "1", "trial's own full report")
            if base["publication_role"] == "primary"
            else ("review", "5", "review or meta-analysis")
        )
    base.setdefault("statistic_id", f"{base['publication_id']}/{base['study_id']}/stat/x")
    if not kw.get("statistic_id"):
        base["statistic_id"] = f"{base['publication_id']}/{base['study_id']}/stat/{base['group']}"
    return base


def table(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(ALL_COLUMNS))


def se_from_ci(low, high, level):
    return (math.log(high) - math.log(low)) / (2 * stats.norm.ppf((1 + level) / 2))


HR_ROWS = [
    row(study_id="a", study_label="A", publication_id="a1", value="0.57", ci_low="0.30", ci_high="1.10"),
    row(
        study_id="b", study_label="B", publication_id="b1", value="0.70", ci_low="0.50", ci_high="0.98", ci_level="0.80"
    ),
    row(
        study_id="c", study_label="C", publication_id="c1", value="0.47", ci_low="0.30", ci_high="0.74", ci_level="0.90"
    ),
]


def test_hr_effect_sizes_use_each_ci_at_its_own_level():
    sel = select_estimates(table(*HR_ROWS), outcome="overall survival", statistic="hazard ratio")
    got = dict(zip(sel.used["study_id"], zip(sel.used["yi"], sel.used["vi"], strict=True), strict=True))
    for r in HR_ROWS:
        level = float(r["ci_level"])
        yi, vi = got[r["study_id"]]
        assert yi == pytest.approx(math.log(float(r["value"])), rel=1e-12)
        assert math.sqrt(vi) == pytest.approx(se_from_ci(float(r["ci_low"]), float(r["ci_high"]), level), rel=1e-12)
    assert math.sqrt(got["b"][1]) == pytest.approx(0.2626, abs=5e-5)  # domain guide 5.2 worked example


def test_pooled_hr_is_the_meta_analysis_of_the_derived_effects():
    res = pool_knowledge_base(
        table(*HR_ROWS), outcome="overall survival", statistic="hazard ratio", method="REML", test="knha"
    )
    (pool,) = res.pools
    yi = [math.log(float(r["value"])) for r in HR_ROWS]
    vi = [se_from_ci(float(r["ci_low"]), float(r["ci_high"]), float(r["ci_level"])) ** 2 for r in HR_ROWS]
    ref = meta_analysis(yi, vi, method="REML", test="knha")
    assert pool.k == 3
    assert pool.estimate == pytest.approx(math.exp(ref.estimate), rel=1e-12)
    assert (pool.ci_low, pool.ci_high) == pytest.approx((math.exp(ref.ci_low), math.exp(ref.ci_high)), rel=1e-12)
    assert pool.pi_low == pytest.approx(math.exp(ref.pi_low), rel=1e-12)
    assert pool.tau2 == pytest.approx(ref.tau2, abs=1e-14)


def test_secondary_prognostic_and_adjusted_rows_are_left_out_with_reasons():
    rows = table(
        *HR_ROWS,
        row(
            study_id="a",
            study_label="A",
            publication_id="review",
            publication_role="secondary",
            value="0.60",
            ci_low="0.3",
            ci_high="1.2",
        ),
        row(
            study_id="d",
            study_label="D",
            publication_id="d1",
            design_class="observational",
            group_arm_role="",
            reference_arm_role="",
            group="OPD",
            comparison="OPD vs OMD",
            value="1.8",
            ci_low="1.1",
            ci_high="2.9",
        ),
        row(
            study_id="a",
            study_label="A",
            publication_id="a1",
            adjusted="true",
            value="0.55",
            ci_low="0.28",
            ci_high="1.07",
            group="SABR adj",
        ),
        row(study_id="e", study_label="E", publication_id="e1", value="0.8"),  # no CI, no p
    )
    sel = select_estimates(rows, outcome="overall survival", statistic="hazard ratio", include_secondary=False)
    assert sorted(sel.used["study_id"]) == ["a", "b", "c"]
    reasons = dict(
        zip(sel.excluded["publication_id"] + ":" + sel.excluded["group"], sel.excluded["reason"], strict=True)
    )
    assert reasons["review:SABR"].startswith("read in a review or meta-analysis (tier 5): this analysis keeps tiers 1 ")
    assert "prognostic association" in reasons["d1:OPD"]
    assert "unadjusted (ITT) estimate" in reasons["a1:SABR adj"]
    assert "no standard error" in reasons["e1:SABR"]


def test_hr_from_exact_p_when_no_ci():
    rows = table(row(study_id="f", study_label="F", publication_id="f1", value="0.60", p_value="0.04"))
    sel = select_estimates(rows, outcome="overall survival", statistic="hazard ratio")
    assert math.sqrt(sel.used["vi"][0]) == pytest.approx(abs(math.log(0.6)) / stats.norm.isf(0.02), rel=1e-12)


def test_latest_primary_report_wins_and_overlap_is_dropped():
    rows = table(
        row(
            study_id="s",
            study_label="S",
            publication_id="s2019",
            publication_year="2019",
            value="0.57",
            ci_low="0.30",
            ci_high="1.10",
        ),
        row(
            study_id="s",
            study_label="S",
            publication_id="s2020",
            publication_year="2020",
            supersedes="s2019",
            value="0.47",
            ci_low="0.27",
            ci_high="0.81",
        ),
        row(
            study_id="t",
            study_label="T",
            publication_id="t1",
            value="0.60",
            ci_low="0.40",
            ci_high="0.90",
            ci_level="0.80",
        ),
        row(
            study_id="pooled",
            study_label="P",
            publication_id="p1",
            design_class="randomised",
            overlaps_with="t;u",
            value="0.44",
            ci_low="0.29",
            ci_high="0.66",
        ),
    )
    sel = select_estimates(rows, outcome="overall survival", statistic="hazard ratio")
    assert sorted(zip(sel.used["study_id"], sel.used["publication_id"], strict=True)) == [("s", "s2020"), ("t", "t1")]
    reasons = dict(zip(sel.excluded["publication_id"], sel.excluded["reason"], strict=True))
    assert "s2020" in reasons["s2019"] and "latest data cut" in reasons["s2019"]
    assert reasons["p1"].startswith("overlaps with t;u")


TIERS = {
    "1": ("trial_full_report", "trial's own full report"),
    "2": ("trial_abstract", "trial's own abstract"),
    "3": ("conference_abstract", "conference abstract"),
    "5": ("review", "review or meta-analysis"),
    "6": ("coverage_page", "coverage page"),
}


def tiered(rank: str, **kw) -> dict:
    tier, label = TIERS[rank]
    return row(evidence_tier_id=tier, evidence_tier=label, tier_rank=rank, **kw)


def test_the_latest_data_cut_wins_then_the_best_tier_and_own_reports_restrict():
    """STOMP-like: a 2018 journal abstract, its 5-year update read only on a coverage page, and a 2022
    review quoting the 2018 report; the latest cut wins by default, the trial's own report when restricted."""
    rows = table(
        tiered(
            "2",
            study_id="s",
            study_label="S",
            publication_id="s2018",
            publication_year="2018",
            value="0.60",
            ci_low="0.40",
            ci_high="0.90",
            ci_level="0.80",
        ),
        tiered(
            "6",
            study_id="s",
            study_label="S",
            publication_id="s2020",
            publication_year="2020",
            supersedes="s2018",
            value="0.57",
            ci_low="0.38",
            ci_high="0.84",
            ci_level="0.80",
        ),
        tiered(
            "5",
            study_id="s",
            study_label="S",
            publication_id="rev2022",
            publication_year="2022",
            publication_role="secondary",
            quotes_publication="s2018",
            quotes_publication_year="2018",
            value="0.61",
            ci_low="0.41",
            ci_high="0.92",
            ci_level="0.80",
        ),
        # the same cut twice: the review (tier 5) beats the coverage page (tier 6)
        tiered(
            "6",
            study_id="u",
            study_label="U",
            publication_id="u-news",
            publication_year="2021",
            publication_role="secondary",
            quotes_publication="u2021",
            quotes_publication_year="2021",
            value="0.50",
            ci_low="0.30",
            ci_high="0.80",
        ),
        tiered(
            "5",
            study_id="u",
            study_label="U",
            publication_id="u-review",
            publication_year="2023",
            publication_role="secondary",
            quotes_publication="u2021",
            quotes_publication_year="2021",
            value="0.51",
            ci_low="0.31",
            ci_high="0.81",
        ),
    )
    best = select_estimates(rows, outcome="overall survival", statistic="hazard ratio")
    assert sorted(zip(best.used["study_id"], best.used["publication_id"], strict=True)) == [
        ("s", "s2020"),
        ("u", "u-review"),
    ]
    reasons = dict(zip(best.excluded["publication_id"], best.excluded["reason"], strict=True))
    assert reasons["s2018"].startswith("one estimate per study and stratum: s2020")
    assert "latest primary report" not in " ".join(reasons.values())
    # a study's years are its own reports', never the review's (2022) or the page's
    assert set(best.used.loc[best.used["study_id"] == "s", "study_years"]) == {"2018–2020"}
    assert set(best.used.loc[best.used["study_id"] == "u", "study_years"]) == {"2021"}
    own = select_estimates(rows, outcome="overall survival", statistic="hazard ratio", tiers="own")
    assert list(own.used["publication_id"]) == ["s2018"]
    reasons = dict(zip(own.excluded["publication_id"], own.excluded["reason"], strict=True))
    assert reasons["s2020"] == (
        "read in a coverage page (tier 6): this analysis keeps tiers 1 trial's own full report, 2 trial's own abstract"
    )
    assert reasons["rev2022"].startswith("read in a review or meta-analysis (tier 5)")
    with pytest.raises(InputError, match="unknown tier 'press'"):
        select_estimates(rows, outcome="overall survival", statistic="hazard ratio", tiers="press")


def test_strata_form_at_the_level_a_reviewer_asks():
    rows = table(
        row(
            study_id="a",
            study_label="A",
            publication_id="a1",
            histology="nsclc",
            histology_id="nsclc",
            value="0.57",
            ci_low="0.30",
            ci_high="1.10",
        ),
        row(
            study_id="b",
            study_label="B",
            publication_id="b1",
            histology="nsclc, egfr-mutant",
            histology_id="nsclc_egfr",
            value="0.70",
            ci_low="0.50",
            ci_high="0.98",
        ),
        row(
            study_id="c",
            study_label="C",
            publication_id="c1",
            histology="prostate cancer, castration-sensitive",
            histology_id="prostate_castration_sensitive",
            value="0.47",
            ci_low="0.30",
            ci_high="0.74",
        ),
    )
    top = select_estimates(rows, outcome="overall survival", statistic="hazard ratio", by=("histology",))
    strata = dict(zip(top.used["study_id"], top.used["histology"], strict=True))
    assert strata["a"] == strata["b"] == "nsclc"  # EGFR-mutant NSCLC pools with NSCLC by default
    assert strata["c"] == "prostate cancer"
    assert (
        dict(zip(top.used["study_id"], top.used["histology_term"], strict=True))["b"] == "nsclc, egfr-mutant"
    )  # still shown
    fine = select_estimates(
        rows, outcome="overall survival", statistic="hazard ratio", by=("histology",), levels={"histology": "2"}
    )
    assert dict(zip(fine.used["study_id"], fine.used["histology"], strict=True))["b"] == "nsclc, egfr-mutant"
    with pytest.raises(InputError, match="write 1"):
        select_estimates(
            rows, outcome="overall survival", statistic="hazard ratio", by=("histology",), levels="histology=3"
        )


def test_designs_units_and_origins_are_strata_never_mixed():
    rate = dict(
        statistic="landmark rate",
        outcome="local control",
        timepoint_months="24",
        unit="percent",
        group_arm_role="single",
        reference_arm_role="",
        comparison="",
    )
    rows = table(
        row(
            study_id="x",
            study_label="X",
            publication_id="x1",
            design_class="observational",
            unit_of_analysis="lesion",
            value="68",
            n="77",
            **rate,
        ),
        row(
            study_id="y",
            study_label="Y",
            publication_id="y1",
            design_class="observational",
            unit_of_analysis="patient",
            value="70",
            n="40",
            **rate,
        ),
        row(
            study_id="z",
            study_label="Z",
            publication_id="z1",
            design_class="randomised",
            unit_of_analysis="patient",
            value="75",
            n="60",
            **{**rate, "group_arm_role": "experimental"},
        ),
        row(
            study_id="z",
            study_label="Z",
            publication_id="z1",
            design_class="randomised",
            unit_of_analysis="patient",
            value="50",
            n="30",
            group="control",
            **{**rate, "group_arm_role": "control"},
        ),
    )
    res = pool_knowledge_base(rows, outcome="local control", statistic="landmark rate", timepoint_months=24)
    assert sorted(p.stratum for p in res.pools) == [
        "observational | lesion | randomisation",
        "observational | patient | randomisation",
        "randomised | patient | randomisation",
    ]
    assert all(p.k == 1 and p.pi_low is None and p.tau2 is None for p in res.pools)
    lesion = next(p for p in res.pools if "lesion" in p.stratum)
    # logit of 68% with events = 0.68 x 77, back-transformed: the study's own rate
    assert lesion.estimate == pytest.approx(68.0, rel=1e-12)
    se = math.sqrt(1 / (0.68 * 77) + 1 / (0.32 * 77))
    z = stats.norm.isf(0.025)
    lo = 100 / (1 + math.exp(-(math.log(0.68 / 0.32) - z * se)))
    assert lesion.ci_low == pytest.approx(lo, rel=1e-12)
    assert "not a treated arm" in res.excluded.set_index("group").loc["control", "reason"]


def test_rate_needs_a_timepoint_and_medians_are_not_pooled():
    rows = table(*HR_ROWS)
    with pytest.raises(InputError, match="needs a time point"):
        select_estimates(rows, outcome="overall survival", statistic="landmark rate")
    with pytest.raises(InputError, match="medians are shown, not pooled"):
        select_estimates(rows, outcome="overall survival", statistic="median")


def test_subgroups_by_the_stratified_column_replace_the_whole_cohort():
    rate = dict(
        statistic="landmark rate",
        outcome="local control",
        timepoint_months="12",
        unit="percent",
        group_arm_role="single",
        reference_arm_role="",
        comparison="",
        design_class="observational",
    )
    rows = table(
        row(
            study_id="x",
            study_label="X",
            publication_id="x1",
            group="all",
            value="83",
            n="77",
            oligo_state="mixed",
            **rate,
        ),
        row(
            study_id="x",
            study_label="X",
            publication_id="x1",
            group="OR",
            value="91",
            n="38",
            oligo_state="metachronous oligorecurrence",
            group_is_subgroup="true",
            group_subgroup_by="oligo_state",
            **rate,
        ),
        row(
            study_id="x",
            study_label="X",
            publication_id="x1",
            group="OP",
            value="69",
            n="39",
            oligo_state="unmappable to estro-eortc",
            group_is_subgroup="true",
            group_subgroup_by="oligo_state",
            **rate,
        ),
        row(
            study_id="x",
            study_label="X",
            publication_id="x1",
            group="CRC",
            value="83",
            n="57",
            histology="colorectal cancer",
            group_is_subgroup="true",
            group_subgroup_by="histology",
            oligo_state="mixed",
            **rate,
        ),
    )
    by_state = select_estimates(
        rows, outcome="local control", statistic="landmark rate", timepoint_months=12, by=("oligo_state",)
    )
    assert sorted(by_state.used["group"]) == ["OP", "OR"]
    plain = select_estimates(rows, outcome="local control", statistic="landmark rate", timepoint_months=12)
    assert list(plain.used["group"]) == ["all"]
    assert np.isfinite(plain.used["vi"]).all()
