"""Journey across cameras: from one sighting (or a plate), the same vehicle's passages on
the requisition's cameras, in time order, each link with why it was made and how sure.

A passage is linked to the start
- **by plate** when one of its reads is within the OCR tolerance of the start's plate (or of
  the pattern asked): the search engine's own plate matching (`search.plates`, the plate
  index, every stored read), score `1 - distance / 2` as in search;
- else **by appearance**, on another camera only: the cosine similarity of the two
  embeddings above `SIMILARITY_FLOOR` (any two cars are about that close in EfficientNet's
  space) rescaled to 0-1, times the colour agreement (the start's colour distribution
  against the passage's colour evidence, neighbours counted as search counts them), times
  the type agreement (same 1, neighbouring type 0.7, another type: no link). A passage
  whose plate was read as another plate is never linked by appearance.

Travel time: where site.toml places both cameras (latitude/longitude, or a road distance),
two passages are plausible only if the time between their first moments lets a vehicle at
the site's `max_speed_kmh` cover the distance (the straight line is a lower bound of any
road, so this never rejects a real passage; `CLOCK_SLACK_S` for the cameras' clocks).
Without positions there is no travel-time constraint beyond order in time, and the
journey says so. Links are placed best first; an appearance link that is implausible with
the passages already placed next to it in time is dropped, a plate link is kept and says
that its travel time is implausible (a cloned plate or a misread).
"""

from __future__ import annotations

import math
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np

from relecture.catalog import Catalog
from relecture.errors import NotFound
from relecture.search import colours as colour_evidence
from relecture.search import lexicon as lx
from relecture.search.engine import TYPE_WEIGHT  # same type, neighbouring type (van/car...)
from relecture.search.plates import PlatePattern

if TYPE_CHECKING:
    from relecture.requisitions.scope import Scope
    from relecture.requisitions.site import Site

SIMILARITY_FLOOR = 0.6  # cosine at or below this is no resemblance (sample: other cars 0.58-0.85)
APPEARANCE_MIN = 0.5  # an appearance link needs at least this score
CLOCK_SLACK_S = 2.0  # the cameras' clocks may disagree by this much
SAME_PASSAGE_S = 30.0  # on one camera, passages closer than this are one passage
DEFAULT_WINDOW_S = 3600.0  # appearance links within this long before or after the start
PLATE_LIMIT = 500  # plate-linked passages read at most
# look-alikes weighed at most, the most alike first: any two cars clear SIMILARITY_FLOOR, so a
# busy city hour would otherwise load every car of every other camera
APPEARANCE_LIMIT = 200
PLATE_SURE = 0.5  # a voted plate read below this confidence neither links nor tells apart
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class Seen:
    """A sighting as the linking sees it (times naive UTC; `colours` its distribution)."""

    sighting_id: int
    camera: str
    first_utc: datetime
    last_utc: datetime
    vehicle_type: str | None = None
    colours: Mapping[str, float] = field(default_factory=dict)
    plate: str | None = None
    plate_conf: float | None = None
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    space: str | None = None
    tz: str | None = None
    clock_offset_s: float = 0.0
    thumbnail: Path | None = None

    @property
    def colour(self) -> str | None:
        return max(self.colours, key=self.colours.get) if self.colours else None


@dataclass(frozen=True)
class Link:
    """Why a passage belongs to the journey: "start", "plate" or "appearance", 0-1."""

    by: str
    score: float
    reason: str


@dataclass(frozen=True)
class Passage:
    """One passage of the journey; `travel` compares the time since the previous passage
    with the distance between their cameras (None for the first)."""

    seen: Seen
    link: Link
    travel: str | None = None


@dataclass(frozen=True)
class Journey:
    """The passages in time order (the start among them, linked by "start")."""

    start: int | None
    plate: str | None  # the plate (pattern) the plate links were made with
    passages: tuple[Passage, ...]
    travel_note: str  # how travel times were checked, or that they could not be
    notes: tuple[str, ...]
    positions: Mapping[str, tuple[float, float, str]]  # camera -> latitude, longitude, label
    elapsed_ms: float = 0.0


