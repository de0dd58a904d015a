"""Sheets -> graph -> Turtle -> export: deterministic, atomic, and every number kept."""

from __future__ import annotations

import csv
import io
import os
import shutil
from decimal import Decimal
from pathlib import Path

from extract.sheets import load_extractions
from terms.contract import ALL_COLUMNS, EVIDENCE_COLUMNS
from tests.conftest import ROOT, VALID_SHEETS, run_cli


def _build(sheets: Path, out: Path, seed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    result = run_cli("build", "--sheets", str(sheets), "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def test_two_builds_are_byte_identical(tmp_path):
    # Different hash seeds change set/dict iteration order: the output must not depend on it.
    first = _build(VALID_SHEETS, tmp_path / "a.ttl", "1")
    second = _build(VALID_SHEETS, tmp_path / "b.ttl", "4242")
    assert first == second
    assert b"_:" not in first  # no blank nodes: IRIs are stable


def test_bundled_kb_rebuilds_byte_identical(tmp_path):
    built = _build(ROOT / "data" / "extractions", tmp_path / "studies.ttl", "7")
    assert built == (ROOT / "data" / "studies.ttl").read_bytes(), "data/studies.ttl is stale: run `oligokb build`"


def test_build_check_detects_stale_file(tmp_path, sheets):
    out = tmp_path / "studies.ttl"
    _build(sheets, out, "0")
    ok = run_cli("build", "--sheets", str(sheets), "--out", str(out), "--check")
    assert ok.returncode == 0, ok.stderr
    text = (sheets / "publications" / "test-trial-2020.yaml").read_text()
    (sheets / "publications" / "test-trial-2020.yaml").write_text(
        text.replace("A fixture trial report", "A changed title")
    )
    stale = run_cli("build", "--sheets", str(sheets), "--out", str(out), "--check")
    assert stale.returncode == 1
    assert "stale" in stale.stderr
    assert out.read_bytes() == _build(VALID_SHEETS, tmp_path / "again.ttl", "0")  # --check wrote nothing


def test_build_leaves_no_temp_files(tmp_path):
    _build(VALID_SHEETS, tmp_path / "studies.ttl", "0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.ttl"]


def _export_rows(kb: Path) -> list[dict[str, str]]:
    result = run_cli("export", "--format", "csv", "--kb", str(kb))
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_export_columns_are_the_contract_in_order(fixture_kb):
    result = run_cli("export", "--format", "csv", "--kb", str(fixture_kb))
    header = next(csv.reader(io.StringIO(result.stdout)))
    assert tuple(header[: len(EVIDENCE_COLUMNS)]) == EVIDENCE_COLUMNS
    assert tuple(header) == ALL_COLUMNS


def test_round_trip_keeps_every_number(fixture_kb):
    """Each statistic of each sheet comes back in the export with the same published numbers."""
    rows = {
        (r["publication_id"], r["statistic_id"].rsplit("/", 1)[-1], r["study_id"]): r for r in _export_rows(fixture_kb)
    }
    ex = load_extractions(VALID_SHEETS)
    n_checked = 0
    for pub in ex.publications.values():
        for report in pub.reports:
            groups = {g.id: g for g in report.groups}
            for stat in report.statistics:
                row = rows.pop((pub.id, stat.id, report.study))
                assert row["value"] == format(stat.value, "f")
                if stat.ci is not None:
                    assert row["ci_low"] == format(stat.ci.low, "f")
                    assert row["ci_high"] == (
                        format(stat.ci.high, "f") if stat.ci.high is not None else stat.ci.high_as_published
                    )
                    assert Decimal(row["ci_level"]) == stat.ci.level
                if stat.timepoint_months is not None:
                    assert Decimal(row["timepoint_months"]) == stat.timepoint_months
                if stat.p_value is not None and "<" not in stat.p_value:
                    assert Decimal(row["p_value"]) == Decimal(stat.p_value.replace(",", "."))
                n = groups[stat.group].n
                assert row["n"] == ("" if n is None else str(n))
                assert row["source_quote"] == stat.source.quote
                n_checked += 1
    assert rows == {}, f"export has rows no sheet has: {list(rows)}"
    assert n_checked == 5


def test_export_labels_and_conventions(fixture_kb):
    rows = _export_rows(fixture_kb)
    hr = next(r for r in rows if r["statistic_id"] == "test-trial-2020/test-trial/stat/pfs-hr")
    assert hr["statistic"] == "hazard ratio"
    assert hr["outcome"] == "progression-free survival"
    assert hr["ci_level"] == "0.8"
    assert hr["value"] == "0.70"  # the published lexical form, trailing zero kept
    assert hr["comparison"] == "TKI + SABR vs TKI alone"
    assert hr["reference_group"] == "TKI alone"
    assert hr["adjusted"] == "false"
    assert hr["publication_role"] == "primary"
    assert hr["design_class"] == "randomised"
    french = next(r for r in rows if r["publication_id"] == "test-review-2021" and r["study_id"] == "test-trial")
    assert french["publication_role"] == "secondary"
    assert french["value"] == "0.70"  # "0,70" in the sheet
    subgroup = next(r for r in rows if r["study_id"] == "test-cohort")
    assert subgroup["oligo_state"] == "induced oligoprogression"  # the group's own state, not the study's "mixed"
    assert subgroup["oligo_state_as_published"] == "oligoprogression"


def test_bundled_kb_export_has_sources_for_every_row():
    rows = _export_rows(ROOT / "data" / "studies.ttl")
    assert rows, "the bundled knowledge base is empty"
    for row in rows:
        assert row["source_locator"] and row["source_quote"], row["statistic_id"]
        # a seed whose text prints no DOI or PMID (and none could be read) is named by its own identifier; a report
        # no page gave a DOI or PMID for, by the page that identifies it and the date it was read
        assert (
            row["doi"]
            or row["pmid"]
            or row["seed_document"]
            or (row["publication_url"].startswith(("http://", "https://")) and row["publication_date_read"])
        ), row["publication_id"]
        # a figure read in a page other than its report names that page and the date it was read
        assert not row["read_in_url"] or (
            row["read_in_url"].startswith(("http://", "https://")) and row["read_in_date"]
        )
        assert row["evidence_tier"] and row["tier_rank"] in "123456", row["statistic_id"]
    seed_only = {
        r["publication_id"]: r["seed_document"] for r in rows if not (r["doi"] or r["pmid"] or r["publication_url"])
    }
    for publication, seed in seed_only.items():
        text = ROOT.parent / "shared" / "seeds" / f"{seed}.txt"
        assert text.exists() or not text.parent.exists(), f"{publication}: seed document {seed} is not in {text.parent}"


def test_ntriples_for_bulk_loading(tmp_path):
    result = run_cli(
        "build", "--sheets", str(VALID_SHEETS), "--out", str(tmp_path / "kb.ttl"), "--ntriples", str(tmp_path / "kb.nt")
    )
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "kb.nt").read_text().splitlines()
    assert lines == sorted(lines)
    from rdflib import Graph

    assert len(Graph().parse(tmp_path / "kb.nt", format="nt")) == len(Graph().parse(tmp_path / "kb.ttl"))
    shutil.rmtree(tmp_path)


# --- the fast build (kb.build.build_sheets): the same bytes and the same errors as the plain path ----


def _plain_build(sheets: Path) -> bytes:
    """The reference: every sheet loaded, then rdflib triples streamed into Oxigraph's Turtle writer."""
    from kb.build import iter_triples, serialize

    return serialize(iter_triples(load_extractions(sheets)))


def _small_synth(tmp_path: Path) -> Path:
    from extract.synth import generate

    generate(40, tmp_path / "synth", seed=5)
    return tmp_path / "synth"


def test_parallel_build_equals_serial_and_plain(tmp_path):
    import pyoxigraph as ox

    from kb.build import build_sheets, build_turtle

    for sheets in (VALID_SHEETS, ROOT / "data" / "extractions", _small_synth(tmp_path)):
        plain = _plain_build(sheets)
        ex, serial, n_serial = build_sheets(sheets, jobs=1)
        _, parallel, n_parallel = build_sheets(sheets, jobs=2, parallel_min=0)
        assert serial == plain, sheets
        assert parallel == plain, sheets
        assert build_turtle(ex) == (plain, n_serial)
        assert n_serial == n_parallel == len(list(ox.parse(plain, format=ox.RdfFormat.TURTLE)))


def test_parallel_build_reports_the_same_problems(sheets):
    from kb.build import build_sheets
    from terms.errors import InputError

    pub = sheets / "publications" / "test-trial-2020.yaml"
    pub.write_text(pub.read_text().replace("kind: publication", "kind: publication\nbogus_field: 1", 1))
    study = next((sheets / "studies").glob("*.yaml"))
    study.write_text(study.read_text().replace("design:", "design: not_a_design\nformer_design:", 1))
    (sheets / "publications" / "stray.yml").write_text("kind: publication\n")
    expected = None
    try:
        load_extractions(sheets)
    except InputError as exc:
        expected = exc.problems
    assert expected and len(expected) >= 3
    for jobs, parallel_min in ((1, 400), (2, 0)):
        try:
            build_sheets(sheets, jobs=jobs, parallel_min=parallel_min)
        except InputError as exc:
            assert exc.problems == expected
        else:
            raise AssertionError("build_sheets accepted broken sheets")


def test_cli_build_with_workers_is_byte_identical(tmp_path):
    synth = _small_synth(tmp_path)
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"kb{jobs}.ttl"
        result = run_cli("build", "--sheets", str(synth), "--out", str(out), "--jobs", jobs)
        assert result.returncode == 0, result.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == _plain_build(synth)


def test_turtle_writer_matches_oxigraphs_on_hard_terms():
    """kb.build writes Turtle itself (rows_turtle); Oxigraph's writer is the reference, also for terms
    the sheets rarely hold: control characters, quotes, backslashes, non-ASCII, odd numbers."""
    from kb.build import _XSD_BOOLEAN, _XSD_DECIMAL, _XSD_GYEAR, _XSD_INTEGER, _ox_rows_turtle, rows_turtle
    from terms.namespaces import OKB

    texts = [
        "plain",
        "",
        'say "hi"',
        "back\\slash",
        "tab\there",
        "line\nbreak\r\n",
        "\x00\x01\x07\x08\x0b\x0c\x1f",
        "del\x7f",
        "\ufffe\uffff\ufffd",
        "é ü 中文 😀",
        "≤0.001",
        "a'b",
        "<iri-like>",
        "50 %",
        "trailing \\",
    ]
    numbers = ["0.70", "-1.5", "+2.0", ".5", "5.", "1E2", "12", "-3", "+4", "007", "0,57", "NaN", "", " 1.0"]
    s = "https://w3id.org/oligokb/id/pub/x/y/stat/z"
    rows = [(s, str(OKB.quote), t, "", "", 1) for t in texts]
    for dt in (_XSD_DECIMAL, _XSD_INTEGER, _XSD_BOOLEAN, _XSD_GYEAR):
        rows += [(s, str(OKB.value), v, dt, "", 1) for v in numbers + ["true", "false", "True"]]
    rows += [
        (s, str(OKB.design), iri, "", "", 0)
        for iri in (
            "https://w3id.org/oligokb/vocab/design/rct_phase_2",
            "https://w3id.org/oligokb/vocab/design/",
            "https://w3id.org/oligokb/vocab/design/a.b",
            "https://w3id.org/oligokb/vocab/design/1abc",
            "https://w3id.org/oligokb/vocab/design/a~b",
            "https://w3id.org/oligokb/ns#Study",
            "http://example.org/x#y",
        )
    ]
    rows += [
        (
            "https://w3id.org/oligokb/ns#Study",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            str(OKB.Study),
            "",
            "",
            0,
        ),
        ("https://w3id.org/oligokb/ns#Study", str(OKB.quote), "x", "", "en", 1),
    ]
    rows = sorted(set(rows))
    assert rows_turtle(rows) == _ox_rows_turtle(rows)
    without_lang = [r for r in rows if not r[4]]
    assert rows_turtle(without_lang) == _ox_rows_turtle(without_lang)
    for one in without_lang:  # each term alone, so one that differs is named
        assert rows_turtle([one]) == _ox_rows_turtle([one]), one


def test_fast_yaml_path_equals_the_full_loader(tmp_path):
    """Sheets without '&' or '*' are parsed by libyaml and built directly; the result (values and key
    lines) must be what the pure-Python loader makes, and unusual sheets still go through it."""
    import yaml

    from extract import yaml_io

    docs = [p.read_text() for p in sorted((ROOT / "data" / "extractions").rglob("*.yaml"))]
    docs += [p.read_text() for p in sorted(VALID_SHEETS.rglob("*.yaml"))]
    docs += [
        "a: yes\nb: No\nc: ~\nd: null\ne:\nf: 0.70\ng: '0.70'\nh: [on, OFF, 'true', 12, 1e3, 2020-01-01]\n",
        "? [complex, key]\n: 1\n",
        "<<: {a: 1}\nb: 2\n",
        "a: !!int '5'\n",
        "=: x\n",
        "yes: 1\nnull: 2\n~: 3\n",
        "- a\n- {b: c, d: [e, f]}\n",
        "",
        "# only a comment\n",
        "a: 1\na: 2\n",
        "a: !custom x\n",
    ]
    for text in docs:
        try:
            expected = yaml.load(text, Loader=yaml_io._SheetLoader)  # noqa: S506
        except (yaml.YAMLError, TypeError) as exc:
            expected = type(exc)
        try:
            fast = yaml_io._load_fast(text)
        except (yaml_io._Unusual, yaml.YAMLError):
            continue  # load_sheet falls back to the full loader
        assert fast == expected, text
        pairs = [(fast, expected)]
        while pairs:  # every mapping's key lines too
            a, b = pairs.pop()
            if isinstance(a, dict):
                assert a.lines == b.lines, text
                pairs += [(a[k], b[k]) for k in a]
            elif isinstance(a, list):
                pairs += list(zip(a, b, strict=False))
        path = tmp_path / "sheet.yaml"
        path.write_text(text)
        assert yaml_io.load_sheet(path) == expected


def test_words_number_reads_english_and_french():
    from extract.schema import words_number

    # the forms the bundled sources print
    assert words_number("Eighteen") == 18
    assert words_number("One hundred and sixty-five") == 165
    assert words_number("trois") == 3
    assert words_number("Six") == 6
    assert words_number("none") is None


def test_a_primary_reports_claims_about_another_study_are_secondary_figures(sheets, tmp_path):
    """A cohort paper's discussion quoting a trial: a report block with role: secondary in a primary publication
    is exported as a secondary figure of tier 'review', with the report it quotes; a page it was read in keeps
    its own tier (issue 14)."""
    study = sheets / "studies" / "test-trial.yaml"
    (sheets / "studies" / "other-trial.yaml").write_text(
        study.read_text().replace("id: test-trial\n", "id: other-trial\n", 1).replace("NCT00000000", "NCT00000001")
    )
    other = sheets / "publications" / "other-trial-2019.yaml"
    other.write_text(
        (sheets / "publications" / "test-trial-2020.yaml")
        .read_text()
        .replace("id: test-trial-2020", "id: other-trial-2019")
        .replace("study: test-trial", "study: other-trial")
        .replace("10.9999/fixture.2020.001", "10.9999/fixture.2019.001")
    )
    pub = sheets / "publications" / "test-trial-2020.yaml"
    pub.write_text(
        pub.read_text()
        + """
  - study: other-trial
    role: secondary
    quotes: {publication: other-trial-2019, basis: inferred, reason: the discussion quotes the other trial's report}
    groups:
      - {id: sabr-claim, label: TKI + SABR (as the discussion quotes it), arm: sabr}
    statistics:
      - id: os-median-claim
        outcome: overall_survival
        statistic: median
        group: sabr-claim
        value: "25.4"
        unit: months
        source:
          locator: Discussion
          quote: "the trial reported a median OS of 25.4 months"
          read_in: {url: "https://news.example.org/item", site: Example News, title: A news item, date_read: 2026-12-06}
"""
    )
    out = tmp_path / "kb.ttl"
    result = run_cli("build", "--sheets", str(sheets), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = {r["statistic_id"].rsplit("/", 1)[-1]: r for r in _export_rows(out)}
    claim, own = rows["os-median-claim"], rows["os-median-sabr"]
    assert (own["publication_role"], own["evidence_tier_id"], own["tier_rank"]) == ("primary", "trial_full_report", "1")
    assert (claim["publication_role"], claim["quotes_publication"]) == ("secondary", "other-trial-2019")
    assert claim["study_id"] == "other-trial" and claim["publication_id"] == "test-trial-2020"
    assert (claim["evidence_tier_id"], claim["tier_rank"]) == ("coverage_page", "6")  # the page is weaker than a review
    assert claim["read_in_url"] == "https://news.example.org/item" and claim["read_in_date"] == "2026-12-06"
    # without the page: a review's tier
    pub.write_text(
        pub.read_text().replace(
            '\n          read_in: {url: "https://news.example.org/item", site: Example News, title: A news item, date_read: 2026-12-06}',
            "",
        )
    )
    assert run_cli("build", "--sheets", str(sheets), "--out", str(out)).returncode == 0
    claim = {r["statistic_id"].rsplit("/", 1)[-1]: r for r in _export_rows(out)}["os-median-claim"]
    assert (claim["evidence_tier_id"], claim["tier_rank"], claim["read_in_url"]) == ("review", "5", "")
