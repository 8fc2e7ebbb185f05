"""Measure the activation ranges the int8 NanoDet is built with (`relecture.models.quantize`).

Reads every 10th frame of the project's own rendered sample footage (sample_footage/*.mp4,
made by scripts/render_sample_footage.py; never ../shared/data), prepares the pinned float
model as the int8 build does (the -inf pad folded, ONNX Runtime's pre-processing), runs it on
those frames and writes each tensor's lowest and highest value to
src/relecture/models/weights/nanodet-g-int8-ranges.json. Installing reads that file and runs
no calibration, so rerun this only to change the calibration, then pin the new int8 file's
sha256 in models/registry.py.

Usage: PYTHONPATH=src python scripts/calibrate_nanodet.py [--every 10] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import av

from relecture.indexer.detect_nanodet import NanoDetConfig, input_size, preprocess
from relecture.models.quantize import RANGES, measure_ranges, prepared
from relecture.models.registry import require

REPO = Path(__file__).resolve().parents[1]


def rendered_frames(every: int) -> tuple[list, list[str]]:
    """Every `every`-th frame of each sample clip (BGR), and the clips' names."""
    clips = sorted((REPO / "sample_footage").rglob("*.mp4"))
    frames = []
    for clip in clips:
        with av.open(str(clip)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i % every == 0:
                    frames.append(frame.to_ndarray(format="bgr24"))
    return frames, [str(c.relative_to(REPO)) for c in clips]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--out", type=Path, default=RANGES)
    args = ap.parse_args()
    frames, clips = rendered_frames(args.every)
    config = NanoDetConfig()
    blobs = [preprocess(f, input_size(f.shape[1], f.shape[0], config.long_side, config.max_upscale))
             for f in frames]
    (fp32,) = require("nanodet-g")
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        ranges = measure_ranges(prepared(fp32, Path(tmp)), blobs)
    args.out.write_text(json.dumps({
        "about": "activation ranges of the int8 NanoDet-g (MinMax), made by "
                 "scripts/calibrate_nanodet.py on the project's rendered sample footage",
        "frames": f"every {args.every}th frame of {', '.join(clips)} ({len(frames)} frames)",
        "ranges": ranges,
    }, indent=1) + "\n")
    print(f"{len(ranges)} tensors from {len(frames)} frames -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
