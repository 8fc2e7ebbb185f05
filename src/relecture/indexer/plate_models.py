"""Adapters around the plate models (declared in `relecture.models.registry`, never
downloaded), injected into `indexer.plates.PlateReader`:
- `platedet` (YOLOv8s-seg, one class) finds plate boxes;
- RapidOCR (PP-OCRv4 text detection + recognition) finds and reads text lines.

They know nothing of plate formats: `plate_text` and `plate_grammar` make plates of what
they read."""

from __future__ import annotations

import numpy as np

from relecture.indexer.plate_text import TextBox


class PlatedetDetector:
    """The offline `platedet` ONNX model (YOLOv8s-seg, one class): plate boxes.

    The export takes 640 x 640 pictures. An image that fits in SMALL_INPUT pixels at its own
    resolution (a vehicle crop from CCTV, mostly) runs at that size instead, the graph rebuilt
    for it (`models.yolo_input`): enlarging it to 640 adds no detail and costs four times the
    pixels (~0.5 against ~0.13 CPU-s a pass here)."""

    SMALL_INPUT = 320

    def __init__(self, conf_threshold: float = 0.1, iou_threshold: float = 0.4,
                 max_boxes: int = 3, threads: int = 1, small_input: bool = True) -> None:
        from relecture.models.registry import require
        from relecture.models.runtime import onnx_session

        (self.path,) = require("platedet")
        self.threads = threads
        self.session = onnx_session(self.path, threads)
        self.input = self.session.get_inputs()[0]
        self.size = int(self.input.shape[-1])
        self._small = None if small_input and self.SMALL_INPUT < self.size else False
        self.conf_threshold = conf_threshold
        self.iou_threshold = iou_threshold
        self.max_boxes = max_boxes

    def _session_for(self, h: int, w: int):
        """(session, input size) for an h x w image: the small graph when it fits there."""
        if self._small is False or max(h, w) > self.SMALL_INPUT:
            return self.session, self.size
        if self._small is None:
            from relecture.models.runtime import onnx_session
            from relecture.models.yolo_input import yolov8_at_input

            self._small = onnx_session(yolov8_at_input(self.path, self.SMALL_INPUT), self.threads)
        return self._small, self.SMALL_INPUT

    def boxes(self, image_bgr: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """Plate boxes (xyxy, confidence) in the image's pixels, surest first."""
        import cv2

        h, w = image_bgr.shape[:2]
        session, size = self._session_for(h, w)
        r = min(size / h, size / w)
        nw, nh = max(1, int(round(w * r))), max(1, int(round(h * r)))
        resized = cv2.resize(image_bgr, (nw, nh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
        canvas = np.full((size, size, 3), 114, np.uint8)
        px, py = (size - nw) // 2, (size - nh) // 2
        canvas[py:py + nh, px:px + nw] = resized[:, :, ::-1]  # the model was trained on RGB
        blob = (canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
        if "float16" in self.input.type:
            blob = blob.astype(np.float16)
        pred = session.run(None, {self.input.name: blob})[0][0].astype(np.float32).T
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


class RapidPlateOCR:
    """RapidOCR (PP-OCRv4): finds and reads text lines, or recognises a tight crop."""

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
        rec_stage = self.engine.text_rec
        rec_stage.postprocess_op = CharacterAlternatives(rec_stage.postprocess_op)

    def text_boxes(self, image_bgr: np.ndarray, scale: float = 1.0) -> list[TextBox]:
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
        return [TextBox(str(text), float(conf), np.asarray(quad, np.float32) / scale,
                        getattr(text, "alternatives", None))
                for quad, text, conf in (result or [])]


class RecognisedText(str):
    """A recognised line of text that also carries, for each of its characters, the
    recogniser's probability of every plate character there (`alternatives`)."""

    alternatives: tuple[dict[str, float], ...]


class CharacterAlternatives:
    """RapidOCR's CTC decoding, keeping what greedy decoding throws away: for each character
    read, the probability the recogniser gave every plate character (A-Z, 0-9) over the time
    steps of that character. The plate grammar uses it to choose a fix (an `O` where a letter
    other than O must be: `D` or `Q`?) from the recogniser's own second choices."""

    MIN_P = 0.001  # smaller probabilities are noise, and not kept

    def __init__(self, decode) -> None:
        from relecture.plate_grammar import normalise_plate

        self.decode = decode
        classes: dict[str, list[int]] = {}
        for index, char in enumerate(decode.character):
            name = normalise_plate(char) if index else ""  # index 0 is CTC's blank
            if len(name) == 1:
                classes.setdefault(name, []).append(index)
        self.classes = classes

    def __call__(self, preds: np.ndarray, return_word_box: bool = False, **kwargs):
        results = self.decode(preds, return_word_box, **kwargs)
        best = preds.argmax(axis=2)
        for b, result in enumerate(results):
            text = RecognisedText(result[0])
            text.alternatives = tuple(self._per_character(preds[b], best[b]))
            results[b] = (text, *result[1:])
        return results

    def _per_character(self, steps: np.ndarray, best: np.ndarray):
        """One {plate character: probability} per character greedy decoding emits (a run of
        equal, non-blank best classes), each probability the highest over the run."""
        start = 0
        for t in range(1, len(best) + 1):
            if t < len(best) and best[t] == best[start]:
                continue
            if best[start] != 0:
                run = steps[start:t]
                found = {name: float(run[:, idx].max()) for name, idx in self.classes.items()}
                yield {name: p for name, p in found.items() if p >= self.MIN_P}
            start = t


def pad(box, w: int, h: int, px: float, py: float) -> tuple[int, int, int, int]:
    """`box` grown by `px` of its width and `py` of its height each side, inside w x h."""
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    return (max(0, int(x1 - px * bw)), max(0, int(y1 - py * bh)),
            min(w, int(np.ceil(x2 + px * bw))), min(h, int(np.ceil(y2 + py * bh))))


def whiten_colours(crop: np.ndarray) -> np.ndarray:
    """Saturated, not dark pixels painted white: plate characters are dark, while the EU blue
    band, inspection stickers and yellow backgrounds are coloured and only confuse the OCR."""
    import cv2

    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    mask = (hsv[:, :, 1] > 90) & (hsv[:, :, 2] > 70)
    out = crop.copy()
    out[mask] = 255
    return out
