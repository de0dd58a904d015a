"""SHACL validation of the knowledge-base graph (pySHACL), with a readable report that names the sheet
file, the field and how to fix it."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyshacl import validate as shacl_validate
from rdflib import Graph
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from terms.vocabulary import vocabulary_graph

if TYPE_CHECKING:
    from extract.schema import PublicationSheet, StudySheet
    from extract.sheets import Extractions

SHAPES_FILE = Path(__file__).parent / "shapes.ttl"

# Graph property -> sheet field, for messages that point at what a curator edits.
FIELD_OF = {
    "ciLow": "ci.low",
    "ciHigh": "ci.high",
    "ciLevel": "ci.level",
    "valueAsPublished": "value",
    "value": "value",
    "pValue": "p_value",
    "timepointMonths": "timepoint_months",
    "statisticType": "statistic",
    "outcome": "outcome",
    "referenceGroup": "reference_group",
    "group": "group",
    "timeOrigin": "time_origin",
    "unit": "unit",
    "qualifiedDerivation": "source",
    "wasDerivedFrom": "source",
    "n": "n",
    "doi": "citation.doi",
    "pmid": "citation.pmid",
    "oligoState": "oligo_state.mapped",
    "oligoStateAsPublished": "oligo_state.as_published",
    "histology": "histology",
    "design": "design",
    "intervention": "intervention.term",
    "issued": "citation.year",
}


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str
    value: str

    @property
    def field(self) -> str:
        """The sheet field a curator edits, when the shape names the property."""
        local = self.path.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return FIELD_OF.get(local, local)


def sheet_iris(ex: Extractions) -> dict[str, str]:
    """The IRI of each sheet's study or publication (every node of the sheet is under it) -> "kind:id"."""
    from kb.build import id_base
    from terms.iri import publication_iri, study_iri

    base = id_base(ex)
    out = {}
    for key in ex.files:
        kind, ident = key.split(":", 1)
        out[str(study_iri(ident, base) if kind == "study" else publication_iri(ident, base))] = key
    return out


def sheet_files(ex: Extractions) -> dict[str, str]:
    """IRI prefix of each sheet's nodes -> the sheet file (studies and publications; see kb.build)."""
    return {iri: ex.files[key] for iri, key in sheet_iris(ex).items()}


def report_lines(violations: list[Violation], files: dict[str, str] | None = None) -> list[str]:
    """One line per violation: sheet file (or node), node id, field, problem, value."""
    files = files or {}
    lines = []
    for v in violations:
        # The longest prefix that is a whole path segment names the sheet.
        matches = [p for p in files if v.focus == p or v.focus.startswith(p + "/")]
        sheet = files[max(matches, key=len)] if matches else ""
        node = v.focus.split("/id/", 1)[-1]
        field = f" {v.field}:" if v.path else ""
        value = f" (value {v.value})" if v.value and v.value != v.focus else ""
        lines.append(f"- {sheet or v.focus}: {node}:{field} {v.message}{value}")
    return lines


_shapes: Graph | None = None


def shapes_graph() -> Graph:
    global _shapes
    if _shapes is None:
        _shapes = Graph().parse(SHAPES_FILE, format="turtle")
    return _shapes


class _PreparedQueryGraph(Graph):
    """pySHACL hands rdflib the text of each SPARQL constraint once per focus node, and rdflib parses it
    every time, which was most of the validation time. Here each text is parsed once."""

    def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query_object, str):
            if query_object not in _prepared:
                _prepared[query_object] = prepareQuery(query_object)
            query_object = _prepared[query_object]
        return super().query(query_object, *args, **kwargs)


_prepared: dict[str, Query] = {}


def validate_graph(data: Graph, with_vocabulary: bool = True) -> list[Violation]:
    """Violations of kb/shapes.ttl in `data` (united with the vocabularies); [] when conformant."""
    union = _PreparedQueryGraph()
    union += data
    if with_vocabulary:
        union += vocabulary_graph()
    # inplace: the union is our own copy, and no inference is asked for, so nothing is added to it
    conforms, report, _ = shacl_validate(
        union, shacl_graph=shapes_graph(), advanced=True, allow_warnings=False, inplace=True
    )
    if conforms:
        return []
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        out.append(
            Violation(
                focus=str(report.value(result, SH.focusNode)),
                path=str(report.value(result, SH.resultPath) or ""),
                message=str(report.value(result, SH.resultMessage) or ""),
                value=str(report.value(result, SH.value) or ""),
            )
        )
    return sorted(out, key=lambda v: (v.focus, v.path, v.message))


