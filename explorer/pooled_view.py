"""The explorer's pooled-analysis tab: the choices (statistic, outcome, time point, tau2 estimator, test,
strata, evidence tiers, flags left out), the pooled estimates per stratum with the forest plot and its
downloads, the review panels (explorer.review_view: GRADE, RoB 2, small-study effects, leave-one-out and
cumulative, sensitivity by risk of bias, Reproduce in R and citations), the inputs, the sensitivity
analysis on the trials' own reports and the estimates left out with their reason. The pooling and the
plots are cached here (only this view uses them); scipy and matplotlib load in the background after the
first page is drawn (`warm_up`), or when the view is first opened. The forest plot comes first, as SVG; its
PNG and PDF are drawn when their download is clicked; under it one section at a time (strata, certainty and
review, inputs, the trials' own reports, left out), chosen in a row of tabs (docs/performance.md, issue 17).
"""

from __future__ import annotations

import hashlib
import threading
from functools import partial

import pandas as pd
import streamlit as st

from analysis.errors import AnalysisError
from explorer import data as ex
from explorer.pooled_choices import Choice, choices
from explorer.review_view import review_panels
from explorer.widgets import fail, for_browser, plain
from terms.errors import OligokbError
from terms.tiers import OWN_REPORT_TIERS


@st.cache_data
def pooled(
    _rows: pd.DataFrame,
    figures: str,
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
        _rows,
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


@st.cache_data(max_entries=32)
def forest_file(_result, key: tuple, fmt: str, text_as_text: bool = False) -> bytes:
    """The forest plot of the pool on screen (`key`: its settings) in one format, drawn when first asked for:
    the page shows an SVG with its text as text (text_as_text), each download is drawn on its click."""
    from explorer import pooling as px

    return px.forest_files(_result, (fmt,), text_as_text=text_as_text)[fmt]


_warm = threading.Lock()
_warming: list[threading.Thread] = []  # the warm-up thread of this process, once started


def warm_up() -> None:
    """Import the pooled view's libraries (scipy.stats, matplotlib, the analysis modules: 2-3 s) in a
    background thread, once per server process, so the first pooled view does not wait for them. The page
    calls it after its first run is drawn: the browser is still rendering that page meanwhile."""
    if not _warm.acquire(blocking=False):
        return

    def imports() -> None:
        import analysis.grade  # noqa: F401 - scipy.stats
        import analysis.kb_pool  # noqa: F401
        import analysis.review  # noqa: F401
        import explorer.pooling  # noqa: F401 - matplotlib (Agg) and the forest plot

    thread = threading.Thread(target=imports, name="oligokb-warm-up", daemon=True)
    _warming.append(thread)
    thread.start()


def warmed() -> None:
    """Wait for the warm-up's imports, if they are still running: the view then imports nothing at the same
    time as that thread (two threads importing the same modules can see one half-initialised)."""
    for thread in _warming:
        thread.join()


NUMBERS = {
    name: st.column_config.NumberColumn(name, format="%.3g")
    for name in ("estimate", "ci_low", "ci_high", "PI low", "PI high", "p", "τ²", "I² (%)", "Q", "Q p")
}


def pooled_view(src: ex.Source, full: pd.DataFrame, rows: pd.DataFrame) -> None:
    warmed()
    from explorer import pooling as px  # scipy and matplotlib load when first needed

    st.subheader("Pooled analysis")
    st.caption(
        "The pooling policy (analysis/policy.py) chooses the estimates; every estimate left out is listed "
        "with its reason. Random-effects meta-analysis as in metafor."
    )
    choice = choices(full, rows)
    if choice is None:
        return
    figures = figures_key(src, choice.source)  # once a run: the pool's cache key and the plot's
    try:
        result = pool_of(choice, figures, choice.tiers)
    except (AnalysisError, OligokbError) as exc:
        fail(f"The pooled analysis cannot run with these choices: {for_browser(str(exc))}")
        return
    for warning in result.warnings:
        st.warning(plain(for_browser(warning)))
    if not result.pools:
        st.info(
            "No estimate passes the pooling policy for this choice; the left-out estimates and their reasons are below."
        )
        left_out_panel(result)
        return
    key = pool_key(choice, figures)
    forest_panel(result, key)  # first: what a person opens the tab for
    sections = {
        "Strata": lambda: strata_panel(result),
        "Certainty and review": lambda: review_panels(src, result, key, px.file_stem(result)),
        "Inputs": lambda: inputs_panel(result),
        "Trials' own reports": lambda: own_reports_panel(result, choice, figures),
        "Left out": lambda: left_out_panel(result),
    }
    # Under the plot, one section at a time (kept in the URL as ?pool_section=...): drawing every grid and
    # panel at once held the plot back in the browser (docs/performance.md). A link to a review panel
    # (?panel=...) opens the review.
    default = "Certainty and review" if "panel" in st.query_params else "Strata"
    tabs = st.tabs(list(sections), default=default, key="pool_section", bind="query-params")
    for name, tab in zip(sections, tabs, strict=True):
        if tab.open:
            with tab:
                sections[name]()


def left_out_panel(result) -> None:
    from explorer import pooling as px

    excluded = px.excluded_frame(result)
    st.markdown(f"**Left out** ({len(excluded)} estimates, with the reason)")
    st.dataframe(excluded, hide_index=True)


def own_reports_panel(result, choice: Choice, figures: str) -> None:
    """The sensitivity analysis on the trials' own reports (tiers 1 and 2), when other tiers are pooled.
    Pooled here, below the plot, so the plot does not wait for a second pool."""
    from explorer import pooling as px

    if set(choice.tiers) <= set(OWN_REPORT_TIERS):
        st.info("This pool already uses only the trials' own reports (tiers 1 and 2): there is nothing to compare.")
        return
    st.markdown("**Sensitivity analysis: the trials' own reports only** (tiers 1 and 2)")
    try:
        own = pool_of(choice, figures, OWN_REPORT_TIERS)
    except (AnalysisError, OligokbError) as exc:
        fail(f"The sensitivity analysis cannot run with these choices: {for_browser(str(exc))}")
        return
    st.dataframe(px.sensitivity_frame(result, own), hide_index=True)


def figures_key(src: ex.Source, rows: pd.DataFrame) -> str:
    """The figures a pool is computed from, as a short cache key: the knowledge base's version (it changes with
    any rebuild) and their statistic ids, rather than the whole frame, which Streamlit would hash on every run
    (docs/performance.md). An endpoint has no version: its rows' content is hashed."""
    digest = hashlib.sha1()
    if src.version:
        digest.update(src.version.encode("utf-8"))
        digest.update("\n".join(rows["statistic_id"]).encode("utf-8"))
    else:
        digest.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def pool_of(c: Choice, figures: str, tiers: tuple[str, ...]):
    """The pool of these choices over these evidence tiers (cached; `figures`: `figures_key` of c.source)."""
    return pooled(
        c.source,
        figures,
        c.outcome,
        c.statistic,
        c.strata_by,
        c.timepoint,
        c.method,
        c.test,
        tiers,
        c.levels,
        c.exclude_flags,
    )


def strata_panel(result) -> None:
    from explorer import pooling as px

    st.markdown("**Strata** (estimate: hazard ratio, or percent for rates; PI: 95% prediction interval, k ≥ 3)")
    st.dataframe(px.strata_frame(result), hide_index=True, column_config=NUMBERS)


def pool_key(c: Choice, figures: str) -> tuple:
    """What a pool on screen depends on: the choices and the figures it was pooled from (a cache key)."""
    return (c.outcome, c.statistic, c.timepoint, c.method, c.test, c.by, c.tiers, c.levels, c.exclude_flags, figures)


def forest_panel(result, key: tuple) -> None:
    from explorer import pooling as px

    # The page shows an SVG: a PNG at print resolution takes three times as long to draw. Its text is text, not
    # glyph outlines as in the SVG download: the browser receives, decodes and draws far fewer bytes
    # (docs/performance.md, issue 17).
    svg = forest_file(result, key, "svg", text_as_text=True)
    st.image(svg.decode("utf-8"), caption="Forest plot", width="stretch")
    stem = px.file_stem(result)
    cols = st.columns([1, 1, 1, 3])
    for col, fmt in zip(cols, px.FORMATS, strict=False):
        col.download_button(
            f"Forest plot ({fmt.upper()})",
            partial(forest_file, result, key, fmt),  # drawn when clicked (then cached)
            file_name=f"{stem}.{fmt}",
            mime=px.FORMATS[fmt],
            on_click="ignore",
            key=f"dl_forest_{fmt}",
        )
    st.caption(
        "Rows marked † ‡ § ¶ were not read in the trial's own report: the footnote under the plot names the tier."
    )


def inputs_panel(result) -> None:
    """Each stratum's inputs (analysis.kb_pool.StratumPool.inputs) under the plot, with their CSV."""
    from explorer import pooling as px

    st.markdown(
        "**Inputs of each stratum** (the figure each study contributes, where it was read, how its standard "
        "error was obtained, and what entered the model: yi, sei, vi on the model's scale, the weight)"
    )
    inputs = px.inputs_frame(result)
    st.dataframe(
        inputs,
        hide_index=True,
        key="pool_inputs",
        column_config={
            "study": st.column_config.TextColumn("study", width="medium"),
            "read in": st.column_config.LinkColumn("read in", display_text=r"https?://(?:www\.)?([^/]+)"),
            **{name: st.column_config.NumberColumn(name, format="%.4g") for name in ("yi", "sei", "vi")},
            "weight (%)": st.column_config.NumberColumn("weight (%)", format="%.1f"),
        },
    )
    st.download_button(
        "Inputs (CSV)",
        inputs.to_csv(index=False).encode("utf-8"),
        file_name=f"{px.file_stem(result).replace('forest-', 'inputs-', 1)}.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_pool_inputs",
    )
