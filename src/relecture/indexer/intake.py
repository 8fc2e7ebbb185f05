"""Intake: which of the files found may be indexed now, and what to say about the others.

Both index modes (`relecture index FILES` and `relecture index --archive ROOT`) decide here,
by the same rules, in this order:

1. only regular files are footage: a pipe, device or socket is refused (reading one hangs);
2. a file already in the catalog at the same path and size, not modified since it was
   indexed, is skipped without being read;
3. camera and start come from flags, sidecar or name (`footage.resolve_hints`); a file whose
   camera or start is unknown or malformed is refused;
4. its true start (UTC) may not be later than now plus FUTURE_TOLERANCE (a wrong camera
   clock, start or clock offset: refused, since such a recording would never be purged), nor
   before the site's retention limit (skipped: footage past retention is not indexed);
5. a file modified less than `settle_s` ago, or whose size or mtime changes between two looks
   `recheck_s` apart, is still being written and is skipped until a later run.

Each accepted file keeps the size and mtime seen here; the job compares them again once the
file is decoded (`Accepted.changed`), so the recorded SHA-256 covers exactly the bytes indexed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from relecture.errors import RelectureError
from relecture.footage import SourceHints, regular_file, resolve_hints, true_start_utc
from relecture.indexer.outcome import FileOutcome

DEFAULT_SETTLE_S = 120.0  # a file modified more recently than this may still be recording
DEFAULT_RECHECK_S = 5.0  # the second look at size and mtime, this long after the first
# Camera clocks drift and a file is named when its recording starts: a few minutes ahead of
# this machine's clock is a drift, more is a wrong clock or offset.
FUTURE_TOLERANCE = timedelta(minutes=10)
ALREADY = "already indexed"
STILL_WRITING = "still being written"
VANISHED = "vanished"
PAST_RETENTION = "older than"


@dataclass(frozen=True)
class Accepted:
    """A file intake let through: its resolved hints and the size and mtime it had then."""

    path: Path
    hints: SourceHints  # resolved: camera, start, tz, offset
    size: int
    mtime_ns: int

    def changed(self) -> bool:
        """Whether the file is no longer what intake saw (grown, rewritten or gone)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return True
        return (st.st_size, st.st_mtime_ns) != (self.size, self.mtime_ns)


@dataclass
class Intake:
    """The files to index, and an outcome for each file that is not."""

    accepted: list[Accepted] = field(default_factory=list)
    refused: list[FileOutcome] = field(default_factory=list)


def utc_now() -> datetime:
    """This machine's clock (aware UTC): what future starts and retention are measured from."""
    return datetime.now(timezone.utc)


def take_in(files: list[Path], flags: SourceHints, known: list[tuple], retention_days: int,
            now: datetime, settle_s: float = DEFAULT_SETTLE_S,
            recheck_s: float | None = None) -> Intake:
    """Apply the module's rules to `files`. `known`: the catalog's (sha256, path, size,
    indexed_utc) rows; `now`: aware UTC; `recheck_s` None: DEFAULT_RECHECK_S, or no second
    look when `settle_s` is 0 (the caller knows the files are complete)."""
    if recheck_s is None:
        recheck_s = DEFAULT_RECHECK_S if settle_s > 0 else 0.0
    by_path = {p: (size, indexed) for _, p, size, indexed in known}
    oldest, latest = now - timedelta(days=retention_days), now + FUTURE_TOLERANCE
    out = Intake()
    looks: list[Accepted] = []
    for path in files:
        try:
            st = regular_file(path)
            seen = by_path.get(str(path.resolve()))  # the catalog keeps resolved paths
            if seen and seen[0] == st.st_size and _utc(st.st_mtime) <= seen[1]:
                out.refused.append(FileOutcome(path, "skipped", f"{ALREADY} (same path)"))
                continue
            hints = resolve_hints(path, flags)
        except FileNotFoundError:
            out.refused.append(FileOutcome(path, "skipped", f"{VANISHED} (deleted during "
                                                            "discovery)"))
            continue
        except RelectureError as e:
            out.refused.append(FileOutcome(path, "failed", str(e)))
            continue
        except OSError as e:
            out.refused.append(FileOutcome(path, "failed", f"{path}: {e.strerror or e}"))
            continue
        start = true_start_utc(hints.start, hints.tz, hints.clock_offset_s)
        if start > latest:
            out.refused.append(FileOutcome(
                path, "failed", f"{path}: starts in the future ({start:%Y-%m-%d %H:%M} UTC): "
                "check the camera clock, the start time and the clock offset",
                camera=hints.camera))
        elif start < oldest:
            out.refused.append(FileOutcome(
                path, "skipped", f"{PAST_RETENTION} the {retention_days}-day retention: not "
                "indexed", camera=hints.camera))
        elif (age := time.time() - st.st_mtime) < settle_s:
            out.refused.append(FileOutcome(
                path, "skipped", f"{STILL_WRITING} (modified {max(age, 0):.0f} s ago); next "
                "run", camera=hints.camera))
        else:
            looks.append(Accepted(path, hints, st.st_size, st.st_mtime_ns))
    if looks and recheck_s > 0:
        time.sleep(recheck_s)  # one wait for every file: the second look
    for acc in looks:
        if not acc.path.exists():
            out.refused.append(FileOutcome(acc.path, "skipped", f"{VANISHED} (deleted during "
                                           "discovery)", camera=acc.hints.camera))
        elif acc.changed():
            out.refused.append(FileOutcome(acc.path, "skipped", f"{STILL_WRITING} (growing); "
                                           "next run", camera=acc.hints.camera))
        else:
            out.accepted.append(acc)
    return out


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)
