"""Retention: purge footage-derived data past the site's retention period, except what a
legal hold keeps; place and release those holds. Everything here is audited (counts and
references, never content).

A recording is past retention when it *ended* before the cutoff (now minus
`site.retention_days`, at most 30 days; an operator may purge earlier with `before`, never
later). Purging a recording removes its catalog row and everything derived from it: its
sightings, their plate reads and embeddings, its person tracks, its thumbnails, and the
FAISS caches of the embedding spaces touched (rebuilt from DuckDB on next use). The footage
files themselves belong to the video system and are not touched.

A legal hold ties a recording to a requisition (placed on a sighting, it holds that
sighting's recording, since the evidence is the footage around it). While any hold on a
recording is active, purge skips the whole recording. Holds are released explicitly
(`release_holds`); closing a requisition does not release them.

Deletions and their audit entry are one DuckDB transaction: the audit record is appended
before COMMIT, so a purge is never done without its record (a crash between the two leaves
a record of a purge that did not happen, and the next purge does it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

from relecture.catalog import transaction
from relecture.errors import AccessDenied, NotFound, UsageError
from relecture.requisitions import access, audit
from relecture.requisitions.scope import iso_utc, to_utc

MAX_RETENTION_DAYS = 30
_END = "(r.start_utc + to_microseconds(CAST(round(coalesce(r.duration_s, 0) * 1e6) AS BIGINT)))"


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed (or, dry, would remove), and what holds kept."""

    cutoff_utc: datetime
    dry_run: bool
    counts: dict  # recordings, sightings, plate_reads, embeddings, person_tracks, thumbnails
    held_recordings: int
    recordings: tuple[str, ...] = field(repr=False, default=())


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def retention_cutoff(site, before: datetime | None = None, now: datetime | None = None
                     ) -> datetime:
    """Naive UTC: recordings that ended before it are purged. `before` may only move it later
    (purge more), never keep footage beyond the retention period."""
    days = min(site.retention_days, MAX_RETENTION_DAYS)
    cutoff = (now or _now()) - timedelta(days=days)
    if before is not None:
        before = to_utc(before)
        if before > (now or _now()):
            raise UsageError(f"--before {iso_utc(before)} is in the future")
        cutoff = max(cutoff, before)
    return cutoff


def _ids(db, sql: str, args: list) -> list:
    return [r[0] for r in db.execute(sql, args).fetchall()]


