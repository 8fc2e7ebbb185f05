"""Search results for people and programs: table rows, JSON, a printable HTML contact sheet.

The contact sheet is one self-contained file (thumbnails embedded as data URIs) that can be
mailed or printed: the query as understood, then one card per hit.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from relecture.indexer.body_style import shown
from relecture.search.attributes import travel_text
from relecture.search.engine import Hit, SearchResult

HEADERS = ("#", "camera", "camera time", "type", "colour", "style", "direction", "plate",
           "score", "recording @ s")


def _colour(h: Hit) -> str:
    """The colour named, its second choice, and, when a colour was asked, the evidence it
    ranked by ("black (grey?): grey 0.41")."""
    named = f"{h.colour or '?'}" + (f" ({h.colour_alt}?)" if h.colour_alt else "")
    why = next((r.removeprefix("colour ") for r in h.reasons if r.startswith("colour ")), None)
    return named + (f": {why}" if why else "")


def styles_text(body) -> str:
    """Body styles shown, likeliest first ("taxi 0.31, estate 0.18"), or "-"."""
    return ", ".join(f"{s.replace('_', ' ')} {p:.2f}" for s, p in body) or "-"


def _style(h: Hit) -> str:
    """The styles shown and, when a style was asked, the evidence it ranked by."""
    why = next((r.removeprefix("style ") for r in h.reasons if r.startswith("style ")), None)
    return styles_text(h.body) + (f" [asked: {why}]" if why else "")


def _plate(h: Hit) -> str:
    if not h.plate and not h.matched_read:
        return "-"
    text = h.plate or "-"
    if h.matched_read and h.matched_read != h.plate:
        text += f" [read {h.matched_read}]"
    return text + (f" {h.plate_conf:.2f}" if h.plate_conf is not None else "")


def table_rows(result: SearchResult) -> list[list[str]]:
    """One row of strings per hit, in `HEADERS` order (for a rich or plain table)."""
    return [[str(h.sighting_id), h.camera, f"{h.first_camera_time:%Y-%m-%d %H:%M:%S}",
             h.vehicle_type or "?", _colour(h), _style(h), travel_text(h.travel), _plate(h),
             f"{h.score:.2f}",
             f"{Path(h.recording_path).name if h.recording_path else h.recording_id[:12]} @ {h.first_t:.1f}"]
            for h in result.hits]


def rich_table(result: SearchResult):
    """A rich Table of the hits, titled with the query as understood."""
    from rich.table import Table

    table = Table(title=f"{len(result.hits)} of {result.total} · {result.understood}")
    for header in HEADERS:
        table.add_column(header)
    for row in table_rows(result):
        table.add_row(*row)
    return table


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def to_dict(result: SearchResult) -> dict:
    """The result as JSON-ready data (times ISO 8601: *_utc in UTC, *_camera_time as shown)."""
    return {
        "understood": result.understood,
        "total": result.total,
        "notes": list(result.notes),
        "elapsed_ms": round(result.elapsed_ms, 1),
        "hits": [{k: _plain(v) for k, v in asdict(h).items()} for h in result.hits],
    }


def to_json(result: SearchResult) -> str:
    """`to_dict` as indented JSON."""
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False)


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 15pt; margin: 0 0 .2em; }
.query, .notes { font-size: 10pt; margin: .2em 0; }
.notes { color: #8a4b00; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
.card { border: 1px solid #999; padding: 6px; font-size: 9pt; break-inside: avoid; }
.card img { width: 100%; height: 140px; object-fit: contain; background: #eee; }
.card .none { height: 140px; background: #eee; display: flex; align-items: center;
              justify-content: center; color: #666; }
.card b { font-size: 10pt; }
.why { color: #555; }
.lead { font-size: 8pt; color: #555; margin-top: 1em; }
@media print {
  body { margin: 0; }
  .sheet { grid-template-columns: repeat(4, 1fr); }
  .card { page-break-inside: avoid; }
}
"""


