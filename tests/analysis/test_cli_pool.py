"""`oligokb pool --csv` run as a user would (typer's CliRunner), compared to metafor fixtures."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from metafor_reference import FIXTURES, assert_close, assert_tau2_ci_high, kind_for
from typer.testing import CliRunner

from cli import app

runner = CliRunner()

CONTRACT_KEYS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "pi_low",
    "pi_high",
    "tau2",
    "tau2_ci_low",
    "tau2_ci_high",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_p",
    "weights_pct",
)


def write_csv(path: Path, dataset: dict, extra: dict | None = None) -> Path:
    """Write a fixture dataset as the user would give it (yi+sei, yi+vi or xi+ni)."""
    cols = {"study": dataset["study"]}
    if dataset["input"] == "xi_ni":
        cols.update(xi=dataset["xi"], ni=dataset["ni"])
    elif dataset["input"] == "yi_sei":
        cols.update(yi=dataset["yi"], sei=dataset["sei"])
    else:
        cols.update(yi=dataset["yi"], vi=dataset["vi"])
    cols.update(extra or {})
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in zip(*cols.values(), strict=False):
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return path


def pool(*args: str):
    return runner.invoke(app, ["pool", *args])


def check_against(out: dict, ref: dict, method: str) -> None:
    kind = kind_for(method)
    for key in CONTRACT_KEYS:
        if key in ("tau2_ci_low", "tau2_ci_high"):
            assert_close(out[key], ref[key], "root", key)
        elif key in ("k", "q_df"):
            assert out[key] == ref[key]
        else:
            assert_close(out[key], ref[key], kind, key)
    if "backtransformed" in ref:
        for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
            assert_close(out["backtransformed"][key], ref["backtransformed"][key], kind, key)
    else:
        assert "backtransformed" not in out


CLI_CASES = [c for c in FIXTURES["fits"] if c["method"] in ("FE", "DL", "REML", "PM") or c["dataset"] in ("k1", "k2")]


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}")
def test_pool_json_matches_metafor(case, tmp_path):
    d = FIXTURES["datasets"][case["dataset"]]
    path = write_csv(tmp_path / "in.csv", d)
    res = pool(
        "--csv", str(path), "--measure", d["measure"], "--method", case["method"], "--test", case["test"], "--json"
    )
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert list(out)[: len(CONTRACT_KEYS)] == list(CONTRACT_KEYS)
    check_against(out, case, case["method"])


def test_json_has_null_never_nan(tmp_path):
    d = FIXTURES["datasets"]["k1"]
    res = pool("--csv", str(write_csv(tmp_path / "k1.csv", d)), "--method", "FE", "--json")
    assert res.exit_code == 0
    assert "NaN" not in res.stdout and "Infinity" not in res.stdout
    out = json.loads(res.stdout)
    assert out["pi_low"] is None and out["tau2_ci_low"] is None and out["df"] is None


def test_k1_knha_warns_on_stderr_and_uses_z(tmp_path):
    d = FIXTURES["datasets"]["k1"]
    res = pool("--csv", str(write_csv(tmp_path / "k1.csv", d)), "--test", "knha", "--json")
    assert res.exit_code == 0
    assert "test='z'" in res.stderr
    assert json.loads(res.stdout)["test_used"] == "z"


@pytest.mark.parametrize(
    "case",
    [c for c in FIXTURES["subgroups"] if FIXTURES["datasets"][c["dataset"]]["input"] != "xi_ni"],
    ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}",
)
def test_pool_by_matches_metafor(case, tmp_path):
    d = FIXTURES["datasets"][case["dataset"]]
    path = write_csv(tmp_path / "in.csv", d, extra={"histology": d["group"]})
    res = pool("--csv", str(path), "--method", case["method"], "--test", case["test"], "--by", "histology", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) >= {"overall", "subgroups", "q_between"}
    check_against(out["overall"], case["overall"], case["method"])
    assert [s["group"] for s in out["subgroups"]] == case["groups"]
    for ours, ref in zip(out["subgroups"], case["subgroups"], strict=False):
        for key in CONTRACT_KEYS:
            if key == "tau2_ci_high":
                assert_tau2_ci_high(
                    ours[key],
                    ref[key],
                    ref["tau2"],
                    [d["yi"][i] for i in ref["rows"]],
                    [d["vi"][i] for i in ref["rows"]],
                )
            elif key in ("k", "q_df"):
                assert ours[key] == ref[key]
            else:
                assert_close(ours[key], ref[key], "root" if key == "tau2_ci_low" else kind_for(case["method"]), key)
    for key in ("q", "df", "p"):
        assert_close(out["q_between"][key], case["q_between"][key], kind_for(case["method"]), key)


# ---------------------------------------------------------------------------------------------
# Bad input: exit 2, a message naming file, row and column, nothing on stdout.
# ---------------------------------------------------------------------------------------------
BAD = {
    "missing_column": ("GEN", "study,yi\nA,0.1\n", ["missing column", "sei"]),
    "negative_variance": ("GEN", "study,yi,vi\nA,0.1,0.04\nB,0.2,-0.01\n", ["row 2", "'vi'", "> 0"]),
    "zero_sei": ("GEN", "study,yi,sei\nA,0.1,0\n", ["row 1", "'sei'"]),
    "non_numeric": ("GEN", "study,yi,sei\nA,0.1,0.2\nB,abc,0.2\n", ["row 2", "'yi'", "abc"]),
    "empty_cell": ("GEN", "study,yi,sei\nA,,0.2\n", ["row 1", "'yi'"]),
    "xi_gt_ni": ("PLO", "study,xi,ni\nA,3,10\nB,12,10\n", ["row 2", "'xi'", "exceed"]),
    "negative_xi": ("PFT", "study,xi,ni\nA,-1,10\n", ["row 1", "'xi'"]),
    "k0": ("GEN", "study,yi,sei\n", ["k = 0"]),
    "both_sei_vi": ("GEN", "study,yi,sei,vi\nA,0.1,0.2,0.04\n", ["both"]),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_exits_2_with_location(name, tmp_path):
    measure, text, needles = BAD[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    res = pool("--csv", str(path), "--measure", measure, "--json")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert str(path) in res.stderr
    for needle in needles:
        assert needle in res.stderr, res.stderr


def test_missing_by_column_exits_2(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("study,yi,sei\nA,0.1,0.2\n")
    res = pool("--csv", str(path), "--by", "histology", "--json")
    assert res.exit_code == 2 and res.stdout == "" and "histology" in res.stderr


def test_no_input_mode_is_a_clear_error():
    res = pool("--json")
    assert res.exit_code == 2 and res.stdout == ""
    assert "--csv" in res.stderr


def test_bad_option_value_names_allowed_values(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("study,yi,sei\nA,0.1,0.2\n")
    res = pool("--csv", str(path), "--method", "XYZ")
    assert res.exit_code == 2 and res.stdout == ""
    assert "XYZ" in res.stderr and "REML" in res.stderr
    res = pool("--csv", str(path), "--level", "0.95")
    assert res.exit_code == 2 and "--level" in res.stderr


def test_level_changes_interval(tmp_path):
    """--level 80 gives the 80 % z interval: half-width ratio to 95 % is z_.90/z_.975."""
    d = FIXTURES["datasets"]["bcg"]
    path = write_csv(tmp_path / "bcg.csv", d)
    out95 = json.loads(pool("--csv", str(path), "--method", "DL", "--json").stdout)
    out80 = json.loads(pool("--csv", str(path), "--method", "DL", "--level", "80", "--json").stdout)
    ratio = (out80["ci_high"] - out80["ci_low"]) / (out95["ci_high"] - out95["ci_low"])
    assert math.isclose(ratio, 1.2815515655446004 / 1.959963984540054, rel_tol=1e-12)


def test_help_lists_contract():
    res = pool("--help")
    assert res.exit_code == 0
    for word in (
        "--csv",
        "--measure",
        "--method",
        "--test",
        "--level",
        "--by",
        "--json",
        "study,yi,sei",
        "study,xi,ni",
        "backtransformed",
        "null",
    ):
        assert word in res.stdout


def test_console_script_subprocess(tmp_path):
    """The installed entry point, as a user runs it."""
    d = FIXTURES["datasets"]["hr_mdt_k6"]
    path = write_csv(tmp_path / "hr.csv", d)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "pool",
            "--csv",
            str(path),
            "--method",
            "REML",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    ref = next(c for c in FIXTURES["fits"] if (c["dataset"], c["method"], c["test"]) == ("hr_mdt_k6", "REML", "z"))
    check_against(json.loads(proc.stdout), ref, "REML")
