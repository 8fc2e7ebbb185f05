"""`relecture purge`, `relecture hold add | release | list`, `relecture report transparency`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import (HomeOption, RequisitionOption, _home, _run, err, out,
                                       parse_ids, print_table)
from relecture.times import parse_instant

hold_app = typer.Typer(help="Legal holds: keep a procedure's footage-derived data past "
                            "retention.", no_args_is_help=True, rich_markup_mode="markdown")
report_app = typer.Typer(help="Reports for oversight bodies (counts only, no personal data).",
                         no_args_is_help=True, rich_markup_mode="markdown")


def _session(home, reference=None):
    from relecture.requisitions.session import Session

    return Session.open(_home(home), reference)


def purge_cmd(
    before: Optional[str] = typer.Option(
        None, "--before", metavar="DATE",
        help="Also purge recordings that ended before DATE (ISO 8601, local time unless it "
             "has an offset). Can only purge more than the retention period, never keep more."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Purge footage-derived data past the retention period, except under legal hold.

    The period is site.toml `retention_days` (at most 30). For every recording that ended
    before the cutoff: its sightings, plate reads, embeddings and vectors, person tracks,
    thumbnails and its catalog entry go, unless an active legal hold (`relecture hold`)
    keeps it.

    The purge is audited (counts only); a dry run changes nothing and is not audited.
    The footage files belong to the video system and are not touched. Run it nightly:

        relecture purge

        relecture purge --dry-run --json

        relecture purge --before 2024-03-01

    Exit codes: 0 ok (also when nothing was due), 2 bad date or catalog busy,
    4 audit log broken (nothing purged), 5 not an operator.
    """
    report = _run(lambda: _session(home).purge(parse_instant(before, "--before"), dry_run))
    d = {"cutoff_utc": report.cutoff_utc.isoformat(timespec="seconds") + "Z", "dry_run": report.dry_run,
         **report.counts, "held_recordings": report.held_recordings}
    if as_json:
        print(json.dumps(d, indent=2))
        return
    c = report.counts
    out.print(f"{'dry run: ' if dry_run else ''}recordings ended before {d['cutoff_utc']}: "
              f"{'would remove' if dry_run else 'removed'} {c['recordings']} recording(s), "
              f"{c['sightings']} sighting(s), {c['plate_reads']} plate read(s), "
              f"{c['embeddings']} embedding(s), {c['person_tracks']} person track(s), "
              f"{c['thumbnails']} thumbnail(s); kept {report.held_recordings} recording(s) "
              "under legal hold", highlight=False, markup=False, soft_wrap=True)


SightingOption = typer.Option(None, "--sighting", "-s", metavar="ID",
                              help="Sighting id(s) (repeatable, or 42,43): holds its recording.")
RecordingOption = typer.Option(None, "--recording", metavar="SHA256",
                               help="Recording sha256, or its first 12+ characters (repeatable).")


@hold_app.command("add")
def hold_add(
    requisition: Optional[str] = RequisitionOption,
    sighting: Optional[list[str]] = SightingOption,
    recording: Optional[list[str]] = RecordingOption,
    reason: str = typer.Option("", "--reason", help="Why [default: the requisition's reason]."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Place a legal hold so that purge keeps these recordings and their derived data.

    A sighting named holds its whole recording. Only inside an open requisition's scope,
    until released. Audited.

    Example: relecture hold add -r "PV 2024/00123" --sighting 42 --sighting 57

    Exit codes: 0 ok, 2 nothing named or an ambiguous recording prefix, 5 no open
    requisition, or a sighting or recording outside it or unknown (one answer for both).
    """
    n = _run(lambda: _session(home, requisition).place_holds(
        parse_ids(sighting or []), recording or [], reason))
    out.print(f"{n} hold(s) placed under requisition {requisition}", highlight=False,
              markup=False)


@hold_app.command("release")
def hold_release(
    requisition: Optional[str] = RequisitionOption,
    sighting: Optional[list[str]] = SightingOption,
    recording: Optional[list[str]] = RecordingOption,
    release_all: bool = typer.Option(False, "--all", help="Release every hold of the requisition."),
    reason: str = typer.Option("", "--reason", help="Why (e.g. judgement final)."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Release legal holds of a requisition (also once it is closed). Audited.

    The data then follows the normal retention period: the next purge removes it if past.

    Example: relecture hold release -r "PV 2024/00123" --all --reason "jugement définitif"
    """
    n = _run(lambda: _session(home, requisition).release_holds(
        parse_ids(sighting or []), recording or [], release_all, reason))
    out.print(f"{n} hold(s) released under requisition {requisition}", highlight=False,
              markup=False)


@hold_app.command("list")
def hold_list(
    requisition: Optional[str] = RequisitionOption,
    include_released: bool = typer.Option(False, "--all", help="Include released holds."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    home: Optional[Path] = HomeOption,
) -> None:
    """List active legal holds (of one requisition with -r).

    Example: relecture hold list -r "PV 2024/00123"
    """
    rows = _run(lambda: _session(home).list_holds(requisition, include_released))
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    print_table(f"{len(rows)} legal hold(s)",
                ("hold", "requisition", "recording", "sighting", "placed (UTC)", "released"),
                [(str(r["hold_id"]), r["requisition"], r["recording_id"][:16],
                  "-" if r["sighting_id"] is None else f"#{r['sighting_id']}",
                  f"{r['placed_utc']:%Y-%m-%d %H:%M} by {r['placed_by']}",
                  f"{r['released_utc']:%Y-%m-%d %H:%M}" if r["released_utc"] else "-")
                 for r in rows])


@report_app.command("transparency")
def transparency_cmd(
    year: int = typer.Option(..., "--year", min=2000, max=2100, help="Calendar year (UTC)."),
    public_key: Optional[Path] = typer.Option(
        None, "--public-key", metavar="PEM", exists=True, dir_okay=False,
        help="Site public key kept outside the home, to verify the audit log with."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Yearly transparency report: counts from the verified audit log, no personal data.

    Requisitions by type, searches, views, exports, purges, legal holds, distinct cameras
    accessed, actions refused. No names, references, plates or queries, so it can be
    published.

    Example: relecture report transparency --year 2024 --json > transparence-2024.json

    Exit codes: 0 ok, 4 audit log broken, 5 role may not read the audit.
    """
    d = _run(lambda: _session(home).transparency(year, public_key))
    if as_json:
        print(json.dumps(d, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    t = Table(title=f"relecture transparency report {year}", show_header=False)
    t.add_column("what")
    t.add_column("count", justify="right")
    for k, v in d.items():
        if k in ("year", "source"):
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{a}: {b}" for a, b in v.items()) or "-"
        t.add_row(k.replace("_", " "), str(v))
    out.print(t)
    err.print(d["source"], markup=False, highlight=False, soft_wrap=True)
