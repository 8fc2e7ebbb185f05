"""The FAISS cache follows the DuckDB embeddings table: built, extended, rebuilt when behind."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from relecture.catalog import Catalog
from relecture.indexer.job import Archive, JobOptions, run_job
from relecture.search import vectors
from relecture.settings import Home
from relecture.search.vectors import VectorIndex, refresh_indexes
from tests.archive_fakes import fake_components, make_archive


def _unit(v):
    v = np.asarray(v, np.float32) + 1.0
    return v / np.linalg.norm(v)


class _MeanColour:
    """An embedder for the fake pipeline: a crop's mean colour as its vector."""

    space = "mean-colour"

    def embed_images(self, crops):
        return np.stack([_unit(c.reshape(-1, 3).mean(axis=0)) for c in crops])


def _with_embedder(config, threads=None):
    """The fake components, embedding every sighting."""
    detector, describer = fake_components(config, threads)
    return detector, replace(describer, embedder=_MeanColour())


def _add(cat, sid, vector, space="s"):
    cat.db.execute("INSERT INTO embeddings VALUES (?, ?, ?)", [sid, space, list(vector)])


def test_index_builds_syncs_and_rebuilds(tmp_path):
    with Catalog(Home(tmp_path / "h")) as cat:
        _add(cat, 1, [1, 0, 0])
        _add(cat, 2, [0, 2, 0])
        _add(cat, 3, [5, 5, 5], space="other")
        idx = VectorIndex.open(cat, "s")
        assert idx.index.ntotal == 2
        assert (tmp_path / "h" / "vectors" / "s.faiss").is_file()
        sims = idx.similarities(np.array([0, 1, 0]), np.array([1, 2]), keep=2)
        assert sims[2] > 0.99 and abs(sims[1]) < 1e-6  # cosine: the stored norm does not matter

        _add(cat, 4, [0, 0, 1])  # new row: added to the cached index
        assert VectorIndex.open(cat, "s").index.ntotal == 3

        cat.db.execute("DELETE FROM embeddings WHERE sighting_id = 1")  # purge: rebuilt
        idx = VectorIndex.open(cat, "s")
        assert idx.index.ntotal == 2 and set(idx.similarities(np.ones(3), np.array([2, 4]), 2)) == {2, 4}


def test_selector_keeps_ranking_inside_the_filtered_set(tmp_path, monkeypatch):
    monkeypatch.setattr("relecture.search.vectors.SMALL_SET", 10)  # take the FAISS selector path
    n = 200
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    with Catalog(Home(tmp_path / "h")) as cat:
        cat.db.executemany("INSERT INTO embeddings VALUES (?, 's', ?)",
                           [(i + 1, v.tolist()) for i, v in enumerate(vectors)])
        idx = VectorIndex.open(cat, "s")
        query = vectors[0]
        allowed = np.arange(2, n + 1, 2)  # even ids only: id 1 (the query itself) is excluded
        sims = idx.similarities(query, allowed, keep=5)
        assert len(sims) == 5 and all(i % 2 == 0 for i in sims)
        normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        expected = allowed[np.argsort(-(normed[allowed - 1] @ normed[0]))[:5]]
        assert list(sorted(sims, key=sims.get, reverse=True)) == expected.tolist()


def test_small_filtered_sets_are_ranked_from_the_catalog_without_loading_the_index(
        tmp_path, monkeypatch):
    from relecture.search.vectors import Similarities

    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    with Catalog(Home(tmp_path / "h")) as cat:
        cat.db.executemany("INSERT INTO embeddings VALUES (?, 's', ?)",
                           [(i + 1, v.tolist()) for i, v in enumerate(vectors)])
        wanted = np.array([3, 7, 11, 49])
        from_index = VectorIndex.open(cat, "s").similarities(vectors[0], wanted, keep=4)
        opened = []
        monkeypatch.setattr(VectorIndex, "open", classmethod(lambda cls, *a: opened.append(a)))
        from_catalog = Similarities(cat, "s")(vectors[0], wanted, keep=4)
        assert opened == []  # a camera + time window never reads the whole space's index
        assert from_catalog.keys() == from_index.keys()
        for sid, sim in from_index.items():
            assert abs(from_catalog[sid] - sim) < 1e-5
        assert Similarities(cat, "s")(vectors[0], np.array([999]), keep=1) == {}


def _insert(cat, first_id: int, vectors: np.ndarray) -> None:
    cat.db.execute("INSERT INTO embeddings SELECT unnest(?::BIGINT[]), 's', unnest(?::FLOAT[][])",
                   [list(range(first_id, first_id + len(vectors))), vectors.tolist()])


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Vectors around 50 centres, as embeddings of many look-alike vehicles are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    return (centres[rng.integers(0, 50, n)] + 0.5 * rng.normal(size=(n, dim))).astype(np.float32)


