"""The catalog's read side: typed records of what is stored, and the SQL that reads them.

`SightingRef` is what an access check needs of a sighting (`access.check_hits`);
`SightingRecord`, `RecordingRecord`, `PlateReadRecord` and `IndexJobRecord` are rows as
stored (times naive UTC, `start_local` the camera's clock); `SightingDetail` is what `show`
and an export read of one sighting. Every function takes the DuckDB connection
(`Catalog.db`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, Optional


@dataclass(frozen=True)
class SightingRef:
    """Where and when a sighting is: enough to check it against a requisition's scope."""

    sighting_id: int
    camera: str
    first_utc: datetime | None
    last_utc: datetime | None


@dataclass(frozen=True)
class SightingRecord:
    """One row of `sightings`: offsets `*_t` in seconds into the recording; `boxes` the
    track's boxes as stored (JSON text); `colour_p`, `body_p` ({style: probability}) and
    `travel` ({entry, exit, motion, motion_conf}) None when not known (indexed before they
    were kept)."""

    sighting_id: int
    recording_id: str
    camera: str
    track_id: Optional[int]
    first_t: Optional[float]
    last_t: Optional[float]
    first_utc: Optional[datetime]
    last_utc: Optional[datetime]
    vehicle_type: Optional[str]
    type_conf: Optional[float]
    colour: Optional[str]
    colour_conf: Optional[float]
    colour_alt: Optional[str]
    colour_alt_conf: Optional[float]
    plate: Optional[str]
    plate_conf: Optional[float]
    best_t: Optional[float]
    thumbnail: Optional[str]
    boxes: Optional[str]
    embedding_space: Optional[str]
    colour_p: Optional[dict] = None
    body_p: Optional[dict] = None
    travel: Optional[dict] = None

    @property
    def ref(self) -> SightingRef:
        return SightingRef(self.sighting_id, self.camera, self.first_utc, self.last_utc)

    def box_track(self) -> list:
        """The stored boxes, parsed ([] when none)."""
        return json.loads(self.boxes or "[]")


@dataclass(frozen=True)
class RecordingRecord:
    """One row of `recordings` (`recording_id` is the file's sha256)."""

    recording_id: str
    path: Optional[str]
    size_bytes: Optional[int]
    camera: Optional[str]
    start_local: Optional[datetime]
    tz: Optional[str]
    clock_offset_s: Optional[float]
    start_utc: Optional[datetime]
    duration_s: Optional[float]
    fps: Optional[float]
    width: Optional[int]
    height: Optional[int]
    codec: Optional[str]
    frames_decoded: Optional[int]
    frames_detected: Optional[int]
    job_id: Optional[str]
    indexed_utc: Optional[datetime]

    @classmethod
    def unknown(cls, recording_id: str) -> "RecordingRecord":
        """A recording no longer catalogued: its id, nothing else known."""
        return cls(recording_id, *(None for _ in fields(cls)[1:]))

    @property
    def zone(self) -> str:
        from relecture.times import DEFAULT_TZ

        return self.tz or DEFAULT_TZ

    def camera_time(self, utc: datetime) -> datetime:
        """Naive UTC -> what the camera's clock showed then (its zone plus its offset)."""
        from relecture.search.query_time import camera_time

        return camera_time(utc, self.zone, self.clock_offset_s)


@dataclass(frozen=True)
class PlateReadRecord:
    t: float
    text: Optional[str]
    confidence: Optional[float]
    source: Optional[str]
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class IndexJobRecord:
    job_id: str
    started_utc: Optional[datetime]
    parameters: Any
    model_versions: Any


@dataclass(frozen=True)
class SightingDetail:
    """One sighting with its recording (None when no longer catalogued), its plate reads in
    time order and its thumbnail file (None when it has none)."""

    sighting: SightingRecord
    recording: Optional[RecordingRecord]
    reads: tuple[PlateReadRecord, ...]
    thumbnail: Optional[Path]


def _names(cls) -> list[str]:
    return [f.name for f in fields(cls)]


LATER_COLUMNS = ("colour_p", "body_p", "travel")  # added by catalog.MIGRATIONS


