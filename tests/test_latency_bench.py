"""benches/latency.py writes what docs/performance.md quotes: each command's timings beside its import baseline,
the ratio and the target, and the machine. The shape is checked here, not the timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_one_command_once_gives_the_documented_fields(tmp_path: Path) -> None:
    out = tmp_path / "latency.json"
    done = subprocess.run(
        [sys.executable, "-m", "benches.latency", "--repeat", "1", "--only", "summary", "--no-uv", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["repeat"] == 1
    assert result["machine_before"]["nproc"] >= 1
    assert len(result["machine_before"]["load_average"]) == 3
    [row] = result["commands"]
    assert row["argv"] == ["oligokb", "summary"]
    assert "uv_run" not in row  # --no-uv
    for timing in (row["direct"], row["import_baseline"]):
        assert 0 < timing["min_s"] <= timing["median_s"] <= timing["max_s"]
    assert "pandas" in row["libraries"]
    assert row["ratio"] == round(row["direct"]["median_s"] / row["import_baseline"]["median_s"], 2)
    # one round: its ratio is the ratio of the medians (these rounded to the millisecond first)
    assert abs(row["ratio_of_rounds"] - row["ratio"]) <= 0.011
    assert row["target_ratio"] == 1.5
    assert row["met"] == (row["ratio"] <= 1.5)
    assert "| `oligokb summary` |" in done.stdout  # the printed table names the command


def test_an_unknown_command_name_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benches.latency", "--only", "no such command"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "summary" in done.stderr  # lists the names it knows


def test_the_ratio_of_rounds_pairs_each_command_with_the_baseline_of_its_round() -> None:
    from benches.latency import round_ratios

    # a loaded round slows both: 2.0/1.0 and 4.0/2.0 are 2 each, while the medians alone give 3.0/1.5
    assert round_ratios({"direct": [2.0, 4.0, 1.2], "import_baseline": [1.0, 2.0, 1.0]}) == [2.0, 2.0, 1.2]


def test_a_before_tree_is_timed_in_each_round_against_the_same_baseline(tmp_path: Path) -> None:
    out = tmp_path / "latency.json"
    args = ["--repeat", "1", "--only", "summary", "--no-uv", "--before-tree", str(ROOT), "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "benches.latency", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [row] = json.loads(out.read_text(encoding="utf-8"))["commands"]
    assert 0 < row["before"]["min_s"] <= row["before"]["max_s"]
    ratio = row["before"]["median_s"] / row["import_baseline"]["median_s"]
    assert abs(row["before_ratio_of_rounds"] - ratio) <= 0.011  # one round: before / that round's baseline
    assert "before median s" in done.stdout
