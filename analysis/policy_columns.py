"""Column access for the pooling policy (analysis.policy_batch): the evidence table's text columns
dictionary-encoded once, so every rule is a lookup on integer codes instead of a pass over strings.

The evidence table holds every value as text (kb/contract.py); `parse_number` is how the policy reads a
number out of it, and every numeric column read here goes through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def parse_number(text: object) -> float | None:
    """A finite number written in the table ('0.57', '0,57'), else None."""
    try:
        value = float(str(text).replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Columns:
    """Columns of the table (or of the rows at `positions`) dictionary-encoded once: per row the code of
    its value, and the unique values. Equality tests run on Arrow directly when a column has no codes
    yet, which is cheaper than encoding a column read only once."""

    def __init__(self, table: pd.DataFrame, positions: np.ndarray | None = None):
        self.table = table
        self.positions = positions
        self._codes: dict[str, tuple[np.ndarray, list[Any]]] = {}
        self._arrow: dict[str, pa.ChunkedArray | None] = {}

    def subset(self, positions: np.ndarray) -> Columns:
        """The rows at `positions` (of these rows), encoded afresh: fewer unique values to map."""
        return Columns(self.table, positions if self.positions is None else self.positions[positions])

    def arrow(self, name: str) -> pa.ChunkedArray | None:
        """The column as Arrow text, None when it is not text."""
        if name not in self._arrow:
            values = self.table[name].array
            arr = getattr(values, "_pa_array", None)  # pandas' Arrow-backed str columns, zero copy
            if arr is None:
                try:
                    arr = pa.chunked_array([pa.array(values.to_numpy(object), from_pandas=False)])
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    arr = None
            if arr is not None and not _is_text(arr.type):
                arr = None
            if arr is not None and self.positions is not None:
                arr = arr.take(pa.array(self.positions))
            self._arrow[name] = arr
        return self._arrow[name]

    def codes(self, name: str) -> tuple[np.ndarray, list[Any]]:
        """(code per row, unique values); a null is a value of its own."""
        if name not in self._codes:
            arr = self.arrow(name)
            if arr is not None:
                enc = pc.dictionary_encode(arr, null_encoding="encode")
                chunks = [c for c in enc.chunks if len(c)]
                # Arrow encodes a chunked array with one growing memo table: every chunk's dictionary
                # is a prefix of the last one, so the indices are codes into the last dictionary.
                if any(not chunks[-1].dictionary.slice(0, len(c.dictionary)).equals(c.dictionary) for c in chunks):
                    enc = pa.chunked_array([enc.combine_chunks()])  # pragma: no cover - unify explicitly
                    chunks = list(enc.chunks)
                codes = (
                    np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
                    if chunks
                    else np.zeros(0, dtype=np.int64)
                )
                uniques = chunks[-1].dictionary.to_pylist() if chunks else []
            else:
                series = self.table[name]
                if self.positions is not None:
                    series = series.iloc[self.positions]
                codes, found = pd.factorize(series, use_na_sentinel=False)
                uniques = list(found)
            self._codes[name] = (codes.astype(np.int64, copy=False), uniques)
        return self._codes[name]

    def set_codes(self, name: str, codes: np.ndarray, uniques: list[Any]) -> None:
        """The codes of a column its writer already knows (numbered as `codes` numbers them: by first row)."""
        self._codes[name] = (codes.astype(np.int64, copy=False), uniques)

    def mapped(
        self, name: str, fn: Callable[[Any], Any], dtype: Any = float, at: np.ndarray | None = None
    ) -> np.ndarray:
        """fn applied once per unique value, gathered per row (or for the rows at positions `at`)."""
        codes, uniques = self.codes(name)
        codes = codes if at is None else codes[at]
        return np.asarray([fn(u) for u in uniques], dtype=dtype)[codes] if uniques else np.zeros(0, dtype)

    def eq(self, name: str, value: str) -> np.ndarray:
        arr = self.arrow(name) if name not in self._codes else None
        if arr is not None:
            return pc.fill_null(pc.equal(arr, pa.scalar(value, arr.type)), False).to_numpy()
        return self.mapped(name, lambda u: u == value, bool)

    def isin(self, name: str, values: Iterable[str]) -> np.ndarray:
        wanted = list(values)
        arr = self.arrow(name) if name not in self._codes else None
        if arr is not None:
            return pc.is_in(arr, value_set=pa.array(wanted, arr.type)).to_numpy()
        wanted_set = set(wanted)
        return self.mapped(name, lambda u: u in wanted_set, bool)

    def number(self, name: str, at: np.ndarray | None = None) -> np.ndarray:
        """parse_number per row (or at positions `at`), NaN where it gives None."""
        return self.mapped(name, lambda u: np.nan if (x := parse_number(u)) is None else x, float, at)

    def strings(self, name: str) -> np.ndarray:
        """The values as an object array."""
        codes, uniques = self.codes(name)
        return np.asarray([*uniques, None], dtype=object)[codes]

    def text(self, name: str) -> pa.Array | pa.ChunkedArray:
        """The column as Arrow text, converting a column that is not text value by value."""
        arr = self.arrow(name)
        return pa.array([str(x) for x in self.strings(name)], pa.string()) if arr is None else arr

    def dense_rank(self, name: str) -> np.ndarray:
        """Dense rank of a text column's values (code point order, as pandas sorts strings)."""
        arr = self.arrow(name)
        if arr is not None:
            return pc.rank(arr, sort_keys="ascending", tiebreaker="dense").to_numpy()
        return np.unique(self.strings(name).astype(str), return_inverse=True)[1]

    def prefetch(self, names: Iterable[str]) -> None:
        """Encode several columns on two threads (Arrow releases the GIL)."""
        todo = [n for n in dict.fromkeys(names) if n not in self._codes]
        if len(todo) < 2:
            for n in todo:
                self.codes(n)
            return
        for n in todo:  # the columns are read on this thread; the threads only encode them
            self.arrow(n)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(self.codes, todo))


