"""How the selected rows are grouped: which columns stratify which analysis (`strata_in_use`), the
strata each analysis pools (`StrataSegments`), and the reports a later one supersedes (`Superseded`).

The selection itself is analysis.policy_batch.select_all; these are its groupings, on whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.policy_columns import Columns
from analysis.policy_rules import Combo


def strata_in_use(strata: tuple[tuple[str, ...], ...], all_strata: list[str]) -> dict[str, np.ndarray]:
    """Per strata column, per analysis: whether the analysis is stratified by it."""
    return {col: np.array([col in st for st in strata], dtype=bool) for col in all_strata}


@dataclass(frozen=True)
class StrataSegments:
    """The used rows' strata: `order` sorts the rows by (analysis, stratum label), table order within;
    `stratum_of` is each row's stratum (a row of `table`: combo, outcome, statistic, timepoint_months,
    stratum, start, k and the strata columns' values)."""

    order: np.ndarray
    stratum_of: np.ndarray
    table: pd.DataFrame

    @classmethod
    def build(
        cls,
        cols: Columns,
        rows: np.ndarray,
        combo_of: np.ndarray,
        stratum_key: np.ndarray,
        combos: list[Combo],
        strata: tuple[tuple[str, ...], ...],
        all_strata: list[str],
    ) -> StrataSegments:
        code = pd.factorize(stratum_key)[0]
        n_strata = int(code.max()) + 1 if code.size else 0
        # factorize numbers codes by first appearance: a code's first row is where it exceeds all before it
        new = np.ones(code.size, dtype=bool)
        if code.size:
            new[1:] = code[1:] > np.maximum.accumulate(code)[:-1]
        first_row = np.flatnonzero(new)
        coded = {col: cols.codes(col) for col in all_strata}
        combo_of_stratum = combo_of[first_row]
        labels = [
            " | ".join(str(coded[col][1][coded[col][0][rows[i]]]) for col in strata[c])
            for i, c in zip(first_row, combo_of_stratum, strict=True)
        ]
        label_rank = (
            np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)[1]
            if labels
            else np.zeros(0, np.int64)
        )
        stratum_rank = np.empty(n_strata, dtype=np.int64)
        stratum_order = np.lexsort((label_rank, combo_of_stratum)) if n_strata else np.zeros(0, np.int64)
        stratum_rank[stratum_order] = np.arange(n_strata)
        row_rank = stratum_rank[code]
        sizes = np.bincount(row_rank, minlength=n_strata)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)[:n_strata]
        combo_sorted = combo_of_stratum[stratum_order]
        table = pd.DataFrame(
            {
                "combo": combo_sorted,
                "outcome": [combos[c][0] for c in combo_sorted],
                "statistic": [combos[c][1] for c in combo_sorted],
                "timepoint_months": [combos[c][2] for c in combo_sorted],
                "stratum": [labels[i] for i in stratum_order],
                "start": starts,
                "k": sizes,
            }
        )
        in_use = strata_in_use(strata, all_strata)
        for col in all_strata:
            codes, uniques = coded[col]
            values = np.asarray([*uniques, None], dtype=object)[codes[rows[first_row[stratum_order]]]]
            column: Any = np.where(in_use[col][combo_sorted], values, None) if n_strata else []
            table[col] = column
        # a stable sort of small integers is a radix sort in numpy: several times faster than of int64
        small = row_rank.astype(np.uint16) if n_strata <= 2**16 else row_rank
        return cls(np.argsort(small, kind="stable"), row_rank, table)


@dataclass(frozen=True)
class Superseded:
    """The (analysis, publication) pairs that a `supersedes` of a row of the same analysis names."""

    names: pa.Array  # publication ids named somewhere
    keys: np.ndarray  # analysis * len(names) + index of the name

    @classmethod
    def build(cls, cols: Columns, rows: np.ndarray, combo_of: np.ndarray) -> Superseded:
        has = ~cols.eq("supersedes", "")[rows]
        if not has.any():
            return cls(pa.array([], pa.string()), np.zeros(0, dtype=np.int64))
        texts = cols.text("supersedes").take(pa.array(rows[has]))
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        # str(s).split(";") without the empty pieces, for every row at once
        parts = pc.split_pattern(texts, ";")
        flat = pc.list_flatten(parts)
        parent = pc.list_parent_indices(parts).to_numpy()
        keep = pc.not_equal(flat, "").to_numpy(zero_copy_only=False)
        enc = pc.dictionary_encode(flat.filter(pa.array(keep)))
        names = enc.dictionary
        keys = combo_of[has][parent[keep]] * len(names) + enc.indices.to_numpy().astype(np.int64)
        return cls(names, keys)

    def flags(self, cols: Columns, positions: np.ndarray, combo_of: np.ndarray) -> np.ndarray:
        """Whether the publication of each row at `positions` (rows of `cols`) is superseded in its analysis."""
        if not self.keys.size:
            return np.zeros(positions.size, dtype=bool)
        reports = cols.text("data_cut")  # the report the numbers come from (analysis.strata)
        sub = reports.take(pa.array(positions))
        idx = pc.fill_null(pc.index_in(sub, value_set=self.names.cast(sub.type)), -1).to_numpy()
        idx = np.asarray(idx, dtype=np.int64)
        return (idx >= 0) & np.isin(combo_of * len(self.names) + idx, self.keys)
