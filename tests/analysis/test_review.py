"""analysis.review against metafor (tests/reference/review_fixtures.R: leave1out, cumul by year, regtest),
the k < 10 rule of Egger's test, and the risk-of-bias filter on a hand-made rob table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.kb_pool import KBPool, StratumPool
from analysis.review import (
    ALL_TRIALS,
    LOW_RISK_ONLY,
    NO_LOW_RISK,
    cumulative,
    cumulative_order,
    leave_one_out_table,
    pool_cumulative,
    pool_funnels,
    pool_leave_one_out,
    pool_small_study_tests,
    rob_sensitivity,
    small_study_frame,
    small_study_test,
)
from analysis.review_plots import cumulative_plot, funnel_plot
from kb.rob import ROB_COLUMNS

REF = Path(__file__).resolve().parents[1] / "reference"
RTOL, ATOL = 1e-6, 1e-10  # the brief's 1e-6 relative; atol for a tau2 metafor leaves at ~1e-12 instead of 0
DATA = pd.read_csv(REF / "review_dataset.csv", dtype={"study": str})
LOO = pd.read_csv(REF / "review_leave1out.csv")
CUMUL = pd.read_csv(REF / "review_cumul.csv")
REGTEST = pd.read_csv(REF / "review_regtest.csv")
SPECS = [("REML", "z"), ("DL", "knha")]
NUMBERS = ["estimate", "ci_low", "ci_high", "p_value", "tau2", "i2"]


def close(ours, theirs) -> None:
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=RTOL, atol=ATOL)


def kb_pool(rows: pd.DataFrame, *, method: str = "REML", test: str = "z", outcome: str = "progression-free survival"):
    """A one-stratum KBPool of `rows` (yi, vi, study_id, study_label, publication_year), as pool_knowledge_base
    builds it; the stratum's own numbers are not read by the review functions except in rob_sensitivity."""
    pool = StratumPool(
        "randomised",
        {"design_class": "randomised"},
        len(rows),
        0.5,
        0.4,
        0.6,
        None,
        None,
        0.001,
        0.05,
        40.0,
        None,
        None,
        None,
        tuple(rows["study_label"]),
        tuple([100.0 / len(rows)] * len(rows)),
        rows.reset_index(drop=True),
    )
    return KBPool(outcome, "hazard ratio", None, method, test, 0.95, ("design_class",), (pool,), pd.DataFrame())


def fixture_rows() -> pd.DataFrame:
    return DATA.assign(study_id=DATA["study"], study_label=DATA["study"], publication_year=DATA["year"])


@pytest.mark.parametrize(("method", "test"), SPECS)
def test_leave_one_out_matches_metafor_leave1out(method, test):
    ref = LOO[(LOO["method"] == method) & (LOO["test"] == test)]
    ours = leave_one_out_table(DATA["yi"], DATA["vi"], list(DATA["study"]), method=method, test=test)
    assert list(ours["omitted"]) == list(ref["omitted"])
    assert set(ours["k"]) == {len(DATA) - 1}
    for col in NUMBERS:
        close(ours[col], ref[col])


@pytest.mark.parametrize(("method", "test"), SPECS)
def test_cumulative_by_year_matches_metafor_cumul(method, test):
    ref = CUMUL[(CUMUL["method"] == method) & (CUMUL["test"] == test)]
    ours = cumulative(DATA["yi"], DATA["vi"], list(DATA["study"]), list(DATA["year"]), method=method, test=test)
    # the order: year, then study (R's order() in the C locale); three 2025 and three 2023 figures tie
    assert list(ours["study"]) == list(ref["study"])
    assert list(ours["year"]) == list(ref["year"])
    assert list(ours["k"]) == list(range(1, len(DATA) + 1))
    for col in NUMBERS:
        close(ours[col], ref[col])


@pytest.mark.parametrize(("method", "test"), SPECS)
@pytest.mark.parametrize("model", ["rma", "lm"])
def test_egger_matches_metafor_regtest(method, test, model):
    ref = REGTEST[(REGTEST["method"] == method) & (REGTEST["test"] == test) & (REGTEST["model"] == model)].iloc[0]
    t = small_study_test(DATA["yi"], DATA["vi"], model=model, method=method, test=test)
    assert t.assessable and t.reason == ""
    e = t.egger
    assert e is not None
    for ours, col in [(e.stat, "stat"), (e.p_value, "p_value"), (e.slope, "slope")]:
        close(ours, ref[col])
    close([e.limit_estimate, e.limit_ci_low, e.limit_ci_high], ref[["limit_estimate", "limit_ci_low", "limit_ci_high"]])
    if math.isnan(ref["df"]):
        assert math.isnan(e.df)
    else:
        assert e.df == ref["df"]


def test_egger_is_not_run_below_ten_studies_and_says_why():
    t = small_study_test(DATA["yi"][:4], DATA["vi"][:4], stratum="nsclc")
    assert not t.assessable and t.egger is None
    assert t.verdict() == "not assessable: k = 4 < 10"
    nine = small_study_test(DATA["yi"][:9], DATA["vi"][:9])
    assert nine.verdict() == "not assessable: k = 9 < 10"
    assert small_study_test(DATA["yi"][:10], DATA["vi"][:10]).assessable
    frame = small_study_frame([t])
    assert frame.loc[0, "verdict"] == "not assessable: k = 4 < 10" and math.isnan(frame.loc[0, "p_value"])


