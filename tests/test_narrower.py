"""One "concept or any narrower concept" rule: the table cache's filter (kb.materialise.filter_named) and
the explorer's label filter (explorer.data.apply_filters), both built on kb.materialise.narrower_or_self,
keep exactly the figures the evidence query's own `skos:broader*` filter keeps, for every concept of
every filtered scheme, on the bundled knowledge base."""

import shutil

import pytest

import explorer.data as ex
from kb.export import evidence_table
from kb.materialise import filter_named, forget, narrower_or_self
from kb.query import compose, query_text
from kb.store import OxigraphKB
from terms.vocabulary import resolve, terms
from tests.conftest import ROOT

BUNDLED = ROOT / "data" / "studies.ttl"


@pytest.fixture(scope="module")
def store(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A private copy of the bundled KB, so its table cache is this test's own."""
    path = tmp_path_factory.mktemp("kb") / "studies.ttl"
    shutil.copy(BUNDLED, path)
    forget()
    yield OxigraphKB(path)
    forget()


@pytest.fixture(scope="module")
def full(store):  # type: ignore[no-untyped-def]
    unordered = compose(query_text("evidence"), set())
    return store.select_lexical(unordered, {})


@pytest.mark.parametrize("key", list(ex.VOCAB_FILTERS))
def test_every_concept_filters_as_the_query_does(store, full, key):
    scheme, column = ex.VOCAB_FILTERS[key]
    variable = f"{key}_filter"
    text = compose(query_text("evidence"), {variable})
    table = evidence_table(store)
    studies = store.select_lexical(compose(query_text("studies"), set()), {})
    narrower_rows = 0
    for term in terms(scheme):
        iri = resolve(scheme, term)
        answer = set(store.select_lexical(text, {variable: iri})["stat"])  # SPARQL: ?x skos:broader* ?filter
        cached = filter_named("evidence", full, {variable: iri}, studies=lambda: studies)
        assert set(cached["stat"]) == answer, term
        shown = ex.apply_filters(table, ex.Filters(terms={key: (term,)}))
        assert set(shown["statistic_id"]) == {stat.split("/id/pub/", 1)[1] for stat in answer}, term
        narrower_rows += int((full.loc[full["stat"].isin(answer), column] != str(iri)).sum())
        assert str(iri) in narrower_or_self(str(iri))
    # The rule is exercised where it matters: some figures are kept through a narrower concept.
    if key in ("histology", "oligo_state", "design"):
        assert narrower_rows > 0
