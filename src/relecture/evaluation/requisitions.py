"""The investigator's view of the labelled passages: would a search have found each one?

Each labelled video is indexed as `relecture index` does (`labelled.index_labelled`, the
same run as `eval passages`) and its sightings written to a catalog in a temporary home, one
camera per video, all recorded from `START_UTC`. A requisition over every camera is opened
there, and for each passage an investigator asks what they would know from a witness or a
first look at the footage: its camera, the passage's time +-`WINDOW_S`, its type, and its
colour when labelled. The question goes through `requisitions.session.Session.search`, the function
behind `relecture search` (parse, access check, requisition scope, ranking, audit), as a
declared investigator.

Which hit is the passage is known from the eval-passages matching (`passages.score_video`:
time and direction, one to one); a passage matched to no sighting is not found at any rank.
Scores: recall at k (the matched sighting among the first k hits), recall at any rank, and
the mean number of hits returned, per video and in all (`_sure`: high and medium labels).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from relecture.evaluation.common import ratio, video_halves
from relecture.evaluation.labelled import (IndexedVideo, Passage, index_labelled,
                                           labelled_videos)
from relecture.evaluation.passages import SURE, score_video
from relecture.settings import Home

START_UTC = datetime(2024, 1, 15, 12, 0, 0)  # every video's start (naive UTC)
WINDOW_S = 60.0  # the time asked: the passage's [t_first, t_last] widened this much
USER = "eval-investigator"
REFERENCE = "EVAL passages"
MAX_HITS = 10_000  # the search command's --limit maximum: every hit comes back


@dataclass(frozen=True)
class Asked:
    """One passage asked for: how many hits came back and where its sighting ranked."""

    video: str
    passage_id: str
    confidence: str
    matched: bool  # the eval-passages matching gave the passage a sighting
    rank: int | None  # 1-based rank of that sighting; None: not among the hits (or none)
    hits: int


def camera_of(stem: str) -> str:
    """The camera id a video is catalogued under (upper case, at most 32 characters)."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem.upper())[:32]


def prepare_home(home: Home, cameras: Sequence[str]) -> None:
    """site.toml with one investigator on every camera, and an open requisition over
    `cameras` from an hour before START_UTC to a day after."""
    from relecture.requisitions.requisition import open_requisition
    from relecture.requisitions.site import load_site

    home.ensure()
    (home.root / "site.toml").write_text(
        'retention_days = 30\naudit_checkpoint_every = 100\n\n[[users]]\n'
        f'name = "{USER}"\nroles = ["investigator"]\ncameras = ["*"]\n', encoding="utf-8")
    open_requisition(home, load_site(home, USER), USER, reference=REFERENCE, type="flagrance",
                     magistrate="flagrance", officer_matricule="EVAL-1",
                     officer_service="evaluation", reason="recall of labelled passages",
                     cameras=cameras, ranges=[(START_UTC - timedelta(hours=1),
                                               START_UTC + timedelta(days=1))])


def catalogue(home: Home, v: IndexedVideo) -> list[int]:
    """Store one indexed video's sightings as `relecture index` would (camera
    `camera_of(stem)`, started at START_UTC); returns their sighting ids, in order."""
    from relecture.catalog import Catalog
    from relecture.footage import SourceHints, probe

    hints = SourceHints(camera=camera_of(v.csv_path.stem), start=START_UTC, tz="UTC",
                        clock_offset_s=0.0)
    rec = probe(v.video, hints)
    with Catalog(home) as cat:
        job = cat.start_job(USER, {"evaluation": "requisitions"}, {})
        ids = cat.add_recording(rec, list(v.result.sightings), list(v.result.persons), job,
                                v.result.frames_sampled, v.result.frames_detected)
        cat.finish_job(job, 1, 0, 0)
    return ids


def ask(home: Home, camera: str, p: Passage) -> list[int]:
    """The sighting ids, in rank order, that `relecture search` returns for `p`."""
    from relecture.requisitions.session import Session
    from relecture.search.request import SearchRequest

    start = START_UTC + timedelta(seconds=p.t_first - WINDOW_S)
    end = START_UTC + timedelta(seconds=p.t_last + WINDOW_S)
    colours = (p.colour,) if p.colour and p.colour != "unknown" else ()
    request = SearchRequest(cameras=(camera,), start=start.isoformat(), end=end.isoformat(),
                            types=(p.type,), colours=colours, utc=True)
    result = Session.open(home, REFERENCE, user=USER).search(request, MAX_HITS)
    return [h.sighting_id for h in result.hits]


def ask_video(home: Home, v: IndexedVideo, ids: Sequence[int]) -> list[Asked]:
    """Ask for every passage of one catalogued video (`ids`: its sightings' ids)."""
    matched = {m.passage: ids[m.sighting]
               for m in score_video(v.passages, v.result.sightings).matches}
    camera, out = camera_of(v.csv_path.stem), []
    for k, p in enumerate(v.passages):
        hits = ask(home, camera, p)
        target = matched.get(k)
        rank = hits.index(target) + 1 if target in hits else None
        out.append(Asked(v.csv_path.stem, p.passage_id, p.confidence, target is not None,
                         rank, len(hits)))
    return out


def summarise_asked(asked: Sequence[Asked], k: int) -> dict:
    """n, k, found (passages matched to a sighting: the most any search can find),
    recall_at_k, recall_any, mean_hits, and the recalls on high/medium labels."""
    sure = [a for a in asked if a.confidence in SURE]

    def at(rows: Sequence[Asked], limit: int | None) -> float:
        return ratio(sum(a.rank is not None and (limit is None or a.rank <= limit)
                         for a in rows), len(rows))

    return {"n": len(asked), "k": k, "found": sum(a.matched for a in asked),
            "recall_at_k": at(asked, k), "recall_any": at(asked, None),
            "mean_hits": round(sum(a.hits for a in asked) / len(asked), 2) if asked else 0.0,
            "n_sure": len(sure), "recall_at_k_sure": at(sure, k),
            "recall_any_sure": at(sure, None)}


def evaluate_requisitions(
    data_dir: Path,
    videos_dir: Path | None = None,
    k: int = 10,
    progress: Callable[[int, int], None] | None = None,
    components=None,
    detector: str | None = None,
    home: Path | None = None,
) -> dict:
    """Index, catalogue and ask for every labelled passage (see the module docstring);
    returns `summarise_asked` overall, with per_video {stem: the same}, halves {"even",
    "odd": the same over the even and odd videos in name order}, `missed_at_k` (the
    passages not among the first k hits) and `ranks` {passage: rank or None}. `home`: the
    catalog home to fill (a fresh temporary one when None)."""
    with tempfile.TemporaryDirectory(prefix="relecture-eval-") as tmp:
        h = Home(Path(home) if home is not None else Path(tmp) / "home")
        prepare_home(h, [camera_of(c.stem) for c, _ in labelled_videos(data_dir, videos_dir)])
        asked: list[Asked] = []
        for v in index_labelled(data_dir, videos_dir, progress, components, detector):
            asked += ask_video(h, v, catalogue(h, v))
    metrics = summarise_asked(asked, k)
    videos = list(dict.fromkeys(a.video for a in asked))
    metrics["per_video"] = {name: summarise_asked([a for a in asked if a.video == name], k)
                            for name in videos}
    metrics["halves"] = {half: summarise_asked([a for a in asked if a.video in names], k)
                         for half, names in video_halves(videos).items()}
    metrics["missed_at_k"] = [a.passage_id for a in asked if a.rank is None or a.rank > k]
    metrics["ranks"] = {a.passage_id: a.rank for a in asked}
    return metrics
