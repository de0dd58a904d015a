"""Where a person waits in the explorer: the three times of issue 17, in headless Chromium (Debian's
/usr/bin/chromium through playwright), on the bundled knowledge base, measured the same way each time.

    uv run python -m benches.explorer                    # median of 3 rounds
    uv run python -m benches.explorer --repeat 5 --out /tmp/explorer.json

Each round starts the explorer afresh on a free port as the README does (`oligokb-explorer`, explorer.launch)
and times each wait in a new browser session
(empty cache), as tests/test_browser*.py open their pages, by the browser's own clock: from the start of the
navigation to the first frame in which the element is laid out (a filter change: from the press on the
option to the first frame with the new caption). `<wait>_driver` is the same wait as playwright sees it,
from its call to its seeing the element: its round trips and, for a click, its actionability checks add
time that a person does not wait for.
- first_table: the first evidence table; cold (the server's first page), then warm (the server has drawn a
  page before); first_table_cold_streamlit_run: the server's first page under `streamlit run app.py`, which
  loads the page's libraries and table in that page's run;
- filter_change: a histology chosen in the sidebar, from the click to the new count caption; cold, warm;
- forest_plot_tab: the pooled tab's forest plot as a person reaches it, by clicking the tab on the evidence
  page, from the press to the first frame with the plot; cold (a newcomer's walk on a fresh server: the first
  table, a filter, then the tab: the server's first pooled view), warm (the server has pooled before, these
  rows are new to it);
- forest_plot: the pooled tab's first forest plot from a link, in a new session (the page loads Streamlit's
  scripts first); cold (the server's first pooled view: the analysis imports, unless the background warm-up
  has run), warm (the server has pooled before, these settings are new to it);
- *_cached: the same session again, Streamlit's scripts in the browser's cache: forest_plot_cached_new a
  pool new to the server (the server's work is then on the critical path), forest_plot_cached a pool the
  server has cached, first_table_cached the evidence table;
- floor_*: a minimal Streamlit page (a title, one filter, a table of the bundled KB's size), and one with only
  the default pool's forest plot (the SVG of `oligokb forest --svg-text`), measured the same way: what Streamlit and this
  browser take here before the explorer does anything (--no-floor skips them).
Targets (docs/performance.md, issue 17): table <= 2 s, filter change <= 0.3 s, forest plot <= 1 s.
The machine (nproc, load average before and after) is recorded: the seconds move with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benches.common import free_port, machine, wait_until_answers

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLE = '[data-testid="stDataFrame"]'
FOREST = '[data-testid="stImage"] img'
#: The pooled views timed: the default one (hazard ratios of overall survival), and the link of
#: tests/test_browser_workbench.py (landmark rates at 24 months, DL, stratified by histology).
DEFAULT_POOL = {"view": "Pooled analysis", "pool_statistic": "hazard ratio", "pool_outcome": "overall survival"}
LINKED_POOL = [
    ("view", "Pooled analysis"),
    ("pool_statistic", "landmark rate"),
    ("pool_outcome", "overall survival"),
    ("pool_timepoint", "24"),
    ("pool_method", "DL"),
    ("pool_test", "knha"),
    ("pool_by", "histology"),
    ("pool_level", "2"),
    ("pool_tiers", "trial_full_report"),
    ("pool_tiers", "trial_abstract"),
]
#: A third pool, first asked for in a session whose browser has Streamlit's scripts cached.
NEW_POOL = {"view": "Pooled analysis", "pool_statistic": "hazard ratio", "pool_outcome": "progression-free survival"}
TARGETS = {"first_table": 2.0, "filter_change": 0.3, "forest_plot": 1.0}


@contextmanager
def streamlit_app(
    env: dict[str, str] | None = None,
    log: Path | None = None,
    cwd: Path = ROOT,
    script: str = "app.py",
    launcher: bool = False,
) -> Iterator[str]:
    """`streamlit run app.py` (or `script`) on a free port (with these environment variables, e.g. OLIGOKB_KB):
    its URL; launcher=True: `oligokb-explorer` (explorer.launch, the README's command), which loads the page's
    libraries and table before it serves. The server runs in its own process group, stopped (with its query
    workers) on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out = open(log, "w") if log else subprocess.DEVNULL
    if launcher:
        argv = [sys.executable, "-m", "explorer.launch", "--headless", "--port", str(port), "--address", "127.0.0.1"]
        argv += ["--", "--browser.gatherUsageStats", "false"]
    else:
        argv = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true"]
        argv += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})}
    )
    try:
        wait_until_answers(f"{url}/_stcore/health", proc, 90)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=15)
        if log:
            out.close()  # type: ignore[union-attr]


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return round(time.perf_counter() - start, 3)


