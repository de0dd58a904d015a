"""A corpus of malformed sheets: each gets an error naming the sheet, the field and what is wrong,
exit code 2, and the knowledge base file is byte-identical afterwards (nothing half-written)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import VALID_SHEETS, run_cli

TRIAL_PUB = "publications/test-trial-2020.yaml"
TRIAL_STUDY = "studies/test-trial.yaml"
REVIEW_PUB = "publications/test-review-2021.yaml"


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # relative to the sheets dir; created if absent
    edit: Callable[[bytes], bytes]
    field: str  # must appear in the message ("" = file-level)
    message: str  # must appear in the message


def sub(old: str, new: str, count: int = 1) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        text = data.decode("utf-8")
        assert old in text, f"fixture text {old!r} not found"
        return text.replace(old, new, count).encode("utf-8")

    return edit


def const(data: bytes) -> Callable[[bytes], bytes]:
    return lambda _: data


def copy_of(rel: str, then: Callable[[bytes], bytes] = lambda b: b) -> Callable[[bytes], bytes]:
    return lambda _: then((VALID_SHEETS / rel).read_bytes())


BOMB = b"kind: publication\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"

CASES = [
    Case(
        "missing-outcome",
        TRIAL_PUB,
        sub("        outcome: progression_free_survival\n", ""),
        "reports[0].statistics[0].outcome",
        "Field required",
    ),
    Case(
        "missing-source",
        TRIAL_PUB,
        sub('        source: {locator: Abstract, quote: "HR 0.70, 80% CI 0.50–0.98; p = 0.04"}\n', ""),
        "statistics[0].source",
        "Field required",
    ),
    Case(
        "missing-citation-year",
        TRIAL_PUB,
        sub("  year: 2020\n", ""),
        "citation",
        "year: Field required (only a seed_document",
    ),
    Case(
        "value-wrong-type",
        TRIAL_PUB,
        sub('value: "0.70"', "value: about seventy"),
        "statistics[0].value",
        "is not a number",
    ),
    Case(
        "ci-excludes-value",
        TRIAL_PUB,
        sub('ci: {low: "0.50", high: "0.98"', 'ci: {low: "0.50", high: "0.60"'),
        "statistics[0]",
        "CI upper bound 0.60 is below the value 0.70",
    ),
    Case(
        "ci-low-above-value",
        TRIAL_PUB,
        sub('ci: {low: "0.50"', 'ci: {low: "0.75"'),
        "statistics[0]",
        "CI lower bound 0.75 is above the value",
    ),
    Case(
        "ci-level-percent",
        TRIAL_PUB,
        sub('level: "0.80"', "level: 80"),
        "statistics[0].ci.level",
        "write 0.8 for a 80% CI",
    ),
    Case("ci-level-zero", TRIAL_PUB, sub('level: "0.80"', "level: 0"), "statistics[0].ci.level", "between 0 and 1"),
    Case(
        "hr-negative",
        TRIAL_PUB,
        sub(
            'value: "0.70"\n        ci: {low: "0.50", high: "0.98", level: "0.80"}',
            'value: "-0.70"\n        ci: {low: "-0.90", high: "0.98", level: "0.80"}',
        ),
        "statistics[0]",
        "must be > 0",
    ),
    Case(
        "hr-without-reference",
        TRIAL_PUB,
        sub("        reference_group: control\n", ""),
        "statistics[0]",
        "needs reference_group",
    ),
    Case("hr-without-adjusted", TRIAL_PUB, sub("        adjusted: false\n", ""), "statistics[0]", "needs adjusted"),
    Case("rate-over-100", TRIAL_PUB, sub("value: 40\n", "value: 140\n"), "statistics[2]", "within 0-100"),
    Case(
        "landmark-without-timepoint",
        TRIAL_PUB,
        sub("        timepoint_months: 24\n", ""),
        "statistics[2]",
        "needs timepoint_months",
    ),
    Case(
        "median-without-unit", TRIAL_PUB, sub("        unit: months\n", ""), "statistics[1]", "a median needs its unit"
    ),
    Case(
        "quote-lacks-value",
        TRIAL_PUB,
        sub('quote: "2-year OS 40% (28-52)"', 'quote: "2-year OS 41% (28-52)"'),
        "statistics[2]",
        "does not contain value = 40",
    ),
    Case(
        "quote-lacks-ci",
        TRIAL_PUB,
        sub('quote: "HR 0.70, 80% CI 0.50–0.98; p = 0.04"', 'quote: "HR 0.70, 80% CI 0.50–0.99; p = 0.04"'),
        "statistics[0]",
        "does not contain ci.high = 0.98",
    ),
    Case(
        "quote-number-inside-other",
        TRIAL_PUB,
        sub('quote: "2-year OS 40% (28-52)"', 'quote: "2-year OS 140% (28-52)"'),
        "statistics[2]",
        "does not contain value = 40",
    ),
    Case(
        "unknown-histology",
        TRIAL_STUDY,
        sub("histology: nsclc_egfr", "histology: nsclc_egrf"),
        "histology",
        "did you mean 'nsclc_egfr'",
    ),
    Case(
        "unknown-outcome",
        TRIAL_PUB,
        sub("outcome: overall_survival", "outcome: overall_survivel"),
        "statistics[1].outcome",
        "did you mean 'overall_survival'",
    ),
    Case(
        "unknown-design",
        TRIAL_STUDY,
        sub("design: rct_phase_2", "design: RCT"),
        "design",
        "not a term of the design vocabulary",
    ),
    Case(
        "unknown-oligo-state",
        TRIAL_STUDY,
        sub("mapped: synchronous", "mapped: oligoprogressive"),
        "oligo_state.mapped",
        "not a term of the oligo_state vocabulary",
    ),
    Case(
        "unknown-field",
        TRIAL_PUB,
        sub("        estimator: cox_model\n", "        estimator: cox_model\n        hazard: 2\n"),
        "statistics[0].hazard",
        "Extra inputs are not permitted",
    ),
    Case(
        "malformed-doi",
        TRIAL_PUB,
        sub("doi: 10.9999/fixture.2020.001", "doi: https://doi.org/10.9999/x"),
        "citation.doi",
        "is not a DOI",
    ),
    Case("malformed-pmid", REVIEW_PUB, sub('pmid: "12345678"', "pmid: PMID12345678"), "citation.pmid", "is not a PMID"),
    Case("no-identifier", REVIEW_PUB, sub('  pmid: "12345678"\n', ""), "citation", "needs a doi or a pmid"),
    Case(
        "malformed-seed-document",
        REVIEW_PUB,
        sub('  pmid: "12345678"\n', "  seed_document: seed-002\n"),
        "citation.seed_document",
        "is not a seed document identifier",
    ),
    Case(
        "seed-document-without-its-text",
        REVIEW_PUB,
        sub('  pmid: "12345678"\n', "  seed_document: 002_ca21a48ecb092b86\n"),
        "(file)",
        "needs source_text naming that seed's file (002_ca21a48ecb092b86.txt)",
    ),
    Case(
        "seed-document-other-text",
        REVIEW_PUB,
        sub(
            '  pmid: "12345678"\nrole: secondary\n',
            "  seed_document: 002_ca21a48ecb092b86\nrole: secondary\nsource_text: ../shared/seeds/003_523c0b3c925b3717.txt\n",
        ),
        "(file)",
        "got '../shared/seeds/003_523c0b3c925b3717.txt'",
    ),
    Case(
        "quotes-in-primary",
        TRIAL_PUB,
        sub(
            "  - study: test-trial\n",
            "  - study: test-trial\n    quotes: {publication: test-trial-2020, basis: inferred, reason: the same numbers as the trial}\n",
        ),
        "(file)",
        "reports[0].quotes: only a secondary report quotes",
    ),
    Case(
        "quotes-reference-list-without-source",
        REVIEW_PUB,
        sub(
            "  - study: test-trial\n",
            "  - study: test-trial\n    quotes: {publication: test-trial-2020, basis: reference list}\n",
        ),
        "reports[0].quotes",
        "basis 'reference list' needs source",
    ),
    Case(
        "quotes-unknown-publication",
        REVIEW_PUB,
        sub(
            "  - study: test-trial\n",
            "  - study: test-trial\n    quotes: {publication: test-trial-1999, basis: inferred, reason: the same numbers as the trial}\n",
        ),
        "reports[0].quotes.publication",
        "unknown publication 'test-trial-1999'",
    ),
    Case(
        "quotes-other-study",
        REVIEW_PUB,
        sub(
            "  - study: test-cohort\n",
            "  - study: test-cohort\n    quotes: {publication: test-trial-2020, basis: inferred, reason: the same numbers as the trial}\n",
        ),
        "reports[1].quotes.publication",
        "'test-trial-2020' does not report 'test-cohort'",
    ),
    Case(
        "number-in-words-misread",
        TRIAL_PUB,
        sub(
            'source: {locator: Results, quote: "66 patients were assigned to TKI + SABR and 67 to TKI alone."}',
            'source: {locator: Results, quote: "Sixty-seven patients were assigned to TKI + SABR.", number_in_words: Sixty-seven}',
        ),
        "groups[0]",
        "number_in_words 'Sixty-seven' reads as 67, not n = 66",
    ),
    Case(
        "number-in-words-not-in-quote",
        TRIAL_PUB,
        sub(
            'source: {locator: Results, quote: "66 patients were assigned to TKI + SABR and 67 to TKI alone."}',
            'source: {locator: Results, quote: "66 patients were assigned to TKI + SABR.", number_in_words: Sixty-six}',
        ),
        "groups[0]",
        "source.quote does not contain number_in_words 'Sixty-six'",
    ),
    Case(
        "number-in-words-not-a-number",
        TRIAL_PUB,
        sub(
            'source: {locator: Table 2, quote: "2-year OS 40% (28-52)"}',
            'source: {locator: Table 2, quote: "2-year OS forty-ish % (28-52)", number_in_words: forty-ish}',
        ),
        "statistics[2]",
        "number_in_words 'forty-ish' reads as no whole number",
    ),
    Case(
        "duplicate-publication-id",
        "publications/test-trial-2020-copy.yaml",
        copy_of(TRIAL_PUB),
        "id",
        "differs from the file name",
    ),
    Case(
        "duplicate-study-id",
        "studies/test-trial-copy.yaml",
        copy_of(TRIAL_STUDY),
        "id",
        "duplicate study id 'test-trial', also in",
    ),
    Case(
        "duplicate-statistic-id",
        TRIAL_PUB,
        sub("id: os-median-sabr", "id: pfs-hr"),
        "reports[0]",
        "duplicate statistic ids ['pfs-hr']",
    ),
    Case(
        "unknown-group",
        TRIAL_PUB,
        sub("group: control\n        value: 40", "group: placebo\n        value: 40"),
        "reports[0]",
        "'placebo' is not a group of this report",
    ),
    Case(
        "unknown-study",
        TRIAL_PUB,
        sub("  - study: test-trial", "  - study: test-trail"),
        "reports[0].study",
        "unknown study 'test-trail'",
    ),
    Case(
        "unknown-arm",
        TRIAL_PUB,
        sub("arm: control", "arm: placebo"),
        "groups[1].arm",
        "'placebo' is not an arm of test-trial",
    ),
    Case(
        "supersedes-unknown",
        TRIAL_PUB,
        sub("role: primary", "role: primary\nsupersedes: [test-trial-2019]"),
        "supersedes[0]",
        "unknown publication 'test-trial-2019'",
    ),
    Case("n-not-in-quote", TRIAL_PUB, sub("n: 67", "n: 76"), "groups[1]", "does not contain n = 76"),
    Case(
        "n-without-source",
        REVIEW_PUB,
        sub("        arm: control\n", "        arm: control\n        n: 67\n"),
        "groups[1]",
        "n needs a source",
    ),
    Case(
        "p-value-garbage",
        TRIAL_PUB,
        sub('p_value: "0.04"', "p_value: significant"),
        "statistics[0]",
        "neither a number nor an inequality",
    ),
    Case(
        "role-invalid",
        TRIAL_PUB,
        sub("role: primary", "role: tertiary"),
        "role",
        "Input should be 'primary' or 'secondary'",
    ),
    Case("registry-malformed", TRIAL_STUDY, sub("NCT00000000", "NCT123"), "registry", "is not a ClinicalTrials.gov id"),
    Case(
        "randomised-without-control",
        TRIAL_STUDY,
        sub("    role: control\n", "    role: single\n"),
        "(file)",
        "needs an experimental and a control arm",
    ),
    Case(
        "non-utf8",
        TRIAL_PUB,
        lambda b: b.replace(b"Journal of Fixtures", b"Journal of Fixtures \xe9t\xe9"),
        "",
        "is not UTF-8",
    ),
    Case("yaml-syntax", TRIAL_PUB, sub("  first_author: Test A\n", "  first_author: [Test A\n"), "", "not valid YAML"),
    Case(
        "yaml-tab-indent",
        TRIAL_PUB,
        sub("  venue: Journal of Fixtures\n", "\tvenue: Journal of Fixtures\n"),
        "",
        "not valid YAML",
    ),
    Case(
        "yaml-duplicate-key",
        TRIAL_PUB,
        sub("role: primary\n", "role: primary\nrole: secondary\n"),
        "",
        "duplicate key 'role'",
    ),
    Case("yaml-anchor-bomb", "publications/bomb.yaml", const(BOMB), "", "anchors (&name) are not allowed"),
    Case(
        "huge-file",
        "publications/huge.yaml",
        const(b"kind: publication\nnote: '" + b"x" * 1_100_000 + b"'\n"),
        "",
        "sheets are limited to",
    ),
    Case("not-a-mapping", "publications/list.yaml", const(b"- just\n- a list\n"), "kind", "a sheet is a YAML mapping"),
    Case("wrong-extension", "publications/extra.yml", copy_of(REVIEW_PUB), "", "sheets must end in .yaml"),
    # where a figure was read (issue 14)
    Case("source-kind-missing", TRIAL_PUB, sub("source_kind: journal article\n", ""), "source_kind", "Field required"),
    Case(
        "source-kind-unknown",
        TRIAL_PUB,
        sub("source_kind: journal article", "source_kind: blog post"),
        "source_kind",
        "Input should be 'journal article'",
    ),
    Case(
        "tier-contradicts-kind",
        TRIAL_PUB,
        sub("source_kind: journal article\n", "source_kind: journal article\ntier: coverage_page\n"),
        "(file)",
        "tier 'coverage_page' contradicts source_kind 'journal article'",
    ),
    Case(
        "kind-contradicts-role",
        TRIAL_PUB,
        sub("source_kind: journal article", "source_kind: coverage page"),
        "(file)",
        "source_kind 'coverage page' is a secondary report, but role is 'primary'",
    ),
    Case(
        "read-in-not-http",
        TRIAL_PUB,
        sub(
            "source_kind: journal article\n",
            "source_kind: journal article\nread_in: {url: ftp://example.org/x, site: Example, title: A page, date_read: 2026-12-06}\n",
        ),
        "read_in.url",
        "is not an http(s) URL",
    ),
    Case(
        "read-in-without-date",
        TRIAL_PUB,
        sub(
            "source_kind: journal article\n",
            "source_kind: journal article\nread_in: {url: https://example.org/x, site: Example, title: A page}\n",
        ),
        "read_in.date_read",
        "Field required",
    ),
    Case(
        "figure-read-in-bad-date",
        TRIAL_PUB,
        sub(
            '        source: {locator: Abstract, quote: "HR 0.70, 80% CI 0.50–0.98; p = 0.04"}\n',
            '        source: {locator: Abstract, quote: "HR 0.70, 80% CI 0.50–0.98; p = 0.04", read_in: {url: https://example.org/x, site: Example, title: A page, date_read: last week}}\n',
        ),
        "source.read_in.date_read",
        "date",
    ),
    Case(
        "citation-url-without-date",
        TRIAL_PUB,
        sub("  doi: 10.9999/fixture.2020.001\n", "  url: https://example.org/abstract/10\n"),
        "citation",
        "url needs date_read",
    ),
    Case(
        "citation-url-not-http",
        TRIAL_PUB,
        sub("  doi: 10.9999/fixture.2020.001\n", "  url: www.example.org/abstract/10\n  date_read: 2026-12-06\n"),
        "citation.url",
        "is not an http(s) URL",
    ),
    Case(
        "kind-in-wrong-folder",
        "studies/test-review-2021.yaml",
        copy_of(REVIEW_PUB),
        "kind",
        "a publication sheet in studies/",
    ),
    # curation flags (docs/curation-flags.md)
    Case(
        "flag-direction-on-a-median",
        TRIAL_PUB,
        sub(
            "      - id: os-median-sabr\n",
            "      - id: os-median-sabr\n        flags: [{flag: direction_doubtful, reason: the direction looks swapped}]\n",
        ),
        "reports[0].statistics[1]",
        "direction_doubtful is only for comparative statistics",
    ),
    Case(
        "flag-unknown-kind",
        TRIAL_PUB,
        sub(
            "      - id: os-median-sabr\n",
            "      - id: os-median-sabr\n        flags: [{flag: doubtful, reason: the direction looks swapped}]\n",
        ),
        "reports[0].statistics[1].flags[0].flag",
        "Input should be",
    ),
    Case(
        "flag-other-missing",
        TRIAL_PUB,
        sub(
            "      - id: os-median-sabr\n",
            "      - id: os-median-sabr\n        flags: [{flag: duplicate_of, reason: entered twice in the sheet, other: no-such-stat}]\n",
        ),
        "reports[0]",
        "other 'no-such-stat' is not a statistic of this report",
    ),
    Case(
        "post-randomisation-on-an-arm",
        TRIAL_PUB,
        sub(
            "        label: TKI alone\n",
            "        label: TKI alone\n        subgroup_by: [post_randomisation]\n"
            "        flags: [{flag: post_randomisation_subgroup, reason: selected after randomisation}]\n",
        ),
        "reports[0].groups[1].arm",
        "a post-randomisation subgroup is not the randomised arm",
    ),
    Case(
        "low-confidence-with-one-state",
        TRIAL_STUDY,
        sub("  confidence: high\n", "  confidence: low\n"),
        "oligo_state",
        "a low-confidence mapping is mapped to unresolved",
    ),
]


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_sheet_is_rejected_with_a_precise_message(case: Case, sheets: Path, tmp_path: Path):
    kb = tmp_path / "studies.ttl"
    kb.write_bytes(b"# the knowledge base before the failed build\n")
    before = hashlib.sha256(kb.read_bytes()).hexdigest()
    target = sheets / case.file
    original = target.read_bytes() if target.exists() else b""
    target.write_bytes(case.edit(original))

    result = run_cli("build", "--sheets", str(sheets), "--out", str(kb))

    message = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stderr
    assert case.file.split("/")[-1] in message, message  # names the sheet file
    assert case.field in message, message  # names the field path
    assert " ".join(case.message.split()) in message, message  # says what is wrong
    assert "nothing was written" in message
    assert hashlib.sha256(kb.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left
