"""Query layer: load the knowledge base, run named queries with parameters bound through initBindings
(never formatted into SPARQL text), run ad-hoc read-only queries through the guard."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd
import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.query import Result, ResultRow

from kb.sparql_guard import check_query
from terms.errors import InputError, Problem, UnknownTermError
from terms.iri import publication_iri, study_iri
from terms.namespaces import ID
from terms.vocabulary import resolve, term_id, vocabulary_graph

if TYPE_CHECKING:
    from kb.backend import GraphKB, KnowledgeBase
    from kb.sparql_guard import CheckedQuery
    from kb.store import OxigraphKB

QUERY_DIR = Path(__file__).parent / "queries"
DEFAULT_KB = Path("data/studies.ttl")


@dataclass(frozen=True)
class Param:
    """A named-query parameter: the SPARQL variable it binds and how a user's text becomes a term."""

    variable: str
    kind: str  # a vocabulary scheme name, or "study", "publication", "statistic_id"
    help: str


NAMED_QUERIES: dict[str, dict[str, Param]] = {
    "studies": {},
    "evidence": {
        "histology": Param(
            "histology_filter", "histology", "histology term id, matches narrower terms (nsclc matches nsclc_egfr)"
        ),
        "oligo_state": Param(
            "oligo_state_filter",
            "oligo_state",
            "oligo-state term id, matches narrower states (induced matches induced_oligoprogression)",
        ),
        "outcome": Param("outcome_filter", "outcome", "outcome term id (overall_survival, ...)"),
        "statistic": Param("statistic_filter", "statistic", "statistic term id (hazard_ratio, landmark_rate, ...)"),
        "design": Param("design_filter", "design", "design term id (randomised matches every RCT phase)"),
        "study": Param("study", "study", "study id"),
    },
    "publications": {"study": Param("study_filter", "study", "study id")},
    "provenance": {"statistic": Param("stat", "statistic_id", "statistic id as in the export's statistic_id column")},
}


def query_text(name: str) -> str:
    if name not in NAMED_QUERIES:
        raise InputError(
            Problem("--name", "name", f"{name!r} is not a named query", f"use one of: {', '.join(NAMED_QUERIES)}")
        )
    return (QUERY_DIR / f"{name}.rq").read_text(encoding="utf-8")


_ORDER_BY = re.compile(r"^ORDER BY((?:\s+\?\w+)+)\s*$", re.MULTILINE)


def split_order_by(text: str) -> tuple[str, list[str]]:
    """The query without its final `ORDER BY ?a ?b ...` (plain variables only), and those variables.

    For the whole-table answers of kb.materialise: Oxigraph holds every solution in memory to sort it
    (gigabytes on a large KB, docs/performance.md); sorted afterwards as text, by the same variables, the
    rows come out in the same order (sort_by_variables)."""
    match = _ORDER_BY.search(text)
    if match is None:
        return text, []
    return text[: match.start()] + text[match.end() :], match.group(1).replace("?", " ").split()


