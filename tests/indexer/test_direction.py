"""Direction of travel from synthetic tracks: entry and exit sides, away or towards."""

from __future__ import annotations

import pytest

from relecture.indexer.direction import growth, touching, travel
from relecture.sightings import TrackBox, Travel

W, H = 640, 360


def track(*boxes):
    """TrackBoxes 0.2 s apart from (x1, y1, x2, y2) tuples."""
    return tuple(TrackBox(0.2 * i, tuple(float(v) for v in b), 0.8) for i, b in enumerate(boxes))


def shrinking_up(n=8, clip_bottom=True):
    """A car driving away up the picture: it enters cut by the bottom border and shrinks."""
    out = []
    for i in range(n):
        w = 200 * 0.8 ** i
        h = 150 * 0.8 ** i
        cx, bottom = 320, 400 - 40 * i
        y2 = min(H, bottom) if clip_bottom else bottom
        out.append((cx - w / 2, bottom - h, cx + w / 2, y2))
    return track(*out)


def growing_down_to_left(n=8):
    """An oncoming car: far up the picture, grows, comes down and leaves by the left border."""
    out = []
    for i in range(n):
        w, h = 30 * 1.3 ** i, 22 * 1.3 ** i
        cx, bottom = 300 - 35 * i, 120 + 25 * i
        out.append((max(0.0, cx - w / 2), bottom - h, cx + w / 2, bottom))
    return track(*out)


@pytest.mark.parametrize("box,sides", [
    ((0, 100, 50, 150), {"left"}),
    ((600, 100, 639.5, 150), {"right"}),
    ((100, 1, 200, 50), {"top"}),
    ((100, 300, 200, 360), {"bottom"}),
    ((0, 300, 50, 360), {"left", "bottom"}),
    ((100, 100, 200, 200), set()),
])
def test_a_box_touches_the_borders_it_is_clipped_to(box, sides):
    assert touching(box, W, H) == sides


def test_a_car_driving_away_up_the_picture_is_away_entering_at_the_bottom():
    t = travel(shrinking_up(), W, H)
    assert t == Travel("bottom", "inside", "away", t.motion_conf)
    assert t.motion_conf >= 0.5


def test_cut_by_the_bottom_border_it_grows_in_height_but_its_width_tells():
    # coming into view from the bottom border while driving away: the visible height grows
    # (40, 80, 110 px, cut) while the width shrinks; then it is whole and shrinks both ways
    boxes = track((200, 320, 420, 360), (205, 280, 415, 360), (210, 250, 410, 360),
                  (220, 200, 400, 330), (235, 170, 385, 280), (250, 150, 370, 240))
    assert growth(boxes, W, H) < 0
    assert travel(boxes, W, H).motion == "away"


def test_an_oncoming_car_is_towards_and_leaves_by_the_left():
    t = travel(growing_down_to_left(), W, H)
    assert (t.entry, t.exit, t.motion) == ("inside", "left", "towards")


def test_a_car_crossing_left_to_right_has_no_away_or_towards():
    boxes = track((0, 150, 80, 200), *[(60 * i, 150, 60 * i + 100, 200) for i in range(1, 10)],
                  (560, 150, 640, 200))
    t = travel(boxes, W, H)
    assert (t.entry, t.exit, t.motion) == ("left", "right", None)


def test_a_corner_entry_is_the_border_it_moves_away_from():
    # enters at the bottom-left corner and drives up: it came in by the bottom
    boxes = track((0, 280, 90, 360), (5, 200, 80, 260), (20, 150, 70, 190))
    assert travel(boxes, W, H).entry == "bottom"
    # enters at the same corner but drives right, level: it came in by the left
    boxes = track((0, 280, 90, 360), (100, 280, 190, 360), (200, 280, 290, 358))
    assert travel(boxes, W, H).entry == "left"


def test_one_box_says_where_but_not_which_way():
    t = travel(track((0, 100, 50, 150)), W, H)
    assert (t.entry, t.exit, t.motion, t.motion_conf) == ("left", "left", None, 0.0)


def test_travel_refuses_an_unknown_side():
    with pytest.raises(ValueError, match="entry"):
        Travel("up", "left", None)
    with pytest.raises(ValueError, match="motion"):
        Travel("left", "left", "sideways")
