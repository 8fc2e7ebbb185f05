"""The engine filters in DuckDB, then ranks: exact before approximate, nothing lost to top-k."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from relecture.catalog import Catalog, colour_p_value
from relecture.errors import NotFound
from relecture.search import describe, merge_flags, parse_query, search
from relecture.search.render import contact_sheet, to_json, table_rows
from relecture.settings import Home
from relecture.sightings import ColourResult

NOW = datetime(2023, 1, 31, 12, 0, tzinfo=timezone.utc)  # 13:00 in Paris


class Catalogue:
    """A tiny catalog written row by row (no footage needed)."""

    def __init__(self, root):
        self.cat = Catalog(Home(root))
        self.next_id = 1
        self.add_recording("rec3", "3")
        self.add_recording("rec12", "12")
        self.add_recording("recNY", "7", tz="America/New_York")

    def add_recording(self, rid, camera, tz="Europe/Paris", offset=0.0):
        self.cat.db.execute(
            "INSERT INTO recordings (recording_id, path, camera, tz, clock_offset_s) VALUES (?,?,?,?,?)",
            [rid, f"/footage/{rid}.mp4", camera, tz, offset])

    def add(self, camera="3", utc=(2023, 1, 30, 7, 10), seconds=8, vtype="car", colour="white",
            alt=None, plate=None, plate_conf=0.9, reads=(), vector=None, space="clip-test",
            colour_p=None):
        sid = self.next_id
        self.next_id += 1
        rec = {"3": "rec3", "12": "rec12", "7": "recNY"}[camera]
        first = datetime(*utc)
        last = first + timedelta(seconds=seconds)
        self.cat.db.execute(
            "INSERT INTO sightings (sighting_id, recording_id, camera, track_id, first_t, last_t, "
            "first_utc, last_utc, vehicle_type, type_conf, colour, colour_conf, colour_alt, "
            "plate, plate_conf, best_t, thumbnail, embedding_space) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [sid, rec, camera, sid, 10.0, 10.0 + seconds, first, last, vtype, 0.8, colour, 0.7,
             alt, plate, plate_conf if plate else None, 12.0, None,
             space if vector is not None else None])
        if colour_p is not None:
            self.cat.db.execute("UPDATE sightings SET colour_p = ? WHERE sighting_id = ?",
                                [colour_p_value(ColourResult(colour, 0.7, distribution=tuple(
                                    colour_p.items()))), sid])
        for text, conf in reads:
            self.cat.db.execute("INSERT INTO plate_reads VALUES (?, 11.0, ?, ?, 0, 0, 1, 1, 'test')",
                                [sid, text, conf])
        if vector is not None:
            self.cat.db.execute("INSERT INTO embeddings VALUES (?, ?, ?)", [sid, space, list(vector)])
        return sid


@pytest.fixture
def cat(tmp_path):
    c = Catalogue(tmp_path / "home")
    yield c
    c.cat.close()


def run(cat, text, limit=50, **kw):
    return search(cat.cat, parse_query(text, NOW), limit, **kw)


def ids(result):
    return [h.sighting_id for h in result.hits]


def test_camera_time_type_and_colour_filters(cat):
    want = cat.add(camera="3", utc=(2023, 1, 30, 7, 30), vtype="van", colour="white")  # 8:30 Paris
    cat.add(camera="12", utc=(2023, 1, 30, 7, 30), vtype="van", colour="white")  # other camera
    cat.add(camera="3", utc=(2023, 1, 30, 9, 30), vtype="van", colour="white")  # 10:30 Paris
    bus = cat.add(camera="3", utc=(2023, 1, 30, 7, 40), vtype="bus", colour="white")
    blue = cat.add(camera="3", utc=(2023, 1, 30, 7, 25), vtype="van", colour="blue")
    res = run(cat, "camionnette blanche caméra 3 hier 8h-9h")
    # colour and type rank, they do not filter: another type (maybe a misnamed van) comes
    # after every van, whatever its colour
    assert ids(res) == [want, blue, bus] and res.total == 3
    assert "other type bus (after the types asked)" in res.hits[2].reasons
    strict = search(cat.cat, merge_flags(parse_query("camionnette blanche caméra 3 hier 8h-9h",
                                                     NOW), strict=True), 50)
    assert ids(strict) == [want] and strict.total == 1  # --strict: only the type and colour asked
    assert res.hits[0].first_camera_time == datetime(2023, 1, 30, 8, 30)
    assert res.hits[0].recording_path == "/footage/rec3.mp4"


def test_a_sighting_overlapping_the_window_edge_is_found(cat):
    # 7:59:55 to 8:00:05 Paris: starts before "8h-9h" but is still in view at 8:00
    sid = cat.add(utc=(2023, 1, 30, 6, 59, 55), seconds=10)
    cat.add(utc=(2023, 1, 30, 6, 59, 40), seconds=10)  # gone before 8:00
    assert ids(run(cat, "hier 8h-9h")) == [sid]


def test_windows_are_read_in_each_cameras_time_zone(cat):
    ny = cat.add(camera="7", utc=(2023, 1, 30, 13, 30))  # 8:30 in New York
    paris = cat.add(camera="3", utc=(2023, 1, 30, 7, 30))  # 8:30 in Paris
    assert sorted(ids(run(cat, "hier 8h-9h"))) == sorted([ny, paris])


def test_exact_plate_ranks_before_fuzzy_and_confusions_are_tolerated(cat):
    fuzzy = cat.add(plate="AB128CD", plate_conf=0.99)  # one real error
    confused = cat.add(plate="A8123CD", plate_conf=0.95)  # 8/B confusion
    exact_in_reads = cat.add(plate="XX999XX", plate_conf=0.99, reads=[("AB123CD", 0.30)])
    cat.add(plate="ZZ777ZZ", reads=[("QQ111QQ", 0.9)])  # unrelated
    res = run(cat, "plaque AB-123-CD")
    assert ids(res) == [exact_in_reads, confused, fuzzy]
    assert res.hits[0].matched_read == "AB123CD" and res.hits[0].plate_distance == 0


def test_one_edit_reads_in_either_half_are_found_and_exact_ranks_first(cat):
    """The LIKE prefilter splits the pattern in two halves: an edit in either one, an
    insertion, a deletion, stacked confusions, and a plate with no reads are all found."""
    exact = cat.add(plate=None, reads=[("FG373JK", 0.1)])  # low confidence, still first
    early = cat.add(plate="ZZ000ZZ", reads=[("FXG373JK", 0.9)])  # insertion in the first half
    late = cat.add(plate="ZZ000ZZ", reads=[("FG3733JK", 0.9)])  # insertion in the second half
    dropped = cat.add(plate="FG37JK", plate_conf=0.9)  # no reads at all: the voted plate counts
    misread = cat.add(plate=None, reads=[("EG373JK", 0.95)])
    confused = cat.add(plate=None, reads=[("F6373JK", 0.5)])
    cat.add(plate="FG37JKK", reads=[("XFG37JK", 0.9)])  # two edits: not offered
    cat.add(plate="QQ373QQ")
    res = run(cat, "plaque FG-373-JK")
    assert ids(res)[:2] == [exact, confused]
    assert set(ids(res)[2:]) == {early, late, dropped, misread} and res.total == 6
    assert res.hits[0].plate_distance == 0 and all(h.plate_distance == 1.0 for h in res.hits[2:])


def test_plate_search_respects_camera_and_time_filters(cat):
    """Reads are scanned only within the filtered sightings' ids: nothing outside leaks in,
    nothing inside is lost."""
    cat.add(camera="3", utc=(2023, 1, 29, 7, 0), reads=[("AB123CD", 0.9)])  # day before
    inside = cat.add(camera="3", utc=(2023, 1, 30, 7, 0), reads=[("AB12CD", 0.9)])
    cat.add(camera="12", utc=(2023, 1, 30, 7, 5), reads=[("AB123CD", 0.9)])  # other camera
    cat.add(camera="3", utc=(2023, 1, 31, 7, 0), reads=[("AB123CD", 0.9)])  # day after
    res = run(cat, "plaque AB-123-CD caméra 3 hier")
    assert ids(res) == [inside] and res.total == 1


def test_partial_plate_pattern_with_wildcards(cat):
    a = cat.add(plate="AB153CD")
    b = cat.add(plate="AB173XY")
    cat.add(plate="AC173XY")
    assert sorted(ids(run(cat, "AB-1?3-*"))) == sorted([a, b])


def test_old_format_plate(cat):
    sid = cat.add(plate="1234AB56")
    cat.add(plate="1234AB57" + "9")
    assert ids(run(cat, "plate 1234 AB 56"))[0] == sid


def test_rows_without_a_distribution_rank_by_name_then_second_choice_then_neighbour(cat):
    neighbour = cat.add(colour="silver", utc=(2023, 1, 30, 7, 0))
    second = cat.add(colour="blue", alt="white", utc=(2023, 1, 30, 7, 1))
    exact = cat.add(colour="white", utc=(2023, 1, 30, 7, 2))
    red = cat.add(colour="red")
    res = run(cat, "voiture blanche")
    assert ids(res) == [exact, second, neighbour, red]
    assert [h.colour_p for h in res.hits] == [1.0, 0.3, 0.25, 0.0]
    assert res.hits[0].score > res.hits[1].score > res.hits[2].score > res.hits[3].score


def test_a_grey_query_ranks_a_dark_grey_named_black_above_a_white_car(cat):
    white = cat.add(colour="white", colour_p={"white": 0.8, "silver": 0.2},
                    utc=(2023, 1, 30, 7, 0))
    dark = cat.add(colour="black", colour_p={"black": 0.5, "grey": 0.4, "blue": 0.1},
                   utc=(2023, 1, 30, 7, 5))
    red = cat.add(colour="red", colour_p={"red": 0.9, "grey": 0.1}, utc=(2023, 1, 30, 6, 0))
    res = run(cat, "voiture grise")
    assert ids(res) == [dark, white, red]
    assert res.hits[0].reasons == ("colour grey 0.40 (+ 0.25 x black 0.50) = 0.53",)
    assert "grey 0.00 (+ 0.25 x silver 0.20, white 0.80) = 0.25" in res.hits[1].reasons[0]
    assert table_rows(res)[0][4] == "black: grey 0.40 (+ 0.25 x black 0.50) = 0.53"  # why
    strict = search(cat.cat, merge_flags(parse_query("voiture grise", NOW), strict=True), 50)
    assert ids(strict) == []  # none is named grey


def test_grey_and_black_reach_each_other_as_neighbours(cat):
    """Dark grey is named black and glossy black grey under CCTV light: each query offers
    the other after its own colour, before unrelated colours."""
    black = cat.add(colour="black", colour_p={"black": 1.0}, utc=(2023, 1, 30, 7, 0))
    grey = cat.add(colour="grey", colour_p={"grey": 1.0}, utc=(2023, 1, 30, 7, 1))
    red = cat.add(colour="red", colour_p={"red": 1.0}, utc=(2023, 1, 30, 7, 2))
    assert ids(run(cat, "voiture grise")) == [grey, black, red]
    res = run(cat, "voiture noire")
    assert ids(res) == [black, grey, red]
    assert res.hits[1].reasons == ("colour black 0.00 (+ 0.25 x grey 1.00) = 0.25",)


def test_van_query_offers_cars_after_vans(cat):
    car = cat.add(vtype="car", utc=(2023, 1, 30, 7, 0))
    van = cat.add(vtype="van", utc=(2023, 1, 30, 7, 5))
    bus = cat.add(vtype="bus", utc=(2023, 1, 30, 6, 0))  # earlier, but of another type
    assert ids(run(cat, "utilitaire")) == [van, car, bus]
    page = run(cat, "utilitaire", limit=2)  # a page the types asked fill: no other type read
    assert ids(page) == [van, car] and page.total == 3
    assert ids(run(cat, "utilitaire", limit=3)) == [van, car, bus]
    strict = search(cat.cat, merge_flags(parse_query("utilitaire", NOW), strict=True), 50)
    assert ids(strict) == [van, car]  # --strict: the type asked and its neighbour only


def test_a_match_is_not_lost_behind_top_k(cat):
    for i in range(60):
        cat.add(colour="white", utc=(2023, 1, 29, 7, i % 60), vector=[1, 0, 0])
    target = cat.add(colour="white", utc=(2023, 1, 30, 7, 0), plate="EF456GH", vector=[1, 0, 0])
    assert ids(run(cat, "blanc EF456GH", limit=1)) == [target]
    # the one red among many whites is found even when the limit is small
    red = cat.add(colour="red", utc=(2023, 1, 28, 7, 0), vector=[0, 1, 0])
    assert ids(run(cat, "rouge", limit=1)) == [red]


def test_a_large_colour_ranking_gives_the_same_page_as_ranking_every_sighting(cat, monkeypatch):
    # a whole-catalog colour query first ranks only the strongly red sightings (engine.
    # BOUNDED_ASKED); the page must be the one ranking every sighting gives, whichever
    # sightings fill it: named red without a distribution, red with an orange share (more
    # evidence than red alone), red just under the bound, or too few strong reds at all
    from relecture.search import engine

    for minute, dist in enumerate([{"red": 0.95, "orange": 0.05}, {"red": 0.97}, {"red": 0.89, "orange": 0.11},
                                   {"red": 0.6, "grey": 0.4}, {"red": 0.92, "black": 0.08},
                                   {"grey": 0.9, "red": 0.1}, {"red": 0.99}, {"red": 0.94}]):
        cat.add(colour=max(dist, key=dist.get), colour_p=dist, utc=(2023, 1, 30, 7, minute))
    cat.add(colour="red", utc=(2023, 1, 30, 8, 0))  # no distribution: evidence 1.0 by name
    cat.add(colour="red", alt="orange", utc=(2023, 1, 30, 8, 1))  # 0.7 + 0.25 x 0.3
    cat.add(colour="red", colour_p={"red": 0.98}, vtype="bus", utc=(2023, 1, 30, 6, 0))
    for limit in (1, 3, 5, 6, 8, 20):
        monkeypatch.setattr(engine, "BOUNDED_FROM", 10**9)
        everything = run(cat, "voiture rouge", limit=limit)
        monkeypatch.setattr(engine, "BOUNDED_FROM", 0)
        bounded = run(cat, "voiture rouge", limit=limit)
        assert ids(bounded) == ids(everything), limit
        assert [h.colour_p for h in bounded.hits] == [h.colour_p for h in everything.hits]
    assert [h.colour_p for h in everything.hits][:4] == [1.0, 0.99, 0.97, 0.96]


class Encoder:
    space = "clip-test"

    def embed_text(self, texts):
        return np.array([[0.0, 1.0, 0.0] if "roof" in t else [1.0, 0.0, 0.0] for t in texts])


def test_free_text_ranks_by_embedding_within_the_filter(cat):
    plain = cat.add(colour="white", vector=[1, 0, 0], utc=(2023, 1, 30, 7, 0))
    roof = cat.add(colour="white", vector=[0.1, 1, 0], utc=(2023, 1, 30, 7, 5))
    red = cat.add(colour="red", vector=[0, 1, 0])  # more similar, but red
    res = run(cat, "voiture blanche avec galerie roof rack", text_encoder=Encoder())
    assert ids(res) == [roof, plain, red] and not res.notes


def test_free_text_without_a_text_model_says_so_and_still_returns_hits(cat):
    sid = cat.add(colour="white", vector=[1, 0, 0])
    res = run(cat, "voiture blanche roof rack")
    assert ids(res) == [sid]
    assert len(res.notes) == 1 and "not used for ranking" in res.notes[0]


def test_like_sighting_ranks_by_similarity_and_excludes_itself(cat):
    ref = cat.add(vector=[1, 0, 0])
    near = cat.add(vector=[0.9, 0.1, 0], utc=(2023, 1, 30, 8, 0))
    far = cat.add(vector=[0, 0, 1], utc=(2023, 1, 30, 7, 0))
    no_vec = cat.add(utc=(2023, 1, 30, 6, 0))
    assert ids(run(cat, f"comme #{ref}")) == [near, far, no_vec]
    with pytest.raises(NotFound):
        run(cat, "like #999")


def test_unknown_camera_is_reported_not_ignored(cat):
    cat.add(camera="3")
    res = run(cat, "caméra 99")
    assert res.hits == () and "99" in res.notes[0]
    assert len(run(cat, "camera 03").hits) == 1  # leading zeros do not matter


def test_flags_override_text(cat):
    sid = cat.add(camera="12", colour="red")
    cat.add(camera="3", colour="red")
    q = merge_flags(parse_query("rouge caméra 3", NOW), cameras=["12"])
    assert ids(search(cat.cat, q, 10)) == [sid] and "camera 12" in describe(q)


def test_renderers(cat, tmp_path):
    thumb = cat.cat.thumbnail_path("t.jpg")
    thumb.write_bytes(b"\xff\xd8fakejpeg")
    sid = cat.add(colour="white", plate="AB123CD")
    cat.cat.db.execute("UPDATE sightings SET thumbnail = 't.jpg' WHERE sighting_id = ?", [sid])
    res = run(cat, "blanc plaque AB123CD")
    html = contact_sheet(res)
    assert "data:image/jpeg;base64," in html and "AB123CD" in html and "@media print" in html
    assert "colour white 1.00" in html and '"colour_p": 1.0' in to_json(res)
    assert res.understood in html and "src=\"/" not in html
    assert '"sighting_id": %d' % sid in to_json(res)
    assert table_rows(res)[0][0] == str(sid)
