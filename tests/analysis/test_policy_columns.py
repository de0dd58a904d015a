"""The column helpers of the pooling policy (analysis.policy_columns): each must give what the plain
pandas / numpy operation it replaces gives, on both of its paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.policy_columns import choose, dense_codes, ordered_codes


@pytest.mark.parametrize("dtype", ["str", object])
def test_choose_is_series_where(dtype: object) -> None:
    yes = pd.Series(["a", None, "c", "d"], dtype=dtype)
    no = pd.Series(["w", "x", None, "z"], dtype=dtype)
    for condition in ([True, True, False, False], [True] * 4, [False] * 4):  # mixed, and one side only
        for other in (no, ""):
            got = choose(np.array(condition), yes, other)
            pd.testing.assert_series_equal(got, yes.where(np.array(condition), other), check_exact=True)


def test_choose_mixed_kinds_falls_back_to_where() -> None:
    yes = pd.Series(["a", "b"], dtype="str")
    no = pd.Series(["x", None], dtype=object)
    condition = np.array([False, True])
    pd.testing.assert_series_equal(choose(condition, yes, no), yes.where(condition, no))


@pytest.mark.parametrize("cardinality", [50, 10**9])  # a table of flags, and np.unique for a sparse range
def test_dense_codes_is_unique_inverse(cardinality: int) -> None:
    key = np.random.default_rng(1).integers(0, 50, 200) * (cardinality // 50)
    codes, distinct = dense_codes(key, cardinality)
    want_distinct, want_codes = np.unique(key, return_inverse=True)
    assert np.array_equal(distinct, want_distinct)
    assert np.array_equal(codes, want_codes)
    assert np.array_equal(distinct[codes], key)


def test_dense_codes_empty() -> None:
    codes, distinct = dense_codes(np.zeros(0, dtype=np.int64), 10)
    assert codes.size == 0 and distinct.size == 0


@pytest.mark.parametrize("scale", [1, 2**25])  # 2**25 per part: the product overflows int64, ranks instead
def test_ordered_codes_sort_as_the_tuples(scale: int) -> None:
    rng = np.random.default_rng(2)
    parts = [
        (rng.integers(0, 3, 300), 3 * scale),
        (rng.integers(0, 4, 300), 4 * scale),
        (rng.integers(0, 5, 300), 5 * scale),
    ]
    key = ordered_codes(parts)
    tuples = list(zip(*(codes.tolist() for codes, _ in parts), strict=True))
    # the same order and the same ties as the tuples themselves
    assert np.array_equal(np.argsort(key, kind="stable"), np.lexsort([c for c, _ in reversed(parts)]))
    for i, j in zip(rng.integers(0, 300, 500).tolist(), rng.integers(0, 300, 500).tolist(), strict=True):
        assert (key[i] < key[j]) == (tuples[i] < tuples[j]) and (key[i] == key[j]) == (tuples[i] == tuples[j])
