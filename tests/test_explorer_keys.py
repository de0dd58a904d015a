"""The pooled view's cache key for the figures pooled (explorer.pooled_view.figures_key): it changes with the
knowledge base's version and with the figures in view, and an endpoint's rows are keyed by their content."""

from __future__ import annotations

import pandas as pd

from explorer.data import Source
from explorer.pooled_view import figures_key

ROWS = pd.DataFrame({"statistic_id": ["s1", "s2"], "value": ["0.5", "0.7"]})


def test_a_file_is_keyed_by_its_version_and_the_figures_in_view():
    v1, v2 = Source(None, "kb.ttl", "v1"), Source(None, "kb.ttl", "v2")
    assert figures_key(v1, ROWS) == figures_key(v1, ROWS.copy())
    assert figures_key(v1, ROWS) != figures_key(v2, ROWS)  # a rebuilt file: the pool is computed again
    assert figures_key(v1, ROWS) != figures_key(v1, ROWS.iloc[:1])  # another selection
    # ids are joined with a separator: ("s1", "s2") and ("s1s2",) differ
    assert figures_key(v1, ROWS) != figures_key(v1, pd.DataFrame({"statistic_id": ["s1s2"]}))


def test_an_endpoint_without_a_version_is_keyed_by_the_rows_content():
    endpoint = Source("http://example.org/sparql", "", "")
    changed = ROWS.assign(value=["0.5", "0.8"])  # same ids, a value changed on the endpoint
    assert figures_key(endpoint, ROWS) == figures_key(endpoint, ROWS.copy())
    assert figures_key(endpoint, ROWS) != figures_key(endpoint, changed)
