"""The pooling policy's rules as one table: for each reason a row can be left out of an analysis, its
kind code (also the order in which left-out rows are listed), a name, and how its reason is written.
analysis.policy_batch applies the rules; the rules themselves are described in analysis.policy.

Also here: which statistics can be pooled, the strata every analysis keeps, and the input errors.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis import flag_rule
from analysis.errors import InputError
from analysis.strata import tier_reason

# One analysis: (outcome, statistic, time point in months; None for hazard ratios).
Combo = tuple[str, str, "float | None"]
RATIO_STATISTICS = {"hazard ratio"}
RATE_STATISTICS = {"landmark rate", "cumulative incidence", "proportion"}
ALWAYS_STRATA = ("design_class",)
RATE_STRATA = ("unit_of_analysis", "outcome_time_origin")
TREATED_ARMS = ("experimental", "single")
NOT_OLIGOMETASTATIC_STATES = ("not oligometastatic", "oligo-status not assessed")


def check_statistic(statistic: str) -> None:
    if statistic not in RATIO_STATISTICS | RATE_STATISTICS:
        raise InputError(
            f"statistic {statistic!r} cannot be pooled; poolable: "
            f"{', '.join(sorted(RATIO_STATISTICS | RATE_STATISTICS))} (medians are shown, not pooled)",
            column="statistic",
        )


def check_timepoint(statistic: str, timepoint_months: float | None) -> None:
    if statistic in RATE_STATISTICS and timepoint_months is None:
        raise InputError(f"a {statistic} pool needs a time point (e.g. --timepoint 24)", column="timepoint")


def check_by(columns: Iterable[str], by: Iterable[str]) -> None:
    known = set(columns)
    for column in by:
        if column not in known:
            raise InputError(f"--by column {column!r} is not an evidence-table column", column="by")


def strata_of(statistic: str, by: Iterable[str]) -> tuple[str, ...]:
    """The strata columns of an analysis: design class, for rates unit and time origin, then `by`."""
    return tuple(dict.fromkeys((*ALWAYS_STRATA, *(RATE_STRATA if statistic in RATE_STATISTICS else ()), *by)))


def subgroup_partition(strata: tuple[str, ...]) -> str | None:
    """The subgroups a study contributes in an analysis with these strata: one partition of its
    patients, the oligo-state subgroups when both oligo-state and histology are strata."""
    return "oligo_state" if "oligo_state" in strata else ("histology" if "histology" in strata else None)


Row = Mapping[Hashable, Any]  # a row of the evidence table, by column name


@dataclass(frozen=True)
class ReasonContext:
    """What a reason says besides the left-out row's own columns."""

    tiers: tuple[str, ...]  # the evidence tiers the analysis keeps
    excluded_flags: frozenset[str]  # the curation flags that leave a row out
    partition: str | None = None  # the analysis' subgroup partition (subgroup_partition)
    winner: Row | None = None  # the row used instead of this one (DUPLICATE)
    failure: int = -1  # why no effect size (EFFECT_FAILURES), for NO_EFFECT_SIZE
    message: str = ""  # the derivation's own error, for SE_ERROR


Reason = Callable[[Row, ReasonContext], str]


@dataclass(frozen=True)
class Rule:
    kind: int
    name: str
    reason: Reason


def _subgroup_reason(row: Row, why: ReasonContext) -> str:
    use = (
        f"this study contributes its {why.partition.replace('_', '-')} subgroups"
        if why.partition
        else "not a stratum of this analysis"
    )
    return f"a subgroup by {row['group_subgroup_by'].replace(';', ' and ')}: {use}"


def _duplicate_reason(row: Row, why: ReasonContext) -> str:
    assert why.winner is not None
    return (
        f"one estimate per study and stratum: {why.winner['publication_id']} / '{why.winner['group']}' is used "
        "(latest data cut, best tier, largest group)"
    )


