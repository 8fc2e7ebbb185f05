"""Journey latency on bench_search's synthetic catalog: p50/p95 of `find_journey`.

    python bench/bench_journey.py --sightings 1000000 [--home /tmp/bench-search] [--runs 20]
        [--embedding-dim 512] [--cameras 30] [--days 1]

The catalog is bench_search's (built once per --home and reused): N sightings over 300
cameras and 30 days, random SIV plates with two reads each, random vectors for cameras
0-29. The journey runs under a scope of `--cameras` cameras (0..n-1) times `--days` days,
from sightings of camera 12 in the middle of that time: the plate links (search's plate
matching over the scope) and the appearance links (every sighting of the scope's other
cameras within 60 minutes, their vectors read by id). Library call only: no audit write.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import add_embeddings, p95, synthetic_catalog  # noqa: E402

from relecture.catalog import Catalog  # noqa: E402
from relecture.requisitions.scope import Scope, TimeRange  # noqa: E402
from relecture.search.journey import TravelModel, find_journey  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sightings", type=int, default=1_000_000)
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-search"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--embedding-dim", type=int, default=512)
    ap.add_argument("--cameras", type=int, default=30)
    ap.add_argument("--days", type=int, default=1)
    args = ap.parse_args()
    home = synthetic_catalog(args.home, args.sightings)
    add_embeddings(home, args.embedding_dim)
    start = datetime(2023, 1, 15)
    scope = Scope(tuple(str(c) for c in range(args.cameras)),
                  (TimeRange(start, start + timedelta(days=args.days)),))
    noon = start + timedelta(days=args.days / 2)
    with Catalog(home, read_only=True) as cat:
        starts = [r[0] for r in cat.db.execute(
            "SELECT sighting_id FROM sightings WHERE camera = '12' AND first_utc >= ? "
            "ORDER BY first_utc LIMIT ?", [noon, args.runs]).fetchall()]
        times, passages = [], []
        for sid in starts:
            t0 = time.perf_counter()
            journey = find_journey(cat, scope, TravelModel(), sid)
            times.append((time.perf_counter() - t0) * 1000)
            passages.append(len(journey.passages))
        window = cat.db.execute(
            "SELECT count(*) FROM sightings WHERE camera IN (SELECT unnest(?::VARCHAR[])) "
            "AND camera <> '12' AND first_utc BETWEEN ? AND ?",
            [list(scope.cameras), noon - timedelta(hours=1), noon + timedelta(hours=1)]
        ).fetchone()[0]
    times.sort()
    print(f"catalog: {args.sightings:,} sightings; scope {args.cameras} cameras x {args.days} "
          f"day(s); about {window:,} sightings of the other cameras within 60 min of a start; "
          f"{len(times)} journeys")
    print(f"find_journey p50 {statistics.median(times):.1f} ms  "
          f"p95 {p95(times):.1f} ms  passages per journey "
          f"{statistics.mean(passages):.2f}")


if __name__ == "__main__":
    main()
