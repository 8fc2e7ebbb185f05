"""Labelled passages and their videos (../shared/data/passages), indexed as `relecture
index` does: what `eval passages` and `eval requisitions` both start from.

One CSV per video (same stem): passage_id, t_first, t_last (seconds of video time), type,
colour, colour_alt, direction, kind, plate, confidence (high | medium | low), notes. Each
video is indexed with `build_components(IndexConfig())`, then
`index_frames(sample_frames(...))`, no catalog.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from relecture.errors import UsageError

if TYPE_CHECKING:
    from relecture.indexer.pipeline import RecordingResult

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")
COLUMNS = {"passage_id", "t_first", "t_last", "type", "colour", "colour_alt", "confidence"}


@dataclass(frozen=True)
class Passage:
    """One labelled vehicle passage (a row of a passages CSV)."""

    passage_id: str
    t_first: float
    t_last: float
    type: str
    colour: str
    colour_alt: str = ""
    confidence: str = "high"
    direction: str | None = None  # "away", "towards" or None (across, unknown)



def label_direction(text: str) -> str | None:
    """"away" or "towards" from a passage's free-text direction, None when it says neither
    (or both: a vehicle turning back)."""
    text = text.lower()
    away, towards = "away" in text, "toward" in text
    return "away" if away and not towards else "towards" if towards and not away else None


def read_passages(csv_path: Path) -> list[Passage]:
    """The passages of one CSV, in file order; UsageError on a missing column or bad time."""
    with Path(csv_path).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = COLUMNS - set(reader.fieldnames or ())
        if missing:
            raise UsageError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}")
        rows = list(reader)
    try:
        return [Passage(r["passage_id"], float(r["t_first"]), float(r["t_last"]),
                        r["type"].strip(), r["colour"].strip(), (r["colour_alt"] or "").strip(),
                        r["confidence"].strip(), label_direction(r.get("direction") or ""))
                for r in rows]
    except ValueError as e:
        raise UsageError(f"{csv_path}: bad time ({e})") from None


def labelled_videos(data_dir: Path, videos_dir: Path | None = None) -> list[tuple[Path, Path]]:
    """(passages CSV, video) pairs: every CSV of `data_dir` with the video of the same stem
    in `videos_dir` (default: `data_dir/../videos`). UsageError when a folder or video is
    missing."""
    data_dir = Path(data_dir)
    videos_dir = Path(videos_dir) if videos_dir is not None else data_dir.parent / "videos"
    for what, folder in (("passages", data_dir), ("videos", videos_dir)):
        if not folder.is_dir():
            raise UsageError(f"no such {what} folder: {folder}")
    csvs = sorted(data_dir.glob("*.csv"))
    if not csvs:
        raise UsageError(f"no passage CSV files in {data_dir}")
    pairs = []
    for c in csvs:
        video = next((videos_dir / (c.stem + s) for s in VIDEO_SUFFIXES
                      if (videos_dir / (c.stem + s)).is_file()), None)
        if video is None:
            raise UsageError(f"no video named {c.stem}.* ({', '.join(VIDEO_SUFFIXES)}) in "
                             f"{videos_dir} for {c.name}")
        pairs.append((c, video))
    return pairs


@dataclass(frozen=True)
class IndexedVideo:
    """One labelled video indexed as `relecture index` does, with its passages."""

    csv_path: Path
    video: Path
    passages: tuple[Passage, ...]
    result: "RecordingResult"
    duration_s: float
    cpu_s: float
    wall_s: float


def index_labelled(
    data_dir: Path,
    videos_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    components=None,
    detector: str | None = None,
) -> Iterator[IndexedVideo]:
    """Index every labelled video of `data_dir` (see `labelled_videos`) as `relecture index`
    does, with `detector` (a name of `indexer.detect.KINDS`) when given, one at a time.
    `progress(done_s, total_s)` follows the seconds of footage indexed."""
    from relecture.footage import SourceHints, probe
    from relecture.indexer.decode import sample_frames
    from relecture.indexer.pipeline import IndexConfig, build_components, index_frames

    pairs = labelled_videos(data_dir, videos_dir)
    config = IndexConfig() if detector is None else IndexConfig(detector=detector)
    warm_up = components is None
    if warm_up:
        components = build_components(config)  # checks the detector name; models load later
    hints = SourceHints(camera="eval", tz="UTC", clock_offset_s=0.0)
    durations = [probe(video, hints).duration_s for _, video in pairs]
    total_s = int(round(sum(durations)))
    if warm_up:
        # Models load on first use: keep that out of the measured CPU time (as bench/ does).
        warm = dataclasses.replace(config, dense=True)
        index_frames(itertools.islice(sample_frames(pairs[0][1], config.sample_fps), 10),
                     *components, warm)
    done_s = 0.0
    for (csv_path, video), duration in zip(pairs, durations):
        passages = read_passages(csv_path)

        def on_frame(frame, base=done_s):
            if progress:
                progress(min(total_s, int(base + frame.t)), total_s)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = index_frames(sample_frames(video, config.sample_fps), *components, config,
                              on_frame=on_frame)
        yield IndexedVideo(csv_path, video, tuple(passages), result, duration,
                           time.process_time() - cpu0, time.perf_counter() - wall0)
        done_s += duration
    if progress:
        progress(total_s, total_s)
