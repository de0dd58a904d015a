"""Risk-of-bias judgements as a table: one row per study, outcome and domain.

The contract the analysis layer (GRADE, the risk-of-bias sensitivity analysis) and the surfaces read.
The judgements are sheet data (`risk_of_bias:` in a study sheet, docs/extraction-sheets.md); this
module reads them back from the knowledge base.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from kb.backend import KnowledgeBase, as_kb
from kb.export import cell_text, missing
from terms.vocabulary import pref_label, vocabulary_graph

#: Cochrane RoB 2 domains, in the tool's order, then its overall judgement.
ROB2_DOMAINS = ("randomisation", "deviations", "missing_data", "measurement", "reported_result", "overall")

#: Every judgement a row may carry; "not_assessed" for a study with no assessment (e.g. ROBINS-I not done).
JUDGEMENTS = ("low", "some_concerns", "high", "not_assessed")

#: Columns of rob_table(), in order.
ROB_COLUMNS = [
    "study_id",  # the study sheet's id (as in the evidence table's study_id)
    "outcome",  # the outcome's label as in the evidence table ("overall survival"), or "" for every outcome
    "tool",  # "RoB 2" or "ROBINS-I"
    "domain",  # one of ROB2_DOMAINS (ROBINS-I: its own domain names), "overall" always present
    "judgement",  # one of JUDGEMENTS
    "support",  # the verbatim quote behind the judgement, or the curators' stated reason
    "support_kind",  # "quote" or "reason"
    "publication_id",  # the report the quote was read in ("" for a reason)
    "locator",  # where in that report ("" for a reason)
    "reason",  # the curators' stated reason when a quote is the support too ("" otherwise)
    "assessed_by",  # who judged ("" for an assessment not made)
]

ROB_QUERY = Path(__file__).parent / "queries" / "rob.rq"


def rob_table(kb: KnowledgeBase | Graph) -> pd.DataFrame:
    """Every risk-of-bias judgement in the knowledge base, ROB_COLUMNS, sorted by study, outcome, domain.
    An assessment not made (ROBINS-I not assessed) is one row: domain overall, judgement not_assessed,
    its reason as the support. Strings only ("" where not applicable), whichever back-end answers."""
    kb = as_kb(kb)
    return kb.cached("rob", lambda: _rob_table(kb), ROB_COLUMNS)


def _notation(iri: object) -> str:
    return "" if missing(iri) else str(iri).rsplit("/", 1)[-1]


def _rob_table(kb: KnowledgeBase) -> pd.DataFrame:
    raw = kb.select(ROB_QUERY.read_text(encoding="utf-8"), {})
    rows = []
    for r in raw.to_dict("records"):
        quote = cell_text(r["quote"])
        reason = cell_text(r["reason"])
        not_assessed = missing(r["domain"])
        rows.append(
            {
                "study_id": cell_text(r["study_id"]),
                "outcome": pref_label(str(r["outcome"])) if not missing(r["outcome"]) else "",
                "tool": _tool_label(str(r["tool"])),
                "domain": "overall" if not_assessed else _notation(r["domain"]),
                "judgement": "not_assessed" if not_assessed else _notation(r["judgement"]),
                "support": cell_text(r["not_assessed"]) if not_assessed else (quote or reason),
                "support_kind": "quote" if quote else "reason",
                "publication_id": cell_text(r["publication_id"]) if quote else "",
                "locator": cell_text(r["locator"]) if quote else "",
                "reason": reason if quote else "",
                "assessed_by": cell_text(r["assessed_by"]),
            }
        )
    table = pd.DataFrame(rows, columns=ROB_COLUMNS).astype(str)
    # The tool's domain order (RoB 2's), not the alphabet's, within each study and outcome.
    order = {d: i for i, d in enumerate(ROB2_DOMAINS)}
    table["_order"] = table["domain"].map(lambda d: order.get(d, len(order)))
    table = table.sort_values(["study_id", "outcome", "tool", "_order", "domain"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def _tool_label(iri: str) -> str:
    """The tool's name as its authors write it ("RoB 2", "ROBINS-I"): the vocabulary's prefLabel, case kept."""
    label = vocabulary_graph().value(URIRef(iri), SKOS.prefLabel)
    return str(label) if label is not None else _notation(iri)


def rob_csv(kb: KnowledgeBase | Graph) -> bytes:
    """The rob_table as CSV (UTF-8), for `oligokb export --format rob`."""
    return rob_table(kb).to_csv(index=False, lineterminator="\n").encode("utf-8")
