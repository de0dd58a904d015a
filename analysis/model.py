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

from analysis.distributions import chi2_sf, f_sf, norm_isf, norm_sf, t_isf, t_sf
from analysis.errors import InputError, ModelWarning, SmallKWarning
from analysis.options import MAXITER, THRESHOLD
from analysis.tau2 import estimate_tau2
from analysis.wls import OneModel, Studies

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
    vb: np.ndarray  # covariance of beta (scaled under knha/adhoc)
    se: np.ndarray
    stat: np.ndarray
    df: float  # nan for z
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    crit: float
    wi: np.ndarray  # model weights 1/(v_i + tau2)
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
        raise InputError(f"{names[0]} has {y.size} values but {names[1]} has {v.size}", column=names[1])
    for arr, name in ((y, names[0]), (v, names[1])):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise InputError(f"value {arr[bad[0]]!r} is not a finite number", row=int(bad[0]), column=name)
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        raise InputError(f"sampling variance must be > 0, got {v[bad[0]]!r}", row=int(bad[0]), column=names[1])
    return y, v


@dataclass(frozen=True)
class Heterogeneity:
    """Cochran's Q (residual QE with moderators), its p, I2 (%) and H2; one entry per model."""

    q: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray


def heterogeneity(studies: Studies, method: str, tau2: np.ndarray) -> Heterogeneity:
    """Cochran's Q, its p, and metafor's I2 (%) and H2 of every model of `studies`.

    Q = y'Py with FE weights 1/v_i, df = k - p. Random effects: I2 = 100 tau2/(tau2 + vt),
    H2 = (tau2 + vt)/vt with the "typical" within-study variance vt = (k - p)/tr(P)
    (Higgins & Thompson 2002, eq. 9; metafor's i2def = "1"). FE: I2 = max(0, 100 (Q - df)/Q),
    H2 = Q/df, not floored. k <= p: Q = 0, p = 1, I2 = 0, H2 = 1.
    """
    estimable = studies.k > studies.p
    fe = studies.fit(1.0 / studies.vi)
    df = studies.k - studies.p
    q = np.where(estimable, np.maximum(0.0, fe.rss), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_p = np.where(estimable, chi2_sf(q, np.maximum(df, 1)), 1.0)
        if method == "FE":
            i2 = np.where(q > 0, np.maximum(0.0, 100.0 * (q - df) / q), np.nan)
            h2 = q / df
        else:
            typical_v = df / studies.trace_p(fe)
            i2 = 100.0 * tau2 / (typical_v + tau2)
            h2 = tau2 / typical_v + 1.0
    return Heterogeneity(q=q, q_p=q_p, i2=np.where(estimable, i2, 0.0), h2=np.where(estimable, h2, 1.0))


def knapp_hartung_scale(rss: np.ndarray, df: np.ndarray, test_used: np.ndarray) -> np.ndarray:
    """The factor s2 on (X'WX)^-1 under each model's test: 1 under z; y'Py/(k - p) under knha
    (0 when y'Py <= KNHA_ZERO_RSS, as metafor); that floored at 1 under adhoc."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(rss <= KNHA_ZERO_RSS, 0.0, rss / df)
    s2 = np.where(test_used == "adhoc", np.maximum(1.0, s2), s2)
    return np.where(test_used == "z", 1.0, s2)


@dataclass(frozen=True)
class WaldTests:
    """Tests and CIs of coefficients: z where df is nan, t(df) otherwise."""

    stat: np.ndarray
    p_value: np.ndarray
    crit: np.ndarray  # the CI's critical value
    ci_low: np.ndarray
    ci_high: np.ndarray


def wald_tests(estimate: np.ndarray, se: np.ndarray, df: np.ndarray | float, level: float) -> WaldTests:
    """estimate / se against N(0, 1) (df nan) or t(df), and the CI estimate +- crit se."""
    df = np.broadcast_to(df, np.shape(estimate))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimate / se
    alpha = 1.0 - level
    t_test = ~np.isnan(df)
    p_value = 2.0 * norm_sf(np.abs(stat))
    crit = np.full(np.shape(estimate), float(norm_isf(alpha / 2)))
    if t_test.any():
        p_value[t_test] = 2.0 * t_sf(np.abs(stat[t_test]), df[t_test])
        crit[t_test] = t_isf(alpha / 2, df[t_test])
    return WaldTests(stat=stat, p_value=p_value, crit=crit, ci_low=estimate - crit * se, ci_high=estimate + crit * se)


def prediction_bounds(
    estimate: np.ndarray, se: np.ndarray, tau2: np.ndarray, crit: np.ndarray, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """metafor's predict() interval for a new true effect (intercept-only models).

    mu +- crit * sqrt(se^2 + tau2), with the same crit as the CI: t(k - 1) under knha/adhoc (se
    is then the Knapp-Hartung se), z otherwise (Riley et al. 2011 suggest t(k - 2); metafor
    3.8's default does not). nan for FE, which has no random effect.
    """
    if method == "FE":
        nan = np.full(np.shape(estimate), np.nan)
        return nan, nan
    half = crit * np.sqrt(se**2 + tau2)
    return estimate - half, estimate + half


def fit_rma(
    yi: np.ndarray,
    vi: np.ndarray,
    X: np.ndarray,
    method: str,
    test: str,
    level: float,
    *,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> ModelFit:
    """Fit metafor's rma.uni model (options are assumed checked by the caller)."""
    k, p = X.shape
    if k < p + (0 if method == "FE" else 1) and not (k == 1 and p == 1):
        raise InputError(f"k = {k} studies cannot support {p} coefficients" + ("" if method == "FE" else " plus tau2"))
    test_used = test
    if k == 1 and test != "z":
        warnings.warn(
            f"test={test!r} needs k >= 2; using test='z' since k = 1 (as metafor)", SmallKWarning, stacklevel=3
        )
        test_used = "z"
    if method == "FE" and test_used in ("knha", "adhoc"):
        warnings.warn(
            "the Knapp-Hartung method is not meant to be used with FE models "
            "(metafor warns the same); consider a random-effects method",
            ModelWarning,
            stacklevel=3,
        )
    model = OneModel(yi, vi, X)
    t2 = estimate_tau2(yi, vi, X, method, threshold=threshold, maxiter=maxiter)
    tau2 = t2.tau2
    fit = model.fit(1.0 / (vi + tau2))
    scale = float(knapp_hartung_scale(fit.rss, model.k - p, np.array(test_used))[0])
    vb = scale * fit.a_inv
    se = np.sqrt(np.diag(vb))
    df = np.nan if test_used == "z" else float(k - p)
    tests = wald_tests(fit.beta, se, df, level)
    qm, qm_df, qm_p = _omnibus(fit.beta, vb, test_used, k, p)
    het = heterogeneity(model, method, np.array([tau2]))
    return ModelFit(
        k=k,
        p=p,
        method=method,
        test_used=test_used,
        level=level,
        tau2=tau2,
        iterations=t2.iterations,
        beta=fit.beta,
        vb=vb,
        se=se,
        stat=tests.stat,
        df=df,
        p_value=tests.p_value,
        ci_low=tests.ci_low,
        ci_high=tests.ci_high,
        crit=float(tests.crit[0]),
        wi=fit.wi,
        q=float(het.q[0]),
        q_p=float(het.q_p[0]),
        i2=float(het.i2[0]),
        h2=float(het.h2[0]),
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
    )


def _omnibus(beta, vb, test_used, k, p):
    """QM: Wald test of all coefficients but the intercept (chi2(m), or F(m, k - p) / m)."""
    m = p - 1
    if m == 0:
        b, v = beta, vb  # intercept-only: metafor's QM tests the intercept
        m = 1
    else:
        b, v = beta[1:], vb[1:, 1:]
    try:
        qm = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError:
        return np.nan, (float(m), np.nan), np.nan
    if test_used == "z":
        return qm, (float(m), np.nan), float(chi2_sf(qm, m))
    qm /= m
    return qm, (float(m), float(k - p)), float(f_sf(qm, m, k - p))


def prediction_interval(fit: ModelFit) -> tuple[float, float]:
    """`prediction_bounds` of an intercept-only fit (nan, nan for FE)."""
    low, high = prediction_bounds(fit.beta[:1], fit.se[:1], np.array([fit.tau2]), np.array([fit.crit]), fit.method)
    return float(low[0]), float(high[0])
