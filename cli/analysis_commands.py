"""`oligokb pool`: meta-analysis from a CSV of effect sizes (and, later, from the knowledge base).

The command is thin: it reads and checks the CSV (every problem names the file, row and column),
calls `analysis`, and prints JSON or a short table. Exit codes: 0 ok, 2 bad input (nothing is
written to stdout then), 3 internal (e.g. an estimator did not converge).
"""
from __future__ import annotations

from contextlib import contextmanager

import csv
import json
import math
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

POOL_HELP = """Pool studies into a meta-analysis (metafor-compatible numbers).

\b
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

\b
Example:
  oligokb pool --csv hrs.csv --measure GEN --method REML --test knha --json
"""


class Measure(str, Enum):
    GEN = "GEN"
    PLO = "PLO"
    PFT = "PFT"


class Method(str, Enum):
    FE = "FE"
    DL = "DL"
    REML = "REML"
    PM = "PM"
    ML = "ML"
    HE = "HE"
    SJ = "SJ"
    EB = "EB"


class Test(str, Enum):
    z = "z"
    knha = "knha"
    adhoc = "adhoc"


#: Output keys of one pooled result, in order (the CLI contract).
RESULT_KEYS = ("k", "estimate", "se", "ci_low", "ci_high", "p_value", "pi_low", "pi_high",
               "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_df", "q_p",
               "weights_pct")
