"""The SKOS vocabularies of terms/vocab/*.ttl: loading, term lookup with closest-term hints, labels."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS, DefinedNamespace

from terms import namespaces as ns
from terms.errors import UnknownTermError

VOCAB_DIR = Path(__file__).parent / "vocab"
ONTOLOGY_FILE = Path(__file__).parent / "ontology.ttl"

# Sheet field name -> the DefinedNamespace of its scheme.
SCHEMES: dict[str, type[DefinedNamespace]] = {
    "curation_flag": ns.CURATION_FLAG,
    "design": ns.DESIGN,
    "estimator": ns.ESTIMATOR,
    "evidence_tier": ns.EVIDENCE_TIER,
    "histology": ns.HISTOLOGY,
    "oligo_state": ns.OLIGO_STATE,
    "outcome": ns.OUTCOME,
    "publication_role": ns.PUBLICATION_ROLE,
    "rob_domain": ns.ROB_DOMAIN,
    "rob_judgement": ns.ROB_JUDGEMENT,
    "rob_tool": ns.ROB_TOOL,
    "source_kind": ns.SOURCE_KIND,
    "statistic": ns.STATISTIC,
    "time_origin": ns.TIME_ORIGIN,
    "treatment": ns.TREATMENT,
    "unit_of_analysis": ns.UNIT_OF_ANALYSIS,
    "unit": ns.UNIT,
}


@lru_cache(maxsize=1)
def vocabulary_graph() -> Graph:
    """All concept schemes and the ontology, parsed once (read-only by convention)."""
    graph = Graph()
    for path in sorted(VOCAB_DIR.glob("*.ttl")):
        graph.parse(path, format="turtle")
    graph.parse(ONTOLOGY_FILE, format="turtle")
    return graph


@dataclass(frozen=True)
class _Lookups:
    """What the term and label lookups read, from the files vocabulary_graph parses: each concept's schemes,
    labels, broader concept and levels, IRIs and literal values as text, in file order."""

    members: dict[str, list[str]]  # scheme IRI -> its concepts (skos:inScheme)
    labels: dict[str, dict[str, list[str]]]  # skos:prefLabel / skos:altLabel IRI -> concept -> labels
    values: dict[str, dict[str, str]]  # skos:broader, okb:stratumLevel, okb:tierRank IRI -> concept -> value


_LOOKUP_PREDICATES = (SKOS.prefLabel, SKOS.altLabel, SKOS.broader, ns.OKB.stratumLevel, ns.OKB.tierRank)


@cache
def _lookups() -> _Lookups:
    """Parsed by Oxigraph, which reads these files in a few milliseconds where rdflib's parser takes 0.1-0.25 s:
    more than a command that only needs labels (`oligokb pool kb`) takes for everything else
    (docs/performance.md, issue 17). tests/test_vocabulary_lookups.py checks every answer against the graph."""
    import pyoxigraph as ox

    members: dict[str, list[str]] = {}
    labels: dict[str, dict[str, list[str]]] = {str(SKOS.prefLabel): {}, str(SKOS.altLabel): {}}
    values: dict[str, dict[str, str]] = {str(p): {} for p in _LOOKUP_PREDICATES[2:]}
    in_scheme = str(SKOS.inScheme)
    for path in [*sorted(VOCAB_DIR.glob("*.ttl")), ONTOLOGY_FILE]:
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            subject, predicate, obj = (
                getattr(x, "value", "") for x in (triple.subject, triple.predicate, triple.object)
            )
            if isinstance(triple.subject, ox.BlankNode):
                continue
            if predicate == in_scheme and isinstance(triple.object, ox.NamedNode):
                members.setdefault(obj, []).append(subject)
            elif predicate in labels and isinstance(triple.object, ox.Literal):
                labels[predicate].setdefault(subject, []).append(obj)
            elif predicate in values:
                is_iri = isinstance(triple.object, ox.NamedNode)
                if is_iri == (predicate == str(SKOS.broader)) and isinstance(triple.object, ox.NamedNode | ox.Literal):
                    values[predicate].setdefault(subject, obj)
    return _Lookups(members, labels, values)


@cache
def terms(scheme: str) -> tuple[str, ...]:
    """The term ids (skos:notation) of a scheme, sorted."""
    base = str(SCHEMES[scheme])
    return tuple(sorted(c[len(base) :] for c in dict.fromkeys(_lookups().members.get(base, []))))


@cache
def _labels(scheme: str) -> dict[str, str]:
    """Lower-cased prefLabel and altLabel -> term id, to suggest the id for a label typed by hand."""
    base = str(SCHEMES[scheme])
    found = _lookups()
    out: dict[str, str] = {}
    for concept in dict.fromkeys(found.members.get(base, [])):
        term = concept[len(base) :]
        for prop in (SKOS.prefLabel, SKOS.altLabel):
            for label in found.labels[str(prop)].get(concept, []):
                out[label.lower()] = term
    return out


def closest(scheme: str, term: str, n: int = 3) -> list[str]:
    """Closest term ids to `term`, by id and by label."""
    candidates = list(difflib.get_close_matches(term, terms(scheme), n=n, cutoff=0.5))
    by_label = _labels(scheme).get(term.lower().strip())
    if by_label and by_label not in candidates:
        candidates.insert(0, by_label)
    for label, tid in _labels(scheme).items():
        if len(candidates) >= n:
            break
        if term.lower() in label and tid not in candidates:
            candidates.append(tid)
    return candidates[:n]


def resolve(scheme: str, term: str) -> URIRef:
    """The IRI of `term` in `scheme`, or UnknownTermError naming the closest terms."""
    if term in terms(scheme):
        return getattr(SCHEMES[scheme], term)
    hints = closest(scheme, term)
    hint = f"; did you mean {', '.join(repr(h) for h in hints)}?" if hints else ""
    raise UnknownTermError(
        f"{term!r} is not a term of the {scheme} vocabulary (terms/vocab){hint} Allowed: {', '.join(terms(scheme))}"
    )


def _spelling(text: str) -> str:
    """How a term is compared when a person types it: case, and spaces, underscores and hyphens, ignored
    ('Hazard Ratio', 'hazard_ratio' and 'hazard-ratio' are one spelling)."""
    return re.sub(r"[\s_-]+", " ", text).strip().lower()


@cache
def _spellings(scheme: str) -> dict[str, str]:
    """Every spelling of every term of a scheme -> its id: ids, then preferred labels, then alternative
    labels (an alternative label never takes a spelling an id or a preferred label already has)."""
    base = str(SCHEMES[scheme])
    out = {_spelling(t): t for t in terms(scheme)}
    for prop in (SKOS.prefLabel, SKOS.altLabel):
        by_concept = _lookups().labels[str(prop)]
        for concept, label in sorted((c, label) for c, labels in by_concept.items() for label in labels):
            term = concept[len(base) :]
            if concept.startswith(base) and term in terms(scheme):
                out.setdefault(_spelling(label), term)
    return out


def near_terms(scheme: str, text: str, n: int = 3) -> list[str]:
    """The ids of the terms spelled most like `text` (by id or label; difflib), closest first."""
    spellings = _spellings(scheme)
    near = difflib.get_close_matches(_spelling(text), list(spellings), n=3 * n, cutoff=0.6)
    return list(dict.fromkeys(spellings[s] for s in near))[:n] or closest(scheme, text, n)


def term_id(scheme: str, text: str) -> str:
    """A term as a person types it on the command line -> its id (notation): the id itself, its label or
    an alternative label ('hazard ratio', 'hazard_ratio', 'Hazard Ratio', 'HR'); UnknownTermError listing
    the close ones otherwise. Sheets are stricter: they hold ids (`resolve`)."""
    if text in terms(scheme):
        return text
    found = _spellings(scheme).get(_spelling(text))
    if found is not None:
        return found
    hints = [f"{h!r} ({pref_label(getattr(SCHEMES[scheme], h))})" for h in near_terms(scheme, text)]
    hint = f"; did you mean {', '.join(hints)}?" if hints else "."
    raise UnknownTermError(
        f"{text!r} is not a term of the {scheme} vocabulary{hint} Terms (by id or label): {', '.join(terms(scheme))}"
    )


@cache  # the vocabularies do not change while a process runs; exports ask per row
def pref_label(iri: URIRef | str) -> str:
    """The English prefLabel of a concept, lower case (the export contract's convention)."""
    labels = _lookups().labels[str(SKOS.prefLabel)].get(str(iri))
    return labels[0].lower() if labels else ""


def _broader(iri: str) -> str | None:
    return _lookups().values[str(SKOS.broader)].get(iri)


@cache
def top_concept(iri: URIRef) -> URIRef:
    """Follow skos:broader up to the top concept (e.g. rct_phase_2 -> randomised)."""
    current = iri
    for _ in range(20):
        parent = _broader(str(current))
        if parent is None:
            return current
        current = URIRef(parent)
    return current


def concept_schemes() -> list[URIRef]:
    return sorted(s for s in vocabulary_graph().subjects(RDF.type, SKOS.ConceptScheme) if isinstance(s, URIRef))


@cache
def tier_rank(iri: str) -> int | None:
    """An evidence tier's rank (okb:tierRank: 1 = the trial's own full report ... 6 = a coverage page)."""
    value = _lookups().values[str(ns.OKB.tierRank)].get(str(iri))
    return int(value) if value is not None else None


@cache
def stratum_concept(iri: str, level: int) -> str:
    """The concept a term is pooled under at stratum level `level` (okb:stratumLevel, terms/vocab): the
    term itself when its level is <= level, else its nearest broader term whose level is <= level;
    a term with no level on it or above it stands for itself."""
    levels = _lookups().values[str(ns.OKB.stratumLevel)]
    current: str | None = str(iri)
    for _ in range(20):
        if current is None:
            break
        own = levels.get(current)
        if own is not None and int(own) <= level:
            return current
        current = _broader(current)
    return iri
