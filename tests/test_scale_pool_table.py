"""`benches.scale --pool-table FILE` runs the pool stage on a kept evidence table and writes nothing: the way to
time pooling on a large KB whose table cache another checkout wrote (docs/performance.md, issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_pool_stage_on_a_parquet_table_pools_every_stratum_as_one_at_a_time(tmp_path: Path) -> None:
    from kb.export import evidence_table
    from kb.store import load_store

    table = evidence_table(load_store(ROOT / "data" / "studies.ttl"))
    source = tmp_path / "evidence.parquet"
    table.to_parquet(source, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "benches.scale", "--pool-table", str(source), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["rows"] == len(table) and out["input"] == str(source)
    assert out["pooled_strata"] >= 1 and out["strata"] >= out["pooled_strata"]
    assert out["max_rel_diff_vs_one_at_a_time"] < 1e-10  # each stratum refitted alone by meta_analysis
    assert out["per_analysis_path_strata"] == out["strata"]  # the old per-analysis path finds the same strata
    assert 0 < out["seconds"] <= min(out["runs_s"]) + 1e-9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.parquet"]  # nothing built or written
