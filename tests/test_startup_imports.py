"""What the CLI loads before it does anything, and what each knowledge-base command loads: a library a command
does not use costs every run of it its import time (scipy alone ~0.3 s; docs/performance.md, "Where a person
waits: the CLI"). Checked on `sys.modules` in a fresh process, never on timings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

#: Never needed to parse the command line; each command imports what it uses when it runs.
NOT_AT_STARTUP = (
    "matplotlib",
    "scipy",
    "statsmodels",
    "pyshacl",
    "streamlit",
    "rdflib",
    "pyoxigraph",
    "pandas",
    "pyarrow",
    "pydantic",
    "extract",
    "server",
)
#: Plots, the numeric core's scipy, SHACL, the explorer and the sheet schema: none reads the knowledge base.
NOT_FOR_READING = ("matplotlib", "scipy", "statsmodels", "pyshacl", "streamlit", "extract", "server")

#: Runs `oligokb ARGS` in this process and prints which of the packages named in argv[1] it loaded.
PROBE = """
import json, sys
watched = json.loads(sys.argv[1])
sys.argv = ["oligokb", *sys.argv[2:]]
import cli
code = 0
if len(sys.argv) > 1:
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
loaded = sorted(p for p in watched if p in sys.modules)
sys.stderr.write("LOADED " + json.dumps({"loaded": loaded, "code": code}) + "\\n")
"""


def loaded(watched: tuple[str, ...], *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("LOADED ")]
    assert line, done.stderr[-2000:]
    report = json.loads(line[-1].removeprefix("LOADED "))
    assert report["code"] == 0, done.stderr[-2000:]
    return report["loaded"]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded(NOT_AT_STARTUP) == []


def test_help_loads_no_heavy_library() -> None:
    # typer itself loads pydantic to read the options (typer._adapters): not ours to defer
    watched = tuple(p for p in NOT_AT_STARTUP if p != "pydantic")
    assert loaded(watched, "pool", "kb", "--help") == []


@pytest.mark.parametrize(
    "args",
    [("summary",), ("query", "--name", "studies"), ("export",), ("conflicts",), ("cite",)],
    ids=lambda a: " ".join(a),
)
def test_a_reading_command_loads_no_plotting_statistics_or_schema(args: tuple[str, ...]) -> None:
    assert loaded(NOT_FOR_READING, *args) == []


def test_one_pool_loads_no_plotting_or_explorer() -> None:
    args = ("pool", "kb", "--outcome", "overall survival", "--statistic", "hazard ratio", "--json")
    assert loaded(("matplotlib", "statsmodels", "pyshacl", "streamlit", "extract", "server"), *args) == []
