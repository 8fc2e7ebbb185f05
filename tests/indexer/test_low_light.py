"""Night frames: what the gate and detector see is smoothed and brightened; evidence is not."""

from __future__ import annotations

import cv2
import numpy as np

from relecture.detections import Detections, Frame
from relecture.indexer.low_light import LowLight, LowLightConfig
from relecture.indexer.pipeline import IndexConfig, index_frames
from tests.fakes import fake_describer


def night_frames(n: int = 30, level: int = 22, seed: int = 0):
    """A dark, noisy street where one dim red box crosses from left to right."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = np.full((120, 320), float(level))[..., None].repeat(3, axis=2)
        x = 10 + i * 8
        img[40:70, x:x + 40] = (0, 0, 60)
        img += rng.normal(0.0, 8.0, (120, 320))[..., None]
        yield Frame(index=i, t=i / 5, image=np.clip(img, 0, 255).astype(np.uint8))


class DaylightDetector:
    """Finds red blobs, but only in a picture as bright and clean as daylight (as a detector
    trained on daylight photos scores night vehicles below its threshold)."""

    def detect(self, image, frame_shape=None):
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if np.median(grey) < 70 or grey[:30].std() > 6:
            return Detections()
        mask = image[..., 2].astype(int) - image[..., 0] > 60
        if not mask.any():
            return Detections()
        ys, xs = np.nonzero(mask)
        return Detections.build([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], [0.9], ["car"])


def test_a_dark_frame_is_smoothed_and_brightened_for_the_detector():
    frame = next(night_frames()).image
    light = LowLight()
    assert light.observe(frame) is True and light.dark
    picture = light.prepare(frame)
    grey, before = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert 80 <= np.median(grey) <= 100  # gain 22 -> ~88 (capped at 4x)
    assert grey[:30].std() < before[:30].std()  # the gain noise is smoothed, not amplified


def test_a_daylight_frame_is_left_as_it_is():
    frame = np.full((120, 320, 3), 110, np.uint8)
    light = LowLight()
    assert light.observe(frame) is False and light.gain == 1.0
    assert light.prepare(frame) is frame


def test_dusk_does_not_flicker_between_modes():
    light = LowLight(LowLightConfig(dark_median=50, light_median=60))
    at = lambda level: light.observe(np.full((64, 64, 3), level, np.uint8))  # noqa: E731
    assert at(45) is True  # dark from here
    assert at(55) is False and light.dark  # between the two: stays dark
    assert at(65) is True and not light.dark  # light again


def test_a_night_passage_is_found_and_described_from_the_recorded_frames():
    result = index_frames(night_frames(), DaylightDetector(), fake_describer())
    assert len(result.sightings) == 1
    thumb = cv2.imdecode(np.frombuffer(result.sightings[0].thumbnail_jpeg, np.uint8),
                         cv2.IMREAD_COLOR)
    assert thumb.mean() < 50  # the still is the dark recorded frame, not the brightened one
    off = IndexConfig(low_light=LowLightConfig(enabled=False))
    assert index_frames(night_frames(), DaylightDetector(), fake_describer(), off).sightings == ()
