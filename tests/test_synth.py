"""The synthetic knowledge-base generator (`oligokb synth`): valid sheets, realistic shape, never mixed
with the real knowledge base."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import URIRef

from extract.sheets import load_extractions
from extract.synth import generate
from kb.build import build_graph
from kb.conflicts import find_conflicts
from kb.export import evidence_table
from kb.validate import validate_graph
from terms.errors import InputError
from terms.namespaces import ID, SYNTH_ID
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "sheets"
    generate(200, out, seed=7)
    return out


@pytest.fixture(scope="module")
def synth(synth_dir):
    return load_extractions(synth_dir)


def test_sheets_pass_the_schema_and_cross_checks(synth):
    assert len(synth.studies) == 200
    assert synth.synthetic


def test_graph_conforms_to_the_shapes(tmp_path):
    generate(15, tmp_path / "small", seed=3)
    graph = build_graph(load_extractions(tmp_path / "small"))
    assert validate_graph(graph) == []


def test_iris_are_under_the_synthetic_namespace_only(synth):
    graph = build_graph(synth)
    subjects = {str(s) for s in graph.subjects() if isinstance(s, URIRef)}
    assert subjects and all(s.startswith(str(SYNTH_ID)) for s in subjects)
    assert not any(str(term).startswith(str(ID)) for triple in graph for term in triple)


def test_shape_of_the_evidence(synth):
    figures, reports = Counter(), Counter()
    for pub in synth.publications.values():
        for report in pub.reports:
            figures[report.study] += len(report.statistics)
            reports[report.study] += 1
    assert min(figures.values()) >= 10 and max(figures.values()) <= 20
    assert set(reports.values()) == {2, 3, 4}
    hr_levels = {
        format(s.ci.level, "f")
        for p in synth.publications.values()
        for r in p.reports
        for s in r.statistics
        if s.statistic == "hazard_ratio"
    }
    assert hr_levels == {"0.80", "0.90", "0.95"}
    assert len({s.histology for s in synth.studies.values()}) >= 10
    assert len({s.oligo_state.mapped for s in synth.studies.values()}) >= 8
    designs = Counter(s.design.startswith("rct") for s in synth.studies.values())
    assert 0.1 < designs[True] / 200 < 0.4
    roles = Counter(p.role for p in synth.publications.values())
    assert roles["secondary"] > 20
    supersedes = [p for p in synth.publications.values() if p.supersedes]
    assert supersedes and all(p.role == "primary" for p in supersedes)


def test_some_secondary_reports_disagree_with_the_primary(synth):
    graph = build_graph(synth)
    from terms.vocabulary import vocabulary_graph

    conflicts = find_conflicts(evidence_table(graph + vocabulary_graph()))
    assert len(conflicts) > 5


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    def files(out: Path) -> dict[str, bytes]:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.yaml"))}

    generate(10, tmp_path / "a", seed=5)
    generate(10, tmp_path / "b", seed=5)
    generate(10, tmp_path / "c", seed=6)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_refuses_real_data_and_foreign_directories(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="data/extractions"):
        generate(5, Path("data/extractions"))
    with pytest.raises(InputError, match="data/extractions"):
        generate(5, Path("data/extractions/synth"))
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        generate(5, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_cli_synth_then_build_refuses_the_real_kb_file(tmp_path):
    out = tmp_path / "sheets"
    result = run_cli("synth", "--studies", "5", "--out", str(out), "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert "5 studies" in result.stderr
    before = Path("data/studies.ttl").read_bytes()
    refused = run_cli("build", "--sheets", str(out))
    assert refused.returncode == 2
    assert "never go into data/studies.ttl" in refused.stderr
    assert Path("data/studies.ttl").read_bytes() == before
    built = run_cli("build", "--sheets", str(out), "--out", str(tmp_path / "synth.ttl"))
    assert built.returncode == 0, built.stderr
    assert str(SYNTH_ID) in (tmp_path / "synth.ttl").read_text()


def test_study_page_of_a_synthetic_study(synth):
    """The study page finds a study by the IRI the KB gives it, here under the synthetic base."""
    from explorer.study import study_page

    graph = build_graph(synth)
    study_id = sorted(synth.studies)[0]
    page = study_page(graph, study_id)
    assert page is not None and page.facts["label"] == synth.studies[study_id].label
    sheet_groups = sum(len(r.groups) for p in synth.publications.values() for r in p.reports if r.study == study_id)
    assert len(page.groups) == sheet_groups and len(page.arms) == len(synth.studies[study_id].arms)
    assert study_page(graph, "no-such-study") is None
