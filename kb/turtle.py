"""Turtle for the knowledge base: the prefixes, and a writer that gives Oxigraph's Turtle byte for byte.

kb.build turns each sheet into rows (Row: subject, predicate, object, datatype, language, is_literal) and
writes each sheet's piece with rows_turtle; the pieces joined are the file.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyoxigraph as ox
from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, PROV, RDF, XSD

from terms import namespaces as ns
from terms.namespaces import BIBO, ID, OKB

# A row is one triple as plain strings: (subject, predicate, object, datatype, language, is_literal),
# object being an IRI (is_literal 0, datatype and language "") or a literal's lexical form. Sorting
# rows as tuples is the file's order (subject, predicate, object, datatype, language: what rdflib's
# terms sorted by before), and a set of rows drops the duplicates a set of rdflib triples would.
Row = tuple[str, str, str, str, str, int]

_XSD_DECIMAL, _XSD_INTEGER, _XSD_GYEAR, _XSD_BOOLEAN = (
    str(XSD.decimal),
    str(XSD.integer),
    str(XSD.gYear),
    str(XSD.boolean),
)
_TYPE = str(RDF.type)


def bind_prefixes(graph: Graph, base: Namespace = ID) -> Graph:
    graph.bind("okb", OKB._NS)
    graph.bind("id", base)
    graph.bind("prov", PROV)
    graph.bind("dcterms", DCTERMS)
    graph.bind("bibo", BIBO)
    for prefix, dns in [
        ("oc", ns.OUTCOME),
        ("st", ns.STATISTIC),
        ("hi", ns.HISTOLOGY),
        ("os", ns.OLIGO_STATE),
        ("de", ns.DESIGN),
        ("to", ns.TIME_ORIGIN),
        ("tr", ns.TREATMENT),
        ("ua", ns.UNIT_OF_ANALYSIS),
        ("es", ns.ESTIMATOR),
        ("un", ns.UNIT),
        ("pr", ns.PUBLICATION_ROLE),
        ("cf", ns.CURATION_FLAG),
        ("sk", ns.SOURCE_KIND),
        ("et", ns.EVIDENCE_TIER),
    ]:
        graph.bind(prefix, dns._NS)
    return graph


@lru_cache(maxsize=1)
def turtle_prefixes() -> dict[str, str]:
    # Instance IRIs stay whole: as id: names their slashes would need escapes.
    return {
        str(prefix): str(iri)
        for prefix, iri in sorted(bind_prefixes(Graph(bind_namespaces="core")).namespaces())
        if prefix not in ("id", "xml", "owl")
    }


def ox_bytes(data: bytes | None) -> bytes:
    """pyoxigraph's serialize() without an output file: the bytes (typed `bytes | None`)."""
    if data is None:
        raise RuntimeError("Oxigraph's serializer returned nothing")
    return data


@lru_cache(maxsize=1)
def _prefix_lines() -> bytes:
    """The @prefix lines Oxigraph's writer puts before the first triple (the same for every sheet)."""
    probe = ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.NamedNode("urn:x:o"))
    text = ox_bytes(ox.serialize([probe], format=ox.RdfFormat.TURTLE, prefixes=turtle_prefixes()))
    tail = b"<urn:x:s> <urn:x:p> <urn:x:o> .\n"
    if not text.endswith(tail):
        raise RuntimeError(f"unexpected Turtle from Oxigraph: {text[-200:]!r}")
    return text[: -len(tail)]


def _ox_rows_turtle(rows: list[Row]) -> bytes:
    """rows as Turtle by Oxigraph's own writer, without the @prefix lines."""
    if not rows:
        return b""
    named, literal, triple = ox.NamedNode, ox.Literal, ox.Triple
    nodes: dict[str, ox.NamedNode] = {}
    out = []
    last_s = rows[0][0]
    s_node = named(last_s)
    o_node: ox.NamedNode | ox.Literal
    for s, p, o, dt, lang, is_lit in rows:
        if s != last_s:
            last_s, s_node = s, named(s)
        p_node = nodes.get(p) or nodes.setdefault(p, named(p))
        if not is_lit:
            o_node = nodes.get(o) or nodes.setdefault(o, named(o))
        elif dt:
            o_node = literal(o, datatype=nodes.get(dt) or nodes.setdefault(dt, named(dt)))
        elif lang:
            o_node = literal(o, language=lang)
        else:
            o_node = literal(o)
        out.append(triple(s_node, p_node, o_node))
    text = ox_bytes(ox.serialize(out, format=ox.RdfFormat.TURTLE, prefixes=turtle_prefixes()))
    head = _prefix_lines()
    if not text.startswith(head):
        raise RuntimeError("Oxigraph's Turtle writer changed its @prefix lines")
    return text[len(head) :]