def test_pool_functions_show_hazard_ratios_in_year_order():
    result = kb_pool(fixture_rows())
    ref = CUMUL[(CUMUL["method"] == "REML") & (CUMUL["test"] == "z")]
    cum = pool_cumulative(result)
    assert list(cum["stratum"].unique()) == ["randomised"]
    assert list(cum["study_id"]) == list(ref["study"])
    for col in ("estimate", "ci_low", "ci_high"):  # the display scale: exp of metafor's log HR
        close(cum[col], np.exp(ref[col]))
    close(cum["tau2"], ref["tau2"])  # tau2 stays on the model scale
    loo = pool_leave_one_out(result)
    close(loo["estimate"], np.exp(LOO[(LOO["method"] == "REML") & (LOO["test"] == "z")]["estimate"]))
    (test,) = pool_small_study_tests(result)
    assert test.stratum == "randomised" and test.assessable


def test_cumulative_order_puts_a_missing_year_last():
    assert list(cumulative_order([2020, None, 2012, 2020], ["b", "a", "z", "a"])) == [2, 3, 0, 1]


def test_funnel_limits_are_the_pooled_estimate_plus_minus_z_se():
    (f,) = pool_funnels(kb_pool(fixture_rows()))
    ref = CUMUL[(CUMUL["method"] == "REML") & (CUMUL["test"] == "z")]
    close(f.estimate, ref["estimate"].iloc[-1])  # the last cumulative step is the whole pool
    low, high = f.limits(np.array([0.0, 0.5]))
    assert low[0] == high[0] == f.estimate
    close([low[1], high[1]], [f.estimate - 1.959963984540054 * 0.5, f.estimate + 1.959963984540054 * 0.5])
    close(f.sei, np.sqrt(DATA["vi"]))


def test_plots_draw_one_row_per_step_and_the_egger_verdict(tmp_path):
    from analysis.forest_save import save_forest

    rows = fixture_rows()
    fig = cumulative_plot(pool_cumulative(kb_pool(rows)), statistic="hazard ratio")
    ax = fig.axes[0]
    top = {y: t.get_text() for y, t in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)}
    assert len(top) == len(rows) and top[max(top)] == "+ clocc (2012)"  # the first study at the top
    save_forest(fig, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")
    few = pool_funnels(kb_pool(rows.iloc[:4]))
    fig = funnel_plot(few, statistic="hazard ratio")
    assert "not assessable: k = 4 < 10" in fig.axes[0].get_title(loc="left")


def rob(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """A rob_table() frame of (study_id, outcome, RoB 2 overall judgement) rows, plus, for study d, a domain
    row and a ROBINS-I overall row, neither of which is a RoB 2 overall judgement."""
    base = dict.fromkeys(ROB_COLUMNS, "")
    out = [
        base | {"study_id": s, "outcome": o, "domain": "overall", "judgement": j, "tool": "RoB 2"} for s, o, j in rows
    ]
    out.append(base | {"study_id": "d", "outcome": "", "domain": "randomisation", "judgement": "low", "tool": "RoB 2"})
    out.append(base | {"study_id": "d", "outcome": "", "domain": "overall", "judgement": "low", "tool": "ROBINS-I"})
    return pd.DataFrame(out, columns=ROB_COLUMNS)


def test_rob_sensitivity_keeps_the_low_risk_trials_for_the_outcome():
    rows = pd.DataFrame(
        {
            "study_id": ["a", "b", "c", "d", "e"],
            "study_label": ["A", "B", "C", "D", "E"],
            "publication_year": [2019, 2020, 2021, 2022, 2023],
            "yi": [-0.5, -0.2, -0.8, 0.1, -0.3],
            "vi": [0.04, 0.09, 0.16, 0.25, 0.01],
        }
    )
    table = rob(
        [
            ("a", "progression-free survival", "low"),
            ("b", "", "low"),  # every outcome
            ("c", "", "low"),
            ("c", "progression-free survival", "high"),  # the outcome's own judgement wins
            ("e", "overall survival", "low"),  # another outcome: e is not assessed for PFS
        ]
    )
    out = rob_sensitivity(kb_pool(rows, method="FE"), table)
    assert list(out.pools["analysis"]) == [ALL_TRIALS, LOW_RISK_ONLY]
    low = out.pools.iloc[1]
    assert low["k"] == 2
    # FE by hand: the inverse-variance mean of a and b, on the HR scale
    w = np.array([1 / 0.04, 1 / 0.09])
    mu = (w * np.array([-0.5, -0.2])).sum() / w.sum()
    se = 1 / math.sqrt(w.sum())
    close(
        [low["estimate"], low["ci_low"], low["ci_high"]],
        np.exp([mu, mu - 1.959963984540054 * se, mu + 1.959963984540054 * se]),
    )
    assert out.pools.iloc[0]["estimate"] == 0.5  # the full pool is the pool's own row, not refitted
    dropped = out.dropped.set_index("study_id")
    assert list(dropped.index) == ["c", "d", "e"]
    assert dropped.loc["c", "reason"] == "overall risk of bias: high"
    assert dropped.loc["d", "reason"].startswith("no RoB 2 judgement")  # neither a domain nor ROBINS-I counts
    assert dropped.loc["e", "judgement"] == "not_assessed"


def test_rob_sensitivity_with_no_assessment_says_no_trial_is_low_risk():
    out = rob_sensitivity(kb_pool(fixture_rows()), pd.DataFrame(columns=ROB_COLUMNS))
    low = out.pools[out.pools["analysis"] == LOW_RISK_ONLY].iloc[0]
    assert low["k"] == 0 and low["note"] == NO_LOW_RISK and math.isnan(low["estimate"])
    assert len(out.dropped) == len(DATA)
    assert out.to_dict()["pools"][1]["estimate"] is None  # JSON-ready
