"""Small-study effects: Egger's regression test (metafor's regtest with predictor="sei").

* ``model="rma"`` (metafor's default): the meta-regression y_i = b0 + b1 sei_i + u_i + e_i with
  the model's own tau2 method and test; the test of b1 is z (or t(k - 2) under knha/adhoc).
* ``model="lm"`` (Egger et al. 1997, BMJ 315:629): weighted least squares of y_i on sei_i with
  weights 1/v_i and a free multiplicative residual variance (ordinary `lm`), t with k - 2 df.
  Equivalent to regressing y_i/sei_i on 1/sei_i.

`limit_estimate` is the intercept b0, the expected effect as sei -> 0, with its CI.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.distributions import t_isf, t_sf
from analysis.errors import InputError
from analysis.model import check_data
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.regression import from_design
from analysis.results import EggerResult
from analysis.wls import wls


def egger_test(
    yi: Sequence[float],
    vi: Sequence[float],
    *,
    model: str = "rma",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> EggerResult:
    """Egger's test; needs k >= 3 (k >= 3 leaves one df for tau2 or the residual variance)."""
    check_options(model=model, method=method, test=test, level=level)
    y, v = check_data(yi, vi)
    k = y.size
    if k < 3:
        raise InputError(f"Egger's test needs k >= 3 studies, got k = {k}")
    sei = np.sqrt(v)
    X = np.column_stack([np.ones(k), sei])
    if model == "rma":
        res = from_design(
            y, v, X, ("intrcpt", "sei"), method=method, test=test, level=level, threshold=threshold, maxiter=maxiter
        )
        return EggerResult(
            model=model,
            method=method,
            k=k,
            stat=res.stat[1],
            df=res.df,
            p_value=res.p_value[1],
            slope=res.coef[1],
            limit_estimate=res.coef[0],
            limit_ci_low=res.ci_low[0],
            limit_ci_high=res.ci_high[0],
        )
    fit = wls(y, 1.0 / v, X)
    df = k - 2
    sigma2 = fit.rss / df
    se = np.sqrt(np.diag(fit.a_inv) * sigma2)
    t = fit.beta / se
    crit = float(t_isf((1.0 - level) / 2, df))
    return EggerResult(
        model=model,
        method="lm",
        k=k,
        stat=float(t[1]),
        df=float(df),
        p_value=float(2 * t_sf(abs(t[1]), df)),
        slope=float(fit.beta[1]),
        limit_estimate=float(fit.beta[0]),
        limit_ci_low=float(fit.beta[0] - crit * se[0]),
        limit_ci_high=float(fit.beta[0] + crit * se[0]),
    )
