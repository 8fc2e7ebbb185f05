"""Licence-plate reading accuracy on a folder of labelled photos (`labels.csv`).

Each photo is passed whole to the reader, so plate detection is part of what is measured.
The reader's best candidate is compared with the labelled plate (normalised: A-Z, 0-9).
When a photo has several labelled plates, the read is scored against the closest one.

Scoring: `exact_match` (the whole plate right), `within_one` (edit distance at most 1),
`cer` (character error rate: total edit distance over total label length), `no_read`
(share of photos where nothing plate-like was read), `ms_per_image` (wall clock) and
`cpu_ms_per_image` (process CPU time, every thread: steadier on a busy machine), `misses`
(label and read of every photo not read exactly), `per_format` (SIV, FNI, foreign: n,
exact, within_one, by the labelled plate's format) and `halves` (the same for the even and
the odd rows of labels.csv: rules are chosen on one half and checked on the other).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from relecture.errors import UsageError
from relecture.evaluation.common import read_labels
from relecture.plate_grammar import FORMATS, format_family, normalise_plate


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def evaluate_plates(
    data_dir: Path,
    reader=None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Read the plate of every photo listed in `data_dir/labels.csv` with `reader` (anything
    with `read(image_bgr) -> list of candidates with .text`, best first; default
    `PlateReader()`) and return n, exact_match, within_one, cer, no_read, ms_per_image, misses,
    per_format and halves."""
    import cv2

    if reader is None:
        from relecture.indexer.plates import PlateReader

        reader = PlateReader()
    data_dir = Path(data_dir)
    labels = read_labels(data_dir)
    if not labels:
        raise UsageError(f"labels.csv in {data_dir} lists no image")
    exact = within_one = no_read = 0
    errors = chars = 0
    seconds = cpu_seconds = 0.0
    misses = []
    groups: dict[str, list[int]] = {key: [] for key in (*FORMATS, "even", "odd")}
    items = list(labels.items())
    for k, (image_name, rows) in enumerate(items):
        image = cv2.imread(str(data_dir / image_name))
        if image is None:
            raise UsageError(f"cannot read image {data_dir / image_name}")
        truths = [normalise_plate(r["plate"]) for r in rows if r.get("plate")]
        start, cpu_start = time.perf_counter(), time.process_time()
        candidates = reader.read(image)
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        read = normalise_plate(candidates[0].text) if candidates else ""
        truth = min(truths, key=lambda t: edit_distance(t, read)) if truths else ""
        d = edit_distance(truth, read)
        exact += d == 0
        within_one += d <= 1
        no_read += not read
        errors += d
        chars += len(truth)
        groups[format_family(truth)].append(d)
        groups["odd" if k % 2 else "even"].append(d)
        if d:
            misses.append({"image": image_name, "label": truth, "read": read or None,
                           "confidence": round(float(candidates[0].confidence), 3) if candidates else None})
        if progress:
            progress(k + 1, len(items))
    n = len(items)
    return {
        "n": n,
        "exact_match": exact / n,
        "within_one": within_one / n,
        "cer": errors / chars if chars else 0.0,
        "no_read": no_read / n,
        "ms_per_image": 1000.0 * seconds / n,
        "cpu_ms_per_image": 1000.0 * cpu_seconds / n,  # all threads: wall time on an idle machine is less
        "misses": misses,
        "per_format": {f: score_distances(groups[f]) for f in FORMATS},
        "halves": {h: score_distances(groups[h]) for h in ("even", "odd")},
    }


def score_distances(distances: list[int]) -> dict:
    """n, exact and within_one of a group of edit distances (None when the group is empty)."""
    n = len(distances)
    return {"n": n, "exact": sum(d == 0 for d in distances) / n if n else None,
            "within_one": sum(d <= 1 for d in distances) / n if n else None}
