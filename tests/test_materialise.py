"""The table cache (kb.materialise): a filtered materialised table equals the query's own answer, a
rebuilt KB is never answered from an older table, and a damaged or unwritable cache only costs time."""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from kb.export import evidence_table
from kb.materialise import CACHE_ENV, cache_dir, forget
from kb.query import bindings, compose, query_text, run_named
from kb.store import OxigraphKB
from tests.conftest import ROOT

BUNDLED = ROOT / "data" / "studies.ttl"
CASES = [
    ("evidence", {}),
    ("evidence", {"histology": "nsclc"}),
    ("evidence", {"histology": "lung"}),
    ("evidence", {"oligo_state": "synchronous"}),
    ("evidence", {"oligo_state": "metachronous"}),
    ("evidence", {"oligo_state": "induced"}),
    ("evidence", {"outcome": "time_to_event", "statistic": "hazard_ratio"}),
    ("evidence", {"design": "randomised", "histology": "prostate"}),
    ("evidence", {"study": "sabr-comet"}),
    ("evidence", {"study": "sabr-comet", "outcome": "overall_survival"}),
    ("evidence", {"histology": "nsclc", "design": "randomised"}),
    ("studies", {}),
    ("publications", {}),
    ("publications", {"study": "stomp"}),
    ("publications", {"study": "sabr-comet"}),
]


pytestmark = pytest.mark.usefixtures("no_tables_in_memory")


