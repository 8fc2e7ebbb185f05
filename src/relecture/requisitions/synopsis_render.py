"""The pictures of a synopsis: the camera's background, the passages' cut-outs, the still
(PNG or JPEG) and the clip (H.264 MP4), all derived: persons are blurred on every decoded
picture before anything is taken from it.

Times `t` are seconds from a recording's first decoded picture, the origin the indexer gave
sightings (`media.first_picture_pts`). Heavy imports (av, cv2, numpy) stay inside functions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from relecture.errors import FootageError
from relecture.requisitions import media
from relecture.requisitions.synopsis import (LABEL_H, Box, Passage, Slot, StillLayout,
                                             label_box, label_width)

BACKGROUND_FRAMES = 30  # pictures sampled over the window for the median background
CLIP_FPS = Fraction(25, 2)  # the clip's frame rate
_SEEK_GAP_S = 3.0  # farther than this ahead, seek instead of decoding through
_PALETTE = ((0, 215, 255), (255, 191, 0), (80, 220, 80), (255, 80, 200), (60, 120, 255),
            (255, 255, 255), (0, 140, 255), (200, 120, 60))  # BGR, one per passage in turn


@dataclass(frozen=True)
class Source:
    """A recording the synopsis reads: its file, the part of it inside the window (seconds
    into it), its person tracks and the plates to hide (in an evidence package, those of
    the vehicles not exported), blurred on every picture decoded; `origin_pts` is the PTS
    of its first picture, where sighting times start (`media.first_picture_pts`)."""

    recording_id: str
    path: Path
    start_t: float
    end_t: float
    origin_pts: int
    persons: tuple[media.BoxTrack, ...] = ()
    plates: tuple[media.PlateMask, ...] = ()


@dataclass(frozen=True)
class Shot:
    """A passage and the recording its pixels come from."""

    passage: Passage
    source: Source


@dataclass(frozen=True)
class Picture:
    """An encoded still or clip and what went into it."""

    data: bytes
    width: int
    height: int
    frames: int
    duration_s: float
    background_frames: int
    persons_blurred: int
    plates_blurred: int = 0


@dataclass
class BlurCount:
    """How many person (and plate) boxes were blurred over every picture decoded."""

    persons: int = 0
    plates: int = 0


def grab(source: Source, times: Sequence[float], blurred: BlurCount) -> list[tuple[float, object]]:
    """(t, BGR picture) of the picture shown nearest each of `times` (ascending), persons
    blurred. Decodes forward, seeking to the keyframe before a time far ahead; a time past
    the last picture gets the last picture. Pictures are timed as the indexer times them
    (`decode.display_ordered`)."""
    import av

    from relecture.indexer.decode import display_ordered

    wanted = sorted(times)
    if not wanted:
        return []
    origin = source.origin_pts
    got: list[tuple[float, object]] = []
    last: list = [None, None]  # the picture converted last, and its array: reused in a row

    def take(shown) -> None:
        if last[0] is not shown[1]:
            last[:] = [shown[1], _as_array(shown, source, blurred)]
        got.append(last[1])

    try:
        with av.open(str(source.path)) as c:
            stream = c.streams.video[0]
            tb = float(stream.time_base)
            frames, prev = None, None
            while len(got) < len(wanted):
                t = wanted[len(got)]
                if frames is None or (prev is not None and t - prev[0] > _SEEK_GAP_S):
                    c.seek(origin + int(max(t - 0.1, 0) / tb), stream=stream, backward=True,
                           any_frame=False)
                    frames, prev = display_ordered(c.decode(stream)), None
                shown = next(frames, None)
                if shown is None:
                    if prev is None:
                        raise FootageError(f"{source.path}: no picture at {t:.2f} s")
                    while len(got) < len(wanted):
                        take(prev)
                    break
                here = ((shown[0] - origin) * tb, shown[1])
                while len(got) < len(wanted) and here[0] >= wanted[len(got)]:
                    t = wanted[len(got)]
                    take(prev if prev and t - prev[0] < here[0] - t else here)
                prev = here
    except av.error.FFmpegError as e:
        raise FootageError(f"{source.path}: decoding failed ({e})") from None
    return got


def _as_array(shown, source: Source, blurred: BlurCount) -> tuple[float, object]:
    """(t, decoded picture) -> (t, BGR array with persons blurred)."""
    t, picture = shown
    img = picture.to_ndarray(format="bgr24")
    blurred.persons += media.blur_boxes(img, (p.at(t) for p in source.persons))
    blurred.plates += media.blur_boxes(img, (p.at(t) for p in source.plates))
    return (t, img)


def background(sources: Sequence[Source], blurred: BlurCount, n: int = BACKGROUND_FRAMES):
    """The median of `n` pictures spread over the sources' parts in the window (the picture
    size of the first source; others are resized to it), and how many were taken."""
    import cv2
    import numpy as np

    total = sum(max(s.end_t - s.start_t, 0.0) for s in sources)
    if not sources:
        raise FootageError("no recording to take the background from")
    pictures = []
    for s in sources:
        share = max(1, round(n * max(s.end_t - s.start_t, 0.0) / total)) if total else 1
        span = s.end_t - s.start_t
        times = [s.start_t + span * (k + 0.5) / share for k in range(share)]
        pictures.extend(img for _, img in grab(s, times, blurred))
    h, w = pictures[0].shape[:2]
    pictures = [p if p.shape[:2] == (h, w) else cv2.resize(p, (w, h)) for p in pictures]
    return np.median(np.stack(pictures), axis=0).astype(np.uint8), len(pictures)


def best_views(shots: Sequence[Shot], blurred: BlurCount) -> dict[int, object]:
    """Each passage's picture at its best time (persons blurred), by sighting id."""
    views = {}
    for shot in shots:
        (_, img), = grab(shot.source, [shot.passage.best_t], blurred)
        views[shot.passage.sighting_id] = img
    return views


