"""`relecture search` and `relecture show`: requisition-bound, scope-checked, audited reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from relecture.cli.commands.common import (HomeOption, RequisitionOption, _home, _run, err, fail,
                                       fmt_time, out)
from relecture.errors import UsageError


def _table(result, utc: bool):
    from rich.table import Table

    from relecture.search.render import HEADERS, table_rows

    table = Table(title=f"{len(result.hits)} of {result.total} · {result.understood}")
    for header in HEADERS:
        table.add_column("UTC" if utc and header == "camera time" else header,
                         overflow="fold")
    for hit, row in zip(result.hits, table_rows(result)):
        if utc:
            row[2] = fmt_time(hit.first_utc)
        table.add_row(*row)
    return table


def search_cmd(
    query: str = typer.Argument(
        "", metavar="QUERY",
        help='What to look for, French or English, e.g. "camionnette blanche caméra 3 hier '
             '8h-9h", "AB-1?3-C*", "voiture rouge comme #42".'),
    requisition: Optional[str] = RequisitionOption,
    camera: Optional[list[str]] = typer.Option(
        None, "--camera", "-c", help="Camera id (repeatable); replaces cameras in QUERY."),
    start: Optional[str] = typer.Option(
        None, "--from", metavar="TIME",
        help="Start, ISO 8601 (camera local time unless it has an offset or --utc)."),
    end: Optional[str] = typer.Option(None, "--to", metavar="TIME", help="End, like --from."),
    vtype: Optional[list[str]] = typer.Option(
        None, "--type", "-t", help="Vehicle type (repeatable): car, van, truck, bus, "
        "motorcycle, bicycle, or French words (camionnette...)."),
    colour: Optional[list[str]] = typer.Option(
        None, "--colour", "--color", help="Colour (repeatable), English or French."),
    plate: Optional[str] = typer.Option(
        None, "--plate", "-p", help="Plate or pattern: ? one character, * any run (AB-1?3-*)."),
    like: Optional[int] = typer.Option(
        None, "--like", metavar="SIGHTING_ID", help="Rank by resemblance to this sighting."),
    strict: bool = typer.Option(
        False, "--strict", help="Keep only sightings of the type asked (or a neighbouring "
        "one: car/van, truck/bus), named the colour asked (or with it as second choice), "
        "showing the body style asked, and going the direction asked. Without it type, "
        "colour, style and direction rank, they do not filter: every sighting of the cameras "
        "and times asked comes back, most likely first, other types after the types asked."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10_000, help="Hits shown at most."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    html: Optional[Path] = typer.Option(
        None, "--html", metavar="FILE", dir_okay=False,
        help="Also write a printable, self-contained HTML contact sheet to FILE."),
    utc: bool = typer.Option(False, "--utc", help="Read times as UTC and show UTC times."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Search the catalog for vehicles, under an open requisition and inside its scope.

    The query is read into filters (cameras, days and times, plate) and ranking hints
    (type, colour, free text, "comme #42"); the line **understood as: ...** on stderr says
    exactly what was searched. A type ranks: the types asked and their neighbours come
    first, then every other (a detector can name a pickup "car"). A colour is evidence, not
    a label: hits are ranked by how
    likely each vehicle is that colour (its colour distribution, e.g. "grey 0.41"; a dark
    grey car named black still comes early for "gris"); so are a body style ("break",
    "taxi", "4x4", "dépanneuse": the classifier's probability) and a direction of travel
    ("qui s'éloigne", "sortant à gauche", "towards the camera"); --strict makes them
    filters. Flags
    replace what the text says. Times are the camera's local time (Europe/Paris) unless
    --utc; hours without a day ("entre 14h et 16h") apply to each day of the requisition. Every search is written to the audit log (the
    query as an HMAC reference, the sightings found, the count).

    Examples:

        relecture search "camionnette blanche caméra 3 hier 8h-9h" -r "PV 2024/00123"

        relecture search "AB-1?3-C*" -r "PV 2024/00123" --json

        relecture search "voiture rouge entre 14h et 16h" -r "PV 2024/00123"   (each day of the requisition)

        relecture search -r "PV 2024/00123" --camera 12 --from 2024-03-04T13:00 --to 2024-03-04T15:00 --type van --colour white --html planche.html

    Exit codes: 0 ok (even with no hit), 2 bad query or flag (a word it cannot place is
    refused, never dropped), 4 audit log broken, 5 no open requisition, outside its scope,
    or a --like sighting outside it or unknown (one answer for both). Refusals are audited.
    """
    from relecture.files import write_atomic
    from relecture.requisitions.session import Session
    from relecture.search.render import contact_sheet, to_dict
    from relecture.search.request import SearchRequest

    if html is not None and not html.parent.is_dir():
        fail(UsageError(f"--html {html}: no such directory"))
    request = SearchRequest(query, tuple(camera or ()), start, end, tuple(vtype or ()),
                            tuple(colour or ()), plate, like, strict, utc)
    session = _run(lambda: Session.open(_home(home), requisition))
    result = _run(lambda: session.search(request, limit))
    req = session.requisition
    err.print(f"understood as: {result.understood}", markup=False, highlight=False, soft_wrap=True)
    for note in result.notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if html is not None:
        page = contact_sheet(result, title=f"relecture: requisition {req.reference}")
        _run(lambda: write_atomic(html, page.encode("utf-8"), mode=0o640))
        err.print(f"contact sheet: {html}", markup=False, highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps({"requisition": req.reference, **to_dict(result)}, indent=2,
                         ensure_ascii=False))
        return
    out.print(_table(result, utc))
    err.print(f"{len(result.hits)} shown of {result.total} in {result.elapsed_ms:.0f} ms; "
              "each hit is a lead to check on the footage, not an identification",
              markup=False, highlight=False, soft_wrap=True)


