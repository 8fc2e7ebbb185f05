"""COCO SSD MobileNet v2 (TF model zoo, 2018) under OpenCV DNN: raw candidate boxes.

A single 300x300 pass over a 1280x720 CCTV frame shrinks a distant car to a dozen pixels,
below what the SSD sees. With tiles, the frame is scaled to `work_size` on its long side
and cut into overlapping `tile`-pixel squares; each square plus the whole frame go through
the network in one batch, and a box that touches an inner tile edge is dropped (the
neighbouring tile or the whole frame sees that object uncut).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# COCO ids in the TF OD API label map -> our labels.
COCO_TO_LABEL: dict[int, str] = {
    1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 6: "bus", 8: "truck",
}


@dataclass(frozen=True)
class SSDConfig:
    """How the frame is cut (sizes in pixels of the work image)."""

    input_size: int = 300  # the SSD's input square
    work_size: int = 1280  # frames are scaled so their long side is this (0: keep as is)
    tile: int = 640  # tile side; 0 runs the whole frame only
    tile_overlap: int = 160
    candidate_score: float = 0.3  # boxes below this are never candidates
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



class SSDBackend:
    """The SSD on the whole frame and, when configured, on tiles; loaded on first use."""

    def __init__(self, config: SSDConfig = SSDConfig(), threads: int = 1) -> None:
        self.config = config
        self.threads = threads
        self._net = None

    def _network(self):
        if self._net is None:
            import cv2

            from relecture.models.registry import require

            pb, pbtxt = require("coco-ssd")
            cv2.setNumThreads(self.threads)
            self._net = cv2.dnn.readNetFromTensorflow(str(pb), str(pbtxt))
        return self._net

    def raw_boxes(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate boxes in image pixels: (xyxy, score, label names)."""
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
        rows = rows[(rows[:, 2] >= c.candidate_score) & np.isin(rows[:, 1], list(COCO_TO_LABEL))]
        boxes, scores, labels = [], [], []
        for k, (x, y, w, h) in enumerate(crops):
            r = rows[rows[:, 0] == k]
            xyxy = r[:, 3:7] * [w, h, w, h] + [x, y, x, y]
            if k > 0:
                keep = ~cut_by_inner_edge(xyxy, (x, y, w, h), ww, wh, c.edge_margin)
                xyxy, r = xyxy[keep], r[keep]
            boxes.append(xyxy / scale)
            scores.append(r[:, 2])
            labels.append(np.array([COCO_TO_LABEL[int(i)] for i in r[:, 1]], dtype=object))
        return (np.concatenate(boxes).astype(np.float32), np.concatenate(scores).astype(np.float32),
                np.concatenate(labels))
