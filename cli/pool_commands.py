"""`oligokb pool`: meta-analysis of a CSV of effect sizes (`pool csv FILE`), of a knowledge-base selection
(`pool kb --outcome ... --statistic ...`) or of every analysis of the knowledge base at once (`pool all`).

Today's spellings (`pool --csv FILE`, `pool --outcome ...`, `pool --all`) keep working: `pool_args` sends
an argument list that names no subcommand to `pool_legacy`, which takes every option and dispatches to
the same functions. Exit codes: 0 ok, 2 bad input (nothing is written to stdout then), 3 internal.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from cli.errors import ArgumentError, prefixed_printer, reports_errors
from cli.options import STRATUM_LEVEL_HELP, TABLE_FORMATS, TIERS_HELP, Measure, Method, Test, by_columns, policy_options
from cli.pool_print import input_lines, print_table

reported = reports_errors(prefixed_printer("pool"))

CSV_HELP = """\b
Input CSV (header row required; data rows are numbered from 1 in messages):
  --measure GEN : columns study,yi,sei  or  study,yi,vi   (e.g. yi = log HR)
  --measure PLO : columns study,xi,ni   logit proportions; 0.5 is added to both
                  cells only when xi = 0 or xi = ni (metafor escalc default)
  --measure PFT : columns study,xi,ni   Freeman-Tukey double arcsine; results are
                  back-transformed with the harmonic-mean n (transf.ipft.hm)
  --by COLUMN   : also fit each group of COLUMN separately and test the difference

\b
Output (--json): k, estimate, se, ci_low, ci_high, p_value, pi_low, pi_high, tau2,
tau2_ci_low, tau2_ci_high, i2 (percent), h2, q, q_df, q_p, weights_pct (input order),
plus backtransformed {estimate, ci_low, ci_high, pi_low, pi_high} for PLO/PFT.
With --by: {"overall": {...}, "subgroups": [{"group": ..., ...}], "q_between": {q, df, p},
"moderator_test": {...}}. Not-applicable values are null.
"""

POOL_HELP = (
    """Pool studies into a meta-analysis (metafor-compatible numbers).

\b
Subcommands (each has --help):
  pool csv FILE --measure GEN|PLO|PFT    a CSV of effect sizes
  pool kb --outcome ... --statistic ...  a knowledge-base selection
  pool all [--by COLUMN[,COLUMN]]        every outcome x statistic at once
Common options: --method (tau2 estimator), --test, --level (CI/PI level in
percent), --by, --json. The earlier spellings keep working: pool --csv FILE
..., pool --outcome ... --statistic ..., pool --all ...

"""
    + CSV_HELP
    + """
\b
Example:
  oligokb pool csv hrs.csv --measure GEN --method REML --test knha --json
  (the same as: oligokb pool --csv hrs.csv --measure GEN --method REML --test knha --json)
