"""Fault suite for footage intake: each hole of issue 10 replayed through the CLI.

Every case runs `relecture index` (named files, or `--archive`) on real clips made here, with
stand-in models, and checks the exit code, the one-line reason and what the catalog holds
afterwards (a refused file leaves nothing in it; the rest of the batch is indexed).
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading

import duckdb
import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.footage import sha256_file
from relecture.indexer.lock import job_lock
from relecture.requisitions.audit import read_records
from relecture.settings import Home
from tests.archive_fakes import recent_name
from tests.cli_builders import index
from tests.fakes import write_clip

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("fake_models")


def recordings(home) -> dict[str, str]:
    """{file name: camera} of what the catalog holds ({} when there is no catalog)."""
    if not (home / "catalog.duckdb").exists():
        return {}
    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        return {os.path.basename(p): c for p, c in
                db.execute("SELECT path, camera FROM recordings").fetchall()}
    finally:
        db.close()


def reason(result, name: str) -> str:
    """The report's line about file `name` (reasons are printed one unwrapped line each)."""
    lines = [ln for ln in result.stdout.splitlines() if name in ln and ": " in ln]
    assert len(lines) == 1, result.output
    return lines[0]


def usage_error(result) -> str:
    """The single stderr line of a refused command (no traceback)."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# -- 5. a file that ends before its declared duration -----------------------------------------
def test_a_truncated_recording_fails_and_leaves_nothing(tmp_path, home):
    good = write_clip(tmp_path / recent_name(1), n=150, faststart=True)
    cut = tmp_path / recent_name(1, minutes=20)
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # `head -c`: the header still says 15 s
    result = index(str(good), str(cut))
    assert result.exit_code == 3, result.output
    line = reason(result, cut.name)
    assert "failed" in line and "ends early" in line and "15.0 s its header declares" in line
    assert recordings(home) == {good.name: "1"}


# -- 6. one bad value: a usage error for a flag, one failed file for a sidecar -----------------
@pytest.mark.parametrize("flags, says", [
    (["--clock-offset", "1e20"], "--clock-offset 1e+20"),
    (["--clock-offset", "nan"], "--clock-offset nan"),
    (["--start", "0001-01-01T00:00:00", "--tz", "Asia/Tokyo"], "falls outside the calendar"),
    (["--camera", ""], "--camera ''"),
])
def test_a_bad_flag_is_a_usage_error_before_anything_is_read(tmp_path, home, flags, says):
    clip = write_clip(tmp_path / recent_name(2))
    line = usage_error(index(str(clip), *flags))
    assert says in line
    assert not (home / "catalog.duckdb").exists()


SIDECARS = [({"clock_offset_s": 1e20}, "clock_offset_s 1e+20"),
            ({"clock_offset_s": "abc"}, "clock_offset_s 'abc'"),
            ({"tz": 5}, "tz 5"),
            ({"camera": "../../x"}, "camera '../../x'")]


def _batch_with_bad_sidecars(folder):
    """A good clip and one clip per bad sidecar, all recent and complete."""
    good = write_clip(folder / recent_name(3, minutes=50))
    bad = []
    for i, (sidecar, _) in enumerate(SIDECARS):
        clip = write_clip(folder / recent_name(3, minutes=10 * i), n=30 + i)
        clip.with_name(clip.name + ".json").write_text(json.dumps(sidecar))
        bad.append(clip)
    return good, bad


def test_bad_sidecars_fail_alone_and_the_batch_goes_on(tmp_path, home):
    good, bad = _batch_with_bad_sidecars(tmp_path / "footage")
    result = index(str(tmp_path / "footage"))
    assert result.exit_code == 3, result.output
    assert "4 file(s) failed" in result.stderr and "Traceback" not in result.output
    for clip, (_, says) in zip(bad, SIDECARS):
        line = reason(result, clip.name)
        assert "failed" in line and says in line, line
    assert recordings(home) == {good.name: "3"}


def test_bad_sidecars_in_the_archive_fail_alone_and_the_job_is_audited(tmp_path, home):
    good, bad = _batch_with_bad_sidecars(tmp_path / "nvr" / "cam3")
    result = index("--archive", str(tmp_path / "nvr"), "--json")
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    assert report["files"] == {"indexed": 1, "skipped": 0, "failed": 4}
    failures = {os.path.basename(f["file"]): f["message"] for f in report["failures"]}
    for clip, (_, says) in zip(bad, SIDECARS):
        assert says in failures[clip.name] and "\n" not in failures[clip.name]
    assert recordings(home) == {good.name: "3"}
    jobs = [r for r in read_records(Home(home).audit_log) if r.get("action") == "index_job"]
    assert jobs[0]["objects"]["counts"]["files_failed"] == 4


# -- 7. starts in the future, or past the retention --------------------------------------------
def test_a_start_in_the_future_is_refused(tmp_path, home):
    far = write_clip(tmp_path / "CAM4_29990601T120000.mp4")
    offset = write_clip(tmp_path / recent_name(4), n=31)  # a camera clock 30 years behind
    offset.with_name(offset.name + ".json").write_text(json.dumps({"clock_offset_s": -9.5e8}))
    result = index(str(far), str(offset))
    assert result.exit_code == 3, result.output
    assert "starts in the future (2999-06-01 10:00 UTC)" in reason(result, far.name)
    assert "starts in the future (20" in reason(result, offset.name)
    assert recordings(home) == {}


def test_footage_past_the_retention_is_not_indexed(tmp_path, home):
    old = write_clip(tmp_path / recent_name(4, hours_ago=24 * 31))
    result = index(str(old))
    assert result.exit_code == 0, result.output
    assert "skipped" in reason(result, old.name)
    assert "older than the 30-day retention: not indexed" in reason(result, old.name)
    assert recordings(home) == {}


# -- 8. a file still being written ------------------------------------------------------------
def test_a_file_just_written_waits_for_its_settle_time(tmp_path, home):
    clip = write_clip(tmp_path / recent_name(5))
    result = runner.invoke(app, ["index", str(clip)])  # the default --settle, 120 s
    assert result.exit_code == 0, result.output
    assert re.search(r"still being written \(modified \d s ago\)", reason(result, clip.name))
    assert recordings(home) == {}


def test_a_file_that_grows_while_decoded_is_not_recorded_with_a_stale_hash(
        tmp_path, home, monkeypatch):
    from relecture.indexer import decode

    clip = write_clip(tmp_path / recent_name(5))
    real = decode.sample_frames

    def grows(path, fps, stats=None):
        for i, frame in enumerate(real(path, fps, stats)):
            if i == 1:
                with open(path, "ab") as f:  # the recorder appends while we decode
                    f.write(b"\0" * 4096)
            yield frame

    monkeypatch.setattr(decode, "sample_frames", grows)
    first = index(str(clip))
    assert first.exit_code == 0, first.output
    assert "still being written (changed while indexed)" in reason(first, clip.name)
    assert recordings(home) == {}

    monkeypatch.setattr(decode, "sample_frames", real)  # the recording has finished
    again = index(str(clip))
    assert again.exit_code == 0, again.output
    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    shas = db.execute("SELECT recording_id FROM recordings").fetchall()
    db.close()
    assert shas == [(sha256_file(clip),)]  # the hash of every byte, recorded once


# -- 9. camera ids ----------------------------------------------------------------------------
def test_a_null_sidecar_camera_keeps_the_camera_of_the_name(tmp_path, home):
    clip = write_clip(tmp_path / recent_name(6))
    clip.with_name(clip.name + ".json").write_text(json.dumps({"camera": None}))
    result = index(str(clip))
    assert result.exit_code == 0, result.output
    assert recordings(home) == {clip.name: "6"}


# -- 10. only regular files are footage -------------------------------------------------------
def test_a_named_pipe_is_refused_without_hanging(tmp_path, home):
    fifo = tmp_path / recent_name(7)
    os.mkfifo(fifo)
    good = write_clip(tmp_path / recent_name(7, minutes=5))

    def hung(signum, frame):
        raise TimeoutError("the job hung on the pipe")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        result = index(str(fifo), str(good))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.exit_code == 3, result.output
    assert "not a regular file" in reason(result, fifo.name)
    assert recordings(home) == {good.name: "7"}


# -- 13. one index job per catalog ------------------------------------------------------------
def test_a_second_index_job_is_refused_with_exit_2(tmp_path, home):
    clip = write_clip(tmp_path / "nvr" / recent_name(8))
    Home(home).ensure()
    held = threading.Event()
    release = threading.Event()

    def first_job():  # another process's job would hold the same flock
        with job_lock(Home(home)):
            held.set()
            release.wait(30)

    t = threading.Thread(target=first_job)
    t.start()
    try:
        assert held.wait(10)
        plain = usage_error(index(str(clip)))
        nightly = usage_error(index("--archive", str(tmp_path / "nvr")))
    finally:
        release.set()
        t.join()
    assert "another index job is running" in plain and "another index job is running" in nightly
    assert recordings(home) == {}
    assert index(str(clip)).exit_code == 0  # once the first job is done
    assert recordings(home) == {clip.name: "8"}
