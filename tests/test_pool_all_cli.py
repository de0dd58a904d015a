"""`oligokb pool --all`: every analysis at once gives the numbers of one `--outcome/--statistic` run each."""

import io
import json

import pandas as pd
import pytest

from tests.conftest import run_cli

NUMBERS = ["k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "p_value", "tau2", "i2", "q", "q_p"]


@pytest.fixture(scope="module")
def every():  # type: ignore[no-untyped-def]
    done = run_cli("pool", "--all", "--by", "histology")
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout))


@pytest.mark.parametrize(
    "outcome,statistic,timepoint",
    [
        ("overall survival", "hazard ratio", None),
        ("progression-free survival", "hazard ratio", None),
        ("overall survival", "landmark rate", 24.0),
    ],
)
def test_all_equals_one_analysis_at_a_time(every, outcome, statistic, timepoint):
    args = ["pool", "--outcome", outcome, "--statistic", statistic, "--by", "histology", "--json"]
    if timepoint is not None:
        args += ["--timepoint", f"{timepoint:g}"]
    one = run_cli(*args)
    assert one.returncode == 0, one.stderr
    pools = pd.DataFrame(json.loads(one.stdout)["pools"]).set_index("stratum")
    mine = every[(every["outcome"] == outcome) & (every["statistic"] == statistic)]
    if timepoint is not None:
        mine = mine[mine["timepoint_months"] == timepoint]
    mine = mine.set_index("stratum")
    assert len(pools) > 0 and sorted(mine.index) == sorted(pools.index)
    for column in NUMBERS:
        pd.testing.assert_series_equal(
            mine[column].astype(float), pools.loc[mine.index, column].astype(float), check_names=False, rtol=1e-10
        )


def test_all_refuses_a_single_analysis_selection():
    done = run_cli("pool", "--all", "--outcome", "overall survival")
    assert done.returncode == 2 and "--all pools every outcome" in done.stderr
