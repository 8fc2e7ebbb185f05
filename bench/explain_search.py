"""EXPLAIN ANALYZE of what each bench_search query runs: per SQL statement, its total time and
the row groups its table scans read (the zone maps' work).

    python bench/explain_search.py --home /tmp/bench-search --sightings 10000000

Runs on a catalog bench_search.py built; each query goes through `search` once, every SELECT
on sightings, plate_reads or plate_grams it sends is then run again under EXPLAIN ANALYZE.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timezone
from pathlib import Path

from bench_search import queries_for
from relecture.catalog import Catalog
from relecture.search import parse_query, search
from relecture.settings import Home

TABLES = re.compile(r"FROM (sightings|plate_reads|plate_grams)\b")


class Recorder:
    """The catalog's connection, keeping every statement (and its parameters) run through it."""

    def __init__(self, db):
        self.db, self.sent = db, []

    def execute(self, sql, *args):
        self.sent.append((sql, args))
        return self.db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self.db, name)


def explained(db, sql: str, args) -> str:
    """'N ms; table: scanned / total row groups, ...' for one statement."""
    plan = db.execute("EXPLAIN ANALYZE " + sql, *args).fetchall()[0][1]
    total = re.search(r"Total Time: ([\d.]+)s", plan)
    tables = re.findall(r"Table: \S*?(\w+)\s*│", plan)
    groups = re.findall(r"Row Groups Scanned: ([\d,]+) / ([\d,]+)", plan)
    scans = ", ".join(f"{t} {g[0]}/{g[1]}" for t, g in zip(tables, groups))
    return f"{float(total.group(1)) * 1000:.1f} ms; row groups {scans or 'none scanned'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-search"))
    ap.add_argument("--sightings", type=int, default=1_000_000)
    args = ap.parse_args()
    now = datetime(2023, 1, 31, 12, tzinfo=timezone.utc)
    with Catalog(Home(args.home / str(args.sightings)), read_only=True) as cat:
        for name, text in queries_for(cat, with_vectors=False).items():
            recorder = Recorder(cat.db)
            cat.db = recorder
            search(cat, parse_query(text, now), 50)
            cat.db = recorder.db
            print(f"{name} ({text}):")
            for sql, params in recorder.sent:
                if TABLES.search(sql) and sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    head = " ".join(sql.split())[:90]
                    print(f"    {explained(cat.db, sql, params)}  <- {head}")


if __name__ == "__main__":
    main()
