"""From OCR text lines to plate candidates: group the lines of a picture, join a plate split
by the OCR detector (side by side, or on two lines: motorcycles, square rear plates), and
score what the plate grammar makes of each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relecture.plate_grammar import best_interpretation, normalise_with_alternatives


@dataclass(frozen=True)
class PlateCandidate:
    """One plate read in the image passed to `PlateReader.read`."""

    text: str  # normalised: upper case letters and digits only
    confidence: float
    box: tuple[float, float, float, float]  # xyxy in the input image's pixels
    source: str


@dataclass(frozen=True)
class TextBox:
    """One line of text found and read by the OCR, with its corners."""

    text: str
    confidence: float
    quad: np.ndarray  # 4x2 points in image pixels
    # per character of `text`: the recogniser's probability of each plate character there
    # (None when the reader gives none)
    alternatives: tuple[dict[str, float], ...] | None = None

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        q = self.quad
        return (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))

    @property
    def height(self) -> float:
        q = self.quad
        return float((np.linalg.norm(q[0] - q[3]) + np.linalg.norm(q[1] - q[2])) / 2)


def lines(boxes: list[TextBox]) -> list[list[TextBox]]:
    """Text boxes grouped into lines (vertical overlap, small horizontal gaps), left to right."""
    boxes = sorted(boxes, key=lambda b: b.xyxy[0])
    found: list[list[TextBox]] = []
    for b in boxes:
        x1, y1, x2, y2 = b.xyxy
        h = max(y2 - y1, 1.0)
        for line in found:
            lx1, ly1, lx2, ly2 = line[-1].xyxy
            lh = max(ly2 - ly1, 1.0)
            overlap = min(y2, ly2) - max(y1, ly1)
            if overlap > 0.5 * min(h, lh) and x1 - lx2 < 1.5 * max(h, lh) and 0.5 < h / lh < 2.0:
                line.append(b)
                break
        else:
            found.append([b])
    return found


def stacked(found: list[list[TextBox]]) -> list[list[TextBox]]:
    """Pairs of lines one right below the other, as on a two-line plate, each as the boxes of
    the top line then those of the bottom one (the order the plate is read in)."""
    pairs = []
    for top in found:
        tx1, ty1, tx2, ty2 = union(top)
        for bottom in found:
            bx1, by1, bx2, by2 = union(bottom)
            th, bh = max(ty2 - ty1, 1.0), max(by2 - by1, 1.0)
            overlap = min(tx2, bx2) - max(tx1, bx1)
            # below, close (the gap under a line's height), overlapping across most of the
            # narrower line, and of a similar size: plate lines are set in one type size
            if (0 <= by1 - ty2 + 0.25 * min(th, bh) < 0.9 * max(th, bh)
                    and overlap > 0.5 * min(tx2 - tx1, bx2 - bx1) and 0.5 < bh / th < 2.0):
                pairs.append(top + bottom)
    return pairs


def _runs(line: list[TextBox]) -> list[list[TextBox]]:
    """Every contiguous run of boxes of a line (plates are often split by the OCR detector)."""
    return [line[i:j] for i in range(len(line)) for j in range(i + 1, min(len(line), i + 5) + 1)]


def union(boxes: list[TextBox]) -> tuple[float, float, float, float]:
    """The xyxy box around the boxes."""
    xs = [b.xyxy for b in boxes]
    return (min(x[0] for x in xs), min(x[1] for x in xs), max(x[2] for x in xs), max(x[3] for x in xs))


def candidates_from_text(boxes: list[TextBox], source: str, support: float,
                         french: bool | None = None) -> list[tuple[float, PlateCandidate]]:
    """(score, candidate) for every run of boxes on a line, and every pair of stacked lines,
    that reads as a plate; `support`: how much a plate box backs the text (0-1), `french`
    as in `plate_grammar.interpret`."""
    found = lines(boxes)
    groups = [run for line in found for run in _runs(line)] + stacked(found)
    return [c for group in groups
            if (c := joined_candidate(group, source, support, french)) is not None]


def joined_candidate(group: list[TextBox], source: str, support: float,
                     french: bool | None = None) -> tuple[float, PlateCandidate] | None:
    """The boxes' texts, joined in order, read as one plate: (score, candidate), or None
    when it is no plate. Each join costs a little (a plate split by the OCR detector is
    less sure than one read whole)."""
    read = [normalise_with_alternatives(b.text, b.alternatives) for b in group]
    text = "".join(t for t, _ in read)
    if not 4 <= len(text) <= 11:
        return None
    weights = [max(len(t), 1) for t, _ in read]
    conf = float(np.average([b.confidence for b in group], weights=weights))
    alternatives = (None if any(a is None for _, a in read)
                    else tuple(x for _, a in read for x in a))
    best = best_interpretation(text, french, alternatives)
    if best is None:
        return None
    plate, fmt, factor = best
    score = conf * factor * (0.7 + 0.3 * support) - 0.01 * (len(group) - 1)
    return score, PlateCandidate(plate, round(min(1.0, conf * factor), 4), union(group), source)
