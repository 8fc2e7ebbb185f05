"""`relecture search` and `relecture show`: requisition-bound, scope-checked, audited reads."""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import typer

from relecture.commands.common import (HomeOption, RequisitionOption, _run, context, err, fail,
                                       fmt_time, open_catalog, out, parse_instant,
                                       requisition_or_none)
from relecture.errors import ModelUnavailable, UsageError


def sighting_refs(catalog, ids: list[int]) -> list[SimpleNamespace]:
    """(sighting_id, camera, first_utc, last_utc) of each of `ids` that exists, in order, for
    `access.check_hits`, which refuses an unknown id as it refuses one out of scope."""
    if not ids:
        return []
    rows = catalog.db.execute(
        "SELECT sighting_id, camera, first_utc, last_utc FROM sightings "
        "WHERE sighting_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()
    found = {r[0]: SimpleNamespace(sighting_id=r[0], camera=r[1], first_utc=r[2],
                                   last_utc=r[3]) for r in rows}
    return [found[i] for i in ids if i in found]


def _scope_cameras(asked, scope_cameras) -> list[str]:
    """Cameras typed as "cam 3", "CAM03" or "3" named as the requisition names them."""
    from relecture.search.engine import _camera_key

    by_key = {_camera_key(c): c for c in scope_cameras}
    return list(dict.fromkeys(by_key.get(_camera_key(a), a) for a in asked))


def _text_encoder(query):
    """The CLIP text encoder when free text is asked and weights are installed, else None
    (the engine then says in one note that free text was not used for ranking)."""
    if not query.text:
        return None
    from relecture.indexer.embed_openclip import clip_weights, load_openclip

    if clip_weights() is None:
        return None
    try:
        return load_openclip()
    except (ModelUnavailable, ImportError) as e:
        err.print(f"note: {e}", markup=False, highlight=False, soft_wrap=True)
        return None


def run_search(home, reference, text, cameras, start, end, types, colours, plate, like,
               limit, utc, user=None, strict=False):
    """Parse, check access, search inside the requisition's scope, audit; return the result.
    `user` acts instead of the current user when given (`eval requisitions`); `strict`
    makes the colours asked a filter instead of a ranking."""
    from dataclasses import replace

    from relecture.requisitions import access, audit, refusals
    from relecture.search import merge_flags, parse_query, search

    h, site, user = context(home, user)
    req = requisition_or_none(h, reference)
    tz = "UTC" if utc else "Europe/Paris"
    query = parse_query(text, datetime.now(timezone.utc), tz)
    query = merge_flags(query, cameras=cameras or None, start=parse_instant(start, "--from"),
                        end=parse_instant(end, "--to"), types=types or None,
                        colours=colours or None, plate=plate, like=like, strict=strict)
    if strict and not query.colours:
        raise UsageError("--strict filters on the colour asked: name a colour")
    if utc:  # times typed are instants in UTC, not wall-clock times of each camera
        query = replace(query, windows=tuple(replace(w, wall_clock=False)
                                             for w in query.windows))
    if req is not None and query.cameras:
        query = replace(query, cameras=tuple(_scope_cameras(query.cameras, req.scope.cameras)))
    line = shlex.join([text, *(f"--{k}={v}" for k, v in (
        ("camera", ",".join(cameras or [])), ("from", start), ("to", end),
        ("type", ",".join(types or [])), ("colour", ",".join(colours or [])),
        ("plate", plate), ("like", like), ("utc", utc or None), ("strict", strict or None))
        if v)])
    asked = {**audit.query_reference(h, line, query), "cameras": list(query.cameras),
             "sightings": [] if query.like is None else [query.like]}
    with refusals.audited(h, site, user, "search", req, asked):
        grant, scope = access.check_search(site, user, req, query.cameras or None,
                                           [(w.start, w.end) for w in query.windows])
        with open_catalog(h) as cat:
            if query.like is not None:
                access.check_hits(site, user, req, [query.like],
                                  sighting_refs(cat, [query.like]), "search")
            result = search(cat, query, limit, _text_encoder(query), scope=scope)
    objects = {**asked, "sightings": [hit.sighting_id for hit in result.hits],
               "cameras": list(scope.cameras)}
    audit.append(h, grant.event("search", req, objects=objects, result_count=result.total),
                 site.audit_checkpoint_every)
    return result, req


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
        False, "--strict", help="Keep only sightings named the colour asked (or with it as "
        "second choice). Without it a colour ranks, it does not filter: every sighting of "
        "the cameras, times and type asked comes back, most likely colour first."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10_000, help="Hits shown at most."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    html: Optional[Path] = typer.Option(
        None, "--html", metavar="FILE", dir_okay=False,
        help="Also write a printable, self-contained HTML contact sheet to FILE."),
    utc: bool = typer.Option(False, "--utc", help="Read times as UTC and show UTC times."),
    home: Optional[Path] = HomeOption,
) -> None:
    """Search the catalog for vehicles, under an open requisition and inside its scope.

    The query is read into filters (cameras, days and times, type, plate) and ranking
    hints (colour, free text, "comme #42"); the line **understood as: ...** on stderr says
    exactly what was searched. A colour is evidence, not a label: hits are ranked by how
    likely each vehicle is that colour (its colour distribution, e.g. "grey 0.41"; a dark
    grey car named black still comes early for "gris"); --strict makes it a filter. Flags replace what the text says. Times are the camera's
    local time (Europe/Paris) unless --utc. Every search is written to the audit log (the
    query as an HMAC reference, the sightings found, the count).

    Examples:

        relecture search "camionnette blanche caméra 3 hier 8h-9h" -r "PV 2024/00123"

        relecture search "AB-1?3-C*" -r "PV 2024/00123" --json

        relecture search -r "PV 2024/00123" --camera 12 --from 2024-03-04T13:00 --to 2024-03-04T15:00 --type van --colour white --html planche.html

    Exit codes: 0 ok (even with no hit), 2 bad query or flag (a word it cannot place is
    refused, never dropped), 4 audit log broken, 5 no open requisition, outside its scope,
    or a --like sighting outside it or unknown (one answer for both). Refusals are audited.
    """
    from relecture.requisitions.files import write_atomic
    from relecture.search.render import contact_sheet, to_dict

    if html is not None and not html.parent.is_dir():
        fail(UsageError(f"--html {html}: no such directory"))
    result, req = _run(lambda: run_search(home, requisition, query, camera, start, end, vtype,
                                          colour, plate, like, limit, utc, strict=strict))
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


