"""The pooled view's review panels under Streamlit's AppTest: each panel opened from the URL (?panel=...)
renders without an error, shows what the CLI says for the same selection, and only the open panel runs
(the text of the others is absent: an unopened panel costs nothing)."""

from __future__ import annotations

import json
import re

import pytest

from explorer.review_view import PANELS
from tests.conftest import ROOT, run_cli
from tests.test_app import _app, _clean

KB = str(ROOT / "data" / "studies.ttl")
OS_HR = {"view": "Pooled analysis", "pool_statistic": "hazard ratio", "pool_outcome": "overall survival"}
#: A sentence each panel writes, which no other panel writes.
MARK = {
    "Certainty (GRADE)": "Summary of findings (GRADE)",
    "Risk of bias (RoB 2)": "Risk of bias (RoB 2) of the pooled trials",
    "Small-study effects": "Egger's regression test",
    "Leave-one-out and cumulative": "Cumulative meta-analysis by publication year",
    "Sensitivity by risk of bias": "Sensitivity analysis by risk of bias",
    "Downloads": "Reproduce in R",
}


def _cli(command: str) -> dict:
    args = ("--outcome", "overall survival", "--statistic", "hazard ratio", "--kb", KB, "--format", "json")
    result = run_cli(*command.split(), *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _markdown(at) -> str:
    """The page's Markdown, with the escapes of knowledge-base strings (explorer.widgets.plain) undone."""
    return re.sub(r"\\(.)", r"\1", "\n".join(m.value for m in at.markdown))


@pytest.mark.parametrize("panel", PANELS)
def test_only_the_open_panel_runs(panel):
    at = _app(**OS_HR, panel=panel)
    _clean(at)
    text = _markdown(at)
    assert MARK[panel] in text
    for other, mark in MARK.items():
        if other != panel:
            assert mark not in text, (panel, other)


def test_the_panels_say_what_the_cli_says():
    grades = _cli("grade")["grades"]
    at = _app(**OS_HR, pool_section="Certainty and review")  # the certainty panel is the review's first
    _clean(at)
    text = _markdown(at)
    for g in grades:
        assert f"Certainty, {g['stratum']} (k = {g['k']}): **{g['certainty_symbols']} {g['certainty']}**" in text

    tests = _cli("funnel")["tests"]
    text = _markdown(_app(**OS_HR, panel="Small-study effects"))
    for t in tests:  # k = 4: "not assessable: k = 4 < 10", word for word
        assert t["verdict"] in text

    k = sum(p["k"] for p in _cli("pool kb")["pools"])
    assert f"the {k} inputs of this pool" in _markdown(_app(**OS_HR, panel="Downloads"))
