"""The metafor fixtures and the one table of tolerances used to compare against them.

Fixtures: tests/reference/metafor_fixtures.json, written by tests/reference/make_fixtures.R
(R 4.2.2, metafor 3.8-1, control threshold/tol 1e-12). Never hand-edit; regenerate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

FIXTURE_PATH = Path(__file__).resolve().parents[1] / "reference" / "metafor_fixtures.json"
FIXTURES = json.loads(FIXTURE_PATH.read_text())

#: The datasets the grid must contain (a dataset cannot be dropped from the fixtures quietly).
REQUIRED_DATASETS = (
    "hr_mdt_k6",
    "hr_prog_k8",
    "hr_pfs_k5",
    "bcg",
    "k1",
    "k2",
    "homogeneous",
    "extreme_het",
    "prop_edge_plo",
    "prop_edge_pft",
    "prop_allzero_plo",
    "prop_allzero_pft",
    "prop_rates_plo",
    "prop_rates_pft",
)
METHODS = ("FE", "DL", "REML", "PM", "ML", "HE", "SJ", "EB")
TESTS = ("z", "knha", "adhoc")
ITERATIVE_METHODS = {"REML", "ML", "EB", "PM"}

# kind -> (rtol, atol, reason). Comparison: |ours - metafor| <= atol + rtol * |metafor|.
TOLERANCES = {
    "closed_form": (
        1e-10,
        1e-12,
        "FE, DL, HE, SJ: same closed-form algebra; observed <= 1e-12 (rounding in "
        "matrix vs scalar sums and in p-value tails)",
    ),
    "iterative": (
        1e-8,
        1e-10,
        "REML, ML, EB (Fisher scoring) and PM (root finding): both sides stop at a "
        "change/tolerance of 1e-12 in tau2, which propagates to ~1e-11 in everything "
        "else; atol covers tau2 that metafor leaves at ~1e-12 instead of exactly 0",
    ),
    "root": (1e-8, 1e-10, "Q-profile tau2 CI: uniroot (tol 1e-12) vs brentq (xtol 1e-14) on the same equation"),
    "ill_conditioned": (
        1e-8,
        1e-10,
        "meta-regression on calendar year (2016-2022) without centring: "
        "cond(X'WX) ~ 1e9 amplifies rounding in the intercept to ~2e-10",
    ),
    "published": (0.0, 5e-5, "a published figure printed to 4 decimals: half a unit in the last digit"),
    "published_2dp": (0.0, 5e-3, "a published percentage printed to 2 decimals: half a unit in the last digit"),
}


def assert_tau2_ci_high(ours, ref, tau2, yi, vi, level=0.95, what="tau2_ci_high") -> None:
    """metafor's confint() searches tau2 only up to max(100, 10 tau2) and reports that cap when
    the root lies beyond it; we search further. At the cap, check the bound is beyond it and
    solves the Q-profile equation sum w_i (y_i - mu_w)^2 = chi2_{k-1; (1-level)/2} directly."""
    from scipy import stats

    cap = max(100.0, 10.0 * tau2)
    if ref is None or abs(ref - cap) > 1e-9 * cap:
        assert_close(ours, ref, "root", what)
        return
    assert ours > cap, f"{what}: {ours} should lie beyond metafor's cap {cap}"
    y, v = np.asarray(yi), np.asarray(vi)
    w = 1.0 / (v + ours)
    q = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
    target = float(stats.chi2.ppf((1 - level) / 2, y.size - 1))
    np.testing.assert_allclose(q, target, rtol=1e-10, err_msg=what)


def kind_for(method: str) -> str:
    return "iterative" if method in ITERATIVE_METHODS else "closed_form"


def assert_close(ours, ref, kind: str, what: str = "") -> None:
    """Compare scalars or sequences; None (null) must match None exactly."""
    rtol, atol, _ = TOLERANCES[kind]
    if ref is None or ours is None:
        assert ours is None and ref is None, f"{what}: ours={ours!r} metafor={ref!r}"
        return
    if isinstance(ref, (list, tuple)):
        assert len(ours) == len(ref), f"{what}: length {len(ours)} vs {len(ref)}"
        for i, (a, b) in enumerate(zip(ours, ref, strict=False)):
            assert_close(a, b, kind, f"{what}[{i}]")
        return
    assert isinstance(ours, (int, float)) and math.isfinite(ours), f"{what}: ours={ours!r}"
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, err_msg=what)


def fit_cases():
    return FIXTURES["fits"]


def fit_id(case) -> str:
    return f"{case['dataset']}-{case['method']}-{case['test']}"
