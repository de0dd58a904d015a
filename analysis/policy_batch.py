"""The pooling policy of `analysis.policy`, for every analysis of an evidence table at once.

`select_all(table, combos=..., by=...)` applies `select_estimates`'s rules (see that module's docstring)
to many (outcome, statistic, time point) analyses in one pass over whole columns: every column is
dictionary-encoded once (Arrow), the rules become lookups on the codes, "one estimate per study and
stratum" is a sort of the rows that compete, and the effect sizes are computed per unique published
value (the same `math.log` / `numpy` operations as the per-row code, so the numbers are identical).
`BatchSelection.selection(outcome, statistic, timepoint)` gives, for one analysis, exactly the
`Selection` that `select_estimates` gives (the same used rows in the same order, the same yi/vi, the
same excluded rows and reasons; tests/analysis/test_pool_all.py).

Errors are those of `select_estimates`: an unknown statistic, a rate without a time point or an
unknown --by column raise `InputError`; a rate outside 0-100 % or a non-positive n raise the
`InputError` of `analysis.effects` (for the first such row in table order), a CI level outside (0, 1)
the `OptionError` of `z_for_level`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from analysis import flag_rule
from analysis.effects import z_for_level
from analysis.errors import InputError
from analysis.policy import (ALWAYS_STRATA, RATE_STATISTICS, RATE_STRATA, RATIO_STATISTICS, Selection, _effect_size,
                             _num)
from analysis.strata import ALL_TIERS, allowed_tiers, prepare, tier_reason

Combo = tuple[str, str, "float | None"]

# Why a row is left out (the texts are select_estimates' own, built when a selection is materialised).
SECONDARY, NOT_TREATMENT, ADJUSTED, NOT_TREATED_ARM, NOT_OLIGO, EFFECT, SUBGROUP, DUPLICATE, WHOLE, OVERLAP = range(10)
FLAGGED = -1  # rule 0, curation flags (analysis.flag_rule): before every other rule
# Effect-size failures (kind EFFECT): the message of the row's own derivation.
_VALUE_NAN, _NO_SE, _NO_N, _UNIT, _HR_ERROR = range(5)
_LATE = (SUBGROUP, DUPLICATE, WHOLE, OVERLAP)  # left out after the effect sizes: rows carry yi, vi


def poolable_combos(table: pd.DataFrame, cols: "_Columns | None" = None) -> list[Combo]:
    """Every analysis the policy can pool: each outcome's hazard ratios, and each (outcome, rate
    statistic, numeric time point) with rows; sorted."""
    cols = _Columns(table) if cols is None else cols
    oc, ou = cols.codes("outcome")
    sc, su = cols.codes("statistic")
    tc, tu = cols.codes("timepoint_months")
    seen = np.unique(_combine([(oc, len(ou)), (sc, len(su)), (tc, len(tu))]))
    o_, rest = np.divmod(seen, max(len(su), 1) * max(len(tu), 1))
    s_, t_ = np.divmod(rest, max(len(tu), 1))
    out: set[Combo] = set()
    for o, s, t in zip(o_.tolist(), s_.tolist(), t_.tolist()):
        outcome, statistic = ou[o], su[s]
        if statistic in RATIO_STATISTICS:
            out.add((outcome, statistic, None))
        elif statistic in RATE_STATISTICS and (value := _num(tu[t])) is not None:
            out.add((outcome, statistic, float(value)))
    return sorted(out, key=lambda c: (c[0], c[1], -1.0 if c[2] is None else c[2]))


class _Columns:
    """Columns of the table (or of some of its rows) dictionary-encoded once: codes per row and the
    unique values. Equality tests run on Arrow directly when a column has no codes yet."""

    def __init__(self, table: pd.DataFrame, positions: np.ndarray | None = None):
        self.table = table
        self.positions = positions
        self._cache: dict[str, tuple[np.ndarray, list]] = {}
        self._arrow: dict[str, pa.ChunkedArray | None] = {}
        self._dicts: dict[str, pa.Array] = {}

    def dictionary(self, name: str) -> pa.Array | None:
        """The unique values as Arrow (None when the column is not Arrow text)."""
        self.codes(name)
        return self._dicts.get(name)

    def subset(self, positions: np.ndarray) -> "_Columns":
        return _Columns(self.table, positions if self.positions is None else self.positions[positions])

    def arrow(self, name: str) -> pa.ChunkedArray | None:
        if name not in self._arrow:
            values = self.table[name].array
            arr = getattr(values, "_pa_array", None)   # pandas' Arrow-backed str columns, zero copy
            if arr is None:
                try:
                    arr = pa.chunked_array([pa.array(values.to_numpy(object), from_pandas=False)])
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    arr = None
            if arr is not None and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                arr = None
            if arr is not None and self.positions is not None:
                arr = arr.take(pa.array(self.positions))
            self._arrow[name] = arr
        return self._arrow[name]

    def codes(self, name: str) -> tuple[np.ndarray, list]:
        if name not in self._cache:
            arr = self.arrow(name)
            if arr is not None:
                enc = pc.dictionary_encode(arr, null_encoding="encode")
                chunks = [c for c in enc.chunks if len(c)]
                # Arrow encodes a chunked array with one growing memo table: every chunk's dictionary
                # is a prefix of the last one, so the indices are codes into the last dictionary.
                if any(not chunks[-1].dictionary.slice(0, len(c.dictionary)).equals(c.dictionary) for c in chunks):
                    enc = pa.chunked_array([enc.combine_chunks()])  # pragma: no cover - unify explicitly
                    chunks = list(enc.chunks)
                codes = (np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
                         if chunks else np.zeros(0, dtype=np.int64))
                uniques = chunks[-1].dictionary.to_pylist() if chunks else []
                self._dicts[name] = chunks[-1].dictionary if chunks else pa.array([], arr.type)
            else:
                series = self.table[name]
                if self.positions is not None:
                    series = series.iloc[self.positions]
                codes, uniq = pd.factorize(series, use_na_sentinel=False)
                uniques = list(uniq)
            self._cache[name] = (codes.astype(np.int64, copy=False), uniques)
        return self._cache[name]

    def lut(self, name: str, fn, dtype=float) -> np.ndarray:
        """fn applied to every unique value, gathered per row."""
        codes, uniques = self.codes(name)
        return np.asarray([fn(u) for u in uniques], dtype=dtype)[codes] if uniques else np.zeros(0, dtype)

    def eq(self, name: str, value: str) -> np.ndarray:
        arr = self.arrow(name) if name not in self._cache else None
        if arr is not None:
            return pc.fill_null(pc.equal(arr, pa.scalar(value, arr.type)), False).to_numpy()
        return self.lut(name, lambda u: u == value, bool)

    def isin(self, name: str, values: Iterable[str]) -> np.ndarray:
        values = list(values)
        arr = self.arrow(name) if name not in self._cache else None
        if arr is not None:
            return pc.is_in(arr, value_set=pa.array(values, arr.type)).to_numpy()
        values = set(values)
        return self.lut(name, lambda u: u in values, bool)

    def number(self, name: str) -> np.ndarray:
        """_num per row, NaN where it gives None."""
        return self.lut(name, lambda u: np.nan if (x := _num(u)) is None else x, float)

    def strings(self, name: str) -> np.ndarray:
        """The values as an object array."""
        codes, uniques = self.codes(name)
        return np.asarray(uniques + [None], dtype=object)[codes]

    def prefetch(self, names: Iterable[str]) -> None:
        """Encode several columns on two threads (Arrow releases the GIL)."""
        todo = [n for n in dict.fromkeys(names) if n not in self._cache]
        if len(todo) < 2:
            for n in todo:
                self.codes(n)
            return
        from concurrent.futures import ThreadPoolExecutor

        for n in todo:
            self.arrow(n)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(self.codes, todo))


def _combine(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 code per row for a tuple of codes (each with its cardinality), factorising on overflow."""
    key = np.zeros(parts[0][0].size if parts else 0, dtype=np.int64)
    card = 1
    for codes, n in parts:
        n = max(int(n), 1)
        if card * n >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            card = int(key.max()) + 1 if key.size else 1
        key = key * n + codes
        card *= n
    return key


