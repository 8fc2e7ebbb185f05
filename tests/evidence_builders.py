"""A tiny indexed recording and an evidence package built from it, for the export tests.

The clip (6 s, 10 fps, keyframe every second, B-frames) shows: the subject car (red, moving,
with a textured plate), another car parked with a textured plate, and a textured standing
person. Textures make blurring measurable: a blurred region loses its contrast.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np

from relecture.catalog import Catalog
from relecture.footage import SourceHints, probe
from relecture.settings import Home
from relecture.sightings import (ColourResult, PersonTrack, PlateRead, PlateResult, Sighting,
                                 TrackBox, TypeResult)

FPS, FRAMES, SIZE = 10, 60, (240, 320)
PERSON = (20, 120, 60, 220)  # xyxy of the standing person
PARKED = (200, 150, 280, 200)  # the other (parked) car
PARKED_PLATE = (220, 184, 260, 196)
START = datetime(2023, 1, 30, 14, 0, 0)  # camera clock
OFFSET_S = 2.5  # camera clock ahead of true time
SUBJECT_PLATE = "GH482KT"


def subject_box(t: float) -> tuple[int, int, int, int]:
    x = int(10 + t * 40)
    return (x, 40, x + 48, 76)


def _checker(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.where(((yy // 3) + (xx // 3)) % 2 == 0, 250, 10).astype(np.uint8)[..., None]


def frame(i: int) -> np.ndarray:
    img = np.full((*SIZE, 3), 90, np.uint8)
    x1, y1, x2, y2 = PERSON
    img[y1:y2, x1:x2] = _checker(y2 - y1, x2 - x1)
    x1, y1, x2, y2 = PARKED
    img[y1:y2, x1:x2] = (200, 60, 30)
    x1, y1, x2, y2 = PARKED_PLATE
    img[y1:y2, x1:x2] = _checker(y2 - y1, x2 - x1)
    x1, y1, x2, y2 = subject_box(i / FPS)
    img[y1:y2, x1:x2] = (30, 30, 220)
    img[y2 - 12:y2 - 2, x1 + 8:x2 - 8] = _checker(10, x2 - x1 - 16)
    return img


def write_gop_clip(path: Path) -> Path:
    """H.264 with a keyframe every second and B-frames, so cuts start mid-file."""
    import av

    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        s.codec_context.gop_size = FPS
        s.options = {"preset": "veryfast", "crf": "18",
                     "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=2"}
        for i in range(FRAMES):
            for p in s.encode(av.VideoFrame.from_ndarray(frame(i), format="bgr24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _sighting(track_id, first_t, last_t, boxes, plate, plate_box, colour, read_t) -> Sighting:
    reads = (PlateRead(read_t, plate, 0.93, plate_box, "test"),)
    return Sighting(
        track_id=track_id, first_t=first_t, last_t=last_t,
        boxes=tuple(TrackBox(t, b, 0.9) for t, b in boxes),
        vehicle_type=TypeResult("car", 0.88), colour=ColourResult(colour, 0.8),
        plate=PlateResult(plate, 0.93, reads), best_t=read_t, thumbnail_jpeg=b"\xff\xd8jpeg",
    )


def indexed_recording(root: Path) -> tuple[Home, Path, int, int]:
    """Home with one catalogued clip; returns (home, clip, subject id, parked car id)."""
    clip = write_gop_clip(root / "CAM12_20230130T140000.mp4")
    rec = probe(clip, SourceHints(camera="12", start=START, tz="Europe/Paris",
                                  clock_offset_s=OFFSET_S))
    times = [i / FPS for i in range(25, 36)]
    subject = _sighting(1, 2.5, 3.5, [(t, subject_box(t)) for t in times], SUBJECT_PLATE,
                        (subject_box(3.0)[0] + 8, 64, subject_box(3.0)[2] - 8, 74), "red", 3.0)
    parked = _sighting(2, 0.0, 5.9, [(0.0, PARKED), (5.9, PARKED)], "ER915LB", PARKED_PLATE,
                       "blue", 1.0)
    person = PersonTrack(1, (TrackBox(0.0, PERSON, 0.9), TrackBox(5.9, PERSON, 0.9)))
    home = Home(root / "home")
    with Catalog(home) as cat:
        ids = cat.add_recording(rec, [subject, parked], [person], "job", FRAMES, FRAMES)
    return home, clip, ids[0], ids[1]


def legal():
    from relecture.requisitions.export import LegalBasis

    return LegalBasis(reference="PV 2023/000123", kind="réquisition judiciaire",
                      magistrate="Mme A. Martin, procureure", officer="OPJ B. Durand",
                      reason="vol avec violence, 30/01/2023", scope={"cameras": ["12"],
                      "from": "2023-01-30T13:55:00", "to": "2023-01-30T14:10:00"})


AUDIT = [{"seq": 7, "action": "search", "actor": "test-operator", "entry_hash": "ab" * 32},
         {"seq": 8, "action": "export", "actor": "test-operator", "entry_hash": "cd" * 32}]
CHAIN_HEAD = {"seq": 8, "entry_hash": "cd" * 32}
QUERIES = ["red car plate GH*", "colour:red time:14:00-14:05"]


def build_package(root: Path, blur: bool = True):
    """(export result, signing key, home, clip, subject id, parked id) in `root`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from relecture.requisitions.export import export_package

    home, clip, sid, other = indexed_recording(root)
    key = Ed25519PrivateKey.generate()
    with Catalog(home, read_only=True) as cat:
        result = export_package(cat, [sid], root / "package", legal(), "test-operator", key,
                                AUDIT, CHAIN_HEAD, queries={sid: QUERIES}, blur=blur,
                                margin_s=1.0)
    return result, key, home, clip, sid, other
