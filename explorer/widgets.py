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


def from_url(key: str, allowed: list[str], *, single: bool = False, default: object = None) -> None:
    """First run of a session (or of a widget that was not drawn): a widget's value from the URL
    (?key=a&key=b), else `default`; unknown values are dropped."""
    if key in st.session_state:
        return
    values = [v for v in st.query_params.get_all(key) if v in allowed]
    if single:
        st.session_state[key] = values[0] if values else default
    else:
        st.session_state[key] = values or (default if default is not None else [])


def to_url(key: str, values: list[str] | str | None) -> None:
    """Keep a widget's value in the URL, so the view can be shared; drop the parameter when empty."""
    if values:
        st.query_params[key] = values
    elif key in st.query_params:
        del st.query_params[key]


# Options of the command line that analysis/ messages may name, as the controls a browser user clicks.
_CONTROLS = {
    "--include-secondary": "the “Evidence tiers pooled” control (tiers 5 and 6 are the secondary reports)",
    "--exclude-flag": "“Also leave out figures flagged”",
    "--stratum-level": "“Stratum level”",
    "--timepoint": "“Time point (months)”",
    "--tiers": "“Evidence tiers pooled”",
    "--tier": "“Evidence tiers pooled”",
    "--by": "“Stratify by”",
}
_OPTION = re.compile("|".join(re.escape(o) + r"\b" for o in sorted(_CONTROLS, key=len, reverse=True)))


def for_browser(message: str) -> str:
    """A message written for the command line, with each option it names replaced by its control here."""
    return _OPTION.sub(lambda m: _CONTROLS[m.group(0)], message)