def purge(catalog, home, site, user: str, cutoff: datetime, dry_run: bool = False
          ) -> PurgeReport:
    """Remove every derived row and file of the unheld recordings that ended before `cutoff`."""
    from relecture.search.vectors import _files

    grant = access.authorise(site, user, "purge")
    db = catalog.db
    old = f"r.start_utc IS NOT NULL AND {_END} < ?"
    held_sql = ("SELECT DISTINCT recording_id FROM legal_holds WHERE released_utc IS NULL")
    db.execute("BEGIN TRANSACTION")
    try:
        recs = _ids(db, f"SELECT r.recording_id FROM recordings r WHERE {old} AND "
                        f"r.recording_id NOT IN ({held_sql}) ORDER BY r.recording_id", [cutoff])
        held = db.execute(f"SELECT count(*) FROM recordings r WHERE {old} AND "
                          f"r.recording_id IN ({held_sql})", [cutoff]).fetchone()[0]
        in_recs = "(SELECT unnest(?::VARCHAR[]))"
        in_sightings = f"(SELECT sighting_id FROM sightings WHERE recording_id IN {in_recs})"
        thumbs = _ids(db, f"SELECT thumbnail FROM sightings WHERE recording_id IN {in_recs} "
                          "AND thumbnail IS NOT NULL", [recs])
        spaces = _ids(db, f"SELECT DISTINCT space FROM embeddings WHERE sighting_id IN "
                          f"{in_sightings}", [recs])
        counts = {
            "recordings": len(recs),
            "sightings": _count(db, f"sightings WHERE recording_id IN {in_recs}", recs),
            "plate_reads": _count(db, f"plate_reads WHERE sighting_id IN {in_sightings}", recs),
            "embeddings": _count(db, f"embeddings WHERE sighting_id IN {in_sightings}", recs),
            "person_tracks": _count(db, f"person_tracks WHERE recording_id IN {in_recs}", recs),
        }
        files = {catalog.thumbnail_path(t) for t in thumbs}
        for rid in recs:  # thumbnails are named <sha256[:16]>_<track>.jpg
            files.update(catalog.home.thumbnails_dir.glob(f"{rid[:16]}_*.jpg"))
        files = sorted(p for p in files if p.is_file())
        counts["thumbnails"] = len(files)
        if dry_run:  # a real purge is audited even when nothing was due: it shows it ran
            db.execute("ROLLBACK")
            return PurgeReport(cutoff, dry_run, counts, held, tuple(recs))
        for table, where in (("plate_reads", f"sighting_id IN {in_sightings}"),
                             ("plate_grams", f"sighting_id IN {in_sightings}"),
                             ("embeddings", f"sighting_id IN {in_sightings}"),
                             ("person_tracks", f"recording_id IN {in_recs}"),
                             ("sightings", f"recording_id IN {in_recs}"),
                             ("recordings", f"recording_id IN {in_recs}")):
            db.execute(f"DELETE FROM {table} WHERE {where}", [recs])
        audit.append(home, grant.event(
            "purge", objects={"counts": {**counts, "held_recordings": held}},
            reason=f"retention ({min(site.retention_days, MAX_RETENTION_DAYS)} days): "
                   f"recordings ended before {iso_utc(cutoff)}",
            result_count=len(recs)), site.audit_checkpoint_every)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    for p in files:
        p.unlink(missing_ok=True)
    for space in spaces:  # caches still holding the removed vectors: rebuilt on next use
        for f in _files(catalog.home.vectors_dir, space):
            f.unlink(missing_ok=True)
    return PurgeReport(cutoff, dry_run, counts, held, tuple(recs))


def _count(db, table_where: str, recs: list[str]) -> int:
    return db.execute(f"SELECT count(*) FROM {table_where}", [recs]).fetchone()[0]


# -- legal holds ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Target:
    recording_id: str
    sighting_id: int | None


def _targets(catalog, site, user, req, sighting_ids: Iterable[int],
             recording_ids: Iterable[str]) -> list[_Target]:
    """What the hold covers, each checked inside the requisition's scope and user's cameras."""
    from relecture import catalog_read as reads

    db, out = catalog.db, []
    sids = list(dict.fromkeys(int(s) for s in sighting_ids))
    if sids:
        found = {r.sighting_id: r for r in map(lambda s: reads.sighting(db, s), sids) if r}
        access.check_hits(site, user, req, sids, [r.ref for r in found.values()], "legal_hold")
        out += [_Target(found[s].recording_id, s) for s in sids]
    u = site.user(user)
    for rid in dict.fromkeys(str(r).strip().lower() for r in recording_ids):
        rows = db.execute(f"SELECT r.recording_id, r.camera, r.start_utc, {_END} "
                          "FROM recordings r WHERE r.recording_id = ? OR "
                          "(length(?) >= 12 AND starts_with(r.recording_id, ?))",
                          [rid, rid, rid]).fetchall()
        # Only recordings in reach count, and an unknown one is answered like one out of
        # reach: neither the refusal nor "ambiguous" tells what lies beyond the scope.
        rows = [r for r in rows if u.sees(r[1]) and req.scope.allows(r[1], r[2], r[3])]
        if len(rows) != 1:
            if rows:
                raise NotFound(f"recording prefix {rid!r} is ambiguous: give more characters")
            raise AccessDenied(access.out_of_reach("recording", rid, req, user))
        out.append(_Target(rows[0][0], None))
    if not out:
        raise UsageError("name what to hold: --sighting ID and/or --recording SHA256")
    return out


