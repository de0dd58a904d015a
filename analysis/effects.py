"""Effect sizes: from published statistics to poolable (yi, vi), and back.

Hazard ratios are pooled as log HR (`log_hr`) with standard error `se`; single-group proportions
(and landmark rates) on the logit (PLO) or Freeman-Tukey double-arcsine (PFT) scale, with
metafor's `escalc` defaults and back-transformations.

Every derivation returns a frozen `LogHR` that records its route (`from_ci`, `from_p`) and
whether the direction was flipped, so provenance can be stored next to the number.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass

import numpy as np

from analysis.distributions import logistic_cdf, norm_isf
from analysis.errors import InputError, MidpointWarning
from analysis.options import check_options

#: Flag a ratio estimate whose log differs from the log-midpoint of its CI by more than this
#: fraction of the CI's log half-width. A CI built as exp(log HR +- z se) has the HR exactly at
#: its log-midpoint; 0.10 tolerates rounding of printed values (two decimals on HRs near 0.5
#: shift the log bounds by up to ~0.01 against half-widths of ~0.3) without hiding real mismatches
#: such as a multivariable HR printed next to a univariable CI (domain guide 5.3).
MIDPOINT_TOLERANCE = 0.10

#: escalc's default continuity correction for PLO: add 1/2 to both cells ("only0": only in
#: studies with xi = 0 or xi = ni). PFT uses no correction (escalc sets add = 0 for PFT).
PLO_ADD = 0.5

_INEQUALITY = re.compile(r"^\s*[<>≤≥]|^\s*(ns|n\.s\.|nr)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class LogHR:
    """A log hazard ratio ready to pool, with how it was obtained."""

    log_hr: float
    se: float
    route: str  # "from_ci" or "from_p"
    flipped: bool = False  # True if HR' = 1/HR was applied (direction normalised)
    ci_level: float | None = None

    @property
    def vi(self) -> float:
        return self.se**2

    @property
    def hr(self) -> float:
        return math.exp(self.log_hr)


def _positive(name: str, value: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a number", column=name) from None
    if not math.isfinite(x) or x <= 0:
        raise InputError(f"a ratio must be a positive finite number, got {value!r}", column=name)
    return x


def z_for_level(ci_level: float) -> float:
    """Two-sided normal quantile of a CI level: Phi^-1((1 + L)/2); 0.95 -> 1.959964."""
    check_options(ci_level=ci_level)
    return float(norm_isf((1.0 - ci_level) / 2.0))


def normalise_direction(hr: float, lower: float, upper: float) -> tuple[float, float, float]:
    """Invert the comparison: HR' = 1/HR, CI' = (1/upper, 1/lower) (domain guide 5.1)."""
    hr, lower, upper = (_positive(n, v) for n, v in (("hr", hr), ("lower", lower), ("upper", upper)))
    return 1.0 / hr, 1.0 / upper, 1.0 / lower


def check_midpoint(hr: float, lower: float, upper: float, tolerance: float = MIDPOINT_TOLERANCE) -> float:
    """Relative distance of ln HR from the log-midpoint of its CI, in CI log half-widths.

    Warns with `MidpointWarning` when above `tolerance`. Returns the distance.
    """
    lo, hi = math.log(lower), math.log(upper)
    half = (hi - lo) / 2.0
    distance = abs(math.log(hr) - (lo + hi) / 2.0) / half
    if distance > tolerance:
        warnings.warn(
            f"HR {hr:g} is {distance:.2f} CI half-widths from the geometric midpoint "
            f"{math.exp((lo + hi) / 2):.4g} of its CI ({lower:g}, {upper:g}); check the CI level, "
            "whether HR and CI come from the same model, and the printed bounds",
            MidpointWarning,
            stacklevel=3,
        )
    return distance


def log_hr_from_ci(hr: float, lower: float, upper: float, ci_level: float = 0.95, *, flip: bool = False) -> LogHR:
    """ln HR and its SE from a CI at its own level: SE = (ln upper - ln lower) / (2 z_L).

    `ci_level` is a fraction (0.80 for an 80 % CI): z = Phi^-1((1 + L)/2). With `flip=True` the
    comparison is inverted first (HR' = 1/HR, CI' = (1/upper, 1/lower)) and `flipped` is recorded.
    Example (domain guide 5.2): HR 0.70, 80 % CI 0.50-0.98 -> SE 0.2626.
    """
    hr, lower, upper = (_positive(n, v) for n, v in (("hr", hr), ("lower", lower), ("upper", upper)))
    if not lower < upper:
        raise InputError(f"CI lower bound {lower:g} is not below upper bound {upper:g}", column="lower")
    if not lower <= hr <= upper:
        raise InputError(f"HR {hr:g} lies outside its CI ({lower:g}, {upper:g})", column="hr")
    z = z_for_level(ci_level)
    if flip:
        hr, lower, upper = normalise_direction(hr, lower, upper)
    check_midpoint(hr, lower, upper)
    se = (math.log(upper) - math.log(lower)) / (2.0 * z)
    return LogHR(math.log(hr), se, "from_ci", flipped=flip, ci_level=ci_level)


def log_hr_from_p(hr: float, p_value: float | str, *, flip: bool = False) -> LogHR:
    """ln HR and SE from an exact two-sided p (Parmar 1998; Tierney 2007).

    z = Phi^-1(1 - p/2) and SE = |ln HR| / z. Inequalities ("< 0.001"), "NS" and "NR" are refused
    (`InputError`): they give no usable z. HR = 1 or p = 1 give z = 0 or ln HR = 0 and no SE.
    """
    hr = _positive("hr", hr)
    if isinstance(p_value, str):
        if _INEQUALITY.search(p_value):
            raise InputError(
                f"p = {p_value!r} is an inequality or not reported; an SE needs an "
                "exact p-value (use the CI if there is one)",
                column="p_value",
            )
        try:
            p_value = float(p_value.strip())
        except ValueError:
            raise InputError(f"p = {p_value!r} is not a number", column="p_value") from None
    p = float(p_value)
    if not 0.0 < p < 1.0:
        raise InputError(f"p = {p!r} must be strictly between 0 and 1", column="p_value")
    if hr == 1.0:
        raise InputError("HR = 1 gives ln HR = 0: the SE cannot be recovered from p", column="hr")
    if flip:
        hr = 1.0 / hr
    z = float(norm_isf(p / 2.0))
    return LogHR(math.log(hr), abs(math.log(hr)) / z, "from_p", flipped=flip)


# ---------------------------------------------------------------------------------------------
# Proportions (escalc measure="PLO" and "PFT")
# ---------------------------------------------------------------------------------------------


def check_counts(xi, ni) -> tuple[np.ndarray, np.ndarray]:
    """Events xi and sample sizes ni as floats; refuse negatives, xi > ni, ni = 0, non-finite."""
    x = np.asarray(xi, dtype=float).ravel()
    n = np.asarray(ni, dtype=float).ravel()
    if x.size == 0:
        raise InputError("no studies (k = 0); need at least one row", column="xi")
    if x.shape != n.shape:
        raise InputError(f"xi has {x.size} values but ni has {n.size}", column="ni")
    for arr, name in ((x, "xi"), (n, "ni")):
        bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
        if bad.size:
            raise InputError(f"{arr[bad[0]]!r} is not a non-negative number", row=int(bad[0]), column=name)
    bad = np.flatnonzero(n <= 0)
    if bad.size:
        raise InputError("sample size must be > 0", row=int(bad[0]), column="ni")
    bad = np.flatnonzero(x > n)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"xi = {x[i]:g} events exceed ni = {n[i]:g}", row=i, column="xi")
    return x, n


def plo(xi, ni) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit proportions as escalc(measure="PLO"): yi = ln(x/(n - x)), vi = 1/x + 1/(n - x).

    Only studies with x = 0 or x = n get 1/2 added to both cells (escalc add=1/2, to="only0").
    Returns (yi, vi, corrected).
    """
    x, n = check_counts(xi, ni)
    corrected = (x == 0) | (x == n)
    x_adj = np.where(corrected, x + PLO_ADD, x)
    m_adj = np.where(corrected, n - x + PLO_ADD, n - x)
    return np.log(x_adj / m_adj), 1.0 / x_adj + 1.0 / m_adj, corrected


