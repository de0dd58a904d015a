"""The pooling policy of `analysis.policy` (its docstring states the rules), applied to every analysis
of an evidence table at once; `select_estimates` is this restricted to one analysis.

`select_all(table, combos=..., by=...)` works on whole columns: every column is dictionary-encoded once
(analysis.policy_columns), the rules become lookups on the codes, "one estimate per study and stratum"
is a sort of the rows that compete, and the effect sizes are computed per unique published value
(analysis.policy_effects). Each row left out is recorded with its rule's kind code; the reason text is
written from the rule table (analysis.policy_rules) only when a selection is materialised.
`BatchSelection.selection(outcome, statistic, timepoint)` gives one analysis' `Selection`.

Errors: an unknown statistic, a rate without a time point or an unknown --by column raise `InputError`;
a rate outside 0-100 % or a non-positive n raise the `InputError` of `analysis.effects` (for the first
such row in table order), a CI level outside (0, 1) the `OptionError` of `z_for_level`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis import flag_rule
from analysis.policy_columns import Columns, combine_codes, ordered_codes, parse_number
from analysis.policy_effects import RouteTexts, effect_sizes
from analysis.policy_rules import (
    ADJUSTED,
    AFTER_EFFECT_SIZES,
    ALWAYS_STRATA,
    DUPLICATE,
    FLAGGED,
    NO_EFFECT_SIZE,
    NOT_OLIGOMETASTATIC,
    NOT_OLIGOMETASTATIC_STATES,
    NOT_TREATED_ARM,
    NOT_TREATMENT,
    OUTSIDE_TIERS,
    OVERLAP,
    RATE_STATISTICS,
    RATE_STRATA,
    RATIO_STATISTICS,
    SUBGROUP,
    TREATED_ARMS,
    WHOLE_COHORT,
    Combo,
    ReasonContext,
    check_by,
    check_statistic,
    check_timepoint,
    reason,
    strata_of,
    subgroup_partition,
)
from analysis.policy_segments import StrataSegments, Superseded, strata_in_use
from analysis.strata import ALL_TIERS, allowed_tiers, prepare_columns


@dataclass(frozen=True)
class Selection:
    """One analysis: the rows that enter it (with yi, vi, derivation_route, stratum), those left out
    (with reason) and its strata columns."""

    used: pd.DataFrame
    excluded: pd.DataFrame
    strata: tuple[str, ...]


def poolable_combos(table: pd.DataFrame, cols: Columns | None = None) -> list[Combo]:
    """Every analysis the policy can pool: each outcome's hazard ratios, and each (outcome, rate
    statistic, numeric time point) with rows; sorted."""
    cols = Columns(table) if cols is None else cols
    outcome_codes, outcomes = cols.codes("outcome")
    statistic_codes, statistics = cols.codes("statistic")
    timepoint_codes, timepoints = cols.codes("timepoint_months")
    n_statistics, n_timepoints = max(len(statistics), 1), max(len(timepoints), 1)
    seen = np.unique(
        combine_codes(
            [(outcome_codes, len(outcomes)), (statistic_codes, len(statistics)), (timepoint_codes, len(timepoints))]
        )
    )
    outcome_of, rest = np.divmod(seen, n_statistics * n_timepoints)
    statistic_of, timepoint_of = np.divmod(rest, n_timepoints)
    out: set[Combo] = set()
    for o, s, t in zip(outcome_of.tolist(), statistic_of.tolist(), timepoint_of.tolist(), strict=True):
        outcome, statistic = outcomes[o], statistics[s]
        if statistic in RATIO_STATISTICS:
            out.add((outcome, statistic, None))
        elif statistic in RATE_STATISTICS and (value := parse_number(timepoints[t])) is not None:
            out.add((outcome, statistic, float(value)))
    return sorted(out, key=lambda c: (c[0], c[1], -1.0 if c[2] is None else c[2]))


@dataclass
class BatchSelection:
    """The policy's outcome for every analysis: used rows grouped by stratum, and the rows left out."""

    table: pd.DataFrame
    combos: tuple[Combo, ...]
    strata: tuple[tuple[str, ...], ...]  # per combo, as Selection.strata
    # used rows, ordered by (combo, stratum label); within a stratum in table order
    pos: np.ndarray  # row positions in `table`
    yi: np.ndarray
    vi: np.ndarray
    route: np.ndarray  # derivation_route, per row: its code in `routes`
    stratum_of: np.ndarray  # index into `stratum_table`, per used row
    stratum_table: pd.DataFrame  # combo, stratum, start, k (rows in pos order)
    superseded: Superseded = field(repr=False)  # for the policy's own order within an analysis
    excluded_pos: np.ndarray = field(repr=False)
    excluded_kind: np.ndarray = field(repr=False)  # policy_rules.RULES code
    excluded_combo: np.ndarray = field(repr=False)
    excluded_detail: np.ndarray = field(repr=False)  # effect-size failure code, or the winning row's position
    excluded_yi: np.ndarray = field(repr=False)  # yi, vi, route of rows left out after their effect size
    excluded_vi: np.ndarray = field(repr=False)
    excluded_route: np.ndarray = field(repr=False)  # code in `routes`
    messages: dict[int, str] = field(repr=False)  # position -> message of an HR derivation error
    partition: tuple[str | None, ...] = field(repr=False)  # per combo: the subgroup partition column or None
    reached: np.ndarray = field(repr=False)  # per combo: rows that got to the effect sizes
    tiers: tuple[str, ...] = ALL_TIERS  # the evidence tiers kept
    routes: RouteTexts = field(default_factory=RouteTexts, repr=False)  # route code -> derivation_route
    excluded_flags: frozenset[str] = field(default=frozenset(flag_rule.DEFAULT_EXCLUDED), repr=False)  # rule 0

    def combo_index(self, outcome: str, statistic: str, timepoint_months: float | None = None) -> int:
        key = (
            outcome,
            statistic,
            None if statistic in RATIO_STATISTICS or timepoint_months is None else float(timepoint_months),
        )
        try:
            return self.combos.index(key)
        except ValueError:
            raise KeyError(f"{key} is not one of the analyses selected") from None

    def _policy_order(self, positions: np.ndarray, combo: int) -> np.ndarray:
        """positions sorted as rule 6 ranks an analysis' rows: not superseded, latest year, best tier,
        largest group, lowest statistic id, then table order."""
        if positions.size == 0:
            return positions
        cols = Columns(self.table, positions)
        superseded = self.superseded.flags(
            cols, np.arange(positions.size), np.full(positions.size, combo, dtype=np.int64)
        )
        year, tier, n = _ranking_numbers(cols)
        return positions[np.lexsort((positions, cols.dense_rank("statistic_id"), n, tier, year, superseded))]

    def used_rows(self, combo: int) -> np.ndarray:
        """Indices into pos/yi/vi of an analysis' used rows, in the policy's order (rule 6)."""
        strata = np.flatnonzero(self.stratum_table["combo"].to_numpy() == combo)
        if strata.size == 0:
            return np.zeros(0, dtype=np.int64)
        idx = np.flatnonzero(np.isin(self.stratum_of, strata))
        by_pos = {p: i for i, p in enumerate(self.pos[idx])}
        return np.array([idx[by_pos[p]] for p in self._policy_order(self.pos[idx], combo)], dtype=np.int64)

    def selection(self, outcome: str, statistic: str, timepoint_months: float | None = None) -> Selection:
        """One analysis' Selection: the used rows in the policy's order (object columns)."""
        c = self.combo_index(outcome, statistic, timepoint_months)
        idx = self.used_rows(c)
        if not self.reached[c]:  # no row got to the effect sizes: the used frame has only the added columns
            used = pd.DataFrame({"yi": [], "vi": [], "derivation_route": [], "stratum": []})
            return Selection(used=used, excluded=self.excluded(c), strata=self.strata[c])
        used = self.table.iloc[self.pos[idx]].astype(object)
        used["yi"] = self.yi[idx]
        used["vi"] = self.vi[idx]
        used["derivation_route"] = self.routes.texts(self.route[idx])
        labels = self.stratum_table["stratum"].to_numpy(object)
        used["stratum"] = labels[self.stratum_of[idx]] if idx.size else []
        return Selection(used=used.reset_index(drop=True), excluded=self.excluded(c), strata=self.strata[c])

    def excluded(self, combo: int) -> pd.DataFrame:
        """The rows left out of one analysis with their reasons, grouped by rule in the rules' order;
        within a rule in table order, except rule 6-7's, which follow the policy's ranking."""
        picked = np.flatnonzero(self.excluded_combo == combo)
        if picked.size == 0:
            return pd.DataFrame()
        positions, kinds = self.excluded_pos[picked], self.excluded_kind[picked]
        within = positions.copy()
        late = np.isin(kinds, list(AFTER_EFFECT_SIZES))
        if late.any():
            rank = {p: i for i, p in enumerate(self._policy_order(positions[late], combo).tolist())}
            within[late] = [rank[p] for p in positions[late].tolist()]
        picked = picked[np.lexsort((within, kinds))]
        rows = self.table.iloc[self.excluded_pos[picked]].astype(object).to_dict("records")
        out = []
        for i, row in zip(picked.tolist(), rows, strict=True):
            kind, detail = int(self.excluded_kind[i]), int(self.excluded_detail[i])
            if kind in AFTER_EFFECT_SIZES:
                row["yi"], row["vi"] = float(self.excluded_yi[i]), float(self.excluded_vi[i])
                row["derivation_route"] = self.routes.text(int(self.excluded_route[i]))
            why = ReasonContext(
                tiers=self.tiers,
                excluded_flags=self.excluded_flags,
                partition=self.partition[combo],
                winner=self.table.iloc[detail].to_dict() if kind == DUPLICATE else None,
                failure=detail if kind == NO_EFFECT_SIZE else -1,
                message=self.messages.get(int(self.excluded_pos[i]), ""),
            )
            row["reason"] = reason(kind, row, why)
            out.append(row)
        return pd.DataFrame(out)


