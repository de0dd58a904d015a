"""`oligokb conflicts`: two reports of one study that disagree on a figure are listed with both quotes."""
import csv
import io

from tests.conftest import run_cli


def _kb(sheets, tmp_path):
    out = tmp_path / "kb.ttl"
    result = run_cli("build", "--sheets", str(sheets), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_agreeing_reports_give_no_conflict(sheets, tmp_path):
    # The fixture review prints the primary's HR with a decimal comma ("0,70"): same number.
    result = run_cli("conflicts", "--kb", str(_kb(sheets, tmp_path)))
    assert result.returncode == 0
    assert result.stdout.startswith("No conflicts")


def test_disagreeing_secondary_report_is_listed_with_both_quotes(sheets, tmp_path):
    review = sheets / "publications" / "test-review-2021.yaml"
    review.write_text(review.read_text().replace('value: "0,70"', 'value: "0,57"').replace("HR = 0,70", "HR = 0,57"))
    kb = _kb(sheets, tmp_path)
    rows = list(csv.DictReader(io.StringIO(run_cli("conflicts", "--format", "csv", "--kb", str(kb)).stdout)))
    assert len(rows) == 1
    (c,) = rows
    assert (c["study_id"], c["outcome"], c["statistic"], c["field"]) == ("test-trial", "progression-free survival", "hazard ratio", "value")
    assert {c["publication_a"], c["publication_b"]} == {"test-trial-2020", "test-review-2021"}
    values = {c["publication_a"]: c["value_a"], c["publication_b"]: c["value_b"]}
    assert values == {"test-trial-2020": "0.70", "test-review-2021": "0.57"}
    assert c["primary"] == "test-trial-2020"
    md = run_cli("conflicts", "--kb", str(kb)).stdout
    assert "HR 0.70, 80% CI 0.50–0.98" in md and "HR = 0,57" in md and "primary: test-trial-2020" in md
