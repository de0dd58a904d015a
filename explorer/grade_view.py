"""The pooled view's certainty-of-evidence panel: the GRADE summary of findings of each stratum (the
suggested judgement of each domain with its reason, the certainty with its ⊕ symbols), a reviewer's
override of any domain with a mandatory reason (kept in the session, applied with
`analysis.grade.with_override`), and the table as Markdown, CSV and a PNG/SVG figure. The judgements and
the certainty are computed in analysis.grade; nothing here decides one.

analysis.grade loads scipy.stats (1.7 s here), so it is imported inside the functions: the explorer's
first page, which never grades, does not wait for it (docs/performance.md, issue 17).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from explorer.widgets import plain

if TYPE_CHECKING:
    from analysis.grade import StratumGrade

OVERRIDES = "grade_overrides"  # session state: (analysis, stratum, domain) -> (judgement, reason)


def overridden(grades: tuple[StratumGrade, ...]) -> tuple[StratumGrade, ...]:
    """The grades with the reviewer's overrides of this session applied."""
    from analysis.grade import DOMAINS, with_override
    from analysis.grade_report import analysis_title

    chosen: dict[tuple[str, str, str], tuple[str, str]] = st.session_state.get(OVERRIDES, {})
    out = []
    for g in grades:
        for domain in DOMAINS:
            picked = chosen.get((analysis_title(g), g.stratum, domain))
            if picked is not None:
                g = with_override(g, domain, *picked)
        out.append(g)
    return tuple(out)


def summary_frame(grades: tuple[StratumGrade, ...]) -> tuple[pd.DataFrame, list[str]]:
    """One row per stratum: k, participants, effect, each domain's judgement with its footnote mark, the
    certainty; and the footnotes (each judgement's reason) in order."""
    from analysis.grade import DOMAIN_LABELS
    from analysis.grade_report import effect_text, footnote_mark, footnote_text, participants_text

    rows: list[dict] = []
    notes: list[str] = []
    for g in grades:
        row = {"stratum": g.stratum, "k": g.k, "participants": participants_text(g), "effect": effect_text(g)}
        for j in g.domains:
            mark = footnote_mark(len(notes))
            notes.append(f"{mark}. {footnote_text(j)}")
            row[DOMAIN_LABELS[j.domain]] = f"{j.final}{' (override)' if j.override else ''} [{mark}]"
        row["certainty"] = f"{g.symbols} {g.certainty}"
        rows.append(row)
    return pd.DataFrame(rows), notes


def domains_frame(grades: tuple[StratumGrade, ...]) -> pd.DataFrame:
    """One row per stratum and domain: suggested, reason, the reviewer's override and reason, final."""
    from analysis.grade import DOMAIN_LABELS
    from analysis.grade_report import grade_frame

    frame = grade_frame(grades)
    frame["domain"] = frame["domain"].map(DOMAIN_LABELS)
    return frame[["stratum", "domain", "suggested", "reason", "override", "override_reason", "final"]].rename(
        columns={"override": "reviewer's judgement", "override_reason": "reviewer's reason"}
    )


def grade_panel(grades: tuple[StratumGrade, ...], *, level_pct: float, method: str, stem: str, figure) -> None:
    """The summary of findings with the overrides applied, the override controls and the downloads.
    `figure(grades, "png" or "svg") -> bytes` draws the table."""
    from analysis.grade_report import analysis_title, grade_frame, grade_markdown, unassessed_rob_note

    if not grades:
        st.caption("No stratum to grade: no estimate passes the pooling policy.")
        return
    shown = overridden(grades)
    table, notes = summary_frame(shown)
    st.markdown(f"**Summary of findings (GRADE)**: {plain(analysis_title(shown[0]))}")
    st.table(table.set_index("stratum"))  # a static table: every word wraps and stays readable
    for g in shown:
        st.markdown(f"Certainty, {plain(g.stratum)} (k = {g.k}): **{g.symbols} {g.certainty}**")
    st.caption(
        "Randomised trials start at high certainty, other evidence at low; each serious judgement takes one "
        "level off, very serious two, never below very low. The letters point to each judgement's reason below."
    )
    for line in unassessed_rob_note(shown):
        if line:
            st.warning(line.strip("*"))
    with st.expander("Why each judgement (the reasons, with the numbers behind them)"):
        for note in notes:
            st.markdown(plain(note))
    override_controls(grades)
    if any(j.override for g in shown for j in g.domains):  # without one, the table above says it all
        st.markdown("**Each domain: suggested, the reviewer's judgement and reason, final**")
        st.dataframe(
            domains_frame(shown).fillna(""),
            hide_index=True,
            key="grade_domains",
            column_config={"reason": st.column_config.TextColumn("reason", width="large")},
        )
    cols = st.columns(4)
    markdown = grade_markdown(shown, level_pct=level_pct, method=method)
    downloads = {
        "md": ("Markdown", "text/markdown", lambda: markdown.encode("utf-8")),
        "csv": ("CSV", "text/csv", lambda: grade_frame(shown).to_csv(index=False, lineterminator="\n").encode()),
        # The figures are drawn only when asked for (a callable runs on the click, not on every run).
        "png": ("PNG", "image/png", lambda: figure(shown, "png")),
        "svg": ("SVG", "image/svg+xml", lambda: figure(shown, "svg")),
    }
    for col, (ext, (label, mime, content)) in zip(cols, downloads.items(), strict=True):
        col.download_button(
            f"Summary of findings ({label})",
            content,
            file_name=f"{stem}.{ext}",
            mime=mime,
            on_click="ignore",
            key=f"dl_grade_{ext}",
        )


def override_controls(grades: tuple[StratumGrade, ...]) -> None:
    """A reviewer's judgement of one domain, with a reason (required); kept for this browser session."""
    from analysis.grade import DOMAIN_LABELS, DOMAINS
    from analysis.grade_overrides import OVERRIDE_JUDGEMENTS
    from analysis.grade_report import analysis_title

    chosen: dict[tuple[str, str, str], tuple[str, str]] = st.session_state.setdefault(OVERRIDES, {})
    with st.expander("Override a judgement (a reviewer's judgement with a reason)"):
        with st.form("grade_override", border=False):
            c1, c2, c3 = st.columns([2, 2, 2])
            strata = [g.stratum for g in grades]
            stratum = c1.selectbox("Stratum", strata, key="override_stratum")
            domain = c2.selectbox(
                "Domain", DOMAINS, format_func=lambda d: DOMAIN_LABELS[d].capitalize(), key="override_domain"
            )
            judgement = c3.selectbox("Reviewer's judgement", OVERRIDE_JUDGEMENTS, key="override_judgement")
            reason = st.text_input("Reason (required: a reader of the table sees it)", key="override_reason")
            set_it = st.form_submit_button("Set this judgement")
        if set_it:
            if not reason.strip():
                st.warning("Give the reason for the judgement: it is shown beside it in the table.")
            else:
                g = grades[strata.index(stratum)]
                chosen[(analysis_title(g), g.stratum, domain)] = (judgement, reason.strip())
                st.rerun()
        mine = [(k, v) for k, v in chosen.items() if k[0] == analysis_title(grades[0])]
        if mine:
            st.caption(
                "Set in this session: "
                + "; ".join(f"{plain(s)}, {DOMAIN_LABELS[d]}: {j} ({plain(r)})" for (_, s, d), (j, r) in mine)
            )
            if st.button("Back to the suggested judgements", key="override_clear"):
                for k, _ in mine:
                    del chosen[k]
                st.rerun()