def _sighting_columns(db) -> str:
    from relecture.catalog import has_column

    names = [n for n in _names(SightingRecord) if n not in LATER_COLUMNS]
    return ", ".join(names + [c if has_column(db, c) else f"NULL AS {c}" for c in LATER_COLUMNS])


def sighting_refs(db, ids: list[int]) -> list[SightingRef]:
    """The refs of each of `ids` that exists, in the order asked (an unknown id is left out:
    `access.check_hits` refuses it as it refuses one out of scope)."""
    if not ids:
        return []
    rows = db.execute("SELECT sighting_id, camera, first_utc, last_utc FROM sightings "
                      "WHERE sighting_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()
    found = {r[0]: SightingRef(*r) for r in rows}
    return [found[i] for i in ids if i in found]


def sighting(db, sighting_id: int) -> Optional[SightingRecord]:
    row = db.execute(f"SELECT {_sighting_columns(db)} FROM sightings WHERE sighting_id = ?",
                     [sighting_id]).fetchone()
    return SightingRecord(*row) if row else None


def recording_sightings(db, recording_id: str) -> list[SightingRecord]:
    """Every sighting of one recording, in the order they came into view."""
    rows = db.execute(f"SELECT {_sighting_columns(db)} FROM sightings WHERE recording_id = ? "
                      "ORDER BY first_t, sighting_id", [recording_id]).fetchall()
    return [SightingRecord(*r) for r in rows]


def recording(db, recording_id: str) -> Optional[RecordingRecord]:
    row = db.execute(f"SELECT {', '.join(_names(RecordingRecord))} FROM recordings "
                     "WHERE recording_id = ?", [recording_id]).fetchone()
    return RecordingRecord(*row) if row else None


def recordings_meeting(db, start, end) -> list[RecordingRecord]:
    """Recordings whose span (start_utc + duration) meets [start, end), oldest first."""
    rows = db.execute(
        f"SELECT {', '.join(_names(RecordingRecord))} FROM recordings WHERE start_utc < ? AND "
        "start_utc + to_microseconds(CAST(COALESCE(duration_s, 0) * 1e6 AS BIGINT)) >= ? "
        "ORDER BY start_utc, recording_id", [end, start]).fetchall()
    return [RecordingRecord(*row) for row in rows]


def plate_reads(db, sighting_id: int) -> tuple[PlateReadRecord, ...]:
    # a literal id: DuckDB then prunes plate_reads (in id order, no index) by its zone maps
    # before the scan, twice as fast as with a parameter at 10M sightings
    rows = db.execute("SELECT t, text, confidence, source, x1, y1, x2, y2 FROM plate_reads "
                      f"WHERE sighting_id = {int(sighting_id)} ORDER BY t").fetchall()
    return tuple(PlateReadRecord(r[0], r[1], r[2], r[3], (r[4], r[5], r[6], r[7]))
                 for r in rows)


def person_box_tracks(db, recording_id: str) -> list[list]:
    """The parsed boxes of each person track of one recording (to blur them)."""
    rows = db.execute("SELECT boxes FROM person_tracks WHERE recording_id = ?",
                      [recording_id]).fetchall()
    return [json.loads(r[0] or "[]") for r in rows]


def index_job(db, job_id: Optional[str]) -> Optional[IndexJobRecord]:
    row = db.execute("SELECT job_id, started_utc, parameters, model_versions FROM index_jobs "
                     "WHERE job_id = ?", [job_id]).fetchone()
    if row is None:
        return None
    return IndexJobRecord(row[0], row[1], json.loads(row[2] or "null"),
                          json.loads(row[3] or "null"))


def sighting_detail(catalog, sighting_id: int) -> Optional[SightingDetail]:
    """`sighting_id` with its recording, reads and thumbnail (None when unknown)."""
    s = sighting(catalog.db, sighting_id)
    if s is None:
        return None
    return SightingDetail(s, recording(catalog.db, s.recording_id),
                          plate_reads(catalog.db, sighting_id),
                          catalog.thumbnail_path(s.thumbnail) if s.thumbnail else None)
