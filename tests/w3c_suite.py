"""The W3C SPARQL 1.1 test suites (tests/w3c/, vendored from github.com/w3c/rdf-tests, sparql/sparql11):
reading the manifests, running a test through the endpoint's code, comparing with the expected results
by the suite's rules. Used by tests/test_w3c.py; `uv run python -m tests.w3c_suite` prints the table
per folder (pass / fail / skipped).

Comparison rules (the suite's README and the SPARQL 1.1 Query "Test Cases" notes):
- solutions are compared as multisets; when the query has ORDER BY, the order of the ORDER BY keys
  must be the expected order too (rows with equal keys may come in any order);
- blank nodes match up to a consistent renaming (isomorphism), in result sets and in graphs;
- literal nodes "are compared by value (test runners may convert lexical form to canonical form to
  compare character by character)" (the suite's page, sparql11/index.html): both sides are put in the
  canonical form Oxigraph stores ("01"^^xsd:integer is 1, "P0D" is "PT0S", "1.0E6"^^xsd:double is
  1000000, "-3"^^xsd:negativeInteger is the integer -3), language tags compare case-insensitively;
- CSV results carry no types: fields compare as text, or by value when both read as numbers; blank
  nodes up to renaming.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

W3C_DIR = Path(__file__).parent / "w3c"
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
SOURCE_COMMIT = "ad541a5"  # github.com/w3c/rdf-tests, the snapshot the files were copied from
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RS = "{http://www.w3.org/2005/sparql-results#}"
SYNTAX_FOLDERS = ["syntax-query", "syntax-update-1"]
EVAL_FOLDERS = [
    "aggregates",
    "bind",
    "bindings",
    "cast",
    "construct",
    "exists",
    "functions",
    "grouping",
    "negation",
    "project-expression",
    "property-path",
    "subquery",
    "json-res",
    "csv-tsv-res",
]
FOLDERS = SYNTAX_FOLDERS + EVAL_FOLDERS


@dataclass
class Case:
    folder: str
    name: str  # the local name of the test IRI, e.g. agg01
    kind: str  # the local name of its rdf:type, e.g. QueryEvaluationTest
    approved: bool  # dawgt:approval dawgt:Approved (others: Proposed, or no approval recorded)
    query: Path | None = None
    data: list[Path] = field(default_factory=list)
    graph_data: list[str] = field(default_factory=list)
    result: Path | None = None

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"

    def iri(self, path: Path) -> str:
        return BASE + path.relative_to(W3C_DIR).as_posix()


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]


def read_manifest(folder: str, root: Path = W3C_DIR) -> list[Case]:
    """The entries of a folder's manifest.ttl, in the manifest's order."""
    manifest = root / folder / "manifest.ttl"
    store = ox.Store()
    store.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=BASE + f"{folder}/manifest.ttl")

    def objects(subject, predicate):  # type: ignore[no-untyped-def]
        return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]

    def one(subject, predicate):  # type: ignore[no-untyped-def]
        found = objects(subject, predicate)
        return found[0] if found else None

    def path(term) -> Path:  # type: ignore[no-untyped-def]
        return root / term.value[len(BASE) :]

    head = one(ox.NamedNode(BASE + f"{folder}/manifest.ttl"), MF + "entries")
    cases = []
    while head is not None and head != ox.NamedNode(RDF + "nil"):
        entry = one(head, RDF + "first")
        kind = _local(one(entry, RDF + "type").value)
        approval = one(entry, DAWGT + "approval")
        case = Case(folder, _local(entry.value), kind, approval is not None and _local(approval.value) == "Approved")
        action = one(entry, MF + "action")
        if isinstance(action, ox.NamedNode):
            case.query = path(action)
        elif action is not None:
            case.query = path(one(action, QT + "query"))
            case.data = [path(d) for d in objects(action, QT + "data")]
            case.graph_data = [g.value for g in objects(action, QT + "graphData")]
        result = one(entry, MF + "result")
        case.result = path(result) if isinstance(result, ox.NamedNode) else None
        cases.append(case)
        head = one(head, RDF + "rest")
    return cases


def all_cases(root: Path = W3C_DIR) -> list[Case]:
    return [case for folder in FOLDERS for case in read_manifest(folder, root)]


# --- what runs where ---------------------------------------------------------------------------------


def rule_skip(case: Case, query_text: str) -> str | None:
    """Why a test does not apply to this endpoint (a read-only service over one default graph), or None.
    Negative syntax tests always apply: whatever they hold, the guard must refuse them. Tests not (yet)
    approved by the working group run too (most are the community group's later additions: empty
    groups, COALESCE(), negated property sets); the table counts them apart."""
    if case.graph_data:
        return "needs named graphs (qt:graphData): the service has one default graph"
    if case.kind.startswith("Negative"):
        return None
    text = _strip_comments_and_strings(query_text).upper()
    if re.search(r"\bSERVICE\b", text):
        return "uses SERVICE, which the endpoint refuses by design (no outbound calls)"
    if re.search(r"\bFROM\b", text):
        return "uses FROM / FROM NAMED, which the endpoint refuses by design (the dataset is the KB)"
    return None


def _strip_comments_and_strings(text: str) -> str:
    text = re.sub(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', text)
    text = re.sub(r"<[^<>\"{}|^`\\\s]*>", "<>", text)
    return re.sub(r"#[^\n]*", "", text)


def query_with_base(case: Case) -> str:
    """The query text with the suite's base IRI (the query file's location) declared first: over the
    protocol a query has no location, and a BASE before the prologue is what the suite means."""
    return f"BASE <{case.iri(case.query)}>\n" + case.query.read_text(encoding="utf-8")


def load_data(case: Case) -> ox.Store:
    """A store holding the test's data files in its default graph (each parsed with its own IRI as base)."""
    store = ox.Store()
    for data in case.data:
        fmt = ox.RdfFormat.RDF_XML if data.suffix == ".rdf" else ox.RdfFormat.TURTLE
        store.load(path=str(data), format=fmt, base_iri=case.iri(data))
    return store


