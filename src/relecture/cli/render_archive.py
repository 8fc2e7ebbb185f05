"""Rich rendering of a nightly archive job: a files bar while it runs, the job report after.

A night covers thousands of files, so the report lists only the files that were indexed or
failed; skipped files (already indexed, still being written, past retention...) are counted
by reason.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from relecture.indexer.outcome import FileOutcome
from relecture.indexer.report import IndexReport
from relecture.indexer.task import FileTask
from relecture.cli.render_index import LiveProgress, print_policy


class ArchiveProgressBar(LiveProgress):
    """One bar: files done out of the files to index."""

    def __init__(self, console: Console):
        super().__init__(Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console))
        self._task = None

    def planned(self, tasks: list[FileTask]) -> None:
        self._task = self.progress.add_task("files", total=max(len(tasks), 1))

    def advanced(self, task: FileTask, video_s: float) -> None:
        """Files only: a night's footage total is not known up front."""

    def finished(self, outcome: FileOutcome) -> None:
        if outcome.status == "failed":
            self.progress.console.print(f"[red]failed:[/] {outcome.path.name}: {outcome.message}",
                                        highlight=False, markup=True)
        if self._task is not None and outcome.status != "skipped":
            self.progress.advance(self._task)


def print_archive_report(console: Console, report: IndexReport, max_rows: int = 200) -> None:
    """Indexed and failed files, skipped counts by reason, totals."""
    rows = report.recovered + [o for o in report.outcomes if o.status != "skipped"]
    if rows:
        table = Table(title=f"index job {report.job_id[:8]} ({report.root})")
        for col in ("file", "camera", "status", "footage", "sightings", "plates", "note"):
            table.add_column(col, overflow="fold")
        for o in rows[:max_rows]:
            colour = "green" if o.status == "indexed" else "red"
            table.add_row(o.path.name, o.camera or "", f"[{colour}]{o.status}[/]",
                          f"{o.duration_s:.1f} s" if o.duration_s else "",
                          str(o.sightings or ""), str(o.plates or ""), o.message)
        console.print(table)
        if len(rows) > max_rows:
            console.print(f"... and {len(rows) - max_rows} more (see --json)")
    d = report.as_dict()
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(d["skipped"].items()))
    console.print(
        f"{d['files']['indexed']} indexed, {d['files']['skipped']} skipped"
        f"{f' ({skipped})' if skipped else ''}, {d['files']['failed']} failed; "
        f"{report.camera_hours:.2f} camera-hours in {report.wall_s:.1f} s "
        f"({report.realtime_factor:.1f}x real time, {report.cpu_s:.1f} CPU-s, "
        f"{report.executor} x{report.workers})", highlight=False)
    if report.peak_rss_kb:
        peak = max(report.peak_rss_kb.values()) / 1024
        console.print(f"peak memory per worker: {peak:.0f} MiB "
                      f"({len(report.peak_rss_kb)} worker(s))", highlight=False)
    print_policy(console, report)
