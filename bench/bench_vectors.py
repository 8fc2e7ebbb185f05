""""Vehicles like this one" at scale: the space's FAISS index against an exact search.

    python bench/bench_vectors.py --vectors 1000000 10000000 [--dim 512] [--queries 20]
        [--home /tmp/bench-vectors] [--json FILE]

For each size, a catalog holding only that many embeddings is generated inside DuckDB and
reused on later runs: vectors around 20,000 prototypes that share 2,000 centres (many
look-alike vehicles: a model, its colours, its views), plus Gaussian noise. The space's index is
built by `VectorIndex.open` (flat below `COMPRESS_FROM` vectors, IVF-PQ above, as the
product does) and timed; then, for `--queries` sightings drawn at random, the 50 most
similar over the whole space and over a random tenth of it (a filtered set large enough
to go to FAISS) are asked of it, and compared with an exact search over every vector read
from DuckDB. Where a flat index fits memory (up to 2M vectors of 512) the same queries are
also timed on it, side by side. Prints p50/p95 and recall@50; --json writes one object per
query kind and size (name, vectors, p50_ms, p95_ms, recall_at_50, matches).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from bench_search import p95
from relecture.catalog import Catalog
from relecture.search.vectors import COMPRESS_FROM, VectorIndex, embedding_batches
from relecture.settings import Home

SPACE = "bench"
CENTRES, PROTOTYPES = 2_000, 20_000
FLAT_FITS = 2_000_000  # flat float32 index side by side only up to this many vectors
K = 50
CHUNK = 200_000  # vectors generated at a time


def build(home: Home, n: int, dim: int) -> None:
    """Fill an empty catalog with `n` clustered vectors of `dim` (seeded), generated with
    numpy a chunk at a time and scanned by DuckDB from the array (one column a dimension)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CENTRES, dim)).astype(np.float32)
    protos = centres[np.arange(PROTOTYPES) % CENTRES] + 0.6 * rng.normal(
        size=(PROTOTYPES, dim)).astype(np.float32)
    with Catalog(home) as cat:
        for first in range(1, n + 1, CHUNK):
            m = min(CHUNK, n + 1 - first)
            chunk = protos[rng.integers(0, PROTOTYPES, m)] + 0.5 * rng.standard_normal(
                (m, dim), dtype=np.float32)
            columns = np.ascontiguousarray(chunk.T)  # noqa: F841 (read by name in the SQL)
            cat.db.execute(f"INSERT INTO embeddings SELECT {first} - 1 + row_number() OVER (), "
                           f"'{SPACE}', list_value(*COLUMNS(*))::FLOAT[] FROM columns")
        cat.db.execute("CHECKPOINT")


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact_top(cat: Catalog, queries: np.ndarray, subset: np.ndarray | None) -> list[set[int]]:
    """The K most similar ids to each query, over every vector of the space (or `subset`),
    in one pass over the table."""
    best = [(np.zeros(0), np.zeros(0, np.int64)) for _ in queries]
    for ids, vectors in embedding_batches(cat, SPACE, -1):
        if subset is not None:
            keep = np.isin(ids, subset)
            ids, vectors = ids[keep], vectors[keep]
        sims = normalise(vectors) @ queries.T
        for q in range(len(queries)):
            s = np.concatenate([best[q][0], sims[:, q]])
            i = np.concatenate([best[q][1], ids])
            top = np.argsort(-s)[:K]
            best[q] = (s[top], i[top])
    return [set(b[1].tolist()) for b in best]


def timed(index: VectorIndex, queries: np.ndarray, subset, truth) -> tuple[float, float, float]:
    times, found = [], 0
    for q, want in zip(queries, truth):
        t0 = time.perf_counter()
        got = index.similarities(q, subset, keep=K)
        times.append((time.perf_counter() - t0) * 1000)
        found += len(set(got) & want)
    return statistics.median(times), p95(times), found / (K * len(queries))


def bench_one(root: Path, n: int, dim: int, n_queries: int) -> list[dict]:
    """Build (or reuse) the catalog of `n` vectors, build its index, time both query kinds."""
    home = Home(root / f"{n}-{dim}")
    if not home.catalog_db.exists():
        t0 = time.perf_counter()
        build(home, n, dim)
        print(f"generated {n:,} vectors of {dim} in {time.perf_counter() - t0:.1f} s")
    shutil.rmtree(home.vectors_dir, ignore_errors=True)
    rng = np.random.default_rng(1)
    subset = np.sort(rng.choice(np.arange(1, n + 1), n // 10, replace=False))
    picks = rng.choice(np.arange(1, n + 1), n_queries, replace=False)
    out = []
    with Catalog(home) as cat:
        rows = cat.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE sighting_id IN "
            "(SELECT unnest(?::BIGINT[]))", [picks.tolist()]).fetchnumpy()
        queries = normalise(np.stack(rows["vector"]))
        t0 = time.perf_counter()
        truth = {"whole space": exact_top(cat, queries, None),
                 "a tenth of the space": exact_top(cat, queries, subset)}
        print(f"exact search of {n_queries} queries, both kinds, one pass: "
              f"{time.perf_counter() - t0:.1f} s")
        kinds = [("default", COMPRESS_FROM)] + ([("flat", n + 1)] if n <= FLAT_FITS else [])
        for label, compress_from in kinds:
            shutil.rmtree(home.vectors_dir, ignore_errors=True)
            t0 = time.perf_counter()
            index = VectorIndex.open(cat, SPACE, compress_from=compress_from)
            built = time.perf_counter() - t0
            size = sum(f.stat().st_size for f in home.vectors_dir.glob("*.faiss"))
            kind = "IVF-PQ" if index.compressed else "flat"
            print(f"{n:,} vectors, {label} index ({kind}): built in {built:.1f} s, "
                  f"{size / 2**20:,.0f} MiB ({size / n:.0f} bytes a vector)")
            for name, ids in (("whole space", None), ("a tenth of the space", subset)):
                p50, p95, recall = timed(index, queries, ids, truth[name])
                print(f"  like #id, {name:22s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                      f"recall@50 {recall:.3f}")
                out.append({"name": f"like #id, {name}", "index": kind, "vectors": n,
                            "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                            "recall_at_50": round(recall, 3), "matches": K,
                            "build_s": round(built, 1), "index_bytes": size})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, nargs="+", default=[1_000_000],
                    help="space sizes, each benched in turn (e.g. 1000000 10000000)")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--home", type=Path, default=Path("/tmp/bench-vectors"))
    ap.add_argument("--json", type=Path, help="write every query's figures to this file")
    args = ap.parse_args()
    results = [r for n in args.vectors for r in bench_one(args.home, n, args.dim, args.queries)]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
