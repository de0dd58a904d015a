"""The study page's data: the named queries `studies` and `publications` of kb/query.py, plus the
study sheet as it is in the graph (arms, each report's groups, the oligo-state assignment with its
rationale, candidates and inputs). Reads an rdflib Graph or anything kb.query.run_named reads (the
Oxigraph copy, a remote SPARQL endpoint); parameters are bound as run_named binds them (initBindings,
substitution, or a checked VALUES block), never formatted in."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rdflib import Graph, URIRef

from kb.backend import KnowledgeBase, as_kb
from kb.query import run_named
from terms.vocabulary import pref_label

PREFIXES = """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

STUDY = (
    PREFIXES
    + """
SELECT ?study ?label ?design ?histology ?composition ?intervention ?intervention_as_published ?comparator
       ?comparator_as_published ?registry ?institution ?accrual ?oligo_state ?oligo_state_as_published
       ?confidence ?mapped_by ?rationale
WHERE {
  ?study rdfs:label ?label ; okb:design ?design ; okb:histology ?histology ; okb:intervention ?intervention ;
         okb:oligoState ?oligo_state ; okb:oligoStateAsPublished ?oligo_state_as_published .
  OPTIONAL { ?study okb:histologyComposition ?composition }
  OPTIONAL { ?study okb:interventionAsPublished ?intervention_as_published }
  OPTIONAL { ?study okb:comparator ?comparator }
  OPTIONAL { ?study okb:comparatorAsPublished ?comparator_as_published }
  OPTIONAL { ?study okb:registryId ?registry }
  OPTIONAL { ?study okb:institution ?institution }
  OPTIONAL { ?study okb:accrualPeriod ?accrual }
  OPTIONAL { ?study okb:oligoStateAssignment ?a .
             OPTIONAL { ?a okb:confidence ?confidence } OPTIONAL { ?a okb:mappedBy ?mapped_by }
             OPTIONAL { ?a okb:rationale ?rationale } }
}"""
)

NOTES = PREFIXES + "SELECT ?study ?note WHERE { ?study okb:note ?note } ORDER BY ?note"

CANDIDATES = (
    PREFIXES + "SELECT ?study ?state WHERE { ?study okb:oligoStateAssignment ?a . ?a okb:candidateState ?state }"
)

INPUTS = (
    PREFIXES
    + """
SELECT ?study ?input ?answer ?publication_id ?locator ?quote
WHERE {
  ?study okb:oligoStateAssignment ?a . ?a okb:hasInput ?i . ?i okb:inputName ?input ; okb:answer ?answer .
  OPTIONAL { ?i prov:qualifiedDerivation ?d . ?d okb:locator ?locator ; okb:quote ?quote ; prov:entity ?pub .
             ?pub dcterms:identifier ?publication_id }
}
ORDER BY ?input ?answer"""
)

ARMS = (
    PREFIXES
    + """
SELECT ?study ?arm_id ?label ?role ?treatment
WHERE { ?study okb:hasArm ?arm . ?arm dcterms:identifier ?arm_id ; rdfs:label ?label ; okb:armRole ?role .
        OPTIONAL { ?arm okb:treatment ?treatment } }
ORDER BY ?role ?arm_id"""
)

GROUPS = (
    PREFIXES
    + """
SELECT ?study ?publication_id ?group_id ?label ?n ?unit ?arm_id ?histology ?oligo_state
WHERE {
  ?group a okb:Group ; okb:inStudy ?study ; dcterms:identifier ?group_id ; rdfs:label ?label .
  ?pub okb:hasGroup ?group ; dcterms:identifier ?publication_id .
  OPTIONAL { ?group okb:n ?n }
  OPTIONAL { ?group okb:unitOfAnalysis ?unit }
  OPTIONAL { ?group okb:ofArm ?arm . ?arm dcterms:identifier ?arm_id }
  OPTIONAL { ?group okb:histology ?histology }
  OPTIONAL { ?group okb:oligoState ?oligo_state }
}
ORDER BY ?publication_id ?group_id"""
)

