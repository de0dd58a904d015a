"""Each SHACL shape has a conformant and a violating Turtle snippet (pySHACL habit: inline Turtle)."""

from __future__ import annotations

import pytest
from rdflib import Graph

from kb.validate import validate_graph
from terms.namespaces import ID

PREFIXES = """
@prefix okb: <https://w3id.org/oligokb/ns#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix bibo: <http://purl.org/ontology/bibo/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix st: <https://w3id.org/oligokb/vocab/statistic/> .
@prefix oc: <https://w3id.org/oligokb/vocab/outcome/> .
@prefix to: <https://w3id.org/oligokb/vocab/time-origin/> .
@prefix un: <https://w3id.org/oligokb/vocab/unit/> .
@prefix ua: <https://w3id.org/oligokb/vocab/unit-of-analysis/> .
@prefix pr: <https://w3id.org/oligokb/vocab/publication-role/> .
@prefix de: <https://w3id.org/oligokb/vocab/design/> .
@prefix hi: <https://w3id.org/oligokb/vocab/histology/> .
@prefix os: <https://w3id.org/oligokb/vocab/oligo-state/> .
@prefix tr: <https://w3id.org/oligokb/vocab/treatment/> .
@prefix sk: <https://w3id.org/oligokb/vocab/source-kind/> .
@prefix et: <https://w3id.org/oligokb/vocab/evidence-tier/> .
@prefix : <https://w3id.org/oligokb/id/> .
"""

CONTEXT = """
:s a okb:Study ; rdfs:label "S" ; okb:design de:rct_phase_2 ; okb:histology hi:nsclc ; okb:oligoState os:synchronous ;
    okb:oligoStateAsPublished "oligometastatic" ; okb:oligoStateAssignment :sa ; okb:intervention tr:sabr .
:sa a okb:OligoStateAssignment ; okb:rationale "because" ; okb:mappedBy "test" ; okb:confidence "high" .
:p a okb:Publication ; okb:role pr:primary ; okb:sourceKind sk:journal_article ; okb:evidenceTier et:trial_abstract ; dcterms:issued "2020"^^xsd:gYear ; okb:reportsStudy :s ; bibo:doi "10.1000/x" .
:g1 a okb:Group ; rdfs:label "SABR" ; okb:inStudy :s ; okb:unitOfAnalysis ua:patient .
:g2 a okb:Group ; rdfs:label "control" ; okb:inStudy :s ; okb:unitOfAnalysis ua:patient .
:d a prov:Derivation ; prov:entity :p ; okb:locator "Abstract" ; okb:quote "HR 0.70 (80% CI 0.50-0.98); 2-year rate 40%" ; okb:derivationMethod "reported" .
"""

VALID_HR = """
:x a okb:Statistic ; okb:statisticType st:hazard_ratio ; okb:outcome oc:overall_survival ; okb:group :g1 ; okb:referenceGroup :g2 ;
   okb:value 0.70 ; okb:valueAsPublished "0.70" ; okb:ciLow 0.50 ; okb:ciHigh 0.98 ; okb:ciLowAsPublished "0.50" ; okb:ciHighAsPublished "0.98" ;
   okb:ciLevel 0.80 ; okb:timeOrigin to:randomisation ; okb:evidenceTier et:trial_abstract ; prov:wasDerivedFrom :p ; prov:qualifiedDerivation :d .
"""

VALID_RATE = """
:x a okb:Statistic ; okb:statisticType st:landmark_rate ; okb:outcome oc:overall_survival ; okb:group :g1 ; okb:unit un:percent ;
   okb:value 40.0 ; okb:valueAsPublished "40" ; okb:timepointMonths 24 ; okb:timeOrigin to:randomisation ;
   okb:evidenceTier et:coverage_page ; prov:wasDerivedFrom :p ; prov:qualifiedDerivation :d .
"""


def _violations(snippet: str) -> list[str]:
    graph = Graph().parse(data=PREFIXES + CONTEXT + snippet, format="turtle")
    return [v.message for v in validate_graph(graph)]


