"""One index job, whichever way its files are chosen: named files and trees
(`relecture index PATHS`) or what is new under a recorder's archive (`--archive ROOT`),
standing or for an open requisition (`-r REF`). Policy, faults, reports and audit live here
once for both:

1. policy: the site (`site.toml`) says who may index (operators) and what may be extracted
   (`[standing_index]`, or `[requisition_index]` for `-r REF`, which also limits the job to
   the requisition's cameras and times);
2. one job per catalog (`indexer.lock`); what earlier jobs left is put in order first
   (`indexer.recovery`); the job is recorded in `index_jobs` and audited as it starts;
3. intake (`indexer.intake`, the same rules for both ways), then one task per file
   (`indexer.task`), run in-process, on a process pool or on Ray (`indexer.workers`); each
   worker writes its file's shard into this job's directory (`indexer.shards`);
4. one loader, this process, commits each shard in one catalog transaction as it arrives
   (`indexer.loader`), with the catalog open only for that, so searches run meanwhile;
5. the report (`indexer.report`) is recorded and audited: result "done", or "interrupted"
   with what was committed when Ctrl-C or an error stopped the job. A missing model stops
   it (exit 6) at the first file, with the command that provides the model.
"""

from __future__ import annotations

import os
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ClassVar, Protocol

from relecture.catalog import Catalog
from relecture.errors import Interrupted, UsageError
from relecture.footage import SourceHints, declared_seconds, discover, true_start_utc
from relecture.indexer import intake
from relecture.indexer import shards as shardlib
from relecture.indexer.intake import Accepted
from relecture.indexer.loader import commit
from relecture.indexer.lock import job_lock
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.pipeline import IndexConfig
from relecture.indexer.recovery import recover
from relecture.indexer.report import OUTSIDE, IndexReport
from relecture.indexer.task import FileTask, WorkerSettings
from relecture.indexer.workers import execute
from relecture.requisitions.scope import Scope
from relecture.settings import Home

if TYPE_CHECKING:
    from relecture.requisitions.access import Grant
    from relecture.requisitions.requisition import Requisition
    from relecture.requisitions.site import Site


@dataclass(frozen=True)
class NamedFiles:
    """Files and directory trees named on the command line."""

    paths: tuple[Path, ...]
    mode: ClassVar[str] = "files"
    what: ClassVar[str] = "named footage"

    def check(self) -> None:
        """UsageError, before anything is written, for a path that does not exist."""
        for p in self.paths:
            if not p.exists():
                raise UsageError(f"{p}: no such file or directory")

    def files(self) -> list[Path]:
        """The video files to take in."""
        return discover(list(self.paths))

    def parameters(self) -> dict:
        return {"paths": [str(p) for p in self.paths]}


@dataclass(frozen=True)
class Archive:
    """Everything under a recorder's archive root (the nightly mode)."""

    root: Path
    mode: ClassVar[str] = "archive"
    what: ClassVar[str] = "the archive"

    def check(self) -> None:
        """UsageError, before anything is written, when the root is not a directory."""
        if not self.root.is_dir():
            raise UsageError(f"{self.root}: not a directory (--archive takes the archive's "
                             "root)")

    def files(self) -> list[Path]:
        """Every video file under the root."""
        return discover([self.root])

    def parameters(self) -> dict:
        return {"archive": str(self.root)}


Selection = NamedFiles | Archive


@dataclass(frozen=True)
class JobOptions:
    """How to run a job, whichever way its files were chosen."""

    hints: SourceHints = SourceHints()  # flags: camera, start, tz, clock offset
    config: IndexConfig = IndexConfig()
    workers: int = 1
    ray_address: str | None = None  # "auto", "host:port", or "local" (a private Ray)
    settle_s: float = intake.DEFAULT_SETTLE_S  # see `intake.take_in`
    recheck_s: float | None = None
    now: datetime | None = None  # what future starts and retention are measured from
    requisition: str | None = None  # index for this open requisition (reference)
    factory: Callable | None = None  # replaces the real models (tests)


class Progress(Protocol):
    """What a job tells its caller while it runs (the CLI draws rich bars from it)."""

    def planned(self, tasks: list[FileTask]) -> None: ...
    def advanced(self, task: FileTask, video_s: float) -> None: ...
    def finished(self, outcome: FileOutcome) -> None: ...


class _Silent:
    def planned(self, tasks): pass
    def advanced(self, task, video_s): pass
    def finished(self, outcome): pass


@dataclass(frozen=True)
class _Job:
    """What the steps of one job share once its policy is settled."""

    id: str
    home: Home
    site: "Site"
    grant: "Grant"
    requisition: "Requisition | None"
    scope: Scope | None
    reason: str


