"""The synopsis layout (still) and schedule (clip) on small fakes: no two cut-outs or labels
overlap, a free passage stays where it was, nothing leaves the picture, same input same
output; on the clip, passages that would collide are shifted, others play together."""

from __future__ import annotations

import itertools

import pytest

from relecture.requisitions.media import BoxTrack
from relecture.requisitions.synopsis import (Passage, boxes_overlap, hidden_share,
                                             layout_still, schedule_clip)

SIZE = (320, 240)


def passage(sid: int, box, t0: float = 0.0, t1: float = 2.0, moving: float = 0.0) -> Passage:
    """A passage whose box moves `moving` px/s to the right from t0 to t1."""
    steps = [t0 + (t1 - t0) * k / 4 for k in range(5)]
    track = BoxTrack(tuple((t, box[0] + moving * (t - t0), box[1], box[2] + moving * (t - t0),
                            box[3]) for t in steps))
    return Passage(sid, f"#{sid} 14:00:0{sid % 10}", t0, tuple(map(float, box)), track, t0, t1)


def footprints(layout):
    return [p.footprint for p in layout.placements]


def inside(box, size=SIZE) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= size[0] and box[3] <= size[1]


def test_a_passage_with_room_stays_at_its_own_position():
    layout = layout_still([passage(1, (100, 100, 160, 140)), passage(2, (200, 60, 250, 90))],
                          SIZE)
    assert [(p.placed, p.moved) for p in layout.placements] == [
        ((100, 100, 160, 140), False), ((200, 60, 250, 90), False)]
    assert all(p.label[3] == p.placed[1] for p in layout.placements)  # label just above


@pytest.mark.parametrize("count", [2, 5, 12, 20, 80])
def test_passages_at_the_same_place_never_overlap_and_stay_in_the_picture(count):
    size = (640, 360)
    passages = [passage(i, (120, 100, 200, 160)) for i in range(1, count + 1)]
    layout = layout_still(passages, size)
    placed = footprints(layout)
    assert len(placed) + len(layout.unplaced) == count
    assert not layout.unplaced or count == 80  # no room left for some: said, not hidden
    for a, b in itertools.combinations(placed, 2):
        assert not boxes_overlap(a, b), (a, b)
    assert all(inside(f, size) for f in placed)
    first = layout.placements[0]
    assert not first.moved and all(p.moved for p in layout.placements[1:])
    assert all(p.source == (120, 100, 200, 160) for p in layout.placements)


def test_a_reserved_band_is_kept_free():
    band = (0.0, 0.0, 200.0, 22.0)
    layout = layout_still([passage(1, (10, 0, 60, 40)), passage(2, (150, 5, 190, 30))], SIZE,
                          reserved=[band])
    assert all(not boxes_overlap(f, band) for f in footprints(layout))
    assert all(p.moved for p in layout.placements)


def test_a_box_outside_the_picture_is_cut_to_it():
    layout = layout_still([passage(1, (-20, 200, 50, 260))], SIZE)
    (p,) = layout.placements
    assert p.source == (0, 200, 50, 240) and inside(p.footprint)


def test_an_empty_box_is_refused():
    with pytest.raises(ValueError, match="empty box"):
        passage(1, (50, 50, 50, 80))


def test_passages_far_apart_play_together_on_the_clip():
    slots = schedule_clip([passage(1, (10, 10, 60, 50)), passage(2, (200, 150, 260, 200))])
    assert [s.shift for s in slots] == [0.0, 0.0]


def test_passages_on_the_same_path_are_shifted_so_they_do_not_collide():
    # the same car path, twice: played at once they would cover each other entirely
    a, b = passage(1, (10, 100, 70, 150), moving=100), passage(2, (10, 100, 70, 150),
                                                                 moving=100)
    slots = schedule_clip([a, b])
    assert slots[0].shift == 0.0 and 0 < slots[1].shift < 2.0  # after, yet overlapping in time
    for k in range(round(slots[1].shift / 0.08), 26):  # clip frames where both play
        tau = k * 0.08
        boxes = [p.track.at(p.first_t + tau - s.shift) for p, s in zip((a, b), slots)]
        assert hidden_share(*boxes) <= 0.3


