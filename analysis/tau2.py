"""Between-study variance (tau2) estimators, pinned to metafor's `rma.uni` (3.8-1).

One registry, `TAU2_ESTIMATORS`, maps metafor's method name to the one implementation of each
estimator, `f(studies, *, threshold, maxiter) -> Tau2Estimates`. It works on a `Studies` (see
`analysis.wls`): `OneModel` for one fit with any design matrix X, `Segments` for many
intercept-only fits at once; each model gets its own answer, stopping rule and boundary handling,
so a model fitted among many gets exactly what it gets alone (up to the rounding of the sums).
`estimate_tau2(yi, vi, X, method)` is the one-model form (`tau2_reml` etc. are shorthands of it);
`estimate_many(studies, method)` the many-model form. `METHODS` lists the names in registry order.
Estimates are truncated at 0, as metafor does.

Notation: wi = 1/vi (FE weights), W = diag(wi), P = W - W X (X'WX)^-1 X'W (see `analysis.wls`),
P_ols = I - X (X'X)^-1 X', V = diag(vi), Q = y'Py (Cochran's Q), k studies, p coefficients.

Why these are our own formulas rather than PyMARE/statsmodels calls (see docs/analysis.md):
PyMARE has no PM, SJ or EB, returns an arbitrary REML tau2 for k = 1 and stops its bounded
search at ~5e-7; statsmodels does not truncate DL at 0 and its PM is loose (atol 1e-5) with a
tau2 -> 0 bug when tightened. DL/HE/FE are a few lines and agree with PyMARE to ~1e-15
(checked in tests/analysis/test_tau2.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from analysis.errors import ConvergenceError
from analysis.wls import OneModel, Studies, WeightedFit, q_generalised

#: Convergence of the iterative tau2 estimators (Fisher scoring for ML/REML/EB: stop when the
#: change in tau2 is below THRESHOLD; root finding for PM and the Q-profile CI: absolute x
#: tolerance ROOT_XTOL). metafor's stock values (threshold 1e-5, uniroot tol ~1.2e-4) are only
#: accurate to ~1e-5; these reproduce metafor run with control=list(threshold=1e-12, tol=1e-12).
THRESHOLD = 1e-12
ROOT_XTOL = 1e-14
MAXITER = 1000

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
#: metafor's ll0check: tau2 = 0 replaces the estimate when its log-likelihood is higher by this.
LL0_MARGIN = 1e-12


@dataclass(frozen=True)
class Tau2Fit:
    """One model's estimate."""

    tau2: float
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True)
class Tau2Estimates:
    """Every model's estimate (arrays with one entry per model). Where converged is False,
    tau2 is the last iterate (Fisher scoring ran out of maxiter)."""

    tau2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray

    @classmethod
    def closed_form(cls, tau2: np.ndarray) -> Tau2Estimates:
        return cls(tau2, np.zeros(tau2.size, dtype=int), np.ones(tau2.size, dtype=bool))


Step = Callable[[Studies, np.ndarray], np.ndarray]


def _random_effects_fit(studies: Studies, tau2: np.ndarray) -> WeightedFit:
    """The WLS fit with random-effects weights 1/(v_i + tau2) of each model."""
    wi = 1.0 / (studies.vi + studies.rows(tau2))
    return studies.fit(wi)


