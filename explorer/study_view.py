"""The explorer's study tab: the list of studies, or one study's page (facts, oligo-state mapping with its
inputs, curation flags, risk of bias (RoB 2, or why ROBINS-I was not assessed), publications, arms, groups, figures, conflicts between reports with both quotes,
curators' notes). The study chosen is kept in the URL (?study=...).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer.cache import conflicts, rob, studies, study
from explorer.review_view import JUDGEMENT_SHOWN
from explorer.widgets import fail, from_url, plain, to_url
from kb.conflicts import DISAGREEMENT


def study_view(src: ex.Source, full: pd.DataFrame) -> None:
    choices = studies(src)
    labels = dict(zip(choices["study_id"], choices["study_label"], strict=True))
    asked = st.session_state.get("study", st.query_params.get("study"))
    if asked and asked not in labels:  # a link to it, or a rebuild without it: say so, do not switch quietly
        st.warning(f"There is no study {plain(asked)} in the knowledge base (any more): choose one from the list.")
        st.session_state["study"] = None
    from_url("study", list(labels), single=True)
    study_id = st.selectbox(
        "Study", list(labels), format_func=labels.__getitem__, index=None, key="study", placeholder="Choose a study"
    )
    to_url("study", study_id)
    if study_id is None:
        st.caption("Every study of the knowledge base; choose one above.")
        st.dataframe(choices.drop(columns=["study"]), hide_index=True)
        return
    page = study(src, study_id)
    if page is None:
        fail(f"There is no study {study_id!r} in the knowledge base: choose one from the list.")
        return
    f = page.facts
    st.subheader(f["label"])
    facts = {
        "design": f["design"],
        "histology": f["histology"],
        "histology composition": f["composition"],
        "intervention": f"{f['intervention']} ({f['intervention_as_published']})"
        if f["intervention_as_published"]
        else f["intervention"],
        "comparator": f"{f['comparator']} ({f['comparator_as_published']})"
        if f["comparator_as_published"]
        else f["comparator"],
        "registry": f["registry"],
        "institution": f["institution"],
        "accrual": f["accrual"],
    }
    st.dataframe(
        pd.DataFrame({"field": list(facts), "value": list(facts.values())}).query("value != ''"), hide_index=True
    )
    if not page.overlaps.empty:
        st.warning("Shares patients with: " + ", ".join(plain(x) for x in page.overlaps["other_label"]))

    st.markdown("#### Oligo-state")
    cols = st.columns(2)
    cols[0].markdown("**Mapped (ESTRO-EORTC)**")
    cols[0].text(f["oligo_state"])
    cols[1].markdown("**As the authors label it**")
    cols[1].text(f["oligo_state_as_published"])
    st.caption(
        f"Mapped by {plain(f['mapped_by'] or 'not stated')}, confidence {plain(f['confidence'] or 'not stated')}"
    )
    if f["rationale"]:
        st.markdown("**Rationale**")
        st.text(f["rationale"])
    if page.candidates:
        st.markdown("**Candidate states** (the population may be any of these)")
        st.text(", ".join(page.candidates))
    if not page.inputs.empty:
        st.markdown("**Inputs of the mapping**, each with its source sentence")
        st.dataframe(page.inputs, hide_index=True)

    st.markdown("#### Curation flags")
    if page.flags.empty:
        st.caption("None: no curator's warning on this study's mapping, groups or figures.")
    else:
        st.dataframe(
            page.flags.assign(flag=page.flags["flag"].map(lambda f: f"{ex.FLAG_MARK} {f}")),
            hide_index=True,
            key="study_flags",
            column_config={
                "on": st.column_config.TextColumn(
                    "on", help="the oligo-state mapping, a group or a figure (publication / id)"
                ),
                "other": st.column_config.TextColumn(
                    "other figure", help="the statistic the flag points to (for duplicate_of: the preferred one)"
                ),
            },
        )
        st.caption("What each flag means and what the pooling does with it: docs/curation-flags.md.")

    rob_section(rob(src), study_id)

    st.markdown("#### Publications")
    pubs = page.publications[
        [
            "publication_id",
            "first_author",
            "year",
            "role",
            "source_scope",
            "supersedes",
            "quotes",
            "title",
            "venue",
            "doi",
            "pmid",
            "seed_document",
        ]
    ].fillna("")
    st.dataframe(
        pubs,
        hide_index=True,
        column_config={
            "supersedes": st.column_config.TextColumn(
                "supersedes", help="this report replaces these earlier reports of the study"
            ),
            "quotes": st.column_config.TextColumn(
                "quotes", help="a secondary report: the report of the study its figures come from"
            ),
        },
    )
    for p in pubs.itertuples():
        if p.supersedes:
            st.caption(f"{plain(p.publication_id)} supersedes {plain(p.supersedes.replace(';', ', '))}")

    st.markdown("#### Arms")
    st.dataframe(page.arms, hide_index=True)
    st.markdown("#### Groups, by report")
    st.dataframe(page.groups, hide_index=True)

    st.markdown("#### Figures")
    rows = full[full["study_id"] == study_id]
    st.dataframe(
        ex.evidence_view(rows, conflicts(src)).drop(columns=["study", "histology", "oligo-state", "design"]),
        hide_index=True,
        column_config={"source": st.column_config.LinkColumn("source")},
    )
    st.markdown("#### Conflicts between reports")
    mine = conflicts(src)[conflicts(src)["study_id"] == study_id]
    if mine.empty:
        st.caption("None: every figure reported twice agrees (or no figure is reported twice).")
    else:
        for c in mine.itertuples():
            with st.container(border=True):
                when = f" at {c.timepoint_months} months" if c.timepoint_months else ""
                sign = "⚠ " if c.kind == DISAGREEMENT else ""
                st.markdown(
                    f"{sign}**{plain(c.outcome)}, {plain(c.statistic)}{plain(when)}: {plain(c.field)} differs** · "
                    f"{plain(c.group)} · primary: {plain(c.primary or 'none')}"
                )
                st.caption(f"{c.kind}: {c.explanation}")
                left, right = st.columns(2)
                for col, pub, role, value, quote, locator in (
                    (left, c.publication_a, c.role_a, c.value_a, c.quote_a, c.locator_a),
                    (right, c.publication_b, c.role_b, c.value_b, c.quote_b, c.locator_b),
                ):
                    col.markdown(f"**{plain(value)}** in {plain(pub)} ({plain(role)}, {plain(locator)})")
                    col.text(f"“{quote}”")
    if page.notes:
        with st.expander("Curators' notes"):
            for note in page.notes:
                st.text(note)


def rob_section(rows: pd.DataFrame, study_id: str) -> None:
    """The study's risk-of-bias judgements (kb.rob.rob_table), per tool and outcome, each with its quote
    or reason; an assessment not made says why."""
    st.markdown("#### Risk of bias")
    mine = rows[rows["study_id"] == study_id]
    if mine.empty:
        st.caption("No risk-of-bias assessment in this study's sheet.")
        return
    for (tool, outcome), judged in mine.groupby(["tool", "outcome"], sort=False):
        overall = judged.loc[judged["domain"] == "overall", "judgement"]
        verdict = f": overall {JUDGEMENT_SHOWN.get(overall.iloc[0], '')}" if not overall.empty else ""
        st.markdown(f"**{plain(tool)}**, {plain(outcome or 'every outcome')}{verdict}")
        if (judged["judgement"] == "not_assessed").all():
            st.info(" ".join(plain(x) for x in dict.fromkeys(judged["support"])))
            continue
        shown = judged.assign(judgement=judged["judgement"].map(JUDGEMENT_SHOWN.get))
        shown = shown[["domain", "judgement", "support", "publication_id", "locator"]].rename(
            columns={"support": "quote or reason", "publication_id": "read in"}
        )
        st.table(shown.set_index("domain"))  # a static table: the quotes wrap and stay readable
