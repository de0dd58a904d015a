"""The analyses a review reports beside the forest plot, one panel each: certainty of evidence (GRADE),
risk of bias (RoB 2) of the pooled trials, small-study effects (funnel plot, Egger's test), leave-one-out
and cumulative meta-analysis by publication year, sensitivity by risk of bias, and the downloads
(Reproduce in R, citations). Only the panel that is open runs (lazy tabs); each result is cached by the
knowledge base's version and the pool's settings. The numbers come from analysis.grade, analysis.review
and kb.rob, the same calls as `oligokb grade`, `funnel`, `cumulative`, `leave-one-out`, `rob-sensitivity`.
"""

from __future__ import annotations

import io
import zipfile
from functools import partial

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer.cache import publications, rob
from explorer.grade_view import grade_panel
from explorer.widgets import plain
from kb.rob import ROB2_DOMAINS

PANELS = (
    "Certainty (GRADE)",
    "Risk of bias (RoB 2)",
    "Small-study effects",
    "Leave-one-out and cumulative",
    "Sensitivity by risk of bias",
    "Downloads",
)
#: Judgement words, and the colour of their cell (the words are what counts; the colour helps the eye).
JUDGEMENT_SHOWN = {"low": "low", "some_concerns": "some concerns", "high": "high", "not_assessed": "not assessed"}
JUDGEMENT_COLOURS = {"low": "#c7e9c0", "some concerns": "#fee8a8", "high": "#f4b6b6", "not assessed": "#e5e5e5"}
RATIO = {name: st.column_config.NumberColumn(name, format="%.3g") for name in ("estimate", "ci_low", "ci_high")}
NUMBERS = RATIO | {name: st.column_config.NumberColumn(name, format="%.3g") for name in ("p_value", "tau2", "i2")}


# --- cached computations: `_result` is the pool on screen, `key` its settings and the KB version -----------


@st.cache_data(max_entries=16)
def grades_of(_result, key: tuple, rob_rows: pd.DataFrame):
    from analysis.grade import grade_pool

    return grade_pool(_result, rob_rows)


def grade_figure_file(grades, level_pct: float, fmt: str) -> bytes:
    """The summary of findings drawn, as PNG or SVG bytes (run when its download is clicked)."""
    from analysis.grade_figure import grade_figure
    from explorer.pooling import figure_files

    return figure_files(grade_figure(grades, level_pct=level_pct), (fmt,))[fmt]


@st.cache_data(max_entries=16)
def small_study(_result, key: tuple):
    from analysis.review import pool_funnels, pool_small_study_tests
    from analysis.review_plots import funnel_plot
    from explorer.pooling import figure_files

    tests = pool_small_study_tests(_result)
    funnels = pool_funnels(_result)
    png = figure_files(funnel_plot(funnels, statistic=_result.statistic), ("png",))["png"] if funnels else None
    return [(t.stratum, t.k, t.verdict()) for t in tests], png


@st.cache_data(max_entries=16)
def leave_one_out_and_cumulative(_result, key: tuple):
    from analysis.review import pool_cumulative, pool_leave_one_out
    from analysis.review_plots import cumulative_plot
    from explorer.pooling import figure_files

    cumulative = pool_cumulative(_result)
    plot = cumulative_plot(cumulative, statistic=_result.statistic, level=_result.level)
    return pool_leave_one_out(_result), cumulative, figure_files(plot, ("png",))["png"]


@st.cache_data(max_entries=16)
def sensitivity_by_rob(_result, key: tuple, rob_rows: pd.DataFrame):
    from analysis.review import rob_sensitivity

    out = rob_sensitivity(_result, rob_rows)
    return out.pools, out.dropped


# --- the panels ---------------------------------------------------------------------------------------