@dataclass
class BatchSelection:
    """The policy's outcome for every analysis: used rows grouped by stratum, and the rows left out."""

    table: pd.DataFrame
    combos: tuple[Combo, ...]
    strata: tuple[tuple[str, ...], ...]          # per combo, as Selection.strata
    # used rows, ordered by (combo, stratum label); within a stratum in table order
    pos: np.ndarray                               # row positions in `table`
    yi: np.ndarray
    vi: np.ndarray
    route: np.ndarray                             # derivation_route, per row
    stratum_of: np.ndarray                        # index into `stratum_table`, per used row
    stratum_table: pd.DataFrame                   # combo, stratum, start, k (rows in pos order)
    superseded: "_Superseded" = field(repr=False)  # for the policy's own order within an analysis
    excluded_pos: np.ndarray = field(repr=False)
    excluded_kind: np.ndarray = field(repr=False)
    excluded_combo: np.ndarray = field(repr=False)
    excluded_detail: np.ndarray = field(repr=False)   # effect-size case, or the winning row's position
    excluded_yi: np.ndarray = field(repr=False)        # yi, vi, route of rows left out after their effect size
    excluded_vi: np.ndarray = field(repr=False)
    excluded_route: np.ndarray = field(repr=False)
    messages: dict = field(repr=False)                  # position -> message of an HR derivation error
    partition: tuple = field(repr=False)                # per combo: the subgroup partition column or None
    reached: np.ndarray = field(repr=False)             # per combo: rows that got to the effect sizes
    tiers: tuple[str, ...] = ALL_TIERS                  # the evidence tiers kept
    excluded_flags: frozenset = field(default=frozenset(flag_rule.DEFAULT_EXCLUDED), repr=False)  # rule 0

    def combo_index(self, outcome: str, statistic: str, timepoint_months: float | None = None) -> int:
        key = (outcome, statistic, None if statistic in RATIO_STATISTICS or timepoint_months is None
               else float(timepoint_months))
        try:
            return self.combos.index(key)
        except ValueError:
            raise KeyError(f"{key} is not one of the analyses selected") from None

    def _policy_order(self, positions: np.ndarray, combo: int) -> np.ndarray:
        """positions sorted as select_estimates sorts an analysis' rows (stable in table order)."""
        if positions.size == 0:
            return positions
        cols = _Columns(self.table, positions)
        sup = self.superseded.flags(cols, np.arange(positions.size), np.full(positions.size, combo, dtype=np.int64))
        year = cols.lut("data_cut_year", lambda u: _num(u) or 0, float)
        tier = cols.lut("tier_rank", lambda u: _num(u) or 99, float)
        n = cols.lut("n", lambda u: _num(u) or 0, float)
        sid_rank = _rank(cols, "statistic_id")
        return positions[np.lexsort((positions, sid_rank, -n, tier, -year, sup))]

    def used_rows(self, combo: int) -> np.ndarray:
        """Indices into pos/yi/vi of an analysis' used rows, in select_estimates' order."""
        strata = np.flatnonzero(self.stratum_table["combo"].to_numpy() == combo)
        if strata.size == 0:
            return np.zeros(0, dtype=np.int64)
        idx = np.flatnonzero(np.isin(self.stratum_of, strata))
        by_pos = {p: i for i, p in enumerate(self.pos[idx])}
        return np.array([idx[by_pos[p]] for p in self._policy_order(self.pos[idx], combo)], dtype=np.int64)

    def selection(self, outcome: str, statistic: str, timepoint_months: float | None = None) -> Selection:
        """This analysis' Selection, equal to select_estimates' (object columns, as it gives)."""
        c = self.combo_index(outcome, statistic, timepoint_months)
        idx = self.used_rows(c)
        if not self.reached[c]:   # select_estimates then indexes its empty frame with [] (no columns)
            used = pd.DataFrame({"yi": [], "vi": [], "derivation_route": [], "stratum": []})
            return Selection(used=used, excluded=self.excluded(c), strata=self.strata[c])
        used = self.table.iloc[self.pos[idx]].astype(object)
        used["yi"] = self.yi[idx]
        used["vi"] = self.vi[idx]
        used["derivation_route"] = self.route[idx]
        labels = self.stratum_table["stratum"].to_numpy(object)
        used["stratum"] = labels[self.stratum_of[idx]] if idx.size else []
        return Selection(used=used.reset_index(drop=True), excluded=self.excluded(c), strata=self.strata[c])

    def excluded(self, combo: int) -> pd.DataFrame:
        """The rows left out of one analysis with select_estimates' reasons (grouped by rule)."""
        sel = np.flatnonzero(self.excluded_combo == combo)
        sel = sel[np.lexsort((self.excluded_pos[sel], self.excluded_kind[sel]))]
        if sel.size == 0:
            return pd.DataFrame()
        rows = self.table.iloc[self.excluded_pos[sel]].astype(object).to_dict("records")
        statistic = self.combos[combo][1]
        out = []
        for i, row in zip(sel, rows):
            kind, pos = int(self.excluded_kind[i]), int(self.excluded_pos[i])
            row = dict(row)
            if kind in _LATE:
                row["yi"], row["vi"] = float(self.excluded_yi[i]), float(self.excluded_vi[i])
                row["derivation_route"] = self.excluded_route[i]
            row["reason"] = self._reason(kind, int(self.excluded_detail[i]), pos, row, statistic, combo)
            out.append(row)
        return pd.DataFrame(out)

    def _reason(self, kind: int, detail: int, pos: int, row: dict, statistic: str, combo: int) -> str:
        if kind == FLAGGED:
            return flag_rule.reason(row, self.excluded_flags)
        if kind == SECONDARY:
            return tier_reason(row, self.tiers)
        if kind == NOT_TREATMENT:
            return (f"not a randomised treatment comparison ({row['comparison'] or row['group']}): a prognostic "
                    "association, not the effect of MDT")
        if kind == ADJUSTED:
            return "adjusted estimate: the unadjusted (ITT) estimate of this study is used"
        if kind == NOT_TREATED_ARM:
            return f"group '{row['group']}' is not a treated arm (a control arm or a non-arm reference)"
        if kind == NOT_OLIGO:
            return f"oligo-state '{row['oligo_state']}': not an oligometastatic population"
        if kind == EFFECT:
            if detail == _HR_ERROR:
                return self.messages[pos]
            if detail == _VALUE_NAN:
                return f"value {row['value']!r} is not a number"
            if detail == _NO_SE:
                return "no CI and no exact p-value: no standard error can be derived"
            if detail == _NO_N:
                return "no n for this group: a rate cannot be weighted"
            return f"unit {row['unit']!r} is not percent"
        if kind == SUBGROUP:
            partition = self.partition[combo]
            return (f"a subgroup by {row['group_subgroup_by'].replace(';', ' and ')}: "
                    + (f"this study contributes its {partition.replace('_', '-')} subgroups" if partition
                       else "not a stratum of this analysis"))
        if kind == DUPLICATE:
            win = self.table.iloc[detail]
            return (f"one estimate per study and stratum: {win['publication_id']} / '{win['group']}' is used "
                    "(latest data cut, best tier, largest group)")
        if kind == WHOLE:
            return ("the study's subgroup estimates are used in their own strata: its whole-cohort estimate is "
                    "left out so no patient counts twice")
        return f"overlaps with {row['overlaps_with']} (same patients), which are in this analysis"


