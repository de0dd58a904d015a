"""Query layer: named queries with bound parameters, hierarchical filters, and the read-only guard."""

from __future__ import annotations

import socket
import threading

import pandas as pd
import pytest

from kb.query import load_kb, run_named, run_query
from kb.sparql_guard import check_query
from terms.errors import InputError, QueryRefused
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def graph(fixture_kb):
    return load_kb(fixture_kb)


def test_studies_query(graph):
    studies = run_named(graph, "studies")
    assert list(studies["study_id"]) == ["test-cohort", "test-trial"]
    trial = studies.set_index("study_id").loc["test-trial"]
    assert trial["publications"] == 2
    assert trial["figures"] == 4


def test_evidence_filters_match_narrower_terms(graph):
    assert len(run_named(graph, "evidence")) == 5
    # nsclc matches the study's nsclc_egfr; lung matches it too; colorectal does not
    assert set(run_named(graph, "evidence", {"histology": "nsclc"})["study_id"]) == {"test-trial"}
    assert set(run_named(graph, "evidence", {"histology": "lung"})["study_id"]) == {"test-trial"}
    assert set(run_named(graph, "evidence", {"histology": "colorectal"})["study_id"]) == {"test-cohort"}
    assert len(run_named(graph, "evidence", {"design": "randomised"})) == 4
    assert len(run_named(graph, "evidence", {"oligo_state": "induced"})) == 1
    hr = run_named(graph, "evidence", {"statistic": "hazard_ratio", "outcome": "progression_free_survival"})
    assert sorted(hr["publication_id"]) == ["test-review-2021", "test-trial-2020"]
    assert len(run_named(graph, "evidence", {"statistic": "comparative"})) == 2
    assert run_named(graph, "evidence", {"study": "test-cohort", "statistic": "hazard_ratio"}).empty


def test_publications_and_provenance(graph):
    pubs = run_named(graph, "publications", {"study": "test-trial"})
    assert sorted(pubs["publication_id"]) == ["test-review-2021", "test-trial-2020"]
    prov = run_named(graph, "provenance", {"statistic": "test-trial-2020/test-trial/stat/pfs-hr"})
    assert len(prov) == 1
    row = prov.iloc[0]
    assert row["locator"] == "Abstract"
    assert "0.70" in row["quote"] and row["doi"] == "10.9999/fixture.2020.001" and row["value"] == "0.70"


def test_parameters_are_checked(graph):
    with pytest.raises(InputError, match="did you mean 'nsclc'"):
        run_named(graph, "evidence", {"histology": "nscl"})
    with pytest.raises(InputError, match="has no parameter 'colour'"):
        run_named(graph, "evidence", {"colour": "red"})
    with pytest.raises(InputError, match="not a named query"):
        run_named(graph, "nope")


def test_parameter_text_is_never_spliced_into_sparql(graph):
    # A value that would break out of a string or IRI if formatted into the query text is just a study id.
    evil = "x> } } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o . <y"
    assert run_named(graph, "evidence", {"study": evil}).empty


