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

from collections.abc import Iterable, Mapping

import pandas as pd

from analysis import flag_rule
from analysis.policy_batch import Selection, select_all
from analysis.policy_rules import (
    ALWAYS_STRATA,
    RATE_STATISTICS,
    RATE_STRATA,
    RATIO_STATISTICS,
    check_by,
    check_statistic,
    check_timepoint,
)
from analysis.strata import allowed_tiers, parse_levels

__all__ = [
    "ALWAYS_STRATA",
    "RATE_STATISTICS",
    "RATE_STRATA",
    "RATIO_STATISTICS",
    "Selection",
    "select_estimates",
    "strata_frames",
]


def select_estimates(
    table: pd.DataFrame,
    *,
    outcome: str,
    statistic: str,
    by: tuple[str, ...] = (),
    timepoint_months: float | None = None,
    include_secondary: bool | None = None,
    tiers: Iterable[str] | str | None = None,
    levels: str | Mapping[str, str] | None = None,
    exclude_flags: tuple[str, ...] = (),
) -> Selection:
    """Apply the policy above to the evidence table for one analysis; return used and excluded rows.

    tiers: the evidence tiers kept (analysis.strata.allowed_tiers: 'own', '1,2', names; default all);
    levels: the stratum level of the --by vocabulary columns ({'histology': '2'}; default 1);
    exclude_flags: curation flags left out besides those always left out (analysis.flag_rule).
    The selection is analysis.policy_batch.select_all's, restricted to this analysis."""
    # The input errors in the order this function has always checked them (the first found is raised),
    # and --by against the table as given (select_all also accepts the columns it adds); then select_all.
    flag_rule.excluded_flags(exclude_flags)
    check_statistic(statistic)
    check_by(table.columns, by)
    allowed_tiers(tiers, include_secondary)
    if levels is not None:
        parse_levels(levels)
    check_timepoint(statistic, timepoint_months)
    batch = select_all(
        table,
        combos=[(outcome, statistic, timepoint_months)],
        by=by,
        include_secondary=include_secondary,
        tiers=tiers,
        levels=levels,
        exclude_flags=exclude_flags,
    )
    return batch.selection(outcome, statistic, timepoint_months)


def strata_frames(selection: Selection) -> list[tuple[str, pd.DataFrame]]:
    """(stratum label, rows) in a stable order."""
    if selection.used.empty:
        return []
    return [(str(name), part.reset_index(drop=True)) for name, part in selection.used.groupby("stratum", sort=True)]
