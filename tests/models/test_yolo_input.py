"""platedet rebuilt for small inputs (`models.yolo_input`): the rebuilt head is the exported
one at the exported size, and a small vehicle crop finds its plate where the 640 graph does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relecture.detections import box_iou
from tests.indexer.test_plates import SAMPLE, _frame


def _platedet_path():
    from relecture.errors import ModelUnavailable
    from relecture.models.registry import require

    try:
        return require("platedet")[0]
    except ModelUnavailable as e:  # pragma: no cover - weights not installed
        pytest.skip(str(e))


def test_the_rebuilt_head_constants_are_the_exported_ones_at_640():
    import onnx
    from onnx import numpy_helper

    from relecture.models.yolo_input import head_constants

    exported = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(_platedet_path())).graph.initializer}
    points, strides = head_constants(640)
    assert any(v.shape == points.shape and np.array_equal(v, points) for v in exported.values())
    assert any(v.shape == strides.shape and np.array_equal(v, strides) for v in exported.values())
    assert head_constants(320)[0].shape == (1, 2, 40 * 40 + 20 * 20 + 10 * 10)


def test_a_small_crop_finds_its_plate_where_the_640_graph_does():
    from relecture.indexer.plate_models import PlatedetDetector

    _platedet_path()
    clip = json.loads((SAMPLE / "expected.json").read_text())["clips"][0]
    start, end = clip["vehicles"][0]["in_view_s"]
    frame = _frame(SAMPLE / clip["file"], start + 0.25 * (end - start))
    ((x1, y1, x2, y2), _), *_ = PlatedetDetector(small_input=False).boxes(frame)
    cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2)
    top, left = max(0, cy - 150), max(0, cx - 140)
    crop = frame[top:top + 240, left:left + 280]  # a vehicle crop as video gives, <= 320 px
    small, full = PlatedetDetector(), PlatedetDetector(small_input=False)
    assert small._session_for(*crop.shape[:2])[1] == 320
    found, expected = small.boxes(crop), full.boxes(crop)
    assert found and expected
    assert box_iou([found[0][0]], [expected[0][0]])[0, 0] > 0.7
    assert box_iou([found[0][0]], [(x1 - left, y1 - top, x2 - left, y2 - top)])[0, 0] > 0.7
    assert small._session_for(*frame.shape[:2])[1] == 640  # a whole frame keeps the export
