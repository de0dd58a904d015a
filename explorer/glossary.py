"""What a reader needs to name things: a glossary of the vocabulary terms a figure is filed under
(terms/vocab, SKOS) and the prefixes, classes and properties of the data model (terms/ontology.ttl) for a
SPARQL query, read from the files themselves so they cannot drift from what the graph holds.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.namespace import SKOS

from explorer.data import scheme_base, vocabulary_tree
from terms.vocabulary import ONTOLOGY_FILE, vocabulary_graph

# The schemes a user filters or pools by, in the order the explorer offers them.
GLOSSARY_SCHEMES = ("outcome", "statistic", "histology", "oligo_state", "design", "evidence_tier")

GLOSSARY_COLUMNS = ["vocabulary", "term", "notation", "definition", "IRI"]


@cache
def glossary() -> pd.DataFrame:
    """One row per concept of GLOSSARY_SCHEMES: its label (indented under its broader term), notation,
    definition and IRI."""
    g = vocabulary_graph()
    rows = []
    for scheme in GLOSSARY_SCHEMES:
        base = scheme_base(scheme)
        name = str(g.value(URIRef(base), SKOS.prefLabel) or scheme)
        for term in vocabulary_tree(scheme):
            iri = URIRef(base + term.id)
            rows.append(
                {
                    "vocabulary": name,
                    "term": term.display(),
                    "notation": str(g.value(iri, SKOS.notation) or term.id),
                    "definition": str(g.value(iri, SKOS.definition) or ""),
                    "IRI": str(iri),
                }
            )
    return pd.DataFrame(rows, columns=GLOSSARY_COLUMNS)


@cache
def _ontology() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY_FILE, format="turtle")
    return g


def prefixes() -> dict[str, str]:
    """The prefixes the knowledge base's Turtle is written with (kb.turtle.bind_prefixes), and skos and rdfs."""
    from kb.turtle import bind_prefixes

    bound = {p: str(ns) for p, ns in bind_prefixes(Graph(bind_namespaces="none")).namespaces()}
    return bound | {"skos": str(SKOS), "rdfs": str(RDFS)}


KINDS = {OWL.Class: "class", OWL.ObjectProperty: "property (to a node)", OWL.DatatypeProperty: "property (to a value)"}


def _short(iri: object, names: dict[str, str]) -> str:
    text = str(iri)
    for prefix, ns in names.items():
        if text.startswith(ns):
            return f"{prefix}:{text[len(ns) :]}"
    return text


@cache
def model_terms() -> pd.DataFrame:
    """The classes and properties of terms/ontology.ttl: the term as a query writes it (okb:Statistic), its
    kind, label, domain, range and comment; classes first."""
    g = _ontology()
    names = {p: str(ns) for p, ns in g.namespaces() if p}
    rows = []
    for kind, kind_name in KINDS.items():
        for subject in sorted(set(g.subjects(RDF.type, kind)), key=str):
            rows.append(
                {
                    "term": _short(subject, names),
                    "kind": kind_name,
                    "label": str(g.value(subject, RDFS.label) or ""),
                    "domain": _short(g.value(subject, RDFS.domain) or "", names),
                    "range": _short(g.value(subject, RDFS.range) or "", names),
                    "comment": str(g.value(subject, RDFS.comment) or ""),
                }
            )
    return pd.DataFrame(rows, columns=["term", "kind", "label", "domain", "range", "comment"])


# One query a user can start from: every outcome with how many figures the knowledge base holds of it.
EXAMPLE_QUERY = """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?outcome (COUNT(?stat) AS ?figures) WHERE {
  ?stat a okb:Statistic ; okb:outcome ?o .
  ?o skos:prefLabel ?outcome .
}
GROUP BY ?outcome
ORDER BY DESC(?figures)"""
