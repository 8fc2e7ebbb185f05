"""Synopsis of a camera's window: where each vehicle passage is drawn, and when it plays.

Pure geometry, no decoding (the pictures are made by `synopsis_render`):

- `layout_still` places each passage's best view on one picture so that no two cut-outs (nor
  their labels) hide each other: at its own position when that is free, else shifted and
  scaled into free space nearby, else into a strip of small insets along the bottom; a moved
  cut-out is joined to its own position by a leader line.
- `schedule_clip` shifts each passage's start on the synopsis clip's timeline so that
  passages from different times play together without their boxes colliding (the smaller
  box, drawn on top, hiding much of the larger), where it can.

Both are deterministic: passages are taken in the order given (the caller sorts them by
camera time, then sighting id) and candidates are tried in a fixed order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from relecture.requisitions.media import BoxTrack

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in picture pixels

LABEL_H = 18  # pixels of the label band above (or below) a cut-out
LABEL_CHAR_W = 8  # pixels per label character (the renderer fits its font to this)
GAP = 2  # pixels kept free between two cut-outs
_SCALES = (1.0, 0.75, 0.5, 0.35)  # sizes tried, nearest positions first at each size
_INSET_SCALES = (0.35, 0.25, 0.18, 0.12)  # the inset strip's sizes
_MIN_SIDE = 12  # a cut-out is never drawn smaller than this many pixels a side
_DIRECTIONS = ((0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (1, -1), (-1, 1), (1, 1))
# Two boxes on the clip collide when the smaller one (drawn on top) hides more than this
# fraction of the larger one: a far car passing over a near one stays a lead for both.
COLLIDE = 0.3


@dataclass(frozen=True)
class Passage:
    """One vehicle passage: its sighting, its label, its best view and its track.

    `box` is the vehicle's box at `best_t` (seconds into its recording); `track` its boxes
    over its whole passage, from `first_t` to `last_t`.
    """

    sighting_id: int
    label: str
    best_t: float
    box: Box
    track: BoxTrack
    first_t: float
    last_t: float

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if not (x2 > x1 and y2 > y1):
            raise ValueError(f"sighting {self.sighting_id}: empty box {self.box}")
        if self.last_t < self.first_t:
            raise ValueError(f"sighting {self.sighting_id}: ends ({self.last_t}) before it "
                             f"starts ({self.first_t})")


@dataclass(frozen=True)
class Placement:
    """Where one passage is drawn on the still: `source` its own position in the picture,
    `placed` where its cut-out goes, `label` the label's rectangle; `moved` when a leader
    line joins the two."""

    sighting_id: int
    source: Box
    placed: Box
    label: Box
    moved: bool
    text: str = ""  # the label's text

    @property
    def footprint(self) -> Box:
        return _union(self.placed, self.label)


@dataclass(frozen=True)
class StillLayout:
    """The placements, in drawing order, and the passages no free space was found for."""

    size: tuple[int, int]  # width, height
    placements: tuple[Placement, ...]
    unplaced: tuple[int, ...]


@dataclass(frozen=True)
class Slot:
    """When a passage plays on the clip: its `first_t` is shown at `shift` seconds."""

    sighting_id: int
    shift: float
    duration: float


def label_width(label: str) -> int:
    return len(label) * LABEL_CHAR_W + 6


def layout_still(passages: Sequence[Passage], size: tuple[int, int],
                 reserved: Sequence[Box] = ()) -> StillLayout:
    """Place each passage, in the order given, where its footprint (cut-out and label) meets
    no footprint placed before it and none of the `reserved` rectangles (a title band)."""
    width, height = size
    taken: list[Box] = list(reserved)
    placed: list[Placement] = []
    unplaced: list[int] = []
    for p in passages:
        spot = _place(p, _clip(p.box, width, height), taken, width, height)
        if spot is None:
            unplaced.append(p.sighting_id)
        else:
            placed.append(spot)
            taken.append(spot.footprint)
    return StillLayout((width, height), tuple(placed), tuple(unplaced))


def _place(p: Passage, source: Box, taken: list[Box], width: int, height: int
           ) -> Placement | None:
    """The first free spot: its own position, then nearby spots, then the inset strip."""
    lw = label_width(p.label)
    for box in (source, *_nearby(source, width, height),
                *_insets(source, lw, width, height)):
        label = label_box(box, lw, width, height)
        footprint = _union(box, label)
        if not any(_overlap(footprint, q, GAP) for q in taken):
            return Placement(p.sighting_id, source, box, label, box != source, p.label)
    return None


def _nearby(source: Box, width: int, height: int):
    """Boxes the size of `source` (then smaller) around it, nearest first, inside the picture."""
    cx, cy = (source[0] + source[2]) / 2, (source[1] + source[3]) / 2
    w, h = source[2] - source[0], source[3] - source[1]
    for scale in _SCALES:
        bw, bh = max(w * scale, _MIN_SIDE), max(h * scale, _MIN_SIDE)
        step = max(bw, bh) / 2
        rings = math.ceil(max(width, height) / step)
        for k in range(0 if scale < 1 else 1, rings + 1):
            for dx, dy in (_DIRECTIONS if k else _DIRECTIONS[:1]):
                box = _fit((cx + dx * k * step - bw / 2, cy + dy * k * step - bh / 2,
                            cx + dx * k * step + bw / 2, cy + dy * k * step + bh / 2),
                           width, height)
                if box is not None:
                    yield box


def _insets(source: Box, lw: int, width: int, height: int):
    """Small copies of `source` along the bottom of the picture, row by row upwards (a
    label `lw` wide beside each)."""
    w, h = source[2] - source[0], source[3] - source[1]
    for scale in _INSET_SCALES:
        bw, bh = max(w * scale, _MIN_SIDE), max(h * scale, _MIN_SIDE)
        y = height - bh
        while y - LABEL_H >= 0:
            x = 0.0
            while x + bw <= width:
                yield (x, y, x + bw, y + bh)
                x += max(bw, lw) + 2 * GAP
            y -= bh + LABEL_H + 2 * GAP


def label_box(box: Box, lw: int, width: int, height: int) -> Box:
    """The label's rectangle: above the box when there is room, else below, else inside."""
    x = min(max(box[0], 0), max(width - lw, 0))
    if box[1] - LABEL_H >= 0:
        return (x, box[1] - LABEL_H, x + lw, box[1])
    if box[3] + LABEL_H <= height:
        return (x, box[3], x + lw, box[3] + LABEL_H)
    return (x, box[1], x + lw, box[1] + LABEL_H)


