"""The explorer's view of the knowledge base: where it is read from (the file, or a SPARQL endpoint),
vocabulary trees for the filters, filtering the evidence table (a concept matches its narrower
concepts, as the `evidence` named query does), the display table with its marks, the knowledge-base
version and the selection as Turtle."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, DefinedNamespace

from kb.backend import KnowledgeBase, open_kb
from kb.conflicts import DISAGREEMENT, LATER_DATA_CUT
from kb.materialise import narrower_or_self, version_key
from kb.summary import kb_counts
from terms.namespaces import ID, OKB
from terms.vocabulary import SCHEMES, pref_label, vocabulary_graph

if TYPE_CHECKING:
    from kb.remote import SparqlEndpoint

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_KB = ROOT / "data" / "studies.ttl"


def kb_file() -> Path:
    """The knowledge base the explorer shows: $OLIGOKB_KB, else the bundled data/studies.ttl."""
    return Path(os.environ.get("OLIGOKB_KB") or DEFAULT_KB)


class Source(NamedTuple):
    """Where the explorer reads the knowledge base: a SPARQL 1.1 endpoint, or else the Turtle file, and
    the file's version (kb.materialise.version_key: a rebuilt file is a new version). A tuple of strings,
    so Streamlit's caches are keyed by it: a rebuilt or edited file is read afresh on the next rerun."""

    endpoint: str | None
    kb_file: str
    version: str = ""

    def describe(self) -> str:
        return f"the SPARQL endpoint {self.endpoint}" if self.endpoint else f"the file {self.kb_file}"


def source(argv: list[str] | None = None) -> Source:
    """`streamlit run app.py -- --endpoint URL`, else $OLIGOKB_ENDPOINT, else the file (kb_file)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--endpoint")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    endpoint = (known.endpoint or os.environ.get("OLIGOKB_ENDPOINT") or "").strip() or None
    path = kb_file()
    return Source(endpoint, str(path), file_version(path) if endpoint is None else "")


def file_version(path: Path) -> str:
    """The file's version as the table cache knows it; "" for a missing file (its read says why)."""
    try:
        return version_key(path)
    except OSError:
        return ""


def reader(src: Source) -> KnowledgeBase:
    """What the named queries run on (kb.query.run_named): the endpoint, or the file in Oxigraph."""
    return open_kb(src.kb_file, src.endpoint)


def endpoint_advice(src: Source) -> str:
    """What to change when the endpoint cannot be read."""
    return (
        "Check that the store is running and holds the knowledge base with its vocabularies "
        "(docs/sparql-endpoint.md), and that OLIGOKB_ENDPOINT (or `streamlit run app.py -- --endpoint URL`) is "
        "its SPARQL query URL, e.g. http://127.0.0.1:7879/query for Oxigraph or http://127.0.0.1:7878/sparql for "
        "`oligokb serve`. Unset it to read the bundled knowledge base file."
    )


# --- Vocabulary trees --------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A concept of a scheme, where it sits in the skos:broader tree, and the labels it matches."""

    id: str
    label: str
    depth: int
    matches: frozenset[str]  # the prefLabels of kb.materialise.narrower_or_self: its own and every narrower concept's

    def display(self, count: int | None = None) -> str:
        indent = "\u2003" * self.depth + ("└ " if self.depth else "")
        return f"{indent}{self.label}" + (f" ({count})" if count is not None else "")


def scheme_base(scheme: str) -> str:
    """The namespace IRI of a scheme of terms.vocabulary.SCHEMES (each an rdflib DefinedNamespace)."""
    namespace = SCHEMES[scheme]
    if not issubclass(namespace, DefinedNamespace):
        raise TypeError(f"{scheme}: not a DefinedNamespace")
    return str(namespace._NS)