def review_panels(src: ex.Source, result, key: tuple, stem: str) -> None:
    """The panels as tabs; only the open one runs (the tab is kept in the URL as ?panel=...)."""
    key = (src.version, *key)
    tabs = st.tabs(list(PANELS), key="panel", bind="query-params")
    draw = {
        "Certainty (GRADE)": lambda: grade_panel(
            grades_of(result, key, rob(src)),
            level_pct=result.level * 100.0,
            method=result.method,
            stem=stem.replace("forest-", "grade-", 1),
            figure=lambda g, fmt: grade_figure_file(g, result.level * 100.0, fmt),
        ),
        "Risk of bias (RoB 2)": lambda: rob_panel(result, rob(src)),
        "Small-study effects": lambda: small_study_panel(result, key),
        "Leave-one-out and cumulative": lambda: cumulative_panel(result, key),
        "Sensitivity by risk of bias": lambda: rob_sensitivity_panel(result, key, rob(src)),
        "Downloads": lambda: downloads_panel(src, result, stem),
    }
    for name, tab in zip(PANELS, tabs, strict=True):
        if tab.open:
            with tab:
                draw[name]()


def rob_panel(result, rob_rows: pd.DataFrame) -> None:
    from analysis.review import overall_judgements

    studies = _pooled_studies(result)
    rows = rob_rows[rob_rows["study_id"].isin(studies["study_id"])]
    rows = rows[rows["outcome"].isin(["", result.outcome])]
    rob2 = rows[rows["tool"] == "RoB 2"]
    st.markdown(f"**Risk of bias (RoB 2) of the pooled trials**, for {plain(result.outcome)}")
    if rob2.empty:
        st.info("None of the pooled studies has a RoB 2 assessment for this outcome.")
    else:
        # An outcome's own judgement wins over one made for every outcome (as analysis.review reads them).
        rob2 = rob2.assign(specific=rob2["outcome"] != "").sort_values("specific")
        rob2 = rob2.drop_duplicates(["study_id", "domain"], keep="last")
        wide = rob2.pivot(index="study_id", columns="domain", values="judgement")
        wide = wide.reindex(columns=list(ROB2_DOMAINS)).fillna("not_assessed").map(JUDGEMENT_SHOWN.get)
        labels = dict(zip(studies["study_id"], studies["study"], strict=False))
        wide.insert(0, "trial", [labels.get(s, s) for s in wide.index])
        shown = wide.set_index("trial").rename(columns=_DOMAIN_WORDS)
        st.table(shown.style.map(lambda v: f"background-color: {JUDGEMENT_COLOURS.get(v, 'white')}"))
        judged = overall_judgements(rob_rows, result.outcome)
        low = sum(judged.get(s) == "low" for s in studies["study_id"])
        st.caption(
            f"{low} of {len(studies)} pooled studies judged at low risk of bias overall. The colours mark the "
            "words; the quote or reason behind each judgement is below."
        )
    others = sorted(set(studies["study_id"]) - set(rob2["study_id"]))
    for study_id in others:
        said = rows[(rows["study_id"] == study_id) & (rows["domain"] == "overall")]
        reason = said["support"].iloc[0] if not said.empty else "no risk-of-bias assessment in its sheet"
        st.caption(f"{plain(study_id)}: {plain(reason)}")
    with st.expander("The quote or reason behind each judgement"):
        detail = rows.assign(judgement=rows["judgement"].map(JUDGEMENT_SHOWN.get), domain=rows["domain"])
        st.dataframe(
            detail[["study_id", "tool", "domain", "judgement", "support", "support_kind", "publication_id", "locator"]],
            hide_index=True,
            key="rob_support",
        )


_DOMAIN_WORDS = {
    "randomisation": "randomisation",
    "deviations": "deviations from intervention",
    "missing_data": "missing outcome data",
    "measurement": "measurement of outcome",
    "reported_result": "selection of reported result",
    "overall": "overall",
}


def _pooled_studies(result) -> pd.DataFrame:
    """study_id and its label for every input of every stratum (each once)."""
    frames = [pd.DataFrame({"study_id": p.rows["study_id"], "study": p.rows["study_label"]}) for p in result.pools]
    return pd.concat(frames, ignore_index=True).drop_duplicates("study_id") if frames else pd.DataFrame()


