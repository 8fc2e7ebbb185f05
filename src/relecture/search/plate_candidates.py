"""Plate searches: the sightings whose voted plate or a read is within a pattern's
tolerance, found through the plate index (`plate_index`) or by a scan, and scored exactly
(`PlatePattern.best`)."""

from __future__ import annotations

import duckdb
import numpy as np

from relecture.catalog import Catalog
from relecture.catalog_plates import covered_to
from relecture.search.filters import lit, rank_sql
from relecture.search.plate_index import IndexedMatches, gram_lookup, indexed_matches
from relecture.search.plates import PlatePattern
from relecture.search.query import Query
from relecture.search.ranked import RankedRow

_LITERAL_IDS = 2000  # up to this many candidate ids are written into the SQL as a list


def plate_candidates(catalog: Catalog, query: Query, where: str, own: str, keep: int | None
                      ) -> tuple[list[RankedRow], int]:
    """The sightings passing `where` whose voted plate or a read is within the pattern's
    tolerance, scored exactly in Python (`PlatePattern.best`), and how many; rows beyond it
    are dropped, and when `keep` is given the rows returned need only hold the best `keep`.

    Sightings the plate index covers are read from it (`plate_index`: the rows of a few
    grams, with the read texts scoring needs); the others are scanned: all of them when the
    pattern has no lookup (`*AB*`) or the catalog has no index (opened read-only before its
    first writable open built it), else only those written after the index's coverage mark.
    In the scan each text is tested with the cheap LIKE/length prefilter first and the
    confusion-class regular expression only on what passes, within the sighting ids that
    passed the structured filters (sightings and their reads are written in id order, so a
    camera or time filter skips most of plate_reads); then every read of each candidate is
    scored.

    The id range comes from the query's `own` filters only: a requisition's scope (in
    `where`, applied to the candidates) usually spans most of the catalog, and finding its
    range would cost a scan of every sighting.
    """
    db = catalog.db
    lo, hi = (None, None) if own == "TRUE" else db.execute(
        f"SELECT min(s.sighting_id), max(s.sighting_id) FROM sightings s WHERE {own}").fetchone()
    if own != "TRUE" and lo is None:
        return [], 0
    lookup = gram_lookup(query.plate)
    covered = _plate_index_coverage(catalog) if lookup is not None else None
    rows: list[RankedRow] = []
    total = 0
    scan_from = lo if lo is not None else 0
    if covered is not None and (lo is None or covered >= lo):
        plain = _plate_order_only(query)
        span = None if lo is None else (lo, hi)
        found = indexed_matches(db, query.plate, lookup, covered, span,
                                _LITERAL_IDS if plain and where != "TRUE" else keep if plain else None)
        if plain and where != "TRUE" and found.exact_total > _LITERAL_IDS:
            # too many to look up by id: `where` joined in the index's own SQL instead
            found = indexed_matches(db, query.plate, lookup, covered, span, keep, where)
        rows, total = _score_indexed(catalog, query, where, found, keep if plain else None)
        scan_from = covered + 1
    if hi is None:
        hi = db.execute("SELECT max(sighting_id) FROM sightings").fetchone()[0] or 0
    if scan_from <= hi:
        ids = _scanned_ids(catalog, query.plate, where, scan_from, hi)
        if len(ids):
            scanned = _score_plates(catalog, query, where, ids)
            rows, total = rows + scanned, total + len(scanned)
    return rows, total


def _scanned_ids(catalog: Catalog, pattern: PlatePattern, where: str, lo: int, hi: int
                 ) -> np.ndarray:
    """Ids of the sightings lo..hi passing `where` whose voted plate or a read passes the
    pattern's SQL prefilter and regular expression (see `_plate_candidates`)."""
    regex = lit(pattern.sql_regex())

    def passes(column: str) -> str:
        return f"{pattern.sql_prefilter(column)} AND regexp_full_match({column}, {regex})"

    return catalog.db.execute(
        f"SELECT DISTINCT p.sighting_id FROM plate_reads p WHERE p.sighting_id "
        f"BETWEEN {int(lo)} AND {int(hi)} AND {passes('p.text')} UNION "
        f"SELECT s.sighting_id FROM sightings s WHERE ({where}) AND s.sighting_id "
        f"BETWEEN {int(lo)} AND {int(hi)} AND {passes('s.plate')}").fetchnumpy()["sighting_id"]


def _plate_order_only(query: Query) -> bool:
    """Whether hits are ordered by the plate alone (`RankedRow.key`): no colour, type, style
    or direction to rank them by."""
    return not (query.colours or query.types or query.styles or query.travel)


