"""The whole answers of the table queries, computed study chunk by study chunk, so that no process holds
the whole graph and the whole answer at once (docs/performance.md: 16.6 GB at 50,000 studies before).

The knowledge base's Turtle, as `oligokb build` writes it, is a list of subject blocks ("<s> p o ; p o .").
The IRIs say which study a node belongs to (terms/iri.py: `id/pub/<publication>/<study>/...` for groups,
figures and their derivations, `id/study/<study>/...` for arms and the oligo-state assignment). Those
blocks -- nine tenths of the graph -- go to their study's chunk. A publication's blocks (its own node and
the nodes below it: pages read, quotations) go to the chunks of the studies that name it or that it
names, to the chunks of any publication that cites it (a quote, a replaced report), and to the first
chunk; a study's own block and everything else (blank nodes, other IRIs) go to every chunk. A chunk's
store therefore holds every triple that a row about one of its studies can reach, and the answer is the
union, over chunks, of the rows about the chunk's own studies (a row's study: its ?study or ?study_id;
rows about no study come from the first chunk). Chunks are queried one after the other, each store
dropped before the next is loaded. tests/test_chunked.py checks chunk sizes 1 and 7 against the
one-store answer on the bundled and a synthetic knowledge base.

A file the split cannot read safely (not Turtle, long strings that may span lines, prefixes after the
first block) is answered from one store, as before.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

# Studies per chunk: at 50,000 studies five stores, each a fifth of the graph plus the shared blocks
# (docs/performance.md has the figures that set it); a smaller machine can set OLIGOKB_CHUNK_STUDIES lower.
CHUNK_ENV = "OLIGOKB_CHUNK_STUDIES"
CHUNK_STUDIES = 10_000


def chunk_studies() -> int:
    """Studies per chunk: $OLIGOKB_CHUNK_STUDIES, else CHUNK_STUDIES."""
    value = os.environ.get(CHUNK_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else CHUNK_STUDIES


_BLOCK_START = re.compile(rb"\n[^\s#@]")  # a subject at the start of a line (after the newline)
_ID = "/id/"
_PUB_REF = re.compile(rb"/id/pub/([^/>\s]+)[/>]")  # a publication (or a node below it) an IRI names
_STUDY_REF = re.compile(rb"/id/study/([^/>\s]+)[/>]")
_GROUP_REF = re.compile(rb"/id/pub/[^/>\s]+/([^/>\s]+)/(?:group|stat)/")


def study_of(iri: str) -> str | None:
    """The study id a node's IRI places it in (the inverse of terms/iri.py's paths), or None for a node of
    no single study (a study itself, a publication, anything else)."""
    at = iri.find(_ID)
    if at < 0:
        return None
    parts = iri[at + len(_ID) :].split("/")
    if parts[0] == "pub" and len(parts) > 4 and parts[3] in ("group", "stat"):  # pub/<pub>/<study>/stat/...
        return parts[2]
    if parts[0] == "study" and len(parts) > 2:  # study/<study>/arm/..., study/<study>/oligo-state
        return parts[1]
    return None


def publication_of(iri: str) -> str | None:
    """The publication of a publication's own node or of one below it that belongs to no study (a page
    read, a quotation); None for any other IRI."""
    at = iri.find(_ID + "pub/")
    if at < 0 or study_of(iri) is not None:
        return None
    return iri[at + len(_ID) + len("pub/") :].split("/")[0] or None


def study_id_of_study(iri: str) -> str | None:
    """The id of a study from its own IRI (terms.iri.study_iri), None for any other IRI."""
    at = iri.find(_ID + "study/")
    if at < 0:
        return None
    rest = iri[at + len(_ID) + len("study/") :]
    return rest if rest and "/" not in rest else None


@dataclass(frozen=True)
class Chunks:
    """The KB's Turtle split into study chunks, as files in a temporary directory (removed by close)."""

    directory: tempfile.TemporaryDirectory[str]
    files: list[Path]
    studies: list[frozenset[str]]  # the study ids whose rows each chunk answers

    def close(self) -> None:
        self.directory.cleanup()