def small_study_panel(result, key: tuple) -> None:
    verdicts, png = small_study(result, key)
    st.markdown("**Small-study effects**: Egger's regression test, run when a stratum has 10 or more studies")
    for stratum, k, verdict in verdicts:
        st.markdown(f"- {plain(stratum)} (k = {k}): {plain(verdict)}")
    if png is None:
        st.caption("No funnel plot: no stratum has two or more studies.")
    else:
        st.image(png, caption="Funnel plot: each study's estimate against its standard error", width=700)


def cumulative_panel(result, key: tuple) -> None:
    loo, cumulative, png = leave_one_out_and_cumulative(result, key)
    st.markdown(
        "**Cumulative meta-analysis by publication year** (how the pooled estimate moved as each trial reported)"
    )
    st.image(png, caption="Cumulative meta-analysis", width=900)
    for stratum, rows in cumulative.groupby("stratum", sort=False):
        last = rows.iloc[-1]
        st.markdown(
            f"- {plain(stratum)}: after all {int(last['k'])} studies, {last['estimate']:.2f} "
            f"({last['ci_low']:.2f} to {last['ci_high']:.2f}); first: {plain(rows.iloc[0]['study'])}"
        )
    st.dataframe(cumulative, hide_index=True, column_config=NUMBERS, key="cumulative_table")
    st.markdown("**Leave-one-out** (each stratum pooled again without one study; strata with k ≥ 2)")
    if loo.empty:
        st.caption("No stratum has two or more studies.")
    else:
        st.dataframe(loo, hide_index=True, column_config=NUMBERS, key="loo_table")


def rob_sensitivity_panel(result, key: tuple, rob_rows: pd.DataFrame) -> None:
    from analysis.review import NO_LOW_RISK

    pools, dropped = sensitivity_by_rob(result, key, rob_rows)
    st.markdown("**Sensitivity analysis by risk of bias**: the pool beside the pool of the trials at low risk only")
    for row in pools.itertuples():
        if row.note == NO_LOW_RISK:
            st.info(f"{plain(row.stratum)}: no pooled trial is judged at low risk of bias (RoB 2 overall).")
    st.dataframe(pools, hide_index=True, column_config=NUMBERS, key="rob_sensitivity")
    if not dropped.empty:
        st.caption(f"Left out of the low-risk pool: {len(dropped)} trial(s), each with its reason")
        st.dataframe(dropped, hide_index=True, key="rob_dropped")


def downloads_panel(src: ex.Source, result, stem: str) -> None:
    from analysis.export_metafor import kb_pool_inputs, metafor_bundle

    inputs = kb_pool_inputs(result)
    st.markdown(
        f"**Reproduce in R**: the {len(inputs)} inputs of this pool (pool_inputs.csv) and a script (reproduce.R) "
        "that re-runs each stratum with metafor's rma() and writes pooled_R.csv beside them. Unzip, then run "
        "the script with Rscript."
    )
    st.download_button(
        "Reproduce in R (ZIP)",
        lambda: zipped(metafor_bundle(inputs)),
        file_name=f"{stem.replace('forest-', 'reproduce-', 1)}.zip",
        mime="application/zip",
        on_click="ignore",
        key="dl_reproduce",
    )
    ids = sorted(set(inputs["publication_id"]))
    pubs = publications(src)
    st.markdown(f"**Citations** of the {len(ids)} reports the pooled figures were read in")
    cols = st.columns([1, 1, 3])
    for col, (fmt, ext, label) in zip(cols, (("ris", "ris", "RIS"), ("bibtex", "bib", "BibTeX")), strict=False):
        col.download_button(
            f"Citations ({label})",
            partial(citation_file, pubs, ids, fmt),
            file_name=f"{stem.replace('forest-', 'references-', 1)}.{ext}",
            mime="application/x-research-info-systems" if fmt == "ris" else "application/x-bibtex",
            on_click="ignore",
            key=f"dl_cite_{fmt}",
        )


def zipped(files: dict[str, bytes]) -> bytes:
    """These files, by name, as one ZIP archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def citation_file(pubs: pd.DataFrame, ids: list[str], fmt: str) -> bytes:
    """The reports with these ids as RIS or BibTeX (run when its download is clicked)."""
    from kb.cite import cite_publications

    return cite_publications(pubs, ids, fmt).encode("utf-8")
