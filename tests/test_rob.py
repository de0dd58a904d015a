"""Risk of bias (issue 18): the bundled judgements, the table on every back-end, the export, the SHACL shapes,
and malformed risk_of_bias blocks each refused with one error naming the sheet and the field."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from rdflib import Graph, URIRef

from extract.schema import normalise_ws
from extract.sheets import load_extractions
from kb.backend import GraphKB
from kb.build import build_graph
from kb.export import evidence_table
from kb.materialise import forget
from kb.query import load_kb
from kb.rob import JUDGEMENTS, ROB2_DOMAINS, ROB_COLUMNS, rob_table
from kb.store import OxigraphKB
from kb.validate import validate_graph
from terms.errors import InputError
from terms.namespaces import OKB, ROB_DOMAIN, ROB_JUDGEMENT
from tests.conftest import ROOT, VALID_SHEETS, run_cli

BUNDLED = ROOT / "data" / "studies.ttl"
SHEETS = ROOT / "data" / "extractions"
TRIAL_STUDY = "studies/test-trial.yaml"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return rob_table(GraphKB(load_kb(BUNDLED)))


@pytest.fixture(scope="module")
def evidence() -> pd.DataFrame:
    return evidence_table(GraphKB(load_kb(BUNDLED)))


def test_columns_and_vocabulary(table):
    assert list(table.columns) == ROB_COLUMNS
    assert set(table["judgement"]) <= set(JUDGEMENTS)
    assert set(table["tool"]) == {"RoB 2", "ROBINS-I"}
    assert set(table.loc[table["tool"] == "RoB 2", "domain"]) == set(ROB2_DOMAINS)


def test_every_randomised_trial_has_rob2_for_os_and_pfs_it_has_figures_on(table, evidence):
    randomised = evidence[evidence["design_class"] == "randomised"]
    assert randomised["study_id"].nunique() >= 16
    rob2 = table[table["tool"] == "RoB 2"]
    for (study, outcome), _ in randomised.groupby(["study_id", "outcome"]):
        if outcome not in ("overall survival", "progression-free survival"):
            continue
        rows = rob2[(rob2["study_id"] == study) & (rob2["outcome"] == outcome)]
        assert list(rows["domain"]) == list(ROB2_DOMAINS), (study, outcome)  # every domain once, in RoB 2's order
    # every randomised study sheet (one has no figures yet) carries RoB 2; every other study says not assessed
    ex = load_extractions(SHEETS)
    for sid, study in ex.studies.items():
        rows = table[table["study_id"] == sid]
        if study.design.startswith("rct") or study.design == "randomised":
            assert set(rows["tool"]) == {"RoB 2"}, sid
        else:
            assert list(zip(rows["tool"], rows["domain"], rows["judgement"], strict=True)) == [
                ("ROBINS-I", "overall", "not_assessed")
            ], sid
            assert rows["support"].iloc[0].startswith("ROBINS-I not assessed: ")


def test_rob2_outcomes_are_labelled_as_in_the_evidence_table(table, evidence):
    rob2 = table[table["tool"] == "RoB 2"]
    assert set(rob2["outcome"]) <= set(evidence["outcome"])
    assert {"overall survival", "progression-free survival"} <= set(rob2["outcome"])
    assert set(table["study_id"]) >= set(evidence.loc[evidence["design_class"] == "randomised", "study_id"])


def test_overall_follows_the_rob2_rule(table):
    rob2 = table[table["tool"] == "RoB 2"]
    for (study, outcome), rows in rob2.groupby(["study_id", "outcome"]):
        judged = dict(zip(rows["domain"], rows["judgement"], strict=True))
        overall = judged.pop("overall")
        # RoB 2: low only if every domain is low; high if any is high; otherwise some concerns
        expected = (
            "high" if "high" in judged.values() else ("low" if set(judged.values()) == {"low"} else "some_concerns")
        )
        assert overall == expected, (study, outcome, judged)


def _read_quotes(ex) -> dict[str, list[str]]:
    """Every quote already verified in the sheets, and each publication's title, by publication."""
    found: dict[str, list[str]] = {}

    def walk(node: object, pub: str | None) -> None:
        if isinstance(node, dict):
            if "quote" in node and "locator" in node and node.get("quote"):
                found.setdefault(node.get("publication") or pub or "", []).append(normalise_ws(node["quote"]))
            for value in node.values():
                walk(value, pub)
        elif isinstance(node, list):
            for value in node:
                walk(value, pub)

    for pid, pub in ex.publications.items():
        walk(pub.model_dump(mode="json")["reports"], pid)
        found.setdefault(pid, []).append(normalise_ws(pub.citation.title))
    for study in ex.studies.values():
        dumped = study.model_dump(mode="json")
        dumped.pop("risk_of_bias")  # the judgements' own quotes are what is checked
        walk(dumped, None)
    return found


