"""Shared fixtures: paths, a CLI runner that runs `oligokb` as a user would, the fixture sheets."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VALID_SHEETS = ROOT / "tests" / "data" / "valid"


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """`oligokb ARGS` in a subprocess (the console script's module), capturing output."""
    cmd = [sys.executable, "-c", "from cli import main; main()", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def sheets(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture sheets."""
    target = tmp_path / "extractions"
    shutil.copytree(VALID_SHEETS, target)
    return target


@pytest.fixture(scope="session")
def fixture_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture sheets built into a Turtle file."""
    out = tmp_path_factory.mktemp("kb") / "studies.ttl"
    result = run_cli("build", "--sheets", str(VALID_SHEETS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out
