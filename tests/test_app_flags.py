"""The explorer shows the curation flags (issue 20): a ⚑ mark on the row, the reasons with the source, a
section on the study page, and a control that leaves more flags out of a pooled analysis."""

from __future__ import annotations

import pandas as pd

from explorer import data as ex
from explorer.study import study_page
from kb.export import evidence_table
from kb.query import load_kb
from kb.store import load_store
from tests.test_app import _app, _clean


def test_flagged_rows_carry_the_mark():
    table = evidence_table(load_kb(ex.kb_file()))
    view = ex.evidence_view(table, pd.DataFrame())
    direction = view["marks"].str.contains("⚑ direction_doubtful", regex=False)
    assert direction.sum() == 7
    assert set(table.loc[direction, "publication_id"]) == {"bourgier2019-canrad"}
    # every flag of the row, and only flagged rows, carry marks
    for flags, marks in zip(table["flags"], view["marks"], strict=False):
        assert all(f"⚑ {code}" in marks for code in flags.split(";") if code)
        assert ("⚑" in marks) == bool(flags)


def test_study_page_lists_the_flags_from_every_back_end():
    page = study_page(load_kb(ex.kb_file()), "fode-hoyer2015-sbrt")
    assert {"oligo-state mapping"} < set(page.flags["on"])
    direction = page.flags[page.flags["flag"] == "direction_doubtful"]
    assert sorted(direction["on"]) == [
        f"figure bourgier2019-canrad / {s}" for s in ("os-hr-number", "os-hr-ps", "os-hr-size")
    ]
    stored = study_page(load_store(ex.kb_file()), "fode-hoyer2015-sbrt")
    pd.testing.assert_frame_equal(
        stored.flags.reset_index(drop=True), page.flags.reset_index(drop=True), check_dtype=False
    )
    lee = study_page(load_kb(ex.kb_file()), "lee2021-mcrc-mrt").flags
    (other,) = lee.loc[lee["flag"] == "duplicate_of", "other"]
    assert other == "lee2021-clcc/lee2021-mcrc-mrt/stat/nes-median-mrt-from-chemo"


def test_study_view_shows_the_flags():
    at = _app(view="Study", study="fode-hoyer2015-sbrt")
    _clean(at)
    assert any(m.value == "#### Curation flags" for m in at.markdown)
    frame = next(d.value for d in at.dataframe if "flag" in d.value.columns and "on" in d.value.columns)
    assert (frame["flag"] == "⚑ direction_doubtful").sum() == 3


def test_pooled_view_leaves_out_more_flags():
    at = _app(view="Pooled analysis")
    at.selectbox(key="pool_statistic").select("landmark rate").run()
    at.multiselect(key="pool_exclude_flags").select("mapping_low_confidence").run()
    _clean(at)
    left_out = at.dataframe[-1].value
    assert left_out["reason"].str.startswith("curation flag mapping_low_confidence").any()
