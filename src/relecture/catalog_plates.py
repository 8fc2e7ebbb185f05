"""The catalog's plate index, `plate_grams`: derived from plate_reads and sightings.plate.

One row per (3-character gram, text a sighting was read as): the gram is taken from the
text's canonical form (OCR confusion classes folded, `plate_grammar.canonical_plate`) written
between the anchors `^` and `$`, so `^AB`, `AB1` ... `CD$`; the row also carries what scoring
a candidate needs (the text, its best confidence, the sighting's id and first_utc to the
second), so a plate search reads only the rows of a few grams and fetches nothing per
candidate (`search/plate_index.py`). The voted plate counts as one more read.

Rows are inserted in batches sorted by gram: DuckDB's zone maps (min/max per row group)
then skip every row group of a batch but the few holding the grams asked, with no ART index
(ART indexes took about 80% of a 10M catalog). `plate_grams_coverage` holds the highest
sighting id indexed: sightings are written in id order, so the mark is all the state
needed; the search scans the texts of what lies beyond it.
"""

from __future__ import annotations

from relecture.plate_grammar import CANON_FROM, CANON_TO

GRAM = 3  # characters per gram (anchors included)
# A gram is stored as a number, its characters' places here (1-based; 0 for any other) in
# base len + 1: 39^3 < 2^16. DuckDB compares numbers inside the scan faster than strings
# (a third off the plate lookups at 100M) and stores them in less room.
GRAM_ALPHABET = "^$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GRAM_TYPE = "USMALLINT"
SYNC_BATCH = 2_000_000  # sightings per sorted batch: bounds the memory of each sort
# Small syncs (one per file loaded) append small sorted runs that zone maps cannot prune:
# once this many sightings sit past the sorted mark, their rows are rewritten sorted, so a
# catalog loaded file by file has the runs of one loaded at once (each lookup reads a row
# group per run). The rewrite holds the write lock 6 s at 10M (readers wait 30 s).
COMPACT_AFTER = SYNC_BATCH

SCHEMA = f"""
-- gram: `gram_code`; first_utc to the second (TIMESTAMP_S): it only orders candidates,
-- which the search then reorders on the sighting's own time where seconds tie; at
-- microseconds the rows of a gram, in id order, carry unsorted times that take a third of
-- the table
CREATE TABLE IF NOT EXISTS plate_grams (
    gram {GRAM_TYPE} NOT NULL, sighting_id BIGINT NOT NULL, text VARCHAR NOT NULL,
    confidence REAL, first_utc TIMESTAMP_S
);
-- plate_grams holds every sighting with sighting_id <= covered_to (no row: never built);
-- the rows of sighting_id <= sorted_to lie in runs sorted by gram of SYNC_BATCH sightings or
-- more, those after it in the small runs of single files, rewritten once COMPACT_AFTER
CREATE TABLE IF NOT EXISTS plate_grams_coverage (covered_to BIGINT NOT NULL,
                                                 sorted_to BIGINT NOT NULL);
"""

# Replaced by plate_grams: the older index (first and last 3 canonical characters, ART
# indexed) and the ART indexes that zone maps on id- and time-ordered tables make redundant.
DROP_OLD = """
DROP TABLE IF EXISTS plate_keys;
DROP TABLE IF EXISTS plate_keys_coverage;
DROP INDEX IF EXISTS sightings_camera_time;
DROP INDEX IF EXISTS plate_reads_sighting;
"""


def gram_code(gram: str) -> int:
    """The number plate_grams stores for a gram (see GRAM_ALPHABET)."""
    base = len(GRAM_ALPHABET) + 1
    return sum((GRAM_ALPHABET.find(c) + 1) * base ** (GRAM - 1 - i) for i, c in enumerate(gram))


def _gram_code_sql(text: str, start: str) -> str:
    """SQL for `gram_code` of the gram of `text` at 1-based position `start`."""
    base = len(GRAM_ALPHABET) + 1
    return " + ".join(f"instr('{GRAM_ALPHABET}', substr({text}, {start} + {i}, 1)) * "
                      f"{base ** (GRAM - 1 - i)}" for i in range(GRAM))