def test_a_small_far_box_over_a_large_near_one_is_no_collision():
    near, far = (0, 0, 200, 150), (80, 40, 120, 70)
    assert hidden_share(near, far) < 0.3
    slots = schedule_clip([passage(1, near), passage(2, far)])
    assert [s.shift for s in slots] == [0.0, 0.0]


def test_a_package_synopsis_covers_each_cameras_hits_in_whole_minutes_inside_the_range():
    from datetime import datetime

    from relecture.catalog_read import SightingRef
    from relecture.requisitions.scope import TimeRange
    from relecture.requisitions.synopsis_make import Window, package_windows

    at = lambda h, m, s=0: datetime(2023, 1, 30, h, m, s)  # noqa: E731
    refs = [SightingRef(1, "12", at(13, 0, 3), at(13, 0, 9)),
            SightingRef(2, "12", at(13, 5, 1), at(13, 5, 7)),
            SightingRef(3, "3", at(13, 59, 30), at(14, 0, 30))]
    ranges = [TimeRange(at(12, 0), at(14, 0)), TimeRange(at(15, 0), at(16, 0))]
    assert package_windows(refs, ranges) == [Window("12", at(13, 0), at(13, 6)),
                                             Window("3", at(13, 59), at(14, 0))]


def test_a_synopsis_window_in_wall_clock_hours_is_read_in_the_cameras_own_zone(tmp_path):
    from datetime import datetime, timezone

    from relecture.catalog import Catalog
    from relecture.requisitions.synopsis_make import Window, window_of
    from relecture.search.request import SearchRequest
    from relecture.settings import Home

    cat = Catalog(Home(tmp_path / "home"))
    cat.db.execute("INSERT INTO recordings (recording_id, path, camera, tz, clock_offset_s) "
                   "VALUES ('ny', '/f.mp4', '7', 'America/New_York', 0)")
    now = datetime(2023, 1, 31, 12, tzinfo=timezone.utc)
    asked = dict(cameras=("7",), start="2023-01-30T08:00", end="2023-01-30T09:00")
    # 8-9 on the New York camera's clock, not 8-9 in Paris (07:00-08:00 UTC)
    assert window_of(cat, SearchRequest(**asked).query(now)) == Window(
        "7", datetime(2023, 1, 30, 13), datetime(2023, 1, 30, 14))
    assert window_of(cat, SearchRequest(**asked, utc=True).query(now)) == Window(
        "7", datetime(2023, 1, 30, 8), datetime(2023, 1, 30, 9))
    cat.close()


def test_a_passage_entering_the_picture_keeps_its_own_timing_on_the_clip(tmp_path):
    """A car still outside the picture for its first 0.4 s: the clip shows nothing for
    it then, and shows it at the moment it enters (not 0.4 s early)."""
    from relecture.requisitions.media import first_picture_pts
    from relecture.requisitions.synopsis import Slot
    from relecture.requisitions.synopsis_render import (CLIP_FPS, BlurCount, Shot, Source,
                                                        sprites)
    from tests.fakes import write_clip

    clip = write_clip(tmp_path / "c.mp4", n=30, fps=10)
    track = BoxTrack(((0.0, -60.0, 10.0, -40.0, 40.0), (2.0, 140.0, 10.0, 160.0, 40.0)))
    car = Passage(1, "#1", 1.0, (40.0, 10.0, 60.0, 40.0), track, 0.0, 2.0)
    source = Source("r", clip, 0.0, 3.0, first_picture_pts(clip))
    (sprite,) = sprites([Shot(car, source)], [Slot(1, 0.0, 2.0)], BlurCount())
    shown = [k for k, c in enumerate(sprite.cutouts) if c is not None]
    assert len(sprite.cutouts) == int(2.0 * CLIP_FPS) + 1
    first_t = shown[0] / CLIP_FPS  # the box's right edge is inside from t = 0.42 s
    assert 0.4 <= first_t <= 0.5 and shown == list(range(shown[0], len(sprite.cutouts)))
    x1, _, x2, _ = sprite.cutouts[shown[0]][1]
    assert x1 == 0 and x2 >= 2
