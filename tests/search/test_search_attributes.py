"""Body style and direction of travel rank hits (evidence), filter only with --strict, show
on hits, and older catalogs without them still search."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from relecture.catalog import Catalog, body_p_value
from relecture.indexer.body_style import SHOWN_AT
from relecture.search import merge_flags, parse_query, search
from relecture.search.render import HEADERS, contact_sheet, table_rows, to_json
from relecture.settings import Home
from relecture.sightings import TypeResult
from tests.fakes import older_catalog
from tests.search.test_search_engine import NOW, Catalogue


@pytest.fixture
def cat(tmp_path):
    c = Catalogue(tmp_path / "home")
    yield c
    c.cat.close()


def add(cat, minute, body=None, travel=None, vtype="car"):
    sid = cat.add(utc=(2023, 1, 30, 7, minute), vtype=vtype)
    if body is not None:
        cat.cat.db.execute("UPDATE sightings SET body_p = ? WHERE sighting_id = ?",
                           [body_p_value(TypeResult(vtype, 0.8, tuple(body.items()))), sid])
    if travel is not None:
        entry, exit_, motion = travel
        cat.cat.db.execute("UPDATE sightings SET travel = ? WHERE sighting_id = ?",
                           [{"entry": entry, "exit": exit_, "motion": motion,
                             "motion_conf": 0.9}, sid])
    return sid


def run(cat, text, strict=False, limit=50):
    return search(cat.cat, merge_flags(parse_query(text, NOW), strict=strict), limit)


def ids(res):
    return [h.sighting_id for h in res.hits]


def test_a_style_ranks_by_its_probability_and_filters_only_when_strict(cat):
    plain = add(cat, 0, body={"taxi": 0.02, "estate": 0.3})
    taxi = add(cat, 5, body={"taxi": 0.42})
    unknown = add(cat, 1)  # indexed before styles were kept
    weak = add(cat, 2, body={"taxi": SHOWN_AT - 0.01})
    res = run(cat, "taxi")
    assert "body taxi (ranked by style likelihood, not a filter)" in res.understood
    assert ids(res) == [taxi, weak, plain, unknown]
    assert res.hits[0].attr_p == 0.42 and res.hits[0].reasons == ("style taxi 0.42",)
    assert res.hits[0].body == (("taxi", 0.42),)
    assert res.hits[2].body == (("estate", 0.3),)  # shown: what the classifier saw
    strict = run(cat, "taxi", strict=True)
    assert ids(strict) == [taxi] and "body taxi only (strict)" in strict.understood


def test_away_ranks_away_then_unknown_then_towards(cat):
    towards = add(cat, 0, travel=("inside", "bottom", "towards"))
    away = add(cat, 9, travel=("bottom", "inside", "away"))
    unsure = add(cat, 3, travel=("left", "right", None))
    old = add(cat, 4)
    res = run(cat, "voiture qui s'éloigne")
    assert "away from the camera (ranked by direction of travel, not a filter)" in res.understood
    assert ids(res) == [away, unsure, old, towards]
    assert [h.attr_p for h in res.hits] == [1.0, 0.5, 0.5, 0.0]
    assert res.hits[0].reasons == ("direction away · in bottom edge → vanished inside "
                                   "(asked away)",)
    assert ids(run(cat, "voiture qui s'éloigne", strict=True)) == [away]
    assert ids(run(cat, "towards the camera", strict=True)) == [towards]


def test_an_exit_side_ranks_that_side_first_and_inside_as_unknown(cat):
    right = add(cat, 0, travel=("left", "right", None))
    left = add(cat, 5, travel=("right", "left", "towards"))
    inside = add(cat, 1, travel=("bottom", "inside", "away"))
    assert ids(run(cat, "sortant à gauche")) == [left, inside, right]
    assert ids(run(cat, "leaving left", strict=True)) == [left]
    # entered by the right: `left`; the others entered by the left and the bottom (then time)
    assert ids(run(cat, "entrant par la droite")) == [left, right, inside]


def test_style_and_direction_multiply(cat):
    away_taxi = add(cat, 0, body={"taxi": 0.4}, travel=("bottom", "top", "away"))
    towards_taxi = add(cat, 1, body={"taxi": 0.8}, travel=("top", "bottom", "towards"))
    res = run(cat, "taxi qui s'éloigne")
    assert ids(res) == [away_taxi, towards_taxi]
    assert [h.attr_p for h in res.hits] == [0.4, 0.0]


def test_hits_show_style_and_direction_in_table_json_and_html(cat):
    sid = add(cat, 0, body={"taxi": 0.42, "estate": 0.01}, travel=("bottom", "inside", "away"))
    res = run(cat, "taxi")
    row = dict(zip(HEADERS, table_rows(res)[0]))
    assert row["style"] == "taxi 0.42 [asked: taxi 0.42]"
    assert row["direction"] == "away · in bottom edge → vanished inside"
    hit = json.loads(to_json(res))["hits"][0]
    assert hit["sighting_id"] == sid and hit["body"] == [["taxi", 0.42]]
    assert hit["travel"]["motion"] == "away"
    assert "direction away · in bottom edge → vanished inside" in contact_sheet(res)


def test_an_older_catalog_without_the_columns_still_opens_and_searches(tmp_path):
    home = Home(tmp_path / "h")
    older_catalog(home, "black")  # no colour_p, body_p nor travel
    now = datetime(2023, 1, 31, 12)
    with Catalog(home, read_only=True) as cat:
        res = search(cat, parse_query("taxi noir qui s'éloigne sortant à gauche", now), 10)
        assert [(h.body, h.travel, h.attr_p) for h in res.hits] == [((), None, 0.0)]
        strict = search(cat, merge_flags(parse_query("voiture qui s'éloigne", now),
                                         strict=True), 10)
        assert strict.hits == ()
    with Catalog(home) as cat:  # the writable open adds the columns, older rows NULL
        stored = cat.db.execute("SELECT body_p, travel FROM sightings").fetchall()
        res = search(cat, parse_query("voiture qui s'éloigne", now), 10)
    assert stored == [(None, None)] and [h.attr_p for h in res.hits] == [0.5]
