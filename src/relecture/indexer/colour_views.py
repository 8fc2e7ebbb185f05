"""What the colour namer takes from a vehicle's surroundings, view by view.

A CCTV view of a vehicle (`indexer.views.TrackView`) is cut with a margin around the
detector box: that margin is mostly road, kerb and verge, lit by the same light and seen
through the same camera as the vehicle. It serves the namer twice:

- as a grey reference: the median of its near-neutral pixels (asphalt, concrete) is grey
  under a neutral white balance, so a camera or compression cast shows there first. The
  vehicle is corrected by part of the gains that would make it grey (gray-world on the
  background, gently: sunlit asphalt is itself a little warm);
- as the colour of the road: pixels inside the box that look like the median of the
  surroundings (box corners, the road seen through or under the vehicle) are not body.

A bare crop (a photo, a test picture) has no surroundings: it is named as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SurroundConfig:
    """How much the surroundings are trusted. Chosen on the even-numbered labelled videos,
    checked on the odd ones (BENCHMARKS.md, "Colours on CCTV video")."""

    neutral_chroma: float = 10.0  # surroundings pixels under this CIELAB chroma are grey refs
    min_pixels: int = 20  # fewer reference pixels than this: no correction
    balance: float = 0.3  # exponent of the gray-world gains applied (0 none, 1 full)
    max_gain: float = 1.25  # no channel is scaled by more than this (or less than its inverse)
    road_distance: float = 6.0  # box pixels within this CIELAB distance of the road are road
    body_min_share: float = 0.4  # ...unless that leaves less than this share of the weight


@dataclass(frozen=True)
class ColourView:
    """One picture of a vehicle: the BGR crop, where the vehicle is in it (`box`, x1 y1 x2 y2
    in crop pixels; None when the crop is all vehicle) and how much it counts (`weight`:
    bigger, surer views count more)."""

    crop: np.ndarray
    box: tuple[int, int, int, int] | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.crop.ndim != 3 or self.crop.shape[2] != 3:
            raise ValueError(f"a colour view is a BGR image, got shape {self.crop.shape}")
        if not self.weight >= 0:
            raise ValueError(f"a colour view's weight is >= 0, got {self.weight}")

    @property
    def vehicle(self) -> np.ndarray:
        """The crop restricted to the vehicle box."""
        if self.box is None:
            return self.crop
        x1, y1, x2, y2 = self.box
        return self.crop[max(0, y1):max(y1 + 1, y2), max(0, x1):max(x1 + 1, x2)]

    def surroundings(self) -> np.ndarray:
        """The pixels (N x 3, BGR) of the crop outside the vehicle box."""
        if self.box is None:
            return np.empty((0, 3), self.crop.dtype)
        x1, y1, x2, y2 = self.box
        outside = np.ones(self.crop.shape[:2], bool)
        outside[max(0, y1):max(0, y2), max(0, x1):max(0, x2)] = False
        return self.crop[outside]


@dataclass(frozen=True)
class Surroundings:
    """What a vehicle's views say about its light: per-channel BGR gains that take a cast
    off, and the CIELAB colour of the road after those gains (None when unknown)."""

    gains: np.ndarray
    road_lab: np.ndarray | None = None


NO_SURROUNDINGS = Surroundings(gains=np.ones(3, np.float32))


def to_lab(bgr: np.ndarray) -> np.ndarray:
    """CIELAB (float: L 0-100, a and b about -128..127) of BGR uint8 pixels (N x 3)."""
    import cv2

    rgb = (np.asarray(bgr, np.float32)[None, :, ::-1] / 255.0).astype(np.float32)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[0]


def read_surroundings(views: Sequence[ColourView], config: SurroundConfig) -> Surroundings:
    """The gains and road colour of a vehicle from the surroundings of all its views."""
    parts = [v.surroundings() for v in views]
    pixels = np.concatenate(parts).astype(np.float32) if parts else np.empty((0, 3))
    if len(pixels) < config.min_pixels:
        return NO_SURROUNDINGS
    lab = to_lab(pixels)
    value = pixels.max(axis=1) / 255.0
    # Near-neutral, neither black nor blown out: asphalt, concrete, kerbs.
    neutral = ((np.hypot(lab[:, 1], lab[:, 2]) < config.neutral_chroma)
               & (value > 0.15) & (value < 0.9))
    gains = np.ones(3, np.float32)
    if neutral.sum() >= config.min_pixels:
        grey = np.median(pixels[neutral], axis=0) + 1.0
        gains = np.clip((grey.mean() / grey) ** config.balance,
                        1 / config.max_gain, config.max_gain).astype(np.float32)
    road = np.clip(np.median(pixels, axis=0) * gains, 0, 255)
    return Surroundings(gains=gains, road_lab=to_lab(road[None])[0])


def balance(crop: np.ndarray, surroundings: Surroundings) -> np.ndarray:
    """The crop with the surroundings' gains applied (uint8 BGR)."""
    if np.allclose(surroundings.gains, 1.0):
        return crop
    return np.clip(crop.astype(np.float32) * surroundings.gains, 0, 255).astype(np.uint8)


def body_weights(lab: np.ndarray, weights: np.ndarray, surroundings: Surroundings,
                 config: SurroundConfig) -> np.ndarray:
    """`weights` with the road-coloured pixels (within `road_distance` of the road's CIELAB
    colour) set to 0, unless that leaves less than `body_min_share` of the weight: a grey
    car on a grey road is not all road."""
    if surroundings.road_lab is None:
        return weights
    body = np.linalg.norm(lab - surroundings.road_lab, axis=1) >= config.road_distance
    kept = weights * body
    return kept if kept.sum() >= config.body_min_share * weights.sum() else weights
