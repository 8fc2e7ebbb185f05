"""Decide which sampled frames the (expensive) detector sees.

CCTV is mostly static. A frame goes to the detector when something moves in the picture
(difference to a slowly updated background) and the detector has not run for
`1/detect_fps` seconds, or when nothing has been checked for `heartbeat_s` seconds (so
slow or stopped vehicles are still seen).

A vehicle crossing the picture quickly, or a small one the detector is unsure of, may be
detected only once at `detect_fps`, and the tracker drops a lone unsure detection as a
false alarm. So when the last detection started such a track, the next moving frame goes
to the detector at once (`confirm_new_tracks`): a second look confirms or clears it. On the
shared videos this keeps 0.97 of a dense baseline's tracks instead of 0.91, for about 15%
more CPU (BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relecture.detections import Frame


@dataclass(frozen=True)
class GateConfig:
    detect_fps: float = 3.0  # most detector runs per second of video while there is motion (see BENCHMARKS.md)
    heartbeat_s: float = 10.0  # detector runs at least this often, motion or not
    confirm_new_tracks: bool = True  # look again at once when a new track is unsure
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

    def should_detect(self, frame: Frame, confirm: bool = False) -> bool:
        """True when this frame should go to the detector. `confirm`: the tracker waits
        for a second look at a new, unsure track (honoured with `confirm_new_tracks`)."""
        moving = self.motion_level(frame) >= self.config.motion_fraction
        self.motion_frames += moving
        since = frame.t - self._last_detect_t
        confirm = confirm and self.config.confirm_new_tracks
        due = (moving and (confirm or since >= 1.0 / self.config.detect_fps - 1e-6)) or (
            since >= self.config.heartbeat_s
        )
        if due:
            self._last_detect_t = frame.t
            self.detector_frames += 1
        return due
