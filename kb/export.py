"""The evidence-table export (terms/contract.py): one row per statistic, labels in lower case."""

from __future__ import annotations

import pandas as pd
from rdflib import Graph, URIRef

from kb.backend import KnowledgeBase, as_kb
from kb.query import run_named
from terms.contract import ALL_COLUMNS
from terms.vocabulary import pref_label, tier_rank, top_concept

LABELLED = [
    "design",
    "histology",
    "oligo_state",
    "intervention",
    "comparator",
    "publication_role",
    "outcome",
    "time_origin",
    "statistic",
    "unit",
    "unit_of_analysis",
    "estimator",
    "source_kind",
    "evidence_tier",
]


def missing(value: object) -> bool:
    """An answer cell with no value: unbound (None), NaN from a frame, or the empty string."""
    return value is None or (isinstance(value, float) and pd.isna(value)) or value == ""


def cell_text(value: object) -> str:
    """An answer cell as text, "" where it has no value: the export contract's rule for every column."""
    return "" if missing(value) else str(value)


def _number_text(value: object) -> str:
    if missing(value):
        return ""
    text = format(value, "f") if not isinstance(value, str) else value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _sorted_list(value: object, sep: str) -> str:
    """A GROUP_CONCAT's parts (in whatever order the engine gave them) sorted, without repeats."""
    if missing(value):
        return ""
    return sep.join(sorted(set(str(value).split(sep))))


def evidence_table(graph: KnowledgeBase | Graph, params: dict[str, str] | None = None) -> pd.DataFrame:
    """The export contract as a DataFrame of strings ("" for not applicable), in contract column order.
    A back-end with a table cache (kb.store.OxigraphKB) keeps the whole table once per KB version."""
    kb = as_kb(graph)
    if not params:
        return kb.cached("export", lambda: _evidence_table(kb, None))
    return _evidence_table(kb, params)