# The same Turtle as Oxigraph's writer (oxttl's TriG/Turtle serializer, pyoxigraph 0.5), written here
# for the terms the build makes: faster than making Oxigraph terms one by one. Its rules:
# the first declared prefix whose IRI starts the IRI gives `prefix:local` when the local name is
# valid (else the next); rdf:type as predicate is `a`; xsd:boolean, xsd:integer and xsd:decimal
# literals whose lexical form is Turtle's own grammar are written bare; strings are quoted with
# \b \t \n \f \r \" \\ escapes and \uXXXX for the other control characters, U+007F, U+FFFE and U+FFFF.
# Anything outside what is written here (a local name that would need escapes, a language tag)
# goes to Oxigraph's writer for the whole sheet. tests/test_build.py compares the two on hard cases.
_ESCAPES = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
_QUOTE = str.maketrans({**{c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F, 0xFFFE, 0xFFFF]}, **_ESCAPES})
_BARE = {
    _XSD_BOOLEAN: re.compile(r"true|false"),
    _XSD_INTEGER: re.compile(r"[+-]?[0-9]+"),
    _XSD_DECIMAL: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
}
_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*|")
_XSD_STRING = str(XSD.string)


class _Unwritable(Exception):
    """A term this writer leaves to Oxigraph's."""


@lru_cache(maxsize=1)
def _prefix_order() -> tuple[tuple[str, str], ...]:
    """(name, IRI) of each prefix, in the order Oxigraph's writer declares (and tries) them."""
    found = re.findall(r"@prefix ([^:\s]*): <([^>]*)> \.\n", _prefix_lines().decode("utf-8"))
    if "".join(f"@prefix {n}: <{i}> .\n" for n, i in found).encode("utf-8") != _prefix_lines():
        raise RuntimeError("unexpected @prefix lines from Oxigraph's Turtle writer")
    return tuple(found)


@lru_cache(maxsize=1)
def _prefix_regex() -> re.Pattern[str]:
    return re.compile("|".join(f"({re.escape(iri)})" for _, iri in _prefix_order()))


_NAMED: dict[str, str] = {}  # IRIs written with a prefix (vocabulary, ontology): a bounded set
_PREDICATE: dict[str, str] = {_TYPE: "a"}  # as predicate, rdf:type is `a`; the rest fill in as _NAMED


def _named(iri: str) -> str:
    text = _NAMED.get(iri)
    if text is not None:
        return text
    match = _prefix_regex().match(iri)
    if match is None:
        return f"<{iri}>"
    local = iri[match.end() :]
    if not _SIMPLE_LOCAL.fullmatch(local):
        raise _Unwritable(iri)
    if match.lastindex is None:  # every alternative of the pattern is a group: not reached
        raise _Unwritable(iri)
    text = _NAMED[iri] = f"{_prefix_order()[match.lastindex - 1][0]}:{local}"
    if iri != _TYPE:
        _PREDICATE[iri] = text
    return text


_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\x7f\ufffe\uffff]')


def _quoted(text: str) -> str:
    return f'"{text.translate(_QUOTE)}"' if _NEEDS_ESCAPE.search(text) else f'"{text}"'


def _object(o: str, dt: str, lang: str, is_lit: int) -> str:
    if not is_lit:
        return _named(o)
    if lang:
        raise _Unwritable(o)
    if dt and dt != _XSD_STRING:
        bare = _BARE.get(dt)
        if bare is not None and bare.fullmatch(o):
            return o
        return f"{_quoted(o)}^^{_named(dt)}"
    return _quoted(o)


def rows_turtle(rows: list[Row]) -> bytes:
    """One sheet's rows as Turtle without the @prefix lines: Oxigraph's Turtle, byte for byte.

    Every subject belongs to one sheet, so the writer's state (the current subject and predicate) ends
    at a sheet's last triple: the sheets' pieces, joined, are the whole file's Turtle."""
    if not rows:
        return b""
    try:
        out: list[str] = []
        write = out.append
        needs_escape = _NEEDS_ESCAPE.search
        predicate = _PREDICATE
        last_s = last_p = None
        for s, p, o, dt, lang, is_lit in rows:
            if is_lit and not dt and not lang:  # most objects: a plain string
                obj = f'"{o.translate(_QUOTE)}"' if needs_escape(o) else f'"{o}"'
            else:
                obj = _object(o, dt, lang, is_lit)
            if s == last_s:
                if p == last_p:
                    write(f" , {obj}")
                else:
                    write(f" ;\n\t{predicate.get(p) or _named(p)} {obj}")
                    last_p = p
            else:
                if last_s is not None:
                    write(" .\n")
                write(f"{_named(s)} {predicate.get(p) or _named(p)} {obj}")
                last_s, last_p = s, p
        write(" .\n")
        return "".join(out).encode("utf-8")
    except _Unwritable:
        return _ox_rows_turtle(rows)
