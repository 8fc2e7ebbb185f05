"""Keep, per live track, the few best views of the vehicle for the describe step.

A view is a crop of the full-resolution frame around the box (with a margin so the plate
and the bumper are inside). Bounded memory: at most `k` views per live track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrackView:
    """One crop of a vehicle: when, where (box and crop origin in the frame), how good."""

    t: float
    crop: np.ndarray  # BGR
    origin: tuple[int, int]  # top-left of the crop in the frame
    box: tuple[float, float, float, float]  # vehicle box in frame pixels
    quality: float

    @property
    def box_in_crop(self) -> tuple[int, int, int, int]:
        x1, y1, x2, y2 = self.box
        ox, oy = self.origin
        return int(x1 - ox), int(y1 - oy), int(x2 - ox), int(y2 - oy)

    @property
    def vehicle(self) -> np.ndarray:
        """The crop restricted to the vehicle box (no margin)."""
        x1, y1, x2, y2 = self.box_in_crop
        return self.crop[max(0, y1):max(y1 + 1, y2), max(0, x1):max(x1 + 1, x2)]


def view_quality(box: np.ndarray, confidence: float, width: int, height: int) -> float:
    """Bigger, surer and not cut by the frame edge is better."""
    x1, y1, x2, y2 = box
    area = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    margin = 2.0
    cut = x1 <= margin or y1 <= margin or x2 >= width - margin or y2 >= height - margin
    return float(np.sqrt(area) * confidence * (0.5 if cut else 1.0))


class BestViews:
    """The k best views of each live track."""

    def __init__(self, k: int = 3, margin: float = 0.12):
        self.k = k
        self.margin = margin
        self._views: dict[int, list[TrackView]] = {}

    def offer(self, track_id: int, t: float, image: np.ndarray, box: np.ndarray, conf: float) -> None:
        h, w = image.shape[:2]
        q = view_quality(box, conf, w, h)
        views = self._views.setdefault(track_id, [])
        if len(views) >= self.k and q <= views[-1].quality:
            return
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * self.margin, (y2 - y1) * self.margin
        cx1, cy1 = int(max(0, x1 - mx)), int(max(0, y1 - my))
        cx2, cy2 = int(min(w, x2 + mx)), int(min(h, y2 + my))
        if cx2 - cx1 < 4 or cy2 - cy1 < 4:
            return
        view = TrackView(t=t, crop=image[cy1:cy2, cx1:cx2].copy(), origin=(cx1, cy1),
                         box=tuple(float(v) for v in box), quality=q)
        views.append(view)
        views.sort(key=lambda v: -v.quality)
        del views[self.k:]

    def pop(self, track_id: int) -> list[TrackView]:
        """The views of a finished track, best first (and forget them)."""
        return self._views.pop(track_id, [])

    def retain(self, track_ids: set[int]) -> None:
        """Forget the views of every track not in `track_ids` (dropped as false alarms)."""
        for tid in list(self._views):
            if tid not in track_ids:
                del self._views[tid]
