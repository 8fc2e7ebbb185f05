"""An index job: many files, each indexed whole or not at all, one catalog writer.

Files go through intake first (`indexer.intake`: regular files only, start not in the future
nor past the site's retention, not still being written), then are hashed and probed; each
bad file is reported and the rest go on. One index job per catalog runs at a time
(`indexer.lock`).
Workers (processes) run the pipeline and hand back results; only this process writes the
catalog, one transaction per file, so a crash or Ctrl-C never leaves a file half-written.
The catalog is open read-write only for each commit, so searches can run meanwhile.
(Nightly indexing of a whole archive, resumable and distributable: `indexer.archive`.)
"""

from __future__ import annotations

import functools
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from relecture.catalog import Catalog
from relecture.errors import ModelUnavailable, RelectureError
from relecture.footage import Recording, SourceHints, discover, probe, sha256_file
from relecture.indexer import intake
from relecture.indexer.decode import sample_frames
from relecture.indexer.intake import ALREADY, STILL_WRITING, Accepted
from relecture.indexer.lock import job_lock
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.pipeline import (
    IndexConfig, RecordingResult, build_components, index_frames,
)
from relecture.models.registry import MODELS
from relecture.settings import Home


@dataclass
class IndexReport:
    """The job's summary: per-file outcomes and totals."""

    job_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def video_s(self) -> float:
        return sum(o.duration_s for o in self.outcomes if o.status == "indexed")

    @property
    def cpu_s(self) -> float:
        return sum(o.cpu_s for o in self.outcomes)


class Progress(Protocol):
    """What a job tells its caller while it runs (the CLI draws rich bars from it)."""

    def planned(self, recordings: list[Recording]) -> None: ...
    def advanced(self, recording: Recording, video_s: float) -> None: ...
    def finished(self, outcome: FileOutcome) -> None: ...


class _Silent:
    def planned(self, recordings): pass
    def advanced(self, recording, video_s): pass
    def finished(self, outcome): pass


def run_index_job(
    paths: list[Path],
    home: Home,
    actor: str,
    hints: SourceHints = SourceHints(),
    config: IndexConfig = IndexConfig(),
    workers: int = 1,
    progress: Progress | None = None,
    settle_s: float = intake.DEFAULT_SETTLE_S,
    recheck_s: float | None = None,
    now: datetime | None = None,
) -> IndexReport:
    """Index every video in `paths` into the catalog at `home`; never raises for one bad file.

    `settle_s`, `recheck_s`: the still-being-written check, and `now` (default: the clock)
    what future starts and the site's retention are measured from (see `indexer.intake`).
    Raises AccessDenied when `actor` is not an operator, UsageError when another index job
    holds the catalog."""
    from relecture.requisitions import refusals
    from relecture.requisitions.access import authorise
    from relecture.requisitions.site import load_site

    progress = progress or _Silent()
    started = time.monotonic()
    site = load_site(home, actor)
    with refusals.audited(home, site, actor, "index_job"):
        grant = authorise(site, actor, "index_job")  # refused before anything is read
    files = discover(paths)
    with job_lock(home):
        # The catalog is opened read-write only briefly (job start, each file's commit, job
        # end), so searches in other processes get their turn while the job runs.
        with Catalog(home) as catalog:
            job_id = catalog.start_job(
                actor, {"paths": [str(p) for p in paths], "workers": workers,
                        "settle_s": settle_s, **asdict(config)},
                {m.key: m.package or m.env for m in MODELS},
            )
            known = catalog.known_recordings()
        report = IndexReport(job_id)
        try:
            taken = intake.take_in(files, hints, known, site.retention_days,
                                   now or intake.utc_now(), settle_s, recheck_s)
            for outcome in taken.refused:
                report.outcomes.append(outcome)
                progress.finished(outcome)
            shas = {sha for sha, *_ in known}
            todo: dict[Path, tuple[Accepted, Recording]] = {}
            for acc in taken.accepted:
                outcome, rec = _hash_and_probe(acc, shas)
                if rec is None:
                    report.outcomes.append(outcome)
                    progress.finished(outcome)
                else:
                    todo[rec.path] = (acc, rec)
            progress.planned([rec for _, rec in todo.values()])
            for rec, result in _process([rec for _, rec in todo.values()], config, workers,
                                        progress):
                if isinstance(result, FileOutcome):
                    report.outcomes.append(result)
                else:
                    with Catalog(home) as catalog:
                        report.outcomes.append(
                            _store(catalog, todo[rec.path][0], rec, result, job_id))
                progress.finished(report.outcomes[-1])
        finally:
            with Catalog(home) as catalog:
                catalog.finish_job(job_id, report.count("indexed"), report.count("failed"),
                                   report.count("skipped"))
    report.wall_s = time.monotonic() - started
    audit_index_job(home, grant, report, site.audit_checkpoint_every, "index of named footage")
    return report


