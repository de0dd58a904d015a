"""`oligokb-explorer` (explorer/launch.py): what it hands Streamlit, what it refuses, and that its preload fills
the cache the page reads. tests/test_browser*.py run the whole explorer through it in Chromium."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import launch
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def started(monkeypatch):
    """streamlit's CLI replaced by a recorder (no server starts); the preload skipped; the environment restored."""
    calls: list[list[str]] = []
    import streamlit.web.cli as streamlit_cli

    monkeypatch.setattr(streamlit_cli, "main", lambda args, prog_name: calls.append(list(args)))
    monkeypatch.setattr(launch, "preload", lambda: 0.0)
    for name in ("OLIGOKB_KB", "OLIGOKB_ENDPOINT"):  # restored afterwards, set or not (main sets them)
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    return calls


def test_the_options_reach_streamlit_and_the_page(started, tmp_path):
    kb = tmp_path / "my.ttl"
    kb.write_text("", encoding="utf-8")
    launch.main(["--kb", str(kb), "--port", "8600", "--headless", "--", "--server.fileWatcherType", "auto"])
    assert started == [
        ["run", str(ROOT / "app.py"), "--server.port", "8600", "--server.address", "localhost"]
        + ["--server.headless", "true", "--server.fileWatcherType", "auto"]
    ]
    assert os.environ["OLIGOKB_KB"] == str(kb.resolve())  # what app.py reads (explorer.data.kb_file)


def test_an_endpoint_is_passed_to_the_page(started):
    launch.main(["--endpoint", "http://localhost:7878/query"])
    assert os.environ["OLIGOKB_ENDPOINT"] == "http://localhost:7878/query"
    assert started[0][:2] == ["run", str(ROOT / "app.py")] and "--server.headless" not in started[0]


def test_a_missing_knowledge_base_is_refused_before_anything_starts(started, tmp_path):
    with pytest.raises(SystemExit, match=r"--kb .*nothere\.ttl: no such file"):
        launch.main(["--kb", str(tmp_path / "nothere.ttl")])
    assert started == []


def test_help_names_every_option():
    done = subprocess.run(
        [sys.executable, "-m", "explorer.launch", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for option in ("--kb", "--endpoint", "--port", "--address", "--headless"):
        assert option in done.stdout


def test_every_module_app_py_imports_is_preloaded():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:  # `from explorer import data`: explorer.data
            imported |= {f"{node.module}.{a.name}" if "." not in node.module else node.module for a in node.names}
    ours = {m for m in imported if m.split(".")[0] in ("explorer", "kb", "analysis", "terms")}
    assert ours <= set(launch.PAGE_MODULES), sorted(ours - set(launch.PAGE_MODULES))


def test_preload_fills_the_caches_the_page_reads_and_logs_nothing():
    # In a fresh process: after the preload, what every evidence page reads once per knowledge-base version
    # (explorer.cache.warm), called as the sidebar and the evidence view call it, is answered from Streamlit's shared caches (computing any of it again raises here),
    # and the preload wrote nothing to stderr (Streamlit's bare-mode warnings are expected and dropped).
    code = """
import contextlib, io, json
err = io.StringIO()
with contextlib.redirect_stderr(err):
    from explorer import launch
    launch.preload()
import explorer.cache as cache
from explorer import data as ex
def again(*_args, **_kwargs):
    raise AssertionError("computed again")
for module, name in ((cache, "evidence_table"), (cache, "kb_counts"), (cache, "find_conflicts"),
                     (ex, "filter_options"), (ex, "tier_choices"), (ex, "year_range")):
    setattr(module, name, again)
src = ex.source([])
# what the sidebar and the evidence view call (explorer/sidebar.py, explorer/evidence_view.py)
for read in (cache.table, cache.filter_choices, cache.tier_names, cache.year_range, cache.whole_counts):
    read(src)
cache.conflicts(src, tuple(ex.CONFLICT_MARK_COLUMNS))
print(json.dumps({"rows": len(cache.table(src)), "stderr": err.getvalue()}))
"""
    out = json.loads(run_python(code).strip().splitlines()[-1])
    assert out["rows"] > 100
    assert out["stderr"] == ""


def test_the_readme_command_is_installed_as_this_launcher():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["oligokb-explorer"] == "explorer.launch:main"
    first_lines = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    assert "uv run oligokb-explorer" in first_lines


def test_the_launcher_serves_and_says_only_what_a_user_needs(tmp_path):
    # For real: `python -m explorer.launch` (what `oligokb-explorer` runs) answers Streamlit's health check, and its
    # output holds its own two lines and Streamlit's URL, without the bare-mode warnings or the "[server] option
    # changed, restart" warning (the server had not started when the options were read again).
    import signal

    from benches.common import free_port, wait_until_answers

    port = free_port()
    log = tmp_path / "launch.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "explorer.launch", "--headless", "--port", str(port), "--address", "127.0.0.1"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_answers(f"http://127.0.0.1:{port}/_stcore/health", proc, 90)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    text = log.read_text(encoding="utf-8")
    assert "oligokb-explorer: loaded in" in text and f"127.0.0.1:{port}" in text, text
    for unwanted in ("config option section was detected", "No runtime found", "ScriptRunContext", "Warning:"):
        assert unwanted not in text, text
