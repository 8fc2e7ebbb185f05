"""Shared fixtures: where the real third-party data lives, and fresh catalog homes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RELECTURE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (real footage and labelled photos); skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (set RELECTURE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty catalog home, also set as RELECTURE_HOME for CLI calls."""
    h = tmp_path / "home"
    monkeypatch.setenv("RELECTURE_HOME", str(h))
    monkeypatch.setenv("RELECTURE_USER", "test-operator")
    return h
