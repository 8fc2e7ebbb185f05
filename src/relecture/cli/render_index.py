"""Rich rendering of an index job: progress bars while it runs, a summary table at the end."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)
from rich.table import Table

from relecture.indexer.outcome import FileOutcome
from relecture.indexer.report import IndexReport
from relecture.indexer.task import FileTask


class LiveProgress:
    """A Rich Progress shown while the job runs (a context manager around its bars)."""

    def __init__(self, progress: Progress):
        self.progress = progress

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()


class IndexProgressBars(LiveProgress):
    """Two bars: files done, and seconds of footage done (with real-time factor and ETA)."""

    def __init__(self, console: Console):
        super().__init__(Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=False,
        ))
        self._files = None
        self._video = None
        self._done_s: dict[str, float] = {}
        self._t0 = time.monotonic()

    def planned(self, tasks: list[FileTask]) -> None:
        self._files = self.progress.add_task("files", total=len(tasks), rate="")
        total = round(sum(t.duration_s for t in tasks))
        self._video = self.progress.add_task("footage (s)", total=max(total, 1), rate="")
        self._t0 = time.monotonic()

    def advanced(self, task: FileTask, video_s: float) -> None:
        if self._video is None:
            return
        # the header's duration, when it could be read, caps what one file adds
        self._done_s[str(task.file.path)] = min(video_s, task.duration_s or video_s)
        done = sum(self._done_s.values())
        rtf = done / max(time.monotonic() - self._t0, 1e-6)
        self.progress.update(self._video, completed=round(done), rate=f"{rtf:5.1f}x real time")

    def finished(self, outcome: FileOutcome) -> None:
        if outcome.status == "failed":
            self.progress.console.print(f"[red]failed:[/] {outcome.message}", highlight=False)
        if self._files is not None and outcome.status != "skipped":
            self.progress.advance(self._files)


def print_index_report(console: Console, report: IndexReport) -> None:
    """Per-file table and totals."""
    for o in report.recovered:
        console.print(f"recovered {o.path}: {o.message}", soft_wrap=True, highlight=False)
    table = Table(title=f"index job {report.job_id[:8]}"
                  + (f" for requisition {report.requisition}" if report.requisition else ""))
    for col in ("file", "camera", "status", "footage", "sightings", "plates", "persons"):
        table.add_column(col, overflow="fold")
    style = {"indexed": "green", "skipped": "dim", "failed": "red"}
    for o in report.outcomes:
        table.add_row(
            o.path.name, o.camera or "", f"[{style[o.status]}]{o.status}[/]",
            f"{o.duration_s:.1f} s" if o.duration_s else "", str(o.sightings or ""),
            str(o.plates or ""), str(o.persons or ""),
        )
    console.print(table)
    # Reasons go below the table, one unwrapped line each, so they can be read and grepped.
    for o in report.outcomes:
        if o.message:
            console.print(f"[{style[o.status]}]{o.status}[/] {o.path}: {o.message}",
                          soft_wrap=True, highlight=False)
    rtf = report.video_s / report.wall_s if report.wall_s else 0.0
    console.print(
        f"{report.count('indexed')} indexed, {report.count('skipped')} skipped, "
        f"{report.count('failed')} failed; {report.video_s:.1f} s of footage in "
        f"{report.wall_s:.1f} s ({rtf:.1f}x real time, {report.cpu_s:.1f} CPU-s)"
    )
    if report.vectors:
        console.print(report.vectors, soft_wrap=True, highlight=False)
    print_policy(console, report)


def print_policy(console: Console, report: IndexReport) -> None:
    """Say when the site policy kept this job from reading plates."""
    if "plate" not in report.extractors:
        kind = "a requisition-scoped" if report.requisition else "the standing"
        console.print(f"site policy: plates are not read by {kind} index", highlight=False)
