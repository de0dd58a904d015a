"""A reviewer's walk through the explorer (issue 18's "Done when"), in headless Chromium with the fixtures
of tests/test_browser.py: the pooled view of randomised trials' PFS and OS hazard ratios, the GRADE
summary of findings with its certainty, the RoB 2 judgements of each pooled trial, the funnel/Egger
verdict, the cumulative meta-analysis, the R bundle (run with Rscript: its numbers equal `oligokb pool`'s)
and the citations; then a reviewer's override changes the certainty. Every number is compared with what
the CLI says for the same selection. Screenshots go to docs/screenshots/reviewer-*.png.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import run_cli
from tests.test_browser import ROOT, _settled, _tab, browser, page, running_app  # noqa: F401 - browser and page are fixtures

pytestmark = pytest.mark.browser

KB = str(ROOT / "data" / "studies.ttl")
SCREENSHOTS = ROOT / "docs" / "screenshots"
CERTAINTY_LEVEL = {"high": 4, "moderate": 3, "low": 2, "very low": 1}
JUDGEMENT_WORDS = {"low": "low", "some_concerns": "some concerns", "high": "high", "not_assessed": "not assessed"}


@pytest.fixture(scope="module")
def server():
    with running_app({"OLIGOKB_KB": KB}, log_name="streamlit-reviewer.log") as url:
        yield url


def cli_json(command: str, outcome: str, *extra: str) -> dict:
    args = ("--outcome", outcome, "--statistic", "hazard ratio", "--kb", KB, "--format", "json")
    result = run_cli(*command.split(), *args, *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def _shot(page, name: str, *, panel: bool = False) -> None:
    """The whole view, or only the review panels (`panel`): Streamlit scrolls an inner container, so grow
    the viewport to its height first, and give the data frames, now all in view, time to draw their grids."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 6000))})
    page.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SCREENSHOTS / f"reviewer-{name}.png")
    if panel:  # the pooled view's third row of tabs (views, sections under the plot, then the review panels)
        page.get_by_test_id("stTabs").nth(2).screenshot(path=path)
    else:
        page.screenshot(path=path)
    page.set_viewport_size(size)


def _open_pool(page, server: str, outcome: str) -> None:
    query = {"view": "Pooled analysis", "pool_statistic": "hazard ratio", "pool_outcome": outcome}
    query["pool_section"] = "Certainty and review"  # the section under the plot that holds the review panels
    page.goto(f"{server}/?{urlencode(query)}")
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    _settled(page)


