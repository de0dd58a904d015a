"""benches.endpoint on the bundled knowledge base: every case answered (HTTP 200) with the rows the named
queries give in process, and the figures written."""

from __future__ import annotations

import json

from benches.endpoint import main
from kb.query import run_named
from kb.store import load_store
from tests.conftest import ROOT


def test_endpoint_bench_measures_every_case(tmp_path):
    out = tmp_path / "endpoint.json"
    main(["--runs", "2", "--workers", "1", "--timeout", "2", "--out", str(out)])
    report = json.loads(out.read_text())
    cases = {case["label"]: case for case in report["cases"]}
    assert len(cases) == 18 and all(case["status"] == 200 and case["runs"] == 2 for case in cases.values())
    kb = load_store(ROOT / "data" / "studies.ttl")
    evidence = len(run_named(kb, "evidence", {}, lexical=True))
    assert cases["evidence all, CSV"]["rows"] == cases["evidence all, JSON"]["rows"] == evidence
    assert cases["studies, JSON"]["rows"] == len(run_named(kb, "studies", {}, lexical=True))
    assert all(case["p95_ms"] >= case["median_ms"] > 0 for case in cases.values())
    assert report["startup_s"] > 0 and report["pss_total_mb"] > 0
    assert [(r["runaway_status"], r["next_status"]) for r in report["replacement"]] == [(503, 200)] * 3
