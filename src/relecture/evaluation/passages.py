"""End-to-end accuracy on real video: labelled vehicle passages against indexed sightings.

`../shared/data/passages` holds one CSV per video of `../shared/data/videos` (same stem),
labelled by eye: passage_id, t_first, t_last (seconds of video time), type, colour,
colour_alt, direction, kind, plate, confidence (high | medium | low), notes. Each video is
indexed exactly as `relecture index` does it (`build_components(IndexConfig())`, then
`index_frames(sample_frames(...))`, no catalog), and its sightings are matched to the
passages.

Matching rule (time only: the labels have no boxes):
- Both intervals are widened by `tolerance_s` (0.5 s) at each end, since label timing is
  about ±0.3 s near the camera and ±1-2 s far away, and the pipeline samples 5 frames/s.
  A pair's score is the IoU of the widened [t_first, t_last] intervals; pairs under
  `min_iou` (0.1) cannot match.
- A passage labelled "away from camera" never matches a sighting whose box grew by a
  quarter or more from its first to its last detection, nor one labelled "towards camera"
  a sighting whose box shrank as much (`direction`); other pairs are not constrained.
- Passages and sightings are assigned one to one, maximising the summed IoU (Hungarian
  algorithm). Only time and direction are used: type and colour never pick the match,
  otherwise the type and colour accuracies below would be inflated.
- A sighting left out of the assignment is a *duplicate* of a matched passage when most of
  it (>= half of its widened interval) lies within that passage's widened interval and its
  type is the type of the sighting already matched there (the track was split in two),
  and its direction does not contradict the passage's (as for matching);
  a passage with duplicates is *fragmented*. The other left-out sightings are *unmatched*:
  no passage explains them (a false detection, a vehicle nobody labelled, or a fragment
  whose type changed).
- A match is *ambiguous* when its sighting also reaches `min_iou` with another passage:
  time alone cannot tell which of the two vehicles it is.

Limits: concurrent passages going the same way can be swapped (two cars crossing together
each take one of the two sightings, whichever way round), so on matched passages the type and colour
accuracies compare a label with a sighting of a vehicle seen at the same time, often but
not surely the same one. On dense scenes (the motorway clip has up to 20 cars in view at
once, kraten 5-10) time alone explains almost any sighting: there `found` is an upper
bound, `unmatched` a lower bound, and `ambiguous` says how many matches could be swaps.
A short sighting of a long passage (a bus stopped 30 s, seen for 2 s) falls under
`min_iou` and the passage counts as missed.

Scores: recall = found / n, also restricted to the high and medium confidence labels
(`recall_sure`: the low ones are far, ~20 px cars). Type accuracy: labelled type equals
`sighting.vehicle_type.name`. Colour accuracy: `sighting.colour.name` equals the labelled
colour or colour_alt (passages labelled `unknown` are skipped). CPU seconds are the
process's (all threads) over `index_frames`, models loaded beforehand; rtf = seconds of
footage per CPU second.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from relecture.evaluation.assignment import max_weight_assignment
from relecture.evaluation.common import ratio, video_halves
from relecture.evaluation.labelled import Passage, index_labelled
from relecture.sightings import Sighting

TOLERANCE_S = 0.5
MIN_IOU = 0.1
SURE = ("high", "medium")

Interval = tuple[float, float]


@dataclass(frozen=True)
class Match:
    """Passage `passage` (index) is explained by sighting `sighting` (index) at this IoU."""

    passage: int
    sighting: int
    iou: float


@dataclass(frozen=True)
class VideoScore:
    """How one video's sightings explain its passages."""

    passages: tuple[Passage, ...]
    sightings: tuple[Sighting, ...]
    matches: tuple[Match, ...]
    duplicates: dict[int, int]  # sighting index -> passage index it duplicates
    unmatched: tuple[int, ...]  # sighting indices no passage explains
    ambiguous: tuple[int, ...] = ()  # matched passages whose sighting fits another passage


# -- matching (pure) ----------------------------------------------------------------------


def interval_iou(a: Interval, b: Interval, tolerance_s: float = TOLERANCE_S) -> float:
    """IoU of two [first, last] time intervals, each widened by tolerance_s at both ends."""
    a0, a1 = a[0] - tolerance_s, a[1] + tolerance_s
    b0, b1 = b[0] - tolerance_s, b[1] + tolerance_s
    inter = min(a1, b1) - max(a0, b0)
    if inter <= 0:
        return 0.0
    return inter / (max(a1, b1) - min(a0, b0))


