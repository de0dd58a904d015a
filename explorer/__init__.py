"""Helpers and views of the Streamlit explorer (app.py): shaping kb/ and analysis/ results for display
(data, pooling, sparql, study, search_record), the cached reads (cache), the sidebar, one module per tab
(evidence_view, study_view, pooled_view, sparql_view, about_view) and the pieces they share (widgets).
app.py is the page: it picks the source, draws the sidebar and hands each open tab to its view.

No analysis happens here: the evidence table comes from kb.export, conflicts from kb.conflicts,
pools from analysis.kb_pool, plots from analysis.forest_kb, queries go through kb.sparql_guard.
"""
