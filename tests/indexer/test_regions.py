"""Detecting in a region of the frame (indexer/regions.py): boxes come back in frame pixels,
at the frame's scale, and never cut by the region's edge."""

from __future__ import annotations

import numpy as np

from relecture.detections import Detections
from relecture.indexer.regions import detect_region, enlarge
from relecture.indexer.schedule import Region


class BlobDetector:
    """Boxes every non-grey pixel as a car; records the images and frame shapes it got."""

    def __init__(self):
        self.calls: list[tuple[tuple[int, ...], tuple[int, ...] | None]] = []

    def detect(self, image, frame_shape=None):
        self.calls.append((image.shape, frame_shape))
        ys, xs = np.nonzero(np.any(image != 90, axis=2))
        if not len(xs):
            return Detections()
        return Detections.build([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], [0.9], ["car"])


def frame_with(box, size=(360, 640)) -> np.ndarray:
    img = np.full((*size, 3), 90, np.uint8)
    x1, y1, x2, y2 = box
    img[y1:y2, x1:x2] = (0, 0, 255)
    return img


def test_boxes_come_back_in_frame_pixels_and_sizes_are_the_frames():
    det = BlobDetector()
    dets = detect_region(det, frame_with((300, 100, 340, 130)), Region(200, 50, 400, 200))
    assert dets.xyxy.tolist() == [[300, 100, 340, 130]]
    assert det.calls == [((150, 200, 3), (360, 640, 3))]


def test_a_box_cut_by_the_region_is_looked_at_again_in_a_larger_region():
    det = BlobDetector()
    dets = detect_region(det, frame_with((300, 100, 370, 130)), Region(200, 50, 340, 200))
    assert dets.xyxy.tolist() == [[300, 100, 370, 130]]
    assert len(det.calls) == 2


def test_a_box_still_cut_after_growing_is_looked_for_in_the_whole_frame():
    det = BlobDetector()
    dets = detect_region(det, frame_with((300, 100, 600, 130)), Region(200, 50, 340, 200))
    assert dets.xyxy.tolist() == [[300, 100, 600, 130]]
    assert [shape for shape, _ in det.calls][-1] == (360, 640, 3)


def test_a_box_cut_by_the_frame_edge_is_kept():
    det = BlobDetector()
    dets = detect_region(det, frame_with((0, 100, 40, 130)), Region(0, 50, 200, 200))
    assert dets.xyxy.tolist() == [[0, 100, 40, 130]] and len(det.calls) == 1


def test_a_large_frame_is_cropped_at_the_scale_the_detector_sees_it():
    det = BlobDetector()
    image = frame_with((600, 200, 680, 260), size=(720, 1280))
    dets = detect_region(det, image, Region(400, 100, 800, 400), long_side=640)
    assert det.calls == [((150, 200, 3), (360, 640, 3))]  # half size, like the whole frame
    assert np.allclose(dets.xyxy, [[600, 200, 680, 260]], atol=2)


def test_the_whole_frame_goes_as_it_is():
    det = BlobDetector()
    image = frame_with((10, 10, 50, 50))
    assert len(detect_region(det, image, Region(0, 0, 640, 360, full=True))) == 1
    assert det.calls == [((360, 640, 3), None)]


def test_enlarge_joins_grown_boxes_and_falls_back_to_the_whole_frame():
    region = enlarge(Region(100, 100, 200, 200), np.array([[180, 120, 220, 160]], np.float32),
                     (360, 640, 3), grow=0.5, max_share=0.5)
    assert region == Region(100, 100, 240, 200)
    assert enlarge(region, np.array([[0, 0, 500, 300]], np.float32), (360, 640, 3),
                   grow=0.5, max_share=0.5).full
