"""GRADE certainty of evidence per pooled stratum: the five downgrading domains, each with a suggested
judgement and the reason in words with the numbers behind it, and the resulting certainty.

Pure: a `KBPool` (or one `StratumPool`) and a risk-of-bias table (kb.rob.ROB_COLUMNS) in, frozen
dataclasses out. The rules and the GRADE guidance they follow are in docs/grade.md; each rule's
threshold is a named constant here. A reviewer's override (analysis.grade_overrides) replaces a
suggestion and keeps both, with the reviewer's reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.distributions import norm_isf, norm_ppf
from analysis.kb_pool import KBPool, StratumPool
from analysis.policy import RATIO_STATISTICS
from analysis.review import EGGER_MIN_K, overall_judgements, small_study_test

#: The five domains, in the order of a GRADE evidence profile.
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
DOMAIN_LABELS = {
    "risk_of_bias": "risk of bias",
    "inconsistency": "inconsistency",
    "indirectness": "indirectness",
    "imprecision": "imprecision",
    "publication_bias": "publication bias",
}

NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE = "not serious", "serious", "very serious", "not assessable"
#: Levels each judgement takes off the certainty ("not assessable" takes none: the footnote says why).
DOWNGRADE = {NOT_SERIOUS: 0, SERIOUS: 1, VERY_SERIOUS: 2, NOT_ASSESSABLE: 0}

#: Certainty levels (GRADE guidelines 3, Balshem 2011): randomised evidence starts at high, the rest at low.
CERTAINTY = {4: "high", 3: "moderate", 2: "low", 1: "very low"}
SYMBOLS = {4: "⊕⊕⊕⊕", 3: "⊕⊕⊕◯", 2: "⊕⊕◯◯", 1: "⊕◯◯◯"}
START_RANDOMISED, START_OTHER = 4, 2

#: Risk of bias: a share of the pool's weight above this (percent) from trials at high risk (very serious)
#: or at high risk or with some concerns (serious); "not serious" needs at least this share at low risk.
ROB_WEIGHT_SHARE = 50.0
#: Inconsistency: I2 (percent) at or above which the domain is serious (Cochrane Handbook's "substantial").
I2_SERIOUS = 50.0
#: Imprecision: appreciable benefit and harm on the hazard-ratio scale (GRADE guidelines 6's rough guide).
HR_BENEFIT, HR_HARM = 0.75, 1.25
#: Optimal information size: two-sided alpha, power and the hazard ratio to detect (a 25 % relative reduction).
OIS_ALPHA, OIS_POWER, OIS_HR = 0.05, 0.80, 0.75
#: Publication bias: Egger's test needs this many studies, and p below this threshold is serious.
EGGER_P = 0.10
#: Indirectness: oligo-state terms that name no single oligo-state, and the flag of a low-confidence mapping.
STATE_NOT_SPECIFIC = frozenset(
    {"mixed", "unresolved", "unmappable", "not_assessed", "not_oligometastatic", "oligometastatic_disease"}
)
HISTOLOGY_NOT_SPECIFIC = frozenset({"mixed"})
LOW_CONFIDENCE_FLAG = "mapping_low_confidence"
#: Indirectness: share of the weight (percent) above which population concerns are serious.
INDIRECT_WEIGHT_SHARE = 50.0
#: The words of the reasons: "trials" for randomised strata, "studies" otherwise.
SINGULAR = {"trials": "trial", "studies": "study"}


@dataclass(frozen=True)
class Judgement:
    """One domain of one stratum: the suggestion computed from the data, and a reviewer's override."""

    domain: str
    suggested: str
    reason: str
    override: str | None = None
    override_reason: str = ""

    @property
    def final(self) -> str:
        return self.override or self.suggested

    @property
    def downgrade(self) -> int:
        return DOWNGRADE[self.final]

    def to_dict(self) -> dict:
        return {
            "domain": self.domain,
            "suggested": self.suggested,
            "reason": self.reason,
            "override": self.override,
            "override_reason": self.override_reason,
            "final": self.final,
            "downgrade": self.downgrade,
        }


