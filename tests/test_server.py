"""`oligokb serve`, tested over real HTTP: a server subprocess on a free port, real clients (urllib).

Closed (SERVICE, FROM, dataset parameters, updates), bounded (time limit, row cap, request size,
admission), and the SPARQL 1.1 Protocol's query cases (GET, POST form, POST direct, content negotiation).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rdflib import XSD, Graph
from rdflib.query import Result

from kb.query import load_kb, run_named
from kb.store import load_store
from server.endpoint import frame_body, negotiate
from tests.conftest import ROOT, free_port, run_cli, stop
from tests.test_query import DATASET, SERVICE_POSITIONS, UPDATES, listener  # noqa: F401 - listener is a fixture

OKB = "https://w3id.org/oligokb/ns#"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEEP_PATH = "SELECT (COUNT(*) AS ?n) WHERE { ?a (!<urn:x:none>|^!<urn:x:none>)* ?b . ?c (!<urn:x:none>)* ?d }"


def start_server(kb: Path, log: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port), "--kb", str(kb), *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}): {log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/queries", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"the server did not answer within 90 s: {log.read_text()}")


@pytest.fixture(scope="module")
def server(fixture_kb, tmp_path_factory):
    proc, base = start_server(
        fixture_kb,
        tmp_path_factory.mktemp("serve") / "server.log",
        "--timeout",
        "2",
        "--workers",
        "2",
        "--max-concurrent",
        "64",
    )
    yield base
    stop(proc)


@pytest.fixture(scope="module")
def graph(fixture_kb):
    return load_kb(fixture_kb)


@pytest.fixture(scope="module")
def store(fixture_kb):
    """The named queries' engine (Oxigraph) in this process: the server's answers must be its answers
    (Oxigraph writes decimals canonically, 0.80 as 0.8; the published lexical forms are separate strings)."""
    return load_store(fixture_kb)


def http(
    base: str,
    path: str,
    *,
    data: bytes | None = None,
    headers: dict | None = None,
    method: str | None = None,
    timeout: float = 60,
) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(base + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def get(base: str, query: str, accept: str | None = None, **extra: str) -> tuple[int, dict, bytes]:
    params = urllib.parse.urlencode({"query": query, **extra})
    return http(base, f"/sparql?{params}", headers={"Accept": accept} if accept else {})


def post_form(base: str, fields: dict, accept: str | None = None) -> tuple[int, dict, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **({"Accept": accept} if accept else {})}
    return http(base, "/sparql", data=urllib.parse.urlencode(fields).encode(), headers=headers)


def post_direct(base: str, query: str, accept: str | None = None, media: str = "application/sparql-query"):
    headers = {"Content-Type": media, **({"Accept": accept} if accept else {})}
    return http(base, "/sparql", data=query.encode("utf-8"), headers=headers)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- closed -------------------------------------------------------------------------------------------

REFUSED = [(t, b"SERVICE is refused") for t in SERVICE_POSITIONS.values()] + [
    (t, b"FROM and FROM NAMED are refused") for t in DATASET.values()
]


@pytest.mark.parametrize("template,message", REFUSED, ids=[*SERVICE_POSITIONS, *DATASET])
def test_service_and_from_refused_anywhere(template, message, server, listener):
    url, hits = listener
    query = template.replace("{url}", url)
    for status, _, body in (get(server, query), post_form(server, {"query": query}), post_direct(server, query)):
        assert status == 400 and message in body
    assert hits == []


@pytest.mark.parametrize("field", ["default-graph-uri", "named-graph-uri"])
def test_dataset_parameters_refused(field, server, listener):
    url, hits = listener
    status, _, body = get(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 1", **{field: url})
    assert status == 400 and b"refused" in body
    status, _, body = post_form(server, {"query": "ASK { ?s ?p ?o }", field: url})
    assert status == 400 and b"refused" in body
    assert hits == []


def test_updates_refused_and_kb_unchanged(server, fixture_kb, listener):
    url, hits = listener
    before = sha256(fixture_kb)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    triples = json.loads(get(server, count)[2])["results"]["bindings"][0]["n"]["value"]
    for update in UPDATES:
        text = update.replace("{url}", url)
        for status, _, body in (
            get(server, text),
            post_form(server, {"query": text}),
            post_form(server, {"update": text}),
            post_direct(server, text),
            post_direct(server, text, media="application/sparql-update"),
        ):
            assert status == 400, (text, body)
            assert b"read-only" in body, (text, body)
    assert sha256(fixture_kb) == before
    assert json.loads(get(server, count)[2])["results"]["bindings"][0]["n"]["value"] == triples
    assert hits == []


# --- bounded ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [CARTESIAN, DEEP_PATH], ids=["cartesian", "deep-path"])
def test_runaway_query_killed_at_the_limit_and_the_next_answered(query, server):
    started = time.monotonic()
    status, _, body = post_form(server, {"query": query})
    killed_after = time.monotonic() - started
    assert status == 503 and b"2 s limit" in body
    assert 1.9 <= killed_after < 6, killed_after
    started = time.monotonic()
    status, _, body = get(server, "ASK { ?s ?p ?o }")
    assert status == 200 and json.loads(body)["boolean"] is True
    assert time.monotonic() - started < 30


def test_request_size_limit(server):
    big = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 120_000
    status, _, body = post_direct(server, big)
    assert status == 413 and b"limit" in body
    status, _, _ = post_form(server, {"query": big})
    assert status == 413


@pytest.fixture(scope="module")
def small_server(fixture_kb, tmp_path_factory):
    """One worker, one admitted query at a time, three rows: the caps made visible."""
    proc, base = start_server(
        fixture_kb,
        tmp_path_factory.mktemp("serve-small") / "server.log",
        "--timeout",
        "2",
        "--workers",
        "1",
        "--max-concurrent",
        "1",
        "--max-rows",
        "3",
    )
    yield base
    stop(proc)


def test_row_cap(small_server):
    status, headers, body = get(small_server, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 3
    assert "x-oligokb-truncated" in headers
    status, headers, body = get(small_server, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", accept="text/turtle")
    assert status == 200 and len(Graph().parse(data=body.decode(), format="turtle")) == 3
    assert "x-oligokb-truncated" in headers
    status, headers, _ = get(small_server, "SELECT * WHERE { ?s a <urn:nothing> }")
    assert status == 200 and "x-oligokb-truncated" not in headers


def test_busy_server_answers_503_then_recovers(small_server):
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(answer=post_form(small_server, {"query": CARTESIAN})))
    thread.start()
    time.sleep(0.7)
    status, headers, body = get(small_server, "ASK { ?s ?p ?o }")
    assert status == 503 and headers.get("retry-after") == "1" and b"already running" in body
    thread.join()
    assert slow["answer"][0] == 503 and b"limit" in slow["answer"][2]
    status, _, body = get(small_server, "ASK { ?s ?p ?o }")
    assert status == 200 and json.loads(body)["boolean"] is True


# A string that doubles 27 times: 1 GiB after about a second of copying, far past a 600 MB address space.
MEMORY_HOG = (
    'SELECT (STRLEN(?s27) AS ?n) WHERE { BIND("xxxxxxxx" AS ?s0) '
    + " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(27))
    + " }"
)


def test_memory_hungry_query_stopped_at_the_memory_limit(fixture_kb, tmp_path):
    """One worker capped at 600 MB: the query gets 503 saying the memory limit was hit, its worker is
    replaced (the only one), and the server answers the next query."""
    proc, base = start_server(
        fixture_kb, tmp_path / "server.log", "--workers", "1", "--timeout", "30", "--max-memory-mb", "600"
    )
    try:
        started = time.monotonic()
        status, _, body = post_form(base, {"query": MEMORY_HOG})
        assert status == 503 and b"600 MB memory limit" in body, (status, body)
        assert time.monotonic() - started < 20  # stopped by memory, not by the 30 s time limit
        status, _, body = get(base, "ASK { ?s ?p ?o }")
        assert status == 200 and json.loads(body)["boolean"] is True
        status, _, body = get(
            base, 'SELECT (STRLEN(?s1) AS ?n) WHERE { BIND("ab" AS ?s0) BIND(CONCAT(?s0, ?s0) AS ?s1) }'
        )
        assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "4"
    finally:
        stop(proc)


def test_memory_option_checked():
    result = run_cli("serve", "--max-memory-mb", "-1")
    assert result.returncode == 2 and "--max-memory-mb 0 or more" in result.stderr


# --- errors -------------------------------------------------------------------------------------------


def test_malformed_query_gets_the_parser_message(server):
    for status, _, body in (get(server, "SELECT ?s WHERE { ?s ?p }"), post_direct(server, "SELEKT * { ?s ?p ?o }")):
        assert status == 400
        assert body.startswith(b"the query does not parse: error at 1:")  # Oxigraph's parser, line:column


def test_graph_is_empty_and_broken_queries_are_400_never_500(server):
    status, _, body = get(server, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert status == 200 and json.loads(body)["results"]["bindings"] == []  # the service has a default graph only
    status, _, body = get(server, "ASK { FILTER(false) }")
    assert status == 200 and json.loads(body)["boolean"] is False
    for broken in (
        "SELECT ?x WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }",
        "SELECT * WHERE { VALUES (?a ?b) { (1) } }",
        "SELECT ?s ?o WHERE { ?s ?p ?o } GROUP BY ?s",
        'SELECT * { ?s ?p "\\uD800" }',
        "SELECT * {",
        "SELECT (<urn:x:unknown>(1) AS ?x) (COALESCE() AS ?y) WHERE {}",
    ):
        status, _, body = post_form(server, {"query": broken})
        assert status in (200, 400), (broken, status, body)
        assert status == 200 or body.startswith(b"the query does not parse: "), body
    status, _, body = post_form(server, {"query": "SELECT (<urn:x:unknown>(1) AS ?x) (COALESCE() AS ?y) WHERE {}"})
    assert status == 200 and json.loads(body)["results"]["bindings"] == [{}]  # errors leave values unbound


def test_protocol_errors(server):
    assert http(server, "/sparql")[0] == 400  # no query
    status, _, body = http(server, "/sparql?" + urllib.parse.urlencode([("query", "ASK {}"), ("query", "ASK {}")]))
    assert status == 400 and b"exactly one query" in body
    assert http(server, "/sparql", data=b"ASK {}", headers={"Content-Type": "text/plain"})[0] == 415
    assert get(server, "ASK { ?s ?p ?o }", accept="text/csv")[0] == 406  # CSV is for SELECT results
    assert get(server, "CONSTRUCT WHERE { ?s ?p ?o }", accept="application/sparql-results+json")[0] == 406
    assert http(server, "/sparql?query=ASK%7B%7D", method="DELETE")[0] == 405
    assert get(server, "   ")[0] == 400
    assert http(server, "/sparql", data=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"})[0] == 400
    status, _, body = http(server, "/queries/nope")
    assert status == 404 and b"named queries: studies" in body
    status, _, body = http(server, "/queries/evidence?histology=nscl")
    assert status == 400 and b"did you mean 'nsclc'" in body
    status, _, body = http(server, "/queries/evidence?colour=red")
    assert status == 400 and b"has no parameter 'colour'" in body
    assert http(server, "/queries/studies", headers={"Accept": "image/png"})[0] == 406


# --- protocol -----------------------------------------------------------------------------------------

SELECT = f"PREFIX okb: <{OKB}> SELECT ?s ?n WHERE {{ ?s a okb:Group ; okb:n ?n }} ORDER BY ?s"


def _expected(graph) -> list[tuple[str, str]]:
    return [(str(row.s), str(row.n)) for row in graph.query(SELECT)]


def test_get_post_form_and_post_direct_agree(server, graph):
    expected = _expected(graph)
    assert expected
    for status, headers, body in (
        get(server, SELECT),
        post_form(server, {"query": SELECT}),
        post_direct(server, SELECT),
    ):
        assert status == 200 and headers["content-type"] == "application/sparql-results+json"
        rows = json.loads(body)["results"]["bindings"]
        assert [(r["s"]["value"], r["n"]["value"]) for r in rows] == expected
        assert rows[0]["n"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"


@pytest.mark.parametrize(
    "accept, media",
    [
        (None, "application/sparql-results+json"),
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/*", "text/xml"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_select_content_negotiation(server, graph, accept, media):
    expected = _expected(graph)
    status, headers, body = get(server, SELECT, accept=accept)
    assert status == 200 and headers["content-type"].split(";")[0] == media
    assert headers["vary"] == "Accept"
    if media.endswith("json") or media.endswith("xml"):
        result = Result.parse(io.BytesIO(body), format="json" if media.endswith("json") else "xml")
        assert [(str(r.s), str(r.n)) for r in result] == expected
    elif media == "text/csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        assert rows[0] == ["s", "n"] and [tuple(r) for r in rows[1:]] == expected
    else:  # TSV: ?var headers, terms in Turtle syntax (integers may be written bare)
        assert body.decode("utf-8").splitlines()[0] == "?s\t?n"
        result = Result.parse(io.BytesIO(body), format="tsv")
        assert [(str(r.s), str(r.n)) for r in result] == expected
        assert all(r.n.datatype == XSD.integer for r in result)


def test_ask_and_graph_results(server, graph):
    status, headers, body = get(server, f"ASK {{ ?s a <{OKB}Study> }}", accept="application/sparql-results+xml")
    assert status == 200 and Result.parse(io.BytesIO(body), format="xml").askAnswer is True
    describe = "DESCRIBE <https://w3id.org/oligokb/id/study/test-trial>"
    expected = graph.query(describe).graph
    for accept, fmt in [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        (None, "turtle"),
    ]:
        status, headers, body = post_form(server, {"query": describe}, accept=accept)
        assert status == 200 and headers["content-type"].split(";")[0] == (accept or "text/turtle")
        received = Graph().parse(data=body.decode("utf-8"), format=fmt)
        assert len(received) == len(expected) > 5
        assert set(received) == set(expected)


def test_named_query_urls(server, store):
    status, headers, body = http(server, "/queries")
    assert status == 200 and "histology" in json.loads(body)["evidence"]
    status, headers, body = http(server, "/queries/evidence?histology=nsclc&statistic=hazard_ratio")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == json.loads(
        frame_body(run_named(store, "evidence", {"histology": "nsclc", "statistic": "hazard_ratio"}), "json")
    )
    status, headers, body = http(server, "/queries/studies", headers={"Accept": "text/csv"})
    assert status == 200 and body.decode().splitlines()[0].startswith("study,study_id")
    assert len(body.decode().splitlines()) == 3
    status, headers, body = http(server, "/queries/studies", headers={"Accept": "text/tab-separated-values"})
    assert status == 200 and "\tstudy_id\t" in body.decode().splitlines()[0]


NAMED_CASES = [
    ("studies", {}),
    ("evidence", {}),
    ("evidence", {"histology": "nsclc"}),
    ("evidence", {"histology": "colorectal"}),
    ("evidence", {"design": "randomised"}),
    ("evidence", {"oligo_state": "induced"}),
    ("evidence", {"statistic": "hazard_ratio", "outcome": "progression_free_survival"}),
    ("evidence", {"study": "test-cohort", "statistic": "hazard_ratio"}),
    ("publications", {"study": "test-trial"}),
    ("provenance", {"statistic": "test-trial-2020/test-trial/stat/pfs-hr"}),
]


def _records(body: bytes) -> list[str]:
    return sorted(json.dumps(record, sort_keys=True) for record in json.loads(body))


def test_fifty_concurrent_clients_get_correct_answers(server, store):
    expected = {
        i: _records(frame_body(run_named(store, name, params), "json")) for i, (name, params) in enumerate(NAMED_CASES)
    }

    def client(k: int) -> tuple[int, int, bytes, float]:
        i = k % len(NAMED_CASES)
        name, params = NAMED_CASES[i]
        started = time.monotonic()
        status, _, body = http(server, f"/queries/{name}?{urllib.parse.urlencode(params)}", timeout=120)
        return i, status, body, time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(client, range(50)))
    wall = time.monotonic() - started
    for i, status, body, _ in answers:
        assert status == 200, body
        assert _records(body) == expected[i], NAMED_CASES[i]
    latencies = sorted(a[3] for a in answers)
    print(f"50 clients: wall {wall:.2f} s, median {latencies[25]:.3f} s, max {latencies[-1]:.3f} s")


def test_negotiate():
    offers = {"application/json": "json", "text/csv": "csv"}
    assert negotiate(None, offers) == "application/json"
    assert negotiate("text/csv", offers) == "text/csv"
    assert negotiate("text/html, */*;q=0.1", offers) == "application/json"
    assert negotiate("text/csv;q=0, application/json;q=0.2", offers) == "application/json"
    assert negotiate("image/png", offers) is None
