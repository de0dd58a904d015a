"""oligokb evidence explorer (Streamlit). Thin: reads the knowledge base through kb/, pools through
analysis/, shapes results for display with explorer/; holds no logic of its own.

Views (tabs, kept in the URL as ?view=...): evidence table, study page, pooled analysis, SPARQL
console, about. The sidebar filters are kept in the URL too, so a view can be shared. Each view is a
module of explorer/ (evidence_view, study_view, pooled_view, sparql_view, about_view), the sidebar is
explorer.sidebar and the cached reads are explorer.cache: this page passes them the source.

Source: the bundled knowledge base file ($OLIGOKB_KB), or a SPARQL 1.1 endpoint holding it
(`streamlit run app.py -- --endpoint URL`, or $OLIGOKB_ENDPOINT): then every table, the study page, the
pooled analysis's input, the selection download and the SPARQL console read the endpoint.
"""

from __future__ import annotations

import streamlit as st

from analysis.errors import AnalysisError
from explorer import data as ex
from explorer.about_view import about_view
from explorer.cache import table
from explorer.evidence_view import evidence_view
from explorer.pooled_view import pooled_view, warm_up
from explorer.sidebar import sidebar
from explorer.sparql_view import sparql_view
from explorer.study_view import study_view
from explorer.widgets import cannot_read, fail, plain
from kb.remote import RemoteError
from terms.errors import OligokbError

VIEWS = ["Evidence", "Study", "Pooled analysis", "SPARQL", "About"]
SOURCE = ex.source()  # the endpoint (--endpoint, $OLIGOKB_ENDPOINT) or the file ($OLIGOKB_KB)


# --- Page -------------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="oligokb evidence explorer", layout="wide")
    st.markdown("## oligokb evidence explorer")
    st.caption("Metastasis-directed radiotherapy (SABR) in oligometastatic cancer: every figure with its source.")
    if SOURCE.endpoint:
        st.caption(f"Source: the SPARQL endpoint {plain(SOURCE.endpoint)}")
    try:
        full = table(SOURCE)
    except OligokbError as exc:
        fail(cannot_read(SOURCE, exc))
        return
    if full.empty and SOURCE.endpoint:
        st.warning(f"The endpoint answered but holds no figure of the knowledge base. {ex.endpoint_advice(SOURCE)}")
    filters = sidebar(SOURCE)
    rows = ex.apply_filters(full, filters)
    tabs = st.tabs(VIEWS, key="view", bind="query-params")
    renderers = {
        "Evidence": lambda: evidence_view(SOURCE, rows),
        "Study": lambda: study_view(SOURCE, full),
        "Pooled analysis": lambda: pooled_view(SOURCE, full, rows),
        "SPARQL": lambda: sparql_view(SOURCE),
        "About": lambda: about_view(SOURCE, full),
    }
    for name, tab in zip(VIEWS, tabs, strict=True):
        if not tab.open:
            continue
        with tab:
            try:
                renderers[name]()
            except RemoteError as exc:
                fail(cannot_read(SOURCE, exc))
            except (OligokbError, AnalysisError) as exc:
                fail(f"This view cannot be shown for the current selection: {exc}")
            except Exception as exc:  # noqa: BLE001 - users get a message, not a stack trace
                fail(
                    f"Something went wrong in this view ({type(exc).__name__}: {exc}). "
                    "Change the selection or reload the page; if it persists, report it with the URL."
                )
    warm_up()  # once per process, after the page is drawn: the pooled view's imports, in the background


main()
