"""FAISS index per embedding space, derived from the DuckDB `embeddings` table.

DuckDB is the source of truth. The index under `home/vectors/<space>.faiss` is a cache with a
small state file (its kind, row count and highest sighting id it holds); `VectorIndex.open`
compares it with the table and adds the new rows, or rebuilds from scratch when rows were
removed (retention purge), the files are unreadable or the space outgrew a flat index.
Vectors are L2-normalised, so inner product is cosine similarity.

Up to `COMPRESS_FROM` vectors the index is flat (exact, 4 bytes a dimension). Above, a flat
index would not fit memory at city scale (10M vectors of 512: 20 GB), so it is IVF-PQ: the
space cut into `nlist` cells by k-means, each vector kept as one byte per 8 dimensions
(about 73 bytes a 512-d vector with its id). Its scores are approximate, so the best candidates it
gives (`RESCORE` per result kept) are scored again exactly on the vectors DuckDB holds:
similarities returned are always exact; only which sightings reach them is approximate
(recall@50 against exact search: BENCHMARKS.md, "Vectors at scale").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from relecture.catalog import Catalog
from relecture.files import write_atomic

SMALL_SET = 20_000  # below this many ids, read their vectors and dot; above, FAISS with a selector
COMPRESS_FROM = 200_000  # from this many vectors a space's index is IVF-PQ instead of flat
NPROBE = 32  # IVF cells searched per query (more for a filtered set)
RESCORE = 4  # candidates rescored exactly per result kept, and at least:
# over the whole space 500 (at 10M a query's 50 nearest are look-alikes that PQ's error
# mixes up: 200 held 0.68 of them, 500 0.998); in a filtered set 1,000 (its nearest are
# farther from the query and closer to each other). Measured: BENCHMARKS.md, "Vectors at scale".
MIN_CANDIDATES = 500
FILTERED_CANDIDATES = 1_000
# Up to this many ids, vectors are read with a literal id list, which DuckDB looks up in the
# primary key (5.6 against 60 ms for 200 ids of 250,000); above, a join on a list is faster.
LITERAL_IDS = 2_000
BATCH = 50_000  # vectors read from DuckDB at a time when building (bounded memory)
TRAIN_SAMPLE = 160_000  # vectors k-means and PQ learn from (FAISS: >= 39 per cell, 4,096 cells)


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    x = x.reshape(1, -1) if x.ndim == 1 else x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms > 0, norms, 1.0))


def _stack(vectors) -> np.ndarray:
    return np.stack([np.asarray(v, np.float32) for v in vectors]) if len(vectors) else np.zeros((0, 0), np.float32)


class VectorIndex:
    """Cosine-similarity lookups over one embedding space of a catalog."""

    def __init__(self, index, space: str, catalog: Catalog | None = None):
        self.index = index
        self.space = space
        self.catalog = catalog  # where exact vectors are read to rescore a compressed index
        self.compressed = hasattr(index, "nprobe")  # IVF-PQ (a flat index has no cells)

    @classmethod
    def open(cls, catalog: Catalog, space: str,
             compress_from: int = COMPRESS_FROM) -> "VectorIndex":
        """The space's index, brought up to date with DuckDB (written back when possible)."""
        import faiss

        db_count, db_max = catalog.db.execute(
            "SELECT count(*), coalesce(max(sighting_id), 0) FROM embeddings WHERE space = ?", [space]
        ).fetchone()
        kind = "ivfpq" if db_count >= compress_from else "flat"
        files = _files(catalog.home.vectors_dir, space)
        state = _read_state(files[1])
        index = None
        if state is not None and state["count"] <= db_count and state.get("kind", "flat") == kind:
            try:
                index = faiss.read_index(str(files[0]))
            except RuntimeError:
                index = None
        if index is not None and state["count"] == db_count and state["max_id"] == db_max:
            return cls(index, space, catalog)
        new_since = state["max_id"] if index is not None else -1
        if index is not None:
            added = catalog.db.execute(
                "SELECT count(*) FROM embeddings WHERE space = ? AND sighting_id > ?",
                [space, new_since]).fetchone()[0]
            if state["count"] + added != db_count:  # rows removed or rewritten: start over
                index, new_since = None, -1
        if index is None:
            index = _new_index(catalog, space, kind, db_count)
        for ids, vectors in embedding_batches(catalog, space, new_since):
            index.add_with_ids(_normalise(vectors), ids)
        _write(index, files, {"kind": kind, "count": db_count, "max_id": db_max})
        return cls(index, space, catalog)

    def similarities(self, query: np.ndarray, ids: np.ndarray | None, keep: int) -> dict[int, float]:
        """Cosine similarity of `query` to the sightings `ids` (each must have a vector here;
        None: every vector of the space).

        With many ids, only the `keep` most similar are returned (FAISS with an ID selector
        restricted to `ids`, so no id outside the filtered set can take a place).
        """
        import faiss

        q = _normalise(query)
        if self.index.ntotal == 0 or (ids is not None and len(ids) == 0):
            return {}
        ids = None if ids is None else np.asarray(ids, np.int64)
        if self.compressed:
            return self._rescored(q, ids, keep)
        if ids is not None and len(ids) <= SMALL_SET:
            sims = self.index.reconstruct_batch(ids) @ q[0]
            return dict(zip(ids.tolist(), sims.astype(float).tolist()))
        sel = None if ids is None else faiss.IDSelectorBatch(ids)
        k = min(keep, self.index.ntotal if ids is None else len(ids))
        sims, found = self.index.search(q, k, params=faiss.SearchParameters(sel=sel))
        return {int(i): float(s) for i, s in zip(found[0], sims[0]) if i >= 0}

    def _rescored(self, q: np.ndarray, ids: np.ndarray | None, keep: int) -> dict[int, float]:
        """IVF-PQ: candidates from the codes, scored again exactly on the catalog's vectors
        (a small set is read from the catalog at once)."""
        import faiss

        if ids is not None and len(ids) <= SMALL_SET:
            return exact_similarities(self.catalog, self.space, q[0], ids)
        size = self.index.ntotal if ids is None else len(ids)
        k = min(size, max(RESCORE * keep, MIN_CANDIDATES if ids is None else FILTERED_CANDIDATES))
        # a filtered set holding a share f of the space is as sparse around the query as a
        # space 1/f times smaller: its k nearest lie about 1/f times as many cells away, so
        # probe NPROBE / f cells (every cell for a set under 1/nlist)
        nprobe = min(self.index.nlist, -(-NPROBE * self.index.ntotal // size))
        sel = None if ids is None else faiss.IDSelectorBatch(ids)
        _, found = self.index.search(q, k, params=faiss.SearchParametersIVF(sel=sel, nprobe=nprobe))
        exact = exact_similarities(self.catalog, self.space, q[0], found[0][found[0] >= 0])
        return dict(sorted(exact.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])


def refresh_indexes(catalog: Catalog, min_vectors: int | None = None) -> list[str]:
    """Bring the index of every space holding more than `min_vectors` (default SMALL_SET)
    vectors up to date
    with DuckDB, and return those spaces. An index job calls it when it ends, so the first
    large "like" after a nightly load does not wait for the new vectors to be added (or, the
    first time, for a compressed index to be trained: 12 minutes at 10M); smaller spaces are
    left, as searches never load their index (`Similarities`)."""
    least = SMALL_SET if min_vectors is None else min_vectors
    spaces = [space for space, count in catalog.db.execute(
        "SELECT space, count(*) FROM embeddings GROUP BY space ORDER BY space").fetchall()
        if count > least]
    for space in spaces:
        VectorIndex.open(catalog, space)
    return spaces


def exact_similarities(catalog: Catalog, space: str, query: np.ndarray, ids) -> dict[int, float]:
    """Cosine similarity of `query` to each of `ids` that has a vector, read from DuckDB."""
    ids = np.asarray(ids, np.int64).tolist()
    if not ids:
        return {}
    if len(ids) <= LITERAL_IDS:  # a literal list is looked up in the primary key's index
        rows = catalog.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE space = ? AND sighting_id IN "
            f"({', '.join(map(str, ids))})", [space]).fetchnumpy()
    else:
        rows = catalog.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE space = ? AND sighting_id IN "
            "(SELECT unnest(?::BIGINT[]))", [space, ids]).fetchnumpy()
    if not len(rows["sighting_id"]):
        return {}
    sims = _normalise(_stack(rows["vector"])) @ _normalise(query)[0]
    return dict(zip(rows["sighting_id"].tolist(), sims.astype(float).tolist()))


