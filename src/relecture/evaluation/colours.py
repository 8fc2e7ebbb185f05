"""Vehicle colour naming accuracy on a folder of photos sorted by colour (folder = label).

Each photo is passed whole to the namer: in these photos the vehicle fills most of the
frame, much like a detector crop with its margin of background, and a detector box would
add its own misses to a colour measurement.

Scoring: `accuracy` is strict (the name must equal the folder). `accuracy_lenient` counts
grey and silver as one colour, since the two differ only by how light the grey is and
people label them inconsistently. `top2_accuracy` (strict) also accepts the second choice.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from relecture.errors import UsageError
from relecture.sightings import ColourResult

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
SAME_COLOUR = {"grey": "silver"}  # merged for the lenient score


def _lenient(name: str | None) -> str | None:
    return SAME_COLOUR.get(name, name) if name else name


def labelled_photos(data_dir: Path) -> list[tuple[Path, str]]:
    """(photo, colour) for every image in the colour-named subfolders of `data_dir`."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UsageError(f"no such folder: {data_dir}")
    photos = [
        (p, folder.name)
        for folder in sorted(d for d in data_dir.iterdir() if d.is_dir())
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not photos:
        raise UsageError(f"no photos in colour subfolders of {data_dir}")
    return photos


def evaluate_colours(
    data_dir: Path,
    namer: Callable[[list[np.ndarray]], ColourResult] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Name the colour of every photo under `data_dir/<colour>/` with `namer` (default:
    `name_colour`) and return n, accuracy (strict), accuracy_lenient (grey = silver),
    top2_accuracy, per_label accuracy, confusion {true: {pred: count}}, labels, ms_per_crop."""
    import cv2

    if namer is None:
        from relecture.indexer.colour import name_colour

        namer = name_colour
    photos = labelled_photos(data_dir)
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    strict = lenient = top2 = 0
    seconds = 0.0
    for k, (path, label) in enumerate(photos):
        image = cv2.imread(str(path))
        if image is None:
            raise UsageError(f"cannot read image {path}")
        start = time.perf_counter()
        result = namer([image])
        seconds += time.perf_counter() - start
        confusion[label][result.name] += 1
        strict += result.name == label
        lenient += _lenient(result.name) == _lenient(label)
        top2 += label in (result.name, result.alt)
        if progress:
            progress(k + 1, len(photos))
    n = len(photos)
    labels = sorted(confusion)
    return {
        "n": n,
        "accuracy": strict / n,
        "accuracy_lenient": lenient / n,
        "top2_accuracy": top2 / n,
        "per_label": {t: confusion[t].get(t, 0) / sum(confusion[t].values()) for t in labels},
        "confusion": {t: dict(sorted(confusion[t].items())) for t in labels},
        "labels": labels,
        "ms_per_crop": 1000.0 * seconds / n,
    }
