"""oligokb evidence explorer (Streamlit). Thin: reads the knowledge base through kb/, holds no logic.

The full explorer (filters, study pages, pooled analyses, SPARQL console) is its own issue; this page
shows the evidence table with its sources.
"""
from pathlib import Path

import streamlit as st

from kb.export import evidence_table
from kb.query import load_kb

KB_FILE = Path(__file__).parent / "data" / "studies.ttl"


@st.cache_resource
def graph():
    return load_kb(KB_FILE)


@st.cache_data
def table():
    return evidence_table(graph())


st.set_page_config(page_title="oligokb evidence explorer", layout="wide")
st.title("oligokb: evidence for metastasis-directed radiotherapy")
evidence = table()
st.caption(f"{evidence['study_id'].nunique()} studies, {evidence['publication_id'].nunique()} publications, {len(evidence)} figures")
st.dataframe(evidence, use_container_width=True, hide_index=True)
