"""Weighted least squares pieces shared by the tau2 estimators and the model fit.

Vocabulary: `yi` outcomes (k,), `vi` sampling variances (k,), `wi` weights (k,), `X` design
matrix (k, p) with an intercept column, `tau2` between-study variance. With W = diag(wi) and
A = X'WX, the projection used throughout metafor is

    P = W - W X A^-1 X' W,

so that P y = W (y - X b) with b = A^-1 X'W y. Nothing here forms a k x k matrix: every trace
is reduced to p x p algebra, so the cost grows linearly in k (metafor's is O(k^3)).

The estimators and the heterogeneity/test rules are written once, against `Studies`: the data
of one or more models with the WLS algebra they need. `OneModel` is one fit with any design
matrix (meta-analysis, meta-regression); `Segments` is many intercept-only fits whose rows lie
one segment after the other (every stratum of a sweep at once). Per-model quantities are arrays
with one entry per model (length 1 for `OneModel`); per-row quantities have one entry per study.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np


@dataclass(frozen=True)
class WLSFit:
    beta: np.ndarray  # (p,)
    a_inv: np.ndarray  # (p, p) = (X'WX)^-1, the unscaled covariance of beta
    resid: np.ndarray  # (k,) y - X beta
    rss: float  # sum wi * resid^2 = y'Py


def intercept_design(k: int) -> np.ndarray:
    """The (k, 1) design matrix of an intercept-only model."""
    return np.ones((k, 1))


def wls(yi: np.ndarray, wi: np.ndarray, X: np.ndarray) -> WLSFit:
    """Weighted least squares of `yi` on `X` with weights `wi`."""
    xw = X * wi[:, None]
    a_inv = np.linalg.inv(X.T @ xw)
    beta = a_inv @ (xw.T @ yi)
    resid = yi - X @ beta
    return WLSFit(beta=beta, a_inv=a_inv, resid=resid, rss=float(np.sum(wi * resid**2)))


def trace_p(wi: np.ndarray, X: np.ndarray, a_inv: np.ndarray) -> float:
    """tr(P) = sum wi - tr(A^-1 X'W^2X)."""
    return float(np.sum(wi) - np.trace(a_inv @ (X.T @ (X * (wi**2)[:, None]))))


def trace_pp(wi: np.ndarray, X: np.ndarray, a_inv: np.ndarray) -> float:
    """tr(PP) = sum wi^2 - 2 tr(A^-1 X'W^3X) + tr(B B), B = A^-1 X'W^2X."""
    b = a_inv @ (X.T @ (X * (wi**2)[:, None]))
    c = a_inv @ (X.T @ (X * (wi**3)[:, None]))
    return float(np.sum(wi**2) - 2.0 * np.trace(c) + np.trace(b @ b))


def trace_pv_ols(vi: np.ndarray, X: np.ndarray) -> float:
    """tr(PV) for the OLS projection P = I - X(X'X)^-1X': sum vi - tr((X'X)^-1 X'VX)."""
    xtx_inv = np.linalg.inv(X.T @ X)
    return float(np.sum(vi) - np.trace(xtx_inv @ (X.T @ (X * vi[:, None]))))


def q_generalised(tau2: float, yi: np.ndarray, vi: np.ndarray, X: np.ndarray) -> float:
    """Generalised Q statistic Q(tau2) = sum w_i (y_i - x_i b)^2 with w_i = 1/(v_i + tau2).

    Q(0) is Cochran's Q; Q(tau2) decreases in tau2 (Paule & Mandel 1982; Viechtbauer 2007).
    """
    return wls(yi, 1.0 / (vi + tau2), X).rss


# --- one or many models behind one interface ----------------------------------------------------


class WeightedFit(NamedTuple):
    """A WLS fit of every model of a `Studies` with weights `wi` (per row). A named tuple, as it
    is built once per Fisher-scoring step."""

    wi: np.ndarray  # per row
    sum_w: np.ndarray  # per model: sum wi
    beta: np.ndarray  # OneModel: (p,) coefficients; Segments: per segment, the intercept
    a_inv: np.ndarray  # OneModel: (p, p) (X'WX)^-1; Segments: per segment, 1 / sum wi
    resid: np.ndarray  # per row: y - X beta
    rss: np.ndarray  # per model: y'Py = sum wi resid^2


class Studies(Protocol):
    """The data of one or more models and the WLS algebra the estimators and tests need."""

    yi: np.ndarray
    vi: np.ndarray
    k: np.ndarray  # per model, as floats
    p: int

    @property
    def n_models(self) -> int: ...
    def sum(self, per_row: np.ndarray) -> np.ndarray: ...
    def rows(self, per_model: np.ndarray) -> np.ndarray: ...
    def subset(self, keep: np.ndarray) -> Studies: ...
    def fit(self, wi: np.ndarray) -> WeightedFit: ...
    def trace_p(self, fit: WeightedFit) -> np.ndarray: ...
    def traces(self, fit: WeightedFit) -> tuple[np.ndarray, np.ndarray]: ...
    def trace_pv_ols(self) -> np.ndarray: ...
    def log_det_xwx(self, fit: WeightedFit) -> np.ndarray: ...
    def models(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]: ...


class OneModel:
    """One model with design matrix X; every per-model array has length 1.

    The algebra is `wls`, `trace_p`, `trace_pp` and `trace_pv_ols` above, so a single fit gives
    exactly the numbers of those functions.
    """

    def __init__(self, yi: np.ndarray, vi: np.ndarray, X: np.ndarray):
        self.yi, self.vi, self.X = yi, vi, X
        k, self.p = X.shape
        self.k = np.array([float(k)])

    @property
    def n_models(self) -> int:
        return 1

    def sum(self, per_row: np.ndarray) -> np.ndarray:
        return per_row.sum(keepdims=True)

    def rows(self, per_model: np.ndarray) -> np.ndarray:
        return per_model  # length 1: broadcasts over the rows

    def subset(self, keep: np.ndarray) -> OneModel:
        if not keep.all():
            raise ValueError("a single model cannot be split")
        return self

    def fit(self, wi: np.ndarray) -> WeightedFit:
        # `wls`, with the per-model sums as length-1 arrays.
        xw = self.X * wi[:, None]
        a_inv = np.linalg.inv(self.X.T @ xw)
        beta = a_inv @ (xw.T @ self.yi)
        resid = self.yi - self.X @ beta
        return WeightedFit(wi=wi, sum_w=self.sum(wi), beta=beta, a_inv=a_inv, resid=resid, rss=self.sum(wi * resid**2))

    def trace_p(self, fit: WeightedFit) -> np.ndarray:
        return np.array([trace_p(fit.wi, self.X, fit.a_inv)])

    def traces(self, fit: WeightedFit) -> tuple[np.ndarray, np.ndarray]:
        return self.trace_p(fit), np.array([trace_pp(fit.wi, self.X, fit.a_inv)])

    def trace_pv_ols(self) -> np.ndarray:
        return np.array([trace_pv_ols(self.vi, self.X)])

    def log_det_xwx(self, fit: WeightedFit) -> np.ndarray:
        return np.array([np.linalg.slogdet(self.X.T @ (self.X * fit.wi[:, None]))[1]])

    def models(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        yield self.yi, self.vi, self.X


class Segments:
    """Many intercept-only models: rows `yi`, `vi` hold segment after segment of `sizes` rows.

    Per-segment sums are np.add.reduceat over the rows, so every model is fitted in one pass of
    array operations. Intercept-only algebra, w = weights, sw = sum w:
    beta = sum w y / sw, tr P = sw - sum w^2 / sw, tr PP = sum w^2 - 2 sum w^3 / sw
    + (sum w^2 / sw)^2, tr P_ols V = sum v - sum v / k, log det X'WX = log sw.
    """

    p = 1

    def __init__(self, yi: np.ndarray, vi: np.ndarray, sizes: np.ndarray):
        self.yi, self.vi, self.sizes = yi, vi, sizes
        self.starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        self.k = sizes.astype(float)

    @property
    def n_models(self) -> int:
        return int(self.sizes.size)

    def sum(self, per_row: np.ndarray) -> np.ndarray:
        return np.add.reduceat(per_row, self.starts)

    def rows(self, per_model: np.ndarray) -> np.ndarray:
        return np.repeat(per_model, self.sizes)

    def subset(self, keep: np.ndarray) -> Segments:
        rows = np.repeat(keep, self.sizes)
        return Segments(self.yi[rows], self.vi[rows], self.sizes[keep])

    def fit(self, wi: np.ndarray) -> WeightedFit:
        sum_w = self.sum(wi)
        a_inv = 1.0 / sum_w
        beta = a_inv * self.sum(wi * self.yi)
        resid = self.yi - self.rows(beta)
        return WeightedFit(wi=wi, sum_w=sum_w, beta=beta, a_inv=a_inv, resid=resid, rss=self.sum(wi * resid**2))

    def trace_p(self, fit: WeightedFit) -> np.ndarray:
        return fit.sum_w - fit.a_inv * self.sum(fit.wi**2)

    def traces(self, fit: WeightedFit) -> tuple[np.ndarray, np.ndarray]:
        sum_w2 = self.sum(fit.wi**2)
        b = fit.a_inv * sum_w2
        trace_pp = sum_w2 - 2.0 * (fit.a_inv * self.sum(fit.wi**3)) + b * b
        return fit.sum_w - b, trace_pp

    def trace_pv_ols(self) -> np.ndarray:
        sum_v = self.sum(self.vi)
        return sum_v - (1.0 / self.k) * sum_v

    def log_det_xwx(self, fit: WeightedFit) -> np.ndarray:
        return np.log(fit.sum_w)

    def models(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for start, size in zip(self.starts, self.sizes, strict=True):
            yield self.yi[start : start + size], self.vi[start : start + size], intercept_design(int(size))
