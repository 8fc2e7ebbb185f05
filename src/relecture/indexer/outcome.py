"""What happened to one file of an index job: the one type a worker hands back, the loader
completes and the report lists (both modes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file (`status`: indexed | skipped | failed)."""

    path: Path
    status: str
    message: str = ""
    camera: str | None = None
    duration_s: float = 0.0
    sightings: int = 0
    persons: int = 0
    plates: int = 0
    cpu_s: float = 0.0
    sha256: str | None = None  # the recording, when known
    shard: Path | None = None  # set by a worker: the shard waiting for the loader
    worker: str = ""  # host:pid of the worker that ran it ("" when none did)
    peak_rss_kb: int = 0  # that worker's peak memory so far
