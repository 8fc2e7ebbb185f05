"""The same task function on Ray (a private local cluster here), with the same result."""

from __future__ import annotations

from dataclasses import replace

import pytest

from relecture.indexer.job import Archive, JobOptions, run_job
from relecture.settings import Home
from tests.archive_fakes import catalog_content, fake_components, make_archive, subprocess_env


def test_ray_runs_the_tasks_and_the_catalog_is_the_same_as_locally(tmp_path, home, monkeypatch):
    ray = pytest.importorskip("ray")
    # Ray's worker processes must import the test fakes, as they would import relecture.
    monkeypatch.setenv("PYTHONPATH", subprocess_env()["PYTHONPATH"])
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    make_archive(tmp_path / "nvr", cameras=2, files=2)
    fast = JobOptions(settle_s=0, recheck_s=0, factory=fake_components)
    local = run_job(Archive(tmp_path / "nvr"), Home(tmp_path / "local"), "test-operator", fast)
    report = run_job(Archive(tmp_path / "nvr"), Home(home), "test-operator",
                     replace(fast, workers=2, ray_address="local"))
    assert not ray.is_initialized()  # the private cluster is shut down after the job
    assert report.executor == "ray" and report.count("indexed") == 4, report.as_dict()
    assert local.count("indexed") == 4
    # each worker's peak memory, as the report prints it: a Python process with numpy and
    # DuckDB loaded holds tens of MB, far from 0 and from the whole machine
    assert all(20_000 < v < 8_000_000 for v in report.peak_rss_kb.values())
    assert catalog_content(home) == catalog_content(tmp_path / "local")
