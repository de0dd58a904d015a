"""analysis.distributions gives scipy.stats' numbers to the bit, also at the edges (outside the support, at
0 and 1, NaN, a non-positive df), and scipy.stats' kind of result (a numpy scalar for a scalar)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis import distributions as d

X = np.array(
    [-np.inf, -40.0, -3.2, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.3, 1.959963984540054, 7.5, 40.0, np.inf, np.nan]
)
Q = np.array([0.0, 1e-300, 1e-12, 0.025, 0.05, 0.2, 0.5, 0.8, 0.975, 1 - 1e-12, 1.0, np.nan])
DF = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 9.0, 30.0, 250.0])


def same(mine: object, theirs: object) -> None:
    np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs), strict=True)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [(d.norm_sf, stats.norm.sf), (d.logistic_cdf, stats.logistic.cdf)],
    ids=["norm_sf", "logistic_cdf"],
)
def test_functions_of_a_value(mine, theirs) -> None:
    same(mine(X), theirs(X))
    for x in X.tolist():
        assert type(mine(x)) is type(theirs(x)) is np.float64
        same(mine(x), theirs(x))


@pytest.mark.parametrize(
    ("mine", "theirs"), [(d.norm_ppf, stats.norm.ppf), (d.norm_isf, stats.norm.isf)], ids=["norm_ppf", "norm_isf"]
)
def test_normal_quantiles(mine, theirs) -> None:
    same(mine(Q), theirs(Q))
    assert float(d.norm_isf(0.025)) == float(stats.norm.isf(0.025))  # the 95 % z, 1.959963984540054


@pytest.mark.parametrize(
    ("mine", "theirs", "grid"),
    [
        (d.t_sf, stats.t.sf, X),
        (d.chi2_sf, stats.chi2.sf, X),
        (d.t_isf, stats.t.isf, Q),
        (d.chi2_isf, stats.chi2.isf, Q),
        (d.chi2_ppf, stats.chi2.ppf, Q),
    ],
    ids=["t_sf", "chi2_sf", "t_isf", "chi2_isf", "chi2_ppf"],
)
def test_functions_with_degrees_of_freedom(mine, theirs, grid) -> None:
    x, df = np.meshgrid(grid, DF)
    same(mine(x, df), theirs(x, df))
    assert type(mine(float(grid[3]), 3.0)) is np.float64


def test_f_tail() -> None:
    x, dfn, dfd = np.meshgrid(X, DF, DF)
    same(d.f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))


def test_values_below_the_support_have_probability_one() -> None:
    # chdtrc and fdtrc alone give NaN there; scipy.stats (and so every p-value before) gives 1
    assert d.chi2_sf(-1e-12, 3) == 1.0
    assert d.f_sf(-1e-12, 2, 5) == 1.0
