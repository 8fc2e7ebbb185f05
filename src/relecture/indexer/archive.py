"""Nightly indexing of a whole archive: discover what is new, index each file as its own
task (local processes or Ray), and commit each file's shard with one short catalog write.

    relecture index --archive /srv/nvr [--workers N | --ray auto]

One job, in order:

1. the site policy (`site.toml`) is read: the acting user needs the operator role, the
   standing-index extractors decide what may be extracted (e.g. no plates);
2. one index job at a time per catalog (`indexer.lock`); half-written shards of a killed job
   are removed and its complete shards are committed;
3. discovery: video files under the root, each through intake (`indexer.intake`, the same
   rules as `relecture index FILES`): already indexed at the same path, bad or missing camera
   or start, start in the future or past the retention, still being written;
4. each remaining file is one independent, idempotent task (`index_task`): hash, probe,
   decode and index (frames streamed, tracks described as they end), write a shard. The
   same function runs in-process, in a local process pool, or on a Ray cluster;
5. the coordinator is the only catalog writer: each shard is committed in one transaction
   with the catalog open only for that shard, so searches run between files;
6. the report (files, camera-hours, real-time factor, failures, peak memory per worker) is
   returned, recorded in `index_jobs`, and appended to the audit log (references and
   counts only).

A kill -9 at any moment loses nothing committed and leaves nothing partial; the next run
finishes the work (see `shards`). Faults (corrupt, vanished, still-growing file, disk full)
are reported per file and the job goes on.
"""

from __future__ import annotations

import errno
import functools
import os
import resource
import socket
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, Protocol

from relecture.catalog import Catalog
from relecture.errors import RelectureError, UsageError
from relecture.footage import SourceHints, discover, probe, sha256_file
from relecture.indexer import intake
from relecture.indexer import shards as shardlib
from relecture.indexer.intake import ALREADY, PAST_RETENTION, STILL_WRITING, VANISHED
from relecture.indexer.job import IndexReport, audit_index_job
from relecture.indexer.lock import job_lock
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.pipeline import IndexConfig
from relecture.settings import Home

DISK_FULL = "disk full"


# -- the task (runs in a worker: in-process, process pool or Ray) ----------------------------
@dataclass(frozen=True)
class FileTask:
    """One (camera, file) to index; everything a worker needs, picklable."""

    path: str
    hints: SourceHints  # resolved: camera, start, tz, offset
    size: int
    mtime_ns: int
    config: IndexConfig
    extractors: tuple[str, ...]
    shards: str  # directory the shard goes to
    skip_shas: frozenset = frozenset()  # indexed recordings of the same size
    factory: Callable | None = None  # (config) -> (detector, describer); None: real models
    threads: int | None = None  # compute threads for this worker's models (None: defaults)


@dataclass(frozen=True)
class TaskResult:
    """What a worker did with one file (status as in FileOutcome)."""

    path: str
    status: str  # indexed | skipped | failed
    message: str = ""
    sha256: str | None = None
    camera: str | None = None
    duration_s: float = 0.0
    shard: str | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    worker: str = ""  # host:pid
    peak_rss_kb: int = 0


