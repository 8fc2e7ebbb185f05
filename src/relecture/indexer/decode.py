"""Decode a recording into frames at a sampled rate, timed by their PTS (never the wall clock).

`display_ordered` is the one definition of a picture's time, used here and by export
(requisitions/media.py), so that a sighting's times and its exported frames agree.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from relecture.detections import Frame
from relecture.errors import FootageError

# Decoding normally stops within a frame of the declared end; a file that stops sooner than
# this is truncated or damaged (its missing span would read as "no vehicle passed").
ENDS_EARLY_TOLERANCE_S = 1.0
REORDER_WINDOW = 8  # pictures; deeper than any B-frame pyramid CCTV encoders use


@dataclass
class DecodeStats:
    """What decoding did, for the job report (mutable: filled while frames stream)."""

    decoded: int = 0  # pictures the codec produced
    untimed: int = 0  # pictures without a PTS, dropped: they cannot be placed in time
    yielded: int = 0  # pictures handed to the pipeline (the sampled ones)
    last_t: float = 0.0  # the latest picture time decoded (seconds from the first)
    declared_s: float = 0.0  # the duration the container's header declares (0: unknown)


def display_ordered(pictures: Iterable, window: int = REORDER_WINDOW
                    ) -> Iterator[tuple[int, object]]:
    """(pts, picture) for each decoded picture that has a PTS, times only rising.

    Decoders output pictures in display order, but packed-B-frame AVI (DivX/Xvid) labels
    them with permuted PTS; the labels are re-sorted over a short window and given to the
    pictures in output order. Pictures without a PTS are skipped."""
    labels: list[int] = []
    held: list = []
    for picture in pictures:
        if picture.pts is None:
            continue
        bisect.insort(labels, picture.pts)
        held.append(picture)
        if len(held) > window:
            yield labels.pop(0), held.pop(0)
    yield from zip(labels, held)


def _counted(pictures: Iterable, stats: DecodeStats) -> Iterator:
    for picture in pictures:
        stats.decoded += 1
        stats.untimed += picture.pts is None
        yield picture


def sample_frames(
    path: Path, sample_fps: float, stats: DecodeStats | None = None
) -> Iterator[Frame]:
    """Yield BGR frames about `sample_fps` times per second of video time.

    Every picture must be decoded (inter-coded video), but only sampled ones are converted
    to arrays, which is where most of the per-frame cost is. A decode error anywhere, or
    pictures ending more than ENDS_EARLY_TOLERANCE_S before the duration the header declares
    (a truncated file), raises FootageError once the frames are consumed: a damaged file is
    reported, not half-indexed.
    """
    import av

    from relecture.footage import declared_duration

    stats = stats if stats is not None else DecodeStats()
    period = 1.0 / sample_fps if sample_fps > 0 else 0.0
    next_t = 0.0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = float(stream.time_base) if stream.time_base else 0.0
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
            stats.declared_s = declared_duration(container, stream, fps)
            t0 = None
            for index, (pts, picture) in enumerate(
                    display_ordered(_counted(container.decode(stream), stats))):
                t0 = pts if t0 is None else t0
                t = (pts - t0) * base
                stats.last_t = max(stats.last_t, t)
                if t + 1e-6 < next_t:
                    continue
                next_t = t + period
                stats.yielded += 1
                yield Frame(index=index, t=t, image=picture.to_ndarray(format="bgr24"),
                            is_keyframe=picture.key_frame)
    except av.error.FFmpegError as e:
        raise FootageError(f"{path}: decoding failed after {stats.decoded} pictures ({e})") from None
    if stats.decoded == 0:
        raise FootageError(f"{path}: no picture could be decoded (corrupt or unsupported codec)")
    if stats.declared_s and stats.last_t + ENDS_EARLY_TOLERANCE_S < stats.declared_s:
        raise FootageError(f"{path}: ends early: pictures stop at {stats.last_t:.1f} s of the "
                           f"{stats.declared_s:.1f} s its header declares (truncated or damaged)")