def run_job(selection: Selection, home: Home, actor: str, options: JobOptions = JobOptions(),
            progress: Progress | None = None) -> IndexReport:
    """Index the files `selection` chooses into the catalog at `home` (see the module doc).

    Never raises for one bad file. Raises AccessDenied when `actor` is not an operator or the
    requisition is closed, UsageError for a bad path or when another index job holds the
    catalog, NotFound for an unknown requisition, ModelUnavailable when a model is missing,
    and `Interrupted` (saying what was committed) on Ctrl-C."""
    from relecture.requisitions import refusals
    from relecture.requisitions.access import check_index
    from relecture.requisitions.requisition import get_requisition
    from relecture.requisitions.site import load_site

    progress = progress or _Silent()
    started = time.monotonic()
    selection.check()
    home = home.ensure()
    site = load_site(home, actor)
    req = get_requisition(home, options.requisition) if options.requisition else None
    with refusals.audited(home, site, actor, "index_job", req):
        grant, scope = check_index(site, actor, req)  # refused before anything is read
    reason = (f"index of {selection.what} for requisition {req.reference}" if req else
              f"standing index of {selection.what} (no requisition)")
    job = _Job(uuid.uuid4().hex, home, site, grant, req, scope, reason)
    extractors = tuple(site.extractors(requisition_scoped=req is not None))
    executor = "ray" if options.ray_address else ("pool" if options.workers > 1 else "local")
    report = IndexReport(job.id, selection.mode,
                         str(selection.root) if isinstance(selection, Archive) else "",
                         req.reference if req else None, executor, options.workers,
                         extractors)
    with job_lock(home):
        recovered = recover(home, site, job.id, actor)
        report.temporaries_removed = recovered.temporaries_removed
        report.recovered = recovered.outcomes
        for outcome in recovered.outcomes:
            progress.finished(outcome)
        known = _begin(job, selection, options, report)
        try:
            _index(job, selection, options, report, known, progress)
        except BaseException as e:
            report.wall_s = time.monotonic() - started
            _end(job, report, f"{reason}; {_stopped_by(e)} after "
                 f"{len(report.indexed)} recording(s) committed", "interrupted")
            if isinstance(e, KeyboardInterrupt) and not isinstance(e, Interrupted):
                raise Interrupted(
                    f"index job {job.id[:8]} stopped after {len(report.indexed)} "
                    "recording(s) committed, each whole; nothing partial was written; run "
                    "the same command again to index the rest") from None
            raise
        if report.indexed:
            report.vectors = _refresh_vectors(home)
        report.wall_s = time.monotonic() - started
        _end(job, report, reason, "finished")
    return report


def _refresh_vectors(home: Home) -> str:
    """The vector indexes searches load, brought up to date with what the job committed;
    what was done, for the report. They are a cache derived from the catalog, so a failure
    here (disk full...) is reported and leaves the job whole: the next large search
    rebuilds them."""
    from relecture.search.vectors import refresh_indexes

    try:
        with Catalog(home, read_only=True) as catalog:
            spaces = refresh_indexes(catalog)
    except (OSError, RuntimeError) as e:  # FAISS raises RuntimeError for its I/O errors
        return f"vector indexes not refreshed ({e}); the next large search rebuilds them"
    return f"vector indexes up to date: {', '.join(spaces)}" if spaces else ""


def _stopped_by(e: BaseException) -> str:
    """How a job stopped, for its audit entry (the error's kind: its text may hold paths)."""
    return "interrupted (Ctrl-C)" if isinstance(e, KeyboardInterrupt) else \
        f"stopped by an error ({type(e).__name__})"


def _begin(job: _Job, selection: Selection, options: JobOptions, report: IndexReport
           ) -> list[tuple]:
    """Audit the job's start, then record it as running; the catalog's known recordings."""
    from relecture.models.registry import MODELS
    from relecture.requisitions.audit import append

    append(job.home, job.grant.event("index_job_start", job.requisition,
                                     objects={"index_job": job.id}, reason=job.reason),
           job.site.audit_checkpoint_every)
    req = job.requisition
    parameters = {
        "mode": selection.mode, **selection.parameters(), "role": job.grant.role,
        "requisition": {"reference": req.reference, "type": req.type} if req else None,
        "workers": options.workers, "executor": report.executor, "ray": options.ray_address,
        "extractors": list(report.extractors), "settle_s": options.settle_s,
        **asdict(options.config)}
    with Catalog(job.home) as catalog:
        catalog.start_job(job.grant.user, parameters,
                          {m.key: m.package or m.env for m in MODELS}, job.id)
        return catalog.known_recordings()


