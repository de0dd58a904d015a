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
    assert (c["study_id"], c["outcome"], c["statistic"], c["field"]) == (
        "test-trial",
        "progression-free survival",
        "hazard ratio",
        "value",
    )
    assert {c["publication_a"], c["publication_b"]} == {"test-trial-2020", "test-review-2021"}
    values = {c["publication_a"]: c["value_a"], c["publication_b"]: c["value_b"]}
    assert values == {"test-trial-2020": "0.70", "test-review-2021": "0.57"}
    assert c["primary"] == "test-trial-2020"
    md = run_cli("conflicts", "--kb", str(kb)).stdout
    assert "HR 0.70, 80% CI 0.50–0.98" in md and "HR = 0,57" in md and "primary: test-trial-2020" in md
    assert c["kind"] == "disagreement" and c["explanation"] == "no later report explains the difference"


def _with_earlier_report(sheets, review_value: str, quotes: bool = True):
    """An earlier primary report (HR 0.57) that the 2020 report supersedes, and a review quoting it."""
    trial = sheets / "publications" / "test-trial-2020.yaml"
    text = trial.read_text()
    earlier = (
        text.replace("id: test-trial-2020", "id: test-trial-2019")
        .replace("year: 2020", "year: 2019")
        .replace("fixture.2020.001", "fixture.2019.001")
        .replace('value: "0.70"', 'value: "0.57"')
        .replace('ci: {low: "0.50", high: "0.98"', 'ci: {low: "0.40", high: "0.81"')
        .replace("HR 0.70, 80% CI 0.50–0.98", "HR 0.57, 80% CI 0.40–0.81")
    )
    (sheets / "publications" / "test-trial-2019.yaml").write_text(earlier)
    trial.write_text(text.replace("role: primary\n", "role: primary\nsupersedes: [test-trial-2019]\n"))
    review = sheets / "publications" / "test-review-2021.yaml"
    block = (
        (
            "    quotes:\n      publication: test-trial-2019\n      basis: inferred\n"
            "      reason: the review's table row gives the 2019 report's design and numbers\n"
        )
        if quotes
        else ""
    )
    review.write_text(
        review.read_text()
        .replace("  - study: test-trial\n", "  - study: test-trial\n" + block, 1)
        .replace('value: "0,70"', f'value: "{review_value}"')
        .replace("HR = 0,70", f"HR = {review_value}")
    )


def _conflict_rows(kb, *args):
    result = run_cli("conflicts", "--format", "csv", "--kb", str(kb), *args)
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_a_review_quoting_an_earlier_report_is_a_later_data_cut(sheets, tmp_path):
    _with_earlier_report(sheets, "0,57")  # the review quotes the 2019 report correctly
    kb = _kb(sheets, tmp_path)
    rows = _conflict_rows(kb)
    # review vs 2019 agree; review vs 2020 and 2019 vs 2020 differ because 2020 supersedes 2019
    pairs = {frozenset((r["publication_a"], r["publication_b"])): r for r in rows if r["field"] == "value"}
    assert set(pairs) == {
        frozenset(("test-review-2021", "test-trial-2020")),
        frozenset(("test-trial-2019", "test-trial-2020")),
    }
    assert {r["kind"] for r in rows} == {"later data cut"}
    assert (
        pairs[frozenset(("test-review-2021", "test-trial-2020"))]["explanation"]
        == "test-trial-2020 supersedes test-trial-2019, which test-review-2021 quotes"
    )
    assert (
        pairs[frozenset(("test-trial-2019", "test-trial-2020"))]["explanation"]
        == "test-trial-2020 supersedes test-trial-2019"
    )
    assert _conflict_rows(kb, "--kind", "disagreement") == []
    md = run_cli("conflicts", "--kb", str(kb)).stdout
    assert (
        "0 disagreements" in md
        and "later data cut (test-trial-2020 supersedes test-trial-2019, which test-review-2021 quotes" in md
    )


def test_a_review_that_misquotes_its_source_is_a_disagreement(sheets, tmp_path):
    _with_earlier_report(sheets, "0,60")  # the 2019 report says 0.57
    rows = _conflict_rows(_kb(sheets, tmp_path), "--kind", "disagreement")
    values = [r for r in rows if r["field"] == "value"]
    assert len(values) == 1
    (c,) = values
    assert {c["publication_a"], c["publication_b"]} == {"test-review-2021", "test-trial-2019"}
    assert c["explanation"] == "test-review-2021 quotes test-trial-2019 and differs from it"


def test_without_quotes_a_review_is_compared_as_its_own_data_cut(sheets, tmp_path):
    _with_earlier_report(sheets, "0,57", quotes=False)
    rows = _conflict_rows(_kb(sheets, tmp_path))
    review_vs_2020 = [
        r for r in rows if {r["publication_a"], r["publication_b"]} == {"test-review-2021", "test-trial-2020"}
    ]
    assert review_vs_2020 and {r["kind"] for r in review_vs_2020} == {"disagreement"}


def test_unknown_kind_is_refused(sheets, tmp_path):
    result = run_cli("conflicts", "--kind", "misquote", "--kb", str(_kb(sheets, tmp_path)))
    assert result.returncode == 2 and "--kind 'misquote' is not one of" in result.stderr