def place_holds(catalog, home, site, user: str, req, sighting_ids=(), recording_ids=(),
                reason: str = "") -> int:
    """Hold the recordings of these sightings / these recordings under `req`; return how many
    holds were placed (one already active for the same requisition and target is kept)."""
    grant = access.check_hits(site, user, req, [], [], "legal_hold")  # open requisition, role
    targets = _targets(catalog, site, user, req, sighting_ids, recording_ids)
    db = catalog.db
    with transaction(db):
        new = [t for t in targets if db.execute(
            "SELECT count(*) FROM legal_holds WHERE requisition = ? AND recording_id = ? AND "
            "sighting_id IS NOT DISTINCT FROM ? AND released_utc IS NULL",
            [req.reference, t.recording_id, t.sighting_id]).fetchone()[0] == 0]
        now = _now()
        for t in new:
            db.execute("INSERT INTO legal_holds (requisition, recording_id, sighting_id, "
                       "placed_by, placed_utc, reason) VALUES (?, ?, ?, ?, ?, ?)",
                       [req.reference, t.recording_id, t.sighting_id, user, now, reason or None])
        audit.append(home, grant.event("legal_hold", req, objects=_hold_objects(new, "placed"),
                                       reason=reason or None, result_count=len(new)),
                     site.audit_checkpoint_every)
    return len(new)


def release_holds(catalog, home, site, user: str, req, sighting_ids=(), recording_ids=(),
                  release_all: bool = False, reason: str = "") -> int:
    """Release the active holds of `req` on these targets (or all of them); return how many.
    Allowed after the requisition is closed (the procedure ended)."""
    grant = access.authorise(site, user, "legal_hold")
    if not access.can_read(site, user, req):
        raise AccessDenied(f"{user} may not manage the holds of requisition {req.reference}")
    db = catalog.db
    sids = [int(s) for s in sighting_ids]
    rids = [str(r).strip().lower() for r in recording_ids]
    if not (sids or rids or release_all):
        raise UsageError("name the holds to release: --sighting ID, --recording SHA256 or --all")
    rows = db.execute("SELECT hold_id, recording_id, sighting_id FROM legal_holds WHERE "
                      "requisition = ? AND released_utc IS NULL", [req.reference]).fetchall()
    chosen = [r for r in rows if release_all or r[2] in sids
              or any(r[1] == x or (len(x) >= 12 and r[1].startswith(x)) for x in rids)]
    if not chosen:
        raise NotFound(f"no active hold of requisition {req.reference} matches")
    with transaction(db):
        db.execute("UPDATE legal_holds SET released_by = ?, released_utc = ? WHERE hold_id IN "
                   "(SELECT unnest(?::BIGINT[]))", [user, _now(), [r[0] for r in chosen]])
        audit.append(home, grant.event(
            "legal_hold", req, reason=reason or None, result_count=len(chosen),
            objects=_hold_objects([_Target(r[1], r[2]) for r in chosen], "released")),
            site.audit_checkpoint_every)
    return len(chosen)


def _hold_objects(targets: list[_Target], verb: str) -> dict:
    return {"counts": {verb: len(targets)},
            "sightings": [t.sighting_id for t in targets if t.sighting_id is not None],
            "recordings": sorted({t.recording_id for t in targets})}


def list_holds(catalog, requisition: str | None = None, active: bool = True) -> list[dict]:
    """Holds (active ones unless `active` is False), oldest first."""
    sql = "SELECT * FROM legal_holds WHERE TRUE"
    args: list = []
    if requisition:
        sql, args = sql + " AND requisition = ?", [requisition]
    if active:
        sql += " AND released_utc IS NULL"
    cur = catalog.db.execute(sql + " ORDER BY hold_id", args)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]
