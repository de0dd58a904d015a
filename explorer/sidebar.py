"""The explorer's sidebar: the filters (terms of each vocabulary, report role, evidence tier,
publication year), each read from and kept in the URL so a view can be shared, returned as
`explorer.data.Filters` for the page to apply to the evidence table.
"""

from __future__ import annotations

import streamlit as st

from explorer import data as ex
from explorer.cache import filter_choices, tier_names, year_range
from explorer.widgets import from_url, to_url

# --- Sidebar filters --------------------------------------------------------------------------

FILTER_LABELS = {
    "histology": "Histology",
    "oligo_state": "Oligo-state (ESTRO-EORTC)",
    "outcome": "Outcome",
    "statistic": "Statistic",
    "design": "Design",
}


def sidebar(src: ex.Source) -> ex.Filters:
    choices = filter_choices(src)  # once per knowledge-base version, not on every filter change
    with st.sidebar:
        st.header("Filters")
        st.caption(
            "A term includes its narrower terms (NSCLC includes EGFR-mutant NSCLC). "
            "The selection is kept in the URL: copy it to share this view."
        )
        terms = {}
        for key, label in FILTER_LABELS.items():
            shown = {term.id: term.display(count) for term, count in choices[key]}
            from_url(key, list(shown))
            terms[key] = tuple(
                st.multiselect(label, list(shown), format_func=shown.__getitem__, key=key, placeholder="any")
            )
            to_url(key, list(terms[key]))
        from_url("role", ["primary", "secondary"])
        roles = tuple(
            st.multiselect(
                "Report",
                ["primary", "secondary"],
                key="role",
                placeholder="primary and secondary",
                help="Secondary reports quote another study's figures (e.g. a review).",
            )
        )
        to_url("role", list(roles))
        names = tier_names(src)  # once per knowledge-base version, as the terms above
        from_url("tier", list(names))
        tiers = tuple(
            st.multiselect(
                "Evidence tier",
                list(names),
                format_func=names.__getitem__,
                key="tier",
                placeholder="every tier",
                help="Where each figure was read, best first: 1 the trial's own full report, 2 its "
                "own abstract, 3 a conference abstract, 4 registry results, 5 a review, "
                "6 a coverage page (news, congress coverage, digest).",
            )
        )
        to_url("tier", list(tiers))
        low, high = year_range(src)
        years: tuple[int, int] | None = None
        if low < high:
            # Two year boxes rather than a range slider: the slider's scripts (moment.js, numbro) held the first
            # table back in a new browser session (docs/performance.md).
            span = list(range(low, high + 1))
            # From the URL on a session's first run, or again when a rebuilt knowledge base spans other years.
            if st.session_state.get("year_from") not in span or st.session_state.get("year_to") not in span:
                asked = [int(v) for v in (st.query_params.get("from"), st.query_params.get("to")) if v and v.isdigit()]
                start = min(max(asked[0], low), high) if len(asked) == 2 else low
                st.session_state["year_from"] = start
                st.session_state["year_to"] = min(max(asked[1], start), high) if len(asked) == 2 else high
            left, right = st.columns(2)
            start = left.selectbox(
                "Published from",
                span,
                key="year_from",
                help="Reports whose year is not known (a seed document that prints none) are shown only "
                "while the range is the whole range.",
            )
            end = right.selectbox("to", span, key="year_to")
            start, end = min(start, end), max(start, end)  # a range chosen backwards is the same range
            to_url("from", str(start) if start != low else None)
            to_url("to", str(end) if end != high else None)
            if (start, end) != (low, high):  # the whole range is no filter: reports without a year stay
                years = (start, end)
        return ex.Filters(terms=terms, roles=roles, years=years, tiers=tiers)
