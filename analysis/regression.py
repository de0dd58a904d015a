"""Meta-regression on study-level moderators (metafor's rma.uni with `mods`).

`meta_regression(yi, vi, moderators, ...)` fits y_i = b0 + b1 x_i1 + ... + e_i + u_i with
u_i ~ N(0, tau2) (residual heterogeneity) by any registered tau2 method. QM is the omnibus Wald
test of the moderators (chi2 with m df; under knha/adhoc an F(m, k - p) statistic, QM/m, as
metafor). Residual Q (QE), I2 and H2 use the model's P matrix (metafor's definitions).
Needs k >= p + 1 for random-effects methods (k >= p for FE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis.errors import InputError
from analysis.model import check_data, fit_rma
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.results import MetaRegressionResult


def design_matrix(
    moderators: Mapping[str, Sequence[float]] | Sequence[float], k: int, name: str = "x"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """An intercept plus one column per moderator; a plain sequence is one moderator `name`."""
    if not isinstance(moderators, Mapping):
        moderators = {name: moderators}
    cols, names = [np.ones(k)], ["intrcpt"]
    for mod_name, values in moderators.items():
        col = np.asarray(values, dtype=float).ravel()
        if col.size != k:
            raise InputError(f"moderator has {col.size} values for {k} studies", column=mod_name)
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            raise InputError(f"{col[bad[0]]!r} is not a finite number", row=int(bad[0]), column=mod_name)
        cols.append(col)
        names.append(mod_name)
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(
            "moderators are constant or collinear: the model matrix is not of full rank", column=", ".join(names[1:])
        )
    return X, tuple(names)


def meta_regression(
    yi: Sequence[float],
    vi: Sequence[float],
    moderators: Mapping[str, Sequence[float]] | Sequence[float],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> MetaRegressionResult:
    """Mixed-effects meta-regression of `yi` (variances `vi`) on `moderators`."""
    check_options(method=method, test=test, level=level, threshold=threshold, maxiter=maxiter)
    y, v = check_data(yi, vi)
    X, names = design_matrix(moderators, y.size)
    return from_design(y, v, X, names, method=method, test=test, level=level, threshold=threshold, maxiter=maxiter)


def from_design(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    names: tuple[str, ...],
    *,
    method: str,
    test: str,
    level: float,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> MetaRegressionResult:
    """Fit with a ready design matrix (used by subgroup moderator tests and Egger's test)."""
    fit = fit_rma(y, v, X, method, test, level, threshold=threshold, maxiter=maxiter)
    tup = lambda a: tuple(float(x) for x in a)  # noqa: E731
    return MetaRegressionResult(
        k=fit.k,
        method=method,
        test_used=fit.test_used,
        level=level,
        names=names,
        coef=tup(fit.beta),
        se=tup(fit.se),
        stat=tup(fit.stat),
        p_value=tup(fit.p_value),
        ci_low=tup(fit.ci_low),
        ci_high=tup(fit.ci_high),
        df=fit.df,
        qm=fit.qm,
        qm_df=fit.qm_df,
        qm_p=fit.qm_p,
        tau2=fit.tau2,
        q=fit.q,
        q_df=fit.k - fit.p,
        q_p=fit.q_p,
        i2=fit.i2,
        h2=fit.h2,
    )