def _check(table: pd.DataFrame, combos: list[Combo], by: tuple[str, ...]) -> list[Combo]:
    out = []
    for outcome, statistic, t in combos:
        if statistic not in RATIO_STATISTICS | RATE_STATISTICS:
            raise InputError(f"statistic {statistic!r} cannot be pooled; poolable: "
                             f"{', '.join(sorted(RATIO_STATISTICS | RATE_STATISTICS))} (medians are shown, not pooled)",
                             column="statistic")
        if statistic in RATE_STATISTICS and t is None:
            raise InputError(f"a {statistic} pool needs a time point (e.g. --timepoint 24)", column="timepoint")
        out.append((outcome, statistic, None if statistic in RATIO_STATISTICS else float(t)))
    for column in by:
        if column not in table.columns:
            raise InputError(f"--by column {column!r} is not an evidence-table column", column="by")
    return list(dict.fromkeys(out))


def select_all(table: pd.DataFrame, *, combos: Iterable[Combo] | None = None, by: tuple[str, ...] = (),
               include_secondary: bool | None = None, tiers=None, levels=None,
               exclude_flags: tuple[str, ...] = ()) -> BatchSelection:
    """select_estimates for every analysis in `combos` (default: `poolable_combos(table)`) at once.

    A combo is (outcome, statistic, time point in months or None); hazard ratios ignore the time point,
    as select_estimates does. tiers and levels as select_estimates'.
    """
    kept_tiers = allowed_tiers(tiers, include_secondary)
    excluded_flags = flag_rule.excluded_flags(exclude_flags)
    table = prepare(table, by=tuple(by), levels=levels)  # an unknown --by column is _check's error, below
    cols = _Columns(table)
    given = None if combos is None else list(combos)
    rates = given is None or any(c[1] in RATE_STATISTICS for c in given)
    cols.prefetch([c for c in ("outcome", "statistic", "timepoint_months", "value", "n", "study_id",
                               "data_cut_year", *ALWAYS_STRATA,
                               *(RATE_STRATA if rates else ()), *by) if c in table.columns])
    combos = _check(table, poolable_combos(table, cols) if given is None else given, tuple(by))
    m = len(combos)
    strata = tuple(tuple(dict.fromkeys((*ALWAYS_STRATA, *(RATE_STRATA if s in RATE_STATISTICS else ()), *by)))
                   for _, s, _ in combos)
    partition = tuple("oligo_state" if "oligo_state" in st else ("histology" if "histology" in st else None)
                      for st in strata)
    is_hr_combo = np.array([s in RATIO_STATISTICS for _, s, _ in combos], dtype=bool)
    any_rate = not is_hr_combo.all()
    all_strata = list(dict.fromkeys(c for st in strata for c in st))

    # --- 1. which analysis each row belongs to (-1: none) ---------------------------------------------
    oc, ou = cols.codes("outcome")
    sc, su = cols.codes("statistic")
    wanted = {(o, s, t): j for j, (o, s, t) in enumerate(combos)}
    if any_rate:
        tc, tu = cols.codes("timepoint_months")
        tnum = [_num(u) for u in tu]
    else:
        tc, tu, tnum = np.zeros(len(table), dtype=np.int64), [""], [None]
    lut = np.full((max(len(ou), 1), max(len(su), 1), max(len(tu), 1)), -1, dtype=np.int64)
    for i, o in enumerate(ou):
        for j, s_ in enumerate(su):
            if s_ in RATIO_STATISTICS:
                lut[i, j, :] = wanted.get((o, s_, None), -1)
            elif s_ in RATE_STATISTICS:
                for k, t in enumerate(tnum):
                    if t is not None:
                        lut[i, j, k] = wanted.get((o, s_, float(t)), -1)
    cid_all = lut[oc, sc, tc] if len(table) else np.zeros(0, dtype=np.int64)
    rows = np.flatnonzero(cid_all >= 0)
    cid = cid_all[rows]
    study, studyu = cols.codes("study_id")

    ex_pos, ex_kind, ex_combo, ex_detail, ex_yi, ex_vi, ex_route = [], [], [], [], [], [], []

    def drop(mask: np.ndarray, kind: int, detail: np.ndarray | int = -1, effects=None) -> None:
        nonlocal rows, cid
        if mask.any():
            count = int(mask.sum())
            ex_pos.append(rows[mask])
            ex_kind.append(np.full(count, kind, dtype=np.int64))
            ex_combo.append(cid[mask])
            ex_detail.append(detail[mask] if isinstance(detail, np.ndarray) else np.full(count, detail))
            ex_yi.append(effects[0][mask] if effects else np.full(count, np.nan))
            ex_vi.append(effects[1][mask] if effects else np.full(count, np.nan))
            ex_route.append(effects[2][mask] if effects else np.full(count, -1))
            rows, cid = rows[~mask], cid[~mask]

    # --- 0. curation flags; 2.-4. reports, comparisons and arms -----------------------------------------
    if "flags" in table.columns and rows.size:
        drop(cols.lut("flags", lambda u: flag_rule.is_excluded(u, excluded_flags), bool)[rows], FLAGGED)
    if kept_tiers != ALL_TIERS:
        drop(~cols.isin("evidence_tier_id", kept_tiers)[rows], SECONDARY)
    hr = is_hr_combo[cid]
    if hr.any():
        hi = np.flatnonzero(hr)
        hc = cols.subset(rows[hi])
        treatment = (cols.eq("design_class", "randomised")[rows[hi]] & hc.eq("group_arm_role", "experimental")
                     & hc.eq("reference_arm_role", "control"))
        mask = np.zeros(rows.size, dtype=bool)
        mask[hi[~treatment]] = True
        drop(mask, NOT_TREATMENT)
        hi = np.flatnonzero(is_hr_combo[cid])
        hc = cols.subset(rows[hi])
        key = cid[hi] * len(studyu) + study[rows[hi]]
        has_unadjusted = np.isin(key, key[hc.eq("adjusted", "false")])
        mask = np.zeros(rows.size, dtype=bool)
        mask[hi[hc.eq("adjusted", "true") & has_unadjusted]] = True
        drop(mask, ADJUSTED)
    rate = ~is_hr_combo[cid]
    if rate.any():
        drop(rate & ~cols.isin("group_arm_role", ["experimental", "single"])[rows], NOT_TREATED_ARM)
        rate = ~is_hr_combo[cid]
        drop(rate & cols.isin("oligo_state", ["not oligometastatic", "oligo-status not assessed"])[rows], NOT_OLIGO)

    # --- 9. effect sizes ----------------------------------------------------------------------------------
    yi = np.full(rows.size, np.nan)
    vi = np.full(rows.size, np.nan)
    routes: list[str] = []
    route = np.full(rows.size, -1, dtype=np.int64)
    fail = np.full(rows.size, -1, dtype=np.int64)
    messages: dict[int, str] = {}
    value = cols.number("value")[rows]
    hr = is_hr_combo[cid]
    if hr.any():
        _hr_effects(cols, rows, hr, value, yi, vi, route, routes, fail, messages)
    rate = ~hr
    if rate.any():
        _rate_effects(cols, table, rows, cid, combos, rate, value, yi, vi, route, routes, fail)
    reached = np.bincount(cid, minlength=m)   # rows that got to the effect sizes, per analysis
    drop(fail >= 0, EFFECT, fail)
    ok = route >= 0
    yi, vi, route = yi[ok], vi[ok], route[ok]

    # --- 6. one estimate per study and stratum ------------------------------------------------------------
    named = _Superseded.build(cols, rows, cid)   # publications a report of the same analysis supersedes

    def late(mask: np.ndarray, kind: int, detail: np.ndarray | int = -1) -> None:
        nonlocal yi, vi, route
        keep = ~mask
        drop(mask, kind, detail, (yi, vi, route))
        yi, vi, route = yi[keep], vi[keep], route[keep]

    sub_true = cols.eq("group_is_subgroup", "true")
    if sub_true[rows].any():
        si = np.flatnonzero(sub_true[rows])
        by_ = cols.subset(rows[si]).strings("group_subgroup_by")
        wrong = np.zeros(rows.size, dtype=bool)
        wrong[si] = [b != (partition[c] or "-") for b, c in zip(by_, cid[si])]
        late(wrong, SUBGROUP)
    # stratum key (the analysis and its strata columns), then the study
    parts = [(cid, m)]
    use_col = {col: np.array([col in st for st in strata], dtype=bool) for col in all_strata}
    for col in all_strata:
        codes, uniques = cols.codes(col)
        parts.append((np.where(use_col[col][cid], codes[rows], 0) if not use_col[col].all() else codes[rows],
                      len(uniques)))
    skey = _combine(parts)
    g = pd.factorize(_combine([(skey, int(skey.max()) + 1 if skey.size else 1), (study[rows], len(studyu))]))[0]
    size = np.bincount(g) if g.size else np.zeros(0, dtype=np.int64)
    multi = size[g] >= 2 if g.size else np.zeros(0, dtype=bool)
    n_all = cols.lut("n", lambda u: _num(u) or 0, float)
    if multi.any():
        # competing rows: latest data cut (not superseded, latest year), best tier, largest group, then
        # the lowest statistic id (compared only where the first four tie), then table order
        mi = np.flatnonzero(multi)
        mpos = rows[mi]
        year = cols.lut("data_cut_year", lambda u: _num(u) or 0, float)[mpos]
        tier = cols.lut("tier_rank", lambda u: _num(u) or 99, float)[mpos]
        n_ = n_all[mpos]
        sup = named.flags(cols, mpos, cid[mi])
        order = np.lexsort((mpos, -n_, tier, -year, sup, g[mi]))
        ordered = mi[order]
        gs = g[ordered]
        first = np.ones(ordered.size, dtype=bool)
        first[1:] = gs[1:] != gs[:-1]
        head = np.maximum.accumulate(np.where(first, np.arange(ordered.size), 0))
        so, yo, to, no = sup[order], year[order], tier[order], n_[order]
        tied = (so == so[head]) & (yo == yo[head]) & (to == to[head]) & (no == no[head])
        starts_ = np.flatnonzero(first)
        ties = np.add.reduceat(tied.astype(np.int64), starts_)
        need = tied & (np.repeat(ties, np.diff(np.append(starts_, ordered.size))) >= 2)
        winner_of = np.empty(g.max() + 1, dtype=np.int64)
        winner_of[gs[first]] = ordered[first]
        if need.any():
            cand = ordered[need]
            sid_rank = _rank(cols.subset(rows[cand]), "statistic_id")
            sub = np.lexsort((rows[cand], sid_rank, gs[need]))
            cg = gs[need][sub]
            top = np.ones(sub.size, dtype=bool)
            top[1:] = cg[1:] != cg[:-1]
            winner_of[cg[top]] = cand[sub][top]
        loser = np.zeros(rows.size, dtype=bool)
        loser[mi] = True
        loser[winner_of[gs[first]]] = False
        detail = np.full(rows.size, -1, dtype=np.int64)
        detail[loser] = rows[winner_of[g[loser]]]
        skey = skey[~loser]
        late(loser, DUPLICATE, detail)
    # a study whose subgroups are used contributes them, not also its whole cohort
    sub_rows = sub_true[rows]
    if sub_rows.any():
        skeys = cid * len(studyu) + study[rows]
        whole = np.isin(skeys, skeys[sub_rows]) & ~sub_rows
        skey = skey[~whole]
        late(whole, WHOLE)
    # --- 7. overlaps ---------------------------------------------------------------------------------------
    has_ov = ~cols.eq("overlaps_with", "")[rows]
    if has_ov.any():
        oi = np.flatnonzero(has_ov)
        ovs = cols.subset(rows[oi]).strings("overlaps_with")
        present = np.unique(cid * len(studyu) + study[rows])
        index = pd.Index(studyu)
        mask = np.zeros(rows.size, dtype=bool)
        for i, text in zip(oi, ovs):
            ids = sorted({s_ for s_ in str(text).split(";") if s_})
            codes = index.get_indexer(ids)
            keys = [int(cid[i]) * len(studyu) + int(x) for x in codes if x >= 0]
            mask[i] = bool(keys) and bool(np.isin(keys, present).any())
        skey = skey[~mask]
        late(mask, OVERLAP)

    # --- 8. strata: one segment per (analysis, stratum), ordered by the stratum's label -------------------------
    sid_ = pd.factorize(skey)[0]
    n_strata = int(sid_.max()) + 1 if sid_.size else 0
    # factorize numbers codes by first appearance: a code's first row is where it exceeds all before it
    new = np.ones(sid_.size, dtype=bool)
    if sid_.size:
        new[1:] = sid_[1:] > np.maximum.accumulate(sid_)[:-1]
    first_idx = np.flatnonzero(new)
    coded = {col: cols.codes(col) for col in all_strata}
    labels = []
    scombo_a = cid[first_idx]
    for i, c in zip(first_idx, scombo_a):
        labels.append(" | ".join(str(coded[col][1][coded[col][0][rows[i]]]) for col in strata[c]))
    label_rank = (np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)[1]
                  if labels else np.zeros(0, np.int64))
    srank = np.empty(n_strata, dtype=np.int64)
    sorder = np.lexsort((label_rank, scombo_a)) if n_strata else np.zeros(0, np.int64)
    srank[sorder] = np.arange(n_strata)
    row_rank = srank[sid_]
    order = np.argsort(row_rank, kind="stable")
    sizes = np.bincount(row_rank, minlength=n_strata)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)[:n_strata]
    sc_ = scombo_a[sorder]
    stratum_table = pd.DataFrame({
        "combo": sc_,
        "outcome": [combos[c][0] for c in sc_],
        "statistic": [combos[c][1] for c in sc_],
        "timepoint_months": [combos[c][2] for c in sc_],
        "stratum": [labels[i] for i in sorder],
        "start": starts, "k": sizes,
    })
    for col in all_strata:
        codes, uniques = coded[col]
        vals = np.asarray(uniques + [None], dtype=object)[codes[rows[first_idx[sorder]]]]
        stratum_table[col] = np.where(use_col[col][sc_], vals, None) if n_strata else []

    def cat(parts_: list, dtype) -> np.ndarray:
        return np.concatenate(parts_).astype(dtype) if parts_ else np.zeros(0, dtype)

    return BatchSelection(
        table=table, combos=tuple(combos), strata=strata,
        pos=rows[order], yi=yi[order], vi=vi[order],
        route=np.asarray(routes + [None], dtype=object)[route[order]],
        stratum_of=row_rank[order], stratum_table=stratum_table, superseded=named,
        excluded_pos=cat(ex_pos, np.int64), excluded_kind=cat(ex_kind, np.int64),
        excluded_combo=cat(ex_combo, np.int64), excluded_detail=cat(ex_detail, np.int64),
        excluded_yi=cat(ex_yi, float), excluded_vi=cat(ex_vi, float),
        excluded_route=np.asarray(routes + [None], dtype=object)[cat(ex_route, np.int64)],
        messages=messages, partition=partition, reached=reached, tiers=kept_tiers, excluded_flags=excluded_flags)


