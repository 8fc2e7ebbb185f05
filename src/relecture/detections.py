"""The types that cross the decode -> detect -> track boundary.

`Detections` is columnar (parallel arrays), as in roboflow/supervision: detectors return
it, trackers and describers read it, and filtering is indexing (`dets[dets.confidence > .5]`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The label vocabulary every detector adapter maps into. COCO has no van; a van label can
# come from a detector that has one, or from type refinement at the describe step.
LABELS: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck", "van")
VEHICLE_LABELS: frozenset[str] = frozenset(LABELS) - {"person"}
PERSON = LABELS.index("person")


def label_id(name: str) -> int:
    """Index of `name` in LABELS (ValueError for an unknown label)."""
    return LABELS.index(name)


@dataclass(frozen=True)
class Frame:
    """One decoded picture: `t` is seconds from the recording start, taken from its PTS."""

    index: int
    t: float
    image: np.ndarray  # HxWx3 uint8, BGR (OpenCV order)
    is_keyframe: bool = False

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(
                f"Frame.image must be HxWx3 uint8, got shape {self.image.shape} {self.image.dtype}"
            )


@dataclass(frozen=True)
class Detections:
    """N boxes in pixel xyxy with their confidence and label id (index into LABELS).

    `weak` marks vehicle boxes scored below the detector's threshold but above a lower one:
    not detections on their own, they may only continue a track that sure detections
    started (as ByteTrack's second association does). `sure` is the rest."""

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    class_id: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    weak: np.ndarray | None = None  # None: every box is sure

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        if self.xyxy.shape != (n, 4):
            raise ValueError(f"xyxy must have shape (N, 4), got {self.xyxy.shape}")
        if self.confidence.shape != (n,) or self.class_id.shape != (n,):
            raise ValueError(
                f"confidence and class_id must have shape ({n},), got "
                f"{self.confidence.shape} and {self.class_id.shape}"
            )
        if self.weak is None:
            object.__setattr__(self, "weak", np.zeros(n, bool))
        elif self.weak.shape != (n,):
            raise ValueError(f"weak must have shape ({n},), got {self.weak.shape}")

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Detections(
            xyxy=self.xyxy[index], confidence=self.confidence[index],
            class_id=self.class_id[index], weak=self.weak[index],
        )

    @property
    def sure(self) -> np.ndarray:
        """Boolean mask of the detections that stand on their own (not `weak`)."""
        return ~self.weak

    @property
    def labels(self) -> list[str]:
        return [LABELS[i] for i in self.class_id]

    @property
    def is_vehicle(self) -> np.ndarray:
        """Boolean mask of the vehicle detections."""
        return self.class_id != PERSON

    @classmethod
    def build(cls, boxes, confidences, labels) -> "Detections":
        """Convenience constructor from Python lists (labels as names)."""
        return cls(
            xyxy=np.asarray(boxes, np.float32).reshape(-1, 4),
            confidence=np.asarray(confidences, np.float32).reshape(-1),
            class_id=np.asarray([label_id(lb) for lb in labels], np.int64).reshape(-1),
        )

    @classmethod
    def concat(cls, parts: list["Detections"]) -> "Detections":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls()
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            weak=np.concatenate([p.weak for p in parts]),
        )


def share_inside(box, other) -> float:
    """The share of `box`'s area (xyxy) that lies inside `other`."""
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    return float(max(w, 0.0) * max(h, 0.0) / max((box[2] - box[0]) * (box[3] - box[1]), 1e-9))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix between boxes a (N,4) and b (M,4), xyxy."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