def index_task(task: FileTask) -> TaskResult:
    """Index one file into a shard. Never raises for a problem with the file itself."""
    from relecture.indexer.decode import sample_frames
    from relecture.indexer.pipeline import index_frames

    path = Path(task.path)
    cpu0, wall0 = time.process_time(), time.monotonic()
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def result(status: str, message: str = "", **kw) -> TaskResult:
        return TaskResult(task.path, status, message, camera=task.hints.camera, cpu_s=
                          time.process_time() - cpu0, wall_s=time.monotonic() - wall0,
                          worker=worker, peak_rss_kb=_peak_rss_kb(), **kw)

    try:
        digest = sha256_file(path)
        if digest in task.skip_shas:
            return result("skipped", f"{ALREADY} (same sha256)", sha256=digest)
        if (Path(task.shards) / digest).exists():
            return result("skipped", "same content as another file of this job", sha256=digest)
        rec = probe(path, task.hints, digest)
        detector, describer = _components(task.factory, task.config, task.extractors,
                                          task.threads)
        res = index_frames(sample_frames(path, task.config.sample_fps), detector, describer,
                           task.config)
        st = path.stat()
        if (st.st_size, st.st_mtime_ns) != (task.size, task.mtime_ns):
            return result("skipped", f"{STILL_WRITING} (changed while indexed); next run",
                          sha256=digest)
        shard = shardlib.write_shard(
            Path(task.shards), rec, res.sightings, res.persons, res.frames_sampled,
            res.frames_detected, extra={"extractors": list(task.extractors)})
    except FileNotFoundError:
        return result("skipped", f"{VANISHED} (deleted or moved since discovery)")
    except FileExistsError:
        return result("skipped", "same content as another file of this job")
    except RelectureError as e:
        if not path.exists():
            return result("skipped", f"{VANISHED} (deleted or moved while indexed)")
        return result("failed", str(e))
    except OSError as e:
        if e.errno == errno.ENOSPC:
            return result("failed", f"{DISK_FULL} while writing its shard; redone next run")
        return result("failed", f"{path}: {e.strerror or e}")
    except Exception as e:  # a bug or a model error must not stop the other files
        return result("failed", f"unexpected error ({type(e).__name__}: {e})")
    return result("indexed", sha256=digest, duration_s=rec.duration_s, shard=str(shard))


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


@functools.cache
def _components(factory, config: IndexConfig, extractors: tuple[str, ...],
                threads: int | None = None):
    """Models for this worker process, loaded on its first file and reused after."""
    if threads:
        limit_threads(threads)
    if factory is None:
        from relecture.indexer.pipeline import build_components as factory
    detector, describer = factory(config, threads)
    return detector, restrict_describer(describer, extractors)


def limit_threads(n: int) -> None:
    """Keep N workers on N cores from each starting a thread per core (oversubscription)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        import cv2

        cv2.setNumThreads(n)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass


def restrict_describer(describer, extractors: tuple[str, ...]):
    """The describer with every extractor the site does not allow switched off.

    No plate: no plate reading at all. No embedding: no vector. No type: the detector's
    coarse class only (no refinement, confidence 0). No colour: "unknown".
    """
    from relecture.sightings import ColourResult, TypeResult

    changes = {}
    if "plate" not in extractors:
        changes["read_plates"] = None
    if "embedding" not in extractors:
        changes["embedder"] = None
    if "type" not in extractors:
        changes["vehicle_type"] = _coarse_type(TypeResult)
    if "colour" not in extractors:
        changes["colour"] = _no_colour(ColourResult)
    return replace(describer, **changes) if changes else describer


def _coarse_type(cls):
    return lambda label, crops: cls(label, 0.0)


def _no_colour(cls):
    return lambda crops: cls("unknown", 0.0)


# -- the job (one coordinator, the only catalog writer) --------------------------------------
class ArchiveProgress(Protocol):
    def planned(self, files: int) -> None: ...
    def finished(self, outcome: FileOutcome) -> None: ...


class _Silent:
    def planned(self, files): pass
    def finished(self, outcome): pass


@dataclass
class ArchiveReport(IndexReport):
    """An index job's report plus what the nightly mode adds."""

    root: str = ""
    executor: str = "local"  # local | pool | ray
    workers: int = 1
    extractors: tuple[str, ...] = ()
    temporaries_removed: int = 0
    peak_rss_kb: dict[str, int] = field(default_factory=dict)  # per worker (host:pid)
    audit_seq: int | None = None

    @property
    def camera_hours(self) -> float:
        return self.video_s / 3600.0

    @property
    def realtime_factor(self) -> float:
        return self.video_s / self.wall_s if self.wall_s else 0.0

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(_reason(o.message) for o in self.outcomes if o.status == "skipped"))

    def as_dict(self) -> dict:
        return {
            "job_id": self.job_id, "root": self.root, "executor": self.executor,
            "workers": self.workers, "extractors": list(self.extractors),
            "files": {"indexed": self.count("indexed"), "skipped": self.count("skipped"),
                      "failed": self.count("failed")},
            "skipped": self.skipped_by_reason(),
            "camera_hours": round(self.camera_hours, 4), "wall_s": round(self.wall_s, 3),
            "realtime_factor": round(self.realtime_factor, 2), "cpu_s": round(self.cpu_s, 2),
            "sightings": sum(o.sightings for o in self.outcomes if o.status == "indexed"),
            "peak_rss_mb": {k: round(v / 1024, 1) for k, v in self.peak_rss_kb.items()},
            "failures": [{"file": str(o.path), "message": o.message} for o in self.failed],
            "temporaries_removed": self.temporaries_removed, "audit_seq": self.audit_seq,
        }