def _rank(cols: _Columns, name: str) -> np.ndarray:
    """Dense rank of a text column's values (code point order, as pandas sorts strings)."""
    arr = cols.arrow(name)
    if arr is not None:
        return pc.rank(arr, sort_keys="ascending", tiebreaker="dense").to_numpy()
    return np.unique(cols.strings(name).astype(str), return_inverse=True)[1]


@dataclass(frozen=True)
class _Superseded:
    """The (analysis, publication) pairs that a `supersedes` of a row of the same analysis names."""

    names: pa.Array            # publication ids named somewhere
    keys: np.ndarray           # analysis * len(names) + index of the name

    @classmethod
    def build(cls, cols: _Columns, rows: np.ndarray, cid: np.ndarray) -> "_Superseded":
        has = ~cols.eq("supersedes", "")[rows]
        if not has.any():
            return cls(pa.array([], pa.string()), np.zeros(0, dtype=np.int64))
        sup = cols.arrow("supersedes")
        if sup is None:   # not Arrow text
            texts = cols.strings("supersedes")[rows[has]]
        else:
            texts = sup.take(pa.array(rows[has])).combine_chunks()
        if not isinstance(texts, pa.Array):
            texts = pa.array([str(t) for t in texts], pa.string())
        # str(s).split(";") without the empty pieces, for every row at once
        parts = pc.split_pattern(texts, ";")
        flat = pc.list_flatten(parts)
        parent = pc.list_parent_indices(parts).to_numpy()
        keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
        enc = pc.dictionary_encode(flat.filter(pa.array(keep)))
        names = enc.dictionary
        keys = cid[has][parent[keep]] * len(names) + enc.indices.to_numpy().astype(np.int64)
        return cls(names, keys)

    def flags(self, cols: _Columns, positions: np.ndarray, cid: np.ndarray) -> np.ndarray:
        """Whether the publication of each row at `positions` (rows of `cols`) is superseded in its analysis."""
        if not self.keys.size:
            return np.zeros(positions.size, dtype=bool)
        pubs = cols.arrow("data_cut")   # the report the numbers come from (analysis.strata)
        if pubs is None:
            pubs = pa.array([str(x) for x in cols.strings("data_cut")], pa.string())
        sub = pubs.take(pa.array(positions))
        idx = pc.fill_null(pc.index_in(sub, value_set=self.names.cast(sub.type)), -1).to_numpy()
        idx = np.asarray(idx, dtype=np.int64)
        return (idx >= 0) & np.isin(cid * len(self.names) + idx, self.keys)


