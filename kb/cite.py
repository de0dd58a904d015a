"""Citations: the reports a selection of figures was read in, and the knowledge base itself, as RIS
(written by rispy) and BibTeX (written by bibtexparser 2). `oligokb cite` is the surface."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from kb.backend import KnowledgeBase
from kb.export import cell_text, evidence_table
from kb.query import run_named

CITE_FORMATS = ("ris", "bibtex")

KB_TITLE = "oligokb: evidence knowledge base for metastasis-directed radiotherapy in oligometastatic cancer"

# A sheet's first author as printed in PubMed style ("Palma DA"): surname, then initials.
_PUBMED_NAME = re.compile(r"^(?P<surname>.+?)\s+(?P<initials>[A-Z]{1,4})$")

# The RIS reference type and the BibTeX entry type of each kind of reference.
RIS_TYPES = {"journal_article": "JOUR", "review": "JOUR", "conference_abstract": "ABST", "dataset": "DATA"}
BIBTEX_TYPES = {"journal_article": "article", "review": "article", "conference_abstract": "inproceedings"}


@dataclass(frozen=True)
class Reference:
    """One reference, in words that RIS and BibTeX both have. Empty strings are left out."""

    key: str
    kind: str  # a source-kind notation (journal_article, review, conference_abstract) or "dataset"
    title: str
    authors: tuple[str, ...] = ()
    venue: str = ""
    year: str = ""
    doi: str = ""
    pmid: str = ""
    url: str = ""
    date_read: str = ""  # ISO date the web page was read
    version: str = ""
    notes: tuple[str, ...] = field(default=())


def _text(value: object) -> str:
    return cell_text(value).strip()


def author_name(first_author: str) -> str:
    """'Palma DA' -> 'Palma, DA' (surname first, as RIS and BibTeX read a name); '' when the sheet holds
    no name (e.g. 'not read (...)')."""
    match = _PUBMED_NAME.match(first_author.strip())
    return f"{match['surname']}, {match['initials']}" if match else ""


def selected_publications(kb: KnowledgeBase, params: dict[str, str] | None = None) -> pd.DataFrame:
    """The publications table (one row per publication, by id): every publication without `params`;
    with them (the export's filters: histology=, outcome=, study=, ...), those with at least one
    figure in the filtered evidence table. An unknown key or term raises InputError (exit 2)."""
    pubs = run_named(kb, "publications", lexical=True)
    if params:
        chosen = set(evidence_table(kb, params)["publication_id"])
        pubs = pubs[pubs["publication_id"].isin(chosen)]
    return pubs.drop_duplicates("publication_id").sort_values("publication_id", kind="stable").reset_index(drop=True)


def cite_publications(pubs: pd.DataFrame, publication_ids: Iterable[str], fmt: str) -> str:
    """The reports with these ids (rows of the publications table, each once, by id) as RIS or BibTeX:
    the explorer's citations of the studies a pool read."""
    wanted = set(publication_ids)
    chosen = pubs[pubs["publication_id"].isin(wanted)].drop_duplicates("publication_id")
    refs = publication_references(chosen.sort_values("publication_id", kind="stable"))
    return to_ris(refs) if fmt == "ris" else to_bibtex(refs)


def publication_references(pubs: pd.DataFrame) -> list[Reference]:
    """One Reference per row of the publications table; the publication id is the key (unique in the KB)."""
    out = []
    for row in pubs.to_dict("records"):
        author = author_name(_text(row["first_author"]))
        kind = _text(row["source_kind"]).rsplit("/", 1)[-1]
        notes = ["first author only (the extraction sheets hold the first author)"] if author else []
        if _text(row.get("abstract_number")):
            notes.append(f"abstract {_text(row['abstract_number'])}")
        out.append(
            Reference(
                key=_text(row["publication_id"]),
                kind=kind,
                title=_text(row["title"]),
                authors=(author,) if author else (),
                venue=_text(row["venue"]),
                year=_text(row["year"]),
                doi=_text(row["doi"]),
                pmid=_text(row["pmid"]),
                url=_text(row["url"]),
                date_read=_text(row["date_read"]),
                notes=tuple(notes),
            )
        )
    return out


def kb_reference(
    kb_file: Path, studies: int, publications: int, taken: frozenset[str] | set[str] = frozenset()
) -> Reference:
    """The knowledge base itself: version = the file's SHA-256 (its content, whatever its name or date),
    year = the year the file was written. The key avoids the publication ids in `taken`."""
    digest = hashlib.sha256(kb_file.read_bytes()).hexdigest()
    written = datetime.fromtimestamp(kb_file.stat().st_mtime, tz=UTC)
    key = f"oligokb-kb-{digest[:8]}"
    while key in taken:
        key += "-kb"
    return Reference(
        key=key,
        kind="dataset",
        title=KB_TITLE,
        year=str(written.year),
        version=f"sha256:{digest[:16]}",
        notes=(
            f"knowledge base file {kb_file.name}, sha256 {digest}, written {written:%Y-%m-%d}; "
            f"{studies} studies, {publications} publications",
        ),
    )


def to_ris(references: list[Reference]) -> str:
    """RIS text (rispy's tag map: DO doi, AN accession number = PMID with DB PubMed, UR url, Y2 access date)."""
    import rispy

    entries = []
    for ref in references:
        entry: dict[str, object] = {"type_of_reference": RIS_TYPES.get(ref.kind, "JOUR"), "id": ref.key}
        entry["title"] = ref.title
        if ref.authors:
            entry["authors"] = list(ref.authors)
        if ref.venue:
            entry["secondary_title" if ref.kind == "conference_abstract" else "journal_name"] = ref.venue
        if ref.year:
            entry["year"] = ref.year
        if ref.doi:
            entry["doi"] = ref.doi
        if ref.pmid:
            entry["accession_number"] = ref.pmid
            entry["name_of_database"] = "PubMed"
        if ref.url:
            entry["urls"] = [ref.url]
        if ref.date_read:
            entry["access_date"] = ref.date_read.replace("-", "/")  # the RIS spec's YYYY/MM/DD
        if ref.version:
            entry["edition"] = ref.version  # RIS has no version tag; ET is the dataset's edition
        if ref.notes:
            entry["notes"] = list(ref.notes)
        entries.append(entry)
    return rispy.dumps(entries)


def to_bibtex(references: list[Reference]) -> str:
    """BibTeX text (UTF-8, as biblatex and biber read it): doi, pmid, url and urldate as fields."""
    import bibtexparser
    from bibtexparser import model

    entries: list[model.Block] = []
    for ref in references:
        fields = [("title", ref.title)]
        if ref.authors:
            fields.append(("author", " and ".join(ref.authors)))
        if ref.venue:
            fields.append(("booktitle" if ref.kind == "conference_abstract" else "journal", ref.venue))
        fields += [
            ("year", ref.year),
            ("doi", ref.doi),
            ("pmid", ref.pmid),
            ("url", ref.url),
            ("urldate", ref.date_read),
            ("version", ref.version),
            ("note", "; ".join(ref.notes)),
        ]
        entry_type = BIBTEX_TYPES.get(ref.kind, "misc")
        entries.append(model.Entry(entry_type, ref.key, [model.Field(k, v) for k, v in fields if v]))
    return str(bibtexparser.write_string(bibtexparser.Library(entries)))


def citations(kb: KnowledgeBase, kb_file: Path | None, params: dict[str, str] | None, fmt: str) -> tuple[str, int]:
    """(text, number of publications cited): the knowledge base (when read from a file) first, then the
    selected publications by id."""
    pubs = selected_publications(kb, params)
    refs = publication_references(pubs)
    if kb_file is not None:
        studies = len(run_named(kb, "studies", lexical=True))
        total = run_named(kb, "publications", lexical=True)["publication_id"].nunique()
        refs.insert(0, kb_reference(kb_file, studies, total, {r.key for r in refs}))
    return (to_ris(refs) if fmt == "ris" else to_bibtex(refs)), len(pubs)
