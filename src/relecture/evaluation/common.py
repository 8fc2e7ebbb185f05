"""Reading labels.csv folders and matching predicted boxes to labelled ones."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from relecture.detections import box_iou
from relecture.errors import UsageError


def read_labels(data_dir: Path) -> dict[str, list[dict[str, str]]]:
    """Rows of `data_dir/labels.csv` grouped by their `image` column, in file order."""
    path = Path(data_dir) / "labels.csv"
    if not path.is_file():
        raise UsageError(f"no labels.csv in {data_dir}")
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            grouped[row["image"]].append(row)
    return dict(grouped)


def video_halves(names) -> dict[str, list[str]]:
    """The halves rules are chosen on and checked on: "even" and "odd" videos (or files)
    in name order."""
    ordered = sorted(names)
    return {"even": ordered[0::2], "odd": ordered[1::2]}


def row_box(row: dict[str, str]) -> tuple[float, float, float, float]:
    """The xmin, ymin, xmax, ymax box of a labels.csv row."""
    return (float(row["xmin"]), float(row["ymin"]), float(row["xmax"]), float(row["ymax"]))


def match_boxes(
    pred: np.ndarray, scores: np.ndarray, gt: np.ndarray, iou_threshold: float = 0.5
) -> int:
    """Number of true positives: predictions taken by falling score, each matched greedily
    to the unmatched labelled box it overlaps most (IoU >= iou_threshold), as in VOC."""
    pred = np.asarray(pred, np.float32).reshape(-1, 4)
    gt = np.asarray(gt, np.float32).reshape(-1, 4)
    if not len(pred) or not len(gt):
        return 0
    iou = box_iou(pred, gt)
    taken = np.zeros(len(gt), bool)
    tp = 0
    for i in np.argsort(-np.asarray(scores, np.float32), kind="stable"):
        candidates = np.where(taken, -1.0, iou[i])
        j = int(np.argmax(candidates))
        if candidates[j] >= iou_threshold:
            taken[j] = True
            tp += 1
    return tp


def ratio(num: float, den: float) -> float:
    """num/den, 0.0 when den is 0 (nothing to find or nothing predicted)."""
    return float(num) / den if den else 0.0
