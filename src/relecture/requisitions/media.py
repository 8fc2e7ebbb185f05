"""Evidence media: cut the native master segment, render the derived viewable copy, take stills.

The master is cut by copying the recording's own compressed packets (PyAV remux): payload bytes
are never touched, only container timestamps are rebased to start at zero (what any cut does)
and the rebase is recorded. Derived copies and stills are decoded from the master, so they can
name it as their origin. Times `t` are seconds from the recording's first decoded picture, the
same origin the indexer used for sightings (see `indexer/decode.py`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Sequence

from relecture.errors import FootageError
from relecture.indexer.decode import display_ordered

# Container families that accept copied packets of the codecs CCTV recorders use; anything else
# is remuxed into Matroska, which takes every codec as is.
_KEEP_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi"})
_BLUR_MARGIN = 0.15  # fraction of box width/height added on each side before blurring
_HOLD_S = 0.5  # how long a track's first/last box still counts before/after its span
# AVI indexes flag the 1-byte placeholders of packed B-frames (DivX/Xvid) as keyframes; no
# intra-coded picture fits in this many bytes, so smaller "keyframes" are not cut points.
_MIN_PICTURE_BYTES = 8


@dataclass(frozen=True)
class BoxTrack:
    """Boxes of one object over time (t, x1, y1, x2, y2), sorted by t; interpolated between."""

    boxes: tuple[tuple[float, float, float, float, float], ...]

    def at(self, t: float, hold_s: float = _HOLD_S) -> tuple[float, float, float, float] | None:
        """Box at time t (linear between known boxes; held `hold_s` past the ends), or None."""
        if not self.boxes:
            return None
        times = [b[0] for b in self.boxes]
        if t < times[0] - hold_s or t > times[-1] + hold_s:
            return None
        i = bisect.bisect_left(times, t)
        if i == 0:
            return self.boxes[0][1:]
        if i == len(times):
            return self.boxes[-1][1:]
        (t0, *a), (t1, *b) = self.boxes[i - 1], self.boxes[i]
        w = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        return tuple(p + w * (q - p) for p, q in zip(a, b))


@dataclass(frozen=True)
class PlateMask:
    """Where another vehicle's plate is: its track, and the plate's place inside its box.

    Plates are read on a few frames only; the plate's position relative to the vehicle box is
    taken from the nearest read and carried along the vehicle's track, so the plate stays
    hidden on frames where it was not read.
    """

    vehicle: BoxTrack
    reads: tuple[tuple[float, float, float, float, float], ...]  # (t, plate box xyxy), by t

    def at(self, t: float) -> tuple[float, float, float, float] | None:
        """Plate box at t, or None when the vehicle is not in view."""
        if not self.reads:
            return None
        near = min(self.reads, key=lambda r: abs(r[0] - t))
        here, then = self.vehicle.at(t), self.vehicle.at(near[0], hold_s=float("inf"))
        if here is None or then is None:
            # No track around (or no track at all): blur the read box itself near its read time.
            return near[1:] if abs(near[0] - t) <= _HOLD_S else None
        vx1, vy1, vx2, vy2 = then
        vw, vh = max(vx2 - vx1, 1e-6), max(vy2 - vy1, 1e-6)
        rel = ((near[1] - vx1) / vw, (near[2] - vy1) / vh, (near[3] - vx1) / vw,
               (near[4] - vy1) / vh)
        hx1, hy1, hx2, hy2 = here
        hw, hh = hx2 - hx1, hy2 - hy1
        return (hx1 + rel[0] * hw, hy1 + rel[1] * hh, hx1 + rel[2] * hw, hy1 + rel[3] * hh)


@dataclass(frozen=True)
class MasterCut:
    """What was cut, exactly: packet range in the source stream's own timestamps and seconds."""

    path: Path
    packets: int
    time_base: Fraction
    first_pts: int  # source PTS of the earliest picture in the cut
    last_pts: int  # source PTS of the latest picture in the cut
    rebase: int  # subtracted from every source PTS/DTS to start the cut at zero
    origin_pts: int  # source PTS of the recording's first picture (t = 0)
    start_t: float  # seconds from the recording start, first picture shown
    end_t: float  # seconds from the recording start, end of the last picture shown
    codec: str
    container: str


@dataclass(frozen=True)
class Overlay:
    """What to burn into a derived copy: camera name, camera clock, and what to blur."""

    camera: str
    start_local: datetime  # camera clock at t = 0
    persons: tuple[BoxTrack, ...] = ()
    plates: tuple[PlateMask, ...] = ()
    blur: bool = True


@dataclass(frozen=True)
class DerivedInfo:
    """The derived copy: frame count and how many boxes were blurred, for the transform text."""

    path: Path
    frames: int
    person_boxes_blurred: int
    plate_boxes_blurred: int
    crf: int


