"""Small fakes and builders shared by tests: frames with moving boxes, a box-finding detector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relecture.detections import Detections, Frame
from relecture.indexer.describe import Describer
from relecture.sightings import ColourResult, PlateResult, TypeResult


def moving_square_frames(n: int = 50, fps: float = 10.0, size=(120, 320), colour=(0, 0, 255)):
    """Frames of a grey scene where one coloured 40x30 box crosses from left to right."""
    h, w = size
    for i in range(n):
        img = np.full((h, w, 3), 90, np.uint8)
        x = int(10 + i * (w - 60) / max(n - 1, 1))
        img[40:70, x:x + 40] = colour
        yield Frame(index=i, t=i / fps, image=img)


class ColourBlobDetector:
    """Finds non-grey pixels and calls their bounding box a car (a stand-in for the detector)."""

    calls = 0

    def detect(self, image, frame_shape=None):
        self.calls += 1
        mask = np.any(image != 90, axis=2)
        if not mask.any():
            return Detections()
        ys, xs = np.nonzero(mask)
        return Detections.build([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], [0.9], ["car"])


@dataclass(frozen=True)
class FakePlate:
    text: str
    confidence: float
    box: tuple[float, float, float, float]
    source: str = "fake"


def fake_describer(plate: str | None = "AB123CD") -> Describer:
    """Describer whose answers come from the crop itself (colour) or are fixed (plate)."""

    def colour(views):
        b, g, r = views[0].vehicle.reshape(-1, 3).mean(axis=0)
        return ColourResult("red" if r > b else "blue", 0.9)

    def vote(reads):
        return PlateResult(reads[0].text, reads[0].confidence, tuple(reads))

    return Describer(
        vehicle_type=lambda label, crops: TypeResult(label, 0.8),
        colour=colour,
        read_plates=(lambda crop: [FakePlate(plate, 0.95, (1, 2, 11, 7))]) if plate else None,
        vote_plates=vote,
        embedder=None,
        plate_min_vehicle_px=0,  # the drawn squares are small; every view is read
    )


def write_clip(path, n: int = 30, fps: int = 10, size=(120, 320), codec: str = "libx264",
               faststart: bool = False):
    """Encode `moving_square_frames` into a real video file with PyAV (a valid small clip).

    `faststart`: the MP4 index (moov) goes before the pictures, as recorders write it, so a
    truncated copy still opens and declares the full duration."""
    import av

    h, w = size
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for frame in moving_square_frames(n=n, fps=fps, size=size):
            picture = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def older_catalog(home, colour: str, colour_alt: str | None = None) -> None:
    """A catalog as written before the MIGRATIONS columns (colour_p, body_p, travel): the
    base schema and one car of camera 1 seen 2023-01-30 13:00:01-03 UTC."""
    import duckdb

    from relecture.catalog import SCHEMA

    home.ensure()
    db = duckdb.connect(str(home.catalog_db))
    db.execute(SCHEMA)
    db.execute("INSERT INTO recordings (recording_id, camera, tz) VALUES ('old', '1', 'UTC')")
    db.execute("INSERT INTO sightings (recording_id, camera, first_utc, last_utc, vehicle_type, "
               "colour, colour_alt) VALUES ('old', '1', TIMESTAMP '2023-01-30 13:00:01', "
               "TIMESTAMP '2023-01-30 13:00:03', 'car', ?, ?)", [colour, colour_alt])
    db.close()
