"""Rule 0 of the pooling policy: curation flags (analysis/flag_rule.py, docs/curation-flags.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_pool_all import assert_same_selection

from analysis import flag_rule
from analysis.errors import InputError
from analysis.policy import select_estimates
from analysis.policy_batch import poolable_combos

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    from kb.export import evidence_table
    from kb.store import load_store

    return evidence_table(load_store(ROOT / "data" / "studies.ttl"))


def test_the_rule_knows_the_vocabulary():
    from terms.vocabulary import terms

    assert flag_rule.FLAG_KINDS == terms("curation_flag")
    with pytest.raises(InputError, match="not a curation flag"):
        flag_rule.excluded_flags(["no_such_flag"])


def test_direction_doubtful_hazard_ratios_are_left_out_with_their_reason(bundled):
    sel = select_estimates(bundled, outcome="overall survival", statistic="hazard ratio", include_secondary=True)
    flagged = sel.excluded[sel.excluded["flags"].str.contains("direction_doubtful")]
    assert len(flagged) == 5  # the seven bourgier HRs: five of overall survival, two of PFS
    assert flagged["reason"].str.startswith("curation flag direction_doubtful: ").all()
    assert not sel.used["flags"].str.contains("direction_doubtful").any()
    pfs = select_estimates(
        bundled, outcome="progression-free survival", statistic="hazard ratio", include_secondary=True
    )
    assert pfs.excluded["flags"].str.contains("direction_doubtful").sum() == 2


def _row_pair(bundled: pd.DataFrame) -> pd.DataFrame:
    """A poolable rate row of the bundled KB entered twice, the copy flagged as the duplicate."""
    sel = select_estimates(bundled, outcome="overall survival", statistic="landmark rate", timepoint_months=24)
    kept = sel.used.iloc[0]
    original = bundled[bundled["statistic_id"] == kept["statistic_id"]]
    copy = original.assign(
        statistic_id=original["statistic_id"] + "-again",
        flags="duplicate_of",
        flag_reasons=f"duplicate_of: entered twice [other: {kept['statistic_id']}]",
    )
    return pd.concat([bundled, copy], ignore_index=True), kept["statistic_id"]


def test_a_duplicate_resolves_to_the_preferred_figure(bundled):
    table, preferred = _row_pair(bundled)
    sel = select_estimates(table, outcome="overall survival", statistic="landmark rate", timepoint_months=24)
    assert preferred in set(sel.used["statistic_id"])
    (reason,) = sel.excluded.loc[sel.excluded["statistic_id"] == preferred + "-again", "reason"]
    assert reason == f"curation flag duplicate_of: entered twice [other: {preferred}] (the preferred figure is used)"


def test_exclude_flag_leaves_out_low_confidence_mappings(bundled):
    args = dict(outcome="overall survival", statistic="landmark rate", timepoint_months=24)
    base = select_estimates(bundled, **args)
    sens = select_estimates(bundled, **args, exclude_flags=("mapping_low_confidence",))
    assert base.used["flags"].str.contains("mapping_low_confidence").any()
    assert not sens.used.get("flags", pd.Series([], dtype=str)).str.contains("mapping_low_confidence").any()
    assert sens.excluded["reason"].str.startswith("curation flag mapping_low_confidence").any()


def test_a_table_without_flags_is_pooled_as_before(bundled):
    args = dict(outcome="overall survival", statistic="landmark rate", timepoint_months=24)
    a = select_estimates(bundled.assign(flags=""), **args)
    b = select_estimates(bundled.drop(columns=["flags", "flag_reasons"]), **args)
    assert len(a.used) and list(a.used["statistic_id"]) == list(b.used["statistic_id"])


@pytest.mark.parametrize("exclude", [(), ("mapping_low_confidence",), ("value_doubtful", "ci_level_doubtful")])
def test_batch_selection_equals_select_estimates_with_flags(bundled, exclude):
    table, _ = _row_pair(bundled)
    for include_secondary in (False, True):
        assert assert_same_selection(table, poolable_combos(table), (), include_secondary, exclude) >= 0


def test_pool_command_names_the_flags_and_takes_exclude_flag():
    from tests.conftest import run_cli

    out = run_cli("pool", "--outcome", "overall survival", "--statistic", "hazard ratio", "--include-secondary")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("curation flag direction_doubtful: ") == 5
    sens = run_cli(
        "pool",
        "--outcome",
        "overall survival",
        "--statistic",
        "landmark rate",
        "--timepoint",
        "24",
        "--exclude-flag",
        "mapping_low_confidence",
        "--json",
    )
    assert sens.returncode == 0, sens.stderr
    import json

    reasons = [r["reason"] for r in json.loads(sens.stdout)["excluded"]]
    assert any(r.startswith("curation flag mapping_low_confidence") for r in reasons)
    bad = run_cli("pool", "--outcome", "overall survival", "--statistic", "hazard ratio", "--exclude-flag", "nope")
    assert bad.returncode == 2 and "not a curation flag" in bad.stderr


def test_batch_equals_select_estimates_on_a_synthetic_kb_with_flags():
    from test_pool_all import SYNTH_1K

    if not SYNTH_1K.exists():
        pytest.skip(
            f"{SYNTH_1K} not there (uv run python -m benches.scale --studies 1000 --stages build, then oligokb export --format csv --kb /tmp/oligokb-bench/n1000/studies.ttl --out it)"
        )
    table = pd.read_csv(SYNTH_1K, dtype=str, keep_default_na=False)
    kinds = ["direction_doubtful", "do_not_pool", "value_doubtful", "duplicate_of"]
    extra = [kinds[i % 4] if i % 5 == 0 else "" for i in range(len(table))]
    table["flags"] = [
        ";".join(sorted(filter(None, {a, *b.split(";")}))) for a, b in zip(extra, table["flags"], strict=True)
    ]
    table["flag_reasons"] = [
        " | ".join(f"{c}: synthetic reason" for c in f.split(";")) if f else "" for f in table["flags"]
    ]
    combos = poolable_combos(table)[:12]
    assert assert_same_selection(table, combos, (), False, ("mapping_low_confidence",)) > 0