#: Extra, documented keys that help a reader of the JSON.
EXTRA_KEYS = ("method", "test", "test_used", "stat", "df", "studies")

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class CsvInputError(Exception):
    """A CSV problem; message already names file, row and column."""


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def read_table(path: Path, measure: str, by: str | None) -> dict:
    """Read and check the CSV. Returns studies, values and groups; raises CsvInputError."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CsvInputError(f"{name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CsvInputError(f"{name}: cannot read ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if measure == "GEN":
        if "yi" not in header or not ({"sei", "vi"} & set(header)):
            raise CsvInputError(f"{name}: missing column(s): --measure GEN needs study,yi,sei or "
                                f"study,yi,vi; found {','.join(header) or 'no header'}")
        if {"sei", "vi"} <= set(header):
            raise CsvInputError(f"{name}: columns 'sei' and 'vi' are both present; keep one")
        needed = ["yi", "sei" if "sei" in header else "vi"]
    else:
        needed = ["xi", "ni"]
        missing = [c for c in needed if c not in header]
        if missing:
            raise CsvInputError(f"{name}: missing column(s) {', '.join(repr(c) for c in missing)}"
                                f": --measure {measure} needs study,xi,ni; found "
                                f"{','.join(header) or 'no header'}")
    if by is not None and by not in header:
        raise CsvInputError(f"{name}: --by column '{by}' not found; columns are "
                            f"{','.join(header)}")
    studies, values, groups = [], {c: [] for c in needed}, []
    for row_no, row in enumerate(reader, start=1):
        if all((v or "").strip() == "" for v in row.values()):
            continue
        studies.append((row.get("study") or f"row {row_no}").strip())
        for col in needed:
            cell = (row.get(col) or "").strip()
            try:
                x = float(cell)
            except ValueError:
                x = math.nan
            if not math.isfinite(x):
                raise CsvInputError(f"{name}, row {row_no}, column '{col}': {cell!r} is not a "
                                    "finite number")
            values[col].append(x)
        _check_row(name, row_no, measure, needed, {c: values[c][-1] for c in needed})
        if by is not None:
            g = (row.get(by) or "").strip()
            if not g:
                raise CsvInputError(f"{name}, row {row_no}, column '{by}': empty group label")
            groups.append(g)
    if not studies:
        raise CsvInputError(f"{name}: no data rows (k = 0); need at least one study")
    return {"studies": studies, "values": values, "groups": groups if by else None}


def _check_row(name, row_no, measure, needed, vals) -> None:
    where = f"{name}, row {row_no}"
    if measure == "GEN":
        col = needed[1]
        if vals[col] <= 0:
            what = "standard error" if col == "sei" else "sampling variance"
            raise CsvInputError(f"{where}, column '{col}': {what} must be > 0, got {vals[col]:g}")
        return
    x, n = vals["xi"], vals["ni"]
    if x < 0:
        raise CsvInputError(f"{where}, column 'xi': events must be >= 0, got {x:g}")
    if n <= 0:
        raise CsvInputError(f"{where}, column 'ni': sample size must be > 0, got {n:g}")
    if x > n:
        raise CsvInputError(f"{where}, column 'xi': {x:g} events exceed ni = {n:g}")


def _result_dict(res, level_pct: float) -> dict:
    d = res.to_dict()
    out = {k: d[k] for k in RESULT_KEYS}
    out.update({k: d[k] for k in EXTRA_KEYS})
    out["level"] = level_pct
    if res.backtransformed is not None:
        out["backtransformed"] = res.backtransformed.to_dict()
    return out


def run_pool(csv_path: Path, measure: str, method: str, test: str, level_pct: float,
             by: str | None) -> dict:
    """Read, fit and return the JSON-ready dict (raises CsvInputError / analysis errors)."""
    from analysis.errors import InputError
    from analysis.meta import escalc_proportions, meta_analysis
    from analysis.subgroups import subgroup_analysis

    table = read_table(csv_path, measure, by)
    vals, studies = table["values"], table["studies"]
    level = level_pct / 100.0
    try:
        ni = None
        if measure == "GEN":
            y = vals["yi"]
            v = [s**2 for s in vals["sei"]] if "sei" in vals else vals["vi"]
        else:
            y, v = escalc_proportions(vals["xi"], vals["ni"], measure)
            ni = vals["ni"]
        if by is None:
            res = meta_analysis(y, v, method=method, test=test, level=level, studies=studies,
                                measure=measure, ni=ni)
            return _result_dict(res, level_pct)
        sub = subgroup_analysis(y, v, table["groups"], method=method, test=test, level=level,
                                studies=studies, measure=measure, ni=ni)
    except InputError as exc:
        row = None if exc.row is None else exc.row + 1
        raise CsvInputError(str(InputError(exc.problem, row=row, column=exc.column,
                                           source=str(csv_path)))) from None
    return {
        "overall": _result_dict(sub.overall, level_pct),
        "subgroups": [{"group": g, **_result_dict(r, level_pct)}
                      for g, r in zip(sub.groups, sub.subgroups)],
        "q_between": sub.q_between.to_dict(),
        "moderator_test": sub.moderator_test.to_dict(),
        "by": by,
    }


def _fmt(x, digits=4) -> str:
    return "NA" if x is None else f"{x:.{digits}f}"


def _print_table(out: dict) -> None:
    rows = [("overall", out)] if "overall" not in out else (
        [("overall", out["overall"])] + [(s["group"], s) for s in out["subgroups"]])
    print(f"{'group':<16}{'k':>4}{'estimate':>11}{'ci_low':>10}{'ci_high':>10}{'p':>9}"
          f"{'tau2':>9}{'I2 %':>7}")
    for name, r in rows:
        print(f"{name[:15]:<16}{r['k']:>4}{_fmt(r['estimate']):>11}{_fmt(r['ci_low']):>10}"
              f"{_fmt(r['ci_high']):>10}{_fmt(r['p_value']):>9}{_fmt(r['tau2']):>9}"
              f"{_fmt(r['i2'], 1):>7}")
    if "q_between" in out:
        qb = out["q_between"]
        print(f"Q-between = {_fmt(qb['q'])} (df = {qb['df']}, p = {_fmt(qb['p'])})")


TIERS_HELP = ("Evidence tiers to pool: 'own' (the trials' own reports: 1 full report, 2 abstract), ranks like "
              "1,2,3 (3 conference abstract, 4 registry results, 5 review, 6 coverage page), names, or 'all' "
              "(the default: each study's latest data cut from the best tier available).")
STRATUM_LEVEL_HELP = ("Level of the --by vocabulary columns: histology=1 (the default: NSCLC with its narrower "
                      "terms, prostate with both castration states, ...), histology=2 (finer), histology=term (as "
                      "extracted); the same for oligo_state.")


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the `oligokb` app."""

    @app.command(help=POOL_HELP)
    def pool(
        csv_file: Optional[Path] = typer.Option(
            None, "--csv", metavar="FILE", help="CSV of studies (see above). Without it, pool a "
            "knowledge-base selection (--outcome, --statistic)."),
        measure: Measure = typer.Option(Measure.GEN, "--measure", help="Effect-size scale (CSV mode)."),
        method: Method = typer.Option(Method.REML, "--method", help="tau2 estimator (FE = "
                                      "common effect)."),
        test: Test = typer.Option(Test.z, "--test", help="z (Wald), knha (Knapp-Hartung, t with "
                                  "k-1 df), adhoc (Knapp-Hartung never narrower than z)."),
        level: float = typer.Option(95.0, "--level", help="CI/PI level in percent."),
        by: Optional[str] = typer.Option(None, "--by", metavar="COLUMN[,COLUMN]",
                                         help="Subgroup column (CSV mode) or evidence-table columns, "
                                         "comma-separated (knowledge-base mode), e.g. histology,oligo_state."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (the stable contract)."),
        outcome: Optional[str] = typer.Option(None, "--outcome", help="Knowledge-base mode: outcome label, "
                                              "e.g. \"overall survival\"."),
        statistic: Optional[str] = typer.Option(None, "--statistic", help="Knowledge-base mode: \"hazard ratio\" "
                                                "or \"landmark rate\" (also \"cumulative incidence\", \"proportion\")."),
        timepoint: Optional[float] = typer.Option(None, "--timepoint", help="Months, for landmark rates (24 = 2 years)."),
        tiers: Optional[str] = typer.Option(None, "--tiers", metavar="TIERS", help=TIERS_HELP),
        include_secondary: bool = typer.Option(False, "--include-secondary", help="All tiers (the default since "
                                               "tiers exist; kept so scripts keep working)."),
        stratum_level: Optional[str] = typer.Option(None, "--stratum-level", metavar="COLUMN=LEVEL[,...]",
                                                    help=STRATUM_LEVEL_HELP),
        sensitivity: bool = typer.Option(True, "--sensitivity/--no-sensitivity", help="Knowledge-base mode: also "
                                         "pool the trials' own reports only (tiers 1-2) and show both results."),
        output_format: str = typer.Option("table", "--format", help="Knowledge-base mode: table, csv or json "
                                          "(--csv without a FILE and --json are shorthands)."),
        kb_file: Path = typer.Option(Path("data/studies.ttl"), "--kb", help="Knowledge base (Turtle)."),
        endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Knowledge-base mode: read the evidence from "
                                               "this SPARQL 1.1 endpoint instead of --kb."),
        every: bool = typer.Option(False, "--all", help="Knowledge-base mode: pool every outcome x statistic (x time "
                                   "point for rates) at once, per --by stratum; one row per stratum as CSV (--json: "
                                   "JSON records). The same numbers as one --outcome/--statistic run each."),
        exclude_flag: Optional[list[str]] = typer.Option(
            None, "--exclude-flag", metavar="FLAG", help="Knowledge-base mode: also leave out figures with this curation "
            "flag (repeatable), e.g. mapping_low_confidence for a sensitivity analysis. direction_doubtful, do_not_pool, "
            "duplicate_of and post_randomisation_subgroup are always left out (docs/curation-flags.md)."),
    ) -> None:
        from analysis.errors import AnalysisError, InputError, OptionError

        if not 1.0 < level < 100.0:
            _err(f"oligokb pool: --level={level:g} is not a percentage in (1, 100); "
                 "e.g. --level 95")
            raise typer.Exit(EXIT_BAD_INPUT)
        if every:
            if csv_file is not None or outcome is not None or statistic is not None or timepoint is not None:
                _err("oligokb pool: --all pools every outcome and statistic of the knowledge base; "
                     "drop --csv, --outcome, --statistic and --timepoint, or drop --all")
                raise typer.Exit(EXIT_BAD_INPUT)
            run_pool_all(kb_file, tuple(c.strip() for c in (by or "").split(",") if c.strip()), method.value,
                         test.value, level, policy_options(tiers, include_secondary, stratum_level, exclude_flag),
                         as_json or output_format == "json", endpoint)
            return
        if csv_file is None:
            if outcome is None or statistic is None:
                _err("oligokb pool: no input: give --csv FILE, or a knowledge-base selection with "
                     "--outcome and --statistic (e.g. --outcome \"overall survival\" --statistic \"hazard ratio\")")
                raise typer.Exit(EXIT_BAD_INPUT)
            fmt = "json" if as_json else output_format
            if fmt not in ("table", "csv", "json"):
                _err(f"oligokb pool: --format {fmt!r} is not one of table, csv, json")
                raise typer.Exit(EXIT_BAD_INPUT)
            run_kb_pool(kb_file, outcome, statistic, tuple(c.strip() for c in (by or "").split(",") if c.strip()),
                        timepoint, method.value, test.value, level,
                        policy_options(tiers, include_secondary, stratum_level, exclude_flag), fmt, endpoint, sensitivity)
            return
        if outcome is not None or statistic is not None:
            _err("oligokb pool: --csv FILE and --outcome/--statistic are two input modes; give one")
            raise typer.Exit(EXIT_BAD_INPUT)
        if exclude_flag:
            _err("oligokb pool: --exclude-flag is for knowledge-base mode (a CSV of effect sizes carries no curation flags)")
            raise typer.Exit(EXIT_BAD_INPUT)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = run_pool(csv_file, measure.value, method.value, test.value, level, by)
            except (CsvInputError, InputError, OptionError) as exc:
                _err(f"oligokb pool: {exc}")
                raise typer.Exit(EXIT_BAD_INPUT) from None
            except AnalysisError as exc:
                _err(f"oligokb pool: internal error: {exc}")
                raise typer.Exit(EXIT_INTERNAL) from None
        for w in caught:
            _err(f"warning: {w.message}")
        if as_json:
            print(json.dumps(out, indent=2, allow_nan=False))
        else:
            _print_table(out)