@cache  # the vocabularies are the package's files: fixed for the process (0.2 s a run uncached)
def vocabulary_tree(scheme: str) -> tuple[Term, ...]:
    """Every concept of a scheme (terms/vocab), depth first; top concepts with narrower ones come first."""
    base = scheme_base(scheme)
    g = vocabulary_graph()
    concepts = {URIRef(str(c)) for c in g.subjects(SKOS.inScheme, URIRef(base))}
    children: dict[URIRef | None, list[URIRef]] = {}
    for concept in concepts:
        parent = g.value(concept, SKOS.broader)
        children.setdefault(URIRef(str(parent)) if parent in concepts else None, []).append(concept)

    def order(items: list[URIRef]) -> list[URIRef]:
        return sorted(items, key=lambda c: (not children.get(c), pref_label(c)))

    out: list[Term] = []

    def walk(concept: URIRef, depth: int) -> None:
        matches = frozenset(pref_label(c) for c in narrower_or_self(str(concept)))  # the evidence query's rule
        out.append(Term(str(concept)[len(base) :], pref_label(concept), depth, matches))
        for child in order(children.get(concept, [])):
            walk(child, depth + 1)

    for top in order(children.get(None, [])):
        walk(top, 0)
    return tuple(out)


# Filter key (also the URL query parameter) -> (vocabulary scheme, evidence-table column).
VOCAB_FILTERS: dict[str, tuple[str, str]] = {
    "histology": ("histology", "histology"),
    "oligo_state": ("oligo_state", "oligo_state"),
    "outcome": ("outcome", "outcome"),
    "statistic": ("statistic", "statistic"),
    "design": ("design", "design"),
}


def filter_options(table: pd.DataFrame, key: str) -> list[tuple[Term, int]]:
    """The terms worth offering for a filter: those matching at least one row, with that row count."""
    scheme, column = VOCAB_FILTERS[key]
    per_value = table[column].value_counts()  # once; a term's count sums its matching values
    out = []
    for term in vocabulary_tree(scheme):
        count = int(per_value[per_value.index.isin(term.matches)].sum())
        if count:
            out.append((term, count))
    return out


@dataclass(frozen=True)
class Filters:
    """The sidebar selection. Empty tuples mean "any"."""

    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # VOCAB_FILTERS key -> term ids
    roles: tuple[str, ...] = ()  # "primary", "secondary"
    years: tuple[int, int] | None = None
    tiers: tuple[str, ...] = ()  # evidence tier notations (trial_full_report ... coverage_page)


