"""Vectorised REML equals one-at-a-time fits and metafor."""

from __future__ import annotations

import numpy as np
import pytest
from metafor_reference import FIXTURES, assert_close

from analysis.batch import reml_batch
from analysis.errors import InputError
from analysis.tau2 import tau2_reml
from analysis.wls import intercept_design


def test_batch_equals_single_fits(rng):
    vi = rng.uniform(0.02, 0.3, (5, 300))
    yi = rng.normal(-0.3, np.sqrt(vi + 0.05))
    res = reml_batch(yi, vi)
    single = [tau2_reml(yi[:, j], vi[:, j], intercept_design(5)).tau2 for j in range(300)]
    np.testing.assert_allclose(res.tau2, single, rtol=1e-10, atol=1e-13)
    assert (res.tau2 == 0).any() and (res.tau2 > 0).any()  # both regimes exercised


@pytest.mark.parametrize("name", ["bcg", "hr_mdt_k6", "extreme_het", "homogeneous", "k2"])
def test_batch_matches_metafor(name):
    d = FIXTURES["datasets"][name]
    ref = next(c for c in FIXTURES["fits"] if (c["dataset"], c["method"], c["test"]) == (name, "REML", "z"))
    y = np.asarray(d["yi"])[:, None].repeat(3, axis=1)
    v = np.asarray(d["vi"])[:, None].repeat(3, axis=1)
    res = reml_batch(y, v)
    for j in range(3):
        for key in ("tau2", "estimate", "se", "ci_low", "ci_high"):
            assert_close(float(getattr(res, key)[j]), ref[key], "iterative", key)


def test_batch_refuses_bad_shapes():
    with pytest.raises(InputError):
        reml_batch(np.zeros((1, 3)), np.ones((1, 3)))
    with pytest.raises(InputError):
        reml_batch(np.zeros((3, 3)), -np.ones((3, 3)))
