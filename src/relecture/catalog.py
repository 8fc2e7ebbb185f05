"""The catalog: DuckDB tables (the source of truth) plus FAISS vectors derived from them.

A file's results are written in one DuckDB transaction: they appear whole or not at all.
Embeddings are stored in DuckDB in that same transaction; the FAISS index per embedding
space is a cache rebuilt from DuckDB whenever it is behind, so a crash between the two can
never leave a vector without its sighting or the reverse.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import numpy as np

from relecture import catalog_plates
from relecture.errors import RelectureError
from relecture.files import write_atomic
from relecture.footage import Recording
from relecture.settings import Home
from relecture.indexer.body_style import STYLES
from relecture.indexer.colour import COLOURS
from relecture.sightings import ColourResult, PersonTrack, Sighting, Travel, TypeResult

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS sighting_ids START 1;
CREATE TABLE IF NOT EXISTS index_jobs (
    job_id VARCHAR PRIMARY KEY, started_utc TIMESTAMP, finished_utc TIMESTAMP,
    actor VARCHAR, parameters JSON, model_versions JSON,
    files_ok INTEGER, files_failed INTEGER, files_skipped INTEGER
);
-- running | finished | interrupted (NULL: written before this column; finished_utc tells)
ALTER TABLE index_jobs ADD COLUMN IF NOT EXISTS status VARCHAR;
CREATE TABLE IF NOT EXISTS recordings (
    recording_id VARCHAR PRIMARY KEY,  -- sha256 of the file
    path VARCHAR, size_bytes BIGINT, camera VARCHAR,
    start_local TIMESTAMP, tz VARCHAR, clock_offset_s DOUBLE, start_utc TIMESTAMP,
    duration_s DOUBLE, fps DOUBLE, width INTEGER, height INTEGER, codec VARCHAR,
    frames_decoded INTEGER, frames_detected INTEGER,
    job_id VARCHAR, indexed_utc TIMESTAMP
);
CREATE TABLE IF NOT EXISTS sightings (
    sighting_id BIGINT PRIMARY KEY DEFAULT nextval('sighting_ids'),
    recording_id VARCHAR NOT NULL, camera VARCHAR NOT NULL, track_id INTEGER,
    first_t DOUBLE, last_t DOUBLE, first_utc TIMESTAMP, last_utc TIMESTAMP,
    vehicle_type VARCHAR, type_conf DOUBLE,
    colour VARCHAR, colour_conf DOUBLE, colour_alt VARCHAR, colour_alt_conf DOUBLE,
    plate VARCHAR, plate_conf DOUBLE,
    best_t DOUBLE, thumbnail VARCHAR, boxes JSON, embedding_space VARCHAR
);
CREATE TABLE IF NOT EXISTS plate_reads (
    sighting_id BIGINT NOT NULL, t DOUBLE, text VARCHAR, confidence DOUBLE,
    x1 DOUBLE, y1 DOUBLE, x2 DOUBLE, y2 DOUBLE, source VARCHAR
);
CREATE TABLE IF NOT EXISTS embeddings (
    sighting_id BIGINT PRIMARY KEY, space VARCHAR NOT NULL, vector FLOAT[] NOT NULL
);
CREATE TABLE IF NOT EXISTS person_tracks (
    recording_id VARCHAR NOT NULL, track_id INTEGER, boxes JSON
);
CREATE SEQUENCE IF NOT EXISTS legal_hold_ids START 1;
CREATE TABLE IF NOT EXISTS legal_holds (  -- retention purge skips a recording while held
    hold_id BIGINT PRIMARY KEY DEFAULT nextval('legal_hold_ids'),
    requisition VARCHAR NOT NULL, recording_id VARCHAR NOT NULL, sighting_id BIGINT,
    placed_by VARCHAR NOT NULL, placed_utc TIMESTAMP NOT NULL, reason VARCHAR,
    released_by VARCHAR, released_utc TIMESTAMP
);
-- The audit log's last record as of the latest append (requisitions/audit_anchor.py): one row
CREATE TABLE IF NOT EXISTS audit_anchor (
    seq BIGINT NOT NULL, entry_hash VARCHAR NOT NULL, recorded_utc TIMESTAMP NOT NULL
);
"""


