"""GRADE domains at their thresholds, the certainty arithmetic and the reviewer's overrides, on hand-made
pools whose expected judgements follow from the rules in docs/grade.md by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from analysis.grade import (
    DOMAINS,
    NOT_ASSESSABLE,
    NOT_SERIOUS,
    SERIOUS,
    VERY_SERIOUS,
    Judgement,
    StratumGrade,
    grade_pool,
    imprecision,
    inconsistency,
    indirectness,
    ois_events,
    publication_bias,
    risk_of_bias,
)
from analysis.grade_overrides import OverrideFileError, apply_overrides, load_overrides, parse_overrides
from analysis.kb_pool import KBPool, StratumPool
from analysis.review import overall_judgements
from kb.rob import ROB_COLUMNS
from terms.errors import InputError

EMPTY_ROB = pd.DataFrame(columns=ROB_COLUMNS)


def rob_rows(*pairs: tuple[str, str], outcome: str = "overall survival") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"study_id": s, "outcome": outcome, "tool": "RoB 2", "domain": "overall", "judgement": j}
            | {"support": "", "support_kind": "reason", "publication_id": "", "locator": ""}
            for s, j in pairs
        ],
        columns=ROB_COLUMNS,
    )


# --- risk of bias: shares of the pool's weight ------------------------------------------------------


def test_half_the_weight_at_low_risk_is_not_serious():
    # high 50 %, low 50 %: neither share of concern is *more* than half, and half is at low risk
    j = risk_of_bias(["a", "b"], [50, 50], {"a": "high", "b": "low"})
    assert j.suggested == NOT_SERIOUS and "50.0%" in j.reason


def test_more_than_half_at_high_risk_is_very_serious():
    assert risk_of_bias(["a", "b"], [51, 49], {"a": "high", "b": "low"}).suggested == VERY_SERIOUS


def test_high_and_some_concerns_together_over_half_is_serious():
    # 30 + 21 = 51 % at high risk or some concerns, high alone 30 %
    j = risk_of_bias(["a", "b", "c"], [30, 21, 49], {"a": "high", "b": "some_concerns", "c": "low"})
    assert j.suggested == SERIOUS


def test_weights_need_not_sum_to_100():
    # 3 : 1 is 75 % : 25 %
    assert risk_of_bias(["a", "b"], [3, 1], {"a": "high", "b": "low"}).suggested == VERY_SERIOUS


def test_no_assessment_says_how_many_trials_are_not_assessed():
    j = risk_of_bias(["a", "b", "c"], [1, 1, 1], {})
    assert j.suggested == NOT_ASSESSABLE and j.reason == "not assessed for 3 of 3 trials"


def test_unassessed_weight_that_would_decide_is_not_assessable():
    # 40 % low, 60 % not assessed: neither rule can be met on the assessed weight alone
    j = risk_of_bias(["a", "b"], [40, 60], {"a": "low", "b": "not_assessed"})
    assert j.suggested == NOT_ASSESSABLE and "not assessed for 1 of 2 trials" in j.reason


def test_an_outcome_specific_judgement_wins_over_one_for_every_outcome():
    rob = pd.concat([rob_rows(("a", "low"), outcome=""), rob_rows(("a", "high"))])
    assert overall_judgements(rob, "overall survival") == {"a": "high"}
    assert overall_judgements(rob, "progression-free survival") == {"a": "low"}


# --- inconsistency ------------------------------------------------------------------------------------


def test_i2_exactly_at_50_is_serious_and_just_below_is_not():
    assert inconsistency(4, 50.0, (0.5, 0.8), (0.4, 0.9)).suggested == SERIOUS
    assert inconsistency(4, 49.9, (0.5, 0.8), (0.4, 0.9)).suggested == NOT_SERIOUS


def test_prediction_interval_crossing_1_where_the_ci_does_not_is_serious():
    assert inconsistency(4, 10.0, (0.5, 0.8), (0.3, 1.2)).suggested == SERIOUS
    # both cross 1: the spread adds no doubt about the direction beyond the CI's own
    assert inconsistency(4, 10.0, (0.6, 1.1), (0.3, 1.4)).suggested == NOT_SERIOUS


def test_inconsistency_is_not_assessable_with_one_trial():
    j = inconsistency(1, None, (0.5, 0.8), (None, None))
    assert j.suggested == NOT_ASSESSABLE and "k = 1" in j.reason


# --- imprecision --------------------------------------------------------------------------------------


def test_ois_is_schoenfelds_event_count():
    # 4 (1.959964 + 0.841621)^2 / ln(0.75)^2 = 31.3955 / 0.0827604 = 379.35 -> 380 events
    assert ois_events() == 380
    assert ois_events(0.5) == math.ceil(4 * (1.959964 + 0.841621) ** 2 / math.log(0.5) ** 2)


def test_ci_crossing_1_is_serious_and_spanning_both_thresholds_very_serious():
    assert imprecision(0.80, 1.10).suggested == SERIOUS
    assert imprecision(0.70, 1.30).suggested == VERY_SERIOUS  # below 0.75 and above 1.25
    assert imprecision(0.70, 1.20).suggested == SERIOUS  # appreciable benefit only
    assert imprecision(0.50, 0.90).suggested == NOT_SERIOUS


def test_ois_not_met_only_when_every_trial_reports_its_participants():
    # 379 participants < 380 events even if every participant had an event
    short = imprecision(0.5, 0.9, participants=379, participants_known=3, k=3)
    assert short.suggested == SERIOUS and "not met" in short.reason
    enough = imprecision(0.5, 0.9, participants=380, participants_known=3, k=3)
    assert enough.suggested == NOT_SERIOUS and "events not reported" in enough.reason
    partial = imprecision(0.5, 0.9, participants=100, participants_known=2, k=3)
    assert partial.suggested == NOT_SERIOUS and "participants reported for 2 of 3 trials" in partial.reason
    # CI crossing 1 and OIS not met: two levels
    assert imprecision(0.8, 1.1, participants=100, participants_known=1, k=1).suggested == VERY_SERIOUS


def test_a_rate_has_no_line_of_no_effect():
    assert imprecision(20.0, 40.0, ratio=False).suggested == NOT_ASSESSABLE


# --- publication bias ---------------------------------------------------------------------------------


def test_egger_needs_ten_trials():
    yi, vi = [0.1] * 9, [0.04 + 0.01 * i for i in range(9)]
    j = publication_bias(yi, vi)
    assert j.suggested == NOT_ASSESSABLE and "k = 9 < 10" in j.reason
    assert publication_bias([*yi, 0.1], [*vi, 0.2]).suggested != NOT_ASSESSABLE


def test_egger_flags_a_perfectly_asymmetric_funnel_and_not_a_flat_one():
    sei = [0.1 * (i + 1) for i in range(10)]
    vi = [s * s for s in sei]
    # yi = 3 sei exactly: the slope on sei is 3 with no residual, so its test cannot miss at p < 0.10
    assert publication_bias([3 * s for s in sei], vi).suggested == SERIOUS
    # yi constant: the slope is exactly 0, p = 1
    flat = publication_bias([0.2] * 10, vi)
    assert flat.suggested == NOT_SERIOUS and "p = 1.000" in flat.reason


# --- indirectness -------------------------------------------------------------------------------------


def population(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["histology_id", "oligo_state_id", "flags"])


def test_indirectness_by_weight_share():
    rows = population(("mixed", "synchronous", ""), ("nsclc", "synchronous", ""))
    assert indirectness(rows, [50, 50]).suggested == NOT_SERIOUS  # exactly half: not more than half
    assert indirectness(rows, [51, 49]).suggested == SERIOUS


def test_low_confidence_mapping_counts_and_both_concerns_are_very_serious():
    flagged = population(("nsclc", "synchronous", "mapping_low_confidence"), ("nsclc", "synchronous", ""))
    assert indirectness(flagged, [60, 40]).suggested == SERIOUS
    both = population(("mixed", "unresolved", ""), ("nsclc", "synchronous", ""))
    j = indirectness(both, [60, 40])
    assert j.suggested == VERY_SERIOUS and "mixed histology in 1 of 2 trials" in j.reason


# --- certainty ----------------------------------------------------------------------------------------


def graded(judgements: dict[str, str], randomised: bool = True) -> StratumGrade:
    domains = tuple(Judgement(d, judgements.get(d, NOT_SERIOUS), "") for d in DOMAINS)
    return StratumGrade("overall survival", "hazard ratio", None, "randomised", 3, None, 0, 0.6, 0.4, 0.9, 0.95,
                        randomised, domains)  # fmt: skip


@pytest.mark.parametrize(
    ("judgements", "randomised", "certainty", "symbols"),
    [
        ({}, True, "high", "⊕⊕⊕⊕"),
        ({"imprecision": SERIOUS}, True, "moderate", "⊕⊕⊕◯"),
        ({"imprecision": SERIOUS, "risk_of_bias": VERY_SERIOUS}, True, "very low", "⊕◯◯◯"),  # 4 - 3
        ({d: VERY_SERIOUS for d in DOMAINS}, True, "very low", "⊕◯◯◯"),  # floored, not 4 - 10
        ({"publication_bias": NOT_ASSESSABLE, "risk_of_bias": NOT_ASSESSABLE}, True, "high", "⊕⊕⊕⊕"),
        ({}, False, "low", "⊕⊕◯◯"),
        ({"indirectness": SERIOUS}, False, "very low", "⊕◯◯◯"),
    ],
)
def test_certainty_starts_high_for_randomised_low_otherwise_and_subtracts(judgements, randomised, certainty, symbols):
    g = graded(judgements, randomised)
    assert (g.certainty, g.symbols) == (certainty, symbols)


# --- a whole pool, with no risk-of-bias table ---------------------------------------------------------


def hand_pool() -> KBPool:
    rows = pd.DataFrame(
        {
            "study_id": ["a", "b", "c"],
            "yi": [math.log(0.5), math.log(0.7), math.log(0.6)],
            "vi": [0.04, 0.09, 0.05],
            "histology_id": ["nsclc", "nsclc", "breast"],
            "oligo_state_id": ["synchronous", "synchronous", "synchronous"],
            "flags": ["", "", ""],
            "n": ["50", "40", ""],
            "reference_n": ["50", "41", "30"],
            "design_class": ["randomised"] * 3,
        }
    )
    pool = StratumPool("randomised", {"design_class": "randomised"}, 3, 0.58, 0.45, 0.75, 0.40, 0.85, 0.001,
                       0.0, 0.0, 0.5, 2, 0.78, ("a", "b", "c"), (45.0, 20.0, 35.0), rows)  # fmt: skip
    return KBPool("overall survival", "hazard ratio", None, "REML", "z", 0.95, ("design_class",), (pool,), rows[:0])


def test_grade_pool_with_an_empty_risk_of_bias_table():
    (g,) = grade_pool(hand_pool(), EMPTY_ROB)
    assert g.domain("risk_of_bias").reason == "not assessed for 3 of 3 trials"
    assert (g.participants, g.participants_known) == (181, 2)  # 50 + 50 + 40 + 41; c lacks its n
    assert g.domain("publication_bias").suggested == NOT_ASSESSABLE  # k = 3
    assert g.domain("indirectness").suggested == NOT_SERIOUS  # one histology each, one state
    assert g.certainty == "high"


def test_grade_pool_reads_rob_for_its_outcome_weighted():
    # a (45 %) and c (35 %) at high risk: 80 % > 50 % -> very serious; judgements for PFS are not read
    rob = pd.concat(
        [rob_rows(("a", "high"), ("c", "high")), rob_rows(("b", "high"), outcome="progression-free survival")]
    )
    (g,) = grade_pool(hand_pool(), rob)
    j = g.domain("risk_of_bias")
    assert j.suggested == VERY_SERIOUS and "not assessed for 1 of 3 trials" in j.reason
    assert g.certainty == "low"


# --- overrides ----------------------------------------------------------------------------------------


OVERRIDE_YAML = """\
overrides:
  - outcome: overall survival
    statistic: hazard ratio
    stratum: randomised
    domain: risk_of_bias
    judgement: serious
    reason: open-label trials with investigator-assessed outcomes
  - outcome: overall survival
    statistic: hazard ratio
    stratum: no such stratum
    domain: imprecision
    judgement: serious
    reason: unused
