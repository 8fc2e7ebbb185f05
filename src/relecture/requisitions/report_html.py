"""The report a magistrate reads: one self-contained, printable HTML page per package.

Everything is inside the file (stills as data URIs, CSS inline) so it opens offline, from the
package, in any browser, and prints on A4: a hit's stills and facts are never split across pages,
and long tables wrap inside the page width (report_pdf.py lays the same page out as PDF).
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Mapping

_CSS = """
body { font: 11pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #000; margin: 16px; }
h1 { font-size: 16pt; margin: 0 0 4px; } h2 { font-size: 13pt; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #999; padding: 2px 6px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
tr { break-inside: avoid; }
table.rows { table-layout: fixed; width: 100%; font-size: 8pt; }
th { background: #eee; font-weight: 600; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; word-break: break-all; }
.hit { border: 2px solid #333; padding: 8px; margin: 12px 0; }
.seen { break-inside: avoid; }
.stills img { max-width: 48%; height: auto; border: 1px solid #666; margin-right: 1%; }
.journey svg { max-width: 100%; height: auto; }
.synopsis { margin: 6px 0; break-inside: avoid; } .synopsis img { max-width: 100%; }
.notice { border: 2px solid #000; padding: 6px; font-weight: 600; margin: 8px 0; }
@page { size: A4; margin: 14mm; }
@media print { body { margin: 0; } .hit { border-width: 1px; } }
"""


def render_report(evidence: Mapping, stills: Mapping[str, bytes]) -> str:
    """HTML text of the report for `evidence` (evidence.json as a dict); `stills` maps a still
    item's bag path (a hit's still, a synopsis still) to its JPEG or PNG bytes, embedded as
    data URIs."""
    e = evidence
    legal = e["legal"]
    sources = {s["sha256"]: s for s in e["sources"]}
    items = {i["file"]: i for i in e["items"]}
    parts = [
        "<!DOCTYPE html>", '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>Evidence {escape(str(legal['reference']))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evidence package — {escape(str(legal['kind']))} "
        f"{escape(str(legal['reference']))}</h1>",
        f'<p class="notice">{escape(e["notice"])}</p>',
        "<h2>Requisition</h2>",
        _table([("Reference", legal["reference"]), ("Type", legal["kind"]),
                ("Magistrate", legal["magistrate"]), ("Requesting officer", legal["officer"]),
                ("Reason", legal["reason"]), ("Scope", _plain(legal["scope"])),
                ("Exported by", e["operator"]), ("Exported (UTC)", e["created_utc"]),
                ("Package id", e["package_id"]),
                ("Tool", f"{e['tool']['name']} {e['tool']['version']}"),
                ("Signing key (sha256 of PEM)", e["signature"]["public_key_sha256"])]),
    ]
    if e.get("journey"):
        parts.append(_journey(e["journey"]))
    parts.append(f"<h2>Hits ({len(e['hits'])})</h2>")
    for h in e["hits"]:
        parts.append(_hit(h, sources[h["source_sha256"]], items, stills, e["notice"]))
    synopses = [i for i in e["items"] if i["role"] == "synopsis"]
    if synopses:
        parts.append(_synopses(synopses, stills))
    parts.append("<h2>Sources</h2>")
    parts.append(_rows_table(
        ("Camera", "Time zone", "Clock offset (s)", "Start (camera)", "Start (UTC)", "Path",
         "SHA-256"),
        [(s["camera"], s["timezone"], s["clock_offset_s"], s["start_camera"], s["start_utc"],
          s["path"], _Hash(s["sha256"])) for s in e["sources"]]))
    parts.append(f'<p class="notice">{escape(e["notice"])}</p></body></html>')
    return "\n".join(parts)


def _journey(journey: Mapping) -> str:
    """The journey the hits come from: its timeline, camera diagram and links."""
    from relecture.search.journey_render import journey_section

    rows = [(p["sighting_id"], p["camera"], p["first_camera_time"], p["first_utc"],
             f"{p['link']['by']} {p['link']['score']:.2f}",
             p["reason"] + (f"; {p['travel']}" if p.get("travel") else ""))
            for p in journey["passages"]]
    return ('<section class="journey"><h2>Journey across cameras</h2>'
            f"<p>The hits are the passages of one journey, from sighting "
            f"{escape(str(journey.get('start')))}, in time order; each link says why it was "
            "made and how sure it is (0-1).</p>"
            + journey_section(journey)
            + _rows_table(("Hit", "Camera", "From (camera)", "From (UTC)", "Link", "Why"), rows)
            + "</section>")


def _synopses(items: list[Mapping], stills: Mapping[str, bytes]) -> str:
    """The synopsis items: each still shown, every file listed with its hash and making."""
    imgs = "".join(
        f'<figure class="synopsis"><img alt="synopsis {escape(i["file"])}" src="data:'
        f'{_MIME[i["file"].rsplit(".", 1)[-1]]};base64,{base64.b64encode(stills[i["file"]]).decode()}">'
        f'<figcaption>camera {escape(str(i["camera"]))}, {escape(i["start_utc"])} → '
        f'{escape(i["end_utc"])}: sightings {escape(", ".join(map(str, i["sightings"])))}'
        "</figcaption></figure>"
        for i in items if i["file"] in stills)
    rows = [(i["file"], i["camera"], f"{i['start_utc']} → {i['end_utc']}", _Hash(i["sha256"]),
             ", ".join(i["derived_from"]), i["transform"]) for i in items]
    return ('<section class="synopses"><h2>Synopses (derived)</h2>' + imgs
            + _rows_table(("File", "Camera", "Window (UTC)", "SHA-256", "Derived from",
                           "Transform"), rows) + "</section>")


_MIME = {"png": "image/png", "jpg": "image/jpeg"}


def _plain(value) -> str:
    """A requisition field as written: text as is, structures as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class _Hash(str):
    """A value shown in the monospace hash style."""


def _cell(v) -> str:
    text = "—" if v is None or v == "" else escape(str(v))
    return f'<td class="hash">{text}</td>' if isinstance(v, _Hash) else f"<td>{text}</td>"


def _table(rows) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _rows_table(head, rows) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(_cell(v) for v in r) + "</tr>" for r in rows)
    return f'<table class="rows"><tr>{th}</tr>{body}</table>'


def _pct(conf) -> str:
    return "" if conf is None else f" ({conf:.0%})"


def _hit(h: Mapping, source: Mapping, items: Mapping, stills: Mapping[str, bytes],
         notice: str) -> str:
    imgs = "".join(
        f'<img alt="still {escape(f)}" src="data:image/jpeg;base64,'
        f'{base64.b64encode(stills[f]).decode()}">'
        for f in h["items"] if items[f]["role"] == "still" and f in stills)
    colour = (h["colour"] or "") + _pct(h["colour_conf"])
    if h.get("colour_alt"):
        colour += f", or {h['colour_alt']}"
    facts = _table([
        ("Camera", h["camera"]), ("Vehicle type", (h["vehicle_type"] or "") + _pct(h["type_conf"])),
        ("Colour", colour), ("Plate (as read)", (h["plate"] or "") + _pct(h["plate_conf"])),
        ("In view (camera clock)", f"{h['start_camera']} → {h['end_camera']}"),
        ("In view (UTC)", f"{h['start_utc']} → {h['end_utc']}"),
        ("Camera time zone / clock offset",
         f"{source['timezone']} / {source['clock_offset_s']:+g} s"),
        ("Found by", "; ".join(h["queries"]) or None),
    ])
    files = _rows_table(
        ("Role", "File", "From (camera / UTC)", "To (camera / UTC)", "SHA-256", "Derived from",
         "Transform"),
        [(i["role"], i["file"], f"{i['start_camera']} / {i['start_utc']}",
          f"{i['end_camera']} / {i['end_utc']}", _Hash(i["sha256"]), _Hash(i["derived_from"]),
          i["transform"]) for i in (items[f] for f in h["items"])])
    return (f'<section class="hit"><h2>Hit {escape(str(h["sighting_id"]))}</h2>'
            f'<div class="seen"><div class="stills">{imgs}</div>{facts}</div>{files}'
            f'<p class="notice">{escape(notice)}</p></section>')
