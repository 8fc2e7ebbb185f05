"""Vehicle detection accuracy on a labels.csv folder (image, width, height, cls, xmin..ymax).

Headline: recall and precision over all vehicles together at IoU 0.5, class-agnostic among
vehicles (a van found as a truck still counts). Per class: the same with the class matched.
Person detections are left out: the labelled sets name vehicles only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from relecture.detections import LABELS, VEHICLE_LABELS
from relecture.evaluation.common import match_boxes, ratio, read_labels, row_box
from relecture.errors import UsageError

IOU_THRESHOLD = 0.5


def evaluate_detection(
    data_dir: Path,
    detector=None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run `detector` (default: `load_detector()`) on every labelled image of `data_dir` and
    return n, recall, precision, per_class {cls: recall, precision, n_gt}, ms_per_image."""
    import cv2

    if detector is None:
        from relecture.indexer.detect import load_detector

        detector = load_detector()
    data_dir = Path(data_dir)
    labels = read_labels(data_dir)
    tp = n_gt = n_pred = 0
    class_tp: Counter[str] = Counter()
    class_gt: Counter[str] = Counter()
    class_pred: Counter[str] = Counter()
    seconds = 0.0
    for k, (name, rows) in enumerate(labels.items()):
        image = cv2.imread(str(data_dir / name))
        if image is None:
            raise UsageError(f"cannot read image {data_dir / name}")
        start = time.perf_counter()
        dets = detector.detect(image)
        seconds += time.perf_counter() - start
        dets = dets[dets.is_vehicle & dets.sure]
        pred_cls = np.array(dets.labels, dtype=object)
        gt = np.array([row_box(r) for r in rows], np.float32)
        gt_cls = np.array([r["cls"] for r in rows], dtype=object)
        tp += match_boxes(dets.xyxy, dets.confidence, gt, IOU_THRESHOLD)
        n_gt += len(gt)
        n_pred += len(dets)
        for cls in set(gt_cls) | set(pred_cls):
            p, g = pred_cls == cls, gt_cls == cls
            class_tp[cls] += match_boxes(dets.xyxy[p], dets.confidence[p], gt[g], IOU_THRESHOLD)
            class_gt[cls] += int(g.sum())
            class_pred[cls] += int(p.sum())
        if progress:
            progress(k + 1, len(labels))
    order = [c for c in LABELS if c in VEHICLE_LABELS and (class_gt[c] or class_pred[c])]
    return {
        "n": len(labels),
        "n_gt": n_gt,
        "n_pred": n_pred,
        "recall": ratio(tp, n_gt),
        "precision": ratio(tp, n_pred),
        "per_class": {
            c: {
                "recall": ratio(class_tp[c], class_gt[c]),
                "precision": ratio(class_tp[c], class_pred[c]),
                "n_gt": class_gt[c],
            }
            for c in order
        },
        "ms_per_image": 1000.0 * ratio(seconds, len(labels)),
    }
