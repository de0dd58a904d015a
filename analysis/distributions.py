"""The normal, t, chi-squared, F and logistic probabilities the numeric core uses, as scipy.stats computes them.

scipy.stats evaluates each of these with one scipy.special function (norm.sf is ndtr(-x), t.isf is
-stdtrit(df, q), chi2.sf is chdtrc(df, x), ...) but takes 0.3-0.6 s to import, more than a whole
`oligokb pool kb` needs otherwise (docs/performance.md, issue 17). Here the same functions are called
directly, with scipy.stats' answers outside their domain (a value below the support: probability 1; a
non-positive df: NaN), so every number is the same to the bit (tests/analysis/test_distributions.py).
Scalars give numpy scalars, arrays arrays, as scipy.stats does.
"""

from __future__ import annotations

import numpy as np
from scipy.special import chdtrc, chdtri, expit, fdtrc, gammaincinv, ndtr, ndtri, stdtr, stdtrit


def _where_df(df, value):
    """value where every df is positive, NaN elsewhere (scipy.stats' argument check); a 0-d result becomes
    a numpy scalar, as scipy.stats returns for scalars."""
    df = np.asarray(df, dtype=float)
    return np.where(df > 0, value, np.nan)[()]


def norm_sf(x):
    """P(Z > x), scipy.stats.norm.sf."""
    return ndtr(np.negative(x))


def norm_ppf(q):
    """The q quantile of the standard normal, scipy.stats.norm.ppf."""
    return ndtri(q)


def norm_isf(q):
    """z with P(Z > z) = q, scipy.stats.norm.isf."""
    return np.negative(ndtri(q))


def t_sf(x, df):
    """P(T > x) with df degrees of freedom, scipy.stats.t.sf."""
    return stdtr(df, np.negative(x))


def t_isf(q, df):
    """t with P(T > t) = q, scipy.stats.t.isf (+inf at q = 0 and -inf at q = 1, where stdtrit is -inf)."""
    q = np.asarray(q, dtype=float)
    return _where_df(df, np.where(q == 0, np.inf, np.where(q == 1, -np.inf, np.negative(stdtrit(df, q)))))


def chi2_sf(x, df):
    """P(X > x) for chi-squared with df degrees of freedom, scipy.stats.chi2.sf (1 below the support)."""
    return _where_df(df, chdtrc(df, np.maximum(x, 0.0)))


def chi2_isf(q, df):
    """x with P(X > x) = q, scipy.stats.chi2.isf."""
    return _where_df(df, chdtri(df, q))


def chi2_ppf(q, df):
    """The q quantile of chi-squared with df degrees of freedom, scipy.stats.chi2.ppf."""
    return _where_df(df, 2 * gammaincinv(np.divide(df, 2), q))


def f_sf(x, dfn, dfd):
    """P(F > x) with (dfn, dfd) degrees of freedom, scipy.stats.f.sf (1 below the support)."""
    return fdtrc(dfn, dfd, np.maximum(x, 0.0))


def logistic_cdf(y):
    """The inverse logit, scipy.stats.logistic.cdf."""
    return expit(y)
