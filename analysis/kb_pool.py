"""Pool a knowledge-base selection: the policy (analysis.policy) picks the estimates, then one
meta-analysis per stratum, on the log-HR or logit scale, back-transformed for display."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.distributions import logistic_cdf
from analysis.effects import ilogit, z_for_level
from analysis.meta import meta_analysis
from analysis.policy import RATIO_STATISTICS, Selection, select_estimates, strata_frames

if TYPE_CHECKING:
    from analysis.policy_batch import BatchSelection


#: Per-input columns of a pool's JSON (`StratumPool.inputs`), besides yi, vi, sei and the weight.
INPUT_COLUMNS = (
    "statistic_id",
    "study_id",
    "study_label",
    "study_years",
    "publication_id",
    "evidence_tier",
    "tier_rank",
    "read_in_url",
    "read_in_site",
    "read_in_date",
    "value",
    "ci_low",
    "ci_high",
    "ci_level",
    "p_value",
    "derivation_route",
    "histology_term",
    "oligo_state_term",
)


#: Columns of the per-input table (`KBPool.inputs_frame`, `oligokb pool kb --inputs`): the analysis and
#: stratum, the chosen figure and where it was read, what entered the model (yi, sei, vi on the model
#: scale), its weight in the stratum and how its SE was obtained.
INPUT_TABLE_COLUMNS = (
    "outcome",
    "statistic",
    "timepoint_months",
    "stratum",
    "statistic_id",
    "study_id",
    "study_label",
    "publication_id",
    "evidence_tier",
    "tier_rank",
    "value",
    "ci_low",
    "ci_high",
    "ci_level",
    "p_value",
    "yi",
    "sei",
    "vi",
    "weight_pct",
    "derivation_route",
)


@dataclass(frozen=True)
class StratumPool:
    """One stratum's pooled result on the display scale (HR, or percent for rates)."""

    stratum: str
    values: dict[str, Any]  # stratum column -> its value in the evidence table
    k: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pi_low: float | None
    pi_high: float | None
    p_value: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    q_df: int | None
    q_p: float | None
    studies: tuple[str, ...]
    weights_pct: tuple[float, ...]
    rows: pd.DataFrame = field(repr=False, compare=False)
    note: str = ""

    @property
    def tier_ranks(self) -> tuple[str, ...]:
        """Each input's evidence tier rank (1 the trial's own full report ... 6 a coverage page)."""
        column = self.rows["tier_rank"] if "tier_rank" in self.rows else [""] * len(self.rows)
        return tuple(str(x) for x in column)

    def inputs(self) -> list[dict]:
        """Per input, in the pool's order: which figure, where it was read, and what entered the model."""
        out = []
        for r, weight in zip(self.rows.to_dict("records"), self.weights_pct, strict=True):
            out.append(
                {c: r.get(c, "") for c in INPUT_COLUMNS}
                | {
                    "yi": float(r["yi"]),
                    "vi": float(r["vi"]),
                    "sei": math.sqrt(float(r["vi"])),
                    "weight_pct": float(weight),
                }
            )
        return out

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("stratum", *POOL_COLUMNS)}
        out.update(self.values)
        out["studies"] = list(self.studies)
        out["weights_pct"] = list(self.weights_pct)
        out["inputs"] = self.inputs()
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


@dataclass(frozen=True)
class KBPool:
    outcome: str
    statistic: str
    timepoint_months: float | None
    method: str
    test: str
    level: float
    strata: tuple[str, ...]
    pools: tuple[StratumPool, ...]
    excluded: pd.DataFrame
    warnings: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([p.to_dict() for p in self.pools])

    def inputs_frame(self) -> pd.DataFrame:
        """One row per input of every stratum (INPUT_TABLE_COLUMNS), in each stratum's pool order."""
        analysis = {"outcome": self.outcome, "statistic": self.statistic, "timepoint_months": self.timepoint_months}
        rows = [analysis | {"stratum": p.stratum} | i for p in self.pools for i in p.inputs()]
        return pd.DataFrame(rows, columns=list(INPUT_TABLE_COLUMNS))


def _study_labels(rows: pd.DataFrame) -> tuple[str, ...]:
    """'<study> (<years of its own reports>)', never a review's year; a seed document that prints no year
    has no year to show."""
    years = rows["study_years"] if "study_years" in rows else rows["publication_year"]
    return tuple(
        f"{label} ({year})" if year else str(label) for label, year in zip(rows["study_label"], years, strict=True)
    )


def display_scale(statistic: str):
    """Model scale -> display scale: the hazard ratio, or the rate in percent."""
    if statistic in RATIO_STATISTICS:
        return lambda y: float(np.exp(y))
    return lambda y: float(ilogit(y) * 100.0)


