"""The `relecture` command: thin typer commands over the library.

Each command parses its options, calls one library function and renders the result.
Errors are `RelectureError`s, turned into a one-line message and an exit code by `_run`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands import register
from relecture.cli.commands.common import (  # noqa: F401
    HomeOption, RequisitionOption, _home, _run, err, out,
)
from relecture.settings import current_user
from relecture.times import DEFAULT_TZ

app = typer.Typer(
    help="relecture: search recorded CCTV for vehicles (type, colour, plate), per requisition.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,  # tracebacks with locals would print plates and paths
)


@app.callback()
def _main() -> None:
    """Index recorded footage, answer requisition queries, export evidence packages.

    Searches, views and exports happen under an open requisition, inside its cameras and
    time ranges, and are written to a hash-chained, signed audit log.

    A session: `relecture requisition open ...`, `relecture search "..." -r REF`,
    `relecture show ID -r REF`, `relecture journey ID -r REF` (the same vehicle on the
    other cameras), `relecture export -r REF --hits ID --out DIR`,
    `relecture verify DIR`. Nightly: `relecture purge`.

    Exit codes: 0 ok, 1 unexpected failure, 2 bad input or usage, 3 some files failed,
    4 integrity check failed, 5 access refused, 6 a model is not installed.
    """


@app.command("index")
def index_cmd(
    paths: Optional[list[Path]] = typer.Argument(
        None, help="Video files or directory trees (mp4, avi, mkv, mov)."),
    archive: Optional[Path] = typer.Option(
        None, "--archive", file_okay=False,
        help="Nightly mode: index what is new under this archive root, per the site policy."),
    ray: Optional[str] = typer.Option(
        None, "--ray", help="With --archive: run the tasks on Ray (`auto`, `HOST:PORT`, or "
        "`local`); HOME and the archive must be the same paths on every node."),
    settle: float = typer.Option(
        120.0, "--settle", min=0, help="Seconds since its last change before a file counts as "
        "finished (newer or growing files are skipped until a later run); 0: the files are "
        "known to be complete."),
    as_json: bool = typer.Option(False, "--json", help="With --archive: print the report as JSON."),
    camera: Optional[str] = typer.Option(
        None, help="Camera id (1-32 of A-Z 0-9 _ -), overriding names and sidecars."),
    start: Optional[str] = typer.Option(
        None, help="Recording start on the camera clock, ISO 8601 (e.g. 2023-01-30T14:00:00)."),
    tz: Optional[str] = typer.Option(None, help=f"Camera time zone [default: {DEFAULT_TZ}]."),
    clock_offset: Optional[float] = typer.Option(
        None, "--clock-offset", help="Seconds the camera clock is ahead of true time."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes to index with."),
    sample_fps: float = typer.Option(5.0, "--sample-fps", min=0.5, max=30,
                                     help="Frames per second the motion gate looks at."),
    no_plates: bool = typer.Option(False, "--no-plates", help="Do not read licence plates."),
    detector: Optional[str] = typer.Option(
        None, "--detector", help="nanodet-int8 (NanoDet-g quantized to int8, one pass a "
        "frame: the default), nanodet (the same network in float, twice the cost), fast (the "
        "older SSD, one pass) or tiled (the SSD on tiles, 7 passes a frame). See BENCHMARKS.md."),
    requisition: Optional[str] = RequisitionOption,
    home: Optional[Path] = HomeOption,
) -> None:
    """Index recorded footage into the catalog (files are indexed whole or not at all).

    Camera and start time come from the file name (CAM12_20230130T140000.mp4 or
    cam12/2023-01-30/14-00-00.mp4), a sidecar JSON (CAM12.mp4.json), or the flags.
    Re-indexing an unchanged file does nothing. Only regular files are read; a file whose
    start is in the future or that ends before its declared duration fails, one past the
    site's retention or still being written (see --settle) is skipped. One index job per
    catalog at a time. Exit code 2 for a bad flag or a running job, 3 when some files failed.

    Without -r this is a standing index: it extracts what the site's `[standing_index]`
    allows. With `-r REF` it indexes for that open requisition: only footage inside its
    cameras and times, with the extractors of `[requisition_index]`, audited under it.

    Nightly mode (`--archive ROOT`): only files not yet indexed, not past the retention and
    no longer being written; one task per file on `--workers` processes or a Ray cluster;
    resumable after any crash; the job report is printed and appended to the audit log.
    See docs/nightly.md.

    Example: relecture index sample_footage/
    Example: relecture index /archives/cam12/ -r "PV 2023/000130"
    Example: relecture index --archive /srv/nvr --workers 8
    """
    from relecture.footage import flag_hints
    from relecture.indexer.job import Archive, JobOptions, NamedFiles, run_job
    from relecture.indexer.pipeline import IndexConfig
    from relecture.cli.render_index import IndexProgressBars, print_index_report

    hints = _run(lambda: flag_hints(camera, start, tz, clock_offset))
    from relecture.indexer.detect import DEFAULT, KINDS

    detector = detector or DEFAULT  # resolved here: the detector module imports numpy
    if detector not in KINDS:
        err.print(f"[bold red]error:[/] unknown detector {detector!r}; choose from {', '.join(KINDS)}")
        raise typer.Exit(2)
    config = IndexConfig(sample_fps=sample_fps, read_plates=not no_plates, detector=detector)
    if (archive is None) == (not paths):
        err.print("[bold red]error:[/] give footage paths, or --archive ROOT (not both)")
        raise typer.Exit(2)
    if archive is None and (ray or as_json):
        err.print("[bold red]error:[/] --ray and --json go with --archive ROOT")
        raise typer.Exit(2)
    options = JobOptions(hints, config, workers, ray, settle_s=settle,
                         requisition=requisition)
    if archive is not None:
        from relecture.cli.render_archive import ArchiveProgressBar, print_archive_report

        with ArchiveProgressBar(err) as bar:
            report = _run(lambda: run_job(Archive(archive), _home(home), current_user(),
                                          options, bar))
        if as_json:
            print(json.dumps(report.as_dict(), indent=2))
        else:
            print_archive_report(out, report)
    else:
        with IndexProgressBars(err) as bars:
            report = _run(lambda: run_job(NamedFiles(tuple(paths)), _home(home),
                                          current_user(), options, bars))
        print_index_report(out, report)
    if report.failed:
        err.print(f"[red]{len(report.failed)} file(s) failed[/]; the others were indexed.")
        raise typer.Exit(3)




@app.command("eval")
def eval_cmd(
    what: str = typer.Argument(
        ..., help="detection | plates | colours | passages | requisitions | attributes"),
    data: Optional[Path] = typer.Option(None, "--data", exists=True, file_okay=False,
                                        help="Labelled folder, e.g. ../shared/data/plates_fr"),
    rendered: bool = typer.Option(False, "--rendered", help="plates only: read the plate set "
                                  "the project renders itself instead of a labelled folder."),
    video: bool = typer.Option(False, "--video", help="with --rendered: plates on cars in "
                               "rendered clips, each clip indexed as `index` does (3 cars a clip)."),
    n: int = typer.Option(200, "--n", min=1, help="--rendered: how many plates (cars with --video)."),
    seed: int = typer.Option(0, "--seed", help="--rendered: which set (same seed, same set)."),
    videos: Optional[Path] = typer.Option(
        None, "--videos", help="passages, requisitions and attributes: the videos the CSVs "
        "are named after [default: DATA/../videos]."),
    k: int = typer.Option(10, "--k", min=1, help="requisitions: recall counts a passage "
                          "found when its sighting is among the first K hits."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    detector: Optional[str] = typer.Option(
        None, "--detector", help="detection, passages, requisitions and attributes: nanodet-int8, "
        "nanodet, fast or tiled [default: the one `relecture index` uses]."),
    recogniser: bool = typer.Option(False, "--recogniser", help="plates (photos or rendered "
                                    "stills): platedet boxes are first read by the project's "
                                    "plate recogniser (platerec); off by default: it reads "
                                    "the real photos no better than RapidOCR (BENCHMARKS.md)."),
) -> None:
    """Measure accuracy on a labelled folder (labels.csv, or one folder per colour).

    detection: vehicle recall/precision at IoU 0.5; plates: exact match, within one
    character, character error rate (plate found in the whole photo); colours: accuracy and
    confusion matrix; passages: end to end on real video (one CSV of labelled vehicle
    passages per video, same name): each video is indexed as `relecture index` does, its
    sightings matched to the passages on time and direction (one to one, widest overlap), then
    recall, duplicates, unmatched sightings, type and colour accuracy, CPU time;
    requisitions: the investigator's view of the same passages: the sightings are put in a
    temporary catalog, a requisition is opened there, and each passage is searched for as
    `relecture search` would (its camera, its time +-60 s, its type, its colour when
    labelled): recall at K (its matched sighting among the first K hits), recall at any
    rank and the mean number of hits, per video and in all; attributes: the same videos,
    sightings matched on time only: direction of travel (away/towards, exit and entry
    border) against the labels, body styles against the styles the notes name, the shown
    mark chosen on the even rows and checked on the odd ones.

    Example: relecture eval plates --data ../shared/data/plates_fr --json

    Example: relecture eval plates --rendered --n 200 --seed 0 (plates the project draws:
    SIV and FNI, one and two lines, 20-60 px, blur, perspective, JPEG/H.264, night, glare)

    Example: relecture eval plates --rendered --video --n 60 (the plate read on each passage
    of rendered clips: SIV and FNI, 20-60 px, H.264 CRF 23-32, night)

    Example: relecture eval passages --data ../shared/data/passages --detector tiled

    Example: relecture eval requisitions --data ../shared/data/passages --k 10 --json

    Example: relecture eval attributes --data ../shared/data/passages --json
    """
    from relecture.cli.render_eval import EvalProgress, print_metrics
    from relecture.evaluation.choose import EvalRequest, evaluation

    evaluate = _run(lambda: evaluation(EvalRequest(what, data, rendered, video, n, seed, videos,
                                                   k, detector, recogniser)))
    with EvalProgress(err, what) as bar:
        metrics = _run(lambda: evaluate(data, progress=bar.update))
    if as_json:
        print(json.dumps(metrics, indent=2, default=str))
    else:
        print_metrics(out, what, metrics)


register(app)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
