"""kb.backend: every back-end answers the KnowledgeBase operations, the same way (the remote endpoint's
are checked against a live store in tests/test_remote.py)."""

import shutil

import pandas as pd
import pytest
from rdflib import Graph, URIRef

from explorer.study import NOTES
from kb.backend import GraphKB, as_kb, open_kb
from kb.materialise import TableCache, forget
from kb.query import load_kb, run_named
from kb.remote import SparqlEndpoint
from kb.store import OxigraphKB
from tests.conftest import ROOT

BUNDLED = ROOT / "data" / "studies.ttl"
SELECT = "PREFIX okb: <https://w3id.org/oligokb/ns#> SELECT ?s WHERE { ?s a okb:Study } ORDER BY ?s"
ASK = "PREFIX okb: <https://w3id.org/oligokb/ns#> ASK { ?s a okb:Study }"
CONSTRUCT = "PREFIX okb: <https://w3id.org/oligokb/ns#> CONSTRUCT { ?s a okb:Study } WHERE { ?s a okb:Study }"


@pytest.fixture(scope="module")
def backends(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("kb") / "studies.ttl"
    shutil.copy(BUNDLED, path)
    forget()
    yield GraphKB(load_kb(BUNDLED)), OxigraphKB(path)
    forget()


def test_open_kb_opens_the_file_or_the_endpoint():
    assert isinstance(open_kb(BUNDLED), OxigraphKB)
    assert isinstance(open_kb(BUNDLED, "http://127.0.0.1:9/sparql"), SparqlEndpoint)  # nothing is sent yet
    assert isinstance(as_kb(Graph()), GraphKB)
    store = OxigraphKB(BUNDLED)
    assert as_kb(store) is store


def test_the_table_cache_is_a_capability_of_every_back_end(backends):
    graph, store = backends
    assert graph.table_cache is None and SparqlEndpoint("http://127.0.0.1:9/sparql").table_cache is None
    assert isinstance(store.table_cache, TableCache)
    assert OxigraphKB(store.path, vocabularies=False).table_cache is None
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for kb in backends:  # without a cache: computed each time, only the columns asked for
        assert kb.cached("test-frame", lambda: frame, columns=["b"]).columns.tolist() == ["b"]
        pd.testing.assert_frame_equal(kb.cached("test-frame", lambda: frame), frame)


def test_ad_hoc_queries_answer_alike(backends):
    graph, store = backends
    for text in (SELECT, ASK, CONSTRUCT):
        (form_a, a), (form_b, b) = graph.query(text), store.query(text)
        assert form_a == form_b
        if form_a == "SELECT":
            assert len(a) > 1
            pd.testing.assert_frame_equal(a, b)
        elif form_a == "ASK":
            assert a is True and b is True
        else:
            assert isinstance(a, Graph) and isinstance(b, Graph) and len(a) > 1
            assert set(a) == set(b)


def test_named_queries_and_study_rows_answer_alike(backends):
    graph, store = backends
    for name, params in [("studies", {}), ("evidence", {"histology": "nsclc"}), ("publications", {"study": "stomp"})]:
        a, b = run_named(graph, name, params), run_named(store, name, params)
        assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0
    study = run_named(store, "studies")["study"].iat[0]
    a, b = graph.select_per_study(NOTES, URIRef(study)), store.select_per_study(NOTES, URIRef(study))
    assert list(a["note"]) == list(b["note"])
