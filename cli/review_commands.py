"""`oligokb leave-one-out`, `cumulative`, `funnel` and `rob-sensitivity`: the analyses a review reports beside
the pool, on the same selection as `oligokb pool kb` (same options, same policy; analysis.review computes).

Every command takes the selection options of `pool kb` (added once, by `cli.selection.selection_command`) and --format
table|csv|json. Exit codes: 0 ok, 2 bad input (nothing on stdout then), 3 internal.
"""

# No `from __future__ import annotations`: typer reads these signatures, built at import time.
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli.errors import ArgumentError, prefixed_printer, reports_errors
from cli.options import TABLE_FORMATS
from cli.selection import selection_command

if TYPE_CHECKING:  # pandas comes with the analysis; `oligokb --help` and other commands need not load it
    import pandas as pd

LABEL_CHARS = 44  #: a study label in a text table is cut here (the full label is in csv and json)
FORMAT_HELP = "table (for reading), csv or json (for other tools)."
PLOT_HELP = "Also draw the plot to this file: .svg, .png or .pdf (written whole or not at all)."

FORMAT_OPT = typer.Option("table", "--format", help=FORMAT_HELP)
PLOT_OPT = typer.Option(None, "--plot", metavar="FILE", help=PLOT_HELP)
TITLE_OPT = typer.Option(None, "--title", help="Title of the plot.")


def _header(result: Any, what: str) -> str:
    return (
        f"{what}: {result.statistic} of {result.outcome}"
        + (f" at {result.timepoint_months:g} months" if result.timepoint_months else "")
        + f" — {result.method}, test {result.test}, {result.level * 100:g}% CI"
    )


def _records(frame: "pd.DataFrame") -> list[dict]:
    """JSON-ready rows: NaN -> null, numpy scalars -> Python."""
    return list(json.loads(frame.to_json(orient="records")))


def _envelope(result: Any) -> dict:
    return {
        "outcome": result.outcome,
        "statistic": result.statistic,
        "timepoint_months": result.timepoint_months,
        "method": result.method,
        "test": result.test,
        "level": result.level * 100,
        "scale": "hazard ratio" if result.statistic == "hazard ratio" else "percent",
        "strata": list(result.strata),
    }


def _num(x: Any, digits: int = 2) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _p(x: Any) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else ("<0.001" if x < 0.001 else f"{x:.3f}")


def _print_block(frame: "pd.DataFrame", label: str, columns: list[str]) -> None:
    """A stratum's rows as an aligned text table, estimates to 2 decimals, tau2 to 3, I2 to 0."""
    from pandas.api.types import is_numeric_dtype

    digits = {"tau2": 3, "i2": 0}
    shown = frame[columns].copy()
    for col in columns:
        if col in ("estimate", "ci_low", "ci_high", "tau2", "i2", "p_value"):
            shown[col] = [_p(x) if col == "p_value" else _num(x, digits.get(col, 2)) for x in frame[col]]
        elif not is_numeric_dtype(shown[col]):  # text left-aligned, shortened
            text = [str(x)[:LABEL_CHARS] for x in shown[col]]
            width = max([len(x) for x in text] + [len(col)])
            shown[col] = [x.ljust(width) for x in text]
            shown = shown.rename(columns={col: col.ljust(width)})
    shown = shown.rename(columns={"i2": "I2 %", "p_value": "p"})
    print(f"- {label}")
    print("  " + shown.to_string(index=False).replace("\n", "\n  "))


def _write(frame: "pd.DataFrame", fmt: str, result: Any, what: str, key: str, extra: dict | None = None) -> bool:
    """csv or json output of `frame`; False for table format (the caller prints)."""
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
        return True
    if fmt == "json":
        print(json.dumps(_envelope(result) | {"analysis": what, key: _records(frame)} | (extra or {}), indent=2))
        return True
    return False


@reports_errors(prefixed_printer("leave-one-out"))
@selection_command(TABLE_FORMATS)
def leave_one_out(result: Any, source: Any, output_format: str = FORMAT_OPT) -> None:
    """Leave-one-out: each stratum of `oligokb pool kb` re-pooled without each study in turn (estimate
    and CI on the pool's scale, tau2, I2), to see whether one study drives the result."""
    from analysis.review import pool_leave_one_out

    table = pool_leave_one_out(result)
    short = [p.stratum for p in result.pools if p.k < 2]
    notes = [f"{s}: k = 1, nothing to leave out" for s in short]
    if _write(table, output_format, result, "leave-one-out", "rows", {"notes": notes}):
        return
    print(_header(result, "leave-one-out"))
    for pool in result.pools:
        if pool.k < 2:
            print(f"- {pool.stratum}: k = 1, nothing to leave out")
            continue
        _print_block(
            table[table["stratum"] == pool.stratum],
            f"{pool.stratum}: all {pool.k} studies {_num(pool.estimate)} ({_num(pool.ci_low)}-{_num(pool.ci_high)});"
            " without each in turn:",
            ["omitted", "k", "estimate", "ci_low", "ci_high", "p_value", "tau2", "i2"],
        )


