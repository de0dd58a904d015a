"""Sheets -> graph -> Turtle -> export: deterministic, atomic, and every number kept."""
from __future__ import annotations

import csv
import io
import os
import shutil
from decimal import Decimal
from pathlib import Path

from extract.sheets import load_extractions
from kb.contract import ALL_COLUMNS, EVIDENCE_COLUMNS
from tests.conftest import ROOT, VALID_SHEETS, run_cli


def _build(sheets: Path, out: Path, seed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    result = run_cli("build", "--sheets", str(sheets), "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def test_two_builds_are_byte_identical(tmp_path):
    # Different hash seeds change set/dict iteration order: the output must not depend on it.
    first = _build(VALID_SHEETS, tmp_path / "a.ttl", "1")
    second = _build(VALID_SHEETS, tmp_path / "b.ttl", "4242")
    assert first == second
    assert b"_:" not in first  # no blank nodes: IRIs are stable


def test_bundled_kb_rebuilds_byte_identical(tmp_path):
    built = _build(ROOT / "data" / "extractions", tmp_path / "studies.ttl", "7")
    assert built == (ROOT / "data" / "studies.ttl").read_bytes(), "data/studies.ttl is stale: run `oligokb build`"


def test_build_check_detects_stale_file(tmp_path, sheets):
    out = tmp_path / "studies.ttl"
    _build(sheets, out, "0")
    ok = run_cli("build", "--sheets", str(sheets), "--out", str(out), "--check")
    assert ok.returncode == 0, ok.stderr
    text = (sheets / "publications" / "test-trial-2020.yaml").read_text()
    (sheets / "publications" / "test-trial-2020.yaml").write_text(text.replace("A fixture trial report", "A changed title"))
    stale = run_cli("build", "--sheets", str(sheets), "--out", str(out), "--check")
    assert stale.returncode == 1
    assert "stale" in stale.stderr
    assert out.read_bytes() == _build(VALID_SHEETS, tmp_path / "again.ttl", "0")  # --check wrote nothing


def test_build_leaves_no_temp_files(tmp_path):
    _build(VALID_SHEETS, tmp_path / "studies.ttl", "0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.ttl"]


def _export_rows(kb: Path) -> list[dict[str, str]]:
    result = run_cli("export", "--format", "csv", "--kb", str(kb))
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_export_columns_are_the_contract_in_order(fixture_kb):
    result = run_cli("export", "--format", "csv", "--kb", str(fixture_kb))
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert tuple(header[: len(EVIDENCE_COLUMNS)]) == EVIDENCE_COLUMNS
    assert tuple(header) == ALL_COLUMNS


def test_round_trip_keeps_every_number(fixture_kb):
    """Each statistic of each sheet comes back in the export with the same published numbers."""
    rows = {(r["publication_id"], r["statistic_id"].rsplit("/", 1)[-1], r["study_id"]): r for r in _export_rows(fixture_kb)}
    ex = load_extractions(VALID_SHEETS)
    n_checked = 0
    for pub in ex.publications.values():
        for report in pub.reports:
            groups = {g.id: g for g in report.groups}
            for stat in report.statistics:
                row = rows.pop((pub.id, stat.id, report.study))
                assert row["value"] == format(stat.value, "f")
                if stat.ci is not None:
                    assert row["ci_low"] == format(stat.ci.low, "f")
                    assert row["ci_high"] == (format(stat.ci.high, "f") if stat.ci.high is not None else stat.ci.high_as_published)
                    assert Decimal(row["ci_level"]) == stat.ci.level
                if stat.timepoint_months is not None:
                    assert Decimal(row["timepoint_months"]) == stat.timepoint_months
                if stat.p_value is not None and "<" not in stat.p_value:
                    assert Decimal(row["p_value"]) == Decimal(stat.p_value.replace(",", "."))
                n = groups[stat.group].n
                assert row["n"] == ("" if n is None else str(n))
                assert row["source_quote"] == stat.source.quote
                n_checked += 1
    assert rows == {}, f"export has rows no sheet has: {list(rows)}"
    assert n_checked == 5


def test_export_labels_and_conventions(fixture_kb):
    rows = _export_rows(fixture_kb)
    hr = next(r for r in rows if r["statistic_id"] == "test-trial-2020/test-trial/stat/pfs-hr")
    assert hr["statistic"] == "hazard ratio"
    assert hr["outcome"] == "progression-free survival"
    assert hr["ci_level"] == "0.8"
    assert hr["value"] == "0.70"  # the published lexical form, trailing zero kept
    assert hr["comparison"] == "TKI + SABR vs TKI alone"
    assert hr["reference_group"] == "TKI alone"
    assert hr["adjusted"] == "false"
    assert hr["publication_role"] == "primary"
    assert hr["design_class"] == "randomised"
    french = next(r for r in rows if r["publication_id"] == "test-review-2021" and r["study_id"] == "test-trial")
    assert french["publication_role"] == "secondary"
    assert french["value"] == "0.70"  # "0,70" in the sheet
    subgroup = next(r for r in rows if r["study_id"] == "test-cohort")
    assert subgroup["oligo_state"] == "induced oligoprogression"  # the group's own state, not the study's "mixed"
    assert subgroup["oligo_state_as_published"] == "oligoprogression"


def test_bundled_kb_export_has_sources_for_every_row():
    rows = _export_rows(ROOT / "data" / "studies.ttl")
    assert rows, "the bundled knowledge base is empty"
    for row in rows:
        assert row["source_locator"] and row["source_quote"], row["statistic_id"]
        assert row["doi"] or row["pmid"], row["publication_id"]


def test_ntriples_for_bulk_loading(tmp_path):
    result = run_cli("build", "--sheets", str(VALID_SHEETS), "--out", str(tmp_path / "kb.ttl"), "--ntriples", str(tmp_path / "kb.nt"))
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "kb.nt").read_text().splitlines()
    assert lines == sorted(lines)
    from rdflib import Graph

    assert len(Graph().parse(tmp_path / "kb.nt", format="nt")) == len(Graph().parse(tmp_path / "kb.ttl"))
    shutil.rmtree(tmp_path)
