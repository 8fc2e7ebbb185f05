"""Run a detector on one region of a frame and give its boxes in frame pixels.

The crop is scaled as the detector scales the whole frame (`long_side`: its input's long
side; frames are never enlarged): a vehicle looks the same to it in a crop as in the whole
frame, and a crop always costs less than the frame.

A vehicle cut by the region's edge (not the frame's) gives a partial box that would
misplace its track and describe it badly. When the detector sees such a box, the region is
grown around it and looked at once more (the whole frame when the region would cover more
than `max_share` of it, or when a box is still cut): a vehicle is never lost to a crop.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from relecture.detections import Detections
from relecture.indexer.schedule import Region

EDGE_PX = 2.0  # a box this close to an inner edge of the region is cut by it


class RegionDetector(Protocol):
    def detect(self, image: np.ndarray, frame_shape: tuple[int, ...] | None = None
               ) -> Detections: ...


def detect_region(detector: RegionDetector, image: np.ndarray, region: Region,
                  long_side: int = 640, grow: float = 1.0, max_share: float = 0.5) -> Detections:
    """Detections in `region` of the frame `image`, in frame pixels (see the module
    docstring). `grow`: a cut box is grown by this share of its size on each side (what
    shows of a cut vehicle may be half of it or less)."""
    scale = min(1.0, long_side / max(image.shape[:2]))
    dets, cut = _detect_once(detector, image, region, scale)
    if cut.any():
        region = enlarge(region, dets.xyxy[cut], image.shape, grow, max_share)
        dets, cut = _detect_once(detector, image, region, scale)
    if cut.any():  # still cut (a vehicle coming at the camera grows fast): the whole frame
        dets, cut = _detect_once(detector, image, Region(0, 0, image.shape[1], image.shape[0],
                                                         full=True), scale)
    return dets


def enlarge(region: Region, boxes: np.ndarray, shape: tuple[int, ...], grow: float,
            max_share: float) -> Region:
    """`region` joined with `boxes` grown by `grow` of their size (the whole frame when that
    covers more than `max_share` of it)."""
    height, width = shape[:2]
    size = boxes[:, 2:] - boxes[:, :2]
    lo = np.min(boxes[:, :2] - grow * size, axis=0)
    hi = np.max(boxes[:, 2:] + grow * size, axis=0)
    x1, y1 = int(max(0, min(region.x1, lo[0]))), int(max(0, min(region.y1, lo[1])))
    x2 = int(min(width, max(region.x2, np.ceil(hi[0]))))
    y2 = int(min(height, max(region.y2, np.ceil(hi[1]))))
    if (x2 - x1) * (y2 - y1) > max_share * width * height:
        return Region(0, 0, width, height, full=True)
    return Region(x1, y1, x2, y2)


def _detect_once(detector: RegionDetector, image: np.ndarray, region: Region, scale: float
                 ) -> tuple[Detections, np.ndarray]:
    """Detections in frame pixels and the mask of those cut by an inner edge of the region."""
    import cv2

    if region.full:
        dets = detector.detect(image)
        return dets, np.zeros(len(dets), bool)
    crop = np.ascontiguousarray(image[region.y1:region.y2, region.x1:region.x2])
    if scale < 1.0:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    height, width = image.shape[:2]
    small_frame = (round(height * scale), round(width * scale), 3)
    dets = detector.detect(crop, frame_shape=small_frame)
    offset = np.array([region.x1, region.y1, region.x1, region.y1], np.float32)
    xyxy = dets.xyxy / np.float32(scale) + offset
    cut = (((region.x1 > 0) & (xyxy[:, 0] <= region.x1 + EDGE_PX))
           | ((region.y1 > 0) & (xyxy[:, 1] <= region.y1 + EDGE_PX))
           | ((region.x2 < width) & (xyxy[:, 2] >= region.x2 - EDGE_PX))
           | ((region.y2 < height) & (xyxy[:, 3] >= region.y2 - EDGE_PX)))
    moved = Detections(xyxy=xyxy, confidence=dets.confidence, class_id=dets.class_id,
                       weak=dets.weak)
    return moved, cut
