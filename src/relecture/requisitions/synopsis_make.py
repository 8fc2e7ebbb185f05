"""A synopsis from the catalog: the passages a search found on one camera during one window,
the recordings that show that window, and the still or clip made of them.

`Session.synopsis` checks access, runs the search and audits; this module reads what the
pictures need (`plan`), makes them (`render`) and says what is in them (`SynopsisResult`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from relecture import catalog_read as reads
from relecture.errors import FootageError, UsageError
from relecture.requisitions import media
from relecture.requisitions import synopsis as layout
from relecture.requisitions import synopsis_render as render_
from relecture.requisitions.synopsis_render import Picture, Shot, Source

STILL_SUFFIXES = (".png", ".jpg", ".jpeg")
CLIP_SUFFIXES = (".mp4",)
MAX_PASSAGES = 500  # more passages than this in the window: narrow it


@dataclass(frozen=True)
class Window:
    """The camera and the window asked, as naive UTC instants [start, end)."""

    camera: str
    start: datetime
    end: datetime


def window_of(cat, query) -> Window:
    """The one camera and window of `query` as UTC instants of that camera: hours typed
    as wall-clock times are read in the camera's own zone, as search reads them."""
    from relecture.search.filters import resolve_cameras
    from relecture.search.query_time import in_camera_zone

    camera = query.cameras[0]
    zone = next(iter(resolve_cameras(cat, query, []).values()), query.tz)
    asked = in_camera_zone(query.windows[0], query.tz, zone)
    return Window(camera, asked.start, asked.end)


@dataclass(frozen=True)
class Plan:
    """What the pictures are made of: the passages (by camera time), the sources, the title."""

    window: Window
    shots: tuple[Shot, ...]
    sources: tuple[Source, ...]
    times: dict[int, datetime]  # camera time of each passage's best view, by sighting id
    title: str


@dataclass(frozen=True)
class SynopsisResult:
    """The file written and what it shows: for each passage its label, its own box and
    where it is drawn (the still) or when it plays (the clip)."""

    path: Path
    kind: str  # "still" or "clip"
    sha256: str
    window: Window
    picture: Picture
    passages: tuple[dict, ...]
    unplaced: tuple[int, ...]
    recordings: tuple[str, ...]

    def as_dict(self) -> dict:
        p = self.picture
        return {"file": str(self.path), "kind": self.kind, "sha256": self.sha256,
                "camera": self.window.camera, "from_utc": self.window.start.isoformat() + "Z",
                "to_utc": self.window.end.isoformat() + "Z", "width": p.width,
                "height": p.height, "frames": p.frames, "duration_s": round(p.duration_s, 3),
                "background_frames": p.background_frames,
                "persons_blurred": p.persons_blurred, "plates_blurred": p.plates_blurred,
                "recordings": list(self.recordings),
                "passages": list(self.passages), "unplaced": list(self.unplaced)}


def kind_of(path: Path) -> tuple[str, str]:
    """("still" | "clip", suffix) for an output file name; UsageError for anything else or a
    folder that does not exist."""
    suffix = path.suffix.lower()
    if suffix not in STILL_SUFFIXES + CLIP_SUFFIXES:
        raise UsageError(f"--out {path}: name a .png, .jpg or .mp4 file")
    if not path.parent.is_dir():
        raise UsageError(f"--out {path}: no such directory {path.parent}")
    if path.is_dir():
        raise UsageError(f"--out {path}: is a directory")
    return ("clip" if suffix in CLIP_SUFFIXES else "still",
            ".jpg" if suffix == ".jpeg" else suffix)


