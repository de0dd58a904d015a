"""Options are checked on entry; errors name the argument, the value and what is allowed."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.bias import egger_test
from analysis.errors import InputError, ModelWarning, OptionError
from analysis.meta import meta_analysis, meta_analysis_proportions
from analysis.regression import meta_regression
from analysis.results import MetaResult
from analysis.subgroups import subgroup_analysis

Y, V = [-0.5, -0.2, -0.9, -0.4], [0.04, 0.09, 0.06, 0.05]


def test_unknown_method_message():
    with pytest.raises(
        OptionError,
        match=r"^method='XYZ' is not one of FE, DL, REML, PM, ML, "
        r"HE, SJ, EB$",
    ):
        meta_analysis(Y, V, method="XYZ")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"test": "t"}, r"test='t' is not one of z, knha, adhoc"),
        ({"level": 95}, r"level=95 is not a number in \(0, 1\) \(a fraction"),
        ({"measure": "OR"}, r"measure='OR' is not one of GEN, PLO, PFT"),
        ({"maxiter": 0}, r"maxiter=0 is not a positive integer"),
    ],
)
def test_option_messages(kwargs, match):
    with pytest.raises(OptionError, match=match):
        meta_analysis(Y, V, **kwargs)


def test_egger_model_option():
    with pytest.raises(OptionError, match="model='glm' is not one of rma, lm"):
        egger_test(Y, V, model="glm")


@pytest.mark.parametrize(
    "yi,vi,column,row",
    [
        ([], [], "yi", None),
        ([0.1, 0.2], [0.1], "vi", None),
        ([0.1, np.nan], [0.1, 0.1], "yi", 1),
        ([0.1, 0.2], [0.1, -0.1], "vi", 1),
        ([0.1, 0.2], [0.1, 0.0], "vi", 1),
    ],
)
def test_input_errors_name_row_and_column(yi, vi, column, row):
    with pytest.raises(InputError) as exc:
        meta_analysis(yi, vi)
    assert exc.value.column == column and exc.value.row == row
    assert column in str(exc.value)


def test_give_vi_or_sei_not_both():
    with pytest.raises(InputError, match="exactly one of vi"):
        meta_analysis(Y, V, sei=np.sqrt(V))
    r1, r2 = meta_analysis(Y, V), meta_analysis(Y, sei=np.sqrt(V))
    assert r1.estimate == pytest.approx(r2.estimate, rel=1e-14)


def test_fe_with_knha_warns():
    with pytest.warns(ModelWarning, match="not meant to be used with FE"):
        meta_analysis(Y, V, method="FE", test="knha")


def test_meta_regression_needs_enough_studies_and_full_rank():
    with pytest.raises(InputError, match="cannot support"):
        meta_regression(Y[:2], V[:2], [1.0, 2.0])
    with pytest.raises(InputError, match="not of full rank"):
        meta_regression(Y, V, [1.0, 1.0, 1.0, 1.0])


def test_egger_needs_three_studies():
    with pytest.raises(InputError, match="k >= 3"):
        egger_test(Y[:2], V[:2])


def test_results_are_frozen_and_serialisable():
    r = meta_analysis(Y, V, method="FE")
    with pytest.raises(AttributeError):
        r.estimate = 0.0  # type: ignore[misc]
    d = r.to_dict()
    assert d["pi_low"] is None and d["tau2_ci_low"] is None and d["df"] is None
    assert isinstance(r, MetaResult)
    assert list(r.to_frame().columns)[:3] == ["k", "method", "test"]
    assert len(r.study_frame()) == 4


def test_subgroup_frame_and_labels():
    res = subgroup_analysis(Y, V, ["b", "a", "b", "a"], method="DL")
    assert res.groups == ("a", "b")
    assert list(res.to_frame()["group"]) == ["overall", "a", "b"]


def test_proportions_backtransform_present():
    r = meta_analysis_proportions([3, 5, 0], [20, 25, 15], measure="PFT", method="DL")
    bt = r.backtransformed
    assert 0 <= bt.ci_low <= bt.estimate <= bt.ci_high <= 1
