"""The SPARQL console's runner: the one guard (kb.sparql_guard.check_query, inside kb.query.run_query),
then the query evaluated by Oxigraph, in a separate process with a time limit and a row cap.

The worker is server.limits' (the mechanism the SPARQL endpoint uses too): a fresh process that loads the
knowledge base read-only and runs the query; when the time limit passes it is killed, so a runaway query
costs nothing after that. QueryFailed is server.limits.QueryFailed.

With a SPARQL endpoint (the explorer's --endpoint / OLIGOKB_ENDPOINT), the guarded query is sent there
instead (kb.remote.SparqlEndpoint.query: the guard runs before anything is sent); the store's own limits
apply, and the client gives up when the endpoint is silent for the time limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyoxigraph as ox
from rdflib import Graph, URIRef

from kb.sparql_guard import CheckedQuery, check_query
from server.limits import QueryFailed, run_once  # noqa: F401 - QueryFailed is the console's error (app.py)
from terms.errors import QueryRefused

if TYPE_CHECKING:
    from kb.store import OxigraphKB

TIME_LIMIT_S = 20.0
ROW_CAP = 1000
TRIPLE_CAP = 5000

EXAMPLES: dict[str, str] = {
    "Studies with their design and oligo-state": """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?study ?design ?oligo_state ?as_published WHERE {
  ?s a okb:Study ; rdfs:label ?study ; okb:design/skos:prefLabel ?design ;
     okb:oligoState/skos:prefLabel ?oligo_state ; okb:oligoStateAsPublished ?as_published .
}
ORDER BY ?study""",
    "Hazard ratios with their quotes": """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX st: <https://w3id.org/oligokb/vocab/statistic/>
SELECT ?study ?outcome ?hr ?low ?high ?quote WHERE {
  ?stat okb:statisticType st:hazard_ratio ; okb:valueAsPublished ?hr ; okb:outcome/skos:prefLabel ?outcome ;
        okb:group/okb:inStudy/rdfs:label ?study ; prov:qualifiedDerivation/okb:quote ?quote .
  OPTIONAL { ?stat okb:ciLowAsPublished ?low ; okb:ciHighAsPublished ?high }
}
ORDER BY ?study ?outcome""",
    "Figures per outcome": """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?outcome (COUNT(?stat) AS ?figures) WHERE {
  ?stat a okb:Statistic ; okb:outcome/skos:prefLabel ?outcome .
}
GROUP BY ?outcome
ORDER BY DESC(?figures)""",
    "Publications that supersede another": """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX okb: <https://w3id.org/oligokb/ns#>
SELECT ?publication ?supersedes WHERE {
  ?p a okb:Publication ; dcterms:identifier ?publication ; dcterms:replaces/dcterms:identifier ?supersedes .
}""",
    "Is there a phase III trial? (ASK)": """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX de: <https://w3id.org/oligokb/vocab/design/>
ASK { ?study a okb:Study ; okb:design de:rct_phase_3 }""",
    "One study's triples (DESCRIBE)": "DESCRIBE <https://w3id.org/oligokb/id/study/sabr-comet>",
}


@dataclass(frozen=True)
class QueryOutcome:
    """What the console shows: a table (SELECT), a yes/no (ASK) or Turtle (CONSTRUCT/DESCRIBE)."""

    form: str
    frame: pd.DataFrame | None = None
    answer: bool | None = None
    turtle: str | None = None
    truncated: bool = False
    total: int = 0


def _outcome(
    form: str, answer: Any, prefixes: Iterable[tuple[str, URIRef]], row_cap: int, triple_cap: int
) -> QueryOutcome:
    """A SELECT frame, an ASK boolean or a CONSTRUCT/DESCRIBE graph (`answer`, by `form`) -> what the
    console shows, capped."""
    if form == "SELECT":
        return QueryOutcome("SELECT", frame=answer.head(row_cap), truncated=len(answer) > row_cap, total=len(answer))
    if form == "ASK":
        return QueryOutcome("ASK", answer=bool(answer))
    triples = list(answer)
    out = Graph()
    for prefix, namespace in prefixes:
        out.bind(prefix, namespace, override=True)
    for triple in triples[:triple_cap]:
        out.add(triple)
    return QueryOutcome(
        form, turtle=out.serialize(format="turtle"), truncated=len(triples) > triple_cap, total=len(triples)
    )


def _work(kb: OxigraphKB, text: str, row_cap: int, triple_cap: int) -> QueryOutcome:  # runs in a server.limits worker
    """Guard, then Oxigraph on the worker's store (kb.query.run_query): the engine the endpoint and the
    CLI use, so the console gives their answers."""
    from kb.query import run_query, solutions_frame
    from server.endpoint import distinct_triples, write_triples

    checked, result = run_query(kb, text)
    if isinstance(result, ox.QuerySolutions):
        return _outcome("SELECT", solutions_frame(result, checked.text), (), row_cap, triple_cap)
    if isinstance(result, ox.QueryBoolean):
        return QueryOutcome("ASK", answer=bool(result))
    triples, truncated = distinct_triples(result, triple_cap)
    # total: the triples counted up to the cap (one more than shown when truncated)
    return QueryOutcome(
        checked.form,
        turtle=write_triples(triples, "TURTLE").decode("utf-8"),
        truncated=truncated,
        total=len(triples) + truncated,
    )


def _guard_job(_kb: object, text: str) -> CheckedQuery:  # runs in a worker that holds no KB
    return check_query(text)


def run_console_query(
    kb_path: Path,
    text: str,
    *,
    time_limit: float = TIME_LIMIT_S,
    row_cap: int = ROW_CAP,
    triple_cap: int = TRIPLE_CAP,
    endpoint: str | None = None,
) -> QueryOutcome:
    """Guard, then run in a worker (or on the endpoint); QueryRefused (what to change), QueryFailed (time,
    memory, evaluation) or kb.remote.RemoteError (the endpoint cannot be reached or answered an error)."""
    if not text.strip():
        raise QueryRefused("the query is empty: write a SELECT, ASK, CONSTRUCT or DESCRIBE query, or pick an example")
    if endpoint:
        from kb.remote import SparqlEndpoint
        from kb.turtle import bind_prefixes

        # the guard parses with Oxigraph, which prepares some operators eagerly: bounded, in a worker
        checked = run_once(None, "explorer.sparql:_guard_job", (text,), time_limit)
        form, answer = SparqlEndpoint(endpoint, timeout=time_limit).query(text, checked=checked)
        return _outcome(form, answer, bind_prefixes(Graph()).namespaces(), row_cap, triple_cap)
    return run_once(kb_path, "explorer.sparql:_work", (text, row_cap, triple_cap), time_limit)