def pool_knowledge_base(
    table: pd.DataFrame,
    *,
    outcome: str,
    statistic: str,
    by: tuple[str, ...] = (),
    timepoint_months: float | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    include_secondary: bool | None = None,
    tiers=None,
    levels=None,
    exclude_flags: tuple[str, ...] = (),
) -> KBPool:
    selection: Selection = select_estimates(
        table,
        outcome=outcome,
        statistic=statistic,
        by=by,
        timepoint_months=timepoint_months,
        include_secondary=include_secondary,
        tiers=tiers,
        levels=levels,
        exclude_flags=exclude_flags,
    )
    show = display_scale(statistic)
    pools = []
    caught_messages: list[str] = []
    for name, rows in strata_frames(selection):
        values = {col: rows[col].iat[0] for col in selection.strata}
        labels = _study_labels(rows)
        if len(rows) == 1:
            r = rows.iloc[0]
            se = math.sqrt(r["vi"])
            z = z_for_level(level)
            pools.append(
                StratumPool(
                    name,
                    values,
                    1,
                    show(r["yi"]),
                    show(r["yi"] - z * se),
                    show(r["yi"] + z * se),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    labels,
                    (100.0,),
                    rows,
                    note="k = 1: the study's own estimate, not pooled",
                )
            )
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = meta_analysis(
                rows["yi"].to_numpy(float).tolist(),
                rows["vi"].to_numpy(float).tolist(),
                method=method,
                test=test,
                level=level,
                studies=list(labels),
                tau2_ci=False,
            )  # not shown per stratum
        caught_messages.extend(f"{name}: {w.message}" for w in caught)
        has_pi = res.k >= 3 and method != "FE"
        pools.append(
            StratumPool(
                name,
                values,
                res.k,
                show(res.estimate),
                show(res.ci_low),
                show(res.ci_high),
                show(res.pi_low) if has_pi else None,
                show(res.pi_high) if has_pi else None,
                res.p_value,
                res.tau2,
                res.i2,
                res.q,
                res.q_df,
                res.q_p,
                labels,
                tuple(res.weights_pct),
                rows,
                note="k = 2: tau2 and the CI rest on two studies" if res.k == 2 else "",
            )
        )
    return KBPool(
        outcome,
        statistic,
        timepoint_months,
        method,
        test,
        level,
        selection.strata,
        tuple(pools),
        selection.excluded,
        tuple(caught_messages),
    )


# --- every analysis at once ----------------------------------------------------------------------------

#: Display-scale columns of `AllPools.strata` (as StratumPool; NaN where StratumPool has None).
POOL_COLUMNS = (
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "p_value",
    "tau2",
    "i2",
    "q",
    "q_df",
    "q_p",
    "note",
)


@dataclass(frozen=True)
class AllPools:
    """Every stratum of every analysis pooled at once (`pool_all`).

    `strata`: one row per (analysis, stratum) with outcome, statistic, timepoint_months, stratum, the
    strata columns' values and the StratumPool numbers on the display scale (HR, or percent for rates;
    NaN where a StratumPool has None), plus `mu`, `se` (model scale) and `start` (first row in
    `selection.pos` order). `weights_pct`: per used row, in `selection.pos` order.
    `kb_pool(outcome, statistic, timepoint)` gives exactly what `pool_knowledge_base` gives.
    """

    selection: BatchSelection
    method: str
    test: str
    level: float
    strata: pd.DataFrame
    weights_pct: np.ndarray
    warnings: tuple[tuple[int, str], ...] = ()  # (analysis index, message)

    def kb_pool(self, outcome: str, statistic: str, timepoint_months: float | None = None) -> KBPool:
        sel = self.selection
        c = sel.combo_index(outcome, statistic, timepoint_months)
        selection = sel.selection(outcome, statistic, timepoint_months)
        idx = sel.used_rows(c)  # used rows in the policy's order
        used = selection.used
        st = self.strata
        pools = []
        for name, rows in strata_frames(selection):
            j = st.index[(st["combo"] == c) & (st["stratum"] == name)][0]
            r = st.loc[j]
            mine = np.flatnonzero(used["stratum"].to_numpy(object) == name)
            labels = _study_labels(rows)
            values = {col: rows[col].iat[0] for col in selection.strata}
            opt = lambda x: None if isinstance(x, float) and math.isnan(x) else x  # noqa: E731
            q_df = None if math.isnan(r["q_df"]) else int(r["q_df"])
            pools.append(
                StratumPool(
                    name,
                    values,
                    int(r["k"]),
                    opt(float(r["estimate"])),  # NaN: a stratum whose tau2 did not converge (its note says so)
                    opt(float(r["ci_low"])),
                    opt(float(r["ci_high"])),
                    opt(float(r["pi_low"])),
                    opt(float(r["pi_high"])),
                    opt(float(r["p_value"])),
                    opt(float(r["tau2"])),
                    opt(float(r["i2"])),
                    opt(float(r["q"])),
                    q_df,
                    opt(float(r["q_p"])),
                    labels,
                    tuple(float(w) for w in self.weights_pct[idx[mine]]),
                    rows,
                    note=r["note"],
                )
            )
        return KBPool(
            outcome,
            statistic,
            sel.combos[c][2],
            self.method,
            self.test,
            self.level,
            selection.strata,
            tuple(pools),
            selection.excluded,
            tuple(m for i, m in self.warnings if i == c),
        )

    def kb_pools(self) -> list[KBPool]:
        return [self.kb_pool(*combo) for combo in self.selection.combos]


