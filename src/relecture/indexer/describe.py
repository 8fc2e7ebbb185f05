"""Turn a finished vehicle track and its best views into a described `Sighting`.

The describers (type, colour, plate, embedding) are passed in, each loaded once per
process by `pipeline.build_components`; this module only combines their answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from relecture.indexer.colour_views import ColourView
from relecture.indexer.direction import travel
from relecture.indexer.track import Track
from relecture.indexer.views import TrackView
from relecture.sightings import (
    ColourResult, PlateRead, PlateResult, Sighting, TypeResult,
)


class PlateCandidateLike(Protocol):
    text: str
    confidence: float
    box: tuple[float, float, float, float]
    source: str


class Embedder(Protocol):
    space: str

    def embed_images(self, crops: list[np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class Describer:
    """The per-track describers. `read_plates` is None when the site disables plate reading."""

    vehicle_type: Callable[[str, list[np.ndarray]], TypeResult]
    colour: Callable[[list[ColourView]], ColourResult]
    read_plates: Callable[[np.ndarray], list[PlateCandidateLike]] | None
    vote_plates: Callable[[list[PlateRead]], PlateResult]
    embedder: Embedder | None
    # Plate reading (0.1-1 CPU-s a view) runs on at most this many views, widest vehicle
    # first; it stops at a view with no plate-like text or with a read this sure, where a
    # further view rarely changes the vote (BENCHMARKS.md)...
    plate_views: int = 2
    plate_sure: float = 0.9
    # ...of vehicles at least this wide in pixels: a plate is about 30% of a car's width, and
    # below ~35 px of plate no OCR reads it.
    plate_min_vehicle_px: int = 120
    # The type classifier sees this many best views (the first is the one embedded: with one
    # view, type and embedding would share a pass, but type accuracy fell from 0.794 to 0.761
    # in `relecture eval passages`, BENCHMARKS.md).
    type_views: int = 3

    def describe(self, track: Track, views: list[TrackView],
                 frame_size: tuple[int, int] | None = None) -> Sighting:
        """Describe one vehicle track from its views (best first); with the recording's
        `frame_size` (width, height), also its direction of travel."""
        vehicles = [v.vehicle for v in views]
        legible = [v for v in views if v.vehicle.shape[1] >= self.plate_min_vehicle_px]
        legible.sort(key=lambda v: -v.vehicle.shape[1])  # stable: equal widths keep quality order
        reads = self._plate_reads(legible[: self.plate_views])
        best = views[0]
        embedding = None
        if self.embedder is not None:
            embedding = self.embedder.embed_images([vehicles[0]])[0]  # same array: one forward pass
        return Sighting(
            track_id=track.track_id,
            first_t=track.first_t,
            last_t=track.last_t,
            boxes=track.boxes,
            vehicle_type=self.vehicle_type(track.label, vehicles[: self.type_views]),
            colour=self.colour(colour_views(views)),
            plate=self.vote_plates(reads) if reads else PlateResult(text=None, confidence=0.0),
            best_t=best.t,
            thumbnail_jpeg=thumbnail(vehicles[0]),
            embedding=embedding,
            embedding_space=self.embedder.space if self.embedder is not None else None,
            travel=travel(track.boxes, *frame_size) if frame_size else None,
        )

    def _plate_reads(self, views: list[TrackView]) -> list[PlateRead]:
        if self.read_plates is None:
            return []
        reads: list[PlateRead] = []
        best_texts: list[str] = []
        for v in views:
            ox, oy = v.origin
            candidates = self.read_plates(v.crop)
            for c in candidates:
                x1, y1, x2, y2 = c.box
                reads.append(PlateRead(t=v.t, text=c.text, confidence=float(c.confidence),
                                       box=(x1 + ox, y1 + oy, x2 + ox, y2 + oy), source=c.source))
            if not candidates or candidates[0].confidence >= self.plate_sure:
                # Nothing plate-like on the widest view (plate hidden, turned away or too
                # small), or a sure read: another view would rarely change the vote.
                break
            best_texts.append(candidates[0].text)
            if len(best_texts) >= 2 and best_texts[-1] == best_texts[-2]:
                break  # two views agree: a third read would not change the vote
        return reads


def colour_views(views: list[TrackView]) -> list[ColourView]:
    """The views as the colour namer takes them: the whole crop, margin included (its road
    is the namer's grey reference), the vehicle box in it, and the view's quality (size,
    detector confidence, not cut by the frame edge) as its weight."""
    return [ColourView(v.crop, v.box_in_crop, v.quality) for v in views]


def thumbnail(crop: np.ndarray, max_side: int = 256) -> bytes:
    """JPEG bytes of the crop, at most `max_side` pixels on its longer side."""
    import cv2

    h, w = crop.shape[:2]
    scale = min(1.0, max_side / max(h, w, 1))
    if scale < 1.0:
        crop = cv2.resize(crop, (max(1, int(w * scale)), max(1, int(h * scale))),
                          interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode thumbnail")
    return buf.tobytes()
