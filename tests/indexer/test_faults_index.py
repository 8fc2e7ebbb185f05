"""Fault suite for the index job (issue 10 items 4, 11, 12, 13; issue 12 item 1): each case
replayed on real clips with stand-in models, checking exit codes, messages, catalog rows
and audit entries.

- a job killed with kill -9 leaves no pool worker alive, and the next job indexes every
  file (a late shard of the killed job is never taken for this job's work);
- Ctrl-C after a commit says how many recordings were committed, marks the job
  interrupted and audits what it committed;
- the site policy applies to plain `index FILE` as to the archive mode;
- `index -r REF` indexes only footage inside the requisition, audited under it.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from relecture.catalog import Catalog
from relecture.cli import app
from relecture.indexer import job as jobmod
from relecture.indexer import shards
from relecture.indexer.job import Archive, JobOptions, run_job
from relecture.requisitions.audit import read_records
from relecture.settings import Home
from tests.archive_fakes import (
    catalog_content, fake_components, make_archive, make_shard, recent_name, start_job,
)
from tests.cli_builders import index, open_args
from tests.fakes import write_clip

runner = CliRunner()
USER = "test-operator"
FAST = JobOptions(settle_s=0, recheck_s=0, factory=fake_components)


pytestmark = pytest.mark.usefixtures("fake_models")


def rows(home: Path, sql: str) -> list[tuple]:
    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def events(home: Path, action: str | None = None) -> list[dict]:
    return [r for r in read_records(Home(home).audit_log) if r["record"] == "event"
            and (action is None or r["action"] == action)]


def write_site(home: Path, standing: str, requisition: str | None = None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    text = f"[standing_index]\nextractors = {standing}\n"
    if requisition is not None:
        text += f"[requisition_index]\nextractors = {requisition}\n"
    (home / "site.toml").write_text(
        text + f'[[users]]\nname = "{USER}"\nroles = ["operator", "investigator"]\n'
        'cameras = ["*"]\n')


# -- 12, 13. kill -9 of a pool job: no worker outlives it, no file is lost ---------------------
def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (the pool's forkserver and its workers)."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p}
        todo.extend(kids - found)
        found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_of_a_pool_job_takes_its_workers_and_the_next_job_indexes_every_file(tmp_path):
    root, home = tmp_path / "nvr", tmp_path / "home"
    make_archive(root, cameras=2, files=8, n=20)
    run_job(Archive(root), Home(tmp_path / "reference"), USER, FAST)
    job = start_job(home, root, workers=2, stall=True)  # still mid-way once the first is in
    deadline = time.monotonic() + 90
    while job.poll() is None and time.monotonic() < deadline:
        if (home / "catalog.duckdb").exists() and _committed(home) >= 1:
            break
        time.sleep(0.05)
    workers = _descendants(job.pid)
    assert job.poll() is None, f"the job ended before the kill: {job.communicate()}"
    job.send_signal(signal.SIGKILL)
    job.wait()
    assert len(workers) >= 2, "the pool had not started"  # the forkserver and a worker at least
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in workers if _alive(p)}
    assert not survivors, f"a pool worker outlived its job: {survivors}"
    assert len(catalog_content(home)["recordings"]) < 16, "the job finished before the kill"

    report = run_job(Archive(root), Home(home), USER, FAST)
    assert not report.failed
    assert not any("same content" in o.message for o in report.outcomes)
    assert catalog_content(home) == catalog_content(tmp_path / "reference")
    killed = rows(home, "SELECT job_id FROM index_jobs WHERE status = 'interrupted'")
    assert len(killed) == 1
    end = [e for e in events(home, "index_job") if e["objects"]["index_job"] == killed[0][0]]
    assert len(end) == 1 and end[0]["result"] == "interrupted"
    committed = rows(home, f"SELECT recording_id FROM recordings WHERE job_id = '{killed[0][0]}'")
    assert sorted(end[0]["objects"]["recordings"]) == sorted(r[0] for r in committed)
    assert events(home, "index_job_start")  # the killed job had said it started


def _committed(home: Path) -> int:
    try:
        with Catalog(Home(home), read_only=True, wait_s=20) as cat:
            return cat.db.execute("SELECT count(*) FROM recordings").fetchone()[0]
    except Exception:  # the catalog is being created
        return 0


def test_a_late_shard_of_another_job_is_neither_this_jobs_nor_a_reason_to_skip(tmp_path,
                                                                               monkeypatch):
    root, home = tmp_path / "nvr", tmp_path / "home"
    first, second = make_archive(root, cameras=1, files=2)
    other = "f" * 32  # a killed job whose worker lands its shard while this job runs
    stale = make_shard(second, tmp_path / "elsewhere" / other).parent
    real_recover = jobmod.recover

    def recover_then_land(*args):
        done = real_recover(*args)
        shutil.move(str(stale), str(shards.job_dir(Home(home), other)))
        return done

    monkeypatch.setattr(jobmod, "recover", recover_then_land)
    report = run_job(Archive(root), Home(home), USER, FAST)
    assert report.count("indexed") == 2 and not report.recovered
    assert rows(home, "SELECT DISTINCT job_id FROM recordings") == [(report.job_id,)]
    assert shards.complete_shards(shards.job_dir(Home(home), other))  # left for the next job

    monkeypatch.setattr(jobmod, "recover", real_recover)
    after = run_job(Archive(root), Home(home), USER, FAST)
    assert after.recovered == [] and after.skipped_by_reason() == {"already indexed": 2}
    assert not list(shards.shards_dir(Home(home)).iterdir())  # its recording was there


# -- 4. Ctrl-C after a commit ------------------------------------------------------------------
def test_ctrl_c_after_a_commit_says_what_was_committed_and_audits_it(tmp_path, home,
                                                                     monkeypatch):
    from tests.fakes import ColourBlobDetector, fake_describer

    clips = [write_clip(tmp_path / recent_name(3, minutes=10 * i), n=30 + i) for i in range(3)]
    commits = []
    real_commit = jobmod.commit

    def counted(*args):
        outcome = real_commit(*args)
        commits.append(outcome)
        return outcome

    class CtrlC(ColourBlobDetector):
        def detect(self, image, frame_shape=None):
            if commits:  # the first file is committed: the operator presses Ctrl-C
                raise KeyboardInterrupt
            return super().detect(image)

    monkeypatch.setattr(jobmod, "commit", counted)
    monkeypatch.setattr("relecture.indexer.pipeline.build_components",
                        lambda config, threads=None: (CtrlC(), fake_describer()))
    result = index(*map(str, clips))
    assert result.exit_code == 130, result.output
    said = " ".join(result.stderr.split())
    assert "stopped after 1 recording(s) committed" in said
    assert "nothing partial was written" in said
    (sha, job_id), = rows(home, "SELECT recording_id, job_id FROM recordings")
    assert rows(home, "SELECT status, files_ok FROM index_jobs") == [("interrupted", 1)]
    start, end = events(home)
    assert (start["action"], start["objects"]) == ("index_job_start", {"index_job": job_id})
    assert (end["action"], end["result"]) == ("index_job", "interrupted")
    assert end["objects"]["recordings"] == [sha] and "Ctrl-C" in end["reason"]

    monkeypatch.setattr("relecture.indexer.pipeline.build_components", fake_components)
    again = index(*map(str, clips))
    assert again.exit_code == 0, again.output
    assert len(rows(home, "SELECT * FROM recordings")) == 3


# -- 11. the site policy, in both modes ---------------------------------------------------------
@pytest.mark.parametrize("archive", [False, True])
def test_a_standing_index_obeys_the_site_policy_in_both_modes(tmp_path, home, archive):
    write_site(home, '["type", "colour"]')
    clip = write_clip(tmp_path / "nvr" / recent_name(5))
    result = index("--archive", str(tmp_path / "nvr")) if archive else index(str(clip))
    assert result.exit_code == 0, result.output
    assert "site policy: plates are not read by the standing index" in result.stdout
    assert rows(home, "SELECT count(*) FROM recordings") == [(1,)]
    assert rows(home, "SELECT count(*) FROM plate_reads") == [(0,)]
    assert rows(home, "SELECT count(*) FROM embeddings") == [(0,)]
    assert rows(home, "SELECT count(*) FROM sightings WHERE plate IS NOT NULL") == [(0,)]


# -- `index -r REF`: only the requisition's footage, its extractors, audited under it ---------
def test_an_index_for_a_requisition_takes_only_its_footage_and_is_audited_under_it(
        tmp_path, home):
    write_site(home, '["type", "colour"]', requisition='["type", "colour", "plate"]')
    start = (datetime.now() - timedelta(hours=6)).replace(microsecond=0)
    inside = write_clip(tmp_path / f"CAM3_{start:%Y%m%dT%H%M%S}.mp4")
    too_early = write_clip(tmp_path / recent_name(3, hours_ago=12), n=31)
    other_camera = write_clip(tmp_path / f"CAM4_{start:%Y%m%dT%H%M%S}.mp4", n=32)
    ref = "PV 2026/000777"
    opened = runner.invoke(app, open_args(
        ref, "3", (start - timedelta(minutes=5)).isoformat(timespec="minutes"),
        (start + timedelta(minutes=5)).isoformat(timespec="minutes")))
    assert opened.exit_code == 0, opened.output

    result = index(str(inside), str(too_early), str(other_camera), "-r", ref)
    assert result.exit_code == 0, result.output
    assert f"index job {rows(home, 'SELECT job_id FROM index_jobs')[0][0][:8]} for " \
           f"requisition {ref}" in " ".join(result.stdout.split())
    outside = [ln for ln in result.stdout.splitlines() if "outside requisition" in ln]
    assert len(outside) == 2 and not any(inside.name in ln for ln in outside)
    assert [os.path.basename(p) for (p,) in rows(home, "SELECT path FROM recordings")] == \
        [inside.name]
    assert rows(home, "SELECT count(*) FROM plate_reads")[0][0] >= 1  # its extractors
    assert rows(home, "SELECT count(*) FROM embeddings") == [(0,)]
    start_entry, end = events(home)[-2:]
    for entry in (start_entry, end):
        assert entry["legal_basis"] == {"reference": ref, "type": "60-1"}
    assert end["objects"]["cameras"] == ["3"] and len(end["objects"]["recordings"]) == 1


def test_an_index_for_a_closed_or_unknown_requisition_is_refused(tmp_path, home):
    clip = write_clip(tmp_path / recent_name(3))
    unknown = index(str(clip), "-r", "PV nothing")
    assert unknown.exit_code == 2 and "no requisition 'PV nothing'" in unknown.stderr
    ref = "PV 2026/000778"
    assert runner.invoke(app, open_args(ref, "3")).exit_code == 0
    assert runner.invoke(app, ["requisition", "close", ref]).exit_code == 0
    closed = index(str(clip), "-r", ref)
    assert closed.exit_code == 5 and "is closed" in closed.stderr
    refused = events(home, "index_job")
    assert refused[-1]["result"] == "refused" and refused[-1]["legal_basis"]["reference"] == ref
    assert not rows(home, "SELECT * FROM recordings")


# -- a missing model stops either mode with exit 6 before anything is committed ---------------
def test_a_missing_model_stops_the_archive_mode_with_exit_6(tmp_path, home, monkeypatch):
    monkeypatch.undo()  # the real models, from an empty cache
    monkeypatch.setenv("RELECTURE_HOME", str(home))
    monkeypatch.setenv("RELECTURE_USER", USER)
    monkeypatch.setenv("RELECTURE_MODELS", str(tmp_path / "empty-cache"))
    make_archive(tmp_path / "nvr", cameras=1, files=2)
    result = index("--archive", str(tmp_path / "nvr"))
    assert result.exit_code == 6, result.output
    assert "relecture models fetch" in " ".join(result.stderr.split())
    assert rows(home, "SELECT * FROM recordings") == []
    assert events(home, "index_job")[-1]["result"] == "interrupted"
