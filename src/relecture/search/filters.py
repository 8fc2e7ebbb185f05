"""A `Query` as SQL over the catalog's sightings (alias `s`): the filter of its structured
fields, the requisition's scope, and the evidence columns hits are ranked by.

Values written into the SQL come from the catalog's own vocabulary (cameras, types,
colours) or from the catalog itself, and are quoted by `lit`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from relecture.catalog import Catalog
from relecture.search import attributes
from relecture.search import colours as colour_evidence
from relecture.search import lexicon as lx
from relecture.search.query import Query
from relecture.search.query_time import TimeWindow, in_camera_zone

if TYPE_CHECKING:
    from relecture.requisitions.scope import Scope


OTHER_TYPE = 2  # type_rank of a sighting whose type is neither asked nor a neighbour


def lit(value) -> str:
    """A SQL literal (the values come from the catalog's vocabulary or the catalog itself)."""
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    return "'" + str(value).replace("'", "''") + "'"


def sql_in(column: str, values) -> str:
    """`column IN (...)` of the literals of `values`."""
    return f"{column} IN ({', '.join(lit(v) for v in values)})"


def camera_key(name: str) -> str:
    """"CAM03", "cam 3", "3" -> "3": how a typed camera is matched to a stored one."""
    key = name.strip().lower()
    for prefix in ("camera", "cam"):
        if key.startswith(prefix):
            key = key[len(prefix):].lstrip(" -_")
    return key.lstrip("0") or key


def resolve_cameras(catalog: Catalog, query: Query, notes: list[str]) -> dict[str, str]:
    """Stored camera name -> time zone, for the cameras asked (all when none asked)."""
    rows = catalog.db.execute("SELECT DISTINCT camera, tz FROM recordings").fetchall()
    zones = {cam: tz or query.tz for cam, tz in rows}
    if not query.cameras:
        return zones
    by_key: dict[str, list[str]] = {}
    for cam in zones:
        by_key.setdefault(camera_key(cam), []).append(cam)
    chosen: dict[str, str] = {}
    missing = []
    for asked in query.cameras:
        found = by_key.get(camera_key(asked), [])
        missing += [] if found else [asked]
        chosen.update({cam: zones[cam] for cam in found})
    if missing:
        notes.append(f"camera {', '.join(missing)} not in the catalog")
    return chosen


def window_sql(windows: tuple[TimeWindow, ...], query_tz: str, camera_tz: str) -> str:
    """Sightings meeting any window; wall-clock windows re-read in the camera's zone."""
    parts = []
    for w in windows:
        w = in_camera_zone(w, query_tz, camera_tz)
        cond = [f"s.first_utc < {lit(w.end)}"] if w.end else []
        cond += [f"s.last_utc >= {lit(w.start)}"] if w.start else []
        parts.append("(" + " AND ".join(cond or ["TRUE"]) + ")")
    return "(" + " OR ".join(parts) + ")"


def where_sql(catalog: Catalog, query: Query, notes: list[str]) -> str:
    """The SQL filter of every structured field: cameras, times and, when strict, types
    (with their neighbours), colours, body styles and directions."""
    clauses = []
    if query.cameras or query.windows:
        zones = resolve_cameras(catalog, query, notes)
        if query.cameras:
            clauses.append(sql_in("s.camera", zones) if zones else "FALSE")
        if query.windows:
            tzs = set(zones.values())
            if tzs <= {query.tz}:
                clauses.append(window_sql(query.windows, query.tz, query.tz))
            else:
                clauses.append("(" + " OR ".join(
                    f"({sql_in('s.camera', [c for c, z in zones.items() if z == tz])} AND "
                    f"{window_sql(query.windows, query.tz, tz)})" for tz in sorted(tzs)) + ")")
    if query.types and query.strict:
        clauses.append(types_sql(query))
    if query.colours and query.strict:
        clauses.append(colour_evidence.strict_sql(query.colours))
    if query.strict:
        clauses += attributes.strict_sql(query.styles, query.travel, *stored_attributes(catalog))
    if query.like is not None:
        clauses.append(f"s.sighting_id <> {int(query.like)}")
    return " AND ".join(clauses) or "TRUE"


def scope_sql(scope: "Scope") -> str:
    """SQL true exactly when `scope.allows(s.camera, s.first_utc, s.last_utc)`."""
    if not scope.cameras or not scope.ranges:
        return "FALSE"
    ranges = " OR ".join(f"(s.first_utc < {lit(r.end)} AND s.last_utc >= {lit(r.start)})"
                         for r in scope.ranges)
    return f"({sql_in('s.camera', scope.cameras)} AND ({ranges}))"


def with_neighbours(values: tuple[str, ...], neighbours: dict) -> list[str]:
    """The values asked, then their neighbours (van -> car...), without repeats."""
    return list(dict.fromkeys([*values, *(n for v in values for n in neighbours.get(v, ()))]))


def types_sql(query: Query) -> str:
    """SQL true when `s` is of a type asked or a neighbouring one (NULL when it has no type:
    false in a WHERE; a bare IN is a filter DuckDB runs in the scan itself)."""
    return sql_in("s.vehicle_type", with_neighbours(query.types, lx.NEIGHBOUR_TYPES))


def other_types_sql(query: Query) -> str:
    """SQL true exactly when `types_sql` is not: another type, or none."""
    return f"(s.vehicle_type IS NULL OR NOT {types_sql(query)})"


def stored_attributes(catalog: Catalog) -> tuple[bool, bool]:
    """Whether the catalog has the body_p and travel columns (older ones opened read-only)."""
    return catalog.has_column("body_p"), catalog.has_column("travel")


def rank_sql(catalog: Catalog, query: Query) -> str:
    """The ranking columns colour_p, type_rank and attr_p of a query, as SQL select terms.
    type_rank: 0 a type asked, 1 a neighbouring type, OTHER_TYPE any other (ranked after
    every sighting of the types asked or their neighbours, not filtered out: a detector
    names a pickup car, a minibus van)."""
    colour = (colour_evidence.evidence_sql(query.colours, catalog.has_column("colour_p"))
              if query.colours else "1.0")
    colour = f"CAST({colour} AS DOUBLE)"  # DuckDB reads the literals as DECIMAL
    vtype = "0"
    if query.types:
        near = with_neighbours(query.types, lx.NEIGHBOUR_TYPES)
        vtype = (f"CASE WHEN {sql_in('s.vehicle_type', query.types)} THEN 0 "
                 f"WHEN {sql_in('s.vehicle_type', near)} THEN 1 ELSE {OTHER_TYPE} END")
    attr = attributes.evidence_sql(query.styles, query.travel, *stored_attributes(catalog))
    return f"{colour} AS colour_p, {vtype} AS type_rank, CAST({attr} AS DOUBLE) AS attr_p"
