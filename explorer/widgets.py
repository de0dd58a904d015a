"""Small pieces every view of the explorer shares: knowledge-base strings shown as plain text (Markdown
escaped), error messages, the message when the source cannot be read, a widget's value kept in the URL
(read on a session's first run, written back on every run) and the callback that opens a study page.
"""

from __future__ import annotations

import re

import streamlit as st

from explorer import data as ex

# --- Plain text: knowledge-base strings are shown as text, never as HTML ----------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Escape Markdown so a knowledge-base string renders as the literal text it is."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def fail(message: str) -> None:
    st.error(message, icon="⚠️")


def cannot_read(src: ex.Source, exc: Exception) -> str:
    """The message shown when the source (the endpoint or the file) cannot be read."""
    if src.endpoint:
        return f"The SPARQL endpoint {src.endpoint} cannot be read: {exc}. {ex.endpoint_advice(src)}"
    return f"The knowledge base cannot be read: {exc}"


def open_study(study_id: str) -> None:  # button callback: runs before widgets are drawn
    st.session_state["study"] = study_id
    st.session_state["view"] = "Study"


def from_url(key: str, allowed: list[str], *, single: bool = False) -> None:
    """First run of a session: a widget's value from the URL (?key=a&key=b); unknown values are dropped."""
    if key in st.session_state:
        return
    values = [v for v in st.query_params.get_all(key) if v in allowed]
    st.session_state[key] = (values[0] if values else None) if single else values


def to_url(key: str, values: list[str] | str | None) -> None:
    """Keep a widget's value in the URL, so the view can be shared; drop the parameter when empty."""
    if values:
        st.query_params[key] = values
    elif key in st.query_params:
        del st.query_params[key]
