"""Vehicle and person detection: COCO SSD MobileNet v2 (OpenCV DNN) run on overlapping tiles.

A single 300x300 pass over a 1280x720 CCTV frame shrinks a distant car to a dozen pixels,
below what the SSD sees. So the frame is scaled to `work_size` on its long side and cut
into overlapping `tile`-pixel squares; each square plus the whole frame go through the
network in one batch. The boxes are then merged:

- a box that touches an inner tile edge is dropped (the neighbouring tile or the whole
  frame sees that object uncut);
- a motorcycle or bicycle box grows to take in the person riding it, so a sighting shows
  the two-wheeler with its rider as CCTV labellers and operators see it;
- vehicles are suppressed class-agnostically (a car also called a truck is one vehicle),
  by IoU and by containment (the SSD often adds a box on part of a vehicle);
- a box holding two or more better-scored vehicles is dropped: the SSD sometimes boxes a
  whole queue of traffic as one "motorcycle" or "car";
- vehicles smaller than `min_side` of the frame height are dropped: too few pixels to
  describe (type, colour, plate), and they come back larger in later frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relecture.detections import Detections, label_id
from relecture.errors import UsageError

# COCO ids in the TF OD API label map -> our labels.
COCO_TO_LABEL: dict[int, str] = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 6: "bus", 8: "truck",
}
TWO_WHEELERS = (label_id("bicycle"), label_id("motorcycle"))
PERSON_ID = label_id("person")


@dataclass(frozen=True)
class DetectorConfig:
    """How the frame is cut and how the boxes are merged (sizes in pixels of the work image)."""

    input_size: int = 300  # the SSD's input square
    work_size: int = 1280  # frames are scaled so their long side is this (0: keep as is)
    tile: int = 640  # tile side; 0 runs the whole frame only
    tile_overlap: int = 160
    confidence: float = 0.4
    person_confidence: float = 0.3  # riders are merged into two-wheelers from this score
    nms_iou: float = 0.45
    containment: float = 0.6  # drop a box lying this much inside a better one
    min_side: float = 0.05  # vehicles need sqrt(w*h) >= min_side * frame height
    edge_margin: float = 4.0


def tile_grid(width: int, height: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Overlapping (x, y, w, h) squares covering a width x height image, the last row and
    column flush with its far edges."""

    def starts(size: int) -> list[int]:
        if size <= tile:
            return [0]
        out = list(range(0, size - tile + 1, tile - overlap))
        if out[-1] + tile < size:
            out.append(size - tile)
        return out

    w, h = min(tile, width), min(tile, height)
    return [(x, y, w, h) for y in starts(height) for x in starts(width)]


def cut_by_inner_edge(
    xyxy: np.ndarray, crop: tuple[int, int, int, int], width: int, height: int, margin: float
) -> np.ndarray:
    """Mask of boxes (in image coordinates) that touch an edge of `crop` inside the image."""
    x, y, w, h = crop
    cut = np.zeros(len(xyxy), bool)
    if x > 0:
        cut |= xyxy[:, 0] <= x + margin
    if y > 0:
        cut |= xyxy[:, 1] <= y + margin
    if x + w < width:
        cut |= xyxy[:, 2] >= x + w - margin
    if y + h < height:
        cut |= xyxy[:, 3] >= y + h - margin
    return cut


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


class VehicleDetector:
    """COCO SSD MobileNet v2 on tiles; the network is loaded on the first `detect` call."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self._net = None

    def _network(self):
        if self._net is None:
            import cv2

            from relecture.models.registry import require

            pb, pbtxt = require("coco-ssd")
            self._net = cv2.dnn.readNetFromTensorflow(str(pb), str(pbtxt))
        return self._net

    def _raw(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All COCO boxes of interest in input-image pixels: xyxy, score, COCO id."""
        import cv2

        c = self.config
        height, width = image.shape[:2]
        scale = c.work_size / max(height, width) if c.work_size else 1.0
        work = image
        if scale != 1.0:
            size = (round(width * scale), round(height * scale))
            work = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        wh, ww = work.shape[:2]
        crops = [(0, 0, ww, wh)]
        if c.tile and (ww > c.tile or wh > c.tile):
            crops += tile_grid(ww, wh, c.tile, c.tile_overlap)
        blob = cv2.dnn.blobFromImages(
            [work[y : y + h, x : x + w] for x, y, w, h in crops],
            1.0, (c.input_size, c.input_size), swapRB=True,
        )
        net = self._network()
        net.setInput(blob)
        rows = net.forward().reshape(-1, 7)  # image index, class, score, x1, y1, x2, y2
        low = min(c.confidence, c.person_confidence)
        rows = rows[(rows[:, 2] >= low) & np.isin(rows[:, 1], list(COCO_TO_LABEL))]
        boxes, scores, ids = [], [], []
        for k, (x, y, w, h) in enumerate(crops):
            r = rows[rows[:, 0] == k]
            xyxy = r[:, 3:7] * [w, h, w, h] + [x, y, x, y]
            if k > 0:
                keep = ~cut_by_inner_edge(xyxy, (x, y, w, h), ww, wh, c.edge_margin)
                xyxy, r = xyxy[keep], r[keep]
            boxes.append(xyxy / scale)
            scores.append(r[:, 2])
            ids.append(r[:, 1].astype(np.int64))
        return np.concatenate(boxes), np.concatenate(scores), np.concatenate(ids)

    def detect(self, image: np.ndarray) -> Detections:
        """Persons and vehicles in a BGR uint8 image, pixel xyxy in that image."""
        c = self.config
        xyxy, score, coco = self._raw(image)
        label = np.array([label_id(COCO_TO_LABEL[int(i)]) for i in coco], np.int64)
        is_person = label == PERSON_ID
        p = is_person & (score >= c.person_confidence)
        p_keep = np.flatnonzero(p)[suppress(xyxy[p], score[p], c.nms_iou, 1.0)]
        persons = xyxy[p_keep]
        bikes = np.isin(label, TWO_WHEELERS)
        xyxy = xyxy.astype(np.float32).copy()
        xyxy[bikes] = merge_riders(xyxy[bikes], persons)
        v = ~is_person & (score >= c.confidence)
        wh = np.clip(xyxy[:, 2:] - xyxy[:, :2], 0, None)
        side = np.sqrt(wh[:, 0] * wh[:, 1])
        v &= side >= c.min_side * image.shape[0]
        v_keep = np.flatnonzero(v)[suppress(xyxy[v], score[v], c.nms_iou, c.containment)]
        v_keep = v_keep[~group_boxes(xyxy[v_keep], score[v_keep])]
        p_keep = p_keep[score[p_keep] >= c.confidence]
        keep = np.concatenate([v_keep, p_keep])
        height, width = image.shape[:2]
        boxes = np.clip(xyxy[keep], 0, [width, height, width, height]).astype(np.float32)
        return Detections(
            xyxy=boxes, confidence=score[keep].astype(np.float32), class_id=label[keep]
        )


# Named configurations: "tiled" cuts the frame into tiles (finds small, distant vehicles;
# about 7 network passes a frame); "fast" is the plain single 300x300 pass.
KINDS: dict[str, DetectorConfig] = {
    "tiled": DetectorConfig(),
    "fast": DetectorConfig(tile=0),
}


def load_detector(kind: str = "tiled") -> VehicleDetector:
    """A detector of a named configuration (see KINDS); weights load on first use."""
    if kind not in KINDS:
        raise UsageError(f"unknown detector {kind!r}; choose from {', '.join(KINDS)}")
    return VehicleDetector(KINDS[kind])
