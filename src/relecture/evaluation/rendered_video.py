"""Plate reading on video the project renders itself (`relecture eval plates --rendered --video`).

Stills say how well a plate crop is read; an investigator gets the plate voted over a whole
passage. Here each clip is a street drawn by `relecture.synth.street`, three cars driving away
from a camera whose height and horizon vary from clip to clip (so the plate is 20-60 px high
when the car is nearest in full view), each carrying a random French plate (SIV, or FNI in its
white, yellow and black styles, one line), encoded as H.264 at CRF 23-32, a quarter of them at
night. Every clip is indexed as `relecture index` does and its sightings are matched to the
cars on time; a car with no sighting counts as not read (its miss says `"sighting": false`). A seed gives the same clips.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from relecture.evaluation.assignment import max_weight_assignment
from relecture.evaluation.plates import edit_distance, score_distances
from relecture.evaluation.rendered_plates import summarise_groups
from relecture.plate_grammar import normalise_plate
from relecture.synth.plates import PlateSpec, random_fni, random_siv
from relecture.synth.street import (FADE_WIDTH_PX, FPS, Clip, Scene, Vehicle, distance_at,
                                    plate_height_px, rear_box, start_distance, write_clip)

CARS_PER_CLIP = 3
CLIP_S = 10.0
TARGET_PX = 25  # the target counts passages whose plate is at least this high
FNI_STYLES = ("fni_white", "fni_yellow", "fni_black")


@dataclass(frozen=True)
class RenderedPassage:
    """One car of a rendered clip and what it shows."""

    clip: int
    vehicle: Vehicle
    plate: str  # normalised label
    plate_px: float  # plate height when the car is nearest in full view
    visible: tuple[float, float]  # seconds during which the car is drawn
    night: bool
    crf: int

    def tags(self) -> dict[str, str]:
        """Every group the passage belongs to, by name."""
        px = self.plate_px
        style = self.vehicle.plate_spec.style if self.vehicle.plate_spec else "siv"
        return {"format": "siv" if style == "siv" else "fni", "style": style,
                "height": "<25" if px < 25 else "25-34" if px < 35 else "35+",
                "night": "yes" if self.night else "no", "crf": str(self.crf)}


def _plate(rng: np.random.Generator) -> PlateSpec:
    if rng.random() < 0.5:
        text, dept = random_siv(rng)
        return PlateSpec(normalise_plate(text), (text,), "siv", "long", dept)
    number, letters, dept = random_fni(rng)
    style = str(rng.choice(FNI_STYLES, p=[0.5, 0.3, 0.2]))
    return PlateSpec(number + letters + dept, (f"{number} {letters} {dept}",), style, "long",
                     dept)


def _scene(rng: np.random.Generator, k: int) -> Scene:
    facade = tuple(int(c) for c in rng.integers(90, 200, 3))
    return Scene(camera=str(k + 1), seed=1000 + k, vx=float(rng.uniform(540, 700)),
                 horizon=float(rng.uniform(150, 260)), focal=float(rng.uniform(850, 1300)),
                 height=float(rng.uniform(1.2, 3.0)), road=(-3.2, 3.8), centre_line=0.3,
                 facade_right=6.2, facade_left=-6.2, facade_bgr=facade,
                 facade2_bgr=tuple(int(c) for c in rng.integers(90, 200, 3)),
                 sky_top=(200, 175, 150), sky_bottom=(222, 214, 204))


def rendered_clips(n_clips: int, seed: int = 0) -> list[Clip]:
    """The clips of the set for `seed`; clip k depends only on (seed, k)."""
    clips = []
    for k in range(n_clips):
        rng = np.random.default_rng([seed, k])
        cars = []
        for j in range(CARS_PER_CLIP):
            spec = _plate(rng)
            cars.append(Vehicle("car", "", tuple(int(c) for c in rng.integers(20, 236, 3)),
                                spec.lines[0], spec.department, depart_s=0.2 + 3.2 * j,
                                speed=float(rng.uniform(2.0, 3.5)),
                                accel=float(rng.uniform(0.6, 1.1)),
                                lane=float(rng.uniform(1.5, 2.0)), plate_spec=spec))
        clips.append(Clip(f"CAM{k + 1:02d}_20260101T{k % 24:02d}0000.mp4",
                          datetime(2026, 1, 1, k % 24), CLIP_S, _scene(rng, k), tuple(cars),
                          crf=int(rng.choice([23, 28, 32])), night=bool(rng.random() < 0.25)))
    return clips


def _visible(clip: Clip, v: Vehicle) -> tuple[float, float]:
    """First and last second at which the car is drawn at full strength."""
    d0 = start_distance(clip.scene)
    times = [i / FPS for i in range(clip.frames)
             if (d := distance_at(v, i / FPS, d0)) is not None
             and (box := rear_box(clip.scene, v, d))[2] - box[0] >= FADE_WIDTH_PX]
    return (times[0], times[-1]) if times else (0.0, 0.0)


def passages_of(clips: list[Clip]) -> list[RenderedPassage]:
    """Every car of `clips` with its label and how it is seen."""
    return [RenderedPassage(k, v, v.plate_spec.plate, plate_height_px(clip, v), _visible(clip, v),
                            clip.night, clip.crf)
            for k, clip in enumerate(clips) for v in clip.vehicles]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return max(0.0, inter) / union if union > 0 else 0.0


def match_reads(passages: list[RenderedPassage], sightings) -> list[str | None]:
    """The plate text of the sighting matched to each passage (one-to-one, by overlap in
    time): "" where the sighting has no plate, None where no sighting is matched."""
    weights = [[_overlap(p.visible, (s.first_t, s.last_t)) for s in sightings] for p in passages]
    reads: list[str | None] = [None] * len(passages)
    for i, j in max_weight_assignment(weights):
        reads[i] = normalise_plate(sightings[j].plate.text or "")
    return reads


def evaluate_rendered_video(n: int = 60, seed: int = 0, components=None,
                            progress: Callable[[int, int], None] | None = None) -> dict:
    """Render ceil(n / 3) clips, index each as `relecture index` does and score the plate of
    every car: n, exact_match, within_one, `at_least_25px` (the issue's target set), groups
    per condition, failing (condition values under 0.85) and misses."""
    from relecture.indexer.decode import sample_frames
    from relecture.indexer.pipeline import IndexConfig, build_components, index_frames

    config = IndexConfig()
    components = components or build_components(config)
    clips = rendered_clips(-(-n // CARS_PER_CLIP), seed)
    everyone = passages_of(clips)
    by_group: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    misses = []
    with tempfile.TemporaryDirectory(prefix="relecture-rendered-") as tmp:
        for k, clip in enumerate(clips):
            path = write_clip(clip, Path(tmp))
            result = index_frames(sample_frames(path, config.sample_fps), *components, config)
            path.unlink()
            passages = [p for p in everyone if p.clip == k]
            for p, read in zip(passages, match_reads(passages, list(result.sightings))):
                d = edit_distance(p.plate, read or "")
                for tag, value in {"all": "all", **p.tags()}.items():
                    by_group[tag][value].append(d)
                if p.plate_px >= TARGET_PX:
                    by_group["at_least_25px"]["yes"].append(d)
                if d:
                    misses.append({"clip": k, "label": p.plate, "read": read or None,
                                   "sighting": read is not None,
                                   "plate_px": round(p.plate_px, 1), **p.tags()})
            if progress:
                progress(k + 1, len(clips))
    target_set = score_distances(by_group.pop("at_least_25px", {}).get("yes", []))
    groups, overall, failing = summarise_groups(by_group)
    return {"n": overall["n"], "clips": len(clips), "seed": seed,
            "exact_match": overall["exact"], "within_one": overall["within_one"],
            "at_least_25px": target_set,
            "per_format": groups.get("format", {}), "groups": groups, "failing": failing,
            "misses": misses}
