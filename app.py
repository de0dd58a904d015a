"""oligokb evidence explorer (Streamlit). Thin: reads the knowledge base through kb/, pools through
analysis/, shapes results for display with explorer/; holds no logic of its own.

Views (tabs, kept in the URL as ?view=...): evidence table, study page, pooled analysis, SPARQL
console, about. The sidebar filters are kept in the URL too, so a view can be shared.

Source: the bundled knowledge base file ($OLIGOKB_KB), or a SPARQL 1.1 endpoint holding it
(`streamlit run app.py -- --endpoint URL`, or $OLIGOKB_ENDPOINT): then every table, the study page, the
pooled analysis's input, the selection download and the SPARQL console read the endpoint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pandas as pd
import streamlit as st

from analysis.errors import AnalysisError
from explorer import data as ex
from explorer import sparql as sx
from explorer.study import study_choices, study_page
from kb.conflicts import DISAGREEMENT, LATER_DATA_CUT, find_conflicts
from kb.export import evidence_table
from kb.query import load_kb, run_named
from kb.remote import RemoteError
from terms.contract import ALL_COLUMNS
from terms.errors import OligokbError, QueryRefused
from terms.tiers import OWN_REPORT_TIERS

SHOWN_ROWS = 2_000  # rows sent to the browser at once: 755,000 figures (50,000 studies) would take minutes
VIEWS = ["Evidence", "Study", "Pooled analysis", "SPARQL", "About"]
SOURCE = ex.source()  # the endpoint (--endpoint, $OLIGOKB_ENDPOINT) or the file ($OLIGOKB_KB)


# --- Cached reads, per source (the graph is shared and read-only; frames are copied per session) ------


@st.cache_resource
def graph(kb_file: str):
    return load_kb(Path(kb_file))


@st.cache_resource
def reader(src: ex.Source):
    # The named queries run on the endpoint, or on the file's Oxigraph copy (about 10x faster than rdflib
    # here); same rows either way (tests/test_remote.py, tests/test_app.py).
    return ex.reader(src)


# The two big frames are shared, not copied: st.cache_data pickles a frame on store and unpickles it on
# every call (755,000 rows at 50,000 studies: seconds each, and a copy per call). Nothing modifies them
# (pandas copy-on-write keeps any edit local to the editor).
@st.cache_resource
def table(src: ex.Source) -> pd.DataFrame:
    return evidence_table(reader(src))


@st.cache_resource
def conflicts(src: ex.Source, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The conflict pairs; `columns` for just those (the evidence table's marks need a fifth of them)."""
    kb = reader(src)
    wanted = list(columns) or None
    # A KB file keeps them beside it once per version (kb.materialise); an endpoint computes them.
    return kb.cached("conflicts", lambda: find_conflicts(table(src)), columns=wanted)


@st.cache_data
def studies(src: ex.Source) -> pd.DataFrame:
    return study_choices(reader(src))


@st.cache_data
def publications(src: ex.Source) -> pd.DataFrame:
    return run_named(reader(src), "publications", lexical=True)


@st.cache_data
def study(src: ex.Source, study_id: str):
    return study_page(reader(src), study_id)


@st.cache_data
def provenance(src: ex.Source, statistic_id: str) -> pd.DataFrame:
    return run_named(reader(src), "provenance", {"statistic": statistic_id})


@st.cache_data
def selection_turtle(src: ex.Source, statistic_ids: tuple[str, ...]) -> str:
    if src.endpoint:
        return ex.remote_selection_turtle(reader(src), list(statistic_ids))
    return ex.selection_turtle(graph(src.kb_file), list(statistic_ids))


@st.cache_data
def pooled(
    rows: pd.DataFrame,
    outcome: str,
    statistic: str,
    by: tuple[str, ...],
    timepoint: float | None,
    method: str,
    test: str,
    tiers: tuple[str, ...],
    levels: str | None,
    exclude_flags: tuple[str, ...] = (),
):
    from analysis.kb_pool import pool_knowledge_base  # scipy and matplotlib load when first needed

    return pool_knowledge_base(
        rows,
        outcome=outcome,
        statistic=statistic,
        by=by,
        timepoint_months=timepoint,
        method=method,
        test=test,
        tiers=tiers,
        levels=levels,
        exclude_flags=exclude_flags,
    )


