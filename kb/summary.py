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
    primary = int((pubs["role"].map(lambda r: pref_label(r) or str(r)) == "primary").sum()) if len(pubs) else 0
    return Counts(
        studies=int(studies["study_id"].nunique()) if len(studies) else 0,
        publications=len(pubs),
        figures=len(evidence),
        primary_reports=primary,
    )


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
