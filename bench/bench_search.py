"""Search latency on a synthetic catalog: p50/p95 per kind of query.

    python bench/bench_search.py --sightings 10000000 100000000 [--home /tmp/bench-search]
        [--runs 20] [--embedding-dim 512] [--memory-limit 10GB] [--json FILE]

The catalog is generated inside DuckDB (range(), no Python loops): N sightings over 300
cameras and 30 days, in the order a nightly load writes them (day by day, each camera's
file of the day in turn, in time order within it), random SIV plates, two OCR reads per
sighting (one with a confusion), the plate index (plate_grams), and what the indexer stores
beside them: colour and body-style distributions shaped like the indexer's (three names
carry the mass, to 0.001, the rest 0) and a direction of travel. It is built once per
size under --home and reused (an older one is opened for writing first, which migrates it
and brings its plate index up to date). --json writes one object per query and size
(name, sightings, query, p50_ms, p95_ms, matches).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from relecture.catalog import Catalog
from relecture.indexer.body_style import STYLES
from relecture.indexer.colour import COLOURS
from relecture.search import parse_query, search
from relecture.settings import Home

DAYS, CAMERAS = 30, 300
LETTER = "chr(65 + ((hash(sighting_id * {k}) % 26)::INTEGER))"
DIGIT = "chr(48 + ((hash(sighting_id * {k}) % 10)::INTEGER))"


def _draw(k: int) -> str:
    """SQL for a pseudo-random number in [0, 1) drawn from the sighting id (seed `k`)."""
    return f"((hash(sighting_id * {k}) % 1000) / 1000.0)"


def distribution_sql(names, first: str, k: int) -> str:
    """SQL for a probability distribution over `names` shaped like the indexer's (values
    rounded to 0.001, most names 0): `first` (an index SQL expression) holds 0.35-0.95, a
    second name 60% of the rest, a third what is left."""
    n = len(names)
    second = f"(({first}) + 1 + hash(sighting_id * {k + 1}) % {n - 1}) % {n}"
    third = f"(({first}) + 1 + hash(sighting_id * {k + 2}) % {n - 1}) % {n}"
    p0 = f"round(0.35 + 0.6 * {_draw(k + 3)}, 3)"
    p1 = f"round((1 - {p0}) * 0.6, 3)"
    p2 = f"round(1 - {p0} - {p1}, 3)"
    fields = [f"{name} := (CASE WHEN ({first}) = {i} THEN {p0} ELSE 0 END + CASE WHEN "
              f"{second} = {i} THEN {p1} ELSE 0 END + CASE WHEN {third} = {i} THEN {p2} "
              f"ELSE 0 END)::DOUBLE" for i, name in enumerate(names)]
    return f"struct_pack({', '.join(fields)})"


COLOUR_INDEX = f"(hash(sighting_id * 29) % {len(COLOURS)})::INTEGER"
TRAVEL = ("struct_pack(entry := ['top','bottom','left','right'][1 + (hash(sighting_id * 43) % 4)::INTEGER], "
          "exit := ['top','bottom','left','right'][1 + (hash(sighting_id * 47) % 4)::INTEGER], "
          "motion := ['away','towards'][1 + (hash(sighting_id * 53) % 2)::INTEGER], "
          "motion_conf := round(0.5 + 0.5 * ((hash(sighting_id * 59) % 1000) / 1000.0), 3)::DOUBLE)")


def limited(cat: Catalog, memory_limit: str | None) -> Catalog:
    """`cat` with DuckDB's memory limit set (None: DuckDB's default, 80% of the machine),
    so that a 100M build spills to disk instead of crowding out other work."""
    if memory_limit:
        cat.db.execute(f"SET memory_limit = '{memory_limit}'")
    return cat


def build(home: Home, n: int, memory_limit: str | None = None) -> None:
    """Fill an empty catalog with `n` synthetic sightings."""
    plate = " || ".join([LETTER.format(k=3), LETTER.format(k=5), DIGIT.format(k=7),
                         DIGIT.format(k=11), DIGIT.format(k=13), LETTER.format(k=17),
                         LETTER.format(k=19)])
    with Catalog(home) as cat:
        db = limited(cat, memory_limit).db
        db.execute("""
            INSERT INTO recordings (recording_id, path, camera, tz, clock_offset_s)
            SELECT 'rec' || i, '/footage/cam' || i || '.mp4', i::VARCHAR, 'Europe/Paris', 0
            FROM range(300) t(i)""")
        per_day = -(-n // DAYS)  # sightings a day, loaded camera by camera as files come in
        per_file = -(-per_day // CAMERAS)
        db.execute(f"""
            INSERT INTO sightings (sighting_id, recording_id, camera, track_id, first_t, last_t,
                first_utc, last_utc, vehicle_type, type_conf, colour, colour_conf, colour_alt,
                plate, plate_conf, best_t, thumbnail, embedding_space, colour_p, body_p, travel)
            SELECT sighting_id, 'rec' || cam, cam::VARCHAR, sighting_id, 0, 8, t, t + INTERVAL 8 SECOND,
                   ['car','car','car','van','truck','bus','motorcycle','bicycle'][1 + (hash(sighting_id * 23) % 8)::INTEGER],
                   0.8,
                   {list(COLOURS)}[1 + {COLOUR_INDEX}],
                   0.7, NULL, plate, 0.9, 4, NULL, NULL,
                   {distribution_sql(COLOURS, COLOUR_INDEX, 61)},
                   {distribution_sql(list(STYLES), f"(hash(sighting_id * 71) % {len(STYLES)})::INTEGER", 73)},
                   {TRAVEL}
            FROM (SELECT i AS sighting_id, ((i - 1) % {per_day}) // {per_file} AS cam,
                         TIMESTAMP '2023-01-01' + to_microseconds(((i - 1) // {per_day}) * 86400000000
                             + (((i - 1) % {per_day}) % {per_file}) * (86400000000 // {per_file})) AS t,
                         {plate} AS plate
                  FROM range(1, {n} + 1) t(i))""")
        db.execute("""
            INSERT INTO plate_reads
            SELECT sighting_id, 2, plate, 0.9, 0, 0, 1, 1, 'bench' FROM sightings
            UNION ALL
            SELECT sighting_id, 3, replace(replace(plate, 'B', '8'), '0', 'O'), 0.6, 0, 0, 1, 1, 'bench'
            FROM sightings""")
        cat.sync_plate_grams()  # the plate index, built in SQL as for any catalog's first open
        db.execute("CHECKPOINT")


def add_embeddings(home: Home, dim: int) -> None:
    """Random vectors for the sightings of cameras 0-29 (a tenth of the catalog: 10M vectors
    would not fit this machine); a filtered ranking only ever reads its own set's vectors."""
    space = f"bench-{dim}"
    with Catalog(home) as cat:
        if cat.db.execute("SELECT count(*) FROM embeddings WHERE space = ?", [space]).fetchone()[0]:
            return
        t0 = time.perf_counter()
        cat.db.execute(f"""
            INSERT INTO embeddings
            SELECT sighting_id, '{space}', list_transform(range({dim}), lambda x: (random() - 0.5)::FLOAT)
            FROM sightings WHERE camera::INTEGER < 30""")
        cat.db.execute(f"UPDATE sightings SET embedding_space = '{space}' WHERE camera::INTEGER < 30")
        n = cat.db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        print(f"added {n:,} vectors of {dim} dimensions in {time.perf_counter() - t0:.1f} s")


def measure(cat: Catalog, text: str, runs: int, now: datetime) -> tuple[float, float, int]:
    times, total = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        res = search(cat, parse_query(text, now), 50)
        times.append((time.perf_counter() - t0) * 1000)
        total = res.total
    return statistics.median(times), p95(times), total


def p95(times: list[float]) -> float:
    """The 95th percentile, nearest rank (the slowest run when there are fewer than 20)."""
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def synthetic_catalog(root: Path, n: int, memory_limit: str | None = None) -> Home:
    """The synthetic catalog of `n` sightings under `root`, built on first use; an older one
    is opened for writing first (which migrates it and brings its plate index up to date)."""
    home = Home(root / str(n))
    t0 = time.perf_counter()
    if not home.catalog_db.exists():
        build(home, n, memory_limit)
        print(f"built {n:,} sightings in {time.perf_counter() - t0:.1f} s")
    else:
        with Catalog(home) as cat:
            limited(cat, memory_limit).db.execute("CHECKPOINT")
        print(f"opened for writing (plate index brought up to date) in "
              f"{time.perf_counter() - t0:.1f} s")
    return home


def queries_for(cat: Catalog, with_vectors: bool) -> dict[str, str]:
    """Name -> query text of every query timed, on plates the catalog holds."""
    plate = cat.db.execute("SELECT plate FROM sightings WHERE sighting_id = 4242").fetchone()[0]
    fuzzy = plate[:3] + ("7" if plate[3] != "7" else "4") + plate[4:]  # one real misread
    queries = {
        "structured: camera + 1 h + type + colour": "voiture blanche caméra 12 le 15/01 8h-12h",
        "structured: 5 cameras, one day": "voiture rouge caméras 1 à 5 le 15/01",
        "structured: colour only, whole catalog": "voiture rouge",
        "fuzzy plate, whole catalog": f"plaque {fuzzy}",
        "fuzzy plate + one day": f"plaque {fuzzy} le 01/01",
        "partial plate pattern, whole catalog": f"plaque {plate[:2]}-{plate[2]}?{plate[4]}-*",
        "plate prefix of 2 characters, whole catalog": f"plaque {plate[:2]}*",
        "fragment *123*, whole catalog": f"plaque *{plate[2:5]}*",
    }
    if with_vectors:
        like = cat.db.execute(
            "SELECT min(sighting_id) FROM sightings WHERE camera = '12' AND embedding_space IS "
            "NOT NULL").fetchone()[0]
        queries["ranked: like #id within camera + 4 h"] = (
            f"voitures caméra 12 le 15/01 8h-12h comme #{like}")
    return queries


def bench_one(root: Path, n: int, runs: int, embedding_dim: int,
              memory_limit: str | None = None) -> list[dict]:
    """Every query's figures on the catalog of `n` sightings (built on first use)."""
    home = synthetic_catalog(root, n, memory_limit)
    if embedding_dim:
        add_embeddings(home, embedding_dim)
    size = home.catalog_db.stat().st_size
    print(f"catalog: {n:,} sightings, {size / 2**30:.2f} GiB on disk ({size / n:.0f} bytes a "
          f"sighting); {runs} runs per query; limit 50")
    now = datetime(2023, 1, 31, 12, tzinfo=timezone.utc)
    out = []
    with Catalog(home, read_only=True) as cat:
        limited(cat, memory_limit)
        for name, text in queries_for(cat, bool(embedding_dim)).items():
            p50, p95, total = measure(cat, text, runs, now)
            print(f"{name:45s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  matches {total:,}")
            out.append({"name": name, "sightings": n, "query": text, "p50_ms": round(p50, 1),
                        "p95_ms": round(p95, 1), "matches": total})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sightings", type=int, nargs="+", default=[1_000_000],
                    help="catalog sizes, each benched in turn (e.g. 10000000 100000000)")
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-search"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--embedding-dim", type=int, default=0,
                    help="also give the sightings of cameras 0-29 random vectors of this size "
                         "(built once) and time a query ranked by similarity within a filter")
    ap.add_argument("--memory-limit", help="DuckDB's memory limit, e.g. 10GB (default: DuckDB's)")
    ap.add_argument("--json", type=Path, help="write every query's figures to this file")
    args = ap.parse_args()
    results = [r for n in args.sightings
               for r in bench_one(args.home, n, args.runs, args.embedding_dim, args.memory_limit)]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