def sort_by_variables(frame: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """SPARQL's ORDER BY for a lexical answer: unbound first, then by code point (IRIs and plain
    strings compare so; the ordered variables of the named queries are ids, IRIs and 4-digit years)."""
    if not variables:
        return frame
    return frame.sort_values(variables, kind="stable", na_position="first").reset_index(drop=True)


# The columns of each named query that have a typed value (XSD integer, decimal, double, boolean); every
# other column is text or an IRI. tests/test_server_large.py checks these against the engine's answer.
COLUMN_DATATYPES: dict[str, dict[str, str]] = {
    "evidence": {
        "n": "integer",
        "reference_n": "integer",
        "timepoint_months": "decimal",
        "ci_level": "decimal",
        "p_value": "decimal",
        "adjusted": "boolean",
        "group_is_subgroup": "boolean",
    },
    "studies": {"publications": "integer", "figures": "integer"},
}


def column_datatypes(name: str) -> dict[str, str]:
    """The XSD datatype of each typed column of a named query (COLUMN_DATATYPES)."""
    return COLUMN_DATATYPES.get(name, {})


def compose(text: str, bound: set[str]) -> str:
    """Keep a line marked "# if: VAR" only when VAR is bound. The query is assembled from its own
    fixed lines; the values themselves are bound by the engine, never written into the text."""
    out = []
    for line in text.splitlines():
        code, marker, var = line.partition("# if: ")
        if marker and var.strip() not in bound:
            continue
        out.append(code.rstrip() if marker else line)
    return "\n".join(out) + "\n"


def to_term(param: Param, value: str) -> URIRef:
    """A user's parameter text -> the IRI to bind; unknown vocabulary terms list the closest ones."""
    if param.kind in ("study", "publication", "statistic_id") and value.startswith(("http://", "https://")):
        return URIRef(value)  # a whole IRI, e.g. of a synthetic knowledge base (terms.namespaces.SYNTH_ID)
    if param.kind == "study":
        return study_iri(value)
    if param.kind == "publication":
        return publication_iri(value)
    if param.kind == "statistic_id":
        return ID[f"pub/{value}"]
    try:
        return resolve(param.kind, term_id(param.kind, value))  # a label or any case too
    except UnknownTermError as exc:
        raise InputError(Problem("--param", param.kind, str(exc))) from None


def bindings(name: str, params: dict[str, str]) -> dict[str, URIRef]:
    spec = NAMED_QUERIES[name] if name in NAMED_QUERIES else {}
    out = {}
    for key, value in params.items():
        if key not in spec:
            allowed = ", ".join(spec) or "none"
            raise InputError(
                Problem("--param", key, f"query {name!r} has no parameter {key!r}", f"parameters: {allowed}")
            )
        out[spec[key].variable] = to_term(spec[key], value)
    return out


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> Graph:
    graph = Graph()
    graph.parse(path, format="turtle")
    graph += vocabulary_graph()  # filters walk skos:broader; labels come from the schemes
    return graph


def kb_file_version(path: Path) -> tuple[str, int]:
    """(resolved path, mtime) as the cache key of a loaded knowledge base; a clear error if it is missing."""
    if not path.exists():
        raise InputError(
            Problem(
                str(path), "", "the knowledge base file does not exist", "run `oligokb build` first, or pass --kb FILE"
            )
        )
    return str(path.resolve()), path.stat().st_mtime_ns


def load_kb(path: Path = DEFAULT_KB) -> Graph:
    """The knowledge base plus its vocabularies, parsed once per file version. Treat as read-only."""
    return _load(*kb_file_version(path))


def result_frame(result: Result) -> pd.DataFrame:
    """SELECT results -> DataFrame of Python values (IRIs as strings, None for unbound)."""
    columns = [str(v) for v in result.vars or []]
    rows = []
    for row in cast("Iterable[ResultRow]", result):  # a SELECT's Result yields ResultRows
        rows.append([_py(term) for term in row])
    return pd.DataFrame(rows, columns=columns)


def _py(term: object) -> object:
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        return str(term) if isinstance(value, Literal) else value
    return str(term)


# Columns a query aggregates with GROUP_CONCAT, whose order SPARQL leaves to the engine (and which differs
# between a query's full answer and its answer with parameters): their parts are sorted, so every back-end
# and every path gives the same text.
CONCATENATED = {"flags": ";", "flag_reasons": " | ", "group_subgroup_by": ";", "overlaps_with": ";", "supersedes": ";"}


def sort_concatenated(frame: pd.DataFrame) -> pd.DataFrame:
    """The GROUP_CONCAT columns of CONCATENATED with their parts sorted (in place; also returned)."""
    for column, sep in CONCATENATED.items():
        if column in frame.columns and len(frame):
            frame[column] = frame[column].map(
                lambda v, sep=sep: sep.join(sorted(v.split(sep))) if isinstance(v, str) and v else v
            )
    return frame


def run_named(
    graph: KnowledgeBase | Graph,
    name: str,
    params: dict[str, str] | None = None,
    lexical: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """A named query on any back-end (kb.backend.KnowledgeBase; an rdflib Graph is read with initBindings).
    lexical=True lets a back-end that can (OxigraphKB) return every value as text, faster. `limit`: only
    the first rows (an endpoint's row cap)."""
    from kb.backend import as_kb

    kb = as_kb(graph)
    bound = bindings(name, params or {})
    if lexical:
        return kb.select_named_lexical(name, bound, limit)
    if kb.table_cache is not None:  # typed from the materialised tables: the same values, no store query
        from kb.store import typed_frame

        return typed_frame(name, kb.select_named_lexical(name, bound, limit))
    return kb.select(compose(query_text(name), set(bound)), bound).iloc[:limit]


def run_query(
    kb: OxigraphKB | GraphKB | Graph, text: str, checked: CheckedQuery | None = None
) -> tuple[CheckedQuery, ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples]:
    """An ad-hoc read-only query, vetted by the guard, then evaluated by Oxigraph on the knowledge base
    (a kb.store.OxigraphKB; an rdflib Graph is copied into one). Returns (CheckedQuery, result): a
    pyoxigraph QuerySolutions (SELECT), QueryBoolean (ASK) or QueryTriples (CONSTRUCT, DESCRIBE).
    The default graph is the whole knowledge base; there are no named graphs, so GRAPH matches nothing.
    `checked`: the guard's CheckedQuery for this text, when the caller has just run the guard.
    (A remote endpoint evaluates its own: kb.remote.SparqlEndpoint.query.)"""
    checked = checked or check_query(text)  # before evaluation: Oxigraph would call a SERVICE endpoint
    from kb.backend import GraphKB
    from kb.sparql_guard import prepare

    store = GraphKB(kb).store if isinstance(kb, Graph) else kb.store
    try:
        return checked, prepare(store, checked.text)
    except SyntaxError as exc:  # the guard parsed it already; kept for a clear message all the same
        from terms.errors import QueryRefused

        raise QueryRefused(f"the query does not parse: {exc}") from None


def _oxigraph_copy(graph: Graph) -> ox.Store:
    store = ox.Store()
    store.load(input=graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


_SELECT_STAR = re.compile(r"SELECT(?:\s|#[^\n]*\n)+(?:(?:DISTINCT|REDUCED)(?:\s|#[^\n]*\n)+)?\*", re.IGNORECASE)
_VARIABLE = re.compile(r"[?$]([A-Za-z0-9_\u00b7\u00c0-\U000effff]+)")


def columns(text: str, variables: list[ox.Variable]) -> list[ox.Variable]:
    """The answer's columns: the query's projection; for `SELECT *`, the variables in the order they
    first appear in the query text (SPARQL leaves that order open; Oxigraph sorts them by name), so the
    columns of CSV and TSV answers, and of the console's table, read as written."""
    from kb.sparql_guard import _after_prologue

    if not _SELECT_STAR.match(text, _after_prologue(text)):
        return list(variables)
    first: dict[str, int] = {}
    for match in _VARIABLE.finditer(text):
        first.setdefault(match.group(1), match.start())
    return sorted(variables, key=lambda v: (first.get(v.value, len(text)), v.value))


def solutions_frame(solutions: ox.QuerySolutions, text: str = "") -> pd.DataFrame:
    """Oxigraph SELECT solutions -> DataFrame of Python values (as result_frame; columns in the query's
    projection order, None when unbound)."""
    from kb.store import _py

    variables = columns(text, solutions.variables)
    rows = [[_py(solution[v]) for v in variables] for solution in solutions]
    return pd.DataFrame(rows, columns=[v.value for v in variables])