def kb_evidence(command: str, kb_file: Path, endpoint: str | None = None):  # type: ignore[no-untyped-def]
    """The evidence table of the KB file (its materialised copy) or of the endpoint; exit with a message."""
    from terms.errors import OligokbError
    from kb.export import evidence_table
    from kb.store import load_store

    try:
        if endpoint is not None:
            from kb.remote import SparqlEndpoint

            return evidence_table(SparqlEndpoint(endpoint))
        return evidence_table(load_store(kb_file))
    except OligokbError as exc:
        _err(f"oligokb {command}: {exc}")
        raise typer.Exit(exc.exit_code) from None


@contextmanager
def analysis_errors(command: str):  # type: ignore[no-untyped-def]
    """Bad options or input exit 2 with the message; anything else the engine raises exits 3."""
    from analysis.errors import AnalysisError, InputError, OptionError

    try:
        yield
    except (InputError, OptionError) as exc:
        _err(f"oligokb {command}: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except AnalysisError as exc:
        _err(f"oligokb {command}: internal error: {exc}")
        raise typer.Exit(EXIT_INTERNAL) from None


def policy_options(tiers: str | None, include_secondary: bool, stratum_level: str | None,
                   exclude_flags: list[str] | None = None) -> dict:
    """The pooling policy's choices as keyword arguments of analysis.kb_pool (checked there)."""
    return {"tiers": "all" if include_secondary and tiers is None else tiers, "levels": stratum_level,
            "exclude_flags": tuple(exclude_flags or ())}


def pool_selection(command: str, kb_file: Path, outcome: str, statistic: str, by: tuple[str, ...], timepoint,
                   method: str, test: str, level_pct: float, policy: dict, endpoint: str | None = None,
                   table=None):  # type: ignore[no-untyped-def]
    """Load the knowledge base, check the labels, apply the policy and pool; exit 2/3 with a message."""
    from analysis.kb_pool import pool_knowledge_base

    table = kb_evidence(command, kb_file, endpoint) if table is None else table
    from terms.vocabulary import pref_label, resolve, terms

    # Vocabulary ids (overall_survival) as in `oligokb query --param`, or the export's labels (overall survival).
    outcome, statistic = (pref_label(resolve(column, text)) if text in terms(column) else text
                          for text, column in ((outcome, "outcome"), (statistic, "statistic")))
    for label, column in ((outcome, "outcome"), (statistic, "statistic")):
        known = sorted(set(table[column]))
        if label not in known:
            _err(f"oligokb {command}: --{column} {label!r} is not in the knowledge base; known: {', '.join(known)}")
            raise typer.Exit(EXIT_BAD_INPUT)
    with analysis_errors(command):
        return pool_knowledge_base(table, outcome=outcome, statistic=statistic, by=by, timepoint_months=timepoint,
                                   method=method, test=test, level=level_pct / 100.0, **policy)


def run_pool_all(kb_file: Path, by: tuple[str, ...], method: str, test: str, level_pct: float,
                 policy: dict, as_json: bool, endpoint: str | None = None) -> None:
    """Every analysis of the knowledge base pooled at once (analysis.kb_pool.pool_all): a guideline group's
    re-pool of every subgroup after an update."""
    from analysis.kb_pool import pool_all

    table = kb_evidence("pool", kb_file, endpoint)
    with analysis_errors("pool"):
        result = pool_all(table, by=by, method=method, test=test, level=level_pct / 100.0, **policy)
    for _, message in result.warnings:
        _err(f"warning: {message}")
    frame = result.strata.drop(columns=["combo", "start", "mu", "se"])
    if as_json:
        print(json.dumps(json.loads(frame.to_json(orient="records")), indent=2, allow_nan=False))
    else:
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
    _err(f"{len(frame)} strata of {frame[['outcome', 'statistic', 'timepoint_months']].drop_duplicates().shape[0]} "
         "analyses; each analysis's estimates left out and why: oligokb pool --outcome ... --statistic ...")


def run_kb_pool(kb_file: Path, outcome: str, statistic: str, by: tuple[str, ...], timepoint, method: str,
                test: str, level_pct: float, policy: dict, fmt: str, endpoint: str | None = None,
                sensitivity: bool = True) -> None:
    """Knowledge-base mode: policy, per-stratum pools, the estimates left out with reasons; and, unless the
    selection already keeps only the trials' own reports, the same pool of those reports only."""
    from analysis.strata import OWN_REPORT_TIERS, allowed_tiers, tiers_text

    table = kb_evidence("pool", kb_file, endpoint)
    result = pool_selection("pool", kb_file, outcome, statistic, by, timepoint, method, test, level_pct,
                            policy, endpoint, table)
    own = None
    with analysis_errors("pool"):
        kept = allowed_tiers(policy.get("tiers"))
    if sensitivity and set(kept) - set(OWN_REPORT_TIERS):
        own = pool_selection("pool", kb_file, outcome, statistic, by, timepoint, method, test, level_pct,
                             {**policy, "tiers": "own"}, endpoint, table)
    outcome, statistic = result.outcome, result.statistic  # labels, also when ids were given
    for message in result.warnings:
        _err(f"warning: {message}")
    excluded = result.excluded
    excluded_rows = [] if excluded.empty else excluded[["study_id", "publication_id", "group", "value", "statistic_id", "reason"]].to_dict(orient="records")
    if fmt == "json":
        print(json.dumps({
            "outcome": outcome, "statistic": statistic, "timepoint_months": timepoint, "method": method, "test": test,
            "level": level_pct, "strata": list(result.strata), "scale": "hazard ratio" if statistic == "hazard ratio" else "percent",
            "tiers": list(kept), "pools": [p.to_dict() for p in result.pools], "excluded": excluded_rows,
            "sensitivity": None if own is None else {
                "label": "trials' own reports only", "tiers": list(OWN_REPORT_TIERS),
                "pools": [p.to_dict() for p in own.pools]},
        }, indent=2, allow_nan=False, default=str))
        return
    frame = result.table()
    if fmt == "csv":
        if not frame.empty:
            frame = frame.assign(studies=frame["studies"].map("; ".join), weights_pct=frame["weights_pct"].map(lambda w: "; ".join(f"{x:.2f}" for x in w)))
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
        _err(f"{len(excluded_rows)} estimate(s) left out; see --format table or json for the reasons")
        return
    scale = "HR" if statistic == "hazard ratio" else "%"
    print(f"{statistic} of {outcome}" + (f" at {timepoint:g} months" if timepoint else "") +
          f" — {method}, test {test}, {level_pct:g}% CI; strata: {', '.join(result.strata)}")
    if not result.pools:
        print("no estimate passes the pooling policy (see the list below)")
    for p in result.pools:
        est = f"{p.estimate:.2f} ({p.ci_low:.2f}-{p.ci_high:.2f})"
        pi = f", PI {p.pi_low:.2f}-{p.pi_high:.2f}" if p.pi_low is not None else ""
        het = f", tau2 {p.tau2:.3f}, I2 {p.i2:.0f}%" if p.tau2 is not None else ""
        print(f"- {p.stratum}: k = {p.k}, {scale} {est}{pi}{het}" + (f"  [{p.note}]" if p.note else ""))
        print(f"    studies: {'; '.join(f'{name} [tier {tier}]' for name, tier in zip(p.studies, p.tier_ranks))}")
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


def register_forest(app: typer.Typer) -> None:
    @app.command()
    def forest(
        outcome: str = typer.Option(..., "--outcome", help="Outcome label, e.g. \"overall survival\"."),
        statistic: str = typer.Option(..., "--statistic", help="\"hazard ratio\" or \"landmark rate\" (...)."),
        out: Path = typer.Option(..., "--out", help="plot.svg, plot.png or plot.pdf (written atomically)."),
        by: Optional[str] = typer.Option(None, "--by", help="Evidence-table columns, comma-separated (histology,oligo_state)."),
        timepoint: Optional[float] = typer.Option(None, "--timepoint", help="Months, for landmark rates."),
        method: Method = typer.Option(Method.REML, "--method", help="tau2 estimator."),
        test: Test = typer.Option(Test.z, "--test", help="z, knha or adhoc."),
        level: float = typer.Option(95.0, "--level", help="CI/PI level in percent."),
        tiers: Optional[str] = typer.Option(None, "--tiers", metavar="TIERS", help=TIERS_HELP),
        include_secondary: bool = typer.Option(False, "--include-secondary", help="All tiers (the default; kept for scripts)."),
        stratum_level: Optional[str] = typer.Option(None, "--stratum-level", metavar="COLUMN=LEVEL[,...]",
                                                    help=STRATUM_LEVEL_HELP),
        title: Optional[str] = typer.Option(None, "--title", help="Plot title."),
        kb_file: Path = typer.Option(Path("data/studies.ttl"), "--kb", help="Knowledge base (Turtle)."),
        endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Read the evidence from this SPARQL 1.1 endpoint instead of --kb."),
    ) -> None:
        """Forest plot of a knowledge-base pool (same selection as `oligokb pool`): SVG, PNG or PDF."""
        from analysis.errors import InputError, OptionError
        from analysis.forest import save_forest
        from analysis.forest_kb import forest_from_pool

        if out.suffix.lower() not in (".svg", ".png", ".pdf"):
            _err(f"oligokb forest: --out {out}: the file must end in .svg, .png or .pdf")
            raise typer.Exit(EXIT_BAD_INPUT)
        result = pool_selection("forest", kb_file, outcome, statistic,
                                tuple(c.strip() for c in (by or "").split(",") if c.strip()), timepoint,
                                method.value, test.value, level,
                                policy_options(tiers, include_secondary, stratum_level), endpoint)
        if not result.pools:
            _err("oligokb forest: no estimate passes the pooling policy; `oligokb pool` with the same options lists why")
            raise typer.Exit(EXIT_BAD_INPUT)
        try:
            save_forest(forest_from_pool(result, title=title), out)
        except (InputError, OptionError) as exc:
            _err(f"oligokb forest: {exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        _err(f"wrote {out}: {sum(p.k for p in result.pools)} estimates in {len(result.pools)} strata; "
             f"{len(result.excluded)} left out (see `oligokb pool` with the same options)")
