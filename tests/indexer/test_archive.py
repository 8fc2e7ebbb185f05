"""Nightly archive indexing: discovery, site policy, retention, faults, report and audit."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relecture.indexer import shards, task
from relecture.indexer.job import Archive, JobOptions, run_job
from relecture.requisitions.audit import read_records
from relecture.settings import Home
from tests.archive_fakes import (
    catalog_content, fake_components, make_archive, recent_name,
)
from tests.fakes import write_clip

FAST = dict(settle_s=0, recheck_s=0, factory=fake_components)
USER = "test-operator"


def run(root, home, **kw):
    return run_job(Archive(root), Home(home), USER, JobOptions(**{**FAST, **kw}))


def messages(report, status):
    return sorted(o.message for o in report.outcomes if o.status == status)


def test_new_files_are_indexed_once_and_the_job_is_reported_and_audited(tmp_path, home):
    make_archive(tmp_path / "nvr")
    first = run(tmp_path / "nvr", home)
    assert first.count("indexed") == 4 and not first.failed
    assert first.camera_hours > 0 and first.realtime_factor > 0 and first.peak_rss_kb
    content = catalog_content(home)
    assert len(content["recordings"]) == 4 and len(content["sightings"]) == 4
    assert len(content["plate_reads"]) >= 4

    again = run(tmp_path / "nvr", home)
    assert again.count("indexed") == 0 and again.count("skipped") == 4
    assert again.skipped_by_reason() == {"already indexed": 4}
    assert catalog_content(home) == content

    events = [r for r in read_records(Home(home).audit_log) if r["record"] == "event"]
    assert [e["action"] for e in events] == ["index_job_start", "index_job"] * 2
    assert events[0]["objects"] == {"index_job": first.job_id}
    events = events[1::2]
    assert [e["result"] for e in events] == ["done", "done"]
    objects = events[0]["objects"]
    assert objects["index_job"] == first.job_id and len(objects["recordings"]) == 4
    assert objects["cameras"] == ["1", "2"] and objects["counts"]["files_indexed"] == 4
    assert events[0]["role"] == "operator" and events[0]["legal_basis"] is None
    assert not any(".mp4" in json.dumps(e) for e in events)  # references only, no paths
    assert not list((Home(home).root / "shards").iterdir())  # every shard committed


def test_site_policy_decides_what_a_standing_index_extracts(tmp_path, home):
    Path(home).mkdir(parents=True)
    (Path(home) / "site.toml").write_text(
        'retention_days = 10\n[standing_index]\nextractors = ["type", "colour"]\n'
        f'[[users]]\nname = "{USER}"\nroles = ["operator"]\ncameras = ["*"]\n')
    write_clip(tmp_path / "nvr" / recent_name(5))
    write_clip(tmp_path / "nvr" / recent_name(5, hours_ago=24 * 11))  # past retention
    report = run(tmp_path / "nvr", home)
    assert report.count("indexed") == 1 and report.extractors == ("type", "colour")
    assert any("older than the 10-day retention" in m for m in messages(report, "skipped"))
    content = catalog_content(home)
    assert content["plate_reads"] == [] and content["embeddings"] == []
    assert all(row[13] == "None" for row in content["sightings"])  # plate column empty


def test_a_user_without_the_operator_role_may_not_run_the_job(tmp_path, home):
    from relecture.errors import AccessDenied

    Path(home).mkdir(parents=True)
    (Path(home) / "site.toml").write_text(
        f'[[users]]\nname = "{USER}"\nroles = ["investigator"]\ncameras = ["*"]\n')
    make_archive(tmp_path / "nvr", cameras=1, files=1)
    with pytest.raises(AccessDenied, match="index job"):
        run(tmp_path / "nvr", home)


def test_files_still_being_written_wait_for_the_next_run(tmp_path, home):
    make_archive(tmp_path / "nvr", cameras=1, files=1)
    fresh = run(tmp_path / "nvr", home, settle_s=3600)
    assert fresh.count("indexed") == 0
    assert messages(fresh, "skipped")[0].startswith("still being written (modified")

    growing = tmp_path / "nvr" / recent_name(7)
    write_clip(growing)
    os.utime(growing, (time.time() - 600, time.time() - 600))
    stop = threading.Event()

    def keep_writing():
        with open(growing, "ab") as f:
            while not stop.wait(0.05):
                f.write(b"\0" * 100)
                f.flush()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        report = run(tmp_path / "nvr", home, settle_s=0, recheck_s=0.5)
    finally:
        stop.set()
        writer.join()
    assert report.count("indexed") == 1  # the other file, now settled
    assert [str(o.path) for o in report.outcomes if o.status == "skipped"] == [str(growing)]
    assert "still being written (growing)" in messages(report, "skipped")[0]


def test_faults_are_reported_and_the_job_goes_on(tmp_path, home, monkeypatch):
    nvr = tmp_path / "nvr"
    good, full, gone, other = make_archive(nvr, cameras=2, files=2)
    data = good.read_bytes()
    corrupt, truncated = nvr / recent_name(8), nvr / recent_name(9)
    corrupt.write_bytes(b"not a video\n" * 50)
    truncated.write_bytes(data[: len(data) // 3])
    (nvr / "holiday.mp4").write_bytes(data)  # neither camera nor time

    real_hash, real_write = task.sha256_file, shards._write_bytes

    def vanish_then_hash(path):
        if path == gone:
            path.unlink()
        return real_hash(path)

    def disk_full(path, data):
        if path.parent.name.startswith(".tmp-") and path.name == "payload.json" \
                and json.loads(data)["recording"]["path"] == str(full):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(task, "sha256_file", vanish_then_hash)
    monkeypatch.setattr(shards, "_write_bytes", disk_full)
    report = run(nvr, home)
    by_name = {o.path.name: o for o in report.outcomes}
    assert report.count("indexed") == 2 and by_name[good.name].status == "indexed"
    assert by_name[gone.name].status == "skipped" and "vanished" in by_name[gone.name].message
    assert by_name[full.name].status == "failed" and "disk full" in by_name[full.name].message
    assert by_name["holiday.mp4"].status == "failed"
    assert by_name[corrupt.name].status == "failed" and "not a readable video" in \
        by_name[corrupt.name].message
    assert by_name[truncated.name].status == "failed"
    assert len(report.failed) == 4
    assert not list((Home(home).root / "shards").iterdir())  # no temporary left behind
    assert len(catalog_content(home)["recordings"]) == 2  # what was committed stays

    monkeypatch.setattr(shards, "_write_bytes", real_write)
    next_night = run(nvr, home)
    assert [o.path.name for o in next_night.outcomes if o.status == "indexed"] == [full.name]
    assert len(catalog_content(home)["recordings"]) == 3


def test_disk_full_while_committing_keeps_the_shard_for_the_next_run(tmp_path, home,
                                                                     monkeypatch):
    from relecture.catalog import Catalog

    make_archive(tmp_path / "nvr", cameras=1, files=2)

    def no_space(self, sha256, s):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(Catalog, "_write_thumbnail", no_space)
        report = run(tmp_path / "nvr", home)
    assert report.count("failed") == 2 and all("disk full" in m for m in
                                               messages(report, "failed"))
    assert len(shards.complete_shards(shards.job_dir(Home(home), report.job_id))) == 2
    retry = run(tmp_path / "nvr", home)
    assert [o.status for o in retry.recovered] == ["indexed", "indexed"]  # for the first job
    assert all("interrupted job" in o.message for o in retry.recovered)
    assert retry.skipped_by_reason() == {"already indexed": 2}
    assert len(catalog_content(home)["recordings"]) == 2
    recovery = [r for r in read_records(Home(home).audit_log)
                if r.get("action") == "index_job_recovery"]
    assert len(recovery) == 1 and recovery[0]["objects"]["index_job"] == report.job_id
    assert len(recovery[0]["objects"]["recordings"]) == 2


def test_two_local_workers_give_the_same_catalog_as_one(tmp_path, home):
    make_archive(tmp_path / "nvr", cameras=2, files=2)
    run(tmp_path / "nvr", tmp_path / "one")
    report = run(tmp_path / "nvr", tmp_path / "two", workers=2)
    assert report.executor == "pool" and report.count("indexed") == 4
    assert len(report.peak_rss_kb) >= 1
    assert all(20_000 < v < 8_000_000 for v in report.peak_rss_kb.values())  # KiB: tens of MB
    assert catalog_content(tmp_path / "two") == catalog_content(tmp_path / "one")


def test_cli_archive_mode_prints_the_report(tmp_path, home, monkeypatch):
    from relecture.cli import app

    make_archive(tmp_path / "nvr", cameras=1, files=2)
    monkeypatch.setattr("relecture.indexer.pipeline.build_components", fake_components)
    result = CliRunner().invoke(app, ["index", "--archive", str(tmp_path / "nvr"),
                                      "--settle", "0", "--json"])
    again = CliRunner().invoke(app, ["index", "--archive", str(tmp_path / "nvr"),
                                     "--settle", "0"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files"] == {"indexed": 2, "skipped": 0, "failed": 0}
    assert report["camera_hours"] > 0 and report["audit_seq"] == 2  # after its start entry
    assert again.exit_code == 0, again.output
    assert "0 indexed, 2 skipped (2 already indexed), 0 failed" in " ".join(again.stdout.split())
    both = CliRunner().invoke(app, ["index", str(tmp_path), "--archive", str(tmp_path)])
    assert both.exit_code == 2


def test_frames_are_streamed_and_never_kept_whatever_the_length():
    """Memory per worker is bounded by the live tracks, not the recording's length."""
    import weakref

    from relecture.detections import Frame
    from relecture.indexer.pipeline import index_frames
    from tests.fakes import ColourBlobDetector, fake_describer, moving_square_frames

    refs = []
    alive_max = [0]

    def long_recording(passages=40):
        for p in range(passages):
            for f in moving_square_frames(n=30):
                frame = Frame(index=p * 30 + f.index, t=p * 6.0 + f.t, image=f.image)
                refs.append(weakref.ref(frame.image))
                alive_max[0] = max(alive_max[0], sum(r() is not None for r in refs[-200:]))
                yield frame

    result = index_frames(long_recording(), ColourBlobDetector(), fake_describer())
    assert len(refs) == 1200 and len(result.sightings) == 40
    assert alive_max[0] <= 3  # the frame being processed (and the one before), no more
    assert sum(r() is not None for r in refs) <= 1