"""
)

SUBCOMMANDS = ("csv", "kb", "all")


def pool_args(args: list[str]) -> tuple[bool, list[str]]:
    """The arguments after `pool` -> (today's spelling?, arguments). `--csv` with no FILE after it asks
    for CSV output (as the issue's contract writes it) and becomes `--format csv`; an argument list that
    does not start with a subcommand (or --help) is today's spelling, for `pool_legacy`."""
    if "--csv" in args:
        i = args.index("--csv")
        if i + 1 >= len(args) or args[i + 1].startswith("--"):
            args = args[:i] + ["--format", "csv"] + args[i + 1 :]
    return not (args and args[0] in (*SUBCOMMANDS, "--help")), args


class PoolGroup(TyperGroup):
    """The `pool` group: today's spellings run `pool_legacy` under the name `pool` (same usage line and
    messages); the subcommands run as usual."""

    # Any: typer vendors its own click (typer._click), whose Context has no public name.
    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        legacy, args = pool_args(list(args))
        if legacy:
            return typer.main.get_command(_legacy_app).make_context(info_name, args, parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


pool_app = typer.Typer(cls=PoolGroup, help=POOL_HELP, rich_markup_mode=None, add_completion=False)
_legacy_app = typer.Typer(rich_markup_mode=None, add_completion=False)

# Options, shared by the subcommands and today's spelling.
KB_FILE_OPT = typer.Option(Path("data/studies.ttl"), "--kb", help="Knowledge base (Turtle).")
METHOD_OPT = typer.Option(Method.REML, "--method", help="tau2 estimator (FE = common effect).")
TEST_OPT = typer.Option(
    Test.z, "--test", help="z (Wald), knha (Knapp-Hartung, t with k-1 df), adhoc (Knapp-Hartung never narrower than z)."
)
LEVEL_OPT = typer.Option(95.0, "--level", help="CI/PI level in percent.")
JSON_OPT = typer.Option(False, "--json", help="Print JSON (the stable contract).")
TIERS_OPT = typer.Option(None, "--tiers", metavar="TIERS", help=TIERS_HELP)
SECONDARY_OPT = typer.Option(
    False, "--include-secondary", help="All tiers (the default since tiers exist; kept so scripts keep working)."
)
STRATUM_LEVEL_OPT = typer.Option(None, "--stratum-level", metavar="COLUMN=LEVEL[,...]", help=STRATUM_LEVEL_HELP)
ENDPOINT_OPT = typer.Option(None, "--endpoint", help="Read the evidence from this SPARQL 1.1 endpoint instead of --kb.")
EXCLUDE_FLAG_OPT = typer.Option(
    None,
    "--exclude-flag",
    metavar="FLAG",
    help="Also leave out figures with this curation flag (repeatable), e.g. "
    "mapping_low_confidence for a sensitivity analysis. direction_doubtful, do_not_pool, duplicate_of and "
    "post_randomisation_subgroup are always left out (docs/curation-flags.md).",
)
OUTCOME_HELP = 'Outcome label (or vocabulary id), e.g. "overall survival".'
STATISTIC_HELP = '"hazard ratio" or "landmark rate" (also "cumulative incidence", "proportion").'
TIMEPOINT_HELP = "Months, for landmark rates (24 = 2 years)."
SENSITIVITY_HELP = "Also pool the trials' own reports only (tiers 1-2) and show both results."
KB_FORMAT_HELP = "table, csv or json (--csv without a FILE and --json are shorthands)."
PARAM_OPT = typer.Option(
    [],
    "--param",
    metavar="KEY=VALUE",
    help="Pool only the figures that pass this filter of the evidence table, as in `oligokb export` "
    "(repeatable): histology=, oligo_state=, outcome=, statistic=, design=, study=; e.g. histology=nsclc.",
)
INPUTS_OPT = typer.Option(
    False,
    "--inputs",
    help="With --format csv: one row per study that entered a pool (its stratum, figure, report, tier, "
    "yi, sei, vi, weight and how its SE was obtained) instead of one row per stratum.",
)


def check_level(level: float) -> None:
    if not 1.0 < level < 100.0:
        raise ArgumentError(f"--level={level:g} is not a percentage in (1, 100); e.g. --level 95")


@pool_app.command("csv", help="Pool a CSV of effect sizes (today's spelling: pool --csv FILE).\n\n" + CSV_HELP)
@reported
def pool_csv_command(
    csv_file: Path = typer.Argument(..., metavar="FILE", help="CSV of studies (see above)."),
    measure: Measure = typer.Option(Measure.GEN, "--measure", help="Effect-size scale."),
    method: Method = METHOD_OPT,
    test: Test = TEST_OPT,
    level: float = LEVEL_OPT,
    by: str | None = typer.Option(None, "--by", metavar="COLUMN", help="Subgroup column."),
    as_json: bool = JSON_OPT,
) -> None:
    check_level(level)
    pool_from_csv(csv_file, measure.value, method.value, test.value, level, by, as_json)


@pool_app.command(
    "kb",
    help="Pool a knowledge-base selection under the pooling policy, with the estimates left "
    "out and why (today's spelling: pool --outcome ... --statistic ...).",
)
@reported
def pool_kb_command(
    outcome: str = typer.Option(..., "--outcome", help=OUTCOME_HELP),
    statistic: str = typer.Option(..., "--statistic", help=STATISTIC_HELP),
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="COLUMN[,COLUMN]",
        help="Evidence-table columns, comma-separated, e.g. histology,oligo_state.",
    ),
    timepoint: float | None = typer.Option(None, "--timepoint", help=TIMEPOINT_HELP),
    method: Method = METHOD_OPT,
    test: Test = TEST_OPT,
    level: float = LEVEL_OPT,
    tiers: str | None = TIERS_OPT,
    include_secondary: bool = SECONDARY_OPT,
    stratum_level: str | None = STRATUM_LEVEL_OPT,
    exclude_flag: list[str] | None = EXCLUDE_FLAG_OPT,
    sensitivity: bool = typer.Option(True, "--sensitivity/--no-sensitivity", help=SENSITIVITY_HELP),
    output_format: str = typer.Option("table", "--format", help=KB_FORMAT_HELP),
    as_json: bool = JSON_OPT,
    inputs: bool = INPUTS_OPT,
    param: list[str] = PARAM_OPT,
    kb_file: Path = KB_FILE_OPT,
    endpoint: str | None = ENDPOINT_OPT,
) -> None:
    from kb.params import parse_params

    check_level(level)
    fmt = kb_format(output_format, as_json)
    if inputs and fmt != "csv":
        raise ArgumentError("--inputs is for --format csv (the table and the JSON already list each pool's inputs)")
    pool_from_kb(
        kb_file,
        outcome,
        statistic,
        by_columns(by),
        timepoint,
        method.value,
        test.value,
        level,
        policy_options(tiers, include_secondary, stratum_level, exclude_flag),
        fmt,
        endpoint,
        sensitivity,
        params=parse_params(param),
        inputs=inputs,
    )


@pool_app.command(
    "all",
    help="Pool every outcome x statistic (x time point for rates) of the knowledge base at "
    "once, per --by stratum; one row per stratum as CSV (--json: JSON records). The same numbers as "
    "one `pool kb` run each (today's spelling: pool --all).",
)
@reported
def pool_all_command(
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="COLUMN[,COLUMN]",
        help="Evidence-table columns, comma-separated, e.g. histology,oligo_state.",
    ),
    method: Method = METHOD_OPT,
    test: Test = TEST_OPT,
    level: float = LEVEL_OPT,
    tiers: str | None = TIERS_OPT,
    include_secondary: bool = SECONDARY_OPT,
    stratum_level: str | None = STRATUM_LEVEL_OPT,
    exclude_flag: list[str] | None = EXCLUDE_FLAG_OPT,
    output_format: str = typer.Option("csv", "--format", help="csv or json."),
    as_json: bool = JSON_OPT,
    param: list[str] = PARAM_OPT,
    kb_file: Path = KB_FILE_OPT,
    endpoint: str | None = ENDPOINT_OPT,
) -> None:
    from kb.params import parse_params

    check_level(level)
    pool_every(
        kb_file,
        by_columns(by),
        method.value,
        test.value,
        level,
        policy_options(tiers, include_secondary, stratum_level, exclude_flag),
        as_json or output_format == "json",
        endpoint,
        parse_params(param),
    )


@_legacy_app.command("pool", help=POOL_HELP)
@reported
def pool_legacy(
    csv_file: Path | None = typer.Option(
        None,
        "--csv",
        metavar="FILE",
        help="CSV of studies (see above); the same as `pool csv FILE`. Without it, "
        "pool a knowledge-base selection (--outcome, --statistic).",
    ),
    measure: Measure = typer.Option(Measure.GEN, "--measure", help="Effect-size scale (CSV mode)."),
    method: Method = METHOD_OPT,
    test: Test = TEST_OPT,
    level: float = LEVEL_OPT,
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="COLUMN[,COLUMN]",
        help="Subgroup column (CSV mode) or evidence-table columns, "
        "comma-separated (knowledge-base mode), e.g. histology,oligo_state.",
    ),
    as_json: bool = JSON_OPT,
    outcome: str | None = typer.Option(None, "--outcome", help="Knowledge-base mode: " + OUTCOME_HELP),
    statistic: str | None = typer.Option(None, "--statistic", help="Knowledge-base mode: " + STATISTIC_HELP),
    timepoint: float | None = typer.Option(None, "--timepoint", help=TIMEPOINT_HELP),
    tiers: str | None = TIERS_OPT,
    include_secondary: bool = SECONDARY_OPT,
    stratum_level: str | None = STRATUM_LEVEL_OPT,
    sensitivity: bool = typer.Option(
        True, "--sensitivity/--no-sensitivity", help="Knowledge-base mode: " + SENSITIVITY_HELP
    ),
    output_format: str = typer.Option("table", "--format", help="Knowledge-base mode: " + KB_FORMAT_HELP),
    kb_file: Path = KB_FILE_OPT,
    endpoint: str | None = ENDPOINT_OPT,
    every: bool = typer.Option(False, "--all", help="The same as `pool all`."),
    exclude_flag: list[str] | None = EXCLUDE_FLAG_OPT,
    inputs: bool = INPUTS_OPT,
    param: list[str] = PARAM_OPT,
) -> None:
    from kb.params import parse_params

    check_level(level)
    params = parse_params(param)
    if inputs and (csv_file is not None or every or kb_format(output_format, as_json) != "csv"):
        raise ArgumentError("--inputs is for a knowledge-base selection with --format csv")
    if every:
        if csv_file is not None or outcome is not None or statistic is not None or timepoint is not None:
            raise ArgumentError(
                "--all pools every outcome and statistic of the knowledge base; "
                "drop --csv, --outcome, --statistic and --timepoint, or drop --all"
            )
        pool_every(
            kb_file,
            by_columns(by),
            method.value,
            test.value,
            level,
            policy_options(tiers, include_secondary, stratum_level, exclude_flag),
            as_json or output_format == "json",
            endpoint,
            params,
        )
        return
    if csv_file is None:
        if outcome is None or statistic is None:
            raise ArgumentError(
                "no input: give --csv FILE, or a knowledge-base selection with "
                '--outcome and --statistic (e.g. --outcome "overall survival" --statistic "hazard ratio")'
            )
        pool_from_kb(
            kb_file,
            outcome,
            statistic,
            by_columns(by),
            timepoint,
            method.value,
            test.value,
            level,
            policy_options(tiers, include_secondary, stratum_level, exclude_flag),
            kb_format(output_format, as_json),
            endpoint,
            sensitivity,
            params=params,
            inputs=inputs,
        )
        return
    if params:
        raise ArgumentError("--param filters the knowledge base; a CSV of effect sizes has no such columns")
    if outcome is not None or statistic is not None:
        raise ArgumentError("--csv FILE and --outcome/--statistic are two input modes; give one")
    if exclude_flag:
        raise ArgumentError(
            "--exclude-flag is for knowledge-base mode (a CSV of effect sizes carries no curation flags)"
        )
    pool_from_csv(csv_file, measure.value, method.value, test.value, level, by, as_json)


