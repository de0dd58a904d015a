"""Pooling policy: which published figures enter a pooled analysis, stated and visible.

Input is the evidence table (terms/contract.py columns, as strings). Output is the selected rows with
their effect sizes (yi, vi) and every left-out row with its reason. The rules, in order:

0. Curation flags (analysis.flag_rule): figures flagged direction_doubtful, do_not_pool, duplicate_of (the
   preferred figure is used) or post_randomisation_subgroup are left out with the curators' reason, and so
   are those with a flag named in `exclude_flags` (a sensitivity analysis, e.g. mapping_low_confidence).
1. Selection: the requested outcome and statistic (and time point for rates).
2. Evidence tiers (analysis.strata): every tier by default, so each study contributes its best
   available figure (rule 6); `tiers` keeps only some (e.g. the trials' own reports, for the
   sensitivity analysis). `include_secondary=False` keeps the trials' own reports of any kind (tiers
   1-4), the policy before tiers existed. A figure outside the tiers is left out with its tier.
3. Hazard ratios pool the treatment effect: only comparisons of the experimental arm with the
   control arm of a randomised study. Observational HRs compare patients (OPD vs OMD, TKI vs none):
   prognostic associations, left out with that reason (domain guide 6.4).
4. Landmark rates / proportions pool the treated group (experimental or single arm); control arms are
   left out (pooling one arm of an RCT with cohorts discards randomisation, domain guide 5.7).
5. Adjusted vs unadjusted: for randomised comparisons the unadjusted (ITT) estimate is preferred, an
   adjusted one is used only when a study reports no unadjusted one.
6. One estimate per study per stratum: the latest data cut wins (the report the numbers come from; a
   review's is the report it quotes: not superseded, then the latest year), then the best tier, then
   the largest group. A study reporting per-subgroup results (groups with
   their own histology or oligo-state) contributes those, not its whole-cohort estimate.
7. Overlap: a pooled analysis (okb:overlapsWith) is left out when any study it contains is in the same
   analysis, so no patient is counted twice.
8. Strata: design class (randomised / observational / pooled analysis) and, for rates, unit of analysis
   (patient / lesion) and time origin are always strata: never silently mixed.
9. Effect sizes: log HR and SE from the CI at its own level, else from an exact p-value; rates on the
   logit scale with events = rate x n (an approximation for Kaplan-Meier rates: censoring makes the
   effective n smaller) and escalc's 0.5 correction for 0 or n events. Rows without a CI, p or n are
   left out with the reason.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import pandas as pd

from analysis import flag_rule
from analysis.effects import events_from_rate, log_hr_from_ci, log_hr_from_p, plo
from analysis.errors import AnalysisWarning, InputError
from analysis.strata import ALL_TIERS, allowed_tiers, prepare, tier_reason

RATIO_STATISTICS = {"hazard ratio"}
RATE_STATISTICS = {"landmark rate", "cumulative incidence", "proportion"}
ALWAYS_STRATA = ("design_class",)
RATE_STRATA = ("unit_of_analysis", "outcome_time_origin")


@dataclass(frozen=True)
class Selection:
    """The rows that enter the analysis (with yi, vi, stratum) and those left out (with reason)."""

    used: pd.DataFrame
    excluded: pd.DataFrame
    strata: tuple[str, ...]


def _num(text: str) -> float | None:
    try:
        value = float(str(text).replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def select_estimates(table: pd.DataFrame, *, outcome: str, statistic: str, by: tuple[str, ...] = (),
                     timepoint_months: float | None = None, include_secondary: bool | None = None,
                     tiers=None, levels=None, exclude_flags: tuple[str, ...] = ()) -> Selection:
    """Apply the policy above to the evidence table; return used and excluded rows.

    tiers: the evidence tiers kept (analysis.strata.allowed_tiers: 'own', '1,2', names; default all);
    levels: the stratum level of the --by vocabulary columns ({'histology': '2'}; default 1);
    exclude_flags: curation flags left out besides those always left out (analysis.flag_rule)."""
    excluded_flags = flag_rule.excluded_flags(exclude_flags)
    if statistic not in RATIO_STATISTICS | RATE_STATISTICS:
        raise InputError(f"statistic {statistic!r} cannot be pooled; poolable: "
                         f"{', '.join(sorted(RATIO_STATISTICS | RATE_STATISTICS))} (medians are shown, not pooled)",
                         column="statistic")
    for column in by:
        if column not in table.columns:
            raise InputError(f"--by column {column!r} is not an evidence-table column", column="by")
    kept_tiers = allowed_tiers(tiers, include_secondary)
    # Plain Python objects: the row-wise steps below are several times slower on Arrow-backed strings.
    rows = table[(table["outcome"] == outcome) & (table["statistic"] == statistic)]
    rows = prepare(rows, by=by, levels=levels, table=table).astype(object)
    if statistic in RATE_STATISTICS:
        if timepoint_months is None:
            raise InputError(f"a {statistic} pool needs a time point (e.g. --timepoint 24)", column="timepoint")
        rows = rows[rows["timepoint_months"].map(_num) == float(timepoint_months)]
    strata = tuple(dict.fromkeys((*ALWAYS_STRATA, *(RATE_STRATA if statistic in RATE_STATISTICS else ()), *by)))
    excluded: list[dict] = []

    def drop(mask: pd.Series, reason) -> None:
        nonlocal rows
        for row in rows[mask].to_dict("records"):
            excluded.append({**row, "reason": reason(row) if callable(reason) else reason})
        rows = rows[~mask]

    if "flags" in rows.columns:  # rule 0 (an evidence table from before the flags has none)
        drop(rows["flags"].map(lambda f: flag_rule.is_excluded(f, excluded_flags)).astype(bool),
             lambda r: flag_rule.reason(r, excluded_flags))
    if kept_tiers != ALL_TIERS:
        drop(~rows["evidence_tier_id"].isin(kept_tiers), lambda r: tier_reason(r, kept_tiers))
    if statistic in RATIO_STATISTICS:
        not_treatment = ~((rows["design_class"] == "randomised") & (rows["group_arm_role"] == "experimental")
                          & (rows["reference_arm_role"] == "control"))
        drop(not_treatment, lambda r: f"not a randomised treatment comparison ({r['comparison'] or r['group']}): a prognostic association, not the effect of MDT")
        has_unadjusted = rows.groupby("study_id")["adjusted"].transform(lambda s: (s == "false").any())
        drop((rows["adjusted"] == "true") & has_unadjusted, "adjusted estimate: the unadjusted (ITT) estimate of this study is used")
    else:
        drop(~rows["group_arm_role"].isin(["experimental", "single"]), lambda r: f"group '{r['group']}' is not a treated arm (a control arm or a non-arm reference)")
        drop(rows["oligo_state"].isin(["not oligometastatic", "oligo-status not assessed"]), lambda r: f"oligo-state '{r['oligo_state']}': not an oligometastatic population")

    # Effect sizes; rows that cannot give one are left out with the reason.
    yi, vi, route = [], [], []
    keep = []
    for row in rows.to_dict("records"):
        es = _effect_size(row, statistic)
        if isinstance(es, str):
            excluded.append({**row, "reason": es})
            keep.append(False)
            continue
        keep.append(True)
        yi.append(es[0]); vi.append(es[1]); route.append(es[2])
    rows = rows[keep].copy()
    rows["yi"], rows["vi"], rows["derivation_route"] = yi, vi, route

    rows = _one_per_study(rows, strata, excluded)
    rows = _drop_overlaps(rows, excluded)
    rows["stratum"] = rows[list(strata)].astype(str).agg(" | ".join, axis=1) if len(rows) else []
    excluded_frame = pd.DataFrame(excluded)
    return Selection(used=rows.reset_index(drop=True), excluded=excluded_frame, strata=strata)


def _effect_size(row: dict, statistic: str) -> tuple[float, float, str] | str:
    value = _num(row["value"])
    if value is None:
        return f"value {row['value']!r} is not a number"
    if statistic in RATIO_STATISTICS:
        low, high, level = _num(row["ci_low"]), _num(row["ci_high"]), _num(row["ci_level"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AnalysisWarning)  # reported by `oligokb pool` separately
            try:
                if low is not None and high is not None and level is not None:
                    es = log_hr_from_ci(value, low, high, level)
                    return es.log_hr, es.vi, f"SE from {level:.0%} CI"
                p = _num(row["p_value"])
                if p is not None:
                    es = log_hr_from_p(value, p)
                    return es.log_hr, es.vi, "SE from exact p-value"
            except InputError as exc:
                return f"cannot derive an SE: {exc}"
        return "no CI and no exact p-value: no standard error can be derived"
    n = _num(row["n"])
    if n is None:
        return "no n for this group: a rate cannot be weighted"
    if row["unit"] not in ("percent", ""):
        return f"unit {row['unit']!r} is not percent"
    events = float(events_from_rate(value, n))
    y, v, corrected = plo([events], [n])
    route = "logit, events = rate x n" + (" (+0.5 correction)" if bool(corrected[0]) else "")
    return float(y[0]), float(v[0]), route


def _one_per_study(rows: pd.DataFrame, strata: tuple[str, ...], excluded: list[dict]) -> pd.DataFrame:
    if rows.empty:
        return rows
    rows = rows.copy()
    rows["_year"] = rows["data_cut_year"].map(lambda y: _num(y) or 0)
    superseded = {old for sup in rows["supersedes"] for old in str(sup).split(";") if old}
    rows["_superseded"] = rows["data_cut"].isin(superseded)
    rows["_tier"] = rows["tier_rank"].map(lambda r: _num(r) or 99)
    rows["_n"] = rows["n"].map(lambda n: _num(n) or 0)
    rows = rows.sort_values(["_superseded", "_year", "_tier", "_n", "statistic_id"], ascending=[True, False, True, False, True])
    # A study contributes one partition of its patients: subgroups by a column that is not a stratum
    # are left out, and with both histology and oligo-state subgroups the oligo-state ones are used.
    partition = "oligo_state" if "oligo_state" in strata else ("histology" if "histology" in strata else None)
    wrong = (rows["group_is_subgroup"] == "true") & (rows["group_subgroup_by"] != (partition or "-"))
    for row in rows[wrong].to_dict("records"):
        excluded.append({**row, "reason": (f"a subgroup by {row['group_subgroup_by'].replace(';', ' and ')}: "
                         + (f"this study contributes its {partition.replace('_', '-')} subgroups" if partition else "not a stratum of this analysis"))})
    rows = rows[~wrong]
    key = ["study_id", *strata]
    first = ~rows.duplicated(key, keep="first")
    winners = {tuple(r[k] for k in key): r for r in rows[first][[*key, "publication_id", "group"]].to_dict("records")}
    for row in rows[~first].to_dict("records"):
        win = winners[tuple(row[k] for k in key)]
        excluded.append({**row, "reason": f"one estimate per study and stratum: {win['publication_id']} / '{win['group']}' is used (latest data cut, best tier, largest group)"})
    rows = rows[first]
    # A study whose subgroups fall in strata of their own contributes those, not also its whole
    # cohort, so no patient counts twice in the overall result.
    with_subgroups = set(rows.loc[rows["group_is_subgroup"] == "true", "study_id"])
    whole = rows["study_id"].isin(with_subgroups) & (rows["group_is_subgroup"] != "true")
    for row in rows[whole].to_dict("records"):
        excluded.append({**row, "reason": "the study's subgroup estimates are used in their own strata: its whole-cohort estimate is left out so no patient counts twice"})
    rows = rows[~whole]
    return rows.drop(columns=["_year", "_superseded", "_tier", "_n"])


def _drop_overlaps(rows: pd.DataFrame, excluded: list[dict]) -> pd.DataFrame:
    if rows.empty:
        return rows
    present = set(rows["study_id"])
    mask = rows["overlaps_with"].map(lambda o: bool({s for s in str(o).split(";") if s} & present))
    for row in rows[mask].to_dict("records"):
        excluded.append({**row, "reason": f"overlaps with {row['overlaps_with']} (same patients), which are in this analysis"})
    return rows[~mask]


def strata_frames(selection: Selection) -> list[tuple[str, pd.DataFrame]]:
    """(stratum label, rows) in a stable order."""
    if selection.used.empty:
        return []
    return [(name, part.reset_index(drop=True)) for name, part in selection.used.groupby("stratum", sort=True)]
