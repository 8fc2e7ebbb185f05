"""Licence-plate reading: find plates in a vehicle crop or a whole photo, read them, and vote
the reads of one vehicle track into one plate.

Models (declared in `relecture.models.registry`, never downloaded):
- `platedet` (YOLOv8s-seg, one class) finds plate boxes;
- RapidOCR (PP-OCRv4 text detection + recognition) reads the padded box at a couple of
  scales and, when that gives no sure French read, the whole picture too.

Both are plugged into fast-alpr's `ALPR` as a custom `BaseDetector` / `BaseOCR`.

Plate-format knowledge turns raw OCR text into candidates: French SIV `AA-123-AA` (letters
never I, O, U; no SS block, no 000; WW only as the first block, for temporary plates) and old
FNI `1234 AB 56` are recognised, with OCR confusions fixed position by position (an `O`
where a SIV letter must be is a `Q`, an `S` where a digit must be is a `5`...); other
European plates are kept as generic 5-8 alphanumerics, with a small preference for layouts
we know (Slovak, Czech, British) and the Czech sticker slot skipped when OCR read it as a
character. Whether a plate shows the French blue bands on both ends (EU band left,
department band right) tips ambiguous reads (`RK-340-A0`: Slovak `RK340AO` or French
`RK340AD`?). The EU band letter ("F", "D"...) at the start and the department band digits
at the end are stripped when what remains is a valid plate. Candidates are scored by OCR
confidence, format validity and whether the plate detector also saw a plate there (or the
French bands frame the text: platedet misses some plates, and is unsure of others).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from relecture.sightings import PlateRead, PlateResult

# ---------------------------------------------------------------------------- formats

SIV_LETTERS = frozenset("ABCDEFGHJKLMNPQRSTVWXYZ")  # no I, O, U
_SIV_RE = re.compile(r"^([A-Z]{2})(\d{3})([A-Z]{2})$")
_FNI_RE = re.compile(r"^(\d{1,4})([A-Z]{2,3})(\d{2}|2A|2B|97[1-6])$")
_GENERIC_RE = re.compile(r"^[A-Z0-9]{5,8}$")

# what a character read in the wrong place most likely was
TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "L": "1", "T": "1", "J": "1",
            "Z": "2", "S": "5", "B": "8", "G": "6", "A": "4", "E": "8"}
TO_LETTER = {"0": "D", "1": "T", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "7": "T"}
# elsewhere in Europe O and I are letters like any other
TO_LETTER_EU = {**TO_LETTER, "0": "O", "1": "I"}
# well-known European layouts (Slovak LL DDD LL, Czech 1A2 3456 / 1AB 2345 / ABC 1234,
# British AB12 CDE) and where their emblem or inspection sticker sits
# (OCR sometimes reads it as a character; None: nothing there)
EU_TEMPLATES = {"LLDDDLL": 2, "DLDDDDD": 3, "DLLDDDD": 3, "LLLDDDD": 3, "LLDDLLL": None}
EU_BONUS = 0.02
STICKER_COST = 0.02
UNKNOWN_LAYOUT_COST = 0.05  # a generic read that fits no layout we know
# letters that SIV and FNI never use, and what OCR most likely saw instead
FORBIDDEN_TO_LETTER = {"O": "Q", "I": "T", "U": "V"}  # a Q's tail is easily lost
# fixes between characters OCR really mixes up cost little; a guess costs more
CHEAP_FIXES = {("0", "D"), ("O", "0"), ("D", "0"), ("Q", "0"), ("I", "1"), ("L", "1"),
               ("T", "1"), ("Z", "2"), ("S", "5"), ("B", "8"), ("G", "6"), ("2", "Z"),
               ("5", "S"), ("8", "B"), ("6", "G"), ("O", "D"), ("U", "V"), ("1", "T"),
               ("0", "O"), ("1", "I"), ("O", "Q")}

# a 0 or 1 glyph where SIV wants a letter: OCR tells D and T from 0 and 1 well, while an O or
# I read as 0 or 1 is common, and SIV has neither: more likely a foreign plate
UNLIKELY_FIXES = {("0", "D"), ("1", "T")}
FORMAT_WEIGHT = {"siv": 1.0, "fni": 0.97, "generic": 0.86}
FORBIDDEN_COST = 0.2  # on top of the fix itself
SHORT_COST = {5: 0.03, 6: 0.015}  # most plates have 7 or 8 characters
MAX_FIXES = 3  # more fixed characters than this is not a read any more
_UNICODE_FIXES = str.maketrans({"·": " ", "•": " ", "—": "-", "–": "-", "|": "I", "丨": "I",
                                "О": "O", "Е": "E", "А": "A", "В": "B", "С": "C", "Н": "H",
                                "К": "K", "М": "M", "Р": "P", "Т": "T", "Х": "X", "У": "Y"})


def clean(text: str) -> str:
    """Upper case, Cyrillic look-alikes mapped, everything but A-Z and 0-9 dropped."""
    return re.sub(r"[^A-Z0-9]", "", text.upper().translate(_UNICODE_FIXES))


def plate_format(text: str) -> str | None:
    """'siv', 'fni', 'generic' or None for an already normalised text."""
    m = _SIV_RE.match(text)
    if m and _siv_ok(m):
        return "siv"
    m = _FNI_RE.match(text)
    if m and set(m.group(2)) <= SIV_LETTERS and m.group(1).lstrip("0"):
        return "fni"
    if _GENERIC_RE.match(text) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
        return "generic"
    return None


def _siv_ok(m: re.Match) -> bool:
    a, digits, b = m.groups()
    return (set(a + b) <= SIV_LETTERS and digits != "000"
            and a != "SS" and b not in ("SS", "WW"))  # WW-123-AB: temporary plates


def _fix(text: str, template: str, french: bool = True, banded: bool = False
         ) -> tuple[str, float] | None:
    """`text` forced onto a template of 'L' (letter), 'D' (digit) and 'X' (digit, or the A/B
    of Corsica's 2A/2B) positions, and the cost of
    the fixes; None when a character cannot be mapped."""
    out, cost, fixes = [], 0.0, 0
    for c, kind in zip(text, template):
        if kind == "X" and c in "AB" and out and out[-1] == "2":
            new = c  # Corsica: 2A, 2B
        elif kind in "DX" and not c.isdigit():
            new = TO_DIGIT.get(c)
        elif kind == "L" and c.isdigit():
            new = TO_LETTER.get(c) if french else TO_LETTER_EU.get(c)
        elif kind == "L" and french and c in FORBIDDEN_TO_LETTER:
            new = FORBIDDEN_TO_LETTER[c]
            if not banded:
                cost += FORBIDDEN_COST  # read clearly: likely not a French plate
        else:
            new = c
        if new is None:
            return None
        if new != c:
            cost += (0.20 if (c, new) in UNLIKELY_FIXES and not banded
                     else 0.06 if (c, new) in CHEAP_FIXES else 0.15)
            fixes += 1
        out.append(new)
    if fixes > MAX_FIXES:
        return None
    return "".join(out), cost


def _fni_templates(n: int) -> list[str]:
    found = []
    for dept in (2, 3):
        for letters in (2, 3):
            digits = n - dept - letters
            if 1 <= digits <= 4:
                found.append("D" * digits + "L" * letters + ("DX" if dept == 2 else "DDD"))
    return found


def interpret(text: str, french: bool | None = None) -> list[tuple[str, str, float]]:
    """Every plausible plate in one normalised OCR text: (plate, format, cost), cheapest first.

    Tries the text as it is and with a band character stripped at the start or department
    characters at the end; French formats are fixed position by position. `french`: True
    when the plate shows the French blue bands (French fixes are then cheap and foreign
    layouts dear), False when it shows only the EU band, None when unknown."""
    banded = french is True
    foreign_cost = 0.10 if french else 0.0
    french_cost = 0.05 if french is False else 0.0
    found: dict[str, tuple[str, float]] = {}

    def add(plate: str, fmt: str, cost: float) -> None:
        if plate not in found or found[plate][1] > cost:
            found[plate] = (fmt, cost)

    n = len(text)
    for head in range(0, 3):
        for tail in range(0, 4):
            core = text[head:n - tail]
            if len(core) < 5:
                continue
            strip_cost = 0.03 * head + 0.03 * tail
            foreign_strip = 0.03 * tail  # department bands are French
            if head and not all(c in "FDI1LEBJ" for c in text[:head]):
                strip_cost += 0.10 * head  # not a band letter: stripping is a guess
            if len(core) == 7:
                fixed = _fix(core, "LLDDDLL", banded=banded)
                if fixed and plate_format(fixed[0]) == "siv":
                    add(fixed[0], "siv", strip_cost + fixed[1] + french_cost)
            for template in _fni_templates(len(core)):
                fixed = _fix(core, template, banded=banded)
                if fixed:
                    candidate = fixed[0]
                    if template.endswith("DDD") and not candidate.endswith(("971", "972", "973", "974", "975", "976")):
                        continue
                    if plate_format(candidate) == "fni":
                        add(candidate, "fni", strip_cost + fixed[1])
            if plate_format(core) == "generic":
                add(core, "generic", strip_cost + foreign_strip + UNKNOWN_LAYOUT_COST + foreign_cost
                    + SHORT_COST.get(len(core), 0.0))
            for template, slot in EU_TEMPLATES.items():
                if len(core) == len(template):
                    fixed, extra = _fix(core, template, french=False), 0.0
                elif len(core) == len(template) + 1 and slot is not None:
                    fixed, extra = _fix(core[:slot] + core[slot + 1:], template, french=False), STICKER_COST
                else:
                    continue
                if fixed and plate_format(fixed[0]) == "generic":
                    add(fixed[0], "generic",
                        strip_cost + foreign_strip + fixed[1] + extra - EU_BONUS + foreign_cost)
    return sorted(((p, f, c) for p, (f, c) in found.items()), key=lambda x: x[2])


def best_interpretation(text: str, french: bool | None = None) -> tuple[str, str, float] | None:
    """The best (plate, format, score factor) of an OCR text, or None when nothing fits;
    `french` as in `interpret`."""
    options = [(p, f, FORMAT_WEIGHT[f] - c) for p, f, c in interpret(clean(text), french)]
    return max(options, key=lambda o: o[2], default=None)


def normalise_read(text: str) -> str:
    """The plate an OCR text most likely shows (format-fixed when a format fits), else the
    text cleaned to A-Z0-9."""
    best = best_interpretation(text)
    return best[0] if best else clean(text)


# ---------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class PlateCandidate:
    """One plate read in the image passed to `PlateReader.read`."""

    text: str  # normalised: upper case letters and digits only
    confidence: float
    box: tuple[float, float, float, float]  # xyxy in the input image's pixels
    source: str


@dataclass(frozen=True)
class _TextBox:
    text: str
    confidence: float
    quad: np.ndarray  # 4x2 points in image pixels

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        q = self.quad
        return (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))

    @property
    def height(self) -> float:
        q = self.quad
        return float((np.linalg.norm(q[0] - q[3]) + np.linalg.norm(q[1] - q[2])) / 2)


def _lines(boxes: list[_TextBox]) -> list[list[_TextBox]]:
    """Text boxes grouped into lines (vertical overlap, small horizontal gaps), left to right."""
    boxes = sorted(boxes, key=lambda b: b.xyxy[0])
    lines: list[list[_TextBox]] = []
    for b in boxes:
        x1, y1, x2, y2 = b.xyxy
        h = max(y2 - y1, 1.0)
        for line in lines:
            lx1, ly1, lx2, ly2 = line[-1].xyxy
            lh = max(ly2 - ly1, 1.0)
            overlap = min(y2, ly2) - max(y1, ly1)
            if overlap > 0.5 * min(h, lh) and x1 - lx2 < 1.5 * max(h, lh) and 0.5 < h / lh < 2.0:
                line.append(b)
                break
        else:
            lines.append([b])
    return lines


def _runs(line: list[_TextBox]) -> list[list[_TextBox]]:
    """Every contiguous run of boxes of a line (plates are often split by the OCR detector)."""
    return [line[i:j] for i in range(len(line)) for j in range(i + 1, min(len(line), i + 5) + 1)]


def _union(boxes: list[_TextBox]) -> tuple[float, float, float, float]:
    xs = [b.xyxy for b in boxes]
    return (min(x[0] for x in xs), min(x[1] for x in xs), max(x[2] for x in xs), max(x[3] for x in xs))


def _candidates_from_text(boxes: list[_TextBox], source: str, support: float,
                          french: bool | None = None
                          ) -> list[tuple[float, PlateCandidate]]:
    out = []
    for line in _lines(boxes):
        for run in _runs(line):
            text = "".join(clean(b.text) for b in run)
            if not 5 <= len(text) <= 11:
                continue
            weights = [max(len(clean(b.text)), 1) for b in run]
            conf = float(np.average([b.confidence for b in run], weights=weights))
            best = best_interpretation(text, french)
            if best is None:
                continue
            plate, fmt, factor = best
            split_cost = 0.01 * (len(run) - 1)
            score = conf * factor * (0.7 + 0.3 * support) - split_cost
            out.append((score, PlateCandidate(plate, round(min(1.0, conf * factor), 4),
                                              _union(run), source)))
    return out


# ---------------------------------------------------------------------------- models


class PlatedetDetector:
    """fast-alpr `BaseDetector` around the offline `platedet` ONNX model (YOLOv8s-seg)."""

    def __init__(self, conf_threshold: float = 0.1, iou_threshold: float = 0.4,
                 max_boxes: int = 3, threads: int = 1) -> None:
        from relecture.models.registry import require
        from relecture.models.runtime import onnx_session

        (path,) = require("platedet")
        self.session = onnx_session(path, threads)
        self.input = self.session.get_inputs()[0]
        self.size = int(self.input.shape[-1])
        self.conf_threshold = conf_threshold
        self.iou_threshold = iou_threshold
        self.max_boxes = max_boxes

    def boxes(self, image_bgr: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """Plate boxes (xyxy, confidence) in the image's pixels, surest first."""
        import cv2

        h, w = image_bgr.shape[:2]
        r = min(self.size / h, self.size / w)
        nw, nh = max(1, int(round(w * r))), max(1, int(round(h * r)))
        resized = cv2.resize(image_bgr, (nw, nh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
        canvas = np.full((self.size, self.size, 3), 114, np.uint8)
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        canvas[py:py + nh, px:px + nw] = resized[:, :, ::-1]  # the model was trained on RGB
        blob = (canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
        if "float16" in self.input.type:
            blob = blob.astype(np.float16)
        pred = self.session.run(None, {self.input.name: blob})[0][0].astype(np.float32).T
        scores = pred[:, 4]
        keep = scores > self.conf_threshold
        pred, scores = pred[keep], scores[keep]
        if not len(pred):
            return []
        cx, cy, bw, bh = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
        xywh = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], 1)
        idx = np.array(cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), self.conf_threshold,
                                        self.iou_threshold)).flatten()
        out = []
        for i in idx[np.argsort(-scores[idx])][: self.max_boxes]:
            x, y, bw_, bh_ = xywh[i]
            x1 = float(np.clip((x - px) / r, 0, w))
            y1 = float(np.clip((y - py) / r, 0, h))
            x2 = float(np.clip((x + bw_ - px) / r, 0, w))
            y2 = float(np.clip((y + bh_ - py) / r, 0, h))
            if x2 - x1 >= 4 and y2 - y1 >= 2:
                out.append(((x1, y1, x2, y2), float(scores[i])))
        return out

    def predict(self, frame: np.ndarray):  # fast_alpr.base.BaseDetector
        """Padded plate boxes as fast-alpr detections (`ALPR.predict` crops them as they are,
        and the OCR needs the margin)."""
        from open_image_models.detection.core.base import BoundingBox, DetectionResult

        h, w = frame.shape[:2]
        return [DetectionResult(label="plate", confidence=c,
                                bounding_box=BoundingBox(*_pad(b, w, h, 0.15, 0.5)))
                for b, c in self.boxes(frame)]


