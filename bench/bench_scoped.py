"""Plate queries under a requisition's scope (as `Session.search` runs them), and show's
reads of one sighting by id, on a catalog bench_search.py built.

    python bench/bench_scoped.py --home /tmp/bench-search --sightings 10000000 [--runs 10]

The scope is every camera over the whole 30 days: it filters nothing out, so the figures
show what a scope costs beside bench_search's unscoped ones.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from bench_search import CAMERAS, p95, queries_for
from relecture.catalog import Catalog
from relecture.catalog_read import sighting_detail
from relecture.requisitions.scope import make_scope
from relecture.search import parse_query, search
from relecture.settings import Home


def timed(fn, runs: int) -> tuple[float, float]:
    """(p50, p95) in ms of `runs` calls of `fn`."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), p95(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-search"))
    ap.add_argument("--sightings", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    now = datetime(2023, 1, 31, 12, tzinfo=timezone.utc)
    scope = make_scope([str(i) for i in range(CAMERAS)],
                       [(datetime(2022, 12, 31), datetime(2023, 2, 1))])
    with Catalog(Home(args.home / str(args.sightings)), read_only=True) as cat:
        for name, text in queries_for(cat, with_vectors=False).items():
            if "plate" not in name and "fragment" not in name:
                continue
            query = parse_query(text, now)
            total = search(cat, query, 50, scope=scope).total
            p50, slow = timed(lambda: search(cat, query, 50, scope=scope), args.runs)
            print(f"scoped {name:45s} p50 {p50:7.1f} ms  p95 {slow:7.1f} ms  matches {total:,}")
        ids = iter(random.Random(1).sample(range(1, args.sightings + 1), args.runs))
        p50, slow = timed(lambda: sighting_detail(cat, next(ids)), args.runs)
        print(f"sighting_detail by id ({args.runs} random ids)        p50 {p50:7.1f} ms  "
              f"p95 {slow:7.1f} ms")


if __name__ == "__main__":
    main()
