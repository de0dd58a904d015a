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
from analysis.model import KNHA_ZERO_RSS
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


# --- ragged strata: many intercept-only fits of different k, every estimator ------------------------

@dataclass(frozen=True)
class SegmentFit:
    """Per-segment results of `fit_segments` (arrays of length m, one entry per segment) and the
    per-row weights. The fields are those of `analysis.meta.meta_analysis` (without the tau2 CI)."""

    k: np.ndarray
    tau2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    df: np.ndarray          # t degrees of freedom (nan under z)
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray      # nan for FE
    pi_high: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    test_used: np.ndarray   # "z" where k = 1 replaced knha/adhoc
    weights_pct: np.ndarray  # per row, in the input order


class _Segs:
    """Sums over consecutive segments (np.add.reduceat) for a subset of the segments."""

    def __init__(self, y: np.ndarray, v: np.ndarray, sizes: np.ndarray):
        self.y, self.v, self.sizes = y, v, sizes
        self.starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        self.k = sizes.astype(float)

    def sum(self, a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, self.starts)

    def rows(self, per_segment: np.ndarray) -> np.ndarray:
        return np.repeat(per_segment, self.sizes)

    def subset(self, keep: np.ndarray) -> "_Segs":
        rows = np.repeat(keep, self.sizes)
        return _Segs(self.y[rows], self.v[rows], self.sizes[keep])

    # intercept-only WLS with weights w: mu = (1/sw) sum w y (as analysis.wls: a_inv = (X'WX)^-1)
    def wls(self, w: np.ndarray):
        sw = self.sum(w)
        a_inv = 1.0 / sw
        mu = a_inv * self.sum(w * self.y)
        resid = self.y - self.rows(mu)
        rss = self.sum(w * resid**2)
        return sw, a_inv, mu, resid, rss


def _he(s: _Segs) -> np.ndarray:
    """Hedges' estimator, untruncated (analysis.tau2._he_untruncated)."""
    ones = np.ones_like(s.y)
    _, _, _, _, rss = s.wls(ones)
    sv = s.sum(s.v)
    return (rss - (sv - (1.0 / s.k) * sv)) / (s.k - 1.0)


def _step_fn(method: str, s: _Segs):
    """The Fisher-scoring / fixed-point step of analysis.tau2 for every segment of s."""
    def step(tau2: np.ndarray) -> np.ndarray:
        w = 1.0 / (s.v + s.rows(tau2))
        sw, a_inv, _, resid, rss = s.wls(w)
        if method == "EB":
            return (rss * s.k / (s.k - 1.0) - s.k) / sw
        ypp = s.sum((w * resid) ** 2)
        sw2 = s.sum(w**2)
        if method == "ML":
            return (ypp - sw) / sw2
        b = a_inv * sw2
        tr_p = sw - b
        tr_pp = sw2 - 2.0 * (a_inv * s.sum(w**3)) + b * b
        return (ypp - tr_p) / tr_pp
    return step


def _loglik(s: _Segs, tau2: np.ndarray, reml: bool) -> np.ndarray:
    """analysis.tau2._loglik per segment (intercept only: log det X'WX = log sum w)."""
    vt = s.v + s.rows(tau2)
    w = 1.0 / vt
    sw, _, _, _, rss = s.wls(w)
    if not reml:
        return -0.5 * s.k * np.log(2 * np.pi) - 0.5 * s.sum(np.log(vt)) - 0.5 * rss
    return (-0.5 * (s.k - 1.0) * np.log(2 * np.pi) - 0.5 * s.sum(np.log(vt))
            - 0.5 * np.log(sw) - 0.5 * rss)