def _score_indexed(catalog: Catalog, query: Query, where: str, found: IndexedMatches,
                   keep: int | None) -> tuple[list[RankedRow], int]:
    """The sightings found through the plate index that pass `where` (the approximate ones
    scored on their reads), and how many. Ordered by the plate alone, the exact ones came
    counted, filtered and ranked (`indexed_matches`), and only the first `keep` rows are
    built; else every candidate's ranking columns are read from the catalog."""
    pattern = query.plate
    approximate = {sid: (f.first_utc, m) for sid, f in found.approximate.items()
                   if (m := pattern.best(f.reads)) is not None}
    best = {sid: (first, m) for sid, first, m in found.exact} | approximate
    plain = _plate_order_only(query)
    if plain and keep is not None and where == "TRUE":  # else every candidate is checked
        best = dict(_first_with_ties(best, keep))
    ranked = "1.0 AS colour_p, 0 AS type_rank, 1.0 AS attr_p" if plain else rank_sql(catalog, query)
    if not best:
        return [], found.exact_total if found.filtered else 0
    ids = list(best)
    # their own first_utc orders them (the index's is to the second)
    if len(ids) <= _LITERAL_IDS:
        # the candidates first, then `where` on them: with a requisition's scope in the same
        # WHERE, DuckDB scans every sighting instead of looking the ids up (222 against 16 ms
        # for 128 candidates at 10M)
        cur = catalog.db.execute(
            f"WITH c AS MATERIALIZED (SELECT * EXCLUDE (boxes) FROM sightings "
            f"WHERE sighting_id IN ({', '.join(str(int(i)) for i in ids)})) "
            f"SELECT s.sighting_id, s.first_utc, {ranked} FROM c s WHERE {where}")
    else:  # a semi-join scans the sightings anyway: `where` then prunes what it reads
        cur = catalog.db.execute(
            f"SELECT s.sighting_id, s.first_utc, {ranked} FROM sightings s WHERE ({where}) "
            f"AND s.sighting_id IN (SELECT unnest($ids::BIGINT[]))", {"ids": ids})
    rows = [RankedRow({"sighting_id": sid, "first_utc": first}, cp, trank, best[sid][1],
                 attr_p=ap) for sid, first, cp, trank, ap in cur.fetchall()]
    if plain and where == "TRUE":
        return rows, found.exact_total + len(approximate)
    if found.filtered:
        return rows, found.exact_total + sum(r.values["sighting_id"] in approximate for r in rows)
    return rows, len(rows)


def _first_with_ties(best: dict, keep: int) -> list:
    """The first `keep` of {sighting id: (time to the second, PlateMatch)} in plate order
    (distance, confidence, time), and every other tied with the last of them: their times
    to the microsecond decide among those."""
    def key(kv):
        return kv[1][1].distance, -kv[1][1].confidence, kv[1][0]

    ordered = sorted(best.items(), key=key)
    if len(ordered) <= keep:
        return ordered
    last = key(ordered[keep - 1])
    return [kv for kv in ordered if key(kv) <= last]


def _score_plates(catalog: Catalog, query: Query, where: str, ids: np.ndarray) -> list[RankedRow]:
    """The candidates scored exactly on every read; those beyond the tolerance dropped."""
    pattern = query.plate
    db = catalog.db
    # a literal list lets DuckDB look the few candidates up (several times faster at 10M
    # sightings than a semi-join on unnest, which reads both tables); many ids stay a parameter
    listed = (", ".join(str(int(i)) for i in ids) if len(ids) <= _LITERAL_IDS
              else "SELECT unnest($ids::BIGINT[])")
    cur = db.execute(f"""
        WITH f AS (
            SELECT s.sighting_id, s.first_utc, s.plate, s.plate_conf, {rank_sql(catalog, query)}
            FROM sightings s
            WHERE s.sighting_id IN ({listed}) AND ({where}))
        SELECT f.sighting_id, f.first_utc, f.plate, f.plate_conf, f.colour_p, f.type_rank,
               f.attr_p, list(r.text) FILTER (WHERE r.text IS NOT NULL),
               list(r.confidence) FILTER (WHERE r.text IS NOT NULL)
        FROM f LEFT JOIN plate_reads r ON r.sighting_id = f.sighting_id
             AND r.sighting_id IN ({listed})
        GROUP BY ALL""", {"ids": ids.tolist()} if len(ids) > _LITERAL_IDS else None)
    rows = []
    for sid, first, plate, conf, cp, trank, ap, texts, confs in cur.fetchall():
        reads = [(plate, conf)] + list(zip(texts or [], confs or []))
        best = pattern.best(reads)
        if best is not None:
            rows.append(RankedRow({"sighting_id": sid, "first_utc": first}, cp, trank, best, attr_p=ap))
    return rows


def _plate_index_coverage(catalog: Catalog) -> int | None:
    """The highest sighting id the plate index covers; None when the catalog has none, or
    one of an older layout (opened read-only before a writable open rebuilt it)."""
    if not catalog.plate_index_current:
        return None
    try:
        return covered_to(catalog.db)
    except duckdb.CatalogException:
        return None
