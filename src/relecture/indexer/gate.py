"""Decide which sampled frames the (expensive) detector sees.

CCTV is mostly static. A frame goes to the detector when something moves in the picture
(difference to a slowly updated background) and the detector has not run for
`1/detect_fps` seconds, or when nothing has been checked for `heartbeat_s` seconds (so
slow or stopped vehicles are still seen).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relecture.detections import Frame


@dataclass(frozen=True)
class GateConfig:
    detect_fps: float = 3.0  # most detector runs per second of video while there is motion (see BENCHMARKS.md)
    heartbeat_s: float = 10.0  # detector runs at least this often, motion or not
    motion_fraction: float = 0.002  # share of changed pixels that counts as motion
    width: int = 160  # motion is measured on a picture this wide


class MotionGate:
    """Stateful gate over one recording's sampled frames (use one per recording)."""

    def __init__(self, config: GateConfig = GateConfig()):
        self.config = config
        self._background: np.ndarray | None = None
        self._last_detect_t = -1e9
        self.motion_frames = 0
        self.detector_frames = 0

    def motion_level(self, frame: Frame) -> float:
        """Share of pixels that differ from the background; updates the background."""
        import cv2

        h, w = frame.image.shape[:2]
        small = cv2.resize(frame.image, (self.config.width, max(1, h * self.config.width // w)),
                           interpolation=cv2.INTER_AREA)
        # Colour, not grey: a red car on a grey road can have the road's luminance.
        small = cv2.GaussianBlur(small, (5, 5), 0).astype(np.float32)
        if self._background is None:
            self._background = small
            return 1.0  # first frame: unknown scene, look at it
        changed = float(np.mean(np.abs(small - self._background).max(axis=2) > 18.0))
        cv2.accumulateWeighted(small, self._background, 0.05)
        return changed

    def should_detect(self, frame: Frame) -> bool:
        """True when this frame should go to the detector."""
        moving = self.motion_level(frame) >= self.config.motion_fraction
        self.motion_frames += moving
        since = frame.t - self._last_detect_t
        due = (moving and since >= 1.0 / self.config.detect_fps - 1e-6) or (
            since >= self.config.heartbeat_s
        )
        if due:
            self._last_detect_t = frame.t
            self.detector_frames += 1
        return due
