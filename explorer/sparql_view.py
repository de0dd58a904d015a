"""The explorer's SPARQL console tab: example queries, the query box and its run button, and the answer
(a table with its CSV download, yes or no, or Turtle with its download) or the reason it was refused,
stopped or could not be read. Queries run read-only on the page's source, within the console's time
and row limits (explorer.sparql).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer import sparql as sx
from explorer.widgets import cannot_read, fail, plain
from kb.remote import RemoteError
from terms.errors import OligokbError, QueryRefused


def sparql_view(src: ex.Source) -> None:
    st.subheader("SPARQL console")
    st.caption(
        f"Read-only: SELECT, ASK, CONSTRUCT and DESCRIBE on {plain(src.describe())}. SERVICE, FROM and "
        f"updates are refused. Time limit {sx.TIME_LIMIT_S:g} s; at most {sx.ROW_CAP:,} rows are shown."
    )

    def use_example() -> None:
        st.session_state["sparql_text"] = sx.EXAMPLES[st.session_state["sparql_example"]]

    console, terms = st.columns([3, 2])
    with terms:
        terms_panel()
    with console:
        st.selectbox("Example queries", list(sx.EXAMPLES), key="sparql_example", on_change=use_example)
        if "sparql_text" not in st.session_state:
            st.session_state["sparql_text"] = next(iter(sx.EXAMPLES.values()))
        text = st.text_area("Query", key="sparql_text", height=220)
        run = st.button("Run query", type="primary", key="sparql_run")
    if run:
        try:
            outcome = sx.run_console_query(Path(src.kb_file), text, endpoint=src.endpoint)
            st.session_state["sparql_result"] = (text, outcome, None)
        except (QueryRefused, sx.QueryFailed) as exc:
            st.session_state["sparql_result"] = (text, None, f"Refused or stopped: {exc}")
        except (RemoteError, OligokbError) as exc:
            st.session_state["sparql_result"] = (text, None, cannot_read(src, exc))
    result = st.session_state.get("sparql_result")
    if not result:
        return
    _, outcome, error = result
    if error:
        fail(error)
        return
    if outcome.form == "SELECT":
        st.caption(
            f"{outcome.total:,} rows" + (f"; the first {len(outcome.frame):,} are shown" if outcome.truncated else "")
        )
        st.dataframe(outcome.frame, hide_index=True)
        st.download_button(
            "Results (CSV)",
            outcome.frame.to_csv(index=False).encode("utf-8"),
            file_name="query.csv",
            mime="text/csv",
            on_click="ignore",
            key="dl_sparql_csv",
        )
    elif outcome.form == "ASK":
        st.text(f"ASK: {'yes' if outcome.answer else 'no'}")
    else:
        st.caption(f"{outcome.total:,} triples" + (" (truncated)" if outcome.truncated else ""))
        st.code(outcome.turtle, language="turtle")
        st.download_button(
            "Results (Turtle)",
            outcome.turtle.encode("utf-8"),
            file_name="query.ttl",
            mime="text/turtle",
            on_click="ignore",
            key="dl_sparql_ttl",
        )


def terms_panel() -> None:
    """Beside the console: the prefixes, the data model's classes and properties, the vocabulary terms and
    one query to start from, so a query can be written without reading kb/queries/."""
    from explorer import glossary as gl

    def use_starter() -> None:
        st.session_state["sparql_text"] = gl.EXAMPLE_QUERY

    st.markdown("**Terms for a query**")
    names = gl.prefixes()
    with st.expander("Prefixes", expanded=True):
        st.dataframe(
            pd.DataFrame({"prefix": [f"{p}:" for p in names], "namespace": list(names.values())}),
            hide_index=True,
            key="sparql_prefixes",
        )
    with st.expander("The prefixes as PREFIX lines, to copy"):
        st.code("\n".join(f"PREFIX {p}: <{ns}>" for p, ns in names.items()), language="sparql")
    with st.expander("Classes and properties (the data model, terms/ontology.ttl)"):
        st.dataframe(gl.model_terms(), hide_index=True, key="sparql_model_terms")
    with st.expander("Vocabulary terms (outcomes, statistics, histologies, oligo-states, designs, tiers)"):
        st.dataframe(gl.glossary(), hide_index=True, key="sparql_glossary")
    with st.expander("A query to start from: figures per outcome"):
        st.code(gl.EXAMPLE_QUERY, language="sparql")
        st.button("Put it in the query box", key="sparql_starter", on_click=use_starter)