class RapidPlateOCR:
    """fast-alpr `BaseOCR` around RapidOCR (PP-OCRv4): reads a padded plate crop at a couple
    of heights and keeps the most plate-like line."""

    source = "rapidocr"
    DET_MAX_SIDE = 960

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime import RapidOCR

        from relecture.models.registry import require

        det, rec = require("rapidocr")[1], require("rapidocr")[0]
        # det_limit_type "max": never upscale a plate crop to 736 px on its short side (the
        # package default), which is slow and no better
        self.engine = RapidOCR(det_model_path=str(det), rec_model_path=str(rec), use_cls=False,
                               print_verbose=False, det_limit_type="max",
                               det_limit_side_len=self.DET_MAX_SIDE,
                               intra_op_num_threads=threads, inter_op_num_threads=1)

    def text_boxes(self, image_bgr: np.ndarray, scale: float = 1.0) -> list[_TextBox]:
        """Text lines found and read by RapidOCR in the image (resized by `scale` first),
        with their corners in the original image's pixels."""
        import cv2

        if image_bgr.size == 0:
            return []
        img = image_bgr
        if scale != 1.0:
            img = cv2.resize(image_bgr, None, fx=scale, fy=scale,
                             interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
        result, _ = self.engine(img, use_cls=False)
        return [_TextBox(str(text), float(conf), np.asarray(quad, np.float32) / scale)
                for quad, text, conf in (result or [])]

    def recognise(self, image_bgr: np.ndarray) -> tuple[str, float]:
        """Recognition only (no text detection) of a tight crop."""
        result, _ = self.engine(image_bgr, use_det=False, use_cls=False)
        if not result:
            return "", 0.0
        text, conf = result[0]
        return str(text), float(conf)

    def predict(self, cropped_plate: np.ndarray):  # fast_alpr.base.BaseOCR
        from fast_alpr.base import OcrResult

        h = max(cropped_plate.shape[0], 1)
        crop = whiten_colours(cropped_plate)
        found = _candidates_from_text(self.text_boxes(crop, 96 / h), self.source, 1.0)
        if not found:
            return None
        score, best = max(found, key=lambda x: x[0])
        return OcrResult(text=best.text, confidence=best.confidence)


def _pad(box, w: int, h: int, px: float, py: float) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    return (max(0, int(x1 - px * bw)), max(0, int(y1 - py * bh)),
            min(w, int(np.ceil(x2 + px * bw))), min(h, int(np.ceil(y2 + py * bh))))


class PlateReader:
    """Reads licence plates in a vehicle crop or a whole photo; models load on first use.

    `read` returns candidates best first. Plate boxes found by platedet are padded and read by
    RapidOCR at two heights; when none of those gives a sure French plate, RapidOCR also reads
    the whole picture (downscaled), and text lines there are scored, with a bonus inside a
    platedet box.
    """

    SURE = 0.90  # a French read this sure from a plate box skips the whole-picture pass
    WHOLE_MAX_SIDE = 1280
    CROP_HEIGHTS = (64, 128)

    def __init__(self, whole_image: bool = True, max_candidates: int = 5,
                 text_first: bool = False, threads: int = 1) -> None:
        self.whole_image = whole_image
        self.threads = threads  # per ONNX Runtime session
        self.max_candidates = max_candidates
        # On a vehicle crop, RapidOCR over the whole crop costs about a quarter of platedet
        # (a 640x640 YOLOv8s-seg pass, ~0.55 CPU-s here) and usually reads the plate sure
        # enough: `text_first` tries it first and runs platedet only when it does not.
        self.text_first = text_first
        self._alpr = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._alpr is None:
                from fast_alpr import ALPR

                from fast_alpr.base import BaseDetector, BaseOCR

                # virtual subclasses: fast-alpr is only imported once a plate is to be read
                BaseDetector.register(PlatedetDetector)
                BaseOCR.register(RapidPlateOCR)
                self._alpr = ALPR(detector=PlatedetDetector(threads=self.threads),
                                  ocr=RapidPlateOCR(self.threads))
        return self._alpr

    @property
    def detector(self) -> PlatedetDetector:
        return self._load().detector

    @property
    def ocr(self) -> RapidPlateOCR:
        return self._load().ocr

    def read(self, image_bgr: np.ndarray) -> list[PlateCandidate]:
        """Plate candidates in the image, best first (empty when nothing plate-like is read)."""
        if image_bgr is None or image_bgr.size == 0:
            return []
        image_bgr = _as_bgr(image_bgr)
        h, w = image_bgr.shape[:2]
        det, ocr = self.detector, self.ocr
        whole_boxes = None
        if self.text_first:
            whole_boxes = ocr.text_boxes(image_bgr, min(1.0, self.WHOLE_MAX_SIDE / max(h, w)))
            first = self._score_whole(image_bgr, whole_boxes, [])
            if any(c.confidence >= self.SURE and plate_format(c.text) in ("siv", "fni")
                   for _, c in first):
                return _rank(first, self.max_candidates)
        plates = det.boxes(image_bgr)
        bands = [french_bands(image_bgr, box) for box, _ in plates]
        scored: list[tuple[float, PlateCandidate]] = []
        for k, ((box, pconf), french) in enumerate(zip(plates, bands)):
            if _sure(scored, self.SURE, french_left=True in bands[k:]):
                break
            support = _support(pconf, french)
            x1, y1, x2, y2 = _pad(box, w, h, 0.15, 0.5)
            if x2 - x1 < 4 or y2 - y1 < 4:
                continue
            crop = whiten_colours(image_bgr[y1:y2, x1:x2])
            for target in self.CROP_HEIGHTS:
                boxes = ocr.text_boxes(crop, target / crop.shape[0])
                for tb in boxes:
                    tb.quad[:, 0] += x1
                    tb.quad[:, 1] += y1
                scored += _candidates_from_text(boxes, "platedet+rapidocr", support, french)
                if _sure(scored, self.SURE):
                    break
        if self.whole_image and not _sure(scored, self.SURE):
            if whole_boxes is None:
                whole_boxes = ocr.text_boxes(image_bgr, min(1.0, self.WHOLE_MAX_SIDE / max(h, w)))
            scored += self._score_whole(image_bgr, whole_boxes, plates)
        return _rank(scored, self.max_candidates)

    @staticmethod
    def _score_whole(image_bgr: np.ndarray, boxes: list[_TextBox], plates: list
                     ) -> list[tuple[float, PlateCandidate]]:
        """Candidates from the text lines of the whole picture, with the support and bands of
        a platedet box around them when there is one, else the bands around the text itself
        (platedet misses some small or unusual plates that OCR reads fine)."""
        scored: list[tuple[float, PlateCandidate]] = []
        groups = [[tb] for tb in boxes] + [line for line in _lines(boxes) if len(line) > 1]
        for group in groups:
            around = [(c, b) for b, c in plates if _inside(_union(group), b)]
            c, b = max(around, key=lambda x: x[0]) if around else (0.0, _union(group))
            french = french_bands(image_bgr, b)
            scored += _candidates_from_text(group, "rapidocr", _support(c, french), french)
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
    return any(s >= threshold if plate_format(c.text) in ("siv", "fni")
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
    x1, y1, x2, y2 = _pad(box, w, h, 0.04, 0.0)
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


def whiten_colours(crop: np.ndarray) -> np.ndarray:
    """Saturated, not dark pixels painted white: plate characters are dark, while the EU blue
    band, inspection stickers and yellow backgrounds are coloured and only confuse the OCR."""
    import cv2

    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    mask = (hsv[:, :, 1] > 90) & (hsv[:, :, 2] > 70)
    out = crop.copy()
    out[mask] = 255
    return out


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


# ---------------------------------------------------------------------------- voting


def vote(reads: list[PlateRead]) -> PlateResult:
    """One plate for a vehicle track from the reads of several frames.

    Reads are weighted by confidence (French-format reads count fully, others a little less);
    the length with most weight wins, then each position takes the character with most weight
    among reads of that length. Confidence: mean positional agreement times the winning
    length's share of all weight times the mean confidence of its reads. Every read is kept."""
    reads = list(reads)
    if not reads:
        return PlateResult(text=None, confidence=0.0)
    kept = tuple(reads)
    usable = [r for r in reads if r.text]
    if not usable:
        return PlateResult(text=None, confidence=0.0, reads=kept)

    def weight(r: PlateRead) -> float:
        fmt = plate_format(r.text)
        return max(float(r.confidence), 1e-6) * (1.0 if fmt in ("siv", "fni") else 0.8 if fmt else 0.5)

    by_len: dict[int, float] = defaultdict(float)
    for r in usable:
        by_len[len(r.text)] += weight(r)
    total = sum(by_len.values())
    length = max(by_len, key=lambda n: (by_len[n], n))
    same = [r for r in usable if len(r.text) == length]
    chars, agreement = [], []
    for i in range(length):
        votes: dict[str, float] = defaultdict(float)
        for r in same:
            votes[r.text[i]] += weight(r)
        c = max(votes, key=lambda k: (votes[k], k))
        chars.append(c)
        agreement.append(votes[c] / sum(votes.values()))
    text = "".join(chars)
    mean_conf = float(np.mean([min(1.0, max(0.0, r.confidence)) for r in same]))
    confidence = float(np.mean(agreement)) * (by_len[length] / total) * mean_conf
    return PlateResult(text=text, confidence=round(min(1.0, max(0.0, confidence)), 4), reads=kept)
