"""Effect-size derivations against hand calculations (constants typed from tables/guides)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from analysis import effects
from analysis.errors import InputError, MidpointWarning, OptionError

# Standard normal quantiles as printed in the domain guide (section 5.2) and statistical tables.
Z80, Z90, Z95 = 1.2816, 1.6449, 1.9600
Z95_EXACT = 1.959963984540054  # qnorm(0.975) in R


def test_se_from_80pct_ci_domain_guide_example():
    """Domain guide 5.2: HR 0.70, 80 % CI 0.50-0.98 -> SE 0.2626; as 95 % it would be 0.1717."""
    d = effects.log_hr_from_ci(0.70, 0.50, 0.98, ci_level=0.80)
    assert d.se == pytest.approx(0.2626, abs=5e-5)
    assert d.se == pytest.approx((math.log(0.98) - math.log(0.50)) / (2 * Z80), rel=1e-4)
    assert d.log_hr == pytest.approx(math.log(0.70), rel=1e-15)
    assert d.route == "from_ci" and d.ci_level == 0.80 and not d.flipped
    assert effects.log_hr_from_ci(0.70, 0.50, 0.98, ci_level=0.95).se == pytest.approx(0.1717, abs=5e-5)


def test_ci_level_ratio_90_vs_95():
    """A 90 % CI read as 95 % looks 1.19 times more precise (domain guide 5.2)."""
    se90 = effects.log_hr_from_ci(0.6, 0.4, 0.9, ci_level=0.90).se
    se95 = effects.log_hr_from_ci(0.6, 0.4, 0.9, ci_level=0.95).se
    assert se90 / se95 == pytest.approx(Z95 / Z90, rel=1e-4)
    assert se90 / se95 == pytest.approx(1.19, abs=5e-3)


def test_z_for_level_matches_tables():
    assert effects.z_for_level(0.80) == pytest.approx(Z80, abs=5e-5)
    assert effects.z_for_level(0.90) == pytest.approx(Z90, abs=5e-5)
    assert effects.z_for_level(0.95) == pytest.approx(Z95_EXACT, rel=1e-15)
    with pytest.raises(OptionError, match=r"ci_level=95 is not a number in \(0, 1\)"):
        effects.z_for_level(95)


def test_se_from_p_parmar():
    """HR 0.5, exact p = 0.05: z = 1.959964, SE = ln 2 / z = 0.353653 (Parmar 1998)."""
    d = effects.log_hr_from_p(0.5, 0.05)
    assert d.se == pytest.approx(math.log(2) / Z95_EXACT, rel=1e-14)
    assert d.log_hr == pytest.approx(-math.log(2), rel=1e-15)
    assert d.route == "from_p"
    assert effects.log_hr_from_p(2.0, "0.05").se == pytest.approx(d.se, rel=1e-15)


@pytest.mark.parametrize("p", ["< 0.001", "<0.05", "NS", "NR", "≤0.01", ">0.2"])
def test_p_inequalities_refused(p):
    with pytest.raises(InputError, match="inequality or not reported"):
        effects.log_hr_from_p(0.7, p)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, "abc"])
def test_p_out_of_range_refused(p):
    with pytest.raises(InputError):
        effects.log_hr_from_p(0.7, p)


def test_direction_flip():
    """HR 2.0 (1.25-3.20) reported the other way round: HR' 0.5, CI' (0.3125, 0.8)."""
    assert effects.normalise_direction(2.0, 1.25, 3.2) == pytest.approx((0.5, 0.3125, 0.8))
    d = effects.log_hr_from_ci(2.0, 1.25, 3.2, ci_level=0.95, flip=True)
    assert d.flipped and d.log_hr == pytest.approx(-math.log(2.0), rel=1e-15)
    assert d.se == pytest.approx((math.log(3.2) - math.log(1.25)) / (2 * Z95_EXACT), rel=1e-14)
    assert effects.log_hr_from_p(2.0, 0.01, flip=True).log_hr == pytest.approx(-math.log(2.0))


def test_midpoint_warning_is_runtime_warning():
    assert issubclass(MidpointWarning, RuntimeWarning)
    with pytest.warns(MidpointWarning, match="geometric midpoint"):
        effects.log_hr_from_ci(0.50, 0.45, 0.98)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        effects.log_hr_from_ci(0.70, 0.50, 0.98, ci_level=0.80)  # exactly at the midpoint


@pytest.mark.parametrize(
    "args,match",
    [
        ((0.7, 0.9, 0.5), "not below"),
        ((1.2, 0.5, 0.9), "outside"),
        ((-1, 0.5, 0.9), "positive"),
        (("x", 0.5, 0.9), "not a number"),
    ],
)
def test_bad_ci_refused(args, match):
    with pytest.raises(InputError, match=match):
        effects.log_hr_from_ci(*args)


def test_plo_continuity_correction_only_at_0_and_n():
    """escalc PLO: 0/25 -> ln(0.5/25.5), 1/0.5 + 1/25.5; 30/30 -> ln(30.5/0.5); 12/40 untouched."""
    yi, vi, corrected = effects.plo([0, 30, 12], [25, 30, 40])
    assert list(corrected) == [True, True, False]
    np.testing.assert_allclose(yi, [math.log(0.5 / 25.5), math.log(30.5 / 0.5), math.log(12 / 28)], rtol=1e-14)
    np.testing.assert_allclose(vi, [2 + 1 / 25.5, 1 / 30.5 + 2, 1 / 12 + 1 / 28], rtol=1e-14)
    assert yi[0] == pytest.approx(-3.93, abs=5e-3) and vi[0] == pytest.approx(2.04, abs=5e-3)


def test_pft_values():
    """Freeman-Tukey: 0/25 -> asin(sqrt(1/26))/2, v = 1/102; 5/20 by hand."""
    yi, vi = effects.pft([0, 5], [25, 20])
    np.testing.assert_allclose(
        yi,
        [0.5 * math.asin(math.sqrt(1 / 26)), 0.5 * (math.asin(math.sqrt(5 / 21)) + math.asin(math.sqrt(6 / 21)))],
        rtol=1e-14,
    )
    np.testing.assert_allclose(vi, [1 / 102, 1 / 82], rtol=1e-15)


def test_ipft_clamps_and_inverts():
    n = 30.0
    # 0 and n events map to exactly 0 and 1 (clamped), a value below the 0-event transform too.
    y0 = 0.5 * math.asin(math.sqrt(1 / (n + 1)))
    y_n = 0.5 * (math.asin(math.sqrt(n / (n + 1))) + math.pi / 2)
    assert effects.ipft(y0 - 1e-3, n) == 0.0
    assert effects.ipft(y_n + 1e-3, n) == 1.0
    # Miller's inverse: sin(2y) closed form, checked on a value computed by hand for p = 0.3.
    y = 0.5 * (math.asin(math.sqrt(9 / 31)) + math.asin(math.sqrt(10 / 31)))
    assert float(effects.ipft(y, n)) == pytest.approx(0.3, abs=2e-3)
    assert effects.harmonic_mean([20, 30, 60]) == pytest.approx(30.0, rel=1e-15)


def test_ilogit():
    assert float(effects.ilogit(0.0)) == 0.5
    assert float(effects.ilogit(math.log(3))) == pytest.approx(0.75, rel=1e-15)


@pytest.mark.parametrize(
    "xi,ni,column", [([3, 12], [10, 10], "xi"), ([-1], [10], "xi"), ([1], [0], "ni"), ([float("nan")], [5], "xi")]
)
def test_counts_refused(xi, ni, column):
    with pytest.raises(InputError) as exc:
        effects.plo(xi, ni)
    assert exc.value.column == column


def test_events_from_rate_is_rate_times_n():
    np.testing.assert_allclose(effects.events_from_rate([40, 12.5], [66, 80]), [26.4, 10.0])
    with pytest.raises(InputError, match="between 0 and 100"):
        effects.events_from_rate([140], [10])