def within(inner: Interval, outer: Interval, tolerance_s: float = TOLERANCE_S) -> float:
    """Share of `inner` (widened) that lies within `outer` (widened), in [0, 1]."""
    i0, i1 = inner[0] - tolerance_s, inner[1] + tolerance_s
    o0, o1 = outer[0] - tolerance_s, outer[1] + tolerance_s
    return max(0.0, min(i1, o1) - max(i0, o0)) / (i1 - i0) if i1 > i0 else 0.0


def sighting_direction(sighting: Sighting, change: float = 1.25) -> str | None:
    """"towards" when the box grew by `change` (area) from the first to the last detection,
    "away" when it shrank as much, None otherwise: with the camera above the road, a
    vehicle coming nearer looks larger."""
    if len(sighting.boxes) < 2:
        return None
    first, last = (b.xyxy for b in (sighting.boxes[0], sighting.boxes[-1]))
    ratio = ((last[2] - last[0]) * (last[3] - last[1])) / max(
        (first[2] - first[0]) * (first[3] - first[1]), 1e-9)
    return "towards" if ratio >= change else "away" if ratio <= 1 / change else None


def match_intervals(
    passages: Sequence[Interval],
    sightings: Sequence[Interval],
    tolerance_s: float = TOLERANCE_S,
    min_iou: float = MIN_IOU,
    compatible: Callable[[int, int], bool] = lambda p, s: True,
) -> list[Match]:
    """One-to-one assignment of sightings to passages maximising the summed interval IoU
    (see `interval_iou`); pairs under `min_iou`, or not `compatible(passage, sighting)`,
    never match. Times (and the caller's compatibility) only, by design."""
    weights = [[iou if (iou := interval_iou(p, s, tolerance_s)) >= min_iou and compatible(i, j)
                else 0.0 for j, s in enumerate(sightings)] for i, p in enumerate(passages)]
    return [Match(p, s, weights[p][s]) for p, s in max_weight_assignment(weights)]


def find_duplicates(
    passages: Sequence[Interval],
    sightings: Sequence[Interval],
    sighting_types: Sequence[str],
    matches: Sequence[Match],
    tolerance_s: float = TOLERANCE_S,
    compatible: Callable[[int, int], bool] = lambda p, s: True,
) -> dict[int, int]:
    """Sightings left out of `matches` that repeat a matched passage: at least half of the
    sighting lies within the passage, its type is that of the passage's matched sighting,
    and `compatible(passage, sighting)` (its direction does not contradict the passage's:
    a car driving away is no fragment of one coming towards the camera).
    Returns {sighting index: passage index}, the passage it lies most within."""
    taken = {m.sighting for m in matches}
    duplicates: dict[int, int] = {}
    for s, interval in enumerate(sightings):
        if s in taken:
            continue
        candidates = [(within(interval, passages[m.passage], tolerance_s), m.passage)
                      for m in matches if sighting_types[m.sighting] == sighting_types[s]
                      and compatible(m.passage, s)]
        share, passage = max(candidates, default=(0.0, -1))
        if share >= 0.5:
            duplicates[s] = passage
    return duplicates


def score_video(
    passages: Sequence[Passage],
    sightings: Sequence[Sighting],
    tolerance_s: float = TOLERANCE_S,
    min_iou: float = MIN_IOU,
) -> VideoScore:
    """Match one video's sightings to its labelled passages (time and direction) and sort
    the left-out sightings into duplicates and unmatched."""
    p_int = [(p.t_first, p.t_last) for p in passages]
    s_int = [(s.first_t, s.last_t) for s in sightings]
    s_dir = [sighting_direction(s) for s in sightings]

    def compatible(p: int, s: int) -> bool:
        return None in (passages[p].direction, s_dir[s]) or passages[p].direction == s_dir[s]

    matches = match_intervals(p_int, s_int, tolerance_s, min_iou, compatible)
    types = [s.vehicle_type.name for s in sightings]
    duplicates = find_duplicates(p_int, s_int, types, matches, tolerance_s, compatible)
    taken = {m.sighting for m in matches} | set(duplicates)
    return VideoScore(tuple(passages), tuple(sightings), tuple(matches), duplicates,
                      tuple(s for s in range(len(sightings)) if s not in taken),
                      ambiguous_matches(p_int, s_int, matches, tolerance_s, min_iou, compatible))


def ambiguous_matches(
    passages: Sequence[Interval],
    sightings: Sequence[Interval],
    matches: Sequence[Match],
    tolerance_s: float = TOLERANCE_S,
    min_iou: float = MIN_IOU,
    compatible: Callable[[int, int], bool] = lambda p, s: True,
) -> tuple[int, ...]:
    """Matched passages whose sighting could, by time (and `compatible`), be another
    passage's vehicle (it reaches `min_iou` with another passage too): where the match
    cannot tell a swap."""
    return tuple(sorted(
        m.passage for m in matches
        if any(q != m.passage and compatible(q, m.sighting)
               and interval_iou(pq, sightings[m.sighting], tolerance_s) >= min_iou
               for q, pq in enumerate(passages))))


