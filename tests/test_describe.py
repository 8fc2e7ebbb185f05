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


def describer_reading(texts: list[str], **kw):
    """A describer whose plate reader answers `texts` in turn and records each call."""
    calls: list[int] = []

    def read(crop):
        calls.append(crop.shape[1])
        return [FakePlate(texts[len(calls) - 1], 0.9, (1, 2, 11, 7))]

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
    agree, calls = describer_reading(["AB123CD", "AB123CD", "AB123CD"], plate_min_vehicle_px=0)
    views = views_of_width(300, 280, 260)
    assert len(agree.describe(track_for(views), views).plate.reads) == 2 and len(calls) == 2
    differ, calls = describer_reading(["AB123CD", "AB128CD", "AB123CD"], plate_min_vehicle_px=0)
    assert len(differ.describe(track_for(views), views).plate.reads) == 3 and len(calls) == 3