def _fisher_segments(method: str, s: _Segs, threshold: float, maxiter: int):
    """analysis.tau2._fisher_scoring for every segment, each with its own stopping rule, boundary
    shortcut and step halving; only the segments still iterating are computed. Returns tau2,
    iterations and converged (False: maxiter + 1 steps without meeting the threshold)."""
    m = s.sizes.size
    tau2 = np.maximum(0.0, _he(s))
    step0 = _step_fn(method, s)(np.zeros(m))  # the step at 0: does the score point below 0?
    iterations = np.zeros(m, dtype=int)
    done = np.zeros(m, dtype=bool)
    idx = np.arange(m)                          # segments still iterating
    cur = s
    for iteration in range(1, maxiter + 2):
        if idx.size == 0:
            break
        t = tau2[idx]
        adj = _step_fn(method, cur)(t)
        adj = np.where(np.isfinite(adj), adj, 0.0)
        neg = t + adj < 0.0
        at0 = neg & (step0[idx] <= 0.0)
        neg &= ~at0
        while neg.any():
            adj = np.where(neg, adj / 2.0, adj)
            neg = t + adj < 0.0
        new = t + adj
        stop = np.abs(t - new) <= threshold
        snap = stop & (new < BOUNDARY_SNAP) & (step0[idx] <= 0.0)
        new = np.where(snap | at0, 0.0, new)
        new = np.where(stop, np.maximum(0.0, new), new)
        tau2[idx] = new
        iterations[idx] = iteration
        finished = stop | at0
        done[idx[finished]] = True
        if finished.any():
            keep = ~finished
            idx = idx[keep]
            cur = cur.subset(keep)
    return tau2, iterations, done


