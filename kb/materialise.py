"""Table results materialised once per knowledge-base version: a read cache beside the KB file.

Oxigraph answers the evidence query with dozens of index lookups per figure, so on a large knowledge base
the full table is slow however the query is written (docs/performance.md has the figures). A living review
changes its knowledge base far less often than people read it. So the whole answer of a table query
(evidence, studies, publications: no parameters) is written once per KB file version as Parquet and read
back far faster than it is computed; a named query with
parameters filters that table with the rule the SPARQL text states (a concept matches itself and every
narrower concept: `skos:broader*`). The query stays the definition; tests check the filtered table equals
the query's own answer.

The cache key is the KB file (resolved path, size, modification time) plus a digest of everything that
shapes the answer: the query texts, the vocabularies, the ontology and this module's format version.
Anything else (a deleted cache, an unwritable directory) falls back to the query.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rdflib import URIRef
from rdflib.namespace import SKOS

from terms.vocabulary import ONTOLOGY_FILE, VOCAB_DIR, vocabulary_graph

FORMAT = "2"
CACHE_ENV = "OLIGOKB_CACHE"  # a directory for every KB's cache; default: .oligokb-cache/ beside the KB file
QUERY_DIR = Path(__file__).with_name("queries")
MATERIALISED = ("evidence", "studies", "publications")  # provenance is derived from these (provenance_from_tables)


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """Everything besides the KB file that shapes a materialised table."""
    digest = hashlib.sha256(FORMAT.encode())
    for path in [
        *sorted(QUERY_DIR.glob("*.rq")),
        *sorted(VOCAB_DIR.glob("*.ttl")),
        ONTOLOGY_FILE,
        *(
            Path(__file__).with_name(name)
            for name in ("export.py", "conflicts.py", "query.py", "store.py", "rob.py", "chunked.py")
        ),
    ]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir(kb_path: Path) -> Path:
    root = os.environ.get(CACHE_ENV)
    return Path(root) if root else kb_path.resolve().parent / ".oligokb-cache"


def version_key(kb_path: Path) -> str:
    """The KB file's identity (path, size, mtime: a rebuild is an atomic rename, so a new mtime) + code."""
    stat = kb_path.stat()
    identity = f"{kb_path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{_code_digest()}"
    return hashlib.sha256(identity.encode()).hexdigest()[:24]


def _cache_file(kb_path: Path, name: str) -> Path:
    """Where the frame `name` of this KB version is kept."""
    return cache_dir(kb_path) / "tables" / f"{version_key(kb_path)}-{name}.parquet"


def cached_frame(
    kb_path: Path, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None
) -> pd.DataFrame:
    """The frame `name` of this KB version (only `columns`, if given: Parquet reads just those): from this
    process's memory, from the cache file, or computed, stored (atomically) and returned."""
    target = _cache_file(kb_path, name)
    key = str(target)
    if key in _IN_MEMORY:  # copy-on-write (pandas 3): a caller's edits stay its own
        held = _IN_MEMORY[key]
        return held[columns] if columns else held.copy(deep=False)
    if columns and target.exists():
        try:
            return pd.read_parquet(target, columns=columns)
        except (OSError, ValueError):
            pass  # damaged: the full read below says so and recomputes
    frame = None
    if target.exists():
        try:
            frame = pd.read_parquet(target)  # str columns as written; a column of only None stays object
        except (OSError, ValueError) as exc:  # a damaged cache entry: recompute it
            print(f"oligokb: ignoring the damaged cache file {target}: {exc}", file=sys.stderr)
    if frame is None:
        frame = compute()
        _write(target, name, frame)
    if len(_IN_MEMORY) >= _KEEP_IN_MEMORY:
        _IN_MEMORY.pop(next(iter(_IN_MEMORY)))
    _IN_MEMORY[key] = frame
    return frame[columns] if columns else frame.copy(deep=False)


