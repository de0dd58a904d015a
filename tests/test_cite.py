"""`oligokb cite`: RIS and BibTeX that their own libraries read back, one entry per selected publication
(counted from the sheets, not from our output) plus one for the knowledge base itself."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import bibtexparser
import pytest
import rispy
import yaml

from tests.conftest import ROOT, run_cli

SHEETS = ROOT / "data" / "extractions" / "publications"
KB_FILE = ROOT / "data" / "studies.ttl"


def sheet_publications() -> dict[str, dict]:
    """publication id -> its `citation:` block, read from the YAML sheets."""
    out = {}
    for path in sorted(SHEETS.glob("*.yaml")):
        sheet = yaml.safe_load(path.read_text(encoding="utf-8"))
        if sheet.get("kind") == "publication":
            out[sheet["id"]] = sheet["citation"]
    return out


@pytest.fixture(scope="module")
def ris() -> list[dict]:
    done = run_cli("cite", "--format", "ris")
    assert done.returncode == 0, done.stderr
    return rispy.loads(done.stdout)


@pytest.fixture(scope="module")
def bibtex() -> bibtexparser.Library:
    done = run_cli("cite", "--format", "bibtex")
    assert done.returncode == 0, done.stderr
    library = bibtexparser.parse_string(done.stdout)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    return library


def test_ris_cites_every_publication_of_the_sheets_and_the_kb(ris):
    sheets = sheet_publications()
    assert len(sheets) > 30
    ids = [entry["id"] for entry in ris]
    assert len(ids) == len(set(ids)) == len(sheets) + 1
    assert set(ids) - set(sheets) == {ids[0]}  # the KB first, then one entry per sheet


def test_ris_carries_the_sheets_doi_and_pmid(ris):
    entry = next(e for e in ris if e["id"] == "palma2019-lancet")
    # palma2019-lancet.yaml: doi 10.1016/S0140-6736(18)32487-5, pmid "30982687", first_author Palma DA
    assert entry["doi"] == "10.1016/S0140-6736(18)32487-5"
    assert entry["accession_number"] == "30982687"
    assert entry["authors"] == ["Palma, DA"]
    assert entry["year"] == "2019"
    assert entry["type_of_reference"] == "JOUR"


def test_every_doi_and_pmid_of_the_sheets_is_cited(bibtex):
    cited = {e.key: e.fields_dict for e in bibtex.entries}
    for pub_id, citation in sheet_publications().items():
        for name in ("doi", "pmid"):
            if citation.get(name):
                assert cited[pub_id][name].value == str(citation[name]), (pub_id, name)


def test_a_page_read_on_the_web_has_its_url_and_date(ris):
    # tsai2021-astro-lba3 was identified by a page read on the web (no DOI or PMID in its sheet)
    citation = sheet_publications()["tsai2021-astro-lba3"]
    assert not citation.get("doi") and not citation.get("pmid")
    entry = next(e for e in ris if e["id"] == "tsai2021-astro-lba3")
    assert entry["urls"] and entry["urls"][0].startswith("https://jnccn360.org/")
    assert entry["access_date"].count("/") == 2
    assert entry["type_of_reference"] == "ABST"


def test_the_knowledge_base_itself_is_cited_with_its_digest(ris, bibtex):
    digest = hashlib.sha256(KB_FILE.read_bytes()).hexdigest()
    kb_ris = ris[0]
    assert kb_ris["type_of_reference"] == "DATA"
    assert kb_ris["edition"] == f"sha256:{digest[:16]}"
    assert "oligokb" in kb_ris["title"]
    kb_bib = bibtex.entries[0]
    assert kb_bib.entry_type == "misc" and kb_bib.key == kb_ris["id"]
    assert digest in kb_bib.fields_dict["note"].value


def test_bibtex_has_one_entry_per_publication_and_unique_keys(bibtex):
    keys = [e.key for e in bibtex.entries]
    assert len(keys) == len(set(keys)) == len(sheet_publications()) + 1


def test_a_histology_filter_cites_fewer_reports(ris, tmp_path: Path):
    out = tmp_path / "nsclc.bib"
    done = run_cli("cite", "--format", "bibtex", "--param", "histology=nsclc", "--out", str(out))
    assert done.returncode == 0, done.stderr
    keys = {e.key for e in bibtexparser.parse_string(out.read_text(encoding="utf-8")).entries}
    export = run_cli("export", "--format", "csv", "--param", "histology=nsclc")
    assert export.returncode == 0, export.stderr
    figures_of = {row["publication_id"] for row in csv.DictReader(io.StringIO(export.stdout))}
    assert keys - {ris[0]["id"]} == figures_of
    assert len(keys) < len(ris)
    assert "gomez2016-lancetoncol" in keys  # Gomez 2016: oligometastatic NSCLC
    assert "phillips2020-jamaoncol" not in keys  # ORIOLE: prostate


@pytest.mark.parametrize(
    "args,named",
    [
        (("--param", "bogus=1"), "bogus"),
        (("--param", "histology=nope"), "nope"),
        (("--param", "histology"), "histology"),
        (("--format", "endnote"), "endnote"),
    ],
)
def test_bad_arguments_exit_2_naming_them(args, named, tmp_path: Path):
    out = tmp_path / "refs.ris"
    done = run_cli("cite", *args, "--out", str(out))
    assert done.returncode == 2
    assert named in done.stderr
    assert not out.exists()
