"""`relecture eval attributes`: body styles and directions of travel against labelled passages.

Each labelled video (../shared/data/passages) is indexed as `relecture index` does
(`labelled.index_labelled`) and its sightings are matched to the passages on time only
(`passages.match_intervals`: the usual matching also uses the box's growth, which would
make the direction agree by construction).

Direction: a passage's "away from camera" / "towards camera" (`labelled.label_direction`)
against the sighting's `travel.motion`; the sides it says it left or entered by ("leaves
bottom", "leaves at the left edge", "enters at right edge"; "bottom-right" accepts either)
against `travel.exit` / `travel.entry`. Agreement counts an unknown motion (None) as not
agreeing; `decided` says how many had one. On dense scenes time alone can swap two
vehicles (on the UK motorway one carriageway comes towards the camera while the other
drives away), so the agreement is also given on the unambiguous matches only (the
sighting fits no other passage's time of the other direction, `passages.ambiguous_matches`).
Ranking, which is what a style does in a search, is measured per style with no mark at
all: `auc`, how often a labelled body with the style has a higher probability than one
without it (0.5: no better than chance).

Body style: the labels have no style column, but their notes name many bodies ("Silver
SUV", "Green-and-white taxi", "white minivan", "cutaway box van"). A passage whose notes
name a body (a style below, or a plain sedan, saloon, hatchback, liftback, fastback,
coupe, panel van or city bus) is style-labelled: positive for the styles named, negative
for the others. Styles no note names cannot be measured and are listed as such (a style
shown on a labelled body without it still counts as a false alarm). The mark
(`SHOWN_AT`) is chosen on one half of the passages (even rows of each CSV), maximising the
F1 pooled over every style, and checked on the other half (odd rows); both are reported,
with the pooled precision and recall at each candidate mark.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from relecture.evaluation.common import ratio
from relecture.evaluation.labelled import index_labelled, label_direction
from relecture.evaluation.passages import ambiguous_matches, match_intervals
from relecture.indexer.body_style import STYLES
from relecture.sightings import Sighting

# note words -> style (whole words, lower case)
STYLE_NOTES: dict[str, tuple[str, ...]] = {
    "suv": ("suv", "crossover", "4x4", "jeep", "rav4-type", "freelander/rav4-type"),
    "minivan": ("minivan", "mpv", "people-carrier"),
    "estate": ("wagon", "estate"),
    "taxi": ("taxi", "taxi-like"),
    "minibus": ("minibus",),
    "box_truck": ("box truck", "box-body", "box van", "cargo box"),
    "scooter": ("scooter",),
    "pickup": ("pickup", "pick-up"),
}
PLAIN_BODIES = ("sedan", "saloon", "hatchback", "liftback", "fastback", "coupe",
                "panel van", "city bus")
THRESHOLDS = (0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
_SIDE = r"(left|right|top|bottom)(?:-(left|right))?"
_LEAVES = re.compile(rf"\bleaves (?:at )?(?:the )?{_SIDE}\b")
_ENTERS = re.compile(rf"\benters (?:at )?(?:the )?{_SIDE}\b")


def _has(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def body_labels(notes: str) -> frozenset[str] | None:
    """The styles a passage's notes name; None when they name no body at all (the
    passage says nothing about styles), an empty set for a plain body."""
    text = notes.lower()
    named = frozenset(s for s, words in STYLE_NOTES.items() if any(_has(text, w) for w in words))
    if named or any(_has(text, w) for w in PLAIN_BODIES):
        return named
    return None


def side_labels(direction: str) -> tuple[frozenset[str], frozenset[str]]:
    """(entry sides, exit sides) a passage's direction text states (empty: not stated)."""
    text = direction.lower()

    def sides(pattern: re.Pattern) -> frozenset[str]:
        return frozenset(s for m in pattern.finditer(text) for s in m.groups() if s)
    return sides(_ENTERS), sides(_LEAVES)


@dataclass(frozen=True)
class Labelled:
    """One labelled passage and the sighting matched to it (None: none)."""

    video: str
    row: int  # its row in the CSV (0-based): the halves are even and odd rows
    passage_id: str
    confidence: str
    motion: str | None
    entry: frozenset[str]
    exit: frozenset[str]
    styles: frozenset[str] | None
    sighting: Sighting | None
    # its sighting also fits the time of a passage labelled the other way (a swap would flip it)
    ambiguous: bool = False


