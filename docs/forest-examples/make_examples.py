"""Render the forest-plot examples in this folder from made-up DEMO numbers (not evidence).

    cd /work/main && uv run python docs/forest-examples/make_examples.py

Every study name, estimate and statistic below is invented to exercise the layout.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from analysis.forest import ForestRow, ForestSummary, forest_plot
from analysis.forest_save import save_forest

OUT = Path(__file__).parent


def subgroups() -> None:
    """Two subgroups (3 studies and 1 study) plus overall, HR on a log axis."""
    rows = [
        ForestRow("Demo trial A (Author 2019)", 0.47, 0.30, 0.74, 28.4, "2019 · RCT · n=99", "Randomised"),
        ForestRow(
            "Demo trial B, a deliberately long label that has to wrap (Author 2021)",
            0.62,
            0.41,
            0.95,
            31.0,
            "2021 · RCT · n=142",
            "Randomised",
        ),
        ForestRow("Demo trial C (Author 2023)", 0.85, 0.44, 1.63, 14.9, "2023 · RCT · n=58", "Randomised"),
        ForestRow("Demo cohort D (Author 2020)", 0.55, 0.18, 5.20, 25.7, "2020 · cohort · n=311", "Non-randomised"),
    ]
    summaries = [
        ForestSummary(
            "Subtotal (REML)",
            0.60,
            0.45,
            0.80,
            0.31,
            1.17,
            group="Randomised",
            stats_text="τ² = 0.02, I² = 12%, Q = 2.3 (df = 2, p = 0.32)",
            weight_pct=74.3,
        ),
        ForestSummary("Subtotal (REML)", 0.55, 0.18, 5.20, group="Non-randomised"),
        ForestSummary(
            "Overall (REML)",
            0.59,
            0.45,
            0.77,
            0.34,
            1.02,
            stats_text="τ² = 0.03, I² = 18%, Q = 3.7 (df = 3, p = 0.30)\n"
            "Test for subgroup differences: Q = 0.0 (df = 1, p = 0.87)",
            weight_pct=100.0,
        ),
    ]
    ax = forest_plot(
        rows, summaries, title="DEMO DATA (not evidence): overall survival, SABR vs standard of care", xlim=(0.125, 4)
    )
    save_forest(ax, OUT / "demo_subgroups.png")


def many_rows(k: int = 45) -> None:
    """45 studies, no subgroups, one overall diamond."""
    rnd = random.Random(20240601)
    rows = []
    for i in range(k):
        log_hr = rnd.gauss(-0.4, 0.3)
        se = rnd.uniform(0.12, 0.6)
        w = 1 / (se**2 + 0.05)
        rows.append(
            ForestRow(
                f"Demo study {i + 1:02d} (Author {2005 + i % 19})",
                math.exp(log_hr),
                math.exp(log_hr - 1.96 * se),
                math.exp(log_hr + 1.96 * se),
                w,
                f"{2005 + i % 19} · {'RCT' if i % 4 == 0 else 'cohort'} · n={rnd.randint(30, 400)}",
            )
        )
    total = sum(r.weight_pct for r in rows)
    rows = [ForestRow(r.label, r.estimate, r.ci_low, r.ci_high, 100 * r.weight_pct / total, r.detail) for r in rows]
    rows[7] = ForestRow("Demo study 08 (CI not reported)", 0.70, None, None, None, "2012 · cohort")
    rows[12] = ForestRow("Demo study 13 (not estimable)", None, None, None, None, "2017 · cohort")
    summaries = [
        ForestSummary(
            "Overall (REML)",
            0.68,
            0.61,
            0.76,
            0.42,
            1.10,
            stats_text="τ² = 0.06, I² = 41%, Q = 71.2 (df = 42, p = 0.003)",
            weight_pct=100.0,
        )
    ]
    ax = forest_plot(rows, summaries, title=f"DEMO DATA (not evidence): {k} made-up studies")
    save_forest(ax, OUT / "demo_45_rows.png")


def proportions() -> None:
    """Landmark rates in percent on a linear axis: no null line, no favours labels."""
    rows = [
        ForestRow("Demo series E (Author 2016)", 42.0, 31.5, 53.1, 21.0, "2016 · cohort · n=82"),
        ForestRow("Demo series F (Author 2018)", 55.3, 46.0, 64.3, 27.5, "2018 · cohort · n=120"),
        ForestRow("Demo series G (Author 2019)", 35.1, 22.9, 49.6, 17.4, "2019 · phase II · n=45"),
        ForestRow("Demo series H (Author 2022)", 61.0, 52.2, 69.1, 34.1, "2022 · cohort · n=131"),
    ]
    summaries = [
        ForestSummary(
            "Pooled (REML, logit)",
            50.2,
            40.4,
            60.0,
            24.8,
            75.6,
            stats_text="τ² = 0.14, I² = 66%, Q = 8.9 (df = 3, p = 0.03)",
            weight_pct=100.0,
        )
    ]
    ax = forest_plot(
        rows,
        summaries,
        log_scale=False,
        null_value=None,
        favours=None,
        xlabel="2-year progression-free survival (%)",
        digits=1,
        estimate_header="2-y PFS, % (95% CI)",
        xlim=(0, 100),
        title="DEMO DATA (not evidence): 2-year PFS after SABR",
    )
    save_forest(ax, OUT / "demo_proportions.png")


if __name__ == "__main__":
    subgroups()
    many_rows()
    proportions()
