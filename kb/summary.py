"""The knowledge base's counts, defined once for every surface (`oligokb summary`, the explorer's pages).

- studies: distinct study ids of the `studies` named query (a study with no figure yet counts);
- publications: distinct publication ids of the `publications` named query (that query has one row per
  publication and study it reports, so its rows are not publications);
- figures: rows of the evidence table (one per statistic);
- primary reports: distinct publications whose role is primary.

A selection (the explorer's filtered table) counts the studies and publications that have a figure in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from terms.namespaces import PUBLICATION_ROLE
from terms.vocabulary import pref_label


@dataclass(frozen=True)
class Counts:
    studies: int
    publications: int
    figures: int
    primary_reports: int | None = None  # None for a selection: the evidence table does not say it per report

    def as_dict(self) -> dict[str, int]:
        out = {"studies": self.studies, "publications": self.publications, "figures": self.figures}
        if self.primary_reports is not None:
            out["primary reports"] = self.primary_reports
        return out


def kb_counts(evidence: pd.DataFrame, studies: pd.DataFrame, publications: pd.DataFrame) -> Counts:
    """The counts of a whole knowledge base from its evidence table and its `studies` and `publications`
    named queries (the role as an IRI or as text: either reads as its label)."""
    pubs = publications.drop_duplicates("publication_id") if len(publications) else publications
    primary = int(pubs["role"].map(is_primary).sum()) if len(pubs) else 0
    return Counts(
        studies=int(studies["study_id"].nunique()) if len(studies) else 0,
        publications=len(pubs),
        figures=len(evidence),
        primary_reports=primary,
    )


def is_primary(role: object) -> bool:
    """A publication's role, as its IRI or as its label, is primary. An IRI of the role vocabulary is compared
    as it is: reading its label would parse every vocabulary (~0.2 s) for `oligokb summary`."""
    text = str(role)
    if text.startswith(str(PUBLICATION_ROLE)):
        return text == str(PUBLICATION_ROLE.primary)
    return (pref_label(text) or text) == "primary"


def selection_counts(evidence: pd.DataFrame) -> Counts:
    """The counts of a selection of the evidence table: its figures, and the studies and publications they
    come from."""
    if evidence.empty:
        return Counts(0, 0, 0)
    return Counts(
        studies=int(evidence["study_id"].nunique()),
        publications=int(evidence["publication_id"].nunique()),
        figures=len(evidence),
    )