# Kind codes, in the order the rules apply; the codes index RULES.
(
    FLAGGED,
    OUTSIDE_TIERS,
    NOT_TREATMENT,
    ADJUSTED,
    NOT_TREATED_ARM,
    NOT_OLIGOMETASTATIC,
    NO_EFFECT_SIZE,
    SUBGROUP,
    DUPLICATE,
    WHOLE_COHORT,
    OVERLAP,
) = range(11)

RULES: tuple[Rule, ...] = (
    Rule(FLAGGED, "curation flag (rule 0)", lambda row, why: flag_rule.reason(row, why.excluded_flags)),
    Rule(OUTSIDE_TIERS, "evidence tier (rule 2)", lambda row, why: tier_reason(row, why.tiers)),
    Rule(
        NOT_TREATMENT,
        "hazard ratio not of the randomised treatment (rule 3)",
        lambda row, why: (
            f"not a randomised treatment comparison ({row['comparison'] or row['group']}): "
            "a prognostic association, not the effect of MDT"
        ),
    ),
    Rule(
        ADJUSTED,
        "adjusted hazard ratio (rule 5)",
        lambda row, why: "adjusted estimate: the unadjusted (ITT) estimate of this study is used",
    ),
    Rule(
        NOT_TREATED_ARM,
        "rate of an untreated group (rule 4)",
        lambda row, why: f"group '{row['group']}' is not a treated arm (a control arm or a non-arm reference)",
    ),
    Rule(
        NOT_OLIGOMETASTATIC,
        "rate of a population not oligometastatic (rule 4)",
        lambda row, why: f"oligo-state '{row['oligo_state']}': not an oligometastatic population",
    ),
    Rule(NO_EFFECT_SIZE, "no effect size (rule 9)", lambda row, why: EFFECT_FAILURES[why.failure].reason(row, why)),
    Rule(SUBGROUP, "subgroup of another partition (rule 6)", _subgroup_reason),
    Rule(DUPLICATE, "one estimate per study and stratum (rule 6)", _duplicate_reason),
    Rule(
        WHOLE_COHORT,
        "whole cohort of a study with subgroups (rule 6)",
        lambda row, why: (
            "the study's subgroup estimates are used in their own strata: its whole-cohort estimate "
            "is left out so no patient counts twice"
        ),
    ),
    Rule(
        OVERLAP,
        "overlapping pooled analysis (rule 7)",
        lambda row, why: f"overlaps with {row['overlaps_with']} (same patients), which are in this analysis",
    ),
)

# Why a row gives no effect size (kind NO_EFFECT_SIZE); the codes index EFFECT_FAILURES.
VALUE_NOT_NUMBER, NO_STANDARD_ERROR, NO_N, UNIT_NOT_PERCENT, SE_ERROR = range(5)

EFFECT_FAILURES: tuple[Rule, ...] = (
    Rule(VALUE_NOT_NUMBER, "value not a number", lambda row, why: f"value {row['value']!r} is not a number"),
    Rule(
        NO_STANDARD_ERROR,
        "hazard ratio without CI or p",
        lambda row, why: "no CI and no exact p-value: no standard error can be derived",
    ),
    Rule(NO_N, "rate without n", lambda row, why: "no n for this group: a rate cannot be weighted"),
    Rule(UNIT_NOT_PERCENT, "rate not in percent", lambda row, why: f"unit {row['unit']!r} is not percent"),
    Rule(
        SE_ERROR, "CI or p inconsistent with the hazard ratio", lambda row, why: f"cannot derive an SE: {why.message}"
    ),
)

assert [r.kind for r in RULES] == list(range(len(RULES)))
assert [r.kind for r in EFFECT_FAILURES] == list(range(len(EFFECT_FAILURES)))

# Left out after their effect size was derived: these rows carry yi, vi and derivation_route.
AFTER_EFFECT_SIZES = frozenset((SUBGROUP, DUPLICATE, WHOLE_COHORT, OVERLAP))


def reason(kind: int, row: Row, why: ReasonContext) -> str:
    """The reason text of a row left out by rule `kind`."""
    return RULES[kind].reason(row, why)