SERVICE_POSITIONS = {
    "top": "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } }",
    "optional": "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <{url}> { ?s ?q ?r } } }",
    "union": "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <{url}> { ?s ?p ?o } } }",
    "minus": "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <{url}> { ?s ?p ?o } } }",
    "subquery": "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <{url}> { ?s ?p ?o } } } }",
    "filter-exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "filter-not-exists": "SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "graph": "SELECT * WHERE { GRAPH ?g { SERVICE <{url}> { ?s ?p ?o } } }",
    "ask": "ASK { SERVICE <{url}> { ?s ?p ?o } }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "variable-endpoint": "SELECT * WHERE { BIND(<{url}> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    # Oxigraph evaluates ORDER BY and ASK when it prepares a query: the guard must never prepare these
    "order-by": "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } } ORDER BY ?s",
    "ask-filter": "ASK { ?s ?p ?o FILTER NOT EXISTS { SERVICE SILENT <{url}> { ?s ?p ?o } } }",
    "lower-case": "select * where { service <{url}> { ?s ?p ?o } }",
    "no-spaces": "SELECT*WHERE{SERVICE<{url}>{?s ?p ?o}}",
    "prefixed-endpoint": "PREFIX e: <{url}#> SELECT * WHERE { SERVICE e:x { ?s ?p ?o } }",
    "after-a-string": 'SELECT * WHERE { ?s ?p "service" . SERVICE <{url}> { ?s ?p ?o } }',
    "after-a-comment": "SELECT * WHERE { # not a SERVICE\n SERVICE <{url}> { ?s ?p ?o } }",
    "after-a-dot": "SELECT * WHERE { ?s ?p ?o .SERVICE <{url}> { ?s ?p ?o } } ORDER BY ?s",
}
DATASET = {
    "from": "SELECT * FROM <{url}> WHERE { ?s ?p ?o }",
    "from-named": "SELECT * FROM NAMED <{url}> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "describe-from": "DESCRIBE ?s FROM <{url}> WHERE { ?s ?p ?o }",
}
UPDATES = [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <{url}>",
    "CLEAR ALL",
    "DROP GRAPH <urn:g>",
    "CREATE GRAPH <urn:g>",
    "ADD DEFAULT TO <urn:g>",
    "WITH <urn:g> DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
]


@pytest.fixture
def listener():
    """A local TCP listener that counts connections: SERVICE/FROM must never reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                hits.append(1)
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", hits
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("template", list(SERVICE_POSITIONS.values()), ids=list(SERVICE_POSITIONS))
def test_service_refused_anywhere(template, graph, listener):
    url, hits = listener
    with pytest.raises(QueryRefused, match="SERVICE is refused"):
        run_query(graph, template.replace("{url}", url))
    assert hits == []


@pytest.mark.parametrize("template", list(DATASET.values()), ids=list(DATASET))
def test_from_refused(template, graph, listener):
    url, hits = listener
    with pytest.raises(QueryRefused, match="FROM and FROM NAMED are refused"):
        run_query(graph, template.replace("{url}", url))
    assert hits == []


@pytest.mark.parametrize("update", UPDATES)
def test_updates_refused_and_graph_unchanged(update, graph, listener):
    url, hits = listener
    before = len(graph)
    with pytest.raises(QueryRefused, match="read-only"):
        run_query(graph, update.replace("{url}", url))
    assert len(graph) == before and hits == []


def test_malformed_query_reports_the_parser_message():
    with pytest.raises(QueryRefused, match="does not parse"):
        check_query("SELECT ?s WHERE { ?s ?p }")


def test_cli_query(fixture_kb, tmp_path, listener):
    url, hits = listener
    named = run_cli(
        "query", "--name", "evidence", "--param", "statistic=hazard_ratio", "--format", "csv", "--kb", str(fixture_kb)
    )
    assert named.returncode == 0, named.stderr
    assert named.stdout.count("\n") == 3  # header + 2 hazard ratios
    ask = tmp_path / "ask.rq"
    ask.write_text("PREFIX okb: <https://w3id.org/oligokb/ns#> ASK { ?s a okb:Statistic }")
    assert run_cli("query", str(ask), "--kb", str(fixture_kb)).stdout.strip() == "true"
    evil = tmp_path / "evil.rq"
    evil.write_text(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    refused = run_cli("query", str(evil), "--kb", str(fixture_kb))
    assert refused.returncode == 2 and "SERVICE is refused" in refused.stderr
    assert hits == []


@pytest.mark.parametrize("command", ["build", "validate", "summary", "query", "export", "pool"])
def test_every_subcommand_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout and "--help" in result.stdout


def test_no_parse_surface_fetches_a_remote_jsonld_context(tmp_path, listener):
    """A JSON-LD document whose @context is a URL, given to the surfaces that read user files: nothing
    is fetched (the listener sees no connection) and the input is refused as not Turtle."""
    url, hits = listener
    doc = tmp_path / "evil.jsonld"
    doc.write_text(f'{{"@context": "{url}", "@id": "urn:x", "name": "x"}}')
    result = run_cli("validate", "--ttl", str(doc))
    assert result.returncode == 2 and "not readable Turtle" in result.stderr
    query = run_cli("query", "--name", "studies", "--kb", str(doc))
    assert query.returncode == 2
    assert hits == []


def test_split_order_by_and_sort_give_the_query_order():
    from kb.query import sort_by_variables, split_order_by

    text, order = split_order_by("SELECT ?a ?b WHERE { ?a ?p ?b }\nORDER BY ?b ?a\n")
    assert order == ["b", "a"] and "ORDER BY" not in text and "WHERE { ?a ?p ?b }" in text
    assert split_order_by("SELECT * WHERE { ?s ?p ?o }") == ("SELECT * WHERE { ?s ?p ?o }", [])
    frame = pd.DataFrame({"a": ["x", "y", "Z", "w"], "b": ["2", None, "2", "10"]}, dtype="str")
    got = sort_by_variables(frame, order)
    # SPARQL: unbound first, then code point order ("10" < "2"; "Z" < "x")
    assert list(zip(got["b"].fillna("-"), got["a"], strict=False)) == [("-", "y"), ("10", "w"), ("2", "Z"), ("2", "x")]


@pytest.mark.parametrize(
    "text",
    [
        'SELECT * WHERE { ?s ?p "a service from the clinic" }',
        "PREFIX service: <urn:x:> SELECT ?service ?from WHERE { ?service service:from ?from }",
        "SELECT * WHERE { ?s <urn:service> ?o } # SERVICE <http://example.org/> FROM <x>",
        "SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), 'FROM'))}",
        'SELECT * WHERE { ?s ?p "\\u0053ERVICE" }',
    ],
)
def test_words_service_and_from_elsewhere_are_fine(text):
    assert check_query(text).form == "SELECT"


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVIC\\u0045 <http://127.0.0.1:9/> { ?s ?p ?o } }",  # escapes count only in strings, IRIs
        "SELECT ?x WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }",  # variable scope in BIND
        "SELECT ?s ?o WHERE { ?s ?p ?o } GROUP BY ?s",  # projecting a variable that is not grouped
        "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT * WHERE { VALUES (?a ?b) { (1) } }",  # VALUES arity
        'SELECT * WHERE { ?s ?p "\\uD800" }',  # a lone surrogate escape
        "SELECT * WHERE { ?s ?p '\ud800' }",  # a lone surrogate in the text itself
        "SELECT * WHERE { ?s ?p ?o } LIMIT -1",
        "",
        "PREFIX : <urn:x:>",
        "\x00\x01 SELECT",
        "ASK { FILTER(",
        "SELECT (COUNT(*) AS ?n) (COUNT(*) AS ?n) WHERE { }",
    ],
)
def test_the_guard_takes_the_parsers_verdict(text):
    with pytest.raises(QueryRefused):
        check_query(text)


def test_the_guard_never_crashes_on_broken_queries():
    """Every prefix and a few mutations of real queries: a verdict (CheckedQuery or QueryRefused) each time."""
    from tests.w3c_suite import W3C_DIR

    texts = [path.read_text(encoding="utf-8") for path in sorted((W3C_DIR / "functions").glob("*.rq"))[:25]]
    seen = 0
    for text in texts:
        for cut in range(0, len(text), 7):
            for variant in (text[:cut], text[cut:], text[:cut] + "\\" + text[cut:], text[:cut] + "\ud800" + text[cut:]):
                try:
                    check_query(variant)
                except QueryRefused:
                    pass
                seen += 1
    assert seen > 1000


def test_ask_filter_false_and_graph_on_the_default_graph_service(fixture_kb):
    from kb.store import load_store

    store = load_store(fixture_kb)
    checked, answer = run_query(store, "ASK { FILTER(false) }")
    assert checked.form == "ASK" and bool(answer) is False
    _, answer = run_query(store, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert list(answer) == []
    _, answer = run_query(store, "SELECT (COALESCE() AS ?x) (<urn:unknown:fn>(1) AS ?y) WHERE { }")
    assert [[row[0], row[1]] for row in answer] == [[None, None]]  # errors leave a value unbound


def test_cli_query_select_star_and_construct(fixture_kb, tmp_path):
    select = tmp_path / "select.rq"
    select.write_text(
        "PREFIX okb: <https://w3id.org/oligokb/ns#> SELECT * WHERE { ?study a okb:Study ; okb:design ?design }"
    )
    result = run_cli("query", str(select), "--format", "csv", "--kb", str(fixture_kb))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "study,design" and len(result.stdout.splitlines()) == 3
    construct = tmp_path / "construct.rq"
    construct.write_text("CONSTRUCT { ?s a ?t } WHERE { ?s a <https://w3id.org/oligokb/ns#Study> ; a ?t }")
    result = run_cli("query", str(construct), "--kb", str(fixture_kb))
    assert result.returncode == 0 and "okb:Study" in result.stdout