@dataclass(frozen=True)
class StratumGrade:
    """The GRADE assessment of one pooled stratum of one analysis."""

    outcome: str
    statistic: str
    timepoint_months: float | None
    stratum: str
    k: int
    participants: int | None  # summed over the trials that report both arms' n; None if none does
    participants_known: int  # how many of the k trials report them
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    randomised: bool
    domains: tuple[Judgement, ...]
    studies: tuple[str, ...] = field(default=())

    @property
    def start(self) -> int:
        return START_RANDOMISED if self.randomised else START_OTHER

    @property
    def level_number(self) -> int:
        """The certainty as 4 (high) ... 1 (very low): the start less every downgrade, never below 1."""
        return max(1, self.start - sum(j.downgrade for j in self.domains))

    @property
    def certainty(self) -> str:
        return CERTAINTY[self.level_number]

    @property
    def symbols(self) -> str:
        return SYMBOLS[self.level_number]

    def domain(self, name: str) -> Judgement:
        return next(j for j in self.domains if j.domain == name)

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "statistic": self.statistic,
            "timepoint_months": self.timepoint_months,
            "stratum": self.stratum,
            "k": self.k,
            "participants": self.participants,
            "participants_known": self.participants_known,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "ci_level": self.level * 100.0,
            "design": "randomised" if self.randomised else "non-randomised",
            "certainty_start": CERTAINTY[self.start],
            "certainty": self.certainty,
            "certainty_symbols": self.symbols,
            "studies": list(self.studies),
            "domains": [j.to_dict() for j in self.domains],
        }


# --- the five domains ----------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{x:.1f}%"


def risk_of_bias(
    study_ids: Sequence[str], weights_pct: Sequence[float], overall: dict[str, str], *, unit: str = "trials"
) -> Judgement:
    """From each trial's RoB 2 overall judgement (`overall`: study id -> low, some_concerns, high,
    not_assessed; a study not in it is not assessed), weighted by the pool's weights.

    Very serious when more than ROB_WEIGHT_SHARE % of the weight is at high risk; serious when more than
    that share is at high risk or has some concerns; not serious when at least that share is at low risk;
    otherwise not assessable (the trials not assessed carry the weight that would decide)."""
    w = np.asarray(weights_pct, dtype=float)
    w = w / w.sum() * 100.0
    kinds = [overall.get(s, "not_assessed") for s in study_ids]
    share = {kind: float(w[[x == kind for x in kinds]].sum()) for kind in ("low", "some_concerns", "high")}
    unassessed = [s for s, x in zip(study_ids, kinds, strict=True) if x not in share]
    k = len(study_ids)
    words = (
        f"weight from {unit} at high risk {_pct(share['high'])}, some concerns {_pct(share['some_concerns'])}, "
        f"low risk {_pct(share['low'])} (RoB 2 overall)"
    )
    missing = f"not assessed for {len(unassessed)} of {k} {unit}" if unassessed else ""
    if len(unassessed) == k:
        return Judgement("risk_of_bias", NOT_ASSESSABLE, missing)
    high_or_some = share["high"] + share["some_concerns"]
    if share["high"] > ROB_WEIGHT_SHARE:
        verdict = VERY_SERIOUS
        rule = f"more than {ROB_WEIGHT_SHARE:g}% of the weight at high risk"
    elif high_or_some > ROB_WEIGHT_SHARE:
        verdict = SERIOUS
        rule = f"more than {ROB_WEIGHT_SHARE:g}% of the weight at high risk or with some concerns"
    elif share["low"] >= ROB_WEIGHT_SHARE:
        verdict = NOT_SERIOUS
        rule = f"at least {ROB_WEIGHT_SHARE:g}% of the weight at low risk"
    else:
        verdict = NOT_ASSESSABLE
        rule = f"the {unit} not assessed carry the weight that would decide"
    return Judgement("risk_of_bias", verdict, "; ".join(x for x in (words, rule, missing) if x))


def _crosses(low: float | None, high: float | None, value: float) -> bool:
    return low is not None and high is not None and low < value < high


def inconsistency(
    k: int,
    i2: float | None,
    ci: tuple[float | None, float | None],
    pi: tuple[float | None, float | None],
    *,
    ratio: bool = True,
) -> Judgement:
    """Serious when I2 >= I2_SERIOUS %, or (hazard ratios) when the prediction interval crosses HR 1 while
    the CI does not; not assessable with k = 1."""
    if k < 2 or i2 is None:
        return Judgement("inconsistency", NOT_ASSESSABLE, f"k = {k}: no between-study comparison")
    parts = [f"I2 = {i2:.1f}%" + (f" (>= {I2_SERIOUS:g}%)" if i2 >= I2_SERIOUS else f" (< {I2_SERIOUS:g}%)")]
    pi_crosses = False
    if ratio and pi[0] is not None and pi[1] is not None:
        pi_crosses = _crosses(*pi, 1.0) and not _crosses(*ci, 1.0)
        parts.append(
            f"prediction interval {pi[0]:.2f}-{pi[1]:.2f} "
            + ("crosses HR 1 while the CI does not" if pi_crosses else "does not cross HR 1 where the CI does not")
        )
    elif ratio:
        parts.append(f"no prediction interval (k = {k})")
    serious = i2 >= I2_SERIOUS or pi_crosses
    return Judgement("inconsistency", SERIOUS if serious else NOT_SERIOUS, "; ".join(parts))


