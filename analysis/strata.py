"""What the pooling policy reads besides the figures: evidence tiers, data cuts, stratum levels.

`prepare(table, by=..., levels=...)` adds the columns the policy (analysis.policy_batch) sorts and
groups by:

- `data_cut`, `data_cut_year`: the report a figure's numbers come from (a review's: the report it
  quotes; a review that names none has no known cut and sorts last), and its year;
- `study_years`: the years of the study's own reports ("2018", "2018-2020"), never a review's;
- each `--by` column of a vocabulary (histology, oligo-state) at its stratum level (okb:stratumLevel:
  1 by default, what a reviewer pools; 2 finer; "term" the term as extracted), the extracted term kept
  in `<column>_term`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.policy_columns import Columns, choose, combine_codes
from terms.tiers import OWN_REPORT_TIERS, TIER_LABEL, TIER_RANK, parse_tiers

__all__ = [
    "OWN_REPORT_TIERS",
    "ALL_TIERS",
    "PRIMARY_TIERS",
    "allowed_tiers",
    "prepare",
    "prepare_columns",
    "tier_reason",
    "tiers_text",
]

ALL_TIERS: tuple[str, ...] = tuple(TIER_RANK)
# What the policy pooled before tiers existed ("primary reports only"): the trial's own reports of any kind.
PRIMARY_TIERS: tuple[str, ...] = ("trial_full_report", "trial_abstract", "conference_abstract", "registry_results")
LEVELLED = {"histology": ("histology", "histology_id"), "oligo_state": ("oligo_state", "oligo_state_id")}
DEFAULT_LEVEL = "1"


def allowed_tiers(tiers: Iterable[str] | str | None = None, include_secondary: bool | None = None) -> tuple[str, ...]:
    """The tiers an analysis keeps: `tiers` ('own', '1,2', names), else all tiers (the default policy:
    the best tier available per study), or the trial's own reports when include_secondary is False."""
    if tiers is not None:
        try:
            return parse_tiers(tiers if isinstance(tiers, str) else ",".join(tiers))
        except ValueError as exc:
            raise InputError(str(exc), column="tiers") from None
    return PRIMARY_TIERS if include_secondary is False else ALL_TIERS


def tiers_text(tiers: tuple[str, ...]) -> str:
    return ", ".join(f"{TIER_RANK[t]} {TIER_LABEL[t]}" for t in tiers)


def tier_reason(row: Mapping, tiers: tuple[str, ...]) -> str:
    tier = row.get("evidence_tier") or "source of unknown tier"
    rank = row.get("tier_rank") or "?"
    return f"read in a {tier} (tier {rank}): this analysis keeps tiers {tiers_text(tiers)}"


