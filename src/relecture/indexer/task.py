"""One file's task, the same in every worker (in-process, process pool or Ray): hash, probe,
decode and index it, then write its shard for the job's one loader.

A task never opens the catalog. Whatever goes wrong with its file (vanished, corrupt,
changed while read, disk full, a bug) becomes a skipped or failed `FileOutcome` and the job
goes on with the other files; only a missing model raises (`ModelUnavailable`), since every
file would fail alike and the job must stop with the command that provides it.
"""

from __future__ import annotations

import errno
import functools
import os
import resource
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from relecture.errors import ModelUnavailable, RelectureError
from relecture.footage import probe, sha256_file
from relecture.indexer import shards as shardlib
from relecture.indexer.intake import ALREADY, STILL_WRITING, VANISHED, Accepted
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.pipeline import IndexConfig

DISK_FULL = "disk full"
SAME_CONTENT = "same content as another file of this job"


@dataclass(frozen=True)
class WorkerSettings:
    """What every task of one job shares (picklable: it travels with each task)."""

    config: IndexConfig
    extractors: tuple[str, ...]  # what the site policy lets this job extract
    shards: Path  # this job's shard directory (`shards.job_dir`)
    factory: Callable | None = None  # (config, threads) -> (detector, describer); None: real
    threads: int | None = None  # compute threads for this worker's models (None: defaults)


@dataclass(frozen=True)
class FileTask:
    """One (camera, file) to index: the file as intake accepted it, and the job's settings."""

    file: Accepted
    settings: WorkerSettings
    skip_shas: frozenset[str] = frozenset()  # indexed recordings of the same size
    duration_s: float = 0.0  # what its header declares, for progress only (0: not read)


def index_task(task: FileTask, on_time: Callable[[float], None] | None = None) -> FileOutcome:
    """Index one file into a shard of its job; the outcome (status indexed: `shard` is set).

    `on_time(seconds)` is told how far into the footage the decoding is (in-process only)."""
    from relecture.indexer.decode import DecodeStats, sample_frames
    from relecture.indexer.pipeline import index_frames

    path, s = task.file.path, task.settings
    cpu0 = time.process_time()  # all threads of this process: decode, onnx, torch
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def outcome(status: str, message: str = "", **kw) -> FileOutcome:
        return FileOutcome(path, status, message, camera=task.file.hints.camera,
                           cpu_s=time.process_time() - cpu0, worker=worker,
                           peak_rss_kb=_peak_rss_kb(), **kw)

    try:
        digest = sha256_file(path)
        if digest in task.skip_shas:
            return outcome("skipped", f"{ALREADY} (same sha256)", sha256=digest)
        if (s.shards / digest).exists():
            return outcome("skipped", SAME_CONTENT, sha256=digest)
        rec = probe(path, task.file.hints, digest)
        detector, describer = _components(s.factory, s.config, s.extractors, s.threads)
        decoded = DecodeStats()
        res = index_frames(sample_frames(path, s.config.sample_fps, decoded), detector,
                           describer, s.config, on_frame=_ticker(on_time))
        if task.file.changed():  # the hash would not be of the bytes decoded
            return outcome("skipped", f"{STILL_WRITING} (changed while indexed); index it "
                           "again once complete", sha256=digest)
        shard = shardlib.write_shard(s.shards, rec, res.sightings, res.persons,
                                     decoded.decoded, res.frames_detected,
                                     extra={"extractors": list(s.extractors),
                                            "frames_sampled": res.frames_sampled,
                                            "frames_untimed": decoded.untimed})
    except ModelUnavailable:
        raise
    except FileNotFoundError:
        return outcome("skipped", f"{VANISHED} (deleted or moved since discovery)")
    except FileExistsError:
        return outcome("skipped", SAME_CONTENT)
    except RelectureError as e:
        if not path.exists():
            return outcome("skipped", f"{VANISHED} (deleted or moved while indexed)")
        return outcome("failed", str(e))
    except OSError as e:
        if e.errno == errno.ENOSPC:
            return outcome("failed", f"{DISK_FULL} while writing its shard; redone next run")
        return outcome("failed", f"{path}: {e.strerror or e}")
    except Exception as e:  # a bug or a model error must not stop the other files
        return outcome("failed", f"unexpected error ({type(e).__name__}: {e})")
    if on_time is not None:
        on_time(rec.duration_s)
    dropped = (f"{decoded.untimed} pictures without a timestamp were left out"
               if decoded.untimed else "")
    return outcome("indexed", dropped, sha256=digest, duration_s=rec.duration_s, shard=shard)


def _ticker(on_time: Callable[[float], None] | None):
    """An on_frame callback telling `on_time` about each further second of footage."""
    if on_time is None:
        return None
    last = [0.0]

    def on_frame(frame) -> None:
        if frame.t - last[0] >= 1.0:
            last[0] = frame.t
            on_time(frame.t)

    return on_frame


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _components(factory, config: IndexConfig, extractors: tuple[str, ...],
                threads: int | None = None):
    """Models for this worker process, loaded on its first file and reused after. The cache
    is keyed by the factory itself (`pipeline.build_components` unless one is given) and by
    the model cache folder the weights come from, so a caller that swaps either gets its
    own models without clearing anything."""
    from relecture.models.registry import models_cache

    if factory is None:
        from relecture.indexer import pipeline

        factory = pipeline.build_components
    return _loaded(factory, config, extractors, threads, models_cache())


@functools.cache
def _loaded(factory, config: IndexConfig, extractors: tuple[str, ...], threads: int | None,
            weights_dir: Path):
    if threads:
        limit_threads(threads)
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
    coarse class only (no refinement, confidence 0, no body style). No colour: "unknown".
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
