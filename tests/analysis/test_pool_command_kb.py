"""`oligokb pool` on a knowledge base (tests/conftest.py's fixture KB): the policy's choices as the
command prints them: strata at the asked level, best tier kept, the reasons of what was left out."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from tests.analysis.test_policy import se_from_ci


def test_pool_command_on_a_knowledge_base(fixture_kb):
    import json

    from tests.conftest import run_cli

    result = run_cli(
        "pool",
        "--outcome",
        "progression-free survival",
        "--statistic",
        "hazard ratio",
        "--by",
        "histology,oligo_state",
        "--kb",
        str(fixture_kb),
        "--json",
        "--tiers",
        "own",
        "--stratum-level",
        "histology=2",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    (pool,) = out["pools"]
    assert pool["k"] == 1 and pool["histology"] == "nsclc, egfr-mutant"  # level 2: the term as extracted
    assert pool["estimate"] == pytest.approx(0.70, rel=1e-12)  # k = 1: the study's HR, not pooled
    se = se_from_ci(0.50, 0.98, 0.80)
    assert pool["ci_low"] == pytest.approx(math.exp(math.log(0.7) - stats.norm.isf(0.025) * se), rel=1e-12)
    (used,) = pool["inputs"]  # the input the policy chose, with its tier and the SE that entered the model
    assert used["publication_id"] == "test-trial-2020" and used["tier_rank"] == "1"
    assert used["sei"] == pytest.approx(se, rel=1e-12) and used["weight_pct"] == 100.0
    (left,) = out["excluded"]
    assert left["publication_id"] == "test-review-2021"
    assert left["reason"].startswith("read in a review or meta-analysis (tier 5): this analysis keeps tiers 1 ")
    assert out["sensitivity"] is None  # the selection is already the trials' own reports
    # by default: every tier, the trial's report wins its study (latest cut, best tier), strata at level 1
    default = json.loads(
        run_cli(
            "pool",
            "--outcome",
            "progression-free survival",
            "--statistic",
            "hazard ratio",
            "--by",
            "histology",
            "--kb",
            str(fixture_kb),
            "--json",
        ).stdout
    )
    (pool,) = default["pools"]
    assert pool["histology"] == "nsclc" and [i["histology_term"] for i in pool["inputs"]] == ["nsclc, egfr-mutant"]
    assert default["sensitivity"]["tiers"] == ["trial_full_report", "trial_abstract"]
    bad = run_cli(
        "pool",
        "--outcome",
        "progression-free survival",
        "--statistic",
        "hazard ratio",
        "--kb",
        str(fixture_kb),
        "--tiers",
        "blogs",
    )
    assert bad.returncode == 2 and "unknown tier 'blogs'" in bad.stderr
    as_csv = run_cli(
        "pool",
        "--outcome",
        "progression-free survival",
        "--statistic",
        "hazard ratio",
        "--kb",
        str(fixture_kb),
        "--csv",
    )
    assert as_csv.returncode == 0, as_csv.stderr
    assert as_csv.stdout.splitlines()[0].startswith("stratum,k,estimate,ci_low,ci_high")
    unknown = run_cli("pool", "--outcome", "overall survivl", "--statistic", "hazard ratio", "--kb", str(fixture_kb))
    assert unknown.returncode == 2 and "known: " in unknown.stderr
    by_id = run_cli(
        "pool",
        "--outcome",
        "progression_free_survival",
        "--statistic",
        "hazard_ratio",
        "--by",
        "histology,oligo_state",
        "--kb",
        str(fixture_kb),
        "--json",
        "--tiers",
        "own",
        "--stratum-level",
        "histology=2",
    )  # vocabulary ids, as in `query --param`
    assert by_id.returncode == 0, by_id.stderr
    assert json.loads(by_id.stdout) == out
    as_table = run_cli(
        "pool", "--outcome", "progression_free_survival", "--statistic", "hazard_ratio", "--kb", str(fixture_kb)
    )
    assert (
        as_table.stdout.startswith("hazard ratio of progression-free survival")
        and ": k = 1, HR 0.70" in as_table.stdout
    )
