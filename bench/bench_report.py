"""Time the magistrate's report as PDF: report.html of a package laid out by WeasyPrint.

    python bench/bench_report.py demo-out/data/report.html [--runs 5]

Prints the median and slowest of the runs, the pages and sizes, and the PDF's time per page
beside its time per hit, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from relecture.requisitions.report_pdf import render_report_pdf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path, help="a package's data/report.html")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    import pypdfium2

    html = args.report.read_text(encoding="utf-8")
    evidence = json.loads((args.report.parent / "evidence.json").read_text(encoding="utf-8"))
    times, pdf = [], b""
    for _ in range(args.runs):
        t0 = time.perf_counter()
        pdf = render_report_pdf(html)
        times.append(time.perf_counter() - t0)
    pages = len(pypdfium2.PdfDocument(pdf))
    p50, worst = statistics.median(times), max(times)
    hits = max(len(evidence["hits"]), 1)
    print(f"report.html {len(html) / 1024:.1f} kB -> report.pdf {len(pdf) / 1024:.1f} kB, "
          f"{pages} pages, {len(evidence['hits'])} hit(s)")
    print(f"PDF in p50 {p50:.2f} s, slowest {worst:.2f} s over {args.runs} runs; "
          f"{p50 / pages:.2f} s a page, {p50 / hits:.2f} s a hit")


if __name__ == "__main__":
    main()