def _route_code(routes: list[str], text: str) -> int:
    try:
        return routes.index(text)
    except ValueError:
        routes.append(text)
        return len(routes) - 1


def _squares(se: np.ndarray) -> list[float]:
    """LogHR.vi = se**2 with Python's float power (C pow), which can differ from numpy's x*x by 1 ulp."""
    return [x**2 for x in se.tolist()]


def _hr_effects(cols: _Columns, rows, hr, value, yi, vi, route, routes, fail, messages) -> None:
    """log HR and its variance per row, as policy._effect_size / effects.log_hr_from_ci|_from_p."""
    idx = np.flatnonzero(hr)
    pos = rows[idx]
    val = value[idx]
    table = cols.table
    cols = cols.subset(pos)       # the hazard-ratio rows only
    low = cols.number("ci_low")
    high = cols.number("ci_high")
    level = cols.number("ci_level")
    p = cols.number("p_value")
    no_value = np.isnan(val)
    fail[idx[no_value]] = _VALUE_NAN
    by_ci = ~no_value & ~np.isnan(low) & ~np.isnan(high) & ~np.isnan(level)
    by_p = ~no_value & ~by_ci & ~np.isnan(p)
    fail[idx[~no_value & ~by_ci & ~by_p]] = _NO_SE
    # The checks of log_hr_from_ci / log_hr_from_p, in their order; a failing row gets its message
    # from the per-row derivation itself (rare), so the text is the same.
    with np.errstate(invalid="ignore"):
        bad_ci = by_ci & ~((val > 0) & (low > 0) & (high > 0) & (low < high) & (low <= val) & (val <= high))
        bad_p = by_p & ~((val > 0) & (p > 0) & (p < 1) & (val != 1.0))
    bad_level = by_ci & ~bad_ci & ~((level > 0) & (level < 1))
    if bad_level.any():
        z_for_level(float(level[np.flatnonzero(bad_level)[0]]))   # raises the OptionError select_estimates raises
    for i in np.flatnonzero(bad_ci | bad_p):
        row = table.iloc[int(pos[i])].astype(object).to_dict()
        es = _effect_size(row, "hazard ratio")
        assert isinstance(es, str), es
        fail[idx[i]] = _HR_ERROR
        messages[int(pos[i])] = es
    ci = by_ci & ~bad_ci
    pv = by_p & ~bad_p
    logs = {name: cols.lut(name, lambda u: math.log(x) if (x := _num(u)) is not None and x > 0 else np.nan, float)
            for name in ("value", "ci_low", "ci_high")}
    log_val = logs["value"]
    if ci.any():
        lev_codes, lev_uniques = cols.codes("ci_level")
        zs = np.array([z_for_level(x) if (x := _num(u)) is not None and 0 < x < 1 else np.nan
                       for u in lev_uniques], dtype=float)
        route_of = np.array([_route_code(routes, f"SE from {x:.0%} CI") if (x := _num(u)) is not None else -1
                             for u in lev_uniques], dtype=np.int64)
        j = np.flatnonzero(ci)
        lc = lev_codes[j]
        se = (logs["ci_high"][j] - logs["ci_low"][j]) / (2.0 * zs[lc])
        yi[idx[j]] = log_val[j]
        vi[idx[j]] = _squares(se)
        route[idx[j]] = route_of[lc]
    if pv.any():
        j = np.flatnonzero(pv)
        p_codes, p_uniques = cols.codes("p_value")
        zs = np.array([float(stats.norm.isf(x / 2.0)) if (x := _num(u)) is not None and 0 < x < 1 else np.nan
                       for u in p_uniques], dtype=float)
        se = np.abs(log_val[j]) / zs[p_codes[j]]
        yi[idx[j]] = log_val[j]
        vi[idx[j]] = _squares(se)
        route[idx[j]] = _route_code(routes, "SE from exact p-value")


