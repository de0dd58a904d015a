"""Incremental SHACL validation (kb.validate.validate_extractions): the same violations as validating the
whole graph, attributed to the right sheet, and after an edit only the edited sheet is validated again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph

import kb.validate as validate_mod
from extract.sheets import load_extractions
from extract.synth import generate
from kb.build import build_graph
from kb.validate import sheet_files, validate_extractions, validate_graph
from tests.conftest import run_cli

# An extra shape that flags data the schema accepts (so sheets can carry violations): hazard ratios
# above 1.2 and publications from before 2010. Each violation belongs to one sheet.
EXTRA_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix okb: <https://w3id.org/oligokb/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix t: <https://example.org/test-shapes#> .
t:NoHarm a sh:NodeShape ; sh:targetSubjectsOf okb:statisticType ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:message "test: hazard ratio above 1.2" ;
      sh:select "SELECT $this ?value WHERE { $this <https://w3id.org/oligokb/ns#statisticType> <https://w3id.org/oligokb/vocab/statistic/hazard_ratio> ; <https://w3id.org/oligokb/ns#value> ?value . FILTER(?value > 1.2) }" ] .
t:Recent a sh:NodeShape ; sh:targetClass okb:Publication ;
    sh:property [ sh:path dcterms:issued ; sh:minInclusive "2010"^^xsd:gYear ; sh:message "test: before 2010" ] .
"""


@pytest.fixture()
def strict_shapes(monkeypatch):
    graph = Graph().parse(validate_mod.SHAPES_FILE, format="turtle")
    graph.parse(data=EXTRA_SHAPES, format="turtle")
    monkeypatch.setattr(validate_mod, "_shapes", graph)
    return graph


@pytest.fixture()
def sheets(tmp_path) -> Path:
    generate(40, tmp_path / "sheets", seed=11)
    return tmp_path / "sheets"


def test_same_violations_as_the_whole_graph(strict_shapes, sheets, monkeypatch):
    monkeypatch.setattr(validate_mod, "CHUNK_SHEETS", 7)  # several chunks, split across studies
    ex = load_extractions(sheets)
    whole = validate_graph(build_graph(ex))
    assert len(whole) > 5, "the test shapes should find violations in the synthetic sheets"
    assert validate_extractions(ex) == whole


def test_each_violation_names_its_own_sheet(strict_shapes, sheets):
    ex = load_extractions(sheets)
    files = sheet_files(ex)
    for v in validate_extractions(ex):
        owner = [f for iri, f in files.items() if v.focus == iri or v.focus.startswith(iri + "/")]
        assert len(owner) == 1
        if "hazard ratio" in v.message:
            assert "/publications/" in owner[0] and v.value and float(v.value) > 1.2
        else:
            assert "/publications/" in owner[0]


def test_only_changed_sheets_are_validated_again(strict_shapes, sheets, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    seen: list[int] = []
    real = validate_mod.validate_graph

    def counting(graph: Graph, *args, **kwargs):  # type: ignore[no-untyped-def]
        from rdflib.namespace import RDF

        from terms.namespaces import OKB

        seen.append(
            sum(1 for _ in graph.subjects(RDF.type, OKB.Publication))
            + sum(1 for _ in graph.subjects(RDF.type, OKB.Study))
        )
        return real(graph, *args, **kwargs)

    monkeypatch.setattr(validate_mod, "validate_graph", counting)
    ex = load_extractions(sheets)
    first = validate_extractions(ex, cache=cache)
    assert seen and (cache / "validate.json").exists()
    seen.clear()
    assert validate_extractions(ex, cache=cache) == first
    assert seen == []  # nothing changed: nothing validated

    # Make one publication break the test shape: only it is validated again, and its new violation shows.
    target = sorted((sheets / "publications").glob("*-r1.yaml"))[0]
    text = target.read_text()
    year = next(line for line in text.splitlines() if line.strip().startswith("year:"))
    target.write_text(text.replace(year, year.split(":")[0] + ": 2001", 1))
    ex = load_extractions(sheets)
    again = validate_extractions(ex, cache=cache)
    assert len(seen) == 1
    assert any("before 2010" in v.message and target.stem in v.focus for v in again)
    assert again == validate_graph(build_graph(ex))


def test_a_changed_rule_empties_the_cache(sheets, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    ex = load_extractions(sheets)
    validate_extractions(ex, cache=cache)
    monkeypatch.setattr(validate_mod, "_rules_hash", lambda: "other rules")
    calls = []
    real = validate_mod.validate_graph
    monkeypatch.setattr(validate_mod, "validate_graph", lambda g, *a, **k: calls.append(1) or real(g, *a, **k))
    validate_extractions(ex, cache=cache)
    assert calls


def test_cli_validate_uses_the_cache(tmp_path):
    sheets = tmp_path / "sheets"
    shutil.copytree(Path("tests/data/valid"), sheets)
    cache = tmp_path / "cache"
    first = run_cli("validate", "--sheets", str(sheets), "--cache", str(cache))
    assert first.returncode == 0, first.stderr
    assert (cache / "validate.json").exists()
    again = run_cli("validate", "--sheets", str(sheets), "--cache", str(cache))
    assert again.returncode == 0 and "conformant" in again.stderr
    none = run_cli("validate", "--sheets", str(sheets), "--no-cache", "--cache", str(tmp_path / "unused"))
    assert none.returncode == 0 and not (tmp_path / "unused").exists()
