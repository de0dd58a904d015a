"""The explorer under Streamlit's AppTest: every view renders without an exception element, and the
main interactions work (filters from and to the URL, study selection, pooled analysis, SPARQL refused
and accepted). Runs on the bundled knowledge base; assertions do not depend on its exact content.
The same views read from a real SPARQL store (Oxigraph over HTTP, OLIGOKB_ENDPOINT) give the same tables."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer import data as ex
from explorer.study import study_page
from kb.conflicts import find_conflicts
from kb.export import evidence_table
from kb.query import load_kb
from kb.remote import SparqlEndpoint
from kb.store import load_store
from terms.vocabulary import ONTOLOGY_FILE, VOCAB_DIR
from tests.conftest import free_port, oxigraph_server
from tests.test_query import listener  # noqa: F401 - a fixture

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


def _app(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _url(at: AppTest, key: str) -> list[str]:
    value = at.query_params.get(key, [])
    return value if isinstance(value, list) else [value]


def _caption(at: AppTest, needle: str) -> str:
    return next(c.value for c in at.caption if needle in c.value)


@pytest.fixture(scope="module")
def kb_table() -> pd.DataFrame:
    return evidence_table(load_kb(ex.kb_file()))


def test_evidence_view_and_filters(kb_table):
    at = _app()
    _clean(at)
    assert [t.label for t in at.tabs] == ["Evidence", "Study", "Pooled analysis", "SPARQL", "About"]
    total = len(kb_table)
    assert _caption(at, "figures ·").startswith(f"{total} of {total} figures")
    assert {"Filtered table (CSV)", "Selection as Turtle"} <= {b.label for b in at.get("download_button")}

    # A broad histology term keeps its narrower terms: the count is that of the tree node.
    histology = at.multiselect(key="histology")
    assert any("solid tumour" in o for o in histology.options)  # shown as the tree, selected by term id
    histology.select("solid_tumour").run()
    _clean(at)
    solid = ex.apply_filters(kb_table, ex.Filters(terms={"histology": ("solid_tumour",)}))
    assert 0 < len(solid) < total
    assert _caption(at, "figures ·").startswith(f"{len(solid)} of {total} figures")
    assert _url(at, "histology") == ["solid_tumour"]

    # Report role filter narrows further, and goes into the URL too.
    at.multiselect(key="role").select("primary").run()
    _clean(at)
    assert _url(at, "role") == ["primary"]


def test_filters_come_from_the_url(kb_table):
    at = _app(oligo_state=["oligometastatic_disease", "not_a_term"], statistic=["landmark_rate"])
    _clean(at)
    assert at.multiselect(key="oligo_state").value == ["oligometastatic_disease"]  # unknown ids dropped
    kept = ex.apply_filters(
        kb_table, ex.Filters(terms={"oligo_state": ("oligometastatic_disease",), "statistic": ("landmark_rate",)})
    )
    assert _caption(at, "figures ·").startswith(f"{len(kept)} of")


def test_no_match_says_what_to_change():
    at = _app(histology=["breast"], design=["randomised"], statistic=["median"], outcome=["toxicity"])
    _clean(at)
    if at.info:
        assert "remove a filter" in at.info[0].value


def test_study_page():
    at = _app(view="Study")
    _clean(at)
    study = at.selectbox(key="study")
    assert study.value is None and len(at.dataframe) == 1  # the list of studies
    study.select("sabr-comet").run()
    _clean(at)
    assert _url(at, "study") == ["sabr-comet"]
    page = study_page(load_kb(ex.kb_file()), "sabr-comet")
    assert any(h.value == page.facts["label"] for h in at.subheader)
    texts = [t.value for t in at.text]
    assert page.facts["oligo_state_as_published"] in texts
    assert page.facts["rationale"] in texts
    assert len(at.dataframe) >= 6  # facts, inputs, publications, arms, groups, figures
    pubs = page.publications.set_index("publication_id")
    assert pubs.loc["bourgier2019-canrad", "quotes"] == "palma2019-lancet"  # the review's reference 13 (its sheet)
    assert pubs.loc["harrow2022-ijrobp", "quotes"] == ""  # a primary report quotes none


def test_study_from_url_and_unknown_study():
    at = _app(view="Study", study="sabr-comet")
    _clean(at)
    assert at.selectbox(key="study").value == "sabr-comet"
    at = _app(view="Study", study="no-such-study")
    _clean(at)
    assert at.selectbox(key="study").value is None


def test_forest_plot_on_the_page_is_an_svg_whose_text_is_text():
    import base64

    at = _app(view="Pooled analysis", pool_statistic="hazard ratio", pool_outcome="overall survival")
    _clean(at)
    images = [e for e in at.main if type(e).__name__ == "Image"]
    assert len(images) == 1
    url = images[0].proto.imgs[0].url
    assert url.startswith("data:image/svg+xml;base64,"), url[:40]
    svg = base64.b64decode(url.split(",", 1)[1]).decode("utf-8")
    # the study labels as text the browser sets, not glyph outlines (the SVG download keeps those)
    assert re.search(r"<text[ >][^<]*SABR-COMET", svg), "no SABR-COMET row as text"
    assert "#DejaVuSans-" not in svg


def test_pooled_analysis():
    at = _app(view="Pooled analysis")
    _clean(at)
    assert at.selectbox(key="pool_statistic").value == "hazard ratio"
    assert {"Forest plot (SVG)", "Forest plot (PNG)", "Forest plot (PDF)"} <= {
        b.label for b in at.get("download_button")
    }
    # under the plot one section at a time, the strata first: the others are not drawn until chosen
    markdown = [m.value for m in at.markdown]
    assert any("**Strata**" in m for m in markdown)
    assert not any("Left out" in m or "Inputs of each stratum" in m for m in markdown)
    # every tier by default
    assert len(at.multiselect(key="pool_tiers").value) == 6
    # each section from the URL (?pool_section=...), as a link opens it
    for section, text in (
        ("Left out", "**Left out**"),
        ("Trials' own reports", "Sensitivity analysis: the trials' own reports only"),
        ("Inputs", "Inputs of each stratum"),
    ):
        opened = _app(view="Pooled analysis", pool_section=section)
        _clean(opened)
        markdown = [m.value for m in opened.markdown]
        assert any(text in m for m in markdown), section
        assert not any("**Strata**" in m for m in markdown), section
    # the trials' own reports only: no sensitivity table (it would be the same analysis)
    at = _app(view="Pooled analysis", pool_section="Trials' own reports")
    at.multiselect(key="pool_tiers").set_value(["trial_full_report", "trial_abstract"]).run()
    _clean(at)
    assert not any("Sensitivity analysis" in m.value for m in at.markdown)
    assert any("already uses only the trials' own reports" in i.value for i in at.info)
    at.multiselect(key="pool_tiers").set_value([]).run()
    assert any("No evidence tier is selected" in i.value for i in at.info)

    # A landmark rate with a time point, another method and test, stratified by oligo-state.
    at = _app(view="Pooled analysis")
    at.selectbox(key="pool_statistic").select("landmark rate").run()
    _clean(at)
    at.selectbox(key="pool_method").select("DL").run()
    at.selectbox(key="pool_test").select("knha").run()
    at.multiselect(key="pool_by").select("oligo-state").run()
    at.multiselect(key="pool_tiers").set_value(["review", "coverage_page"]).run()
    at.selectbox(key="pool_level").select("2").run()
    _clean(at)
    assert at.selectbox(key="pool_timepoint").value is not None
    assert any("Strata" in m.value for m in at.markdown) or at.info


def test_sparql_accepted_and_refused():
    at = _app(view="SPARQL")
    _clean(at)
    at.button(key="sparql_run").click().run()
    _clean(at)
    assert at.dataframe and any("rows" in c.value for c in at.caption)

    for query, message in [
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE is refused"),
        ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM and FROM NAMED are refused"),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
        ("SELEKT nothing", "does not parse"),
    ]:
        at.text_area(key="sparql_text").input(query).run()
        at.button(key="sparql_run").click().run()
        assert not at.exception
        assert at.error and message in at.error[0].value, (query, [e.value for e in at.error])

    at.selectbox(key="sparql_example").select("Is there a phase III trial? (ASK)").run()
    at.button(key="sparql_run").click().run()
    _clean(at)
    assert any(t.value.startswith("ASK:") for t in at.text)


def test_about():
    at = _app(view="About")
    _clean(at)
    version = ex.kb_version(ex.kb_file())
    assert any(version["sha256"][:16] in c.value for c in at.code)
    assert {m.label for m in at.metric} >= {"studies", "publications", "figures", "conflicts"}


# --- explorer helpers ---------------------------------------------------------------------------


def test_oligo_state_tree_follows_skos_broader():
    tree = {t.id: t for t in ex.vocabulary_tree("oligo_state")}
    assert tree["oligometastatic_disease"].depth == 0
    assert tree["genuine"].depth == 1 and tree["induced"].depth == 1
    assert "metachronous oligorecurrence" in tree["genuine"].matches
    assert "metachronous oligorecurrence" not in tree["induced"].matches


def test_conflicts_are_marked(kb_table):
    conflicts = find_conflicts(kb_table)
    view = ex.evidence_view(kb_table, conflicts)
    marked = view["marks"].str.contains("differs from")
    assert len(conflicts) > 0
    assert set(conflicts["kind"]) == {"disagreement", "later data cut"}  # the bundled KB has both kinds
    # Both figures of every pair carry the mark of its kind, also where the reports name the group differently.
    for c in conflicts.itertuples():
        for stat, other in ((c.statistic_a, c.publication_b), (c.statistic_b, c.publication_a)):
            mark = view.loc[kb_table["statistic_id"] == stat, "marks"].iat[0]
            prefix = "⚠ conflict: " if c.kind == "disagreement" else "later data cut: "
            assert prefix in mark and f"{c.field} differs from {other}" in mark.split(prefix, 1)[1], mark
    assert marked.sum() == len(set(conflicts["statistic_a"]) | set(conflicts["statistic_b"]))
    assert (view.loc[kb_table["publication_role"] == "secondary", "marks"].str.startswith("secondary")).all()


def test_selection_turtle_holds_the_statistics(kb_table):
    from rdflib import Graph

    ids = list(kb_table["statistic_id"][:3])
    g = Graph().parse(data=ex.selection_turtle(load_kb(ex.kb_file()), ids), format="turtle")
    for sid in ids:
        assert (ex.statistic_iri(sid), None, None) in g


def test_sparql_time_limit():
    from explorer.sparql import QueryFailed, run_console_query

    with pytest.raises(QueryFailed, match="limit"):
        run_console_query(
            ex.kb_file(), "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", time_limit=1.5
        )


def test_pooled_analysis_on_the_sidebar_selection():
    at = _app(view="Pooled analysis", statistic=["median"])
    at.toggle(key="pool_filters").set_value(True).run()
    _clean(at)
    # The outcome chosen before stays chosen: the page says it has no figures here instead of switching.
    assert at.warning and "No figures for" in at.warning[0].value and "under the sidebar filters" in at.warning[0].value
    assert at.info and "No hazard ratio under the sidebar filters" in at.info[0].value


# --- a SPARQL endpoint as the source (OLIGOKB_ENDPOINT / --endpoint) --------------------------------


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """The bundled knowledge base and its vocabularies in a real Oxigraph store served over HTTP:
    (endpoint URL, the log of every query it received)."""
    files = [ex.kb_file(), *sorted(VOCAB_DIR.glob("*.ttl")), ONTOLOGY_FILE]
    with oxigraph_server(files, tmp_path_factory.mktemp("oxigraph")) as served:
        yield served


def _frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value.reset_index(drop=True) for d in at.dataframe]


def _same_frames(remote: AppTest, local: AppTest) -> None:
    _clean(local)
    mine, theirs = _frames(remote), _frames(local)
    assert len(mine) == len(theirs) > 0
    for a, b in zip(mine, theirs, strict=False):
        pd.testing.assert_frame_equal(a, b)


def test_source_from_the_command_line_or_the_environment(monkeypatch):
    monkeypatch.delenv("OLIGOKB_ENDPOINT", raising=False)
    assert ex.source([]) == ex.Source(None, str(ex.kb_file()), ex.file_version(ex.kb_file()))
    assert ex.source(["--endpoint", "http://a/sparql"]).endpoint == "http://a/sparql"
    monkeypatch.setenv("OLIGOKB_ENDPOINT", "http://b/sparql")
    assert ex.source([]).endpoint == "http://b/sparql"
    assert ex.source(["--endpoint=http://a/sparql"]).endpoint == "http://a/sparql"  # the command line wins


def test_evidence_table_from_the_endpoint_equals_the_file(endpoint, monkeypatch):
    url, received = endpoint
    local = _app()
    monkeypatch.setenv("OLIGOKB_ENDPOINT", url)
    at = _app()
    _clean(at)
    assert "okb:Statistic" in received.read_text()  # the table was read from the endpoint
    _same_frames(at, local)
    assert _caption(at, "figures ·") == _caption(local, "figures ·")
    assert any(url in c.value.replace("\\", "") for c in at.caption)  # the page says where it reads
    # The filters work the same on the endpoint's table.
    for app in (at, local):
        app.multiselect(key="histology").select("solid_tumour").run()
    _clean(at)
    _same_frames(at, local)
    # The CSV download is the evidence table; the selection download holds the same triples as the file's.
    remote_table = evidence_table(SparqlEndpoint(url))
    pd.testing.assert_frame_equal(remote_table, evidence_table(load_store(ex.kb_file())))
    ids = list(remote_table["statistic_id"])
    remote_ttl = ex.remote_selection_turtle(SparqlEndpoint(url), ids, chunk=40)
    local_ttl = ex.selection_turtle(load_kb(ex.kb_file()), ids)
    assert _triples(remote_ttl) == _triples(local_ttl) and len(_triples(local_ttl)) > 10 * len(ids)


def _triples(turtle: str) -> set:
    """Triples with decimals compared by value (stores keep xsd:decimal canonically: 0.80 -> 0.8)."""
    from rdflib import Graph, Literal
    from rdflib.namespace import XSD

    def norm(term):  # type: ignore[no-untyped-def]
        if isinstance(term, Literal) and term.datatype == XSD.decimal:
            return Literal(format(term.toPython().normalize(), "f"), datatype=XSD.decimal)
        return term

    return {tuple(norm(t) for t in triple) for triple in Graph().parse(data=turtle, format="turtle")}


def test_study_page_and_pooled_analysis_from_the_endpoint(endpoint, monkeypatch):
    url, received = endpoint
    local_study, local_pool = _app(view="Study", study="sabr-comet"), _app(view="Pooled analysis")
    monkeypatch.setenv("OLIGOKB_ENDPOINT", url)
    start = len(received.read_text().splitlines())
    at = _app(view="Study", study="sabr-comet")
    _clean(at)
    assert "study/sabr-comet>" in "".join(received.read_text().splitlines()[start:])  # bound in a VALUES block
    assert [s.value for s in at.subheader] == [s.value for s in local_study.subheader]
    assert [t.value for t in at.text] == [t.value for t in local_study.text]
    _same_frames(at, local_study)
    at = _app(view="Pooled analysis")
    _clean(at)
    _same_frames(at, local_pool)


def test_sparql_console_and_about_on_the_endpoint(endpoint, monkeypatch, listener):
    url, received = endpoint
    service_url, hits = listener
    local = _app(view="SPARQL")
    local.button(key="sparql_run").click().run()
    monkeypatch.setenv("OLIGOKB_ENDPOINT", url)
    at = _app(view="SPARQL")
    assert any(url in c.value.replace("\\", "") for c in at.caption)
    at.button(key="sparql_run").click().run()
    _clean(at)
    _same_frames(at, local)
    assert "?oligo_state ?as_published" in received.read_text()  # the example query went to the endpoint
    # Refused before anything is sent: neither the endpoint nor the SERVICE target sees the query.
    at.text_area(key="sparql_text").input(f"SELECT * WHERE {{ SERVICE <{service_url}> {{ ?s ?p ?o }} }}").run()
    at.button(key="sparql_run").click().run()
    assert at.error and "SERVICE is refused" in at.error[0].value
    assert hits == [] and service_url not in received.read_text()
    at.selectbox(key="sparql_example").select("One study's triples (DESCRIBE)").run()
    at.button(key="sparql_run").click().run()
    _clean(at)
    assert any("sabr-comet" in c.value for c in at.code)

    at = _app(view="About")
    _clean(at)
    assert any("SPARQL endpoint" in m.value and url in m.value.replace("\\", "") for m in at.markdown)
    version = at.dataframe[0].value
    assert dict(zip(version["field"], version["value"], strict=False))["endpoint"] == url
    assert any(f"read from the SPARQL endpoint {url}" in c.value for c in at.code)


@pytest.mark.parametrize("url, message", [(None, "cannot reach"), ("file:///etc/passwd", "not an http(s) URL")])
def test_endpoint_errors_are_messages(url, message, monkeypatch):
    url = url or f"http://127.0.0.1:{free_port()}/sparql"  # nothing listens there
    monkeypatch.setenv("OLIGOKB_ENDPOINT", url)
    at = _app()
    assert not at.exception
    assert at.error and message in at.error[0].value and "OLIGOKB_ENDPOINT" in at.error[0].value
    assert "Traceback" not in at.error[0].value


def test_a_link_restores_every_pooled_choice():
    at = _app(
        view="Pooled analysis",
        pool_statistic="landmark rate",
        pool_outcome="overall survival",
        pool_timepoint="24",
        pool_method="DL",
        pool_test="knha",
        pool_by=["histology"],
        pool_level="2",
        pool_tiers=["trial_full_report", "trial_abstract"],
        pool_exclude_flags=["mapping_low_confidence"],
    )
    _clean(at)
    assert at.selectbox(key="pool_statistic").value == "landmark rate"
    assert at.selectbox(key="pool_outcome").value == "overall survival"
    assert at.selectbox(key="pool_timepoint").value == 24.0
    assert at.selectbox(key="pool_method").value == "DL"
    assert at.selectbox(key="pool_test").value == "knha"
    assert at.selectbox(key="pool_level").value == "2"
    assert at.multiselect(key="pool_by").value == ["histology"]
    assert at.multiselect(key="pool_tiers").value == ["trial_full_report", "trial_abstract"]
    assert at.multiselect(key="pool_exclude_flags").value == ["mapping_low_confidence"]
    # Changing a choice writes it back to the URL.
    at.selectbox(key="pool_method").set_value("REML").run()
    _clean(at)
    assert _url(at, "pool_method") == ["REML"]
    assert _url(at, "pool_tiers") == ["trial_full_report", "trial_abstract"]


def test_an_unknown_value_in_a_pooled_link_falls_back_to_the_default():
    at = _app(view="Pooled analysis", pool_statistic="hazard ratio", pool_method="NOPE")
    _clean(at)
    assert at.selectbox(key="pool_method").value == "REML"


def test_publication_years_from_the_url_filter_and_a_whole_range_is_no_filter():
    whole = _app()
    _clean(whole)
    low, high = whole.selectbox(key="year_from").value, whole.selectbox(key="year_to").value
    assert low < high
    total = int(re.search(r"(\d+) of \d+ figures", _caption(whole, "figures ·")).group(1))
    assert _url(whole, "from") == [] and _url(whole, "to") == []  # the whole range is not written to the URL
    at = _app(**{"from": str(high), "to": str(high)})
    _clean(at)
    assert (at.selectbox(key="year_from").value, at.selectbox(key="year_to").value) == (high, high)
    shown = int(re.search(r"(\d+) of \d+ figures", _caption(at, "figures ·")).group(1))
    assert 0 < shown < total
    # a range chosen backwards is the same range
    at.selectbox(key="year_from").select(high).run()
    at.selectbox(key="year_to").select(low).run()
    _clean(at)
    assert int(re.search(r"(\d+) of \d+ figures", _caption(at, "figures ·")).group(1)) == total
