"""One plate for a vehicle track from the reads of several frames."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from relecture.plate_grammar import plate_format
from relecture.sightings import PlateRead, PlateResult


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

