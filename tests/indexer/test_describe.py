"""Describing a finished track: which views plate reading spends its time on."""

from __future__ import annotations

import dataclasses

import numpy as np

from relecture.indexer.track import Track
from relecture.indexer.views import TrackView
from relecture.sightings import TrackBox
from tests.fakes import FakePlate, fake_describer


def views_of_width(*widths: int) -> list[TrackView]:
    return [TrackView(t=float(i), crop=np.full((100, w + 20, 3), 90, np.uint8), origin=(0, 0),
                      box=(10.0, 10.0, 10.0 + w, 90.0), quality=float(w))
            for i, w in enumerate(widths)]


def track_for(views: list[TrackView]) -> Track:
    return Track(1, "car", tuple(TrackBox(v.t, v.box, 0.9) for v in views))


def describer_reading(texts: list[str], confidence: float = 0.8, **kw):
    """A describer whose plate reader answers `texts` in turn ("" for nothing read) and
    records the crop width of each call."""
    calls: list[int] = []

    def read(crop):
        calls.append(crop.shape[1])
        text = texts[len(calls) - 1]
        return [FakePlate(text, confidence, (1, 2, 11, 7))] if text else []

    return dataclasses.replace(fake_describer(), read_plates=read, **kw), calls


def test_vehicles_too_small_for_a_legible_plate_are_not_read():
    describer, calls = describer_reading(["AB123CD"] * 3, plate_min_vehicle_px=120)
    views = views_of_width(300, 80, 60)
    sighting = describer.describe(track_for(views), views)
    assert calls == [320]  # only the 300 px vehicle (crop 320 px) went to the reader
    assert sighting.plate.text == "AB123CD"
    small = views_of_width(100, 90)
    assert describer.describe(track_for(small), small).plate.text is None


def test_reading_stops_when_two_views_agree_and_goes_on_when_they_do_not():
    views = views_of_width(300, 280, 260)
    agree, calls = describer_reading(["AB123CD"] * 3, plate_min_vehicle_px=0, plate_views=3)
    assert len(agree.describe(track_for(views), views).plate.reads) == 2 and len(calls) == 2
    differ, calls = describer_reading(["AB123CD", "AB128CD", "AB123CD"], plate_min_vehicle_px=0,
                                      plate_views=3)
    assert len(differ.describe(track_for(views), views).plate.reads) == 3 and len(calls) == 3


def test_reading_starts_with_the_widest_vehicle_and_stops_at_a_sure_read():
    views = views_of_width(200, 300, 250)  # quality order: not the widest first
    sure, calls = describer_reading(["AB123CD"] * 3, confidence=0.95, plate_min_vehicle_px=0)
    assert sure.describe(track_for(views), views).plate.text == "AB123CD"
    assert calls == [320]  # the 300 px vehicle alone
    unsure, calls = describer_reading(["AB123CD", "AB128CD", "AB123CD"],
                                      plate_min_vehicle_px=0)
    unsure.describe(track_for(views), views)
    assert calls == [320, 270]  # plate_views (2) widest views, then no more


def test_a_view_with_nothing_plate_like_ends_reading():
    views = views_of_width(300, 280)
    describer, calls = describer_reading(["", "AB123CD"], plate_min_vehicle_px=0)
    assert describer.describe(track_for(views), views).plate.text is None
    assert calls == [320]


def test_type_sees_the_best_views_only():
    seen: list[int] = []

    def vehicle_type(label, crops):
        seen.append(len(crops))
        return fake_describer().vehicle_type(label, crops)

    views = views_of_width(300, 280, 260)
    for n in (1, 3):
        seen.clear()
        d = dataclasses.replace(fake_describer(), vehicle_type=vehicle_type, type_views=n)
        d.describe(track_for(views), views)
        assert seen == [n]