def _download(page, button: str, target: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    path = target / info.value.suggested_filename
    info.value.save_as(path)
    return path


def _walk(page, server: str, outcome: str, short: str, tmp_path: Path) -> None:
    grades = cli_json("grade", outcome)["grades"]
    pool = cli_json("pool kb", outcome, "--no-sensitivity")
    funnel = cli_json("funnel", outcome)
    cumulative = cli_json("cumulative", outcome)
    sensitivity = cli_json("rob-sensitivity", outcome)
    assert grades and pool["pools"]

    # 1. The pooled view's review opens on the certainty of evidence: the same certainty and k as `oligokb grade`.
    _open_pool(page, server, outcome)
    page.get_by_text("Summary of findings (GRADE)").wait_for()
    text = _main_text(page)
    table = page.get_by_test_id("stTable").first.inner_text()
    for g in grades:
        assert f"Certainty, {g['stratum']} (k = {g['k']}): {g['certainty_symbols']} {g['certainty']}" in text
        assert all(d["final"] in table for d in g["domains"]), table
    _shot(page, f"01-{short}-grade")

    # 2. RoB 2: one row per pooled trial, with the overall judgement `rob-sensitivity` pools by.
    _tab(page, "Risk of bias (RoB 2)")
    page.get_by_text("judged at low risk of bias overall", exact=False).wait_for()
    table = page.get_by_test_id("stTable").filter(has_text="selection of reported result").first
    overall = {d["study_id"]: d["judgement"] for d in sensitivity["dropped"]}
    rows = table.locator("tbody tr")
    shown = {r.locator("th").inner_text().strip(): r.inner_text() for r in rows.all()}
    for p in pool["pools"]:
        for item in p["inputs"]:
            label = item["study_label"]
            assert label in shown, (label, list(shown))
            expected = JUDGEMENT_WORDS[overall.get(item["study_id"], "low")]
            assert shown[label].rstrip().endswith(expected), (label, shown[label])
    _shot(page, panel=True, name=f"02-{short}-rob")

    # 3. Small-study effects: Egger's verdict (k >= 10), or why not, word for word as `oligokb funnel`.
    _tab(page, "Small-study effects")
    page.get_by_text(funnel["tests"][0]["verdict"], exact=False).first.wait_for()
    text = _main_text(page)
    for t in funnel["tests"]:
        assert t["verdict"] in text, (t["verdict"], text)
    if max(p["k"] for p in pool["pools"]) >= 2:  # a funnel needs two studies
        page.get_by_text("Funnel plot: each study's estimate").wait_for()
    _settled(page)
    _shot(page, panel=True, name=f"03-{short}-funnel")

    # 4. Cumulative meta-analysis by publication year: the plot, and where the estimate ended.
    _tab(page, "Leave-one-out and cumulative")
    page.get_by_text("after all", exact=False).first.wait_for()  # the panel's numbers, drawn after its plot
    text = _main_text(page)
    rows = cumulative["rows"]
    for stratum in dict.fromkeys(r["stratum"] for r in rows):
        last = [r for r in rows if r["stratum"] == stratum][-1]
        line = f"{stratum}: after all {last['k']} studies, {last['estimate']:.2f} ({last['ci_low']:.2f} to {last['ci_high']:.2f})"
        assert line in text, line
    _shot(page, panel=True, name=f"04-{short}-cumulative")

    # 5. Sensitivity by risk of bias: says plainly when no trial is at low risk.
    _tab(page, "Sensitivity by risk of bias")
    page.get_by_text("Sensitivity analysis by risk of bias").wait_for()
    page.get_by_test_id("stDataFrame").filter(has=page.locator("canvas")).first.wait_for()
    _settled(page)
    text = _main_text(page)
    for row in sensitivity["pools"]:
        if row["note"] == "no trial judged at low risk of bias":
            assert f"{row['stratum']}: no pooled trial is judged at low risk of bias" in text

    # 6. Reproduce in R: k rows, a script that calls rma(), and R's numbers equal the pool's at 1e-6.
    _tab(page, "Downloads")
    page.get_by_role("button", name="Citations (BibTeX)").wait_for()
    bundle = _download(page, "Reproduce in R (ZIP)", tmp_path)
    out = tmp_path / short
    with zipfile.ZipFile(bundle) as z:
        assert sorted(z.namelist()) == ["pool_inputs.csv", "reproduce.R"]
        z.extractall(out)
    inputs = list(csv.DictReader((out / "pool_inputs.csv").open(encoding="utf-8")))
    assert len(inputs) == sum(p["k"] for p in pool["pools"])
    assert "rma(" in (out / "reproduce.R").read_text(encoding="utf-8")
    if shutil.which("Rscript"):
        run = subprocess.run(["Rscript", str(out / "reproduce.R")], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        r_rows = {r["stratum"]: r for r in csv.DictReader((out / "pooled_R.csv").open(encoding="utf-8"))}
        for p in pool["pools"]:
            assert int(r_rows[p["stratum"]]["k"]) == p["k"]
            for col in ("estimate", "ci_low", "ci_high"):
                assert float(r_rows[p["stratum"]][col]) == pytest.approx(p[col], abs=1e-6), (p["stratum"], col)
    ris = _download(page, "Citations (RIS)", tmp_path)
    import rispy

    entries = rispy.loads(ris.read_text(encoding="utf-8"))
    assert len(entries) == len({row["publication_id"] for row in inputs})  # each report of the pool once
    _shot(page, panel=True, name=f"05-{short}-downloads")


def test_a_reviewer_walks_from_pfs_and_os_pools_to_their_certainty(server, page, tmp_path):
    _walk(page, server, "progression-free survival", "pfs", tmp_path)
    _walk(page, server, "overall survival", "os", tmp_path)


def test_an_override_with_its_reason_changes_the_certainty(server, page, tmp_path):
    outcome = "progression-free survival"
    g = cli_json("grade", outcome)["grades"][0]
    # A serious domain set to "not serious": one level back, as GRADE counts (start less the other downgrades).
    serious = next(d for d in g["domains"] if d["downgrade"] == 1)
    others = sum(d["downgrade"] for d in g["domains"] if d["domain"] != serious["domain"])
    level = max(1, CERTAINTY_LEVEL[g["certainty_start"]] - others)
    expected = next(name for name, n in CERTAINTY_LEVEL.items() if n == level)
    assert expected != g["certainty"]

    _open_pool(page, server, outcome)
    page.get_by_text("Override a judgement").click()
    _settled(page)
    domain_label = serious["domain"].replace("_", " ").capitalize()
    main = page.get_by_test_id("stMain")
    main.get_by_role("combobox", name="Domain").click()
    page.get_by_role("option", name=domain_label, exact=True).click()
    _settled(page)
    main.get_by_role("combobox", name="Reviewer's judgement").click()
    page.get_by_role("option", name="not serious", exact=True).click()
    # Without a reason the judgement is refused and the certainty stays.
    page.get_by_role("button", name="Set this judgement").click()
    _settled(page)
    page.get_by_text("Give the reason for the judgement").wait_for()
    assert f"Certainty, {g['stratum']} (k = {g['k']}): {g['certainty_symbols']} {g['certainty']}" in _main_text(page)

    page.get_by_label("Reason (required").fill("the reviewer's reading of the trials")
    page.get_by_role("button", name="Set this judgement").click()
    _settled(page)
    symbols = "⊕" * level + "◯" * (4 - level)  # GRADE's symbols: one filled circle per level
    page.get_by_text(f"Certainty, {g['stratum']} (k = {g['k']}): {symbols} {expected}").wait_for()
    _settled(page)
    text = _main_text(page)
    assert "not serious (override)" in text
    assert "the reviewer's reading of the trials" in text
    _shot(page, "06-pfs-override", panel=True)

    # The table downloaded is the one `oligokb grade --overrides` writes for the same judgement and reason.
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(
        "overrides:\n"
        f"  - outcome: {outcome}\n    statistic: hazard ratio\n    stratum: {g['stratum']}\n"
        f"    domain: {serious['domain']}\n    judgement: not serious\n"
        '    reason: "the reviewer\'s reading of the trials"\n',
        encoding="utf-8",
    )
    cli = run_cli(
        "grade", "--outcome", outcome, "--statistic", "hazard ratio", "--kb", KB, "--overrides", str(overrides)
    )
    assert cli.returncode == 0, cli.stderr
    markdown = _download(page, "Summary of findings (Markdown)", tmp_path)
    assert markdown.read_text(encoding="utf-8") == cli.stdout


def test_the_study_page_shows_its_risk_of_bias(server, page):
    page.goto(f"{server}/?view=Study&study=arto")
    page.get_by_text("Risk of bias").first.wait_for()
    _settled(page)
    text = _main_text(page)
    assert "RoB 2" in text and "some concerns" in text
    assert "francolini2023-jco" in text  # the report each quote was read in
    _shot(page, "07-study-rob")
    page.goto(f"{server}/?view=Study&study=cha2017-liver-sbrt")
    page.get_by_text("Risk of bias").first.wait_for()
    _settled(page)
    assert "ROBINS-I not assessed" in _main_text(page)