def ois_events(hr: float = OIS_HR, alpha: float = OIS_ALPHA, power: float = OIS_POWER) -> int:
    """Events a single trial needs to detect `hr` (Schoenfeld 1983): 4 (z_{1-alpha/2} + z_power)^2 / ln(hr)^2,
    rounded up (hr 0.75, alpha 0.05 two-sided, power 0.80: 380)."""
    z = norm_isf(alpha / 2) + norm_ppf(power)
    return math.ceil(4.0 * z * z / math.log(hr) ** 2)


def imprecision(
    ci_low: float | None,
    ci_high: float | None,
    *,
    level: float = 0.95,
    participants: int | None = None,
    participants_known: int = 0,
    k: int = 1,
    ratio: bool = True,
    unit: str = "trials",
) -> Judgement:
    """Hazard ratios: serious when the CI crosses HR 1, very serious when it also spans both HR_BENEFIT and
    HR_HARM; one more level (at most very serious) when the optimal information size is surely not met: the
    evidence table holds no event counts, so that is only known when every trial reports its participants
    and even all of them together are fewer than the events the OIS needs."""
    if not ratio:
        return Judgement(
            "imprecision",
            NOT_ASSESSABLE,
            "a single-group rate has no line of no effect; judge the CI against your own thresholds",
        )
    if ci_low is None or ci_high is None:
        return Judgement("imprecision", NOT_ASSESSABLE, "no confidence interval")
    ci = f"{level * 100:g}% CI {ci_low:.2f}-{ci_high:.2f}"
    levels = 0
    if _crosses(ci_low, ci_high, 1.0) and ci_low < HR_BENEFIT and ci_high > HR_HARM:
        levels = 2
        parts = [f"{ci} crosses HR 1 and spans both {HR_BENEFIT:g} (appreciable benefit) and {HR_HARM:g} (harm)"]
    elif _crosses(ci_low, ci_high, 1.0):
        levels = 1
        parts = [f"{ci} crosses HR 1 (no effect)"]
    else:
        parts = [f"{ci} excludes HR 1"]
    need = ois_events()
    ois = f"OIS {need} events (HR {OIS_HR:g}, two-sided alpha {OIS_ALPHA:g}, power {OIS_POWER:.0%})"
    if participants_known == k and participants is not None and participants < need:
        levels += 1
        who = f"the {SINGULAR[unit]}" if k == 1 else f"all {k} {unit}"
        parts.append(f"{ois} not met: the {participants} participants of {who} are fewer than that")
    elif participants_known < k:
        parts.append(
            f"{ois} not assessable: events not reported, participants reported for {participants_known} of {k} {unit}"
        )
    else:
        parts.append(f"{ois} not assessable: events not reported ({participants} participants)")
    verdict = {0: NOT_SERIOUS, 1: SERIOUS}.get(levels, VERY_SERIOUS)
    return Judgement("imprecision", verdict, "; ".join(parts))


def publication_bias(yi: Sequence[float], vi: Sequence[float], *, method: str = "REML", test: str = "z") -> Judgement:
    """Egger's regression test (analysis.review.small_study_test, with the pool's method and test) when
    k >= EGGER_MIN_K: serious when p < EGGER_P; otherwise not assessable."""
    from analysis.errors import ConvergenceError

    k = len(yi)
    try:
        res = small_study_test(list(yi), list(vi), method=method, test=test)
    except ConvergenceError as exc:  # a failed fit must not sink the whole table: say so in the footnote
        return Judgement("publication_bias", NOT_ASSESSABLE, f"Egger's test did not converge ({exc})")
    if res.egger is None:
        return Judgement("publication_bias", NOT_ASSESSABLE, f"k = {k} < {EGGER_MIN_K}, too few for Egger's test")
    serious = res.egger.p_value < EGGER_P
    return Judgement(
        "publication_bias",
        SERIOUS if serious else NOT_SERIOUS,
        f"Egger's test p = {res.egger.p_value:.3f} ({'<' if serious else '>='} {EGGER_P:g}), k = {k}",
    )


