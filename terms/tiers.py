"""Where a figure was read, as the domain names it: source kinds, evidence tiers and the tier rule.

The one place the tier rule lives. A publication's tier follows from its source kind (and, for a
journal article, from what was read of it); a figure's tier is the weaker of that and the tier of
the page it was read in (`read_in`), when it was not read in the report itself. The ranks are also
data in the graph (terms/vocab/source.ttl, okb:tierRank); a test checks the two agree.
"""

from __future__ import annotations

import re
from typing import Literal

SourceKind = Literal["journal article", "conference abstract", "registry results", "review", "coverage page"]
PageKind = Literal["coverage page", "review", "registry results"]

# Best first: the tier notations (terms/vocab/source.ttl) and their ranks.
TIER_RANK: dict[str, int] = {
    "trial_full_report": 1,
    "trial_abstract": 2,
    "conference_abstract": 3,
    "registry_results": 4,
    "review": 5,
    "coverage_page": 6,
}
TIER_LABEL: dict[str, str] = {
    "trial_full_report": "trial's own full report",
    "trial_abstract": "trial's own abstract",
    "conference_abstract": "conference abstract",
    "registry_results": "registry results",
    "review": "review or meta-analysis",
    "coverage_page": "coverage page",
}
# The tiers of a trial's own reports (what a "trial reports only" sensitivity analysis keeps).
OWN_REPORT_TIERS = ("trial_full_report", "trial_abstract")
# Which roles each kind may have: a trial's own report is primary; a review or a page that reports a
# study by itself is secondary.
KIND_ROLES: dict[str, str] = {
    "journal article": "primary",
    "conference abstract": "primary",
    "registry results": "primary",
    "review": "secondary",
    "coverage page": "secondary",
}
_PAGE_TIER = {"coverage page": "coverage_page", "review": "review", "registry results": "registry_results"}
HTTP_URL = re.compile(r"^https?://[^\s/]+\.[^\s]*$")
FULL_TEXT_SCOPES = ("full text", "full text, partly missing")


def kind_notation(kind: str) -> str:
    """'conference abstract' -> 'conference_abstract' (the source-kind vocabulary's notation)."""
    return kind.replace(" ", "_")


def publication_tier(kind: str, source_scope: str) -> str:
    """The tier a report's kind gives (a journal article: by what was read of it)."""
    if kind == "journal article":
        return "trial_full_report" if source_scope in FULL_TEXT_SCOPES else "trial_abstract"
    return {
        "conference abstract": "conference_abstract",
        "registry results": "registry_results",
        "review": "review",
        "coverage page": "coverage_page",
    }[kind]


def figure_tier(publication: str, page_kind: str | None) -> str:
    """The weaker of the report's tier and the tier of the page the figure was read in."""
    if page_kind is None:
        return publication
    page = _PAGE_TIER[page_kind]
    return page if TIER_RANK[page] > TIER_RANK[publication] else publication


def parse_tiers(text: str) -> tuple[str, ...]:
    """'1,2' or 'trial_full_report,trial_abstract' or 'own' (the trial's own reports) -> tier notations.

    Raises ValueError naming the accepted spellings."""
    out: list[str] = []
    by_rank = {str(rank): tier for tier, rank in TIER_RANK.items()}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        key = part.lower().replace(" ", "_").replace("-", "_")
        if key in ("own", "own_reports", "trial_reports"):
            out.extend(OWN_REPORT_TIERS)
        elif key == "all":
            out.extend(TIER_RANK)
        elif key in TIER_RANK:
            out.append(key)
        elif key in by_rank:
            out.append(by_rank[key])
        else:
            raise ValueError(
                f"unknown tier {part!r}; use ranks 1-6, 'own' (1,2), 'all' or names: {', '.join(TIER_RANK)}"
            )
    if not out:
        raise ValueError("no tier given; e.g. --tiers own, --tiers 1,2,3 or --tiers all")
    return tuple(sorted(set(out), key=TIER_RANK.__getitem__))
