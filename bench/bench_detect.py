"""Detector cost per frame, every named detector side by side in one run.

Each detector (`indexer.detect.KINDS`, or those given) runs on the same frames, in turns
(frame by frame, so a burst of load on this shared machine hits them alike), with one
compute thread. Prints the median and p90 milliseconds per frame (backend and merging
together) and each detector's cost relative to the first one.

Usage: python bench/bench_detect.py [--data ../shared/data/vehicles_voc] [--kinds nanodet,fast]
       [--frames 40] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "vehicles_voc"


def main() -> int:
    import cv2

    from relecture.indexer.archive import limit_threads
    from relecture.indexer.detect import KINDS, load_detector

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a folder of images")
    ap.add_argument("--kinds", default="nanodet,fast,tiled")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    images = sorted(p for p in args.data.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    if not images:
        print(f"skipped: no images under {args.data}", file=sys.stderr)
        return 0
    kinds = [k for k in args.kinds.split(",") if k in KINDS]
    limit_threads(args.threads)
    detectors = {k: load_detector(k, args.threads) for k in kinds}
    frames = [cv2.imread(str(p)) for p in images[: args.frames]]
    for d in detectors.values():  # sessions are built on first use: keep that out
        d.detect(frames[0])
    ms: dict[str, list[float]] = {k: [] for k in kinds}
    for frame in frames:
        for k, d in detectors.items():
            start = time.perf_counter()
            d.detect(frame)
            ms[k].append(1000 * (time.perf_counter() - start))
    first = float(np.median(ms[kinds[0]]))
    rows = [{"detector": k, "frames": len(v), "p50_ms": round(float(np.median(v)), 1),
             "p90_ms": round(float(np.percentile(v, 90)), 1),
             "cost_vs_first": round(float(np.median(v)) / first, 2)} for k, v in ms.items()]
    for r in rows:
        print(json.dumps(r))
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "detectors": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