# -- travel time ------------------------------------------------------------------------------
def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) in degrees."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class TravelModel:
    """Camera positions and road distances; `max_speed_kmh` bounds every trip."""

    positions: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    distances: Mapping[frozenset, float] = field(default_factory=dict)
    max_speed_kmh: float = 110.0
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_site(cls, site: "Site") -> "TravelModel":
        return cls({c.upper(): (p.latitude, p.longitude) for c, p in site.cameras.items()},
                   {frozenset(c.upper() for c in d.cameras): d.metres for d in site.distances},
                   site.journey.max_speed_kmh,
                   {c.upper(): p.label for c, p in site.cameras.items()})

    @property
    def known(self) -> bool:
        return bool(self.positions or self.distances)

    def distance_m(self, a: str, b: str) -> float | None:
        """Road distance if given, else the straight line; None without both positions."""
        a, b = a.upper(), b.upper()
        if a == b:
            return 0.0
        if (road := self.distances.get(frozenset((a, b)))) is not None:
            return road
        if a in self.positions and b in self.positions:
            return haversine_m(self.positions[a], self.positions[b])
        return None

    def check(self, earlier: Seen, later: Seen) -> tuple[bool, str]:
        """Whether a vehicle can be at `later` after `earlier`, and the words saying why."""
        gap = abs((later.first_utc - earlier.first_utc).total_seconds())
        if earlier.camera == later.camera:
            return True, f"camera {later.camera} again after {_duration(gap)}"
        metres = self.distance_m(earlier.camera, later.camera)
        if metres is None:
            return True, (f"{_duration(gap)} after camera {earlier.camera}; no distance "
                          f"known between cameras {earlier.camera} and {later.camera}: "
                          "travel time not checked")
        needed = metres / (self.max_speed_kmh / 3.6)
        speed = metres / max(gap, 1e-3) * 3.6
        words = (f"{_duration(gap)} for {metres / 1000:.2f} km from camera {earlier.camera} "
                 f"({speed:.0f} km/h on average; at least {_duration(needed)} at "
                 f"{self.max_speed_kmh:g} km/h)")
        return gap + CLOCK_SLACK_S >= needed, words


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    return f"{minutes} min {s:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


# -- scoring ----------------------------------------------------------------------------------
def colour_agreement(start: Mapping[str, float], other: Mapping[str, float]) -> float:
    """How well `other`'s colour distribution bears out `start`'s: the start's probability
    of each colour times `other`'s evidence for it (its probability plus
    `NEIGHBOUR_SHARE` of its neighbours', at most 1), summed. 1 when either is unknown."""
    if not start or not other:
        return 1.0
    total = sum(start.values()) or 1.0
    agreement = 0.0
    for colour, p in start.items():
        near = sum(other.get(n, 0.0) for n in lx.NEIGHBOUR_COLOURS.get(colour, ()))
        agreement += p / total * min(1.0, other.get(colour, 0.0)
                                     + colour_evidence.NEIGHBOUR_SHARE * near)
    return agreement


def type_factor(a: str | None, b: str | None) -> float:
    """1 for the same (or an unknown) type, 0.7 for a neighbouring type, 0 otherwise."""
    if not a or not b or a == b:
        return TYPE_WEIGHT[0]
    return TYPE_WEIGHT[1] if b in lx.NEIGHBOUR_TYPES.get(a, ()) else 0.0


def appearance_link(start: Seen, other: Seen, similarity: float | None) -> Link | None:
    """The appearance link from `start` to `other` (another camera), None below
    `APPEARANCE_MIN` or without comparable embeddings."""
    if similarity is None:
        return None
    resemblance = max(0.0, (similarity - SIMILARITY_FLOOR) / (1.0 - SIMILARITY_FLOOR))
    colours = colour_agreement(start.colours, other.colours)
    vtype = type_factor(start.vehicle_type, other.vehicle_type)
    score = resemblance * colours * vtype
    if score < APPEARANCE_MIN:
        return None
    parts = [f"similarity {similarity:.2f}", f"colour {other.colour or '?'} (agreement "
             f"{colours:.2f} with {start.colour or '?'})", f"type {other.vehicle_type or '?'}"
             + ("" if vtype == 1.0 else f" (neighbour of {start.vehicle_type}, x{vtype:g})")]
    if not other.plate:
        parts.append("no plate read here")
    return Link("appearance", round(score, 3), "appearance: " + ", ".join(parts))


def plate_link(distance: float, read: str | None, confidence: float | None,
               plate: str) -> Link:
    """The plate link of a read `distance` from `plate` (score as search's)."""
    kind = "exact" if distance == 0 else f"approximate (OCR distance {distance:g})"
    return Link("plate", round(max(0.0, 1.0 - distance / 2), 3),
                f"plate {plate}: read {read} ({confidence or 0:.2f}), {kind}")


def _sure_plate(seen: Seen) -> bool:
    return bool(seen.plate) and (seen.plate_conf or 0.0) >= PLATE_SURE


def plates_differ(a: Seen, b: Seen) -> bool:
    """Both read, sure enough, and outside each other's OCR tolerance."""
    if not _sure_plate(a) or not _sure_plate(b):
        return False
    return PlatePattern(a.plate).match(b.plate, 1.0) is None