@st.cache_data
def forest_files(_result, key: tuple) -> dict[str, bytes]:
    from explorer import pooling as px

    return px.forest_files(_result)


# --- Plain text: knowledge-base strings are shown as text, never as HTML ----------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """Escape Markdown so a knowledge-base string renders as the literal text it is."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def fail(message: str) -> None:
    st.error(message, icon="⚠️")


def cannot_read(exc: Exception) -> str:
    if SOURCE.endpoint:
        return f"The SPARQL endpoint {SOURCE.endpoint} cannot be read: {exc}. {ex.endpoint_advice(SOURCE)}"
    return f"The knowledge base cannot be read: {exc}"


def open_study(study_id: str) -> None:  # button callback: runs before widgets are drawn
    st.session_state["study"] = study_id
    st.session_state["view"] = "Study"


# --- Sidebar filters --------------------------------------------------------------------------

FILTER_LABELS = {
    "histology": "Histology",
    "oligo_state": "Oligo-state (ESTRO-EORTC)",
    "outcome": "Outcome",
    "statistic": "Statistic",
    "design": "Design",
}


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


def sidebar(full: pd.DataFrame) -> ex.Filters:
    with st.sidebar:
        st.header("Filters")
        st.caption(
            "A term includes its narrower terms (NSCLC includes EGFR-mutant NSCLC). "
            "The selection is kept in the URL: copy it to share this view."
        )
        terms = {}
        for key, label in FILTER_LABELS.items():
            options = ex.filter_options(full, key)
            shown = {term.id: term.display(count) for term, count in options}
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
        tier_names = ex.tier_choices(full)
        from_url("tier", list(tier_names))
        tiers = tuple(
            st.multiselect(
                "Evidence tier",
                list(tier_names),
                format_func=tier_names.__getitem__,
                key="tier",
                placeholder="every tier",
                help="Where each figure was read, best first: 1 the trial's own full report, 2 its "
                "own abstract, 3 a conference abstract, 4 registry results, 5 a review, "
                "6 a coverage page (news, congress coverage, digest).",
            )
        )
        to_url("tier", list(tiers))
        low, high = ex.year_range(full)
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


# --- Views ------------------------------------------------------------------------------------


def evidence_view(full: pd.DataFrame, rows: pd.DataFrame) -> None:
    st.subheader("Evidence table")
    st.caption(
        f"{len(rows)} of {len(full)} figures · {rows['study_id'].nunique()} studies · "
        f"{rows['publication_id'].nunique()} publications. One row per figure, as published. "
        "Select a row for its source quote."
    )
    if rows.empty:
        st.info("No figure matches the filters: remove a filter in the sidebar (or widen the year range).")
        return
    shown = rows.iloc[:SHOWN_ROWS]  # the browser gets at most this many rows; the downloads have them all
    if len(rows) > SHOWN_ROWS:
        st.info(
            f"Showing the first {SHOWN_ROWS:,} of {len(rows):,} figures (ordered by study and publication): "
            "narrow the filters in the sidebar to see the rest here, or download the selection below."
        )
    view = ex.evidence_view(shown, conflicts(SOURCE, tuple(ex.CONFLICT_MARK_COLUMNS)))
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
        show_source(shown.iloc[selected[0]])
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
        lambda: selection_turtle(SOURCE, ids).encode("utf-8"),
        file_name="oligokb-selection.ttl",
        mime="text/turtle",
        on_click="ignore",
        key="dl_ttl",
    )


def show_source(row: pd.Series) -> None:
    with st.container(border=True):
        st.markdown(
            f"**{plain(row['study_label'])}** · {plain(row['outcome'])}, {plain(row['statistic'])} · "
            f"value {plain(row['value'])}"
        )
        prov = provenance(SOURCE, row["statistic_id"])
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


