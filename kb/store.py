"""The fast read path: the knowledge base in an in-memory Oxigraph store (pyoxigraph).

rdflib stays the graph API (build, SHACL, provenance walks, the guarded console); the named queries
that produce tables run here, far faster than on rdflib (docs/performance.md). Parameters are bound by
SPARQL substitution (SEP-0007), never written into query text.
Oxigraph rewrites decimals ("0.70" -> 0.7): the published lexical forms are separate string literals.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyoxigraph as ox
from rdflib import URIRef

from kb.materialise import (
    MATERIALISED,
    TableCache,
    all_null_as_none,
    filter_named,
    provenance_from_tables,
    through_cache,
)
from terms.errors import InputError, Problem
from terms.vocabulary import ONTOLOGY_FILE, VOCAB_DIR

if TYPE_CHECKING:
    from kb.sparql_guard import CheckedQuery

XSD = "http://www.w3.org/2001/XMLSchema#"


class OxigraphKB:
    """A read-only in-memory Oxigraph store of one knowledge-base file plus the vocabularies.

    The store is loaded on first use: a table answered from the materialised cache (kb.materialise)
    never pays the load (minutes and gigabytes on a large KB, docs/performance.md)."""

    def __init__(self, path: Path, vocabularies: bool = True):
        self.path, self.vocabularies = path, vocabularies
        self._store: ox.Store | None = None

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            store = ox.Store()
            extra = [*sorted(VOCAB_DIR.glob("*.ttl")), ONTOLOGY_FILE] if self.vocabularies else []
            for source in [self.path, *extra]:
                try:
                    store.bulk_load(path=str(source), format=rdf_format(Path(source)))
                except (OSError, SyntaxError, ValueError) as exc:
                    raise InputError(Problem(str(source), "", f"cannot load into Oxigraph: {exc}")) from None
            self._store = store
        return self._store

    def triples(self) -> int:
        """The number of triples (loads the store). Deliberately no __len__: Streamlit's telemetry takes the
        len() of cached values, which loaded the whole store on the explorer's first page."""
        return len(self.store)

    @property
    def table_cache(self) -> TableCache | None:
        """The materialised tables of this KB file (kb.materialise); a store without the vocabularies
        (`serve --no-vocabularies`) has none: its answers differ from the full KB's."""
        return TableCache(self.path) if self.vocabularies else None

    def cached(self, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
        """A frame derived from this KB version, kept in the table cache, or computed each time without one."""
        return through_cache(self.table_cache, name, compute, columns)

    def query(self, text: str, checked: CheckedQuery | None = None) -> tuple[str, object]:
        """A guarded ad-hoc query (kb.backend.KnowledgeBase.query) on this store."""
        from kb.backend import adhoc

        return adhoc(self, text, checked)

    def select_named_lexical(self, name: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        """A named query's rows as text (select_lexical). The table queries come from their materialised
        full answer, filtered by the parameters with the query's own rule; provenance from those tables."""
        from kb.query import compose, query_text, sort_by_variables, split_order_by

        if name == "provenance":
            return provenance_from_tables(
                self.select_named_lexical("evidence", {}), self.select_named_lexical("publications", {}), bindings
            )
        if name not in MATERIALISED:
            return self.select_lexical(compose(query_text(name), set(bindings)), bindings)
        unordered, order = split_order_by(compose(query_text(name), set()))
        full = self.cached(f"{name}-lexical", lambda: sort_by_variables(self.select_lexical(unordered, {}), order))
        if not bindings:
            return full
        return filter_named(name, full, bindings, studies=lambda: self.select_named_lexical("studies", {}))

    def select_per_study(self, text: str, study: URIRef) -> pd.DataFrame:
        """select(text, {"study": study}) for a query that projects ?study (the study page's queries),
        read from the query's whole answer, which the table cache keeps per KB version (named by the
        text's digest): the study page of a large KB without loading the store."""
        name = "per-study-" + hashlib.sha256(text.encode()).hexdigest()[:16]
        full = self.cached(name, lambda: self.select(text, {}))
        rows = full[full["study"] == str(study)].reset_index(drop=True).astype(object)
        return rows.where(rows.notna(), None)  # as select() gives them: Python values, None when unbound

    def _query(self, text: str, bindings: Mapping[str, URIRef]) -> ox.QuerySolutions:
        """Parameters bound by SPARQL substitution (SEP-0007), never written into the text."""
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(name): ox.NamedNode(str(value)) for name, value in bindings.items()
        }
        solutions = self.store.query(text, substitutions=substitutions or None)
        if not isinstance(solutions, ox.QuerySolutions):
            raise ValueError("a named or per-study query is a SELECT")
        return solutions

    def select_lexical(self, text: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        """select()'s rows with every value as text (IRIs and lexical forms; None when unbound), read
        from Oxigraph's own CSV writer: faster than converting term by term, for callers that turn every
        value into text anyway (the export). The CSV goes through a temporary file into Arrow strings: a
        large KB's answer is gigabytes of text, which Python string objects would hold several times over.
        SPARQL CSV writes an unbound value and an empty literal alike; both become None."""
        solutions = self._query(text, bindings)
        columns = [v.value for v in solutions.variables]
        with tempfile.TemporaryDirectory(prefix="oligokb-") as tmp:
            answer = Path(tmp) / "answer.csv"
            solutions.serialize(output=str(answer), format=ox.QueryResultsFormat.CSV)
            table = pa_csv.read_csv(
                answer,
                parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.string() for c in columns},
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )
        from kb.query import sort_concatenated

        return sort_concatenated(all_null_as_none(table.to_pandas()))

    def select(self, text: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        solutions = self._query(text, bindings)
        columns = [v.value for v in solutions.variables]
        rows = [[_py(solution[v]) for v in solutions.variables] for solution in solutions]
        from kb.query import sort_concatenated

        return sort_concatenated(pd.DataFrame(rows, columns=columns))


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF syntax of a file by its extension (.nt, .rdf, .jsonld, ...); Turtle otherwise."""
    found = ox.RdfFormat.from_extension(path.suffix.lstrip(".").lower()) if path.suffix else None
    return found if found in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML, ox.RdfFormat.N3) else ox.RdfFormat.TURTLE


def _py(term: object) -> object:
    """Oxigraph terms -> the Python values kb.query.result_frame gives for rdflib terms."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        try:
            if datatype == XSD + "integer":
                return int(term.value)
            if datatype == XSD + "decimal":
                return Decimal(term.value)
            if datatype in (XSD + "double", XSD + "float"):
                return float(term.value)
        except (ValueError, ArithmeticError):  # an ill-typed literal ("abc"^^xsd:integer) stays text
            return term.value
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    if isinstance(term, (ox.NamedNode, ox.BlankNode)):
        return term.value
    return str(term)  # a quoted triple (RDF-star) as N-Triples


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, vocabularies: bool) -> OxigraphKB:
    return OxigraphKB(Path(path), vocabularies)


def load_store(path: Path, vocabularies: bool = True) -> OxigraphKB:
    """The knowledge base in Oxigraph (with the vocabularies and the ontology unless vocabularies=False),
    loaded once per file version."""
    from kb.query import kb_file_version

    return _load(*kb_file_version(path), vocabularies)
