"""What lets `oligokb serve` serve a large knowledge base (issue 16, 50,000 studies): a load limit that grows
with the file (or `--load-timeout`), a memory cap that bounds a query rather than the KB's size, and the
named queries' typed (JSON) answers read from the table cache instead of the store.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from kb.query import NAMED_QUERIES, bindings, column_datatypes, compose, query_text
from kb.store import load_store, typed_frame
from server.limits import LOAD_LIMIT_S, LOAD_S_PER_MB, address_space, load_limit
from tests.conftest import ROOT, run_cli, stop
from tests.test_server import NAMED_CASES, get, http, post_form, start_server

BUNDLED = ROOT / "data" / "studies.ttl"
BUNDLED_CASES = [
    ("studies", {}),
    ("evidence", {}),
    ("evidence", {"histology": "nsclc"}),
    ("evidence", {"statistic": "hazard_ratio", "outcome": "progression_free_survival"}),
    ("evidence", {"design": "randomised", "oligo_state": "de_novo"}),
    ("evidence", {"study": "sabr-comet"}),
    ("publications", {}),
    ("publications", {"study": "sabr-comet"}),
]


def test_load_limit_grows_with_the_file(tmp_path):
    kb = tmp_path / "big.ttl"
    with kb.open("wb") as out:
        out.truncate(1_000_000_000)  # sparse: 1,000 MB on paper
    assert load_limit(kb) == pytest.approx(120 + 0.4 * 1000)
    assert (LOAD_LIMIT_S, LOAD_S_PER_MB) == (120.0, 0.4)  # the rule `serve --help` states
    assert load_limit(tmp_path / "missing.ttl") == LOAD_LIMIT_S


def test_a_worker_that_cannot_load_in_time_names_the_option(fixture_kb):
    result = run_cli("serve", "--kb", str(fixture_kb), "--port", "1", "--load-timeout", "0.01")
    assert result.returncode != 0
    assert "did not load" in result.stderr and "within 0.01 s" in result.stderr
    assert "--load-timeout" in result.stderr
    result = run_cli("serve", "--load-timeout", "0")
    assert result.returncode == 2 and "--load-timeout must be positive" in result.stderr


def test_memory_cap_bounds_the_queries_not_the_knowledge_base(fixture_kb, tmp_path):
    """100 MB beyond the loaded KB: a worker's own address space is far larger than that (Python, pandas,
    pyoxigraph), so a cap on the whole process would stop the load; now the KB loads, small queries answer,
    and a query that needs more than 100 MB is stopped at the limit."""
    assert address_space() > 100 * 1024 * 1024  # this process, with the same libraries: the old rule failed
    proc, base = start_server(
        fixture_kb, tmp_path / "server.log", "--workers", "1", "--timeout", "30", "--max-memory-mb", "100"
    )
    try:
        status, _, body = get(base, "ASK { ?s ?p ?o }")
        assert status == 200 and json.loads(body)["boolean"] is True
        from tests.test_server import MEMORY_HOG

        status, _, body = post_form(base, {"query": MEMORY_HOG})
        assert status == 503 and b"100 MB memory limit" in body, (status, body)
        status, _, body = http(base, "/queries/studies")
        assert status == 200 and len(json.loads(body)) == 2
    finally:
        stop(proc)


def _engine_answer(kb, name: str, params: dict[str, str]) -> pd.DataFrame:
    """The named query run by Oxigraph on the store, values typed by the engine's datatypes."""
    bound = bindings(name, params)
    return kb.select(compose(query_text(name), set(bound)), bound)