def show_cmd(
    sighting_id: int = typer.Argument(..., metavar="SIGHTING_ID",
                                      help="The # of a search hit."),
    requisition: Optional[str] = RequisitionOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Show one sighting in full: times, type, colour, plate reads, source file and offsets.

    Open the footage at the offsets shown to check the hit yourself. Audited as a view.

    Example: relecture show 42 -r "PV 2024/00123"

    Exit codes: 0 ok, 2 not a sighting number, 4 audit log broken, 5 no open requisition,
    or a sighting outside its scope or unknown (one answer for both). Refusals are audited.
    """
    from relecture.requisitions.session import Session
    from relecture.search.attributes import travel_text
    from relecture.search.render import sighting_to_dict, styles_text

    session = _run(lambda: Session.open(_home(home), requisition))
    d = sighting_to_dict(_run(lambda: session.show(sighting_id)), session.requisition.reference)
    if as_json:
        print(json.dumps(d, indent=2, ensure_ascii=False, default=str))
        return
    from rich.table import Table

    def conf(v):
        return f" ({v:.2f})" if v is not None else ""

    t = Table(title=f"sighting #{sighting_id} · requisition {d['requisition']}",
              show_header=False)
    t.add_column("field", style="bold")
    t.add_column("value", overflow="fold")
    rec, off = d["recording"], d["offsets_s"]
    for k, v in (
        ("camera", d["camera"]),
        ("camera time", f"{d['first_camera_time']} → {d['last_camera_time']} ({d['tz']}, "
                        f"clock offset {d['clock_offset_s'] or 0:+g} s)"),
        ("UTC", f"{d['first_utc']} → {d['last_utc']}"),
        ("type", f"{d['vehicle_type'] or '?'}{conf(d['type_conf'])}"),
        ("colour", f"{d['colour'] or '?'}{conf(d['colour_conf'])}"
                   + (f", or {d['colour_alt']}{conf(d['colour_alt_conf'])}"
                      if d["colour_alt"] else "")),
        ("body style", styles_text(d["body_styles"])),
        ("direction", travel_text(d["travel"])
         + (f" (sure {d['travel']['motion_conf']:.2f})" if d["travel"] else "")),
        ("plate", f"{d['plate'] or '-'}{conf(d['plate_conf'])}"),
        ("source file", f"{rec['path']}"),
        ("source sha256", rec["sha256"]),
        ("offsets", f"{off['first']:.2f} s → {off['last']:.2f} s (best view {off['best']:.2f} s)"
         if off["first"] is not None else "-"),
        ("thumbnail", d["thumbnail"] or "-"),
    ):
        t.add_row(k, str(v))
    out.print(t)
    if d["plate_reads"]:
        reads = Table(title="plate reads")
        for c in ("at (s)", "read", "confidence", "reader"):
            reads.add_column(c)
        for r in d["plate_reads"]:
            reads.add_row(f"{r['t']:.2f}", r["text"] or "", f"{r['confidence']:.2f}",
                          r["source"] or "")
        out.print(reads)
