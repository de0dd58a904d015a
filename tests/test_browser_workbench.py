"""The explorer as a reviewer's workbench, in headless Chromium (the fixtures and helpers of
tests/test_browser.py): a rebuilt knowledge base is seen without a restart, the About page counts as
`oligokb summary` does, a chosen outcome is never switched silently, a link reproduces a pooled view, the
pooled panel shows (and downloads) each stratum's inputs, the SPARQL console has its terms beside it, and no
page tells a browser user about command-line options.

Prints, without asserting, the time from navigation to the first evidence table and to the pooled tab's
first forest plot.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from benches.explorer import LINKED_POOL
from tests.conftest import run_cli
from tests.test_browser import ARTIFACTS, ROOT, _settled, _shot, _tab, browser, page, running_app  # noqa: F401 - browser and page are fixtures

pytestmark = pytest.mark.browser

SHEETS = ROOT / "data" / "extractions"
# A study with one report of its own, which no other report quotes: deleting both sheets deletes the study.
DELETED_STUDY = ("cha2017-liver-sbrt", "cha2017-roj")
CLI_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory) -> Path:
    """A copy of the bundled knowledge base the app reads (and a test rebuilds)."""
    target = tmp_path_factory.mktemp("kb") / "studies.ttl"
    shutil.copy2(ROOT / "data" / "studies.ttl", target)
    return target


@pytest.fixture(scope="module")
def server(kb_copy):
    with running_app({"OLIGOKB_KB": str(kb_copy)}, log_name="streamlit-workbench.log") as url:
        yield url


def _summary(kb_file: Path) -> tuple[int, int, int]:
    """(studies, publications, figures) as `oligokb summary` prints them."""
    result = run_cli("summary", "--kb", str(kb_file))
    assert result.returncode == 0, result.stderr
    found = re.search(r"(\d+) studies, (\d+) publications, (\d+) figures", result.stdout)
    assert found, result.stdout
    return tuple(int(v) for v in found.groups())  # type: ignore[return-value]


def _metrics(page) -> dict[str, str]:
    """The About page's counts: metric label -> value."""
    page.get_by_test_id("stMetric").first.wait_for()
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[data-testid=\"stMetric\"]')].map(m => ["
        "m.querySelector('[data-testid=\"stMetricLabel\"]').innerText.trim(),"
        "m.querySelector('[data-testid=\"stMetricValue\"]').innerText.trim()]))"
    )


def _about_counts(page) -> tuple[int, int, int]:
    shown = _metrics(page)
    return int(shown["studies"]), int(shown["publications"]), int(shown["figures"])


def _choice(page, label: str) -> str:
    """What a select box of the main page (not the sidebar's namesake) shows as chosen."""
    return page.get_by_test_id("stMain").get_by_role("combobox", name=label, exact=True).input_value()


