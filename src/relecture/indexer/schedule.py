"""When and where the (expensive) detector looks.

By default (`sparse=False`), at a fixed cadence: the whole frame at most `detect_fps` times
a second while anything moves, at once again for a second look at a new unsure track, and
every `heartbeat_s` regardless. A weak box that continued no track (a vehicle entering at
the frame's edge, far or dark, scored below the threshold: it starts no track) is looked at
again on the next sampled frame, in a crop around it, when it moves, lies outside every
track's expected region, and no weak box was there in the last second (a parked car, a far
car the detector never scores high).

The detector is the largest cost of indexing, and on busy CCTV something moves in nearly
every frame. Most of that motion is a vehicle already tracked, so with `sparse=True`, as
Boggart and OTIF do, the detector runs:

- at a track's start, and at once again when that first detection was unsure (a lone
  unsure detection is dropped as a false alarm unless a second look confirms it);
- on a young track (fewer than `young_hits` detections) every `quick_refresh_s`, so its
  velocity is known before the gaps grow;
- on a track whose predicted box has moved more than `max_change` of its size since its
  last detection (a car near the camera, or driving away and shrinking, changes fast),
  every `quick_refresh_s` too;
- on each live track every `refresh_s` (persons, kept only for blurring, every
  `person_refresh_s`) while anything moves, so tracks stay placed between detections by
  their predicted motion and a stopped vehicle is not cut in two; a track the detector
  looked for and did not find waits as long again;
- where motion appears outside every track's expected region (a new vehicle), at most every
  `new_motion_interval_s`; motion that was already there, unexplained, when the detector
  last looked less than `recheck_s` ago is not new (swaying trees, a background ghost, a
  rider the detector misses);
- on the whole frame at least every `heartbeat_s` (slow or stopped vehicles are still seen).

What is due in one frame is joined into one region (tracks due soon come along, so their
refreshes stay in step). When it is small next to the frame, the detector sees only that
crop (as Frigate does), scaled as the whole frame would be (`indexer.regions`): a network
pass costs about its input's pixels. Larger regions take the whole frame.

On the busy shared videos most passes are second looks and young or fast-changing tracks
(vehicles cross the picture in 2-3 s): BENCHMARKS.md has the counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from relecture.detections import box_iou, share_inside
from relecture.indexer.track import LiveBox

# Why a pass runs, most urgent first (counted in `DetectScheduler.reasons`).
REASONS = ("heartbeat", "confirm", "quick", "refresh", "new_motion", "cadence")


@dataclass(frozen=True)
class ScheduleConfig:
    """When the detector runs (see the module docstring; figures in BENCHMARKS.md)."""

    # False: the fixed cadence (the whole frame at most `detect_fps` times a second while
    # anything moves, a second look at once at a new unsure track, the heartbeat). On the
    # shared videos the sparse schedule kept 0.940 of the former SSD baseline's tracks
    # (target 0.95) for no less CPU: vehicles cross these busy pictures in 2-3 s, so most
    # tracks are young or fast-changing and due every third of a second (BENCHMARKS.md).
    sparse: bool = False
    detect_fps: float = 3.0  # the fixed cadence's most passes a second
    refresh_s: float = 1.0  # a live vehicle track is detected again at least this often
    person_refresh_s: float = 1.5  # persons (blurring only), within the tracker's max gap
    batch_s: float = 0.5  # tracks due within this long come along with one that is due
    max_change: float = 0.5  # predicted sides moved this much of the box's size: detect again
    young_hits: int = 3  # a track with fewer detections than this is young...
    quick_refresh_s: float = 1.0 / 3.0  # ...and, like a fast-changing one, detected this often
    new_motion_interval_s: float = 1.0 / 3.0  # new motion calls the detector at most this often
    # Motion where the detector looked this recently is not new. 1.0 s lost the slow cars of
    # the overhead car park (share 2/4 of the dense baseline's tracks, 3/4 at 0.3 s).
    recheck_s: float = 0.3
    heartbeat_s: float = 10.0  # the whole frame at least this often, motion or not
    confirm_new_tracks: bool = True  # look again at once when a new track is unsure...
    confirm_within_s: float = 0.3  # ...on the next sampled frame (5 fps) only
    unsure_memory_s: float = 1.0  # a weak box where one was this recently is not new...
    unsure_same_iou: float = 0.3  # ...when it overlaps it this much
    unsure_explained: float = 0.5  # a weak box this much inside a track's expected region is
    # a part of that vehicle (or the vehicle the track lost), not a new one
    unsure_motion: float = 0.1  # motion around a weak box, in shares of its area, to look again
    motion_fraction: float = 0.002  # share of the frame's pixels that counts as motion
    cover_margin: float = 0.3  # a track's expected region, grown by this share of its size
    regions: bool = True  # crop the detector's input to what is due when it is small
    region_margin: float = 0.25  # a region grows by this share of its size on each side...
    region_min_px: int = 96  # ...and is at least this many frame pixels a side
    max_region_share: float = 0.5  # a region larger than this share of the frame: whole frame
    detector_long_side: int = 640  # crops are scaled as the detector scales the whole frame


@dataclass(frozen=True)
class Region:
    """Where the detector looks, in frame pixels (x2, y2 exclusive); `full`: whole frame."""

    x1: int
    y1: int
    x2: int
    y2: int
    full: bool = False

    def __post_init__(self) -> None:
        if self.x2 <= self.x1 or self.y2 <= self.y1:
            raise ValueError(f"Region needs x1 < x2 and y1 < y2, got {self}")


class DetectScheduler:
    """Decides, frame by frame, whether and where the detector runs (one per recording).
    `reasons` counts why it ran (heartbeat, confirm, quick, refresh, new_motion)."""

    def __init__(self, config: ScheduleConfig = ScheduleConfig()):
        self.config = config
        self.reasons: Counter[str] = Counter()
        self._checked: np.ndarray | None = None  # per motion-mask pixel: last time looked at
        self._last_full_t = float("-inf")
        self._last_pass_t = float("-inf")
        self._last_new_motion_t = float("-inf")
        self._looked: dict[int, float] = {}  # track id -> last time the detector looked for it
        self._tracks: list[LiveBox] = []  # the live tracks of the last plan
        self._unsure: list[tuple[float, ...]] = []  # weak vehicle boxes no track took...
        self._unsure_t = float("-inf")  # ...on the pass at this time
        self._unsure_seen: list[tuple[float, tuple[float, ...]]] = []  # (t, box), recent

    def plan(self, t: float, mask: np.ndarray, shape: tuple[int, ...],
             tracks: list[LiveBox]) -> Region | None:
        """The region to detect in at time t (None: no detector pass). `mask`: the motion
        mask (any size; it spans the frame), `shape`: the frame's, `tracks`: the live ones."""
        c = self.config
        height, width = shape[:2]
        self._tracks = tracks
        if self._checked is None or self._checked.shape != mask.shape:
            self._checked = np.full(mask.shape, float("-inf"))
        if t - self._last_full_t >= c.heartbeat_s:
            self.reasons["heartbeat"] += 1
            return Region(0, 0, width, height, full=True)
        moving = mask.mean() >= c.motion_fraction
        if not c.sparse:
            return self._cadence(t, moving, mask, tracks, shape)
        waits = [self._wait(t, tr, moving) for tr in tracks]
        due = [(tr, why) for tr, (wait, why) in zip(tracks, waits) if wait <= 0]
        if due:
            self.reasons[min((why for _, why in due), key=REASONS.index)] += 1
            # Tracks due soon come along: one pass serves them all, and their next refreshes
            # stay in step instead of calling the detector on every frame in turn.
            due = [(tr, why) for tr, (wait, why) in zip(tracks, waits) if wait <= c.batch_s]
        # A track seen once has no velocity yet: it may be a box length from where it was.
        rects = [_grow(tr.swept, 1.0 if tr.hits < 2 else c.cover_margin) for tr, _ in due]
        new = self._new_motion(t, mask, tracks, shape)
        if new is not None and (rects or t - self._last_new_motion_t >= c.new_motion_interval_s):
            # new motion joins any pass that is due anyway; alone, it waits its interval
            if not rects:
                self.reasons["new_motion"] += 1
            rects.append(new)
            self._last_new_motion_t = t
        if not rects:
            return None
        return self._region(rects, width, height)

    def done(self, t: float, region: Region, mask: np.ndarray, shape: tuple[int, ...],
             live: set[int]) -> None:
        """Record that the detector looked at `region` at time t, when the frame's motion
        was `mask`; `live`: the ids of the tracks still open (the others are forgotten)."""
        self._last_full_t = t if region.full else self._last_full_t
        self._last_pass_t = t
        if self._checked is None or self._checked.shape != mask.shape:
            self._checked = np.full(mask.shape, float("-inf"))
        scale = (mask.shape[1] / shape[1], mask.shape[0] / shape[0])
        x1, y1, x2, y2 = _to_mask((region.x1, region.y1, region.x2, region.y2), scale, mask.shape)
        self._checked[y1:y2, x1:x2][mask[y1:y2, x1:x2]] = t
        self._looked = {tid: v for tid, v in self._looked.items() if tid in live}
        for tr in self._tracks:
            if region.full or _inside(tr.swept, region):
                self._looked[tr.track_id] = t

    def unsure(self, t: float, boxes: list[tuple[float, ...]]) -> None:
        """The weak vehicle boxes of the pass at time t that continued no track. A vehicle
        the detector is unsure of where it enters (cut by the frame edge, far, dark) starts
        no track, so the cadence looks there again on the next sampled frame; a weak box
        where one was in the last second (a parked car, a far car always weak) is not new."""
        c = self.config
        recent = [b for bt, b in self._unsure_seen if t - bt <= c.unsure_memory_s]
        self._unsure = [b for b in boxes if not recent
                        or box_iou([b], recent).max() < c.unsure_same_iou]
        self._unsure_t = t
        self._unsure_seen = [(bt, b) for bt, b in self._unsure_seen
                             if t - bt <= c.unsure_memory_s] + [(t, b) for b in boxes]

    def _cadence(self, t: float, moving: bool, mask: np.ndarray, tracks: list[LiveBox],
                 shape: tuple[int, ...]) -> Region | None:
        """The fixed cadence: the whole frame while anything moves, at most `detect_fps`
        times a second, and at once for a second look at a new unsure track (the whole frame)
        or at a new weak box that moves (a crop around it: see `unsure`)."""
        c = self.config
        height, width = shape[:2]
        if not moving:
            return None
        if c.confirm_new_tracks and any(not tr.confirmed and tr.last_t >= self._last_pass_t
                                        for tr in tracks):
            self.reasons["confirm"] += 1
        elif t - self._last_full_t >= 1.0 / c.detect_fps - 1e-6:
            # the cadence counts whole-frame passes only: a second look's crop (a weak box's
            # surroundings) does not stand for the frame, nor put off its next pass
            self.reasons["cadence"] += 1
        elif (c.confirm_new_tracks and t - self._unsure_t <= c.confirm_within_s
              and (new := self._new_unsure(mask, shape, tracks))):
            self.reasons["confirm"] += 1
            return self._region([_grow(b, 1.0) for b in new], width, height)
        else:
            return None
        return Region(0, 0, width, height, full=True)

    def _new_unsure(self, mask: np.ndarray, shape: tuple[int, ...],
                    tracks: list[LiveBox]) -> list[tuple[float, ...]]:
        """The last pass's new weak boxes that move and lie mostly outside every track's
        expected region (a weak box on a tracked vehicle is a part of it, not another)."""
        c = self.config
        expected = [_grow(tr.swept, c.cover_margin) for tr in tracks]
        return [b for b in self._unsure if _moves(mask, shape, b, c.unsure_motion)
                and max((share_inside(b, e) for e in expected), default=0.0) < c.unsure_explained]

    def _wait(self, t: float, tr: LiveBox, moving: bool) -> tuple[float, str]:
        """(seconds until the track is due, why it will be); inf when it will not be."""
        c = self.config
        if tr.is_person:  # kept for blurring only: placed roughly, never looked at quickly
            every, why = c.person_refresh_s, "refresh"
        elif not tr.confirmed and t - tr.last_t <= c.confirm_within_s:
            return (0.0 if c.confirm_new_tracks else float("inf")), "confirm"
        elif tr.hits < c.young_hits or tr.change >= c.max_change:
            every, why = c.quick_refresh_s, "quick"
        else:
            every, why = c.refresh_s, "refresh"
        if not moving:
            return float("inf"), why
        since = t - max(tr.last_t, self._looked.get(tr.track_id, float("-inf")))
        return every - since - 1e-6, why

    def _new_motion(self, t: float, mask: np.ndarray, tracks: list[LiveBox],
                    shape: tuple[int, ...]) -> tuple[float, ...] | None:
        """The frame box around motion outside every track's expected region that was not
        already there, unexplained, when the detector last looked (None: too little)."""
        c = self.config
        scale = (mask.shape[1] / shape[1], mask.shape[0] / shape[0])
        covered = np.zeros(mask.shape, bool)
        for tr in tracks:
            x1, y1, x2, y2 = _to_mask(_grow(tr.swept, c.cover_margin), scale, mask.shape)
            covered[y1:y2, x1:x2] = True
        new = mask & ~covered & (t - self._checked >= c.recheck_s)
        if new.mean() < c.motion_fraction:
            return None
        ys, xs = np.nonzero(new)
        return (xs.min() / scale[0], ys.min() / scale[1],
                (xs.max() + 1) / scale[0], (ys.max() + 1) / scale[1])

    def _region(self, rects: list[tuple[float, ...]], width: int, height: int) -> Region:
        c = self.config
        box = np.array(rects, np.float64)
        x1, y1 = box[:, 0].min(), box[:, 1].min()
        x2, y2 = box[:, 2].max(), box[:, 3].max()
        gx = max(c.region_margin * (x2 - x1), (c.region_min_px - (x2 - x1)) / 2, 0.0)
        gy = max(c.region_margin * (y2 - y1), (c.region_min_px - (y2 - y1)) / 2, 0.0)
        x1, y1 = int(max(0, x1 - gx)), int(max(0, y1 - gy))
        x2, y2 = int(min(width, np.ceil(x2 + gx))), int(min(height, np.ceil(y2 + gy)))
        share = (x2 - x1) * (y2 - y1) / float(width * height)
        if not c.regions or share > c.max_region_share or x2 <= x1 or y2 <= y1:
            return Region(0, 0, width, height, full=True)
        return Region(x1, y1, x2, y2)


