"""The pooling policy's rule table (analysis/policy_rules.py): the one place its reasons are written,
and the order in which left-out rows are listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_policy import row, table

from analysis.policy import select_estimates
from analysis.policy_rules import (
    ADJUSTED,
    EFFECT_FAILURES,
    FLAGGED,
    NO_EFFECT_SIZE,
    NOT_TREATMENT,
    RULES,
    ReasonContext,
    reason,
)

ANALYSIS = Path(__file__).resolve().parents[2] / "analysis"


def test_kind_codes_are_the_rules_order():
    assert [r.kind for r in RULES] == list(range(len(RULES)))
    assert [r.kind for r in EFFECT_FAILURES] == list(range(len(EFFECT_FAILURES)))
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize(
    "phrase",
    [
        "a prognostic association, not the effect of MDT",
        "the unadjusted (ITT) estimate of this study is used",
        "is not a treated arm",
        "not an oligometastatic population",
        "value {row['value']!r} is not a number",
        "no standard error can be derived",
        "a rate cannot be weighted",
        "is not percent",
        "cannot derive an SE",
        "one estimate per study and stratum:",
        "is left out so no patient counts twice",
        "which are in this analysis",
        "this study contributes its {why.partition",
    ],
)
def test_each_reason_is_written_once(phrase):
    found = [p.name for p in sorted(ANALYSIS.glob("*.py")) for _ in range(p.read_text().count(phrase))]
    assert found == ["policy_rules.py"], (phrase, found)


def test_left_out_rows_are_listed_by_rule_in_the_rules_order():
    rows = table(
        row(study_id="d", study_label="D", publication_id="d1", value="0.8"),  # no CI, no p
        row(
            study_id="c",
            study_label="C",
            publication_id="c1",
            value="0.7",
            ci_low="0.5",
            ci_high="0.9",
            adjusted="true",
        ),
        row(
            study_id="c",
            study_label="C",
            publication_id="c1",
            value="0.6",
            ci_low="0.4",
            ci_high="0.9",
            group="SABR (ITT)",
        ),
        row(
            study_id="b",
            study_label="B",
            publication_id="b1",
            value="0.9",
            ci_low="0.6",
            ci_high="1.2",
            design_class="observational",
        ),
        row(
            study_id="a",
            study_label="A",
            publication_id="a1",
            value="0.5",
            ci_low="0.3",
            ci_high="0.8",
            flags="do_not_pool",
            flag_reasons="do_not_pool: curators advise against it",
        ),
    )
    sel = select_estimates(rows, outcome="overall survival", statistic="hazard ratio")
    assert list(sel.used["study_id"]) == ["c"]
    assert list(sel.excluded["study_id"]) == ["a", "b", "c", "d"]
    why = ReasonContext(tiers=(), excluded_flags=frozenset({"do_not_pool"}), failure=1)
    expected = [
        reason(kind, r, why)
        for kind, r in zip(
            (FLAGGED, NOT_TREATMENT, ADJUSTED, NO_EFFECT_SIZE), sel.excluded.to_dict("records"), strict=True
        )
    ]
    assert list(sel.excluded["reason"]) == expected
    assert expected[0] == "curation flag do_not_pool: curators advise against it"
