"""A plate pattern answered from the catalog's `plate_grams` (`relecture.catalog_plates`).

Which grams every read within the pattern's tolerance must contain: the pattern is taken in
canonical form (confusions folded, so a confusion costs nothing there and every other
difference stays a whole edit), written between the anchors `^` and `$` where it has no `*`
at that end, and cut into disjoint 3-character grams inside its literal runs (no `?` or `*`).
A read matching without a real edit contains all of them; one real edit (substitution,
insertion or deletion) breaks at most one of them, since they share no position, so the
read still contains all but one. A pattern whose runs give too few grams (`*AB*`, a plate
with a wildcard every other character) has no lookup and is scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from relecture.catalog_plates import GRAM, canonical_sql
from relecture.plate_grammar import canonical_plate
from relecture.search.plates import PlatePattern


@dataclass(frozen=True)
class GramLookup:
    """The grams to read and how many of them a read within the tolerance contains."""

    grams: tuple[str, ...]
    need: int


@dataclass(frozen=True)
class IndexedSighting:
    """A sighting found through the index, with its reads that may match."""

    first_utc: datetime
    reads: list[tuple[str, float]]


def gram_lookup(pattern: PlatePattern) -> GramLookup | None:
    """The lookup for `pattern` (see the module docstring); None when it must be scanned."""
    canon = canonical_plate(pattern.pattern)
    anchored = ("" if canon.startswith("*") else "^") + canon + ("" if canon.endswith("*") else "$")
    grams = [run[i:i + GRAM] for run in re.split(r"[?*]", anchored)
             for i in range(0, len(run) - GRAM + 1, GRAM)]
    need = len(grams) - int(pattern.max_distance)
    if need < 1:
        return None
    return GramLookup(tuple(dict.fromkeys(grams)), need)


def indexed_reads(db, pattern: PlatePattern, lookup: GramLookup, covered: int,
                  ids: tuple[int, int] | None) -> dict[int, IndexedSighting]:
    """Every sighting up to `covered` (and within the id range `ids`, when given) with a read
    holding at least `lookup.need` of the grams and passing the canonical pattern's
    regular expression, with those reads; the caller scores them exactly."""
    canon = pattern.canonical()
    grams = ", ".join(f"'{g}'" for g in lookup.grams)  # A-Z, 0-9, ^ and $ only
    within = f" AND sighting_id BETWEEN {int(ids[0])} AND {int(ids[1])}" if ids else ""
    regex = canon.sql_regex().replace("'", "''")
    chosen = f"gram IN ({grams}) AND sighting_id <= {int(covered)}{within}"
    if lookup.need == 1:  # any row will do; a read met twice is scored twice, harmlessly
        rows_sql = f"SELECT sighting_id, text, confidence, first_utc FROM plate_grams WHERE {chosen}"
    else:  # a gram repeated in a read counts twice: a few more candidates to drop, no fewer
        rows_sql = (f"SELECT sighting_id, text, confidence, any_value(first_utc) AS first_utc "
                    f"FROM plate_grams WHERE {chosen} GROUP BY sighting_id, text, confidence "
                    f"HAVING count(*) >= {lookup.need}")
    # MATERIALIZED: the regular expression must run on the few rows of the grams, not be
    # pushed down into a scan of the whole table (1.5 s instead of 6 ms at 1M sightings)
    rows = db.execute(f"""
        WITH g AS MATERIALIZED ({rows_sql})
        SELECT sighting_id, first_utc, text, confidence FROM g
        WHERE regexp_full_match({canonical_sql('text')}, '{regex}')""").fetchall()
    found: dict[int, IndexedSighting] = {}
    for sid, first, text, conf in rows:  # flat rows: several times faster to fetch than lists
        seen = found.get(sid)
        if seen is None:
            found[sid] = IndexedSighting(first, [(text, conf)])
        else:
            seen.reads.append((text, conf))
    return found