def _grow(box: tuple[float, ...], margin: float) -> tuple[float, ...]:
    x1, y1, x2, y2 = box
    gx, gy = margin * (x2 - x1), margin * (y2 - y1)
    return x1 - gx, y1 - gy, x2 + gx, y2 + gy


def _to_mask(box: tuple[float, ...], scale: tuple[float, float],
             mask_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A frame box as mask index bounds (clipped; at least one pixel where it overlaps)."""
    mh, mw = mask_shape[:2]
    x1 = int(np.clip(np.floor(box[0] * scale[0]), 0, mw))
    y1 = int(np.clip(np.floor(box[1] * scale[1]), 0, mh))
    x2 = int(np.clip(np.ceil(box[2] * scale[0]), 0, mw))
    y2 = int(np.clip(np.ceil(box[3] * scale[1]), 0, mh))
    return x1, y1, x2, y2


def _moves(mask: np.ndarray, shape: tuple[int, ...], box: tuple[float, ...],
           share: float) -> bool:
    """Whether something moves around the frame box, where a second look would search (at
    least `share` of the box's area: a fast car may have left the box itself)."""
    scale = (mask.shape[1] / shape[1], mask.shape[0] / shape[0])
    x1, y1, x2, y2 = _to_mask(_grow(box, 1.0), scale, mask.shape)
    area = (box[2] - box[0]) * (box[3] - box[1]) * scale[0] * scale[1]
    return mask[y1:y2, x1:x2].sum() >= share * max(area, 1.0)


def _inside(box: tuple[float, ...], region: Region) -> bool:
    return (box[0] >= region.x1 and box[1] >= region.y1
            and box[2] <= region.x2 and box[3] <= region.y2)
