"""Many intercept-only meta-analyses at once (e.g. a sweep over 1,000 subgroups or every stratum).

`fit_segments(yi, vi, sizes)` fits ragged segments of rows, each one meta-analysis, by any
registered tau2 estimator; `reml_batch(yi, vi)` is its (k, m) rectangular REML form. The rules
are those of the one-model path, applied to every segment at once: the estimators of
`analysis.tau2` (each segment with its own stopping rule, so it stops exactly where a
one-at-a-time fit would: PyMARE's vectorised fit uses a joint rule and differs by up to 2e-7),
and `analysis.model`'s heterogeneity, Knapp-Hartung scale, Wald tests and prediction interval.
The algebra over segments is `analysis.wls.Segments`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from analysis.errors import ConvergenceError, InputError
from analysis.model import heterogeneity, knapp_hartung_scale, prediction_bounds, wald_tests
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.tau2 import estimate_many
from analysis.wls import Segments


@dataclass(frozen=True)
class BatchResult:
    """Per-column REML results (Wald z test)."""

    tau2: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    iterations: np.ndarray


def reml_batch(
    yi: ArrayLike, vi: ArrayLike, *, level: float = 0.95, threshold: float = THRESHOLD, maxiter: int = MAXITER
) -> BatchResult:
    """REML fits of every column of (k, m) arrays `yi`, `vi` (k >= 2, vi > 0).

    Raises ConvergenceError if any column's Fisher scoring does not converge in maxiter iterations.
    """
    check_options(level=level, threshold=threshold, maxiter=maxiter)
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim == 1:
        y, v = y[:, None], v[:, None]
    if y.shape != v.shape or y.ndim != 2 or y.shape[0] < 2:
        raise InputError(f"yi and vi must be (k, m) arrays of equal shape with k >= 2, got {y.shape} and {v.shape}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise InputError("yi must be finite and vi finite and > 0 in every column")
    k, m = y.shape
    # Column j becomes segment j: the rows of each column one after the other.
    fit = fit_segments(
        y.T.ravel(),
        v.T.ravel(),
        np.full(m, k),
        method="REML",
        test="z",
        level=level,
        threshold=threshold,
        maxiter=maxiter,
    )
    if not fit.converged.all():
        raise ConvergenceError(
            f"Fisher scoring did not converge for {int((~fit.converged).sum())} "
            f"of {m} columns in maxiter={maxiter} iterations"
        )
    return BatchResult(
        tau2=fit.tau2,
        estimate=fit.estimate,
        se=fit.se,
        ci_low=fit.ci_low,
        ci_high=fit.ci_high,
        iterations=fit.iterations,
    )


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
    df: np.ndarray  # t degrees of freedom (nan under z)
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray  # nan for FE
    pi_high: np.ndarray
    q: np.ndarray
    q_df: np.ndarray
    q_p: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    test_used: np.ndarray  # "z" where k = 1 replaced knha/adhoc
    weights_pct: np.ndarray  # per row, in the input order


def _checked_segments(yi: ArrayLike, vi: ArrayLike, sizes: ArrayLike) -> Segments:
    """Checked input: finite yi, finite vi > 0, sizes >= 1 covering every row."""
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    k = np.asarray(sizes, dtype=np.int64).ravel()
    if y.shape != v.shape or k.sum() != y.size or (k < 1).any():
        raise InputError(
            f"{y.size} yi, {v.size} vi and segment sizes summing to {int(k.sum())} (each >= 1) do not match"
        )
    bad = np.flatnonzero(~np.isfinite(y) | ~np.isfinite(v) | ~(v > 0))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"yi must be finite and vi finite and > 0, got yi={y[i]!r}, vi={v[i]!r}", row=i, column="vi")
    return Segments(y, v, k)


def fit_segments(
    yi: ArrayLike,
    vi: ArrayLike,
    sizes: ArrayLike,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> SegmentFit:
    """`meta_analysis` (without the tau2 CI) of every segment of ragged strata at once.

    Rows `yi`, `vi` (length n) hold the segments one after the other; `sizes` (length m, each >= 1,
    summing to n) are their k. Each segment gets exactly what `analysis.meta.meta_analysis` gives
    it: the same estimator (`analysis.tau2.estimate_many`) and the same heterogeneity, test and
    prediction-interval rules (`analysis.model`); k = 1: tau2 = 0, Q = 0, and knha/adhoc -> z.

    A segment whose Fisher scoring does not converge in maxiter iterations has converged = False
    and NaN results: `meta_analysis` raises ConvergenceError there (callers decide; see
    `analysis.kb_pool.pool_all`).
    """
    check_options(method=method, test=test, level=level, threshold=threshold, maxiter=maxiter)
    segments = _checked_segments(yi, vi, sizes)
    k = segments.sizes
    estimates = estimate_many(segments, method, threshold=threshold, maxiter=maxiter)
    converged = estimates.converged
    tau2 = np.where(converged, estimates.tau2, np.nan)
    fit = segments.fit(1.0 / (segments.vi + segments.rows(np.where(converged, tau2, 0.0))))
    # metafor replaces knha/adhoc by z when k = 1.
    test_used = np.where(k == 1, "z", test)
    df = np.where(test_used == "z", np.nan, (k - 1).astype(float))
    se = np.sqrt(knapp_hartung_scale(fit.rss, k - 1, test_used) * fit.a_inv)
    tests = wald_tests(fit.beta, se, df, level)
    pi_low, pi_high = prediction_bounds(fit.beta, se, tau2, tests.crit, method)
    het = heterogeneity(segments, method, tau2)
    weights = 100.0 * fit.wi / segments.rows(fit.sum_w)
    # A segment without a tau2 has no results: NaN, as its weights.
    nan_if_failed = np.where(converged, 1.0, np.nan)
    return SegmentFit(
        k=k,
        tau2=tau2,
        iterations=estimates.iterations,
        converged=converged,
        estimate=fit.beta * nan_if_failed,
        se=se * nan_if_failed,
        stat=tests.stat * nan_if_failed,
        df=df,
        p_value=tests.p_value * nan_if_failed,
        ci_low=tests.ci_low * nan_if_failed,
        ci_high=tests.ci_high * nan_if_failed,
        pi_low=pi_low * nan_if_failed,
        pi_high=pi_high * nan_if_failed,
        q=het.q,
        q_df=k - 1,
        q_p=het.q_p,
        i2=het.i2,
        h2=het.h2,
        test_used=test_used,
        weights_pct=weights * segments.rows(nan_if_failed),
    )