def pool_all(
    table: pd.DataFrame,
    *,
    combos=None,
    by: tuple[str, ...] = (),
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    include_secondary: bool | None = None,
    tiers=None,
    levels=None,
    threshold: float | None = None,
    maxiter: int | None = None,
    exclude_flags: tuple[str, ...] = (),
) -> AllPools:
    """`pool_knowledge_base` for every analysis at once: the policy on whole columns
    (`analysis.policy_batch.select_all`), then one batched fit of every stratum (`analysis.batch.fit_segments`).

    combos: (outcome, statistic, time point or None) tuples; default every poolable analysis of the table
    (`analysis.policy_batch.poolable_combos`). The numbers equal pool_knowledge_base's / meta_analysis's
    (tests/analysis/test_pool_all.py). A stratum whose tau2 iteration does not converge is not pooled: its
    numbers are NaN, its note and a warning name the analysis and stratum, and every other stratum is pooled
    (the one-at-a-time fit raises ConvergenceError for its analysis instead).
    """
    from analysis.batch import fit_segments
    from analysis.options import MAXITER, THRESHOLD, check_options
    from analysis.policy_batch import select_all

    threshold = THRESHOLD if threshold is None else threshold
    maxiter = MAXITER if maxiter is None else maxiter
    check_options(method=method, test=test, level=level, threshold=threshold, maxiter=maxiter)
    sel = select_all(
        table,
        combos=combos,
        by=by,
        include_secondary=include_secondary,
        tiers=tiers,
        levels=levels,
        exclude_flags=exclude_flags,
    )
    st = sel.stratum_table.copy()
    k = st["k"].to_numpy()
    fit = fit_segments(sel.yi, sel.vi, k, method=method, test=test, level=level, threshold=threshold, maxiter=maxiter)
    multi = k >= 2
    failed = multi & ~fit.converged  # reported per stratum (note, warning), not for the whole batch
    ratio = np.array([sel.combos[c][1] in RATIO_STATISTICS for c in st["combo"].to_numpy()], dtype=bool)

    def show(y: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.where(ratio, np.exp(y), logistic_cdf(y) * 100.0)

    # k = 1: the study's own estimate with a z CI (pool_knowledge_base does not fit these)
    first = st["start"].to_numpy()
    y1, v1 = sel.yi[first], sel.vi[first]
    z = z_for_level(level)
    se1 = np.sqrt(v1)
    nan = np.full(len(st), np.nan)
    est = np.where(multi, fit.estimate, y1)
    lo = np.where(multi, fit.ci_low, y1 - z * se1)
    hi = np.where(multi, fit.ci_high, y1 + z * se1)
    has_pi = (k >= 3) & (method != "FE")
    st["estimate"], st["ci_low"], st["ci_high"] = show(est), show(lo), show(hi)
    st["pi_low"] = np.where(has_pi, show(fit.pi_low), nan)
    st["pi_high"] = np.where(has_pi, show(fit.pi_high), nan)
    for col in ("p_value", "tau2", "i2", "q", "q_p"):
        st[col] = np.where(multi, getattr(fit, col), nan)
    st["q_df"] = np.where(multi, fit.q_df, nan)
    not_converged = (
        f"not pooled: Fisher scoring for tau2 did not converge in maxiter={maxiter} iterations "
        "(metafor's rma() stops the same way); another tau2 estimator (--method DL or PM) may pool it"
    )
    st["note"] = np.where(
        failed,
        not_converged,
        np.where(
            k == 1,
            "k = 1: the study's own estimate, not pooled",
            np.where(k == 2, "k = 2: tau2 and the CI rest on two studies", ""),
        ),
    )
    st["mu"], st["se"] = est, np.where(multi, fit.se, se1)
    weights = np.where(np.repeat(multi, k), fit.weights_pct, 100.0)
    warns: list[tuple[int, str]] = []
    if method == "FE" and test in ("knha", "adhoc"):
        text = (
            "the Knapp-Hartung method is not meant to be used with FE models (metafor warns the same); "
            "consider a random-effects method"
        )
        warns = [(int(c), f"{name}: {text}") for c, name in zip(st["combo"][multi], st["stratum"][multi], strict=True)]
    combo_of, stratum_of = st["combo"].to_numpy(), st["stratum"].to_numpy(object)
    for j in np.flatnonzero(failed):
        o, s_, t = sel.combos[int(combo_of[j])]
        where = f"{o} / {s_}" + (f" at {t:g} months" if t is not None else "") + f", stratum {stratum_of[j]}"
        warns.append((int(combo_of[j]), f"{where}: {not_converged}"))
    return AllPools(sel, method, test, level, st, weights, tuple(warns))
