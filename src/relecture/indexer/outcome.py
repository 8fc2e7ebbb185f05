"""What happened to one file of an index job (both modes, and their reports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file."""

    path: Path
    status: str  # indexed | skipped | failed
    message: str = ""
    camera: str | None = None
    duration_s: float = 0.0
    sightings: int = 0
    persons: int = 0
    plates: int = 0
    cpu_s: float = 0.0
    sha256: str | None = None  # the recording, when known