def kb_format(output_format: str, as_json: bool) -> str:
    fmt = "json" if as_json else output_format
    if fmt not in TABLE_FORMATS:
        raise ArgumentError(f"--format {fmt!r} is not one of {', '.join(TABLE_FORMATS)}")
    return fmt


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def pool_from_csv(
    csv_file: Path, measure: str, method: str, test: str, level_pct: float, by: str | None, as_json: bool
) -> None:
    """CSV mode: the pooled result (analysis.csv_input.pool_csv) as JSON or a short table; the engine's
    warnings on stderr."""
    from analysis.csv_input import pool_csv

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = pool_csv(csv_file, measure, method, test, level_pct, by)
    for w in caught:
        _err(f"warning: {w.message}")
    if as_json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print_table(out)


def kb_evidence(kb_file: Path, endpoint: str | None = None, params: dict[str, str] | None = None) -> Any:
    """The evidence table of the KB file (its materialised copy) or of the endpoint, filtered by
    `--param` items as `oligokb export` filters it (kb.export.evidence_table)."""
    from kb.backend import open_kb
    from kb.export import evidence_table

    return evidence_table(open_kb(kb_file, endpoint), params)


def pool_selection(
    kb_file: Path,
    outcome: str,
    statistic: str,
    by: tuple[str, ...],
    timepoint: float | None,
    method: str,
    test: str,
    level_pct: float,
    policy: dict[str, Any],
    endpoint: str | None = None,
    table: Any = None,
) -> Any:
    """Load the knowledge base, check the labels (analysis.selection), apply the policy and pool."""
    from analysis.kb_pool import pool_knowledge_base
    from analysis.selection import selection_labels

    table = kb_evidence(kb_file, endpoint) if table is None else table
    outcome, statistic = selection_labels(table, outcome, statistic)
    return pool_knowledge_base(
        table,
        outcome=outcome,
        statistic=statistic,
        by=by,
        timepoint_months=timepoint,
        method=method,
        test=test,
        level=level_pct / 100.0,
        **policy,
    )


