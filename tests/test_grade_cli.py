"""`oligokb grade` on the bundled knowledge base: each format parses and carries every domain, the figure is
written, overrides show beside the suggestion, and bad options or override files exit 2."""

from __future__ import annotations

import csv
import io
import json

import pytest

from analysis.grade import DOMAIN_LABELS, DOMAINS
from tests.conftest import ROOT, run_cli

KB = str(ROOT / "data" / "studies.ttl")
PFS = ("--outcome", "progression-free survival", "--statistic", "hazard ratio", "--kb", KB)


def grade_cli(*args: str, tmp_path):
    # cwd: a directory without data/grade-overrides.yaml, so no default override file is read
    return run_cli("grade", *args, cwd=tmp_path)


def test_markdown_is_a_table_with_every_domain_and_footnotes(tmp_path):
    result = grade_cli(*PFS, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert [DOMAIN_LABELS[d].capitalize() for d in DOMAINS] == header[5:10] and header[-1] == "Certainty"
    row = [c.strip() for c in lines[2].strip("|").split("|")]
    assert row[0].startswith("progression-free survival") and "⊕" in row[-1]
    # every randomised trial carries RoB 2 (kb.rob): the domain is judged from the trials' overall judgements
    assert "Risk of bias: suggested" in result.stdout and "(RoB 2 overall)" in result.stdout
    assert "Risk of bias: suggested not assessable" not in result.stdout


def test_csv_has_one_row_per_stratum_and_domain(tmp_path):
    result = grade_cli(*PFS, "--by", "histology", "--format", "csv", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    strata = {r["stratum"] for r in rows}
    assert len(strata) > 1 and len(rows) == 5 * len(strata)
    for stratum in strata:
        assert sorted(r["domain"] for r in rows if r["stratum"] == stratum) == sorted(DOMAINS)
    assert {r["certainty"] for r in rows} <= {"high", "moderate", "low", "very low"}


def test_json_and_figure_and_an_override(tmp_path):
    overrides = tmp_path / "review.yaml"
    overrides.write_text(
        "overrides:\n"
        "  - outcome: progression-free survival\n"
        "    statistic: hazard ratio\n"
        "    domain: risk_of_bias\n"
        "    judgement: very serious\n"
        "    reason: open-label trials, investigator-assessed progression\n"
    )
    figure, out = tmp_path / "sof.png", tmp_path / "sof.json"
    result = grade_cli(
        *PFS, "--format", "json", "--overrides", str(overrides), "--figure", str(figure), "--out", str(out),
        tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert figure.read_bytes().startswith(b"\x89PNG")
    (g,) = json.loads(out.read_text())["grades"]
    domains = {d["domain"]: d for d in g["domains"]}
    assert set(domains) == set(DOMAINS)
    rob = domains["risk_of_bias"]
    assert (rob["suggested"], rob["override"], rob["final"]) == ("serious", "very serious", "very serious")
    assert rob["override_reason"] == "open-label trials, investigator-assessed progression"
    # the certainty is the start less every final downgrade, floored at 1 (hand arithmetic on the JSON)
    start = {"high": 4, "low": 2}[g["certainty_start"]]
    level = max(1, start - sum(d["downgrade"] for d in g["domains"]))
    assert g["certainty"] == {4: "high", 3: "moderate", 2: "low", 1: "very low"}[level]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "xml"), "--format 'xml'"),
        (("--figure", "sof.jpg"), ".png, .svg or .pdf"),
        (("--method", "nonsense"), "nonsense"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path, args, message):
    result = grade_cli(*PFS, *args, "--out", str(tmp_path / "sof.md"), tmp_path=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "sof.md").exists()


def test_a_bad_override_file_exits_2_naming_the_file_and_field(tmp_path):
    overrides = tmp_path / "review.yaml"
    overrides.write_text(
        "overrides:\n  - outcome: progression-free survival\n    statistic: hazard ratio\n"
        "    domain: risk_of_bias\n    judgement: serious\n"
    )
    result = grade_cli(*PFS, "--overrides", str(overrides), tmp_path=tmp_path)
    assert result.returncode == 2
    assert str(overrides) in result.stderr and "overrides[0].reason" in result.stderr
