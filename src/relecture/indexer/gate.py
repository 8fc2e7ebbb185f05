"""Where the picture moves: a per-frame motion mask against a slowly updated background.

CCTV is mostly static, so the motion mask is what decides whether (and where) the expensive
detector looks at a sampled frame (`indexer.schedule`). The mask is measured on a small
copy of the frame (`width` pixels wide), in colour: a red car on a grey road can have the
road's luminance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GateConfig:
    motion_fraction: float = 0.002  # share of changed pixels that counts as motion
    width: int = 160  # motion is measured on a picture this wide
    threshold: float = 18.0  # a pixel differs from the background by this much (0-255)
    learning_rate: float = 0.05  # how fast the background takes in the current frame


class MotionGate:
    """Stateful motion measure over one recording's sampled frames (one per recording)."""

    def __init__(self, config: GateConfig = GateConfig()):
        self.config = config
        self._background: np.ndarray | None = None

    def restart(self) -> None:
        """Forget the background (the picture changed as a whole: a night mode switched)."""
        self._background = None

    def motion_mask(self, image: np.ndarray, gain: float = 1.0) -> np.ndarray:
        """Boolean mask (small picture, `width` wide) of pixels of `image` (a sampled frame,
        its values multiplied by `gain`: see `indexer.low_light`) that differ from the
        background; updates the background. The first frame has no motion: it becomes the
        background (the scheduler looks at all of it anyway)."""
        import cv2

        h, w = image.shape[:2]
        small = cv2.resize(image, (self.config.width, max(1, h * self.config.width // w)),
                           interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (5, 5), 0).astype(np.float32) * np.float32(gain)
        if self._background is None:
            self._background = small
            return np.zeros(small.shape[:2], bool)
        changed = np.abs(small - self._background).max(axis=2) > self.config.threshold
        cv2.accumulateWeighted(small, self._background, self.config.learning_rate)
        return changed
