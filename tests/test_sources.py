"""The evidence-tier rule (terms/tiers.py) and the tier vocabulary (terms/vocab/source.ttl) say the same."""

from rdflib.namespace import SKOS

from terms import namespaces as ns
from terms.tiers import KIND_ROLES, TIER_LABEL, TIER_RANK, figure_tier, kind_notation, publication_tier
from terms.vocabulary import terms, tier_rank, vocabulary_graph


def test_ranks_and_labels_are_the_vocabularys():
    g = vocabulary_graph()
    assert set(TIER_RANK) == set(terms("evidence_tier"))
    for tier, rank in TIER_RANK.items():
        assert tier_rank(str(getattr(ns.EVIDENCE_TIER, tier))) == rank
        assert str(g.value(getattr(ns.EVIDENCE_TIER, tier), SKOS.prefLabel)) == TIER_LABEL[tier]
    assert {kind_notation(k) for k in KIND_ROLES} == set(terms("source_kind"))


def test_a_figure_is_never_read_more_directly_than_its_report():
    assert publication_tier("journal article", "full text") == "trial_full_report"
    assert publication_tier("journal article", "abstract") == "trial_abstract"
    assert figure_tier("trial_abstract", "coverage page") == "coverage_page"
    assert figure_tier("coverage_page", "review") == "coverage_page"  # the weaker of the two
    assert figure_tier("conference_abstract", None) == "conference_abstract"
