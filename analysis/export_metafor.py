"""Every pool's inputs for other tools: a bundle that metafor re-runs (`pool_inputs.csv` + `reproduce.R`)
and a RevMan generic inverse-variance table.

Both are tables of the inputs `analysis.kb_pool.pool_all` pooled (one row per chosen estimate of every
analysis and stratum), so R and RevMan see exactly the yi and SE that oligokb used.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.kb_pool import AllPools, KBPool
from analysis.policy import RATIO_STATISTICS
from terms.files import write_atomic

#: Columns of pool_inputs.csv (read by reproduce.R): the analysis and stratum, the study and its chosen
#: figure, what entered the model (yi, vi, sei on the `scale`), and the model (method, test, level in %).
POOL_INPUT_COLUMNS = (
    "analysis",
    "stratum",
    "study",
    "statistic_id",
    "publication_id",
    "yi",
    "vi",
    "sei",
    "scale",
    "method",
    "test",
    "level",
    "derivation_route",
)

#: Columns of reproduce.R's pooled_R.csv (and of `pooled_table`, its oligokb side).
POOLED_COLUMNS = ("analysis", "stratum", "k", "estimate", "ci_low", "ci_high", "tau2", "i2")

#: The R template, a fixed file shipped beside this module.
REPRODUCE_TEMPLATE = Path(__file__).with_name("reproduce_metafor.R")

#: RevMan Web's data-rows columns for contrast-level (generic inverse-variance) data, as the R package
#: meta's `read.cdir` reads them (docs/analysis.md, "RevMan"); "GIV Mean" is the log HR, "GIV SE" its SE.
REVMAN_COLUMNS = (
    "Analysis group",
    "Analysis number",
    "Analysis name",
    "Subgroup",
    "Study",
    "Study year",
    "GIV Mean",
    "GIV SE",
    "Footnotes",
)


def analysis_label(outcome: str, statistic: str, timepoint_months: float | None) -> str:
    """'progression-free survival | hazard ratio', 'overall survival | landmark rate | 24 months'."""
    parts = [outcome, statistic] + ([f"{timepoint_months:g} months"] if timepoint_months is not None else [])
    return " | ".join(parts)


def model_scale(statistic: str) -> str:
    """'log' for ratios (shown as exp), 'logit' for rates (shown as 100 x inverse logit): reproduce.R's key."""
    return "log" if statistic in RATIO_STATISTICS else "logit"


def pool_inputs(pools: AllPools) -> pd.DataFrame:
    """One row per input of every analysis and stratum that `pools` pooled (POOL_INPUT_COLUMNS)."""
    frames = [kb_pool_inputs(result) for result in pools.kb_pools()]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(POOL_INPUT_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def kb_pool_inputs(result: KBPool) -> pd.DataFrame:
    """One row per input of every stratum of one analysis (POOL_INPUT_COLUMNS): what the explorer's
    "Reproduce in R" gives for the pool on screen."""
    inputs = result.inputs_frame()
    if inputs.empty:
        return pd.DataFrame(columns=list(POOL_INPUT_COLUMNS))
    return inputs.assign(
        analysis=analysis_label(result.outcome, result.statistic, result.timepoint_months),
        study=inputs["study_id"],
        scale=model_scale(result.statistic),
        method=result.method,
        test=result.test,
        level=round(result.level * 100.0, 10),
    )[list(POOL_INPUT_COLUMNS)]


def metafor_bundle(inputs: pd.DataFrame) -> dict[str, bytes]:
    """The bundle's two files as bytes, by name: pool_inputs.csv (these inputs) and reproduce.R."""
    return {
        "pool_inputs.csv": inputs.to_csv(index=False, lineterminator="\n").encode("utf-8"),
        "reproduce.R": REPRODUCE_TEMPLATE.read_bytes(),
    }


def pooled_table(pools: AllPools) -> pd.DataFrame:
    """oligokb's own numbers in pooled_R.csv's shape (POOLED_COLUMNS; NaN where pool reports none)."""
    st = pools.strata
    combos = pools.selection.combos
    labels = [analysis_label(*combos[int(c)]) for c in st["combo"]]
    return pd.DataFrame(
        {
            "analysis": labels,
            "stratum": st["stratum"].to_numpy(object),
            "k": st["k"].to_numpy(int),
            **{c: st[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high", "tau2", "i2")},
        }
    )


def write_metafor_bundle(pools: AllPools, out_dir: Path) -> list[Path]:
    """DIR/pool_inputs.csv and DIR/reproduce.R (the directory made if missing), each written whole or not
    at all. Returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in metafor_bundle(pool_inputs(pools)).items():
        write_atomic(out_dir / name, content)
        written.append(out_dir / name)
    return written


def _first_year(years: str) -> str:
    """RevMan's 'Study year' is one year: the first of the study's own reports ('2019–2022' -> '2019')."""
    found = re.search(r"\d{4}", str(years or ""))
    return found.group(0) if found else ""


def revman_table(pools: AllPools) -> pd.DataFrame:
    """RevMan generic inverse-variance rows (REVMAN_COLUMNS) of every ratio analysis: one RevMan analysis
    per outcome (Analysis number), one subgroup per stratum; the footnote says where the figure was read and
    how its SE was obtained. Rates are left out: GIV data are contrasts between two arms, and a rate is one
    arm's."""
    rows = []
    number = 0
    for result in pools.kb_pools():
        if result.statistic not in RATIO_STATISTICS or not result.pools:
            continue
        number += 1
        name = analysis_label(result.outcome, result.statistic, result.timepoint_months)
        for pool in result.pools:
            years = pool.rows["study_years"] if "study_years" in pool.rows else [""] * len(pool.rows)
            for item, year in zip(pool.inputs(), years, strict=True):
                rows.append(
                    {
                        "Analysis group": 1,
                        "Analysis number": number,
                        "Analysis name": name,
                        "Subgroup": pool.stratum,
                        "Study": item["study_label"],
                        "Study year": _first_year(year),
                        "GIV Mean": item["yi"],
                        "GIV SE": item["sei"],
                        "Footnotes": f"{item['statistic_id']}: {item['derivation_route']}",
                    }
                )
    return pd.DataFrame(rows, columns=list(REVMAN_COLUMNS))


def write_revman(pools: AllPools, out: Path) -> None:
    """The RevMan table as a CSV file, written whole or not at all."""
    write_atomic(out, revman_table(pools).to_csv(index=False, lineterminator="\n").encode("utf-8"))
