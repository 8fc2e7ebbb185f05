"""Plate-reading metrics: on a fake reader, and through the CLI on a few real photos."""

from __future__ import annotations

import time

import csv
import json
import shutil
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from relecture.cli import app
from relecture.evaluation.plates import edit_distance, evaluate_plates

runner = CliRunner()


def test_edit_distance():
    assert edit_distance("GH482KT", "GH482KT") == 0
    assert edit_distance("GH482KT", "GH432KT") == 1
    assert edit_distance("GH482KT", "H482KT") == 1
    assert edit_distance("", "AB") == 2


class _ByWidth:
    """Reads the plate given for each image width (the images differ by size only)."""

    def __init__(self, by_width):
        self.by_width = by_width

    def read(self, image):
        time.sleep(0.01)  # a model's time, which ms_per_image must show
        text = self.by_width[image.shape[1]]
        return [SimpleNamespace(text=text, confidence=0.9)] if text else []


def test_evaluate_plates_metrics(tmp_path):
    (tmp_path / "images").mkdir()
    rows = []
    for name, w, plate in [("a", 100, "GH482KT"), ("b", 110, "ER915LB"), ("c", 120, "1234AB56")]:
        cv2.imwrite(str(tmp_path / "images" / f"{name}.jpg"), np.zeros((50, w, 3), np.uint8))
        rows.append(f"images/{name}.jpg,{plate},1,2,3,4")
    (tmp_path / "labels.csv").write_text("image,plate,x,y,w,h\n" + "\n".join(rows) + "\n")
    reader = _ByWidth({100: "GH482KT", 110: "ER915L8", 120: ""})
    seen = []
    result = evaluate_plates(tmp_path, reader, progress=lambda k, n: seen.append((k, n)))
    assert result["n"] == 3
    assert result["exact_match"] == pytest.approx(1 / 3)
    assert result["within_one"] == pytest.approx(2 / 3)
    assert result["cer"] == pytest.approx((0 + 1 + 8) / (7 + 7 + 8))
    assert result["no_read"] == pytest.approx(1 / 3)
    assert {m["label"] for m in result["misses"]} == {"ER915LB", "1234AB56"}
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert result["per_format"]["siv"] == {"n": 2, "exact": 0.5, "within_one": 1.0}
    assert result["per_format"]["fni"] == {"n": 1, "exact": 0.0, "within_one": 0.0}
    assert result["per_format"]["foreign"]["n"] == 0
    assert result["halves"]["even"]["n"] == 2 and result["halves"]["odd"]["exact"] == 0.0
    assert 10 <= result["ms_per_image"] < 1000  # the reader's 10 ms, not the whole run


def test_eval_plates_cli_on_real_photos(shared_data, tmp_path):
    source = shared_data / "plates_fr"
    with (source / "labels.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    subset = rows[::24][:8]  # spread over the folder, not picked by hand
    (tmp_path / "images").mkdir()
    for row in subset:
        shutil.copy(source / row["image"], tmp_path / row["image"])
    with (tmp_path / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(subset)
    result = runner.invoke(app, ["eval", "plates", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert {"n", "exact_match", "within_one", "cer", "ms_per_image", "misses",
            "per_format", "halves"} <= set(metrics)
    assert metrics["n"] == len(subset)
    assert metrics["exact_match"] > 0.5
    assert metrics["within_one"] >= metrics["exact_match"]
