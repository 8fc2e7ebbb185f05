"""Body style and special vehicles: what the ImageNet classifier behind the type already says.

EfficientNet-Lite0's ImageNet-1k head has classes for body styles (estate car, jeep, pickup,
minivan, convertible, sports car, limousine) and special vehicles (taxi, ambulance, police
van, tow truck, garbage truck, fire engine, minibus, moving van, trailer truck, school
bus, trolleybus, moped and motor scooter). `vehicle_type.TypeRefiner` runs it on a
track's best views for the type; the same probabilities, averaged over those views and
summed per style (`STYLES`), are the style evidence each sighting keeps for every style.

A style is *shown* (and passes `search --strict`) when its pooled probability reaches
`SHOWN_AT`; the search ranks by the probability itself, so a style below the mark still
puts a vehicle ahead of one with less evidence. Pure numpy: no model here.
"""

from __future__ import annotations

import numpy as np

# style -> the ImageNet-1k class indices that name it (names are the catalog's: STRUCT
# field names, lower case, no spaces)
STYLES: dict[str, tuple[int, ...]] = {
    "estate": (436,),  # beach wagon, station wagon, estate car
    "suv": (609,),  # jeep, landrover
    "pickup": (717,),
    "minivan": (656,),
    "convertible": (511,),
    "sports": (817, 751),  # sports car; racer, race car
    "limousine": (627,),
    "taxi": (468,),  # cab, hack, taxi, taxicab
    "ambulance": (407,),
    "police": (734,),  # police van, police wagon
    "tow_truck": (864,),
    "garbage_truck": (569,),
    "fire_engine": (555,),
    "minibus": (654,),
    "box_truck": (675,),  # moving van
    "articulated": (867,),  # trailer truck, tractor trailer, articulated lorry
    "school_bus": (779,),
    "trolleybus": (874,),
    "scooter": (670, 665),  # motor scooter; moped
}

# The pooled probability from which a style is shown on a hit and passes --strict: the
# best pooled F1 on the even rows of the labelled passages (0.082; odd rows 0.081), though
# weak at every mark (precision about 0.05: `relecture eval attributes`, BENCHMARKS.md).
SHOWN_AT = 0.1


def style_scores(probs: np.ndarray) -> tuple[tuple[str, float], ...]:
    """ImageNet probabilities (N x 1000, one row per view) -> (style, mean probability)
    for every style, most likely first (ties in `STYLES` order), rounded to 0.001."""
    mean = np.asarray(probs, np.float64).reshape(-1, 1000).mean(axis=0)
    pooled = [(name, round(float(mean[list(idx)].sum()), 3)) for name, idx in STYLES.items()]
    return tuple(sorted(pooled, key=lambda kv: -kv[1]))


def shown(body: tuple[tuple[str, float], ...] | dict | None,
          threshold: float = SHOWN_AT) -> tuple[tuple[str, float], ...]:
    """The styles of a body distribution (pairs, or a {style: p} dict as the catalog reads
    it; None: not known) that reach `threshold`, most likely first."""
    pairs = body.items() if isinstance(body, dict) else (body or ())
    return tuple(sorted(((s, float(p)) for s, p in pairs if p is not None and p >= threshold),
                        key=lambda kv: -kv[1]))
