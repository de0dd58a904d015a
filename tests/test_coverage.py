"""The statistic-mention finder on tricky strings, and `oligokb coverage` on the seeds."""

import pytest

from extract.coverage import coverage, find_mentions
from tests.conftest import ROOT, run_cli


@pytest.mark.parametrize(
    "text,kind,numbers",
    [
        ("HR 0.57, 95% CI 0.30-1.10", "hazard ratio", ("0.57",)),
        ("HR 0.57, 95% CI 0.30-1.10", "confidence interval", ("0.30", "1.10")),
        ("median PFS was 9.3 months (95% CI, 8.5–10.5)", "confidence interval", ("8.5", "10.5")),
        ("median PFS was 9.3 months (95% CI, 8.5–10.5)", "median", ("9.3",)),
        ("(80% CI 0.40—0.90)", "confidence interval", ("0.40", "0.90")),
        ("95% CI 0.30 to 1.10", "confidence interval", ("0.30", "1.10")),
        ("HR = 0,57 (IC 95 % 0,30-1,10)", "hazard ratio", ("0,57",)),
        ("la survie globale à 1 an de 85,5 %", "percentage", ("85,5",)),
        ("The 2-year LC rate was 68%.", "percentage", ("68",)),
        ("(p = 0.007)", "p-value", ("0.007",)),
        ("P<0.001", "p-value", ("0.001",)),
        ("p = .04", "p-value", (".04",)),
        ("hazard ratio of 0.47", "hazard ratio", ("0.47",)),
        ("médiane de survie de 41 mois", "median", ("41",)),
    ],
)
def test_finder_reads_the_forms_papers_use(text, kind, numbers):
    found = [(m.kind, m.numbers) for m in find_mentions(text)]
    assert (kind, numbers) in found


def test_no_false_percentage_inside_a_ci_level():
    kinds = [m.kind for m in find_mentions("HR 0.57, 95% CI 0.30-1.10")]
    assert "percentage" not in kinds  # issue 19: "95%" of a CI is the CI's level, never a percentage mention
    text = "The 2-year OS was 40% (95% CI 28-52)."
    results = coverage(text, [("The 2-year OS was 40% (95% CI 28-52).", ["40", "28", "52", "95"])], [])
    assert all(status == "covered" for _, status in results), results


def test_coverage_statuses():
    text = "The 1- and 2-year LC rates were 83% and 68%. Median OS was 40 months. Age had p = 0.751."
    figures = [("The 1- and 2-year LC rates were 83% and 68%.", ["83", "68"])]
    statuses = {m.numbers: s for m, s in coverage(text, figures, ["Median OS 40 months: kept for a later sheet"])}
    assert statuses[("83",)] == "covered" and statuses[("68",)] == "covered"
    assert statuses[("40",)] == "left out"
    assert statuses[("0.751",)] == "MISSING"


SEEDS = [
    ("004_133e197a50657771.txt", "cha2017-roj"),
    ("000_cfd82452241c485a.txt", "lee2021-clcc"),
    ("003_523c0b3c925b3717.txt", "bourgier2019-canrad"),
    ("001_288005adcd70e9e4.txt", "yang-lart-luad"),
    ("002_ca21a48ecb092b86.txt", "rowe2017-acadradiol"),
]


@pytest.mark.parametrize("seed_file,publication", SEEDS)
def test_extracted_seeds_have_no_unexplained_misses(seed_file, publication):
    seed = ROOT.parent / "shared" / "seeds" / seed_file
    if not seed.exists():
        pytest.skip("seeds are not beside this checkout")
    result = run_cli("coverage", str(seed), "--publication", publication)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 missing" in result.stdout
