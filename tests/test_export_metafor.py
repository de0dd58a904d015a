"""`oligokb export --format metafor|revman`: the pools' inputs re-run by metafor give `oligokb pool all`'s
numbers.

The fixture tests/reference/pooled_R_bundled.csv was made by R (tests/reference/make_pooled_R_bundled.sh:
the export's reproduce.R on the bundled knowledge base, metafor 3.8-1, tight control); regenerate it when
data/studies.ttl changes. k = 1 strata: metafor fits them (estimate = yi, z CI) and reproduce.R reports no
tau2 or I2, as `pool` does; a stratum metafor refuses is reported in the `note` column (none on the bundled
KB; the last test makes one).
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.export_metafor import (
    POOL_INPUT_COLUMNS,
    POOLED_COLUMNS,
    REVMAN_COLUMNS,
    pool_inputs,
    pooled_table,
    revman_table,
)
from analysis.kb_pool import pool_all
from kb.backend import open_kb
from kb.export import evidence_table
from tests.conftest import ROOT, run_cli

FIXTURE = ROOT / "tests" / "reference" / "pooled_R_bundled.csv"
BUNDLED_KB = ROOT / "data" / "studies.ttl"
#: metafor with threshold/tol 1e-12 against our 1e-12 iteration: ~1e-8 in practice (guide/numerics.md).
RTOL = 1e-6
#: tau2 and I2 at the boundary (0) have no relative scale: an absolute floor for them.
ATOL_HETEROGENEITY = 1e-9


@pytest.fixture(scope="module")
def bundled_pools():
    return pool_all(evidence_table(open_kb(BUNDLED_KB)))


def read_pooled(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#", keep_default_na=False, na_values=[""])


def assert_matches_metafor(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    keys = ["analysis", "stratum"]
    assert list(theirs.columns[: len(POOLED_COLUMNS)]) == list(POOLED_COLUMNS)
    # The grid is complete both ways: no stratum dropped or added on either side.
    assert sorted(map(tuple, ours[keys].to_numpy())) == sorted(map(tuple, theirs[keys].to_numpy()))
    refused = theirs[theirs["note"].fillna("").str.startswith("metafor refused")]
    assert refused.empty, f"metafor refused strata: {refused[keys].to_numpy().tolist()}"
    both = ours.merge(theirs, on=keys, suffixes=("", "_R"))
    assert (both["k"] == both["k_R"]).all()
    for col in ("estimate", "ci_low", "ci_high"):
        np.testing.assert_allclose(both[col], both[f"{col}_R"], rtol=RTOL, atol=0, err_msg=col)
    pooled = both["k"] >= 2
    for col in ("tau2", "i2"):
        np.testing.assert_allclose(
            both.loc[pooled, col], both.loc[pooled, f"{col}_R"], rtol=RTOL, atol=ATOL_HETEROGENEITY, err_msg=col
        )
        # k = 1: neither side reports heterogeneity.
        assert both.loc[~pooled, col].isna().all() and both.loc[~pooled, f"{col}_R"].isna().all()


def test_pool_all_equals_the_metafor_fixture(bundled_pools):
    theirs = read_pooled(FIXTURE)
    assert (theirs["k"] >= 2).sum() >= 5  # the fixture exercises real pools, not only single studies
    assert_matches_metafor(pooled_table(bundled_pools), theirs)


def test_pool_inputs_are_the_pools_inputs(bundled_pools):
    inputs = pool_inputs(bundled_pools)
    assert list(inputs.columns) == list(POOL_INPUT_COLUMNS)
    assert len(inputs) == int(bundled_pools.strata["k"].sum())
    np.testing.assert_allclose(inputs["sei"] ** 2, inputs["vi"], rtol=1e-12)
    assert set(inputs["method"]) == {"REML"} and set(inputs["test"]) == {"z"} and set(inputs["level"]) == {95.0}
    pfs = inputs[inputs["analysis"] == "progression-free survival | hazard ratio"]
    assert set(pfs["scale"]) == {"log"} and len(pfs) == 13
    assert set(inputs.loc[inputs["analysis"].str.contains("landmark rate"), "scale"]) == {"logit"}


def test_revman_rows_are_log_hazard_ratios_with_their_se(bundled_pools):
    table = revman_table(bundled_pools)
    assert list(table.columns) == list(REVMAN_COLUMNS)
    assert table["Analysis name"].str.contains("hazard ratio").all()  # rates are not GIV contrasts
    # NROG-002's PFS HR 0.57 has no CI, an exact p = 0.004: SE = |ln 0.57| / z(1 - 0.004 / 2).
    row = table[table["Footnotes"].str.startswith("sun2025-jco/nrog-002-trt-egfr/stat/pfs-hr:")].iloc[0]
    assert row["GIV Mean"] == pytest.approx(math.log(0.57), rel=1e-12)
    assert row["GIV SE"] == pytest.approx(abs(math.log(0.57)) / stats.norm.isf(0.002), rel=1e-12)
    assert row["Footnotes"].endswith("SE from exact p = 0.004")
    assert row["Study year"] == "2025" and row["Subgroup"] == "randomised"


def test_export_metafor_needs_an_out_directory():
    done = run_cli("export", "--format", "metafor")
    assert done.returncode == 2
    assert "--out DIR" in done.stderr


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript (R with metafor) is not installed")
def test_reproduce_R_end_to_end(tmp_path, bundled_pools):
    out = tmp_path / "new" / "bundle"  # made if missing
    done = run_cli("export", "--format", "metafor", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pool_inputs.csv", "reproduce.R"]
    ran = subprocess.run(["Rscript", str(out / "reproduce.R")], capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert_matches_metafor(pooled_table(bundled_pools), read_pooled(out / "pooled_R.csv"))


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript (R with metafor) is not installed")
def test_reproduce_R_reports_a_stratum_metafor_refuses(tmp_path):
    script = (ROOT / "analysis" / "reproduce_metafor.R").read_text(encoding="utf-8")
    (tmp_path / "reproduce.R").write_text(script, encoding="utf-8")
    base = {"study": "s", "statistic_id": "x", "publication_id": "p", "scale": "log", "method": "REML"}
    base |= {"test": "z", "level": 95, "derivation_route": "SE from 95% CI"}
    rows = [
        base | {"analysis": "a", "stratum": "fine", "yi": -0.5, "vi": 0.04, "sei": 0.2},
        base | {"analysis": "a", "stratum": "fine", "yi": -0.3, "vi": 0.09, "sei": 0.3},
        # A negative variance: metafor constrains it to 0 and then cannot weigh the studies.
        base | {"analysis": "a", "stratum": "broken", "yi": 0.1, "vi": -0.1, "sei": 0.0},
        base | {"analysis": "a", "stratum": "broken", "yi": 0.2, "vi": 0.1, "sei": 0.3},
    ]
    pd.DataFrame(rows, columns=list(POOL_INPUT_COLUMNS)).to_csv(tmp_path / "pool_inputs.csv", index=False)
    ran = subprocess.run(["Rscript", str(tmp_path / "reproduce.R")], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    pooled = read_pooled(tmp_path / "pooled_R.csv").set_index("stratum")
    assert pooled.loc["broken", "note"].startswith("metafor refused this stratum:")
    assert math.isnan(pooled.loc["broken", "estimate"])
    # The fine stratum is still pooled: two studies, fixed-effect weights 25 and 11.1 (tau2 = 0 here).
    w = np.array([1 / 0.04, 1 / 0.09])
    assert pooled.loc["fine", "estimate"] == pytest.approx(math.exp((w @ [-0.5, -0.3]) / w.sum()), rel=1e-9)