def _main_text(page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def test_a_rebuilt_knowledge_base_is_seen_without_a_restart(server, page, kb_copy, tmp_path):
    study, report = DELETED_STUDY
    page.goto(f"{server}/?view=Study&study={study}")
    page.get_by_role("heading", name="Cha 2017").wait_for()
    _tab(page, "About")
    page.get_by_text("How to cite").wait_for()
    before = _summary(kb_copy)
    assert _about_counts(page) == before  # one definition of each count: the About page and `oligokb summary`
    page.get_by_role("code").filter(has_text=hashlib.sha256(kb_copy.read_bytes()).hexdigest()[:16]).wait_for()

    # Rebuild the file under the running app from the sheets minus one study (and its only report).
    sheets = tmp_path / "extractions"
    shutil.copytree(SHEETS, sheets)
    (sheets / "studies" / f"{study}.yaml").unlink()
    (sheets / "publications" / f"{report}.yaml").unlink()
    rebuilt = tmp_path / "studies.ttl"
    result = run_cli("build", "--sheets", str(sheets), "--out", str(rebuilt))
    assert result.returncode == 0, result.stderr
    os.replace(rebuilt, kb_copy)  # as a build writes it: an atomic rename
    after = _summary(kb_copy)
    assert after[0] == before[0] - 1 and after[2] < before[2], (before, after)

    # The next interaction (no reload, no restart) shows the new file: counts and hash agree with it.
    _tab(page, "Evidence")
    caption = page.get_by_text("figures ·", exact=False).first.inner_text()
    assert f"of {after[2]} figures" in caption and f"of {after[0]} studies" in caption, caption
    _tab(page, "About")
    page.get_by_role("code").filter(has_text=hashlib.sha256(kb_copy.read_bytes()).hexdigest()[:16]).wait_for()
    assert _about_counts(page) == after
    _shot(page, "10-about-after-rebuild")
    # The study page that was open says its study is gone, and the list no longer offers it.
    _tab(page, "Study")
    page.get_by_text(f"There is no study {study} in the knowledge base").wait_for()
    select = page.get_by_test_id("stSelectbox").filter(has_text="Study").first
    select.click()
    page.keyboard.type("2017")
    page.get_by_role("option").filter(has_text="Chan 2017").first.wait_for()  # the list is drawn
    assert page.get_by_role("option").filter(has_text="KIRAMS").count() == 0  # "Cha 2017, liver SBRT (KIRAMS)"
    page.keyboard.press("Escape")


def test_the_chosen_outcome_is_never_switched_silently(server, page):
    # Hazard ratios of overall survival, then a sidebar filter that keeps only progression-free survival.
    query = urlencode(
        {
            "view": "Pooled analysis",
            "pool_statistic": "hazard ratio",
            "pool_outcome": "overall survival",
            "outcome": "progression_free_survival",
        }
    )
    page.goto(f"{server}/?{query}")
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    _settled(page)
    page.get_by_text("Only the figures the sidebar filters keep").click()
    _settled(page)
    page.get_by_text("No figures for overall survival (hazard ratio) under the sidebar filters").wait_for()
    alternatives = page.get_by_text("Choose another outcome in “Outcome”", exact=False).first.inner_text()
    assert "progression-free survival" in alternatives, alternatives
    outcome = _choice(page, "Outcome")
    assert outcome.startswith("overall survival"), outcome  # still the user's choice, not the first alternative
    assert "pool_outcome=overall" in page.url, page.url
    page.locator('[data-testid="stImage"]').first.wait_for(
        state="detached", timeout=15_000
    )  # no plot of another outcome
    _shot(page, "11-pooled-outcome-kept")


def test_a_link_reproduces_the_pooled_view(server, page):
    settings = LINKED_POOL  # the bench times the same link
    start = time.monotonic()
    page.goto(f"{server}/?{urlencode(settings)}")
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    print(f"\ntime from navigation to the pooled tab's first forest plot: {time.monotonic() - start:.2f} s")
    _settled(page)
    shown = {
        label: _choice(page, label)
        for label in ("Statistic", "Outcome", "Time point (months)", "Method (τ² estimator)", "Test")
    }
    assert shown["Statistic"] == "landmark rate", shown
    assert shown["Outcome"] == "overall survival", shown
    assert shown["Time point (months)"] == "24", shown
    assert shown["Method (τ² estimator)"] == "DL" and shown["Test"] == "knha", shown
    level = _choice(page, "Stratum level (histology, oligo-state)")
    assert level.startswith("2 "), level
    chosen = page.get_by_test_id("stMultiSelect").filter(has_text="Stratify by").first.inner_text()
    assert "histology" in chosen
    tiers = page.get_by_test_id("stMultiSelect").filter(has_text="Evidence tiers pooled").first.inner_text()
    assert "trial's own full report" in tiers and "trial's own abstract" in tiers and "review" not in tiers
    # The forest plot's file is named by these settings.
    with page.expect_download() as info:
        page.get_by_role("button", name="Forest plot (SVG)").click()
    assert info.value.suggested_filename == "forest-overall_survival-landmark_rate-24m-DL.svg"
    _settled(page)
    # And the page keeps them in its URL as it runs.
    for key, value in settings[1:]:
        assert f"{key}={value}".replace(" ", "+") in page.url, (key, page.url)
    _shot(page, "12-pooled-from-link")


def test_the_pooled_panel_shows_and_downloads_each_stratums_inputs(server, page):
    page.goto(
        f"{server}/?view=Pooled+analysis&pool_statistic=hazard+ratio&pool_outcome=progression-free+survival"
        "&pool_section=Inputs"
    )
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    _settled(page)
    page.get_by_text("Inputs of each stratum").wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Inputs (CSV)").click()
    path = ARTIFACTS / info.value.suggested_filename
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows
    for column in ("stratum", "statistic_id", "study", "report", "tier", "yi", "sei", "vi", "weight (%)", "SE from"):
        assert column in rows[0], rows[0].keys()
    for row in rows:
        assert float(row["sei"]) ** 2 == pytest.approx(float(row["vi"]), rel=1e-9)  # sei is the root of vi
        assert row["SE from"], row
    by_stratum: dict[str, float] = {}
    for row in rows:
        by_stratum[row["stratum"]] = by_stratum.get(row["stratum"], 0.0) + float(row["weight (%)"])
    for stratum, total in by_stratum.items():
        assert total == pytest.approx(100.0, abs=1e-6), stratum  # the weights of a stratum are its whole
    _settled(page)
    text = _main_text(page)
    assert not CLI_OPTION.search(text), CLI_OPTION.search(text)  # words for a browser user, no CLI options
    _shot(page, "13-pooled-inputs")


def test_the_sparql_console_has_its_terms_beside_it(server, page):
    start = time.monotonic()
    page.goto(server)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    print(f"\ntime from navigation to the first evidence table: {time.monotonic() - start:.2f} s")
    _settled(page)
    _tab(page, "SPARQL")
    page.get_by_text("Terms for a query").wait_for()
    page.get_by_text("The prefixes as PREFIX lines", exact=False).click()
    assert "PREFIX okb: <https://w3id.org/oligokb/ns#>" in page.get_by_role("code").first.text_content()
    page.get_by_text("Classes and properties", exact=False).click()
    page.get_by_text("A query to start from", exact=False).click()
    page.get_by_role("button", name="Put it in the query box").click()
    _settled(page)
    page.wait_for_function(  # the button's rerun puts the query in the box
        "() => (document.querySelector('textarea[aria-label=\"Query\"]') || {}).value?.includes('COUNT(?stat)')"
    )
    page.get_by_role("button", name="Run query").click()
    page.get_by_text(re.compile(r"^\d[\d,]* rows$")).first.wait_for()  # the answer's caption
    _settled(page)
    page.get_by_test_id("stMain").get_by_test_id("stDataFrame").last.wait_for(state="visible")
    _shot(page, "14-sparql-terms")
    assert not CLI_OPTION.search(_main_text(page))

    # The glossary on the About page: a vocabulary's terms with notation, definition and IRI.
    _tab(page, "About")
    page.get_by_text("Glossary").wait_for()
    _settled(page)
    page.get_by_test_id("stMetric").first.wait_for()
    glossary = page.get_by_test_id("stDataFrame").last
    glossary.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    _shot(page, "15-about-glossary")
    assert not CLI_OPTION.search(_main_text(page))