def indirectness(rows: pd.DataFrame, weights_pct: Sequence[float], *, unit: str = "trials") -> Judgement:
    """From the inputs' histology and oligo-state mapping: a trial of mixed histology, or whose oligo-state is
    not one specific state (mixed, unresolved, unmappable, ...) or was mapped with low confidence, answers
    the question for one histology in one oligo-state only indirectly. Serious when more than
    INDIRECT_WEIGHT_SHARE % of the weight comes from such trials, very serious when that share has both."""
    w = np.asarray(weights_pct, dtype=float)
    w = w / w.sum() * 100.0
    hist = rows["histology_id"].astype(str) if "histology_id" in rows else pd.Series([""] * len(rows))
    state = rows["oligo_state_id"].astype(str) if "oligo_state_id" in rows else pd.Series([""] * len(rows))
    flags = rows["flags"].fillna("").astype(str) if "flags" in rows else pd.Series([""] * len(rows))
    mixed_hist = hist.isin(HISTOLOGY_NOT_SPECIFIC).to_numpy()
    vague_state = state.isin(STATE_NOT_SPECIFIC).to_numpy()
    low_conf = flags.str.contains(LOW_CONFIDENCE_FLAG, regex=False).to_numpy()
    state_concern = vague_state | low_conf
    k = len(rows)
    share_any = float(w[mixed_hist | state_concern].sum())
    share_both = float(w[mixed_hist & state_concern].sum())
    distinct = sorted(set(hist) - HISTOLOGY_NOT_SPECIFIC - {""})
    parts = [
        f"mixed histology in {int(mixed_hist.sum())} of {k} {unit}",
        f"oligo-state not one specific state in {int(vague_state.sum())} of {k}",
        f"low-confidence oligo-state mapping in {int(low_conf.sum())} of {k}",
        f"{_pct(share_any)} of the weight from {unit} with any of these",
    ]
    if len(distinct) > 1:
        parts.append(f"the stratum pools {len(distinct)} histologies ({', '.join(distinct)})")
    if share_both > INDIRECT_WEIGHT_SHARE:
        verdict = VERY_SERIOUS
        parts.append(f"{_pct(share_both)} from {unit} with both a histology and an oligo-state concern")
    elif share_any > INDIRECT_WEIGHT_SHARE:
        verdict = SERIOUS
    else:
        verdict = NOT_SERIOUS
    return Judgement("indirectness", verdict, "; ".join(parts))


# --- a stratum, an analysis ---------------------------------------------------------------------------


def _int_or_none(x: object) -> int | None:
    try:
        value = float(str(x))
    except ValueError:
        return None
    return int(value) if math.isfinite(value) else None


def participants(rows: pd.DataFrame) -> tuple[int | None, int]:
    """Participants summed over the trials that report both arms' n (n + reference_n), and how many do."""
    total, known = 0, 0
    for n, ref in zip(rows.get("n", [None] * len(rows)), rows.get("reference_n", [None] * len(rows)), strict=True):
        a, b = _int_or_none(n), _int_or_none(ref)
        if a is not None and b is not None:
            total, known = total + a + b, known + 1
    return (total if known else None), known


def grade_stratum(
    pool: StratumPool,
    rob: pd.DataFrame,
    *,
    outcome: str,
    statistic: str,
    timepoint_months: float | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> StratumGrade:
    """The five domains of one stratum (suggestions only; analysis.grade_overrides applies overrides)."""
    rows = pool.rows
    ratio = statistic in RATIO_STATISTICS
    design = rows["design_class"].astype(str) if "design_class" in rows else pd.Series([""] * len(rows))
    n, known = participants(rows)
    randomised = bool(len(design)) and bool((design == "randomised").all())
    unit = "trials" if randomised else "studies"  # the words of each reason
    domains = (
        risk_of_bias(list(rows["study_id"]), pool.weights_pct, overall_judgements(rob, outcome), unit=unit),
        inconsistency(pool.k, pool.i2, (pool.ci_low, pool.ci_high), (pool.pi_low, pool.pi_high), ratio=ratio),
        indirectness(rows, pool.weights_pct, unit=unit),
        imprecision(
            pool.ci_low,
            pool.ci_high,
            level=level,
            participants=n,
            participants_known=known,
            k=pool.k,
            ratio=ratio,
            unit=unit,
        ),
        publication_bias(
            rows["yi"].to_numpy(float).tolist(), rows["vi"].to_numpy(float).tolist(), method=method, test=test
        ),
    )
    return StratumGrade(
        outcome,
        statistic,
        timepoint_months,
        pool.stratum,
        pool.k,
        n,
        known,
        pool.estimate,
        pool.ci_low,
        pool.ci_high,
        level,
        randomised,
        domains,
        pool.studies,
    )


def grade_pool(result: KBPool, rob: pd.DataFrame) -> tuple[StratumGrade, ...]:
    """Every stratum of a knowledge-base pool, graded (suggestions only)."""
    return tuple(
        grade_stratum(
            p,
            rob,
            outcome=result.outcome,
            statistic=result.statistic,
            timepoint_months=result.timepoint_months,
            method=result.method,
            test=result.test,
            level=result.level,
        )
        for p in result.pools
    )


def with_override(grade: StratumGrade, domain: str, judgement: str, reason: str) -> StratumGrade:
    """`grade` with `domain`'s judgement set by a reviewer (the suggestion is kept beside it)."""
    domains = tuple(
        replace(j, override=judgement, override_reason=reason) if j.domain == domain else j for j in grade.domains
    )
    return replace(grade, domains=domains)
