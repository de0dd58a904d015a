"""Every analysis at once (analysis.policy_batch.select_all, analysis.batch.fit_segments,
analysis.kb_pool.pool_all) equals the one-at-a-time path: select_estimates (select_all restricted to one
analysis, so an analysis' selection does not depend on which others are selected with it) for the
selections, and meta_analysis (pinned to metafor in test_metafor_alignment.py) for every number."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from metafor_reference import FIXTURES
from test_policy import HR_ROWS, row, table

from analysis.batch import fit_segments
from analysis.errors import ConvergenceError, InputError, OptionError
from analysis.kb_pool import pool_all, pool_knowledge_base
from analysis.meta import meta_analysis
from analysis.options import METHODS, TESTS
from analysis.policy import select_estimates
from analysis.policy_batch import poolable_combos, select_all

ROOT = Path(__file__).resolve().parents[2]
SYNTH_1K = Path("/tmp/oligokb-bench/n1000/evidence.csv")
NUMBERS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "p_value", "tau2", "i2", "q", "q_p")


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    from kb.export import evidence_table
    from kb.store import load_store

    return evidence_table(load_store(ROOT / "data" / "studies.ttl"))


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    if not SYNTH_1K.exists():
        pytest.skip(
            f"{SYNTH_1K} not there (uv run python -m benches.scale --studies 1000 --stages build, then oligokb export --format csv --kb /tmp/oligokb-bench/n1000/studies.ttl --out it)"
        )
    return pd.read_csv(SYNTH_1K, dtype=str, keep_default_na=False)  # the export's dtypes (one str dtype)


def assert_same_selection(tab: pd.DataFrame, combos, by=(), include_secondary=False, exclude_flags=(), **policy) -> int:
    policy["exclude_flags"] = exclude_flags
    batch = select_all(tab, combos=combos, by=by, include_secondary=include_secondary, **policy)
    used = 0
    for outcome, statistic, t in batch.combos:
        ref = select_estimates(
            tab,
            outcome=outcome,
            statistic=statistic,
            by=by,
            timepoint_months=t,
            include_secondary=include_secondary,
            **policy,
        )
        got = batch.selection(outcome, statistic, t)
        assert got.strata == ref.strata
        pd.testing.assert_frame_equal(got.used, ref.used, check_dtype=False, check_exact=True)
        used += len(ref.used)
        if ref.excluded.empty:
            assert got.excluded.empty
            continue
        cols = [c for c in ref.excluded.columns if not c.startswith("_")]
        assert sorted(got.excluded.columns) == sorted(cols)
        key = ["statistic_id", "reason"]
        pd.testing.assert_frame_equal(
            got.excluded[cols].sort_values(key).reset_index(drop=True),
            ref.excluded[cols].sort_values(key).reset_index(drop=True),
            check_dtype=False,
        )
    return used


def assert_same_pools(tab: pd.DataFrame, combos=None, by=(), method="REML", test="z", rtol=1e-10, **policy) -> int:
    batch = pool_all(tab, combos=combos, by=by, method=method, test=test, **policy)
    n = 0
    for outcome, statistic, t in batch.selection.combos:
        ref = pool_knowledge_base(
            tab, outcome=outcome, statistic=statistic, by=by, timepoint_months=t, method=method, test=test, **policy
        )
        got = batch.kb_pool(outcome, statistic, t)
        assert got.warnings == ref.warnings
        assert [p.stratum for p in got.pools] == [p.stratum for p in ref.pools]
        for a, b in zip(got.pools, ref.pools, strict=True):
            assert (a.k, a.studies, a.values, a.note, a.q_df) == (b.k, b.studies, b.values, b.note, b.q_df)
            pd.testing.assert_frame_equal(a.rows, b.rows)
            for name in NUMBERS:
                x, y = getattr(a, name), getattr(b, name)
                assert (x is None) == (y is None), name
                if y is not None:
                    assert x == pytest.approx(y, rel=rtol, abs=1e-12), (name, a.stratum)
            np.testing.assert_allclose(a.weights_pct, b.weights_pct, rtol=rtol)
            n += 1
    return n


# --- the policy -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", [(), ("histology",), ("histology", "oligo_state"), ("oligo_state", "design")])
@pytest.mark.parametrize("include_secondary", [False, True])
def test_selection_equals_select_estimates_on_the_bundled_kb(bundled, by, include_secondary):
    combos = poolable_combos(bundled)
    assert any(s == "hazard ratio" for _, s, _ in combos) and any(s == "landmark rate" for _, s, _ in combos)
    assert assert_same_selection(bundled, combos, by, include_secondary) > 0


def test_selection_equals_select_estimates_on_1000_synthetic_studies(synthetic):
    assert assert_same_selection(synthetic, poolable_combos(synthetic), ("histology", "oligo_state")) > 5000


def test_selection_rules_on_hand_made_rows():
    """Every rule and reason at least once: secondary, prognostic, adjusted, no SE, bad CI, p-value route,
    latest report, supersedes, overlap, subgroups, arms, oligo-state, rate without n, unit, 0 events."""
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
        row(
            study_id="c",
            study_label="C",
            publication_id="c1",
            adjusted="true",
            value="0.50",
            ci_low="0.28",
            ci_high="0.9",
            group="only adjusted",
            histology="sarcoma",
        ),
        row(study_id="e", study_label="E", publication_id="e1", value="0.8"),
        row(study_id="f", study_label="F", publication_id="f1", value="0.60", p_value="0.04"),
        row(study_id="g", study_label="G", publication_id="g1", value="0.60", p_value="1.5"),
        row(study_id="h", study_label="H", publication_id="h1", value="1.9", ci_low="0.5", ci_high="0.98"),
        row(study_id="i", study_label="I", publication_id="i1", value="n/a", ci_low="0.5", ci_high="0.98"),
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
            publication_year="2019",
            supersedes="s2019",
            value="0.47",
            ci_low="0.27",
            ci_high="0.81",
        ),
        row(
            study_id="s",
            study_label="S",
            publication_id="s2018",
            publication_year="2018",
            value="0.52",
            ci_low="0.27",
            ci_high="0.91",
            group="n large",
            n="500",
        ),
        row(
            study_id="t",
            study_label="T",
            publication_id="t1",
            value="0.60",
            ci_low="0.40",
            ci_high="0.90",
            ci_level="0.80",
            group="g2",
            statistic_id="t1/t/stat/b",
        ),
        row(
            study_id="t",
            study_label="T",
            publication_id="t1",
            value="0.61",
            ci_low="0.40",
            ci_high="0.90",
            ci_level="0.80",
            group="g1",
            statistic_id="t1/t/stat/a",
        ),
        row(
            study_id="pooled",
            study_label="P",
            publication_id="p1",
            overlaps_with="t;u",
            value="0.44",
            ci_low="0.29",
            ci_high="0.66",
        ),
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
            group="young",
            value="88",
            n="30",
            group_is_subgroup="true",
            group_subgroup_by="age;sex",
            **rate,
        ),
        row(study_id="y", study_label="Y", publication_id="y1", value="70", n="40", **rate),
        row(
            study_id="y", study_label="Y", publication_id="y0", publication_role="secondary", value="72", n="40", **rate
        ),
        row(study_id="z", study_label="Z", publication_id="z1", value="0", n="25", **rate),
        row(study_id="w", study_label="W", publication_id="w1", value="100", n="30", **{**rate, "unit": ""}),
        row(study_id="v", study_label="V", publication_id="v1", value="60", n="", **rate),
        row(study_id="u", study_label="U", publication_id="u1", value="60", n="20", **{**rate, "unit": "months"}),
        row(
            study_id="q",
            study_label="Q",
            publication_id="q1",
            value="50",
            n="30",
            group="ctrl",
            **{**rate, "group_arm_role": "control"},
        ),
        row(
            study_id="r",
            study_label="R",
            publication_id="r1",
            value="50",
            n="30",
            oligo_state="not oligometastatic",
            **rate,
        ),
        row(
            study_id="x",
            study_label="X",
            publication_id="x1",
            value="81",
            n="77",
            oligo_state="mixed",
            **{**rate, "timepoint_months": "24"},
        ),
    )
    combos = [
        ("overall survival", "hazard ratio", None),
        ("local control", "landmark rate", 12),
        ("local control", "landmark rate", 24.0),
    ]
    for by in [(), ("oligo_state",), ("histology",), ("histology", "oligo_state")]:
        for secondary in (False, True):
            assert assert_same_selection(rows, combos, by, secondary) > 0
            assert_same_pools(rows, combos, by)
    for tiers in ("own", "1,2,3", "all"):
        for levels in (None, "histology=2", "histology=term"):
            assert_same_selection(rows, combos, ("histology",), None, tiers=tiers, levels=levels)
    reasons = " ".join(
        select_all(rows, combos=combos, by=("oligo_state",), include_secondary=False)
        .selection("overall survival", "hazard ratio")
        .excluded["reason"]
    )
    for text in (
        "read in a review or meta-analysis (tier 5): this analysis keeps tiers 1 trial's own full report, "
        "2 trial's own abstract, 3 conference abstract, 4 registry results",
        "prognostic association",
        "unadjusted (ITT)",
        "no standard error",
        "strictly between 0 and 1",
        "lies outside its CI",
        "is not a number",
        "latest data cut, best tier",
        "overlaps with t;u",
    ):
        assert text in reasons


def test_errors_are_select_estimates_errors():
    rate = dict(
        statistic="landmark rate",
        outcome="local control",
        timepoint_months="12",
        unit="percent",
        group_arm_role="single",
        design_class="observational",
    )
    bad_rate = table(row(study_id="x", publication_id="x1", value="120", n="20", **rate))
    combo = [("local control", "landmark rate", 12.0)]
    with pytest.raises(InputError) as mine:
        select_all(bad_rate, combos=combo)
    with pytest.raises(InputError) as theirs:
        select_estimates(bad_rate, outcome="local control", statistic="landmark rate", timepoint_months=12)
    assert str(mine.value) == str(theirs.value)
    bad_level = table(row(study_id="a", publication_id="a1", value="0.5", ci_low="0.3", ci_high="0.9", ci_level="95"))
    with pytest.raises(OptionError) as mine:
        select_all(bad_level, combos=[("overall survival", "hazard ratio", None)])
    with pytest.raises(OptionError) as theirs:
        select_estimates(bad_level, outcome="overall survival", statistic="hazard ratio")
    assert str(mine.value) == str(theirs.value)
    with pytest.raises(InputError, match="needs a time point"):
        select_all(bad_rate, combos=[("local control", "landmark rate", None)])
    with pytest.raises(InputError, match="medians are shown, not pooled"):
        select_all(bad_rate, combos=[("local control", "median", None)])
    with pytest.raises(InputError, match="not an evidence-table column"):
        select_all(bad_rate, combos=combo, by=("nope",))


# --- the pooled numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["REML", "FE", "DL"])
def test_pool_all_equals_pool_knowledge_base_on_the_bundled_kb(bundled, method):
    assert assert_same_pools(bundled, by=("histology", "oligo_state"), method=method) > 0


def test_pool_all_equals_pool_knowledge_base_on_1000_synthetic_studies(synthetic):
    # the terms as extracted make the most strata; level 1 (the default) merges narrower terms, and the trials'
    # own reports only drop the rest
    assert (
        assert_same_pools(synthetic, by=("histology", "oligo_state"), levels="histology=term,oligo_state=term") > 1000
    )
    assert assert_same_pools(synthetic, by=("histology", "oligo_state")) > 500
    assert assert_same_pools(synthetic, by=("histology", "oligo_state"), tiers="own") > 500


def ragged(rng, sizes, tau2=0.05):
    """Segments of the given sizes; every third homogeneous (tau2 at the boundary 0), some with two equal yi."""
    ys, vs = [], []
    for j, k in enumerate(sizes):
        v = rng.uniform(0.01, 0.4, k)
        y = rng.normal(-0.2, np.sqrt(v + (0.0 if j % 3 == 0 else tau2)))
        if j % 3 == 0:
            y = np.full(k, -0.2) + rng.normal(0, 0.01, k)
        if j % 7 == 0 and k >= 2:
            y[1] = y[0]
        ys.append(y)
        vs.append(v)
    return ys, vs


def fixture_segments():
    """metafor's fixture datasets as segments (yi, vi), plus k = 1 and k = 2 cases."""
    out = []
    for d in FIXTURES["datasets"].values():
        if "yi" in d and "vi" in d and len(d["yi"]) >= 1:
            out.append((np.asarray(d["yi"], float), np.asarray(d["vi"], float)))
    return out


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_fit_segments_equals_meta_analysis(rng, method, test):
    sizes = [1, 2, 2, 3, 5, 1, 8, 13, 2, 40, 4, 1, 3, 120, 6]
    ys, vs = ragged(rng, sizes)
    for y, v in fixture_segments():
        ys.append(y)
        vs.append(v)
    fit = fit_segments(np.concatenate(ys), np.concatenate(vs), [len(y) for y in ys], method=method, test=test)
    start = 0
    boundary = 0
    for j, (y, v) in enumerate(zip(ys, vs, strict=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = meta_analysis(y, v, method=method, test=test, tau2_ci=False)
        assert fit.k[j] == ref.k and fit.test_used[j] == ref.test_used and fit.q_df[j] == ref.q_df
        for name in (
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "pi_low",
            "pi_high",
            "p_value",
            "tau2",
            "i2",
            "h2",
            "q",
            "q_p",
            "stat",
            "df",
        ):
            got, want = float(getattr(fit, name)[j]), float(getattr(ref, name))
            if math.isnan(want) or math.isinf(want):
                assert got == want or (math.isnan(got) and math.isnan(want)), (name, j)
            else:
                assert got == pytest.approx(want, rel=1e-10, abs=1e-12), (name, j, len(y))
        np.testing.assert_allclose(fit.weights_pct[start : start + len(y)], ref.weights_pct, rtol=1e-10)
        start += len(y)
        boundary += ref.k >= 2 and ref.tau2 == 0
    if method not in ("FE", "SJ"):
        assert boundary > 0  # tau2 = 0 at the boundary exercised


def test_fit_segments_flags_exactly_the_fits_that_do_not_converge(rng):
    sizes = [2, 3, 5, 8, 13, 21, 4, 6]
    ys, vs = ragged(rng, sizes, tau2=0.3)
    for maxiter in (1, 2, 3):
        fit = fit_segments(np.concatenate(ys), np.concatenate(vs), sizes, method="REML", maxiter=maxiter)
        raised = []
        for y, v in zip(ys, vs, strict=True):
            try:
                meta_analysis(y, v, method="REML", maxiter=maxiter, tau2_ci=False)
                raised.append(False)
            except ConvergenceError:
                raised.append(True)
        assert list(~fit.converged) == raised
        assert any(raised) or maxiter > 1
        assert np.isnan(fit.estimate[~fit.converged]).all()


def test_a_stratum_that_does_not_converge_is_reported_and_the_others_pooled(bundled):
    """One stratum whose tau2 iteration stops at maxiter must not sink the batch (at 10,000 synthetic studies
    one REML stratum did): it is the stratum for which the one-at-a-time fit raises, its numbers are NaN,
    its note and a warning say why, and every other stratum equals a fit that converges."""
    res = pool_all(bundled, by=("histology",), maxiter=1)
    failed = res.strata["note"].str.startswith("not pooled").to_numpy()
    assert failed.any() and not failed.all()
    for (outcome, statistic, t), pools in zip(res.selection.combos, res.kb_pools(), strict=True):
        for p in pools.pools:
            j = res.strata.index[
                (res.strata["outcome"] == outcome)
                & (res.strata["statistic"] == statistic)
                & (res.strata["stratum"] == p.stratum)
                & ((res.strata["timepoint_months"] == t) if t is not None else res.strata["timepoint_months"].isna())
            ][0]
            if p.k < 2:
                assert not failed[j]
                continue
            try:
                one = meta_analysis(
                    p.rows["yi"].to_numpy(float), p.rows["vi"].to_numpy(float), maxiter=1, tau2_ci=False
                )
            except ConvergenceError:
                assert failed[j] and p.estimate is None and p.ci_low is None
                assert any(p.stratum in m and "did not converge" in m for m in pools.warnings)
                continue
            assert not failed[j]
            assert p.tau2 == pytest.approx(one.tau2, rel=1e-9, abs=1e-12)


def test_pool_all_refuses_bad_input():
    with pytest.raises(InputError):
        fit_segments([0.1, 0.2], [0.1, -0.1], [2])
    with pytest.raises(InputError):
        fit_segments([0.1, 0.2], [0.1, 0.1], [3])
    with pytest.raises(OptionError):
        pool_all(table(*HR_ROWS), method="XYZ")
