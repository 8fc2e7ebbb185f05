#!/usr/bin/env python3
"""Render the bundled sample footage: synthetic CCTV clips of vehicles with French plates.

Everything in sample_footage/ is made here, by the project (no third-party pictures): a fixed
street scene per camera, drawn in perspective, and cars seen from behind as
they drive away from the camera, each with a SIV plate drawn with a TrueType font
(`relecture.synth.plates`, which also draws the rendered plate evaluation set). Rendering
is deterministic (fixed seeds, no clock); only the H.264 bytes may differ across x264 builds.

    python scripts/render_sample_footage.py [--out sample_footage]

writes the clips, `expected.json` (the ground truth the scenes were drawn from) and nothing
else; sample_footage/README.md describes the clips for people.

The scene and its drawing are `relecture.synth.street`; this script declares the clips.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from relecture.plate_grammar import normalise_plate
from relecture.synth.street import (FPS, HEIGHT, MIN_VIEW_WIDTH_PX, WIDTH, Clip, Scene, Vehicle,
                                    in_view_interval, write_clip)


CAM12 = Scene(camera="12", seed=12, vx=560, horizon=200, focal=1000, height=2.2, road=(-3.2, 3.6),
              centre_line=0.2, facade_right=6.0, facade_left=-6.4, facade_bgr=(150, 175, 196),
              facade2_bgr=(120, 130, 160), sky_top=(205, 170, 130), sky_bottom=(225, 215, 200))
CAM3 = Scene(camera="3", seed=3, vx=600, horizon=170, focal=1050, height=2.4, road=(-3.0, 3.8),
             centre_line=0.4, facade_right=6.4, facade_left=-6.0, facade_bgr=(170, 170, 165),
             facade2_bgr=(105, 120, 140), sky_top=(190, 180, 170), sky_bottom=(215, 212, 208))

CLIPS: tuple[Clip, ...] = (
    Clip("CAM12_20230130T140000.mp4", datetime(2023, 1, 30, 14, 0, 0), 10.0, CAM12, (
        Vehicle("car", "red", (40, 38, 190), "GH-482-KT", "75", depart_s=0.2),
        Vehicle("car", "white", (226, 228, 230), "ER-915-LB", "93", depart_s=3.4),
        Vehicle("car", "blue", (150, 80, 25), "DZ-307-MX", "92", depart_s=6.6),
    )),
    # The red car of camera 12 (GH-482-KT) passes camera 3 too, about 2 min 22 s after it
    # left camera 12 (14:00:00 -> 14:02:22): the sample's journey across cameras.
    Clip("CAM03_20230130T140215.mp4", datetime(2023, 1, 30, 14, 2, 15), 10.0, CAM3, (
        Vehicle("car", "black", (40, 40, 42), "FA-264-PN", "69", depart_s=0.2, lane=1.9),
        Vehicle("car", "yellow", (40, 195, 235), "BC-718-SV", "13", depart_s=3.6, lane=1.9),
        Vehicle("car", "red", (40, 38, 190), "GH-482-KT", "75", depart_s=7.0, lane=1.9),
    )),
    Clip("cam12/2023-01-30/14-05-00.mp4", datetime(2023, 1, 30, 14, 5, 0), 7.0, CAM12, (
        Vehicle("car", "grey", (150, 150, 146), "HL-053-RJ", "78", depart_s=0.2),
        Vehicle("car", "green", (60, 110, 30), "KM-641-TZ", "94", depart_s=3.4),
    )),
)


def expected(clips: tuple[Clip, ...] = CLIPS) -> dict:
    """The ground truth the clips are drawn from (written as expected.json)."""
    out = []
    for clip in clips:
        vehicles = []
        for v in clip.vehicles:
            interval = in_view_interval(clip, v)
            vehicles.append({
                "type": v.kind, "colour": v.colour, "plate": normalise_plate(v.plate),
                "plate_as_written": v.plate,
                "in_view_s": [round(interval[0], 2), round(interval[1], 2)] if interval else None,
            })
        out.append({"file": clip.path, "camera": clip.scene.camera,
                    "start": clip.start.isoformat(), "duration_s": clip.duration_s, "fps": FPS,
                    "width": WIDTH, "height": HEIGHT, "vehicles": vehicles})
    return {"generator": "scripts/render_sample_footage.py",
            "in_view": (f"seconds during which the vehicle is wholly inside the picture and its "
                        f"rear is at least {MIN_VIEW_WIDTH_PX} px wide"),
            "clips": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] /
                        "sample_footage")
    parser.add_argument("--only", help="render only the clip whose path contains this")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in CLIPS:
        if args.only and args.only not in clip.path:
            continue
        path = write_clip(clip, args.out)
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    (args.out / "expected.json").write_text(json.dumps(expected(), indent=2) + "\n",
                                            encoding="utf-8")


if __name__ == "__main__":
    main()