def render_still(layout: StillLayout, views: dict[int, object], bg, title: str,
                 suffix: str, bg_frames: int, blurred: BlurCount) -> Picture:
    """The background with each placed cut-out, its label and, when moved, a leader line."""
    import cv2

    img = bg.copy()
    h, w = img.shape[:2]
    for i, p in enumerate(layout.placements):
        colour = _PALETTE[i % len(_PALETTE)]
        x1, y1, x2, y2 = (int(v) for v in p.source)
        crop = views[p.sighting_id][y1:y2, x1:x2]
        a, b, c, d = (int(v) for v in p.placed)
        if p.moved:
            cv2.circle(img, ((x1 + x2) // 2, (y1 + y2) // 2), 4, colour, -1, cv2.LINE_AA)
            cv2.line(img, ((x1 + x2) // 2, (y1 + y2) // 2), _nearest_point(p.placed, p.source),
                     colour, 2, cv2.LINE_AA)
        img[b:d, a:c] = cv2.resize(crop, (c - a, d - b), interpolation=cv2.INTER_AREA)
        cv2.rectangle(img, (a, b), (c - 1, d - 1), colour, 1)
        _label(img, p.label, p.text, colour)
    _title(img, title)
    ok, buf = cv2.imencode(suffix, img, [cv2.IMWRITE_JPEG_QUALITY, 92] if suffix == ".jpg"
                           else [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise FootageError(f"could not encode the synopsis as {suffix}")
    return Picture(buf.tobytes(), w, h, 1, 0.0, bg_frames, blurred.persons, blurred.plates)


def _nearest_point(box: Box, to: Box) -> tuple[int, int]:
    """The point of `box`'s border nearest the centre of `to`."""
    cx, cy = (to[0] + to[2]) / 2, (to[1] + to[3]) / 2
    return (int(min(max(cx, box[0]), box[2] - 1)), int(min(max(cy, box[1]), box[3] - 1)))


def _label(img, where: Box, text: str, colour) -> None:
    """`text` in white on a dark band at `where`, with a bar of the passage's colour."""
    import cv2

    a, b, c, d = (int(v) for v in where)
    img[b:d, a:c] //= 4
    img[b:d, a:a + 3] = colour
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)
    scale = min((c - a - 8) / tw, (d - b - 6) / th)
    cv2.putText(img, text, (a + 5, d - 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                1, cv2.LINE_AA)


def title_box(text: str, width: int) -> Box:
    """Where `_title` draws: the top-left band (the layout keeps it free)."""
    return (0.0, 0.0, float(min(width, label_width(text))), float(LABEL_H + 4))


def _title(img, text: str) -> None:
    _label(img, title_box(text, img.shape[1]), text, (255, 255, 255))


# -- the clip ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sprite:
    """One passage's pictures on the clip: for each clip frame from `first_frame`, its
    cut-out and box, or None where the track has no box that frame (the passage keeps its
    own timing)."""

    sighting_id: int
    label: str
    first_frame: int
    cutouts: tuple[tuple[object, tuple[int, int, int, int]] | None, ...]


def sprites(shots: Sequence[Shot], slots: Sequence[Slot], blurred: BlurCount,
            fps: Fraction = CLIP_FPS) -> list[_Sprite]:
    """Each passage's cut-outs at the clip's rate over its track, placed at its slot."""
    by_id = {s.sighting_id: s for s in slots}
    out = []
    for shot in shots:
        p, slot = shot.passage, by_id[shot.passage.sighting_id]
        count = int((p.last_t - p.first_t) * fps) + 1
        times = [p.first_t + k / fps for k in range(count)]
        cutouts = []
        for t, img in grab(shot.source, [float(t) for t in times], blurred):
            cutouts.append(_cutout(img, p.track.at(t)))
        out.append(_Sprite(p.sighting_id, p.label, round(slot.shift * fps), tuple(cutouts)))
    return out


def _cutout(img, box):
    """(crop, box cut to the picture) of `box` in `img`; None without a box of at least
    2 x 2 pixels."""
    if box is None:
        return None
    h, w = img.shape[:2]
    x1, y1 = max(int(box[0]), 0), max(int(box[1]), 0)
    x2, y2 = min(int(box[2]) + 1, w), min(int(box[3]) + 1, h)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return img[y1:y2, x1:x2].copy(), (x1, y1, x2, y2)


def render_clip(sprites_: Sequence[_Sprite], bg, title: str, bg_frames: int,
                blurred: BlurCount, fps: Fraction = CLIP_FPS) -> Picture:
    """H.264 MP4 (yuv420p): every sprite pasted over the background, frame by frame."""
    import av

    h, w = bg.shape[0] & ~1, bg.shape[1] & ~1
    frames = max((s.first_frame + len(s.cutouts) for s in sprites_), default=1)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for k in range(frames):
            img = _clip_frame(bg[:h, :w], sprites_, k)
            _title(img, title)
            picture = av.VideoFrame.from_ndarray(img, format="bgr24")
            picture.pts = k
            picture.time_base = 1 / fps
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return Picture(buf.getvalue(), w, h, frames, float(frames / fps), bg_frames,
                   blurred.persons, blurred.plates)


def _clip_frame(bg, sprites_: Sequence[_Sprite], k: int):
    """Clip frame `k`: the background with every sprite on screen then (larger first),
    labels on top."""
    img = bg.copy()
    h, w = img.shape[:2]
    labels = []
    shown = [(i, s, s.cutouts[k - s.first_frame]) for i, s in enumerate(sprites_)
             if 0 <= k - s.first_frame < len(s.cutouts) and s.cutouts[k - s.first_frame]]
    # larger boxes first: a smaller (farther) vehicle is drawn over a nearer one
    shown.sort(key=lambda e: (-(e[2][1][2] - e[2][1][0]) * (e[2][1][3] - e[2][1][1]), e[0]))
    for i, s, (crop, (x1, y1, x2, y2)) in shown:
        x2, y2 = min(x2, w), min(y2, h)
        img[y1:y2, x1:x2] = crop[:y2 - y1, :x2 - x1]
        labels.append((label_box((x1, y1, x2, y2), label_width(s.label), w, h), s.label,
                       _PALETTE[i % len(_PALETTE)], (x1, y1, x2, y2)))
    import cv2

    for where, text, colour, box in labels:
        cv2.rectangle(img, box[:2], (box[2] - 1, box[3] - 1), colour, 1)
        _label(img, where, text, colour)
    return img