def test_every_support_is_a_read_quote_or_a_stated_reason(table):
    ex = load_extractions(SHEETS)
    read = _read_quotes(ex)
    quotes = table[table["support_kind"] == "quote"]
    assert len(quotes) >= 17  # at least one sentence of each trial's report
    for row in quotes.itertuples():
        pub = ex.publications[row.publication_id]
        quote = normalise_ws(row.support)
        in_sheet = any(quote in q for q in read.get(row.publication_id, []))
        source = (ROOT / pub.source_text).resolve() if pub.source_text else None
        in_text = source is not None and source.exists() and quote in normalise_ws(source.read_text(encoding="utf-8"))
        assert in_sheet or in_text, (row.study_id, row.domain, row.publication_id, quote)
        assert row.locator
    reasons = table[table["support_kind"] == "reason"]
    assert (reasons["support"].str.len() >= 10).all()
    assert (reasons["publication_id"] == "").all()


def test_overall_survival_measurement_is_low_and_open_label_pfs_is_not(table):
    """The curators' stated rules: death is objective; unblinded progression is some concerns."""
    rob2 = table[(table["tool"] == "RoB 2") & (table["domain"] == "measurement")]
    assert set(rob2.loc[rob2["outcome"] == "overall survival", "judgement"]) == {"low"}
    assert set(rob2.loc[rob2["outcome"] == "progression-free survival", "judgement"]) == {"some_concerns"}


def test_rob_table_is_the_same_on_the_graph_and_the_store(tmp_path):
    path = tmp_path / "studies.ttl"
    shutil.copy(BUNDLED, path)
    forget()
    try:
        from_graph = rob_table(load_kb(BUNDLED))
        from_store = rob_table(OxigraphKB(path))
        again = rob_table(OxigraphKB(path))  # from the table cache
    finally:
        forget()
    pd.testing.assert_frame_equal(from_graph, from_store)
    pd.testing.assert_frame_equal(from_store, again)


