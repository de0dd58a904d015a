"""One registry of tau2 estimators serves one model and many segments alike."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import options, tau2
from analysis.batch import reml_batch
from analysis.errors import ConvergenceError
from analysis.model import heterogeneity
from analysis.wls import OneModel, Segments, intercept_design


def test_methods_come_from_the_registry_in_the_cli_order():
    from cli.options import Method

    assert tau2.METHODS == tuple(tau2.TAU2_ESTIMATORS)
    assert tau2.METHODS == options.METHODS
    assert tau2.METHODS == tuple(m.value for m in Method)


@pytest.mark.parametrize("method", tau2.METHODS)
def test_each_segment_gets_what_it_gets_alone(rng, method):
    sizes = np.array([1, 2, 3, 5, 8, 13, 4])
    vi = rng.uniform(0.02, 0.4, sizes.sum())
    yi = rng.normal(-0.2, np.sqrt(vi + 0.1))
    segments = Segments(yi, vi, sizes)
    many = tau2.estimate_many(segments, method)
    het = heterogeneity(segments, method, many.tau2)
    for j, (y, v, X) in enumerate(segments.models()):
        one = tau2.estimate_tau2(y, v, X, method)
        assert many.tau2[j] == pytest.approx(one.tau2, rel=1e-10, abs=1e-13)
        assert many.iterations[j] == one.iterations
        single = heterogeneity(OneModel(y, v, X), method, np.array([one.tau2]))
        for name in ("q", "q_p", "i2", "h2"):
            assert getattr(het, name)[j] == pytest.approx(
                getattr(single, name)[0], rel=1e-10, abs=1e-12, nan_ok=True
            ), name


def test_one_segment_is_one_model(rng):
    vi = rng.uniform(0.02, 0.4, 9)
    yi = rng.normal(0.1, np.sqrt(vi + 0.05))
    for method in tau2.METHODS:
        seg = tau2.estimate_many(Segments(yi, vi, np.array([9])), method).tau2[0]
        one = tau2.estimate_many(OneModel(yi, vi, intercept_design(9)), method).tau2[0]
        assert seg == pytest.approx(one, rel=1e-10, abs=1e-13), method


def test_reml_batch_raises_when_a_column_does_not_converge(rng):
    vi = rng.uniform(0.02, 0.3, (6, 20))
    yi = rng.normal(0.0, np.sqrt(vi + 0.3))
    with pytest.raises(ConvergenceError, match="of 20 columns"):
        reml_batch(yi, vi, maxiter=1)
