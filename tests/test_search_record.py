"""data/search/prisma.yaml, the PRISMA 2020 record of the randomised-trial search (issue 14), against its own
arithmetic and against the bundled knowledge base (data/studies.ttl).

The flow's keys and the identities checked here (a PRISMA 2020 flow with one identification column):
  identification.records     >= screening.records_screened
  screening.records_screened  - screening.records_excluded     == retrieval.reports_sought
  retrieval.reports_sought    - retrieval.reports_not_retrieved == eligibility.reports_assessed
  eligibility.reports_assessed - eligibility.reports_excluded   == included.reports
The record's counting convention for reports (stated in the YAML header):
  included.reports = distinct publication ids in included.list and overlapping_reports (the KB's reports)
  retrieval.reports_sought = included.reports + one report per entry of not_entered
  each not_entered reason opens with its category; "results not readable" and "no identifier" are the reports
  not retrieved, the other categories the reports excluded at eligibility.
The expected sets of studies and publications come from the KB, never from the YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from rdflib import URIRef

from kb.export import evidence_table
from kb.query import run_named
from kb.store import load_store
from terms.vocabulary import pref_label, top_concept

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "data" / "search" / "prisma.yaml"
KB = ROOT / "data" / "studies.ttl"

TOP_KEYS = {
    "searched",
    "method",
    "identification",
    "screening",
    "retrieval",
    "eligibility",
    "included",
    "overlapping_reports",
    "not_entered",
}
NOT_RETRIEVED = ("results not readable", "no identifier")
EXCLUDED = ("no results yet", "no results found", "not MDT vs standard care")


@pytest.fixture(scope="module")
def record() -> dict:
    return yaml.safe_load(RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def kb():
    return load_store(KB)


def _count(record: dict, section: str, key: str) -> int:
    value = record[section][key]
    assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, f"{section}.{key} = {value!r}"
    return value


def _design_class(iri: str) -> str:
    return pref_label(top_concept(URIRef(iri)))


def _pubs(record: dict) -> set[str]:
    entries = record["included"]["list"] + record["overlapping_reports"]
    return {pub for entry in entries for pub in entry["reports"]}


def test_keys_and_date(record: dict) -> None:
    assert set(record) == TOP_KEYS
    assert set(record["identification"]) == {"queries", "records", "note"}
    assert set(record["screening"]) == {"records_screened", "records_excluded", "note"}
    assert set(record["retrieval"]) == {"reports_sought", "reports_not_retrieved", "note"}
    assert set(record["eligibility"]) == {"reports_assessed", "reports_excluded", "note"}
    assert set(record["included"]) == {"studies", "reports", "list"}
    dt.date.fromisoformat(str(record["searched"]))
    assert isinstance(record["method"], str) and len(record["method"]) > 200


def test_prisma_arithmetic(record: dict) -> None:
    queries = _count(record, "identification", "queries")
    identified = _count(record, "identification", "records")
    screened = _count(record, "screening", "records_screened")
    excluded = _count(record, "screening", "records_excluded")
    sought = _count(record, "retrieval", "reports_sought")
    not_retrieved = _count(record, "retrieval", "reports_not_retrieved")
    assessed = _count(record, "eligibility", "reports_assessed")
    ineligible = _count(record, "eligibility", "reports_excluded")
    reports = _count(record, "included", "reports")
    assert 0 < queries <= identified
    assert identified >= screened
    assert screened - excluded == sought
    assert sought - not_retrieved == assessed
    assert assessed - ineligible == reports
    assert record["included"]["studies"] == len(record["included"]["list"])


def test_report_convention(record: dict) -> None:
    assert record["included"]["reports"] == len(_pubs(record))
    assert record["retrieval"]["reports_sought"] == record["included"]["reports"] + len(record["not_entered"])
    reasons = [entry["reason"] for entry in record["not_entered"]]
    for entry in record["not_entered"]:
        assert set(entry) == {"trial", "registry", "reason"}, entry
        assert entry["reason"].startswith(NOT_RETRIEVED + EXCLUDED), entry
        assert entry["registry"] == "" or re.fullmatch(r"NCT\d{8}", entry["registry"]), entry
    assert sum(r.startswith(NOT_RETRIEVED) for r in reasons) == record["retrieval"]["reports_not_retrieved"]
    assert sum(r.startswith(EXCLUDED) for r in reasons) == record["eligibility"]["reports_excluded"]
    trials = [entry["trial"] for entry in record["not_entered"]]
    registries = [entry["registry"] for entry in record["not_entered"] if entry["registry"]]
    assert len(set(trials)) == len(trials) and len(set(registries)) == len(registries)


def test_included_studies_are_the_kb_randomised_studies(record: dict, kb) -> None:
    table = evidence_table(kb)
    with_figures = set(table.loc[table["design_class"] == "randomised", "study_id"])
    studies = run_named(kb, "studies", lexical=True)
    randomised = {
        sid
        for sid, design in zip(studies["study_id"], studies["design"], strict=False)
        if _design_class(design) == "randomised"
    }
    listed = [entry["study_id"] for entry in record["included"]["list"]]
    assert len(listed) == len(set(listed))
    assert with_figures <= set(listed), f"randomised studies with figures not listed: {with_figures - set(listed)}"
    # A randomised study entered with no figure (design only) is absent from the evidence table but is in the KB.
    assert set(listed) == randomised, f"missing {randomised - set(listed)}, not in the KB {set(listed) - randomised}"


def test_listed_publications_are_the_kb_publications(record: dict, kb) -> None:
    table = evidence_table(kb)
    pubs = run_named(kb, "publications", lexical=True)
    by_study: dict[str, set[str]] = {}
    for sid, pid in zip(pubs["study_id"], pubs["publication_id"], strict=False):
        by_study.setdefault(sid, set()).add(pid)
    known = set(pubs["publication_id"]) | set(table["publication_id"])
    for entry in record["included"]["list"] + record["overlapping_reports"]:
        for pid in entry["reports"]:
            assert pid in known, f"{entry['study_id']}: publication {pid} is not in the KB"
        assert set(entry["reports"]) == by_study.get(entry["study_id"], set()), entry["study_id"]


def test_overlapping_reports_are_the_pooled_analyses(record: dict, kb) -> None:
    studies = run_named(kb, "studies", lexical=True)
    pooled = {
        sid: (ov or "")
        for sid, design, ov in zip(studies["study_id"], studies["design"], studies["overlaps_with"], strict=False)
        if _design_class(design) == "pooled analysis"
    }
    assert {entry["study_id"] for entry in record["overlapping_reports"]} == set(pooled)
    for entry in record["overlapping_reports"]:
        assert set(entry["overlaps_with"]) == set(filter(None, re.split(r"[;,\s]+", pooled[entry["study_id"]])))


def test_the_about_page_flow_diagram_shows_every_count_and_the_reasons_by_category():
    from explorer.search_record import load_record, prisma_dot

    record = load_record()
    dot = prisma_dot(record)
    for count in (
        record["identification"]["records"],
        record["screening"]["records_excluded"],
        record["retrieval"]["reports_not_retrieved"],
        record["eligibility"]["reports_excluded"],
        record["included"]["studies"],
        record["included"]["reports"],
    ):
        assert f": {count}" in dot
    categories = {str(i["reason"]).split(":")[0] for i in record["not_entered"]}
    shown = [c for c in categories if f"{c}: " in dot]
    assert shown and len(shown) == min(len(categories), 6)
    assert dot.count("->") >= 4 and dot.startswith("digraph prisma {")
