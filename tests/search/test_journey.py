"""search/journey.py: link scoring and travel-time plausibility, with small fakes (no
catalog); journey_render's SVG from the JSON form; camera positions in site.toml."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from relecture.errors import UsageError
from relecture.requisitions.site import parse_site
from relecture.search import journey as jr
from relecture.search.journey_render import cameras_svg, timeline_svg

T0 = datetime(2023, 1, 30, 13, 0, 0)
# Two points about 1.07 km apart in Reims (straight line).
POSITIONS = {"12": (49.2535, 4.0290), "3": (49.2580, 4.0420)}


def seen(sid: int, camera: str, at_s: float, *, colour: str | dict = "red", vtype="car",
         plate: str | None = None, conf: float = 0.9, length_s: float = 3.0) -> jr.Seen:
    colours = {colour: 1.0} if isinstance(colour, str) else colour
    return jr.Seen(sid, camera, T0 + timedelta(seconds=at_s),
                   T0 + timedelta(seconds=at_s + length_s), vtype, colours, plate,
                   conf if plate else None, np.ones(3, np.float32), "t")


def test_haversine_is_about_a_kilometre_between_the_two_cameras():
    assert jr.haversine_m(POSITIONS["12"], POSITIONS["3"]) == pytest.approx(1070, abs=20)
    assert jr.haversine_m(POSITIONS["12"], POSITIONS["12"]) == 0.0


@pytest.mark.parametrize("gap_s,plausible", [
    (141, True),   # the sample's red car: 27 km/h on average
    (36, True),    # just above 1.07 km at 110 km/h (35 s)
    (34, True),    # within the clocks' slack
    (20, False),   # 190 km/h: not the same vehicle
    (-141, True),  # order does not matter to the check, only the time between
])
def test_travel_time_is_plausible_at_the_sites_top_speed(gap_s, plausible):
    travel = jr.TravelModel(POSITIONS, max_speed_kmh=110)
    a, b = seen(1, "12", 0), seen(2, "3", gap_s)
    ok, words = travel.check(a, b)  # -141: b before a
    assert ok is plausible, words
    assert "1.07 km" in words and "110 km/h" in words


def test_a_road_distance_replaces_the_straight_line():
    travel = jr.TravelModel(POSITIONS, {frozenset(("12", "3")): 3000.0}, max_speed_kmh=110)
    assert travel.distance_m("12", "3") == 3000.0 == travel.distance_m("3", "12")
    ok, words = travel.check(seen(1, "12", 0), seen(2, "3", 60))  # 3 km in 60 s: 180 km/h
    assert not ok and "3.00 km" in words


def test_without_positions_only_order_in_time_and_it_says_so():
    travel = jr.TravelModel()
    ok, words = travel.check(seen(1, "12", 0), seen(2, "3", 1))
    assert ok and "travel time not checked" in words
    assert not travel.known and jr.TravelModel(POSITIONS).known
    assert travel.distance_m("12", "12") == 0.0 and travel.distance_m("12", "3") is None


@pytest.mark.parametrize("start,other,expected", [
    ({"red": 1.0}, {"red": 1.0}, 1.0),
    ({"red": 1.0}, {"black": 1.0}, 0.0),
    ({"red": 1.0}, {"orange": 1.0}, 0.25),     # a neighbour counts as search counts it
    ({"white": 0.5, "silver": 0.5}, {"silver": 1.0}, 0.625),
    ({}, {"blue": 1.0}, 1.0),                  # unknown colour: no evidence either way
])
def test_colour_agreement(start, other, expected):
    assert jr.colour_agreement(start, other) == pytest.approx(expected)


@pytest.mark.parametrize("a,b,factor", [("car", "car", 1.0), ("car", "van", 0.7),
                                        ("car", "bus", 0.0), (None, "bus", 1.0)])
def test_type_factor(a, b, factor):
    assert jr.type_factor(a, b) == factor


@pytest.mark.parametrize("similarity,other,linked", [
    (0.93, seen(2, "3", 141), True),                     # the sample's red car: 0.82
    (0.70, seen(2, "3", 141), False),                    # any two cars are this close
    (0.99, seen(2, "3", 141, colour="black"), False),    # same shape, another colour
    (0.99, seen(2, "3", 141, vtype="bus"), False),       # another type
    (None, seen(2, "3", 141), False),                    # no comparable embedding
])
def test_appearance_link_needs_resemblance_colour_and_type(similarity, other, linked):
    link = jr.appearance_link(seen(1, "12", 0), other, similarity)
    assert (link is not None) is linked
    if link:
        assert link.by == "appearance" and jr.APPEARANCE_MIN <= link.score <= 1.0
        assert "similarity 0.93" in link.reason and "colour red" in link.reason


def test_plate_link_scores_as_search_does():
    exact = jr.plate_link(0.0, "GH482KT", 0.99, "GH482KT")
    near = jr.plate_link(0.25, "6H482KT", 0.8, "GH482KT")
    assert (exact.by, exact.score) == ("plate", 1.0) and "exact" in exact.reason
    assert near.score == pytest.approx(0.875) and "OCR distance 0.25" in near.reason


def test_another_plate_read_is_not_the_same_vehicle():
    a = seen(1, "12", 0, plate="GH482KT")
    assert jr.plates_differ(a, seen(2, "3", 60, plate="FA264PN"))
    assert not jr.plates_differ(a, seen(2, "3", 60, plate="6H482KT"))  # an OCR confusion
    assert not jr.plates_differ(a, seen(2, "3", 60))  # not read there
    assert not jr.plates_differ(a, seen(2, "3", 60, plate="FA264PN", conf=0.3))  # unsure


def test_assemble_puts_passages_in_time_order_and_drops_implausible_look_alikes():
    travel = jr.TravelModel(POSITIONS, max_speed_kmh=110)
    start = seen(1, "12", 100)
    before = seen(2, "3", 0)  # 100 s before the start on the other camera: plausible
    too_soon = seen(3, "3", 110)  # 10 s after: impossible for 1 km
    appearance = jr.Link("appearance", 0.8, "appearance: ...")
    passages, dropped = jr.assemble(start, [(too_soon, appearance), (before, appearance)],
                                    travel)
    assert [p.seen.sighting_id for p in passages] == [2, 1]
    assert [p.link.by for p in passages] == ["appearance", "start"]
    assert dropped == 1 and passages[0].travel is None and "1.07 km" in passages[1].travel


def test_a_plate_link_is_kept_when_implausible_and_says_so():
    travel = jr.TravelModel(POSITIONS, max_speed_kmh=110)
    passages, dropped = jr.assemble(seen(1, "12", 0), [
        (seen(2, "3", 10), jr.Link("plate", 1.0, "plate GH482KT: read GH482KT, exact"))], travel)
    assert dropped == 0 and [p.link.by for p in passages] == ["start", "plate"]
    assert passages[1].travel.startswith("IMPLAUSIBLE")


def test_the_better_link_wins_a_conflict_and_a_split_track_is_one_passage():
    travel = jr.TravelModel(POSITIONS, max_speed_kmh=110)
    start = seen(1, "12", 0)
    good = (seen(2, "3", 140), jr.Link("appearance", 0.9, "a"))
    clash = (seen(3, "3", 150), jr.Link("appearance", 0.6, "b"))  # 10 s after #2 on cam 3
    split = (seen(4, "12", 1), jr.Link("plate", 1.0, "c"))  # the start's own passage, split
    passages, _ = jr.assemble(start, [clash, split, good], travel)
    assert [p.seen.sighting_id for p in passages] == [1, 2]
    later = (seen(5, "3", 400), jr.Link("appearance", 0.6, "d"))  # camera 3 again, later
    passages, _ = jr.assemble(start, [clash, later, good], travel)
    assert [p.seen.sighting_id for p in passages] == [1, 2, 5]
    assert "camera 3 again" in passages[2].travel
    passages, _ = jr.assemble(start, [split], travel)
    assert [p.seen.sighting_id for p in passages] == [1]


def test_site_toml_places_cameras_and_refuses_bad_positions():
    site = parse_site('[cameras.12]\nlatitude = 49.2535\nlongitude = 4.0290\nlabel = "Erlon"\n'
                      '[cameras.3]\nlatitude = 49.258\nlongitude = 4.042\n'
                      '[[distances]]\ncameras = ["12", "3"]\nmetres = 1400\n'
                      '[journey]\nmax_speed_kmh = 90\n')
    travel = jr.TravelModel.from_site(site)
    assert travel.distance_m("12", "3") == 1400 and travel.max_speed_kmh == 90
    assert travel.labels["12"] == "Erlon"
    with pytest.raises(UsageError, match="latitude"):
        parse_site("[cameras.12]\nlatitude = 149.0\nlongitude = 4.0\n")
    with pytest.raises(UsageError, match="altitude"):
        parse_site("[cameras.12]\nlatitude = 49.0\nlongitude = 4.0\naltitude = 3\n")


def _passage(sid, camera, at, by):
    return {"sighting_id": sid, "camera": camera, "first_utc": at + "Z",
            "first_camera_time": at.replace("T", " "), "link": {"by": by, "score": 1.0}}


def test_svg_timeline_and_diagram_from_the_json_form():
    passages = [_passage(1, "12", "2023-01-30T13:00:01", "start"),
                _passage(6, "3", "2023-01-30T13:02:22", "plate")]
    timeline = timeline_svg(passages)
    assert timeline.count('class="passage"') == 2 and "camera 12" in timeline
    assert "+141 s" in timeline
    positions = {c: {"latitude": la, "longitude": lo, "label": ""}
                 for c, (la, lo) in POSITIONS.items()}
    diagram = cameras_svg(passages, positions)
    assert diagram.count('class="camera"') == 2 and diagram.count('class="leg"') == 1
    assert cameras_svg(passages, {}) == ""  # no positions: no diagram
    assert "http" not in diagram.replace("http://www.w3.org/2000/svg", "")


@pytest.fixture
def catalogue(tmp_path):
    from tests.search.test_search_engine import Catalogue

    c = Catalogue(tmp_path / "home")
    yield c
    c.cat.close()


def journey_from(catalogue, start_id):
    from relecture.requisitions.scope import Scope, TimeRange

    scope = Scope(("3", "12"), (TimeRange(datetime(2023, 1, 30), datetime(2023, 1, 31)),))
    return jr.find_journey(catalogue.cat, scope, jr.TravelModel(), start_id)


@pytest.mark.parametrize("start_conf,linked", [(0.9, True), (0.3, False)])
def test_only_a_sure_start_plate_links_by_plate(catalogue, start_conf, linked):
    start = catalogue.add(camera="3", utc=(2023, 1, 30, 7, 10), plate="AB123CD",
                          plate_conf=start_conf)
    later = catalogue.add(camera="12", utc=(2023, 1, 30, 7, 12), plate="AB123CD")
    found = journey_from(catalogue, start)
    assert [p.seen.sighting_id for p in found.passages] == ([start, later] if linked else [start])
    assert any("unsure read" in n for n in found.notes) is not linked


def test_more_plate_passages_than_read_says_so(catalogue, monkeypatch):
    monkeypatch.setattr(jr, "PLATE_LIMIT", 2)
    start = catalogue.add(camera="3", utc=(2023, 1, 30, 7, 0), plate="AB123CD")
    for minute in (10, 20, 30):
        catalogue.add(camera="12", utc=(2023, 1, 30, 7, minute), plate="AB123CD")
    found = journey_from(catalogue, start)
    assert len(found.passages) == 2  # the start and one more: 2 plate passages read
    assert any("4 passages match plate AB123CD: the 2 closest" in n for n in found.notes)


def test_only_the_most_alike_look_alikes_are_weighed_and_it_says_so(catalogue, monkeypatch):
    monkeypatch.setattr(jr, "APPEARANCE_LIMIT", 2)
    start = catalogue.add(camera="3", utc=(2023, 1, 30, 7, 0), colour="red", vector=[1.0, 0.0])
    alike = {}
    for minute, y in ((10, 0.1), (20, 0.5), (30, 0.3), (40, 0.7)):
        alike[y] = catalogue.add(camera="12", utc=(2023, 1, 30, 7, minute), colour="red",
                                 vector=[1.0, y])
    found = journey_from(catalogue, start)
    assert {p.seen.sighting_id for p in found.passages} == {start, alike[0.1], alike[0.3]}
    assert any("4 passages of other cameras in the window: only the 2 most alike" in n
               for n in found.notes)