def _evidence_table(graph: KnowledgeBase, params: dict[str, str] | None) -> pd.DataFrame:
    raw = run_named(graph, "evidence", params, lexical=True)  # values as text: every column becomes text here
    pubs = run_named(graph, "publications", lexical=True)
    studies = run_named(graph, "studies", lexical=True)
    supersedes = dict(zip(pubs["publication_id"], pubs["supersedes"].fillna(""), strict=True))
    overlaps = dict(zip(studies["study_id"], studies["overlaps_with"].fillna(""), strict=True))
    out = pd.DataFrame(index=raw.index)
    labels = {}
    for col in LABELLED:
        labels[col] = raw[col].map(lambda iri: pref_label(iri) if iri else "")
    out["study_id"] = raw["study_id"]
    out["study_label"] = raw["study_label"]
    out["design"] = labels["design"]
    out["histology"] = labels["histology"]
    out["oligo_state"] = labels["oligo_state"]
    out["oligo_state_as_published"] = raw["oligo_state_as_published"]
    out["intervention"] = labels["intervention"]
    out["comparator"] = labels["comparator"]
    out["publication_id"] = raw["publication_id"]
    out["publication_role"] = labels["publication_role"]
    out["supersedes"] = raw["publication_id"].map(supersedes).fillna("")
    out["outcome"] = labels["outcome"]
    out["outcome_time_origin"] = labels["time_origin"]
    out["statistic"] = labels["statistic"]
    out["group"] = raw["group_label"]
    out["comparison"] = [
        f"{g} vs {r}" if isinstance(r, str) else ""
        for g, r in zip(raw["group_label"], raw["reference_label"], strict=True)
    ]
    out["n"] = raw["n"].map(lambda v: "" if v is None or pd.isna(v) else str(int(v)))
    out["timepoint_months"] = raw["timepoint_months"].map(_number_text)
    out["value"] = raw["value"]
    out["unit"] = labels["unit"]
    out["ci_low"] = raw["ci_low"].fillna("")
    out["ci_high"] = raw["ci_high"].fillna("")
    out["ci_level"] = raw["ci_level"].map(_number_text)
    out["p_value"] = raw["p_value"].map(_number_text)
    out["adjusted"] = raw["adjusted"].map(
        lambda v: "" if v is None or pd.isna(v) else ("true" if v in (True, 1, "true", "1") else "false")
    )
    out["source_locator"] = raw["source_locator"]
    out["source_quote"] = raw["source_quote"]
    # extras
    # <base>id/pub/<publication>/<study>/stat/<id> -> "<publication>/<study>/stat/<id>" (real or synthetic base)
    out["statistic_id"] = raw["stat"].map(lambda iri: iri.split("/id/pub/", 1)[1])
    out["reference_group"] = raw["reference_label"].fillna("")
    out["unit_of_analysis"] = labels["unit_of_analysis"]
    out["estimator"] = labels["estimator"]
    out["design_class"] = raw["design"].map(lambda iri: pref_label(top_concept(URIRef(iri))))
    out["publication_year"] = raw["publication_year"].map(lambda v: "" if v is None or pd.isna(v) else str(v)[:4])
    out["doi"] = raw["doi"].fillna("")
    out["pmid"] = raw["pmid"].fillna("")
    out["source_scope"] = raw["source_scope"]
    out["derivation"] = raw["derivation"]
    out["p_value_as_published"] = raw["p_value_as_published"].fillna("")
    out["covariate"] = raw["covariate"].fillna("")
    out["overlaps_with"] = raw["study_id"].map(overlaps).fillna("")
    for col, src in [
        ("histology_id", "histology"),
        ("oligo_state_id", "oligo_state"),
        ("outcome_id", "outcome"),
        ("statistic_type_id", "statistic"),
    ]:
        out[col] = raw[src].map(lambda iri: iri.rsplit("/", 1)[-1] if iri else "")
    out["group_arm_role"] = raw["group_arm_role"].fillna("")
    out["reference_arm_role"] = raw["reference_arm_role"].fillna("")
    # A computed xsd:boolean: rdflib and Oxigraph give True, Virtuoso's JSON results give 1.
    out["group_is_subgroup"] = raw["group_is_subgroup"].map(
        lambda v: "true" if v is True or v in (1, "1", "true") else "false"
    )
    out["group_subgroup_by"] = raw["group_subgroup_by"].map(lambda v: _sorted_list(v, ";"))
    out["group_arm_id"] = raw["group_arm_id"].fillna("")
    out["reference_arm_id"] = raw["reference_arm_id"].fillna("")
    out["seed_document"] = raw["seed_document"].fillna("")
    out["quotes_publication"] = raw["quotes_publication"].fillna("")
    out["quotes_basis"] = raw["quotes_basis"].fillna("")
    out["quotes_publication_year"] = raw["quotes_publication_year"].map(
        lambda v: "" if v is None or pd.isna(v) else str(v)[:4]
    )
    out["source_kind"] = labels["source_kind"]
    out["evidence_tier"] = labels["evidence_tier"]
    out["evidence_tier_id"] = raw["evidence_tier"].map(lambda iri: iri.rsplit("/", 1)[-1] if iri else "")
    out["tier_rank"] = raw["evidence_tier"].map(lambda iri: str(tier_rank(iri) or "") if iri else "")
    for col in ("read_in_url", "read_in_site", "read_in_title"):
        out[col] = raw[col].fillna("")
    out["read_in_date"] = raw["read_in_date"].map(lambda v: "" if v is None or pd.isna(v) else str(v)[:10])
    out["publication_url"] = raw["publication_url"].fillna("")
    out["publication_date_read"] = raw["publication_date_read"].map(
        lambda v: "" if v is None or pd.isna(v) else str(v)[:10]
    )
    out["reference_n"] = raw["reference_n"].map(lambda v: "" if v is None or pd.isna(v) else str(int(v)))
    # Curation flags (issue 20): notation codes sorted, ";"-joined; "code: reason" sorted, " | "-joined.
    out["flags"] = raw["flags"].map(lambda v: _sorted_list(v, ";"))
    out["flag_reasons"] = raw["flag_reasons"].map(lambda v: _sorted_list(v, " | "))
    out = out.fillna("").astype(str)  # one string dtype, whichever back-end (typed or lexical) answered
    return out[list(ALL_COLUMNS)].reset_index(drop=True)
