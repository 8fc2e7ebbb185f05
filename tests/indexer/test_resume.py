"""A nightly job killed at any moment is finished by the next run, exactly; searches (read-only
opens from another process) keep working while a job commits."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from relecture.catalog import Catalog
from relecture.errors import NotFound
from relecture.indexer import shards
from relecture.indexer.job import Archive, JobOptions, run_job
from relecture.requisitions.audit import read_records
from relecture.settings import Home
from tests.archive_fakes import (
    catalog_content, fake_components, make_archive, make_shard, start_job,
)

USER = "test-operator"
FAST = JobOptions(settle_s=0, recheck_s=0, factory=fake_components)


def count_sightings(home: Path) -> int | None:
    """What `relecture search` does first: open read-only (waiting out the writer), read."""
    try:
        with Catalog(Home(home), read_only=True, wait_s=20) as cat:
            return cat.db.execute("SELECT count(*) FROM sightings").fetchone()[0]
    except NotFound:
        return None


def reference(tmp_path, root) -> dict:
    run_job(Archive(root), Home(tmp_path / "reference"), USER, FAST)
    return catalog_content(tmp_path / "reference")


def test_readers_in_another_process_never_fail_while_a_job_commits(tmp_path):
    root, home = tmp_path / "nvr", tmp_path / "home"
    make_archive(root, cameras=2, files=4, n=20)
    job = start_job(home, root)
    counts = []
    while job.poll() is None:
        n = count_sightings(home)  # raises (and fails the test) if the lock is not waited out
        if n is not None:
            counts.append(n)
        time.sleep(0.005)
    out, err = job.communicate()
    assert job.returncode == 0, err
    final = count_sightings(home)
    assert final == 8 and "DONE 8 0" in out
    assert counts == sorted(counts)  # never a partial or rolled-back view
    assert len(counts) > 10 and 0 < max(counts)  # reads really interleaved with commits


def test_a_job_killed_mid_way_is_finished_exactly_by_the_next_run(tmp_path):
    root, home = tmp_path / "nvr", tmp_path / "home"
    make_archive(root, cameras=2, files=4, n=20)
    expected = reference(tmp_path, root)
    for committed_before_kill in (1, 4):  # kill twice, at different moments
        job = start_job(home, root)
        deadline = time.monotonic() + 60
        while job.poll() is None and time.monotonic() < deadline:
            if (count_sightings(home) or 0) >= committed_before_kill:
                break
            time.sleep(0.01)
        time.sleep(0.05 * committed_before_kill)  # land somewhere inside the next file
        job.send_signal(signal.SIGKILL)
        job.wait()
        partial = catalog_content(home)
        assert len(partial["recordings"]) < 8, "the job finished before it could be killed"
        # whatever was committed is whole: each recording has all its sightings
        assert {r[0] for r in partial["recordings"]} == {s[0] for s in partial["sightings"]}
    job = start_job(home, root)
    out, err = job.communicate(timeout=120)
    assert job.returncode == 0, err
    assert catalog_content(home) == expected
    assert not list((home / "shards").iterdir())
    thumbs = sorted(p.name for p in (home / "thumbnails").iterdir())
    assert thumbs == sorted(p.name for p in (tmp_path / "reference" / "thumbnails").iterdir())


def test_every_state_a_kill_can_leave_is_recovered_exactly(tmp_path):
    """Made on purpose: a recording committed whose shard was not yet deleted, a complete
    shard not yet committed, a half-written temporary shard and thumbnail, a file never
    started; the killed job's row never finished and its end never audited."""
    root, home = tmp_path / "nvr", tmp_path / "home"
    committed, waiting, untouched = (p.resolve() for p in make_archive(root, 1, 3, n=20))
    expected = reference(tmp_path, root)
    with Catalog(Home(home)) as cat:
        killed = cat.start_job(USER, {"mode": "archive", "role": "operator"}, {})
    killed_dir = shards.job_dir(Home(home), killed)

    assert shards.load_shard(Home(home), make_shard(committed, killed_dir), killed).loaded
    make_shard(committed, killed_dir)  # the same shard again: as if its delete never happened
    make_shard(waiting, killed_dir)
    tmp = killed_dir / f"{shards.TMP_PREFIX}0123456789abcdef-x"
    tmp.mkdir()
    (tmp / "t1.jpg").write_bytes(b"\xff\xd8partial")
    half_thumb = Home(home).thumbnails_dir / ".0123456789abcdef_1.jpg.4242.0a1b2c3d.tmp"
    half_thumb.write_bytes(b"\xff\xd8partial")  # a load killed inside write_atomic
    assert len(catalog_content(home)["recordings"]) == 1

    report = run_job(Archive(root), Home(home), USER, FAST)
    assert report.temporaries_removed == 2 and not half_thumb.exists()
    assert [o.path.name for o in report.recovered] == [waiting.name]  # for the killed job
    assert "interrupted job" in report.recovered[0].message
    indexed = sorted(o.path.name for o in report.outcomes if o.status == "indexed")
    assert indexed == [untouched.name]
    assert report.skipped_by_reason() == {"already indexed": 2}  # not re-read, not redone
    assert all("same path" in o.message for o in report.outcomes if o.status == "skipped")
    assert catalog_content(home) == expected  # no duplicate, nothing missing
    assert not list(shards.shards_dir(Home(home)).iterdir())
    with Catalog(Home(home), read_only=True) as cat:
        assert cat.db.execute("SELECT status, files_ok FROM index_jobs WHERE job_id = ?",
                              [killed]).fetchone() == ("interrupted", 2)
    ends = [r for r in read_records(Home(home).audit_log) if r.get("action") == "index_job"]
    assert [(e["objects"]["index_job"], e["result"]) for e in ends] == [
        (killed, "interrupted"), (report.job_id, "done")]
    assert len(ends[0]["objects"]["recordings"]) == 2  # both of the killed job's recordings


