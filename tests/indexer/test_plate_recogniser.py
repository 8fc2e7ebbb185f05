"""The plate recogniser: its ONNX file loads through the registry, the reader takes its sure
reads without RapidOCR, and a missing or damaged file leaves plate reading to RapidOCR."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

from relecture.indexer.plate_recogniser import (
    BLANK, CLASSES, INPUT_H, INPUT_W, PlateRecogniser, load_recogniser,
)
from relecture.models import registry


def _tiny_model(path: Path, text: str, sureness: float = 10.0) -> Path:
    """An ONNX recogniser that reads `text` on every crop (as sure as `sureness` makes it)."""
    import torch

    columns = INPUT_W // 4
    spelt = "".join(c + BLANK for c in text).ljust(columns, BLANK)  # CTC: blanks between
    logits = torch.zeros(columns, len(CLASSES))
    for column, char in enumerate(spelt):
        logits[column, CLASSES.index(char)] = sureness

    class Constant(torch.nn.Module):
        def forward(self, crops):
            batch = crops.mean(dim=(1, 2, 3))[:, None, None] * 0.0
            return torch.softmax(logits[None] + batch, dim=2)

    torch.onnx.export(Constant(), torch.zeros(1, 1, INPUT_H, INPUT_W), str(path),
                      input_names=["crops"], output_names=["probabilities"],
                      dynamic_axes={"crops": {0: "batch"}, "probabilities": {0: "batch"}},
                      opset_version=17, dynamo=False)
    return path


class _Detector:
    def boxes(self, image):
        return [((40.0, 60.0, 240.0, 100.0), 0.8)]


class _OCR:
    """Reads `text` on whatever it is shown, and counts the calls."""

    def __init__(self, text: str) -> None:
        self.text, self.calls = text, 0

    def text_boxes(self, image, scale=1.0):
        from relecture.indexer.plate_text import TextBox

        self.calls += 1
        h, w = image.shape[:2]
        quad = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        return [TextBox(self.text, 0.8, quad)]


def _picture() -> np.ndarray:
    image = np.full((160, 400, 3), 90, np.uint8)
    image[60:100, 40:240] = 245
    return image


def _declare(monkeypatch, path: Path | None) -> None:
    """The registry's platerec entry pointed at `path` (None: at nothing)."""
    declared = registry.spec("platerec")
    digest = registry.file_sha256(path) if path else declared.sha256
    mine = dataclasses.replace(declared, module="", files=(), env="RELECTURE_TEST_PLATEREC",
                               sha256=digest)
    monkeypatch.setattr(registry, "MODELS", tuple(
        mine if s.key == "platerec" else s for s in registry.MODELS))
    if path:
        monkeypatch.setenv("RELECTURE_TEST_PLATEREC", str(path))
    else:
        monkeypatch.delenv("RELECTURE_TEST_PLATEREC", raising=False)


def test_the_recogniser_reads_a_crop_with_its_confidence(tmp_path):
    recogniser = PlateRecogniser(_tiny_model(tmp_path / "rec.onnx", "GH448KT"))
    reads = recogniser.read([np.zeros((30, 120, 3), np.uint8), np.zeros((90, 60), np.uint8)])
    assert [r.text for r in reads] == ["GH448KT", "GH448KT"]
    assert all(0.99 < r.confidence <= 1.0 for r in reads)
    unsure = PlateRecogniser(_tiny_model(tmp_path / "unsure.onnx", "GH448KT", sureness=1.0))
    assert unsure.read([np.zeros((30, 120, 3), np.uint8)])[0].confidence < 0.5


def test_a_sure_recogniser_read_is_taken_without_rapidocr(tmp_path, monkeypatch):
    from relecture.indexer.plates import PlateReader

    _declare(monkeypatch, _tiny_model(tmp_path / "rec.onnx", "GH448KT"))
    ocr = _OCR("AB-123-CD")
    reader = PlateReader(detector=_Detector(), ocr=ocr, use_recogniser=True)  # from the registry
    best = reader.read(_picture())[0]
    assert (best.text, best.source) == ("GH448KT", "platedet+platerec")
    assert ocr.calls == 0


def test_an_unsure_recogniser_read_leaves_the_plate_to_rapidocr(tmp_path):
    from relecture.indexer.plates import PlateReader

    ocr = _OCR("AB-123-CD")
    unsure = PlateRecogniser(_tiny_model(tmp_path / "rec.onnx", "GH448KT", sureness=1.0))
    reader = PlateReader(detector=_Detector(), ocr=ocr, recogniser=unsure)
    assert reader.read(_picture())[0].text == "AB123CD"
    assert ocr.calls > 0


@pytest.mark.parametrize("damaged", [False, True])
def test_a_missing_or_damaged_recogniser_falls_back_to_rapidocr(tmp_path, monkeypatch, caplog,
                                                                damaged):
    from relecture.indexer.plates import PlateReader

    if damaged:
        path = _tiny_model(tmp_path / "rec.onnx", "GH448KT")
        _declare(monkeypatch, path)
        path.write_bytes(path.read_bytes() + b"\0")  # no longer the pinned file
    else:
        _declare(monkeypatch, None)
    with caplog.at_level(logging.WARNING):
        assert load_recogniser() is None
    assert "platerec" in caplog.text and "RapidOCR only" in caplog.text
    assert "train_plate_recogniser.py" in caplog.text  # says how to make it
    reader = PlateReader(detector=_Detector(), ocr=_OCR("AB-123-CD"), use_recogniser=True)
    assert reader.read(_picture())[0].text == "AB123CD"


def test_the_recogniser_is_only_used_when_asked_for(tmp_path, monkeypatch):
    from relecture.indexer.plates import PlateReader

    _declare(monkeypatch, _tiny_model(tmp_path / "rec.onnx", "GH448KT"))
    assert PlateReader(detector=_Detector(), ocr=_OCR("AB-123-CD")).read(
        _picture())[0].text == "AB123CD"


def test_the_shipped_recogniser_matches_its_pinned_digest():
    paths, why = registry.check(registry.spec("platerec"))
    assert paths is not None, why
    assert paths[0].stat().st_size < 5_000_000


def test_training_crops_are_the_same_for_a_seed_and_cover_every_layout():
    # the shipped weights are reproducible only if sample k of a seed never changes
    from relecture.indexer.plate_recogniser import ALPHABET, plate_pixels
    from relecture.plate_grammar import format_family
    from relecture.synth.plate_crops import available_fonts, training_crop

    fonts = available_fonts()
    first = [training_crop(14, k, fonts) for k in range(40)]
    again = [training_crop(14, k, fonts) for k in range(40)]
    assert all(np.array_equal(a.image, b.image) and a.plate == b.plate
               for a, b in zip(first, again))
    assert {format_family(c.plate) for c in first} == {"siv", "fni", "foreign"}
    assert all(set(c.plate) <= set(ALPHABET) and 4 <= len(c.plate) <= 10 for c in first)
    assert all(plate_pixels(c.image).shape == (INPUT_H, INPUT_W) for c in first)
