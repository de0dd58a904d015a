"""What the CLI loads before it does anything, and what each knowledge-base command loads: a library a command
does not use costs every run of it its import time (scipy alone ~0.3 s; docs/performance.md, "Where a person
waits: the CLI"). Checked on `sys.modules` in a fresh process, never on timings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_python

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
import gc
store = "kb.store" in sys.modules and any(
    o._store is not None for o in gc.get_objects() if isinstance(o, sys.modules["kb.store"].OxigraphKB)
)
sys.stderr.write("LOADED " + json.dumps({"loaded": loaded, "code": code, "store": store}) + "\\n")
"""


def probe(watched: tuple[str, ...], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(watched), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    line = [x for x in done.stderr.splitlines() if x.startswith("LOADED ")]
    assert line, done.stderr[-2000:]
    report = json.loads(line[-1].removeprefix("LOADED "))
    assert report["code"] == 0, done.stderr[-2000:]
    return report


def loaded(watched: tuple[str, ...], *args: str) -> list[str]:
    return probe(watched, *args)["loaded"]


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded(NOT_AT_STARTUP) == []


def test_help_loads_no_heavy_library() -> None:
    # typer itself loads pydantic to read the options (typer._adapters): not ours to defer
    watched = tuple(p for p in NOT_AT_STARTUP if p != "pydantic")
    assert loaded(watched, "pool", "kb", "--help") == []
    assert loaded(watched, "--help") == []


#: Loaded only for what a command does: rich's console (a message), the other commands' modules (cli.__init__
#: imports the invoked command's only).
NOT_FOR_ONE_POOL = ("rich.console", "cli.build_commands", "cli.query_commands")


def test_one_pool_imports_no_other_command_and_opens_no_store() -> None:
    args = ("pool", "kb", "--outcome", "overall survival", "--statistic", "hazard ratio", "--json")
    report = probe(NOT_FOR_ONE_POOL, *args)
    assert report["loaded"] == []
    assert report["store"] is False  # the evidence from the materialised table: rdflib is imported, not used
    assert loaded(NOT_FOR_ONE_POOL, *args[:-1], "--method", "DL", "--level", "90", "--timepoint", "24") == []


def test_the_guards_patterns_are_compiled_when_a_query_is_checked_not_at_import() -> None:
    code = (
        "import kb.sparql_guard as g\n"
        "compiled = [p for p in (g._prologue, g._service_word, g._unknown_function) if p.cache_info().currsize]\n"
        "print(len(compiled), g.first_keyword('PREFIX a: <x:> SELECT'), g._prologue.cache_info().currsize)"
    )
    assert run_python(code).split() == ["0", "SELECT", "1"]


@pytest.mark.parametrize(
    "args",
    [("summary",), ("query", "--name", "studies"), ("export",), ("conflicts",), ("cite",)],
    ids=lambda a: " ".join(a),
)
def test_a_reading_command_loads_no_plotting_statistics_or_schema_nor_the_store(args: tuple[str, ...]) -> None:
    probe((), *args)  # the first run after a build materialises the tables (and loads the store for it)
    report = probe(NOT_FOR_READING, *args)
    assert report["loaded"] == []
    assert report["store"] is False  # answered from the materialised tables (kb.materialise)


def test_one_pool_loads_no_plotting_or_explorer() -> None:
    args = ("pool", "kb", "--outcome", "overall survival", "--statistic", "hazard ratio", "--json")
    assert loaded(("matplotlib", "statsmodels", "pyshacl", "streamlit", "extract", "server"), *args) == []


def test_primary_reports_are_counted_from_the_role_iri_or_its_label() -> None:
    from kb.summary import is_primary
    from terms.namespaces import PUBLICATION_ROLE

    assert is_primary(PUBLICATION_ROLE.primary) and is_primary(str(PUBLICATION_ROLE.primary))
    assert not is_primary(PUBLICATION_ROLE.secondary)
    assert is_primary("primary") and not is_primary("secondary")  # a back-end that answers labels


def test_summary_counts_the_primary_reports_of_the_sheets_without_parsing_the_vocabularies() -> None:
    code = (
        "from pathlib import Path\nfrom kb.store import load_store\nfrom kb.query import run_named\n"
        "from kb.summary import kb_counts\nfrom kb.export import evidence_table\n"
        "from terms.vocabulary import vocabulary_graph\nkb = load_store(Path('data/studies.ttl'))\n"
        "tables = evidence_table(kb), *(run_named(kb, n, lexical=True) for n in ('studies', 'publications'))\n"
        "vocabulary_graph.cache_clear()  # a cold table cache parses it to build the tables, not to count\n"
        "c = kb_counts(*tables)\nprint(c.primary_reports, vocabulary_graph.cache_info().currsize)"
    )
    out = run_python(code)
    sheets = sorted((ROOT / "data" / "extractions" / "publications").glob("*.yaml"))
    primary = sum("\nrole: primary\n" in "\n" + p.read_text(encoding="utf-8") for p in sheets)
    assert out.split() == [str(primary), "0"]


def test_the_pooling_baseline_counts_only_libraries_one_pool_loads() -> None:
    from benches.latency import POOL_LIBRARIES

    args = ("pool", "kb", "--outcome", "overall survival", "--statistic", "hazard ratio", "--json")
    counted = tuple(lib for lib in POOL_LIBRARIES if lib != "rich")  # `import rich` alone: under 1 ms
    assert loaded(counted, *args) == sorted(counted)
