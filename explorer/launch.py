"""`oligokb-explorer`: the evidence explorer (app.py) served by Streamlit, with the page's libraries loaded and
the knowledge base's table read before the server answers, so the first page after the start waits for
neither (`streamlit run app.py` loads them in the first page's run: docs/performance.md, issue 17).

    uv run oligokb-explorer                              # the bundled knowledge base, http://localhost:8501
    uv run oligokb-explorer --kb my.ttl --port 8600 --headless
    uv run oligokb-explorer --endpoint http://localhost:7878/query
    uv run oligokb-explorer -- --server.fileWatcherType auto     # any `streamlit run` option after --
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: app.py, which this serves: in the project's directory, beside this package.
APP = Path(__file__).resolve().parent.parent / "app.py"

#: What app.py imports, and what its first run loads: read once here instead of in the first page's run.
PAGE_MODULES = (
    "pandas",
    "pyarrow.parquet",
    "analysis.errors",
    "kb.remote",
    "explorer.about_view",
    "explorer.cache",
    "explorer.data",
    "explorer.evidence_view",
    "explorer.pooled_view",
    "explorer.sidebar",
    "explorer.sparql_view",
    "explorer.study_view",
    "explorer.widgets",
    "terms.errors",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="oligokb-explorer",
        description="Start the evidence explorer (app.py) on a knowledge base, its libraries and table loaded "
        "before the first page is asked for. Options of `streamlit run` go after --.",
    )
    p.add_argument("--kb", type=Path, help="The knowledge base file (default: $OLIGOKB_KB, else data/studies.ttl).")
    p.add_argument("--endpoint", help="Read a SPARQL 1.1 endpoint holding the knowledge base instead of the file.")
    p.add_argument("--port", type=int, default=8501, help="Port to serve on (default 8501).")
    p.add_argument("--address", default="localhost", help="Address to serve on (default localhost).")
    p.add_argument("--headless", action="store_true", help="Do not open a browser.")
    p.add_argument("streamlit_options", nargs="*", help=argparse.SUPPRESS)
    return p


#: Outside a page's run Streamlit warns of each cached function it meets ("No runtime found", "missing
#: ScriptRunContext") and that an app should be started with `streamlit run`: expected here, where the page's
#: modules are loaded before this process starts Streamlit's server.
BARE_MODE_LOGGERS = (
    "streamlit",
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
)


@contextmanager
def bare_mode_quiet() -> Iterator[None]:
    """Drop the records of BARE_MODE_LOGGERS meanwhile (a filter: Streamlit sets its loggers' levels itself)."""
    loggers = [logging.getLogger(name) for name in BARE_MODE_LOGGERS]
    for logger in loggers:
        logger.addFilter(_drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(_drop)


def _drop(record: logging.LogRecord) -> bool:
    return False


def _not_a_restart(record: logging.LogRecord) -> bool:
    # When the CLI reads its options again (the preload read them first, with the defaults), Streamlit warns that
    # a changed [server] option needs a restart. In this process the server has not started yet and starts with
    # the options just read, so the warning does not apply.
    return not record.getMessage().startswith("An update to the [server] config option section")


def preload() -> float:
    """Import the page's modules and read what every evidence page reads once per knowledge-base version into
    the explorer's shared caches (explorer.cache.warm; the ones the page's runs read: `st.cache_resource` is
    the process's). Returns the seconds it took. A knowledge base that cannot be read is left for the page to
    explain, as it does under `streamlit run`."""
    start = time.perf_counter()
    with bare_mode_quiet():
        for name in PAGE_MODULES:
            importlib.import_module(name)
        import streamlit as st

        from explorer import data as ex
        from explorer.cache import warm
        from terms.errors import OligokbError

        # Streamlit's first element in a process looks for a REPL in its caller's stack (inspect.stack, which
        # reads every frame's source): in a page's run that stack is deep. An element here, where no page runs
        # (a no-op), pays that once on a shallow stack.
        st.empty()
        src = ex.source([])
        if not src.endpoint:  # an endpoint is read by the page, when it is asked for
            try:
                warm(src)
            except (OligokbError, OSError):
                pass
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    if not APP.is_file():
        raise SystemExit(
            f"oligokb-explorer: {APP} is not there: run it from a clone of the project (uv sync installs it so)"
        )
    if args.kb is not None:
        if not args.kb.is_file():
            raise SystemExit(f"oligokb-explorer: --kb {args.kb}: no such file (build one with `oligokb build`)")
        os.environ["OLIGOKB_KB"] = str(args.kb.resolve())
    if args.endpoint:
        os.environ["OLIGOKB_ENDPOINT"] = args.endpoint
    print(f"oligokb-explorer: loading the page's libraries and table ({APP.parent})", file=sys.stderr, flush=True)
    seconds = preload()
    print(f"oligokb-explorer: loaded in {seconds:.1f} s; starting Streamlit", file=sys.stderr, flush=True)
    from streamlit.web import cli as streamlit_cli

    logging.getLogger("streamlit.config").addFilter(_not_a_restart)

    options = ["--server.port", str(args.port), "--server.address", args.address]
    options += ["--server.headless", "true"] if args.headless else []
    streamlit_cli.main(["run", str(APP), *options, *args.streamlit_options], prog_name="streamlit")


if __name__ == "__main__":
    main()
