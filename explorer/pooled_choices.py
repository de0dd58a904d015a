"""The pooled-analysis tab's choices (statistic, outcome, time point, method, test, strata and their level,
evidence tiers, flags left out, whether the sidebar filters apply), each read from and kept in the URL as
the sidebar's are, so a link reproduces the forest plot. A choice is never changed behind the user's back:
when the figures in view hold none of the chosen outcome (or time point), the choice stays, the page says
so and lists the alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer.widgets import from_url, plain, to_url

# The URL parameter of each choice is its widget key.
KEYS = (
    "pool_statistic",
    "pool_filters",
    "pool_outcome",
    "pool_timepoint",
    "pool_method",
    "pool_test",
    "pool_by",
    "pool_tiers",
    "pool_level",
    "pool_exclude_flags",
)


@dataclass(frozen=True)
class Choice:
    source: pd.DataFrame  # the figures pooled from: the whole table, or the sidebar's selection
    statistic: str
    outcome: str
    timepoint: float | None
    method: str
    test: str
    by: tuple[str, ...]  # stratifier names as shown (histology, oligo-state, design)
    tiers: tuple[str, ...]
    level: str
    exclude_flags: tuple[str, ...]

    @property
    def strata_by(self) -> tuple[str, ...]:
        from explorer import pooling as px

        return tuple(px.STRATIFIERS[b] for b in self.by)

    @property
    def levels(self) -> str | None:
        return ",".join(f"{c}={self.level}" for c in self.strata_by if c in ("histology", "oligo_state")) or None


def _months(value: float) -> str:
    return f"{value:g}"


def _kept_or_missing(key: str, offered: list) -> tuple[list, object | None]:
    """The options to draw for `key`: those offered, plus the current choice if it is no longer among them
    (drawn as missing, so Streamlit does not silently switch to the first option). Returns the options
    and the missing choice (None when the choice is offered)."""
    current = st.session_state.get(key)
    if current is None or current in offered:
        return offered, None
    return [*offered, current], current


def choices(full: pd.DataFrame, rows: pd.DataFrame) -> Choice | None:
    """Draw the choices; None (with a message saying why and what to choose) when nothing can be pooled."""
    from explorer import pooling as px

    c1, c2, c3 = st.columns(3)
    from_url("pool_statistic", list(px.POOLABLE), single=True, default=px.POOLABLE[0])
    statistic = c1.selectbox("Statistic", px.POOLABLE, key="pool_statistic")
    if "pool_filters" not in st.session_state:
        st.session_state["pool_filters"] = st.query_params.get("pool_filters") == "1"
    use_filters = c1.toggle("Only the figures the sidebar filters keep", key="pool_filters")
    to_url("pool_statistic", statistic)
    to_url("pool_filters", "1" if use_filters else None)
    source = rows if use_filters else full
    where = "under the sidebar filters" if use_filters else "in the knowledge base"

    everywhere = px.outcomes_for(full, statistic)
    outcomes = px.outcomes_for(source, statistic)
    from_url("pool_outcome", everywhere, single=True, default=next(iter(outcomes or everywhere), None))
    drawn, missing = _kept_or_missing("pool_outcome", outcomes)
    relax = "switch off “Only the figures the sidebar filters keep”" if use_filters else "relax the sidebar filters"
    if not drawn:
        st.info(f"No {statistic} {where}: choose another statistic, or {relax}.")
        return None
    outcome = c2.selectbox(
        "Outcome",
        drawn,
        key="pool_outcome",
        format_func=lambda o: f"{o} (no {statistic} {where})" if o == missing else o,
    )
    to_url("pool_outcome", outcome)
    if missing is not None:
        st.warning(f"No figures for {plain(missing)} ({plain(statistic)}) {where}.")
        if outcomes:
            alternatives = ", ".join(plain(o) for o in outcomes)
            st.info(f"Choose another outcome in “Outcome” ({alternatives}), another statistic, or {relax}.")
        else:
            st.info(f"No {statistic} {where}: choose another statistic, or {relax}.")
        return None

    timepoint: float | None = None
    if statistic != "hazard ratio":
        points = px.timepoints_for(source, outcome, statistic)
        if "pool_timepoint" not in st.session_state:
            asked = st.query_params.get("pool_timepoint")
            known = {_months(p): p for p in px.timepoints_for(full, outcome, statistic)}
            st.session_state["pool_timepoint"] = known.get(asked or "") or (
                24.0 if 24.0 in points else next(iter(points), None)
            )
        drawn, missing = _kept_or_missing("pool_timepoint", points)
        if not drawn:
            st.info(f"No {statistic} of {outcome} states a time point: choose another outcome.")
            return None
        timepoint = c3.selectbox(
            "Time point (months)",
            drawn,
            format_func=lambda v: f"{v:g} (no figures {where})" if v == missing else f"{v:g}",
            key="pool_timepoint",
        )
        to_url("pool_timepoint", _months(timepoint) if timepoint is not None else None)
        if missing is not None:
            st.warning(f"No figures for {plain(outcome)} ({plain(statistic)}) at {missing:g} months {where}.")
            st.info(f"Choose another time point in “Time point (months)”: {', '.join(_months(p) for p in points)}.")
            return None
    else:
        to_url("pool_timepoint", None)

    c4, c5, c6 = st.columns(3)
    from_url("pool_method", list(px.METHOD_CHOICES), single=True, default="REML")
    method = c4.selectbox("Method (τ² estimator)", px.METHOD_CHOICES, key="pool_method")
    from_url("pool_test", list(px.TEST_CHOICES), single=True, default=px.TEST_CHOICES[0])
    test = c5.selectbox(
        "Test",
        px.TEST_CHOICES,
        key="pool_test",
        help="z: normal; knha: Hartung-Knapp-Sidik-Jonkman; adhoc: knha, never narrower than z",
    )
    from_url("pool_by", list(px.STRATIFIERS))
    by = c6.multiselect(
        "Stratify by",
        list(px.STRATIFIERS),
        key="pool_by",
        help="Design class (and, for rates, unit of analysis and time origin) are always strata.",
    )
    c7, c8 = st.columns([2, 1])
    tier_names = ex.tier_choices(source)
    from_url("pool_tiers", list(tier_names), default=list(tier_names))
    tiers = tuple(
        c7.multiselect(
            "Evidence tiers pooled",
            list(tier_names),
            format_func=tier_names.__getitem__,
            key="pool_tiers",
            help="Each study contributes its latest data cut from the best tier kept here. Keep "
            "1 and 2 for the trials' own reports only.",
        )
    )
    from_url("pool_level", list(px.STRATUM_LEVELS), single=True, default=next(iter(px.STRATUM_LEVELS)))
    level = c8.selectbox(
        "Stratum level (histology, oligo-state)",
        list(px.STRATUM_LEVELS),
        format_func=px.STRATUM_LEVELS.__getitem__,
        key="pool_level",
    )
    from_url("pool_exclude_flags", list(px.OPTIONAL_FLAG_EXCLUSIONS))
    exclude_flags = tuple(
        st.multiselect(
            "Also leave out figures flagged (sensitivity analysis)",
            px.OPTIONAL_FLAG_EXCLUSIONS,
            key="pool_exclude_flags",
            help="Figures flagged direction_doubtful, do_not_pool, duplicate_of or post_randomisation_subgroup are always "
            "left out; choose more flags to leave out, e.g. mapping_low_confidence.",
        )
    )
    to_url("pool_method", method)
    to_url("pool_test", test)
    to_url("pool_by", list(by))
    # Every tier is the default: the URL names the tiers only when some are left out.
    to_url("pool_tiers", list(tiers) if set(tiers) != set(tier_names) else None)
    to_url("pool_level", level if level != next(iter(px.STRATUM_LEVELS)) else None)
    to_url("pool_exclude_flags", list(exclude_flags))
    if not tiers:
        st.info("No evidence tier is selected: choose at least one tier in “Evidence tiers pooled”.")
        return None
    return Choice(source, statistic, outcome, timepoint, method, test, tuple(by), tiers, level, exclude_flags)
