"""The thin CLI: `pool csv|kb|all` give the bytes of today's spellings, one error -> exit code mapping,
and the parsing and lookups that moved below the CLI (analysis.csv_input, analysis.selection, kb.params)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from analysis.csv_input import pool_csv, read_table
from analysis.errors import ConvergenceError
from analysis.errors import InputError as AnalysisInputError
from analysis.options import METHODS, TESTS
from analysis.selection import selection_labels
from cli import app
from cli.errors import ArgumentError, console_printer, prefixed_printer, reports_errors
from cli.pool_commands import pool_args
from kb.params import ParamError, parse_params
from terms.errors import OligokbError

runner = CliRunner()
GEN = "study,yi,sei,hist\nA,-0.3,0.1,x\nB,-0.1,0.2,y\nC,-0.5,0.15,x\nD,0.05,0.3,y\n"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def same(new: list[str], old: list[str]):  # type: ignore[no-untyped-def]
    a, b = invoke(*new), invoke(*old)
    assert (a.exit_code, a.stdout, a.stderr) == (b.exit_code, b.stdout, b.stderr)
    return a


# --- pool_args: today's spellings and the bare --csv flag ------------------------------------------------


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], (True, [])),
        (["--csv", "f.csv", "--json"], (True, ["--csv", "f.csv", "--json"])),
        (
            ["--outcome", "os", "--statistic", "hr", "--csv"],
            (True, ["--outcome", "os", "--statistic", "hr", "--format", "csv"]),
        ),
        (["--csv", "--json"], (True, ["--format", "csv", "--json"])),
        (["--all", "--by", "histology"], (True, ["--all", "--by", "histology"])),
        (["csv", "f.csv"], (False, ["csv", "f.csv"])),
        (
            ["kb", "--outcome", "os", "--statistic", "hr", "--csv"],
            (False, ["kb", "--outcome", "os", "--statistic", "hr", "--format", "csv"]),
        ),
        (["all"], (False, ["all"])),
        (["--help"], (False, ["--help"])),
    ],
)
def test_pool_args(args, expected):
    assert pool_args(args) == expected


# --- the new spellings give today's bytes ---------------------------------------------------------------


@pytest.fixture
def gen_csv(tmp_path: Path) -> Path:
    path = tmp_path / "gen.csv"
    path.write_text(GEN)
    return path


@pytest.mark.parametrize(
    "extra",
    [
        ["--json"],
        ["--by", "hist"],
        ["--method", "DL", "--test", "knha", "--json"],
        ["--level", "0.9"],
        ["--by", "nope"],
    ],
)
def test_pool_csv_is_pool_dash_dash_csv(gen_csv, extra):
    same(["pool", "csv", str(gen_csv), *extra], ["pool", "--csv", str(gen_csv), *extra])


def test_pool_csv_bad_input_same_message_and_exit(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("study,yi,sei\nA,0.1,-1\n")
    result = same(["pool", "csv", str(bad)], ["pool", "--csv", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"oligokb pool: {bad}, row 1, column 'sei': standard error must be > 0, got -1\n"


@pytest.mark.parametrize(
    "extra", [["--json"], ["--by", "histology", "--csv"], ["--format", "table", "--tiers", "own"], ["--tiers", "zzz"]]
)
def test_pool_kb_is_pool_dash_dash_outcome(fixture_kb, extra):
    args = ["--outcome", "progression-free survival", "--statistic", "hazard ratio", "--kb", str(fixture_kb), *extra]
    same(["pool", "kb", *args], ["pool", *args])


def test_pool_all_is_pool_dash_dash_all(fixture_kb):
    result = same(
        ["pool", "all", "--by", "histology", "--kb", str(fixture_kb)],
        ["pool", "--all", "--by", "histology", "--kb", str(fixture_kb)],
    )
    assert result.exit_code == 0 and "stratum" in result.stdout.splitlines()[0]


def test_pool_help_names_the_subcommands_and_the_old_spellings():
    result = invoke("pool", "--help")
    assert result.exit_code == 0
    for word in ("pool csv FILE", "pool kb", "pool all", "pool --csv FILE", "pool --all", "--level"):
        assert word in result.stdout
    for sub in ("csv", "kb", "all"):
        assert invoke("pool", sub, "--help").exit_code == 0


def test_usage_errors_of_today_s_spelling_name_pool(gen_csv):
    result = invoke("pool", "--csv", str(gen_csv), "--method", "XYZ")
    assert result.exit_code == 2 and result.stderr.startswith(
        "Usage: root pool [OPTIONS]\n"
    )  # CliRunner names the app root


# --- choices come from where they are defined ----------------------------------------------------------


def test_method_and_test_choices_are_analysis_options():
    text = invoke("pool", "csv", "--help").stdout
    assert "|".join(METHODS) in text and "|".join(TESTS) in text


# --- one error -> exit code mapping ---------------------------------------------------------------------


class _Refused(OligokbError):
    exit_code = 2


class _NonConformant(OligokbError):
    exit_code = 1


def _app_raising(exc: Exception, printer) -> typer.Typer:  # type: ignore[no-untyped-def]
    test_app = typer.Typer(add_completion=False)

    @test_app.command()
    @reports_errors(printer)
    def go() -> None:
        raise exc

    return test_app


@pytest.mark.parametrize(
    "exc,code",
    [
        (_Refused("the input is refused"), 2),
        (_NonConformant("not conformant"), 1),
        (OligokbError("something broke"), 3),
        (ArgumentError("--x 'y' is bad"), 2),
    ],
)
def test_an_oligokb_error_exits_with_its_code_and_message(exc, code):
    result = runner.invoke(_app_raising(exc, console_printer()), [])
    assert result.exit_code == code and result.stderr == f"{exc}\n" and result.stdout == ""


def test_the_analysis_commands_prefix_and_name_internal_errors():
    result = runner.invoke(_app_raising(_Refused("bad"), prefixed_printer("pool")), [])
    assert (result.exit_code, result.stderr) == (2, "oligokb pool: bad\n")
    result = runner.invoke(_app_raising(ConvergenceError("REML did not converge"), prefixed_printer("pool")), [])
    assert (result.exit_code, result.stderr) == (3, "oligokb pool: internal error: REML did not converge\n")


def test_other_exceptions_are_not_mapped():
    result = runner.invoke(_app_raising(KeyError("x"), console_printer()), [])
    assert isinstance(result.exception, KeyError)


# --- parsing and lookups below the CLI ------------------------------------------------------------------


def test_read_table(gen_csv):
    table = read_table(gen_csv, "GEN", "hist")
    assert table.studies == ["A", "B", "C", "D"] and table.values["sei"] == [0.1, 0.2, 0.15, 0.3]
    assert table.groups == ["x", "y", "x", "y"]
    assert read_table(gen_csv, "GEN", None).groups is None


@pytest.mark.parametrize(
    "text,measure,row,column,needle",
    [
        ("study,xi,ni\nA,5,3\n", "PLO", 1, "xi", "events exceed ni"),
        ("study,yi,sei\nA,0.1,0.2\nB,x,0.2\n", "GEN", 2, "yi", "'x' is not a finite number"),
        ("study,yi\nA,0.1\n", "GEN", None, None, "missing column(s)"),
    ],
)
def test_read_table_names_file_row_and_column(tmp_path, text, measure, row, column, needle):
    path = tmp_path / "in.csv"
    path.write_text(text)
    with pytest.raises(AnalysisInputError) as caught:
        read_table(path, measure, None)
    assert (caught.value.source, caught.value.row, caught.value.column) == (str(path), row, column)
    assert needle in str(caught.value) and caught.value.exit_code == 2


def test_pool_csv_returns_the_contract(gen_csv):
    out = pool_csv(gen_csv, "GEN", "REML", "z", 95.0, None)
    assert out["k"] == 4 and out["level"] == 95.0 and out["studies"] == ["A", "B", "C", "D"]


def test_selection_labels():
    table = pd.DataFrame({"outcome": ["overall survival"], "statistic": ["hazard ratio"]})
    assert selection_labels(table, "overall_survival", "hazard ratio") == ("overall survival", "hazard ratio")
    with pytest.raises(
        AnalysisInputError, match="--outcome 'nope' is not in the knowledge base; known: overall survival"
    ):
        selection_labels(table, "nope", "hazard ratio")


def test_parse_params():
    assert parse_params([" histology = nsclc", "design=rct"]) == {"histology": "nsclc", "design": "rct"}
    with pytest.raises(ParamError, match="--param 'bad': write key=value") as caught:
        parse_params(["bad"])
    assert caught.value.exit_code == 2
