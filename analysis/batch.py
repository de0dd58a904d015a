"""Many intercept-only REML meta-analyses at once (e.g. a sweep over 1,000 subgroups).

`reml_batch(yi, vi)` takes (k, m) arrays, column j being one meta-analysis, and runs metafor's
Fisher scoring (see `analysis.tau2.tau2_reml`) on all columns together with a *per-column*
stopping rule, so each column stops exactly where a one-at-a-time fit would (PyMARE's
vectorised fit uses a joint rule and differs by up to 2e-7). Intercept-only algebra:

    sw = sum w, mu = sum w y / sw, tr P = sw - sum w^2 / sw, y'PPy = sum (w (y - mu))^2,
    tr PP = sum w^2 - 2 sum w^3 / sw + (sum w^2 / sw)^2,   w = 1/(v + tau2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.errors import ConvergenceError, InputError
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.tau2 import BOUNDARY_SNAP


@dataclass(frozen=True)
class BatchResult:
    """Per-column REML results (Wald z test)."""

    tau2: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    iterations: np.ndarray


def _reml_step(y, v, tau2):
    w = 1.0 / (v + tau2)
    sw = w.sum(axis=0)
    sw2 = (w * w).sum(axis=0)
    mu = (w * y).sum(axis=0) / sw
    r = y - mu
    ypp = ((w * r) ** 2).sum(axis=0)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2.0 * (w**3).sum(axis=0) / sw + (sw2 / sw) ** 2
    return (ypp - tr_p) / tr_pp


def _reml_loglik(y, v, tau2):
    """Restricted log-likelihood up to a constant (intercept only)."""
    w = 1.0 / (v + tau2)
    sw = w.sum(axis=0)
    mu = (w * y).sum(axis=0) / sw
    return -0.5 * (np.log(v + tau2).sum(axis=0) + np.log(sw) + (w * (y - mu) ** 2).sum(axis=0))


def reml_batch(yi: np.ndarray, vi: np.ndarray, *, level: float = 0.95,
               threshold: float = THRESHOLD, maxiter: int = MAXITER) -> BatchResult:
    """REML fits of every column of (k, m) arrays `yi`, `vi` (k >= 2, vi > 0)."""
    check_options(level=level, threshold=threshold, maxiter=maxiter)
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim == 1:
        y, v = y[:, None], v[:, None]
    if y.shape != v.shape or y.shape[0] < 2:
        raise InputError(f"yi and vi must be (k, m) arrays of equal shape with k >= 2, got "
                         f"{y.shape} and {v.shape}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise InputError("yi must be finite and vi finite and > 0 in every column")
    k, m = y.shape
    # Start at max(0, HE), as metafor.
    ybar = y.mean(axis=0)
    he = (((y - ybar) ** 2).sum(axis=0) - v.sum(axis=0) * (k - 1) / k) / (k - 1)
    tau2 = np.maximum(0.0, he)
    active = np.ones(m, dtype=bool)
    iterations = np.zeros(m, dtype=int)
    zeros = np.zeros(m)
    step0 = _reml_step(y, v, zeros)          # score direction at the boundary, per column
    for _ in range(maxiter + 1):
        if not active.any():
            break
        adj = _reml_step(y, v, tau2)
        adj = np.where(np.isfinite(adj) & active, adj, 0.0)
        neg = tau2 + adj < 0.0
        # Boundary shortcut, as analysis.tau2._fisher_scoring: overshooting 0 while the step at
        # 0 also points down means the maximum is at 0.
        at0 = neg & (step0 <= 0.0)
        if at0.any():
            tau2 = np.where(at0, 0.0, tau2)
            adj = np.where(at0, 0.0, adj)
            neg = neg & ~at0
        while neg.any():
            adj = np.where(neg, adj / 2.0, adj)
            neg = tau2 + adj < 0.0
        new = tau2 + adj
        iterations += active
        done = (np.abs(new - tau2) <= threshold) | at0
        tau2 = np.where(active, new, tau2)
        active &= ~done
    else:
        raise ConvergenceError(f"Fisher scoring did not converge for {int(active.sum())} of {m} "
                               f"columns in maxiter={maxiter} iterations")
    # Boundary snap and ll0check, as in the single fit.
    tau2 = np.where((tau2 < BOUNDARY_SNAP) & (step0 <= 0.0), 0.0, tau2)
    stuck = (tau2 > threshold) & (_reml_loglik(y, v, np.zeros(m)) - _reml_loglik(y, v, tau2) > 1e-12)
    tau2 = np.where(stuck, 0.0, np.maximum(tau2, 0.0))
    w = 1.0 / (v + tau2)
    sw = w.sum(axis=0)
    est = (w * y).sum(axis=0) / sw
    se = np.sqrt(1.0 / sw)
    crit = float(stats.norm.isf((1.0 - level) / 2.0))
    return BatchResult(tau2=tau2, estimate=est, se=se, ci_low=est - crit * se,
                       ci_high=est + crit * se, iterations=iterations)