# --- Incremental validation: sheet by sheet, cached by content hash -----------------------------

CACHE_FILE = "validate.json"
CHUNK_SHEETS = 400  # sheets per pySHACL call: big enough to amortise its set-up, small enough to stay quick


def _rules_hash() -> str:
    """What a cached result depends on besides the sheet: the shapes, the vocabularies and the code
    that turns sheets into triples. A change to any of them invalidates the whole cache."""
    from terms.vocabulary import ONTOLOGY_FILE, VOCAB_DIR

    root = Path(__file__).resolve().parents[1]
    files = [
        SHAPES_FILE,
        ONTOLOGY_FILE,
        *sorted(VOCAB_DIR.glob("*.ttl")),
        root / "kb" / "build.py",
        root / "extract" / "schema.py",
        root / "extract" / "schema_values.py",
    ]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()


_SHEET_NODE = re.compile(r"^.*?/id/(?:study|pub)/[^/]+")  # a node's sheet IRI: see kb.build's IRI scheme


def validate_extractions(
    ex: Extractions, cache: Path | None = None, progress: Callable[[Iterable], Iterable] | None = None
) -> list[Violation]:
    """SHACL on the graph the sheets build, sheet by sheet, in chunks.

    Every shape looks at one sheet's own nodes; what a sheet refers to in other sheets (its study, the
    publication a quote is from, the report it supersedes) is checked only for its class, so each chunk
    carries those nodes' rdf:type. The result equals validate_graph(build_graph(ex)) (tested). With a
    cache directory, a sheet whose bytes (and the rules) are unchanged keeps its earlier result: after
    one edit, only that sheet is validated again.
    """
    from kb.build import id_base, sheet_triples
    from terms.namespaces import OKB

    rules = _rules_hash()
    entries: dict[str, dict] = {}
    cache_path = cache / CACHE_FILE if cache is not None else None
    if cache_path is not None and cache_path.exists():
        try:
            stored = json.loads(cache_path.read_text(encoding="utf-8"))
            entries = stored["sheets"] if stored.get("rules") == rules else {}
        except (ValueError, KeyError, TypeError):
            entries = {}  # an unreadable cache is only a slower run
    hashes = {key: hashlib.sha256(Path(path).read_bytes()).hexdigest() for key, path in ex.files.items()}
    todo = sorted(key for key in ex.files if entries.get(key, {}).get("hash") != hashes[key])
    base = id_base(ex)
    key_of = sheet_iris(ex)
    iri_of = {key: iri for iri, key in key_of.items()}
    types = {iri: (OKB.Study if key.startswith("study:") else OKB.Publication) for key, iri in iri_of.items()}
    sheet_of: dict[str, Mapping[str, StudySheet | PublicationSheet]] = {
        "study": ex.studies,
        "publication": ex.publications,
    }
    chunks = [todo[i : i + CHUNK_SHEETS] for i in range(0, len(todo), CHUNK_SHEETS)]
    wrap = progress or (lambda it: it)
    for chunk in wrap(chunks):
        graph = Graph()
        subjects: set[str] = set()
        for key in chunk:
            kind, ident = key.split(":", 1)
            for s, p, o in sheet_triples(sheet_of[kind][ident], base):
                graph.add((s, p, o))
                subjects.add(str(s))
        for obj in set(graph.objects()):
            if str(obj) in types and str(obj) not in subjects:
                graph.add((obj, RDF.type, types[str(obj)]))  # the referenced study or publication: its class only
        found: dict[str, list[dict]] = {key: [] for key in chunk}
        for v in validate_graph(graph):
            owner = _SHEET_NODE.match(v.focus)
            key = key_of.get(owner.group(0)) if owner else None
            if key in found:  # a referenced node from another sheet is a target here only by its type
                found[key].append(asdict(v))
            elif key is None:
                raise RuntimeError(
                    f"a SHACL violation outside every sheet's nodes (a shape targets vocabulary terms?): {v}"
                )
        for key in chunk:
            entries[key] = {"hash": hashes[key], "violations": found[key]}
    if cache_path is not None:
        from terms.files import write_atomic

        kept = {key: entries[key] for key in ex.files}
        write_atomic(cache_path, json.dumps({"rules": rules, "sheets": kept}, sort_keys=True).encode("utf-8"))
    out = [Violation(**v) for key in ex.files for v in entries[key]["violations"]]
    return sorted(out, key=lambda v: (v.focus, v.path, v.message))