def _reason(message: str) -> str:
    for key in (ALREADY, STILL_WRITING, VANISHED, PAST_RETENTION, "same content"):
        if message.startswith(key):
            return key
    return message.split(" (")[0]


def run_archive_job(
    root: Path,
    home: Home,
    actor: str,
    config: IndexConfig = IndexConfig(),
    workers: int = 1,
    ray_address: str | None = None,
    hints: SourceHints = SourceHints(),
    settle_s: float = intake.DEFAULT_SETTLE_S,
    recheck_s: float | None = None,
    now: datetime | None = None,
    progress: ArchiveProgress | None = None,
    factory: Callable | None = None,
) -> ArchiveReport:
    """Index what is new under `root` into the catalog at `home` (see the module doc).

    `ray_address`: None (local processes), "auto" or "host:port" (an existing Ray cluster),
    or "local" (a private Ray on this machine with `workers` CPUs). `settle_s`: a file
    modified more recently is left for the next run; `recheck_s`: the wait between the two
    looks at size and mtime (see `intake.take_in`). `now` (default: the clock) is what
    future starts and the retention limit are measured from. `factory` replaces the real
    models (tests). Raises AccessDenied when `actor` is not an operator, UsageError when
    another index job holds the catalog.
    """
    from relecture.requisitions import refusals
    from relecture.requisitions.access import authorise
    from relecture.requisitions.site import load_site

    progress = progress or _Silent()
    started = time.monotonic()
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: not a directory (--archive takes the archive's root)")
    home = home.ensure()
    site = load_site(home, actor)
    with refusals.audited(home, site, actor, "index_job"):
        grant = authorise(site, actor, "index_job")
    extractors = tuple(site.extractors(requisition_scoped=False))
    config = replace(config, read_plates=config.read_plates and "plate" in extractors)
    sroot = shardlib.shards_dir(home)
    executor = "ray" if ray_address else ("pool" if workers > 1 else "local")

    with job_lock(home):
        removed = shardlib.remove_temporaries(sroot)
        with Catalog(home) as catalog:
            job_id = catalog.start_job(
                actor, {"archive": str(root), "workers": workers, "executor": executor,
                        "ray": ray_address, "extractors": list(extractors),
                        "settle_s": settle_s, **asdict(config)},
                _model_versions())
        report = ArchiveReport(job_id, root=str(root), executor=executor, workers=workers,
                               extractors=extractors, temporaries_removed=removed)
        try:
            for shard in shardlib.complete_shards(sroot):  # left by an interrupted job
                outcome = _commit(home, shard, job_id, Path(shard.name), None)
                if outcome is not None:
                    report.outcomes.append(outcome)
                    progress.finished(outcome)
            with Catalog(home, read_only=True) as catalog:
                known = catalog.known_recordings()  # after those commits: no file redone
            threads = None if executor == "local" else (
                1 if executor == "ray" else max(1, (os.cpu_count() or 1) // workers))
            taken = intake.take_in(discover([root]), hints, known, site.retention_days,
                                   now or intake.utc_now(), settle_s, recheck_s)
            for outcome in taken.refused:
                report.outcomes.append(outcome)
                progress.finished(outcome)
            tasks = _tasks(taken.accepted, known, config, extractors, sroot, factory, threads)
            progress.planned(len(tasks))
            for res in _execute(tasks, workers, ray_address):
                if res.worker:
                    report.peak_rss_kb[res.worker] = max(report.peak_rss_kb.get(res.worker, 0),
                                                         res.peak_rss_kb)
                if res.shard:
                    outcome = _commit(home, Path(res.shard), job_id, Path(res.path), res.cpu_s)
                    if outcome is None:
                        outcome = FileOutcome(Path(res.path), "skipped",
                                              f"{ALREADY} (same sha256)", camera=res.camera)
                else:
                    outcome = FileOutcome(Path(res.path), res.status, res.message,
                                          camera=res.camera, cpu_s=res.cpu_s)
                report.outcomes.append(outcome)
                progress.finished(outcome)
        finally:
            report.wall_s = time.monotonic() - started
            with Catalog(home) as catalog:
                catalog.finish_job(job_id, report.count("indexed"), report.count("failed"),
                                   report.count("skipped"))
    report.audit_seq = audit_index_job(home, grant, report, site.audit_checkpoint_every,
                                       "standing index of the archive (no requisition)")
    return report


def _commit(home: Home, shard: Path, job_id: str, path: Path,
            cpu_s: float | None) -> FileOutcome | None:
    """Load one shard; the outcome (None when its recording was already in the catalog)."""
    try:
        loaded = shardlib.load_shard(home, shard, job_id)
    except OSError as e:
        msg = (f"{DISK_FULL} while committing; its shard is kept for the next run"
               if e.errno == errno.ENOSPC else f"commit failed ({e.strerror or e}); shard kept")
        return FileOutcome(path, "failed", msg)
    except (ValueError, KeyError) as e:
        return FileOutcome(path, "failed", f"unreadable shard {shard.name[:16]} ({e}); kept")
    if not loaded.loaded:
        return None
    note = "" if cpu_s is not None else "committed from an interrupted job's shard"
    return FileOutcome(Path(loaded.path), "indexed", note, camera=loaded.camera,
                       duration_s=loaded.duration_s, sightings=loaded.sightings,
                       persons=loaded.persons, plates=loaded.plates, cpu_s=cpu_s or 0.0,
                       sha256=loaded.sha256)


def _tasks(accepted: list[intake.Accepted], known, config, extractors, sroot, factory,
           threads) -> list[FileTask]:
    """One task per accepted file, told which indexed recordings share its size (so a copy
    is recognised by its hash without being decoded)."""
    shas_by_size: dict[int, set[str]] = {}
    for sha, _, size, _ in known:
        shas_by_size.setdefault(size, set()).add(sha)
    return [FileTask(str(a.path), a.hints, a.size, a.mtime_ns, config, extractors, str(sroot),
                     frozenset(shas_by_size.get(a.size, ())), factory, threads)
            for a in accepted]


def _model_versions() -> dict:
    from relecture.models.registry import MODELS

    return {m.key: m.package or m.env for m in MODELS}


# -- executors --------------------------------------------------------------------------------
def _execute(tasks: list[FileTask], workers: int, ray_address: str | None
             ) -> Iterator[TaskResult]:
    """Run every task, yielding each result as it finishes (order not kept)."""
    if not tasks:
        return
    if ray_address:
        yield from _ray(tasks, workers, ray_address)
    elif workers <= 1:
        for t in tasks:
            yield index_task(t)
    else:
        yield from _pool(tasks, workers)


def _bounded(submit, tasks: list[FileTask], in_flight: int):
    """Submit lazily, keeping at most `in_flight` tasks queued (memory and fairness)."""
    it = iter(tasks)
    pending = {}
    for t in it:
        pending[submit(t)] = t
        if len(pending) >= in_flight:
            break
    return it, pending


def _pool(tasks: list[FileTask], workers: int) -> Iterator[TaskResult]:
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        it, pending = _bounded(lambda t: pool.submit(index_task, t), tasks, 2 * workers)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                t = pending.pop(fut)
                try:
                    yield fut.result()
                except Exception as e:  # the worker died (killed, out of memory...)
                    yield TaskResult(t.path, "failed", f"worker crashed ({type(e).__name__}); "
                                     "redone next run", camera=t.hints.camera)
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(index_task, nxt)] = nxt


def _ray(tasks: list[FileTask], workers: int, address: str) -> Iterator[TaskResult]:
    import ray  # only when --ray is used

    started_here = False
    if not ray.is_initialized():
        if address == "local":
            ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        started_here = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(index_task)
        cpus = int(ray.cluster_resources().get("CPU", workers)) or 1
        it, pending = _bounded(lambda t: remote.remote(t), tasks, 2 * cpus)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                t = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as e:  # a node or worker died
                    yield TaskResult(t.path, "failed", f"Ray task failed ({type(e).__name__}); "
                                     "redone next run", camera=t.hints.camera)
                nxt = next(it, None)
                if nxt is not None:
                    pending[remote.remote(nxt)] = nxt
    finally:
        if started_here:
            ray.shutdown()


