"""The tracker: one track per vehicle passage, even with sparse detector frames."""

from __future__ import annotations

import numpy as np

from relecture.detections import Detections, label_id
from relecture.indexer.track import Tracker, TrackerConfig


def moving_box(t: float, x0: float, speed: float, y: float = 100, w: float = 80, h: float = 50):
    x = x0 + speed * t
    return [x, y, x + w, y + h]


def run(frames):
    tracker = Tracker(TrackerConfig(max_gap_s=1.5))
    finished, ids_per_frame = [], []
    for t, boxes, labels in frames:
        ids, done = tracker.update(t, Detections.build(boxes, [0.8] * len(boxes), labels))
        ids_per_frame.append(ids)
        finished += done
    return finished + tracker.flush(), ids_per_frame


def test_two_vehicles_crossing_keep_their_identity():
    # Two cars moving in opposite directions at 2 detector frames per second; they cross.
    frames = [(t / 2, [moving_box(t / 2, 0, 120), moving_box(t / 2, 600, -120, y=110)],
               ["car", "car"]) for t in range(10)]
    tracks, ids = run(frames)
    assert len(tracks) == 2
    assert all(f == ids[0] for f in ids), "identities swapped when the cars crossed"


def test_fast_vehicle_with_little_overlap_between_frames_is_one_track():
    # 80 px wide car moving 70 px between detector frames: boxes barely overlap.
    frames = [(t, [moving_box(t, 0, 70)], ["car"]) for t in range(6)]
    tracks, _ = run(frames)
    assert len(tracks) == 1 and len(tracks[0].boxes) == 6


def test_gap_longer_than_max_gap_starts_a_new_passage():
    frames = [(0.0, [moving_box(0, 0, 0)], ["car"]), (0.5, [moving_box(0, 0, 0)], ["car"]),
              (5.0, [moving_box(0, 0, 0)], ["car"]), (5.5, [moving_box(0, 0, 0)], ["car"])]
    tracks, _ = run(frames)
    assert [(tr.first_t, tr.last_t) for tr in tracks] == [(0.0, 0.5), (5.0, 5.5)]


def test_label_is_the_majority_and_persons_never_join_vehicle_tracks():
    frames = [(0.0, [[0, 0, 80, 50], [0, 0, 20, 50]], ["car", "person"]),
              (0.5, [[5, 0, 85, 50], [2, 0, 22, 50]], ["truck", "person"]),
              (1.0, [[10, 0, 90, 50], [4, 0, 24, 50]], ["car", "person"])]
    tracks, _ = run(frames)
    assert sorted(tr.label for tr in tracks) == ["car", "person"]


def test_live_boxes_say_which_tracks_are_confirmed_and_where_they_may_be():
    tracker = Tracker()
    assert tracker.live_boxes(0.0) == []
    tracker.update(0.0, Detections.build([[0, 0, 50, 50]], [0.9], ["car"]))
    (sure,) = tracker.live_boxes(0.0)
    assert sure.confirmed  # sure enough alone
    tracker.update(0.5, Detections.build([[10, 0, 60, 50], [300, 0, 350, 50]], [0.9, 0.45],
                                         ["car", "car"]))
    moving, unsure = tracker.live_boxes(1.0)
    assert not unsure.confirmed and unsure.last_t == 0.5
    # 20 px/s to the right: by t=1.0 it may be anywhere from its last box to 10 px further
    assert moving.swept == (10.0, 0.0, 70.0, 50.0) and moving.confirmed
    assert moving.change == 10.0 / 50.0


def test_single_low_confidence_detection_is_dropped_as_false_alarm():
    tracker = Tracker()
    tracker.update(0.0, Detections.build([[0, 0, 50, 50]], [0.3], ["car"]))
    tracker.update(0.5, Detections.build([[400, 0, 450, 50]], [0.9], ["car"]))
    tracks = tracker.flush()
    assert [tr.boxes[0].xyxy[0] for tr in tracks] == [400.0]


def test_a_car_entering_near_the_camera_does_not_take_over_the_far_car_it_follows():
    # Car A drives away (shrinking, up the picture) and the detector loses it; car B enters
    # large at the bottom, near A's predicted centre in units of B's size.
    def away(t):
        s = 200 - 60 * t
        return [540 - s / 2, 300 - 40 * t, 540 + s / 2, 300 - 40 * t + s * 0.6]
    frames = [(t / 2, [away(t / 2)], ["car"]) for t in range(5)]
    frames += [(3.0, [[420, 150, 720, 330]], ["car"]), (3.5, [[420, 160, 720, 340]], ["car"])]
    tracks, ids = run(frames)
    assert len(tracks) == 2
    assert ids[-1] != ids[0]


def test_a_car_driving_away_and_missed_for_a_while_stays_one_track():
    # On screen a car driving away slows down and shrinks (perspective); after the detector
    # misses it for 1.3 s, its velocity extrapolated over the whole gap would overshoot.
    import math

    def away(t):
        s = 300 * math.exp(-0.3 * t)
        cx, cy = 640, 250 + 400 * math.exp(-1.5 * t)
        return [cx - s / 2, cy - s * 0.35, cx + s / 2, cy + s * 0.35]
    times = [0.0, 0.33, 0.67, 1.0, 2.3, 2.6]
    tracks, ids = run([(t, [away(t)], ["car"]) for t in times])
    assert len(tracks) == 1, [(tr.first_t, tr.last_t) for tr in tracks]
    assert len(set(i for frame in ids for i in frame)) == 1


