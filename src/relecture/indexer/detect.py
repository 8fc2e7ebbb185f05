"""Vehicle and person detection: a backend's raw boxes, merged by the project's own rules.

Backends (`detect_nanodet`, `detect_ssd`) return candidate boxes with COCO labels; every
detector then merges them the same way (`refine`):

- a motorcycle or bicycle box grows to take in the person riding it, so a sighting shows
  the two-wheeler with its rider as CCTV labellers and operators see it;
- vehicles are suppressed class-agnostically (a car also called a truck is one vehicle),
  by IoU and by containment (detectors often add a box on part of a vehicle);
- a box holding two or more better-scored vehicles is dropped: detectors sometimes box a
  whole queue of traffic as one "motorcycle" or "car";
- vehicles smaller than `min_side` of the frame height are dropped: too few pixels to
  describe (type, colour, plate), and they come back larger in later frames;
- a class the detector often names at low scores on other things (NanoDet's "bus" around
  a car, a van or a queue) keeps its boxes as vehicles, and names a track only when the
  detector was once sure enough of it (`VehicleDetector.naming`, applied by the tracker).

`KINDS` names the detectors `relecture index --detector` and `relecture eval` accept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from relecture.detections import Detections, label_id
from relecture.errors import UsageError

TWO_WHEELERS = (label_id("bicycle"), label_id("motorcycle"))
PERSON_ID = label_id("person")


@dataclass(frozen=True)
class MergeConfig:
    """How raw boxes become detections (thresholds on the backend's scores)."""

    confidence: float = 0.4  # vehicles (and persons kept for blurring) from this score
    # (label, score) pairs overriding `confidence` for some vehicle classes: detectors are
    # not calibrated alike across classes (NanoDet scores two-wheelers and lorries lower).
    class_confidence: tuple[tuple[str, float], ...] = ()
    # (label, score, other label) triples: a track is named `label` only when one of its
    # boxes scored `score` as it, else `other label` (the tracker applies it): a class the
    # detector calls often at low scores on other things (a "bus" around a queue of cars, a
    # van or overlay text) names a vehicle only when the detector was once surer of it than
    # it needs to be to see one.
    class_naming: tuple[tuple[str, float, str], ...] = ()
    person_confidence: float = 0.3  # riders are merged into two-wheelers from this score
    weak_confidence: float | None = None  # vehicles from this score are kept as `weak`
    nms_iou: float = 0.45
    containment: float = 0.6  # drop a box lying this much inside a better one
    min_side: float = 0.05  # vehicles need sqrt(w*h) >= min_side * frame height


class Backend(Protocol):
    def raw_boxes(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xyxy in image pixels, score, label names) of every candidate box."""
        ...


def suppress(xyxy: np.ndarray, scores: np.ndarray, iou: float, containment: float) -> np.ndarray:
    """Indices kept by greedy suppression (best score first): a box goes when its IoU with a
    kept box exceeds `iou` or when more than `containment` of its area lies inside one."""
    order = np.argsort(-scores, kind="stable")
    area = np.maximum((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]), 1e-9)
    keep: list[int] = []
    for i in order:
        if keep:
            k = xyxy[keep]
            iw = np.clip(np.minimum(k[:, 2], xyxy[i, 2]) - np.maximum(k[:, 0], xyxy[i, 0]), 0, None)
            ih = np.clip(np.minimum(k[:, 3], xyxy[i, 3]) - np.maximum(k[:, 1], xyxy[i, 1]), 0, None)
            inter = iw * ih
            union = area[keep] + area[i] - inter
            if np.any(inter / union > iou) or np.any(inter / area[i] > containment):
                continue
        keep.append(int(i))
    return np.array(keep, np.int64)


def group_boxes(xyxy: np.ndarray, scores: np.ndarray, inside: float = 0.7) -> np.ndarray:
    """Mask of boxes that each hold (more than `inside` of the area of) at least two boxes
    scored at least as high: one box drawn around a group of vehicles."""
    area = np.maximum((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]), 1e-9)
    iw = np.clip(np.minimum(xyxy[:, None, 2], xyxy[None, :, 2])
                 - np.maximum(xyxy[:, None, 0], xyxy[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(xyxy[:, None, 3], xyxy[None, :, 3])
                 - np.maximum(xyxy[:, None, 1], xyxy[None, :, 1]), 0, None)
    holds = (iw * ih / area[None, :] > inside) & (scores[None, :] >= scores[:, None])
    np.fill_diagonal(holds, False)
    return holds.sum(axis=1) >= 2


def merge_riders(bikes: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Two-wheeler boxes grown to include the persons riding them: a person overlapping the
    bike over half the narrower width, head above the bike's top, feet within its box."""
    out = bikes.astype(np.float32).copy()
    for b in out:
        for p in persons:
            bh = b[3] - b[1]
            overlap = min(b[2], p[2]) - max(b[0], p[0])
            riding = (
                overlap > 0.5 * min(b[2] - b[0], p[2] - p[0])
                and p[1] < b[1]
                and b[1] + 0.2 * bh < p[3] <= b[3] + 0.1 * bh
            )
            if riding:
                b[:] = [min(b[0], p[0]), min(b[1], p[1]), max(b[2], p[2]), max(b[3], p[3])]
    return out


def refine(xyxy: np.ndarray, score: np.ndarray, names: np.ndarray,
           shape: tuple[int, ...], c: MergeConfig) -> Detections:
    """A backend's candidates (pixel xyxy, score, label names) as merged detections."""
    label = np.array([label_id(str(n)) for n in names], np.int64)
    is_person = label == PERSON_ID
    p = is_person & (score >= c.person_confidence)
    p_keep = np.flatnonzero(p)[suppress(xyxy[p], score[p], c.nms_iou, 1.0)]
    persons = xyxy[p_keep]
    bikes = np.isin(label, TWO_WHEELERS)
    xyxy = xyxy.astype(np.float32).copy()
    xyxy[bikes] = merge_riders(xyxy[bikes], persons)
    needed = np.full(len(label), c.confidence, np.float32)
    for name, value in c.class_confidence:
        needed[label == label_id(name)] = value
    lowest = needed if c.weak_confidence is None else np.minimum(needed, c.weak_confidence)
    v = ~is_person & (score >= lowest)
    wh = np.clip(xyxy[:, 2:] - xyxy[:, :2], 0, None)
    side = np.sqrt(wh[:, 0] * wh[:, 1])
    v &= side >= c.min_side * shape[0]
    # Sure boxes are merged first, so a weak box never suppresses or unseats a sure one.
    sure = v & (score >= needed)
    s_keep = np.flatnonzero(sure)[suppress(xyxy[sure], score[sure], c.nms_iou, c.containment)]
    s_keep = s_keep[~group_boxes(xyxy[s_keep], score[s_keep])]
    w_keep = _weak_left(xyxy, score, np.flatnonzero(v & ~sure), s_keep, c)
    p_keep = p_keep[score[p_keep] >= c.confidence]
    keep = np.concatenate([s_keep, w_keep, p_keep])
    weak = np.zeros(len(keep), bool)
    weak[len(s_keep):len(s_keep) + len(w_keep)] = True
    height, width = shape[:2]
    boxes = np.clip(xyxy[keep], 0, [width, height, width, height]).astype(np.float32)
    return Detections(xyxy=boxes, confidence=score[keep].astype(np.float32),
                      class_id=label[keep], weak=weak)


def _weak_left(xyxy: np.ndarray, score: np.ndarray, weak: np.ndarray, sure: np.ndarray,
               c: MergeConfig) -> np.ndarray:
    """The weak candidates that greedy suppression keeps when every sure box ranks first
    (so a weak box overlapping, or lying inside, a sure vehicle goes)."""
    if not len(weak):
        return weak
    both = np.concatenate([sure, weak])
    ranked = np.concatenate([score[sure] + 1.0, score[weak]])
    kept = suppress(xyxy[both], ranked, c.nms_iou, c.containment)
    return both[kept[kept >= len(sure)]]


@dataclass
class VehicleDetector:
    """A backend plus the merging rules: `detect(image)` gives persons and vehicles."""

    backend: Backend
    merge: MergeConfig = field(default_factory=MergeConfig)

    @property
    def naming(self) -> tuple[tuple[str, float, str], ...]:
        """How sure of a class the detector must have been once to name a track with it
        (`MergeConfig.class_naming`)."""
        return self.merge.class_naming

    def detect(self, image: np.ndarray, frame_shape: tuple[int, ...] | None = None
               ) -> Detections:
        """Persons and vehicles in a BGR uint8 image, pixel xyxy in that image.
        `frame_shape`: the whole frame's when `image` is a crop of it (sizes such as
        `min_side` are relative to the frame, not to the crop)."""
        xyxy, score, names = self.backend.raw_boxes(image)
        dets = refine(xyxy, score, names, frame_shape or image.shape, self.merge)
        if frame_shape is None or not len(dets):
            return dets
        h, w = image.shape[:2]  # refine clipped to the frame's size: clip to the crop's
        xyxy = np.clip(dets.xyxy, 0, [w, h, w, h]).astype(np.float32)
        return Detections(xyxy=xyxy, confidence=dets.confidence, class_id=dets.class_id,
                          weak=dets.weak)


# NanoDet's per-class thresholds, chosen on one half of vehicles_voc (even-numbered images
# in name order) and checked on the other: recall 0.876 / precision 0.807 on the first half,
# 0.883 / 0.821 on the second (a single 0.4 gave 0.834 / 0.821 there). BENCHMARKS.md.
# A track is a bus when one of its boxes scored 0.55 as one: on the labelled videos
# (`relecture eval passages`), 15 of 17 tracks NanoDet called bus at most 0.35-0.48 were
# cars, vans, motorcycles, a queue of cars or scenery, the real buses 0.58-0.70; chosen on
# the even-numbered videos, checked on the odd ones (BENCHMARKS.md, "Type on video").
NANODET_MERGE = MergeConfig(class_confidence=(
    ("motorcycle", 0.3), ("bicycle", 0.3), ("truck", 0.35), ("bus", 0.35)),
    class_naming=(("bus", 0.55, "car"),), weak_confidence=0.2)


def _nanodet(model: str):
    def build(threads: int) -> VehicleDetector:
        from relecture.indexer.detect_nanodet import NanoDetBackend
        from relecture.models.registry import require

        # The file is found and its sha256 checked now (a missing model stops a job before
        # its first file); the session itself is built on the first frame.
        (path,) = require(model)
        return VehicleDetector(NanoDetBackend(path, threads), NANODET_MERGE)

    return build


def _ssd(tiled: bool):
    def build(threads: int) -> VehicleDetector:
        from relecture.indexer.detect_ssd import SSDBackend, SSDConfig

        return VehicleDetector(SSDBackend(SSDConfig() if tiled else SSDConfig(tile=0), threads))

    return build


# Named detectors. "nanodet-int8": NanoDet-g quantized to int8 on ONNX Runtime, one pass a
# frame (the default: half the cost of "nanodet", the float model, for the same recall and
# precision on vehicles_voc, BENCHMARKS.md); "fast": the 2018 SSD's single 300x300 pass;
# "tiled": the SSD on tiles (about 7 passes).
KINDS = {"nanodet-int8": _nanodet("nanodet-g-int8"), "nanodet": _nanodet("nanodet-g"),
         "fast": _ssd(False), "tiled": _ssd(True)}
DEFAULT = "nanodet-int8"


def load_detector(kind: str = DEFAULT, threads: int = 1) -> VehicleDetector:
    """A detector of a named kind (see KINDS); weights load on first use."""
    if kind not in KINDS:
        raise UsageError(f"unknown detector {kind!r}; choose from {', '.join(KINDS)}")
    return KINDS[kind](threads)
