"""What the explorer's first page loads: its evidence table needs neither scipy nor matplotlib, statsmodels
or the GRADE engine (scipy.stats alone took 1.7 s of a 3.2 s first run; docs/performance.md, issue 17). The
page then asks for the pooled view's libraries in the background (explorer.pooled_view.warm_up), which loads
them. Checked on `sys.modules` in a fresh process, never on timings."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

#: Not for the evidence table: the numeric core's scipy, the plots, the GRADE and review engines.
NOT_FOR_THE_FIRST_PAGE = ("scipy", "matplotlib", "statsmodels", "analysis.grade", "analysis.review", "analysis.kb_pool")

#: Runs app.py's first page under AppTest with the warm-up recorded, not run; prints what was loaded.
FIRST_PAGE = """
import json, sys
import explorer.pooled_view as pooled_view
asked = []
pooled_view.warm_up = lambda: asked.append(True)  # app.py imports it from here on each run
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[2], default_timeout=120).run()
watched = json.loads(sys.argv[1])
captions = [c.value for c in at.caption if "figures ·" in c.value]
print("LOADED " + json.dumps({"loaded": [m for m in watched if m in sys.modules], "asked": len(asked),
      "exceptions": [e.value for e in at.exception], "caption": captions}))
"""

#: Runs the warm-up and waits for it as the pooled view does; prints what was loaded.
WARM_UP = """
import json, sys, threading
from explorer.pooled_view import warm_up, warmed
warm_up()
warm_up()  # once per process: the second call starts nothing
threads = [t for t in threading.enumerate() if t.name == "oligokb-warm-up"]
warmed()  # what the pooled view does first: wait for the imports
watched = json.loads(sys.argv[1])
print("LOADED " + json.dumps({"loaded": [m for m in watched if m in sys.modules], "threads": len(threads)}))
"""


def _run(script: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(NOT_FOR_THE_FIRST_PAGE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    line = [x for x in done.stdout.splitlines() if x.startswith("LOADED ")]
    assert line, done.stderr[-3000:]
    return json.loads(line[-1].removeprefix("LOADED "))


def test_the_first_page_draws_its_table_without_the_pooled_views_libraries():
    report = _run(FIRST_PAGE, str(ROOT / "app.py"))
    assert report["exceptions"] == []
    assert report["caption"], "the evidence table's count caption is drawn"
    assert report["loaded"] == [], report["loaded"]
    assert report["asked"] == 1  # and it asks for them once it is drawn


def test_the_warm_up_loads_them_once_in_the_background():
    report = _run(WARM_UP)
    assert report["threads"] == 1
    expected = {"scipy", "matplotlib", "analysis.grade", "analysis.review", "analysis.kb_pool"}  # not statsmodels
    assert set(report["loaded"]) == expected, report
