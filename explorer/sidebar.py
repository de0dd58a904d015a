"""The explorer's sidebar: the filters (terms of each vocabulary, report role, evidence tier,
publication year), each read from and kept in the URL so a view can be shared, returned as
`explorer.data.Filters` for the page to apply to the evidence table.
"""

from __future__ import annotations

from typing import cast

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
            if "years" not in st.session_state:
                asked = [int(v) for v in (st.query_params.get("from"), st.query_params.get("to")) if v and v.isdigit()]
                start = min(max(asked[0], low), high) if len(asked) == 2 else low
                end = min(max(asked[1], start), high) if len(asked) == 2 else high
                st.session_state["years"] = (start, end)
            years = cast(
                tuple[int, int],
                st.slider(
                    "Publication year",
                    low,
                    high,
                    key="years",
                    help="Reports whose year is not known (a seed document that prints none) are shown only "
                    "while the range is the whole range.",
                ),
            )
            to_url("from", str(years[0]) if years[0] != low else None)
            to_url("to", str(years[1]) if years[1] != high else None)
            if tuple(years) == (low, high):
                years = None  # the whole range is no filter: reports without a year stay
        return ex.Filters(terms=terms, roles=roles, years=(years[0], years[1]) if years else None, tiers=tiers)