def test_a_large_space_is_compressed_and_its_similarities_stay_exact(tmp_path):
    n, dim = 5_000, 32
    vectors = _clustered(n, dim, seed=2)
    normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    with Catalog(Home(tmp_path / "h")) as cat:
        _insert(cat, 1, vectors)
        idx = VectorIndex.open(cat, "s", compress_from=1_000)
        assert idx.compressed and idx.index.ntotal == n
        # far smaller than flat float32 (a 32-d vector: 128 bytes)
        assert (tmp_path / "h" / "vectors" / "s.faiss").stat().st_size < n * 4 * dim / 4
        found = 0
        for q in range(0, 200, 10):
            sims = idx.similarities(vectors[q], None, keep=10)
            exact = np.argsort(-(normed @ normed[q]))[:10] + 1
            found += len(set(sims) & set(exact.tolist()))
            for sid, sim in sims.items():  # rescored on the catalog's vectors
                assert abs(sim - float(normed[sid - 1] @ normed[q])) < 1e-5
        assert found / 200 >= 0.9  # recall@10 against an exact search
        odd = np.arange(1, n + 1, 2)
        assert all(i % 2 for i in idx.similarities(vectors[1], odd, keep=10))

        more = _clustered(100, dim, seed=3)
        _insert(cat, n + 1, more)
        grown = VectorIndex.open(cat, "s", compress_from=1_000)
        assert grown.compressed and grown.index.ntotal == n + 100  # added, not retrained
        assert n + 1 in grown.similarities(more[0], None, keep=5)

        cat.db.execute("DELETE FROM embeddings WHERE sighting_id > 500")  # purged below the bar
        small = VectorIndex.open(cat, "s", compress_from=1_000)
        assert not small.compressed and small.index.ntotal == 500


def test_refresh_brings_large_spaces_up_to_date_and_leaves_small_ones(tmp_path):
    home = Home(tmp_path / "h")
    with Catalog(home) as cat:
        _add(cat, 1, [1, 0, 0])
        _add(cat, 2, [0, 1, 0])
        _add(cat, 3, [5, 5, 5], space="other")
        assert refresh_indexes(cat, min_vectors=1) == ["s"]  # "other" holds one: searches read it
        _add(cat, 4, [0, 0, 1])
        refresh_indexes(cat, min_vectors=1)
    state = json.loads((home.vectors_dir / "s.json").read_text())
    assert state["count"] == 3 and state["max_id"] == 4
    assert not (home.vectors_dir / "other.faiss").exists()


def test_an_index_job_leaves_the_vector_index_current(tmp_path, monkeypatch):
    # a nightly load ends with the index searches load up to date, so the first large
    # "like" after it has nothing to add
    monkeypatch.setattr(vectors, "SMALL_SET", 0)  # every space counts as large here
    home, root = Home(tmp_path / "h"), tmp_path / "nvr"
    make_archive(root, cameras=1, files=2)
    report = run_job(Archive(root), home, "test-operator",
                     JobOptions(settle_s=0, recheck_s=0, factory=_with_embedder))
    assert report.vectors == "vector indexes up to date: mean-colour"
    with Catalog(home, read_only=True) as cat:
        counts = cat.db.execute("SELECT space, count(*) FROM embeddings GROUP BY space").fetchall()
    assert counts
    for space, count in counts:
        state = json.loads(vectors._files(home.vectors_dir, space)[1].read_text())
        assert state["count"] == count


def test_a_vector_index_that_cannot_be_written_leaves_the_index_job_whole(tmp_path, monkeypatch):
    # the indexes are a cache: a disk full while writing one is reported, and the job
    # that committed every file still ends as finished
    def disk_full(catalog, space, compress_from=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vectors, "SMALL_SET", 0)
    monkeypatch.setattr(vectors.VectorIndex, "open", disk_full)
    home, root = Home(tmp_path / "h"), tmp_path / "nvr"
    make_archive(root, cameras=1, files=1)
    report = run_job(Archive(root), home, "test-operator",
                     JobOptions(settle_s=0, recheck_s=0, factory=_with_embedder))
    assert report.count("indexed") == 1 and "not refreshed" in report.vectors
    assert "next large search rebuilds them" in report.as_dict()["vectors"]
    with Catalog(home, read_only=True) as cat:  # the job ended as finished, not interrupted
        assert cat.db.execute("SELECT status FROM index_jobs").fetchone() == ("finished",)
