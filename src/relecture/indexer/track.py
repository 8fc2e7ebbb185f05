"""Link per-frame detections into tracks: one track per vehicle passage.

Detections arrive on sparse frames (the gate lets through a few per second), so matching
predicts each track's box with its velocity and accepts a match on overlap or on a centre
close enough for the box size. Sure detections are matched first and start tracks; weak
ones (below the detector's threshold) then only continue tracks left unmatched, so a
vehicle the detector is unsure of for a few frames (seen from above, half hidden, cut by
the frame edge) stays one track, and weak boxes no track took that lead into a new track's
first sure box join it (a vehicle entering unsure). A sure box that no track took is then
tried against the tracks unseen for longer than the prediction's horizon (a vehicle hidden
behind a pole or another vehicle), predicted over the whole gap. Persons and vehicles never
share a track; a vehicle track may see its label flip (car/truck) and keeps the majority.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from relecture.detections import LABELS, PERSON, Detections, box_iou, label_id, share_inside
from relecture.sightings import TrackBox


@dataclass(frozen=True)
class TrackerConfig:
    max_gap_s: float = 2.0  # a track unseen this long is finished
    min_hits: int = 2  # detections needed to keep a track...
    single_hit_confidence: float = 0.6  # ...unless its one detection is this sure
    match_iou: float = 0.1
    match_centre: float = 1.2  # centre distance, in units of the smaller box's larger side
    max_size_ratio: float = 2.0  # a box this much larger or smaller is another vehicle
    predict_horizon_s: float = 0.7  # motion is extrapolated this far at most (see _Live.predict)
    # A weak box must overlap the predicted box this much (no centre-distance match): it may
    # not carry a track over to the next vehicle in a queue.
    weak_match_iou: float = 0.3
    weak_carry_s: float = 1.0  # weak boxes carry a track this long after its last sure box
    # A new track takes the weak boxes that no track took in this long before its first sure
    # box, when they lead into it (each overlapping the next by `weak_match_iou`): a vehicle
    # entering unsure (seen from above, dark, far) is scored sure only once, as it leaves.
    lead_in_s: float = 1.0
    lead_in_motion: float = 0.25  # ...and moved by this share of its size to reach it;
    lead_in_inside: float = 0.5  # a weak box this much inside a live track's is a part of it
    # a track unseen past predict_horizon_s is looked for over the whole gap when it has this
    # many boxes (its velocity is then known)
    recover_min_boxes: int = 3


@dataclass(frozen=True)
class Track:
    """A finished track: every box it had, and the label most of its detections gave."""

    track_id: int
    label: str
    boxes: tuple[TrackBox, ...]

    @property
    def is_person(self) -> bool:
        return self.label == "person"

    @property
    def first_t(self) -> float:
        return self.boxes[0].t

    @property
    def last_t(self) -> float:
        return self.boxes[-1].t


@dataclass(frozen=True)
class LiveBox:
    """Where a live track is expected at a given time, for the detector's scheduler."""

    track_id: int
    is_person: bool
    last_t: float  # time of its last detection
    box: tuple[float, float, float, float]  # its last detected box
    # Its box at that time extrapolated by its velocity, with no horizon: the scheduler wants
    # where it could be and how far it may have gone, not the best single guess.
    predicted: tuple[float, float, float, float]
    confirmed: bool  # enough detections (or one sure enough) to be kept
    hits: int  # detections so far

    @property
    def swept(self) -> tuple[float, float, float, float]:
        """The region it may occupy: its last box joined with the predicted one."""
        (a1, b1, a2, b2), (c1, d1, c2, d2) = self.box, self.predicted
        return min(a1, c1), min(b1, d1), max(a2, c2), max(b2, d2)

    @property
    def change(self) -> float:
        """How far the predicted box's sides have moved from the last box, in units of the
        last box's larger side (a vehicle driving away shrinks: no side stays put)."""
        x1, y1, x2, y2 = self.box
        size = max(x2 - x1, y2 - y1, 1.0)
        return max(abs(p - b) for p, b in zip(self.predicted, self.box)) / size


