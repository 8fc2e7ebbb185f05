"""The catalog keeps a file's results whole or not at all."""

from __future__ import annotations

from datetime import datetime

import pytest

from relecture.catalog import Catalog
from relecture.footage import Recording
from relecture.indexer.pipeline import index_frames
from relecture.settings import Home
from tests.fakes import ColourBlobDetector, fake_describer, moving_square_frames, older_catalog


def make_recording(tmp_path, sha="a" * 64) -> Recording:
    return Recording(path=tmp_path / "CAM1_20230130T140000.mp4", sha256=sha, size_bytes=10,
                     camera="1", start_local=datetime(2023, 1, 30, 14), tz="Europe/Paris",
                     clock_offset_s=0.0, duration_s=5.0, fps=10, width=320, height=120,
                     codec="h264")


def result_with_two_sightings():
    frames = list(moving_square_frames(n=30))
    later = [f.__class__(index=f.index + 100, t=f.t + 10, image=f.image) for f in frames]
    return index_frames(frames + later, ColourBlobDetector(), fake_describer())


def test_sightings_are_stored_with_utc_times_and_reads(tmp_path):
    res = result_with_two_sightings()
    assert len(res.sightings) == 2
    with Catalog(Home(tmp_path / "h")) as cat:
        ids = cat.add_recording(make_recording(tmp_path), list(res.sightings), [], "job", 60, 10)
        rows = cat.sightings_of("a" * 64)
        reads = cat.db.execute("SELECT count(*) FROM plate_reads").fetchone()[0]
    assert [r["sighting_id"] for r in rows] == ids
    # 14:00 in Paris in January is 13:00 UTC
    assert rows[0]["first_utc"] == datetime(2023, 1, 30, 13, 0, 0)
    assert rows[1]["first_utc"] >= datetime(2023, 1, 30, 13, 0, 10)
    assert reads >= 2 and all((tmp_path / "h" / "thumbnails" / r["thumbnail"]).is_file() for r in rows)


@pytest.mark.parametrize("failure", [RuntimeError("disk gone"), KeyboardInterrupt()])
def test_a_failure_mid_file_leaves_no_partial_rows(tmp_path, monkeypatch, failure):
    res = result_with_two_sightings()
    home = Home(tmp_path / "h")
    calls = []
    original = Catalog._insert_sighting

    def fail_on_second(self, rec, s, thumb):
        calls.append(s)
        if len(calls) == 2:
            raise failure
        return original(self, rec, s, thumb)

    with Catalog(home) as cat:
        monkeypatch.setattr(Catalog, "_insert_sighting", fail_on_second)
        with pytest.raises(type(failure)):
            cat.add_recording(make_recording(tmp_path), list(res.sightings), [], "job", 60, 10)
        monkeypatch.setattr(Catalog, "_insert_sighting", original)
        assert not cat.has_recording("a" * 64)
        assert cat.db.execute("SELECT count(*) FROM sightings").fetchone()[0] == 0
        # the next run redoes the file completely
        cat.add_recording(make_recording(tmp_path), list(res.sightings), [], "job", 60, 10)
        assert len(cat.sightings_of("a" * 64)) == 2


def test_read_only_open_of_a_missing_catalog_says_what_to_do(tmp_path):
    from relecture.errors import NotFound

    with pytest.raises(NotFound, match="relecture index"):
        Catalog(Home(tmp_path / "none"), read_only=True)


def test_an_older_catalog_is_migrated_and_its_rows_rank_by_name_and_alt(tmp_path):
    """A catalog written before colour distributions were kept: searchable read-only as it
    is, given the column by its next writable open; its rows fall back to name and alt."""
    from dataclasses import replace

    from relecture.search import parse_query, search
    from relecture.sightings import ColourResult

    home = Home(tmp_path / "h")
    older_catalog(home, "black", "grey")  # without colour_p
    now = datetime(2023, 1, 31, 12)
    with Catalog(home, read_only=True) as cat:
        res = search(cat, parse_query("voiture grise", now), 10)
    # grey 0.3 as the second choice, and a quarter of black 0.7 (its neighbour)
    assert [h.colour_p for h in res.hits] == [0.48]
    assert res.hits[0].reasons == ("colour grey 0.30 (+ 0.25 x black 0.70) = 0.48",)

    dark = ColourResult("black", 0.6, distribution=(("black", 0.55), ("grey", 0.45)))
    new = [replace(s, colour=dark) for s in result_with_two_sightings().sightings]
    with Catalog(home) as cat:  # the writable open migrates
        cat.add_recording(make_recording(tmp_path), new, [], "job", 60, 10)
        stored = cat.db.execute("SELECT colour, colour_p.grey FROM sightings ORDER BY "
                                "sighting_id").fetchall()
        res = search(cat, parse_query("voiture grise", now), 10)
    assert stored == [("black", None), ("black", 0.45), ("black", 0.45)]
    assert [h.colour_p for h in res.hits] == [0.59, 0.59, 0.48]  # evidence, not the name