# Rule 6's ranking, each number such that the smaller ranks first: the latest data-cut year (unknown: 0), the
# best tier (unknown: 99), the largest group (unknown: 0).
_RANKED_BY: tuple[tuple[str, Callable[[Any], float]], ...] = (
    ("data_cut_year", lambda u: -(parse_number(u) or 0)),
    ("tier_rank", lambda u: parse_number(u) or 99),
    ("n", lambda u: -(parse_number(u) or 0)),
)


def _ranking_numbers(cols: Columns) -> list[np.ndarray]:
    """Rule 6's ranking numbers per row (_RANKED_BY): year, tier, n."""
    return [cols.mapped(column, number, float) for column, number in _RANKED_BY]


def _ranking_codes(cols: Columns, positions: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """_ranking_numbers at `positions` as dense ranks (with their count): one rank per distinct value,
    computed on the few distinct values, not on the rows."""
    out = []
    for column, number in _RANKED_BY:
        codes, uniques = cols.codes(column)
        rank = np.unique(np.asarray([number(u) for u in uniques], dtype=float), return_inverse=True)[1]
        out.append((rank.reshape(-1)[codes[positions]], len(uniques)))
    return out


def _check(table: pd.DataFrame, combos: list[Combo], by: tuple[str, ...]) -> list[Combo]:
    out: list[Combo] = []
    for outcome, statistic, timepoint in combos:
        check_statistic(statistic)
        check_timepoint(statistic, timepoint)
        out.append(
            (outcome, statistic, None if statistic in RATIO_STATISTICS or timepoint is None else float(timepoint))
        )
    check_by(table.columns, by)
    return list(dict.fromkeys(out))


class _Remaining:
    """The rows still in (positions in the table, and the analysis each belongs to) and those left out
    so far, each with its rule's kind code and a detail (policy_rules)."""

    def __init__(self, rows: np.ndarray, combo_of: np.ndarray):
        self.rows, self.combo_of = rows, combo_of
        # Set once the effect sizes are derived / the strata known: carried with the rows from then on.
        self.yi: np.ndarray | None = None
        self.vi: np.ndarray | None = None
        self.route: np.ndarray | None = None
        self.stratum_key: np.ndarray | None = None
        self.left_out: dict[str, list[np.ndarray]] = {
            k: [] for k in ("pos", "kind", "combo", "detail", "yi", "vi", "route")
        }

    def drop(self, mask: np.ndarray, kind: int, detail: np.ndarray | int = -1) -> None:
        if not mask.any():
            return
        # positions, not the mask, index the arrays: numpy's take is several times faster than a mask
        gone, keep = np.flatnonzero(mask), np.flatnonzero(~mask)
        count = gone.size
        missing = np.full(count, np.nan)
        for name, values in (
            ("pos", self.rows.take(gone)),
            ("kind", np.full(count, kind, dtype=np.int64)),
            ("combo", self.combo_of.take(gone)),
            ("detail", detail.take(gone) if isinstance(detail, np.ndarray) else np.full(count, detail)),
            ("yi", missing if self.yi is None else self.yi.take(gone)),
            ("vi", missing if self.vi is None else self.vi.take(gone)),
            ("route", np.full(count, -1) if self.route is None else self.route.take(gone)),
        ):
            self.left_out[name].append(values)
        self.rows, self.combo_of = self.rows.take(keep), self.combo_of.take(keep)
        if self.yi is not None and self.vi is not None and self.route is not None:
            self.yi, self.vi, self.route = self.yi.take(keep), self.vi.take(keep), self.route.take(keep)
        if self.stratum_key is not None:
            self.stratum_key = self.stratum_key.take(keep)

    def drop_among(self, among: np.ndarray, mask_of_among: np.ndarray, kind: int) -> None:
        """Drop the rows `among[mask_of_among]` (indices of remaining rows)."""
        mask = np.zeros(self.rows.size, dtype=bool)
        mask[among[mask_of_among]] = True
        self.drop(mask, kind)

    def left_out_array(self, name: str, dtype: Any) -> np.ndarray:
        parts = self.left_out[name]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _combo_of_rows(cols: Columns, combos: list[Combo], any_rate: bool) -> np.ndarray:
    """For every row of the table, the index of the analysis it belongs to (-1: none)."""
    outcome_codes, outcomes = cols.codes("outcome")
    statistic_codes, statistics = cols.codes("statistic")
    if any_rate:
        timepoint_codes, timepoints = cols.codes("timepoint_months")
        months = [parse_number(u) for u in timepoints]
    else:
        timepoint_codes, months = np.zeros(len(cols.table), dtype=np.int64), [None]
    wanted = {combo: j for j, combo in enumerate(combos)}
    lookup = np.full((max(len(outcomes), 1), max(len(statistics), 1), max(len(months), 1)), -1, dtype=np.int64)
    for i, outcome in enumerate(outcomes):
        for j, statistic in enumerate(statistics):
            if statistic in RATIO_STATISTICS:
                lookup[i, j, :] = wanted.get((outcome, statistic, None), -1)
            elif statistic in RATE_STATISTICS:
                for k, t in enumerate(months):
                    if t is not None:
                        lookup[i, j, k] = wanted.get((outcome, statistic, float(t)), -1)
    if not len(cols.table):
        return np.zeros(0, dtype=np.int64)
    return lookup[outcome_codes, statistic_codes, timepoint_codes]


def select_all(
    table: pd.DataFrame,
    *,
    combos: Iterable[Combo] | None = None,
    by: tuple[str, ...] = (),
    include_secondary: bool | None = None,
    tiers: Iterable[str] | str | None = None,
    levels: str | Mapping[str, str] | None = None,
    exclude_flags: tuple[str, ...] = (),
) -> BatchSelection:
    """The policy for every analysis in `combos` (default: `poolable_combos(table)`) at once.

    A combo is (outcome, statistic, time point in months or None); hazard ratios ignore the time point.
    tiers and levels as select_estimates'.
    """
    kept_tiers = allowed_tiers(tiers, include_secondary)
    excluded_flags = flag_rule.excluded_flags(exclude_flags)
    given = None if combos is None else list(combos)
    rates = given is None or any(c[1] in RATE_STATISTICS for c in given)
    # the columns read on every row, encoded once (an unknown --by column is _check's error, below)
    cols = prepare_columns(
        table,
        by=tuple(by),
        levels=levels,
        encode=(
            "outcome",
            "statistic",
            "timepoint_months",
            "value",
            "n",
            "tier_rank",
            *ALWAYS_STRATA,
            *(RATE_STRATA if rates else ()),
            *by,
        ),
    )
    table = cols.table
    checked = _check(table, poolable_combos(table, cols) if given is None else given, tuple(by))
    strata = tuple(strata_of(statistic, by) for _, statistic, _ in checked)
    is_hr_combo = np.array([s in RATIO_STATISTICS for _, s, _ in checked], dtype=bool)

    # --- 1. selection: the rows of each analysis ------------------------------------------------------------
    combo_of_all = _combo_of_rows(cols, checked, not is_hr_combo.all())
    rows = np.flatnonzero(combo_of_all >= 0)
    state = _Remaining(rows, combo_of_all[rows])
    study_codes, studies = cols.codes("study_id")

    # --- 0. curation flags; 2.-5. reports, comparisons, arms, adjusted estimates ------------------------------
    if "flags" in table.columns and state.rows.size:
        flagged = np.flatnonzero(~cols.eq("flags", "")[state.rows])  # most rows carry no flag
        excluded = cols.subset(state.rows[flagged]).mapped(
            "flags", lambda u: flag_rule.is_excluded(u, excluded_flags), bool
        )
        state.drop_among(flagged, excluded, FLAGGED)
    if kept_tiers != ALL_TIERS:
        state.drop(~cols.isin("evidence_tier_id", kept_tiers)[state.rows], OUTSIDE_TIERS)
    hr_rows = np.flatnonzero(is_hr_combo[state.combo_of])
    if hr_rows.size:
        hr_cols = cols.subset(state.rows[hr_rows])
        treatment = (
            cols.eq("design_class", "randomised")[state.rows[hr_rows]]
            & hr_cols.eq("group_arm_role", "experimental")
            & hr_cols.eq("reference_arm_role", "control")
        )
        state.drop_among(hr_rows, ~treatment, NOT_TREATMENT)
        hr_rows = np.flatnonzero(is_hr_combo[state.combo_of])
        hr_cols = cols.subset(state.rows[hr_rows])
        study_in_combo = state.combo_of[hr_rows] * len(studies) + study_codes[state.rows[hr_rows]]
        has_unadjusted = np.isin(study_in_combo, study_in_combo[hr_cols.eq("adjusted", "false")])
        state.drop_among(hr_rows, hr_cols.eq("adjusted", "true") & has_unadjusted, ADJUSTED)
    if not is_hr_combo[state.combo_of].all():
        rate = ~is_hr_combo[state.combo_of]
        state.drop(rate & ~cols.isin("group_arm_role", TREATED_ARMS)[state.rows], NOT_TREATED_ARM)
        rate = ~is_hr_combo[state.combo_of]
        state.drop(rate & cols.isin("oligo_state", NOT_OLIGOMETASTATIC_STATES)[state.rows], NOT_OLIGOMETASTATIC)

    # --- 9. effect sizes ------------------------------------------------------------------------------------
    effects = effect_sizes(cols, state.rows, is_hr_combo[state.combo_of])
    reached = np.bincount(state.combo_of, minlength=len(checked))  # rows that got to the effect sizes
    state.yi, state.vi, state.route = effects.yi, effects.vi, effects.route
    state.drop(effects.failure >= 0, NO_EFFECT_SIZE, effects.failure)

    # --- 6. one estimate per study and stratum; 7. overlaps ----------------------------------------------------
    superseded = Superseded.build(cols, state.rows, state.combo_of)
    partition = tuple(subgroup_partition(st) for st in strata)
    all_strata = list(dict.fromkeys(c for st in strata for c in st))
    _one_per_study(cols, state, strata, partition, all_strata, superseded)
    _drop_overlaps(cols, state)

    # --- 8. strata: one segment per (analysis, stratum), ordered by the stratum's label -----------------------
    assert state.stratum_key is not None
    segments = StrataSegments.build(cols, state.rows, state.combo_of, state.stratum_key, checked, strata, all_strata)
    routes = effects.route_texts()
    order = segments.order
    return BatchSelection(
        table=table,
        combos=tuple(checked),
        strata=strata,
        pos=state.rows[order],
        yi=state.yi[order],
        vi=state.vi[order],
        route=state.route[order],
        stratum_of=segments.stratum_of[order],
        stratum_table=segments.table,
        superseded=superseded,
        excluded_pos=state.left_out_array("pos", np.int64),
        excluded_kind=state.left_out_array("kind", np.int64),
        excluded_combo=state.left_out_array("combo", np.int64),
        excluded_detail=state.left_out_array("detail", np.int64),
        excluded_yi=state.left_out_array("yi", float),
        excluded_vi=state.left_out_array("vi", float),
        excluded_route=state.left_out_array("route", np.int64),
        messages=effects.messages,
        partition=partition,
        reached=reached,
        tiers=kept_tiers,
        excluded_flags=excluded_flags,
        routes=routes,
    )


def _one_per_study(
    cols: Columns,
    state: _Remaining,
    strata: tuple[tuple[str, ...], ...],
    partition: tuple[str | None, ...],
    all_strata: list[str],
    superseded: Superseded,
) -> None:
    """Rule 6: subgroups of another partition, all but the first-ranked estimate of a study in a stratum,
    and the whole cohort of a study whose subgroups are used, are left out; sets state.stratum_key."""
    assert state.yi is not None
    is_subgroup = cols.eq("group_is_subgroup", "true")
    subgroup_rows = np.flatnonzero(is_subgroup[state.rows])
    if subgroup_rows.size:
        subgroup_by = cols.subset(state.rows[subgroup_rows]).strings("group_subgroup_by")
        other = np.array(
            [b != (partition[c] or "-") for b, c in zip(subgroup_by, state.combo_of[subgroup_rows], strict=True)],
            dtype=bool,
        )
        state.drop_among(subgroup_rows, other, SUBGROUP)
    # The stratum key: the analysis and its strata columns' values (0 for a column it is not stratified by).
    in_use = strata_in_use(strata, all_strata)
    parts = [(state.combo_of, len(strata))]
    for col in all_strata:
        codes, uniques = cols.codes(col)
        per_row = codes[state.rows]
        parts.append(
            (per_row if in_use[col].all() else np.where(in_use[col][state.combo_of], per_row, 0), len(uniques))
        )
    state.stratum_key = combine_codes(parts)
    study_codes, studies = cols.codes("study_id")
    _drop_duplicates(cols, state, study_codes, len(studies), superseded)
    subgroup = is_subgroup[state.rows]
    if subgroup.any():
        # a study whose subgroups are used contributes them, not also its whole cohort
        study_in_combo = state.combo_of * len(studies) + study_codes[state.rows]
        state.drop(np.isin(study_in_combo, study_in_combo[subgroup]) & ~subgroup, WHOLE_COHORT)


def _drop_duplicates(
    cols: Columns, state: _Remaining, study_codes: np.ndarray, n_studies: int, superseded: Superseded
) -> None:
    """All but the first-ranked row of each (analysis, stratum, study) are left out, naming the winner."""
    assert state.stratum_key is not None
    key = state.stratum_key
    competition = pd.factorize(
        combine_codes([(key, int(key.max()) + 1 if key.size else 1), (study_codes[state.rows], n_studies)])
    )[0]
    if not competition.size:
        return
    entrants = np.bincount(competition)
    contested = entrants[competition] >= 2
    if not contested.any():
        return
    # competing rows: latest data cut (not superseded, latest year), best tier, largest group, then the
    # lowest statistic id (compared only where the first four tie: ranking ids is the costly part), then
    # table order. Only each competition's first is needed: a minimum per competition, not a sort.
    among = np.flatnonzero(contested)
    positions = state.rows[among]
    group = competition[among]
    is_superseded = superseded.flags(cols, positions, state.combo_of[among]).astype(np.int64)
    score = ordered_codes([(is_superseded, 2), *_ranking_codes(cols, positions)])
    best = np.full(entrants.size, np.iinfo(np.int64).max)
    np.minimum.at(best, group, score)
    tied = score == best[group]
    ties = np.bincount(group[tied], minlength=entrants.size)[group]
    winner_of = np.full(entrants.size, -1, dtype=np.int64)
    alone = tied & (ties == 1)
    winner_of[group[alone]] = among[alone]
    by_id = tied & (ties >= 2)
    if by_id.any():
        candidates = among[by_id]
        id_rank = cols.subset(state.rows[candidates]).dense_rank("statistic_id")
        sub = np.lexsort((state.rows[candidates], id_rank, group[by_id]))
        candidate_group = group[by_id][sub]
        top = np.ones(sub.size, dtype=bool)
        top[1:] = candidate_group[1:] != candidate_group[:-1]
        winner_of[candidate_group[top]] = candidates[sub][top]
    loser = contested.copy()
    loser[winner_of[winner_of >= 0]] = False
    winner_position = np.full(state.rows.size, -1, dtype=np.int64)
    winner_position[loser] = state.rows[winner_of[competition[loser]]]
    state.drop(loser, DUPLICATE, winner_position)


def _drop_overlaps(cols: Columns, state: _Remaining) -> None:
    """Rule 7: a pooled analysis overlapping a study that is in the same analysis is left out."""
    has_overlap = np.flatnonzero(~cols.eq("overlaps_with", "")[state.rows])
    if not has_overlap.size:
        return
    study_codes, studies = cols.codes("study_id")
    texts = cols.subset(state.rows[has_overlap]).strings("overlaps_with")
    present = np.unique(state.combo_of * len(studies) + study_codes[state.rows])
    index = pd.Index(studies)
    overlapping = np.zeros(has_overlap.size, dtype=bool)
    for i, (row, text) in enumerate(zip(has_overlap, texts, strict=True)):
        codes = index.get_indexer(sorted({s for s in str(text).split(";") if s}))
        keys = [int(state.combo_of[row]) * len(studies) + int(x) for x in codes if x >= 0]
        overlapping[i] = bool(keys) and bool(np.isin(keys, present).any())
    state.drop_among(has_overlap, overlapping, OVERLAP)
