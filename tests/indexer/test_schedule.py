"""The detector's scheduler: when and where the detector looks (indexer/schedule.py): the
fixed cadence (default) and the sparse schedule per track."""

from __future__ import annotations

import numpy as np
import pytest

from relecture.indexer.schedule import DetectScheduler, Region, ScheduleConfig
from relecture.indexer.track import LiveBox

SHAPE = (360, 640, 3)  # frame; the motion mask below is a quarter of it each way
MASK = (90, 160)


def mask_with(*boxes) -> np.ndarray:
    """A motion mask (quarter size) moving inside the given frame boxes."""
    m = np.zeros(MASK, bool)
    for x1, y1, x2, y2 in boxes:
        m[y1 // 4:y2 // 4, x1 // 4:x2 // 4] = True
    return m


def live(box, t, predicted=None, hits=5, confirmed=True, track_id=1, person=False) -> LiveBox:
    return LiveBox(track_id, person, t, tuple(map(float, box)),
                   tuple(map(float, predicted or box)), confirmed, hits)


SPARSE = ScheduleConfig(sparse=True)


def started(config=SPARSE) -> DetectScheduler:
    """A scheduler that has looked at the whole first frame (t=0)."""
    s = DetectScheduler(config)
    first = s.plan(0.0, np.zeros(MASK, bool), SHAPE, [])
    assert first == Region(0, 0, 640, 360, full=True)
    s.done(0.0, first, np.zeros(MASK, bool), SHAPE, set())
    return s


def look(s: DetectScheduler, t: float, mask, tracks=()) -> Region | None:
    region = s.plan(t, mask, SHAPE, list(tracks))
    if region is not None:
        s.done(t, region, mask, SHAPE, {tr.track_id for tr in tracks})
    return region


def contains(region: Region, box) -> bool:
    return (region.x1 <= box[0] and region.y1 <= box[1]
            and region.x2 >= box[2] and region.y2 >= box[3])


def test_a_still_scene_is_looked_at_only_by_the_heartbeat():
    s = started()
    still = np.zeros(MASK, bool)
    assert [look(s, t, still) for t in (0.2, 5.0, 9.8)] == [None] * 3
    assert look(s, 10.0, still).full


def test_new_motion_is_looked_at_in_a_region_around_it_once():
    s = started(ScheduleConfig(sparse=True, recheck_s=1.0))
    car = (100, 100, 160, 140)
    region = look(s, 0.2, mask_with(car))
    assert region is not None and not region.full and contains(region, car)
    # the same unexplained motion (nothing found there) is not new for recheck_s...
    assert look(s, 0.6, mask_with(car)) is None
    # ...but motion somewhere else is, once new_motion_interval_s has passed
    other = (400, 200, 460, 240)
    assert look(s, 0.7, mask_with(car, other)) is not None
    assert look(s, 1.3, mask_with(car, other)) is not None  # recheck_s later: looked again


def test_new_motion_waits_its_interval():
    s = started()
    assert look(s, 0.2, mask_with((100, 100, 160, 140))) is not None
    assert look(s, 0.4, mask_with((300, 100, 360, 140))) is None  # 0.2 s < 1/3 s
    assert look(s, 0.6, mask_with((300, 100, 360, 140))) is not None


def test_motion_inside_a_tracked_vehicle_waits_for_its_refresh():
    s = started()
    car = (100, 100, 160, 140)
    track = live(car, 0.0)
    for t in (0.2, 0.4, 0.8):
        assert look(s, t, mask_with(car), [track]) is None
    region = look(s, 1.0, mask_with(car), [track])
    assert region is not None and contains(region, car)


def test_a_track_looked_for_and_not_found_waits_as_long_again():
    s = started()
    car = (100, 100, 160, 140)
    track = live(car, 0.0)
    assert look(s, 1.0, mask_with(car), [track]) is not None  # not found: last_t stays 0
    assert look(s, 1.2, mask_with(car), [track]) is None
    assert look(s, 2.0, mask_with(car), [track]) is not None


def test_a_stopped_vehicle_is_not_refreshed_while_nothing_moves():
    s = started()
    track = live((100, 100, 160, 140), 0.0)
    assert look(s, 1.5, np.zeros(MASK, bool), [track]) is None


@pytest.mark.parametrize("confirm,expected", [(True, True), (False, False)])
def test_an_unsure_new_track_gets_a_second_look_on_the_next_frame(confirm, expected):
    s = started(ScheduleConfig(sparse=True, confirm_new_tracks=confirm))
    car = (100, 100, 160, 140)
    unsure = live(car, 0.2, hits=1, confirmed=False)
    # no motion at all: the second look does not wait for any
    assert (look(s, 0.4, np.zeros(MASK, bool), [unsure]) is not None) == expected
    assert look(s, 0.6, np.zeros(MASK, bool), [unsure]) is None  # once only


def test_young_and_fast_changing_tracks_are_looked_at_more_often():
    s = started()
    car = (100, 100, 160, 140)
    young = live(car, 0.0, hits=2)
    assert look(s, 0.2, mask_with(car), [young]) is None
    assert look(s, 0.4, mask_with(car), [young]) is not None  # quick_refresh_s
    s = started()
    # predicted to have moved by more than half its size: detect again soon, not in 1 s
    fast = live(car, 0.0, predicted=(140, 100, 200, 140))
    assert look(s, 0.4, mask_with(car), [fast]) is not None


def test_a_young_track_is_looked_for_a_box_length_around():
    s = started()
    car = (300, 100, 360, 140)
    region = look(s, 0.4, mask_with(car), [live(car, 0.0, hits=1)])
    assert contains(region, (240, 60, 420, 180))


def test_large_regions_take_the_whole_frame_and_regions_can_be_switched_off():
    s = started()
    assert look(s, 0.2, mask_with((0, 0, 500, 300))).full
    s = started(ScheduleConfig(sparse=True, regions=False))
    assert look(s, 0.2, mask_with((100, 100, 160, 140))).full


def test_a_region_must_not_be_empty():
    with pytest.raises(ValueError, match="x1 < x2"):
        Region(10, 0, 10, 5)


def test_the_reason_of_each_pass_is_counted():
    s = started()
    car = (100, 100, 160, 140)
    look(s, 0.2, mask_with(car))  # new motion
    look(s, 0.4, np.zeros(MASK, bool), [live(car, 0.2, hits=1, confirmed=False)])  # confirm
    look(s, 1.4, mask_with(car), [live(car, 0.4)])  # refresh
    assert s.reasons == {"heartbeat": 1, "new_motion": 1, "confirm": 1, "refresh": 1}


def test_the_fixed_cadence_looks_at_the_whole_frame_while_anything_moves():
    s = started(ScheduleConfig())
    car = (100, 100, 160, 140)
    full = Region(0, 0, 640, 360, full=True)
    assert look(s, 0.2, np.zeros(MASK, bool)) is None  # nothing moves
    assert look(s, 0.4, mask_with(car)) == full
    assert look(s, 0.6, mask_with(car)) is None  # 0.2 s < 1/detect_fps
    assert look(s, 0.8, mask_with(car)) == full
    # a new unsure track gets its second look at once, and once
    unsure = live(car, 0.8, hits=1, confirmed=False)
    assert look(s, 1.0, mask_with(car), [unsure]) == full
    assert look(s, 1.2, mask_with(car), [unsure]) is None
    assert s.reasons == {"heartbeat": 1, "cadence": 2, "confirm": 1}


def test_the_fixed_cadence_looks_again_at_a_new_weak_box_that_moves():
    s = started(ScheduleConfig())
    car = (100, 0, 160, 40)  # entering at the top edge
    assert look(s, 0.4, mask_with(car)).full  # cadence: the detector finds only a weak box
    s.unsure(0.4, [car])
    second = look(s, 0.6, mask_with(car))
    assert second is not None and not second.full and contains(second, car)
    assert s.reasons["confirm"] == 1


def test_a_second_look_does_not_put_off_the_next_whole_frame_pass():
    # A crop around a weak box is not the frame: a car approaching fast that the whole-frame
    # pass misses for 0.8 s instead of 0.4 s is lost by its track (degirum_motorway_nl).
    s = started(ScheduleConfig())
    car, entering = (500, 200, 560, 240), (100, 0, 160, 40)
    assert look(s, 0.4, mask_with(car, entering)).full
    s.unsure(0.4, [entering])
    second = look(s, 0.6, mask_with(car, entering))
    assert second is not None and not second.full
    s.unsure(0.6, [])
    assert look(s, 0.8, mask_with(car, entering)).full  # 0.4 s after the last whole frame


def test_a_weak_box_that_stays_put_or_was_there_already_gets_no_second_look():
    s = started(ScheduleConfig())
    parked, car = (300, 200, 360, 240), (100, 0, 160, 40)
    look(s, 0.4, mask_with(car))
    s.unsure(0.4, [parked])
    assert look(s, 0.6, mask_with(car)) is None  # nothing moves where the weak box is
    assert look(s, 0.8, mask_with(car)).full  # cadence
    s.unsure(0.8, [car])
    assert look(s, 1.0, mask_with(car)) is not None  # new, and moving: looked at
    s.unsure(1.0, [car])  # weak again where it was 0.2 s ago: a car never scored high
    assert look(s, 1.2, mask_with(car)).full  # the cadence's pass, no second look
    assert s.reasons["confirm"] == 1


def test_a_weak_box_on_a_tracked_vehicle_gets_no_second_look():
    s = started(ScheduleConfig())
    car = (100, 100, 160, 140)
    tracked = live(car, 0.4)
    look(s, 0.4, mask_with(car), [tracked])
    s.unsure(0.4, [(110, 105, 150, 135)])  # a part of the tracked car, scored weak
    assert look(s, 0.6, mask_with(car), [tracked]) is None
