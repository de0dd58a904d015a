"""terms.vocabulary answers its term and label lookups from the files parsed by Oxigraph (fast), not from the rdflib
graph: every answer is checked here against the graph itself, read the way those functions read it before."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from terms import namespaces as ns
from terms import vocabulary as v


def concepts() -> list[URIRef]:
    g = v.vocabulary_graph()
    return sorted({s for s in g.subjects() if isinstance(s, URIRef)})


@pytest.mark.parametrize("scheme", sorted(v.SCHEMES))
def test_terms_labels_and_spellings_are_the_graphs(scheme: str) -> None:
    g = v.vocabulary_graph()
    base = str(v.SCHEMES[scheme])
    members = list(g.subjects(SKOS.inScheme, URIRef(base)))
    assert v.terms(scheme) == tuple(sorted(str(c)[len(base) :] for c in members))
    assert len(v.terms(scheme)) > 1
    labels: dict[str, str] = {}
    for concept in members:
        for prop in (SKOS.prefLabel, SKOS.altLabel):
            for label in g.objects(concept, prop):
                labels[str(label).lower()] = str(concept)[len(base) :]
    assert v._labels(scheme) == labels
    spellings = {v._spelling(t): t for t in v.terms(scheme)}
    for prop in (SKOS.prefLabel, SKOS.altLabel):
        for concept, label in sorted(g.subject_objects(prop)):
            term = str(concept)[len(base) :]
            if str(concept).startswith(base) and term in v.terms(scheme):
                spellings.setdefault(v._spelling(str(label)), term)
    assert v._spellings(scheme) == spellings


def test_each_concept_has_one_preferred_label_and_at_most_one_broader() -> None:
    # graph.value() picks any one of several; the lookups keep the first: the same only when there is one
    g = v.vocabulary_graph()
    for concept in concepts():
        assert len(list(g.objects(concept, SKOS.prefLabel))) <= 1, concept
        assert len(list(g.objects(concept, SKOS.broader))) <= 1, concept


def test_labels_broader_concepts_levels_and_tier_ranks_are_the_graphs() -> None:
    g = v.vocabulary_graph()
    checked = {"label": 0, "top": 0, "level": 0, "rank": 0}
    for concept in concepts():
        label = g.value(concept, SKOS.prefLabel)
        assert v.pref_label(concept) == (str(label).lower() if label is not None else "")
        assert v.pref_label(str(concept)) == v.pref_label(concept)
        top = concept
        while isinstance(parent := g.value(top, SKOS.broader), URIRef):
            top = parent
        assert v.top_concept(concept) == top
        rank = g.value(concept, ns.OKB.tierRank)
        assert v.tier_rank(str(concept)) == (int(rank) if isinstance(rank, Literal) else None)
        for level in (1, 2):
            current: URIRef | None = concept
            expected = str(concept)
            while current is not None:
                own = g.value(current, ns.OKB.stratumLevel)
                if isinstance(own, Literal) and int(own) <= level:
                    expected = str(current)
                    break
                broader = g.value(current, SKOS.broader)
                current = broader if isinstance(broader, URIRef) else None
            assert v.stratum_concept(str(concept), level) == expected
            checked["level"] += expected != str(concept)
        checked["label"] += label is not None
        checked["top"] += top != concept
        checked["rank"] += rank is not None
    assert min(checked.values()) > 0, checked  # each lookup met a concept that has what it looks for
    assert v.pref_label("https://example.org/not-a-concept") == ""
