"""`oligokb leave-one-out`, `cumulative`, `funnel` and `rob-sensitivity` on the bundled knowledge base
(data/studies.ttl): exit codes, JSON keys, files written, bad options refused with a message."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import ROOT, run_cli

KB = str(ROOT / "data" / "studies.ttl")
PFS_HR = ("--outcome", "progression-free survival", "--statistic", "hazard ratio", "--kb", KB)
ENVELOPE = {"outcome", "statistic", "timepoint_months", "method", "test", "level", "scale", "strata", "analysis"}


def cli_json(*args: str) -> dict:
    result = run_cli(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def pool() -> dict:
    """What `oligokb pool kb` pools for the same selection: the commands must work on exactly these inputs."""
    out = cli_json("pool", "kb", *PFS_HR, "--no-sensitivity")
    return {p["stratum"]: p for p in out["pools"]}


def test_leave_one_out_leaves_out_each_input_of_the_pool(pool):
    out = cli_json("leave-one-out", *PFS_HR)
    assert ENVELOPE | {"rows", "notes"} <= set(out)
    assert out["scale"] == "hazard ratio" and out["analysis"] == "leave-one-out"
    for stratum, p in pool.items():
        rows = [r for r in out["rows"] if r["stratum"] == stratum]
        assert [r["study_id"] for r in rows] == [i["study_id"] for i in p["inputs"]]
        assert all(r["k"] == p["k"] - 1 and r["ci_low"] < r["estimate"] < r["ci_high"] for r in rows)


def test_cumulative_ends_at_the_pool_and_writes_the_plot(pool, tmp_path):
    plot = tmp_path / "cumulative.svg"
    result = run_cli("cumulative", *PFS_HR, "--format", "csv", "--plot", str(plot))
    assert result.returncode == 0, result.stderr
    assert plot.read_text().lstrip().startswith(("<?xml", "<svg"))
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    for stratum, p in pool.items():
        mine = [r for r in rows if r["stratum"] == stratum]
        years = [int(r["year"]) for r in mine if r["year"]]
        assert years == sorted(years)  # by publication year
        assert int(mine[-1]["k"]) == p["k"]
        assert float(mine[-1]["estimate"]) == pytest.approx(p["estimate"], rel=1e-9)  # every study in: the pool


def test_funnel_runs_egger_only_from_ten_studies(tmp_path):
    plot = tmp_path / "funnel.png"
    for args in (PFS_HR, ("--outcome", "overall survival", "--statistic", "hazard ratio", "--by", "histology")):
        result = run_cli("funnel", *args, "--kb", KB, "--format", "json", "--plot", str(plot))
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert ENVELOPE | {"tests", "min_k"} <= set(out) and out["min_k"] == 10
        for t in out["tests"]:
            assert t["assessable"] == (t["k"] >= 10)
            if not t["assessable"]:
                assert t["verdict"] == f"not assessable: k = {t['k']} < 10" and t["p_value"] is None
            else:
                assert 0 <= t["p_value"] <= 1 and t["verdict"].startswith("Egger's test")
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_rob_sensitivity_lists_the_full_pool_and_every_trial_left_out(pool):
    out = cli_json("rob-sensitivity", *PFS_HR)
    assert ENVELOPE | {"pools", "dropped"} <= set(out)
    for stratum, p in pool.items():
        rows = {r["analysis"]: r for r in out["pools"] if r["stratum"] == stratum}
        assert rows["all trials"]["estimate"] == pytest.approx(p["estimate"], rel=1e-9)
        low = rows["low risk of bias only"]
        dropped = [d for d in out["dropped"] if d["stratum"] == stratum]
        assert low["k"] + len(dropped) == p["k"]
        if low["k"] == 0:
            assert low["note"] == "no trial judged at low risk of bias" and low["estimate"] is None
        assert all(d["reason"] for d in dropped)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("leave-one-out", *PFS_HR, "--format", "xml"), "--format 'xml' is not one of table, csv, json"),
        (("cumulative", *PFS_HR, "--plot", "plot.txt"), "must end in .svg, .png or .pdf"),
        (("funnel", *PFS_HR, "--egger-model", "glm"), "--egger-model 'glm' is not rma or lm"),
        (("rob-sensitivity", *PFS_HR, "--level", "0.95"), "is not a percentage"),
        (("funnel", "--outcome", "no such outcome", "--statistic", "hazard ratio", "--kb", KB), "no such outcome"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_no_output(args, message, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and result.stdout == ""
    assert not (tmp_path / "plot.txt").exists()


def test_an_unknown_method_is_refused_by_the_option_parser():
    result = run_cli("cumulative", *PFS_HR, "--method", "XX")
    assert result.returncode == 2 and "--method" in result.stderr


@pytest.mark.parametrize("command", ["leave-one-out", "cumulative", "funnel", "rob-sensitivity"])
def test_help_describes_the_command_and_the_selection(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "oligokb pool" in result.stdout and "--outcome" in result.stdout and "--format" in result.stdout


def test_param_filters_as_pool_does_in_every_command_that_analyses_a_pool():
    """--param (the export's filters) reaches grade and the review commands through the one selection."""
    nsclc = ("--param", "histology=nsclc")
    pooled = cli_json("pool", "kb", *PFS_HR, *nsclc, "--no-sensitivity")
    (p,) = pooled["pools"]
    (every,) = [q for q in cli_json("pool", "kb", *PFS_HR, "--no-sensitivity")["pools"] if q["stratum"] == p["stratum"]]
    ids = {i["study_id"] for i in p["inputs"]}
    assert ids < {i["study_id"] for i in every["inputs"]}  # the filter left trials out
    assert {"gomez-lct-nsclc", "iyengar-sabr-nsclc"} <= ids and "sabr-comet" not in ids  # NSCLC trials; a mixed one
    loo = cli_json("leave-one-out", *PFS_HR, *nsclc)
    assert {r["study_id"] for r in loo["rows"]} == {i["study_id"] for i in p["inputs"]}
    (g,) = cli_json("grade", *PFS_HR, *nsclc)["grades"]
    assert g["k"] == p["k"]
    bad = run_cli("funnel", *PFS_HR, "--param", "histology=nosuchthing")
    assert bad.returncode == 2 and "nosuchthing" in bad.stderr and bad.stdout == ""
