"""`oligokb export --format fhir`: one FHIR R5 collection Bundle that the fhir.resources models read back,
with one pooled Evidence per stratum of `pool_all`, its numbers, and Citations of the sheets' reports."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from fhir.resources.bundle import Bundle

from tests.conftest import ROOT, run_cli

KB_FILE = ROOT / "data" / "studies.ttl"
SHEETS = ROOT / "data" / "extractions" / "publications"
POOLED = "https://w3id.org/oligokb/fhir/pooled-analysis"
DOI = "https://doi.org"
PMID = "https://pubmed.ncbi.nlm.nih.gov"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fhir")
    done = run_cli("export", "--format", "fhir", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out / "evidence-bundle.json"


@pytest.fixture(scope="module")
def bundle(written: Path) -> Bundle:
    return Bundle.model_validate_json(written.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resources(written: Path) -> list[dict]:
    return [e["resource"] for e in json.loads(written.read_text(encoding="utf-8"))["entry"]]


@pytest.fixture(scope="module")
def pools():  # type: ignore[no-untyped-def]
    from analysis.kb_pool import pool_all
    from kb.backend import open_kb
    from kb.export import evidence_table

    return pool_all(evidence_table(open_kb(KB_FILE)))


def pooled(resources: list[dict]) -> dict[str, dict]:
    """identifier value 'outcome | statistic | time point | stratum' -> the pooled Evidence."""
    return {
        i["value"]: r
        for r in resources
        if r["resourceType"] == "Evidence"
        for i in r.get("identifier", [])
        if i["system"] == POOLED
    }


def key(row) -> str:  # type: ignore[no-untyped-def]
    t = row["timepoint_months"]
    return f"{row['outcome']} | {row['statistic']} | {'' if t is None or math.isnan(t) else t} | {row['stratum']}"


def test_the_bundle_is_a_valid_r5_collection(bundle: Bundle, written: Path):
    assert bundle.type == "collection"
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert kinds == {"Evidence", "EvidenceVariable", "Citation"}
    full_urls = [e.fullUrl for e in bundle.entry]
    assert len(full_urls) == len(set(full_urls))


def test_one_pooled_evidence_per_stratum_of_pool_all(resources, pools):
    mine = pooled(resources)
    assert len(pools.strata) > 10
    assert len(mine) == len(pools.strata)
    assert set(mine) == {key(r) for r in pools.strata.to_dict("records")}
    # and one Evidence per input figure besides
    inputs = [r for r in resources if r["resourceType"] == "Evidence" and r["id"].startswith("input-")]
    assert len(inputs) == int(pools.strata["k"].sum())


@pytest.mark.parametrize("outcome", ["progression-free survival", "overall survival"])
def test_a_pooled_hazard_ratio_and_its_ci_equal_pool_all(resources, pools, outcome):
    st = pools.strata
    row = st[(st["outcome"] == outcome) & (st["statistic"] == "hazard ratio") & (st["stratum"] == "randomised")].iloc[0]
    statistic = pooled(resources)[key(row)]["statistic"][0]
    assert statistic["statisticType"]["coding"][0]["code"] == "C93150"  # NCI thesaurus: hazard ratio
    assert statistic["quantity"]["value"] == pytest.approx(row["estimate"], rel=1e-12)
    assert statistic["sampleSize"]["numberOfStudies"] == row["k"] >= 2
    by_type = {a["type"]["coding"][0]["code"]: a for a in statistic["attributeEstimate"] if "coding" in a["type"]}
    ci = by_type["C53324"]
    assert ci["level"] == 0.95
    assert ci["range"]["low"]["value"] == pytest.approx(row["ci_low"], rel=1e-12)
    assert ci["range"]["high"]["value"] == pytest.approx(row["ci_high"], rel=1e-12)
    assert by_type["0000421"]["quantity"]["value"] == pytest.approx(row["tau2"], abs=1e-12)  # tau squared
    assert by_type["0000420"]["quantity"]["value"] == pytest.approx(row["i2"], abs=1e-9)  # I-squared
    codes = {m["code"]["coding"][0]["code"] for m in statistic["modelCharacteristic"]}
    assert {"metaAnalysis", "effectsRandom", "tauRestrictedMaximumLikelihood", "zTest"} <= codes


def test_a_homogeneous_pool_is_the_inverse_variance_mean_of_its_inputs(resources, pools):
    # With tau2 = 0 the random-effects estimate is the fixed-effect one, exp(sum(w yi) / sum(w)), w = 1/vi,
    # and its CI is that +- 1.959964 / sqrt(sum(w)): computed here from the inputs, not by the library.
    pool = pools.kb_pool("overall survival", "hazard ratio")
    stratum = next(s for s in pool.pools if s.stratum == "randomised")
    assert stratum.tau2 == 0.0 and stratum.k >= 2
    yi, w = stratum.rows["yi"].to_numpy(float), 1.0 / stratum.rows["vi"].to_numpy(float)
    mu, se = float(np.sum(w * yi) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w)))
    statistic = pooled(resources)["overall survival | hazard ratio |  | randomised"]["statistic"][0]
    assert statistic["quantity"]["value"] == pytest.approx(math.exp(mu), rel=1e-9)
    ci = next(a for a in statistic["attributeEstimate"] if a["type"].get("coding", [{}])[0].get("code") == "C53324")
    assert ci["range"]["low"]["value"] == pytest.approx(math.exp(mu - 1.959963984540054 * se), rel=1e-9)
    assert ci["range"]["high"]["value"] == pytest.approx(math.exp(mu + 1.959963984540054 * se), rel=1e-9)


def sheet_identifiers() -> tuple[set[str], set[str]]:
    dois, pmids = set(), set()
    for path in SHEETS.glob("*.yaml"):
        citation = yaml.safe_load(path.read_text(encoding="utf-8"))["citation"]
        if citation.get("doi"):
            dois.add(str(citation["doi"]))
        if citation.get("pmid"):
            pmids.add(str(citation["pmid"]))
    return dois, pmids


def test_every_citation_doi_and_pmid_is_a_publications(resources):
    dois, pmids = sheet_identifiers()
    citations = [r for r in resources if r["resourceType"] == "Citation"]
    assert citations
    seen = set()
    for c in citations:
        for identifier in c["citedArtifact"]["identifier"]:
            if identifier["system"] == DOI:
                assert identifier["value"] in dois
                seen.add(identifier["value"])
            if identifier["system"] == PMID:
                assert identifier["value"] in pmids
    assert "10.1016/j.ijrobp.2022.05.004" in seen  # harrow2022-ijrobp.yaml: SABR-COMET's latest report, pooled for PFS


def test_every_reference_resolves_inside_the_bundle(bundle: Bundle, resources):
    full_urls = {e.fullUrl for e in bundle.entry}
    text = json.dumps(resources)
    references = {r for r in _references(resources)}
    assert references and references <= full_urls
    cited = {e.fullUrl for e in bundle.entry if e.resource.get_resource_type() == "Citation"}
    assert cited <= references  # every Citation is cited by some Evidence
    assert "https://w3id.org/oligokb/vocab/histology/" in text  # population codings are our vocabulary's IRIs


def _references(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference":
                yield v
            else:
                yield from _references(v)
    elif isinstance(value, list):
        for v in value:
            yield from _references(v)


@pytest.mark.parametrize("args,named", [((), "--out"), (("--param", "histology=nsclc"), "--param")])
def test_the_fhir_export_refuses_what_it_cannot_do(args, named, tmp_path: Path):
    done = run_cli("export", "--format", "fhir", *args, *(("--out", str(tmp_path / "x")) if args else ()))
    assert done.returncode == 2
    assert named in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "published,exact,expected",
    [("<0.001", "", {"comparator": "<", "value": 0.001}), ("0.06", "0.06", {"value": 0.06}), ("NS", "", None)],
)
def test_a_published_p_value_bound_keeps_its_comparator(published, exact, expected):
    from analysis.fhir_export import _p_value

    assert _p_value({"p_value": exact, "p_value_as_published": published}) == expected
