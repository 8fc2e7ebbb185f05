"""Licence-plate reading: find plates in a vehicle crop or a whole photo and read them.

Plate boxes found by platedet can first be read whole by the project's plate recogniser
(`plate_recogniser`, opt-in: `use_recogniser`); a sure read there ends the picture.
Otherwise they are padded, their coloured bands whitened, and read by RapidOCR
(`plate_models`); the text lines are made plates by the plate grammar (`plate_grammar`, via
`plate_text`). Whether a plate shows the French blue bands on both ends (EU band left,
department band right) tips ambiguous reads (`RK-340-A0`: Slovak `RK340AO` or French
`RK340AD`?). Candidates are scored by OCR confidence, format validity and whether the plate
detector also saw a plate there (or the French bands frame the text: platedet misses some
plates, and is unsure of others). Voting the reads of one track: `plate_vote`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Protocol

import numpy as np

from relecture.indexer.plate_models import PlatedetDetector, RapidPlateOCR, pad, whiten_colours
from relecture.indexer.plate_recogniser import BOX_PAD_X, BOX_PAD_Y, CropRead, load_recogniser
from relecture.indexer.plate_text import (
    PlateCandidate, TextBox, candidates_from_text, joined_candidate, lines, stacked, union,
)
from relecture.plate_grammar import is_french


class PlateDetector(Protocol):
    """Finds plate boxes: ((x1, y1, x2, y2), confidence) pairs in image pixels."""

    def boxes(self, image_bgr: np.ndarray) -> list[tuple[tuple[float, float, float, float],
                                                         float]]: ...


class TextReader(Protocol):
    """Finds and reads text lines in an image resized by `scale` first."""

    def text_boxes(self, image_bgr: np.ndarray, scale: float = 1.0) -> list[TextBox]: ...


class CropReader(Protocol):
    """Reads whole plate crops, one read per crop."""

    def read(self, crops: list[np.ndarray]) -> list[CropRead]: ...


_NOT_LOADED = object()  # the recogniser is looked for on first use (None: not used)


class PlateReader:
    """Reads licence plates in a vehicle crop or a whole photo; models load on first use.

    `read` returns candidates best first. Plate boxes found by platedet are padded and read by
    RapidOCR at two heights; when none of those gives a sure French plate, RapidOCR also reads
    the whole picture (downscaled), and text lines there are scored, with a bonus inside a
    platedet box.
    """

    SURE = 0.90  # a French read this sure from a plate box skips the whole-picture pass
    # a recogniser read this sure (its least sure character times the plate grammar's
    # factor) is taken without RapidOCR: the lowest that lost no even-row photo of plates_fr
    # and plates_eu
    RECOGNISED_SURE = 0.95
    WHOLE_MAX_SIDE = 1280
    # a small vehicle crop is enlarged for the whole-picture pass (at most twice): the text
    # detector misses lines under ~10 px, as on two-line plates, which platedet does not find
    WHOLE_MIN_SIDE = 640
    CROP_HEIGHTS = (64, 128)

    def __init__(self, whole_image: bool = True, max_candidates: int = 5,
                 text_first: bool = False, threads: int = 1,
                 detector: PlateDetector | None = None, ocr: TextReader | None = None,
                 use_recogniser: bool = False, recogniser: CropReader | None = None) -> None:
        self.whole_image = whole_image
        self.threads = threads  # per ONNX Runtime session of the models built here
        self.max_candidates = max_candidates
        # On a vehicle crop, RapidOCR over the whole crop costs about a quarter of platedet
        # (a 640x640 YOLOv8s-seg pass, ~0.55 CPU-s here) and usually reads the plate sure
        # enough: `text_first` tries it first and runs platedet only when it does not.
        self.text_first = text_first
        self._detector, self._ocr = detector, ocr  # injected, or built on first use
        # the plate recogniser reads platedet's boxes first when asked: injected, or the
        # registry's `platerec`; off by default, as it reads real photos no better than
        # RapidOCR (BENCHMARKS.md, "Licence plates")
        self._recogniser = recogniser if recogniser or not use_recogniser else _NOT_LOADED
        self._lock = threading.Lock()

    @property
    def detector(self) -> PlateDetector:
        """The plate box detector (platedet unless one was injected)."""
        with self._lock:
            if self._detector is None:
                self._detector = PlatedetDetector(threads=self.threads)
            return self._detector

    @property
    def ocr(self) -> TextReader:
        """The text line reader (RapidOCR unless one was injected)."""
        with self._lock:
            if self._ocr is None:
                self._ocr = RapidPlateOCR(self.threads)
            return self._ocr

    @property
    def recogniser(self) -> CropReader | None:
        """The plate recogniser (injected, or `platerec` when `use_recogniser`), None when not
        asked for or when its weights are missing (plates are then read by RapidOCR alone)."""
        with self._lock:
            if self._recogniser is _NOT_LOADED:
                self._recogniser = load_recogniser(self.threads)
            return self._recogniser

    def read(self, image_bgr: np.ndarray) -> list[PlateCandidate]:
        """Plate candidates in the image, best first (empty when nothing plate-like is read)."""
        if image_bgr is None or image_bgr.size == 0:
            return []
        image_bgr = _as_bgr(image_bgr)
        h, w = image_bgr.shape[:2]
        det, ocr = self.detector, self.ocr
        whole_boxes = None
        if self.text_first:
            whole_boxes = ocr.text_boxes(image_bgr, self._whole_scale(h, w))
            first = self._score_whole(image_bgr, whole_boxes, [])
            if any(c.confidence >= self.SURE and is_french(c.text)
                   for _, c in first):
                return _rank(first, self.max_candidates)
        plates = det.boxes(image_bgr)
        bands = [french_bands(image_bgr, box) for box, _ in plates]
        recognised = self._recognised(image_bgr, plates, bands)
        if any(c.confidence >= self.RECOGNISED_SURE for _, c in recognised):
            return _rank(recognised, self.max_candidates)
        scored: list[tuple[float, PlateCandidate]] = []
        for k, ((box, pconf), french) in enumerate(zip(plates, bands)):
            if _sure(scored, self.SURE, french_left=True in bands[k:]):
                break
            support = _support(pconf, french)
            x1, y1, x2, y2 = pad(box, w, h, 0.15, 0.5)
            if x2 - x1 < 4 or y2 - y1 < 4:
                continue
            crop = whiten_colours(image_bgr[y1:y2, x1:x2])
            for target in self.CROP_HEIGHTS:
                boxes = ocr.text_boxes(crop, target / crop.shape[0])
                for tb in boxes:
                    tb.quad[:, 0] += x1
                    tb.quad[:, 1] += y1
                scored += candidates_from_text(boxes, "platedet+rapidocr", support, french)
                if _sure(scored, self.SURE):
                    break
        if self.whole_image and not _sure(scored, self.SURE):
            if whole_boxes is None:
                whole_boxes = ocr.text_boxes(image_bgr, self._whole_scale(h, w))
            scored += self._score_whole(image_bgr, whole_boxes, plates)
        return _rank(scored, self.max_candidates)

    def _recognised(self, image_bgr: np.ndarray, plates: list, bands: list
                    ) -> list[tuple[float, PlateCandidate]]:
        """The recogniser's reads of the plate boxes, scored as the OCR's reads are (empty
        without a recogniser)."""
        recogniser = self.recogniser
        if recogniser is None or not plates:
            return []
        h, w = image_bgr.shape[:2]
        kept = [(pad(box, w, h, BOX_PAD_X, BOX_PAD_Y), pconf, french)
                for (box, pconf), french in zip(plates, bands)]
        kept = [k for k in kept if k[0][2] - k[0][0] >= 4 and k[0][3] - k[0][1] >= 4]
        reads = recogniser.read([image_bgr[y1:y2, x1:x2] for (x1, y1, x2, y2), _, _ in kept])
        scored = []
        for read, ((x1, y1, x2, y2), pconf, french) in zip(reads, kept):
            quad = np.float32([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
            found = joined_candidate([TextBox(read.text, read.confidence, quad)],
                                     "platedet+platerec", _support(pconf, french), french)
            if found is not None:
                scored.append(found)
        return scored

    def _whole_scale(self, h: int, w: int) -> float:
        """How the whole picture is resized for the OCR: down to WHOLE_MAX_SIDE, or a small
        one up towards WHOLE_MIN_SIDE."""
        side = max(h, w)
        if side < self.WHOLE_MIN_SIDE:
            return min(2.0, self.WHOLE_MIN_SIDE / side)
        return min(1.0, self.WHOLE_MAX_SIDE / side)

    @staticmethod
    def _score_whole(image_bgr: np.ndarray, boxes: list[TextBox], plates: list
                     ) -> list[tuple[float, PlateCandidate]]:
        """Candidates from the text lines of the whole picture, with the support and bands of
        a platedet box around them when there is one, else the bands around the text itself
        (platedet misses some small or unusual plates that OCR reads fine)."""
        scored: list[tuple[float, PlateCandidate]] = []
        found = lines(boxes)
        groups = [[tb] for tb in boxes] + [line for line in found if len(line) > 1]
        pairs = stacked(found)  # the two lines of one plate, read as one
        for k, group in enumerate(groups + pairs):
            around = [(c, b) for b, c in plates if _inside(union(group), b)]
            c, b = max(around, key=lambda x: x[0]) if around else (0.0, union(group))
            french = french_bands(image_bgr, b)
            support = _support(c, french)
            if k < len(groups):
                scored += candidates_from_text(group, "rapidocr", support, french)
            elif (joined := joined_candidate(group, "rapidocr", support, french)) is not None:
                scored.append(joined)
        return scored


def _as_bgr(image: np.ndarray) -> np.ndarray:
    import cv2

    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def _sure(scored: list[tuple[float, PlateCandidate]], threshold: float,
          french_left: bool = False) -> bool:
    """A French read at least `threshold` sure, or any plate read nearly as sure; when a plate
    box still to be read shows the French bands (`french_left`), only a French read counts:
    a French plate elsewhere in the picture outranks a foreign one (another car, a poster)."""
    return any(s >= threshold if is_french(c.text)
               else s >= threshold - 0.1 and not french_left
               for s, c in scored)


def _support(detector_confidence: float, french: bool | None) -> float:
    """How much a plate box backs the text read in it, 0-1: platedet's confidence, or full
    when the box shows both French bands (text between them is a plate, whatever platedet
    thinks)."""
    return 1.0 if french else min(1.0, detector_confidence / 0.5)


def french_bands(image_bgr: np.ndarray, box) -> bool | None:
    """Whether the plate in `box` has the French blue bands on both ends (EU band on the left,
    department band on the right): True when both are there, False when only the left one is
    (most other EU plates), None when unsure (no band seen, a blue car...)."""
    import cv2

    h, w = image_bgr.shape[:2]
    x1, y1, x2, y2 = pad(box, w, h, 0.04, 0.0)
    region = image_bgr[y1:y2, x1:x2]
    if region.shape[0] < 4 or region.shape[1] < 20:
        return None
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    blue = ((hsv[:, :, 0] >= 95) & (hsv[:, :, 0] <= 135) & (hsv[:, :, 1] > 70)
            & (hsv[:, :, 2] > 40))
    cols = blue.mean(axis=0)
    edge = max(3, int(0.15 * len(cols)))
    left_cols = int((cols[:edge] > 0.5).sum())  # the EU band: solid blue
    # the department band carries a white logo and number: less blue per column; a band
    # is as wide as the EU band, a blue frame or shadow at the very edge is not
    right_cols = int((cols[-edge:] > 0.25).sum())
    if float(np.median(cols)) > 0.3 or left_cols < 2:
        return None
    if right_cols >= max(2, 0.6 * left_cols):
        return True
    return False if right_cols <= 0.25 * left_cols else None


def _inside(inner, outer) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    x1, y1, x2, y2 = outer
    mx, my = 0.2 * (x2 - x1), 0.5 * (y2 - y1)
    return x1 - mx <= cx <= x2 + mx and y1 - my <= cy <= y2 + my


def _rank(scored: list[tuple[float, PlateCandidate]], limit: int) -> list[PlateCandidate]:
    """Best score per distinct text; a text read several times gains a little."""
    by_text: dict[str, list[tuple[float, PlateCandidate]]] = defaultdict(list)
    for s, c in scored:
        by_text[c.text].append((s, c))
    ranked = []
    for text, items in by_text.items():
        s, c = max(items, key=lambda x: x[0])
        ranked.append((s + 0.02 * min(len(items) - 1, 3), c))
    ranked.sort(key=lambda x: -x[0])
    return [c for _, c in ranked[:limit]]

