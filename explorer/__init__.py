"""Helpers of the Streamlit explorer (app.py): shaping kb/ and analysis/ results for display.

No analysis happens here: the evidence table comes from kb.export, conflicts from kb.conflicts,
pools from analysis.kb_pool, plots from analysis.forest_kb, queries go through kb.sparql_guard.
"""
