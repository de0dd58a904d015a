"""Frozen result objects of the analysis engine, each with `to_dict()` and `to_frame()`.

`to_dict()` is JSON-ready: numpy scalars become Python floats, NaN and inf become None
(not-applicable, e.g. no prediction interval for FE, no tau2 CI for k = 1), tuples become lists.
Names follow metafor's vocabulary (`estimate`, `se`, `ci_low`, `tau2`, `i2`, `q`, `k`).
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd


def _clean(value):
    """Make a value JSON-ready: NaN/inf -> None, numpy -> Python, tuples -> lists."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_clean(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class _Result:
    """Mixin: `to_dict()` over the dataclass fields; `to_frame()` of the scalar fields."""

    # Declared so that type checkers know every subclass is a dataclass (each one is).
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def to_dict(self) -> dict:
        return {f.name: _clean(getattr(self, f.name)) for f in fields(self)}

    def to_frame(self) -> pd.DataFrame:
        row = {k: v for k, v in self.to_dict().items() if not isinstance(v, (list, dict))}
        return pd.DataFrame([row])


@dataclass(frozen=True)
class BackTransformed(_Result):
    """Pooled estimate, CI and PI back on the proportion scale (PLO: inverse logit; PFT:
    metafor's transf.ipft.hm with the harmonic mean of n, clamped to [0, 1])."""

    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float


@dataclass(frozen=True)
class MetaResult(_Result):
    """One (intercept-only) meta-analysis, as metafor's rma.uni + predict + confint + weights."""

    k: int
    method: str
    test: str  # as requested
    test_used: str  # what was applied (metafor switches to "z" when k = 1)
    level: float
    measure: str
    estimate: float
    se: float
    stat: float  # z or t statistic
    df: float  # t degrees of freedom (nan for z)
    p_value: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    i2: float  # percent
    h2: float
    q: float
    q_df: int
    q_p: float
    weights_pct: tuple[float, ...]
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    studies: tuple[str, ...] | None = None
    backtransformed: BackTransformed | None = None
    iterations: int = 0

    def study_frame(self) -> pd.DataFrame:
        """One row per study: label, yi, vi, weight in percent."""
        return pd.DataFrame(
            {
                "study": list(self.studies) if self.studies else range(self.k),
                "yi": self.yi,
                "vi": self.vi,
                "weight_pct": self.weights_pct,
            }
        )


@dataclass(frozen=True)
class MetaRegressionResult(_Result):
    """Mixed-effects meta-regression (rma.uni with `mods`); coefficient 0 is the intercept."""

    k: int
    method: str
    test_used: str
    level: float
    names: tuple[str, ...]
    coef: tuple[float, ...]
    se: tuple[float, ...]
    stat: tuple[float, ...]
    p_value: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    df: float
    qm: float  # omnibus test of the non-intercept coefficients (chi2, or F under knha)
    qm_df: tuple[float, float]
    qm_p: float
    tau2: float  # residual heterogeneity
    q: float  # QE, residual heterogeneity test
    q_df: int
    q_p: float
    i2: float
    h2: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "term": self.names,
                "coef": self.coef,
                "se": self.se,
                "stat": self.stat,
                "p_value": self.p_value,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )


@dataclass(frozen=True)
class LeaveOneOutResult(_Result):
    """metafor's leave1out(): row i is the fit without study i."""

    omitted: tuple[str, ...]
    estimate: tuple[float, ...]
    se: tuple[float, ...]
    stat: tuple[float, ...]
    p_value: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    q: tuple[float, ...]
    q_p: tuple[float, ...]
    tau2: tuple[float, ...]
    i2: tuple[float, ...]
    h2: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_dict())


@dataclass(frozen=True)
class EggerResult(_Result):
    """Egger's regression test for funnel-plot asymmetry (metafor's regtest with predictor sei).

    `stat`/`p_value` test the slope on sei; `limit_estimate` is the intercept (the estimate as
    sei -> 0) with its CI.
    """

    model: str
    method: str
    k: int
    stat: float
    df: float
    p_value: float
    slope: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float


@dataclass(frozen=True)
class QBetween(_Result):
    q: float
    df: int
    p: float


@dataclass(frozen=True)
class ModeratorTest(_Result):
    """Subgroup difference as a moderator with a common tau2 (rma(yi, vi, mods=~group))."""

    qm: float
    qm_df: tuple[float, float]
    qm_p: float
    tau2: float
    q: float
    q_p: float
    i2: float
    h2: float


@dataclass(frozen=True)
class SubgroupResult(_Result):
    """Separate fits per group plus two tests of subgroup differences."""

    overall: MetaResult
    groups: tuple[str, ...]
    subgroups: tuple[MetaResult, ...]
    q_between: QBetween
    moderator_test: ModeratorTest

    def to_frame(self) -> pd.DataFrame:
        frames = [self.overall.to_frame().assign(group="overall")]
        frames += [r.to_frame().assign(group=g) for g, r in zip(self.groups, self.subgroups, strict=True)]
        return pd.concat(frames, ignore_index=True)
