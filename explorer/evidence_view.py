"""The explorer's evidence table tab: the figures the sidebar keeps (at most SHOWN_ROWS sent to the
browser), their marks (secondary report, conflict, later data cut, curation flag), the source quote and
provenance of a selected row with a button to its study page, and the downloads of the selection (CSV,
Turtle).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer.cache import conflicts, provenance, selection_turtle, whole_counts
from explorer.widgets import open_study, plain
from kb.conflicts import DISAGREEMENT, LATER_DATA_CUT
from kb.summary import selection_counts
from terms.contract import ALL_COLUMNS

SHOWN_ROWS = 2_000  # rows sent to the browser at once: all of a large knowledge base's would take minutes


def evidence_view(src: ex.Source, rows: pd.DataFrame) -> None:
    st.subheader("Evidence table")
    st.caption(counts_caption(src, rows) + " One row per figure, as published. Select a row for its source quote.")
    if rows.empty:
        st.info("No figure matches the filters: remove a filter in the sidebar (or widen the year range).")
        return
    shown = rows.iloc[:SHOWN_ROWS]  # the browser gets at most this many rows; the downloads have them all
    if len(rows) > SHOWN_ROWS:
        st.info(
            f"Showing the first {SHOWN_ROWS:,} of {len(rows):,} figures (ordered by study and publication): "
            "narrow the filters in the sidebar to see the rest here, or download the selection below."
        )
    view = ex.evidence_view(shown, conflicts(src, tuple(ex.CONFLICT_MARK_COLUMNS)))
    event = st.dataframe(
        view,
        hide_index=True,
        key="evidence_table",
        on_select="rerun",
        selection_mode="single-row",
        height=460,
        column_config={
            "marks": st.column_config.TextColumn(
                "marks",
                help="secondary: a report quoting the study (e.g. a review); ⚠ conflict: another report of the study disagrees; later data cut: another report differs because a later report supersedes the one quoted; ⚑ a curation flag (select the row for its reason)",
                width="small",
            ),
            "tier": st.column_config.TextColumn(
                "tier",
                help="Where the figure was read, best first: 1 the trial's own full report ... 6 a coverage page",
                width="small",
            ),
            "read in": st.column_config.LinkColumn(
                "read in",
                help="The page the figure was read in, when not the report itself",
                display_text=r"https?://(?:www\.)?([^/]+)",
            ),
            "study": st.column_config.TextColumn("study", width="medium"),
            "source": st.column_config.LinkColumn(
                "source", display_text=r"https://(?:doi\.org/|pubmed\.ncbi\.nlm\.nih\.gov/)(.*?)/?$"
            ),
            "arms": st.column_config.TextColumn("arms (group / comparison)", width="medium"),
            "statistic_id": st.column_config.TextColumn("statistic id"),
        },
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        show_source(src, shown.iloc[selected[0]])
    n_conf = int((view["marks"].str.contains(ex.CONFLICT_MARK[DISAGREEMENT], regex=False)).sum())
    n_cut = int((view["marks"].str.contains(ex.CONFLICT_MARK[LATER_DATA_CUT], regex=False)).sum())
    n_sec = int((rows["publication_role"] == "secondary").sum())
    n_flag = int((rows["flags"] != "").sum()) if "flags" in rows.columns else 0
    among = f" among the {len(shown):,} shown" if len(shown) < len(rows) else ""
    st.caption(
        f"{n_sec} figure(s) from secondary reports; {n_conf} figure(s){among} on which reports of a study "
        f"disagree, {n_cut} that differ from a later data cut (see the study page for both quotes); "
        f"{n_flag} figure(s) with a curation flag ⚑ (docs/curation-flags.md)."
    )
    st.markdown("**Downloads**")
    cols = st.columns([1, 1, 4])
    # Both files are made when clicked (Streamlit runs the callable then): at scale, writing the Turtle of
    # every selected figure up front would hold up every rerun of the page.
    ids = tuple(rows["statistic_id"])
    cols[0].download_button(
        "Filtered table (CSV)",
        lambda: rows[list(ALL_COLUMNS)].to_csv(index=False).encode("utf-8"),
        file_name="oligokb-evidence.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_csv",
    )
    cols[1].download_button(
        "Selection as Turtle",
        lambda: selection_turtle(src, ids).encode("utf-8"),
        file_name="oligokb-selection.ttl",
        mime="text/turtle",
        on_click="ignore",
        key="dl_ttl",
    )


def counts_caption(src: ex.Source, rows: pd.DataFrame) -> str:
    """'40 of 484 figures · 5 of 33 studies · 6 of 36 publications': the selection's counts beside the
    knowledge base's (kb.summary, as the About page and `oligokb summary` count them)."""
    part, whole = selection_counts(rows), whole_counts(src)
    return (
        f"{part.figures} of {whole.figures} figures · {part.studies} of {whole.studies} studies · "
        f"{part.publications} of {whole.publications} publications."
    )


def show_source(src: ex.Source, row: pd.Series) -> None:
    with st.container(border=True):
        st.markdown(
            f"**{plain(row['study_label'])}** · {plain(row['outcome'])}, {plain(row['statistic'])} · "
            f"value {plain(row['value'])}"
        )
        prov = provenance(src, row["statistic_id"])
        p: Any  # a provenance row (itertuples): its fields are the query's variables
        for p in prov.itertuples():
            st.markdown(
                f"*{plain(p.title)}* ({plain(p.venue)}) · {plain(p.role.rsplit('/', 1)[-1])} report · "
                f"{plain(p.source_scope)} · {plain(p.locator)}"
            )
            st.text(f"“{p.quote}”")
            if row.get("evidence_tier"):
                st.caption(
                    f"Evidence tier {plain(row['tier_rank'])} of 6: {plain(row['evidence_tier'])}"
                    + (
                        f" · read in {plain(row['read_in_site'])}, “{plain(row['read_in_title'])}”, "
                        f"on {plain(row['read_in_date'])}"
                        if row.get("read_in_url")
                        else ""
                    )
                )
            if row.get("read_in_url"):
                st.link_button("Open the page it was read in", row["read_in_url"])
            if row.get("flag_reasons"):
                st.warning(
                    "Curation flags: "
                    + " · ".join(f"{ex.FLAG_MARK} {plain(t)}" for t in row["flag_reasons"].split(" | "))
                )
            link = ex.source_link(row)
            if link:
                st.link_button("Open the publication", link)
            elif row.get("seed_document"):
                st.caption(
                    f"No DOI or PMID could be read for this report: it is identified by its seed document "
                    f"{plain(row['seed_document'])} (the text the quote was checked against)."
                )
        st.button("Open the study page", key="open_study_from_row", on_click=open_study, args=(row["study_id"],))