def _fit(box: Box, width: int, height: int) -> Box | None:
    """`box` moved (not resized) inside the picture, whole pixels; None when it is too big."""
    w, h = box[2] - box[0], box[3] - box[1]
    if w > width or h > height:
        return None
    x1 = float(round(min(max(box[0], 0), width - w)))
    y1 = float(round(min(max(box[1], 0), height - h)))
    return (x1, y1, x1 + round(w), y1 + round(h))


def _clip(box: Box, width: int, height: int) -> Box:
    """`box` cut to the picture, whole pixels, at least one pixel a side."""
    x1 = float(min(max(math.floor(box[0]), 0), width - 1))
    y1 = float(min(max(math.floor(box[1]), 0), height - 1))
    x2 = float(max(min(math.ceil(box[2]), width), x1 + 1))
    y2 = float(max(min(math.ceil(box[3]), height), y1 + 1))
    return (x1, y1, x2, y2)


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _overlap(a: Box, b: Box, gap: float = 0.0) -> bool:
    """Whether `a` and `b` come closer than `gap` pixels (touching counts when gap > 0)."""
    return (a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap
            and b[1] < a[3] + gap)


def boxes_overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share any area (for checks and tests)."""
    return _overlap(a, b)


# -- the clip ---------------------------------------------------------------------------------
def schedule_clip(passages: Sequence[Passage], step: float = 0.4, frame_s: float = 0.08
                  ) -> tuple[Slot, ...]:
    """A start on the clip's timeline for each passage, in the order given: the earliest
    multiple of `step` at which it collides with none scheduled before it on any clip frame
    (`frame_s` apart). A passage that fits nowhere before the clip's current end starts
    there (and collides with nothing)."""
    slots: list[Slot] = []
    for p in passages:
        duration = p.last_t - p.first_t
        end = max((s.shift + s.duration for s in slots), default=0.0)
        shift, k = None, 0
        while k * step <= end:
            if not any(_collide(p, k * step, passages[i], s, frame_s)
                       for i, s in enumerate(slots)):
                shift = k * step
                break
            k += 1
        if shift is None:
            shift = math.ceil(end / step) * step
        slots.append(Slot(p.sighting_id, round(shift, 6), duration))
    return tuple(slots)


def _collide(p: Passage, shift: float, q: Passage, slot: Slot, frame_s: float) -> bool:
    """Whether `p` played from `shift` and `q` played from `slot.shift` collide on a frame."""
    start = max(shift, slot.shift)
    end = min(shift + p.last_t - p.first_t, slot.shift + slot.duration)
    if end < start:
        return False
    n = max(1, math.ceil((end - start) / frame_s))
    for i in range(n + 1):
        tau = start + (end - start) * i / n
        a = p.track.at(p.first_t + tau - shift)
        b = q.track.at(q.first_t + tau - slot.shift)
        if a is not None and b is not None and hidden_share(a, b) > COLLIDE:
            return True
    return False


def hidden_share(a: Box, b: Box) -> float:
    """How much of the larger of `a` and `b` the smaller hides (the smaller is drawn on top
    of it): the area they share as a fraction of the larger."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    larger = max((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / larger if larger > 0 else 0.0
