"""The SKOS schemes and the DefinedNamespaces that mirror them."""

import pytest
from rdflib import URIRef
from rdflib.namespace import RDF, SKOS

from terms import namespaces as ns
from terms.errors import UnknownTermError
from terms.vocabulary import SCHEMES, resolve, terms, vocabulary_graph


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_defined_namespace_lists_exactly_the_scheme_terms(scheme):
    dns = SCHEMES[scheme]
    declared = {name for name in dns.__annotations__}
    assert declared == set(terms(scheme))


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_concept_is_documented_and_well_placed(scheme):
    g = vocabulary_graph()
    base = URIRef(str(SCHEMES[scheme]._NS))
    assert (base, RDF.type, SKOS.ConceptScheme) in g
    for term in terms(scheme):
        concept = getattr(SCHEMES[scheme], term)
        assert (concept, RDF.type, SKOS.Concept) in g, term
        assert g.value(concept, SKOS.prefLabel) is not None, term
        assert g.value(concept, SKOS.definition) is not None, term
        assert str(g.value(concept, SKOS.notation)) == term
        for parent in g.objects(concept, SKOS.broader):
            assert (parent, SKOS.inScheme, base) in g, f"{term} broader {parent} outside its scheme"
        is_top = (concept, SKOS.topConceptOf, base) in g
        assert is_top or g.value(concept, SKOS.broader) is not None, f"{term} is neither top nor narrower"


def test_typo_in_python_is_an_error():
    with pytest.raises(AttributeError):
        ns.OUTCOME.overal_survival  # noqa: B018
    with pytest.raises(AttributeError):
        ns.OKB.vallue  # noqa: B018


def test_unknown_term_lists_closest_terms():
    with pytest.raises(UnknownTermError, match="did you mean 'nsclc_egfr'"):
        resolve("histology", "nsclc_egrf")
    with pytest.raises(UnknownTermError, match="'overall_survival'"):
        resolve("outcome", "OS")  # an altLabel points to its term id


def test_estro_eortc_tree_leaves():
    g = vocabulary_graph()
    leaves = {
        "synchronous",
        "metachronous_oligorecurrence",
        "metachronous_oligoprogression",
        "repeat_oligorecurrence",
        "repeat_oligoprogression",
        "repeat_oligopersistence",
        "induced_oligorecurrence",
        "induced_oligoprogression",
        "induced_oligopersistence",
    }
    for leaf in leaves:
        concept = resolve("oligo_state", leaf)
        assert not list(g.subjects(SKOS.broader, concept)), f"{leaf} should be a leaf"
    branch = {leaf: str(g.value(g.value(resolve("oligo_state", leaf), SKOS.broader), SKOS.notation)) for leaf in leaves}
    assert branch["repeat_oligoprogression"] == "repeat"
    assert branch["induced_oligopersistence"] == "induced"
    assert branch["metachronous_oligorecurrence"] == "metachronous"
    assert branch["synchronous"] == "de_novo"


def test_ontology_terms_match_okb_namespace():
    g = vocabulary_graph()
    base = str(ns.OKB._NS)
    in_ttl = {str(s)[len(base) :] for s in g.subjects() if str(s).startswith(base) and str(s) != base}
    assert in_ttl == set(ns.OKB.__annotations__)
