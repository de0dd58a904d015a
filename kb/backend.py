"""One interface for every back-end the knowledge base is read from: the Oxigraph store of a file
(kb.store.OxigraphKB), a remote SPARQL 1.1 endpoint (kb.remote.SparqlEndpoint) and a plain rdflib Graph
(GraphKB, below). Callers (kb.query.run_named, kb.export, the explorer) call these methods whatever
they were given, instead of asking the object what it can do; what a back-end lacks (a table cache,
lexical answers, a per-study table) it answers with the general path.

rdflib's Graph stays the API where a caller needs the graph itself (building, SHACL, provenance walks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pandas as pd
import pyoxigraph as ox
from rdflib import Graph, URIRef

from kb.materialise import TableCache, through_cache

if TYPE_CHECKING:
    from kb.remote import SparqlEndpoint
    from kb.sparql_guard import CheckedQuery
    from kb.store import OxigraphKB


class KnowledgeBase(Protocol):
    """What the named queries, the export and the explorer read a knowledge base through."""

    @property
    def table_cache(self) -> TableCache | None:
        """The materialised tables of this KB version (kb.materialise), or None where there are none."""
        ...

    def cached(self, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
        """A frame derived from this KB: kept in the table cache, or computed now (kb.materialise.through_cache)."""
        ...

    def select(self, text: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        """A SELECT (a named query's composed text) with its parameters bound by the engine, never written
        into the text: Python values (IRIs as strings, None when unbound), GROUP_CONCAT parts sorted."""
        ...

    def select_named_lexical(self, name: str, bindings: Mapping[str, URIRef], limit: int | None = None) -> pd.DataFrame:
        """A named query's rows for a caller that turns every value into text (the export): as text where
        the back-end can give it faster (Oxigraph, the table cache), else select()'s values; only the first
        `limit` rows when given (an endpoint's row cap: the table cache then copies no more)."""
        ...

    def select_per_study(self, text: str, study: URIRef) -> pd.DataFrame:
        """select(text, {"study": study}) for a query that projects ?study (the study page's queries)."""
        ...

    def query(self, text: str, checked: CheckedQuery | None = None) -> tuple[str, object]:
        """An ad-hoc read-only query, vetted by the guard (kb.sparql_guard) before it is evaluated:
        ("SELECT", DataFrame), ("ASK", bool) or ("CONSTRUCT"/"DESCRIBE", rdflib Graph)."""
        ...


class GraphKB:
    """A plain rdflib Graph as a KnowledgeBase: named queries with initBindings, no table cache.
    (kb.query.load_kb's graph; tests and the explorer's selection export read it so.)"""

    table_cache: TableCache | None = None

    def __init__(self, graph: Graph):
        self.graph = graph
        self._store: ox.Store | None = None

    def cached(self, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
        return through_cache(None, name, compute, columns)

    def select(self, text: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        from kb.query import result_frame, sort_concatenated

        return sort_concatenated(result_frame(self.graph.query(text, initBindings=bindings)))

    def select_named_lexical(self, name: str, bindings: Mapping[str, URIRef], limit: int | None = None) -> pd.DataFrame:
        from kb.query import compose, query_text

        return self.select(compose(query_text(name), set(bindings)), bindings).iloc[:limit]

    def select_per_study(self, text: str, study: URIRef) -> pd.DataFrame:
        return self.select(text, {"study": study})

    @property
    def store(self) -> ox.Store:
        """The graph copied into an Oxigraph store, once: ad-hoc queries run on Oxigraph (kb.query.run_query)."""
        if self._store is None:
            from kb.query import _oxigraph_copy

            self._store = _oxigraph_copy(self.graph)
        return self._store

    def query(self, text: str, checked: CheckedQuery | None = None) -> tuple[str, object]:
        return adhoc(self, text, checked)


def adhoc(kb: OxigraphKB | GraphKB, text: str, checked: CheckedQuery | None = None) -> tuple[str, object]:
    """KnowledgeBase.query for a back-end that runs ad-hoc queries on an in-process Oxigraph store: the
    answer of kb.query.run_query as kb.remote.SparqlEndpoint.query gives it."""
    from kb.query import run_query, solutions_frame

    checked, result = run_query(kb, text, checked)
    if isinstance(result, ox.QuerySolutions):
        return "SELECT", solutions_frame(result, checked.text)
    if isinstance(result, ox.QueryBoolean):
        return "ASK", bool(result)
    graph = Graph()
    graph.parse(data=(result.serialize(format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8"), format="nt")
    return checked.form, graph


def as_kb(kb: KnowledgeBase | Graph) -> KnowledgeBase:
    """A KnowledgeBase for what a caller holds: an rdflib Graph is wrapped (GraphKB); a back-end is itself."""
    return GraphKB(kb) if isinstance(kb, Graph) else kb


def open_kb(kb_file: Path | str | None = None, endpoint: str | None = None, vocabularies: bool = True) -> KnowledgeBase:
    """The back-end to read: the SPARQL endpoint at `endpoint` (an http(s) URL), else the knowledge-base
    file in Oxigraph, loaded once per file version (kb.store.load_store; default data/studies.ttl)."""
    if endpoint:
        from kb.remote import SparqlEndpoint

        return SparqlEndpoint(endpoint)
    from kb.query import DEFAULT_KB
    from kb.store import load_store

    return load_store(Path(kb_file) if kb_file is not None else DEFAULT_KB, vocabularies)


if TYPE_CHECKING:  # mypy proves every back-end satisfies the protocol

    def _every_back_end_is_a_knowledge_base(
        oxigraph: OxigraphKB, endpoint: SparqlEndpoint, graph: GraphKB
    ) -> list[KnowledgeBase]:
        return [oxigraph, endpoint, graph]
