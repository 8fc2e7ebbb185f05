"""Direction of travel of one track: the picture border it entered and left by, and whether
it drove away from the camera or towards it.

Sides come from the first and last boxes: a box within `edge_px` of a border touches it
(the detector clips boxes to the frame), and of the borders it touches the one the
vehicle moves away from is where it came in (towards, where it went out); a box touching
no border appeared or vanished inside the picture (`INSIDE`: a detector that found it
late, a queue, a stop, a vehicle hidden by another).

Away or towards comes from two cues that agree on a street camera mounted above the road:
a vehicle coming nearer looks larger and moves down the picture (its box's bottom, where
it meets the road, comes towards the lower border). The size trend is measured on the
first and last thirds of the boxes, on the box's width only among boxes not cut by the
left or right border, and on its height only among boxes not cut by the top or bottom
border: a car entering the picture cut by its bottom border grows in height as it comes
into view while it drives away. Each cue is scaled to one "clear" unit (a quarter larger
or smaller; 15% of the picture's height) and the two are summed; under one unit the
motion is left unknown (across the picture, or too short to tell).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relecture.sightings import INSIDE, SIDES, TrackBox, Travel


@dataclass(frozen=True)
class DirectionConfig:
    edge_share: float = 0.01  # a box this close to a border (share of the side)...
    edge_min_px: float = 2.0  # ...or this many pixels, whichever is more, touches it
    clear_growth: float = 1.25  # size ratio counted as one clear unit of approach
    clear_drop: float = 0.15  # downward move of the box bottom (share of height): one unit
    min_score: float = 1.0  # summed units under this: motion unknown


def touching(xyxy: Sequence[float], width: float, height: float,
             config: DirectionConfig = DirectionConfig()) -> set[str]:
    """The borders of a `width` x `height` picture that the box touches."""
    x1, y1, x2, y2 = xyxy
    ex = max(config.edge_min_px, config.edge_share * width)
    ey = max(config.edge_min_px, config.edge_share * height)
    return {side for side, hit in (("left", x1 <= ex), ("right", x2 >= width - ex),
                                   ("top", y1 <= ey), ("bottom", y2 >= height - ey)) if hit}


def _side(touched: set[str], dx: float, dy: float, leaving: bool) -> str:
    """The touched border the motion (dx, dy) points away from (entering) or to (leaving)."""
    if not touched:
        return INSIDE
    sign = 1.0 if leaving else -1.0
    towards = {"left": -dx, "right": dx, "top": -dy, "bottom": dy}
    return max(sorted(touched, key=SIDES.index), key=lambda s: sign * towards[s])


def _log_growth(values: np.ndarray) -> float | None:
    """log(median of the last third / median of the first third); None under 2 values."""
    if len(values) < 2:
        return None
    k = max(1, len(values) // 3)
    first, last = float(np.median(values[:k])), float(np.median(values[-k:]))
    if first <= 0 or last <= 0:
        return None
    return math.log(last / first)


def growth(boxes: Sequence[TrackBox], width: float, height: float,
           config: DirectionConfig = DirectionConfig()) -> float | None:
    """The track's log size trend (positive: it grows), the mean of the width trend over
    boxes not cut at the left or right and the height trend over boxes not cut at the top
    or bottom (a cut box is short in that direction only); None when neither can be
    measured."""
    cuts = [touching(b.xyxy, width, height, config) for b in boxes]
    widths = np.asarray([b.xyxy[2] - b.xyxy[0] for b, c in zip(boxes, cuts)
                         if not c & {"left", "right"}])
    heights = np.asarray([b.xyxy[3] - b.xyxy[1] for b, c in zip(boxes, cuts)
                          if not c & {"top", "bottom"}])
    trends = [g for g in (_log_growth(widths), _log_growth(heights)) if g is not None]
    return sum(trends) / len(trends) if trends else None


def motion_score(boxes: Sequence[TrackBox], width: float, height: float,
                 config: DirectionConfig = DirectionConfig()) -> float:
    """Clear units of approach (positive: towards the camera, negative: away): the size
    trend over `clear_growth` plus the box bottom's move down over `clear_drop`."""
    if len(boxes) < 2:
        return 0.0
    g = growth(boxes, width, height, config)
    drop = (boxes[-1].xyxy[3] - boxes[0].xyxy[3]) / max(height, 1.0)
    return (g or 0.0) / math.log(config.clear_growth) + drop / config.clear_drop


def travel(boxes: Sequence[TrackBox], width: float, height: float,
           config: DirectionConfig = DirectionConfig()) -> Travel:
    """Entry and exit sides and away/towards motion of a track in a `width` x `height`
    picture (see the module docstring)."""
    first, last = boxes[0].xyxy, boxes[-1].xyxy
    dx = ((last[0] + last[2]) - (first[0] + first[2])) / 2 / max(width, 1.0)
    dy = ((last[1] + last[3]) - (first[1] + first[3])) / 2 / max(height, 1.0)
    entry = _side(touching(first, width, height, config), dx, dy, leaving=False)
    exit_ = _side(touching(last, width, height, config), dx, dy, leaving=True)
    score = motion_score(boxes, width, height, config)
    # two clear units (both cues, or one twice over) make a sure direction
    sure = round(min(1.0, abs(score) / 2), 2)
    if abs(score) < config.min_score:
        return Travel(entry, exit_, None, sure)
    return Travel(entry, exit_, "towards" if score > 0 else "away", sure)