def study_view(full: pd.DataFrame) -> None:
    choices = studies(SOURCE)
    labels = dict(zip(choices["study_id"], choices["study_label"], strict=True))
    from_url("study", list(labels), single=True)
    study_id = st.selectbox(
        "Study", list(labels), format_func=labels.__getitem__, index=None, key="study", placeholder="Choose a study"
    )
    to_url("study", study_id)
    if study_id is None:
        st.caption("Every study of the knowledge base; choose one above.")
        st.dataframe(choices.drop(columns=["study"]), hide_index=True)
        return
    page = study(SOURCE, study_id)
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
        ex.evidence_view(rows, conflicts(SOURCE)).drop(columns=["study", "histology", "oligo-state", "design"]),
        hide_index=True,
        column_config={"source": st.column_config.LinkColumn("source")},
    )
    st.markdown("#### Conflicts between reports")
    mine = conflicts(SOURCE)[conflicts(SOURCE)["study_id"] == study_id]
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


NUMBERS = {
    name: st.column_config.NumberColumn(name, format="%.3g")
    for name in ("estimate", "ci_low", "ci_high", "PI low", "PI high", "p", "τ²", "I² (%)", "Q", "Q p")
}


def pooled_view(full: pd.DataFrame, rows: pd.DataFrame) -> None:
    from explorer import pooling as px  # scipy and matplotlib load when first needed

    st.subheader("Pooled analysis")
    st.caption(
        "The pooling policy (analysis/policy.py) chooses the estimates; every estimate left out is listed "
        "with its reason. Random-effects meta-analysis as in metafor."
    )
    c1, c2, c3 = st.columns(3)
    statistic = c1.selectbox("Statistic", px.POOLABLE, key="pool_statistic")
    source = full
    if c1.toggle("Only the figures the sidebar filters keep", value=False, key="pool_use_filters"):
        source = rows
    outcomes = px.outcomes_for(source, statistic)
    if not outcomes:
        st.info(f"No {statistic} in the selection: choose another statistic, or relax the sidebar filters.")
        return
    outcome = c2.selectbox("Outcome", outcomes, key="pool_outcome")
    timepoint = None
    if statistic not in ("hazard ratio",):
        points = px.timepoints_for(source, outcome, statistic)
        if not points:
            st.info(f"No {statistic} of {outcome} states a time point: choose another outcome.")
            return
        timepoint = c3.selectbox(
            "Time point (months)",
            points,
            format_func=lambda v: f"{v:g}",
            key="pool_timepoint",
            index=points.index(24.0) if 24.0 in points else 0,
        )
    c4, c5, c6 = st.columns(3)
    method = c4.selectbox(
        "Method (τ² estimator)", px.METHOD_CHOICES, index=px.METHOD_CHOICES.index("REML"), key="pool_method"
    )
    test = c5.selectbox(
        "Test",
        px.TEST_CHOICES,
        key="pool_test",
        help="z: normal; knha: Hartung-Knapp-Sidik-Jonkman; adhoc: knha, never narrower than z",
    )
    by = c6.multiselect(
        "Stratify by",
        list(px.STRATIFIERS),
        key="pool_by",
        help="Design class (and, for rates, unit of analysis and time origin) are always strata.",
    )
    c7, c8 = st.columns([2, 1])
    tier_names = ex.tier_choices(source)
    tiers = tuple(
        c7.multiselect(
            "Evidence tiers pooled",
            list(tier_names),
            default=list(tier_names),
            format_func=tier_names.__getitem__,
            key="pool_tiers",
            help="Each study contributes its latest data cut from the best tier kept here. Keep "
            "1 and 2 for the trials' own reports only.",
        )
    )
    level = c8.selectbox(
        "Stratum level (histology, oligo-state)",
        list(px.STRATUM_LEVELS),
        format_func=px.STRATUM_LEVELS.__getitem__,
        key="pool_level",
    )
    exclude_flags = tuple(
        st.multiselect(
            "Also leave out figures flagged (sensitivity analysis)",
            px.OPTIONAL_FLAG_EXCLUSIONS,
            key="pool_exclude_flags",
            help="Figures flagged direction_doubtful, do_not_pool, duplicate_of or post_randomisation_subgroup are always "
            "left out; choose more flags to leave out, e.g. mapping_low_confidence.",
        )
    )
    if not tiers:
        st.info("No evidence tier is selected: choose at least one tier to pool.")
        return
    strata_by = tuple(px.STRATIFIERS[b] for b in by)
    levels = ",".join(f"{c}={level}" for c in strata_by if c in ("histology", "oligo_state")) or None
    try:
        result = pooled(source, outcome, statistic, strata_by, timepoint, method, test, tiers, levels, exclude_flags)
        own = (
            None
            if set(tiers) <= set(OWN_REPORT_TIERS)
            else pooled(
                source, outcome, statistic, strata_by, timepoint, method, test, OWN_REPORT_TIERS, levels, exclude_flags
            )
        )
    except (AnalysisError, OligokbError) as exc:
        fail(f"The pooled analysis cannot run with these choices: {exc}")
        return
    for warning in result.warnings:
        st.warning(plain(warning))
    if not result.pools:
        st.info(
            "No estimate passes the pooling policy for this choice; the left-out estimates and their reasons are below."
        )
    else:
        st.markdown("**Strata** (estimate: hazard ratio, or percent for rates; PI: 95% prediction interval, k ≥ 3)")
        st.dataframe(px.strata_frame(result), hide_index=True, column_config=NUMBERS)
        key = (
            outcome,
            statistic,
            timepoint,
            method,
            test,
            tuple(by),
            tiers,
            levels,
            exclude_flags,
            tuple(source["statistic_id"]),
        )
        files = forest_files(result, key)
        st.image(files["png"], caption="Forest plot", width="stretch")
        stem = px.file_stem(result)
        cols = st.columns([1, 1, 1, 3])
        for col, fmt in zip(cols, px.FORMATS, strict=False):
            col.download_button(
                f"Forest plot ({fmt.upper()})",
                files[fmt],
                file_name=f"{stem}.{fmt}",
                mime=px.FORMATS[fmt],
                on_click="ignore",
                key=f"dl_forest_{fmt}",
            )
        st.caption(
            "Rows marked † ‡ § ¶ were not read in the trial's own report: the footnote under the plot names the tier."
        )
        st.markdown("**Inputs** (the figure each study contributes, where it was read, and what entered the model)")
        st.dataframe(
            px.inputs_frame(result),
            hide_index=True,
            column_config={
                "read in": st.column_config.LinkColumn("read in", display_text=r"https?://(?:www\.)?([^/]+)")
            },
        )
        if own is not None:
            st.markdown("**Sensitivity analysis: the trials' own reports only** (tiers 1 and 2)")
            st.dataframe(px.sensitivity_frame(result, own), hide_index=True)
        st.markdown("**Leave-one-out** (strata with k ≥ 3)")
        shown = False
        for pool in result.pools:
            loo = px.leave_one_out_frame(result, pool)
            if loo is not None:
                shown = True
                st.caption(plain(pool.stratum))
                st.dataframe(loo, hide_index=True, column_config=NUMBERS)
        if not shown:
            st.caption("No stratum has three or more studies.")
    excluded = px.excluded_frame(result)
    st.markdown(f"**Left out** ({len(excluded)} estimates, with the reason)")
    st.dataframe(excluded, hide_index=True)