def parse_levels(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """'histology=2,oligo_state=term' -> {'histology': '2', 'oligo_state': 'term'}; checked."""
    if text is None:
        return {}
    pairs = (
        text.items()
        if isinstance(text, Mapping)
        else (
            tuple(part.split("=", 1)) if "=" in part else (part, "")
            for part in (p.strip() for p in str(text).split(","))
            if part
        )
    )
    out: dict[str, str] = {}
    for column, level in pairs:
        column, level = column.strip().replace("-", "_"), str(level).strip().lower()
        if column not in LEVELLED:
            raise InputError(
                f"--stratum-level {column!r}: only {', '.join(LEVELLED)} have levels", column="stratum-level"
            )
        if level not in ("1", "2", "term"):
            raise InputError(
                f"--stratum-level {column}={level or '?'}: write 1 (what a reviewer pools, the default), 2 (finer) "
                "or term (the term as extracted)",
                column="stratum-level",
            )
        out[column] = level
    return out


def _level_labels(scheme: str, notations: Iterable[str], level: str) -> dict[str, str]:
    from terms.vocabulary import pref_label, resolve, stratum_concept

    out = {}
    for notation in notations:
        if not notation:
            continue
        iri = str(resolve(scheme, notation))
        out[notation] = pref_label(stratum_concept(iri, int(level)))
    return out


_OPTIONAL = ("evidence_tier", "evidence_tier_id", "tier_rank", "quotes_publication", "quotes_publication_year")


def _with_cuts(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy(deep=False)
    for column in _OPTIONAL:  # an evidence table exported before tiers: no tier, no known data cut
        if column not in out.columns:
            out[column] = pd.Series("", index=table.index, dtype=object)
    quoted = out["quotes_publication"].fillna("").astype(str)
    has_quote = (quoted != "").to_numpy(bool, na_value=False)
    primary = (out["publication_role"] == "primary").to_numpy(bool, na_value=False)  # a missing role: not primary
    out["data_cut"] = choose(has_quote, quoted, out["publication_id"])
    out["data_cut_year"] = (
        choose(has_quote, out["quotes_publication_year"], choose(primary, out["publication_year"], ""))
        .fillna("")
        .astype(str)
    )
    return out


def prepare(
    table: pd.DataFrame, *, by: tuple[str, ...] = (), levels: str | Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The evidence table with the columns the policy reads (see the module docstring). Nothing is
    changed in place."""
    return prepare_columns(table, by=by, levels=levels).table


def prepare_columns(
    table: pd.DataFrame,
    *,
    by: tuple[str, ...] = (),
    levels: str | Mapping[str, str] | None = None,
    encode: Iterable[str] = (),
) -> Columns:
    """`prepare`'s table with its columns' codes (analysis.policy_columns.Columns), those read here
    already encoded, so the policy does not encode them again; `encode`: the caller's columns, encoded
    alongside (two threads) or, for a column given a stratum level here, once it has it."""
    levels = parse_levels(levels) if levels is not None else {}
    out = _with_cuts(table)
    cols = Columns(out)
    levelled = [c for c in dict.fromkeys(by) if c in LEVELLED and c in out.columns]
    ids = [LEVELLED[c][1] for c in levelled if levels.get(c, DEFAULT_LEVEL) != "term" and LEVELLED[c][1] in out]
    encode = [c for c in encode if c in out.columns]
    cols.prefetch(["data_cut_year", "study_id", *ids, *(c for c in encode if c not in levelled)])
    # Each value is read once, not once per row: a large table has many rows and few distinct values.
    year_codes, year_texts = cols.codes("data_cut_year")
    years = pd.to_numeric(pd.Series(year_texts, dtype=object), errors="coerce").to_numpy(float)[year_codes]
    study_codes, studies = cols.codes("study_id")
    known = ~pd.isna(np.asarray([*studies, None], dtype=object))[study_codes]  # a missing study id: no years
    study_codes = np.where(known, study_codes, -1)
    first, last = (pd.factorize(end) for end in _span(study_codes[known], years[known], len(studies)))  # none: -1
    pair, pairs = pd.factorize(combine_codes([(first[0] + 1, len(first[1]) + 1), (last[0] + 1, len(last[1]) + 1)]))
    lows = np.append(np.nan, first[1])[pairs // (len(last[1]) + 1)]
    highs = np.append(np.nan, last[1])[pairs % (len(last[1]) + 1)]
    label = [
        "" if pd.isna(lo) else f"{int(lo)}" if lo == hi else f"{int(lo)}–{int(hi)}"
        for lo, hi in zip(lows.tolist(), highs.tolist(), strict=True)
    ]  # per distinct span: a few dozen, not one per study
    out["study_years"] = _per_row(
        [*label, ""], np.where(study_codes >= 0, pair[np.maximum(study_codes, 0)], -1), out["study_id"]
    )
    for column in by:
        if column not in LEVELLED or column not in out.columns:
            continue
        level = levels.get(column, DEFAULT_LEVEL)
        out[f"{column}_term"] = out[column]
        if level == "term" or LEVELLED[column][1] not in out.columns:
            continue
        codes, found = cols.codes(LEVELLED[column][1])
        ids = ["" if pd.isna(i) else str(i) for i in found]
        mapping = _level_labels(LEVELLED[column][0], ids, level)
        at_level = [mapping.get(i) for i in ids]  # None: no id, or none at this level: the label as exported
        unchanged = np.array([x is None for x in at_level], dtype=bool)[codes]
        at_level_rows = _per_row([x or "" for x in at_level], codes, out[column])
        if unchanged.any():
            out[column] = choose(~unchanged, at_level_rows, out[column])
            continue
        out[column] = at_level_rows
        # its codes follow from the ids': the ids are numbered by first row, so a label's first row is that
        # of its first id in that order
        label_of_id, labels = pd.factorize(np.asarray(at_level, dtype=object))
        cols.set_codes(column, label_of_id[codes], list(labels))
    cols.prefetch(c for c in encode if c in levelled)
    return cols


def _span(study_codes: np.ndarray, years: np.ndarray, n_studies: int) -> tuple[np.ndarray, np.ndarray]:
    """Per study, its first and last year (NaN when it has none)."""
    first, last = np.full(n_studies, np.inf), np.full(n_studies, -np.inf)
    np.fmin.at(first, study_codes, years)  # fmin/fmax pass over NaN, as pandas' min and max do
    np.fmax.at(last, study_codes, years)
    none = np.bincount(study_codes[~np.isnan(years)], minlength=n_studies) == 0
    return np.where(none, np.nan, first), np.where(none, np.nan, last)


def _per_row(values: list[str], codes: np.ndarray, like: pd.Series) -> pd.Series:
    """values[code] for each row (code -1: the last value), as text of `like`'s kind (Arrow text stays Arrow)."""
    dtype = like.dtype if isinstance(like.dtype, pd.StringDtype) else object
    return pd.Series(pd.array(values, dtype=dtype).take(codes), index=like.index)