def _open(path: Path, mode: str = "r", **kw):
    import av  # heavy import kept local so `relecture --help` stays fast

    try:
        return av.open(str(path), mode, **kw)
    except av.error.FFmpegError as e:
        raise FootageError(f"{path}: cannot open video ({e})") from None


def master_suffix(source: Path) -> str:
    """File suffix of the master: the source's own container when it can take copied packets."""
    suffix = source.suffix.lower()
    return suffix if suffix in _KEEP_SUFFIXES else ".mkv"


def first_picture_pts(source: Path) -> int:
    """PTS of the recording's first picture in display order: the origin of sighting times."""
    with _open(source) as c:
        for pts, _ in display_ordered(c.decode(c.streams.video[0])):
            return pts
    raise FootageError(f"{source}: no decodable picture")


def cut_master(source: Path, dest: Path, start_t: float, end_t: float) -> MasterCut:
    """Copy the source's video packets covering [start_t, end_t] into `dest`, never re-encoded.

    The cut starts at the last keyframe at or before `start_t` (so it decodes on its own) and
    takes, in decode order, every packet whose DTS is at or before `end_t`: a picture shown
    before `end_t` then always has its references. Only the video stream is copied.
    """
    origin = first_picture_pts(source)
    with _open(source) as src:
        stream = src.streams.video[0]
        tb = stream.time_base
        start_pts = origin + int(start_t / tb)
        end_pts = origin + int(end_t / tb)
        packets = _packets_between(src, stream, start_pts, end_pts)
        if not packets:
            raise FootageError(
                f"{source}: no video packets between {start_t:.2f}s and {end_t:.2f}s")
        rebase = min(p.dts if p.dts is not None else p.pts for p in packets)
        with _open(dest, "w") as out:
            ostream = out.add_stream_from_template(stream)
            for p in packets:
                p.pts = p.pts - rebase if p.pts is not None else None
                p.dts = p.dts - rebase if p.dts is not None else None
                p.stream = ostream
                out.mux(p)
            container = out.format.name
    shown = [(p.pts + rebase, p.duration or 0) for p in packets if p.pts is not None]
    first = min(s for s, _ in shown)
    last, last_dur = max(shown)
    return MasterCut(
        path=dest, packets=len(packets), time_base=Fraction(tb), first_pts=first, last_pts=last,
        rebase=rebase, origin_pts=origin, start_t=float((first - origin) * tb),
        end_t=float((last + last_dur - origin) * tb), codec=stream.codec_context.name,
        container=container,
    )


def _packets_between(src, stream, start_pts: int, end_pts: int) -> list:
    """Packets (decode order) from the keyframe at/before start_pts while DTS <= end_pts."""
    src.seek(max(start_pts, 0), stream=stream, backward=True, any_frame=False)
    kept: list = []
    started = False
    for p in src.demux(stream):
        if p.size == 0:  # flush packet at end of file
            continue
        dts = p.dts if p.dts is not None else p.pts
        key = p.is_keyframe and p.size > _MIN_PICTURE_BYTES
        if key and p.pts is not None and p.pts <= start_pts:
            kept, started = [p], True  # a later keyframe still before the start: restart there
            continue
        if not started:
            if key:  # the seek landed after the start: nothing earlier to take
                kept, started = [p], True
            continue
        if dts is not None and dts > end_pts:
            break
        kept.append(p)
    return kept


def packet_payloads(path: Path) -> list[bytes]:
    """The video stream's compressed packet payloads in decode order (to compare cuts)."""
    with _open(path) as c:
        return [bytes(p) for p in c.demux(c.streams.video[0]) if p.size]


def _frames(master: Path, cut: MasterCut) -> Iterator[tuple[float, "object"]]:
    """(t in the recording, BGR image) for each picture of the master, in display order,
    timed as the indexer times them (`display_ordered`)."""
    with _open(master) as c:
        for pts, frame in display_ordered(c.decode(c.streams.video[0])):
            yield _seconds(pts, cut), frame.to_ndarray(format="bgr24")


def _seconds(pts: int, cut: MasterCut) -> float:
    """Seconds from the recording start of a master picture's PTS."""
    return float((pts + cut.rebase - cut.origin_pts) * cut.time_base)