def data_as_ntriples(case: Case) -> bytes:
    """The test's data as one N-Triples document (IRIs resolved), for `oligokb serve --no-vocabularies`."""
    return ox.serialize(
        [ox.Triple(q.subject, q.predicate, q.object) for q in load_data(case)], format=ox.RdfFormat.N_TRIPLES
    )


# --- terms and results ---------------------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANG = RDF + "langString"
Term = tuple  # ("uri", iri) | ("bnode", label) | ("literal", lexical, datatype, lang)


@lru_cache(maxsize=65536)
def canonical(lexical: str, datatype: str, lang: str) -> Term:
    """A literal as ("literal", lexical form, datatype, lang) in Oxigraph's canonical form for the XSD
    value types it normalises (value equality); the lexical form unchanged otherwise."""
    if lang:
        return ("literal", lexical, RDF_LANG, lang.lower())
    if datatype.startswith(XSD) and datatype != XSD + "string":
        try:
            store = ox.Store()  # loading (not Store.add) stores the value: the engine's canonical form
            literal = ox.Literal(lexical, datatype=ox.NamedNode(datatype))
            store.load(input=f"<urn:s> <urn:p> {literal} .\n", format=ox.RdfFormat.N_TRIPLES)
            stored = next(iter(store)).object
            return ("literal", stored.value, stored.datatype.value, "")
        except (ValueError, SyntaxError, StopIteration):
            pass
    return ("literal", lexical, datatype or XSD + "string", "")


def json_term(value: dict) -> Term:  # type: ignore[type-arg]
    kind = value["type"]
    if kind == "uri":
        return ("uri", value["value"])
    if kind == "bnode":
        return ("bnode", value["value"])
    if kind == "triple":
        raise ValueError("RDF-star terms are not used by these suites")
    return canonical(value["value"], value.get("datatype", ""), value.get("xml:lang", ""))


def parse_json_results(body: bytes) -> tuple[list[str] | None, list[dict] | bool]:  # type: ignore[type-arg]
    doc = json.loads(body)
    if "boolean" in doc:
        return None, bool(doc["boolean"])
    variables = doc["head"].get("vars", [])
    rows = [{k: json_term(v) for k, v in binding.items()} for binding in doc["results"]["bindings"]]
    return variables, rows


