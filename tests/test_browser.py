"""End to end: the explorer in headless Chromium (Debian's /usr/bin/chromium) through playwright.

Starts the explorer as the README does (`oligokb-explorer`, which serves app.py with Streamlit) on a free
port, sets filters, opens a study, runs a pooled analysis,
downloads the forest plot (checks the file's magic bytes), runs SPARQL queries (accepted, refused), and
asserts that no exception box appears on any view. Screenshots go to test-artifacts/ (gitignored).
Prints, without asserting, the time to the first rendered table and to a filter change.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benches.explorer import CHROMIUM, CHROMIUM_ARGS, streamlit_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
EXCEPTION = '[data-testid="stException"]'
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


@contextmanager
def running_app(env: dict[str, str] | None = None, log_name: str = "streamlit.log") -> Iterator[str]:
    """`oligokb-explorer` on a free port (with these environment variables, e.g. OLIGOKB_KB): its URL.
    The same server as the explorer bench's (benches/explorer.py), so the printed times compare with it."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_app(env, ARTIFACTS / log_name, launcher=True) as url:
        yield url


@pytest.fixture(scope="module")
def server():
    with running_app() as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


def _settled(page) -> None:
    """Wait until the script run is over (no running indicator) and assert no exception box."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=TIMEOUT_MS,
    )
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def _shot(page, name: str) -> None:
    """The whole view: Streamlit scrolls an inner container, so grow the viewport to its height first."""
    size = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 5000))})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size(size)


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    _settled(page)


def _caption_count(page) -> str:
    return page.get_by_text("figures ·", exact=False).first.inner_text()


def test_explorer_end_to_end(server, page):
    start = time.monotonic()
    page.goto(server)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    first_table = time.monotonic() - start
    _settled(page)
    print(f"\ntime to first rendered table: {first_table:.2f} s")
    before = _caption_count(page)
    # Unfiltered, every figure is shown: also those of a report without a year (seed 001 prints none),
    # which the year slider must not drop while it spans the whole range.
    shown, total = re.search(r"(\d+) of (\d+) figures", before).groups()
    assert shown == total, before
    _shot(page, "01-evidence")

    # Filters: a histology (tree: NSCLC includes EGFR-mutant NSCLC) and the secondary-report filter.
    sidebar = page.get_by_test_id("stSidebar")
    histology = sidebar.get_by_test_id("stMultiSelect").first
    histology.click()
    option = page.get_by_role("option").filter(has_text="nsclc").first
    start = time.monotonic()
    option.click()
    page.wait_for_function(
        "(before) => { const el = [...document.querySelectorAll('p')].find(p => p.innerText.includes('figures ·'));"
        " return el && el.innerText !== before; }",
        arg=before,
    )
    print(f"time to a filter change: {time.monotonic() - start:.2f} s")
    page.keyboard.press("Escape")
    _settled(page)
    assert "histology=" in page.url, page.url
    after = _caption_count(page)
    assert after != before
    _shot(page, "02-evidence-filtered")

    # The URL keeps the selection: a fresh page with it shows the same count.
    shared = page.url
    page.goto(shared)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible")
    _settled(page)
    assert _caption_count(page) == after

    # Quote on demand: select the first row of the table (the selection column at its left edge).
    page.goto(server)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(state="visible")
    _settled(page)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 17)
    page.get_by_role("button", name="Open the study page").wait_for()
    _settled(page)
    _shot(page, "02b-evidence-quote")
    page.get_by_role("button", name="Open the study page").click()
    _settled(page)
    page.get_by_text("As the authors label it").wait_for()

    # Study page: choose another study.
    select = page.get_by_test_id("stSelectbox").filter(has_text="Study").first
    select.click()
    page.keyboard.type("SABR-COMET")
    page.get_by_role("option").filter(has_text="SABR-COMET").first.click()
    page.get_by_role("heading", name="SABR-COMET").wait_for()
    _settled(page)
    page.get_by_text("As the authors label it").wait_for()
    assert "study=sabr-comet" in page.url, page.url
    _shot(page, "03-study")

    # Curation flags: a flagged figure carries the ⚑ mark on its row, and the study page lists the flags.
    page.goto(f"{server}/?view=Study&study=fode-hoyer2015-sbrt")
    page.get_by_text("Curation flags").first.wait_for()
    _settled(page)
    grids = page.locator('[data-testid="stDataFrame"]')
    flagged = grids.filter(has_text="⚑ direction_doubtful")
    flagged.first.wait_for(state="attached")
    # the flags table and the row marks of the figures table (a grid draws its cells once it is in view)
    deadline = time.monotonic() + 30
    while flagged.count() < 2 and time.monotonic() < deadline:
        grids.last.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
    assert flagged.count() >= 2, flagged.count()
    _shot(page, "03b-study-flags")

    # Pooled analysis and its downloads.
    _tab(page, "Pooled analysis")
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    _settled(page)
    page.get_by_text("not read in the trial's own report", exact=False).first.wait_for()
    _shot(page, "04-pooled")
    # Every tier by default; under the plot, the sensitivity analysis of the trials' own reports only.
    _tab(page, "Trials' own reports")
    page.get_by_text("Sensitivity analysis: the trials' own reports only").wait_for()
    _settled(page)
    for fmt, magic in (("SVG", b"<?xml"), ("PNG", b"\x89PNG\r\n\x1a\n"), ("PDF", b"%PDF-")):
        with page.expect_download() as info:
            page.get_by_role("button", name=f"Forest plot ({fmt})").click()
        path = ARTIFACTS / info.value.suggested_filename
        info.value.save_as(path)
        head = path.read_bytes()[:16]
        assert head.startswith(magic), (fmt, head)
        if fmt == "SVG":
            assert b"<svg" in path.read_bytes()[:2000]
    _settled(page)

    # SPARQL: an accepted query, then a refused one.
    _tab(page, "SPARQL")
    page.get_by_role("button", name="Run query").click()
    page.get_by_text(re.compile(r"^\d[\d,]* rows")).first.wait_for()  # the answer's caption
    _settled(page)
    # the answer is the last table (those of the terms beside the console sit in closed expanders)
    page.locator('[data-testid="stDataFrame"]').last.wait_for(state="visible")
    _shot(page, "05-sparql")
    area = page.get_by_role("textbox", name="Query")
    area.fill("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    area.press("Control+Enter")
    page.get_by_role("button", name="Run query").click()
    page.get_by_text("SERVICE is refused").wait_for()
    _settled(page)

    # About.
    _tab(page, "About")
    page.get_by_text("How to cite").wait_for()
    page.get_by_role("code").filter(has_text="sha256").first.wait_for()
    _settled(page)
    # The search record as a PRISMA flow diagram (Graphviz, drawn in the page).
    page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(state="visible")
    assert "Records identified" in page.locator('[data-testid="stGraphVizChart"] svg').first.text_content()
    _shot(page, "06b-about-prisma")
    _shot(page, "06-about")
