"""The explorer's cached reads, shared by its views: the knowledge base's graph, the reader of the named
queries (the endpoint, or the file's Oxigraph copy), the evidence table, the conflict pairs, the study
list and pages, the publications, a figure's provenance and the selection as Turtle. Each is keyed by
the source (`explorer.data.Source`) the page passes in, so a view never reads app.py; the graph, the
two big frames and what every run shows of the whole knowledge base (the sidebar's terms, the counts) are
shared across sessions (`st.cache_resource`), the small results are cached per call (`st.cache_data`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer.study import study_choices, study_page
from kb.conflicts import find_conflicts
from kb.export import evidence_table
from kb.query import load_kb, run_named
from kb.rob import rob_table
from kb.summary import Counts, kb_counts

# --- Cached reads, per source (the graph is shared and read-only; frames are copied per session) ------


# Every read is keyed by the source, whose `version` changes when the file is rebuilt: a new or deleted study
# shows on the next rerun, without a restart. Old versions' resources are dropped (max_entries).
@st.cache_resource(max_entries=2)
def graph(src: ex.Source):
    return load_kb(Path(src.kb_file))


@st.cache_resource(max_entries=2)
def reader(src: ex.Source):
    # The named queries run on the endpoint, or on the file's Oxigraph copy (faster than rdflib: docs/performance.md);
    # same rows either way (tests/test_remote.py, tests/test_app.py).
    return ex.reader(src)


# The two big frames are shared, not copied: st.cache_data pickles a frame on store and unpickles it on
# every call (seconds each for a large knowledge base, and a copy per call). Nothing modifies them
# (pandas copy-on-write keeps any edit local to the editor).
@st.cache_resource(max_entries=2)
def table(src: ex.Source) -> pd.DataFrame:
    return evidence_table(reader(src))


@st.cache_resource(max_entries=8)
def conflicts(src: ex.Source, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The conflict pairs; `columns` for just those (the evidence table's marks need a fifth of them)."""
    kb = reader(src)
    wanted = list(columns) or None
    # A KB file keeps them beside it once per version (kb.materialise); an endpoint computes them.
    return kb.cached("conflicts", lambda: find_conflicts(table(src)), columns=wanted)


# What every run of the page shows of the whole knowledge base, computed once per version rather than on each
# filter change: the sidebar's terms with their counts, and the knowledge base's counts beside the selection's.
@st.cache_resource(max_entries=2)
def filter_choices(src: ex.Source) -> dict[str, list[tuple[ex.Term, int]]]:
    """Per sidebar filter (explorer.data.VOCAB_FILTERS): its terms that match a figure, with their counts."""
    full = table(src)
    return {key: ex.filter_options(full, key) for key in ex.VOCAB_FILTERS}


@st.cache_resource(max_entries=2)
def tier_names(src: ex.Source) -> dict[str, str]:
    """The sidebar's evidence tiers, best first, each with its figure count (explorer.data.tier_choices)."""
    return ex.tier_choices(table(src))


@st.cache_resource(max_entries=2)
def year_range(src: ex.Source) -> tuple[int, int]:
    """The publication years the sidebar offers (explorer.data.year_range)."""
    return ex.year_range(table(src))


@st.cache_resource(max_entries=2)
def whole_counts(src: ex.Source) -> Counts:
    """The knowledge base's figures, studies and publications, as `oligokb summary` counts them."""
    return kb_counts(table(src), studies(src), publications(src))


def warm(src: ex.Source) -> None:
    """Read now what every evidence page reads once per knowledge-base version (the table, the sidebar's terms,
    tiers and years, the whole KB's counts, the conflict marks), into the shared caches above: the explorer's
    launcher calls it before serving, so the first page does not wait for it (explorer.launch)."""
    table(src)
    filter_choices(src)
    tier_names(src)
    year_range(src)
    whole_counts(src)
    conflicts(src, tuple(ex.CONFLICT_MARK_COLUMNS))


@st.cache_data
def studies(src: ex.Source) -> pd.DataFrame:
    return study_choices(reader(src))


@st.cache_data
def publications(src: ex.Source) -> pd.DataFrame:
    return run_named(reader(src), "publications", lexical=True)


@st.cache_data
def study(src: ex.Source, study_id: str):
    return study_page(reader(src), study_id)


@st.cache_data
def provenance(src: ex.Source, statistic_id: str) -> pd.DataFrame:
    return run_named(reader(src), "provenance", {"statistic": statistic_id})


@st.cache_data
def selection_turtle(src: ex.Source, statistic_ids: tuple[str, ...]) -> str:
    if src.endpoint:
        return ex.remote_selection_turtle(reader(src), list(statistic_ids))
    return ex.selection_turtle(graph(src), list(statistic_ids))


@st.cache_data
def rob(src: ex.Source) -> pd.DataFrame:
    """The risk-of-bias judgements (kb.rob.rob_table): one row per study, outcome and domain."""
    return rob_table(reader(src))