# -- metrics ------------------------------------------------------------------------------


def summarise(scores: Sequence[VideoScore]) -> dict:
    """Counts and accuracies over one or more scored videos (see the module docstring)."""
    n = found = n_sure = found_sure = n_sightings = 0
    n_dup = n_unmatched = fragmented = type_ok = colour_ok = colour_n = ambiguous = 0
    by_conf: Counter[str] = Counter()
    found_by_conf: Counter[str] = Counter()
    type_conf: dict[str, Counter[str]] = defaultdict(Counter)
    colour_conf: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[str] = []
    for sc in scores:
        matched = {m.passage: sc.sightings[m.sighting] for m in sc.matches}
        n += len(sc.passages)
        found += len(matched)
        n_sightings += len(sc.sightings)
        n_dup += len(sc.duplicates)
        n_unmatched += len(sc.unmatched)
        fragmented += len(set(sc.duplicates.values()))
        ambiguous += len(sc.ambiguous)
        for k, p in enumerate(sc.passages):
            by_conf[p.confidence] += 1
            sure = p.confidence in SURE
            n_sure += sure
            if k not in matched:
                missed.append(p.passage_id)
                continue
            found_by_conf[p.confidence] += 1
            found_sure += sure
            s = matched[k]
            type_conf[p.type][s.vehicle_type.name] += 1
            type_ok += s.vehicle_type.name == p.type
            if p.colour and p.colour != "unknown":
                colour_n += 1
                colour_conf[p.colour][s.colour.name] += 1
                colour_ok += s.colour.name in (p.colour, p.colour_alt)
    metrics = {
        "n": n, "found": found, "recall": ratio(found, n),
        "n_sure": n_sure, "found_sure": found_sure, "recall_sure": ratio(found_sure, n_sure),
    }
    for c in ("high", "medium", "low"):
        metrics[f"recall_{c}"] = ratio(found_by_conf[c], by_conf[c])
    metrics.update({
        "sightings": n_sightings, "duplicates": n_dup, "unmatched": n_unmatched,
        "fragmented": fragmented, "ambiguous": ambiguous,
        "type_accuracy": ratio(type_ok, found), "colour_n": colour_n,
        "colour_accuracy": ratio(colour_ok, colour_n),
        "type_confusion": {t: dict(sorted(c.items())) for t, c in sorted(type_conf.items())},
        "colour_confusion": {t: dict(sorted(c.items())) for t, c in sorted(colour_conf.items())},
        "missed": missed,
    })
    return metrics


def evaluate_passages(
    data_dir: Path,
    videos_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    components=None,
    detector: str | None = None,
) -> dict:
    """Index every labelled video (`index_labelled`), score it against its passages and
    return the overall metrics (`summarise`) with detector, video_s, cpu_s, wall_s, rtf,
    tolerance_s, min_iou, per_video {stem: headline numbers} and halves {"even", "odd": the
    metrics of the even and odd videos in name order}."""
    from relecture.indexer.pipeline import IndexConfig

    scores, per_video, by_name = [], {}, {}
    video_s = cpu_total = wall_total = 0.0
    for v in index_labelled(data_dir, videos_dir, progress, components, detector):
        score = score_video(v.passages, v.result.sightings)
        scores.append(score)
        by_name[v.csv_path.stem] = score
        per_video[v.csv_path.stem] = _headline(summarise([score]), v.duration_s, v.cpu_s)
        video_s, cpu_total, wall_total = (video_s + v.duration_s, cpu_total + v.cpu_s,
                                          wall_total + v.wall_s)
    metrics = summarise(scores)
    metrics.update({
        "detector": detector or IndexConfig().detector,
        "video_s": round(video_s, 2), "cpu_s": round(cpu_total, 2),
        "wall_s": round(wall_total, 2), "rtf": ratio(video_s, cpu_total),
        "tolerance_s": TOLERANCE_S, "min_iou": MIN_IOU, "per_video": per_video,
        "halves": {half: summarise([by_name[n] for n in names])
                   for half, names in video_halves(by_name).items()},
    })
    return metrics


def _headline(m: dict, video_s: float, cpu_s: float) -> dict:
    """The per-video row: counts, recalls, accuracies, CPU and real-time factor."""
    keys = ("n", "found", "recall", "recall_sure", "sightings", "duplicates", "unmatched",
            "fragmented", "ambiguous", "type_accuracy", "colour_accuracy")
    row = {k: m[k] for k in keys}
    row.update({"video_s": round(video_s, 2), "cpu_s": round(cpu_s, 2),
                "rtf": ratio(video_s, cpu_s)})
    return row
