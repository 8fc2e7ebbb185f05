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
def fake_models(monkeypatch):
    """Indexing with tests/fakes' detector and describer instead of the real models (use it
    with `pytestmark = pytest.mark.usefixtures("fake_models")`)."""
    from tests.archive_fakes import fake_components

    # a worker's models are cached per process, keyed by the factory: nothing to clear
    monkeypatch.setattr("relecture.indexer.pipeline.build_components", fake_components)
    yield


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty catalog home, also set as RELECTURE_HOME for CLI calls."""
    h = tmp_path / "home"
    monkeypatch.setenv("RELECTURE_HOME", str(h))
    monkeypatch.setenv("RELECTURE_USER", "test-operator")
    return h


def pytest_collection_modifyitems(items) -> None:
    """A test that takes the `shared_data` fixture is marked `shared_data` and `slow` (it
    runs real models on ../shared/data), so `-m "not slow"` leaves it out."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)
            item.add_marker(pytest.mark.slow)
