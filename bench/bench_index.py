"""Indexing speed against a dense baseline, measured side by side in one run.

For each video in ../shared/data/videos: the normal pipeline (`indexer.schedule`: the fixed
cadence, or with `--sparse` sparse detection per track), a dense baseline
(the same detector on every sampled frame at 5 fps, no gating) and the former dense
baseline (the 2018 SSD, `--former`, on every sampled frame), all with the real models and
the same describers. Prints per video and in total:
- real-time factor per CPU core: seconds of footage per CPU-second (process CPU time, all
  threads: decode, detector, describers),
- CPU ratio baseline / gated,
- the share of each baseline's vehicle tracks that the gated pipeline also finds (a
  baseline track is found when a gated track overlaps it, IoU >= 0.3, at one of the
  baseline's moments: the gated track's box there interpolated between its own boxes, or
  its nearest box within 0.5 s), and the share of the former baseline's tracks that the
  dense baseline finds (what the detector allows any schedule).

Usage: python bench/bench_index.py [--data ../shared/data/videos] [--videos a.mp4,b.avi]
       [--threads 1] [--detector nanodet-int8|nanodet|fast|tiled] [--former fast|none] [--sparse]
       [--detect-fps 3] [--refresh-s 1.0] [--recheck-s 0.3] [--no-regions] [--no-confirm]
       [--json out.json]

`--json` writes `rtf_per_core`, `track_share` (against the dense baseline) and
`track_share_former` (against the former one), all videos together, then the per-video rows.

Compute libraries are limited to `--threads` threads (default 1, as a nightly worker per
core runs), so CPU time is not inflated by threads waiting on each other.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from relecture.detections import box_iou
from relecture.footage import SourceHints, probe
from relecture.indexer.task import limit_threads
from relecture.indexer.decode import sample_frames
from relecture.indexer.pipeline import IndexConfig, build_components, index_frames
from relecture.indexer.schedule import ScheduleConfig

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "videos"


def box_at(sighting, t: float, tolerance: float = 0.5):
    """Where the sighting places its vehicle at time t: between two of its boxes, their
    linear interpolation (a schedule that did not look at t still tracked the vehicle
    through it); outside them, the nearest box within `tolerance` s (else None)."""
    boxes = sighting.boxes
    after = next((i for i, b in enumerate(boxes) if b.t >= t), None)
    if after is not None and after > 0 and boxes[after].t > t:
        a, b = boxes[after - 1], boxes[after]
        w = (t - a.t) / (b.t - a.t)
        return tuple((1 - w) * p + w * q for p, q in zip(a.xyxy, b.xyxy))
    best = min(boxes, key=lambda b: abs(b.t - t))
    return best.xyxy if abs(best.t - t) <= tolerance else None


def found(base, candidates) -> bool:
    """Is baseline sighting `base` also seen by one of `candidates` (IoU >= 0.3 at one of
    the baseline's moments)?"""
    for c in candidates:
        if c.last_t < base.first_t - 0.5 or c.first_t > base.last_t + 0.5:
            continue
        for b in base.boxes:
            other = box_at(c, b.t)
            if other is not None and box_iou([b.xyxy], [other])[0, 0] >= 0.3:
                return True
    return False


def run(path: Path, config: IndexConfig, components):
    rec = probe(path, SourceHints(camera="bench", start=datetime(2000, 1, 1), tz="UTC",
                                   clock_offset_s=0.0))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = index_frames(sample_frames(path, config.sample_fps), *components, config)
    return rec, result, time.process_time() - cpu0, time.perf_counter() - wall0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--videos", help="comma-separated file names (default: every video)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--detector", default=IndexConfig().detector)
    ap.add_argument("--sparse", action="store_true",
                    help="sparse detection per track instead of the fixed cadence")
    ap.add_argument("--detect-fps", type=float, default=ScheduleConfig().detect_fps,
                    help="the fixed cadence's most detector passes a second")
    ap.add_argument("--refresh-s", type=float, default=ScheduleConfig().refresh_s,
                    help="a live vehicle track is detected again at least this often")
    ap.add_argument("--recheck-s", type=float, default=ScheduleConfig().recheck_s,
                    help="unexplained motion is looked at again after this long")
    ap.add_argument("--no-regions", action="store_true",
                    help="the detector always sees the whole frame (ScheduleConfig.regions)")
    ap.add_argument("--no-confirm", action="store_true",
                    help="no second look at new unsure tracks (ScheduleConfig.confirm_new_tracks)")
    ap.add_argument("--former", default="fast",
                    help="detector of the former dense baseline ('none' skips it)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"skipped: no videos at {args.data}", file=sys.stderr)
        return 0
    limit_threads(args.threads)
    schedule = ScheduleConfig(sparse=args.sparse, detect_fps=args.detect_fps,
                              refresh_s=args.refresh_s, recheck_s=args.recheck_s,
                              regions=not args.no_regions, confirm_new_tracks=not args.no_confirm)
    gated_cfg = IndexConfig(detector=args.detector, schedule=schedule)
    dense_cfg = IndexConfig(detector=args.detector, dense=True)
    components = build_components(gated_cfg, args.threads)
    former_cfg = former = None
    if args.former != "none":
        former_cfg = IndexConfig(detector=args.former, dense=True)
        former = build_components(former_cfg, args.threads)
    videos = sorted(args.data.iterdir())
    if args.videos:
        videos = [args.data / name for name in args.videos.split(",")]
    # Warm-up: models load lazily on first use; keep loading out of the measured CPU time.
    index_frames(itertools.islice(sample_frames(videos[0], 5.0), 15), *components, dense_cfg)
    # ...the plate models too (those frames' small vehicles may need none): a nightly
    # worker loads them once, not once per recording
    if components[1].read_plates is not None:
        components[1].read_plates(np.full((160, 240, 3), 90, np.uint8))
    if former:
        index_frames(itertools.islice(sample_frames(videos[0], 5.0), 5), *former, former_cfg)
    rows = []
    for path in videos:
        rec, fast, fast_cpu, fast_wall = run(path, gated_cfg, components)
        _, dense, dense_cpu, _ = run(path, dense_cfg, components)
        n_base = len(dense.sightings)
        n_found = sum(found(b, fast.sightings) for b in dense.sightings)
        old = run(path, former_cfg, former)[1].sightings if former else []
        rows.append({
            "video": path.name, "seconds": round(rec.duration_s, 1),
            "gated_cpu_s": round(fast_cpu, 2), "dense_cpu_s": round(dense_cpu, 2),
            "rtf_per_core": round(rec.duration_s / fast_cpu, 1),
            "dense_rtf_per_core": round(rec.duration_s / dense_cpu, 1),
            "cpu_ratio": round(dense_cpu / fast_cpu, 2),
            "detector_frames": [fast.frames_detected, dense.frames_detected],
            "baseline_tracks": n_base, "found": n_found,
            "recall_vs_baseline": round(n_found / n_base, 3) if n_base else None,
            "former_tracks": len(old), "found_former": sum(found(b, fast.sightings) for b in old),
            # the schedule's ceiling: what the new detector finds on every sampled frame
            "dense_found_former": sum(found(b, dense.sightings) for b in old),
        })
        print(json.dumps(rows[-1]), flush=True)
    secs = sum(r["seconds"] for r in rows)
    fcpu = sum(r["gated_cpu_s"] for r in rows)
    dcpu = sum(r["dense_cpu_s"] for r in rows)
    nb = sum(r["baseline_tracks"] for r in rows)
    nf = sum(r["found"] for r in rows)
    no = sum(r["former_tracks"] for r in rows)
    nfo = sum(r["found_former"] for r in rows)
    ndo = sum(r["dense_found_former"] for r in rows)
    total = {"video_s": round(secs, 1), "rtf_per_core": round(secs / fcpu, 1),
             "dense_rtf_per_core": round(secs / dcpu, 1), "cpu_ratio": round(dcpu / fcpu, 2),
             "baseline_tracks": nb, "found": nf, "recall_vs_baseline": round(nf / max(nb, 1), 3),
             "former_tracks": no, "found_former": nfo,
             "former_share": round(nfo / no, 3) if no else None,
             "dense_former_share": round(ndo / no, 3) if no else None, "former": args.former,
             "threads": args.threads, "detector": args.detector,
             "schedule": dataclasses.asdict(schedule)}
    print("TOTAL", json.dumps(total))
    if args.json:
        args.json.write_text(json.dumps({
            "rtf_per_core": total["rtf_per_core"], "track_share": total["recall_vs_baseline"],
            "track_share_former": total["former_share"], "total": total, "videos": rows,
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