def read_rows(csv_path: Path) -> list[dict]:
    with Path(csv_path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def label_video(video: str, rows: Sequence[dict], sightings: Sequence[Sighting]) -> list[Labelled]:
    """Every passage of one video with its labels and its time-matched sighting."""
    p_int = [(float(r["t_first"]), float(r["t_last"])) for r in rows]
    s_int = [(s.first_t, s.last_t) for s in sightings]
    matches = match_intervals(p_int, s_int)
    matched = {m.passage: sightings[m.sighting] for m in matches}
    motions = [label_direction(r.get("direction") or "") for r in rows]
    of_sighting = {m.sighting: m.passage for m in matches}

    def other_way(q: int, s: int) -> bool:  # a swap with passage q would flip the label
        return None not in (motions[q], motions[of_sighting[s]]) and \
            motions[q] != motions[of_sighting[s]]
    ambiguous = set(ambiguous_matches(p_int, s_int, matches, compatible=other_way))
    out = []
    for i, r in enumerate(rows):
        entry, exit_ = side_labels(r.get("direction") or "")
        out.append(Labelled(video, i, r["passage_id"], r.get("confidence", ""),
                            motions[i], entry, exit_,
                            body_labels(r.get("notes") or ""), matched.get(i), i in ambiguous))
    return out


def direction_scores(items: Sequence[Labelled]) -> dict:
    """Agreement of motion, exit and entry sides on the matched passages that state them."""
    out: dict = {}
    confusion: dict[str, Counter] = defaultdict(Counter)
    motion = [x for x in items if x.sighting is not None and x.motion]
    for x in motion:
        confusion[x.motion][_motion(x.sighting) or "unknown"] += 1
    agree = sum(_motion(x.sighting) == x.motion for x in motion)
    decided = sum(_motion(x.sighting) is not None for x in motion)
    sure = [x for x in motion if not x.ambiguous]
    sure_agree = sum(_motion(x.sighting) == x.motion for x in sure)
    out.update({"motion_n": len(motion), "motion_agree": agree,
                "motion_agreement": ratio(agree, len(motion)), "motion_decided": decided,
                "motion_agreement_decided": ratio(agree, decided),
                "motion_n_unambiguous": len(sure),
                "motion_agreement_unambiguous": ratio(sure_agree, len(sure)),
                "motion_disagreements": [
                    f"{x.passage_id} {x.motion}: {_motion(x.sighting) or 'unknown'} "
                    f"{x.sighting.travel.motion_conf if x.sighting.travel else 0:.2f}"
                    + (" (swap possible)" if x.ambiguous else "")
                    for x in motion if _motion(x.sighting) != x.motion]})
    for part in ("exit", "entry"):
        stated = [x for x in items if x.sighting is not None and getattr(x, part)
                  and x.sighting.travel is not None]
        ok = sum(getattr(x.sighting.travel, part) in getattr(x, part) for x in stated)
        out.update({f"{part}_n": len(stated), f"{part}_agreement": ratio(ok, len(stated))})
    out["direction_confusion"] = {k: dict(v) for k, v in sorted(confusion.items())}
    return out


def _motion(s: Sighting) -> str | None:
    return s.travel.motion if s.travel is not None else None


def style_counts(items: Sequence[Labelled], threshold: float) -> dict[str, Counter]:
    """Per measurable style: true/false positives and false negatives at `threshold`."""
    counts: dict[str, Counter] = {s: Counter() for s in STYLES}
    for x in items:
        if x.sighting is None or x.styles is None:
            continue
        probs = dict(x.sighting.vehicle_type.body)
        for style in STYLES:
            said, truth = probs.get(style, 0.0) >= threshold, style in x.styles
            counts[style]["positives"] += truth
            counts[style]["tp" if said and truth else "fp" if said else "fn" if truth else "tn"] += 1
    return counts


def micro(items: Sequence[Labelled], threshold: float) -> Counter:
    """True/false positives and false negatives pooled over every style: a style shown on a
    labelled body it does not have counts against, whether or not any note names it."""
    total: Counter = Counter()
    for c in style_counts(items, threshold).values():
        total.update({k: c[k] for k in ("tp", "fp", "fn")})
    return total


def _f1(c: Counter) -> float:
    return 2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"]) if c["tp"] else 0.0


def choose_threshold(items: Sequence[Labelled], thresholds: Sequence[float] = THRESHOLDS) -> float:
    """The mark maximising the F1 pooled over every style (`micro`; lowest on ties)."""
    return max(thresholds, key=lambda t: (_f1(micro(items, t)), -t))


def by_threshold(halves: dict[str, Sequence[Labelled]],
                 thresholds: Sequence[float] = THRESHOLDS) -> dict:
    """{mark: pooled precision, recall and F1 per half}."""
    rows = {}
    for t in thresholds:
        row = {}
        for name, items in halves.items():
            c = micro(items, t)
            row.update({f"precision_{name}": ratio(c["tp"], c["tp"] + c["fp"]),
                        f"recall_{name}": ratio(c["tp"], c["tp"] + c["fn"]),
                        f"f1_{name}": round(_f1(c), 3)})
        rows[str(t)] = row
    return rows


def style_table(halves: dict[str, Sequence[Labelled]], threshold: float) -> dict:
    """{style: n, precision and recall per half} for every style (None: no positives)."""
    per = {name: style_counts(items, threshold) for name, items in halves.items()}
    rows = {}
    for style in STYLES:
        row = {}
        for name, counts in per.items():
            c = counts[style]
            row[f"positives_{name}"] = c["positives"]
            row[f"said_{name}"] = c["tp"] + c["fp"]
            row[f"precision_{name}"] = ratio(c["tp"], c["tp"] + c["fp"])
            row[f"recall_{name}"] = ratio(c["tp"], c["positives"])
        rows[style] = row
    return rows


def style_auc(items: Sequence[Labelled]) -> dict[str, float | None]:
    """Per style, the share of (with, without) pairs of labelled bodies where the one with
    the style has the higher probability (ties count half); None without both kinds."""
    out = {}
    for style in STYLES:
        scored = [(dict(x.sighting.vehicle_type.body).get(style, 0.0), style in x.styles)
                  for x in items if x.sighting is not None and x.styles is not None]
        pos = [p for p, truth in scored if truth]
        neg = [p for p, truth in scored if not truth]
        if not pos or not neg:
            out[style] = None
            continue
        wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
        out[style] = round(wins / (len(pos) * len(neg)), 3)
    return out


def evaluate_attributes(
    data_dir: Path,
    videos_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    components=None,
    detector: str | None = None,
) -> dict:
    """Index every labelled video and score directions and body styles (module docstring)."""
    items: list[Labelled] = []
    per_video = {}
    for v in index_labelled(data_dir, videos_dir, progress, components, detector):
        labelled = label_video(v.csv_path.stem, read_rows(v.csv_path), v.result.sightings)
        items += labelled
        d = direction_scores(labelled)
        per_video[v.csv_path.stem] = {k: d[k] for k in (
            "motion_n", "motion_agreement", "motion_decided", "motion_n_unambiguous",
            "motion_agreement_unambiguous", "exit_n", "exit_agreement",
            "entry_n", "entry_agreement")}
    halves = {"even": [x for x in items if x.row % 2 == 0],
              "odd": [x for x in items if x.row % 2 == 1]}
    chosen = choose_threshold(halves["even"])
    styled = [x for x in items if x.sighting is not None and x.styles is not None]
    measurable = sorted({s for x in styled for s in x.styles})
    auc = style_auc(items)
    metrics = {"passages": len(items), "matched": sum(x.sighting is not None for x in items),
               **direction_scores(items), "style_labelled": len(styled),
               "threshold_chosen_on_even": chosen, "per_threshold": by_threshold(halves),
               "styles_measurable": ", ".join(measurable),
               "styles_without_labels": ", ".join(s for s in STYLES if s not in measurable),
               # styles with labels, and any other the classifier said on a labelled body
               "per_style": {s: {**r, "auc": auc[s]} for s, r in style_table(halves, chosen).items()
                             if s in measurable or r["said_even"] or r["said_odd"]},
               "per_video": per_video}
    return metrics
