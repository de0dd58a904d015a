"""The explorer under Streamlit's AppTest: every view renders without an exception element, and the
main interactions work (filters from and to the URL, study selection, pooled analysis, SPARQL refused
and accepted). Runs on the bundled knowledge base; assertions do not depend on its exact content."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer import data as ex
from explorer.study import study_page
from kb.conflicts import find_conflicts
from kb.export import evidence_table
from kb.query import load_kb

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
    kept = ex.apply_filters(kb_table, ex.Filters(terms={"oligo_state": ("oligometastatic_disease",),
                                                        "statistic": ("landmark_rate",)}))
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


def test_study_from_url_and_unknown_study():
    at = _app(view="Study", study="sabr-comet")
    _clean(at)
    assert at.selectbox(key="study").value == "sabr-comet"
    at = _app(view="Study", study="no-such-study")
    _clean(at)
    assert at.selectbox(key="study").value is None


def test_pooled_analysis():
    at = _app(view="Pooled analysis")
    _clean(at)
    assert at.selectbox(key="pool_statistic").value == "hazard ratio"
    assert {"Forest plot (SVG)", "Forest plot (PNG)", "Forest plot (PDF)"} <= {b.label for b in at.get("download_button")}
    assert any("Left out" in m.value for m in at.markdown)

    # A landmark rate with a time point, another method and test, stratified by oligo-state.
    at.selectbox(key="pool_statistic").select("landmark rate").run()
    _clean(at)
    at.selectbox(key="pool_method").select("DL").run()
    at.selectbox(key="pool_test").select("knha").run()
    at.multiselect(key="pool_by").select("oligo-state").run()
    at.checkbox(key="pool_secondary").check().run()
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
    marked = view["marks"].str.contains("conflict")
    assert marked.sum() >= len(conflicts) > 0 or conflicts.empty
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
        run_console_query(ex.kb_file(), "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                          time_limit=1.5)


def test_pooled_analysis_on_the_sidebar_selection():
    at = _app(view="Pooled analysis", statistic=["median"])
    at.toggle(key="pool_use_filters").set_value(True).run()
    _clean(at)
    assert at.info and "No hazard ratio in the selection" in at.info[0].value
