"""Published worked examples for the PM, SJ, ML, HE and EB estimators and for Knapp-Hartung.

Companion to test_analysis_example_viechtbauer2010.py (REML, DL, FE on dat.bcg). Every expected
number below is a figure from a publication, compared at half a unit in its last digit
(TOLERANCES["published"], atol 5e-5 for four decimals). Nothing here is computed by our code.

Where the figures come from. We could not open the papers themselves; every figure was read
from metafor's own test files (github.com/wviechtb/metafor, tests/testthat/
test_analysis_example_*.r, snapshot 71ae8f5, July 2026). Each of those files names the page or
table it checks, and it notes in comments where the paper prints something different from
metafor (e.g. "-0.6304 in article"). Where such a comment exists we use the paper's figure, not
metafor's. Only metafor's transcriptions were copied; no code.

Datasets are typed from the source tables, as transcribed in metafor's test files or in metadat's
raw data (github.com/wviechtb/metadat, data-raw/*.txt). Effect sizes are computed here with the
textbook formulas (log odds ratio, log risk ratio), independently of analysis.effects.

Coverage:

| method | source |
|---|---|
| PM, HE (Cochran ANOVA "CA"), SJ, EB | DerSimonian & Kacker 2007, Tables 3-4 (CLASP) |
| EB | Berkey et al. 1995, p. 408 (BCG, smoothed variances; also meta-regression) |
| ML | van Houwelingen et al. 2002, p. 597 (BCG log OR); Viechtbauer 2005, pp. 271-272 |
| HE | Viechtbauer 2005, pp. 271-272 (also DerSimonian & Kacker 2007) |
| Knapp-Hartung | Raudenbush 2009, Table 16.3 p. 309 (DL and HE rows) |

Two disagreements beyond rounding, both explained rather than hidden behind a looser tolerance:

* DerSimonian & Kacker's ML row (tau 0.0023, mu -0.1974). The ML maximum for CLASP is on the
  boundary: the ML score at tau2 = 0 is about -21, so the log-likelihood decreases from 0 and
  we return tau2 = 0 exactly. The printed tau corresponds to tau2 of about 5e-6. That fits an
  iteration that creeps towards 0 and stops under a 1e-5 change rule (metafor's default
  threshold), though we cannot confirm this. Pinned as a strict xfail, plus a test that the
  likelihood really is higher at 0.
* Berkey et al.'s EB meta-regression intercept, -0.6304 (metafor: -0.6303). The paper centres
  latitude at the exact mean 435/13 = 33.4615 (printed as 33.46). Centred that way we reproduce
  -0.6304; centred at 33.46 we get -0.63032.

Not used: (a) the EB and SJ columns (and the I^2/H^2 figures) of metafor's viechtbauer2005 test.
As far as we know the 2005 paper compares only HS, HE, DL, ML and REML, so we take these to be
metafor's own output. Its I^2 for ML/REML in example 2 differs from ours in the 3rd decimal,
which is what metafor's default convergence would produce. (b) The ML and REML Knapp-Hartung
rows of the raudenbush2009 test. Their 4th decimal (t = 1.3110 and 1.3593) comes from metafor's
default convergence (threshold 1e-5): a tau2 0.1 % higher gives exactly those t values, while
our tightly converged tau2 gives 1.3109 and 1.3592. The chapter prints three decimals (metafor
notes "0.083 in chapter"). The DL and HE rows are closed form, so we check those.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from metafor_reference import assert_close

from analysis.meta import meta_analysis
from analysis.regression import meta_regression


def _log_or(ai, bi, ci, di):
    a, b, c, d = (np.asarray(x, dtype=float) for x in (ai, bi, ci, di))
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


# --- CLASP: DerSimonian R, Kacker R (2007). Random-effects model for meta-analysis of clinical
# trials: an update. Contemp Clin Trials 28(2):105-114. Six trials of aspirin vs placebo for
# pre-eclampsia; counts as in metafor tests/testthat/test_analysis_example_dersimonian2007.r.
CLASP_N1 = (156, 303, 565, 1570, 103, 4659)
CLASP_N2 = (74, 303, 477, 1565, 105, 4650)
CLASP_A = (5, 5, 12, 69, 9, 313)  # events, aspirin
CLASP_C = (8, 17, 9, 94, 11, 352)  # events, control


def _clasp():
    a, c = np.array(CLASP_A), np.array(CLASP_C)
    return _log_or(a, np.array(CLASP_N1) - a, c, np.array(CLASP_N2) - c)


# Tables 3 and 4, pp. 111-112: (tau, mu, SE(mu)) to 4 decimals, as transcribed by metafor. "CA"
# (Cochran's ANOVA estimator) is Hedges' HE. PM and EB solve the same equation, and the
# transcription gives identical rows for them.
DK2007 = {
    "PM": (0.3681, -0.3811, 0.2060),
    "EB": (0.3681, -0.3811, 0.2060),
    "HE": (0.4410, -0.4035, 0.2327),
    "SJ": (0.4572, -0.4079, 0.2386),
    "DL": (0.2323, -0.3240, 0.1540),
    "REML": (0.1843, -0.2980, 0.1343),
}
DK2007_ML = (0.0023, -0.1974, 0.0694)


@pytest.mark.parametrize("method", list(DK2007))
def test_dersimonian_kacker_2007_clasp(method):
    """DerSimonian & Kacker (2007), Tables 3-4 (pp. 111-112), CLASP log odds ratios, via
    metafor test_analysis_example_dersimonian2007.r: tau, mu and SE(mu) for each estimator."""
    yi, vi = _clasp()
    r = meta_analysis(yi, vi, method=method)
    tau, mu, se = DK2007[method]
    assert_close(math.sqrt(r.tau2), tau, "published", f"{method} tau")
    assert_close(r.estimate, mu, "published", f"{method} mu")
    assert_close(r.se, se, "published", f"{method} se")


def _ml_loglik(yi, vi, tau2):
    """ML log-likelihood of the random-effects model, mu profiled out (constants dropped),
    typed here from the textbook formula."""
    w = 1 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return -0.5 * np.sum(np.log(vi + tau2)) - 0.5 * np.sum(w * (yi - mu) ** 2)


def test_dersimonian_kacker_2007_ml_is_on_the_boundary():
    """The ML row of DerSimonian & Kacker (2007) (tau 0.0023) is not an interior maximum: the
    likelihood is higher at tau2 = 0 than at the printed tau^2, and the score at 0 is
    negative. We return exactly 0. SE(mu) is insensitive to the difference and agrees with the
    printed 0.0694."""
    yi, vi = _clasp()
    r = meta_analysis(yi, vi, method="ML")
    assert r.tau2 == 0.0
    assert _ml_loglik(yi, vi, 0.0) > _ml_loglik(yi, vi, DK2007_ML[0] ** 2)
    w = 1 / vi
    mu0 = np.sum(w * yi) / np.sum(w)
    assert np.sum(w**2 * (yi - mu0) ** 2) - np.sum(w) < 0  # ML score at tau2 = 0
    assert_close(r.se, DK2007_ML[2], "published", "ML se")


@pytest.mark.xfail(
    strict=True,
    reason=(
        "DerSimonian & Kacker (2007) print ML tau = 0.0023, mu = -0.1974 for CLASP; the ML maximum "
        "is at tau2 = 0 (mu = -0.19735). The printed tau2 (~5e-6) looks like an iteration stopped "
        "early under a 1e-5 change rule. See the module docstring."
    ),
)
def test_dersimonian_kacker_2007_ml_printed_values():
    yi, vi = _clasp()
    r = meta_analysis(yi, vi, method="ML")
    assert_close(math.sqrt(r.tau2), DK2007_ML[0], "published", "ML tau")
    assert_close(r.estimate, DK2007_ML[1], "published", "ML mu")


# --- BCG vaccine trials (Colditz et al. 1994), as in metadat data-raw/dat.bcg.txt and
# van Houwelingen et al. (2002), Table I p. 594: tpos, tneg, cpos, cneg, absolute latitude.
BCG_TABLE = (
    (4, 119, 11, 128, 44),
    (6, 300, 29, 274, 55),
    (3, 228, 11, 209, 42),
    (62, 13536, 248, 12619, 52),
    (33, 5036, 47, 5761, 13),
    (180, 1361, 372, 1079, 44),
    (8, 2537, 10, 619, 19),
    (505, 87886, 499, 87892, 13),
    (29, 7470, 45, 7232, 27),
    (17, 1699, 65, 1600, 42),
    (186, 50448, 141, 27197, 18),
    (5, 2493, 3, 2338, 33),
    (27, 16886, 29, 17825, 33),
)


def _bcg_columns():
    return (np.array(col, dtype=float) for col in zip(*BCG_TABLE, strict=False))


def _berkey_data():
    """Log risk ratios with Berkey et al.'s 'smoothed' sampling variances (as in metafor's test):
    v_i = sum_j(tneg_j/tpos_j)/(k (tpos_i+tneg_i)) + sum_j(cneg_j/cpos_j)/(k (cpos_i+cneg_i))."""
    a, b, c, d, ablat = _bcg_columns()
    k = a.size
    yi = np.log(a / (a + b)) - np.log(c / (c + d))
    vi = np.sum(b / a) / (k * (a + b)) + np.sum(d / c) / (k * (c + d))
    return yi, vi, ablat


def test_berkey_1995_empirical_bayes():
    """EB: Berkey CS, Hoaglin DC, Mosteller F, Colditz GA (1995). A random-effects regression
    model for meta-analysis. Stat Med 14(4):395-411, p. 408: mu -0.5429, SE 0.1842,
    tau^2 0.2682 (via metafor test_analysis_example_berkey1995.r)."""
    yi, vi, _ = _berkey_data()
    r = meta_analysis(yi, vi, method="EB")
    assert_close(r.estimate, -0.5429, "published", "mu")
    assert_close(r.se, 0.1842, "published", "se")
    assert_close(r.tau2, 0.2682, "published", "tau2")


def test_berkey_1995_empirical_bayes_meta_regression():
    """EB meta-regression on absolute latitude, Berkey et al. (1995), p. 408: intercept -0.6304
    (the article's figure; metafor's test has -0.6303 and notes "-0.6304 in article"), slope
    -0.0268, SEs 0.1591 and 0.0110, residual tau^2 0.1572.

    The article centres latitude at its mean, printed as 33.46. The exact mean is 435/13 =
    33.4615, and only that centring gives -0.6304 (at 33.46 the intercept is -0.63032). The
    slope, SEs and tau^2 do not depend on the centring."""
    yi, vi, ablat = _berkey_data()
    r = meta_regression(yi, vi, {"ablat_c": ablat - ablat.mean()}, method="EB")
    assert_close(r.coef[0], -0.6304, "published", "intercept")
    assert_close(r.coef[1], -0.0268, "published", "slope")
    assert_close(r.se[0], 0.1591, "published", "se intercept")
    assert_close(r.se[1], 0.0110, "published", "se slope")
    assert_close(r.tau2, 0.1572, "published", "tau2")


def test_van_houwelingen_2002_maximum_likelihood():
    """ML: van Houwelingen HC, Arends LR, Stijnen T (2002). Advanced methods in meta-analysis:
    multivariate approach and meta-regression. Stat Med 21(4):589-624, p. 597 (in text), BCG log
    odds ratios: pooled OR 0.4762 (95% CI 0.3360 to 0.6749), tau^2 0.3025 (via metafor
    test_analysis_example_vanhouwelingen2002.r; the authors fitted it in SAS)."""
    a, b, c, d, _ = _bcg_columns()
    yi, vi = _log_or(a, b, c, d)
    r = meta_analysis(yi, vi, method="ML")
    assert_close(math.exp(r.estimate), 0.4762, "published", "OR")
    assert_close(math.exp(r.ci_low), 0.3360, "published", "OR ci_low")
    assert_close(math.exp(r.ci_high), 0.6749, "published", "OR ci_high")
    assert_close(r.tau2, 0.3025, "published", "tau2")


# --- Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
# random-effects model. J Educ Behav Stat 30(3):261-293. The two illustrative data sets (yi, vi
# as printed, 3 decimals), as typed in metafor test_analysis_example_viechtbauer2005.r.
V2005_EX1 = (
    (-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232),
    (0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040),
)
V2005_EX2 = (
    (
        0.100,
        -0.162,
        -0.090,
        -0.049,
        -0.046,
        -0.010,
        -0.431,
        -0.261,
        0.134,
        0.019,
        0.175,
        0.056,
        0.045,
        0.103,
        0.121,
        -0.482,
        0.290,
        0.342,
    ),
    (
        0.016,
        0.015,
        0.050,
        0.050,
        0.032,
        0.052,
        0.036,
        0.024,
        0.034,
        0.033,
        0.031,
        0.034,
        0.039,
        0.167,
        0.134,
        0.096,
        0.016,
        0.035,
    ),
)


@pytest.mark.parametrize(
    "data, method, printed",
    [
        (V2005_EX1, "HE", 0.1484),
        (V2005_EX1, "DL", 0.2768),
        (V2005_EX1, "ML", 0.1967),
        (V2005_EX1, "REML", 0.2232),
        (V2005_EX2, "HE", 0.0),
        (V2005_EX2, "DL", 0.0126),
        (V2005_EX2, "ML", 0.0132),
        (V2005_EX2, "REML", 0.0157),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_viechtbauer_2005_tau2(data, method, printed):
    """tau^2 for the HE, DL, ML and REML estimators, Viechtbauer (2005), p. 271 (example 1) and
    p. 272 (example 2), via metafor test_analysis_example_viechtbauer2005.r. In example 2 the HE
    estimate is truncated at 0."""
    r = meta_analysis(*data, method=method)
    assert_close(r.tau2, printed, "published", f"{method} tau2")


# --- Raudenbush SW (2009). Analyzing effect sizes: random-effects models. In Cooper, Hedges &
# Valentine (eds), The Handbook of Research Synthesis and Meta-Analysis, 2nd ed., ch. 16. Teacher
# expectancy data (Raudenbush 1984), Table 16.1 p. 300 = metadat dat.raudenbush1985 (yi, vi).
RAUDENBUSH_YI = (
    0.03,
    0.12,
    -0.14,
    1.18,
    0.26,
    -0.06,
    -0.02,
    -0.32,
    0.27,
    0.80,
    0.54,
    0.18,
    -0.02,
    0.23,
    -0.18,
    -0.06,
    0.30,
    0.07,
    -0.07,
)
RAUDENBUSH_VI = (
    0.0156,
    0.0216,
    0.0279,
    0.1391,
    0.1362,
    0.0106,
    0.0106,
    0.0484,
    0.0269,
    0.0630,
    0.0912,
    0.0497,
    0.0835,
    0.0841,
    0.0253,
    0.0279,
    0.0193,
    0.0088,
    0.0303,
)

# Table 16.3, p. 309, Knapp-Hartung rows: tau2, mu, se, t, ci_low, ci_high (4 decimals, as
# transcribed in metafor test_analysis_example_raudenbush2009.r).
RAUDENBUSH_KNHA = {
    "DL": (0.0259, 0.0893, 0.0636, 1.4050, -0.0442, 0.2229),
    "HE": (0.0804, 0.1143, 0.0711, 1.6078, -0.0351, 0.2637),
}


@pytest.mark.parametrize("method", list(RAUDENBUSH_KNHA))
def test_raudenbush_2009_knapp_hartung(method):
    """Knapp-Hartung: Raudenbush (2009), Table 16.3 (p. 309), the DL and HE rows. The variance
    of mu is scaled by y'Py/(k-1) and the CI uses t with k - 1 = 18 df. The ML and REML rows are
    not checked: see the module docstring."""
    r = meta_analysis(RAUDENBUSH_YI, RAUDENBUSH_VI, method=method, test="knha")
    assert r.df == 18
    names = ("tau2", "mu", "se", "t", "ci_low", "ci_high")
    ours = (r.tau2, r.estimate, r.se, r.stat, r.ci_low, r.ci_high)
    for name, got, printed in zip(names, ours, RAUDENBUSH_KNHA[method], strict=False):
        assert_close(got, printed, "published", f"{method} {name}")