def _settled(page: Any) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')"
    )


#: Installed in every page before Streamlit's scripts: the browser's own clock (ms since the navigation began)
#: at the first frame in which an element of each watched kind is laid out on screen. The driver's clock
#: (playwright's round trips and, for a click, its actionability checks: scrolling, waiting for the element
#: to be stable) adds time a person does not wait for (docs/performance.md); both are recorded.
WATCH_JS = """(selectors) => {
  window.__oligokbSeen = {};
  const look = () => {
    for (const selector of selectors) {
      if (window.__oligokbSeen[selector] !== undefined) continue;
      const el = document.querySelector(selector);
      if (el) { const r = el.getBoundingClientRect(); if (r.width > 0 && r.height > 0) window.__oligokbSeen[selector] = performance.now(); }
    }
    if (Object.keys(window.__oligokbSeen).length < selectors.length) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""

#: Before a click: the browser's clock at the press of the pointer (the person's click).
WATCH_PRESS_JS = """() => {
  window.__oligokbPress = undefined;
  document.addEventListener('pointerdown', () => { window.__oligokbPress ??= performance.now(); }, {capture: true, once: true});
}"""


#: Before a filter is chosen (after WATCH_PRESS_JS): the browser's clock at the first frame after the press in
#: which the count caption's text has changed.
WATCH_CAPTION_JS = """(before) => {
  window.__oligokbChanged = undefined;
  const caption = () => [...document.querySelectorAll('p')].find(p => p.innerText.includes('figures ·'));
  const look = () => {
    const el = caption();
    if (window.__oligokbPress !== undefined && el && el.innerText !== before) { window.__oligokbChanged = performance.now(); return; }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""


def _time_to(page: Any, url: str, selector: str, times: dict[str, float], key: str) -> None:
    """times[key]: seconds from navigating to `url` to the first frame with `selector` on screen (a table, a
    forest plot), by the browser's clock; times[key + "_driver"]: the same wait as playwright sees it."""

    def go() -> None:
        page.goto(url)
        page.locator(selector).first.wait_for(state="visible")

    times[key + "_driver"] = _timed(go)
    page.wait_for_function("(s) => window.__oligokbSeen && window.__oligokbSeen[s] !== undefined", arg=selector)
    times[key] = round(page.evaluate("(s) => window.__oligokbSeen[s]", selector) / 1000, 3)
    _settled(page)


def _filter_change(page: Any, times: dict[str, float], key: str) -> None:
    """Choose NSCLC in the sidebar's histology filter: times[key] is the seconds from the press on the option
    to the first frame with the new count caption, by the browser's clock; times[key + "_driver"] from
    playwright's click call to its seeing that frame recorded."""
    before = page.get_by_text("figures ·", exact=False).first.inner_text()
    page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first.click()
    option = page.get_by_role("option").filter(has_text="nsclc").first
    option.wait_for(state="visible")
    page.evaluate(WATCH_PRESS_JS)
    page.evaluate(WATCH_CAPTION_JS, before)
    times[key + "_driver"] = _timed(
        lambda: (option.click(), page.wait_for_function("() => window.__oligokbChanged !== undefined"))
    )
    times[key] = round(page.evaluate("() => window.__oligokbChanged - window.__oligokbPress") / 1000, 3)
    page.keyboard.press("Escape")
    _settled(page)


def _open_pooled_tab(page: Any, times: dict[str, float], key: str) -> None:
    """With the evidence page on screen, click the "Pooled analysis" tab, as a person reaches the pooled view:
    times[key] is the seconds from the press on the tab to the first frame with the forest plot, by the
    browser's clock; times[key + "_driver"] from playwright's click call to its seeing the plot."""
    tab = page.get_by_role("tab", name="Pooled analysis")
    tab.wait_for(state="visible")
    page.evaluate(WATCH_PRESS_JS)
    times[key + "_driver"] = _timed(lambda: (tab.click(), page.locator(FOREST).first.wait_for(state="visible")))
    page.wait_for_function("(s) => window.__oligokbSeen[s] !== undefined", arg=FOREST)
    seen = page.evaluate("(s) => window.__oligokbSeen[s] - window.__oligokbPress", FOREST)
    times[key] = round(seen / 1000, 3)
    _settled(page)


def _streamlit_run_first_page(browser: Any, env: dict[str, str], log: Path | None, times: dict[str, float]) -> None:
    with streamlit_app(env, log) as url, session(browser) as page:  # `streamlit run app.py`'s first page
        _time_to(page, url, TABLE, times, "first_table_cold_streamlit_run")


def one_round(
    browser: Any, env: dict[str, str], log: Path | None, pooled: bool = True, plain_first: bool = True
) -> dict[str, float]:
    """A fresh server; each wait in a new browser session with an empty cache, as the browser tests open
    each page (the first page of a session also loads Streamlit's own scripts: about 1 s here).
    pooled=False: the evidence page's waits only (a large KB, where a forest plot of every study is not a
    target). `streamlit run app.py`'s first page is timed before the round's own servers (plain_first) or
    after them: the bench alternates, so neither start pays for coming first."""
    times: dict[str, float] = {}
    if plain_first:
        _streamlit_run_first_page(browser, env, log, times)
    times |= _launched_round(browser, env, log, pooled)
    if not plain_first:
        _streamlit_run_first_page(browser, env, log, times)
    return times


def _launched_round(browser: Any, env: dict[str, str], log: Path | None, pooled: bool) -> dict[str, float]:
    times: dict[str, float] = {}
    with streamlit_app(env, log, launcher=True) as url:
        with session(browser) as page:
            _time_to(page, url, TABLE, times, "first_table_cold")
            _filter_change(page, times, "filter_change_cold")
        if not pooled:
            with session(browser) as page:
                _time_to(page, url, TABLE, times, "first_table_warm")
                _filter_change(page, times, "filter_change_warm")
                _time_to(page, url, TABLE, times, "first_table_cached")
            return times
        with session(browser) as page:
            _time_to(page, f"{url}/?{urlencode(DEFAULT_POOL)}", FOREST, times, "forest_plot_cold")
        with session(browser) as page:
            _time_to(page, url, TABLE, times, "first_table_warm")
            _filter_change(page, times, "filter_change_warm")
            _open_pooled_tab(page, times, "forest_plot_tab_warm")  # the server has pooled before; not these rows
        with session(browser) as page:
            _time_to(page, f"{url}/?{urlencode(LINKED_POOL)}", FOREST, times, "forest_plot_warm")
            # the same session again, Streamlit's scripts in the browser's cache: a pool new to the server (its
            # work is then what a person waits for), and one the server has cached
            _time_to(page, f"{url}/?{urlencode(NEW_POOL)}", FOREST, times, "forest_plot_cached_new")
            _time_to(page, f"{url}/?{urlencode(DEFAULT_POOL)}", FOREST, times, "forest_plot_cached")
            _time_to(page, url, TABLE, times, "first_table_cached")
    with streamlit_app(env, log, launcher=True) as url, session(browser) as page:
        # a newcomer's walk on a fresh server: the first table, a filter, then the pooled tab (the server's
        # first pooled view, of the filtered rows)
        _time_to(page, url, TABLE, {}, "untimed")
        _filter_change(page, {}, "untimed")
        _open_pooled_tab(page, times, "forest_plot_tab_cold")
    return times


@contextmanager
def session(browser: Any) -> Iterator[Any]:
    """A page in a new browser context (no cookies, no cache), as tests/test_browser.py's `page` fixture."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_init_script(f"({WATCH_JS})({json.dumps([TABLE, FOREST])})")
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        yield page
    finally:
        context.close()


#: The floor: a Streamlit page with a title, one sidebar filter, a count caption and a table of the bundled
#: KB's size, and nothing of the explorer's.
FLOOR_APP = """import pandas as pd
import streamlit as st
st.markdown("## oligokb evidence explorer")
with st.sidebar:
    chosen = st.multiselect("Histology", ["nsclc", "prostate", "colorectal"])
rows = 484 - 100 * len(chosen)
st.caption(f"{rows} of 484 figures · a table")
st.dataframe(pd.DataFrame({"figure": range(rows), "value": ["0.5"] * rows}))
"""


#: The forest plot's floor: a Streamlit page showing the default pool's forest plot (the SVG that `oligokb
#: forest --svg-text` draws, read from a file: its text as text, as the pooled tab shows it), and nothing else.
FLOOR_PLOT_APP = """import streamlit as st
st.markdown("## oligokb evidence explorer")
st.image(open("forest.svg", encoding="utf-8").read(), caption="Forest plot", width="stretch")
"""


def floor_round(browser: Any, log: Path | None, kb: Path | None = None, plot: bool = True) -> dict[str, float]:
    """FLOOR_APP's first table (cold, then in a new session) and a filter change, and FLOOR_PLOT_APP's plot
    (in a new session, then with Streamlit's scripts cached): what Streamlit and this browser take on this
    machine before the explorer does anything of its own. plot=False: the table's floor only."""
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "app.py").write_text(FLOOR_APP, encoding="utf-8")
        (Path(tmp) / "plot.py").write_text(FLOOR_PLOT_APP, encoding="utf-8")
        with streamlit_app(None, log, cwd=Path(tmp)) as url:
            with session(browser) as page:
                _time_to(page, url, TABLE, times, "floor_first_table_cold")
            with session(browser) as page:
                _time_to(page, url, TABLE, times, "floor_first_table_warm")
                _filter_change(page, times, "floor_filter_change")
        if not plot:
            return times
        forest = [str(ROOT / ".venv" / "bin" / "oligokb"), "forest", "--outcome", DEFAULT_POOL["pool_outcome"]]
        forest += ["--statistic", DEFAULT_POOL["pool_statistic"], "--svg-text", "--out", str(Path(tmp) / "forest.svg")]
        subprocess.run(forest + (["--kb", str(kb)] if kb else []), cwd=ROOT, check=True, capture_output=True)
        with streamlit_app(None, log, cwd=Path(tmp), script="plot.py") as url:
            with session(browser) as page:
                _time_to(page, url, FOREST, times, "floor_forest_plot_warm")
                _time_to(page, url, FOREST, times, "floor_forest_plot_cached")
    return times


def measure(
    repeat: int, kb: Path | None, log: Path | None, floor: bool = True, pooled: bool = True
) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    env = {"OLIGOKB_KB": str(kb)} if kb else {}
    before = machine()
    rounds: list[dict[str, float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for _ in range(repeat):
                rounds.append(
                    one_round(browser, env, log, pooled, plain_first=len(rounds) % 2 == 0)
                    | (floor_round(browser, log, kb, pooled) if floor else {})
                )
                print(json.dumps(rounds[-1]), file=sys.stderr)
        finally:
            browser.close()
    medians = {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}
    return {
        "repeat": repeat,
        "kb": str(kb or ROOT / "data" / "studies.ttl"),
        "machine_before": before,
        "machine_after": machine(),
        "targets_s": TARGETS,
        "median_s": medians,
        "rounds": rounds,
    }


#: Each wait beside the floor's wait of the same kind, in the same round (the difference is the explorer's own
#: share). The first table with Streamlit's scripts cached has no floor: that floor is measured in new sessions.
FLOOR_OF = {
    "first_table_cold": "floor_first_table_cold",
    "first_table_cold_streamlit_run": "floor_first_table_cold",
    "first_table_warm": "floor_first_table_warm",
    "filter_change_cold": "floor_filter_change",
    "filter_change_warm": "floor_filter_change",
    "forest_plot_cold": "floor_forest_plot_warm",
    "forest_plot_warm": "floor_forest_plot_warm",
    "forest_plot_cached_new": "floor_forest_plot_cached",
    "forest_plot_cached": "floor_forest_plot_cached",
}


def table(result: dict[str, Any]) -> str:
    """The medians as a Markdown table (docs/performance.md quotes it)."""
    lines = ["| wait | median s (min-max) | over the floor s | target s |", "| --- | --- | --- | --- |"]
    rounds = result["rounds"]
    for key, median in result["median_s"].items():
        seconds = [r[key] for r in rounds]
        target = next((f"{t:g}" for name, t in TARGETS.items() if key.startswith(name)), "-")
        floor = FLOOR_OF.get(key)
        over = f"{statistics.median(r[key] - r[floor] for r in rounds):+.2f}" if floor and floor in rounds[0] else "-"
        lines.append(f"| {key} | {median:.2f} ({min(seconds):.2f}-{max(seconds):.2f}) | {over} | {target} |")
    lines.append(
        f"\nnproc {result['machine_before']['nproc']}, load average {result['machine_before']['load_average']} "
        f"before, {result['machine_after']['load_average']} after; median of {result['repeat']} rounds."
    )
    return "\n".join(lines)


def compare(repeat: int, before: Path, kb: Path | None) -> dict[str, object]:
    """This tree against `before` (another checkout of the project, e.g. `git archive COMMIT`), both servers
    running at once and each round timing both, in turn, in new browser sessions: the first table (new session,
    then scripts cached), a filter change, the pooled tab's forest plot of a pool both servers have cached (new
    session, then scripts cached), and the forest plot from a click on the pooled tab. Under one load, so the
    difference holds where the seconds do not."""
    from contextlib import ExitStack

    from playwright.sync_api import sync_playwright

    env = {"OLIGOKB_KB": str(kb or ROOT / "data" / "studies.ttl")}
    trees = {"before": before.resolve(), "after": ROOT}
    rounds: list[dict[str, float]] = []
    start = machine()
    with sync_playwright() as p, ExitStack() as servers:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        urls = {side: servers.enter_context(streamlit_app(env, None, cwd=tree)) for side, tree in trees.items()}
        for url in urls.values():  # each server's first page and first pools, untimed
            with session(browser) as page:
                _time_to(page, f"{url}/?{urlencode(DEFAULT_POOL)}", FOREST, {}, "untimed")
                _time_to(page, url, TABLE, {}, "untimed")
                _open_pooled_tab(page, {}, "untimed")
        for i in range(repeat):
            times: dict[str, float] = {}
            for side in ("before", "after") if i % 2 == 0 else ("after", "before"):
                url = urls[side]
                with session(browser) as page:
                    _time_to(page, url, TABLE, times, f"{side}_first_table")
                    _filter_change(page, times, f"{side}_filter_change")
                    _time_to(page, url, TABLE, times, f"{side}_first_table_cached")
                with session(browser) as page:
                    _time_to(page, f"{url}/?{urlencode(DEFAULT_POOL)}", FOREST, times, f"{side}_forest_plot")
                    _time_to(page, f"{url}/?{urlencode(DEFAULT_POOL)}", FOREST, times, f"{side}_forest_plot_cached")
                with session(browser) as page:
                    _time_to(page, url, TABLE, {}, "untimed")
                    _open_pooled_tab(page, times, f"{side}_forest_plot_tab")
            rounds.append({k: v for k, v in times.items() if not k.endswith("_driver")})
            print(json.dumps(rounds[-1]), file=sys.stderr)
        browser.close()
    medians = {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}
    return {
        "before": str(before),
        "repeat": repeat,
        "machine_before": start,
        "machine_after": machine(),
        "median_s": medians,
        "rounds": rounds,
    }


def comparison_table(result: dict[str, Any]) -> str:
    """Before and after, each the median of its rounds, and the median of each round's difference."""
    lines = ["| wait (browser's clock) | before s | after s | after - before, median of rounds s | target s |"]
    lines.append("| --- | --- | --- | --- | --- |")
    rounds, medians = result["rounds"], result["median_s"]
    for key in [k.removeprefix("after_") for k in medians if k.startswith("after_")]:
        diff = statistics.median(r[f"after_{key}"] - r[f"before_{key}"] for r in rounds)
        target = next((f"{t:g}" for name, t in TARGETS.items() if key.startswith(name)), "-")
        lines.append(
            f"| {key} | {medians[f'before_{key}']:.2f} | {medians[f'after_{key}']:.2f} | {diff:+.2f} | {target} |"
        )
    lines.append(
        f"\nnproc {result['machine_before']['nproc']}, load average {result['machine_before']['load_average']} "
        f"before, {result['machine_after']['load_average']} after; median of {result['repeat']} rounds."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="Rounds, each on a fresh server (default 3).")
    parser.add_argument("--kb", type=Path, help="The knowledge base file (default: the bundled data/studies.ttl).")
    parser.add_argument("--out", type=Path, help="Also write the results here as JSON.")
    parser.add_argument("--log", type=Path, help="Write the server's output here (default: discarded).")
    parser.add_argument(
        "--no-floor", action="store_true", help="Skip the floor (a minimal Streamlit page with one table)."
    )
    parser.add_argument(
        "--tables-only",
        action="store_true",
        help="Only the evidence page's waits (for a large KB, where the pooled view's forest plot of every study is "
        "not a target).",
    )
    parser.add_argument(
        "--before-tree",
        type=Path,
        help="Also run this checkout of the project (e.g. `git archive COMMIT | tar -x -C DIR`) and time both in "
        "each round, in turn: before and after under the same load (replaces the rounds above).",
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    if args.before_tree is not None:
        if not (args.before_tree / "app.py").is_file():
            raise SystemExit(f"--before-tree {args.before_tree}: no app.py there (a checkout of the project is needed)")
        result = compare(max(1, args.repeat), args.before_tree, args.kb)
        print(comparison_table(result))
    else:
        result = measure(max(1, args.repeat), args.kb, args.log, floor=not args.no_floor, pooled=not args.tables_only)
        print(table(result))
    if args.out:
        from terms.files import write_atomic

        write_atomic(args.out, (json.dumps(result, indent=2) + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