def apply_filters(table: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows of the evidence table that the selection keeps; a term keeps its narrower terms too."""
    mask = pd.Series(True, index=table.index)
    for key, ids in filters.terms.items():
        if not ids:
            continue
        scheme, column = VOCAB_FILTERS[key]
        by_id = {t.id: t for t in vocabulary_tree(scheme)}
        labels = set().union(*(by_id[i].matches for i in ids if i in by_id))
        mask &= table[column].isin(labels)
    if filters.roles:
        mask &= table["publication_role"].isin(filters.roles)
    if filters.tiers:
        mask &= table["evidence_tier_id"].isin(filters.tiers)
    if filters.years:
        mask &= table["publication_year"].isin(_years_between(table, *filters.years))
    return table[mask].reset_index(drop=True)


def _years_between(table: pd.DataFrame, low: int, high: int) -> list[str]:
    """The publication-year values (text) within [low, high]; numbers parsed once per distinct value."""
    distinct = pd.Series(table["publication_year"].unique())
    years = pd.to_numeric(distinct, errors="coerce")
    return list(distinct[years.between(low, high)])


def year_range(table: pd.DataFrame) -> tuple[int, int]:
    years = pd.to_numeric(pd.Series(table["publication_year"].unique()), errors="coerce").dropna()
    if years.empty:
        return (2000, datetime.now().year)
    return int(years.min()), int(years.max())


# --- The evidence table as shown ----------------------------------------------------------------

CONFLICT_MARK_COLUMNS = ["statistic_a", "statistic_b", "publication_a", "publication_b", "field", "kind"]
# How each kind of kb.conflicts pair is marked in the evidence table.
CONFLICT_MARK = {DISAGREEMENT: "⚠ conflict", LATER_DATA_CUT: "later data cut"}


def conflict_marks(table: pd.DataFrame, conflicts: pd.DataFrame) -> pd.Series:
    """Per row of `table`: "" or which other report differs on which field (kb.conflicts pairs), by kind:
    "⚠ conflict: ..." for disagreements, "later data cut: ..." where a later report explains the difference.
    Both figures of a pair are found by statistic id, whatever each report calls the group."""
    if conflicts.empty or table.empty:
        return pd.Series("", index=table.index)
    row_of: dict[str, int] = dict(zip(table["statistic_id"], table.index, strict=True))
    # Only the pairs that touch these rows (the view shows a page; a large KB holds far more pairs).
    touching = conflicts[conflicts["statistic_a"].isin(row_of) | conflicts["statistic_b"].isin(row_of)]
    marks: dict[int, dict[str, list[str]]] = {}
    for c in touching.astype(object).itertuples():
        for stat, other in ((c.statistic_a, c.publication_b), (c.statistic_b, c.publication_a)):
            i = row_of.get(str(stat))
            if i is None:  # that figure is not among the rows shown
                continue
            text = f"{c.field} differs from {other}"
            kind = marks.setdefault(i, {}).setdefault(str(c.kind), [])
            if text not in kind:
                kind.append(text)

    def mark(i: int) -> str:
        by_kind = marks.get(i, {})
        return " · ".join(f"{CONFLICT_MARK[k]}: {'; '.join(by_kind[k])}" for k in CONFLICT_MARK if k in by_kind)

    return pd.Series({i: mark(i) for i in table.index}, dtype=object)


FLAG_MARK = "⚑"


def flag_marks(flags: object) -> list[str]:
    """A row's curation flags (the export's `flags` column) as marks: "⚑ direction_doubtful", ..."""
    if not isinstance(flags, str) or not flags:
        return []
    return [f"{FLAG_MARK} {code}" for code in flags.split(";")]


# The evidence table's text columns, a column at a time (a filter change formats every row shown).


def _ci_level_text(level: object) -> str:
    """' (95% CI)' for a CI level as published ("0.95"); "" when none or not a number."""
    try:
        return f" ({float(str(level)) * 100:g}% CI)" if level else ""
    except ValueError:
        return ""


def ci_texts(table: pd.DataFrame) -> pd.Series:
    """'0.41–0.95 (95% CI)' per row: the CI as published with its level; "" when neither bound was read."""
    levels = table["ci_level"].map({v: _ci_level_text(v) for v in table["ci_level"].unique()})
    text = table["ci_low"] + "–" + table["ci_high"] + levels
    return text.where((table["ci_low"] != "") | (table["ci_high"] != ""), "").astype(str)


def value_texts(table: pd.DataFrame) -> pd.Series:
    """The value with its unit: '47%', '0.47' (a ratio or no unit), '41 months'."""
    unit = table["unit"]
    text = (table["value"] + " " + unit).where(unit != "percent", table["value"] + "%")
    return text.where(~unit.isin(["", "ratio"]), table["value"]).astype(str)


def source_links(table: pd.DataFrame) -> pd.Series:
    """The report's address per row: its DOI, else its PubMed page, else the page that shows it, else ""."""
    page = table["publication_url"].fillna("") if "publication_url" in table else pd.Series("", index=table.index)
    link = ("https://pubmed.ncbi.nlm.nih.gov/" + table["pmid"] + "/").where(table["pmid"] != "", page)
    return ("https://doi.org/" + table["doi"]).where(table["doi"] != "", link).astype(str)


def source_link(row: pd.Series) -> str:
    """One row's `source_links`."""
    return str(source_links(row.to_frame().T.astype(object)).iloc[0])


EVIDENCE_VIEW_COLUMNS = [
    "marks",
    "study",
    "outcome",
    "statistic",
    "arms",
    "n",
    "time point",
    "value",
    "CI as published",
    "p",
    "tier",
    "source",
    "read in",
    "locator",
    "publication",
    "year",
    "histology",
    "oligo-state",
    "design",
    "statistic_id",
]


def tier_text(rank: object, label: object) -> str:
    """'6 coverage page': the evidence tier as the explorer shows it (1 best ... 6)."""
    return f"{rank} {label}" if rank and label else ""