@pytest.mark.parametrize("snippet", [VALID_HR, VALID_RATE], ids=["hazard-ratio", "landmark-rate"])
def test_valid_snippets_conform(snippet):
    assert _violations(snippet) == []


INVALID = [
    ("missing-outcome", VALID_HR.replace("okb:outcome oc:overall_survival ;", ""), "outcome is required"),
    (
        "outcome-not-in-scheme",
        VALID_HR.replace("oc:overall_survival", "st:median"),
        "outcome is required and must be a term of the outcome scheme",
    ),
    (
        "ci-low-above-value",
        VALID_HR.replace("okb:ciLow 0.50", "okb:ciLow 0.80"),
        "the CI lower bound is above the value",
    ),
    (
        "value-above-ci-high",
        VALID_HR.replace("okb:ciHigh 0.98", "okb:ciHigh 0.60"),
        "the value is above the CI upper bound",
    ),
    ("ci-level-95", VALID_HR.replace("okb:ciLevel 0.80", "okb:ciLevel 80"), "ciLevel must be a fraction"),
    ("hr-not-positive", VALID_HR.replace("okb:ciLow 0.50 ;", "okb:ciLow -0.50 ;"), "must be > 0"),
    ("hr-without-reference", VALID_HR.replace("okb:referenceGroup :g2 ;", ""), "needs its referenceGroup"),
    ("rate-over-100", VALID_RATE.replace("okb:value 40.0 ;", "okb:value 140.0 ;"), "within 0-100"),
    ("landmark-without-timepoint", VALID_RATE.replace("okb:timepointMonths 24 ;", ""), "needs timepointMonths"),
    (
        "quote-lacks-value",
        VALID_RATE.replace('okb:valueAsPublished "40"', 'okb:valueAsPublished "4"'),
        "does not contain the value",
    ),
    (
        "quote-lacks-ci-bound",
        VALID_HR.replace('okb:ciHighAsPublished "0.98"', 'okb:ciHighAsPublished "0.99"'),
        "does not contain a CI bound",
    ),
    (
        "no-provenance",
        VALID_RATE.replace("prov:wasDerivedFrom :p ; prov:qualifiedDerivation :d .", 'okb:note "x" .'),
        "derived from a Publication",
    ),
    ("no-published-form", VALID_RATE.replace('okb:valueAsPublished "40" ;', ""), "valueAsPublished"),
    (
        "p-value-out-of-range",
        VALID_HR.replace("okb:ciLevel 0.80 ;", "okb:ciLevel 0.80 ; okb:pValue 1.5 ;"),
        "pValue must be within 0-1",
    ),
    ("malformed-doi", VALID_RATE + ':p bibo:doi "doi:10.1000/y" .', "malformed DOI"),
    ("malformed-seed-document", VALID_RATE + ':p okb:seedDocument "seed 002" .', "malformed seed document identifier"),
    ("group-n-without-quote", VALID_RATE + ":g1 okb:n 66 .", "a group's n needs a derivation"),
    # where it was read (issue 14)
    (
        "figure-without-tier",
        VALID_HR.replace("okb:evidenceTier et:trial_abstract ;", ""),
        "a figure needs one evidence tier",
    ),
    (
        "figure-tier-better-than-report",
        VALID_HR.replace("okb:evidenceTier et:trial_abstract ;", "okb:evidenceTier et:trial_full_report ;"),
        "a figure's tier is better than its report's",
    ),
    (
        "tier-contradicts-kind",
        VALID_RATE + ":p okb:sourceKind sk:conference_abstract .",
        "the evidence tier contradicts the source kind",
    ),
    (
        "kind-contradicts-role",
        VALID_RATE.replace(":p ;", ":p ;") + ":p okb:sourceKind sk:review .",
        "contradicts the role",
    ),
    (
        "page-not-http",
        VALID_RATE + ':d okb:readIn :page . :page a okb:WebPage ; okb:url "ftp://x.org/a"^^xsd:anyURI ; okb:site "X" ; '
        'dcterms:title "A page" ; okb:dateRead "2026-12-06"^^xsd:date ; okb:pageKind sk:coverage_page .',
        "must be http(s)",
    ),
    (
        "page-without-date",
        VALID_RATE
        + ':d okb:readIn :page . :page a okb:WebPage ; okb:url "https://x.org/a"^^xsd:anyURI ; okb:site "X" ; '
        'dcterms:title "A page" ; okb:pageKind sk:coverage_page .',
        "a page needs the date it was read",
    ),
    (
        "page-kind-journal",
        VALID_RATE
        + ':d okb:readIn :page . :page a okb:WebPage ; okb:url "https://x.org/a"^^xsd:anyURI ; okb:site "X" ; '
        'dcterms:title "A page" ; okb:dateRead "2026-12-06"^^xsd:date ; okb:pageKind sk:journal_article .',
        "",
    ),
]


