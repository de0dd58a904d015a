"""The analyses a review reports beside the pool: leave-one-out, cumulative meta-analysis by publication
year, Egger's test for small-study effects, and the pool of the trials at low risk of bias.

Pure functions: the array functions take yi, vi (model scale: log HR, logit rate) and labels and reproduce
metafor 3.8-1 (`leave1out()`, `cumul()` on data sorted by year then study, `regtest()`;
tests/reference/review_fixtures.R); the `pool_*` functions take a `KBPool` (what `oligokb pool kb` pools)
and return DataFrames on the display scale (HR, or percent for rates), one block of rows per stratum, so
the CLI and the explorer show the same numbers. No I/O here; plots are in `analysis.review_plots`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.bias import egger_test
from analysis.kb_pool import KBPool, StratumPool, display_scale
from analysis.meta import meta_analysis
from analysis.results import EggerResult
from analysis.sensitivity import leave_one_out

#: Egger's test only from 10 studies on: with fewer the test cannot tell chance from asymmetry (Sterne et
#: al. 2011, BMJ 343:d4002; Cochrane Handbook 13.3.5.4).
EGGER_MIN_K = 10

#: Columns of `cumulative` / `pool_cumulative` (the latter adds `stratum` in front).
CUMULATIVE_COLUMNS = (
    "step",
    "study",
    "study_id",
    "year",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "tau2",
    "i2",
)
#: Columns of `leave_one_out_table` / `pool_leave_one_out` (the latter adds `stratum` in front).
LEAVE_ONE_OUT_COLUMNS = ("omitted", "study_id", "k", "estimate", "ci_low", "ci_high", "p_value", "tau2", "i2")
#: Columns of `RobSensitivity.pools`.
ROB_POOL_COLUMNS = ("stratum", "analysis", "k", "estimate", "ci_low", "ci_high", "p_value", "tau2", "i2", "note")
#: Columns of `RobSensitivity.dropped`.
ROB_DROPPED_COLUMNS = ("stratum", "study_id", "study", "judgement", "reason")

ALL_TRIALS = "all trials"
LOW_RISK_ONLY = "low risk of bias only"
NO_LOW_RISK = "no trial judged at low risk of bias"
ROB2 = "RoB 2"  #: kb.rob's `tool` value of the Cochrane RoB 2 tool

Show = Callable[[float], float]


def _identity(y: float) -> float:
    return float(y)


def _years(values: Sequence) -> np.ndarray:
    """Publication years as floats (NaN where the source prints none)."""
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)


def cumulative_order(years: Sequence, studies: Sequence[str]) -> np.ndarray:
    """Indices in the order the evidence arrived: publication year, then study label; no year last."""
    y = _years(years)
    return np.array(
        sorted(range(len(y)), key=lambda i: (math.isnan(y[i]), 0.0 if math.isnan(y[i]) else y[i], str(studies[i]))),
        dtype=int,
    )


# --- arrays ---------------------------------------------------------------------------------------------


def leave_one_out_table(
    yi: Sequence[float],
    vi: Sequence[float],
    studies: Sequence[str],
    *,
    study_ids: Sequence[str] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    show: Show = _identity,
) -> pd.DataFrame:
    """Row i: the pool without study i (metafor's leave1out), estimate and CI through `show`; tau2 on the
    model scale, I2 in percent. Needs k >= 2."""
    res = leave_one_out(yi, vi, method=method, test=test, level=level, studies=list(studies))
    k = len(res.omitted)
    return pd.DataFrame(
        {
            "omitted": list(res.omitted),
            "study_id": list(study_ids) if study_ids is not None else list(res.omitted),
            "k": [k - 1] * k,
            "estimate": [show(x) for x in res.estimate],
            "ci_low": [show(x) for x in res.ci_low],
            "ci_high": [show(x) for x in res.ci_high],
            "p_value": list(res.p_value),
            "tau2": list(res.tau2),
            "i2": list(res.i2),
        },
        columns=list(LEAVE_ONE_OUT_COLUMNS),
    )


def cumulative(
    yi: Sequence[float],
    vi: Sequence[float],
    studies: Sequence[str],
    years: Sequence,
    *,
    study_ids: Sequence[str] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    show: Show = _identity,
) -> pd.DataFrame:
    """Cumulative meta-analysis (metafor's cumul): the studies in `cumulative_order`, row i the pool of
    the first i of them. The first row is that study alone (tau2 = 0)."""
    order = cumulative_order(years, studies)
    y = np.asarray(yi, dtype=float)[order]
    v = np.asarray(vi, dtype=float)[order]
    yr = _years(years)[order]
    ids = list(study_ids) if study_ids is not None else list(studies)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metafor's cumul also silences the per-step fits (k = 1, 2)
        for i in range(1, y.size + 1):
            res = meta_analysis(y[:i], v[:i], method=method, test=test, level=level, tau2_ci=False)
            j = int(order[i - 1])
            rows.append(
                {
                    "step": i,
                    "study": str(studies[j]),
                    "study_id": str(ids[j]),
                    "year": None if math.isnan(yr[i - 1]) else int(yr[i - 1]),
                    "k": res.k,
                    "estimate": show(res.estimate),
                    "ci_low": show(res.ci_low),
                    "ci_high": show(res.ci_high),
                    "p_value": res.p_value,
                    "tau2": res.tau2,
                    "i2": res.i2,
                }
            )
    return pd.DataFrame(rows, columns=list(CUMULATIVE_COLUMNS))


@dataclass(frozen=True)
class SmallStudyTest:
    """Egger's test of one stratum, or why it was not run (`egger` None, `reason` says why)."""

    stratum: str
    k: int
    egger: EggerResult | None
    reason: str = ""

    @property
    def assessable(self) -> bool:
        return self.egger is not None

    def verdict(self) -> str:
        """One line for a user: the test's result, or why there is none."""
        if self.egger is None:
            return self.reason
        e = self.egger
        dist = "z" if math.isnan(e.df) else f"t({e.df:g})"
        return f"Egger's test ({e.model}, k = {e.k}): {dist} = {e.stat:.2f}, p = {e.p_value:.3f}"

    def to_dict(self) -> dict:
        out: dict = {"stratum": self.stratum, "k": self.k, "assessable": self.assessable, "reason": self.reason}
        out["egger"] = None if self.egger is None else self.egger.to_dict()
        out["verdict"] = self.verdict()
        return out


def small_study_test(
    yi: Sequence[float],
    vi: Sequence[float],
    *,
    stratum: str = "",
    model: str = "rma",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    min_k: int = EGGER_MIN_K,
) -> SmallStudyTest:
    """Egger's regression test (analysis.bias.egger_test, metafor's regtest with predictor "sei"; model
    "rma" is regtest's default, with the pool's own tau2 method and test) when k >= `min_k`."""
    k = len(yi)
    if k < min_k:
        return SmallStudyTest(stratum, k, None, f"not assessable: k = {k} < {min_k}")
    return SmallStudyTest(stratum, k, egger_test(yi, vi, model=model, method=method, test=test, level=level))


# --- a knowledge-base pool -------------------------------------------------------------------------------


def _inputs(pool: StratumPool) -> tuple[list[float], list[float], list[str], list[str]]:
    rows = pool.rows
    return (
        rows["yi"].to_numpy(float).tolist(),
        rows["vi"].to_numpy(float).tolist(),
        [str(x) for x in rows["study_label"]],
        [str(x) for x in rows["study_id"]],
    )


def _frame(blocks: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    if not blocks:
        return pd.DataFrame(columns=["stratum", *columns])
    return pd.concat(blocks, ignore_index=True)


def pool_leave_one_out(result: KBPool) -> pd.DataFrame:
    """`leave_one_out_table` of each stratum with k >= 2 (a `stratum` column first), on the display scale."""
    show = display_scale(result.statistic)
    blocks = []
    for pool in result.pools:
        if pool.k < 2:
            continue
        yi, vi, labels, ids = _inputs(pool)
        t = leave_one_out_table(
            yi, vi, labels, study_ids=ids, method=result.method, test=result.test, level=result.level, show=show
        )
        blocks.append(t.assign(stratum=pool.stratum)[["stratum", *LEAVE_ONE_OUT_COLUMNS]])
    return _frame(blocks, LEAVE_ONE_OUT_COLUMNS)


def pool_cumulative(result: KBPool) -> pd.DataFrame:
    """`cumulative` of each stratum (a `stratum` column first), by the year of the report whose figure is
    pooled (`publication_year`), on the display scale."""
    show = display_scale(result.statistic)
    blocks = []
    for pool in result.pools:
        yi, vi, labels, ids = _inputs(pool)
        t = cumulative(
            yi,
            vi,
            labels,
            list(pool.rows["publication_year"]),
            study_ids=ids,
            method=result.method,
            test=result.test,
            level=result.level,
            show=show,
        )
        blocks.append(t.assign(stratum=pool.stratum)[["stratum", *CUMULATIVE_COLUMNS]])
    return _frame(blocks, CUMULATIVE_COLUMNS)


def pool_small_study_tests(result: KBPool, *, model: str = "rma", min_k: int = EGGER_MIN_K) -> list[SmallStudyTest]:
    """`small_study_test` of each stratum, with the pool's method, test and level."""
    out = []
    for pool in result.pools:
        yi, vi, _, _ = _inputs(pool)
        out.append(
            small_study_test(
                yi,
                vi,
                stratum=pool.stratum,
                model=model,
                method=result.method,
                test=result.test,
                level=result.level,
                min_k=min_k,
            )
        )
    return out


def small_study_frame(tests: Sequence[SmallStudyTest]) -> pd.DataFrame:
    """One row per stratum: k, assessable, the test's numbers (NaN when not run) and the verdict."""
    cols = ("stat", "df", "p_value", "slope", "limit_estimate", "limit_ci_low", "limit_ci_high")
    rows = []
    for t in tests:
        row = {"stratum": t.stratum, "k": t.k, "assessable": t.assessable, "model": t.egger.model if t.egger else ""}
        row |= {c: (float(getattr(t.egger, c)) if t.egger else math.nan) for c in cols}
        row["verdict"] = t.verdict()
        rows.append(row)
    return pd.DataFrame(rows, columns=["stratum", "k", "assessable", "model", *cols, "verdict"])


@dataclass(frozen=True)
class FunnelData:
    """What a funnel plot of one stratum draws (metafor's funnel.rma): each study's yi against its SE, and
    the pseudo-confidence region estimate +/- z * se around the pooled estimate (model scale)."""

    stratum: str
    studies: tuple[str, ...]
    yi: np.ndarray
    sei: np.ndarray
    estimate: float
    z: float
    test: SmallStudyTest

    def limits(self, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pseudo-CI bounds at standard errors `se`."""
        return self.estimate - self.z * se, self.estimate + self.z * se


def pool_funnels(result: KBPool, *, model: str = "rma", min_k: int = EGGER_MIN_K) -> list[FunnelData]:
    """A `FunnelData` per stratum with k >= 2; the reference line is the pool's own estimate (its method)."""
    from analysis.effects import z_for_level

    tests = {t.stratum: t for t in pool_small_study_tests(result, model=model, min_k=min_k)}
    out = []
    for pool in result.pools:
        if pool.k < 2:
            continue
        yi, vi, labels, _ = _inputs(pool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the pool's own warnings are printed by `pool`
            res = meta_analysis(yi, vi, method=result.method, test=result.test, level=result.level, tau2_ci=False)
        out.append(
            FunnelData(
                pool.stratum,
                tuple(labels),
                np.asarray(yi, float),
                np.sqrt(np.asarray(vi, float)),
                res.estimate,
                z_for_level(result.level),
                tests[pool.stratum],
            )
        )
    return out


# --- risk of bias ---------------------------------------------------------------------------------------


def overall_judgements(rob: pd.DataFrame, outcome: str) -> dict[str, str]:
    """study_id -> the RoB 2 overall judgement for `outcome` (rob_table's rows for the outcome, else those
    for every outcome, outcome ""). Other tools' judgements (ROBINS-I) are not on RoB 2's scale: left aside."""
    if rob.empty:
        return {}
    overall = rob[(rob["domain"] == "overall") & (rob["tool"] == ROB2)]
    out: dict[str, str] = {}
    for row in overall[overall["outcome"] == ""].itertuples():
        out[str(row.study_id)] = str(row.judgement)
    for row in overall[overall["outcome"] == outcome].itertuples():
        out[str(row.study_id)] = str(row.judgement)  # an outcome's own judgement wins
    return out


def _reason(judgement: str) -> str:
    if judgement == "not_assessed":
        return "no RoB 2 judgement for this outcome (not assessed, or not a randomised trial)"
    return "overall risk of bias: " + judgement.replace("_", " ")


def _pooled(stratum: str, analysis: str, yi: list[float], vi: list[float], result: KBPool, show: Show) -> dict:
    k = len(yi)
    row: dict = {"stratum": stratum, "analysis": analysis, "k": k}
    row |= dict.fromkeys(("estimate", "ci_low", "ci_high", "p_value", "tau2", "i2"), math.nan)
    if k == 0:
        return row | {"note": NO_LOW_RISK}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pool's own warnings are printed by `pool`
        res = meta_analysis(yi, vi, method=result.method, test=result.test, level=result.level, tau2_ci=False)
    row |= {"estimate": show(res.estimate), "ci_low": show(res.ci_low), "ci_high": show(res.ci_high)}
    if k >= 2:  # as `pool`: one study is its own estimate, not a pool
        row |= {"p_value": res.p_value, "tau2": res.tau2, "i2": res.i2}
    return row | {"note": "k = 1: the study's own estimate, not pooled" if k == 1 else ""}


@dataclass(frozen=True)
class RobSensitivity:
    """The pool beside the pool of the trials judged at low risk of bias (RoB 2 overall, for the outcome)."""

    outcome: str
    pools: pd.DataFrame  # ROB_POOL_COLUMNS: per stratum, ALL_TRIALS then LOW_RISK_ONLY
    dropped: pd.DataFrame  # ROB_DROPPED_COLUMNS: each input left out of the low-risk pool and why

    def to_dict(self) -> dict:
        clean = lambda f: [  # noqa: E731
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in f.to_dict("records")
        ]
        return {"outcome": self.outcome, "pools": clean(self.pools), "dropped": clean(self.dropped)}


def rob_sensitivity(result: KBPool, rob: pd.DataFrame) -> RobSensitivity:
    """Each stratum pooled from every input and from the inputs whose study is judged "low" overall for the
    pool's outcome in `rob` (kb.rob.rob_table's columns); a study with no judgement is "not assessed" and
    left out. With no low-risk study the low-risk row says NO_LOW_RISK."""
    show = display_scale(result.statistic)
    judged = overall_judgements(rob, result.outcome)
    pools, dropped = [], []
    for pool in result.pools:
        yi, vi, labels, ids = _inputs(pool)
        low = [i for i, s in enumerate(ids) if judged.get(s, "not_assessed") == "low"]
        for i, s in enumerate(ids):
            if i not in low:
                j = judged.get(s, "not_assessed")
                dropped.append(
                    {"stratum": pool.stratum, "study_id": s, "study": labels[i], "judgement": j, "reason": _reason(j)}
                )
        full = {c: getattr(pool, c) for c in ("k", "estimate", "ci_low", "ci_high", "p_value", "tau2", "i2", "note")}
        pools.append(
            {"stratum": pool.stratum, "analysis": ALL_TRIALS}
            | {c: math.nan if v is None else v for c, v in full.items()}
        )
        pools.append(_pooled(pool.stratum, LOW_RISK_ONLY, [yi[i] for i in low], [vi[i] for i in low], result, show))
    return RobSensitivity(
        result.outcome,
        pd.DataFrame(pools, columns=list(ROB_POOL_COLUMNS)),
        pd.DataFrame(dropped, columns=list(ROB_DROPPED_COLUMNS)),
    )