def _frame(boxes, scores, weak, label="car"):
    return Detections(xyxy=np.array(boxes, np.float32), confidence=np.array(scores, np.float32),
                      class_id=np.full(len(boxes), label_id(label), np.int64),
                      weak=np.array(weak, bool))


def test_weak_boxes_continue_a_track_but_never_start_one_nor_name_it():
    tracker = Tracker(TrackerConfig(max_gap_s=1.0))
    ids0, _ = tracker.update(0.0, _frame([moving_box(0, 0, 40)], [0.45], [False]))
    # the car is then only weakly seen for 1 s, and a weak box elsewhere matches nothing
    for k in range(1, 5):
        t = k * 0.25
        ids, done = tracker.update(t, _frame([moving_box(t, 0, 40), [600, 300, 680, 350]],
                                             [0.25, 0.25], [True, True], "truck"))
        assert ids == [ids0[0], 0] and not done
    # past `weak_carry_s` without a sure box, weak boxes no longer carry it
    ids, _ = tracker.update(1.5, _frame([moving_box(1.5, 0, 40)], [0.25], [True]))
    assert ids == [0]
    tracks = tracker.flush()
    assert len(tracks) == 1 and len(tracks[0].boxes) == 5
    assert tracks[0].label == "car"  # four weak "truck" boxes do not outvote one sure car


def test_a_lone_weak_box_is_no_track():
    tracker = Tracker()
    ids, _ = tracker.update(0.0, _frame([[0, 0, 50, 50]], [0.3], [True]))
    assert ids == [0] and tracker.flush() == []


def test_a_track_is_named_with_a_class_only_when_the_detector_was_once_sure_of_it():
    naming = (("bus", 0.55, "car"),)
    for scores, label in (([0.4, 0.45, 0.5], "car"), ([0.4, 0.6, 0.45], "bus")):
        tracker = Tracker(naming=naming)
        for k, score in enumerate(scores):
            tracker.update(k * 0.2, Detections.build([moving_box(k * 0.2, 0, 40)], [score], ["bus"]))
        assert [tr.label for tr in tracker.flush()] == [label]


def test_weak_boxes_leading_into_a_first_sure_box_join_its_track():
    # seen from above, a car is scored weak as it enters and sure once, as it leaves: the
    # weak boxes behind its one sure box make it a passage (alone, 0.48 is a false alarm)
    tracker = Tracker()
    for t, y in ((0.0, 100), (0.2, 160), (0.4, 220)):
        assert tracker.update(t, _frame([[100, y, 300, y + 200]], [0.25], [True])) == ([0], [])
    tracker.update(0.6, _frame([[100, 280, 300, 480]], [0.48], [False]))
    tracks = tracker.flush()
    assert len(tracks) == 1 and [b.t for b in tracks[0].boxes] == [0.0, 0.2, 0.4, 0.6]


def test_weak_boxes_standing_still_or_on_a_tracked_vehicle_lead_into_nothing():
    tracker = Tracker()
    parked = [500, 100, 540, 140]  # scenery the detector is never sure of
    tracked = moving_box(0, 0, 40)
    for k in range(3):
        t = k * 0.2
        car = moving_box(t, 0, 40)
        part = [car[2] - 30, car[1], car[2] + 5, car[3]]  # its front, mostly inside it
        tracker.update(t, _frame([car, parked, part], [0.9, 0.25, 0.25], [False, True, True]))
    # a sure box where the weak ones stood, and one beside the car where its part was seen
    t = 0.6
    car = moving_box(t, 0, 40)
    beside = [car[2] - 20, car[1], car[2] + 15, car[3]]
    tracker.update(t, _frame([car, parked, beside], [0.9, 0.45, 0.45], [False, False, False]))
    tracks = tracker.flush()
    assert len(tracks) == 1 and tracks[0].boxes[0].xyxy == tuple(map(float, tracked))


def test_a_car_coming_close_to_the_camera_stays_one_track_across_a_skipped_frame():
    # it grows 1.4x in 0.2 s, then the detector skips a frame: 0.4 s later it is twice as
    # large, and a linear extrapolation of its sides puts it neither there nor that large
    frames = [(0.0, [[600, 160, 673, 230]], ["car"]), (0.2, [[613, 203, 716, 297]], ["car"]),
              (0.6, [[718, 385, 910, 539]], ["car"])]
    tracks, ids = run(frames)
    assert len(tracks) == 1 and len(tracks[0].boxes) == 3


def test_a_car_hidden_for_a_while_is_found_again_where_its_motion_puts_it():
    # 200 px/s; hidden behind a pole from 0.8 to 1.8 s, then seen again 280 px further
    # on: further than the prediction's horizon (0.7 s) reaches
    visible = [0.0, 0.2, 0.4, 0.6, 2.0, 2.2, 2.4]
    frames = [(t, [moving_box(t, 0, 200)], ["car"]) for t in visible]
    tracks, ids = run(frames)
    assert len(tracks) == 1 and len(tracks[0].boxes) == 7


def test_a_car_seen_twice_and_hidden_is_not_looked_for_far_away():
    # two boxes give no reliable velocity: a car appearing far off later is another one
    frames = [(0.0, [moving_box(0.0, 0, 200)], ["car"]), (0.2, [moving_box(0.2, 0, 200)], ["car"]),
              (1.4, [moving_box(1.4, 0, 200)], ["car"])]
    tracks, _ = run(frames)
    assert len(tracks) == 2
