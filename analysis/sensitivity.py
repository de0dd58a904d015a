"""Leave-one-out sensitivity analysis (metafor's leave1out for rma.uni).

Row i refits the model without study i with the same method, test, level and control. With
k = 2 each refit is a k = 1 fit (tau2 = 0, z test), as in metafor.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from analysis.meta import meta_analysis
from analysis.model import check_data
from analysis.options import MAXITER, THRESHOLD, check_options
from analysis.results import LeaveOneOutResult


def leave_one_out(
    yi: Sequence[float],
    vi: Sequence[float],
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    studies: Sequence[str] | None = None,
    threshold: float = THRESHOLD,
    maxiter: int = MAXITER,
) -> LeaveOneOutResult:
    """Refit without each study in turn; needs k >= 2."""
    check_options(method=method, test=test, level=level)
    y, v = check_data(yi, vi)
    k = y.size
    labels = tuple(studies) if studies is not None else tuple(str(i) for i in range(k))
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metafor's leave1out also suppresses per-fit warnings
        for i in range(k):
            keep = np.arange(k) != i
            rows.append(
                meta_analysis(
                    y[keep], v[keep], method=method, test=test, level=level, threshold=threshold, maxiter=maxiter
                )
            )
    col = lambda name: tuple(float(getattr(r, name)) for r in rows)  # noqa: E731
    return LeaveOneOutResult(
        omitted=labels,
        estimate=col("estimate"),
        se=col("se"),
        stat=col("stat"),
        p_value=col("p_value"),
        ci_low=col("ci_low"),
        ci_high=col("ci_high"),
        q=col("q"),
        q_p=col("q_p"),
        tau2=col("tau2"),
        i2=col("i2"),
        h2=col("h2"),
    )
