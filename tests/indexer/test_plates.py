"""Plate formats, OCR confusion fixing, voting, and a real read on the bundled sample footage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from relecture.indexer.plate_text import PlateCandidate
from relecture.indexer.plate_vote import vote
from relecture.plate_grammar import best_interpretation, normalise_read, plate_format
from relecture.sightings import PlateRead, PlateResult

SAMPLE = Path(__file__).resolve().parents[2] / "sample_footage"


@pytest.mark.parametrize("raw, plate", [
    ("GH-482-KT", "GH482KT"),
    ("GH-4B2-KT", "GH482KT"),  # B where a digit must be
    ("6H-482-KT", "GH482KT"),  # 6 where a letter must be
    ("GH-48Z-KT", "GH482KT"),
    ("AB-1O3-CD", "AB103CD"),
    ("F GH482KT", "GH482KT"),  # EU blue band letter
    ("|F GH-482-KT", "GH482KT"),
    ("GH-482-KT 75", "GH482KT"),  # department band
    ("1234 AB 56", "1234AB56"),  # old FNI format
    ("1234 AB 2A", "1234AB2A"),
    ("123 ABC 974", "123ABC974"),
    ("9089 TW·22", "9089TW22"),
    ("gh 482 kt", "GH482KT"),
])
def test_french_reads_are_normalised_and_fixed(raw, plate):
    assert normalise_read(raw) == plate


def test_formats():
    assert plate_format("GH482KT") == "siv"
    assert plate_format("1234AB56") == "fni"
    assert plate_format("SS123AB") != "siv"  # SS is not issued
    assert plate_format("AB000CD") != "siv"
    assert plate_format("AB123CO") != "siv"  # no O in SIV
    assert plate_format("RK708AI") == "generic"  # Slovak
    assert plate_format("4B39376") == "generic"  # Czech
    assert plate_format("ABCDEF") is None  # no digit
    assert plate_format("AB12") is None  # too short


def test_foreign_plates_are_kept_as_read():
    # a clear I or O where SIV has none: a foreign plate, not a French one to "fix"
    assert normalise_read("RK-708 AI") == "RK708AI"
    assert normalise_read("BA 302 OZ") == "BA302OZ"
    assert normalise_read("W·053011") == "W053011"
    assert normalise_read("VW4X4-WP") == "VW4X4WP"
    assert best_interpretation("PlatesMania.com") is None
    assert best_interpretation("") is None


def _read(text, conf, t=0.0):
    return PlateRead(t=t, text=text, confidence=conf, box=(0, 0, 10, 5), source="test")


def test_vote_takes_the_majority_character_by_character():
    reads = [_read("GH482KT", 0.9, 0.0), _read("GH482KT", 0.8, 0.1), _read("GH482XT", 0.9, 0.2)]
    result = vote(reads)
    assert result.text == "GH482KT"
    assert 0.5 < result.confidence < 0.9
    assert result.reads == tuple(reads)  # every read is kept, the wrong one too


def test_vote_agreement_raises_confidence():
    agree = vote([_read("GH482KT", 0.9)] * 3)
    disagree = vote([_read("GH482KT", 0.9), _read("GH432KT", 0.9), _read("CH482KT", 0.9)])
    assert agree.text == "GH482KT" and agree.confidence == pytest.approx(0.9)
    assert disagree.confidence < agree.confidence


def test_vote_prefers_the_length_with_most_weight():
    result = vote([_read("GH482KT", 0.9), _read("GH482KT", 0.85), _read("H482KT", 0.95)])
    assert result.text == "GH482KT"
    assert len(result.reads) == 3


def test_vote_on_nothing():
    assert vote([]) == PlateResult(text=None, confidence=0.0)
    empty = vote([_read("", 0.0)])
    assert empty.text is None and len(empty.reads) == 1


def _frame(path: Path, t: float) -> np.ndarray:
    av = pytest.importorskip("av")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError(f"no frame at {t} s in {path}")


def test_reads_the_plate_in_sample_footage():
    from relecture.errors import ModelUnavailable
    from relecture.indexer.plates import PlateReader

    expected = json.loads((SAMPLE / "expected.json").read_text())
    clip = expected["clips"][0]
    vehicle = clip["vehicles"][0]
    start, end = vehicle["in_view_s"]
    frame = _frame(SAMPLE / clip["file"], start + 0.25 * (end - start))
    reader = PlateReader()
    try:
        candidates = reader.read(frame)
    except ModelUnavailable as e:  # pragma: no cover - weights not installed
        pytest.skip(str(e))
    assert candidates, "no plate read"
    best = candidates[0]
    assert isinstance(best, PlateCandidate)
    assert best.text == vehicle["plate"]
    assert 0.5 < best.confidence <= 1.0
    x1, y1, x2, y2 = best.box
    h, w = frame.shape[:2]
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h


def _plate_image(right_band: bool) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    image = np.full((120, 400, 3), 90, np.uint8)  # grey car body
    image[40:80, 60:340] = 245  # white plate
    image[40:80, 60:85] = (160, 60, 20)  # blue EU band (BGR)
    if right_band:
        image[40:80, 315:340] = (160, 60, 20)  # blue department band
    image[50:70, 110:290:20] = 20  # some dark strokes
    return image, (60.0, 40.0, 340.0, 80.0)


def test_french_bands_tip_the_reading():
    from relecture.indexer.plates import french_bands

    assert french_bands(*_plate_image(right_band=True)) is True
    assert french_bands(*_plate_image(right_band=False)) is False
    assert french_bands(np.full((120, 400, 3), 200, np.uint8), (60, 40, 340, 80)) is None
    # an ambiguous 0/O glyph: French O->Q when the bands say French, else kept as a letter
    assert best_interpretation("RK-340-A0", french=True)[0] == "RK340AD"
    assert best_interpretation("RK-340-A0", french=False)[0] == "RK340AO"
    assert best_interpretation("BO-360-YO", french=True)[0] == "BQ360YQ"


def test_text_first_reads_a_clear_plate_without_the_plate_detector(monkeypatch):
    from relecture.indexer.plates import PlateReader

    clip = json.loads((SAMPLE / "expected.json").read_text())["clips"][0]
    vehicle = clip["vehicles"][0]
    start, end = vehicle["in_view_s"]
    frame = _frame(SAMPLE / clip["file"], start + 0.25 * (end - start))
    reader = PlateReader(text_first=True)
    calls = []
    monkeypatch.setattr(type(reader.detector), "boxes", lambda self, img: calls.append(1) or [])
    candidates = reader.read(frame)
    assert candidates and candidates[0].text == vehicle["plate"]
    assert calls == []  # the sure whole-picture read made the 0.5 CPU-s platedet pass needless
    assert reader.read(np.full((120, 200, 3), 128, np.uint8)) == []
    assert calls == [1]  # nothing read: platedet is tried before giving up


class _FakeDetector:
    def __init__(self, boxes):
        self._boxes = boxes

    def boxes(self, image):
        return list(self._boxes)


class _FakeOCR:
    """Answers each new plate-box crop (told apart by size) with the next (text, confidence)
    of `crops`, at every scale; the whole picture with `whole` (text, confidence, xyxy) lines."""

    def __init__(self, crops=(), whole=()):
        self.crops, self.whole, self.seen = list(crops), list(whole), {}

    def text_boxes(self, image, scale=1.0):
        from relecture.indexer.plate_text import TextBox

        def box(text, conf, x1, y1, x2, y2):
            quad = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32)
            return TextBox(text, conf, quad)

        if image.shape[0] > 100:  # the whole picture
            return [box(*line) for line in self.whole]
        h, w = image.shape[:2]
        if (h, w) not in self.seen:
            self.seen[h, w] = self.crops.pop(0)
        return [box(*self.seen[h, w], 0.1 * w, 0.3 * h, 0.9 * w, 0.7 * h)]


def _two_plates() -> tuple[np.ndarray, tuple, tuple]:
    """A street picture with a plain plate (no bands) on the left and a wider French one
    (both blue bands) on the right."""
    image = np.full((160, 800, 3), 90, np.uint8)
    image[60:100, 40:240] = 245
    french, _ = _plate_image(right_band=True)
    image[20:140, 400:800] = french
    return image, (40.0, 60.0, 240.0, 100.0), (460.0, 60.0, 740.0, 100.0)


def _reader(detector, ocr, whole_image=False):
    from relecture.indexer.plates import PlateReader

    return PlateReader(whole_image=whole_image, detector=detector, ocr=ocr)


def test_a_french_plate_box_is_read_after_a_sure_foreign_read():
    image, plain, french = _two_plates()
    ocr = _FakeOCR(crops=[("LJ03 JEM", 1.0), ("ED-412-RZ", 0.95)])
    reader = _reader(_FakeDetector([(plain, 0.6), (french, 0.5)]), ocr)
    assert [c.text for c in reader.read(image)][:2] == ["ED412RZ", "LJ03JEM"]


def test_french_bands_back_a_box_platedet_is_unsure_of():
    image, plain, french = _two_plates()
    ocr = _FakeOCR(crops=[("AA410", 0.97), ("BF-058-NY", 0.85)])
    reader = _reader(_FakeDetector([(plain, 0.6), (french, 0.2)]), ocr)
    assert reader.read(image)[0].text == "BF058NY"


def test_bands_are_checked_around_text_platedet_missed():
    # a SIV plate whose Q lost its tail, and a trailer number elsewhere: the bands around the
    # plate text make it a French plate (O -> Q) and a plate rather than any text
    image, plain, french = _two_plates()
    ocr = _FakeOCR(whole=[("YS452346", 0.81, *plain), ("DH-605-TO", 0.77, *french)])
    reader = _reader(_FakeDetector([]), ocr, whole_image=True)
    assert reader.read(image)[0].text == "DH605TQ"


def test_ocr_keeps_the_recognisers_second_choices_per_character():
    from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

    from relecture.indexer.plate_models import CharacterAlternatives

    decode = CharacterAlternatives(CTCLabelDecode(character=["A", "O", "D", "o", "-"]))
    # classes: 0 blank, 1 A, 2 O, 3 D, 4 o (an O too), 5 -, 6 space
    steps = np.zeros((1, 7, 7), np.float32)
    best = [1, 1, 0, 2, 2, 5, 0]  # A A _ O O - _  ->  "AO-"
    for t, k in enumerate(best):
        steps[0, t, k] = 0.7
    steps[0, 3, 3], steps[0, 4, 3] = 0.1, 0.25  # the O's steps also saw a D
    steps[0, 4, 4] = 0.2  # and a lower-case o, which is the same plate character
    (text, conf), = decode(steps)
    assert text == "AO-" and conf == pytest.approx(0.7)
    a, o, dash = text.alternatives
    assert a == {"A": pytest.approx(0.7)}
    assert o == {"O": pytest.approx(0.7), "D": pytest.approx(0.25)}  # highest over its steps
    assert dash == {}  # no plate character there
    # and the plate grammar sees them aligned with the normalised text
    from relecture.indexer.plate_text import TextBox, joined_candidate

    box = TextBox("AB123C" + "O", 0.9, np.float32([[0, 0], [70, 0], [70, 10], [0, 10]]),
                  tuple({c: 0.9} for c in "AB123C") + (o,))
    assert joined_candidate([box], "test", 1.0)[1].text == "AB123CD"
