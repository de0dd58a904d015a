"""Every case of tests/reference/metafor_fixtures.json, compared at the tolerances of
`metafor_reference.TOLERANCES`. Expected values come from metafor only."""

from __future__ import annotations

import itertools
import warnings

import pytest
from metafor_reference import (
    FIXTURES,
    METHODS,
    REQUIRED_DATASETS,
    TESTS,
    assert_close,
    assert_tau2_ci_high,
    fit_cases,
    fit_id,
    kind_for,
)

from analysis.meta import meta_analysis, meta_analysis_proportions

SCALARS = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "stat",
    "p_value",
    "pi_low",
    "pi_high",
    "tau2",
    "i2",
    "h2",
    "q",
    "q_p",
)


def run_fit(dataset: dict, method: str, test: str, **kw):
    """Fit a fixture dataset the way its R call did (yi+sei, yi+vi or xi+ni)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dataset["input"] == "xi_ni":
            return meta_analysis_proportions(
                dataset["xi"], dataset["ni"], measure=dataset["measure"], method=method, test=test, **kw
            )
        if dataset["input"] == "yi_sei":
            return meta_analysis(dataset["yi"], sei=dataset["sei"], method=method, test=test, **kw)
        return meta_analysis(dataset["yi"], dataset["vi"], method=method, test=test, **kw)


def test_grid_is_complete():
    """Every dataset x method x test is present: the grid cannot shrink quietly."""
    present = {(c["dataset"], c["method"], c["test"]) for c in FIXTURES["fits"]}
    expected = set(itertools.product(REQUIRED_DATASETS, METHODS, TESTS))
    assert expected <= present, sorted(expected - present)[:10]
    assert len(FIXTURES["fits"]) == len(present) >= 14 * 8 * 3
    assert tuple(FIXTURES["meta"]["methods"]) == METHODS
    assert "threshold=1e-12" in FIXTURES["meta"]["control"]


def test_fixture_records_provenance():
    meta = FIXTURES["meta"]
    assert meta["r_version"].startswith("R version")
    assert meta["metafor_version"]
    assert all(c["call"].startswith(("rma(", "escalc(")) for c in FIXTURES["fits"])


@pytest.mark.parametrize("case", fit_cases(), ids=fit_id)
def test_fit_matches_metafor(case):
    dataset = FIXTURES["datasets"][case["dataset"]]
    res = run_fit(dataset, case["method"], case["test"]).to_dict()
    kind = kind_for(case["method"])
    assert res["k"] == case["k"]
    assert res["test_used"] == case["test_used"]
    assert res["df"] == case["df"]
    assert res["q_df"] == case["q_df"]
    for key in SCALARS:
        assert_close(res[key], case[key], kind, key)
    assert_close(res["tau2_ci_low"], case["tau2_ci_low"], "root", "tau2_ci_low")
    assert_close(res["tau2_ci_high"], case["tau2_ci_high"], "root", "tau2_ci_high")
    assert_close(res["weights_pct"], case["weights_pct"], kind, "weights_pct")
    if "backtransformed" in case:
        bt = res["backtransformed"]
        for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            assert_close(bt[key], case["backtransformed"][key], kind, f"backtransformed.{key}")
    else:
        assert res["backtransformed"] is None


@pytest.mark.parametrize("name", [n for n, d in FIXTURES["datasets"].items() if d["input"] == "xi_ni"])
def test_escalc_proportions_match(name):
    """yi/vi of the proportion datasets as escalc computed them (closed form)."""
    from analysis.meta import escalc_proportions

    d = FIXTURES["datasets"][name]
    yi, vi = escalc_proportions(d["xi"], d["ni"], d["measure"])
    assert_close(list(yi), d["yi"], "closed_form", "yi")
    assert_close(list(vi), d["vi"], "closed_form", "vi")


# ---------------------------------------------------------------------------------------------
# leave1out, regtest, subgroups, meta-regression
# ---------------------------------------------------------------------------------------------


def _spec_id(case) -> str:
    extra = case.get("model") or case.get("moderator") or ""
    return "-".join(x for x in (case["dataset"], case["method"], case["test"], extra) if x)


def test_secondary_grids_present():
    assert len(FIXTURES["leave1out"]) >= 3
    assert {c["model"] for c in FIXTURES["egger"]} == {"rma", "lm"}
    assert len(FIXTURES["subgroups"]) >= 5
    assert len(FIXTURES["metareg"]) >= 6


@pytest.mark.parametrize("case", FIXTURES["leave1out"], ids=_spec_id)
def test_leave_one_out_matches_metafor(case):
    from analysis.sensitivity import leave_one_out

    d = FIXTURES["datasets"][case["dataset"]]
    res = leave_one_out(d["yi"], d["vi"], method=case["method"], test=case["test"]).to_dict()
    kind = kind_for(case["method"])
    for key in ("estimate", "se", "stat", "p_value", "ci_low", "ci_high", "q", "q_p", "tau2", "i2", "h2"):
        assert_close(res[key], case[key], kind, key)


@pytest.mark.parametrize("case", FIXTURES["egger"], ids=_spec_id)
def test_egger_matches_metafor(case):
    from analysis.bias import egger_test

    d = FIXTURES["datasets"][case["dataset"]]
    res = egger_test(d["yi"], d["vi"], model=case["model"], method=case["method"], test=case["test"]).to_dict()
    kind = kind_for(case["method"]) if case["model"] == "rma" else "closed_form"
    for key in ("stat", "p_value", "df", "slope", "limit_estimate", "limit_ci_low", "limit_ci_high"):
        assert_close(res[key], case[key], kind, key)


@pytest.mark.parametrize("case", FIXTURES["subgroups"], ids=_spec_id)
def test_subgroups_match_metafor(case):
    from analysis.subgroups import subgroup_analysis

    d = FIXTURES["datasets"][case["dataset"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = subgroup_analysis(d["yi"], d["vi"], d["group"], method=case["method"], test=case["test"]).to_dict()
    kind = kind_for(case["method"])
    assert res["groups"] == case["groups"]
    for ours, ref in zip(res["subgroups"], case["subgroups"], strict=False):
        assert ours["k"] == ref["k"] == len(ref["rows"])
        for key in SCALARS + ("weights_pct",):
            assert_close(ours[key], ref[key], kind, f"{ref['group']}.{key}")
        assert_close(ours["tau2_ci_low"], ref["tau2_ci_low"], "root", "tau2_ci_low")
        assert_tau2_ci_high(
            ours["tau2_ci_high"],
            ref["tau2_ci_high"],
            ref["tau2"],
            [d["yi"][i] for i in ref["rows"]],
            [d["vi"][i] for i in ref["rows"]],
            what=f"{ref['group']}.tau2_ci_high",
        )
    for key in ("q", "df", "p"):
        assert_close(res["q_between"][key], case["q_between"][key], kind, f"q_between.{key}")
    mt, ref = res["moderator_test"], case["moderator_test"]
    for key in ("qm", "qm_df", "qm_p", "tau2", "q", "q_p", "i2", "h2"):
        assert_close(mt[key], ref[key], kind, f"moderator_test.{key}")
    for key in SCALARS:
        assert_close(res["overall"][key], case["overall"][key], kind, f"overall.{key}")


@pytest.mark.parametrize("case", FIXTURES["metareg"], ids=_spec_id)
def test_meta_regression_matches_metafor(case):
    from analysis.regression import meta_regression

    d = FIXTURES["datasets"][case["dataset"]]
    res = meta_regression(
        d["yi"], d["vi"], {case["moderator"]: d[case["moderator"]]}, method=case["method"], test=case["test"]
    ).to_dict()
    kind = "ill_conditioned" if case["moderator"] == "year" else kind_for(case["method"])
    for key in (
        "coef",
        "se",
        "stat",
        "p_value",
        "ci_low",
        "ci_high",
        "qm",
        "qm_df",
        "qm_p",
        "tau2",
        "q",
        "q_p",
        "i2",
        "h2",
    ):
        assert_close(res[key], case[key], kind, key)
    assert res["q_df"] == case["q_df"]


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in fit_cases()
        if c["method"] == "REML" and c["test"] == "z" and FIXTURES["datasets"][c["dataset"]]["input"] != "xi_ni"
    ],
    ids=fit_id,
)
def test_without_tau2_ci_everything_else_is_metafor(case):
    """tau2_ci=False (the per-stratum pools) drops only the Q-profile interval."""
    dataset = FIXTURES["datasets"][case["dataset"]]
    res = run_fit(dataset, case["method"], case["test"], tau2_ci=False).to_dict()
    kind = kind_for(case["method"])
    for key in SCALARS:
        assert_close(res[key], case[key], kind, key)
    assert_close(res["weights_pct"], case["weights_pct"], kind, "weights_pct")
    assert res["tau2_ci_low"] is None and res["tau2_ci_high"] is None  # NaN, as null in to_dict()