def test_a_kill_while_a_committed_shard_is_deleted_leaves_nothing_behind(tmp_path, monkeypatch):
    # the delete stops after removing the payload, as a SIGKILL inside it would: what is
    # left is a temporary, which the next job removes with the shard directory
    root, home = tmp_path / "nvr", tmp_path / "home"
    (clip,) = make_archive(root, 1, 1, n=20)
    with Catalog(Home(home)) as cat:
        killed = cat.start_job(USER, {"mode": "archive", "role": "operator"}, {})
    killed_dir = shards.job_dir(Home(home), killed)
    shard = make_shard(clip.resolve(), killed_dir)

    def killed_inside(path, ignore_errors=False):
        (Path(path) / shards.PAYLOAD).unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(shards.shutil, "rmtree", killed_inside)
    with pytest.raises(KeyboardInterrupt):
        shards.load_shard(Home(home), shard, killed)
    monkeypatch.undo()
    assert not shard.exists()  # renamed away before the delete began
    report = run_job(Archive(root), Home(home), USER, FAST)
    assert report.temporaries_removed == 1
    assert report.skipped_by_reason() == {"already indexed": 1}
    assert not list(shards.shards_dir(Home(home)).iterdir())


def test_a_shard_keeps_body_styles_colour_distribution_and_direction(tmp_path):
    """What the worker writes the loader reads back whole: the evidence search ranks by."""
    from relecture.sightings import (
        ColourResult, PlateResult, Sighting, TrackBox, Travel, TypeResult,
    )

    shard = tmp_path / "shard"
    shard.mkdir()
    (shard / "t.jpg").write_bytes(b"jpeg")
    s = Sighting(track_id=1, first_t=0.0, last_t=1.0, boxes=(TrackBox(0.0, (1, 2, 3, 4), 0.9),),
                 vehicle_type=TypeResult("car", 0.8, body=(("taxi", 0.4), ("estate", 0.1))),
                 colour=ColourResult("white", 0.7, "silver", 0.2,
                                     distribution=(("white", 0.7), ("silver", 0.3))),
                 plate=PlateResult(None, 0.0), best_t=0.5, thumbnail_jpeg=b"jpeg",
                 travel=Travel("bottom", "inside", "away", 0.9))
    back = shards._sighting_from(shards._sighting_json(s, "t.jpg"), shard)
    assert back == s
    # a shard written before these were kept still loads, without them
    old = {k: v for k, v in shards._sighting_json(s, "t.jpg").items()
           if k not in ("body", "colour_distribution", "travel")}
    back = shards._sighting_from(old, shard)
    assert (back.vehicle_type.body, back.colour.distribution, back.travel) == ((), (), None)