def fit_segments(yi, vi, sizes, *, method: str = "REML", test: str = "z", level: float = 0.95,
                 threshold: float = THRESHOLD, maxiter: int = MAXITER) -> SegmentFit:
    """`meta_analysis` (without the tau2 CI) of every segment of ragged strata at once.

    Rows `yi`, `vi` (length n) hold the segments one after the other; `sizes` (length m, each >= 1,
    summing to n) are their k. Each segment gets exactly what `analysis.meta.meta_analysis` gives
    it (same estimator rules: truncation at 0, metafor's per-fit stopping rule, step halving, the
    boundary shortcut and ll0check for REML/ML; k = 1: tau2 = 0, Q = 0, and knha/adhoc -> z). PM
    solves its root per segment (`analysis.tau2.tau2_pm`); every other estimator is vectorised.

    A segment whose Fisher scoring does not converge in maxiter iterations has converged = False
    and NaN results: `meta_analysis` raises ConvergenceError there (callers decide; see
    `analysis.kb_pool.pool_all`).
    """
    from analysis.tau2 import tau2_pm
    from analysis.wls import intercept_design

    check_options(method=method, test=test, level=level, threshold=threshold, maxiter=maxiter)
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    sizes = np.asarray(sizes, dtype=np.int64).ravel()
    if y.shape != v.shape or sizes.sum() != y.size or (sizes < 1).any():
        raise InputError(f"{y.size} yi, {v.size} vi and segment sizes summing to {int(sizes.sum())} "
                         "(each >= 1) do not match")
    bad = np.flatnonzero(~np.isfinite(y) | ~np.isfinite(v) | ~(v > 0))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"yi must be finite and vi finite and > 0, got yi={y[i]!r}, vi={v[i]!r}",
                         row=i, column="vi")
    m = sizes.size
    s = _Segs(y, v, sizes)
    k = sizes
    multi = k >= 2
    tau2 = np.zeros(m)
    iterations = np.zeros(m, dtype=int)
    converged = np.ones(m, dtype=bool)
    if multi.any() and method != "FE":
        sm = s.subset(multi)
        if method in ("REML", "ML", "EB"):
            t, it, ok = _fisher_segments(method, sm, threshold, maxiter)
            if method in ("REML", "ML"):   # ll0check
                reml = method == "REML"
                cand = ok & (t > threshold)
                if cand.any():
                    sc = sm.subset(cand)
                    tc = t[cand]
                    drop = (_loglik(sc, np.zeros(tc.size), reml) - _loglik(sc, tc, reml)) > 1e-12
                    t[np.flatnonzero(cand)[drop]] = 0.0
            t = np.where(ok, np.maximum(t, 0.0), np.nan)
            tau2[multi], iterations[multi], converged[multi] = t, it, ok
        elif method == "DL":
            w = 1.0 / sm.v
            sw, a_inv, _, _, rss = sm.wls(w)
            tau2[multi] = np.maximum(0.0, (rss - (sm.k - 1.0)) / (sw - a_inv * sm.sum(w**2)))
        elif method == "HE":
            tau2[multi] = np.maximum(0.0, _he(sm))
        elif method == "SJ":
            mean = sm.sum(sm.y) / sm.k
            tau0 = sm.sum((sm.y - sm.rows(mean)) ** 2) / sm.k
            _, _, _, _, rss = sm.wls(1.0 / (sm.v + sm.rows(tau0)))
            tau2[multi] = np.maximum(0.0, tau0 * rss / (sm.k - 1.0))
        elif method == "PM":
            out = []
            for a, n in zip(sm.starts, sm.sizes):
                out.append(tau2_pm(sm.y[a:a + n], sm.v[a:a + n], intercept_design(int(n)),
                                   threshold=threshold, maxiter=maxiter).tau2)
            tau2[multi] = out
    t_rows = s.rows(np.where(np.isfinite(tau2), tau2, 0.0))
    w = 1.0 / (v + t_rows)
    sw, a_inv, est, resid, rss = s.wls(w)
    test_used = np.where(k == 1, "z", test)
    t_test = test_used != "z"
    scale = np.ones(m)
    if test in ("knha", "adhoc"):
        kh = np.where(rss <= KNHA_ZERO_RSS, 0.0, rss / np.maximum(k - 1, 1))
        if test == "adhoc":
            kh = np.maximum(1.0, kh)
        scale = np.where(t_test, kh, 1.0)
    se = np.sqrt(scale * a_inv)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    alpha = 1.0 - level
    df = np.where(t_test, (k - 1).astype(float), np.nan)
    p_value = 2.0 * stats.norm.sf(np.abs(stat))
    crit = np.full(m, float(stats.norm.isf(alpha / 2)))
    if t_test.any():
        p_value[t_test] = 2.0 * stats.t.sf(np.abs(stat[t_test]), df[t_test])
        crit[t_test] = stats.t.isf(alpha / 2, df[t_test])
    # Heterogeneity with FE weights (analysis.model.heterogeneity); k = 1: 0, 1, 0, 1.
    wf = 1.0 / v
    swf, a_inv_f, _, _, rss_f = s.wls(wf)
    q_df = k - 1
    q = np.where(multi, np.maximum(0.0, rss_f), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q_p = np.where(multi, stats.chi2.sf(q, np.maximum(q_df, 1)), 1.0)
        if method == "FE":
            i2 = np.where(q > 0, np.maximum(0.0, 100.0 * (q - q_df) / q), np.nan)
            h2 = q / q_df
        else:
            vt = q_df / (swf - a_inv_f * s.sum(wf**2))
            i2 = 100.0 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1.0
    i2 = np.where(multi, i2, 0.0)
    h2 = np.where(multi, h2, 1.0)
    if method == "FE":
        pi_low = pi_high = np.full(m, np.nan)
    else:
        half = crit * np.sqrt(se**2 + tau2)
        pi_low, pi_high = est - half, est + half
    weights = 100.0 * w / s.rows(sw)
    fail = ~converged
    if fail.any():
        nan = np.where(fail, np.nan, 1.0)
        est, se, stat, p_value, pi_low, pi_high = (a * nan for a in (est, se, stat, p_value, pi_low, pi_high))
        weights = weights * s.rows(nan)
    return SegmentFit(k=k, tau2=tau2, iterations=iterations, converged=converged, estimate=est, se=se,
                      stat=stat, df=df, p_value=p_value, ci_low=est - crit * se, ci_high=est + crit * se,
                      pi_low=pi_low, pi_high=pi_high, q=q, q_df=q_df, q_p=q_p, i2=i2, h2=h2,
                      test_used=test_used, weights_pct=weights)
