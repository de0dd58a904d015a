"""Shared fixtures for the analysis tests (fixed seeds only)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from metafor_reference import FIXTURES  # noqa: E402


@pytest.fixture(scope="session")
def fixtures() -> dict:
    return FIXTURES


@pytest.fixture(scope="session")
def datasets(fixtures) -> dict:
    return fixtures["datasets"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)