def tier_choices(table: pd.DataFrame) -> dict[str, str]:
    """Tier notation -> '2 trial's own abstract (17)': every tier, with its figure count, best first."""
    from terms.tiers import TIER_LABEL, TIER_RANK

    counts: pd.Series | dict[str, int] = table["evidence_tier_id"].value_counts() if "evidence_tier_id" in table else {}
    return {tier: f"{rank} {TIER_LABEL[tier]} ({int(counts.get(tier, 0))})" for tier, rank in TIER_RANK.items()}


#: The evidence table's columns that `evidence_view` reads.
VIEW_SOURCE_COLUMNS = [
    "statistic_id",
    "publication_role",
    "flags",
    "study_label",
    "publication_id",
    "outcome",
    "statistic",
    "comparison",
    "group",
    "n",
    "reference_n",
    "timepoint_months",
    "value",
    "unit",
    "ci_low",
    "ci_high",
    "ci_level",
    "p_value_as_published",
    "p_value",
    "tier_rank",
    "evidence_tier",
    "doi",
    "pmid",
    "publication_url",
    "read_in_url",
    "source_locator",
    "histology",
    "oligo_state",
    "design",
    "publication_year",
]


def evidence_view(table: pd.DataFrame, conflicts: pd.DataFrame) -> pd.DataFrame:
    """One row per figure, as the explorer shows it: secondary reports and conflicts marked."""
    if table.empty:
        return pd.DataFrame(columns=EVIDENCE_VIEW_COLUMNS)
    # Only the columns shown or used, as Python strings: the marks are made a row at a time, and Arrow strings
    # are slow to read one cell at a time.
    table = table[[c for c in VIEW_SOURCE_COLUMNS if c in table.columns]].astype(object)
    conflict = conflict_marks(table, conflicts)
    flags = table["flags"] if "flags" in table.columns else pd.Series("", index=table.index)
    marks = []
    for role, c, f in zip(table["publication_role"], conflict, flags, strict=True):
        parts = (["secondary"] if role == "secondary" else []) + ([c] if c else []) + flag_marks(f)
        marks.append(" · ".join(parts))
    view = pd.DataFrame(
        {
            "marks": marks,
            "study": table["study_label"],
            "publication": table["publication_id"] + " (" + table["publication_role"] + ")",
            "outcome": table["outcome"],
            "statistic": table["statistic"],
            "arms": table["comparison"].where(table["comparison"] != "", table["group"]),
            "n": table["n"] + table["reference_n"].map(lambda r: f" vs {r}" if r else ""),
            "time point": table["timepoint_months"].map(lambda t: f"{t} months" if t else ""),
            "value": value_texts(table),
            "CI as published": ci_texts(table),
            "p": table["p_value_as_published"].where(table["p_value_as_published"] != "", table["p_value"]),
            "tier": [tier_text(r, t) for r, t in zip(table["tier_rank"], table["evidence_tier"], strict=True)],
            "source": source_links(table),
            "read in": table["read_in_url"],
            "locator": table["source_locator"],
            "histology": table["histology"],
            "oligo-state": table["oligo_state"],
            "design": table["design"],
            "year": table["publication_year"],
            "statistic_id": table["statistic_id"],
        }
    )
    return view[EVIDENCE_VIEW_COLUMNS]


# --- Knowledge-base version and counts ----------------------------------------------------------


def source_version(src: Source) -> dict[str, str]:
    """What the About page says about the source: the file's hash, or the endpoint's URL."""
    if src.endpoint:
        read = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return {"source": "SPARQL endpoint", "endpoint": src.endpoint, "read": read}
    return {"source": "file", **kb_version(Path(src.kb_file))}