def pool_every(
    kb_file: Path,
    by: tuple[str, ...],
    method: str,
    test: str,
    level_pct: float,
    policy: dict[str, Any],
    as_json: bool,
    endpoint: str | None = None,
    params: dict[str, str] | None = None,
) -> None:
    """Every analysis of the knowledge base pooled at once (analysis.kb_pool.pool_all): a guideline group's
    re-pool of every subgroup after an update."""
    from analysis.kb_pool import pool_all

    table = kb_evidence(kb_file, endpoint, params)
    result = pool_all(table, by=by, method=method, test=test, level=level_pct / 100.0, **policy)
    for _, message in result.warnings:
        _err(f"warning: {message}")
    frame = result.strata.drop(columns=["combo", "start", "mu", "se"])
    if as_json:
        print(json.dumps(json.loads(frame.to_json(orient="records")), indent=2, allow_nan=False))
    else:
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
    _err(
        f"{len(frame)} strata of {frame[['outcome', 'statistic', 'timepoint_months']].drop_duplicates().shape[0]} "
        "analyses; each analysis's estimates left out and why: oligokb pool --outcome ... --statistic ..."
    )


def pool_from_kb(
    kb_file: Path,
    outcome: str,
    statistic: str,
    by: tuple[str, ...],
    timepoint: float | None,
    method: str,
    test: str,
    level_pct: float,
    policy: dict[str, Any],
    fmt: str,
    endpoint: str | None = None,
    sensitivity: bool = True,
    *,
    params: dict[str, str] | None = None,
    inputs: bool = False,
) -> None:
    """Knowledge-base mode: policy, per-stratum pools with their inputs, the estimates left out with
    reasons; and, unless the selection already keeps only the trials' own reports, the same pool of
    those reports only. `params`: the export's filters of the evidence table; `inputs`: the CSV gives
    one row per input instead of one per stratum."""
    from analysis.strata import OWN_REPORT_TIERS, allowed_tiers, tiers_text

    table = kb_evidence(kb_file, endpoint, params)
    result = pool_selection(
        kb_file, outcome, statistic, by, timepoint, method, test, level_pct, policy, endpoint, table
    )
    own = None
    kept = allowed_tiers(policy.get("tiers"))
    if sensitivity and set(kept) - set(OWN_REPORT_TIERS):
        own = pool_selection(
            kb_file,
            outcome,
            statistic,
            by,
            timepoint,
            method,
            test,
            level_pct,
            {**policy, "tiers": "own"},
            endpoint,
            table,
        )
    outcome, statistic = result.outcome, result.statistic  # labels, also when ids were given
    for message in result.warnings:
        _err(f"warning: {message}")
    excluded = result.excluded
    excluded_rows = (
        []
        if excluded.empty
        else excluded[["study_id", "publication_id", "group", "value", "statistic_id", "reason"]].to_dict(
            orient="records"
        )
    )
    if fmt == "json":
        print(
            json.dumps(
                {
                    "outcome": outcome,
                    "statistic": statistic,
                    "timepoint_months": timepoint,
                    "method": method,
                    "test": test,
                    "level": level_pct,
                    "strata": list(result.strata),
                    "scale": "hazard ratio" if statistic == "hazard ratio" else "percent",
                    "tiers": list(kept),
                    "pools": [p.to_dict() for p in result.pools],
                    "excluded": excluded_rows,
                    "sensitivity": None
                    if own is None
                    else {
                        "label": "trials' own reports only",
                        "tiers": list(OWN_REPORT_TIERS),
                        "pools": [p.to_dict() for p in own.pools],
                    },
                },
                indent=2,
                allow_nan=False,
                default=str,
            )
        )
        return
    frame = result.table()
    if fmt == "csv" and inputs:
        sys.stdout.write(result.inputs_frame().to_csv(index=False, lineterminator="\n"))
        _err(f"{len(excluded_rows)} estimate(s) left out; see --format table or json for the reasons")
        return
    if fmt == "csv":
        if not frame.empty:
            frame = frame.assign(
                studies=frame["studies"].map("; ".join),
                weights_pct=frame["weights_pct"].map(lambda w: "; ".join(f"{x:.2f}" for x in w)),
            )
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
        _err(f"{len(excluded_rows)} estimate(s) left out; see --format table or json for the reasons")
        return
    scale = "HR" if statistic == "hazard ratio" else "%"
    print(
        f"{statistic} of {outcome}"
        + (f" at {timepoint:g} months" if timepoint else "")
        + f" — {method}, test {test}, {level_pct:g}% CI; strata: {', '.join(result.strata)}"
    )
    if not result.pools:
        print("no estimate passes the pooling policy (see the list below)")
    for p in result.pools:
        est = f"{p.estimate:.2f} ({p.ci_low:.2f}-{p.ci_high:.2f})"
        pi = f", PI {p.pi_low:.2f}-{p.pi_high:.2f}" if p.pi_low is not None else ""
        het = f", tau2 {p.tau2:.3f}, I2 {p.i2:.0f}%" if p.tau2 is not None else ""
        print(f"- {p.stratum}: k = {p.k}, {scale} {est}{pi}{het}" + (f"  [{p.note}]" if p.note else ""))
        for line in input_lines(p, scale):
            print(f"    {line}")
    print(f"tiers kept: {tiers_text(kept)}")
    if own is not None:
        print("sensitivity, trials' own reports only (tiers 1-2):")
        if not own.pools:
            print("- no estimate read in a trial's own report passes the policy")
        for p in own.pools:
            est = f"{p.estimate:.2f} ({p.ci_low:.2f}-{p.ci_high:.2f})"
            print(f"- {p.stratum}: k = {p.k}, {scale} {est}" + (f"  [{p.note}]" if p.note else ""))
    print(f"left out: {len(excluded_rows)}")
    for row in excluded_rows:
        print(f"- {row['study_id']} / {row['publication_id']} / {row['group']} = {row['value']}: {row['reason']}")
