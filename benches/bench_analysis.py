"""Benchmarks of the analysis engine (pytest-benchmark; not part of the unit tests).

Run:
    uv run pytest benches/bench_analysis.py -o addopts="" -o python_files="bench_*.py" --benchmark-only

Targets (2-core VM, one thread): one REML fit with k = 10,000 in <= 20 ms (metafor: ~36 min,
O(k^3)); 1,000 subgroup REML fits of k = 5 vectorised over a (5, 1000) array in <= 30 ms
(metafor loop: 5.5 s). The vectorised results must equal one-at-a-time fits (tau2 rtol 1e-6).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analysis.batch import reml_batch
from analysis.meta import meta_analysis
from analysis.tau2 import tau2_reml
from analysis.wls import intercept_design

SEED = 20240601


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(SEED)
    k = 10_000
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(-0.3, np.sqrt(vi + 0.1))
    return yi, vi


@pytest.fixture(scope="module")
def sweep():
    rng = np.random.default_rng(SEED + 1)
    vi = rng.uniform(0.02, 0.3, (5, 1000))
    yi = rng.normal(-0.3, np.sqrt(vi + 0.05))
    return yi, vi


def test_reml_k10000(benchmark, big):
    """Full fit: tau2, estimate, CI, PI, Q-profile tau2 CI, I2/H2, weights."""
    yi, vi = big
    res = benchmark(meta_analysis, yi, vi, method="REML")
    assert res.k == 10_000 and res.tau2 > 0
    benchmark.extra_info["target_ms"] = 20


def test_reml_batch_1000_subgroups(benchmark, sweep):
    yi, vi = sweep
    res = benchmark(reml_batch, yi, vi)
    benchmark.extra_info["target_ms"] = 30
    one_at_a_time = np.array([tau2_reml(yi[:, j], vi[:, j], intercept_design(5)).tau2 for j in range(yi.shape[1])])
    np.testing.assert_allclose(res.tau2, one_at_a_time, rtol=1e-6, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(0, 1000, 97):
            single = meta_analysis(yi[:, j], vi[:, j], method="REML")
            assert res.estimate[j] == pytest.approx(single.estimate, rel=1e-9)
            assert res.se[j] == pytest.approx(single.se, rel=1e-9)
