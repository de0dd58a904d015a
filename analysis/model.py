"""The model fit shared by every analysis: metafor's rma.uni for a design matrix X.

`fit_rma(yi, vi, X, method, test, level)` returns a `ModelFit` (arrays, internal). The public
wrappers (`analysis.meta.meta_analysis`, `analysis.regression.meta_regression`, ...) turn it
into frozen results.

Tests of the coefficients (metafor's `test` argument):

* ``"z"``: Wald z, se from (X'WX)^-1, W = diag(1/(v_i + tau2)).
* ``"knha"``: Knapp & Hartung (2003): var(b) scaled by s2 = y'Py/(k - p) (P with the RE
  weights), t with k - p df. s2 is *not* floored, so the CI can be narrower than the z CI.
* ``"adhoc"``: as knha but s2 floored at 1 (metafor's "ad hoc" improvement; Knapp & Hartung
  2003, Roever et al. 2015), never narrower than the Wald CI with t quantiles.

k = 1: metafor fits every method with tau2 = 0, Q = 0, Q p = 1, I2 = 0, H2 = 1 and replaces
knha/adhoc by z (warning "Setting argument test='z' since k=1"); we do the same and emit a
`SmallKWarning`. FE with knha/adhoc runs with a `ModelWarning`, as in metafor.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.errors import InputError, ModelWarning, SmallKWarning
from analysis.options import MAXITER, THRESHOLD
from analysis.tau2 import estimate_tau2
from analysis.wls import trace_p, wls

#: metafor sets the Knapp-Hartung scale to 0 when y'Py <= .Machine$double.eps.
KNHA_ZERO_RSS = np.finfo(float).eps


@dataclass(frozen=True)
class ModelFit:
    k: int
    p: int
    method: str
    test_used: str
    level: float
    tau2: float
    iterations: int
    beta: np.ndarray
    vb: np.ndarray        # covariance of beta (scaled under knha/adhoc)
    se: np.ndarray
    stat: np.ndarray
    df: float             # nan for z
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    crit: float
    wi: np.ndarray        # model weights 1/(v_i + tau2)
    q: float
    q_p: float
    i2: float
    h2: float
    qm: float
    qm_df: tuple[float, float]
    qm_p: float


def check_data(yi, vi, names=("yi", "vi")) -> tuple[np.ndarray, np.ndarray]:
    """Coerce to float arrays and refuse what metafor would refuse or silently change.

    Raises `InputError` naming the index and column: empty input, unequal lengths, non-finite
    values, vi <= 0 (we require positive sampling variances for every method).
    """
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if y.size == 0:
        raise InputError("no studies (k = 0); need at least one row", column=names[0])
    if y.shape != v.shape:
        raise InputError(f"{names[0]} has {y.size} values but {names[1]} has {v.size}",
                         column=names[1])
    for arr, name in ((y, names[0]), (v, names[1])):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise InputError(f"value {arr[bad[0]]!r} is not a finite number", row=int(bad[0]),
                             column=name)
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise InputError(f"sampling variance must be > 0, got {v[bad[0]]!r}", row=int(bad[0]),
                         column=names[1])
    return y, v


def heterogeneity(yi, vi, X, method: str, tau2: float) -> tuple[float, float, float, float]:
    """Cochran's Q (residual QE with moderators), its p, and metafor's I2 (%) and H2.

    Q = y'Py with FE weights 1/v_i, df = k - p. Random effects: I2 = 100 tau2/(tau2 + vt),
    H2 = (tau2 + vt)/vt with the "typical" within-study variance vt = (k - p)/tr(P)
    (Higgins & Thompson 2002, eq. 9; metafor's i2def = "1"). FE: I2 = max(0, 100 (Q - df)/Q),
    H2 = Q/df, not floored. k <= p: Q = 0, p = 1, I2 = 0, H2 = 1.
    """
    k, p = X.shape
    if k <= p:
        return 0.0, 1.0, 0.0, 1.0
    wi = 1.0 / vi
    fe = wls(yi, wi, X)
    q = max(0.0, fe.rss)
    df = k - p
    q_p = float(stats.chi2.sf(q, df))
    if method == "FE":
        i2 = max(0.0, 100.0 * (q - df) / q) if q > 0 else np.nan
        return q, q_p, i2, q / df
    vt = df / trace_p(wi, X, fe.a_inv)
    return q, q_p, 100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0


def fit_rma(yi: np.ndarray, vi: np.ndarray, X: np.ndarray, method: str, test: str,
            level: float, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> ModelFit:
    """Fit metafor's rma.uni model (options are assumed checked by the caller)."""
    k, p = X.shape
    if k < p + (0 if method == "FE" else 1) and not (k == 1 and p == 1):
        raise InputError(f"k = {k} studies cannot support {p} coefficients"
                         + ("" if method == "FE" else " plus tau2"))
    test_used = test
    if k == 1 and test != "z":
        warnings.warn(f"test={test!r} needs k >= 2; using test='z' since k = 1 (as metafor)",
                      SmallKWarning, stacklevel=3)
        test_used = "z"
    if method == "FE" and test_used in ("knha", "adhoc"):
        warnings.warn("the Knapp-Hartung method is not meant to be used with FE models "
                      "(metafor warns the same); consider a random-effects method",
                      ModelWarning, stacklevel=3)
    t2 = estimate_tau2(yi, vi, X, method, threshold=threshold, maxiter=maxiter)
    tau2 = t2.tau2
    wi = 1.0 / (vi + tau2)
    fit = wls(yi, wi, X)
    scale = 1.0
    if test_used in ("knha", "adhoc"):
        scale = 0.0 if fit.rss <= KNHA_ZERO_RSS else fit.rss / (k - p)
        if test_used == "adhoc":
            scale = max(1.0, scale)
    vb = scale * fit.a_inv
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = fit.beta / se
    alpha = 1.0 - level
    if test_used == "z":
        df = np.nan
        p_value = 2.0 * stats.norm.sf(np.abs(stat))
        crit = float(stats.norm.isf(alpha / 2))
    else:
        df = float(k - p)
        p_value = 2.0 * stats.t.sf(np.abs(stat), df)
        crit = float(stats.t.isf(alpha / 2, df))
    qm, qm_df, qm_p = _omnibus(fit.beta, vb, test_used, k, p)
    q, q_p, i2, h2 = heterogeneity(yi, vi, X, method, tau2)
    return ModelFit(k=k, p=p, method=method, test_used=test_used, level=level, tau2=tau2,
                    iterations=t2.iterations, beta=fit.beta, vb=vb, se=se, stat=stat, df=df,
                    p_value=p_value, ci_low=fit.beta - crit * se, ci_high=fit.beta + crit * se,
                    crit=crit, wi=wi, q=q, q_p=q_p, i2=i2, h2=h2, qm=qm, qm_df=qm_df, qm_p=qm_p)


def _omnibus(beta, vb, test_used, k, p):
    """QM: Wald test of all coefficients but the intercept (chi2(m), or F(m, k - p) / m)."""
    m = p - 1
    if m == 0:
        b, v = beta, vb   # intercept-only: metafor's QM tests the intercept
        m = 1
    else:
        b, v = beta[1:], vb[1:, 1:]
    try:
        qm = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return np.nan, (float(m), np.nan), np.nan
    if test_used == "z":
        return qm, (float(m), np.nan), float(stats.chi2.sf(qm, m))
    qm /= m
    return qm, (float(m), float(k - p)), float(stats.f.sf(qm, m, k - p))


def prediction_interval(fit: ModelFit) -> tuple[float, float]:
    """metafor's predict() interval for a new true effect (intercept-only models).

    mu +- crit * sqrt(se^2 + tau2), with the same crit as the CI: t(k - 1) under knha/adhoc (se
    is then the Knapp-Hartung se), z otherwise (Riley et al. 2011 suggest t(k - 2); metafor
    3.8's default does not). None (nan) for FE, which has no random effect.
    """
    if fit.method == "FE":
        return np.nan, np.nan
    half = fit.crit * np.sqrt(fit.se[0] ** 2 + fit.tau2)
    return float(fit.beta[0] - half), float(fit.beta[0] + half)