def sparql_view() -> None:
    st.subheader("SPARQL console")
    st.caption(
        f"Read-only: SELECT, ASK, CONSTRUCT and DESCRIBE on {plain(SOURCE.describe())}. SERVICE, FROM and "
        f"updates are refused. Time limit {sx.TIME_LIMIT_S:g} s; at most {sx.ROW_CAP:,} rows are shown."
    )

    def use_example() -> None:
        st.session_state["sparql_text"] = sx.EXAMPLES[st.session_state["sparql_example"]]

    st.selectbox("Example queries", list(sx.EXAMPLES), key="sparql_example", on_change=use_example)
    if "sparql_text" not in st.session_state:
        st.session_state["sparql_text"] = next(iter(sx.EXAMPLES.values()))
    text = st.text_area("Query", key="sparql_text", height=220)
    if st.button("Run query", type="primary", key="sparql_run"):
        try:
            outcome = sx.run_console_query(Path(SOURCE.kb_file), text, endpoint=SOURCE.endpoint)
            st.session_state["sparql_result"] = (text, outcome, None)
        except (QueryRefused, sx.QueryFailed) as exc:
            st.session_state["sparql_result"] = (text, None, f"Refused or stopped: {exc}")
        except (RemoteError, OligokbError) as exc:
            st.session_state["sparql_result"] = (text, None, cannot_read(exc))
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