@pytest.fixture(scope="module")
def store(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A private copy of the bundled KB, so its cache starts empty."""
    path = tmp_path_factory.mktemp("kb") / "studies.ttl"
    shutil.copy(BUNDLED, path)
    return OxigraphKB(path)


@pytest.mark.parametrize(
    "name,params", CASES, ids=lambda c: c if isinstance(c, str) else ",".join(f"{k}={v}" for k, v in c.items()) or "all"
)
def test_filtered_table_equals_the_query_answer(store, name, params):
    bound = bindings(name, params)
    expected = store.select_lexical(compose(query_text(name), set(bound)), bound)  # SPARQL, no cache
    got = run_named(store, name, params, lexical=True)
    pd.testing.assert_frame_equal(got, expected)
    if name == "evidence" and params and params != {"oligo_state": "induced"}:  # the bundled KB has no induced state
        assert 0 < len(got) < len(run_named(store, name, {}, lexical=True))  # a filter that kept all would prove little


def test_a_cached_table_is_read_without_loading_the_store(store):
    expected = evidence_table(store)  # computes and stores the table
    forget()  # a new process: only the file
    fresh = OxigraphKB(store.path)
    got = evidence_table(fresh)
    assert fresh._store is None  # answered from the cache: the 2-minute load at 50k studies never happened
    pd.testing.assert_frame_equal(got, expected)
    assert list((cache_dir(store.path) / "tables").glob("*-export.parquet"))


def test_a_rebuilt_kb_is_not_answered_from_the_old_table(tmp_path):
    path = tmp_path / "studies.ttl"
    shutil.copy(BUNDLED, path)
    before = evidence_table(OxigraphKB(path))
    text = path.read_text(encoding="utf-8")
    quote = before["source_quote"].iat[0]
    path.write_text(text.replace(quote, quote + " EDITED", 1), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    after = evidence_table(OxigraphKB(path))
    assert (after["source_quote"] == quote + " EDITED").sum() >= 1
    assert len(list((tmp_path / ".oligokb-cache" / "tables").glob("*-export.parquet"))) == 1  # the stale one is gone


def test_a_damaged_cache_file_is_recomputed(tmp_path, capsys):
    path = tmp_path / "studies.ttl"
    shutil.copy(BUNDLED, path)
    expected = evidence_table(OxigraphKB(path))
    for entry in (tmp_path / ".oligokb-cache" / "tables").glob("*.parquet"):
        entry.write_bytes(b"not parquet")
    forget()
    got = evidence_table(OxigraphKB(path))
    pd.testing.assert_frame_equal(got, expected)
    assert "damaged cache file" in capsys.readouterr().err


def test_an_unwritable_cache_still_answers(tmp_path, monkeypatch, capsys):
    path = tmp_path / "studies.ttl"
    shutil.copy(BUNDLED, path)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    got = evidence_table(OxigraphKB(path))
    assert len(got) > 0
    assert f"set {CACHE_ENV}" in capsys.readouterr().err
    monkeypatch.delenv(CACHE_ENV)
    pd.testing.assert_frame_equal(got, evidence_table(OxigraphKB(path)))


def test_cache_directory_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert cache_dir(Path("data/studies.ttl")) == tmp_path / "elsewhere"


def test_cached_conflicts_equal_fresh_ones(store):
    from kb.conflicts import find_conflicts

    table = evidence_table(store)
    fresh = find_conflicts(table)
    assert len(fresh) > 0  # the bundled KB has known disagreements (STOMP's median, ...)
    first = store.cached("conflicts", lambda: find_conflicts(table))
    again = OxigraphKB(store.path).cached("conflicts", lambda: pytest.fail("recomputed instead of read"))
    pd.testing.assert_frame_equal(first, fresh)
    pd.testing.assert_frame_equal(again, fresh)


def test_a_callers_edit_does_not_reach_the_next_reader(store):
    table = evidence_table(store)
    table["value"] = "edited"
    table.loc[0, "study_id"] = "edited"
    again = evidence_table(store)
    assert (again["value"] != "edited").all() and again.loc[0, "study_id"] != "edited"


def test_provenance_from_the_tables_equals_the_query(store):
    """Every figure's provenance, as the query on the graph gives it and as the tables give it."""
    text = query_text("provenance")
    everything = store.select_lexical(text, {})
    assert len(everything) == len(evidence_table(store)) > 0
    stats = list(everything["stat"])
    for stat in stats[:: max(1, len(stats) // 40)]:  # about 40 figures, each bound as a user binds it
        bound = {"stat": everything.loc[everything["stat"] == stat, "stat"].iat[0]}
        from rdflib import URIRef

        bound = {"stat": URIRef(bound["stat"])}
        expected = store.select_lexical(text, bound)
        got = store.select_named_lexical("provenance", bound)
        pd.testing.assert_frame_equal(got, expected)
    whole = store.select_named_lexical("provenance", {})  # no binding: every figure (no ORDER BY)
    pd.testing.assert_frame_equal(
        whole.sort_values("stat").reset_index(drop=True), everything.sort_values("stat").reset_index(drop=True)
    )
    fresh = OxigraphKB(store.path)
    run_named(fresh, "provenance", {"statistic": stats[0].split("/id/pub/", 1)[1]}, lexical=True)
    assert fresh._store is None  # answered without loading the graph


def test_a_column_subset_equals_those_columns_of_the_whole(store):
    from kb.conflicts import find_conflicts

    whole = store.cached("conflicts", lambda: find_conflicts(evidence_table(store)))
    forget()  # from the file: Parquet reads only these columns
    part = OxigraphKB(store.path).cached(
        "conflicts", lambda: pytest.fail("recomputed"), columns=["statistic_a", "field"]
    )
    pd.testing.assert_frame_equal(part, whole[["statistic_a", "field"]])


def test_study_pages_from_the_tables_equal_the_graph(store):
    """Every study page of the bundled KB read from the cached whole answers (the store never loads in
    the second process) shows what the per-study queries on the rdflib graph show."""
    from explorer.study import study_page
    from kb.query import load_kb

    graph = load_kb(BUNDLED)
    ids = list(run_named(store, "studies", lexical=True)["study_id"])
    assert len(ids) > 20
    for study_id in ids:
        study_page(store, study_id)  # computes the tables
    forget()
    fresh = OxigraphKB(store.path)
    for study_id in ids:
        got, expected = study_page(fresh, study_id), study_page(graph, study_id)
        assert got.facts == expected.facts and got.notes == expected.notes and got.candidates == expected.candidates
        for field in ("inputs", "arms", "groups", "publications", "overlaps"):
            a, b = getattr(got, field), getattr(expected, field)
            pd.testing.assert_frame_equal(
                a.astype(str).reset_index(drop=True),
                b.astype(str).reset_index(drop=True),
                check_dtype=False,
                obj=f"{study_id}.{field}",
            )
    assert fresh._store is None
    assert study_page(fresh, "no-such-study") is None
