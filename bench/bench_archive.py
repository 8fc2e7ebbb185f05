"""Nightly archive indexing: throughput with 1 and 2 workers, measured in the same run.

Builds a small archive from ../shared/data/videos (symlinks named like a recorder's tree,
`camN/YYYY-MM-DD/HH-MM-SS.ext`, dated yesterday so the retention allows them; `--repeat K`
adds K-1 copies of each video, each with a distinct trailer so it is its own recording),
then runs the whole nightly job (`run_job(Archive(root))`: discovery, tasks, shards, loader,
audit) into a fresh catalog once per worker count. Prints per run: files, footage seconds,
wall seconds, real-time factor (footage seconds per wall second, model loading included),
peak RSS per worker; then the scaling ratio (real-time factor with N workers / with 1).

Usage: python bench/bench_archive.py [--data ../shared/data/videos] [--workers 1 2]
       [--detector nanodet-int8] [--sample-fps 5] [--repeat 1] [--limit N] [--json out.json]
Skips (exit 0, with a reason) when the videos are absent.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from relecture.indexer.detect import DEFAULT

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "videos"
SUFFIXES = {".mp4", ".avi", ".mkv", ".mov"}


def build_archive(videos: list[Path], root: Path, repeat: int) -> None:
    """One camera per video; copy k > 0 gets a trailer so its sha256 differs."""
    day = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    for cam, src in enumerate(videos, start=1):
        for k in range(repeat):
            dest = root / f"cam{cam}" / day / f"{8 + k:02d}-00-00{src.suffix}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            if k == 0:
                dest.symlink_to(src.resolve())
            else:
                shutil.copyfile(src, dest)
                with open(dest, "ab") as f:
                    f.write(b"\0" * (16 * k))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--detector", default=DEFAULT,
                    help=f"one of indexer.detect.KINDS [default: {DEFAULT}, as `relecture index`]")
    ap.add_argument("--sample-fps", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=1, help="copies of each video")
    ap.add_argument("--limit", type=int, default=0, help="only the first N videos (by name)")
    ap.add_argument("--ray", default=None, help="also pass --ray (e.g. local) to every run")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    videos = sorted(p for p in args.data.iterdir() if p.suffix.lower() in SUFFIXES) \
        if args.data.is_dir() else []
    videos = videos[: args.limit] if args.limit > 0 else videos
    if not videos:
        print(f"skipped: no videos at {args.data}", file=sys.stderr)
        return 0

    from relecture.indexer.job import Archive, JobOptions, run_job
    from relecture.indexer.pipeline import IndexConfig
    from relecture.settings import Home, current_user

    config = IndexConfig(sample_fps=args.sample_fps, detector=args.detector)
    work = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    runs = []
    try:
        build_archive(videos, work / "nvr", args.repeat)
        for n in args.workers:
            report = run_job(Archive(work / "nvr"), Home(work / f"home-{n}"), current_user(),
                             JobOptions(config=config, workers=n, ray_address=args.ray,
                                        settle_s=0, recheck_s=0))
            d = report.as_dict()
            row = {
                "workers": n, "executor": report.executor, "files": d["files"],
                "video_s": round(report.video_s, 1), "wall_s": round(report.wall_s, 1),
                "rtf": round(report.realtime_factor, 2),
                "rtf_per_worker": round(report.realtime_factor / n, 2),
                "cpu_s": round(report.cpu_s, 1), "sightings": d["sightings"],
                "peak_rss_mb_per_worker": sorted(d["peak_rss_mb"].values()),
                "failures": d["failures"],
            }
            runs.append(row)
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = runs[0]["rtf"] or 1e-9
    summary = {
        "videos": len(videos), "repeat": args.repeat, "detector": args.detector,
        "sample_fps": args.sample_fps, "cpus": os.cpu_count(),
        "scaling": {f"{r['workers']}/{runs[0]['workers']}": round(r["rtf"] / base, 2)
                    for r in runs[1:]},
        "peak_rss_mb_max": max(max(r["peak_rss_mb_per_worker"] or [0]) for r in runs),
    }
    print("TOTAL", json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "total": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
