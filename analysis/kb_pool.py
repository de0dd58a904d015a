"""Pool a knowledge-base selection: the policy (analysis.policy) picks the estimates, then one
meta-analysis per stratum, on the log-HR or logit scale, back-transformed for display."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.effects import ilogit, z_for_level
from analysis.meta import meta_analysis
from analysis.policy import RATIO_STATISTICS, Selection, select_estimates, strata_frames


@dataclass(frozen=True)
class StratumPool:
    """One stratum's pooled result on the display scale (HR, or percent for rates)."""

    stratum: str
    values: dict[str, str]  # stratum column -> value
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

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("stratum", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                                              "p_value", "tau2", "i2", "q", "q_df", "q_p", "note")}
        out.update(self.values)
        out["studies"] = list(self.studies)
        out["weights_pct"] = list(self.weights_pct)
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


def _display(statistic: str):
    if statistic in RATIO_STATISTICS:
        return lambda y: float(np.exp(y))
    return lambda y: float(ilogit(y) * 100.0)


def pool_knowledge_base(table: pd.DataFrame, *, outcome: str, statistic: str, by: tuple[str, ...] = (),
                        timepoint_months: float | None = None, method: str = "REML", test: str = "z",
                        level: float = 0.95, include_secondary: bool = False) -> KBPool:
    selection: Selection = select_estimates(table, outcome=outcome, statistic=statistic, by=by,
                                            timepoint_months=timepoint_months, include_secondary=include_secondary)
    show = _display(statistic)
    pools = []
    caught_messages: list[str] = []
    for name, rows in strata_frames(selection):
        values = {col: rows[col].iat[0] for col in selection.strata}
        labels = tuple(f"{label} ({year})" for label, year in zip(rows["study_label"], rows["publication_year"]))
        if len(rows) == 1:
            r = rows.iloc[0]
            se = math.sqrt(r["vi"])
            z = z_for_level(level)
            pools.append(StratumPool(name, values, 1, show(r["yi"]), show(r["yi"] - z * se), show(r["yi"] + z * se),
                                     None, None, None, None, None, None, None, None, labels, (100.0,), rows,
                                     note="k = 1: the study's own estimate, not pooled"))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = meta_analysis(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), method=method, test=test,
                                level=level, studies=list(labels), tau2_ci=False)  # not shown per stratum
        caught_messages.extend(f"{name}: {w.message}" for w in caught)
        has_pi = res.k >= 3 and method != "FE"
        pools.append(StratumPool(
            name, values, res.k, show(res.estimate), show(res.ci_low), show(res.ci_high),
            show(res.pi_low) if has_pi else None, show(res.pi_high) if has_pi else None,
            res.p_value, res.tau2, res.i2, res.q, res.q_df, res.q_p, labels, tuple(res.weights_pct), rows,
            note="k = 2: tau2 and the CI rest on two studies" if res.k == 2 else "",
        ))
    return KBPool(outcome, statistic, timepoint_months, method, test, level, selection.strata, tuple(pools),
                  selection.excluded, tuple(caught_messages))