def _value(v: object) -> object:
    """pandas holds an integer column with gaps as floats (36.0); the typed tables keep the int."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _records(frame: pd.DataFrame) -> list[str]:
    clean = frame.astype(object).where(frame.notna(), None)
    rows = [{k: _value(v) for k, v in r.items()} for r in clean.to_dict(orient="records")]
    return sorted(json.dumps(r, sort_keys=True, default=repr) for r in rows)


@pytest.mark.parametrize(("name", "params"), BUNDLED_CASES)
def test_typed_rows_from_the_tables_equal_the_engines(name, params):
    """Every value, with its Python type (int, Decimal, bool, text), as the engine gives it: a column whose
    datatype COLUMN_DATATYPES misses or gets wrong breaks this (Decimal('0.7') and '0.7' differ in repr)."""
    kb = load_store(BUNDLED)
    bound = bindings(name, params)
    from_tables = typed_frame(name, kb.select_named_lexical(name, bound))
    engine = _engine_answer(kb, name, params)
    assert len(from_tables) == len(engine) > 0
    assert list(from_tables.columns) == list(engine.columns)
    assert _records(from_tables) == _records(engine)


def test_every_typed_column_is_declared():
    """The engine's typed values on the bundled KB, column by column: a column holding an int, Decimal,
    float or bool is declared with that datatype; every other column holds only text."""
    kb = load_store(BUNDLED)
    kinds = {int: "integer", bool: "boolean", float: "double"}
    for name in NAMED_QUERIES:
        if name == "provenance":
            continue  # derived from the evidence and publications tables; checked below through the server
        engine = _engine_answer(kb, name, {})
        for column in engine.columns:
            values = [v for v in engine[column].tolist() if v is not None and v == v]
            types = {type(v) for v in values}
            declared = column_datatypes(name).get(column)
            if declared is None:
                assert types <= {str}, (name, column, types)
            elif declared == "decimal":
                assert types and {t.__name__ for t in types} == {"Decimal"}, (name, column, types)
            elif declared == "integer":  # pandas holds an integer column with gaps as float
                assert values and all(float(v).is_integer() for v in values), (name, column)
            else:
                assert types and {kinds[t] for t in types} == {declared}, (name, column, types)


def test_server_json_named_answers_equal_the_engines(server_kb):
    """Over HTTP: the endpoint's JSON for each named query equals the engine's typed answer."""
    kb_path, base = server_kb
    kb = load_store(kb_path)
    for name, params in NAMED_CASES:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        status, headers, body = http(base, f"/queries/{name}?{query}")
        assert status == 200 and headers["content-type"] == "application/json", body
        got = sorted(json.dumps({k: _value(v) for k, v in r.items()}, sort_keys=True) for r in json.loads(body))
        if name == "provenance":
            continue  # no SPARQL-only path to compare with here; its JSON is checked in test_server.py
        engine = _engine_answer(kb, name, params)
        expected = json.loads(
            json.dumps(engine.astype(object).where(engine.notna(), None).to_dict(orient="records"), default=str)
        )
        assert got == sorted(json.dumps({k: _value(v) for k, v in r.items()}, sort_keys=True) for r in expected)


@pytest.fixture(scope="module")
def server_kb(fixture_kb, tmp_path_factory):
    proc, base = start_server(fixture_kb, tmp_path_factory.mktemp("serve") / "server.log", "--workers", "1")
    try:
        time.sleep(0)
        yield Path(fixture_kb), base
    finally:
        stop(proc)


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_workers_are_forked_from_one_load(fixture_kb):
    """Every worker is a child of the one process that loaded the KB; a worker killed at the time limit is
    replaced by a new fork of that same process (no second load), which answers the next query."""
    from server.limits import QueryTimeout, WorkerPool
    from tests.test_server import CARTESIAN

    pool = WorkerPool(fixture_kb, 2, time_limit=1.0, queue_wait=30)
    try:
        loader = pool.zygote.process.pid
        before = {worker.pid for worker in pool._all}
        assert len(before) == 2 and {_parent(pid) for pid in before} == {loader}
        with pytest.raises(QueryTimeout):
            pool.call("server.endpoint:sparql_job", (CARTESIAN, None, 10))
        after = {worker.pid for worker in pool._all}
        assert len(after) == 2 and len(after - before) == 1
        assert pool.zygote.process.pid == loader and _parent((after - before).pop()) == loader
        for _ in range(3):  # both workers, old and new, answer
            media, body, truncated, count = pool.call("server.endpoint:sparql_job", ("ASK { ?s ?p ?o }", None, 10))
            assert json.loads(body)["boolean"] is True
    finally:
        pool.close()
    assert not pool.zygote.alive


def test_the_console_reuses_the_loaded_kb_until_it_changes(fixture_kb, tmp_path):
    """The explorer console forks each query's worker from the KB loaded once per file version."""
    import shutil

    from server.limits import run_once, zygote_for

    kb = tmp_path / "studies.ttl"
    shutil.copy(fixture_kb, kb)
    first = zygote_for(kb)
    assert zygote_for(kb) is first
    media, body, _, _ = run_once(kb, "server.endpoint:sparql_job", ("ASK { ?s ?p ?o }", None, 10), 30)
    assert json.loads(body)["boolean"] is True and zygote_for(kb) is first
    shutil.copy(fixture_kb, tmp_path / "new.ttl")
    (tmp_path / "new.ttl").replace(kb)  # a rebuild: a new file version
    assert zygote_for(kb) is not first