def kb_version(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return {
        "file": str(path.name),
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": f"{len(data):,}",
        "modified": mtime.strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def counts(
    table: pd.DataFrame, studies: pd.DataFrame, publications: pd.DataFrame, conflicts: pd.DataFrame
) -> dict[str, int]:
    """The About page's counts: kb.summary's (as `oligokb summary` prints them) and the conflict pairs."""
    return kb_counts(table, studies, publications).as_dict() | {"conflicts": len(conflicts)}


def vocabularies() -> pd.DataFrame:
    """The concept schemes of terms/vocab with their term counts and sources."""
    g = vocabulary_graph()
    rows = []
    for name in SCHEMES:
        scheme = URIRef(scheme_base(name))
        rows.append(
            {
                "vocabulary": str(g.value(scheme, SKOS.prefLabel) or name),
                "field": name,
                "terms": len(set(g.subjects(SKOS.inScheme, scheme))),
                "namespace": str(scheme),
                "source": str(g.value(scheme, DCTERMS.source) or ""),
            }
        )
    return pd.DataFrame(rows)


# --- The selection as RDF -----------------------------------------------------------------------


def statistic_iri(statistic_id: str) -> URIRef:
    return ID[f"pub/{statistic_id}"]


def selection_graph(graph: Graph, statistic_ids: list[str]) -> Graph:
    """The selected statistics with their derivations, groups, publications and studies."""
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace, override=True)
    seen: set = set()

    def add(node) -> None:
        if node in seen or not isinstance(node, URIRef):
            return
        seen.add(node)
        for triple in graph.triples((node, None, None)):
            out.add(triple)

    for sid in statistic_ids:
        stat = statistic_iri(sid)
        if (stat, RDF.type, OKB.Statistic) not in graph:
            continue
        add(stat)
        for derivation in graph.objects(stat, PROV.qualifiedDerivation):
            add(derivation)
        for prop in (OKB.group, OKB.referenceGroup):
            for group in graph.objects(stat, prop):
                add(group)
                for arm in graph.objects(group, OKB.ofArm):
                    add(arm)
                for derivation in graph.objects(group, PROV.qualifiedDerivation):
                    add(derivation)
                for study in graph.objects(group, OKB.inStudy):
                    add(study)
        for pub in graph.objects(stat, PROV.wasDerivedFrom):
            add(pub)
    return out


def selection_turtle(graph: Graph, statistic_ids: list[str]) -> str:
    return selection_graph(graph, statistic_ids).serialize(format="turtle")


# The nodes selection_graph describes, as one CONSTRUCT (for a remote store): the statistic, its
# derivations, groups (with their arms, derivations and studies) and publications. {values} is a VALUES
# block of statistic IRIs, last in the WHERE group (kb/remote.py says why last).
SELECTION_CONSTRUCT = """PREFIX okb: <https://w3id.org/oligokb/ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
CONSTRUCT {{ ?node ?p ?o }} WHERE {{
  ?stat rdf:type okb:Statistic .
  {{ ?stat rdf:type okb:Statistic . BIND(?stat AS ?node) }}
  UNION {{ ?stat prov:qualifiedDerivation|prov:wasDerivedFrom|okb:group|okb:referenceGroup ?node }}
  UNION {{ ?stat (okb:group|okb:referenceGroup)/(okb:ofArm|prov:qualifiedDerivation|okb:inStudy) ?node }}
  FILTER(isIRI(?node))
  ?node ?p ?o .
  {values}
}}
"""


def remote_selection_turtle(endpoint: SparqlEndpoint, statistic_ids: list[str], chunk: int = 200) -> str:
    """selection_turtle from a SPARQL endpoint (kb.remote.SparqlEndpoint): the same triples, asked for
    `chunk` statistics at a time (each IRI checked and written as a term by kb.remote.sparql_term; the
    query passes the guard before it is sent)."""
    from kb.remote import sparql_term
    from kb.turtle import bind_prefixes

    out = bind_prefixes(Graph())
    for start in range(0, len(statistic_ids), chunk):
        terms = " ".join(sparql_term("statistic", statistic_iri(sid)) for sid in statistic_ids[start : start + chunk])
        _, graph = endpoint.query(SELECTION_CONSTRUCT.format(values=f"VALUES ?stat {{ {terms} }}"))
        if not isinstance(graph, Graph):  # a CONSTRUCT's answer is a graph
            raise TypeError(f"{endpoint.url} answered a {type(graph).__name__} to a CONSTRUCT")
        out += graph
    return out.serialize(format="turtle")