# The colour distribution (`ColourResult.distribution`): one probability per named colour,
# NULL for sightings catalogued before it was kept (the search then falls back to their
# named colour and second choice). Added to older catalogs by their next writable open.
# The same for the body styles (`TypeResult.body`: one probability per style of
# `indexer.body_style.STYLES`, NULL when not classified) and the direction of travel
# (`Sighting.travel`, NULL when unknown); older rows stay NULL and rank as unknown.
COLOUR_P_TYPE = "STRUCT(" + ", ".join(f"{c} DOUBLE" for c in COLOURS) + ")"
BODY_P_TYPE = "STRUCT(" + ", ".join(f"{s} DOUBLE" for s in STYLES) + ")"
TRAVEL_TYPE = "STRUCT(entry VARCHAR, exit VARCHAR, motion VARCHAR, motion_conf DOUBLE)"
MIGRATIONS = f"""
ALTER TABLE sightings ADD COLUMN IF NOT EXISTS colour_p {COLOUR_P_TYPE};
ALTER TABLE sightings ADD COLUMN IF NOT EXISTS body_p {BODY_P_TYPE};
ALTER TABLE sightings ADD COLUMN IF NOT EXISTS travel {TRAVEL_TYPE};
{catalog_plates.DROP_OLD}
{catalog_plates.SCHEMA}
"""


def sighting_columns(db) -> frozenset[str]:
    """The columns `sightings` has (an older catalog opened read-only before any writable
    open has migrated it lacks the later ones)."""
    return frozenset(r[0] for r in db.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'sightings'").fetchall())


def has_column(db, column: str) -> bool:
    """Whether `sightings` has `column` (see `sighting_columns`)."""
    return column in sighting_columns(db)


def colour_p_value(colour: ColourResult) -> dict[str, float] | None:
    """The colour_p value stored for `colour`: every named colour's probability, or None
    when there is no distribution."""
    if not colour.distribution:
        return None
    given = dict(colour.distribution)
    return {c: float(given.get(c, 0.0)) for c in COLOURS}


def body_p_value(vehicle_type: TypeResult) -> dict[str, float] | None:
    """The body_p value stored for a type: every style's probability, or None when the
    type was not classified."""
    if not vehicle_type.body:
        return None
    given = dict(vehicle_type.body)
    return {s: float(given.get(s, 0.0)) for s in STYLES}


def travel_value(travel: Travel | None) -> dict | None:
    """The travel value stored for a sighting's direction (None: unknown)."""
    if travel is None:
        return None
    return {"entry": travel.entry, "exit": travel.exit, "motion": travel.motion,
            "motion_conf": float(travel.motion_conf)}


# DuckDB allows one read-write process, and while it has the file open no other process may
# open it even read-only (and the reverse). The index loader opens the catalog only briefly,
# once per file, so every open waits (short jittered backoff) for the lock to be free.
READ_WAIT_S = 30.0  # how long a reader (search, audit...) waits for the loader
WRITE_WAIT_S = 300.0  # how long the loader waits for readers (each holds it for a query)



@contextmanager
def transaction(db):
    """One DuckDB transaction around the block: committed when it ends, rolled back when it
    raises (Ctrl-C included), so a write lands whole or not at all."""
    db.execute("BEGIN TRANSACTION")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class CatalogBusy(RelectureError):
    """The catalog stayed locked by another process longer than we were willing to wait."""

    exit_code = 1


def _is_lock_conflict(e: Exception) -> bool:
    text = str(e).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def connect(path: Path, read_only: bool, wait_s: float | None = None):
    """`duckdb.connect`, retried with a short backoff while another process holds the lock."""
    wait_s = (READ_WAIT_S if read_only else WRITE_WAIT_S) if wait_s is None else wait_s
    deadline = time.monotonic() + wait_s
    delay = 0.005
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            if not _is_lock_conflict(e):
                raise
            if time.monotonic() >= deadline:
                raise CatalogBusy(
                    f"{path}: still locked by another process after {wait_s:.0f} s "
                    "(an index job committing? try again)") from None
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, 0.2)


def utc_naive(dt: datetime) -> datetime:
    """UTC as a naive datetime: the catalog stores every instant that way."""
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