# -- assembling -------------------------------------------------------------------------------
def _same_passage(a: Seen, b: Seen) -> bool:
    """On one camera and less than `SAME_PASSAGE_S` apart: one passage (a split track), or
    a look-alike right behind the vehicle; either way only the better link is kept."""
    gap = timedelta(seconds=SAME_PASSAGE_S)
    return (a.camera == b.camera and a.first_utc <= b.last_utc + gap
            and b.first_utc <= a.last_utc + gap)


def assemble(start: Seen, links: list[tuple[Seen, Link]], travel: TravelModel
             ) -> tuple[tuple[Passage, ...], int]:
    """The passages in time order, best links placed first; (passages, appearance links
    dropped as implausible next to those placed)."""
    path = [(start, Link("start", 1.0, "the sighting the journey starts from"))]
    dropped = 0
    for seen, link in sorted(links, key=lambda sl: (-sl[1].score, sl[0].first_utc)):
        i = sum(1 for s, _ in path if (s.first_utc, s.sighting_id) < (seen.first_utc,
                                                                      seen.sighting_id))
        neighbours = [path[j][0] for j in (i - 1, i) if 0 <= j < len(path)]
        if any(_same_passage(n, seen) for n in neighbours):
            continue
        checks = [travel.check(*sorted((n, seen), key=lambda s: s.first_utc))
                  for n in neighbours]
        if link.by == "appearance" and not all(ok for ok, _ in checks):
            dropped += 1
            continue
        path.insert(i, (seen, link))
    passages = []
    for k, (seen, link) in enumerate(path):
        words = None
        if k:
            ok, words = travel.check(path[k - 1][0], seen)
            words = words if ok else f"IMPLAUSIBLE: {words} (cloned plate or misread?)"
        passages.append(Passage(seen, link, words))
    return tuple(passages), dropped


# -- the catalog ------------------------------------------------------------------------------
def find_journey(catalog: Catalog, scope: "Scope", travel: TravelModel,
                 start_id: int | None = None, pattern: PlatePattern | None = None,
                 window_s: float = DEFAULT_WINDOW_S) -> Journey:
    """The journey from sighting `start_id`, or from the best match of plate `pattern`,
    reading only sightings that `scope` allows (the caller checked the start is in it)."""
    started = clock.perf_counter()
    notes: list[str] = []
    plate_hits = _plate_hits(catalog, scope, pattern, notes) if pattern is not None else []
    if start_id is None:
        if not plate_hits:
            return Journey(None, pattern.pattern if pattern else None, (), _travel_note(travel),
                           (f"no sighting with plate {pattern.pattern} within the "
                            "requisition",), _positions(travel))
        best = min(h[1] for h in plate_hits)  # the earliest of the closest matches
        start_id = min((h for h in plate_hits if h[1] == best), key=lambda h: h[4])[0]
        notes.append(f"starts from #{start_id}, the best match of plate {pattern.pattern}")
    start = _load(catalog, [start_id], vectors=True).get(start_id)
    if start is None:
        raise NotFound(f"sighting #{start_id} does not exist")
    if pattern is None and _sure_plate(start):
        pattern = PlatePattern(start.plate)
        plate_hits = _plate_hits(catalog, scope, pattern, notes)
    elif pattern is None and start.plate:
        notes.append(f"#{start_id}'s plate {start.plate} is an unsure read (confidence "
                     f"{start.plate_conf or 0:.2f}): linked by appearance only")
    elif pattern is None:
        notes.append(f"#{start_id} has no plate read: linked by appearance only")
    linked = {sid: plate_link(d, read, conf, pattern.pattern)
              for sid, d, read, conf, _ in plate_hits if sid != start_id}
    links = _appearance(catalog, scope, start, window_s, set(linked), notes)
    seen = _load(catalog, list(linked))
    links += [(seen[sid], link) for sid, link in linked.items() if sid in seen]
    passages, dropped = assemble(start, links, travel)
    if dropped:
        notes.append(f"{dropped} look-alike passage(s) left out: travel time implausible")
    return Journey(start_id, pattern.pattern if pattern else None, passages,
                   _travel_note(travel), tuple(notes), _positions(travel),
                   (clock.perf_counter() - started) * 1000)


def _travel_note(travel: TravelModel) -> str:
    if not travel.known:
        return ("no camera positions in site.toml ([cameras.ID] latitude/longitude or "
                "[[distances]]): no travel-time constraint beyond order in time")
    return (f"travel times checked where both cameras are placed in site.toml, at most "
            f"{travel.max_speed_kmh:g} km/h (straight line or road distance)")