def run_show(home, reference, sighting_id: int) -> dict:
    """One sighting's details after the view check, audited as "view" (or as refused)."""
    from relecture.requisitions import access, audit, refusals
    from relecture.search.query import utc_to_local
    from relecture.sightings import check_sighting_id

    h, site, user = context(home)
    req = requisition_or_none(h, reference)
    check_sighting_id(sighting_id)
    with refusals.audited(h, site, user, "view", req, {"sightings": [sighting_id]}), \
            open_catalog(h) as cat:
        grant = access.check_hits(site, user, req, [sighting_id],
                                  sighting_refs(cat, [sighting_id]), "view")
        cur = cat.db.execute("SELECT * FROM sightings WHERE sighting_id = ?", [sighting_id])
        s = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        cur = cat.db.execute("SELECT path, tz, clock_offset_s, start_local, start_utc, "
                             "duration_s, codec, fps, width, height FROM recordings "
                             "WHERE recording_id = ?", [s["recording_id"]])
        row = cur.fetchone()
        rec = dict(zip([d[0] for d in cur.description], row)) if row else {}
        reads = cat.db.execute("SELECT t, text, confidence, source, x1, y1, x2, y2 FROM "
                               "plate_reads WHERE sighting_id = ? ORDER BY t",
                               [sighting_id]).fetchall()
        thumb = str(cat.thumbnail_path(s["thumbnail"])) if s["thumbnail"] else None
    audit.append(h, grant.event("view", req, objects={"sightings": [sighting_id],
                                                      "cameras": [s["camera"]]},
                                result_count=1), site.audit_checkpoint_every)
    tz = rec.get("tz") or "Europe/Paris"
    offset = timedelta(seconds=rec.get("clock_offset_s") or 0.0)

    def cam_time(utc):
        return (utc_to_local(utc, tz) + offset).isoformat(sep=" ") if utc else None

    return {
        "requisition": req.reference, "sighting_id": sighting_id, "camera": s["camera"],
        "first_camera_time": cam_time(s["first_utc"]), "last_camera_time": cam_time(s["last_utc"]),
        "tz": tz, "clock_offset_s": rec.get("clock_offset_s"),
        "first_utc": s["first_utc"].isoformat() + "Z" if s["first_utc"] else None,
        "last_utc": s["last_utc"].isoformat() + "Z" if s["last_utc"] else None,
        "vehicle_type": s["vehicle_type"], "type_conf": s["type_conf"],
        "colour": s["colour"], "colour_conf": s["colour_conf"],
        "colour_alt": s["colour_alt"], "colour_alt_conf": s["colour_alt_conf"],
        "colour_distribution": s.get("colour_p"),  # None: indexed before they were kept
        "plate": s["plate"], "plate_conf": s["plate_conf"],
        "plate_reads": [{"t": r[0], "text": r[1], "confidence": r[2], "source": r[3],
                         "box": [r[4], r[5], r[6], r[7]]} for r in reads],
        "recording": {"sha256": s["recording_id"], "path": rec.get("path"),
                      "start_camera": rec["start_local"].isoformat(sep=" ")
                      if rec.get("start_local") else None,
                      "duration_s": rec.get("duration_s"), "codec": rec.get("codec"),
                      "fps": rec.get("fps"), "size": [rec.get("width"), rec.get("height")]},
        "offsets_s": {"first": s["first_t"], "last": s["last_t"], "best": s["best_t"]},
        "thumbnail": thumb,
        "embedding_space": s["embedding_space"],
    }


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
    d = _run(lambda: run_show(home, requisition, sighting_id))
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
