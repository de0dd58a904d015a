"""The evidence table's text columns (explorer.data), a column at a time: each rule on rows whose answer is
written out by hand, and one row's source link the same as its column's."""

from __future__ import annotations

import pandas as pd

from explorer import data as ex


def _frame(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns).astype(object)


def test_value_carries_its_unit_as_published():
    t = _frame(value=["47", "0.47", "41", "12.5"], unit=["percent", "ratio", "months", ""])
    assert list(ex.value_texts(t)) == ["47%", "0.47", "41 months", "12.5"]


def test_ci_carries_its_level_and_is_blank_without_bounds():
    t = _frame(
        ci_low=["0.41", "", "0.2", "1", ""],
        ci_high=["0.95", "", "0.8", "2", "3"],
        ci_level=["0.95", "0.95", "", "about", "0.9"],
    )
    assert list(ex.ci_texts(t)) == ["0.41–0.95 (95% CI)", "", "0.2–0.8", "1–2", "–3 (90% CI)"]


def test_source_is_the_doi_else_pubmed_else_the_page():
    t = _frame(
        doi=["10.1/x", "", "", "10.2/y"],
        pmid=["123", "456", "", ""],
        publication_url=["", "", "https://example.org/a", "https://example.org/b"],
    )
    expected = [
        "https://doi.org/10.1/x",
        "https://pubmed.ncbi.nlm.nih.gov/456/",
        "https://example.org/a",
        "https://doi.org/10.2/y",
    ]
    assert list(ex.source_links(t)) == expected
    assert [ex.source_link(row) for _, row in t.iterrows()] == expected
    assert ex.source_link(pd.Series({"doi": "", "pmid": ""})) == ""  # no page column: nothing to link
