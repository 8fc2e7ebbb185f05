"""The picture the motion gate and the detector see on a dark (night) recording.

A camera at night raises its gain: the picture is dark and full of sensor noise, and the
detector, trained on daylight photos, scores the vehicles in it below its sure threshold.
Smoothing the noise and bringing the picture's median up to a daylight level lifts those
scores back (measured on the project's rendered night clips: BENCHMARKS.md, "Licence plates
on rendered video"). Only the gate and the detector see the prepared picture; views,
colours and plates are taken from the frame as recorded, so evidence stays untouched.

A frame counts as dark when its median luminance is below `dark_median`; it stops being
dark only above `light_median`, so a recording at dusk does not flicker between the two
(each switch changes the whole picture, which the motion gate would read as motion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LowLightConfig:
    enabled: bool = True
    # Median luminance (0-255) under which a frame is dark, and over which it is light
    # again. Night pictures measured: 19-23 (rendered); the dimmest daylight frame of the
    # real footage measured: 51 (an overhead car park). Smoothing misapplied to daylight
    # costs detection dearly (vehicles_voc recall 0.879 -> 0.739), so the bar stays low.
    dark_median: float = 40.0
    light_median: float = 50.0
    blur_sigma: float = 3.0  # Gaussian smoothing of the gain noise, in frame pixels
    target_median: float = 100.0  # the dark picture is brightened to this median
    max_gain: float = 4.0  # never multiplied by more (a black frame stays black)


class LowLight:
    """Stateful per recording: whether the recording is in its dark mode, and its gain.

    `observe` is called on every sampled frame (cheap: a median of a subsampled picture);
    `prepare`, which smooths the whole frame, only on frames the detector looks at."""

    def __init__(self, config: LowLightConfig = LowLightConfig()):
        self.config = config
        self.dark = False
        self.gain = 1.0  # what the frame's values are multiplied by (1.0 when not dark)

    def observe(self, image: np.ndarray) -> bool:
        """Measure a sampled frame; True when the dark mode switched on or off with it (the
        caller then restarts what compares frames with each other)."""
        if not self.config.enabled:
            return False
        import cv2

        median = float(np.median(cv2.cvtColor(image[::8, ::8], cv2.COLOR_BGR2GRAY)))
        was_dark = self.dark
        if self.dark:
            self.dark = median <= self.config.light_median
        else:
            self.dark = median < self.config.dark_median
        target_gain = self.config.target_median / max(median, 1.0)
        self.gain = max(1.0, min(self.config.max_gain, target_gain)) if self.dark else 1.0
        return self.dark != was_dark

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The picture the detector sees: the frame itself, or smoothed and brightened when
        the last observed frame was dark."""
        if not self.dark:
            return image
        import cv2

        smooth = cv2.GaussianBlur(image, (0, 0), self.config.blur_sigma)
        return cv2.convertScaleAbs(smooth, alpha=self.gain)
