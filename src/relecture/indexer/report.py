"""An index job's report, the same for both modes: per-file outcomes and totals, what was
recovered from earlier jobs, and how the job ran."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from relecture.indexer.intake import ALREADY, PAST_RETENTION, STILL_WRITING, VANISHED
from relecture.indexer.outcome import FileOutcome
from relecture.indexer.task import SAME_CONTENT

OUTSIDE = "outside requisition"  # the reason a file outside a requisition's scope is skipped


@dataclass
class IndexReport:
    """The job's summary. `outcomes` are this job's files; `recovered` the shards of earlier
    (killed or interrupted) jobs that this one committed for them at its start."""

    job_id: str
    mode: str = "files"  # files | archive
    root: str = ""  # the archive root (archive mode)
    requisition: str | None = None  # the reference a requisition-scoped job indexed for
    executor: str = "local"  # local | pool | ray
    workers: int = 1
    extractors: tuple[str, ...] = ()
    outcomes: list[FileOutcome] = field(default_factory=list)
    recovered: list[FileOutcome] = field(default_factory=list)
    temporaries_removed: int = 0
    peak_rss_kb: dict[str, int] = field(default_factory=dict)  # per worker (host:pid)
    wall_s: float = 0.0
    audit_seq: int | None = None
    # the vector indexes searches load, as the job left them: the spaces brought up to date,
    # or why they were not (a derived cache: the next large search rebuilds it)
    vectors: str = ""

    def add(self, outcome: FileOutcome) -> None:
        """Count one file's outcome (and its worker's peak memory)."""
        self.outcomes.append(outcome)
        if outcome.worker:
            self.peak_rss_kb[outcome.worker] = max(self.peak_rss_kb.get(outcome.worker, 0),
                                                   outcome.peak_rss_kb)

    @property
    def failed(self) -> list[FileOutcome]:
        """Failed files, this job's and those of recovered shards that could not be committed."""
        return [o for o in self.outcomes + self.recovered if o.status == "failed"]

    def count(self, status: str) -> int:
        """How many of this job's files ended with `status`."""
        return sum(o.status == status for o in self.outcomes)

    @property
    def indexed(self) -> list[FileOutcome]:
        """This job's committed files."""
        return [o for o in self.outcomes if o.status == "indexed"]

    @property
    def video_s(self) -> float:
        return sum(o.duration_s for o in self.indexed)

    @property
    def cpu_s(self) -> float:
        return sum(o.cpu_s for o in self.outcomes)

    @property
    def camera_hours(self) -> float:
        return self.video_s / 3600.0

    @property
    def realtime_factor(self) -> float:
        return self.video_s / self.wall_s if self.wall_s else 0.0

    def skipped_by_reason(self) -> dict[str, int]:
        """Skipped files counted by the first words of their reason."""
        return dict(Counter(_reason(o.message) for o in self.outcomes if o.status == "skipped"))

    def as_dict(self) -> dict:
        """The report as JSON-ready values (`relecture index --archive --json`)."""
        return {
            "job_id": self.job_id, "mode": self.mode, "root": self.root,
            "requisition": self.requisition, "executor": self.executor,
            "workers": self.workers, "extractors": list(self.extractors),
            "files": {"indexed": self.count("indexed"), "skipped": self.count("skipped"),
                      "failed": self.count("failed")},
            "skipped": self.skipped_by_reason(),
            "recovered": [{"file": str(o.path), "status": o.status, "message": o.message}
                          for o in self.recovered],
            "camera_hours": round(self.camera_hours, 4), "wall_s": round(self.wall_s, 3),
            "realtime_factor": round(self.realtime_factor, 2), "cpu_s": round(self.cpu_s, 2),
            "sightings": sum(o.sightings for o in self.indexed),
            "peak_rss_mb": {k: round(v / 1024, 1) for k, v in self.peak_rss_kb.items()},
            "failures": [{"file": str(o.path), "message": o.message} for o in self.failed],
            "temporaries_removed": self.temporaries_removed, "audit_seq": self.audit_seq,
            "vectors": self.vectors,
        }


def _reason(message: str) -> str:
    for key in (ALREADY, STILL_WRITING, VANISHED, PAST_RETENTION, SAME_CONTENT, OUTSIDE):
        if message.startswith(key):
            return key
    return message.split(" (")[0]
