"""tau2 estimators: checks beyond metafor (PyMARE, statsmodels, direct k x k matrix algebra)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from metafor_reference import FIXTURES

from analysis import tau2 as t2
from analysis.errors import ConvergenceError
from analysis.meta import meta_analysis
from analysis.options import METHODS
from analysis.wls import intercept_design

BCG = FIXTURES["datasets"]["bcg"]
HET = FIXTURES["datasets"]["extreme_het"]


def _arrays(d):
    y, v = np.asarray(d["yi"]), np.asarray(d["vi"])
    return y, v, intercept_design(y.size)


def test_registry_covers_every_method_with_a_cited_docstring():
    assert tuple(t2.TAU2_ESTIMATORS) == METHODS
    for name, fn in t2.TAU2_ESTIMATORS.items():
        doc = fn.__doc__ or ""
        assert any(ch.isdigit() for ch in doc), f"{name}: docstring lacks a citation year"


@pytest.mark.parametrize("d", [BCG, HET], ids=["bcg", "extreme_het"])
def test_dl_he_match_pymare(d):
    """PyMARE's DL and Hedges agree with metafor to ~1e-15 (numerics guide)."""
    from pymare import Dataset
    from pymare.estimators import DerSimonianLaird, Hedges

    y, v, X = _arrays(d)
    ds = Dataset(y=y, v=v)
    for est, fn in ((DerSimonianLaird(), t2.tau2_dl), (Hedges(), t2.tau2_he)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = float(np.ravel(est.fit_dataset(ds).summary().tau2)[0])
        assert fn(y, v, X).tau2 == pytest.approx(ref, rel=1e-12)


def test_reml_matches_pymare_to_its_own_tolerance():
    """PyMARE's bounded search stops at ~5e-7 (numerics guide): compare at 1e-5 relative."""
    from pymare import Dataset
    from pymare.estimators import VarianceBasedLikelihoodEstimator

    y, v, X = _arrays(BCG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(Dataset(y=y, v=v))
    ref = float(np.ravel(res.summary().tau2)[0])
    assert t2.tau2_reml(y, v, X).tau2 == pytest.approx(ref, rel=1e-5)


def test_dl_pm_match_statsmodels_when_q_exceeds_df():
    """statsmodels' DL is right when Q > k - 1 (it does not truncate at 0); PM to its atol."""
    from statsmodels.stats.meta_analysis import combine_effects

    y, v, X = _arrays(BCG)
    dl = combine_effects(y, v, method_re="dl")
    assert t2.tau2_dl(y, v, X).tau2 == pytest.approx(dl.tau2, rel=1e-12)
    pm = combine_effects(y, v, method_re="pm")
    assert t2.tau2_pm(y, v, X).tau2 == pytest.approx(pm.tau2, rel=1e-5)


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_dl_truncates_at_zero_where_statsmodels_goes_negative():
    from statsmodels.stats.meta_analysis import combine_effects

    d = FIXTURES["datasets"]["homogeneous"]
    y, v, X = _arrays(d)
    assert combine_effects(y, v, method_re="dl").tau2 < 0
    assert t2.tau2_dl(y, v, X).tau2 == 0.0


def test_reml_score_is_zero_at_the_estimate_direct_algebra():
    """With explicit k x k matrices: y'PPy = tr(P) at the REML tau2 (Viechtbauer 2005, eq. 12)."""
    y, v, X = _arrays(HET)
    tau2 = t2.tau2_reml(y, v, X).tau2
    W = np.diag(1 / (v + tau2))
    P = W - W @ X @ np.linalg.inv(X.T @ W @ X) @ X.T @ W
    assert y @ P @ P @ y == pytest.approx(np.trace(P), rel=1e-10)


def test_pm_solves_generalised_q_equals_df():
    y, v, X = _arrays(HET)
    tau2 = t2.tau2_pm(y, v, X).tau2
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(y.size - 1, rel=1e-12)


def test_eb_equals_pm():
    y, v, X = _arrays(BCG)
    assert t2.tau2_eb(y, v, X).tau2 == pytest.approx(t2.tau2_pm(y, v, X).tau2, rel=1e-9)


def test_meta_regression_matches_statsmodels_wls():
    """Given tau2, the coefficients and their se are a WLS fit with weights 1/(v + tau2)."""
    import statsmodels.api as sm

    from analysis.regression import meta_regression

    y, v = np.asarray(BCG["yi"]), np.asarray(BCG["vi"])
    res = meta_regression(y, v, {"ablat": BCG["ablat"]}, method="REML")
    X = sm.add_constant(np.asarray(BCG["ablat"], dtype=float))
    wls = sm.WLS(y, X, weights=1 / (v + res.tau2)).fit(cov_type="fixed scale")
    np.testing.assert_allclose(res.coef, wls.params, rtol=1e-12)
    np.testing.assert_allclose(res.se, wls.bse, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_k1_gives_tau2_zero_for_every_method(method):
    """PyMARE's REML returns an arbitrary tau2 for k = 1; metafor (and we) return 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = meta_analysis([-0.4], [0.09], method=method, test="knha")
    assert r.tau2 == 0.0 and r.se == pytest.approx(0.3) and r.test_used == "z"
    assert r.q == 0.0 and r.q_p == 1.0 and r.i2 == 0.0 and r.h2 == 1.0
    assert np.isnan(r.tau2_ci_low)


def test_fisher_scoring_reports_non_convergence():
    y, v, X = _arrays(HET)
    with pytest.raises(ConvergenceError, match="maxiter=1"):
        t2.tau2_reml(y, v, X, maxiter=1)


def test_q_profile_ci_brackets_and_solves():
    from scipy import stats

    y, v, X = _arrays(BCG)
    lo, hi = t2.q_profile_ci(y, v, X, 0.3132, 0.95)
    for bound, p in ((lo, 0.975), (hi, 0.025)):
        w = 1 / (v + bound)
        mu = np.sum(w * y) / np.sum(w)
        assert np.sum(w * (y - mu) ** 2) == pytest.approx(stats.chi2.ppf(p, 12), rel=1e-10)
