"""Effect sizes for the pooling policy (rule 9 of analysis.policy), for many rows at once.

Hazard ratios: log HR with its SE from the CI at its own level, else from an exact p-value
(analysis.effects.log_hr_from_ci / log_hr_from_p). Rates: the logit of events = rate x n with escalc's
0.5 correction for 0 or n events (analysis.effects.events_from_rate / plo). The arithmetic is that of
those functions, applied per unique published value, so the numbers are the same to the bit; a row those
functions refuse is handed to them, so its message (or the error raised) is theirs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from analysis.distributions import norm_isf
from analysis.effects import events_from_rate, log_hr_from_ci, log_hr_from_p, plo, z_for_level
from analysis.errors import AnalysisWarning, InputError
from analysis.policy_columns import Columns, combine_codes, dense_codes, parse_number
from analysis.policy_rules import NO_N, NO_STANDARD_ERROR, SE_ERROR, UNIT_NOT_PERCENT, VALUE_NOT_NUMBER

# How each SE was obtained, in words a reviewer can check against the publication (the CI at its own
# level, the exact p as printed, the events and n a rate stands for).
P_VALUE_ROUTE = "SE from exact p"
RATE_ROUTE = "logit of events = rate x n"


def ci_route(level: float) -> str:
    """'SE from 95% CI', 'SE from 80% CI', 'SE from 97.5% CI' (never rounded to a whole percent)."""
    return f"SE from {level * 100:g}% CI"


def p_route(p_text: str) -> str:
    """'SE from exact p = 0.03', the p-value as the sheet gives it."""
    return f"{P_VALUE_ROUTE} = {p_text}"


def rate_route(rate: float, n: float, events: float, corrected: bool) -> str:
    """'logit of events = rate x n: 19% x 100 = 19 events' (+ escalc's 0.5 correction at 0 or n events)."""
    text = f"{RATE_ROUTE}: {rate:g}% x {n:g} = {events:.6g} events"
    return text + (" (+0.5 correction)" if corrected else "")


@dataclass(frozen=True)
class RouteTexts:
    """The derivation routes by code: the fixed texts (a CI level, a p-value as printed), then one per
    distinct (rate, n) of the rate rows, written only when read: at 50,000 studies the policy derives about
    350,000 distinct rate routes, which took longer to write than the whole rest of the pooling, and a
    reader shows a few of them."""

    fixed: tuple[str, ...] = ()
    rates: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # rate, n of code len(fixed) + i

    def text(self, code: int) -> str | None:
        if code < 0:
            return None
        if code < len(self.fixed):
            return self.fixed[code]
        rate, n = (float(x) for x in self.rates[code - len(self.fixed)])
        events = rate / 100.0 * n  # as _rates computes it, so the text states the events that were pooled
        return rate_route(rate, n, events, events == 0 or events == n)

    def texts(self, codes: np.ndarray) -> np.ndarray:
        """The text of each code (None for -1), as an object array."""
        codes = np.asarray(codes, dtype=np.int64)
        wanted, inverse = np.unique(codes, return_inverse=True)
        return np.asarray([*(self.text(int(c)) for c in wanted), None], dtype=object)[:-1][inverse.reshape(-1)]


@dataclass
class EffectSizes:
    """Per row: yi, vi, the derivation route (a code of `route_texts()`, -1 for none) and, for a row that
    gives none, why (policy_rules.EFFECT_FAILURES code, else -1)."""

    yi: np.ndarray
    vi: np.ndarray
    route: np.ndarray
    failure: np.ndarray
    routes: list[str] = field(default_factory=list)  # the fixed route texts
    codes: dict[str, int] = field(default_factory=dict)  # route text -> its index in `routes`
    messages: dict[int, str] = field(default_factory=dict)  # table position -> error text, for SE_ERROR
    rates: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # rate, n of route len(routes) + i

    def route_texts(self) -> RouteTexts:
        """The text of every code in `route`."""
        return RouteTexts(tuple(self.routes), self.rates.reshape(-1, 2))

    @classmethod
    def empty(cls, size: int) -> EffectSizes:
        return cls(
            np.full(size, np.nan),
            np.full(size, np.nan),
            np.full(size, -1, dtype=np.int64),
            np.full(size, -1, dtype=np.int64),
        )

    def route_code(self, text: str) -> int:
        if text not in self.codes:
            self.codes[text] = len(self.routes)
            self.routes.append(text)
        return self.codes[text]


def effect_sizes(cols: Columns, rows: np.ndarray, is_hr: np.ndarray) -> EffectSizes:
    """The effect size of each row at `rows` (positions in cols' table); is_hr: per row, whether it is
    a hazard ratio (else a rate)."""
    out = EffectSizes.empty(rows.size)
    value = cols.number("value", at=rows)
    if is_hr.any():
        _hazard_ratios(cols, rows, np.flatnonzero(is_hr), value, out)
    if (~is_hr).any():
        _rates(cols, rows, np.flatnonzero(~is_hr), value, out)
    rate = out.route <= -2  # the rate routes follow the fixed ones
    out.route[rate] = len(out.routes) - 2 - out.route[rate]
    return out


def _squares(se: np.ndarray) -> list[float]:
    """LogHR.vi = se**2 with Python's float power (C pow), which can differ from numpy's x*x by 1 ulp."""
    return [x**2 for x in se.tolist()]


def _hr_error(value: float, low: float, high: float, level: float, p: float, by_ci: bool) -> str:
    """The error of log_hr_from_ci / log_hr_from_p for a row the vectorised checks refuse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)  # reported by `oligokb pool` separately
        try:
            if by_ci:
                log_hr_from_ci(value, low, high, level)
            else:
                log_hr_from_p(value, p)
        except InputError as exc:
            return str(exc)
    raise AssertionError(f"HR {value}: expected the derivation to refuse it")  # pragma: no cover


def _hazard_ratios(cols: Columns, rows: np.ndarray, idx: np.ndarray, value: np.ndarray, out: EffectSizes) -> None:
    """log HR and its variance for the rows `idx` (indices into `rows`)."""
    pos = rows[idx]
    val = value[idx]
    cols = cols.subset(pos)  # the hazard-ratio rows only
    low = cols.number("ci_low")
    high = cols.number("ci_high")
    level = cols.number("ci_level")
    p = cols.number("p_value")
    no_value = np.isnan(val)
    out.failure[idx[no_value]] = VALUE_NOT_NUMBER
    by_ci = ~no_value & ~np.isnan(low) & ~np.isnan(high) & ~np.isnan(level)
    by_p = ~no_value & ~by_ci & ~np.isnan(p)
    out.failure[idx[~no_value & ~by_ci & ~by_p]] = NO_STANDARD_ERROR
    # The checks of log_hr_from_ci / log_hr_from_p, in their order.
    with np.errstate(invalid="ignore"):
        bad_ci = by_ci & ~((val > 0) & (low > 0) & (high > 0) & (low < high) & (low <= val) & (val <= high))
        bad_p = by_p & ~((val > 0) & (p > 0) & (p < 1) & (val != 1.0))
    bad_level = by_ci & ~bad_ci & ~((level > 0) & (level < 1))
    if bad_level.any():
        z_for_level(float(level[np.flatnonzero(bad_level)[0]]))  # raises the OptionError of a CI level
    for i in np.flatnonzero(bad_ci | bad_p):
        out.failure[idx[i]] = SE_ERROR
        out.messages[int(pos[i])] = _hr_error(
            float(val[i]), float(low[i]), float(high[i]), float(level[i]), float(p[i]), bool(by_ci[i])
        )
    ci = by_ci & ~bad_ci
    pv = by_p & ~bad_p
    logs = {
        name: cols.mapped(name, lambda u: math.log(x) if (x := parse_number(u)) is not None and x > 0 else np.nan)
        for name in ("value", "ci_low", "ci_high")
    }
    log_val = logs["value"]
    if ci.any():
        level_codes, levels = cols.codes("ci_level")
        zs = np.array(
            [z_for_level(x) if (x := parse_number(u)) is not None and 0 < x < 1 else np.nan for u in levels],
            dtype=float,
        )
        route_of = np.array(
            [out.route_code(ci_route(x)) if (x := parse_number(u)) is not None else -1 for u in levels], dtype=np.int64
        )
        j = np.flatnonzero(ci)
        codes = level_codes[j]
        se = (logs["ci_high"][j] - logs["ci_low"][j]) / (2.0 * zs[codes])
        out.yi[idx[j]] = log_val[j]
        out.vi[idx[j]] = _squares(se)
        out.route[idx[j]] = route_of[codes]
    if pv.any():
        j = np.flatnonzero(pv)
        p_codes, p_values = cols.codes("p_value")
        zs = np.array(
            [
                float(norm_isf(x / 2.0)) if (x := parse_number(u)) is not None and 0 < x < 1 else np.nan
                for u in p_values
            ],
            dtype=float,
        )
        route_of = np.full(len(p_values), -1, dtype=np.int64)
        for code in np.unique(p_codes[j]).tolist():
            route_of[code] = out.route_code(p_route(str(p_values[code]).strip()))
        se = np.abs(log_val[j]) / zs[p_codes[j]]
        out.yi[idx[j]] = log_val[j]
        out.vi[idx[j]] = _squares(se)
        out.route[idx[j]] = route_of[p_codes[j]]


def _rates(cols: Columns, rows: np.ndarray, idx: np.ndarray, value: np.ndarray, out: EffectSizes) -> None:
    """Logit of events = rate x n for the rows `idx` (indices into `rows`)."""
    pos = rows[idx]
    val = value[idx]
    n = cols.number("n", at=pos)
    unit_ok = cols.isin("unit", ["percent", ""])[pos]
    no_value = np.isnan(val)
    no_n = ~no_value & np.isnan(n)
    bad_unit = ~no_value & ~no_n & ~unit_ok
    out.failure[idx[no_value]] = VALUE_NOT_NUMBER
    out.failure[idx[no_n]] = NO_N
    out.failure[idx[bad_unit]] = UNIT_NOT_PERCENT
    j = np.flatnonzero(~no_value & ~no_n & ~bad_unit)
    whole = j.size == idx.size  # the usual case: every rate row gives an effect size, no copies
    r, nn, at, pos_j = (val, n, idx, pos) if whole else (val[j], n[j], idx[j], pos[j])
    with np.errstate(invalid="ignore", over="ignore"):
        x = r / 100.0 * nn
        raises = ~((r >= 0) & (r <= 100)) | ~np.isfinite(x) | (x < 0) | ~(nn > 0) | (x > nn)
    if raises.any():  # not a reason but an error in the data: raise that of the first such row
        first = np.flatnonzero(raises)[0]
        plo([float(events_from_rate(r[first], nn[first]))], [nn[first]])
        raise AssertionError(f"row {int(pos_j[first])}: expected events_from_rate or plo to raise")  # pragma: no cover
    # escalc's 0.5 at 0 or n events; adding 0.0 elsewhere changes no value (x and nn - x are then not -0.0)
    half = np.where((x == 0) | (x == nn), 0.5, 0.0)
    x_adj = x + half
    m_adj = nn - x + half
    out.yi[at] = np.log(x_adj / m_adj)
    out.vi[at] = 1.0 / x_adj + 1.0 / m_adj
    # One route per distinct (rate, n) as written (its codes of value and n), written when read (RouteTexts).
    # Their codes are -2 - i until the fixed routes are known (route_texts).
    value_codes, values = cols.codes("value")
    n_codes, ns = cols.codes("n")
    pair, _ = dense_codes(
        combine_codes([(value_codes[pos_j], len(values)), (n_codes[pos_j], len(ns))]), len(values) * len(ns)
    )
    one_row = np.zeros(int(pair.max()) + 1 if pair.size else 0, dtype=np.int64)
    one_row[pair] = np.arange(pair.size)  # any row of a pair: all have its rate and n
    out.rates = np.column_stack([r[one_row], nn[one_row]])
    out.route[at] = -2 - pair
