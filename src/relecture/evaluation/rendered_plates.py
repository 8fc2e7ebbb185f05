"""Plate reading on plates the project renders itself (`relecture eval plates --rendered`).

Nobody tuned on these: each sample is a French plate (SIV or FNI, one or two lines, the FNI
in its white, yellow or black styles) drawn by `relecture.synth.plates`, put on a car's rear
and seen as CCTV sees it (`relecture.synth.conditions`: 20-60 px high, perspective, blur,
JPEG or H.264, night, headlight glare). A seed gives the same set every time.

Results come per format, per number of lines, per style and per condition, and `failing`
names every condition value whose exact-match rate is under `TARGET` (with at least
`MIN_GROUP` samples), so that what breaks the reader is said, not averaged away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from relecture.evaluation.plates import edit_distance, score_distances
from relecture.plate_grammar import normalise_plate
from relecture.synth.conditions import Conditions, draw_conditions, vehicle_rear
from relecture.synth.plates import PlateSpec, plate_font_path, random_fni, random_siv, render_spec

TARGET = 0.85
MIN_GROUP = 8
FNI_STYLES = ("fni_white", "fni_yellow", "fni_black")


@dataclass(frozen=True)
class RenderedSample:
    """One rendered picture and what it shows."""

    image: np.ndarray  # BGR uint8: a car's rear
    spec: PlateSpec
    conditions: Conditions

    def tags(self) -> dict[str, str]:
        """Every group the sample belongs to, by name."""
        return {"format": "siv" if self.spec.style == "siv" else "fni",
                "lines": str(len(self.spec.lines)), "style": self.spec.style,
                **self.conditions.tags()}


def draw_spec(rng: np.random.Generator) -> PlateSpec:
    """A random plate: half SIV, half FNI; a quarter on two lines."""
    two = rng.random() < 0.25
    shape = str(rng.choice(["square", "moto"])) if two else "long"
    if rng.random() < 0.5:
        text, dept = random_siv(rng)
        lines = (text[:6], text[7:]) if two else (text,)  # "AB-123" over "CD"
        return PlateSpec(normalise_plate(text), lines, "siv", shape, dept)
    number, letters, dept = random_fni(rng)
    style = str(rng.choice(FNI_STYLES, p=[0.5, 0.3, 0.2]))
    if not two:
        lines = (f"{number} {letters} {dept}",)
    elif rng.random() < 0.5:
        lines = (f"{number} {letters}", dept)
    else:
        lines = (number, f"{letters} {dept}")
    return PlateSpec(number + letters + dept, lines, style, shape, dept)


def rendered_set(n: int, seed: int = 0) -> Iterator[RenderedSample]:
    """The `n` samples of the set for `seed`; sample k depends only on (seed, k)."""
    font = plate_font_path()
    for k in range(n):
        rng = np.random.default_rng([seed, k])
        spec = draw_spec(rng)
        cond = draw_conditions(rng)
        yield RenderedSample(vehicle_rear(render_spec(spec, font), spec.shape, cond, rng),
                             spec, cond)


def evaluate_rendered(n: int = 200, seed: int = 0, reader=None,
                      progress: Callable[[int, int], None] | None = None) -> dict:
    """Read every sample of the rendered set with `reader` (default `PlateReader()`):
    n, exact_match, within_one, per_format, per group (`groups`: {tag: {value: {n, exact,
    within_one}}}), failing (condition values under TARGET) and misses."""
    if reader is None:
        from relecture.indexer.plates import PlateReader

        reader = PlateReader()
    by_group: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    misses = []
    for k, sample in enumerate(rendered_set(n, seed)):
        candidates = reader.read(sample.image)
        read = normalise_plate(candidates[0].text) if candidates else ""
        d = edit_distance(sample.spec.plate, read)
        tags = sample.tags()
        for tag, value in {"all": "all", **tags}.items():
            by_group[tag][value].append(d)
        if d:
            misses.append({"sample": k, "label": sample.spec.plate, "read": read or None,
                           **tags})
        if progress:
            progress(k + 1, n)
    groups, overall, failing = summarise_groups(by_group)
    return {"n": overall["n"], "seed": seed, "exact_match": overall["exact"],
            "within_one": overall["within_one"], "per_format": groups.get("format", {}),
            "groups": groups, "failing": failing, "misses": misses}



def summarise_groups(by_group: dict[str, dict[str, list[int]]]) -> tuple[dict, dict, list[str]]:
    """Scores of edit distances gathered per tag and value (the tag "all" holds every
    sample): (groups, overall, failing), failing naming each value under TARGET with at
    least MIN_GROUP samples."""
    groups = {tag: {value: score_distances(ds) for value, ds in sorted(values.items())}
              for tag, values in by_group.items() if tag != "all"}
    failing = [f"{tag}={value}: {s['exact']:.2f} of {s['n']}"
               for tag, values in groups.items() for value, s in values.items()
               if s["n"] >= MIN_GROUP and s["exact"] < TARGET]
    return groups, score_distances(by_group["all"]["all"]), failing