def render_derived(master: Path, cut: MasterCut, dest: Path, overlay: Overlay,
                   crf: int = 20) -> DerivedInfo:
    """Re-encode the master as H.264 (libx264, yuv420p) with camera name and camera clock
    burned in, persons and other plates blurred when `overlay.blur`; frame times kept."""
    import av

    frames = persons = plates = 0
    with _open(dest, "w") as out:
        stream = None
        for t, img in _frames(master, cut):
            if stream is None:
                h, w = img.shape[0] & ~1, img.shape[1] & ~1  # yuv420p needs even sizes
                stream = out.add_stream("libx264", rate=Fraction(1000, 1))
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.time_base = Fraction(1, 1000)
                stream.options = {"crf": str(crf), "preset": "veryfast"}
                first_t = t
            img = img[:h, :w].copy()
            if overlay.blur:
                persons += blur_boxes(img, (p.at(t) for p in overlay.persons))
                plates += blur_boxes(img, (p.at(t) for p in overlay.plates))
            _burn_clock(img, overlay.camera, overlay.start_local + timedelta(seconds=t))
            picture = av.VideoFrame.from_ndarray(img, format="bgr24")
            picture.pts, picture.time_base = round((t - first_t) * 1000), Fraction(1, 1000)
            for packet in stream.encode(picture):
                out.mux(packet)
            frames += 1
        if stream is None:
            raise FootageError(f"{master}: no decodable picture in the master segment")
        for packet in stream.encode():
            out.mux(packet)
    return DerivedInfo(dest, frames, persons, plates, crf)


def still_at(master: Path, cut: MasterCut, t: float):
    """The master's picture shown at time t (nearest PTS), as a BGR image, and its exact t."""
    best = None
    for ft, img in _frames(master, cut):
        if best is None or abs(ft - t) < abs(best[0] - t):
            best = (ft, img)
        elif ft > t:
            break
    if best is None:
        raise FootageError(f"{master}: no decodable picture in the master segment")
    return best[1], best[0]


def stills(img, t: float, vehicle_box, overlay: Overlay,
           quality: int = 92) -> tuple[bytes, bytes, int]:
    """JPEG bytes of the still: plain (blur only) and with the vehicle box drawn; blurred count."""
    import cv2

    img = img.copy()
    n = 0
    if overlay.blur:
        n = blur_boxes(img, (p.at(t) for p in overlay.persons))
        n += blur_boxes(img, (p.at(t) for p in overlay.plates))
    plain = _jpeg(img, quality)
    boxed = img.copy()
    if vehicle_box is not None:
        x1, y1, x2, y2 = (int(round(v)) for v in vehicle_box)
        thick = max(2, img.shape[1] // 400)
        cv2.rectangle(boxed, (x1, y1), (x2, y2), (0, 255, 255), thick)
    return plain, _jpeg(boxed, quality), n


def _jpeg(img, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FootageError("could not encode a still as JPEG")
    return buf.tobytes()


def blur_boxes(img, boxes) -> int:
    """Pixelate each box (grown by a margin) of `img` in place, as the derived copies do
    (persons, other plates); None boxes are skipped; returns how many were blurred."""
    import cv2

    n = 0
    h, w = img.shape[:2]
    for box in boxes:
        if box is None:
            continue
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * _BLUR_MARGIN, (y2 - y1) * _BLUR_MARGIN
        a, b = max(int(x1 - mx), 0), max(int(y1 - my), 0)
        c, d = min(int(x2 + mx + 1), w), min(int(y2 + my + 1), h)
        if c - a < 2 or d - b < 2:
            continue
        roi = img[b:d, a:c]
        # Pixelate to ~8 blocks across, then smooth: unreadable and not reversible by sharpening.
        small = cv2.resize(roi, (min(8, c - a), min(8, d - b)), interpolation=cv2.INTER_AREA)
        big = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST)
        img[b:d, a:c] = cv2.GaussianBlur(big, (0, 0), max(1.0, (c - a) / 16))
        n += 1
    return n


def _burn_clock(img, camera: str, when: datetime) -> None:
    """Camera name and camera-clock time, white on a dark band at the top left."""
    import cv2

    text = f"CAM {camera}  {when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 10000:02d}"
    h, w = img.shape[:2]
    scale = max(0.35, w / 1600)
    thick = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(2, th // 3)
    img[0:th + base + 2 * pad, 0:min(w, tw + 2 * pad)] //= 3
    cv2.putText(img, text, (pad, th + pad), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                thick, cv2.LINE_AA)


def recording_masks(db, recording_id: str, shown: frozenset[int] | None
                    ) -> tuple[tuple[BoxTrack, ...], tuple["PlateMask", ...]]:
    """What a derived picture of the recording hides: every person track, and the plates of
    its sightings not in `shown` (no plate mask when `shown` is None)."""
    from relecture import catalog_read as reads

    persons = tuple(box_tracks(b) for b in reads.person_box_tracks(db, recording_id))
    plates = []
    for o in reads.recording_sightings(db, recording_id) if shown is not None else ():
        plate_reads = reads.plate_reads(db, o.sighting_id)
        if o.sighting_id not in shown and plate_reads:
            plates.append(PlateMask(box_tracks(o.box_track()),
                                    tuple((r.t, *r.box) for r in plate_reads)))
    return persons, tuple(plates)


def box_tracks(boxes: Sequence[dict]) -> BoxTrack:
    """BoxTrack from catalog JSON boxes ([{"t":..., "xyxy": [...]}...])."""
    return BoxTrack(tuple(sorted((float(b["t"]), *map(float, b["xyxy"])) for b in boxes)))