def _publication_with(identifier: str, year: bool = True) -> list[str]:
    context = CONTEXT.replace(' ; bibo:doi "10.1000/x" .', identifier + " .")
    if not year:
        context = context.replace(' ; dcterms:issued "2020"^^xsd:gYear', "")
    graph = Graph().parse(data=PREFIXES + context + VALID_RATE, format="turtle")
    return [f"{v.focus} {v.path} {v.message}" for v in validate_graph(graph)]


def test_a_page_url_with_its_date_stands_in_for_doi_and_pmid():
    page = ' ; okb:url "https://example.org/abstract/10"^^xsd:anyURI ; okb:dateRead "2026-12-06"^^xsd:date'
    assert _publication_with(page) == []
    no_date = ' ; okb:url "https://example.org/abstract/10"^^xsd:anyURI'
    assert any(m.startswith(f"{ID}p ") for m in _publication_with(no_date))


def test_a_seed_document_identifier_stands_in_for_doi_and_pmid():
    seed = ' ; okb:seedDocument "002_ca21a48ecb092b86"'
    assert _publication_with(seed) == []
    assert any(m.startswith(f"{ID}p ") for m in _publication_with(""))  # no identifier at all
    # only a seed document may lack a year (its text may print none)
    assert _publication_with(seed, year=False) == []
    assert any(m.startswith(f"{ID}p ") for m in _publication_with(' ; bibo:doi "10.1000/x"', year=False))


@pytest.mark.parametrize("snippet,expected", [(s, e) for _, s, e in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_snippets_violate_the_right_shape(snippet, expected):
    messages = _violations(snippet)
    assert any(expected in m for m in messages), messages


def test_validate_command_exit_codes(tmp_path):
    from tests.conftest import VALID_SHEETS, run_cli

    ok = run_cli("validate", "--sheets", str(VALID_SHEETS))
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "bad.ttl"
    bad.write_text(PREFIXES + CONTEXT + VALID_RATE.replace("okb:value 40.0 ;", "okb:value 140.0 ;"))
    nonconformant = run_cli("validate", "--ttl", str(bad))
    assert nonconformant.returncode == 1
    assert "within 0-100" in nonconformant.stderr
    assert ": x: value: a value in percent must lie within 0-100 (value 140" in nonconformant.stderr  # node, field
    unreadable = tmp_path / "broken.ttl"
    unreadable.write_text("this is not turtle <")
    assert run_cli("validate", "--ttl", str(unreadable)).returncode == 2


def test_a_value_printed_in_words_needs_those_words_in_the_quote():
    context = CONTEXT.replace("2-year rate 40%", "2-year rate 40%; Six patients had grade 1 toxicity")
    count = VALID_RATE.replace('okb:valueAsPublished "40"', 'okb:valueAsPublished "6"').replace(
        "okb:value 40.0", "okb:value 6.0"
    )

    def messages(extra: str) -> list[str]:
        graph = Graph().parse(data=PREFIXES + context + count + extra, format="turtle")
        return [v.message for v in validate_graph(graph)]

    assert any("does not contain the value" in m for m in messages(""))  # "6" is not in the quote in digits
    assert messages(':d okb:numberInWords "six" .') == []  # the words are in the quote (any case)
    assert any("does not contain the value" in m for m in messages(':d okb:numberInWords "Seven" .'))
