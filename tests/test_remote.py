"""The remote store path: the named queries against a real external SPARQL store give the in-process rows.

The store is Oxigraph (pyoxigraph's Store, Rust query engine) loaded from `oligokb build --ntriples`
plus the vocabularies, served over the SPARQL 1.1 Protocol by a small starlette app in a subprocess
(tests/conftest.py: oxigraph_server). The same check runs against `oligokb serve` as the remote endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from kb.query import load_kb, run_named
from kb.remote import SparqlEndpoint, with_values
from terms.errors import InputError, QueryRefused
from terms.vocabulary import ONTOLOGY_FILE, VOCAB_DIR
from tests.conftest import ROOT, VALID_SHEETS, free_port, oxigraph_server, run_cli, stop
from tests.test_query import DATASET, SERVICE_POSITIONS, UPDATES, listener  # noqa: F401 - listener is a fixture
from tests.test_server import NAMED_CASES, start_server


@pytest.fixture(scope="module")
def ntriples(tmp_path_factory) -> tuple[Path, Path]:
    """The fixture sheets built to Turtle and to N-Triples (the bulk-loading file)."""
    out = tmp_path_factory.mktemp("remote")
    result = run_cli(
        "build", "--sheets", str(VALID_SHEETS), "--out", str(out / "kb.ttl"), "--ntriples", str(out / "kb.nt")
    )
    assert result.returncode == 0, result.stderr
    return out / "kb.ttl", out / "kb.nt"


@pytest.fixture(scope="module")
def oxigraph(ntriples, tmp_path_factory):
    """An Oxigraph store over HTTP: yields (endpoint URL, file logging every query it received)."""
    _, nt = ntriples
    with oxigraph_server(
        [nt, *sorted(VOCAB_DIR.glob("*.ttl")), ONTOLOGY_FILE], tmp_path_factory.mktemp("oxigraph")
    ) as served:
        yield served


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
    for template in queries.values():
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
    args = [
        "pool",
        "--outcome",
        "progression-free survival",
        "--statistic",
        "hazard ratio",
        "--include-secondary",
        "--json",
    ]
    pooled_local = json.loads(run_cli(*args, "--kb", str(ttl)).stdout)
    pooled_remote = json.loads(run_cli(*args, "--endpoint", url).stdout)
    assert pooled_remote == pooled_local
    assert pooled_local["pools"][0]["k"] == 1


# The Oxigraph commands of docs/sparql-endpoint.md, run as written (the `oxigraph` CLI is a dev dependency);
# only the port is a free one, and `uv run oligokb` is this checkout's CLI.
OXIGRAPH_DOC_COMMANDS = [
    "oxigraph load --location oligokb-db --file data/studies.nt",
    'for f in terms/vocab/*.ttl terms/ontology.ttl; do oxigraph load --location oligokb-db --file "$f"; done',
    "oxigraph serve-read-only --location oligokb-db --bind 127.0.0.1:7879",
    "uv run oligokb query --name studies --endpoint http://127.0.0.1:7879/query",
]


def test_documented_oxigraph_commands(ntriples, tmp_path):
    docs = (ROOT / "docs" / "sparql-endpoint.md").read_text(encoding="utf-8")
    assert all(command in docs for command in OXIGRAPH_DOC_COMMANDS)
    ttl, nt = ntriples
    (tmp_path / "data").mkdir()
    shutil.copy(nt, tmp_path / "data" / "studies.nt")
    (tmp_path / "kb").symlink_to(ROOT / "kb")
    (tmp_path / "terms").symlink_to(ROOT / "terms")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in OXIGRAPH_DOC_COMMANDS[:2]:
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    port = str(free_port())
    serve = OXIGRAPH_DOC_COMMANDS[2].replace("7879", port).split()
    proc = subprocess.Popen(serve, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = OXIGRAPH_DOC_COMMANDS[3].split("--endpoint ")[1].replace("7879", port)
        for _ in range(100):
            if run_cli("query", "--name", "studies", "--endpoint", url, "--format", "json").returncode == 0:
                break
            time.sleep(0.2)
        remote = run_cli("query", "--name", "studies", "--endpoint", url, "--format", "json")
        local = run_cli("query", "--name", "studies", "--kb", str(ttl), "--format", "json")
        assert remote.returncode == 0, remote.stderr
        assert _rows(pd.DataFrame(json.loads(remote.stdout))) == _rows(pd.DataFrame(json.loads(local.stdout)))
        assert len(json.loads(local.stdout)) > 1
        update = urllib.request.Request(
            url.replace("/query", "/update"),
            data=b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
            headers={"Content-Type": "application/sparql-update"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:  # serve-read-only has no update endpoint
            urllib.request.urlopen(update, timeout=10)
        assert refused.value.code == 403
    finally:
        stop(proc)