def _hash_and_probe(acc: Accepted, known: set[str]):
    """Hash and probe one accepted file; (outcome, None) when it is skipped or refused."""
    try:
        digest = sha256_file(acc.path)
        if digest in known:
            return FileOutcome(acc.path, "skipped", f"{ALREADY} (same sha256)"), None
        return None, probe(acc.path, acc.hints, digest)
    except RelectureError as e:
        return FileOutcome(acc.path, "failed", str(e), camera=acc.hints.camera), None
    except OSError as e:
        return FileOutcome(acc.path, "failed", f"{acc.path}: {e.strerror or e}",
                           camera=acc.hints.camera), None


def _store(catalog: Catalog, acc: Accepted, rec: Recording, result, job_id: str
           ) -> FileOutcome:
    res, cpu_s = result
    if acc.changed():  # the hash would not be of the bytes decoded
        return FileOutcome(rec.path, "skipped", f"{STILL_WRITING} (changed while indexed); "
                           "index it again once complete", camera=rec.camera)
    if catalog.has_recording(rec.sha256):  # the same content under two names in one job
        return FileOutcome(rec.path, "skipped", f"{ALREADY} (same sha256)",
                           camera=rec.camera, sha256=rec.sha256)
    catalog.add_recording(rec, list(res.sightings), list(res.persons), job_id,
                          res.frames_sampled, res.frames_detected)
    return FileOutcome(
        rec.path, "indexed", camera=rec.camera, sha256=rec.sha256, duration_s=rec.duration_s,
        sightings=len(res.sightings), persons=len(res.persons),
        plates=sum(s.plate.text is not None for s in res.sightings), cpu_s=cpu_s,
    )


def _process(todo: list[Recording], config: IndexConfig, workers: int, progress: Progress):
    """Yield (recording, (RecordingResult, cpu_s) or a failed FileOutcome) as each finishes."""
    if workers <= 1 or len(todo) <= 1:
        if not todo:
            return
        components = build_components(config)
        for rec in todo:
            yield rec, _index_one(rec, config, components,
                                  lambda t, rec=rec: progress.advanced(rec, t))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        threads = max(1, (os.cpu_count() or 1) // workers)  # the cores, shared out
        pending = {pool.submit(_pool_task, rec, config, threads): rec for rec in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                rec = pending.pop(fut)
                progress.advanced(rec, rec.duration_s)
                yield rec, fut.result()


@functools.cache
def _worker_components(config: IndexConfig, threads: int):
    """Models for one worker process, loaded on its first file and reused for the next."""
    return build_components(config, threads)


def _pool_task(rec: Recording, config: IndexConfig, threads: int):
    return _index_one(rec, config, _worker_components(config, threads))


def _index_one(rec: Recording, config: IndexConfig, components, on_time=None):
    """Index one recording; returns (RecordingResult, cpu seconds) or a failed FileOutcome."""
    detector, describer = components
    cpu0 = time.process_time()  # all threads of this process: decode, onnx, torch
    last = [0.0]

    def on_frame(frame):
        if on_time is not None and frame.t - last[0] >= 1.0:
            last[0] = frame.t
            on_time(frame.t)

    try:
        result: RecordingResult = index_frames(
            sample_frames(rec.path, config.sample_fps), detector, describer, config,
            on_frame=on_frame,
        )
    except ModelUnavailable:
        raise  # every file would fail alike: the job stops with the providing command
    except RelectureError as e:
        return FileOutcome(rec.path, "failed", str(e), camera=rec.camera)
    if on_time is not None:
        on_time(rec.duration_s)
    return result, time.process_time() - cpu0


def audit_index_job(home: Home, grant, report, checkpoint_every: int, reason: str) -> int:
    """Append an index job to the audit log: references (job, recordings, cameras) and
    counts, never content. `report` is an IndexReport or an ArchiveReport. Returns its seq."""
    from relecture.requisitions.audit import append

    indexed = [o for o in report.outcomes if o.status == "indexed"]
    event = grant.event(
        "index_job",
        objects={
            "index_job": report.job_id,
            "recordings": sorted({o.sha256 for o in indexed if o.sha256}),
            "cameras": sorted({o.camera for o in indexed if o.camera}),
            "counts": {"files_indexed": len(indexed), "files_skipped": report.count("skipped"),
                       "files_failed": report.count("failed"),
                       "sightings": sum(o.sightings for o in indexed),
                       "footage_s": int(round(report.video_s))},
        },
        reason=reason,
        result_count=sum(o.sightings for o in indexed))
    return append(home, event, checkpoint_every)["seq"]