def test_export_format_rob_writes_the_table(tmp_path, table):
    out = tmp_path / "rob.csv"
    result = run_cli("export", "--format", "rob", "--out", str(out), "--kb", str(BUNDLED))
    assert result.returncode == 0, result.stderr
    written = pd.read_csv(io.StringIO(out.read_text(encoding="utf-8")), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(written, table)


# --- the graph's shapes --------------------------------------------------------------------------------


def _fixture_graph() -> tuple[Graph, URIRef]:
    graph = build_graph(load_extractions(VALID_SHEETS))
    overall = next(s for s in graph.subjects(OKB.robDomain, ROB_DOMAIN.overall) if "test-trial" in str(s))
    return graph, URIRef(str(overall))


def test_fixture_assessment_conforms():
    graph, _ = _fixture_graph()
    assert not [v for v in validate_graph(graph) if "rob" in v.focus], validate_graph(graph)


def test_shapes_refuse_an_overall_better_than_its_domains():
    graph, overall = _fixture_graph()
    graph.set((overall, OKB.judgement, ROB_JUDGEMENT.low))  # the fixture's domains include some_concerns
    assert any("worst domain" in v.message for v in validate_graph(graph))


def test_shapes_refuse_a_judgement_without_support():
    graph, overall = _fixture_graph()
    graph.remove((overall, OKB.rationale, None))
    assert any("quote" in v.message and "reason" in v.message for v in validate_graph(graph))


# --- malformed risk_of_bias blocks ----------------------------------------------------------------------


def sub(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"fixture text {old!r} not found"
        return text.replace(old, new, 1)

    return edit


ROB_BLOCK_START = "risk_of_bias:\n"

MALFORMED = [
    (
        "unknown-judgement",
        sub("randomisation: {judgement: low,", "randomisation: {judgement: unclear,"),
        "risk_of_bias[0].domains.randomisation.judgement",
        "Input should be 'low', 'some_concerns' or 'high'",
    ),
    (
        "missing-support",
        sub(
            'missing_data: {judgement: low, reason: "Fixture: every patient analysed."}',
            "missing_data: {judgement: low}",
        ),
        "risk_of_bias[0].domains.missing_data",
        "rests on a verbatim quote",
    ),
    (
        "quote-without-locator",
        sub(
            'missing_data: {judgement: low, reason: "Fixture: every patient analysed."}',
            'missing_data: {judgement: low, quote: "every patient", publication: test-trial-2020}',
        ),
        "risk_of_bias[0].domains.missing_data",
        "missing locator",
    ),
    (
        "inconsistent-overall",
        sub("overall: {judgement: some_concerns,", "overall: {judgement: low,"),
        "risk_of_bias[0].domains",
        "overall.judgement low contradicts the domains",
    ),
    (
        "unknown-domain",
        sub("      reported_result:", "      selective_reporting:"),
        "risk_of_bias[0].domains",
        "selective_reporting: not a RoB 2 domain",
    ),
    (
        "unknown-outcome",
        sub("  - outcome: progression_free_survival\n", "  - outcome: pfs_maybe\n"),
        "risk_of_bias[0].outcome",
        "is not a term of the outcome vocabulary",
    ),
    (
        "rct-without-risk-of-bias",
        lambda text: text[: text.index(ROB_BLOCK_START)],
        "risk_of_bias",
        "a randomised study (design rct_phase_2) needs risk_of_bias",
    ),
    (
        "quote-cites-unknown-publication",
        sub(
            'missing_data: {judgement: low, reason: "Fixture: every patient analysed."}',
            'missing_data: {judgement: low, quote: "every patient", publication: no-such-report, locator: Abstract}',
        ),
        "risk_of_bias[0].domains.missing_data",
        "unknown publication 'no-such-report'",
    ),
]


@pytest.mark.parametrize(("edit", "field", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_risk_of_bias_gives_one_error_naming_file_and_field(sheets: Path, edit, field, message):
    target = sheets / TRIAL_STUDY
    target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_extractions(sheets)
    # one error in the study sheet (the partner sheets' "unknown study" cascade is issue 18 section 4's)
    problems = [p for p in caught.value.problems if p.file.endswith(TRIAL_STUDY)]
    assert len(problems) == 1, [str(p) for p in caught.value.problems]
    problem = problems[0]
    assert problem.file.endswith("test-trial.yaml")
    assert problem.field.startswith(field), problem.field
    assert " ".join(message.split()) in " ".join(problem.problem.split()), problem.problem


def test_malformed_risk_of_bias_exits_2_from_the_cli(sheets: Path, tmp_path: Path):
    target = sheets / TRIAL_STUDY
    target.write_text(MALFORMED[3][1](target.read_text(encoding="utf-8")), encoding="utf-8")
    result = run_cli("build", "--sheets", str(sheets), "--out", str(tmp_path / "kb.ttl"))
    assert result.returncode == 2
    assert "test-trial.yaml" in result.stderr and "risk_of_bias[0].domains" in result.stderr
    assert not (tmp_path / "kb.ttl").exists()


def test_rob_table_is_the_same_from_a_remote_endpoint(tmp_path, table):
    from kb.remote import SparqlEndpoint
    from terms.vocabulary import ONTOLOGY_FILE, VOCAB_DIR
    from tests.conftest import oxigraph_server

    with oxigraph_server([BUNDLED, *sorted(VOCAB_DIR.glob("*.ttl")), ONTOLOGY_FILE], tmp_path) as (endpoint, _):
        remote = rob_table(SparqlEndpoint(endpoint))
    pd.testing.assert_frame_equal(remote, table)
