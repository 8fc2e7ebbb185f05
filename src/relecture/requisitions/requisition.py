"""Requisitions: the legal basis every search and export is made under.

Stored one JSON file per requisition in `<home>/requisitions/`, each replaced atomically;
opening and closing run under an exclusive lock (`requisitions/.lock`), so concurrent
commands never lose an update, and readers never see half a file. Opening and closing are
audited (`requisition_open`, `requisition_close`) before the file changes, so a requisition
is never usable without its audit entry.

Types (code of criminal procedure): "60-1" (art. 60-1 CPP, OPJ requisition during a
flagrance inquiry), "77-1-1" (preliminary inquiry, authorised by the prosecutor), "99-3"
(judicial investigation, by the investigating judge), "flagrance". 77-1-1 and 99-3 name the
authorising magistrate; 60-1 and flagrance may give "flagrance" instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from relecture.errors import NotFound, UsageError
from relecture.requisitions import access, audit, refusals
from relecture.files import create_once, write_atomic
from relecture.requisitions.scope import (Scope, iso_utc, make_scope, parse_utc,
                                          scope_from_dict)
from relecture.requisitions.site import Site
from relecture.settings import Home

TYPES = {"60-1": "art. 60-1 CPP", "77-1-1": "art. 77-1-1 CPP", "99-3": "art. 99-3 CPP",
         "flagrance": "flagrance"}
NEEDS_MAGISTRATE = ("77-1-1", "99-3")
FLAGRANCE = "flagrance"
_MATRICULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Requisition:
    """One requisition: its legal fields, scope and lifecycle (times in naive UTC)."""

    reference: str  # procedure / PV number, as written on the requisition
    type: str  # a key of TYPES
    magistrate: str  # authorising magistrate, or "flagrance"
    officer_matricule: str
    officer_service: str
    reason: str
    scope: Scope
    status: str  # "open" or "closed"
    opened_by: str
    opened_utc: datetime
    closed_by: str | None = None
    closed_utc: datetime | None = None

    @property
    def type_label(self) -> str:
        return TYPES[self.type]

    def as_dict(self) -> dict:
        """JSON-ready fields (the stored form)."""
        return {"reference": self.reference, "type": self.type, "magistrate": self.magistrate,
                "officer": {"matricule": self.officer_matricule,
                            "service": self.officer_service},
                "reason": self.reason, "scope": self.scope.as_dict(), "status": self.status,
                "opened_by": self.opened_by, "opened_utc": iso_utc(self.opened_utc),
                "closed_by": self.closed_by,
                "closed_utc": iso_utc(self.closed_utc) if self.closed_utc else None}


def open_requisition(home: Home, site: Site, user: str, *, reference: str, type: str,
                     magistrate: str, officer_matricule: str, officer_service: str,
                     reason: str, cameras: Iterable[str],
                     ranges: Iterable[tuple[datetime, datetime]]) -> Requisition:
    """Check, audit and store a new open requisition; return it.

    `ranges` are UTC (aware, or naive UTC): the caller converts camera-local input.
    UsageError for a malformed field or a reference already used; AccessDenied when `user`
    may not open requisitions or names a camera outside their scope.
    """
    kind = _type(type)
    req = Requisition(
        reference=_text(reference, "reference", 100), type=kind,
        magistrate=_magistrate(magistrate, kind),
        officer_matricule=_matricule(officer_matricule),
        officer_service=_text(officer_service, "officer service", 200),
        reason=_text(reason, "reason", 2000), scope=make_scope(cameras, ranges),
        status="open", opened_by=user, opened_utc=_now())
    with refusals.audited(home, site, user, "requisition_open", req,
                          {"cameras": list(req.scope.cameras)}):
        grant = access.check_open(site, user, req.scope)
    with _locked(home) as d:
        path = _file(d, req.reference)
        if path.exists():
            raise UsageError(f"requisition {req.reference} already exists; use a new reference")
        audit.append(home, grant.event("requisition_open", req,
                                       objects={"cameras": list(req.scope.cameras)}),
                     site.audit_checkpoint_every)
        create_once(path, _dump(req), mode=0o640)
    return req


def close_requisition(home: Home, site: Site, user: str, reference: str,
                      reason: str = "") -> Requisition:
    """Audit and mark `reference` closed; no search or export is allowed under it after.

    NotFound for an unknown reference, UsageError when already closed.
    """
    with _locked(home) as d:
        req = _read(_file(d, reference), reference)
        if req.status != "open":
            raise UsageError(f"requisition {reference} is already closed")
        with refusals.audited(home, site, user, "requisition_close", req):
            grant = access.check_close(site, user, req)
        audit.append(home, grant.event("requisition_close", req, reason=reason or req.reason),
                     site.audit_checkpoint_every)
        closed = replace(req, status="closed", closed_by=user, closed_utc=_now())
        write_atomic(_file(d, reference), _dump(closed))
    return closed


def get_requisition(home: Home, reference: str) -> Requisition:
    """The requisition `reference`; NotFound when there is none."""
    return _read(_file(_dir(home), reference), reference)


def list_requisitions(home: Home, status: str | None = None) -> list[Requisition]:
    """Every requisition (or those with `status`), oldest first."""
    if status not in (None, "open", "closed"):
        raise UsageError(f"status is open or closed, not {status!r}")
    d = _dir(home)
    reqs = [_load(json.loads(p.read_bytes())) for p in sorted(d.glob("*.json"))] if d.exists() \
        else []
    return sorted((r for r in reqs if status in (None, r.status)),
                  key=lambda r: (r.opened_utc, r.reference))


# -- validation -------------------------------------------------------------------------------
def _text(value: str, what: str, limit: int) -> str:
    value = " ".join(str(value or "").split())
    if not value:
        raise UsageError(f"the {what} is required")
    if len(value) > limit or _CONTROL.search(value):
        raise UsageError(f"the {what} must be printable and at most {limit} characters")
    return value


def _type(value: str) -> str:
    key = re.sub(r"\s+|\.|^art|cpp$", "", str(value).strip().lower())
    if key not in TYPES:
        raise UsageError(f"requisition type {value!r} is not one of: {', '.join(TYPES)}")
    return key


def _magistrate(value: str, kind: str) -> str:
    name = _text(value, "authorising magistrate (or 'flagrance')", 200)
    if name.lower() == FLAGRANCE:
        if kind in NEEDS_MAGISTRATE:
            raise UsageError(f"a {TYPES[kind]} requisition names its authorising magistrate")
        return FLAGRANCE
    return name


def _matricule(value: str) -> str:
    value = str(value or "").strip()
    if not _MATRICULE.fullmatch(value):
        raise UsageError(f"officer matricule {value!r}: 1-32 letters, digits, '.', '/' or '-'")
    return value


# -- storage ----------------------------------------------------------------------------------
def _dir(home: Home) -> Path:
    return home.root / "requisitions"


def _file(d: Path, reference: str) -> Path:
    """A readable, collision-free file name: a slug of the reference and its hash."""
    ref = " ".join(str(reference).split())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", ref).strip("._")[:60] or "ref"
    return d / f"{slug}-{hashlib.sha256(ref.encode('utf-8')).hexdigest()[:12]}.json"


@contextmanager
def _locked(home: Home):
    d = _dir(home)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield d
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(path: Path, reference: str) -> Requisition:
    if not path.exists():
        raise NotFound(f"no requisition {reference!r} (see `relecture requisition list`)")
    return _load(json.loads(path.read_bytes()))


def _dump(req: Requisition) -> bytes:
    return json.dumps(req.as_dict(), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _load(d: dict) -> Requisition:
    return Requisition(
        reference=d["reference"], type=d["type"], magistrate=d["magistrate"],
        officer_matricule=d["officer"]["matricule"], officer_service=d["officer"]["service"],
        reason=d["reason"], scope=scope_from_dict(d["scope"]), status=d["status"],
        opened_by=d["opened_by"], opened_utc=parse_utc(d["opened_utc"]),
        closed_by=d.get("closed_by"),
        closed_utc=parse_utc(d["closed_utc"]) if d.get("closed_utc") else None)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
