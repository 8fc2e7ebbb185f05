"""Build an evidence package (BagIt, RFC 8493) for chosen hits of a requisition.

Layout of a package directory:

    bagit.txt, bag-info.txt          BagIt tag files
    manifest-sha256.txt              sha256 of every payload file (under data/)
    tagmanifest-sha256.txt           sha256 of bagit.txt, bag-info.txt, manifest-sha256.txt
    signature.ed25519                raw 64-byte Ed25519 signature over the bytes of
                                     manifest-sha256.txt followed by tagmanifest-sha256.txt
    data/evidence.json               what everything is (see `_evidence`)
    data/report.html                 the magistrate's report (self-contained, printable)
    data/report.pdf                  the same report laid out on A4 pages
    data/public_key.pem              the key that checks signature.ed25519
    data/hits/<id>/master.<ext>      native segment, packets copied, never re-encoded
    data/hits/<id>/derived.mp4       viewable H.264 copy (camera time burned in, blurring)
    data/hits/<id>/still.jpg         best frame; still_boxed.jpg: same with the vehicle boxed
    data/synopsis/<name>.png|.mp4    with --synopsis: each camera's window around the hits

The signature is the only file no manifest lists: it is added after the bag is made and
cannot list itself. It covers both manifests, hence every other byte of the package. Check it
by hand (OpenSSL 3) with: `cat manifest-sha256.txt tagmanifest-sha256.txt > /tmp/signed &&
openssl pkeyutl -verify -pubin -inkey data/public_key.pem -rawin -in /tmp/signed
-sigfile signature.ed25519`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from relecture import catalog_read as reads
from relecture.errors import NotFound, UsageError
from relecture.footage import check_unchanged
from relecture.requisitions import keys

FORMAT = "relecture-evidence/1"
NOTICE = "Investigative lead — not an identification. Verified by: ____ (name, rank, date)"
SIGNATURE_FILE = "signature.ed25519"
PUBLIC_KEY_FILE = "data/public_key.pem"
EVIDENCE_FILE = "data/evidence.json"
REPORT_FILE = "data/report.html"
REPORT_PDF_FILE = "data/report.pdf"
SIGNED_FILES = ("manifest-sha256.txt", "tagmanifest-sha256.txt")


@dataclass(frozen=True)
class LegalBasis:
    """The legal fields of the requisition an export is made under."""

    reference: str
    kind: str  # requisition type (e.g. "requisition", "commission rogatoire", "flagrance")
    magistrate: str  # authorising magistrate, or "flagrance"
    officer: str  # requesting officer
    reason: str
    scope: Any  # cameras x time, as the requisition states it (JSON-serialisable)


@dataclass(frozen=True)
class ExportResult:
    """Where the package went and what it holds."""

    path: Path
    package_id: str
    hits: tuple[int, ...]
    files: tuple[str, ...]  # bag-relative paths of the items (masters, derived, stills)
    evidence: dict = field(compare=False, repr=False)


def export_package(
    catalog,
    hit_ids: Sequence[int],
    out_dir: Path,
    legal: LegalBasis,
    operator: str,
    signing_key,
    audit_extract: Sequence[Mapping],
    chain_head: Any,
    queries: Mapping[int, Sequence[str]] | None = None,
    blur: bool = True,
    margin_s: float = 2.0,
    package_id: str | None = None,
    synopses: Sequence[tuple[str, bytes, dict]] = (),
    journey: Mapping | None = None,
) -> ExportResult:
    """Cut, render, describe, bag and sign the evidence for `hit_ids` into `out_dir`.

    `catalog` is an open `relecture.catalog.Catalog`; `signing_key` an Ed25519 private key
    (cryptography); `audit_extract` the audit entries of this requisition and `chain_head`
    the audit chain head, both copied verbatim into evidence.json; `queries` maps a hit id to
    the queries that found it; `package_id` (a fresh UUID when None) lets the caller audit
    the export under the id the package will carry; `synopses` are (file name, bytes, item)
    of synopsis pictures to add under data/synopsis/ (their item's `derived_from` names the
    recordings they show, which become sources); `journey` (`journey_render.to_dict` of the
    journey whose passages are the hits) goes into evidence.json as "journey" and the report
    shows its timeline. The package is built beside `out_dir` and renamed into place
    only when complete and signed. Raises NotFound (unknown hit), FootageError (source
    missing), IntegrityError (source changed since it was indexed), UsageError (out_dir used).
    """
    if not hit_ids:
        raise UsageError("no hits to export")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(f"{out_dir}: already exists and is not empty")
    hits = [_load_hit(catalog, int(h)) for h in dict.fromkeys(hit_ids)]
    sources = _sources(catalog, hits, synopses)
    jobs = {rec.recording_id: _job(catalog, rec.job_id) for rec in sources.values()}

    package_id = package_id or str(uuid.uuid4())
    work = out_dir.parent / f".{out_dir.name}.partial-{package_id}"
    work.mkdir(parents=True)
    try:
        items, hit_entries, pictures = [], [], {}
        for s, rec in hits:
            entry, h_items, h_stills = _export_hit(
                catalog, s, rec, work, list((queries or {}).get(s.sighting_id, ())), blur,
                margin_s)
            hit_entries.append(entry)
            items.extend(h_items)
            pictures.update(h_stills)
        for name, data, item in synopses:
            _write(work / "synopsis" / name, data)
            items.append({**item, "file": f"data/synopsis/{name}"})
            if name.endswith((".png", ".jpg")):  # the report shows the still, not the clip
                pictures[items[-1]["file"]] = data
        public_pem = keys.public_pem(signing_key.public_key())
        evidence = _evidence(package_id, legal, operator, sources.values(), jobs, hit_entries,
                             items, audit_extract, chain_head, public_pem)
        if journey is not None:
            evidence["journey"] = dict(journey)
        _write(work / "public_key.pem", public_pem)
        _write_described(work, evidence, pictures)
        _seal(work, _bag_info(package_id, legal), signing_key)
        if out_dir.exists():
            out_dir.rmdir()
        os.rename(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return ExportResult(out_dir, package_id, tuple(s.sighting_id for s, _ in hits),
                        tuple(i["file"] for i in items), evidence)


def _sources(catalog, hits, synopses) -> dict[str, reads.RecordingRecord]:
    """Every recording the package draws on (the hits' and those the synopses show), each
    checked unchanged since it was indexed."""
    sources = {rec.recording_id: rec for _, rec in hits}
    for _, _, item in synopses:
        for rid in item["derived_from"]:
            if rid not in sources:
                sources[rid] = _recording(catalog, rid)
    for rec in sources.values():
        check_unchanged(rec.path, rec.recording_id)
    return sources


def _write_described(work: Path, evidence: dict, pictures: Mapping[str, bytes]) -> None:
    """evidence.json and the report made from it (report.html and the same as report.pdf)."""
    from relecture.requisitions.report_html import render_report
    from relecture.requisitions.report_pdf import render_report_pdf

    _write(work / "evidence.json",
           json.dumps(evidence, indent=2, ensure_ascii=False, default=str).encode())
    report = render_report(evidence, pictures)
    _write(work / "report.html", report.encode("utf-8"))
    _write(work / "report.pdf", render_report_pdf(report))


def _seal(work: Path, bag_info: dict, signing_key) -> None:
    """Make `work` a BagIt bag (payload moved to data/) and sign both of its manifests."""
    import bagit

    bagit.make_bag(str(work), bag_info=bag_info, checksums=["sha256"])
    message = b"".join((work / f).read_bytes() for f in SIGNED_FILES)
    _write(work / SIGNATURE_FILE, signing_key.sign(message))


# -- catalog reads ----------------------------------------------------------------------------
def found_by(extract: list[dict], ids: list[int]) -> dict[int, list[str]]:
    """For each hit, the audited searches that found it (the query as its HMAC reference)."""
    found: dict[int, list[str]] = {i: [] for i in ids}
    for r in extract:
        if r.get("action") != "search" or r.get("result") == "refused":
            continue
        o = r.get("objects") or {}
        for sid in o.get("sightings", []):
            if sid in found:
                fields = ", ".join(o.get("query_fields") or []) or "no filter"
                found[sid].append(f"search audit seq {r['seq']} ({r['time'][:19]}Z), query HMAC "
                                  f"{o.get('query_hmac', '?')} [{fields}]")
    return found


def _load_hit(catalog, sid: int):
    """(SightingRecord, RecordingRecord) of hit `sid`; NotFound when either is missing."""
    s = reads.sighting(catalog.db, sid)
    if s is None:
        raise NotFound(f"no sighting with id {sid}")
    rec = reads.recording(catalog.db, s.recording_id)
    if rec is None:
        raise NotFound(f"sighting {sid}: its recording {s.recording_id[:16]} is not catalogued")
    return s, rec


def _recording(catalog, recording_id: str) -> reads.RecordingRecord:
    rec = reads.recording(catalog.db, recording_id)
    if rec is None:
        raise NotFound(f"recording {recording_id[:16]} is not catalogued")
    return rec


def _job(catalog, job_id: str | None) -> dict:
    """The index job that catalogued a recording, as evidence.json names it."""
    job = reads.index_job(catalog.db, job_id)
    return asdict(job) if job is not None else {"job_id": job_id}


def _overlay(catalog, rec: reads.RecordingRecord, sid: int, blur: bool):
    from relecture.requisitions import media

    persons, plates = media.recording_masks(catalog.db, rec.recording_id, frozenset({sid}))
    return media.Overlay(camera=rec.camera, start_local=rec.start_local,
                         persons=persons, plates=plates, blur=blur)


# -- one hit ----------------------------------------------------------------------------------
def _export_hit(catalog, s: reads.SightingRecord, rec: reads.RecordingRecord, work: Path,
                queries: list[str], blur: bool, margin_s: float):
    from relecture.requisitions import media

    sid = s.sighting_id
    folder = work / "hits" / str(sid)
    folder.mkdir(parents=True)
    src = Path(rec.path)
    clock = _Clock(rec)

    def rel(p: Path) -> str:  # path inside the bag once make_bag moves the payload to data/
        return "data/" + p.relative_to(work).as_posix()

    cut = media.cut_master(src, folder / ("master" + media.master_suffix(src)),
                           max(0.0, s.first_t - margin_s), s.last_t + margin_s)
    master = _master_item(cut, rel(cut.path), rec.recording_id, margin_s, clock)
    overlay = _overlay(catalog, rec, sid, blur)
    derived = _derived_item(media.render_derived(cut.path, cut, folder / "derived.mp4", overlay),
                            rel, master["sha256"], blur, clock.span(cut.start_t, cut.end_t))
    img, t = media.still_at(cut.path, cut, s.best_t if s.best_t is not None else s.first_t)
    vbox = media.box_tracks(s.box_track()).at(t)
    plain, boxed, n = media.stills(img, t, vbox, overlay)
    still_items, still_bytes = [], {}
    for name, data, what in (("still.jpg", plain, "no marking"),
                             ("still_boxed.jpg", boxed, "vehicle box drawn in yellow")):
        _write(folder / name, data)
        still_items.append({
            "role": "still", "file": rel(folder / name), "sha256": hashlib.sha256(data).hexdigest(),
            "size_bytes": len(data), "derived_from": master["sha256"],
            "transform": (f"master picture at t={t:.3f} s decoded to JPEG quality 92, {what}, "
                          + (f"persons and other plates blurred ({n} boxes)" if blur
                             else "no blurring (asked for)")),
            **clock.span(t, t),
        })
        still_bytes[still_items[-1]["file"]] = data
    items = [master, derived, *still_items]
    for i in items:
        i["sighting_id"], i["queries"] = sid, queries
    entry = {
        "sighting_id": sid, "source_sha256": rec.recording_id, "camera": s.camera,
        "vehicle_type": s.vehicle_type, "type_conf": s.type_conf, "colour": s.colour,
        "colour_conf": s.colour_conf, "colour_alt": s.colour_alt, "plate": s.plate,
        "plate_conf": s.plate_conf, "best_t": t, **clock.span(s.first_t, s.last_t),
        "queries": queries, "items": [i["file"] for i in items],
    }
    return entry, items, still_bytes


def _master_item(cut, file: str, recording_id: str, margin_s: float, clock: "_Clock") -> dict:
    """The evidence item of a hit's native cut (packets copied, never re-encoded)."""
    from relecture.footage import sha256_file

    return {
        "role": "master", "file": file, "sha256": sha256_file(cut.path),
        "size_bytes": cut.path.stat().st_size, "derived_from": recording_id,
        "transform": (f"remux, no re-encoding: {cut.packets} {cut.codec} packets of video "
                      f"stream 0 copied byte for byte into {cut.container}, from the keyframe at "
                      f"or before the sighting start minus {margin_s:g} s to the sighting end "
                      f"plus {margin_s:g} s; timestamps shifted by {-cut.rebase:+d} ticks of "
                      f"{cut.time_base} s; other streams not copied"),
        "source_pts": {"time_base": str(cut.time_base), "first": cut.first_pts,
                       "last": cut.last_pts, "rebase": cut.rebase, "origin": cut.origin_pts},
        **clock.span(cut.start_t, cut.end_t),
    }


def _derived_item(info, rel, master_sha: str, blur: bool, span: dict) -> dict:
    """The evidence item of a hit's viewable H.264 copy (camera time burned in, blurring)."""
    from relecture.footage import sha256_file

    hidden = (f"persons blurred ({info.person_boxes_blurred} boxes), plates of other "
              f"vehicles blurred ({info.plate_boxes_blurred} boxes)"
              if blur else "no blurring (asked for)")
    return {
        "role": "derived", "file": rel(info.path), "sha256": sha256_file(info.path),
        "size_bytes": info.path.stat().st_size, "derived_from": master_sha,
        "transform": (f"decoded from the master, libx264 crf {info.crf} yuv420p, "
                      f"{info.frames} frames at their original times, burned-in camera "
                      f"name and camera time, {hidden}"),
        **span,
    }


@dataclass(frozen=True)
class _Clock:
    """Turns seconds into the recording into camera-clock and true-UTC timestamps."""

    rec: reads.RecordingRecord

    def span(self, a: float, b: float) -> dict:
        start_local, start_utc = self.rec.start_local, self.rec.start_utc
        return {
            "start_t": round(a, 6), "end_t": round(b, 6),
            "start_camera": _iso(start_local + timedelta(seconds=a)),
            "end_camera": _iso(start_local + timedelta(seconds=b)),
            "start_utc": _iso(start_utc + timedelta(seconds=a)) + "Z",
            "end_utc": _iso(start_utc + timedelta(seconds=b)) + "Z",
        }


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds")


# -- package files ----------------------------------------------------------------------------
def _evidence(package_id, legal, operator, sources, jobs, hits, items, audit_extract,
              chain_head, public_pem: bytes) -> dict:
    import relecture
    from relecture.models.registry import MODELS

    return {
        "format": FORMAT,
        "package_id": package_id,
        "created_utc": _iso(datetime.now(timezone.utc).replace(tzinfo=None)) + "Z",
        "tool": {"name": "relecture", "version": relecture.__version__},
        "models": [{"key": m.key, "role": m.role,
                    "package": m.package or f"user-provided weights ({m.env})",
                    "licence": m.licence} for m in MODELS],
        "legal": asdict(legal),
        "operator": operator,
        "notice": NOTICE,
        "signature": {
            "algorithm": "Ed25519", "file": SIGNATURE_FILE, "public_key": PUBLIC_KEY_FILE,
            "public_key_sha256": hashlib.sha256(public_pem).hexdigest(),
            "signed_message": " + ".join(SIGNED_FILES) + " (bytes, concatenated in this order)",
            "unlisted": (f"{SIGNATURE_FILE} is the only file no manifest lists: it is made "
                         "after the bag and covers both manifests"),
        },
        "sources": [{
            "sha256": r.recording_id, "path": r.path, "camera": r.camera,
            "timezone": r.tz, "clock_offset_s": r.clock_offset_s,
            "clock_offset_meaning": "camera clock ahead of true time by this many seconds",
            "start_camera": _iso(r.start_local), "start_utc": _iso(r.start_utc) + "Z",
            "duration_s": r.duration_s, "codec": r.codec, "fps": r.fps,
            "width": r.width, "height": r.height, "size_bytes": r.size_bytes,
            "indexed_by": jobs[r.recording_id],
        } for r in sources],
        "hits": hits,
        "items": items,
        "audit": {"extract": list(audit_extract), "chain_head": chain_head},
    }


def _bag_info(package_id: str, legal: LegalBasis) -> dict:
    import relecture

    one_line = lambda v: " ".join(str(v).split())  # noqa: E731  (bag-info values are one line)
    return {
        "External-Identifier": package_id,
        "External-Description": one_line(f"relecture evidence package, {legal.kind} "
                                         f"{legal.reference}"),
        "Bag-Software-Agent": f"relecture {relecture.__version__} (bagit.py)",
    }


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