def parse_xml_results(body: bytes) -> tuple[list[str] | None, list[dict] | bool]:  # type: ignore[type-arg]
    root = ET.fromstring(body)
    boolean = root.find(RS + "boolean")
    if boolean is not None:
        return None, boolean.text.strip() == "true"
    variables = [v.get("name") for v in root.iter(RS + "variable")]
    rows = []
    for result in root.iter(RS + "result"):
        row = {}
        for binding in result.findall(RS + "binding"):
            node = binding[0]
            tag = node.tag[len(RS) :]
            if tag == "uri":
                row[binding.get("name")] = ("uri", (node.text or "").strip())
            elif tag == "bnode":
                row[binding.get("name")] = ("bnode", (node.text or "").strip())
            else:
                lang = node.get("{http://www.w3.org/XML/1998/namespace}lang", "")
                row[binding.get("name")] = canonical(node.text or "", node.get("datatype", ""), lang)
        rows.append(row)
    return variables, rows


def _oxigraph_term(term) -> Term:  # type: ignore[no-untyped-def]
    if isinstance(term, ox.NamedNode):
        return ("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    return canonical(term.value, term.datatype.value if term.language is None else "", term.language or "")


def parse_tsv_results(body: bytes) -> tuple[list[str], list[dict]]:  # type: ignore[type-arg]
    """SPARQL TSV read with Oxigraph's TSV parser (the suite's expected .tsv files and the answers alike)."""
    solutions = ox.parse_query_results(body, ox.QueryResultsFormat.TSV)
    variables = [v.value for v in solutions.variables]
    rows = [{v: _oxigraph_term(s[v]) for v in variables if s[v] is not None} for s in solutions]
    return variables, rows


def parse_csv_results(body: bytes) -> tuple[list[str], list[dict]]:  # type: ignore[type-arg]
    """SPARQL CSV: text only; "_:" marks a blank node; an empty field is unbound."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    variables, out = rows[0], []
    for line in rows[1:]:
        row = {}
        for name, value in zip(variables, line, strict=False):
            if value == "":
                continue
            row[name] = ("bnode", value[2:]) if value.startswith("_:") else ("text", value)
        out.append(row)
    return variables, out


def expected_results(path: Path):  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    if path.suffix == ".srx":
        return parse_xml_results(data)
    if path.suffix == ".srj":
        return parse_json_results(data)
    if path.suffix == ".tsv":
        return parse_tsv_results(data)
    if path.suffix == ".csv":
        return parse_csv_results(data)
    raise ValueError(f"no reader for {path.name}")


def as_csv_rows(rows: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """Typed rows as CSV would carry them (for comparing a CSV answer with a typed expectation)."""
    return [{k: v if v[0] == "bnode" else ("text", v[1]) for k, v in row.items()} for row in rows]


# --- comparison --------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _csv_by_value(rows: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """CSV fields that read as numbers, as their value (so 1.0E6 and 1000000 are one field)."""

    def field(value: Term) -> Term:
        number = _number(value[1]) if value[0] == "text" else None
        return ("number", number) if number is not None else value

    return [{k: field(v) for k, v in row.items()} for row in rows]


def _rows_match(expected: list[dict], actual: list[dict]) -> bool:  # type: ignore[type-arg]
    """Multiset equality of solutions with blank nodes matched by a consistent renaming."""
    if len(expected) != len(actual):
        return False
    if any(v[0] == "text" for row in actual for v in row.values()):
        expected, actual = _csv_by_value(expected), _csv_by_value(actual)

    def ground(row: dict) -> tuple:  # type: ignore[type-arg]
        return tuple(sorted((k, v if v[0] != "bnode" else ("bnode",)) for k, v in row.items()))

    if Counter(map(ground, expected)) != Counter(map(ground, actual)):
        return False
    if not any(v[0] == "bnode" for row in expected for v in row.values()):
        return Counter(tuple(sorted(r.items())) for r in expected) == Counter(tuple(sorted(r.items())) for r in actual)
    return _match_bnodes(expected, actual, {}, {})


def _match_bnodes(expected: list[dict], actual: list[dict], forward: dict, backward: dict) -> bool:  # type: ignore[type-arg]
    if not expected:
        return True
    row, rest = expected[0], expected[1:]
    for i, candidate in enumerate(actual):
        if row.keys() != candidate.keys():
            continue
        f, b, ok = dict(forward), dict(backward), True
        for key, value in row.items():
            other = candidate[key]
            if value[0] == "bnode" and other[0] == "bnode":
                if f.setdefault(value[1], other[1]) != other[1] or b.setdefault(other[1], value[1]) != value[1]:
                    ok = False
                    break
            elif value != other:
                ok = False
                break
        if ok and _match_bnodes(rest, actual[:i] + actual[i + 1 :], f, b):
            return True
    return False


_ORDER_BY = re.compile(
    r"ORDER\s+BY\s+((?:(?:ASC|DESC)\s*\(\s*\?\w+\s*\)|\?\w+|\s)+)\s*(?:LIMIT|OFFSET|VALUES|$)", re.IGNORECASE
)


def order_keys(query_text: str) -> list[str] | None:
    """The top-level ORDER BY variables when they are plain (?x, ASC(?x), DESC(?x)); [] when the
    query orders by an expression (then the whole sequence must match); None without ORDER BY."""
    text = _strip_comments_and_strings(query_text).strip()
    if not re.search(r"ORDER\s+BY", text, re.IGNORECASE):
        return None
    found = _ORDER_BY.search(text)
    return re.findall(r"\?(\w+)", found.group(1)) if found else []


def solutions_equal(expected: list[dict], actual: list[dict], keys: list[str] | None) -> bool:  # type: ignore[type-arg]
    if any(v[0] == "text" for row in actual for v in row.values()):
        expected, actual = _csv_by_value(expected), _csv_by_value(actual)
    if not _rows_match(expected, actual):
        return False
    if keys is None:
        return True
    if not keys:
        return all(_rows_match([e], [a]) for e, a in zip(expected, actual, strict=False))
    key = lambda row: tuple(row.get(k) if (row.get(k) or ("",))[0] != "bnode" else ("bnode",) for k in keys)  # noqa: E731
    return [key(r) for r in expected] == [key(r) for r in actual]


def graph_equal(expected_path: Path, expected_base: str, actual: bytes, actual_format: ox.RdfFormat) -> bool:
    """Isomorphism of the expected graph and the answer, both read by Oxigraph and compared by rdflib's
    isomorphism check (literals in Oxigraph's canonical form on both sides)."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    def graph_of(quads) -> Graph:  # type: ignore[no-untyped-def]
        store = ox.Store()  # loaded, so that literals take the canonical form the engine stores
        store.load(
            input=ox.serialize(
                [ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=ox.RdfFormat.N_TRIPLES
            ),
            format=ox.RdfFormat.N_TRIPLES,
        )
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store]
        return Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")

    expected = graph_of(ox.parse(path=str(expected_path), format=ox.RdfFormat.TURTLE, base_iri=expected_base))
    got = graph_of(ox.parse(input=actual, format=actual_format))
    return isomorphic(expected, got)


# --- running a test through the endpoint's code ---------------------------------------------------------


class InProcessPool:
    """server.limits.WorkerPool's interface, running the job in this process on `kb` (a test's own data):
    the FastAPI app, negotiation and the jobs run as served; the worker processes are tested apart
    (tests/test_server.py, and test_w3c.py's live server)."""

    def __init__(self) -> None:
        self.kb = None

    def call(self, target: str, args: tuple):  # type: ignore[no-untyped-def,type-arg]
        import importlib

        from server.limits import QueryFailed
        from terms.errors import InputError, QueryRefused

        module, _, name = target.partition(":")
        try:
            return getattr(importlib.import_module(module), name)(self.kb, *args)
        except (QueryRefused, InputError):
            raise
        except Exception as exc:  # noqa: BLE001 - as the worker reports it: a 500 with a message
            raise QueryFailed(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        pass


class StoreKB:
    """What kb.query.run_query needs of a knowledge base: an Oxigraph store."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store


SELECT_MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "tsv": "text/tab-separated-values",
    "csv": "text/csv",
}
GRAPH_MEDIA = {
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE),
    "rdfxml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
}


def result_kind(case: Case) -> str:
    suffix = case.result.suffix
    return {".srx": "results", ".srj": "results", ".tsv": "tsv", ".csv": "csv"}.get(suffix, "graph")


def check_answer(case: Case, media: str, body: bytes) -> str | None:
    """None when the answer is the expected one; else what differs."""
    kind = result_kind(case)
    if kind == "graph":
        fmt = next(f for m, f in GRAPH_MEDIA.values() if m == media)
        ok = graph_equal(case.result, case.iri(case.result), body, fmt)
        return None if ok else f"graph differs:\n{body.decode('utf-8')[:2000]}"
    expected_vars, expected = expected_results(case.result)
    if media == SELECT_MEDIA["json"]:
        got_vars, got = parse_json_results(body)
    elif media == SELECT_MEDIA["xml"]:
        got_vars, got = parse_xml_results(body)
    elif media == SELECT_MEDIA["tsv"]:
        got_vars, got = parse_tsv_results(body)
    else:
        got_vars, got = parse_csv_results(body)
        if kind != "csv":
            expected = as_csv_rows(expected)
    if isinstance(expected, bool) or isinstance(got, bool):
        return None if expected == got else f"ASK: expected {expected}, got {got}"
    if kind in ("csv", "tsv") and list(expected_vars) != list(got_vars):
        return f"columns: expected {expected_vars}, got {got_vars}"  # CSV/TSV: the header is part of the answer
    if expected_vars is not None and sorted(expected_vars) != sorted(got_vars or []):
        return f"variables: expected {sorted(expected_vars)}, got {sorted(got_vars or [])}"
    keys = order_keys(case.query.read_text(encoding="utf-8"))
    if solutions_equal(expected, got, keys):
        return None
    return f"solutions differ:\nexpected {expected[:20]}\ngot      {got[:20]}"


def answer_media(case: Case, style: str) -> str:
    """The media type to ask for: style "a" (the job, JSON / N-Triples), "b" (HTTP, XML / Turtle);
    the CSV and TSV tests ask for their own format."""
    kind = result_kind(case)
    if kind in ("csv", "tsv"):
        return SELECT_MEDIA[kind]
    if kind == "graph":
        return GRAPH_MEDIA["nt" if style == "a" else "ttl"][0]
    return SELECT_MEDIA["json" if style == "a" else "xml"]


def run_job(case: Case) -> str | None:
    """An evaluation test through server.endpoint.sparql_job (guard, Oxigraph, cap, writer)."""
    from server.endpoint import sparql_job

    media = answer_media(case, "a")
    got_media, body, truncated, _ = sparql_job(StoreKB(load_data(case)), query_with_base(case), media, 10**6)
    if got_media is None or got_media.split(";")[0] != media or truncated:
        return f"no answer in {media}: {got_media} {body!r}"
    return check_answer(case, media, body)


def run_syntax(case: Case) -> str | None:
    """A syntax test through the guard and the job: positive queries answered, the rest refused."""
    from server.endpoint import sparql_job
    from terms.errors import QueryRefused

    text = query_with_base(case)
    accept = case.kind == "PositiveSyntaxTest11"
    try:
        sparql_job(StoreKB(ox.Store()), text, None, 10)
    except QueryRefused as exc:
        return f"refused: {exc}" if accept else None
    return None if accept else "accepted"


def table() -> str:
    """Pass / fail / skipped per folder (the job's path; tests/test_w3c.py runs HTTP too)."""
    from tests.test_w3c import KNOWN_FAILURES, SKIPPED

    lines = [
        "| folder | approved: pass | approved: fail | not approved: pass | not approved: fail | skipped |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals = Counter()
    for folder in FOLDERS:
        counts = Counter()
        for case in read_manifest(folder):
            if case.id in SKIPPED:
                counts["skipped"] += 1
                continue
            problem = run_syntax(case) if "Syntax" in case.kind else run_job(case)
            counts[("approved" if case.approved else "other", "fail" if problem else "pass")] += 1
            assert (problem is not None) == (case.id in KNOWN_FAILURES), (case.id, problem)
        totals.update(counts)
        lines.append(
            f"| {folder} | {counts['approved', 'pass']} | {counts['approved', 'fail']} | "
            f"{counts['other', 'pass']} | {counts['other', 'fail']} | {counts['skipped']} |"
        )
    lines.append(
        f"| **all** | {totals['approved', 'pass']} | {totals['approved', 'fail']} | {totals['other', 'pass']} | "
        f"{totals['other', 'fail']} | {totals['skipped']} |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
