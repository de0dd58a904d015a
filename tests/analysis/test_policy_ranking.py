"""Rule 6 (one estimate per study and stratum) of the batched policy against a plain pandas sort, on a
random table made to tie: many reports per study, few years, tiers and group sizes, reports superseded by
later ones, so every step of the ranking (superseded, year, tier, n, statistic id, table order) decides some
competition. Both text kinds of the evidence table (Arrow "str" and object) are checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_policy import TIERS, row, table

from analysis.policy import select_estimates


def random_table(seed: int, studies: int = 40, rows_per_study: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(studies):
        reports = [f"s{s}-p{p}" for p in range(4)]
        for r in range(rows_per_study):
            publication = int(rng.integers(0, 4))
            rank = str(rng.choice(list(TIERS)))
            tier, label = TIERS[rank]
            low = round(float(rng.uniform(0.2, 0.6)), 2)
            rows.append(
                row(
                    study_id=f"s{s}",
                    study_label=f"S{s}",
                    publication_id=reports[publication],
                    publication_year=str(rng.choice(["2018", "2019", "2020", ""])),
                    supersedes=reports[publication - 1] if publication and rng.random() < 0.3 else "",
                    evidence_tier_id=tier,
                    evidence_tier=label,
                    tier_rank=rank,
                    histology=str(rng.choice(["nsclc", "prostate"])),
                    n=str(rng.choice(["40", "40.0", "80", ""])),
                    value=str(round(low + 0.2, 2)),
                    ci_low=str(low),
                    ci_high=str(round(low + 0.5, 2)),
                    statistic_id=f"id-{int(rng.integers(0, 10**6)):06d}-{s}-{r}",
                )
            )
    return table(*rows)


def number(text: str, unknown: float) -> float:
    return float(text) if text else unknown


def expected_winners(tab: pd.DataFrame) -> set[str]:
    """The first row of each (stratum, study) in the order rule 6 states, by sort_values."""
    superseded = {p for text in tab["supersedes"] for p in text.split(";") if p}
    ranked = tab.assign(
        _superseded=tab["publication_id"].isin(superseded),
        _year=-tab["publication_year"].map(lambda t: number(t, 0)),
        _tier=tab["tier_rank"].map(lambda t: number(t, 99)),
        _n=-tab["n"].map(lambda t: number(t, 0)),
        _position=np.arange(len(tab)),
    ).sort_values(["_superseded", "_year", "_tier", "_n", "statistic_id", "_position"], kind="stable")
    return set(ranked.drop_duplicates(["histology", "study_id"])["statistic_id"])


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("text", ["str", object])
def test_one_estimate_per_study_and_stratum_is_the_first_of_the_sort(seed: int, text: object) -> None:
    tab = random_table(seed).astype(text)
    got = select_estimates(tab, outcome="overall survival", statistic="hazard ratio", by=("histology",))
    assert set(got.used["statistic_id"]) == expected_winners(random_table(seed))
    assert len(got.used) == len(set(zip(got.used["histology"], got.used["study_id"], strict=True)))
    # every other row is left out by rule 6, naming its winner's report
    assert len(got.used) + len(got.excluded) == len(tab)
    assert got.excluded["reason"].str.startswith("one estimate per study and stratum: ").all()