def plan(catalog, hits: Sequence, window: Window,
         plates_shown: frozenset[int] | None = None) -> Plan:
    """The shots of `hits` (search hits of the window's camera) and every recording of the
    camera that shows part of the window; each source file checked unchanged since indexing.
    With `plates_shown` (an evidence package's hits), every other vehicle's plate is blurred. FootageError when no recording shows the window."""
    recs = {r.recording_id: r for r in _camera_recordings(catalog.db, window)}
    for h in hits:
        if h.recording_id not in recs:
            recs[h.recording_id] = reads.recording(catalog.db, h.recording_id)
    if not recs:
        raise FootageError(f"no recording of camera {window.camera} shows "
                           f"{window.start:%Y-%m-%d %H:%M:%S} to {window.end:%H:%M:%S} UTC")
    sources = {rid: _source(catalog.db, rec, window, plates_shown)
               for rid, rec in recs.items()}
    shots, times = [], {}
    for h in sorted(hits, key=lambda h: (h.first_utc + timedelta(seconds=h.best_t - h.first_t),
                                         h.sighting_id)):
        when = h.first_camera_time + timedelta(seconds=h.best_t - h.first_t)
        track = media.box_tracks(reads.sighting(catalog.db, h.sighting_id).box_track())
        box = track.at(h.best_t, hold_s=float("inf"))
        if box is None:  # no stored box: nothing to draw it with
            raise FootageError(f"sighting {h.sighting_id} has no box to draw")
        times[h.sighting_id] = when
        shots.append(Shot(layout.Passage(h.sighting_id, f"#{h.sighting_id} {when:%H:%M:%S}",
                                         h.best_t, box, track, h.first_t, h.last_t),
                          sources[h.recording_id]))
    background = tuple(s for rid, s in sources.items() if s.end_t > s.start_t) or \
        tuple(sources.values())
    first = min(recs.values(), key=lambda r: r.start_utc)
    title = (f"CAM {window.camera} synopsis {first.camera_time(window.start):%Y-%m-%d %H:%M:%S}"
             f"-{first.camera_time(window.end):%H:%M:%S} {len(shots)} passages")
    return Plan(window, tuple(shots), background, times, title)


def _camera_recordings(db, window: Window) -> list[reads.RecordingRecord]:
    """The recordings of the window's camera (named as search names cameras) that meet it."""
    from relecture.search.filters import camera_key

    key = camera_key(window.camera)
    return [r for r in reads.recordings_meeting(db, window.start, window.end)
            if r.camera is not None and camera_key(r.camera) == key]


def _source(db, rec: reads.RecordingRecord, window: Window,
            plates_shown: frozenset[int] | None = None) -> Source:
    """The recording as a source: its file checked, its part inside the window, its persons
    and, with `plates_shown`, the plates of its other sightings to hide."""
    from relecture.footage import check_unchanged

    path = check_unchanged(rec.path, rec.recording_id)
    duration = rec.duration_s or 0.0
    start_t = min(max((window.start - rec.start_utc).total_seconds(), 0.0), duration)
    end_t = min(max((window.end - rec.start_utc).total_seconds(), 0.0), duration)
    persons, plates = media.recording_masks(db, rec.recording_id, plates_shown)
    return Source(rec.recording_id, path, start_t, end_t, media.first_picture_pts(path),
                  persons, plates)


@dataclass(frozen=True)
class Rendered:
    """One encoded still or clip, what each passage became in it, and those left out."""

    kind: str
    suffix: str
    picture: Picture
    passages: tuple[dict, ...]
    unplaced: tuple[int, ...]


def render(plan_: Plan, outputs: Sequence[tuple[str, str]]) -> tuple[Rendered, ...]:
    """Each of `outputs` ((kind, suffix) from `kind_of`), over one background."""
    from dataclasses import replace

    blurred = render_.BlurCount()  # the background's, then each output's own from there
    bg, bg_frames = render_.background(plan_.sources, blurred)
    return tuple(_still(plan_, bg, bg_frames, replace(blurred), suffix) if kind == "still"
                 else _clip(plan_, bg, bg_frames, replace(blurred))
                 for kind, suffix in outputs)