"""


def test_overrides_are_applied_beside_the_suggestion(tmp_path):
    path = tmp_path / "grade-overrides.yaml"
    path.write_text(OVERRIDE_YAML)
    overrides = load_overrides(path)
    (g,), unused = apply_overrides(grade_pool(hand_pool(), EMPTY_ROB), overrides)
    j = g.domain("risk_of_bias")
    assert (j.suggested, j.override, j.final) == (NOT_ASSESSABLE, SERIOUS, SERIOUS)
    assert j.override_reason == "open-label trials with investigator-assessed outcomes"
    assert g.certainty == "moderate"  # high less one
    assert [o.stratum for o in unused] == ["no such stratum"]


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        (OVERRIDE_YAML.replace("    reason: open-label trials with investigator-assessed outcomes\n", ""), "overrides[0].reason", None),
        (OVERRIDE_YAML.replace("judgement: serious\n    reason: open", "judgement: moderate\n    reason: open"), "overrides[0].judgement", 6),
        (OVERRIDE_YAML.replace("domain: risk_of_bias", "domain: bias"), "overrides[0].domain", 5),
        (OVERRIDE_YAML.replace("    stratum: randomised\n", "    stratum: randomised\n    certainty: low\n"), "overrides[0].certainty", 5),
        (OVERRIDE_YAML.replace("    stratum: randomised\n", "    timepoint_months: two years\n"), "overrides[0].timepoint_months", 4),
    ],
)  # fmt: skip
def test_a_bad_override_file_names_the_file_and_the_field(tmp_path, text, field, line):
    path = tmp_path / "grade-overrides.yaml"
    path.write_text(text)
    with pytest.raises(OverrideFileError) as info:
        load_overrides(path)
    (problem,) = info.value.problems
    assert problem.file == str(path) and problem.field == field and problem.line == line
    assert info.value.exit_code == 2


def test_an_override_file_that_is_not_a_list_or_not_yaml(tmp_path):
    with pytest.raises(OverrideFileError, match="one key, overrides"):
        parse_overrides({"override": []}, "x.yaml")
    path = tmp_path / "broken.yaml"
    path.write_text("overrides:\n  - outcome: [unclosed\n")
    with pytest.raises(InputError, match="broken.yaml"):
        load_overrides(path)


def test_non_randomised_evidence_is_counted_in_studies_and_starts_low():
    kb = hand_pool()
    rows = kb.pools[0].rows.assign(design_class="observational")
    pool = StratumPool("observational", {}, 3, 0.58, 0.45, 0.75, 0.40, 0.85, 0.001, 0.0, 0.0, 0.5, 2, 0.78,
                       ("a", "b", "c"), (45.0, 20.0, 35.0), rows)  # fmt: skip
    (g,) = grade_pool(replace(kb, pools=(pool,)), EMPTY_ROB)
    assert g.domain("risk_of_bias").reason == "not assessed for 3 of 3 studies"
    assert (g.start, g.certainty) == (2, "low")
