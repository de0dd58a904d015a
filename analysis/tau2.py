"""Between-study variance (tau2) estimators, pinned to metafor's `rma.uni` (3.8-1).

One function per estimator, each `f(yi, vi, X, *, threshold, maxiter) -> Tau2Fit`, registered
in `TAU2_ESTIMATORS` under metafor's method name. `X` is the (k, p) design matrix (a column of
ones for a plain meta-analysis). Estimates are truncated at 0, as metafor does.

Notation: wi = 1/vi (FE weights), W = diag(wi), P = W - W X (X'WX)^-1 X'W (see `analysis.wls`),
P_ols = I - X (X'X)^-1 X', V = diag(vi), Q = y'Py (Cochran's Q), k studies, p coefficients.

Why these are our own formulas rather than PyMARE/statsmodels calls (see docs/analysis.md):
PyMARE has no PM, SJ or EB, returns an arbitrary REML tau2 for k = 1 and stops its bounded
search at ~5e-7; statsmodels does not truncate DL at 0 and its PM is loose (atol 1e-5) with a
tau2 -> 0 bug when tightened. DL/HE/FE are a few lines and agree with PyMARE to ~1e-15
(checked in tests/analysis/test_tau2.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize, stats

from analysis.errors import ConvergenceError
from analysis.options import MAXITER, ROOT_XTOL, THRESHOLD
from analysis.wls import q_generalised, trace_p, trace_pp, trace_pv_ols, wls

#: brentq's relative tolerance: its minimum allowed value is 4 * machine epsilon.
ROOT_RTOL = 4 * np.finfo(float).eps
#: Upper end of the search interval before expansion (metafor: tau2.max = max(100, 10 mad(yi)^2)
#: for PM, max(100, 10 tau2) for the Q-profile CI). We double it while the root lies beyond,
#: where metafor stops with an error (PM) or reports the bound itself (confint).
TAU2_MAX_START = 100.0
MAX_DOUBLINGS = 60
#: Fisher scoring approaches a maximum at the boundary tau2 = 0 geometrically and stops at
#: ~threshold (metafor reports e.g. 4e-13). Below this value, and if the step at 0 points below
#: 0 (the maximum is on the boundary), we report exactly 0.
BOUNDARY_SNAP = 1e-10


@dataclass(frozen=True)
class Tau2Fit:
    tau2: float
    iterations: int = 0
    converged: bool = True


def _fe_weights(vi: np.ndarray) -> np.ndarray:
    return 1.0 / vi


def tau2_fe(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Fixed (common/equal) effect model: tau2 = 0 by assumption."""
    return Tau2Fit(0.0)