def fixed_effect(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """Fixed (common/equal) effect model: tau2 = 0 by assumption (Hedges & Olkin 1985)."""
    return Tau2Estimates.closed_form(np.zeros(studies.n_models))


def dersimonian_laird(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """DerSimonian-Laird method-of-moments estimator.

    tau2 = max(0, (Q - (k - p)) / tr(P)); with intercept only, tr(P) = sum w - sum w^2 / sum w.
    DerSimonian & Laird (1986), Control Clin Trials 7:177-188; Raudenbush (2009) for the
    meta-regression form.
    """
    fit = studies.fit(1.0 / studies.vi)
    tau2 = (fit.rss - (studies.k - studies.p)) / studies.trace_p(fit)
    return Tau2Estimates.closed_form(np.maximum(0.0, tau2))


def _hedges_untruncated(studies: Studies) -> np.ndarray:
    rss = studies.fit(np.ones_like(studies.yi)).rss
    return (rss - studies.trace_pv_ols()) / (studies.k - studies.p)


def hedges(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """Hedges (unweighted method-of-moments / "variance component") estimator.

    tau2 = max(0, (y'P_ols y - tr(P_ols V)) / (k - p)).
    Hedges (1983), Psychol Bull 93:388-395; Hedges & Olkin (1985), ch. 9.
    """
    return Tau2Estimates.closed_form(np.maximum(0.0, _hedges_untruncated(studies)))


def sidik_jonkman(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """Sidik-Jonkman estimator (one step from a crude start; positive by construction).

    tau0 = sum (y_i - mean y)^2 / k (metafor uses the variance of y about its plain mean even
    with moderators), w_i = 1/(v_i + tau0), tau2 = tau0 * y'P(w)y / (k - p).
    Sidik & Jonkman (2005), J Biopharm Stat 15:823-838; (2007) Stat Med 26:1964-1981.
    """
    k = studies.k
    mean = studies.sum(studies.yi) / k
    tau0 = studies.sum((studies.yi - studies.rows(mean)) ** 2) / k
    rss = _random_effects_fit(studies, tau0).rss
    return Tau2Estimates.closed_form(np.maximum(0.0, tau0 * rss / (k - studies.p)))


def paule_mandel(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """Paule-Mandel (generalised Q / empirical Bayes moment) estimator.

    tau2 solves Q(tau2) = sum w_i(tau2) (y_i - x_i b(tau2))^2 = k - p, w_i = 1/(v_i + tau2);
    0 if Q(0) < k - p. Q(tau2) is decreasing, so the root is unique (Brent's method, one model
    at a time).
    Paule & Mandel (1982), J Res Natl Bur Stand 87:377-385; DerSimonian & Kacker (2007).
    """
    tau2 = [_paule_mandel_root(yi, vi, X, maxiter) for yi, vi, X in studies.models()]
    return Tau2Estimates.closed_form(np.array(tau2, dtype=float))


def _paule_mandel_root(yi: np.ndarray, vi: np.ndarray, X: np.ndarray, maxiter: int) -> float:
    k, p = X.shape
    target = float(k - p)
    if q_generalised(0.0, yi, vi, X) < target:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(yi - np.median(yi))))
    hi = max(TAU2_MAX_START, 10.0 * mad**2)
    return _root(lambda t: q_generalised(t, yi, vi, X) - target, 0.0, hi, maxiter)


def _fisher_scoring(studies: Studies, step: Step, threshold: float, maxiter: int) -> Tau2Estimates:
    """metafor's Fisher scoring for every model: start at max(0, HE), add `step(tau2)`, halve
    steps below 0, stop when the change is <= threshold. Each model has its own stopping rule;
    only the models still iterating are computed.

    Two shortcuts give exactly 0 where metafor leaves ~threshold: a step overshooting 0 when the
    step at 0 is also <= 0 (the maximum is on the boundary: metafor halves the step and creeps
    towards 0, we go there directly), and a converged value below BOUNDARY_SNAP with the step
    at 0 <= 0. The step at 0 is computed only once a model comes near 0: most fits never do.
    """
    n_models = studies.n_models
    tau2 = np.maximum(0.0, _hedges_untruncated(studies))
    iterations = np.full(n_models, maxiter + 1)
    converged = np.zeros(n_models, dtype=bool)
    iterating = np.arange(n_models)
    current, current_tau2 = studies, tau2.copy()
    points_down: np.ndarray | None = None  # per iterating model: is the step at 0 <= 0?
    for iteration in range(1, maxiter + 2):
        change = step(current, current_tau2)
        change = np.where(np.isfinite(change), change, 0.0)
        new = current_tau2 + change
        to_boundary = None
        if new.min() < 0.0:
            if points_down is None:
                points_down = step(current, np.zeros(current_tau2.size)) <= 0.0
            below_zero = new < 0.0
            to_boundary = below_zero & points_down
            below_zero &= ~to_boundary
            while below_zero.any():
                change = np.where(below_zero, change / 2.0, change)
                below_zero = current_tau2 + change < 0.0
            new = current_tau2 + change
        stop = np.abs(current_tau2 - new) <= threshold
        near_zero = stop & (new < BOUNDARY_SNAP)
        if near_zero.any():
            if points_down is None:
                points_down = step(current, np.zeros(current_tau2.size)) <= 0.0
            near_zero &= points_down
        finished = stop if to_boundary is None else stop | to_boundary
        zero = near_zero if to_boundary is None else near_zero | to_boundary
        new = np.where(zero, 0.0, new)
        current_tau2 = new
        if finished.any():
            done = iterating[finished]
            tau2[done] = new[finished]
            iterations[done] = iteration
            converged[done] = True
            keep = ~finished
            if not keep.any():
                break
            iterating = iterating[keep]
            current, current_tau2 = current.subset(keep), new[keep]
            if points_down is not None:
                points_down = points_down[keep]
    else:
        tau2[iterating] = current_tau2  # the last iterate of the models that did not converge
    return Tau2Estimates(tau2, iterations, converged)


def log_likelihood(studies: Studies, tau2: np.ndarray, reml: bool) -> np.ndarray:
    """Log-likelihood (ML) or restricted log-likelihood (REML, without the X'X constant)."""
    k, p = studies.k, studies.p
    total_var = studies.vi + studies.rows(tau2)
    fit = studies.fit(1.0 / total_var)
    log_var = studies.sum(np.log(total_var))
    if not reml:
        return -0.5 * k * np.log(2 * np.pi) - 0.5 * log_var - 0.5 * fit.rss
    return -0.5 * (k - p) * np.log(2 * np.pi) - 0.5 * log_var - 0.5 * studies.log_det_xwx(fit) - 0.5 * fit.rss


def _ll0_check(studies: Studies, fit: Tau2Estimates, reml: bool, threshold: float) -> Tau2Estimates:
    """metafor's `ll0check`: if tau2 = 0 has a higher likelihood, Fisher scoring got stuck."""
    candidates = fit.converged & (fit.tau2 > threshold)
    if not candidates.any():
        return fit
    sub = studies.subset(candidates)
    tau2 = fit.tau2[candidates]
    stuck = (log_likelihood(sub, np.zeros(tau2.size), reml) - log_likelihood(sub, tau2, reml)) > LL0_MARGIN
    out = fit.tau2.copy()
    out[np.flatnonzero(candidates)[stuck]] = 0.0
    return Tau2Estimates(out, fit.iterations, fit.converged)


def _ml_step(studies: Studies, tau2: np.ndarray) -> np.ndarray:
    fit = _random_effects_fit(studies, tau2)
    ypp = studies.sum((fit.wi * fit.resid) ** 2)
    return (ypp - fit.sum_w) / studies.sum(fit.wi**2)


def _reml_step(studies: Studies, tau2: np.ndarray) -> np.ndarray:
    fit = _random_effects_fit(studies, tau2)
    trace_p, trace_pp = studies.traces(fit)
    return (studies.sum((fit.wi * fit.resid) ** 2) - trace_p) / trace_pp


def _eb_step(studies: Studies, tau2: np.ndarray) -> np.ndarray:
    fit = _random_effects_fit(studies, tau2)
    k = studies.k
    return (fit.rss * k / (k - studies.p) - k) / fit.sum_w


def maximum_likelihood(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """Maximum likelihood, by Fisher scoring.

    tau2 <- tau2 + (y'PPy - sum w) / sum w^2, w_i = 1/(v_i + tau2), from max(0, HE).
    Hardy & Thompson (1996), Stat Med 15:619-629; Viechtbauer (2005), J Educ Behav Stat 30:261-293.
    """
    fit = _fisher_scoring(studies, _ml_step, threshold, maxiter)
    return _ll0_check(studies, fit, reml=False, threshold=threshold)


def restricted_maximum_likelihood(
    studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER
) -> Tau2Estimates:
    """Restricted maximum likelihood, by Fisher scoring.

    tau2 <- tau2 + (y'PPy - tr P) / tr(PP), from max(0, HE).
    Raudenbush & Bryk (1985); Viechtbauer (2005), J Educ Behav Stat 30:261-293, eq. 12.
    """
    fit = _fisher_scoring(studies, _reml_step, threshold, maxiter)
    return _ll0_check(studies, fit, reml=True, threshold=threshold)


def empirical_bayes(studies: Studies, *, threshold: float = THRESHOLD, maxiter: int = MAXITER) -> Tau2Estimates:
    """Empirical Bayes (Morris) estimator, by metafor's fixed-point iteration.

    tau2 <- tau2 + (k/(k - p) y'Py - k) / sum w, w_i = 1/(v_i + tau2), from max(0, HE).
    Morris (1983), J Am Stat Assoc 78:47-55; Berkey et al. (1995), Stat Med 14:395-411.
    A fixed point solves Q(tau2) = k - p, the PM equation (metafor's rma.uni documentation notes
    that EB and PM coincide), so EB = PM up to the iteration's tolerance.
    """
    return _fisher_scoring(studies, _eb_step, threshold, maxiter)


Estimator = Callable[..., Tau2Estimates]

#: metafor's method name -> the estimator; the order is the CLI's choices (cli/options.py reads METHODS through analysis.options).
TAU2_ESTIMATORS: dict[str, Estimator] = {
    "FE": fixed_effect,
    "DL": dersimonian_laird,
    "REML": restricted_maximum_likelihood,
    "PM": paule_mandel,
    "ML": maximum_likelihood,
    "HE": hedges,
    "SJ": sidik_jonkman,
    "EB": empirical_bayes,
}

#: The estimator names, in registry order (for option checks and the CLI's --method choices).
METHODS: tuple[str, ...] = tuple(TAU2_ESTIMATORS)


def estimate_many(
    studies: Studies, method: str, *, threshold: float = THRESHOLD, maxiter: int = MAXITER
) -> Tau2Estimates:
    """tau2 of every model by the registered estimator; k <= p (e.g. k = 1) gives tau2 = 0 as in
    metafor."""
    estimator = TAU2_ESTIMATORS[method]
    estimable = studies.k > studies.p
    if estimable.all():
        return estimator(studies, threshold=threshold, maxiter=maxiter)
    out = Tau2Estimates.closed_form(np.zeros(studies.n_models))
    if estimable.any():
        fit = estimator(studies.subset(estimable), threshold=threshold, maxiter=maxiter)
        out.tau2[estimable] = fit.tau2
        out.iterations[estimable] = fit.iterations
        out.converged[estimable] = fit.converged
    return out


def estimate_tau2(
    yi: np.ndarray, vi: np.ndarray, X: np.ndarray, method: str, *, threshold: float = THRESHOLD, maxiter: int = MAXITER
) -> Tau2Fit:
    """tau2 of one model (design matrix X) by the registered estimator.

    Raises ConvergenceError when Fisher scoring (ML, REML, EB) does not converge in maxiter
    iterations.
    """
    fit = estimate_many(OneModel(yi, vi, X), method, threshold=threshold, maxiter=maxiter)
    if not fit.converged[0]:
        raise ConvergenceError(
            f"Fisher scoring for tau2 did not converge in maxiter={maxiter} iterations "
            f"(last tau2={fit.tau2[0]:.6g}); check for extreme sampling variances or raise maxiter"
        )
    return Tau2Fit(float(fit.tau2[0]), int(fit.iterations[0]))


# One-model shorthands: tau2_reml(yi, vi, X) = estimate_tau2(yi, vi, X, "REML").
tau2_fe = partial(estimate_tau2, method="FE")
tau2_dl = partial(estimate_tau2, method="DL")
tau2_reml = partial(estimate_tau2, method="REML")
tau2_pm = partial(estimate_tau2, method="PM")
tau2_ml = partial(estimate_tau2, method="ML")
tau2_he = partial(estimate_tau2, method="HE")
tau2_sj = partial(estimate_tau2, method="SJ")
tau2_eb = partial(estimate_tau2, method="EB")


def _root(f, lo: float, hi: float, maxiter: int) -> float:
    """Root of a decreasing f on [lo, hi], doubling hi while f(hi) > 0."""
    for _ in range(MAX_DOUBLINGS):
        if f(hi) <= 0.0:
            break
        hi *= 2.0
    else:
        raise ConvergenceError(f"no root of the Q-profile equation below tau2={hi:.3g}")
    from scipy import optimize  # here: scipy takes ~0.3 s to import, and most commands never find a root

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
    from analysis.distributions import chi2_isf, chi2_ppf  # here: scipy is not loaded by every command

    crit_upper = float(chi2_isf(alpha / 2, df))  # for the lower bound
    crit_lower = float(chi2_ppf(alpha / 2, df))  # for the upper bound
    q0 = q_generalised(0.0, yi, vi, X)
    hi = max(TAU2_MAX_START, 10.0 * tau2)

    def bound(target):
        if q0 < target:
            return 0.0
        return _root(lambda t: q_generalised(t, yi, vi, X) - target, 0.0, hi, maxiter)

    return bound(crit_upper), bound(crit_lower)