def drop_outdated(db) -> None:
    """Drop a plate index written by an older version (grams as text, before `gram_code`):
    it is derived data, and the next sync rebuilds it whole. A reader of such a catalog,
    before any writable open, finds it not `current` and scans instead."""
    if db.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'plate_grams'").fetchone() \
            and not current(db):
        db.execute("DROP TABLE plate_grams")
        db.execute("DROP TABLE IF EXISTS plate_grams_coverage")


def current(db) -> bool:
    """Whether the catalog's plate_grams is of this version's layout."""
    row = db.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = 'plate_grams' "
                     "AND column_name = 'gram'").fetchone()
    return row is not None and row[0] == GRAM_TYPE


def canonical_sql(column: str) -> str:
    """SQL for `canonical_plate(column)`."""
    return f"translate({column}, '{CANON_FROM}', '{CANON_TO}')"


def covered_to(db) -> int | None:
    """The highest sighting id plate_grams covers; None when it was never built."""
    return db.execute("SELECT max(covered_to) FROM plate_grams_coverage").fetchone()[0]


def sync_plate_grams(db) -> None:
    """Add to plate_grams every sighting beyond its coverage mark (all of them the first
    time, e.g. an older catalog), one sorted batch of SYNC_BATCH sightings at a time, move
    the mark, and rewrite the small runs past the sorted mark once they hold COMPACT_AFTER
    sightings; the caller holds the transaction."""
    marks = db.execute("SELECT covered_to, sorted_to FROM plate_grams_coverage").fetchone()
    top = db.execute("SELECT max(sighting_id) FROM sightings").fetchone()[0]
    start, sorted_to = marks if marks is not None else (0, 0)
    if top is None or top <= start:
        return
    for lo in range(start, top, SYNC_BATCH):
        _insert_batch(db, lo, min(lo + SYNC_BATCH, top))
    if top - start >= COMPACT_AFTER and sorted_to == start:
        sorted_to = top  # one large sync: its own batches are sorted
    elif top - sorted_to >= COMPACT_AFTER:
        _rewrite_sorted(db, sorted_to)
        sorted_to = top
    db.execute("DELETE FROM plate_grams_coverage")
    db.execute("INSERT INTO plate_grams_coverage VALUES (?, ?)", [int(top), int(sorted_to)])


def _rewrite_sorted(db, after: int) -> None:
    """The rows of the sightings after `after` rewritten as one run sorted by gram."""
    db.execute(f"CREATE TEMP TABLE plate_grams_run AS SELECT * FROM plate_grams "
               f"WHERE sighting_id > {int(after)} ORDER BY gram, sighting_id")
    db.execute(f"DELETE FROM plate_grams WHERE sighting_id > {int(after)}")
    db.execute("INSERT INTO plate_grams SELECT * FROM plate_grams_run")
    db.execute("DROP TABLE plate_grams_run")


def _insert_batch(db, after: int, upto: int) -> None:
    """The gram rows of the sightings with after < sighting_id <= upto, sorted by gram."""
    ids = f"BETWEEN {int(after) + 1} AND {int(upto)}"
    db.execute(f"""
        INSERT INTO plate_grams
        SELECT ({_gram_code_sql('a', 'i')})::{GRAM_TYPE} AS gram, sighting_id, text, confidence,
               first_utc
        FROM (SELECT *, unnest(range(1, length(a) - {GRAM - 2})) AS i FROM (
            SELECT sighting_id, text, max(confidence)::REAL AS confidence,
                   any_value(first_utc) AS first_utc, '^' || {canonical_sql('text')} || '$' AS a
            FROM (SELECT r.sighting_id, r.text, r.confidence, s.first_utc
                  FROM plate_reads r JOIN sightings s ON s.sighting_id = r.sighting_id
                  WHERE r.sighting_id {ids} AND s.sighting_id {ids} AND r.text IS NOT NULL
                      AND r.text <> ''
                  UNION ALL
                  SELECT sighting_id, plate, plate_conf, first_utc FROM sightings
                  WHERE sighting_id {ids} AND plate IS NOT NULL AND plate <> '')
            -- one row per text a sighting was read as, at its best confidence: scoring
            -- keeps a sighting's closest read at its highest confidence, so nothing is lost
            GROUP BY sighting_id, text))
        ORDER BY gram, sighting_id""")
