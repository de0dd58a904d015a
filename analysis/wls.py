"""Weighted least squares pieces shared by the tau2 estimators and the model fit.

Vocabulary: `yi` outcomes (k,), `vi` sampling variances (k,), `wi` weights (k,), `X` design
matrix (k, p) with an intercept column, `tau2` between-study variance. With W = diag(wi) and
A = X'WX, the projection used throughout metafor is

    P = W - W X A^-1 X' W,

so that P y = W (y - X b) with b = A^-1 X'W y. Nothing here forms a k x k matrix: every trace
is reduced to p x p algebra, which keeps k = 10,000 cheap (metafor is O(k^3)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WLSFit:
    beta: np.ndarray   # (p,)
    a_inv: np.ndarray  # (p, p) = (X'WX)^-1, the unscaled covariance of beta
    resid: np.ndarray  # (k,) y - X beta
    rss: float         # sum wi * resid^2 = y'Py


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
