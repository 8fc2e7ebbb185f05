"""NanoDet-g (COCO-80, RangiLyu/nanodet, Apache-2.0) on ONNX Runtime: raw candidate boxes.

The network sees the frame resized to `input_size` (sides multiples of 32, the largest
stride, chosen for the frame's aspect: 16:9 CCTV becomes 640x352; a frame smaller than
that is not enlarged). For each stride 8/16/32
it gives, per cell, sigmoid scores for the 80 COCO classes and a distribution over 11 bins
for each side's distance to the cell centre (left, top, right, bottom): the distance is the
expected bin times the stride (the "argmax x 2.5" of some ports is wrong).

`raw_boxes` returns the classes relecture uses, after a per-class NMS that only thins the
thousands of overlapping cells to one box per object; the project's own merging
(`indexer.detect.refine`) then runs on them as on any detector's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MEAN = np.array([103.53, 116.28, 123.675], np.float32)  # BGR, as NanoDet was trained
STD = np.array([57.375, 57.12, 58.395], np.float32)
STRIDES = (8, 16, 32)
BINS = 11
# COCO-80 indices (NanoDet's class order) -> our labels.
COCO80_TO_LABEL: dict[int, str] = {
    0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck",
}


@dataclass(frozen=True)
class NanoDetConfig:
    long_side: int = 640  # the network input's long side (pixels, multiple of 32)...
    # ...but a smaller frame is never enlarged: on the two 320x240 videos of
    # ../shared/data, its own size found more passages (recall_sure 0.951 -> 0.988) for
    # half the CPU, at the cost of more duplicates (2 -> 7) (BENCHMARKS.md).
    max_upscale: float = 1.0
    candidate_score: float = 0.2  # cells below this never become candidates
    class_nms_iou: float = 0.6  # thins overlapping cells of one class


def input_size(width: int, height: int, long_side: int,
               max_upscale: float = float("inf")) -> tuple[int, int]:
    """(w, h) of the network input: the frame's aspect, each side a multiple of 32, the
    frame scaled to `long_side` but never enlarged more than `max_upscale`."""
    scale = min(long_side / max(width, height), max_upscale)
    w = max(32, int(round(width * scale / 32)) * 32)
    h = max(32, int(round(height * scale / 32)) * 32)
    return w, h


def preprocess(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """BGR uint8 frame -> normalised NCHW float32 blob of the given (w, h)."""
    import cv2

    resized = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    # OpenCV's blob (NCHW, mean subtracted) in one pass, then each channel plane scaled:
    # a third of the cost of doing it in numpy, the same values to 1e-6
    blob = cv2.dnn.blobFromImage(resized, 1.0, size, tuple(float(m) for m in MEAN),
                                 swapRB=False, crop=False)
    blob *= (1.0 / STD).reshape(1, 3, 1, 1)
    return blob


def decode_level(dist: np.ndarray, cells: np.ndarray, grid_w: int, stride: int) -> np.ndarray:
    """Boxes (xyxy, input pixels) of the given cells of one stride (`dist`: every cell's
    44 side-distance logits)."""
    logits = dist[cells].reshape(len(cells), 4, BINS)
    logits = logits - logits.max(axis=2, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=2, keepdims=True)
    d = (p @ np.arange(BINS, dtype=np.float32)) * stride  # (n, 4): left, top, right, bottom
    cx = (cells % grid_w + 0.5) * stride
    cy = (cells // grid_w + 0.5) * stride
    return np.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], axis=1)


def decode(outputs: dict[str, np.ndarray], size: tuple[int, int], config: NanoDetConfig):
    """All candidates of the classes of interest: xyxy (input pixels), score, COCO-80 id."""
    w, h = size
    by_cells: dict[int, dict[int, np.ndarray]] = {}
    for value in outputs.values():
        v = value[0]
        by_cells.setdefault(v.shape[0], {})[v.shape[1]] = v
    boxes, scores, ids = [], [], []
    wanted = np.array(sorted(COCO80_TO_LABEL))
    for stride in STRIDES:
        grid_w, grid_h = w // stride, h // stride
        level = by_cells[grid_w * grid_h]
        cls = level[80][:, wanted]
        cell, k = np.nonzero(cls >= config.candidate_score)
        # only the cells holding a candidate are decoded: a few dozen of thousands
        boxes.append(decode_level(level[4 * BINS], cell, grid_w, stride))
        scores.append(cls[cell, k])
        ids.append(wanted[k])
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(ids)


def class_nms(xyxy: np.ndarray, scores: np.ndarray, ids: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by NMS within each class."""
    import cv2

    if not len(xyxy):
        return np.zeros(0, np.int64)
    wh = xyxy[:, 2:] - xyxy[:, :2]
    rects = np.concatenate([xyxy[:, :2], wh], axis=1).astype(np.float32)
    keep = cv2.dnn.NMSBoxesBatched(rects.tolist(), scores.astype(np.float32).tolist(),
                                   ids.astype(np.int32).tolist(), 0.0, iou)
    return np.asarray(keep, np.int64).reshape(-1)


class NanoDetBackend:
    """The converted NanoDet-g ONNX model, loaded on first use with `threads` threads."""

    def __init__(self, model_path: Path, threads: int = 1, config: NanoDetConfig = NanoDetConfig()):
        self.model_path = model_path
        self.threads = threads
        self.config = config
        self._session = None
        self._input = ""
        self._outputs: list[str] = []

    def _run(self, blob: np.ndarray) -> dict[str, np.ndarray]:
        if self._session is None:
            from relecture.models.runtime import onnx_session

            self._session = onnx_session(self.model_path, self.threads)
            self._input = self._session.get_inputs()[0].name
            self._outputs = [o.name for o in self._session.get_outputs()]
        values = self._session.run(self._outputs, {self._input: blob})
        return dict(zip(self._outputs, values))

    def raw_boxes(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate boxes in image pixels: (xyxy, score, label names)."""
        height, width = image.shape[:2]
        size = input_size(width, height, self.config.long_side, self.config.max_upscale)
        xyxy, score, coco = decode(self._run(preprocess(image, size)), size, self.config)
        keep = class_nms(xyxy, score, coco, self.config.class_nms_iou)
        scale = np.array([width / size[0], height / size[1]] * 2, np.float32)
        labels = np.array([COCO80_TO_LABEL[int(i)] for i in coco[keep]], dtype=object)
        return (xyxy[keep] * scale).astype(np.float32), score[keep].astype(np.float32), labels
