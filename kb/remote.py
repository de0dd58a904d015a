"""The remote store path: the same named queries (and guarded ad-hoc queries) against any SPARQL 1.1
endpoint: Oxigraph server, Virtuoso, Fuseki, GraphDB, or another `oligokb serve`.

Parameters are never formatted into query text as text. A named query's bound values travel as a SPARQL
1.1 inline ``VALUES`` block placed last in the query's top-level WHERE group, each value serialised as
an RDF term (an IRI is checked against the SPARQL IRIREF grammar, a literal is escaped by rdflib), and
the resulting query is parsed again to prove the block is exactly one top-level VALUES holding exactly
these bindings. A VALUES block inside the WHERE group is joined with the group's other patterns before
the group's FILTERs apply, so FILTER(?study = ?study_filter) sees the value, as with rdflib's initBindings.
(Last rather than first: rdflib evaluates a leading VALUES block against the evidence query far more
slowly; last, it takes the time of the unfiltered query, and Oxigraph is fast either way.) rdflib's SPARQLStore is not used: it appends the VALUES clause
after the whole query (after ORDER BY), where it is joined only after the WHERE pattern has been
evaluated with the filter variables unbound, so "# if:" filter lines would enumerate every ancestor
first and any FILTER on a parameter would see it unbound.

Every ad-hoc query passes kb.sparql_guard.check_query before a byte is sent (the remote store might
federate SERVICE or dereference FROM). Answers are read as SPARQL JSON results or as N-Triples/Turtle,
never as JSON-LD (whose @context could make a parser fetch a URL); redirects are not followed.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping

import pandas as pd
from rdflib import Graph, Literal, URIRef, Variable
from rdflib.query import Result

from kb.materialise import TableCache, through_cache
from kb.sparql_guard import CheckedQuery, check_query
from terms.errors import InputError, OligokbError, Problem

IRIREF = re.compile(r'[^<>"{}|^`\\\x00-\x20]*')
SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9"
GRAPH_FORMATS = {"application/n-triples": "nt", "text/plain": "nt", "text/turtle": "turtle"}
MAX_ANSWER_BYTES = 256 * 1024 * 1024


class RemoteError(OligokbError):
    """The endpoint could not be reached or answered with an error."""

    exit_code = 2


def sparql_term(name: str, term: object) -> str:
    """One bound value as SPARQL term syntax, or InputError when it cannot be one."""
    if isinstance(term, URIRef):
        if not IRIREF.fullmatch(str(term)):
            raise InputError(
                Problem(
                    "--param", name, f'{str(term)!r} is not a valid IRI (it contains a space or one of <>"{{}}|^`\\)'
                )
            )
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise InputError(Problem("--param", name, f"cannot bind a {type(term).__name__} on a remote endpoint"))


def _values_nodes(node: object, projects: int, out: list[tuple[int, object]]) -> list[tuple[int, object]]:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name == "values":
            out.append((projects, node["res"]))
        inner = projects + (node.name == "Project")
        for value in node.values():
            _values_nodes(value, inner, out)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _values_nodes(value, projects, out)
    return out


def _algebra_values(text: str) -> list[tuple[int, object]]:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return _values_nodes(translateQuery(parseQuery(text)).algebra, 0, [])


def with_values(text: str, bindings: Mapping[str, object]) -> str:
    """The query with `VALUES (?a ?b) { (<..> <..>) }` last in its top-level WHERE group (the last
    closing brace of the query: named queries end with solution modifiers that hold no braces)."""
    if not bindings:
        return text
    lines = text.splitlines(keepends=True)
    index = next(
        (i for i in range(len(lines) - 1, -1, -1) if not lines[i].lstrip().startswith("#") and "}" in lines[i]), None
    )
    if index is None:
        raise OligokbError("the named query has no WHERE { ... } to bind parameters into")
    names = list(bindings)
    block = (
        f"  VALUES ({' '.join('?' + n for n in names)}) "
        f"{{ ({' '.join(sparql_term(n, bindings[n]) for n in names)}) }}\n"
    )
    brace = lines[index].rindex("}")
    lines[index] = lines[index][:brace] + "\n" + block + lines[index][brace:]
    out = "".join(lines)
    before, after = _algebra_values(text), _algebra_values(out)
    added = [entry for entry in after if entry not in before]
    expected = [{Variable(n): bindings[n] for n in names}]
    if len(after) != len(before) + 1 or len(added) != 1 or added[0] != (1, expected):
        raise OligokbError(
            "binding the parameters did not give exactly one top-level VALUES block; refusing to send the query"
        )
    return out


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class SparqlEndpoint:
    """A SPARQL 1.1 Protocol endpoint read like the in-process graph: kb.query.run_named(endpoint, ...)
    calls `select`; `query` runs a guarded ad-hoc query."""

    def __init__(self, url: str, timeout: float = 60.0):
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise InputError(
                Problem("--endpoint", "", f"{url!r} is not an http(s) URL", "e.g. http://localhost:7878/sparql")
            )
        self.url, self.timeout = url, timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def _post(self, text: str, accept: str) -> tuple[str, bytes]:
        data = urllib.parse.urlencode({"query": text}).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept, "User-Agent": "oligokb"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(MAX_ANSWER_BYTES + 1)
                media = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace").strip()
            raise RemoteError(f"{self.url} answered HTTP {exc.code}: {detail or exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(f"cannot reach {self.url}: {getattr(exc, 'reason', exc)}") from None
        if len(body) > MAX_ANSWER_BYTES:
            raise RemoteError(f"{self.url} answered more than {MAX_ANSWER_BYTES:,} bytes; narrow the query")
        return media, body

    def _results(self, text: str) -> Result:
        media, body = self._post(text, SELECT_ACCEPT)
        if media not in ("application/sparql-results+json", "application/json"):
            raise RemoteError(f"{self.url} answered {media or 'no content type'}, not SPARQL JSON results")
        try:
            return Result.parse(io.BytesIO(body), format="json")
        except Exception as exc:  # noqa: BLE001 - the parser raises several types
            raise RemoteError(f"{self.url}: unreadable SPARQL JSON results: {exc}") from None

    # The KnowledgeBase operations (kb.backend): a remote store has no table cache, answers named queries
    # with the values of its SPARQL JSON results, and a study's rows with a bound ?study.
    table_cache: TableCache | None = None

    def cached(self, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
        return through_cache(None, name, compute, columns)

    def select(self, text: str, bindings: Mapping[str, object]) -> pd.DataFrame:
        """A named query's text with its bindings (see with_values) -> the table run_named returns."""
        from kb.query import result_frame, sort_concatenated

        return sort_concatenated(result_frame(self._results(with_values(text, bindings))))

    def select_named_lexical(self, name: str, bindings: Mapping[str, URIRef], limit: int | None = None) -> pd.DataFrame:
        from kb.query import compose, query_text

        return self.select(compose(query_text(name), set(bindings)), bindings).iloc[:limit]

    def select_per_study(self, text: str, study: URIRef) -> pd.DataFrame:
        return self.select(text, {"study": study})

    def query(self, text: str, checked: CheckedQuery | None = None) -> tuple[str, object]:
        """An ad-hoc query, vetted by the guard before anything is sent: ("SELECT", DataFrame),
        ("ASK", bool) or ("CONSTRUCT"/"DESCRIBE", Graph). `checked`: the guard's CheckedQuery of this
        text when the caller ran the guard already (e.g. in a bounded worker)."""
        from kb.query import result_frame

        if checked is None or checked.text != text:
            checked = check_query(text)
        if checked.form == "SELECT":
            return "SELECT", result_frame(self._results(checked.text))
        if checked.form == "ASK":
            return "ASK", bool(self._results(checked.text).askAnswer)
        media, body = self._post(checked.text, GRAPH_ACCEPT)
        if media not in GRAPH_FORMATS:
            raise RemoteError(f"{self.url} answered {media or 'no content type'}; asked for N-Triples or Turtle")
        try:
            return checked.form, Graph().parse(data=body.decode("utf-8"), format=GRAPH_FORMATS[media])
        except Exception as exc:  # noqa: BLE001
            raise RemoteError(f"{self.url}: unreadable {media}: {exc}") from None
