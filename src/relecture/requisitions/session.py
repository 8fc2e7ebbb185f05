"""One investigator's session: who acts (user, role from the site policy), under which
requisition, and the access check and audit write of every read and action done there.

Commands parse their flags, call one `Session` method and render what it returns; the
evaluations call the same methods. Every method checks access before it reads anything,
audits a refusal (`refusals.audited`) with what was asked, and audits what it did.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

from relecture import catalog_read as reads
from relecture.catalog import Catalog, open_catalog
from relecture.errors import AccessDenied, ModelUnavailable, UsageError
from relecture.requisitions import access, audit, refusals
from relecture.requisitions.site import Site, load_site
from relecture.settings import Home, current_user

if TYPE_CHECKING:
    from relecture.requisitions.requisition import Requisition
    from relecture.requisitions.synopsis_make import SynopsisResult
    from relecture.search import SearchResult
    from relecture.search.journey import Journey
    from relecture.search.request import SearchRequest


@dataclass(frozen=True)
class Session:
    """`user` acting under the site policy `site` of `home`, under `requisition` (None when
    none was named: the checks that need one refuse)."""

    home: Home
    site: Site
    user: str
    requisition: "Requisition | None" = None

    @classmethod
    def open(cls, home: Home, reference: Optional[str] = None,
             user: Optional[str] = None) -> "Session":
        """The session of `user` (default `current_user()`) under requisition `reference`."""
        from relecture.requisitions.requisition import get_requisition

        user = user or current_user()
        req = get_requisition(home, reference) if reference else None
        return cls(home, load_site(home, user), user, req)

    def _audited(self, action: str, asked: dict | None = None):
        return refusals.audited(self.home, self.site, self.user, action, self.requisition,
                                asked)

    def _append(self, event: audit.AuditEvent) -> None:
        audit.append(self.home, event, self.site.audit_checkpoint_every)

    # -- reads under the requisition ----------------------------------------------------------
    def search(self, request: "SearchRequest", limit: int, text_encoder: Any = "default",
               now: datetime | None = None) -> "SearchResult":
        """Search inside the requisition's scope; audited ("search": the query as an HMAC,
        the sightings found, the count). `text_encoder` "default" loads CLIP when free text is
        asked and weights are installed."""
        from relecture.search import search

        req = self.requisition
        query = request.query(now or datetime.now(timezone.utc),
                              req.scope.cameras if req is not None else (),
                              [(r.start, r.end) for r in req.scope.ranges] if req is not None
                              else ())
        asked = {**audit.query_reference(self.home, request.line(), query),
                 "cameras": list(query.cameras),
                 "sightings": [] if query.like is None else [query.like]}
        notes: list[str] = []
        with self._audited("search", asked):
            grant, scope = access.check_search(self.site, self.user, req,
                                               query.cameras or None,
                                               [(w.start, w.end) for w in query.windows])
            with open_catalog(self.home) as cat:
                if query.like is not None:
                    access.check_hits(self.site, self.user, req, [query.like],
                                      reads.sighting_refs(cat.db, [query.like]), "search")
                if text_encoder == "default":
                    text_encoder = _text_encoder(query, notes)
                result = search(cat, query, limit, text_encoder, scope=scope)
        self._append(grant.event("search", req, result_count=result.total, objects={
            **asked, "sightings": [hit.sighting_id for hit in result.hits],
            "cameras": list(scope.cameras)}))
        return replace(result, notes=(*notes, *result.notes)) if notes else result

    def journey(self, sighting_id: int | None = None, plate: str | None = None,
                window_s: float | None = None) -> "Journey":
        """The journey across the requisition's cameras from sighting `sighting_id` or from
        the best match of `plate` (`search.journey`), inside the scope; audited as a
        "search" of kind "journey" (the request as an HMAC, the passages found). A start
        outside the scope, or unknown, is refused as search refuses a --like sighting."""
        from relecture.search.journey import DEFAULT_WINDOW_S, TravelModel, find_journey
        from relecture.search.plates import PlatePattern
        from relecture.sightings import check_sighting_id

        if (sighting_id is None) == (plate is None):
            raise UsageError("name the sighting the journey starts from, or --plate, not both")
        pattern = PlatePattern.parse(plate) if plate is not None else None
        if sighting_id is not None:
            check_sighting_id(sighting_id)
        line = f"journey #{sighting_id}" if pattern is None else f"journey plate {pattern.pattern}"
        asked = {**audit.query_reference(self.home, line),
                 "query_fields": ["journey", "like" if pattern is None else "plate"],
                 "sightings": [] if sighting_id is None else [sighting_id]}
        req = self.requisition
        with self._audited("search", asked):
            grant, scope = access.check_search(self.site, self.user, req)
            with open_catalog(self.home) as cat:
                if sighting_id is not None:
                    access.check_hits(self.site, self.user, req, [sighting_id],
                                      reads.sighting_refs(cat.db, [sighting_id]), "search")
                result = find_journey(cat, scope, TravelModel.from_site(self.site),
                                      sighting_id, pattern,
                                      DEFAULT_WINDOW_S if window_s is None else window_s)
        self._append(grant.event("search", req, result_count=len(result.passages), objects={
            **asked, "sightings": [p.seen.sighting_id for p in result.passages],
            "cameras": list(scope.cameras)}))
        return result

    def show(self, sighting_id: int) -> reads.SightingDetail:
        """One sighting in full after the view check; audited as "view"."""
        from relecture.sightings import check_sighting_id

        check_sighting_id(sighting_id)
        with self._audited("view", {"sightings": [sighting_id]}), \
                open_catalog(self.home) as cat:
            grant = access.check_hits(self.site, self.user, self.requisition, [sighting_id],
                                      reads.sighting_refs(cat.db, [sighting_id]), "view")
            detail = reads.sighting_detail(cat, sighting_id)
        self._append(grant.event("view", self.requisition, result_count=1, objects={
            "sightings": [sighting_id], "cameras": [detail.sighting.camera]}))
        return detail

    def export_journey(self, sighting_id: int, out_dir: Path, blur: bool = True,
                       synopsis: bool = False, window_s: float | None = None):
        """The journey from `sighting_id` (`journey`, with its appearance window `window_s`;
        audited as a search) exported as `export` does, its passages as the hits and the
        journey in the package."""
        from relecture.search.journey_render import to_dict

        found = self.journey(sighting_id, window_s=window_s)
        return self.export([p.seen.sighting_id for p in found.passages], out_dir, blur,
                           synopsis, journey=to_dict(found, self.requisition.reference))

    def export(self, ids: list[int], out_dir: Path, blur: bool = True,
               synopsis: bool = False, journey: dict | None = None):
        """A signed evidence package of the hits `ids` in the new (or empty) `out_dir`;
        (ExportResult, the site's public key path). With `synopsis`, a synopsis still and
        clip of each camera's window around the hits is added (each audited as "synopsis"
        under the package id); `journey`: the journey the hits come from. Audited, then a
        signed checkpoint is made, before anything is written."""
        from relecture.requisitions import keys
        from relecture.requisitions.export import LegalBasis, export_package, found_by

        if not ids:
            raise UsageError("name the hits to export: --hits 42,43")
        if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise UsageError(f"{out_dir}: already exists and is not empty; choose a new --out")
        with self._audited("export", {"sightings": ids}), open_catalog(self.home) as cat:
            refs = reads.sighting_refs(cat.db, ids)
            grant = access.check_hits(self.site, self.user, self.requisition, ids, refs,
                                      "export")
        # Audited with the catalog closed: each append records the log's new end in the
        # catalog, which needs it writable.
        req, package_id = self.requisition, str(uuid.uuid4())
        synopses = self._package_synopses(refs, ids, package_id, blur) if synopsis else []
        self._append(grant.event("export", req, result_count=len(ids), objects={
            "sightings": ids, "cameras": sorted({r.camera for r in refs}),
            "package_id": package_id}))
        head = audit.checkpoint(self.home, self.user)
        extract = audit.extract(self.home.audit_log, req.reference)
        legal = LegalBasis(reference=req.reference, kind=req.type_label,
                           magistrate=req.magistrate,
                           officer=f"{req.officer_matricule} ({req.officer_service})",
                           reason=req.reason, scope=req.scope.as_dict())
        with open_catalog(self.home) as cat:
            result = export_package(cat, ids, out_dir, legal, self.user,
                                    keys.signing_key(self.home), extract, head.as_dict(),
                                    queries=found_by(extract, ids), blur=blur,
                                    package_id=package_id, synopses=synopses,
                                    journey=journey)
        return result, keys.public_key_path(self.home)

    def _package_synopses(self, refs, ids: list[int], package_id: str, blur: bool) -> list:
        """(file name, bytes, item) of a synopsis still (PNG) and clip (MP4) of each camera's
        window around the hits; plates of the vehicles not exported blurred when `blur`."""
        from relecture.requisitions import synopsis_make as sm
        from relecture.search.request import SearchRequest

        files = []
        for w in sm.package_windows(refs, self.requisition.scope.ranges):
            request = SearchRequest(cameras=(w.camera,), start=w.start.isoformat() + "+00:00",
                                    end=w.end.isoformat() + "+00:00", utc=True)
            window, plan, made = self._synopsis(request, [("still", ".png"), ("clip", ".mp4")],
                                                package_id, frozenset(ids) if blur else None)
            stem = f"cam{window.camera}_{window.start:%Y%m%dT%H%M}Z"
            recordings = [s.recording_id for s in plan.sources]
            files += [(stem + m.suffix, m.picture.data, sm.package_item(window, m, recordings))
                      for m in made]
        return files

    def synopsis(self, camera: str, start: Optional[str], end: Optional[str], out: Path,
                 utc: bool = False) -> "SynopsisResult":
        """The synopsis of `camera` from `start` to `end` (ISO 8601 as typed, like search's
        --from/--to) written to `out` (.png/.jpg still, .mp4 clip): the window's background
        with every passage `search` finds there. The window must lie inside the
        requisition's ranges; audited as "synopsis" (the window as an HMAC reference, the
        sightings drawn, the recordings shown) before the file is written whole."""
        from relecture.files import write_atomic
        from relecture.requisitions import synopsis_make as sm
        from relecture.search.request import SearchRequest

        kind, suffix = sm.kind_of(out)
        if not start or not end:
            raise UsageError("a synopsis needs its window: --from TIME --to TIME")
        window, plan, (made,) = self._synopsis(
            SearchRequest(cameras=(camera,), start=start, end=end, utc=utc), [(kind, suffix)])
        write_atomic(out, made.picture.data)
        return sm.SynopsisResult(out, kind, sm.sha256_of(made.picture.data), window,
                                 made.picture, made.passages, made.unplaced,
                                 tuple(s.recording_id for s in plan.sources))

    def _synopsis(self, request: "SearchRequest", outputs: list[tuple[str, str]],
                  package_id: str | None = None, plates_shown: frozenset[int] | None = None):
        """(window, plan, rendered outputs) of the synopsis `request` asks (one camera, one
        window), after the access check; audited as "synopsis" (with `package_id` when made
        for an evidence package)."""
        from relecture.requisitions import synopsis_make as sm
        from relecture.search import search

        req = self.requisition
        query = request.query(datetime.now(timezone.utc),
                              req.scope.cameras if req is not None else ())
        if len(query.cameras) != 1 or len(query.windows) != 1:
            raise UsageError("a synopsis shows one camera over one window: --camera C "
                             "--from TIME --to TIME")
        asked = {**audit.query_reference(self.home, request.line(), query),
                 "cameras": list(query.cameras)}
        with self._audited("synopsis", asked), open_catalog(self.home) as cat:
            window = sm.window_of(cat, query)
            grant, scope = access.check_synopsis(self.site, self.user, req, window.camera,
                                                 window.start, window.end)
            found = search(cat, query, sm.MAX_PASSAGES + 1, None, scope=scope)
            if found.total > sm.MAX_PASSAGES:
                raise UsageError(f"{found.total} passages in this window, more than a "
                                 f"synopsis shows ({sm.MAX_PASSAGES}): narrow it")
            plan = sm.plan(cat, found.hits, window, plates_shown)
        rendered = sm.render(plan, outputs)
        self._append(grant.event("synopsis", req, result_count=len(found.hits), objects={
            **asked, "sightings": [h.sighting_id for h in found.hits],
            "recordings": [s.recording_id for s in plan.sources],
            **({"package_id": package_id} if package_id else {})}))
        return window, plan, rendered

    # -- legal holds --------------------------------------------------------------------------
    def place_holds(self, sighting_ids: list[int], recording_ids: list[str],
                    reason: str = "") -> int:
        """Hold these sightings' recordings / these recordings under the requisition."""
        from relecture.requisitions import retention

        with self._holds(sighting_ids, recording_ids) as cat:
            return retention.place_holds(cat, self.home, self.site, self.user,
                                         self.requisition, sighting_ids, recording_ids, reason)

    def release_holds(self, sighting_ids: list[int], recording_ids: list[str],
                      release_all: bool = False, reason: str = "") -> int:
        """Release the requisition's holds on these targets (or all of them)."""
        from relecture.requisitions import retention

        with self._holds(sighting_ids, recording_ids) as cat:
            return retention.release_holds(cat, self.home, self.site, self.user,
                                           self.requisition, sighting_ids, recording_ids,
                                           release_all, reason)

    @contextmanager
    def _holds(self, sighting_ids, recording_ids) -> Iterator[Catalog]:
        """The writable catalog, inside the refusal audit of "legal_hold"."""
        with self._audited("legal_hold", {"sightings": list(sighting_ids), "counts": {
                "recordings_asked": len(recording_ids)}}):
            if self.requisition is None:
                raise AccessDenied("a legal hold is tied to a requisition: --requisition REF")
            with open_catalog(self.home, read_only=False) as cat:
                yield cat

    def list_holds(self, reference: Optional[str] = None, include_released: bool = False
                   ) -> list[dict]:
        """Holds (of requisition `reference`) of the requisitions this user may read."""
        from relecture.requisitions.requisition import get_requisition
        from relecture.requisitions.retention import list_holds

        access.authorise(self.site, self.user, "legal_hold")
        with open_catalog(self.home) as cat:
            rows = list_holds(cat, reference, active=not include_released)
        readable: dict[str, bool] = {}
        for r in rows:
            ref = r["requisition"]
            if ref not in readable:
                readable[ref] = access.can_read(self.site, self.user,
                                                get_requisition(self.home, ref))
        return [r for r in rows if readable[r["requisition"]]]

    # -- retention ----------------------------------------------------------------------------
    def purge(self, before: datetime | None = None, dry_run: bool = False):
        """Purge what is past retention (`before`: naive local time or aware, to purge more);
        a `retention.PurgeReport`. Operators only; audited (a dry run is not)."""
        from relecture.requisitions.retention import purge, retention_cutoff
        from relecture.search.query_time import flag_time
        from relecture.times import DEFAULT_TZ

        with refusals.audited(self.home, self.site, self.user, "purge"):
            access.authorise(self.site, self.user, "purge")
        cutoff = retention_cutoff(self.site, flag_time(before, DEFAULT_TZ))
        with open_catalog(self.home, read_only=False) as cat:
            return purge(cat, self.home, self.site, self.user, cutoff, dry_run)

    # -- requisitions (opening and closing are checked and audited in `requisition`) ------
    def requisitions(self, status: Optional[str] = None) -> list["Requisition"]:
        """The requisitions (open or closed ones) this user may read, oldest first."""
        from relecture.requisitions.requisition import list_requisitions

        return [r for r in list_requisitions(self.home, status)
                if access.can_read(self.site, self.user, r)]

    def read_requisition(self, reference: str) -> "Requisition":
        """Requisition `reference`, when this user may read it."""
        from relecture.requisitions.requisition import get_requisition

        req = get_requisition(self.home, reference)
        if not access.can_read(self.site, self.user, req):
            raise AccessDenied(f"{self.user} may not read requisition {req.reference}")
        return req

    # -- reading the audit (not itself audited) -----------------------------------------------
    def audit_extract(self) -> list[dict]:
        """Every audit record made under the requisition, in chain order."""
        req = self.requisition
        if req is None:
            raise UsageError("name the requisition: --requisition REF")
        access.authorise(self.site, self.user, "audit_read")
        if not access.can_read(self.site, self.user, req):
            raise AccessDenied(f"{self.user} may not read the audit of requisition "
                               f"{req.reference}")
        return audit.extract(self.home.audit_log, req.reference)

    def transparency(self, year: int, public_key: Path | None = None) -> dict:
        """The yearly counts from the verified audit log (`transparency.transparency_report`)."""
        from relecture.requisitions.transparency import transparency_report

        access.authorise(self.site, self.user, "audit_read")
        return transparency_report(self.home, year, public_key)


def _text_encoder(query, notes: list[str]):
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
        notes.append(str(e))
        return None
