"""The plate recogniser: reads a whole plate crop (a plate detector's box) at once, without a
text-detection pass. A small CNN with a CTC head (one class distribution per column over
`ALPHABET` + the blank `BLANK`) on a `INPUT_H` x `INPUT_W` grey crop; a square crop (a
two-line plate) is cut into its top and bottom halves laid side by side first, so that every
plate is one line to the network. Trained by `scripts/train_plate_recogniser.py` on plates
the project renders (`synth/plate_crops.py`), declared in `models.registry` as `platerec`.

`load_recogniser` returns None (and says why) when the weights are missing or damaged, so
that plate reading goes on with RapidOCR alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = "_"  # CTC's "no character here"
CLASSES = ALPHABET + BLANK
INPUT_H, INPUT_W = 32, 128
TWO_LINE_ASPECT = 2.4  # a crop narrower than this (width / height) holds a two-line plate
# how a detector's plate box is grown before it is read (the training crops are cut as
# loosely, `synth/plate_crops.py`)
BOX_PAD_X, BOX_PAD_Y = 0.04, 0.1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CropRead:
    """What the recogniser read on one crop."""

    text: str  # A-Z and 0-9 only, blanks dropped
    confidence: float  # the least sure column's probability (blank columns included)


def plate_pixels(crop_bgr: np.ndarray) -> np.ndarray:
    """A crop as the recogniser sees it, before normalisation: grey uint8 INPUT_H x INPUT_W,
    a two-line plate's lines side by side."""
    import cv2

    grey = crop_bgr if crop_bgr.ndim == 2 else cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    if w / h < TWO_LINE_ASPECT and h >= 2:
        grey = np.hstack([grey[: h // 2], grey[h - h // 2:]])
    shrink = grey.shape[0] > INPUT_H or grey.shape[1] > INPUT_W
    return cv2.resize(grey, (INPUT_W, INPUT_H),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def normalised(pixels: np.ndarray) -> np.ndarray:
    """Grey pixels contrast-normalised (night crops and black plates then look like the
    others), float32 (1, H, W)."""
    x = pixels.astype(np.float32)
    return ((x - x.mean()) / (x.std() + 8.0))[None]


def plate_input(crop_bgr: np.ndarray) -> np.ndarray:
    """A BGR crop as the model's input: float32 (1, INPUT_H, INPUT_W)."""
    return normalised(plate_pixels(crop_bgr))


def decode(probabilities: np.ndarray) -> list[CropRead]:
    """(batch, columns, len(CLASSES)) probabilities -> one read per crop (CTC greedy:
    repeats merged, blanks dropped); confidence: the least sure column's probability."""
    best = probabilities.argmax(axis=2)
    sure = probabilities.max(axis=2)
    reads = []
    for row, conf in zip(best, sure):
        chars = [CLASSES[c] for i, c in enumerate(row) if i == 0 or c != row[i - 1]]
        reads.append(CropRead("".join(c for c in chars if c != BLANK), round(float(conf.min()), 4)))
    return reads


class PlateRecogniser:
    """The `platerec` ONNX model (input "crops": (batch, 1, INPUT_H, INPUT_W), output
    "probabilities": (batch, columns, len(CLASSES)), softmax applied)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        from relecture.models.runtime import onnx_session

        self.session = onnx_session(path, threads)
        self.input = self.session.get_inputs()[0].name

    def read(self, crops: list[np.ndarray]) -> list[CropRead]:
        """One read per BGR crop, in order."""
        if not crops:
            return []
        batch = np.stack([plate_input(c) for c in crops])
        return decode(self.session.run(None, {self.input: batch})[0])


def load_recogniser(threads: int = 1) -> PlateRecogniser | None:
    """The registry's `platerec` model, or None with a warning saying how to make it (plate
    reading then uses RapidOCR only, as before the recogniser existed)."""
    from relecture.errors import ModelUnavailable
    from relecture.models.registry import require

    try:
        (path,) = require("platerec")
    except ModelUnavailable as exc:
        log.warning("%s; plates are read with RapidOCR only", exc)
        return None
    return PlateRecogniser(path, threads)