@dataclass(frozen=True)
class TableCache:
    """The table cache of one knowledge-base file: what a back-end that reads a local file answers for
    `table_cache` (kb.backend.KnowledgeBase); a remote endpoint or an rdflib Graph has none (None)."""

    kb_path: Path

    def frame(self, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
        return cached_frame(self.kb_path, name, compute, columns)

    def has(self, name: str) -> bool:
        """Whether the frame `name` of this KB version is already computed (in memory or in its file)."""
        target = _cache_file(self.kb_path, name)
        return str(target) in _IN_MEMORY or target.exists()


def through_cache(
    cache: TableCache | None, name: str, compute: Callable[[], pd.DataFrame], columns: list[str] | None = None
) -> pd.DataFrame:
    """The frame `name` from `cache`; without a cache, computed now (only `columns`, if given): every
    back-end's `cached` is this, so a caller asks for a derived table the same way of any back-end."""
    if cache is not None:
        return cache.frame(name, compute, columns)
    frame = compute()
    return frame[columns] if columns else frame


def forget() -> None:
    """Drop the tables this process holds (the cache files stay)."""
    _IN_MEMORY.clear()


def compact_held_tables() -> None:
    """Hold each table this process keeps as one Arrow chunk per column (a Parquet file reads back in
    several): a long-lived reader that takes rows from them again and again (the endpoint's workers:
    filters and row caps) takes them several times faster (docs/performance.md). Same values."""
    import pyarrow as pa

    for key, frame in list(_IN_MEMORY.items()):
        columns = {}
        for name in frame.columns:
            held = getattr(frame[name].array, "_pa_array", None)  # pandas' Arrow-backed columns
            if isinstance(held, pa.ChunkedArray) and held.num_chunks > 1:
                columns[name] = pd.Series(
                    pd.array(pa.chunked_array([held.combine_chunks()]), dtype=frame[name].dtype),
                    index=frame.index,
                    name=name,
                )
            else:
                columns[name] = frame[name]
        _IN_MEMORY[key] = pd.DataFrame(columns, index=frame.index)


# Reading a large evidence table back still takes a while (docs/performance.md): a process that answers
# many queries (the explorer, the server, the bench) keeps the last few tables it read.
_KEEP_IN_MEMORY = 8
_IN_MEMORY: dict[str, pd.DataFrame] = {}


def _write(target: Path, name: str, frame: pd.DataFrame) -> None:
    from terms.files import write_atomic

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _drop_stale(target.parent, name, keep=target.name)
        write_atomic(target, frame.to_parquet(index=False))
    except OSError as exc:  # a read-only directory: answer without the cache
        print(
            f"oligokb: cannot write the table cache {target.parent} ({exc}); set {CACHE_ENV} to a writable "
            "directory to keep results between runs",
            file=sys.stderr,
        )


def all_null_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The dtypes select_lexical infers for these rows: a column with no value at all is object (None)."""
    for col in frame.columns:
        if frame[col].dtype != object and frame[col].isna().all():
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame


def _drop_stale(directory: Path, name: str, keep: str) -> None:
    """Older versions of the same table (a rebuilt KB) would only take disk space."""
    for old in directory.glob(f"*-{name}.parquet"):
        if old.name != keep:
            old.unlink(missing_ok=True)


@cache
def narrower_or_self(concept: str) -> frozenset[str]:
    """`?x skos:broader* <concept>` as a set of IRIs: the one "a concept or any narrower concept" rule
    outside SPARQL, for the table cache's filters (filter_named) and the explorer's (explorer.data);
    tests/test_narrower.py compares it with the evidence query's answer. Cached: the vocabularies are
    fixed while a process runs."""
    graph = vocabulary_graph()
    return frozenset(str(c) for c in graph.transitive_subjects(SKOS.broader, URIRef(concept)))


# The column each parameter variable of a named query constrains, and how (kb/queries/*.rq).
_EVIDENCE_FILTERS = {
    "histology_filter": "histology",
    "oligo_state_filter": "oligo_state",
    "outcome_filter": "outcome",
    "statistic_filter": "statistic",
    "design_filter": "design",
}


def filter_named(
    name: str,
    full: pd.DataFrame,
    bound: Mapping[str, URIRef],
    studies: Callable[[], pd.DataFrame],
    limit: int | None = None,
) -> pd.DataFrame:
    """A named query's answer with parameters, from its full answer: the same rows in the same order (the
    first `limit` of them when given: only those are copied). Projected parameter variables come back bound,
    as SPARQL substitution (SEP-0007) returns them."""
    keep = pd.Series(True, index=full.index)
    for variable, value in bound.items():
        iri = str(value)
        if name == "evidence" and variable in _EVIDENCE_FILTERS:
            keep &= full[_EVIDENCE_FILTERS[variable]].isin(narrower_or_self(iri))
        elif name == "evidence" and variable == "study":
            keep &= full["study"] == iri
        elif name == "publications" and variable == "study_filter":
            known = studies()
            ids = known.loc[known["study"] == iri, "study_id"]
            keep &= full["study_id"].isin(ids)
        else:
            raise ValueError(f"no materialised filter for {name}?{variable}")  # a new parameter: add its rule
    rows = np.flatnonzero(keep.to_numpy())[:limit]
    out = full.take(rows).reset_index(drop=True)  # new arrays; copy-on-write keeps the edits below local
    for variable, value in bound.items():
        if variable in out.columns:
            out[variable] = str(value)
    return all_null_as_none(out)  # dtypes inferred from these rows, as select_lexical infers them


PROVENANCE_COLUMNS = [
    "stat",
    "value",
    "publication_id",
    "title",
    "venue",
    "year",
    "doi",
    "pmid",
    "seed_document",
    "role",
    "source_scope",
    "locator",
    "quote",
    "derivation",
]


def provenance_from_tables(
    evidence: pd.DataFrame, publications: pd.DataFrame, bound: Mapping[str, URIRef]
) -> pd.DataFrame:
    """The provenance query's rows (kb/queries/provenance.rq) from the evidence and publications tables,
    which hold every value it reads: the figure's publication, locator, quote and derivation."""
    rows = evidence
    if "stat" in bound:
        rows = rows[rows["stat"] == str(bound["stat"])]
    rows = rows.rename(columns={"source_locator": "locator", "source_quote": "quote"})
    pubs = publications.drop_duplicates("pub")[["pub", "title", "venue", "year", "role"]]
    out = rows[
        [
            "stat",
            "value",
            "pub",
            "publication_id",
            "doi",
            "pmid",
            "seed_document",
            "source_scope",
            "locator",
            "quote",
            "derivation",
        ]
    ].merge(pubs, on="pub", how="inner")
    return all_null_as_none(out[PROVENANCE_COLUMNS].reset_index(drop=True))
