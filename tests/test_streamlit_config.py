"""The explorer's Streamlit settings (.streamlit/config.toml): no file watcher (it held every page back) and
no usage statistics sent (the explorer makes no outbound calls). Streamlit reads the file from the directory
`streamlit run app.py` starts in: the project's, as the README says."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT, run_python


def test_the_explorer_runs_without_a_file_watcher_and_sends_no_usage_statistics():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_streamlit_reads_these_settings_from_the_project_directory():
    code = (
        "from streamlit import config\n"
        "config.get_config_options(force_reparse=True)\n"
        "print(config.get_option('server.fileWatcherType'), config.get_option('browser.gatherUsageStats'))"
    )
    assert run_python(code).split() == ["none", "False"]