def test_named_answers_written_as_pandas_writes_them():
    """frame_body writes the columns with Python's csv module and json directly: byte for byte what pandas'
    to_csv and to_dict give, on the whole bundled evidence table (quotes, commas, newlines in quotes)."""
    from kb.query import run_named
    from server.endpoint import frame_body

    kb = load_store(BUNDLED)
    for name in NAMED_QUERIES:
        params = {"statistic": "bourgier2019-canrad/sabr-comet/stat/follow-up-median"} if name == "provenance" else {}
        lexical = run_named(kb, name, params, lexical=True)
        for fmt, sep in [("csv", ","), ("tsv", "\t")]:
            assert frame_body(lexical, fmt) == lexical.to_csv(index=False, lineterminator="\n", sep=sep).encode()
        typed = run_named(kb, name, params)
        records = typed.astype(object).where(typed.notna(), None).to_dict(orient="records")
        assert json.loads(frame_body(typed, "json")) == json.loads(json.dumps(records, default=str))
    assert b'"' in frame_body(run_named(kb, "evidence", {}, lexical=True), "csv")  # quoting was exercised


def test_a_row_cap_copies_only_the_rows_sent():
    kb = load_store(BUNDLED)
    from kb.query import run_named

    whole = run_named(kb, "evidence", {"histology": "nsclc"}, lexical=True)
    first = run_named(kb, "evidence", {"histology": "nsclc"}, lexical=True, limit=5)
    assert len(whole) > 5 and len(first) == 5

    def cells(frame: pd.DataFrame) -> list[list[object]]:
        return frame.astype(object).where(frame.notna(), None).to_numpy().tolist()

    assert list(first.columns) == list(whole.columns) and cells(first) == cells(whole.head(5))
    assert len(run_named(kb, "evidence", {}, limit=3)) == 3


def test_held_tables_compacted_to_one_chunk_with_the_same_values():
    import pyarrow as pa

    from kb import materialise

    chunked = pa.chunked_array([["a", None], ["b"], ["c", "d"]])
    frame = pd.DataFrame({"text": pd.array(chunked, dtype="str"), "none": pd.Series([None] * 5, dtype=object)})
    assert frame["text"].array._pa_array.num_chunks == 3
    materialise._IN_MEMORY["test-key"] = frame
    try:
        materialise.compact_held_tables()
        held = materialise._IN_MEMORY["test-key"]
        assert held["text"].array._pa_array.num_chunks == 1
        assert held.dtypes.equals(frame.dtypes)
        assert held.astype(object).where(held.notna(), None).to_numpy().tolist() == [
            ["a", None],
            [None, None],
            ["b", None],
            ["c", None],
            ["d", None],
        ]
    finally:
        materialise._IN_MEMORY.pop("test-key", None)
