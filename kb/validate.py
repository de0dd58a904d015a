"""SHACL validation of the knowledge-base graph (pySHACL), with a readable report that names the sheet
file, the field and how to fix it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from kb.vocabulary import vocabulary_graph

SHAPES_FILE = Path(__file__).parent / "shapes.ttl"

# Graph property -> sheet field, for messages that point at what a curator edits.
FIELD_OF = {
    "ciLow": "ci.low", "ciHigh": "ci.high", "ciLevel": "ci.level", "valueAsPublished": "value", "value": "value",
    "pValue": "p_value", "timepointMonths": "timepoint_months", "statisticType": "statistic", "outcome": "outcome",
    "referenceGroup": "reference_group", "group": "group", "timeOrigin": "time_origin", "unit": "unit",
    "qualifiedDerivation": "source", "wasDerivedFrom": "source", "n": "n", "doi": "citation.doi", "pmid": "citation.pmid",
    "oligoState": "oligo_state.mapped", "oligoStateAsPublished": "oligo_state.as_published", "histology": "histology",
    "design": "design", "intervention": "intervention.term", "issued": "citation.year",
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


def sheet_files(ex) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """IRI prefix of each sheet's nodes -> the sheet file (studies and publications; see kb.build)."""
    from kb.build import publication_iri, study_iri

    out = {}
    for key, path in ex.files.items():
        kind, ident = key.split(":", 1)
        out[str(study_iri(ident) if kind == "study" else publication_iri(ident))] = path
    return out


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
    every time: 97 % of validation time on the bundled KB. Here each text is parsed once."""

    def query(self, query_object, *args, **kwargs):  # type: ignore[no-untyped-def, override]
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
    conforms, report, _ = shacl_validate(union, shacl_graph=shapes_graph(), advanced=True, allow_warnings=False,
                                         inplace=True)
    if conforms:
        return []
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        out.append(Violation(
            focus=str(report.value(result, SH.focusNode)),
            path=str(report.value(result, SH.resultPath) or ""),
            message=str(report.value(result, SH.resultMessage) or ""),
            value=str(report.value(result, SH.value) or ""),
        ))
    return sorted(out, key=lambda v: (v.focus, v.path, v.message))
