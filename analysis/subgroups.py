"""Subgroup analysis: separate fits per group and two tests of subgroup differences.

1. **Q-between** (metafor's "separate tau2" approach, Borenstein et al. 2009, ch. 19): fit each
   group on its own (its own tau2), then fit an FE model to the group estimates with their
   standard errors; its Q (df = groups - 1) tests whether the group means differ.
2. **Moderator test with a common tau2**: rma(yi, vi, mods = ~group) with dummy coding (first
   group in sorted order as reference); QM (df = groups - 1) tests the group coefficients.

Groups are reported in sorted order (as R's factor levels). A group may hold a single study
(k = 1 behaviour: tau2 = 0, z test; see `analysis.meta`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from analysis.errors import InputError
from analysis.meta import Numbers, meta_analysis
from analysis.model import check_data, fit_rma
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.results import MetaResult, ModeratorTest, QBetween, SubgroupResult
from analysis.wls import intercept_design


def subgroup_analysis(
    yi: Numbers,
    vi: Numbers,
    groups: Sequence[str],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    studies: Sequence[str] | None = None,
    measure: str = "GEN",
    ni: Numbers | None = None,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> SubgroupResult:
    """Overall fit, one fit per group, Q-between and the common-tau2 moderator test."""
    check_options(method=method, test=test, level=level, measure=measure)
    y, v = check_data(yi, vi)
    g = np.asarray([str(x) for x in groups], dtype=object)
    if g.size != y.size:
        raise InputError(f"{g.size} group labels for {y.size} studies", column="group")
    levels = tuple(sorted(set(g)))
    n = None if ni is None else np.asarray(ni, dtype=float)

    def pool(rows: np.ndarray) -> MetaResult:
        return meta_analysis(
            y[rows],
            v[rows],
            studies=None if studies is None else [studies[int(i)] for i in rows],
            ni=None if n is None else n[rows],
            method=method,
            test=test,
            level=level,
            measure=measure,
            threshold=threshold,
            maxiter=maxiter,
        )

    overall = pool(np.arange(y.size))
    fits = [pool(np.flatnonzero(g == level_name)) for level_name in levels]
    est = np.array([f.estimate for f in fits])
    se = np.array([f.se for f in fits])
    X1 = intercept_design(len(levels))
    between = fit_rma(est, se**2, X1, "FE", "z", level)
    q_between = QBetween(q=between.q, df=len(levels) - 1, p=between.q_p)
    return SubgroupResult(
        overall=overall,
        groups=levels,
        subgroups=tuple(fits),
        q_between=q_between,
        moderator_test=moderator_test(
            y, v, g, levels, method=method, test=test, level=level, threshold=threshold, maxiter=maxiter
        ),
    )


def moderator_test(y, v, g, levels, *, method, test, level, threshold=THRESHOLD, maxiter=MAXITER) -> ModeratorTest:
    """rma(yi, vi, mods=~group): QM over the group dummies, with one tau2 for all groups.

    Not defined with a single group or when k leaves no residual df for tau2: all nan.
    """
    k = y.size
    X = np.column_stack([np.ones(k)] + [(g == lv).astype(float) for lv in levels[1:]])
    p = X.shape[1]
    if len(levels) < 2 or k < p + (0 if method == "FE" else 1):
        nan = float("nan")
        return ModeratorTest(qm=nan, qm_df=(nan, nan), qm_p=nan, tau2=nan, q=nan, q_p=nan, i2=nan, h2=nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FE + knha warning already raised for the overall fit
        fit = fit_rma(y, v, X, method, test, level, threshold=threshold, maxiter=maxiter)
    return ModeratorTest(
        qm=fit.qm, qm_df=fit.qm_df, qm_p=fit.qm_p, tau2=fit.tau2, q=fit.q, q_p=fit.q_p, i2=fit.i2, h2=fit.h2
    )