def _new_index(catalog: Catalog, space: str, kind: str, count: int):
    """An empty index of `kind` for a space of `count` vectors (IVF-PQ: trained on a sample)."""
    import faiss

    first = catalog.db.execute("SELECT vector FROM embeddings WHERE space = ? LIMIT 1",
                               [space]).fetchone()
    dim = len(first[0]) if first else 1
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    nlist = ivf_cells(count)
    index = faiss.index_factory(dim, f"IVF{nlist},PQ{pq_bytes(dim)}", faiss.METRIC_INNER_PRODUCT)
    index.do_polysemous_training = False  # for Hamming filtering, which is not used: slow
    index.train(_normalise(_training_sample(catalog, space, TRAIN_SAMPLE)))
    return index


def ivf_cells(count: int) -> int:
    """Number of IVF cells: the power of two nearest sqrt(count), 64 to 4,096 (FAISS's
    guideline is 4-16 x sqrt(n); fewer cells keep k-means trainable on 2 cores)."""
    return int(min(4096, max(64, 2 ** round(np.log2(max(count, 1)) / 2))))


def pq_bytes(dim: int) -> int:
    """Bytes a PQ code takes: one per 8 dimensions (the largest divisor of `dim` up to that)."""
    return max(m for m in range(1, max(dim // 8, 1) + 1) if dim % m == 0)


def _training_sample(catalog: Catalog, space: str, size: int) -> np.ndarray:
    """Vectors of `size` sightings drawn evenly over the space's ids (seeded: rebuilds of
    the same catalog train the same index)."""
    ids = catalog.db.execute("SELECT sighting_id FROM embeddings WHERE space = ? ORDER BY 1",
                             [space]).fetchnumpy()["sighting_id"]
    if len(ids) > size:
        ids = np.sort(np.random.default_rng(0).choice(ids, size, replace=False))
    rows = catalog.db.execute(
        "SELECT vector FROM embeddings WHERE space = ? AND sighting_id IN "
        "(SELECT unnest(?::BIGINT[]))", [space, ids.tolist()]).fetchnumpy()
    return _stack(rows["vector"])


def embedding_batches(catalog: Catalog, space: str, after: int):
    """(ids, vectors) of the space's sightings after id `after`, BATCH at a time, in id order.

    Each batch is a range of ids, which zone maps prune to its own row groups; a
    `sighting_id > x ORDER BY ... LIMIT` batch would read every later row each time."""
    ids = catalog.db.execute(
        "SELECT sighting_id FROM embeddings WHERE space = ? AND sighting_id > ? ORDER BY 1",
        [space, after]).fetchnumpy()["sighting_id"]
    for start in range(0, len(ids), BATCH):
        low, high = int(ids[start]), int(ids[min(start + BATCH, len(ids)) - 1])
        rows = catalog.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE space = ? AND sighting_id "
            "BETWEEN ? AND ? ORDER BY sighting_id", [space, low, high]).fetchnumpy()
        yield np.asarray(rows["sighting_id"], np.int64), _stack(rows["vector"])


class Similarities:
    """Cosine similarities to a query within filtered sets of one space of a catalog.

    A small set (up to SMALL_SET ids, the usual camera + time window) reads its vectors from
    DuckDB by id; only a large one loads the FAISS index, whose file holds every vector of the
    space (flat: gigabytes at millions of sightings) and would dominate a small search. The
    ids given must each have a vector of the space (so as many ids as the index holds are
    all of them).
    """

    def __init__(self, catalog: Catalog, space: str):
        self.catalog = catalog
        self.space = space
        self._index: VectorIndex | None = None

    def __call__(self, query: np.ndarray, ids, keep: int) -> dict[int, float]:
        """Similarity of `query` to each of `ids` that has a vector (the best `keep` of a
        large set)."""
        ids = np.asarray(ids, np.int64)
        if len(ids) == 0:
            return {}
        if len(ids) > SMALL_SET:
            if self._index is None:
                self._index = VectorIndex.open(self.catalog, self.space)
            # every vector of the space (a whole-catalog "like"): no selector to build
            whole = len(ids) == self._index.index.ntotal
            return self._index.similarities(query, None if whole else ids, keep)
        return exact_similarities(self.catalog, self.space, query, ids)


def _files(folder: Path, space: str) -> tuple[Path, Path]:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", space)
    return folder / f"{safe}.faiss", folder / f"{safe}.json"


def _read_state(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text())
        return state if {"count", "max_id"} <= state.keys() else None
    except (OSError, ValueError):
        return None


def _write(index, files: tuple[Path, Path], state: dict) -> None:
    """State removed, index written, state written, each atomically: a crash in between
    leaves no state, hence a rebuild. A read-only home keeps the index in memory only."""
    import faiss

    try:
        files[0].parent.mkdir(parents=True, exist_ok=True)
        files[1].unlink(missing_ok=True)
        write_atomic(files[0], faiss.serialize_index(index).tobytes())
        write_atomic(files[1], json.dumps(state).encode())
    except OSError:
        pass