def _thumbnail(path: Path | None) -> str:
    if path is None or not path.is_file():
        return '<div class="none">no thumbnail</div>'
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="thumbnail" src="data:image/jpeg;base64,{data}">'


def _card(h: Hit) -> str:
    e = html.escape
    lines = [
        f"<b>#{h.sighting_id}</b> · camera {e(h.camera)}",
        f"{h.first_camera_time:%d/%m/%Y %H:%M:%S} (camera time, {e(h.tz)})",
        f"UTC {h.first_utc:%Y-%m-%d %H:%M:%S}",
        f"{e(h.vehicle_type or '?')} · {e(_colour(h))}",
        f"style {e(_style(h))}",
        f"direction {e(travel_text(h.travel))}",
        f"plate {e(_plate(h))}",
        f"{e(Path(h.recording_path).name if h.recording_path else h.recording_id[:12])} "
        f"@ {h.first_t:.1f}-{h.last_t:.1f} s",
        f"score {h.score:.2f}",
    ]
    why = f'<div class="why">{e("; ".join(h.reasons))}</div>' if h.reasons else ""
    return f'<div class="card">{_thumbnail(h.thumbnail)}<div>{"<br>".join(lines)}</div>{why}</div>'


def contact_sheet(result: SearchResult, title: str = "relecture: search results") -> str:
    """A self-contained, printable HTML page: the query as understood and a card per hit."""
    e = html.escape
    notes = "".join(f'<p class="notes">{e(n)}</p>' for n in result.notes)
    cards = "".join(_card(h) for h in result.hits)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>"
        f'<p class="query">Understood as: {e(result.understood)}</p>'
        f'<p class="query">{len(result.hits)} shown of {result.total} matching sightings</p>'
        f'{notes}<div class="sheet">{cards}</div>'
        f'<p class="lead">Each hit is an investigative lead to be reviewed on the footage, '
        f"not an identification.</p></body></html>"
    )


def sighting_to_dict(detail, reference: str) -> dict:
    """`relecture show --json`: one `catalog_read.SightingDetail` seen under `reference`."""
    from relecture.catalog_read import RecordingRecord

    s = detail.sighting
    rec = detail.recording or RecordingRecord.unknown(s.recording_id)

    def cam_time(utc):
        return rec.camera_time(utc).isoformat(sep=" ") if utc else None

    return {
        "requisition": reference, "sighting_id": s.sighting_id, "camera": s.camera,
        "first_camera_time": cam_time(s.first_utc), "last_camera_time": cam_time(s.last_utc),
        "tz": rec.zone, "clock_offset_s": rec.clock_offset_s,
        "first_utc": s.first_utc.isoformat() + "Z" if s.first_utc else None,
        "last_utc": s.last_utc.isoformat() + "Z" if s.last_utc else None,
        "vehicle_type": s.vehicle_type, "type_conf": s.type_conf,
        "colour": s.colour, "colour_conf": s.colour_conf,
        "colour_alt": s.colour_alt, "colour_alt_conf": s.colour_alt_conf,
        "colour_distribution": s.colour_p,  # None: indexed before they were kept
        "body_styles": [list(p) for p in shown(s.body_p)],  # at body_style.SHOWN_AT
        "body_distribution": s.body_p,  # None: not classified or indexed before
        "travel": s.travel,  # entry, exit, motion, motion_conf; None: not recorded
        "plate": s.plate, "plate_conf": s.plate_conf,
        "plate_reads": [{"t": r.t, "text": r.text, "confidence": r.confidence,
                         "source": r.source, "box": list(r.box)} for r in detail.reads],
        "recording": {"sha256": s.recording_id, "path": rec.path,
                      "start_camera": rec.start_local.isoformat(sep=" ")
                      if rec.start_local else None,
                      "duration_s": rec.duration_s, "codec": rec.codec,
                      "fps": rec.fps, "size": [rec.width, rec.height]},
        "offsets_s": {"first": s.first_t, "last": s.last_t, "best": s.best_t},
        "thumbnail": str(detail.thumbnail) if detail.thumbnail else None,
        "embedding_space": s.embedding_space,
    }
