"""`relecture index` through the CLI: bad input is reported per file, nothing half-written.

The models are stand-ins (tests/archive_fakes.py): these tests are about what is indexed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import pytest
from typer.testing import CliRunner

from relecture.cli import app
from tests.archive_fakes import recent_name
from tests.fakes import write_clip

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("fake_models")


def catalog_counts(home):
    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("recordings", "sightings", "plate_reads")}
    finally:
        db.close()


def test_bad_files_are_reported_and_the_good_one_is_indexed(tmp_path, home):
    footage = tmp_path / "footage"
    good = write_clip(footage / recent_name(3))
    data = good.read_bytes()
    (footage / recent_name(3, minutes=1)).write_bytes(b"")  # empty
    (footage / recent_name(3, minutes=2)).write_bytes(b"this is not a video\n" * 50)
    (footage / recent_name(3, minutes=3)).write_bytes(data[: len(data) // 3])  # truncated
    write_clip(footage / "holiday.mp4")  # no camera, no time
    result = runner.invoke(app, ["index", str(footage), "--settle", "0"])
    assert result.exit_code == 3, result.output
    assert "4 file(s) failed" in result.stderr
    assert "empty file" in result.stdout + result.stderr
    assert "holiday.mp4: camera and start time unknown" in result.stderr.replace("\n", "")
    counts = catalog_counts(home)
    assert counts["recordings"] == 1


def test_reindexing_an_unchanged_file_is_a_no_op(tmp_path, home):
    clip = write_clip(tmp_path / recent_name(3))
    first = runner.invoke(app, ["index", str(clip), "--settle", "0"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["index", str(clip), "--settle", "0"])
    assert again.exit_code == 0, again.output
    assert "already indexed" in again.stdout
    assert catalog_counts(home)["recordings"] == 1


def test_the_catalog_records_every_decoded_picture_and_those_detected(tmp_path, home):
    clip = write_clip(tmp_path / recent_name(3), n=30, fps=10)
    result = runner.invoke(app, ["index", str(clip), "--settle", "0"])
    assert result.exit_code == 0, result.output
    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        decoded, detected = db.execute(
            "SELECT frames_decoded, frames_detected FROM recordings").fetchone()
    finally:
        db.close()
    assert decoded == 30  # every picture of the clip, not the sampled ones
    assert 0 < detected < decoded


def test_sidecar_and_flags_place_the_recording(tmp_path, home):
    clip = write_clip(tmp_path / "export_0001.mp4")
    (tmp_path / "export_0001.mp4.json").write_text(json.dumps({"camera": "7", "tz": "UTC"}))
    refused = runner.invoke(app, ["index", str(clip), "--settle", "0"])
    assert refused.exit_code == 3 and "start time unknown" in refused.stderr
    start = (datetime.now() - timedelta(days=1)).replace(microsecond=0)
    ok = runner.invoke(app, ["index", str(clip), "--start", start.isoformat(), "--settle", "0"])
    assert ok.exit_code == 0, ok.output
    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    row = db.execute("SELECT camera, start_utc FROM recordings").fetchone()
    assert (row[0], row[1]) == ("7", start)


def test_bad_start_flag_is_a_usage_error(tmp_path, home):
    clip = write_clip(tmp_path / "x.mp4")
    result = runner.invoke(app, ["index", str(clip), "--camera", "1", "--start", "hier"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.stderr


def test_an_unknown_detector_is_refused_before_anything_is_written(tmp_path, home):
    clip = write_clip(tmp_path / recent_name(3))
    result = runner.invoke(app, ["index", str(clip), "--detector", "huge"])
    assert result.exit_code == 2 and "unknown detector 'huge'" in result.stderr
    assert not (home / "catalog.duckdb").exists()


def test_index_jobs_are_audited_and_need_the_operator_role(tmp_path, home, monkeypatch):
    from relecture.footage import sha256_file
    from relecture.requisitions.audit import read_records
    from relecture.settings import Home

    clip = write_clip(tmp_path / recent_name(3))
    assert runner.invoke(app, ["index", str(clip), "--settle", "0"]).exit_code == 0
    jobs = [r for r in read_records(Home(home).audit_log) if r.get("action") == "index_job"]
    assert len(jobs) == 1
    assert jobs[0]["objects"]["recordings"] == [sha256_file(clip)]
    assert jobs[0]["objects"]["cameras"] == ["3"]
    monkeypatch.setenv("RELECTURE_USER", "someone.else")  # not in site.toml
    refused = runner.invoke(app, ["index", str(write_clip(tmp_path / recent_name(3, minutes=1))),
                                     "--settle", "0"])
    assert refused.exit_code == 5
    assert catalog_counts(home)["recordings"] == 1