def tau2_dl(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """DerSimonian-Laird method-of-moments estimator.

    tau2 = max(0, (Q - (k - p)) / tr(P)); with intercept only, tr(P) = sum w - sum w^2 / sum w.
    DerSimonian & Laird (1986), Control Clin Trials 7:177-188; Raudenbush (2009) for the
    meta-regression form.
    """
    k, p = X.shape
    wi = _fe_weights(vi)
    fit = wls(yi, wi, X)
    return Tau2Fit(max(0.0, (fit.rss - (k - p)) / trace_p(wi, X, fit.a_inv)))


def tau2_he(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Hedges (unweighted method-of-moments / "variance component") estimator.

    tau2 = max(0, (y'P_ols y - tr(P_ols V)) / (k - p)).
    Hedges (1983), Psychol Bull 93:388-395; Hedges & Olkin (1985), ch. 9.
    """
    return Tau2Fit(max(0.0, _he_untruncated(yi, vi, X)))


def _he_untruncated(yi, vi, X) -> float:
    k, p = X.shape
    rss = wls(yi, np.ones(k), X).rss
    return (rss - trace_pv_ols(vi, X)) / (k - p)


def tau2_sj(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Sidik-Jonkman estimator (one step from a crude start; positive by construction).

    tau0 = sum (y_i - mean y)^2 / k (metafor uses the variance of y about its plain mean even
    with moderators), w_i = 1/(v_i + tau0), tau2 = tau0 * y'P(w)y / (k - p).
    Sidik & Jonkman (2005), J Biopharm Stat 15:823-838; (2007) Stat Med 26:1964-1981.
    """
    k, p = X.shape
    tau0 = float(np.sum((yi - yi.mean()) ** 2) / k)
    rss = wls(yi, 1.0 / (vi + tau0), X).rss
    return Tau2Fit(max(0.0, tau0 * rss / (k - p)))


def tau2_pm(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Paule-Mandel (generalised Q / empirical Bayes moment) estimator.

    tau2 solves Q(tau2) = sum w_i(tau2) (y_i - x_i b(tau2))^2 = k - p, w_i = 1/(v_i + tau2);
    0 if Q(0) < k - p. Q(tau2) is decreasing, so the root is unique (Brent's method).
    Paule & Mandel (1982), J Res Natl Bur Stand 87:377-385; DerSimonian & Kacker (2007).
    """
    k, p = X.shape
    target = float(k - p)
    if q_generalised(0.0, yi, vi, X) < target:
        return Tau2Fit(0.0)
    mad = 1.4826 * float(np.median(np.abs(yi - np.median(yi))))
    hi = max(TAU2_MAX_START, 10.0 * mad**2)
    return Tau2Fit(_root(lambda t: q_generalised(t, yi, vi, X) - target, 0.0, hi, maxiter))


def _fisher_scoring(yi, vi, X, step, threshold, maxiter) -> Tau2Fit:
    """metafor's Fisher scoring: start at max(0, HE), add `step(tau2)`, halve steps below 0.

    Stops when the change is <= threshold. Two shortcuts give exactly 0 where metafor leaves
    ~threshold: a step overshooting 0 when the step at 0 is also <= 0, and a converged value
    below BOUNDARY_SNAP with the step at 0 <= 0.
    """
    tau2 = max(0.0, _he_untruncated(yi, vi, X))
    for iteration in range(1, maxiter + 2):
        adj = step(tau2)
        if not np.isfinite(adj):
            adj = 0.0
        if tau2 + adj < 0.0 and step(0.0) <= 0.0:
            # The step overshoots 0 and the score at 0 points down: the maximum is on the
            # boundary. metafor halves the step and creeps towards 0 (stopping at ~threshold);
            # we go there directly.
            return Tau2Fit(0.0, iteration)
        while tau2 + adj < 0.0:
            adj /= 2.0
        old, tau2 = tau2, tau2 + adj
        if abs(old - tau2) <= threshold:
            if tau2 < BOUNDARY_SNAP and step(0.0) <= 0.0:
                tau2 = 0.0
            return Tau2Fit(max(0.0, tau2), iteration)
    raise ConvergenceError(
        f"Fisher scoring for tau2 did not converge in maxiter={maxiter} iterations "
        f"(last tau2={tau2:.6g}); check for extreme sampling variances or raise maxiter")


def _ml_step(yi, vi, X):
    def step(tau2):
        wi = 1.0 / (vi + tau2)
        fit = wls(yi, wi, X)
        return (np.sum((wi * fit.resid) ** 2) - np.sum(wi)) / np.sum(wi**2)
    return step


def _reml_step(yi, vi, X):
    def step(tau2):
        wi = 1.0 / (vi + tau2)
        fit = wls(yi, wi, X)
        return ((np.sum((wi * fit.resid) ** 2) - trace_p(wi, X, fit.a_inv))
                / trace_pp(wi, X, fit.a_inv))
    return step


def _loglik(yi, vi, X, tau2, reml: bool) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML, without the X'X constant)."""
    k, p = X.shape
    wi = 1.0 / (vi + tau2)
    fit = wls(yi, wi, X)
    if not reml:
        return -0.5 * k * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * fit.rss
    logdet = np.linalg.slogdet(X.T @ (X * wi[:, None]))[1]
    return (-0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + tau2))
            - 0.5 * logdet - 0.5 * fit.rss)


def _ll0_check(yi, vi, X, fit: Tau2Fit, reml: bool, threshold: float) -> Tau2Fit:
    """metafor's `ll0check`: if tau2 = 0 has a higher likelihood, Fisher scoring got stuck."""
    if fit.tau2 > threshold and (_loglik(yi, vi, X, 0.0, reml)
                                 - _loglik(yi, vi, X, fit.tau2, reml)) > 1e-12:
        return Tau2Fit(0.0, fit.iterations)
    return fit


def tau2_ml(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Maximum likelihood, by Fisher scoring.

    tau2 <- tau2 + (y'PPy - sum w) / sum w^2, w_i = 1/(v_i + tau2), from max(0, HE).
    Hardy & Thompson (1996), Stat Med 15:619-629; Viechtbauer (2005), J Educ Behav Stat 30:261-293.
    """
    fit = _fisher_scoring(yi, vi, X, _ml_step(yi, vi, X), threshold, maxiter)
    return _ll0_check(yi, vi, X, fit, reml=False, threshold=threshold)


def tau2_reml(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Restricted maximum likelihood, by Fisher scoring.

    tau2 <- tau2 + (y'PPy - tr P) / tr(PP), from max(0, HE).
    Raudenbush & Bryk (1985); Viechtbauer (2005), J Educ Behav Stat 30:261-293, eq. 12.
    """
    fit = _fisher_scoring(yi, vi, X, _reml_step(yi, vi, X), threshold, maxiter)
    return _ll0_check(yi, vi, X, fit, reml=True, threshold=threshold)


def tau2_eb(yi, vi, X, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Empirical Bayes (Morris) estimator, by metafor's fixed-point iteration.

    tau2 <- tau2 + (k/(k - p) y'Py - k) / sum w, w_i = 1/(v_i + tau2), from max(0, HE).
    Morris (1983), J Am Stat Assoc 78:47-55; Berkey et al. (1995), Stat Med 14:395-411.
    A fixed point solves Q(tau2) = k - p, the PM equation (metafor's rma.uni documentation notes
    that EB and PM coincide), so EB = PM up to the iteration's tolerance.
    """
    k, p = X.shape

    def step(tau2):
        wi = 1.0 / (vi + tau2)
        return (wls(yi, wi, X).rss * k / (k - p) - k) / np.sum(wi)

    return _fisher_scoring(yi, vi, X, step, threshold, maxiter)


Estimator = Callable[..., Tau2Fit]

TAU2_ESTIMATORS: dict[str, Estimator] = {
    "FE": tau2_fe,
    "DL": tau2_dl,
    "REML": tau2_reml,
    "PM": tau2_pm,
    "ML": tau2_ml,
    "HE": tau2_he,
    "SJ": tau2_sj,
    "EB": tau2_eb,
}


def estimate_tau2(yi, vi, X, method: str, *, threshold=THRESHOLD, maxiter=MAXITER) -> Tau2Fit:
    """Dispatch to the registered estimator; k <= p (e.g. k = 1) gives tau2 = 0 as in metafor."""
    k, p = X.shape
    if k <= p:
        return Tau2Fit(0.0)
    return TAU2_ESTIMATORS[method](yi, vi, X, threshold=threshold, maxiter=maxiter)


def _root(f, lo: float, hi: float, maxiter: int) -> float:
    """Root of a decreasing f on [lo, hi], doubling hi while f(hi) > 0."""
    for _ in range(MAX_DOUBLINGS):
        if f(hi) <= 0.0:
            break
        hi *= 2.0
    else:
        raise ConvergenceError(f"no root of the Q-profile equation below tau2={hi:.3g}")
    return float(optimize.brentq(f, lo, hi, xtol=ROOT_XTOL, rtol=ROOT_RTOL, maxiter=maxiter))


def q_profile_ci(yi, vi, X, tau2: float, level: float, *, maxiter=MAXITER) -> tuple[float, float]:
    """Q-profile confidence interval for tau2 (Viechtbauer 2007, Stat Med 26:37-52).

    Bounds solve Q(tau2) = chi2_{k-p; 1-a/2} (lower) and chi2_{k-p; a/2} (upper); a bound is 0
    when Q(0) is already below its target. Same for every tau2 method, as metafor's confint().
    Returns (nan, nan) when k <= p (metafor stops: "Stopped because k = 1.").
    """
    k, p = X.shape
    if k <= p:
        return (np.nan, np.nan)
    df = k - p
    alpha = 1.0 - level
    crit_upper = float(stats.chi2.isf(alpha / 2, df))   # for the lower bound
    crit_lower = float(stats.chi2.ppf(alpha / 2, df))   # for the upper bound
    q0 = q_generalised(0.0, yi, vi, X)
    hi = max(TAU2_MAX_START, 10.0 * tau2)

    def bound(target):
        if q0 < target:
            return 0.0
        return _root(lambda t: q_generalised(t, yi, vi, X) - target, 0.0, hi, maxiter)

    return bound(crit_upper), bound(crit_lower)
