"""The knowledge base's counts (kb.summary), the one definition the explorer's pages and `oligokb summary`
share, checked against facts read off the sheets; and the browser's words for command-line options."""

from __future__ import annotations

from explorer.widgets import for_browser
from kb.backend import open_kb
from kb.export import evidence_table
from kb.query import run_named
from kb.summary import Counts, kb_counts, selection_counts
from tests.conftest import ROOT, run_cli

SHEETS = ROOT / "data" / "extractions"
KB = ROOT / "data" / "studies.ttl"


def _sheets(kind: str) -> int:
    return len(list((SHEETS / kind).glob("*.yaml")))


def test_the_counts_are_one_per_study_and_publication_sheet():
    kb = open_kb(KB)
    table = evidence_table(kb)
    publications = run_named(kb, "publications", lexical=True)
    counts = kb_counts(table, run_named(kb, "studies"), publications)
    # One sheet per study and per publication; a publication reporting two studies is still one.
    assert counts.studies == _sheets("studies")
    assert counts.publications == _sheets("publications")
    assert len(publications) > counts.publications  # the query's rows are (publication, study) pairs
    assert counts.figures == len(table)
    out = run_cli("summary", "--kb", str(KB)).stdout
    assert f"{counts.studies} studies, {counts.publications} publications, {counts.figures} figures" in out


def test_a_selection_counts_the_studies_and_publications_of_its_figures():
    table = evidence_table(open_kb(KB))
    part = table[table["study_id"] == "sabr-comet"]
    counts = selection_counts(part)
    assert counts.studies == 1 and counts.figures == len(part)
    assert counts.publications == part["publication_id"].nunique() >= 1
    assert selection_counts(table.iloc[0:0]) == Counts(0, 0, 0)


def test_command_line_options_are_named_as_the_controls_a_browser_user_clicks():
    text = for_browser("use --include-secondary, or --exclude-flag mapping_low_confidence, --by histology")
    assert "--" not in text
    assert "“Evidence tiers pooled”" in text and "“Also leave out figures flagged”" in text
    assert "“Stratify by” histology" in text
    assert for_browser("no option here -- a dash") == "no option here -- a dash"


def test_glossary_reads_the_vocabulary_files():
    from explorer.glossary import glossary, model_terms, prefixes

    terms = glossary()
    hr = terms[terms["notation"] == "hazard_ratio"]
    assert list(hr["IRI"]) == ["https://w3id.org/oligokb/vocab/statistic/hazard_ratio"]
    assert (terms["definition"] != "").mean() > 0.9
    assert "okb:Statistic" in set(model_terms()["term"])
    assert prefixes()["okb"] == "https://w3id.org/oligokb/ns#"
