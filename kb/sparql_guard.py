"""The one guard in front of every SPARQL surface (CLI, library, explorer, endpoint).

Read-only and closed: updates are refused; SERVICE (anywhere: nested in OPTIONAL, UNION, MINUS,
subqueries, FILTER EXISTS), FROM and FROM NAMED are refused before evaluation, because rdflib would
otherwise fetch those URLs (and Oxigraph would federate). The check walks the whole parse tree, so
nesting cannot hide a SERVICE.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyparsing
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from kb.errors import QueryRefused

FORBIDDEN = {
    "ServiceGraphPattern": "SERVICE is refused: queries run on the bundled knowledge base only and make no outbound calls",
    "DatasetClause": "FROM and FROM NAMED are refused: the dataset is the bundled knowledge base; remove the FROM clause",
}
MAX_QUERY_CHARS = 100_000


@dataclass(frozen=True)
class CheckedQuery:
    text: str
    form: str  # "SELECT" | "ASK" | "CONSTRUCT" | "DESCRIBE"


def _names(node: object, out: set[str]) -> set[str]:
    if isinstance(node, CompValue):
        out.add(node.name)
        for value in node.values():
            _names(value, out)
    elif isinstance(node, (list, tuple, pyparsing.ParseResults)):
        for value in node:
            _names(value, out)
    elif isinstance(node, dict):
        for value in node.values():
            _names(value, out)
    return out


def check_query(text: str) -> CheckedQuery:
    """Parse and vet a query; raise QueryRefused with a message that says what to change."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(f"the query is {len(text):,} characters; the limit is {MAX_QUERY_CHARS:,}")
    try:
        tree = parseQuery(text)
    except pyparsing.ParseException as query_error:
        try:
            parseUpdate(text)
        except pyparsing.ParseException:
            raise QueryRefused(f"the query does not parse: {query_error}") from None
        raise QueryRefused("SPARQL Update (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ...) is refused: the knowledge base is read-only") from None
    names = _names(tree, set())
    for name, message in FORBIDDEN.items():
        if name in names:
            raise QueryRefused(message)
    form = next((f for f in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE") if f"{f.title()}Query" in names), "SELECT")
    return CheckedQuery(text=text, form=form)