def _positions(travel: TravelModel) -> dict[str, tuple[float, float, str]]:
    return {c: (lat, lon, travel.labels.get(c, "")) for c, (lat, lon) in travel.positions.items()}


def _plate_hits(catalog: Catalog, scope: "Scope", pattern: PlatePattern, notes: list[str]
                ) -> list[tuple[int, float, str | None, float | None, datetime]]:
    """(sighting, distance, read, confidence, first_utc) of the sightings in scope whose plate
    or a read matches `pattern`, best first (search's own plate matching), at most
    PLATE_LIMIT (a note says when more matched)."""
    from relecture.search.engine import search
    from relecture.search.query import Query

    result = search(catalog, Query(plate=pattern), PLATE_LIMIT, scope=scope)
    if result.total > PLATE_LIMIT:
        notes.append(f"{result.total} passages match plate {pattern.pattern}: the "
                     f"{PLATE_LIMIT} closest are shown (narrow the requisition's time range)")
    return [(h.sighting_id, h.plate_distance or 0.0, h.matched_read or h.plate, h.plate_conf,
             h.first_utc) for h in result.hits]


def _appearance(catalog: Catalog, scope: "Scope", start: Seen, window_s: float,
                skip: set[int], notes: list[str]) -> list[tuple[Seen, Link]]:
    """Appearance links to the sightings of the scope's other cameras within `window_s`."""
    from relecture.search.filters import lit, scope_sql
    from relecture.search.vectors import Similarities

    if start.vector is None:
        notes.append(f"#{start.sighting_id} has no embedding: no appearance links")
        return []
    lo = start.first_utc - timedelta(seconds=window_s)
    hi = start.last_utc + timedelta(seconds=window_s)
    ids = catalog.db.execute(
        f"SELECT s.sighting_id FROM sightings s WHERE {scope_sql(scope)} AND s.camera <> ? "
        f"AND s.first_utc < {lit(hi)} AND s.last_utc >= {lit(lo)} AND s.embedding_space = ?",
        [start.camera, start.space]).fetchnumpy()["sighting_id"]
    ids = [int(i) for i in ids if int(i) not in skip]
    sims = Similarities(catalog, start.space)(start.vector, ids, keep=APPEARANCE_LIMIT)
    close = sorted((i for i, s in sims.items() if s > SIMILARITY_FLOOR), key=lambda i: -sims[i])
    if len(close) >= APPEARANCE_LIMIT and len(ids) > APPEARANCE_LIMIT:
        notes.append(f"{len(ids)} passages of other cameras in the window: only the "
                     f"{APPEARANCE_LIMIT} most alike are weighed (narrow --within)")
        close = close[:APPEARANCE_LIMIT]
    out, other_plate = [], 0
    for sid, seen in _load(catalog, close).items():
        if plates_differ(start, seen):
            other_plate += 1
            continue
        if (link := appearance_link(start, seen, sims[sid])) is not None:
            out.append((seen, link))
    if other_plate:
        notes.append(f"{other_plate} passage(s) that look alike but whose plate was read "
                     "as another plate: not linked")
    return out


def _load(catalog: Catalog, ids: list[int], vectors: bool = False) -> dict[int, Seen]:
    """The sightings `ids` (those that exist) as `Seen`; with their embeddings if `vectors`
    (read by id, as `vectors.Similarities` does: a join would read the whole table)."""
    if not ids:
        return {}
    colour_p = "s.colour_p" if catalog.has_column("colour_p") else "NULL"
    rows = catalog.db.execute(
        f"SELECT s.sighting_id, s.camera, s.first_utc, s.last_utc, s.vehicle_type, s.colour, "
        f"s.colour_alt, {colour_p}, s.plate, s.plate_conf, s.embedding_space, r.tz, "
        f"r.clock_offset_s, s.thumbnail FROM sightings s "
        f"LEFT JOIN recordings r USING (recording_id) "
        f"WHERE s.sighting_id IN (SELECT unnest(?::BIGINT[]))", [list(ids)]).fetchall()
    found = {}
    if vectors:
        found = dict(catalog.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE sighting_id IN "
            "(SELECT unnest(?::BIGINT[]))", [list(ids)]).fetchall())
    out = {}
    for (sid, cam, first, last, vtype, colour, alt, cp, plate, pconf, space, tz, offset,
         thumb) in rows:
        vec = found.get(sid)
        out[sid] = Seen(sid, cam, first, last, vtype,
                        colour_evidence.probabilities(cp, colour, alt), plate, pconf,
                        np.asarray(vec, np.float32) if vec is not None else None,
                        space if vec is not None or not vectors else None, tz, offset or 0.0,
                        catalog.thumbnail_path(thumb) if thumb else None)
    return out
