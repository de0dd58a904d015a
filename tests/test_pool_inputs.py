"""`oligokb pool kb` puts each pool's inputs in the open: `--inputs` CSV rows equal the StratumPool's,
the weights of a stratum add up to 100, `--param` filters as `export` does, and each input says how its
SE was obtained (the CI at its level, the exact p as printed, the events and n of a rate)."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
from scipy import stats

from analysis.kb_pool import INPUT_TABLE_COLUMNS, pool_knowledge_base
from kb.backend import open_kb
from kb.export import evidence_table
from tests.analysis.test_policy import row, table
from tests.conftest import ROOT, run_cli

BUNDLED_KB = ROOT / "data" / "studies.ttl"
PFS_HR = ("--outcome", "progression-free survival", "--statistic", "hazard ratio", "--kb", str(BUNDLED_KB))


def inputs_csv(*args: str) -> pd.DataFrame:
    done = run_cli("pool", "kb", *PFS_HR, "--format", "csv", "--inputs", *args)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout), keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def bundled_table() -> pd.DataFrame:
    return evidence_table(open_kb(BUNDLED_KB))


def test_input_rows_equal_the_stratum_pools(bundled_table):
    csv = inputs_csv()
    assert list(csv.columns) == list(INPUT_TABLE_COLUMNS)
    pool = pool_knowledge_base(bundled_table, outcome="progression-free survival", statistic="hazard ratio")
    expected = [(p.stratum, i) for p in pool.pools for i in p.inputs()]
    assert len(csv) == len(expected) > 2
    for (_, got), (stratum, want) in zip(csv.iterrows(), expected, strict=True):
        assert got["stratum"] == stratum and got["statistic_id"] == want["statistic_id"]
        assert got["publication_id"] == want["publication_id"] and got["derivation_route"] == want["derivation_route"]
        for col in ("yi", "vi", "sei", "weight_pct"):
            assert got[col] == pytest.approx(want[col], rel=1e-15)
    assert ((csv["sei"] ** 2 - csv["vi"]).abs() < 1e-15).all()
    for _, part in csv.groupby("stratum"):
        assert part["weight_pct"].sum() == pytest.approx(100.0, abs=1e-9)


def test_param_filters_the_pool_as_export_filters_the_table(bundled_table):
    nsclc = evidence_table(open_kb(BUNDLED_KB), {"histology": "nsclc"})
    everything = inputs_csv()
    only = inputs_csv("--param", "histology=nsclc")
    assert 0 < len(only) < len(everything)
    assert set(only["statistic_id"]) <= set(nsclc["statistic_id"])
    left_out = set(everything["statistic_id"]) - set(nsclc["statistic_id"])
    assert left_out and not (left_out & set(only["statistic_id"]))


def test_a_param_that_is_not_key_value_is_refused():
    done = run_cli("pool", "kb", *PFS_HR, "--param", "histology")
    assert done.returncode == 2 and "key=value" in done.stderr and not done.stdout


def test_the_table_lists_each_input_with_its_derivation():
    done = run_cli("pool", "kb", *PFS_HR)
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    nrog = [line for line in lines if "sun2025-jco [tier 2]" in line]
    assert len(nrog) == 1 and nrog[0].endswith("SE from exact p = 0.004") and "HR 0.57" in nrog[0]


def test_inputs_is_for_csv():
    done = run_cli("pool", "kb", *PFS_HR, "--json", "--inputs")
    assert done.returncode == 2 and "--inputs" in done.stderr


def _routes(*rows: dict, statistic: str = "hazard ratio", **kw) -> dict[str, str]:
    result = pool_knowledge_base(table(*rows), outcome="overall survival", statistic=statistic, **kw)
    return {i["study_id"]: i["derivation_route"] for p in result.pools for i in p.inputs()}


def test_derivation_routes_name_the_ci_level_and_the_exact_p():
    routes = _routes(
        row(study_id="a", publication_id="a1", value="0.70", ci_low="0.50", ci_high="0.98", ci_level="0.80"),
        row(study_id="b", publication_id="b1", value="0.60", p_value="0.03"),
        row(study_id="c", publication_id="c1", value="0.57", ci_low="0.30", ci_high="1.10"),
        row(study_id="d", publication_id="d1", value="0.80", ci_low="0.60", ci_high="1.05", ci_level="0.975"),
    )
    assert routes == {
        "a": "SE from 80% CI",
        "b": "SE from exact p = 0.03",
        "c": "SE from 95% CI",
        "d": "SE from 97.5% CI",  # never rounded to a whole percent
    }


def test_an_exact_p_gives_the_se_it_names():
    result = pool_knowledge_base(
        table(
            row(study_id="b", publication_id="b1", value="0.60", p_value="0.03"),
            row(study_id="c", publication_id="c1", value="0.57", ci_low="0.30", ci_high="1.10"),
        ),
        outcome="overall survival",
        statistic="hazard ratio",
    )
    b = next(i for p in result.pools for i in p.inputs() if i["study_id"] == "b")
    assert b["sei"] == pytest.approx(abs(math.log(0.6)) / stats.norm.isf(0.03 / 2), rel=1e-12)


def test_a_rate_names_its_events_and_n():
    rate = dict(statistic="landmark rate", timepoint_months="24", unit="percent", ci_level="")
    routes = _routes(
        row(study_id="r", publication_id="r1", value="19", n="100", **rate),
        row(study_id="z", publication_id="z1", value="0", n="40", **rate),
        statistic="landmark rate",
        timepoint_months=24,
    )
    assert routes == {
        "r": "logit of events = rate x n: 19% x 100 = 19 events",
        "z": "logit of events = rate x n: 0% x 40 = 0 events (+0.5 correction)",
    }
