"""Test-only stand-ins for the archive job: models built from tests/fakes, clip naming, and a
subprocess entry point (`python -m tests.archive_fakes HOME ROOT [WORKERS]`) used by the
kill -9 test. Importable in worker processes (pool, Ray) because `tests` is a package."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.fakes import ColourBlobDetector, fake_describer, write_clip

REPO = Path(__file__).resolve().parents[1]


def fake_components(config, threads=None):
    """(detector, describer) like `build_components`, with no model at all."""
    return ColourBlobDetector(), fake_describer(plate="AB123CD" if config.read_plates else None)


def slow_fake_components(config, threads=None):
    """Fake components whose detector takes a little time (so a job can be killed mid-way)."""
    det, desc = fake_components(config)

    class Slow:
        def detect(self, image, frame_shape=None):
            time.sleep(0.01)
            return det.detect(image, frame_shape)

    return Slow(), desc


def stalling_fake_components(config, threads=None):
    """Fake components whose detector, in each process, is quick for about one recording
    and then takes seconds a call: a job is sure to be mid-way once its first recording is
    in, however fast the machine (the kill -9 test)."""
    det, desc = fake_components(config)
    calls = [0]

    class Stalling:
        def detect(self, image, frame_shape=None):
            calls[0] += 1
            time.sleep(0.01 if calls[0] <= 8 else 2.0)
            return det.detect(image, frame_shape)

    return Stalling(), desc


def recent_name(camera: int, hours_ago: float = 12.0, minutes: int = 0) -> str:
    """A file name a camera would give a recording that started `hours_ago` (local time)."""
    start = datetime.now() - timedelta(hours=hours_ago) + timedelta(minutes=minutes)
    return f"CAM{camera}_{start:%Y%m%dT%H%M%S}.mp4"


def make_archive(root: Path, cameras: int = 2, files: int = 2, n: int = 30) -> list[Path]:
    """A small archive of real clips: `cameras` x `files`, recorded in the last day (each
    clip a different length, so every file has its own content and sha256)."""
    out = []
    for c in range(1, cameras + 1):
        for f in range(files):
            out.append(write_clip(root / f"cam{c}" / recent_name(c, minutes=10 * f),
                                  n=n + 2 * len(out)))
    return out


def catalog_content(home: Path) -> dict:
    """What a job left in the catalog, ids and job/time bookkeeping excluded."""
    import duckdb

    db = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        q = lambda sql: sorted(tuple(str(x) for x in r) for r in db.execute(sql).fetchall())
        return {
            "recordings": q("SELECT * EXCLUDE (job_id, indexed_utc) FROM recordings"),
            "sightings": q("SELECT * EXCLUDE (sighting_id) FROM sightings"),
            "plate_reads": q("SELECT s.recording_id, s.track_id, p.* EXCLUDE (sighting_id) "
                             "FROM plate_reads p JOIN sightings s USING (sighting_id)"),
            "embeddings": q("SELECT s.recording_id, s.track_id, e.space, e.vector FROM "
                            "embeddings e JOIN sightings s USING (sighting_id)"),
            "persons": q("SELECT * FROM person_tracks"),
        }
    finally:
        db.close()


def make_shard(clip: Path, directory: Path) -> Path:
    """What a worker leaves for the loader: the complete shard of one file, in `directory`
    (its job's shard directory)."""
    from relecture.footage import SourceHints, resolve_hints
    from relecture.indexer.intake import Accepted
    from relecture.indexer.pipeline import IndexConfig
    from relecture.indexer.task import FileTask, WorkerSettings, index_task
    from relecture.requisitions.site import EXTRACTORS

    st = clip.stat()
    accepted = Accepted(clip, resolve_hints(clip, SourceHints()), st.st_size, st.st_mtime_ns)
    res = index_task(FileTask(accepted, WorkerSettings(IndexConfig(), EXTRACTORS, directory,
                                                       fake_components)))
    assert res.status == "indexed", res.message
    return res.shard


def subprocess_env(**extra: str) -> dict:
    """The environment for a child Python: this checkout's relecture (src/) and tests first,
    whatever relecture the interpreter has installed."""
    path = os.pathsep.join([str(REPO / "src"), str(REPO)])
    return {**os.environ, "PYTHONPATH": path, "RELECTURE_USER": "test-operator", **extra}


def start_job(home: Path, root: Path, workers: int = 1, stall: bool = False) -> subprocess.Popen:
    """An archive job with the slow fakes (the stalling ones with `stall`), in a child
    process (to be killed)."""
    return subprocess.Popen([sys.executable, "-m", "tests.archive_fakes", str(home), str(root),
                             str(workers), "stall" if stall else "slow"], cwd=REPO, env=subprocess_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main(argv: list[str]) -> int:
    """Run an archive job with the slow fakes (the subprocess side of the kill test)."""
    from relecture.indexer.job import Archive, JobOptions, run_job
    from relecture.settings import Home

    home, root = Path(argv[0]), Path(argv[1])
    workers = int(argv[2]) if len(argv) > 2 else 1
    factory = stalling_fake_components if argv[3:] == ["stall"] else slow_fake_components
    report = run_job(Archive(root), Home(home), "test-operator", JobOptions(
        workers=workers, settle_s=0, recheck_s=0, factory=factory))
    print("DONE", report.count("indexed"), report.count("failed"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
