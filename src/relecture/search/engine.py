"""Run a `Query` on the catalog: filter in DuckDB first, then rank what passed.

Every filter (cameras, time windows overlapping [first_utc, last_utc], a plate prefilter,
and types, colours, body styles and direction when strict) is SQL over the whole catalog;
ranking only ever orders rows that passed, so no match is lost behind a top-k taken too
early. A type, a colour, a body style or a direction of travel is evidence, not a filter,
unless the query is strict (`search/colours.py`, `search/attributes.py`). Plate searches:
`search/plate_candidates.py`.

Order of hits (the sort key, `ranked.RankedRow.key`, most significant first):
1. plate distance (exact 0 first: an exact read never ranks below an approximate one);
1b. the types asked and their neighbours before every other type;
2. colour evidence: the probability of the colour asked, plus a share of its neighbours'
   (white/silver/grey, grey/black, red/orange, brown/beige), to 0.01;
2b. body style and direction evidence (`attributes.evidence_sql`), to 0.01;
3. type: the type asked for, then its neighbour (van/car, truck/bus);
4. embedding similarity to the free text or to the like-sighting (when it can be used);
5. plate read confidence, then time.
`score` (0-1) summarises the same components for display.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from relecture.catalog import Catalog
from relecture.errors import NotFound
from relecture.indexer.body_style import shown
from relecture.search import attributes
from relecture.search import colours as colour_evidence
from relecture.search.filters import (OTHER_TYPE, lit, other_types_sql, rank_sql, scope_sql,
                                      types_sql, where_sql)
from relecture.search.plate_candidates import plate_candidates
from relecture.search.ranked import RankedRow
from relecture.search.query import Query, describe
from relecture.search.query_time import camera_time

if TYPE_CHECKING:
    from relecture.requisitions.scope import Scope

# A colour ranking over at least BOUNDED_FROM sightings first ranks those whose colours
# asked hold BOUNDED_ASKED of their distribution (see `_first_page`): the page is the same,
# and at 100M sightings it is read in a fraction of the time. Speed only, never the order.
BOUNDED_FROM = 100_000
BOUNDED_ASKED = 0.9
TYPE_WEIGHT = (1.0, 0.7, 0.3)  # asked type, neighbour, any other (filters.OTHER_TYPE)
_COLS = ("sighting_id", "camera", "first_utc", "last_utc", "vehicle_type", "type_conf", "colour",
         "colour_conf", "colour_alt", "plate", "plate_conf", "thumbnail", "recording_id",
         "first_t", "last_t", "best_t", "embedding_space")


class TextEncoder(Protocol):
    """A model that puts text in the same space as the catalog's image embeddings
    (`relecture.indexer.embed.TextEmbedder` satisfies it)."""

    space: str

    def embed_text(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Hit:
    """One sighting found, with what a reviewer needs to open the footage at the right place."""

    sighting_id: int
    camera: str
    first_utc: datetime
    last_utc: datetime
    first_camera_time: datetime  # what the camera's clock showed (local zone + clock offset)
    last_camera_time: datetime
    tz: str
    vehicle_type: str | None
    type_conf: float | None
    colour: str | None
    colour_conf: float | None
    colour_alt: str | None
    colour_p: float | None  # the colour evidence the hit was ranked by (None: no colour asked)
    body: tuple[tuple[str, float], ...]  # body styles shown (at body_style.SHOWN_AT), likeliest first
    travel: dict | None  # entry, exit, motion, motion_conf (None: not recorded)
    attr_p: float | None  # style x direction evidence ranked by (None: neither asked)
    plate: str | None
    plate_conf: float | None
    matched_read: str | None  # the plate read that matched the pattern (may differ from plate)
    plate_distance: float | None
    similarity: float | None
    score: float
    reasons: tuple[str, ...]
    thumbnail: Path | None
    recording_id: str
    recording_path: str | None
    first_t: float  # seconds from the start of the recording
    last_t: float
    best_t: float


@dataclass(frozen=True)
class SearchResult:
    """Hits in rank order, how many sightings matched in all, and the query as understood."""

    query: Query
    understood: str
    hits: tuple[Hit, ...]
    total: int
    notes: tuple[str, ...]
    elapsed_ms: float


def _ranking_vector(catalog: Catalog, query: Query, encoder: TextEncoder | None,
                    notes: list[str]) -> tuple[str, np.ndarray] | None:
    """(space, vector) to rank by, from the like-sighting or the free text; None with a note."""
    db = catalog.db
    if query.like is not None:
        row = db.execute("SELECT space, vector FROM embeddings WHERE sighting_id = ?",
                         [query.like]).fetchone()
        if row is None:
            if db.execute("SELECT count(*) FROM sightings WHERE sighting_id = ?",
                          [query.like]).fetchone()[0] == 0:
                raise NotFound(f"sighting #{query.like} does not exist")
            notes.append(f"sighting #{query.like} has no embedding: ranked by type, colour and plate")
            return None
        return row[0], np.asarray(row[1], np.float32)
    if not query.text:
        return None
    words = f'free text "{query.free_text}" not used for ranking'
    if encoder is None:
        notes.append(f"{words}: no text-capable embedding model is available (see `relecture "
                     f"models`, open-clip); ranked by type, colour and plate")
        return None
    held = db.execute("SELECT space FROM embeddings WHERE space = ? LIMIT 1", [encoder.space]).fetchone()
    if held is None:
        other = db.execute("SELECT space FROM embeddings LIMIT 1").fetchone()
        where = f"space {other[0]!r}" if other else "no embeddings"
        notes.append(f"{words}: the catalog's embeddings ({where}) cannot be compared with text "
                     f"({encoder.space!r}); ranked by type, colour and plate")
        return None
    return encoder.space, np.asarray(encoder.embed_text([query.free_text])[0], np.float32)


def search(catalog: Catalog, query: Query, limit: int = 50,
           text_encoder: TextEncoder | None = None, scope: "Scope | None" = None) -> SearchResult:
    """The best `limit` sightings for `query`, and how many matched in all.

    `scope` (a requisition's cameras x UTC ranges, from `access.check_search`) restricts
    every hit and the total to sightings that `scope.allows`, in SQL, before ranking.
    """
    started = clock.perf_counter()
    notes: list[str] = []
    where = own = where_sql(catalog, query, notes)
    if scope is not None:
        where = f"({where}) AND {scope_sql(scope)}"
    ranking = _ranking_vector(catalog, query, text_encoder, notes)
    if query.plate is not None:
        rows, total = plate_candidates(catalog, query, where, own,
                                        keep=None if ranking is not None else limit)
        if ranking is not None:
            _add_similarities(catalog, ranking, rows, keep=len(rows))
        rows = sorted(rows, key=RankedRow.key)[:limit]
    elif ranking is not None:
        rows, total = _by_vector(catalog, query, where, ranking, limit)
    else:
        rows, total = _structured(catalog, query, where, limit)
    hits = _hits(catalog, query, rows, vector_ranked=ranking is not None)
    return SearchResult(query=query, understood=describe(query), hits=hits, total=total,
                        notes=tuple(notes), elapsed_ms=(clock.perf_counter() - started) * 1000)


def _structured(catalog: Catalog, query: Query, where: str, limit: int) -> tuple[list[RankedRow], int]:
    """The first `limit` rows in rank order, and how many passed `where`. Other types come
    after every sighting of the types asked (`filters.OTHER_TYPE`), so they are read only
    when those do not fill the page: a type + colour query over the whole catalog ranks
    the sightings of its types, not every sighting."""
    total = catalog.db.execute(f"SELECT count(*) FROM sightings s WHERE {where}").fetchone()[0]
    bounded = total >= BOUNDED_FROM
    if not query.types or query.strict:
        return _first_page(catalog, query, where, limit, bounded), total
    rows = _first_page(catalog, query, f"({where}) AND {types_sql(query)}", limit, bounded)
    if len(rows) < limit:
        rows += _first_page(catalog, query, f"({where}) AND {other_types_sql(query)}",
                            limit - len(rows), bounded)
    return rows, total


def _first_page(catalog: Catalog, query: Query, where: str, limit: int,
                bounded: bool = False) -> list[RankedRow]:
    """The first `limit` sightings passing `where`, in rank order. When `bounded` and a
    colour is asked, the sightings holding `BOUNDED_ASKED` of the colours asked are ranked
    first, alone; their page is kept when every row of it ranks above what the others can
    reach (`colours.EvidenceBound`), else every sighting is ranked."""
    bound = (colour_evidence.evidence_bound(query.colours, catalog.has_column("colour_p"),
                                            BOUNDED_ASKED) if bounded and query.colours else None)
    if bound is not None:
        rows = _ranked_page(catalog, query, f"({where}) AND {bound.sql}", limit)
        if len(rows) == limit and rows[-1].colour_p > bound.above:
            return rows
    return _ranked_page(catalog, query, where, limit)


def _ranked_page(catalog: Catalog, query: Query, where: str, limit: int) -> list[RankedRow]:
    cur = catalog.db.execute(
        f"SELECT s.sighting_id, s.first_utc, {rank_sql(catalog, query)} FROM sightings s "
        f"WHERE {where} "
        f"ORDER BY type_rank = {OTHER_TYPE}, colour_p DESC, attr_p DESC, type_rank, "
        f"s.first_utc, s.sighting_id "
        f"LIMIT {int(limit)}")
    return [RankedRow({"sighting_id": r[0], "first_utc": r[1]}, r[2], r[3], attr_p=r[4])
            for r in cur.fetchall()]


def _add_similarities(catalog: Catalog, ranking: tuple[str, np.ndarray], rows: list[RankedRow],
                      keep: int) -> None:
    from relecture.search.vectors import Similarities

    space, vector = ranking
    ids = _with_vectors(catalog, space, [r.values["sighting_id"] for r in rows])
    sims = Similarities(catalog, space)(vector, ids, keep)
    for r in rows:
        r.similarity = sims.get(r.values["sighting_id"])


def _with_vectors(catalog: Catalog, space: str, ids: list[int]) -> list[int]:
    if not ids:
        return []
    found = catalog.db.execute(
        "SELECT sighting_id FROM embeddings WHERE space = ? AND sighting_id IN "
        "(SELECT unnest(?::BIGINT[]))", [space, ids]).fetchnumpy()["sighting_id"]
    return found.tolist()


def _by_vector(catalog: Catalog, query: Query, where: str, ranking: tuple[str, np.ndarray],
               limit: int) -> tuple[list[RankedRow], int]:
    """Rank the whole filtered set by similarity, tier by tier (types asked or not, colour,
    style and direction, type), so that a tier is never displaced by a more similar
    sighting of a worse tier."""
    from relecture.search.vectors import Similarities

    space, vector = ranking
    data = catalog.db.execute(
        f"SELECT s.sighting_id, s.first_utc, {rank_sql(catalog, query)}, "
        f"coalesce(s.embedding_space = {lit(space)}, FALSE) AS has_vector "
        f"FROM sightings s WHERE {where}").fetchnumpy()
    total = len(data["sighting_id"])
    similarities = Similarities(catalog, space)
    out: list[RankedRow] = []
    tiers = sorted(set(zip(data["colour_p"].tolist(), data["attr_p"].tolist(),
                           data["type_rank"].tolist())),
                   key=lambda tier: (tier[2] == OTHER_TYPE, -tier[0], -tier[1], tier[2]))
    for cp, ap, trank in tiers:
        need = limit - len(out)
        if need <= 0:
            break
        in_tier = ((data["colour_p"] == cp) & (data["attr_p"] == ap)
                   & (data["type_rank"] == trank))
        with_vec = in_tier & data["has_vector"]
        sims = similarities(vector, data["sighting_id"][with_vec], keep=need)
        best = sorted(sims.items(), key=lambda kv: (-kv[1], kv[0]))[:need]
        first_of = dict(zip(data["sighting_id"][with_vec].tolist(), data["first_utc"][with_vec].tolist()))
        out += [RankedRow({"sighting_id": i, "first_utc": first_of[i]}, cp, trank, None, s, ap)
                for i, s in best]
        rest = np.flatnonzero(in_tier & ~data["has_vector"])
        rest = rest[np.argsort(data["first_utc"][rest], kind="stable")][: limit - len(out)]
        out += [RankedRow({"sighting_id": int(data["sighting_id"][i]), "first_utc": data["first_utc"][i]},
                     cp, trank, attr_p=ap) for i in rest]
    return out, total


def _hits(catalog: Catalog, query: Query, rows: list[RankedRow], vector_ranked: bool) -> tuple[Hit, ...]:
    if not rows:
        return ()
    ids = [int(r.values["sighting_id"]) for r in rows]
    later = ", ".join(f"s.{c}" if catalog.has_column(c) else "NULL"
                      for c in ("colour_p", "body_p", "travel"))
    cur = catalog.db.execute(
        f"SELECT {', '.join('s.' + c for c in _COLS)}, r.path, r.tz, r.clock_offset_s, {later} "
        f"FROM sightings s LEFT JOIN recordings r USING (recording_id) "
        f"WHERE s.sighting_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    names = (*_COLS, "path", "tz", "clock_offset_s", "colour_p", "body_p", "travel")
    details = {row[0]: dict(zip(names, row)) for row in cur.fetchall()}
    return tuple(_hit(catalog, query, r, details[int(r.values["sighting_id"])], vector_ranked)
                 for r in rows)


def _hit(catalog: Catalog, query: Query, row: RankedRow, d: dict, vector_ranked: bool) -> Hit:
    tz = d["tz"] or query.tz
    score, reasons = 1.0, []
    if row.plate is not None:
        score *= max(0.0, 1.0 - row.plate.distance / 2)
        kind = "exact" if row.plate.exact else f"approximate (distance {row.plate.distance:g})"
        reasons.append(f"plate {kind}: read {row.plate.text} ({row.plate.confidence:.2f})")
    if query.colours:
        score *= row.colour_p
        probs = colour_evidence.probabilities(d["colour_p"], d["colour"], d["colour_alt"])
        reasons.append(colour_evidence.reason(probs, query.colours, row.colour_p))
    asked = bool(query.styles or query.travel)
    if asked:
        score *= row.attr_p
        reasons += attributes.reason(query.styles, query.travel, d["body_p"], d["travel"])
    if query.types:
        score *= TYPE_WEIGHT[row.type_rank]
        if row.type_rank == OTHER_TYPE:
            reasons.append(f"other type {d['vehicle_type']} (after the types asked)")
        elif row.type_rank:
            reasons.append(f"neighbouring type {d['vehicle_type']}")
    if vector_ranked:
        score *= (1 + row.similarity) / 2 if row.similarity is not None else 0.5
        reasons.append(f"similarity {row.similarity:.2f}" if row.similarity is not None
                       else "no embedding to compare")
    thumb = catalog.thumbnail_path(d["thumbnail"]) if d["thumbnail"] else None
    return Hit(
        sighting_id=int(d["sighting_id"]), camera=d["camera"], first_utc=d["first_utc"],
        last_utc=d["last_utc"],
        first_camera_time=camera_time(d["first_utc"], tz, d["clock_offset_s"]),
        last_camera_time=camera_time(d["last_utc"], tz, d["clock_offset_s"]), tz=tz,
        vehicle_type=d["vehicle_type"], type_conf=d["type_conf"], colour=d["colour"],
        colour_conf=d["colour_conf"], colour_alt=d["colour_alt"],
        colour_p=row.colour_p if query.colours else None, body=shown(d["body_p"]),
        travel=d["travel"], attr_p=row.attr_p if asked else None, plate=d["plate"],
        plate_conf=d["plate_conf"], matched_read=row.plate.text if row.plate else None,
        plate_distance=row.plate.distance if row.plate else None, similarity=row.similarity,
        score=round(score, 4), reasons=tuple(reasons), thumbnail=thumb,
        recording_id=d["recording_id"], recording_path=d["path"], first_t=d["first_t"],
        last_t=d["last_t"], best_t=d["best_t"],
    )