def pft(xi, ni) -> tuple[np.ndarray, np.ndarray]:
    """Freeman-Tukey double arcsine as escalc(measure="PFT"), no correction needed:

    yi = (asin sqrt(x/(n + 1)) + asin sqrt((x + 1)/(n + 1))) / 2, vi = 1/(4n + 2).
    Freeman & Tukey (1950); Miller (1978), Am Stat 32:138.
    """
    x, n = check_counts(xi, ni)
    yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
    return yi, 1.0 / (4.0 * n + 2.0)


def ilogit(y):
    """Inverse logit (metafor's transf.ilogit)."""
    return logistic_cdf(y)


def _pft_of_proportion(prop: float, n: float) -> float:
    x = prop * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def ipft(y, n: float):
    """Miller's (1978) inverse of the double arcsine at sample size n, clamped to [0, 1].

    p = (1 - sgn(cos 2y) sqrt(1 - (sin 2y + (sin 2y - 1/sin 2y)/n)^2)) / 2; values below the
    transform of 0 events are 0, above that of n events 1 (metafor's transf.ipft).
    """
    y = np.asarray(y, dtype=float)
    s = np.sin(2 * y)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
    p = np.where(y > _pft_of_proportion(1.0, n), 1.0, p)
    p = np.where(y < _pft_of_proportion(0.0, n), 0.0, p)
    return p


def harmonic_mean(ni) -> float:
    """Harmonic mean 1/mean(1/n), the n used by metafor's transf.ipft.hm."""
    return float(1.0 / np.mean(1.0 / np.asarray(ni, dtype=float)))


def ipft_hm(y, ni):
    """metafor's transf.ipft.hm: `ipft` at the harmonic mean of the studies' sample sizes."""
    return ipft(y, harmonic_mean(ni))


def events_from_rate(rate_pct, ni) -> np.ndarray:
    """Events from a landmark rate in percent and n: x = rate/100 * n (not rounded).

    An approximation for Kaplan-Meier (or cumulative-incidence) rates: censoring removes
    information, so treating x/n as binomial overstates the precision (domain guide 5.7). Prefer
    an effective sample size n_eff = p(1 - p)/SE^2 when the rate's CI is printed.
    """
    r = np.asarray(rate_pct, dtype=float)
    n = np.asarray(ni, dtype=float)
    bad = np.flatnonzero(~np.isfinite(r) | (r < 0) | (r > 100))
    if bad.size:
        raise InputError(f"rate {r.ravel()[bad[0]]!r} % is not between 0 and 100", row=int(bad[0]), column="rate_pct")
    return r / 100.0 * n