def _still(plan_: Plan, bg, bg_frames: int, blurred, suffix: str) -> Rendered:
    height, width = bg.shape[:2]
    spots = layout.layout_still([s.passage for s in plan_.shots], (width, height),
                                [render_.title_box(plan_.title, width)])
    views = render_.best_views([s for s in plan_.shots
                                if s.passage.sighting_id not in spots.unplaced], blurred)
    picture = render_.render_still(spots, views, bg, plan_.title, suffix, bg_frames, blurred)
    return Rendered("still", suffix, picture,
                    tuple(_placed(p, plan_) for p in spots.placements), spots.unplaced)


def _clip(plan_: Plan, bg, bg_frames: int, blurred) -> Rendered:
    slots = layout.schedule_clip([s.passage for s in plan_.shots])
    sprites = render_.sprites(plan_.shots, slots, blurred)
    picture = render_.render_clip(sprites, bg, plan_.title, bg_frames, blurred)
    by_id = {s.passage.sighting_id: s.passage for s in plan_.shots}
    return Rendered("clip", ".mp4", picture, tuple(
        {**_passage(by_id[s.sighting_id], plan_), "shift_s": s.shift,
         "duration_s": round(s.duration, 3)} for s in slots), ())


def _passage(p: layout.Passage, plan_: Plan) -> dict:
    return {"sighting_id": p.sighting_id, "label": p.label,
            "camera_time": plan_.times[p.sighting_id].isoformat(timespec="milliseconds"),
            "best_t": round(p.best_t, 3), "box": [round(v, 1) for v in p.box]}


def _placed(p: layout.Placement, plan_: Plan) -> dict:
    shot = next(s for s in plan_.shots if s.passage.sighting_id == p.sighting_id)
    return {**_passage(shot.passage, plan_), "source_box": list(p.source),
            "placed_box": list(p.placed), "label_box": list(p.label), "moved": p.moved}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_windows(refs: Sequence, ranges: Sequence) -> list[Window]:
    """The synopsis windows of an evidence package: for each camera of the hits `refs`
    (`SightingRef`s) and each requisition range (`ranges`, `TimeRange`s) holding some of
    them, whole minutes from the first of them to the last, cut to the range."""
    groups: dict[tuple[str, int], list] = {}
    for r in refs:
        k = next((i for i, rng in enumerate(ranges) if rng.overlaps(r.first_utc, r.last_utc)),
                 None)
        if k is not None and r.first_utc is not None and r.last_utc is not None:
            groups.setdefault((r.camera, k), []).append(r)
    windows = []
    for (camera, k), hits in sorted(groups.items()):
        start = min(h.first_utc for h in hits).replace(second=0, microsecond=0)
        last = max(h.last_utc for h in hits)
        end = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
        windows.append(Window(camera, max(start, ranges[k].start), min(end, ranges[k].end)))
    return windows


def package_item(window: Window, made: Rendered, recordings: Sequence[str]) -> dict:
    """What an evidence package says of one synopsis file (its bytes are `made.picture`)."""
    p = made.picture
    what = (f"PNG still {p.width}x{p.height}" if made.suffix == ".png" else
            f"JPEG still {p.width}x{p.height}" if made.kind == "still" else
            f"H.264 clip {p.width}x{p.height}, {p.frames} frames at "
            f"{float(render_.CLIP_FPS):g} fps")
    return {
        "role": "synopsis", "camera": window.camera, "derived_from": list(recordings),
        "sha256": sha256_of(p.data), "size_bytes": len(p.data),
        "start_utc": window.start.isoformat() + "Z", "end_utc": window.end.isoformat() + "Z",
        "sightings": [d["sighting_id"] for d in made.passages],
        "not_drawn": list(made.unplaced),
        "transform": (f"synopsis of camera {window.camera} over the window: background the "
                      f"median of {p.background_frames} pictures decoded from the "
                      f"{len(recordings)} source recording(s), each passage the search finds "
                      "there drawn at its best view (still) or over its passage (clip), "
                      "labelled with sighting id and camera time; persons blurred "
                      f"({p.persons_blurred} boxes), plates of vehicles not exported blurred "
                      f"({p.plates_blurred} boxes); "
                      f"{what}"),
    }
