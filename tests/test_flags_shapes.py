"""The curation-flag shapes of kb/shapes.ttl (issue 20): each has a conformant and a violating snippet."""

from __future__ import annotations

import pytest

from tests.test_shapes import VALID_HR, VALID_RATE, _violations

CF = "https://w3id.org/oligokb/vocab/curation-flag/"


def _flag(target: str, kind: str, extra: str = "") -> str:
    return (
        f"\n{target} okb:hasFlag :f .\n:f a okb:CurationFlag ; okb:flagKind <{CF}{kind}> ; "
        f'okb:flagReason "a reason long enough" {extra}.\n'
    )


VALID = [
    ("direction-on-hr", VALID_HR + _flag(":x", "direction_doubtful")),
    ("ci-level-on-hr-with-ci", VALID_HR + _flag(":x", "ci_level_doubtful")),
    (
        "duplicate-names-other",
        VALID_HR + VALID_RATE.replace(":x ", ":y ") + _flag(":x", "duplicate_of", "; okb:otherStatistic :y "),
    ),
    ("group-low-confidence", VALID_RATE + _flag(":g1", "mapping_low_confidence", "; okb:alternative os:synchronous ")),
    (
        "post-randomisation-without-arm",
        VALID_RATE + ':g1 okb:subgroupBy "post_randomisation" .' + _flag(":g1", "post_randomisation_subgroup"),
    ),
]


@pytest.mark.parametrize("snippet", [s for _, s in VALID], ids=[i for i, _ in VALID])
def test_flag_snippets_conform(snippet):
    assert _violations(snippet) == []


INVALID = [
    ("direction-on-a-rate", VALID_RATE + _flag(":x", "direction_doubtful"), "does not fit what it is on"),
    ("ci-level-without-ci", VALID_RATE + _flag(":x", "ci_level_doubtful"), "does not fit what it is on"),
    ("statistic-kind-on-a-group", VALID_RATE + _flag(":g1", "direction_doubtful"), "does not fit what it is on"),
    ("other-kind-on-a-mapping", VALID_RATE + _flag(":sa", "do_not_pool"), "does not fit what it is on"),
    ("unknown-kind", VALID_RATE + _flag(":x", "whatever"), "a term of the curation-flag scheme"),
    (
        "no-reason",
        VALID_RATE + _flag(":x", "do_not_pool").replace('okb:flagReason "a reason long enough" ', ""),
        "says why",
    ),
    (
        "target-missing",
        VALID_HR + _flag(":x", "duplicate_of", "; okb:otherStatistic :nowhere "),
        "not a Statistic of the knowledge base",
    ),
    ("duplicate-without-other", VALID_HR + _flag(":x", "duplicate_of"), "names the preferred statistic"),
    (
        "duplicate-of-itself",
        VALID_HR + _flag(":x", "duplicate_of", "; okb:otherStatistic :x "),
        "names the preferred statistic",
    ),
    (
        "low-confidence-mapping-names-a-state",
        VALID_RATE
        + ':sa okb:confidence "low" ; okb:oligoState os:synchronous .'
        + _flag(":sa", "mapping_low_confidence", "; okb:alternative os:unresolved "),
        "mapping of low confidence",
    ),
    (
        "low-confidence-mapping-without-flag",
        VALID_RATE + ':sa okb:confidence "low" ; okb:oligoState os:unresolved .',
        "mapping of low confidence",
    ),
    ("unknown-partition", VALID_RATE + ':g1 okb:subgroupBy "shoe_size" .', "partition variables"),
    (
        "post-randomisation-on-a-randomised-arm",
        VALID_RATE + ':g1 okb:subgroupBy "post_randomisation" ; okb:ofArm :arm . '
        ':arm a okb:Arm ; okb:armRole "control" .' + _flag(":g1", "post_randomisation_subgroup"),
        "arm role of a randomised arm",
    ),
    (
        "post-randomisation-without-flag",
        VALID_RATE + ':g1 okb:subgroupBy "post_randomisation" .',
        "carries a post_randomisation_subgroup flag",
    ),
]


@pytest.mark.parametrize("snippet,expected", [(s, e) for _, s, e in INVALID], ids=[i for i, _, _ in INVALID])
def test_flag_snippets_violate_the_right_shape(snippet, expected):
    messages = _violations(snippet)
    assert any(expected in m for m in messages), messages