def choose(condition: np.ndarray, yes: pd.Series, no: pd.Series | str) -> pd.Series:
    """`yes.where(condition, no)`; on Arrow directly when both are Arrow text (pandas' `where` on Arrow
    text is much slower on a large table: docs/performance.md)."""
    arr = getattr(yes.array, "_pa_array", None)
    other = pa.scalar(no, pa.string()) if isinstance(no, str) else getattr(no.array, "_pa_array", None)
    same_kind = isinstance(no, str) or no.dtype == yes.dtype
    if arr is None or other is None or not same_kind or not _is_text(arr.type):
        return yes.where(condition, no)
    if condition.all():  # one side only: no copy
        return yes.copy(deep=False)
    if isinstance(no, pd.Series) and not condition.any():
        out = no.copy(deep=False)
        out.name = yes.name
        return out
    return pd.Series(
        pc.if_else(pa.array(condition, pa.bool_()), arr, other.cast(arr.type)), dtype=yes.dtype, index=yes.index
    )


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def combine_codes(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 code per row for a tuple of codes (each given with its cardinality), factorising
    when the product of the cardinalities would overflow."""
    key = np.zeros(parts[0][0].size if parts else 0, dtype=np.int64)
    cardinality = 1
    for codes, n in parts:
        n = max(int(n), 1)
        if cardinality * n >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            cardinality = int(key.max()) + 1 if key.size else 1
        key = key * n + codes
        cardinality *= n
    return key


def dense_codes(key: np.ndarray, cardinality: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(key, return_inverse=True) as (code per row, distinct keys) for keys in [0, cardinality):
    by a table of flags, without sorting, when the table is not much larger than the keys."""
    if cardinality > 4 * key.size + 1024:
        distinct, inverse = np.unique(key, return_inverse=True)
        return inverse.reshape(-1).astype(np.int64, copy=False), distinct
    present = np.zeros(cardinality, dtype=bool)
    present[key] = True
    return (np.cumsum(present) - 1)[key], np.flatnonzero(present)


def ordered_codes(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 per row that orders the rows as the tuple of codes does (each given with its cardinality,
    the first the most significant); combine_codes' arithmetic while it fits in int64, else dense ranks."""
    if math.prod(max(int(n), 1) for _, n in parts) < 2**62:
        return combine_codes(parts)
    order = np.lexsort([codes for codes, _ in reversed(parts)])
    step = np.zeros(order.size, dtype=np.int64)
    for codes, _ in parts:
        step[1:] |= codes[order][1:] != codes[order][:-1]
    out = np.empty(order.size, dtype=np.int64)
    out[order] = np.cumsum(step)
    return out