class Catalog:
    """An open catalog. Use as a context manager; writes go through `add_recording`."""

    def __init__(self, home: Home, read_only: bool = False, wait_s: float | None = None):
        """Open the catalog; waits up to `wait_s` (default READ_WAIT_S / WRITE_WAIT_S) while
        another process holds DuckDB's file lock, then raises CatalogBusy."""
        self.home = home.ensure() if not read_only else home
        if read_only and not home.catalog_db.exists():
            from relecture.errors import NotFound

            raise NotFound(f"no catalog in {home.root}: run `relecture index` first")
        self.db = connect(home.catalog_db, read_only, wait_s)
        if read_only and not self.db.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'sightings'"
        ).fetchone():
            # a reader can slip in between a first job creating the file and its schema
            self.db.close()
            from relecture.errors import NotFound

            raise NotFound(f"the catalog in {home.root} is still being created by an index "
                           "job: try again in a moment")
        if not read_only:
            try:
                self.db.execute(SCHEMA)
                catalog_plates.drop_outdated(self.db)
                self.db.execute(MIGRATIONS)
                self.sync_plate_grams()
            except BaseException:
                self.db.close()
                raise
        # read once: the search asks several times per query, and asking DuckDB costs ms
        self._sighting_columns = sighting_columns(self.db)
        self.plate_index_current = catalog_plates.current(self.db)

    def has_column(self, column: str) -> bool:
        """Whether `sightings` has `column` as of this open (see `sighting_columns`)."""
        return column in self._sighting_columns

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def sync_plate_grams(self) -> None:
        """Bring the plate index up to date in one transaction (see
        `catalog_plates.sync_plate_grams`)."""
        with transaction(self.db):
            catalog_plates.sync_plate_grams(self.db)

    # -- jobs ---------------------------------------------------------------------------
    def start_job(self, actor: str, parameters: dict, model_versions: dict,
                  job_id: str | None = None) -> str:
        """Record a job as running; returns its id (`job_id`, or a new one)."""
        job_id = job_id or uuid.uuid4().hex
        self.db.execute(
            "INSERT INTO index_jobs (job_id, started_utc, finished_utc, actor, parameters, "
            "model_versions, files_ok, files_failed, files_skipped, status) "
            "VALUES (?, ?, NULL, ?, ?, ?, 0, 0, 0, 'running')",
            [job_id, utc_naive(datetime.now(timezone.utc)), actor, json.dumps(parameters),
             json.dumps(model_versions)],
        )
        return job_id

    def finish_job(self, job_id: str, ok: int, failed: int, skipped: int,
                   status: str = "finished") -> None:
        """Record a job's end: its counts and `status` (finished or interrupted)."""
        self.db.execute(
            "UPDATE index_jobs SET finished_utc = ?, files_ok = ?, files_failed = ?, "
            "files_skipped = ?, status = ? WHERE job_id = ?",
            [utc_naive(datetime.now(timezone.utc)), ok, failed, skipped, status, job_id],
        )

    def unfinished_jobs(self) -> list[tuple[str, str, dict]]:
        """(job_id, actor, parameters) of every job that never recorded its end (killed)."""
        rows = self.db.execute("SELECT job_id, actor, parameters FROM index_jobs WHERE "
                               "finished_utc IS NULL ORDER BY started_utc").fetchall()
        return [(j, a, json.loads(p) if p else {}) for j, a, p in rows]

    def jobs(self, job_ids: list[str]) -> list[tuple[str, str, dict]]:
        """(job_id, actor, parameters) of the jobs among `job_ids` that the catalog knows."""
        if not job_ids:
            return []
        rows = self.db.execute("SELECT job_id, actor, parameters FROM index_jobs WHERE "
                               "job_id IN (SELECT unnest(?))", [job_ids]).fetchall()
        return [(j, a, json.loads(p) if p else {}) for j, a, p in rows]

    def job_recordings(self, job_id: str) -> list[tuple[str, str, int]]:
        """(sha256, camera, sightings) of every recording job `job_id` committed."""
        return self.db.execute(
            "SELECT r.recording_id, r.camera, count(s.sighting_id) FROM recordings r "
            "LEFT JOIN sightings s USING (recording_id) WHERE r.job_id = ? "
            "GROUP BY r.recording_id, r.camera ORDER BY r.recording_id", [job_id]).fetchall()

    # -- recordings ---------------------------------------------------------------------
    def known_recordings(self) -> list[tuple[str, str, int, datetime]]:
        """(sha256, path, size_bytes, indexed_utc) of every indexed recording."""
        return self.db.execute(
            "SELECT recording_id, path, size_bytes, indexed_utc FROM recordings").fetchall()

    def has_recording(self, sha256: str) -> bool:
        return self.db.execute(
            "SELECT count(*) FROM recordings WHERE recording_id = ?", [sha256]
        ).fetchone()[0] > 0

    def add_recording(
        self,
        rec: Recording,
        sightings: list[Sighting],
        persons: list[PersonTrack],
        job_id: str,
        frames_decoded: int,
        frames_detected: int,
    ) -> list[int]:
        """Store one file's results in a single transaction; returns the new sighting ids.

        Thumbnails are written to disk first (atomic renames, named by recording and track),
        so a crash before COMMIT leaves at most unreferenced files that the redo overwrites.
        """
        thumbs = [self._write_thumbnail(rec.sha256, s) for s in sightings]
        db = self.db
        with transaction(db):
            db.execute(
                "INSERT INTO recordings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [rec.sha256, str(rec.path), rec.size_bytes, rec.camera, rec.start_local, rec.tz,
                 rec.clock_offset_s, utc_naive(rec.start_utc), rec.duration_s, rec.fps, rec.width,
                 rec.height, rec.codec, frames_decoded, frames_detected, job_id,
                 utc_naive(datetime.now(timezone.utc))],
            )
            ids = [self._insert_sighting(rec, s, thumb) for s, thumb in zip(sightings, thumbs)]
            for p in persons:
                db.execute("INSERT INTO person_tracks VALUES (?, ?, ?)",
                           [rec.sha256, p.track_id, json.dumps([asdict(b) for b in p.boxes])])
            catalog_plates.sync_plate_grams(db)
        return ids

    def _insert_sighting(self, rec: Recording, s: Sighting, thumb: str) -> int:
        db = self.db
        sid = db.execute(
            "INSERT INTO sightings (recording_id, camera, track_id, first_t, last_t, first_utc, "
            "last_utc, vehicle_type, type_conf, colour, colour_conf, colour_alt, colour_alt_conf, "
            "plate, plate_conf, best_t, thumbnail, boxes, embedding_space, colour_p, body_p, "
            "travel) "
            f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?::{COLOUR_P_TYPE},"
            f"?::{BODY_P_TYPE},?::{TRAVEL_TYPE}) "
            "RETURNING sighting_id",
            [rec.sha256, rec.camera, s.track_id, s.first_t, s.last_t,
             utc_naive(rec.utc_at(s.first_t)), utc_naive(rec.utc_at(s.last_t)),
             s.vehicle_type.name, s.vehicle_type.confidence, s.colour.name, s.colour.confidence,
             s.colour.alt, s.colour.alt_confidence, s.plate.text, s.plate.confidence, s.best_t,
             thumb, json.dumps([asdict(b) for b in s.boxes]), s.embedding_space,
             colour_p_value(s.colour), body_p_value(s.vehicle_type), travel_value(s.travel)],
        ).fetchone()[0]
        for r in s.plate.reads:
            db.execute("INSERT INTO plate_reads VALUES (?,?,?,?,?,?,?,?,?)",
                       [sid, r.t, r.text, r.confidence, *r.box, r.source])
        if s.embedding is not None:
            db.execute("INSERT INTO embeddings VALUES (?, ?, ?)",
                       [sid, s.embedding_space, np.asarray(s.embedding, np.float32).tolist()])
        return sid

    def _write_thumbnail(self, sha256: str, s: Sighting) -> str:
        name = f"{sha256[:16]}_{s.track_id}.jpg"
        write_atomic(self.home.thumbnails_dir / name, s.thumbnail_jpeg)
        return name

    # -- reads --------------------------------------------------------------------------
    def thumbnail_path(self, name: str) -> Path:
        return self.home.thumbnails_dir / name

    def sightings_of(self, sha256: str) -> list[dict]:
        """Every sighting of one recording, as dicts (for display and tests)."""
        cur = self.db.execute(
            "SELECT * FROM sightings WHERE recording_id = ? ORDER BY first_t", [sha256]
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


def open_catalog(home: Home, read_only: bool = True) -> Catalog:
    """The catalog, or a one-line UsageError when it is missing or another process holds it."""
    from relecture.errors import UsageError

    try:
        return Catalog(home, read_only=read_only)
    except duckdb.IOException as e:
        raise UsageError(f"cannot open the catalog in {home.root}: {str(e).splitlines()[0]} "
                         "(is an index job or a purge running?)") from None
