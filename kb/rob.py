"""Risk-of-bias judgements as a table: one row per study, outcome and domain.

The contract the analysis layer (GRADE, the risk-of-bias sensitivity analysis) and the surfaces read.
The judgements are sheet data (`risk_of_bias:` in a study sheet, docs/extraction-sheets.md); this
module reads them back from the knowledge base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from kb.backend import KnowledgeBase

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
]


def rob_table(kb: KnowledgeBase) -> pd.DataFrame:
    """Every risk-of-bias judgement in the knowledge base, ROB_COLUMNS, sorted by study, outcome, domain."""
    return pd.DataFrame(columns=ROB_COLUMNS)
