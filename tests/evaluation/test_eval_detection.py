"""Box matching and the detection metrics, on hand-made boxes and a fake detector."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from relecture.detections import Detections
from relecture.errors import UsageError
from relecture.evaluation.common import match_boxes, read_labels
from relecture.evaluation.detection import evaluate_detection


def test_match_counts_overlaps_at_iou_half():
    gt = [[0, 0, 10, 10], [20, 0, 30, 10]]
    pred = [[0, 0, 10, 10], [21, 0, 31, 10], [100, 100, 110, 110]]
    assert match_boxes(pred, [0.9, 0.8, 0.7], gt) == 2
    # shifted by half its width: IoU 1/3, not a match
    assert match_boxes([[5, 0, 15, 10]], [0.9], [[0, 0, 10, 10]]) == 0


def test_a_labelled_box_is_matched_once():
    gt = [[0, 0, 10, 10]]
    assert match_boxes([[0, 0, 10, 10], [0, 0, 10, 11]], [0.9, 0.8], gt) == 1


def test_greedy_matching_gives_the_best_box_to_the_best_score():
    gt = [[0, 0, 10, 10], [4, 0, 14, 10]]
    # the top-scored prediction overlaps the first box best; the second then takes the other
    assert match_boxes([[0, 0, 10, 10], [3, 0, 13, 10]], [0.9, 0.5], gt) == 2


def test_empty_inputs():
    assert match_boxes(np.zeros((0, 4)), np.zeros(0), [[0, 0, 1, 1]]) == 0
    assert match_boxes([[0, 0, 1, 1]], [1.0], np.zeros((0, 4))) == 0


class _Fixed:
    """Returns the boxes given for each image width (the images differ by size only)."""

    def __init__(self, by_width: dict[int, Detections]) -> None:
        self.by_width = by_width

    def detect(self, image):
        time.sleep(0.01)  # a model's time, which ms_per_image must show
        return self.by_width[image.shape[1]]


def _folder(tmp_path, rows):
    (tmp_path / "images").mkdir()
    for name, w in {"images/a.jpg": 100, "images/b.jpg": 120}.items():
        cv2.imwrite(str(tmp_path / name), np.zeros((80, w, 3), np.uint8))
    lines = ["image,width,height,cls,xmin,ymin,xmax,ymax"] + [",".join(map(str, r)) for r in rows]
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_evaluate_detection_headline_is_class_agnostic_and_ignores_persons(tmp_path):
    data = _folder(tmp_path, [
        ("images/a.jpg", 100, 80, "car", 0, 0, 20, 20),
        ("images/a.jpg", 100, 80, "motorcycle", 50, 50, 60, 70),
        ("images/b.jpg", 120, 80, "truck", 10, 10, 50, 50),
    ])
    detector = _Fixed({
        100: Detections.build(
            [[0, 0, 20, 20], [50, 50, 60, 70], [50, 50, 60, 70]],
            [0.9, 0.8, 0.9], ["car", "motorcycle", "person"],
        ),
        # the truck found as a car, plus a box on nothing
        120: Detections.build([[10, 10, 50, 50], [90, 0, 110, 20]], [0.9, 0.6], ["car", "car"]),
    })
    seen = []
    result = evaluate_detection(data, detector, progress=lambda k, n: seen.append((k, n)))
    assert result["n"] == 2
    assert result["recall"] == pytest.approx(1.0)
    assert result["precision"] == pytest.approx(3 / 4)
    car = result["per_class"]["car"]
    assert car == pytest.approx({"recall": 1.0, "precision": 1 / 3, "n_gt": 1})
    assert result["per_class"]["truck"]["recall"] == 0.0
    assert result["per_class"]["motorcycle"]["precision"] == 1.0
    assert "person" not in result["per_class"]
    assert seen == [(1, 2), (2, 2)]
    assert 10 <= result["ms_per_image"] < 1000  # the detector's 10 ms, not the whole run


def test_missing_labels_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        read_labels(tmp_path)