def _rate_effects(cols: _Columns, table, rows, cid, combos, rate, value, yi, vi, route, routes, fail) -> None:
    """Logit of events = rate x n, as policy._effect_size / effects.events_from_rate / effects.plo."""
    idx = np.flatnonzero(rate)
    pos = rows[idx]
    val = value[idx]
    n = cols.number("n")[pos]
    unit_ok = cols.isin("unit", ["percent", ""])[pos]
    no_value = np.isnan(val)
    no_n = ~no_value & np.isnan(n)
    bad_unit = ~no_value & ~no_n & ~unit_ok
    fail[idx[no_value]] = _VALUE_NAN
    fail[idx[no_n]] = _NO_N
    fail[idx[bad_unit]] = _UNIT
    go = ~no_value & ~no_n & ~bad_unit
    j = np.flatnonzero(go)
    r, nn = val[j], n[j]
    with np.errstate(invalid="ignore", over="ignore"):
        x = r / 100.0 * nn
        raises = ~((r >= 0) & (r <= 100)) | ~np.isfinite(x) | (x < 0) | ~(nn > 0) | (x > nn)
    if raises.any():  # the per-row code raises InputError here (not a reason): raise the same error
        i = int(pos[j[np.flatnonzero(raises)[0]]])
        row = table.iloc[i].astype(object).to_dict()
        _effect_size(row, combos[int(cid[idx[j[np.flatnonzero(raises)[0]]]])][1])
        raise AssertionError(f"row {i}: expected the per-row effect size to raise")  # pragma: no cover
    corrected = (x == 0) | (x == nn)
    x_adj = np.where(corrected, x + 0.5, x)
    m_adj = np.where(corrected, nn - x + 0.5, nn - x)
    yi[idx[j]] = np.log(x_adj / m_adj)
    vi[idx[j]] = 1.0 / x_adj + 1.0 / m_adj
    plain = _route_code(routes, "logit, events = rate x n")
    fixed = _route_code(routes, "logit, events = rate x n (+0.5 correction)")
    route[idx[j]] = np.where(corrected, fixed, plain)
