"""A plate pattern answered from the catalog's `plate_grams` (`relecture.catalog_plates`).

Which grams a read within the pattern's tolerance must contain: the pattern is taken in
canonical form (confusions folded, so a confusion costs nothing there and every other
difference stays a whole edit), written between the anchors `^` and `$` where it has no `*`
at that end, and cut into disjoint 3-character grams inside its literal runs (no `?` or `*`).
A read matching without a real edit contains all of them; each real edit (substitution,
insertion or deletion) breaks at most one of them, since they share no position. So with
`e` edits allowed a read still holds at least one of any `e + 1` of them: the lookup reads
the rows of `e + 1` grams only (those without an anchor first: they carry three of the
plate's characters, an anchored one two, so fewer plates share them), and the pattern's
regular expression, which every read within the tolerance passes, sorts them. A pattern
whose runs give too few grams (`*AB*`, a plate with a wildcard every other character) has
no lookup and is scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from relecture.catalog_plates import GRAM, gram_code
from relecture.plate_grammar import canonical_plate
from relecture.search.plates import PlateMatch, PlatePattern


@dataclass(frozen=True)
class GramLookup:
    """The grams to read: a read within the tolerance contains at least one of them."""

    grams: tuple[str, ...]


@dataclass(frozen=True)
class IndexedSighting:
    """A sighting found through the index, with its reads that may match."""

    first_utc: datetime
    reads: list[tuple[str, float]]


@dataclass(frozen=True)
class IndexedMatches:
    """What the index gives for a pattern: the sightings with a read matching it exactly
    (`exact_total` of them; `exact`, their best read each: all, or the first `keep` in
    plate order with whatever ties the last of them to the second), and the other
    candidates with their reads, for exact scoring. Times are plate_grams', to the second."""

    exact_total: int
    exact: list[tuple[int, datetime, PlateMatch]]
    approximate: dict[int, IndexedSighting]
    filtered: bool = False  # the exact ones are those passing a `where` (see indexed_matches)


def gram_lookup(pattern: PlatePattern) -> GramLookup | None:
    """The lookup for `pattern` (see the module docstring); None when it must be scanned."""
    canon = canonical_plate(pattern.pattern)
    anchored = ("" if canon.startswith("*") else "^") + canon + ("" if canon.endswith("*") else "$")
    grams = [run[i:i + GRAM] for run in re.split(r"[?*]", anchored)
             for i in range(0, len(run) - GRAM + 1, GRAM)]
    edits = int(pattern.max_distance)
    if len(grams) <= edits:
        return None
    chosen: list[str] = []  # distinct grams until they hold edits + 1 of the pattern's grams
    for gram in sorted(dict.fromkeys(grams), key=lambda g: "^" in g or "$" in g):
        chosen.append(gram)
        if sum(grams.count(g) for g in chosen) > edits:
            break
    return GramLookup(tuple(chosen))


def indexed_matches(db, pattern: PlatePattern, lookup: GramLookup, covered: int,
                    ids: tuple[int, int] | None, keep: int | None,
                    where: str = "TRUE") -> IndexedMatches:
    """Every sighting up to `covered` (and within the id range `ids`, when given) with a read
    holding one of the lookup's grams and passing the pattern's regular expression.

    Those with a read matching the pattern exactly (distance 0) are counted, and ranked
    (best read's confidence, then time, as `RankedRow.key` orders them) in SQL, with only
    the first `keep` and their ties returned (None: all); only the others come back with
    their reads, for the caller to score. With a `where` (SQL on the sightings `s`: a
    requisition's scope, the query's own filters), the exact ones are those passing it,
    ranked on the sightings' own times (no ties to the second then); the others are
    returned unfiltered. A fragment or a prefix matches tens of thousands of
    sightings at 100M, nearly all of them exactly: scoring them one by one was most of the
    time."""
    within = f" AND sighting_id BETWEEN {int(ids[0])} AND {int(ids[1])}" if ids else ""
    # the regular expression's classes hold every character of a confusion class, so it
    # finds on the read itself what the canonical expression finds on its canonical form
    regex = pattern.sql_regex().replace("'", "''")
    # one scan per gram: DuckDB runs `gram = X` inside the scan, reading the other columns
    # only where it holds, while `gram IN (...)` prunes row groups but then reads every
    # column of them before filtering (three times slower for three grams)
    # (a read met through two grams is scored twice, harmlessly)
    rows_sql = " UNION ALL ".join(
        f"SELECT sighting_id, text, confidence, first_utc FROM plate_grams "
        f"WHERE gram = {gram_code(g)} AND sighting_id <= {int(covered)}{within}"
        for g in lookup.grams)
    if where == "TRUE":
        exact = "SELECT * FROM e"
        # the first `keep` in (confidence, time) order, and every row tied with the last of
        # them: plate_grams keeps times to the second; the caller orders ties on the sighting's
        limit = (f"QUALIFY rank() OVER (ORDER BY confidence DESC, first_utc) <= {int(keep)}"
                 if keep is not None else "")
    else:  # one join with the sightings checks `where` and gives their exact times
        exact = (f"SELECT e.sighting_id, s.first_utc, e.text, e.confidence FROM e "
                 f"JOIN sightings s ON s.sighting_id = e.sighting_id WHERE {where}")
        limit = (f"ORDER BY confidence DESC, first_utc, sighting_id LIMIT {int(keep)}"
                 if keep is not None else "")
    # MATERIALIZED: the regular expression must run on the few rows of the grams, not be
    # pushed down into a scan of the whole table (1.5 s instead of 6 ms at 1M sightings)
    rows = db.execute(f"""
        WITH g AS MATERIALIZED ({rows_sql}),
        r AS MATERIALIZED (SELECT * REPLACE (coalesce(confidence, 0.0) AS confidence),
                                  text LIKE '{pattern.sql_like()}' AS exact FROM g
                           WHERE regexp_full_match(text, '{regex}')),
        e AS (SELECT sighting_id, any_value(first_utc) AS first_utc,
                     arg_max(text, confidence) AS text, max(confidence) AS confidence
              FROM r WHERE exact GROUP BY sighting_id),
        x AS MATERIALIZED ({exact})
        SELECT NULL, count(*), NULL, NULL, NULL, NULL FROM x  -- how many, first
        UNION ALL
        (SELECT TRUE, 0, sighting_id, first_utc, text, confidence FROM x {limit})
        UNION ALL
        SELECT FALSE, 0, sighting_id, first_utc, text, confidence FROM r
        WHERE sighting_id NOT IN (SELECT sighting_id FROM e)""").fetchall()
    exact, approximate, total = [], {}, 0
    for is_exact, n, sid, first, text, conf in rows:  # flat rows: faster to fetch than lists
        if is_exact is None:
            total = n
        elif is_exact:
            exact.append((sid, first, PlateMatch(text, conf, 0.0)))
        elif (seen := approximate.get(sid)) is None:
            approximate[sid] = IndexedSighting(first, [(text, conf)])
        else:
            seen.reads.append((text, conf))
    return IndexedMatches(total, exact, approximate, filtered=where != "TRUE")
