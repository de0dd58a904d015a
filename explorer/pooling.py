"""The pooled-analysis page's plumbing: choices offered, and analysis results as tables and files.
The pooling itself is analysis.kb_pool (policy: analysis.policy), the plot analysis.forest_kb, the
review analyses analysis.review."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import flag_rule  # noqa: E402
from analysis.forest_kb import forest_from_pool  # noqa: E402
from analysis.forest_save import save_forest  # noqa: E402
from analysis.kb_pool import POOL_COLUMNS, KBPool  # noqa: E402
from analysis.options import METHODS, TESTS  # noqa: E402
from analysis.policy import RATE_STATISTICS, RATIO_STATISTICS  # noqa: E402

POOLABLE = tuple(sorted(RATIO_STATISTICS)) + tuple(sorted(RATE_STATISTICS))
STRATIFIERS = {"histology": "histology", "oligo-state": "oligo_state", "design": "design"}
METHOD_CHOICES = METHODS
TEST_CHOICES = TESTS
FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}


# Curation flags a user may also leave out (the others always are: analysis.flag_rule.DEFAULT_EXCLUDED).
OPTIONAL_FLAG_EXCLUSIONS = [f for f in flag_rule.FLAG_KINDS if f not in flag_rule.DEFAULT_EXCLUDED]


def outcomes_for(table: pd.DataFrame, statistic: str) -> list[str]:
    """Outcomes with at least one figure of this statistic, most figures first."""
    rows = table[table["statistic"] == statistic]
    return list(rows["outcome"].value_counts().index)


def timepoints_for(table: pd.DataFrame, outcome: str, statistic: str) -> list[float]:
    rows = table[(table["statistic"] == statistic) & (table["outcome"] == outcome)]
    values = pd.to_numeric(rows["timepoint_months"], errors="coerce").dropna()
    return sorted(set(float(v) for v in values))


def strata_frame(result: KBPool) -> pd.DataFrame:
    """One row per stratum: k, the pooled estimate, CI, prediction interval, heterogeneity."""
    if not result.pools:
        return pd.DataFrame()
    table = result.table()
    keep = ["stratum", *POOL_COLUMNS]
    return table[keep].rename(
        columns={
            "i2": "I² (%)",
            "tau2": "τ²",
            "q": "Q",
            "q_df": "Q df",
            "q_p": "Q p",
            "pi_low": "PI low",
            "pi_high": "PI high",
            "p_value": "p",
        }
    )


STRATUM_LEVELS = {
    "1": "1 — what a reviewer pools (NSCLC with its subtypes, prostate with both castration states, ...)",
    "2": "2 — finer (EGFR-mutant NSCLC apart, ...)",
    "term": "the term as extracted",
}


def inputs_frame(result: KBPool) -> pd.DataFrame:
    """Every input of every stratum: which figure, where it was read (tier, page), what entered the model."""
    rows = []
    for pool in result.pools:
        for item in pool.inputs():
            rows.append(
                {
                    "stratum": pool.stratum,
                    "study": f"{item['study_label']} ({item['study_years']})"
                    if item["study_years"]
                    else item["study_label"],
                    # what entered the model first: the table is wide, and these are what a reviewer checks
                    "weight (%)": item["weight_pct"],
                    "yi": item["yi"],
                    "sei": item["sei"],
                    "vi": item["vi"],
                    "SE from": item["derivation_route"],
                    "value": item["value"],
                    "CI": f"{item['ci_low']}–{item['ci_high']}" if item["ci_low"] else "",
                    "CI level": item["ci_level"],
                    "report": item["publication_id"],
                    "tier": f"{item['tier_rank']} {item['evidence_tier']}",
                    "read in": item["read_in_url"],
                    "statistic_id": item["statistic_id"],
                }
            )
    return pd.DataFrame(rows)


def sensitivity_frame(main: KBPool, own: KBPool) -> pd.DataFrame:
    """Each stratum's pool beside the same pool of the trials' own reports only (tiers 1-2)."""

    def text(pool) -> str:
        return "" if pool is None else f"{pool.estimate:.2f} ({pool.ci_low:.2f}–{pool.ci_high:.2f})"

    mine = {p.stratum: p for p in own.pools}
    names = list(dict.fromkeys([p.stratum for p in main.pools] + [p.stratum for p in own.pools]))
    by_name = {p.stratum: p for p in main.pools}
    return pd.DataFrame(
        [
            {
                "stratum": name,
                "k (selected tiers)": by_name[name].k if name in by_name else 0,
                "estimate (selected tiers)": text(by_name.get(name)),
                "k (trials' own reports)": mine[name].k if name in mine else 0,
                "estimate (trials' own reports)": text(mine.get(name)) or "no input read in a trial's own report",
            }
            for name in names
        ]
    )


def excluded_frame(result: KBPool) -> pd.DataFrame:
    columns = ["study_label", "reason", "publication_id", "value", "comparison", "group", "statistic_id"]
    if result.excluded.empty:
        return pd.DataFrame(columns=columns)
    frame = result.excluded
    return frame[[c for c in columns if c in frame.columns]].fillna("")


def forest_files(
    result: KBPool, formats: tuple[str, ...] = tuple(FORMATS), *, text_as_text: bool = False
) -> dict[str, bytes]:
    """The forest plot of a pool as SVG, PNG and PDF bytes, or only these `formats` (analysis.forest.save_forest;
    text_as_text: an SVG's text as text, for the page, not as outlines)."""
    ax = forest_from_pool(result)
    try:
        return figure_files(ax, formats, text_as_text=text_as_text)
    finally:
        plt.close(ax.get_figure(root=True))


def figure_files(fig_or_ax, formats: tuple[str, ...], *, text_as_text: bool = False) -> dict[str, bytes]:
    """A figure (or its axes) as bytes per format, saved as `oligokb` saves it (analysis.forest_save)."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            path = Path(tmp) / f"figure.{fmt}"
            out[fmt] = save_forest(fig_or_ax, path, text_as_text=text_as_text).read_bytes()
    return out


def file_stem(result: KBPool) -> str:
    parts = [result.outcome, result.statistic]
    if result.timepoint_months:
        parts.append(f"{result.timepoint_months:g}m")
    parts.append(result.method)
    return "forest-" + "-".join(p.replace(" ", "_") for p in parts)
