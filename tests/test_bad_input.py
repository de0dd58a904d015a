"""Bad input, said where it is (issue 18, section 4): a sheet error names the line of the field and the
statistic or group by its id; one mistake gives one error; YAML syntax errors in plain words; two sheets
of one DOI, PMID or trial registration are refused with both files; the CLI takes a term by its id, its
label or in any case, and lists the close ones for an unknown one."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.sheets import DEFAULT_ROOT, load_extractions
from terms.errors import InputError, UnknownTermError
from terms.vocabulary import term_id
from tests.conftest import ROOT, run_cli

TRIAL_PUB = "publications/test-trial-2020.yaml"
TRIAL_STUDY = "studies/test-trial.yaml"
REVIEW_PUB = "publications/test-review-2021.yaml"


def edit(sheets: Path, rel: str, old: str, new: str) -> None:
    path = sheets / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_with(sheets: Path, rel: str, text: str) -> int:
    """The 1-based line of the first line of the sheet that holds `text` (read, not typed in the test)."""
    lines = (sheets / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def problems_of(sheets: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_extractions(sheets)
    return [str(p) for p in caught.value.problems]


# --- 1. the line of the offending field and the ids on its path ------------------------------------------


def test_a_field_error_names_its_line_and_the_statistic_by_id(sheets: Path):
    edit(sheets, TRIAL_PUB, 'level: "0.80"', 'level: "1.80"')
    [problem] = problems_of(sheets)
    line = line_with(sheets, TRIAL_PUB, 'level: "1.80"')
    assert problem.startswith(f"{sheets / TRIAL_PUB}:{line}: reports[0].statistics[0].ci.level ")
    assert "(report on test-trial, statistic pfs-hr)" in problem


def test_an_error_on_a_whole_statistic_points_at_its_first_line(sheets: Path):
    # a landmark rate without its time point: the statistic's own check, not one field's
    edit(sheets, TRIAL_PUB, "        timepoint_months: 24\n", "")
    [problem] = problems_of(sheets)
    line = line_with(sheets, TRIAL_PUB, "- id: os-24m-control")
    assert f"{TRIAL_PUB}:{line}: reports[0].statistics[2] (report on test-trial, statistic os-24m-control)" in problem


def test_a_cross_sheet_error_names_its_line_and_the_group_by_id(sheets: Path):
    edit(sheets, TRIAL_PUB, "        arm: control\n", "        arm: placebo\n")
    [problem] = problems_of(sheets)
    line = line_with(sheets, TRIAL_PUB, "arm: placebo")
    assert f"{TRIAL_PUB}:{line}: reports[0].groups[1].arm (report on test-trial, group control)" in problem
    assert "'placebo' is not an arm of test-trial" in problem


def test_a_wrong_kind_and_an_id_unlike_the_file_name_name_their_lines(sheets: Path):
    edit(sheets, TRIAL_STUDY, "kind: study", "kind: studie")
    edit(sheets, TRIAL_PUB, "id: test-trial-2020", "id: test-trial-2021")
    problems = problems_of(sheets)
    assert f"{TRIAL_STUDY}:{line_with(sheets, TRIAL_STUDY, 'kind: studie')}: kind:" in problems[0], problems
    id_line = line_with(sheets, TRIAL_PUB, "id: test-trial-2021")
    assert any(f"{TRIAL_PUB}:{id_line}: id: the id 'test-trial-2021' differs" in p for p in problems), problems


# --- 2. one mistake, one error ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "old", "new"),
    [
        (TRIAL_STUDY, "design: rct_phase_2", "design: rct_phase_9"),  # a schema error
        (TRIAL_STUDY, "design: rct_phase_2", "design: [rct_phase_2"),  # a syntax error
        (TRIAL_PUB, "  year: 2020", "  year: 1850"),  # the publication the study's quotes come from
    ],
    ids=["study-schema", "study-syntax", "publication-schema"],
)
def test_a_broken_sheet_gives_one_error_not_one_per_sheet_that_names_it(sheets: Path, rel: str, old: str, new: str):
    # test-trial is reported by both publication sheets; test-trial-2020 is the source of the study's quotes
    edit(sheets, rel, old, new)
    problems = problems_of(sheets)
    assert len(problems) == 1, problems
    assert problems[0].startswith(str(sheets / rel))
    assert "unknown" not in problems[0]


def test_an_id_that_no_sheet_has_is_still_reported(sheets: Path):
    edit(sheets, REVIEW_PUB, "  - study: test-trial\n", "  - study: test-trail\n")
    [problem] = problems_of(sheets)
    assert "unknown study 'test-trail'" in problem and REVIEW_PUB in problem


# --- 3. YAML syntax in plain words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "at", "said"),
    [
        (
            "  confidence: high\n",
            "\tconfidence: high\n",
            "confidence: high",
            "has a tab character; YAML indents with spaces",
        ),
        ("label: TEST-TRIAL (fixture)", 'label: "TEST-TRIAL (fixture)', "label:", "the quote opened on line"),
        ("  mapped: synchronous\n", "   mapped: synchronous\n", "mapped: synchronous", "indented deeper"),
        # a field moved out of its block: YAML then reads the next field as the deeper one
        ("  mapped_by: test suite\n", "mapped_by: test suite\n", "confidence: high", "indented deeper"),
        ("  confidence: high\n", " confidence: high\n", "confidence: high", "is indented differently"),
        ("registry: [NCT00000000]", "registry: [NCT00000000", "registry:", "the [ ... ] opened on line"),
    ],
    ids=["tab", "unclosed-quote", "deeper-indent", "shallower-indent", "indent-between-blocks", "unclosed-bracket"],
)
def test_a_yaml_syntax_error_is_said_in_plain_words_with_its_line(sheets: Path, old: str, new: str, at: str, said: str):
    edit(sheets, TRIAL_STUDY, old, new)
    line = line_with(sheets, TRIAL_STUDY, at)
    [problem] = problems_of(sheets)
    assert problem.startswith(f"{sheets / TRIAL_STUDY}:{line}: (file): not valid YAML: "), problem
    assert said in problem
    assert "Traceback" not in problem and "while scanning" not in problem and "<block" not in problem


# --- 4. duplicate records --------------------------------------------------------------------------------


def copy_sheet(sheets: Path, rel: str, new_id: str, old_id: str) -> str:
    target = f"{rel.split('/')[0]}/{new_id}.yaml"
    text = (sheets / rel).read_text(encoding="utf-8").replace(f"id: {old_id}\n", f"id: {new_id}\n", 1)
    (sheets / target).write_text(text, encoding="utf-8")
    return target


def test_two_publication_sheets_of_one_doi_are_refused_naming_both(sheets: Path):
    twin = copy_sheet(sheets, TRIAL_PUB, "test-trial-2020-copy", "test-trial-2020")
    problems = problems_of(sheets)
    dup = [p for p in problems if "10.9999/fixture.2020.001" in p]
    assert len(dup) == 1 and TRIAL_PUB in dup[0] and twin in dup[0], problems


def test_two_publication_sheets_of_one_pmid_are_refused_naming_both(sheets: Path):
    edit(sheets, TRIAL_PUB, "  doi: 10.9999/fixture.2020.001\n", '  pmid: "12345678"\n')  # the review's PMID
    [problem] = problems_of(sheets)
    assert "pmid 12345678" in problem and TRIAL_PUB in problem and REVIEW_PUB in problem


def test_a_publication_may_say_it_is_a_duplicate_record_of_the_other(sheets: Path):
    twin = copy_sheet(sheets, TRIAL_PUB, "test-trial-2020-copy", "test-trial-2020")
    edit(sheets, twin, "role: primary\n", "role: primary\nduplicate_record_of: test-trial-2020\n")
    assert "publication:test-trial-2020-copy" in load_extractions(sheets).files


def test_duplicate_record_of_a_sheet_with_another_doi_is_refused(sheets: Path):
    edit(sheets, TRIAL_PUB, "role: primary\n", "role: primary\nduplicate_record_of: test-review-2021\n")
    [problem] = problems_of(sheets)
    assert "duplicate_record_of" in problem and "neither this sheet's DOI nor its PMID" in problem


def test_two_studies_of_one_registration_are_refused_naming_both(sheets: Path):
    twin = copy_sheet(sheets, TRIAL_STUDY, "test-trial-copy", "test-trial")
    [problem] = problems_of(sheets)
    assert "NCT00000000" in problem and TRIAL_STUDY in problem and twin in problem
    assert "overlaps_with" in problem  # says how to declare it when it is meant


def test_a_study_that_contains_the_other_may_share_its_registration(sheets: Path):
    twin = copy_sheet(sheets, TRIAL_STUDY, "test-trial-copy", "test-trial")
    edit(sheets, twin, "registry: [NCT00000000]\n", "registry: [NCT00000000]\noverlaps_with: [test-trial]\n")
    assert set(load_extractions(sheets).studies) == {"test-trial", "test-trial-copy", "test-cohort"}


def test_the_bundled_sheets_hold_no_duplicate_record():
    ex = load_extractions(ROOT / DEFAULT_ROOT)
    dois = [p.citation.doi.lower() for p in ex.publications.values() if p.citation.doi]
    pmids = [p.citation.pmid for p in ex.publications.values() if p.citation.pmid]
    ncts = [n for s in ex.studies.values() for n in s.registry]
    assert len(dois) == len(set(dois)) and len(pmids) == len(set(pmids)) and len(ncts) == len(set(ncts))


# --- 5. a term by its id, its label or in any case ------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "text", "term"),
    [
        ("statistic", "hazard ratio", "hazard_ratio"),
        ("statistic", "hazard_ratio", "hazard_ratio"),
        ("statistic", "Hazard Ratio", "hazard_ratio"),
        ("statistic", "HR", "hazard_ratio"),  # an alternative label of terms/vocab/statistic.ttl
        ("outcome", "Progression-Free Survival", "progression_free_survival"),
        ("outcome", "progression free survival", "progression_free_survival"),
        ("histology", "NSCLC", "nsclc"),
        ("oligo_state", "de novo", "de_novo"),
        ("design", "RCT_Phase_2", "rct_phase_2"),
    ],
)
def test_a_term_is_read_by_its_id_its_label_or_in_any_case(scheme: str, text: str, term: str):
    assert term_id(scheme, text) == term


def test_an_unknown_term_lists_the_close_ones():
    with pytest.raises(
        UnknownTermError,
        match=r"'hazard rato' is not a term of the statistic vocabulary; "
        r"did you mean 'hazard_ratio' \(hazard ratio\)",
    ):
        term_id("statistic", "hazard rato")


def test_a_sheet_still_holds_ids_only(sheets: Path):
    edit(sheets, TRIAL_PUB, "statistic: hazard_ratio", "statistic: Hazard Ratio")
    [problem] = problems_of(sheets)
    assert "statistics[0].statistic" in problem and "'Hazard Ratio' is not a term" in problem


POOL = ["pool", "kb", "--outcome", "progression-free survival", "--json"]


def test_pool_takes_the_statistic_by_label_id_or_any_case(fixture_kb: Path):
    runs = [run_cli(*POOL, "--statistic", s, "--kb", str(fixture_kb)) for s in ("hazard ratio", "Hazard_Ratio")]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and '"hazard ratio"' in runs[0].stdout


def test_pool_refuses_an_unknown_statistic_with_exit_2_and_close_matches(fixture_kb: Path):
    result = run_cli(*POOL, "--statistic", "hazard rato", "--kb", str(fixture_kb))
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert "--statistic 'hazard rato' is not in the knowledge base" in said and "Traceback" not in said
    assert said.endswith("Did you mean 'hazard ratio', 'subdistribution hazard ratio'?")


def test_query_and_export_params_take_labels(fixture_kb: Path):
    by_id = run_cli("export", "--param", "statistic=hazard_ratio", "--kb", str(fixture_kb))
    by_label = run_cli("export", "--param", "statistic=Hazard Ratio", "--kb", str(fixture_kb))
    assert by_id.returncode == by_label.returncode == 0, by_label.stderr
    assert by_id.stdout == by_label.stdout and by_id.stdout.count("\n") >= 2  # a header and the HRs
    wrong = run_cli("query", "--name", "evidence", "--param", "outcome=overal survival", "--kb", str(fixture_kb))
    assert wrong.returncode == 2 and "did you mean 'overall_survival' (overall survival)" in " ".join(
        wrong.stderr.split()
    )


def test_a_curation_flag_to_exclude_is_read_by_its_label_too():
    from cli.options import policy_options

    chosen = policy_options(None, False, None, ["Mapping Low Confidence", "direction-doubtful", "nope"])
    assert chosen["exclude_flags"] == ("mapping_low_confidence", "direction_doubtful", "nope")  # nope: refused later