@dataclass
class _Live:
    track_id: int
    is_person: bool
    boxes: list[TrackBox] = field(default_factory=list)
    votes: Counter = field(default_factory=Counter)
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    growth: float = 0.0  # d(log size)/dt: a vehicle's size changes geometrically
    last_sure_t: float = float("-inf")
    best: dict[int, float] = field(default_factory=dict)  # label id -> best sure box's score

    def predict(self, t: float, horizon_s: float) -> np.ndarray:
        # Perspective slows a vehicle down on screen as it drives away: extrapolating its
        # velocity over a long gap overshoots, so the extrapolation stops at `horizon_s`.
        last = self.boxes[-1]
        return np.asarray(last.xyxy, np.float32) + self.velocity * min(t - last.t, horizon_s)

    def predicted_size(self, t: float, horizon_s: float) -> float:
        """The box's larger side at time t, its growth extrapolated geometrically (a car
        coming towards the camera grows ever faster, one driving away never shrinks to
        nothing), up to `horizon_s`."""
        last = self.boxes[-1]
        return _size(last.xyxy) * float(np.exp(self.growth * min(t - last.t, horizon_s)))

    def add(self, t: float, box: np.ndarray, conf: float, label: int, vote: bool = True) -> None:
        if self.boxes:
            prev = self.boxes[-1]
            dt = t - prev.t
            if dt > 0:
                v = (box - np.asarray(prev.xyxy, np.float32)) / dt
                self.velocity = v if len(self.boxes) == 1 else 0.5 * self.velocity + 0.5 * v
                g = float(np.log(_size(box) / _size(prev.xyxy))) / dt
                self.growth = g if len(self.boxes) == 1 else 0.5 * self.growth + 0.5 * g
        self.boxes.append(TrackBox(t=t, xyxy=tuple(float(x) for x in box), confidence=conf))
        if vote:  # a weak box's label is a guess: it places the vehicle, it does not name it
            self.votes[label] += conf
            self.best[label] = max(conf, self.best.get(label, 0.0))
            self.last_sure_t = t


def _centre_shift(a, b) -> float:
    """How far apart the centres of boxes a and b are, in pixels."""
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))


def _size(xyxy) -> float:
    """A box's larger side (at least one pixel)."""
    return max(float(xyxy[2] - xyxy[0]), float(xyxy[3] - xyxy[1]), 1.0)