def about_view(full: pd.DataFrame) -> None:
    st.subheader("About this knowledge base")
    version = ex.source_version(SOURCE)
    counts = ex.counts(full, studies(SOURCE), publications(SOURCE), conflicts(SOURCE))
    cols = st.columns(len(counts))
    for col, (name, value) in zip(cols, counts.items(), strict=True):
        col.metric(name, value)
    st.markdown(f"**Source**: {plain(SOURCE.describe())}")
    st.markdown("**Version**")
    st.dataframe(pd.DataFrame({"field": list(version), "value": list(version.values())}), hide_index=True)
    st.markdown("**How to cite**")
    if SOURCE.endpoint:
        edition = f"Knowledge base read from the SPARQL endpoint {version['endpoint']} on {version['read'][:10]}. "
    else:
        edition = f"Knowledge base {version['file']}, sha256 {version['sha256'][:16]}, {version['modified'][:10]}. "
    st.code(
        "oligokb: an evidence knowledge base for metastasis-directed radiotherapy in oligometastatic cancer. "
        f"{edition}https://w3id.org/oligokb/",
        language=None,
        wrap_lines=True,
    )
    st.caption(
        "Cite the original publications for any figure you use: each row of the evidence table links its "
        "DOI (or PMID) and quotes the sentence the number was read from."
    )
    search_record_view()
    st.markdown("**Vocabularies** (SKOS, terms/vocab)")
    st.dataframe(ex.vocabularies(), hide_index=True, height="content")
    st.caption(
        "Oligo-states follow the ESTRO-EORTC classification (Guckenberger et al., Lancet Oncol 2020). "
        "The data model: docs/data-model.md; the export columns: docs/export-contract.md."
    )


def search_record_view() -> None:
    from explorer import search_record as sr

    record = sr.load_record()
    if record is None:
        return
    st.markdown(f"**How the randomised trials were found** (PRISMA 2020; searched {plain(record['searched'])})")
    st.caption(plain(record["method"]))
    st.graphviz_chart(sr.prisma_dot(record))
    included = pd.DataFrame(
        [
            {"study": i["study_id"], "trial": i["trial"], "reports": ", ".join(i["reports"])}
            for i in record["included"]["list"]
        ]
    )
    st.dataframe(included, hide_index=True)
    with st.expander(
        f"Randomised trials found and not entered ({len(record.get('not_entered', []))}), with the reason"
    ):
        st.dataframe(pd.DataFrame(record.get("not_entered", [])), hide_index=True)
    st.caption("The full record: docs/search-record.md; the searches themselves: docs/source-notes/search-log-*.md.")


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
        fail(cannot_read(exc))
        return
    if full.empty and SOURCE.endpoint:
        st.warning(f"The endpoint answered but holds no figure of the knowledge base. {ex.endpoint_advice(SOURCE)}")
    filters = sidebar(full)
    rows = ex.apply_filters(full, filters)
    tabs = st.tabs(VIEWS, key="view", bind="query-params")
    renderers = {
        "Evidence": lambda: evidence_view(full, rows),
        "Study": lambda: study_view(full),
        "Pooled analysis": lambda: pooled_view(full, rows),
        "SPARQL": sparql_view,
        "About": lambda: about_view(full),
    }
    for name, tab in zip(VIEWS, tabs, strict=True):
        if not tab.open:
            continue
        with tab:
            try:
                renderers[name]()
            except RemoteError as exc:
                fail(cannot_read(exc))
            except (OligokbError, AnalysisError) as exc:
                fail(f"This view cannot be shown for the current selection: {exc}")
            except Exception as exc:  # noqa: BLE001 - users get a message, not a stack trace
                fail(
                    f"Something went wrong in this view ({type(exc).__name__}: {exc}). "
                    "Change the selection or reload the page; if it persists, report it with the URL."
                )


main()
