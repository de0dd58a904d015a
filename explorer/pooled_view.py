"""The explorer's pooled-analysis tab: the choices (statistic, outcome, time point, tau2 estimator, test,
strata, evidence tiers, flags left out), the pooled estimates per stratum with the forest plot and its
downloads, the inputs, the sensitivity analysis on the trials' own reports, leave-one-out and the
estimates left out with their reason. The pooling and the plots are cached here (only this view uses
them); scipy and matplotlib load when the view is first opened.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.errors import AnalysisError
from explorer import data as ex
from explorer.widgets import fail, plain
from terms.errors import OligokbError
from terms.tiers import OWN_REPORT_TIERS


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
