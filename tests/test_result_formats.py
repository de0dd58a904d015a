"""Every answer format of `oligokb serve`, read by standard clients: SPARQLWrapper (JSON, XML, and the
graph formats it converts), Python's csv module (CSV), rdflib's SPARQL TSV parser (TSV) and rdflib's RDF
parsers (Turtle, N-Triples, JSON-LD, RDF/XML). The data holds literals with tabs, newlines, quotes,
backslashes, language tags, the values an XML writer once printed as empty (0, 0.0, false, P0D), and one
literal of every datatype the bundled knowledge base uses (checked against data/studies.ttl).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.query import Result

from tests.conftest import ROOT, stop
from tests.test_server import start_server

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
# (subject local name, object as Turtle, expected (kind, text, datatype, language)); the text is the
# value's lexical form as written; numbers, booleans and durations are compared by value.
VALUES = [
    ("tab", '"a\\tb"', ("literal", "a\tb", XSD + "string", None)),
    ("newline", '"line 1\\nline 2"', ("literal", "line 1\nline 2", XSD + "string", None)),
    ("crlf", '"x\\r\\ny"', ("literal", "x\r\ny", XSD + "string", None)),
    ("quotes", '"say \\"hi\\" and \'bye\'"', ("literal", "say \"hi\" and 'bye'", XSD + "string", None)),
    ("backslash", '"C:\\\\dir\\\\"', ("literal", "C:\\dir\\", XSD + "string", None)),
    ("comma", '"a, b; c"', ("literal", "a, b; c", XSD + "string", None)),
    ("empty", '""', ("literal", "", XSD + "string", None)),
    ("unicode", '"≥ 5 cm — naïve ☃ 𝔘"', ("literal", "≥ 5 cm — naïve ☃ 𝔘", XSD + "string", None)),
    ("german", '"Überschrift"@de', ("literal", "Überschrift", None, "de")),
    ("british", '"tumour\\tsize"@en-GB', ("literal", "tumour\tsize", None, "en-gb")),
    ("zero", "0", ("literal", "0", XSD + "integer", None)),
    ("zero_decimal", "0.0", ("literal", "0.0", XSD + "decimal", None)),
    ("false", "false", ("literal", "false", XSD + "boolean", None)),
    ("true", "true", ("literal", "true", XSD + "boolean", None)),
    ("p0d", '"P0D"^^<http://www.w3.org/2001/XMLSchema#duration>', ("literal", "P0D", XSD + "duration", None)),
    (
        "any_uri",
        '"https://example.org/a?b=1&c=2"^^<http://www.w3.org/2001/XMLSchema#anyURI>',
        ("literal", "https://example.org/a?b=1&c=2", XSD + "anyURI", None),
    ),
    ("integer", "235", ("literal", "235", XSD + "integer", None)),
    ("decimal", "0.70", ("literal", "0.70", XSD + "decimal", None)),
    ("negative", "-1.25", ("literal", "-1.25", XSD + "decimal", None)),
    ("double", "1.5e3", ("literal", "1.5e3", XSD + "double", None)),
    ("year", '"2020"^^<http://www.w3.org/2001/XMLSchema#gYear>', ("literal", "2020", XSD + "gYear", None)),
    ("date", '"2026-12-06"^^<http://www.w3.org/2001/XMLSchema#date>', ("literal", "2026-12-06", XSD + "date", None)),
    (
        "iri",
        "<https://w3id.org/oligokb/id/study/sabr-comet>",
        ("uri", "https://w3id.org/oligokb/id/study/sabr-comet", None, None),
    ),
    ("bnode", "[]", ("bnode", None, None, None)),
]
SELECT = f"PREFIX ex: <{EX}> SELECT * WHERE {{ ?s ex:v ?o }}"
CONSTRUCT = f"PREFIX ex: <{EX}> CONSTRUCT {{ ?s ex:v ?o }} WHERE {{ ?s ex:v ?o }}"


def comparable(kind: str, text: str | None, datatype: str | None, language: str | None) -> tuple:
    """A term as a value: numbers, booleans and zero durations by value, language tags in lower case."""
    if kind == "bnode":
        return ("bnode",)
    if kind == "uri":
        return ("uri", text)
    if language:
        return ("literal", text, None, language.lower())
    datatype = datatype or XSD + "string"
    value: object = text
    if datatype in (XSD + "integer", XSD + "decimal"):
        value = Decimal(text)
    elif datatype == XSD + "double":
        value = float(text)
    elif datatype == XSD + "boolean":
        value = text in ("true", "1")
    elif datatype == XSD + "duration" and text in ("P0D", "PT0S"):
        value = "zero"
    return ("literal", value, datatype, None)


EXPECTED = {EX + name: comparable(*term) for name, _, term in VALUES}


def rdflib_term(term) -> tuple:  # type: ignore[no-untyped-def]
    if isinstance(term, BNode):
        return ("bnode",)
    if isinstance(term, URIRef):
        return ("uri", str(term))
    assert isinstance(term, Literal)
    return comparable("literal", str(term), str(term.datatype) if term.datatype else None, term.language)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    directory = tmp_path_factory.mktemp("formats")
    data = directory / "data.ttl"
    data.write_text(
        f"@prefix ex: <{EX}> .\n" + "".join(f"ex:{name} ex:v {obj} .\n" for name, obj, _ in VALUES), encoding="utf-8"
    )
    proc, base = start_server(data, directory / "server.log", "--no-vocabularies", "--workers", "1")
    yield base + "/sparql"
    stop(proc)


def wrapper(url: str, query: str, fmt: str | None = None, accept: str | None = None):  # type: ignore[no-untyped-def]
    from SPARQLWrapper import SPARQLWrapper

    client = SPARQLWrapper(url)
    client.setQuery(query)
    if fmt:
        client.setReturnFormat(fmt)
    if accept:
        client.addCustomHttpHeader("Accept", accept)
    return client.query()


def test_the_data_covers_every_datatype_of_the_knowledge_base():
    store = ox.Store()
    store.load(path=str(ROOT / "data" / "studies.ttl"), format=ox.RdfFormat.TURTLE)
    used = {
        s["dt"].value
        for s in store.query("SELECT DISTINCT (DATATYPE(?o) AS ?dt) WHERE { ?s ?p ?o FILTER isLiteral(?o) }")
    }
    covered = {term[2] for _, _, term in VALUES if term[2]} | {"http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
    assert used and used <= covered, used - covered


def test_json_and_xml_with_sparqlwrapper(endpoint):
    from SPARQLWrapper import JSON, XML

    doc = wrapper(endpoint, SELECT, JSON).convert()
    assert doc["head"]["vars"] == ["s", "o"]  # SELECT *: the order the variables appear in the query
    got = {}
    for row in doc["results"]["bindings"]:
        o = row["o"]
        kind = {"uri": "uri", "bnode": "bnode"}.get(o["type"], "literal")
        got[row["s"]["value"]] = comparable(kind, o["value"], o.get("datatype"), o.get("xml:lang"))
    assert got == EXPECTED

    dom = wrapper(endpoint, SELECT, XML).convert()  # xml.dom.minidom
    got = {}
    for result in dom.getElementsByTagName("result"):
        bindings = {b.getAttribute("name"): b for b in result.getElementsByTagName("binding")}
        node = next(n for n in bindings["o"].childNodes if n.nodeType == n.ELEMENT_NODE)
        text = "".join(t.data for t in node.childNodes)
        subject = "".join(t.data for t in bindings["s"].getElementsByTagName("uri")[0].childNodes)
        got[subject] = comparable(
            node.tagName if node.tagName != "literal" else "literal",
            text,
            node.getAttribute("datatype") or None,
            node.getAttribute("xml:lang") or None,
        )
    assert got == EXPECTED
    assert Result.parse(io.BytesIO(wrapper(endpoint, SELECT, XML).response.read()), format="xml").vars


def test_csv_and_tsv(endpoint):
    from SPARQLWrapper import CSV, TSV

    body = wrapper(endpoint, SELECT, CSV).convert()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[0] == ["s", "o"] and len(rows) == len(VALUES) + 1
    texts = {s: o for s, o in rows[1:]}
    for name, _, (kind, text, datatype, _) in VALUES:
        if kind == "literal" and datatype not in (XSD + "decimal", XSD + "double", XSD + "duration"):
            assert texts[EX + name] == text, name  # CSV: the lexical form, as text
    assert texts[EX + "bnode"].startswith("_:")

    body = wrapper(endpoint, SELECT, TSV).convert()
    lines = body.decode("utf-8").split("\n")
    assert lines[0] == "?s\t?o" and lines[-1] == ""
    assert len(lines) == len(VALUES) + 2  # tabs and newlines inside literals are escaped: one row a line
    got = {}
    for line in lines[1:-1]:  # each field is a term in Turtle syntax: read by rdflib's Turtle parser
        s, o = line.split("\t")
        graph = Graph().parse(data=f"{s} <urn:p> {o} .", format="turtle")
        ((subject, _, obj),) = graph
        got[str(subject)] = rdflib_term(obj)
    assert got == EXPECTED
    # rdflib's own SPARQL TSV parser reads it too, but for a bare negative number ("-1.25", valid Turtle),
    # where it raises TypeError (rdflib 7): checked without that row
    kept = "\n".join(line for line in lines if "-1.25" not in line)
    result = Result.parse(io.BytesIO(kept.encode("utf-8")), format="tsv")
    assert {str(row.s): rdflib_term(row.o) for row in result} == {
        k: v for k, v in EXPECTED.items() if k != EX + "negative"
    }


@pytest.mark.parametrize(
    "fmt, accept, parse_as",
    [
        ("turtle", "text/turtle", "turtle"),
        (None, "application/n-triples", "nt"),
        ("json-ld", "application/ld+json", "json-ld"),
        ("xml", "application/rdf+xml", "xml"),
    ],
)
def test_graph_formats(endpoint, fmt, accept, parse_as):
    answer = wrapper(endpoint, CONSTRUCT, fmt, accept)
    assert answer.response.headers["Content-Type"].split(";")[0] == accept
    converted = answer.convert() if fmt else answer.response.read()
    graph = converted if isinstance(converted, Graph) else Graph().parse(data=converted, format=parse_as)
    assert {str(s): rdflib_term(o) for s, _, o in graph} == EXPECTED


def test_ask(endpoint):
    from SPARQLWrapper import JSON, XML

    assert wrapper(endpoint, "ASK { FILTER(false) }", JSON).convert()["boolean"] is False
    assert wrapper(endpoint, "ASK { }", JSON).convert()["boolean"] is True
    dom = wrapper(endpoint, "ASK { FILTER(false) }", XML).convert()
    assert dom.getElementsByTagName("boolean")[0].firstChild.data == "false"
