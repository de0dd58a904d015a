"""Pooling: `meta_analysis` (yi + vi or sei) and `meta_analysis_proportions` (xi + ni).

Both reproduce metafor 3.8-1: rma.uni(yi, vi, method, test, level) for the estimate, se, CI and
p; predict() for the prediction interval; confint() (Q-profile) for the tau2 CI; weights() in
percent; and, for proportions, escalc() for yi/vi and predict(transf=...) for the
back-transformation.

k = 1: estimate/se/CI are the study's own, tau2 = 0, Q = 0 (p = 1), I2 = 0, H2 = 1, no tau2 CI,
the PI equals the CI for random-effects methods (tau2 = 0), and test knha/adhoc becomes z with a
`SmallKWarning`. k = 2: everything is computed; knha/adhoc use t with 1 df (t_0.975 = 12.71), so
expect very wide intervals. See docs/analysis.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis import effects
from analysis.errors import InputError
from analysis.model import ModelFit, check_data, fit_rma, prediction_interval
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.results import BackTransformed, MetaResult
from analysis.tau2 import q_profile_ci
from analysis.wls import intercept_design

#: Numeric input: a sequence of numbers or a numpy array.
Numbers = Sequence[float] | np.ndarray


def _variances(yi, vi, sei) -> tuple[np.ndarray, np.ndarray]:
    if (vi is None) == (sei is None):
        raise InputError(
            "give exactly one of vi (sampling variances) or sei (standard errors)", column="vi" if vi is None else "sei"
        )
    if sei is not None:
        y, s = check_data(yi, sei, names=("yi", "sei"))
        return y, s**2
    return check_data(yi, vi)


def meta_analysis(
    yi: Numbers,
    vi: Numbers | None = None,
    *,
    sei: Numbers | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    studies: Sequence[str] | None = None,
    measure: str = "GEN",
    ni: Numbers | None = None,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
    tau2_ci: bool = True,
) -> MetaResult:
    """Random- (or fixed-) effects meta-analysis of outcomes `yi` with variances `vi` (or `sei`).

    method: FE, DL, REML, PM, ML, HE, SJ, EB (see `analysis.tau2`). test: "z" (Wald),
    "knha" (Knapp-Hartung, t(k-1), not floored), "adhoc" (Knapp-Hartung floored at 1).
    level: CI/PI level as a fraction. measure: "GEN" (no back-transformation), "PLO" or "PFT"
    (back-transform the pooled values; PFT needs `ni`). tau2_ci=False skips the Q-profile CI of
    tau2 (NaN in the result), a root search per bound, for callers that do not show it.
    """
    check_options(method=method, test=test, level=level, measure=measure, threshold=threshold, maxiter=maxiter)
    y, v = _variances(yi, vi, sei)
    if studies is not None and len(studies) != y.size:
        raise InputError(f"{len(studies)} study labels for {y.size} studies", column="study")
    X = intercept_design(y.size)
    fit = fit_rma(y, v, X, method, test, level, threshold=threshold, maxiter=maxiter)
    pi_low, pi_high = prediction_interval(fit)
    if method == "FE" or not tau2_ci:
        tau2_bounds = (np.nan, np.nan)
    else:
        tau2_bounds = q_profile_ci(y, v, X, fit.tau2, level, maxiter=maxiter)
    result = _to_result(fit, method, test, level, measure, y, v, pi_low, pi_high, tau2_bounds, studies)
    if measure == "GEN":
        return result
    return _with_backtransform(result, measure, ni)


def _to_result(fit: ModelFit, method, test, level, measure, y, v, pi_low, pi_high, tau2_ci, studies) -> MetaResult:
    weights = 100.0 * fit.wi / fit.wi.sum()
    return MetaResult(
        k=fit.k,
        method=method,
        test=test,
        test_used=fit.test_used,
        level=level,
        measure=measure,
        estimate=float(fit.beta[0]),
        se=float(fit.se[0]),
        stat=float(fit.stat[0]),
        df=fit.df,
        p_value=float(fit.p_value[0]),
        ci_low=float(fit.ci_low[0]),
        ci_high=float(fit.ci_high[0]),
        pi_low=pi_low,
        pi_high=pi_high,
        tau2=fit.tau2,
        tau2_ci_low=float(tau2_ci[0]),
        tau2_ci_high=float(tau2_ci[1]),
        i2=fit.i2,
        h2=fit.h2,
        q=fit.q,
        q_df=fit.k - fit.p,
        q_p=fit.q_p,
        weights_pct=tuple(float(w) for w in weights),
        yi=tuple(map(float, y)),
        vi=tuple(map(float, v)),
        studies=tuple(studies) if studies is not None else None,
        iterations=fit.iterations,
    )


def backtransform(result: MetaResult, measure: str, ni: Numbers | None = None) -> BackTransformed:
    """Pooled estimate, CI and PI on the proportion scale.

    PLO: inverse logit. PFT: metafor's transf.ipft.hm, the inverse double arcsine at the
    harmonic mean of `ni`, clamped to [0, 1] (so a PI can become [0, 1]). Bounds are sorted.
    """
    if measure == "PLO":
        f = effects.ilogit
    elif measure == "PFT":
        if ni is None:
            raise InputError("PFT back-transformation needs the sample sizes", column="ni")
        n = np.asarray(ni, dtype=float)
        f = lambda y: effects.ipft_hm(y, n)  # noqa: E731
    else:
        check_options(measure=measure)
        raise InputError(f"measure {measure!r} has no back-transformation", column="measure")
    vals = [
        float(f(x)) if np.isfinite(x) else np.nan
        for x in (result.estimate, result.ci_low, result.ci_high, result.pi_low, result.pi_high)
    ]
    ci = sorted(vals[1:3])
    pi = vals[3:5] if np.isnan(vals[3]) else sorted(vals[3:5])
    return BackTransformed(estimate=vals[0], ci_low=ci[0], ci_high=ci[1], pi_low=pi[0], pi_high=pi[1])


def _with_backtransform(result: MetaResult, measure: str, ni) -> MetaResult:
    from dataclasses import replace

    return replace(result, backtransformed=backtransform(result, measure, ni))


def escalc_proportions(xi, ni, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """yi, vi for proportions as metafor's escalc (PLO with the 0.5 correction only at 0 or n)."""
    check_options(measure=measure)
    if measure == "PLO":
        y, v, _ = effects.plo(xi, ni)
        return y, v
    if measure == "PFT":
        return effects.pft(xi, ni)
    raise InputError("measure GEN takes yi and vi, not events and sample sizes", column="measure")


def meta_analysis_proportions(
    xi: Numbers,
    ni: Numbers,
    *,
    measure: str = "PLO",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    studies: Sequence[str] | None = None,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> MetaResult:
    """Pool single-group proportions xi/ni on the PLO or PFT scale and back-transform."""
    y, v = escalc_proportions(xi, ni, measure)
    return meta_analysis(
        y,
        v,
        method=method,
        test=test,
        level=level,
        studies=studies,
        measure=measure,
        ni=np.asarray(ni, dtype=float),
        threshold=threshold,
        maxiter=maxiter,
    )