# Curation flags (docs/curation-flags.md) on the study's oligo-state mapping, its groups and its figures.
FLAGS = (
    PREFIXES
    + """
SELECT ?study ?on ?flag ?reason ?other
WHERE {
  { ?study okb:oligoStateAssignment ?target . BIND("oligo-state mapping" AS ?on) }
  UNION { ?target a okb:Group ; okb:inStudy ?study ; dcterms:identifier ?gid . ?gpub okb:hasGroup ?target ; dcterms:identifier ?gpid .
          BIND(CONCAT("group ", ?gpid, " / ", ?gid) AS ?on) }
  UNION { ?target a okb:Statistic ; okb:group ?sgroup ; dcterms:identifier ?sid ; prov:wasDerivedFrom ?spub .
          ?sgroup okb:inStudy ?study . ?spub dcterms:identifier ?spid . BIND(CONCAT("figure ", ?spid, " / ", ?sid) AS ?on) }
  ?target okb:hasFlag ?f . ?f okb:flagKind ?kind ; okb:flagReason ?reason .
  OPTIONAL { ?f okb:otherStatistic ?o }
  BIND(STRAFTER(STR(?kind), "curation-flag/") AS ?flag)
  BIND(IF(BOUND(?o), STRAFTER(STR(?o), "/id/pub/"), "") AS ?other)
}
ORDER BY ?on ?flag"""
)

OVERLAPS = (
    PREFIXES
    + """
SELECT ?study ?other_id ?other_label WHERE {
  { ?study okb:overlapsWith ?other } UNION { ?other okb:overlapsWith ?study }
  ?other dcterms:identifier ?other_id ; rdfs:label ?other_label }
ORDER BY ?other_id"""
)


def _select(kb: KnowledgeBase, text: str, study: URIRef) -> pd.DataFrame:
    """One of the queries above for one study (kb.store.OxigraphKB reads it from the whole answer, kept
    per KB version); ?study is projected because Oxigraph substitutes only projected variables, and
    dropped from the frame."""
    return kb.select_per_study(text, study).drop(columns=["study"])


def _label(value) -> str:
    if isinstance(value, str):
        return pref_label(value) if value.startswith("http") else value
    return "" if value is None or pd.isna(value) else str(value)  # unbound: None (Oxigraph) or NaN (rdflib frames)


def _labelled(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for col in columns:
        frame[col] = frame[col].map(_label)
    return frame.astype(object).fillna("")


@dataclass(frozen=True)
class StudyPage:
    study_id: str
    facts: dict[str, str]
    notes: list[str]
    candidates: list[str]
    inputs: pd.DataFrame
    arms: pd.DataFrame
    groups: pd.DataFrame
    publications: pd.DataFrame
    overlaps: pd.DataFrame
    flags: pd.DataFrame  # curation flags: on (mapping, group, figure), flag, reason, other


def study_choices(graph: KnowledgeBase | Graph) -> pd.DataFrame:
    """The `studies` named query with labels: one row per study."""
    studies = run_named(graph, "studies", lexical=True)
    for col in ("publications", "figures"):
        studies[col] = pd.to_numeric(studies[col]).fillna(0).astype(int)
    return _labelled(studies, ["design", "histology", "oligo_state"])


def study_page(graph: KnowledgeBase | Graph, study_id: str) -> StudyPage | None:
    """Everything the study page shows; None when the study is not in the knowledge base."""
    graph = as_kb(graph)
    # The study's IRI as the knowledge base has it (a synthetic KB uses its own base, terms.namespaces.SYNTH_ID).
    studies = run_named(graph, "studies", lexical=True)
    match = studies.loc[studies["study_id"] == study_id, "study"]
    if match.empty:
        return None
    study = URIRef(str(match.iat[0]))
    facts = _select(graph, STUDY, study)
    if facts.empty:
        return None
    row = _labelled(facts, ["design", "histology", "intervention", "comparator", "oligo_state"]).iloc[0].to_dict()
    pubs = run_named(graph, "publications", {"study": str(study)}, lexical=True)  # the cached table where there is one
    pubs = _labelled(pubs, ["role"])
    return StudyPage(
        study_id=study_id,
        facts={str(k): str(v) for k, v in row.items()},
        notes=[str(n) for n in _select(graph, NOTES, study)["note"]],
        candidates=sorted(_label(s) for s in _select(graph, CANDIDATES, study)["state"]),
        inputs=_select(graph, INPUTS, study).fillna(""),
        arms=_labelled(_select(graph, ARMS, study), ["treatment"]),
        groups=_labelled(_select(graph, GROUPS, study), ["unit", "histology", "oligo_state"]).assign(
            n=lambda f: f["n"].map(lambda v: "" if v == "" or v is None else str(int(v)))
        ),
        publications=pubs,
        overlaps=_select(graph, OVERLAPS, study).fillna(""),
        flags=_select(graph, FLAGS, study).fillna(""),
    )
