"""The fast read path: the knowledge base in an in-memory Oxigraph store (pyoxigraph).

rdflib stays the graph API (build, SHACL, provenance walks, the guarded console); the named queries
that produce tables run here, far faster than on rdflib (docs/performance.md). Parameters are bound by
SPARQL substitution (SEP-0007), never written into query text.
Oxigraph rewrites decimals ("0.70" -> 0.7): the published lexical forms are separate string literals.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyoxigraph as ox
from rdflib import URIRef

from kb.chunked import Chunks, own_python_rows, own_rows, split
from kb.chunked import chunk_studies as default_chunk_studies
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

    def __init__(self, path: Path, vocabularies: bool = True, chunk_studies: int | None = None):
        self.path, self.vocabularies = path, vocabularies
        self.chunk_studies = chunk_studies or default_chunk_studies()  # studies per chunk (kb.chunked)
        self._store: ox.Store | None = None

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            self._store = self._load([self.path])
        return self._store

    def _load(self, sources: list[Path]) -> ox.Store:
        """A new store of `sources` plus the vocabularies and the ontology (unless vocabularies=False)."""
        store = ox.Store()
        extra = [*sorted(VOCAB_DIR.glob("*.ttl")), ONTOLOGY_FILE] if self.vocabularies else []
        for source in [*sources, *extra]:
            try:
                store.bulk_load(path=str(source), format=rdf_format(Path(source)))
            except (OSError, SyntaxError, ValueError) as exc:
                where = self.path if source.name.startswith("chunk-") else source  # name the user's file
                raise InputError(Problem(str(where), "", f"cannot load into Oxigraph: {exc}")) from None
        return store

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

    def select_named_lexical(self, name: str, bindings: Mapping[str, URIRef], limit: int | None = None) -> pd.DataFrame:
        """A named query's rows as text (select_lexical). The table queries come from their materialised
        full answer, filtered by the parameters with the query's own rule; provenance from those tables.
        Only the first `limit` rows when given."""
        from kb.query import compose, query_text

        if name == "provenance":
            return provenance_from_tables(
                self.select_named_lexical("evidence", {}), self.select_named_lexical("publications", {}), bindings
            ).iloc[:limit]
        if name not in MATERIALISED:
            return self.select_lexical(compose(query_text(name), set(bindings)), bindings).iloc[:limit]
        full = self.cached(f"{name}-lexical", lambda: self._tables(only=name)[f"{name}-lexical"])
        if not bindings:
            return full.iloc[:limit] if limit is not None else full
        studies = lambda: self.select_named_lexical("studies", {})  # noqa: E731 - read only if the filter needs it
        return filter_named(name, full, bindings, studies=studies, limit=limit)

    def select_per_study(self, text: str, study: URIRef) -> pd.DataFrame:
        """select(text, {"study": study}) for a query that projects ?study (the study page's queries),
        read from the query's whole answer, which the table cache keeps per KB version (named by the
        text's digest): the study page of a large KB without loading the store."""
        name = _per_study_name(text)
        # Not by chunks: a page asks for its queries one at a time, and one store answers the rest quickly;
        # materialise() computes them all in the tables' pass instead.
        full = self.cached(name, lambda: self.select(text, {}))
        rows = full[full["study"] == str(study)].reset_index(drop=True).astype(object)
        return rows.where(rows.notna(), None)  # as select() gives them: Python values, None when unbound

    def materialise(self, per_study_texts: Iterable[str] = ()) -> None:
        """Every table query's whole answer (kb.materialise.MATERIALISED) and the whole answers of these
        per-study queries (select_per_study's), into the table cache in one pass: on a large KB one pass
        over its study chunks instead of one per table."""
        typed = {_per_study_name(text): text for text in per_study_texts}
        tables = self._tables(only=None, typed=typed)
        for name, frame in tables.items():
            self._keep(name, frame)

    def _tables(self, only: str | None, typed: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
        """The materialised table `only` (every one: None), sorted as its ORDER BY states, plus the
        `typed` whole answers (select()'s values). A large KB answers them all in one pass over its
        study chunks, so a first reader of one table writes the others too."""
        from kb.query import compose, query_text, sort_by_variables, split_order_by

        texts = {name: split_order_by(compose(query_text(name), set())) for name in MATERIALISED}
        chunks = self._chunks()
        wanted = list(MATERIALISED) if only is None or chunks is not None else [only]
        lexical, python = self._whole_answers({f"{n}-lexical": texts[n][0] for n in wanted}, typed or {}, chunks)
        out = {f"{n}-lexical": sort_by_variables(lexical[f"{n}-lexical"], texts[n][1]) for n in wanted}
        if only is not None:  # the other tables of this pass go to the cache now: no second pass for them
            for name, frame in out.items():
                if name != f"{only}-lexical":
                    self._keep(name, frame)
        return {**out, **python}

    def _keep(self, name: str, frame: pd.DataFrame) -> None:
        """Put a frame computed in a shared pass into the table cache (or nowhere, without one)."""
        if self.table_cache is not None:
            self.table_cache.frame(name, lambda: frame)

    def _chunks(self) -> Chunks | None:
        """The KB's study chunks (kb.chunked) when it is large and its store not loaded, else None."""
        return None if self._store is not None else split(self.path, self.chunk_studies)

    def _whole_answers(
        self, lexical: Mapping[str, str], typed: Mapping[str, str], chunks: Chunks | None = None
    ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
        """The unbound answers of `lexical` (as select_lexical gives them) and `typed` (as select), from
        one store, or chunk by chunk (kb.chunked)."""
        if chunks is None:
            return (
                {name: self.select_lexical(text, {}) for name, text in lexical.items()},
                {name: self.select(text, {}) for name, text in typed.items()},
            )
        parts: dict[str, list[pa.Table]] = {name: [] for name in lexical}
        rows: dict[str, list[list[object]]] = {name: [] for name in typed}
        columns: dict[str, list[str]] = {}
        try:
            for number, (path, studies) in enumerate(zip(chunks.files, chunks.studies, strict=True)):
                store = self._load([path])
                for name, text in lexical.items():
                    parts[name].append(own_rows(_lexical_table(_solutions(store, text, {})), studies, number == 0))
                for name, text in typed.items():
                    columns[name], found = _python_rows(_solutions(store, text, {}))
                    rows[name].extend(own_python_rows(columns[name], found, studies, number == 0))
                del store  # before the next chunk's load: one chunk's store at a time
        finally:
            chunks.close()
        return (
            {name: _lexical_frame(pa.concat_tables(tables)) for name, tables in parts.items()},
            {name: _python_frame(columns[name], rows[name]) for name in typed},
        )

    def _query(self, text: str, bindings: Mapping[str, URIRef]) -> ox.QuerySolutions:
        return _solutions(self.store, text, bindings)

    def select_lexical(self, text: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        """select()'s rows with every value as text (IRIs and lexical forms; None when unbound), read
        from Oxigraph's own CSV writer: faster than converting term by term, for callers that turn every
        value into text anyway (the export). SPARQL CSV writes an unbound value and an empty literal
        alike; both become None."""
        return _lexical_frame(_lexical_table(self._query(text, bindings)))

    def select(self, text: str, bindings: Mapping[str, URIRef]) -> pd.DataFrame:
        return _python_frame(*_python_rows(self._query(text, bindings)))


def _per_study_name(text: str) -> str:
    """The table cache's name for a per-study query's whole answer (named by the text's digest)."""
    return "per-study-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _solutions(store: ox.Store, text: str, bindings: Mapping[str, URIRef]) -> ox.QuerySolutions:
    """Parameters bound by SPARQL substitution (SEP-0007), never written into the text."""
    substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(name): ox.NamedNode(str(value)) for name, value in bindings.items()
    }
    solutions = store.query(text, substitutions=substitutions or None)
    if not isinstance(solutions, ox.QuerySolutions):
        raise ValueError("a named or per-study query is a SELECT")
    return solutions


def _lexical_table(solutions: ox.QuerySolutions) -> pa.Table:
    """Every value as text, through Oxigraph's CSV writer and a temporary file into Arrow strings: a large
    KB's answer is gigabytes of text, which Python string objects would hold several times over."""
    columns = [v.value for v in solutions.variables]
    with tempfile.TemporaryDirectory(prefix="oligokb-") as tmp:
        answer = Path(tmp) / "answer.csv"
        solutions.serialize(output=str(answer), format=ox.QueryResultsFormat.CSV)
        return pa_csv.read_csv(
            answer,
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )


def _lexical_frame(table: pa.Table) -> pd.DataFrame:
    from kb.query import sort_concatenated

    return sort_concatenated(all_null_as_none(table.to_pandas()))


def _python_rows(solutions: ox.QuerySolutions) -> tuple[list[str], list[list[object]]]:
    columns = [v.value for v in solutions.variables]
    return columns, [[_py(solution[v]) for v in solutions.variables] for solution in solutions]


def _python_frame(columns: list[str], rows: list[list[object]]) -> pd.DataFrame:
    from kb.query import sort_concatenated

    return sort_concatenated(pd.DataFrame(rows, columns=columns))


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF syntax of a file by its extension (.nt, .rdf, .jsonld, ...); Turtle otherwise."""
    found = ox.RdfFormat.from_extension(path.suffix.lstrip(".").lower()) if path.suffix else None
    return found if found in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML, ox.RdfFormat.N3) else ox.RdfFormat.TURTLE


def typed_value(lexical: str, datatype: str) -> object:
    """A literal's Python value (int, Decimal, float, bool; else its text): the one rule for Oxigraph's
    terms (_py) and for the table cache's text (typed_frame)."""
    try:
        if datatype == XSD + "integer":
            return int(lexical)
        if datatype == XSD + "decimal":
            return Decimal(lexical)
        if datatype in (XSD + "double", XSD + "float"):
            return float(lexical)
    except (ValueError, ArithmeticError):  # an ill-typed literal ("abc"^^xsd:integer) stays text
        return lexical
    if datatype == XSD + "boolean":
        return lexical in ("true", "1")
    return lexical


def typed_frame(name: str, lexical: pd.DataFrame) -> pd.DataFrame:
    """A named query's rows as text (select_named_lexical) -> the Python values select() gives, by the
    datatypes its query declares (kb.query.column_datatypes): the typed answer (JSON) from the table cache,
    without running the query on the store (minutes on a large KB). A typed column is an object column,
    so an integer column with gaps keeps its ints (select()'s frame would hold them as floats)."""
    from kb.query import column_datatypes

    datatypes = {column: XSD + kind for column, kind in column_datatypes(name).items()}
    out = lexical.copy(deep=False)  # the text columns as they are (None or NaN where unbound)
    for column in datatypes.keys() & set(lexical.columns):
        values = [None if v is None else typed_value(str(v), datatypes[column]) for v in cells(lexical[column])]
        out[column] = pd.Series(values, dtype=object, index=lexical.index)
    return out


def cells(column: pd.Series) -> list[object]:
    """A column's values as Python objects, None where a value is missing (pandas' rule: None, NaN, NA)."""
    return column.astype(object).where(column.notna(), None).tolist()


def _py(term: object) -> object:
    """Oxigraph terms -> the Python values kb.query.result_frame gives for rdflib terms."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return typed_value(term.value, term.datatype.value)
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
