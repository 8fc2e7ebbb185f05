"""FAISS index per embedding space, derived from the DuckDB `embeddings` table.

DuckDB is the source of truth. The index under `home/vectors/<space>.faiss` is a cache with a
small state file (row count and highest sighting id it holds); `VectorIndex.open` compares it
with the table and adds the new rows, or rebuilds from scratch when rows were removed
(retention purge) or the files are unreadable. Vectors are L2-normalised, so inner product is
cosine similarity.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from relecture.catalog import Catalog
from relecture.files import write_atomic

SMALL_SET = 20_000  # below this many ids, reconstruct and dot; above, FAISS with a selector


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    x = x.reshape(1, -1) if x.ndim == 1 else x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms > 0, norms, 1.0))


def _stack(vectors) -> np.ndarray:
    return np.stack([np.asarray(v, np.float32) for v in vectors]) if len(vectors) else np.zeros((0, 0), np.float32)


class VectorIndex:
    """Cosine-similarity lookups over one embedding space of a catalog."""

    def __init__(self, index, space: str):
        self.index = index
        self.space = space

    @classmethod
    def open(cls, catalog: Catalog, space: str) -> "VectorIndex":
        """The space's index, brought up to date with DuckDB (written back when possible)."""
        import faiss

        db_count, db_max = catalog.db.execute(
            "SELECT count(*), coalesce(max(sighting_id), 0) FROM embeddings WHERE space = ?", [space]
        ).fetchone()
        files = _files(catalog.home.vectors_dir, space)
        state = _read_state(files[1])
        index = None
        if state is not None and state["count"] <= db_count:
            try:
                index = faiss.read_index(str(files[0]))
            except RuntimeError:
                index = None
        if index is not None and state["count"] == db_count and state["max_id"] == db_max:
            return cls(index, space)
        new_since = state["max_id"] if index is not None else None
        if new_since is not None:
            added = catalog.db.execute(
                "SELECT count(*) FROM embeddings WHERE space = ? AND sighting_id > ?",
                [space, new_since]).fetchone()[0]
            if state["count"] + added != db_count:  # rows removed or rewritten: start over
                index, new_since = None, None
        rows = catalog.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE space = ? AND sighting_id > ? "
            "ORDER BY sighting_id", [space, new_since if new_since is not None else -1]
        ).fetchnumpy()
        vectors = _stack(rows["vector"])
        if index is None:
            dim = vectors.shape[1] if len(vectors) else 1
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if len(vectors):
            index.add_with_ids(_normalise(vectors), np.asarray(rows["sighting_id"], np.int64))
        _write(index, files, {"count": db_count, "max_id": db_max})
        return cls(index, space)

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """Stored (normalised) vectors of these sighting ids, each of which must have one."""
        return self.index.reconstruct_batch(np.asarray(ids, np.int64))

    def similarities(self, query: np.ndarray, ids: np.ndarray, keep: int) -> dict[int, float]:
        """Cosine similarity of `query` to the sightings `ids` (each must have a vector here).

        With many ids, only the `keep` most similar are returned (FAISS with an ID selector
        restricted to `ids`, so no id outside the filtered set can take a place).
        """
        import faiss

        q = _normalise(query)
        if self.index.ntotal == 0 or len(ids) == 0:
            return {}
        ids = np.asarray(ids, np.int64)
        if len(ids) <= SMALL_SET:
            sims = self.vectors_of(ids) @ q[0]
            return dict(zip(ids.tolist(), sims.astype(float).tolist()))
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        sims, found = self.index.search(q, min(keep, len(ids)), params=params)
        return {int(i): float(s) for i, s in zip(found[0], sims[0]) if i >= 0}


class Similarities:
    """Cosine similarities to a query within filtered sets of one space of a catalog.

    A small set (up to SMALL_SET ids, the usual camera + time window) reads its vectors from
    DuckDB by id; only a large one loads the FAISS index, whose flat file holds every vector of
    the space (gigabytes at millions of sightings) and would dominate a small search.
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
            return self._index.similarities(query, ids, keep)
        rows = self.catalog.db.execute(
            "SELECT sighting_id, vector FROM embeddings WHERE space = ? AND sighting_id IN "
            "(SELECT unnest(?::BIGINT[]))", [self.space, ids.tolist()]).fetchnumpy()
        if not len(rows["sighting_id"]):
            return {}
        sims = _normalise(_stack(rows["vector"])) @ _normalise(query)[0]
        return dict(zip(rows["sighting_id"].tolist(), sims.astype(float).tolist()))


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