def split(kb_path: Path, chunk_studies: int) -> Chunks | None:
    """The chunk files of a Turtle KB with more than `chunk_studies` studies; None when one store is the
    way (a small KB, or a file the block split cannot read safely)."""
    if kb_path.suffix.lower() not in (".ttl", ".turtle"):
        return None
    data = kb_path.read_bytes()
    if b'"""' in data or b"'''" in data:  # a literal may span lines: a line start is no block start
        return None
    starts = [m.start() + 1 for m in _BLOCK_START.finditer(data)]
    if not starts:
        return None
    header = data[: starts[0]]
    blocks: list[tuple[int, int, str | None, str | None]] = []  # (begin, end, study, publication)
    ids: set[str] = set()
    wanted: dict[str, set[str]] = {}  # publication -> the studies whose chunks need it
    cited: dict[str, set[str]] = {}  # publication -> the publications its nodes refer to
    everywhere: set[str] = set()  # publications a node of no study or publication refers to
    for begin, end in zip(starts, [*starts[1:], len(data)], strict=True):
        study = publication = None
        if data[begin] != ord("<"):  # a blank node or a prefixed name: what it names goes everywhere
            everywhere |= {m.decode("utf-8", "replace") for m in _PUB_REF.findall(data, begin, end)}
        if data[begin] == ord("<"):
            subject = data[begin + 1 : data.find(b">", begin)].decode("utf-8", "replace")
            study = study_of(subject)
            own = study if study is not None else study_id_of_study(subject)
            if own is not None:
                ids.add(own)
            publication = None if study is not None else publication_of(subject)
            block = data[begin:end]
            refs = {m.decode("utf-8", "replace") for m in _PUB_REF.findall(block)}
            if publication is not None:  # the studies it reports, groups or quotes; the publications it cites
                mentioned = {m.decode("utf-8", "replace") for m in _STUDY_REF.findall(block)}
                mentioned |= {m.decode("utf-8", "replace") for m in _GROUP_REF.findall(block)}
                wanted.setdefault(publication, set()).update(mentioned)
                cited.setdefault(publication, set()).update(refs - {publication})
            elif study is not None or own is not None:
                for ref in refs:
                    wanted.setdefault(ref, set()).add(study or own or "")
            else:
                everywhere |= refs
        elif data.startswith((b"PREFIX", b"BASE", b"prefix", b"base"), begin):
            return None  # a directive after the first block: the header would not hold every prefix
        blocks.append((begin, end, study, publication))
    if len(ids) <= chunk_studies:
        return None
    ordered = sorted(ids)
    groups = [frozenset(ordered[i : i + chunk_studies]) for i in range(0, len(ordered), chunk_studies)]
    chunk_of = {study: number for number, group in enumerate(groups) for study in group}
    every = frozenset(range(len(groups)))
    # The first chunk holds every publication too: it answers the rows about no study (kb.chunked.owner).
    placed = {
        pub: every if pub in everywhere or not need else frozenset({0, *(chunk_of[s] for s in need if s in chunk_of)})
        for pub, need in wanted.items()
    }
    changed = True
    while changed:  # a publication goes wherever a publication citing it goes (a quote, a replaced report)
        changed = False
        for pub, refs in cited.items():
            for ref in refs:
                more = placed.get(pub, every) - placed.get(ref, frozenset())
                if more and ref in placed:
                    placed[ref] = placed[ref] | more
                    changed = True
    directory = tempfile.TemporaryDirectory(prefix="oligokb-chunks-")
    files = [Path(directory.name) / f"chunk-{number}.ttl" for number in range(len(groups))]
    outs = [path.open("wb") for path in files]
    try:
        for out in outs:
            out.write(header)
        for begin, end, study, publication in blocks:  # in file order, as one store would have read them
            if study is not None:
                outs[chunk_of[study]].write(data[begin:end])
                continue
            for number in every if publication is None else placed.get(publication, every):
                outs[number].write(data[begin:end])
    finally:
        for out in outs:
            out.close()
    return Chunks(directory, files, groups)


def owner(iri: str) -> str | None:
    """The study whose chunk answers rows about this node: the study itself, or the study a group,
    figure or arm belongs to; None for a node every chunk holds (its rows come from the first chunk)."""
    return study_of(iri) or study_id_of_study(iri)


def own_rows(table: pa.Table, studies: frozenset[str], first: bool) -> pa.Table:
    """The rows of `table` (a lexical answer) this chunk answers: by the owner of ?study, else by
    ?study_id; rows about no study only in the first chunk."""
    if "study" in table.column_names:
        ids = pa.array([None if v is None else owner(v) for v in table.column("study").to_pylist()], pa.string())
    elif "study_id" in table.column_names:
        ids = table.column("study_id")
    else:
        raise ValueError("a query answered by study chunks projects ?study or ?study_id")
    keep = pc.is_in(ids, value_set=pa.array(sorted(studies), pa.string()))
    return table.filter(pc.fill_null(pc.or_(keep, pc.and_(pc.is_null(ids), pa.scalar(first))), False))


def own_python_rows(
    columns: list[str], rows: list[list[object]], studies: frozenset[str], first: bool
) -> list[list[object]]:
    """The rows (Python values) this chunk answers, by the owner of ?study (as own_rows)."""
    at = columns.index("study")
    out = []
    for row in rows:
        study = owner(cell) if isinstance(cell := row[at], str) else None
        if (study in studies) if study is not None else first:
            out.append(row)
    return out
