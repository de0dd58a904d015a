"""The remote store path: the named queries against a real external SPARQL store give the in-process rows.

The store is Oxigraph (pyoxigraph's Store, Rust query engine) loaded from `oligokb build --ntriples`
plus the vocabularies, served over the SPARQL 1.1 Protocol by a small starlette app in a subprocess
(pyoxigraph ships no server). The same check runs against `oligokb serve` as the remote endpoint.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
import urllib.request
from pathlib import Path

import pytest

from kb.errors import InputError, QueryRefused
from kb.query import load_kb, run_named
from kb.remote import SparqlEndpoint, with_values
from kb.vocabulary import ONTOLOGY_FILE, VOCAB_DIR
from tests.conftest import ROOT, VALID_SHEETS, run_cli
from tests.test_query import DATASET, SERVICE_POSITIONS, UPDATES, listener  # noqa: F401 - listener is a fixture
from tests.test_server import NAMED_CASES, free_port, start_server, stop

OXIGRAPH_ENDPOINT = r'''
import sys
from urllib.parse import parse_qs

import pyoxigraph as ox
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

store = ox.Store()
for path in sys.argv[3:]:
    fmt = ox.RdfFormat.N_TRIPLES if path.endswith(".nt") else ox.RdfFormat.TURTLE
    store.bulk_load(path=path, format=fmt)
log = open(sys.argv[2], "a", buffering=1)


async def sparql(request):
    if request.method == "POST":
        fields = parse_qs((await request.body()).decode("utf-8"))
    else:
        fields = parse_qs(request.url.query)
    query = fields["query"][0]
    log.write(query.replace("\n", " ") + "\n")
    try:
        result = store.query(query)
    except SyntaxError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    if isinstance(result, ox.QueryTriples):
        return Response(result.serialize(format=ox.RdfFormat.N_TRIPLES), media_type="application/n-triples")
    return Response(result.serialize(format=ox.QueryResultsFormat.JSON), media_type="application/sparql-results+json")


app = Starlette(routes=[Route("/sparql", sparql, methods=["GET", "POST"]),
                        Route("/", lambda request: PlainTextResponse("ok"))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


@pytest.fixture(scope="module")
def ntriples(tmp_path_factory) -> tuple[Path, Path]:
    """The fixture sheets built to Turtle and to N-Triples (the bulk-loading file)."""
    out = tmp_path_factory.mktemp("remote")
    result = run_cli("build", "--sheets", str(VALID_SHEETS), "--out", str(out / "kb.ttl"), "--ntriples", str(out / "kb.nt"))
    assert result.returncode == 0, result.stderr
    return out / "kb.ttl", out / "kb.nt"


@pytest.fixture(scope="module")
def oxigraph(ntriples, tmp_path_factory):
    """An Oxigraph store over HTTP: yields (endpoint URL, file logging every query it received)."""
    _, nt = ntriples
    workdir = tmp_path_factory.mktemp("oxigraph")
    script, received = workdir / "endpoint.py", workdir / "received.log"
    script.write_text(OXIGRAPH_ENDPOINT)
    received.write_text("")
    port = free_port()
    files = [str(nt), *map(str, sorted(VOCAB_DIR.glob("*.ttl"))), str(ONTOLOGY_FILE)]
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(received), *files], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=(workdir / "stderr.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError((workdir / "stderr.log").read_text())
            time.sleep(0.1)
    yield base + "/sparql", received
    stop(proc)


def _rows(frame) -> list[str]:  # type: ignore[no-untyped-def]
    """Rows as comparable text; GROUP_CONCAT order is engine-defined, so its lists are sorted, and
    decimals compare by value (Oxigraph stores xsd:decimal canonically: "0.80" comes back as 0.8;
    the published lexical forms are separate string literals)."""
    out = []
    for record in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        record = {k: format(v.normalize(), "f") if isinstance(v, Decimal) else v for k, v in record.items()}
        for key in ("overlaps_with", "supersedes"):
            if record.get(key):
                record[key] = ";".join(sorted(record[key].split(";")))
        out.append(json.dumps(record, sort_keys=True, default=str))
    return sorted(out)


@pytest.mark.parametrize("case", NAMED_CASES, ids=[f"{n}-{'-'.join(p) or 'all'}" for n, p in NAMED_CASES])
def test_named_queries_same_rows_in_oxigraph(case, ntriples, oxigraph):
    name, params = case
    ttl, _ = ntriples
    url, _ = oxigraph
    local = run_named(load_kb(ttl), name, params)
    remote = run_named(SparqlEndpoint(url), name, params)
    assert list(remote.columns) == list(local.columns)
    assert _rows(remote) == _rows(local)
    assert len(local) > 0 or (name, params) == ("evidence", {"study": "test-cohort", "statistic": "hazard_ratio"})


def test_cli_endpoint_named_and_file_queries(ntriples, oxigraph, tmp_path):
    ttl, _ = ntriples
    url, _ = oxigraph
    args = ["query", "--name", "evidence", "--param", "statistic=hazard_ratio", "--format", "json"]
    local = run_cli(*args, "--kb", str(ttl))
    remote = run_cli(*args, "--endpoint", url)
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    def key(r: dict) -> tuple:
        return r["stat"], r["study_id"], r["publication_id"], r["value"], r["ci_low"], r["ci_high"], r["source_quote"]

    assert sorted(map(key, json.loads(remote.stdout))) == sorted(map(key, json.loads(local.stdout)))
    assert len(json.loads(local.stdout)) == 2
    ask = tmp_path / "ask.rq"
    ask.write_text("PREFIX okb: <https://w3id.org/oligokb/ns#> ASK { ?s a okb:Statistic }")
    assert run_cli("query", str(ask), "--endpoint", url).stdout.strip() == "true"
    describe = tmp_path / "describe.rq"
    describe.write_text("DESCRIBE <https://w3id.org/oligokb/id/study/test-trial>")
    out = run_cli("query", str(describe), "--endpoint", url)
    assert out.returncode == 0 and "test-trial" in out.stdout
    bad = run_cli("query", "--name", "studies", "--endpoint", "file:///etc/passwd")
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr


def test_endpoint_refuses_before_sending(oxigraph, listener, tmp_path):
    """The listener is both the SERVICE/FROM target and the endpoint: the guard refuses every query
    before any connection, so it sees none (and Oxigraph, which would federate, never gets them).
    Every position through the library; the CLI (the same SparqlEndpoint.query) for one of each kind."""
    url, hits = listener
    _, received = oxigraph
    queries = {**SERVICE_POSITIONS, **DATASET, **{f"update-{i}": u for i, u in enumerate(UPDATES)}}
    for key, template in queries.items():
        for endpoint in (url, oxigraph[0]):
            with pytest.raises(QueryRefused, match="refused"):
                SparqlEndpoint(endpoint).query(template.replace("{url}", url))
    for key in ("optional", "from-named", "update-3"):
        path = tmp_path / f"{key}.rq"
        path.write_text(queries[key].replace("{url}", url))
        for endpoint in (url, oxigraph[0]):
            result = run_cli("query", str(path), "--endpoint", endpoint)
            assert result.returncode == 2 and "refused" in result.stderr, (key, result.stderr)
    assert hits == []
    assert url not in received.read_text()


def test_values_binding_is_checked():
    from rdflib import URIRef

    text = "SELECT ?s WHERE {\n  ?s ?p ?o .\n  FILTER(?s = ?x)\n}\nORDER BY ?s\n"
    bound = with_values(text, {"x": URIRef("urn:a")})
    assert "VALUES (?x) { (<urn:a>) }" in bound and bound.endswith("}\nORDER BY ?s\n")
    with pytest.raises(InputError, match="not a valid IRI"):
        with_values(text, {"x": URIRef("x> } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o . <y")})


def test_oligokb_serve_as_the_remote_endpoint(ntriples, tmp_path):
    """`oligokb serve` is itself a SPARQL 1.1 endpoint the remote path can read."""
    ttl, _ = ntriples
    proc, base = start_server(ttl, tmp_path / "server.log", "--timeout", "30")
    try:
        endpoint = SparqlEndpoint(base + "/sparql")
        graph = load_kb(ttl)
        for name, params in NAMED_CASES[:4] + NAMED_CASES[-2:]:
            assert _rows(run_named(endpoint, name, params)) == _rows(run_named(graph, name, params)), (name, params)
    finally:
        stop(proc)


def test_export_and_pool_read_a_remote_store(ntriples, oxigraph):
    """The same evidence table and the same pooled result from the remote store as from the file."""
    ttl, _ = ntriples
    url, _ = oxigraph
    local = run_cli("export", "--format", "csv", "--kb", str(ttl))
    remote = run_cli("export", "--format", "csv", "--endpoint", url)
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    args = ["pool", "--outcome", "progression-free survival", "--statistic", "hazard ratio", "--include-secondary", "--json"]
    pooled_local = json.loads(run_cli(*args, "--kb", str(ttl)).stdout)
    pooled_remote = json.loads(run_cli(*args, "--endpoint", url).stdout)
    assert pooled_remote == pooled_local
    assert pooled_local["pools"][0]["k"] == 1
