"""The explorer's about tab: the knowledge base's counts, source and version, how to cite it, how the
randomised trials were found (the PRISMA record of the search, when present), and the vocabularies.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer import data as ex
from explorer.cache import conflicts, publications, studies
from explorer.widgets import plain


def about_view(src: ex.Source, full: pd.DataFrame) -> None:
    st.subheader("About this knowledge base")
    version = ex.source_version(src)
    counts = ex.counts(full, studies(src), publications(src), conflicts(src))
    cols = st.columns(len(counts))
    for col, (name, value) in zip(cols, counts.items(), strict=True):
        col.metric(name, value)
    st.markdown(f"**Source**: {plain(src.describe())}")
    st.markdown("**Version**")
    st.dataframe(pd.DataFrame({"field": list(version), "value": list(version.values())}), hide_index=True)
    st.markdown("**How to cite**")
    if src.endpoint:
        edition = f"Knowledge base read from the SPARQL endpoint {version['endpoint']} on {version['read'][:10]}. "
    else:
        edition = f"Knowledge base {version['file']}, sha256 {version['sha256'][:16]}, {version['modified'][:10]}. "
    st.code(
        "oligokb: an evidence knowledge base for metastasis-directed radiotherapy in oligometastatic cancer. "
        f"{edition}https://w3id.org/oligokb/",
        language=None,
        wrap_lines=True,
    )
    st.caption(
        "Cite the original publications for any figure you use: each row of the evidence table links its "
        "DOI (or PMID) and quotes the sentence the number was read from."
    )
    search_record_view()
    st.markdown("**Vocabularies** (SKOS, terms/vocab)")
    st.dataframe(ex.vocabularies(), hide_index=True, height="content")
    glossary_view()
    st.caption(
        "Oligo-states follow the ESTRO-EORTC classification (Guckenberger et al., Lancet Oncol 2020). "
        "The data model: docs/data-model.md; the export columns: docs/export-contract.md."
    )


def search_record_view() -> None:
    from explorer import search_record as sr

    record = sr.load_record()
    if record is None:
        return
    st.markdown(f"**How the randomised trials were found** (PRISMA 2020; searched {plain(record['searched'])})")
    st.caption(plain(record["method"]))
    st.graphviz_chart(sr.prisma_dot(record))
    included = pd.DataFrame(
        [
            {"study": i["study_id"], "trial": i["trial"], "reports": ", ".join(i["reports"])}
            for i in record["included"]["list"]
        ]
    )
    st.dataframe(included, hide_index=True)
    with st.expander(
        f"Randomised trials found and not entered ({len(record.get('not_entered', []))}), with the reason"
    ):
        st.dataframe(pd.DataFrame(record.get("not_entered", [])), hide_index=True)
    st.caption("The full record: docs/search-record.md; the searches themselves: docs/source-notes/search-log-*.md.")


def glossary_view() -> None:
    from explorer.glossary import glossary

    st.markdown("**Glossary** (the terms a figure is filed under: label, notation, definition, IRI)")
    terms = glossary()
    vocabulary = st.selectbox("Vocabulary", list(dict.fromkeys(terms["vocabulary"])), key="glossary_vocabulary")
    st.dataframe(terms[terms["vocabulary"] == vocabulary].drop(columns="vocabulary"), hide_index=True, key="glossary")
