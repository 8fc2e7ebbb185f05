"""`relecture journey`: one vehicle's passages across the requisition's cameras."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import (HomeOption, RequisitionOption, WithinOption, _home,
                                           _run, err, fail, out)
from relecture.errors import UsageError


def journey_cmd(
    sighting_id: Optional[int] = typer.Argument(
        None, metavar="SIGHTING_ID", help="The # of a search hit the journey starts from."),
    plate: Optional[str] = typer.Option(
        None, "--plate", "-p", help="Start from the best match of this plate or pattern "
        "instead (AB-123-CD, AB-1?3-*)."),
    requisition: Optional[str] = RequisitionOption,
    within: float = WithinOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    html: Optional[Path] = typer.Option(
        None, "--html", metavar="FILE", dir_okay=False,
        help="Also write a self-contained HTML page (timeline, camera diagram) to FILE."),
    home: Optional[Path] = HomeOption,
) -> None:
    """The same vehicle's passages on the requisition's cameras, in time order.

    From one sighting (or the best match of --plate): passages linked **by plate** where
    a read is within the OCR tolerance of its plate (as search matches plates), else **by
    appearance** on another camera (embedding similarity, colour evidence, type). Each
    link says why it was made and how sure it is (score 0-1). Where site.toml places the
    cameras ([cameras.ID] latitude/longitude, or [[distances]]), a look-alike whose travel
    time is impossible at the site's max_speed_kmh is left out; without positions there
    is no travel-time constraint beyond order in time, and the output says so. Only the
    requisition's cameras and times are read; audited as a search.

    Examples:

        relecture journey 42 -r "PV 2024/00123"

        relecture journey --plate GH-482-KT -r "PV 2024/00123" --html trajet.html

        relecture journey 42 -r "PV 2024/00123" --json

    Then: relecture export -r "PV 2024/00123" --journey 42 --out DIR

    Exit codes: 0 ok (even with the start alone), 2 bad plate or flag, 4 audit log broken,
    5 no open requisition, or a start sighting outside its scope or unknown (one answer
    for both). Refusals are audited.
    """
    from relecture.files import write_atomic
    from relecture.requisitions.session import Session
    from relecture.search.journey_render import journey_page, to_dict, why

    if html is not None and not html.parent.is_dir():
        fail(UsageError(f"--html {html}: no such directory"))
    session = _run(lambda: Session.open(_home(home), requisition))
    journey = _run(lambda: session.journey(sighting_id, plate, within * 60))
    ref = session.requisition.reference
    for note in (journey.travel_note, *journey.notes):
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if html is not None:
        _run(lambda: write_atomic(html, journey_page(journey, ref).encode("utf-8"), mode=0o640))
        err.print(f"journey page: {html}", markup=False, highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps(to_dict(journey, ref), indent=2, ensure_ascii=False))
        return
    out.print(_table(journey))
    for p in journey.passages:
        out.print(f"#{p.seen.sighting_id}: {why(p)}", markup=False, highlight=False,
                  soft_wrap=True)
    err.print(f"{len(journey.passages)} passage(s) in {journey.elapsed_ms:.0f} ms; each link is "
              "a lead to check on the footage, not an identification",
              markup=False, highlight=False, soft_wrap=True)


def _table(journey):
    from rich.table import Table

    from relecture.search.journey_render import HEADERS, table_rows

    table = Table(title=f"journey from #{journey.start}" if journey.start is not None
                  else "journey: no start found")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in table_rows(journey):
        table.add_row(*row)
    return table
