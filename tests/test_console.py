"""The explorer's SPARQL console (explorer.sparql.run_console_query): Oxigraph in a worker, the answers
the endpoint gives; with an endpoint, the guard runs in a worker that holds no knowledge base and
nothing is sent when it refuses."""

from __future__ import annotations

import pytest

from explorer.sparql import run_console_query
from terms.errors import QueryRefused
from tests.conftest import oxigraph_server

OKB = "PREFIX okb: <https://w3id.org/oligokb/ns#> "


def test_console_answers_with_oxigraph(fixture_kb):
    assert run_console_query(fixture_kb, "ASK { FILTER(false) }").answer is False
    outcome = run_console_query(fixture_kb, OKB + "SELECT * WHERE { ?study a okb:Study ; okb:design ?design }")
    assert outcome.form == "SELECT" and list(outcome.frame.columns) == ["study", "design"] and outcome.total == 2
    outcome = run_console_query(fixture_kb, "DESCRIBE <https://w3id.org/oligokb/id/study/test-trial>", triple_cap=3)
    assert outcome.form == "DESCRIBE" and outcome.truncated and outcome.turtle.count(" .\n") >= 1
    outcome = run_console_query(fixture_kb, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert outcome.total == 0
    with pytest.raises(QueryRefused, match="does not parse"):
        run_console_query(fixture_kb, "SELECT ?x WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }")


def test_console_with_an_endpoint_guards_first(fixture_kb, tmp_path):
    with oxigraph_server([fixture_kb], tmp_path) as (url, received):
        outcome = run_console_query(fixture_kb, OKB + "SELECT ?s WHERE { ?s a okb:Study }", endpoint=url)
        assert outcome.total == 2
        sent = received.read_text()
        with pytest.raises(QueryRefused, match="SERVICE is refused"):
            run_console_query(fixture_kb, f"ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }} ", endpoint=url)
        assert received.read_text() == sent  # nothing was sent