@reports_errors(prefixed_printer("cumulative"))
@selection_command(TABLE_FORMATS)
def cumulative(
    result: Any,
    source: Any,
    output_format: str = FORMAT_OPT,
    plot: Path | None = PLOT_OPT,
    title: str | None = TITLE_OPT,
) -> None:
    """Cumulative meta-analysis: the studies of each stratum of `oligokb pool kb` added one at a time in the
    order their figures were published (year of the report pooled, then study name), with the pooled
    estimate after each: how the evidence moved as each trial reported."""
    from analysis.review import pool_cumulative

    table = pool_cumulative(result)
    if plot is not None:
        from analysis.forest_save import save_forest
        from analysis.review_plots import cumulative_plot

        save_forest(cumulative_plot(table, statistic=result.statistic, title=title, level=result.level), plot)
        print(f"wrote {plot}", file=sys.stderr)
    if _write(table, output_format, result, "cumulative", "rows"):
        return
    print(_header(result, "cumulative meta-analysis by publication year"))
    for stratum in dict.fromkeys(table["stratum"]):
        rows = table[table["stratum"] == stratum]
        _print_block(
            rows.assign(year=[y or "" for y in rows["year"]]),
            str(stratum),
            ["study", "year", "k", "estimate", "ci_low", "ci_high", "tau2", "i2"],
        )


@reports_errors(prefixed_printer("funnel"))
@selection_command(TABLE_FORMATS)
def funnel(
    result: Any,
    source: Any,
    output_format: str = FORMAT_OPT,
    plot: Path | None = PLOT_OPT,
    title: str | None = TITLE_OPT,
    egger_model: str = typer.Option(
        "rma",
        "--egger-model",
        help="rma (the default, as metafor's regtest: a meta-regression on the standard error with the "
        "pool's tau2 method and test) or lm (Egger's original weighted regression).",
    ),
) -> None:
    """Small-study effects: Egger's regression test per stratum of `oligokb pool kb`, only when the stratum
    has at least 10 studies (otherwise it says why), and with --plot the funnel plot (each study's
    estimate against its standard error, with pseudo-95% limits around the pooled estimate)."""
    from analysis.review import EGGER_MIN_K, pool_funnels, pool_small_study_tests, small_study_frame

    if egger_model not in ("rma", "lm"):
        raise ArgumentError(f"--egger-model {egger_model!r} is not rma or lm")
    tests = pool_small_study_tests(result, model=egger_model)
    if plot is not None:
        from analysis.forest_save import save_forest
        from analysis.review_plots import funnel_plot

        funnels = pool_funnels(result, model=egger_model)
        if not funnels:
            raise ArgumentError("--plot: no stratum has two or more studies to draw a funnel of")
        save_forest(funnel_plot(funnels, statistic=result.statistic, title=title), plot)
        print(f"wrote {plot}", file=sys.stderr)
    frame = small_study_frame(tests)
    if _write(frame, output_format, result, "egger", "tests", {"min_k": EGGER_MIN_K}):
        return
    print(_header(result, "small-study effects (Egger's test, k >= 10)"))
    for t in tests:
        line = t.verdict()
        if t.egger is not None:
            e = t.egger
            line += f"; limit estimate (SE -> 0) {_num(e.limit_estimate, 3)} on the model scale"
        print(f"- {t.stratum} (k = {t.k}): {line}")


@reports_errors(prefixed_printer("rob-sensitivity"))
@selection_command(TABLE_FORMATS)
def rob_sensitivity(result: Any, source: tuple[Path, str | None], output_format: str = FORMAT_OPT) -> None:
    """Sensitivity analysis by risk of bias: each stratum of `oligokb pool kb` pooled again from the trials
    whose overall RoB 2 judgement for the outcome is "low", beside the full pool, with each trial left
    out and why (a trial with no judgement is "not assessed" and left out)."""
    from analysis.review import rob_sensitivity as compute
    from kb.backend import open_kb
    from kb.rob import rob_table

    out = compute(result, rob_table(open_kb(*source)))
    if output_format == "csv":
        sys.stdout.write(out.pools.to_csv(index=False, lineterminator="\n"))
        print(f"{len(out.dropped)} input(s) left out of the low-risk pool; --format json lists them", file=sys.stderr)
        return
    if output_format == "json":
        print(json.dumps(_envelope(result) | {"analysis": "rob-sensitivity"} | out.to_dict(), indent=2))
        return
    print(_header(result, "sensitivity analysis by risk of bias (RoB 2 overall)"))
    for stratum in dict.fromkeys(out.pools["stratum"]):
        _print_block(
            out.pools[out.pools["stratum"] == stratum],
            str(stratum),
            ["analysis", "k", "estimate", "ci_low", "ci_high", "tau2", "i2", "note"],
        )
    print(f"left out of the low-risk pool: {len(out.dropped)}")
    for row in out.dropped.itertuples():
        print(f"- {row.study_id}: {row.reason}")