class Tracker:
    """Greedy IoU/centre tracker with constant-velocity prediction. `naming`: (label,
    score, other label) triples from the detector (`VehicleDetector.naming`): a track is
    named `label` only when one of its boxes scored `score` as it, else `other label`."""

    def __init__(self, config: TrackerConfig = TrackerConfig(),
                 naming: tuple[tuple[str, float, str], ...] = ()):
        self.config = config
        self.naming = {label_id(name): (score, label_id(other)) for name, score, other in naming}
        self._live: list[_Live] = []
        self._next_id = 1
        self._last_t = float("nan")  # time of the last update
        self._spare_weak: list[tuple[float, bool, np.ndarray, float]] = []  # see lead_in_s

    def update(self, t: float, dets: Detections) -> tuple[list[int], list[Track]]:
        """Match `dets` (taken at time t) to tracks.

        Returns the track id given to each detection (in order) and the tracks that
        finished because they were not seen for `max_gap_s`.
        """
        finished = self._expire(t)
        self._last_t = t
        ids = [0] * len(dets)
        for is_person in (False, True):
            kind = (dets.class_id == PERSON) == is_person
            sure = np.flatnonzero(kind & dets.sure)
            live = [tr for tr in self._live if tr.is_person == is_person]
            self._assign(t, dets, sure, live, ids, weak=False)
            # Weak boxes only continue the tracks no sure box continued; they start none.
            seen = set(ids)
            carried = [tr for tr in live if tr.track_id not in seen
                       and t - tr.last_sure_t <= self.config.weak_carry_s]
            self._assign(t, dets, np.flatnonzero(kind & dets.weak), carried, ids, weak=True)
            # A vehicle hidden for a while (behind a pole, a barrier arm, another vehicle)
            # has driven on: a track with a known velocity, unseen past the prediction's
            # horizon, is looked for where its full motion puts it.
            seen = set(ids)
            lost = [tr for tr in live if tr.track_id not in seen
                    and len(tr.boxes) >= self.config.recover_min_boxes
                    and t - tr.boxes[-1].t > self.config.predict_horizon_s]
            unmatched = np.asarray([j for j in sure if ids[j] == 0], np.int64)
            self._assign(t, dets, unmatched, lost, ids, weak=False,
                         horizon_s=self.config.max_gap_s)
            for j in sure:
                if ids[j] == 0:
                    tr = _Live(track_id=self._next_id, is_person=is_person)
                    self._next_id += 1
                    for bt, box, conf in self._lead_in(t, dets.xyxy[j], is_person):
                        tr.add(bt, box, conf, int(dets.class_id[j]), vote=False)
                    tr.add(t, dets.xyxy[j], float(dets.confidence[j]), int(dets.class_id[j]))
                    self._live.append(tr)
                    ids[j] = tr.track_id
        self._keep_spare_weak(t, dets, ids)
        return ids, finished

    def _keep_spare_weak(self, t: float, dets: Detections, ids: list[int]) -> None:
        """Remember the weak boxes no track took, for `_lead_in`, except those lying mostly
        inside a live track's box (a part of a tracked vehicle, not another one)."""
        c = self.config
        self._spare_weak = [w for w in self._spare_weak if t - w[0] <= c.lead_in_s]
        left = [j for j in np.flatnonzero(dets.weak) if ids[j] == 0]
        if not left:  # most frames: nothing to remember, no prediction to make
            return
        placed = [tr.predict(t, c.predict_horizon_s) for tr in self._live]
        self._spare_weak += [
            (t, bool(dets.class_id[j] == PERSON), dets.xyxy[j].copy(), float(dets.confidence[j]))
            for j in left
            if max((share_inside(dets.xyxy[j], p) for p in placed), default=0.0) < c.lead_in_inside]

    def _lead_in(self, t: float, box: np.ndarray, is_person: bool):
        """The spare weak boxes leading into a new track's first sure `box` at time t, in
        time order (taken: each serves one track), going back at most `lead_in_s`."""
        chain, taken, current = [], set(), box
        for i in sorted(range(len(self._spare_weak)), key=lambda i: -self._spare_weak[i][0]):
            bt, person, wbox, conf = self._spare_weak[i]
            if person != is_person or t - bt > self.config.lead_in_s or (
                    chain and bt >= chain[-1][0]):  # one box a moment, going back in time
                continue
            if box_iou(wbox[None], current[None])[0, 0] >= self.config.weak_match_iou:
                chain.append((bt, wbox, conf))
                taken.add(i)
                current = wbox
        # Only a vehicle that moved into its sure box: weak boxes standing where it is are a
        # parked car or scenery the detector is never sure of, not a vehicle entering.
        if not chain or _centre_shift(chain[-1][1], box) < self.config.lead_in_motion * _size(box):
            return []
        self._spare_weak = [w for i, w in enumerate(self._spare_weak) if i not in taken]
        return chain[::-1]

    def _assign(self, t: float, dets: Detections, idx: np.ndarray, live: list[_Live],
                ids: list[int], weak: bool, horizon_s: float | None = None) -> None:
        for det_i, tr in self._match(t, dets.xyxy[idx], live, weak, horizon_s):
            j = idx[det_i]
            tr.add(t, dets.xyxy[j], float(dets.confidence[j]), int(dets.class_id[j]),
                   vote=not dets.weak[j])
            ids[j] = tr.track_id

    def live_boxes(self, t: float) -> list[LiveBox]:
        """Every live track with the region it may occupy at time t."""
        out = []
        c = self.config
        for tr in self._live:
            last = tr.boxes[-1]
            now = np.asarray(last.xyxy, np.float32) + tr.velocity * max(0.0, t - last.t)
            confirmed = len(tr.boxes) >= c.min_hits or last.confidence >= c.single_hit_confidence
            out.append(LiveBox(tr.track_id, tr.is_person, last.t, last.xyxy,
                               tuple(float(v) for v in now), confirmed, len(tr.boxes)))
        return out

    def live_ids(self) -> set[int]:
        """Ids of the tracks still open."""
        return {tr.track_id for tr in self._live}

    def flush(self) -> list[Track]:
        """Finish every live track (end of the recording)."""
        done = [self._finish(tr) for tr in self._live]
        self._live = []
        return [tr for tr in done if tr is not None]

    def _match(self, t: float, boxes: np.ndarray, live: list[_Live], weak: bool = False,
               horizon_s: float | None = None):
        if not len(boxes) or not live:
            return []
        h = self.config.predict_horizon_s if horizon_s is None else horizon_s
        pred = np.stack([tr.predict(t, h) for tr in live])
        iou = box_iou(boxes, pred)
        cb = (boxes[:, None, :2] + boxes[:, None, 2:]) / 2
        cp = (pred[None, :, :2] + pred[None, :, 2:]) / 2
        size_b = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])[:, None]
        # Sizes compare with the last seen box (a linear extrapolation of the sides soon
        # undershoots a car driving away) and with the size extrapolated geometrically (a
        # car coming close to the camera grows ever faster): a box similar to either fits.
        last = np.asarray([tr.boxes[-1].xyxy for tr in live], np.float32)
        size_l = np.maximum(last[:, 2] - last[:, 0], last[:, 3] - last[:, 1])[None, :]
        size_g = np.asarray([tr.predicted_size(t, h) for tr in live], np.float32)[None, :]
        fit = np.maximum(size_b, 1.0)
        size_p = np.where(np.abs(np.log(fit / size_g)) < np.abs(np.log(fit / size_l)),
                          size_g, size_l)
        small = np.maximum(np.minimum(size_b, size_p), 1.0)
        # Distance in units of the smaller box: a car entering near the camera is large, and
        # the car it follows, far up the street, must not be matched to it by that size.
        dist = np.linalg.norm(cb - cp, axis=2) / small
        similar = np.maximum(size_b, size_p) / small <= self.config.max_size_ratio
        if weak:
            ok = similar & (iou >= self.config.weak_match_iou)
        else:
            ok = similar & ((iou >= self.config.match_iou) | (dist <= self.config.match_centre))
        score = np.where(ok, iou + (1.0 - np.minimum(dist, 1.0)), -1.0)
        pairs, used_d, used_t = [], set(), set()
        for flat in np.argsort(-score, axis=None):
            d, k = np.unravel_index(flat, score.shape)
            if score[d, k] < 0:
                break
            if d in used_d or k in used_t:
                continue
            used_d.add(d)
            used_t.add(k)
            pairs.append((int(d), live[k]))
        return pairs

    def _expire(self, t: float) -> list[Track]:
        keep, done = [], []
        for tr in self._live:
            if t - tr.boxes[-1].t > self.config.max_gap_s:
                if (f := self._finish(tr)) is not None:
                    done.append(f)
            else:
                keep.append(tr)
        self._live = keep
        return done

    def _finish(self, tr: _Live) -> Track | None:
        best = max(b.confidence for b in tr.boxes)
        if len(tr.boxes) < self.config.min_hits and best < self.config.single_hit_confidence:
            return None  # a one-off low-confidence detection: most likely a false alarm
        label = tr.votes.most_common(1)[0][0]
        if label in self.naming and tr.best[label] < self.naming[label][0]:
            label = self.naming[label][1]
        return Track(track_id=tr.track_id, label=LABELS[label], boxes=tuple(tr.boxes))