def _index(job: _Job, selection: Selection, options: JobOptions, report: IndexReport,
           known: list[tuple], progress: Progress) -> None:
    """Intake, tasks, workers, and the loader committing each shard as it arrives."""
    taken = intake.take_in(selection.files(), options.hints, known, job.site.retention_days,
                           options.now or intake.utc_now(), options.settle_s,
                           options.recheck_s)
    accepted, refused = taken.accepted, list(taken.refused)
    # Headers are read up front only where needed: the footage bar of named files, and a
    # requisition's time ranges (a nightly archive may hold thousands of files).
    durations = ({a.path: declared_seconds(a.path) for a in accepted}
                 if selection.mode == "files" or job.scope else {})
    if job.scope is not None:
        accepted, outside = _within(accepted, job.scope, durations, job.requisition.reference)
        refused += outside
    for outcome in refused:
        report.add(outcome)
        progress.finished(outcome)
    config = replace(options.config,
                     read_plates=options.config.read_plates and "plate" in report.extractors)
    directory = shardlib.job_dir(job.home, job.id)
    settings = WorkerSettings(config, report.extractors, directory, options.factory,
                              _threads(report.executor, options.workers))
    tasks = _tasks(accepted, known, settings, durations)
    progress.planned(tasks)
    with closing(execute(tasks, options.workers, options.ray_address,
                         progress.advanced)) as results:
        for outcome in results:
            if outcome.shard is not None:
                outcome = commit(job.home, outcome.shard, job.id, outcome)
            report.add(outcome)
            progress.finished(outcome)
    shardlib.remove_if_empty(directory)


def _within(accepted: list[Accepted], scope: Scope, durations: dict[Path, float],
            reference: str) -> tuple[list[Accepted], list[FileOutcome]]:
    """The files inside a requisition's cameras and times, and an outcome for the others."""
    inside, outside = [], []
    for a in accepted:
        start = true_start_utc(a.hints.start, a.hints.tz, a.hints.clock_offset_s)
        start = start.replace(tzinfo=None)  # true_start_utc is aware UTC; scopes are naive
        end = start + timedelta(seconds=durations.get(a.path, 0.0))
        if scope.allows(a.hints.camera, start, end):
            inside.append(a)
        else:
            outside.append(FileOutcome(a.path, "skipped", f"{OUTSIDE} {reference} (its "
                                       "cameras and times): not indexed",
                                       camera=a.hints.camera))
    return inside, outside


def _threads(executor: str, workers: int) -> int | None:
    """Compute threads per worker: the libraries' defaults in-process, one per Ray task,
    the cores shared out in a pool."""
    if executor == "local":
        return None
    return 1 if executor == "ray" else max(1, (os.cpu_count() or 1) // workers)


def _tasks(accepted: list[Accepted], known: list[tuple], settings: WorkerSettings,
           durations: dict[Path, float]) -> list[FileTask]:
    """One task per accepted file, told which indexed recordings share its size (so a copy
    is recognised by its hash without being decoded)."""
    shas_by_size: dict[int, set[str]] = {}
    for sha, _, size, _ in known:
        shas_by_size.setdefault(size, set()).add(sha)
    return [FileTask(a, settings, frozenset(shas_by_size.get(a.size, ())),
                     durations.get(a.path, 0.0)) for a in accepted]


def _end(job: _Job, report: IndexReport, reason: str, status: str) -> None:
    """Record the job's end in `index_jobs` and the audit log (references and counts only)."""
    from relecture.requisitions.audit import append

    with Catalog(job.home) as catalog:
        catalog.finish_job(job.id, report.count("indexed"), report.count("failed"),
                           report.count("skipped"), status=status)
    indexed = report.indexed
    event = job.grant.event(
        "index_job", job.requisition,
        objects={
            "index_job": job.id,
            "recordings": sorted({o.sha256 for o in indexed if o.sha256}),
            "cameras": sorted({o.camera for o in indexed if o.camera}),
            "counts": {"files_indexed": len(indexed), "files_skipped": report.count("skipped"),
                       "files_failed": report.count("failed"),
                       "sightings": sum(o.sightings for o in indexed),
                       "footage_s": int(round(report.video_s))},
        },
        reason=reason, result_count=sum(o.sightings for o in indexed),
        result="done" if status == "finished" else "interrupted")
    report.audit_seq = append(job.home, event, job.site.audit_checkpoint_every)["seq"]
