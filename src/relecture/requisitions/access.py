"""Who may do what, where: roles per action, camera scopes, requisition scopes.

Every check raises `AccessDenied` (exit code 5) with a reason a user can act on, and returns
a `Grant`: the user and the role that allowed the action, which the audit entry records.
Search, view and export need an open requisition; what they may reach is the requisition's
cameras (those the user may see) during its time ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from relecture.errors import AccessDenied
from relecture.requisitions.audit import AuditEvent
from relecture.requisitions.scope import Scope
from relecture.requisitions.site import Site

if TYPE_CHECKING:
    from relecture.requisitions.requisition import Requisition

_INVESTIGATE = ("investigator", "magistrate")
# Roles allowed each action, in the order preferred when a user holds several.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "index_job": ("operator",),
    "purge": ("operator",),
    "config_change": ("operator",),
    "legal_hold": _INVESTIGATE,
    "search": _INVESTIGATE,
    "view": _INVESTIGATE,
    "export": _INVESTIGATE,
    "synopsis": _INVESTIGATE,
    "requisition_open": _INVESTIGATE,
    "requisition_close": _INVESTIGATE,
    # Reading the audit log (not itself an audited action): auditors and magistrates read
    # it all; an investigator reads the extract of a requisition within their cameras.
    "audit_read": ("auditor", "magistrate", "investigator"),
}


@dataclass(frozen=True)
class Grant:
    """Permission given to `user`, acting as `role`."""

    user: str
    role: str

    def event(self, action: str, requisition: "Requisition | None" = None, *,
              objects: Mapping[str, Any] | None = None, reason: str | None = None,
              result_count: int | None = None, result: str = "done") -> AuditEvent:
        """The audit event for `action` done under this grant (and `requisition`, if any).

        `reason` defaults to the requisition's reason.
        """
        return AuditEvent(
            actor=self.user, role=self.role, action=action, objects=dict(objects or {}),
            requisition=requisition.reference if requisition else None,
            requisition_type=requisition.type if requisition else None,
            reason=reason if reason is not None else (requisition.reason if requisition else ""),
            result_count=result_count, result=result)


def authorise(site: Site, user: str, action: str) -> Grant:
    """The grant for `user` to do `action`; AccessDenied for an unknown user or no role."""
    allowed = ACTION_ROLES[action]
    roles = site.user(user).roles
    for role in allowed:
        if role in roles:
            return Grant(user, role)
    raise AccessDenied(f"{user} ({', '.join(roles)}) may not {action.replace('_', ' ')}: "
                       f"needs role {' or '.join(allowed)}")


def check_index(site: Site, user: str, requisition: "Requisition | None"
                ) -> tuple[Grant, Scope | None]:
    """May `user` run an index job, standing (no requisition) or for `requisition`?

    An operator may; for a requisition it must be open, and the job reaches only its
    cameras that the user may see, during its time ranges (the returned scope; None for a
    standing index)."""
    grant = authorise(site, user, "index_job")
    if requisition is None:
        return grant, None
    req = _require_open(requisition, "index job")
    u = site.user(user)
    cameras = tuple(c for c in req.scope.cameras if u.sees(c))
    if not cameras:
        raise AccessDenied(f"{user} may see none of the cameras of requisition "
                           f"{req.reference}")
    return grant, Scope(cameras, req.scope.ranges)


def check_open(site: Site, user: str, scope: Scope) -> Grant:
    """May `user` open a requisition over `scope`? Only over cameras they may see."""
    grant = authorise(site, user, "requisition_open")
    _require_cameras(site, user, scope.cameras)
    return grant


def check_close(site: Site, user: str, requisition: "Requisition") -> Grant:
    """May `user` close `requisition`? Its opener, or a holder of the role who sees all of it."""
    grant = authorise(site, user, "requisition_close")
    if requisition.opened_by != user:
        _require_cameras(site, user, requisition.scope.cameras)
    return grant


def check_search(site: Site, user: str, requisition: "Requisition | None",
                 cameras: Iterable[str] | None = None,
                 windows: Iterable[tuple[datetime | None, datetime | None]] = ()
                 ) -> tuple[Grant, Scope]:
    """May `user` search these `cameras` and UTC `windows` under `requisition`?

    No cameras asked means all the requisition's cameras the user may see; no windows means
    the requisition's ranges. A camera or window outside the requisition or the user's scope
    is refused rather than silently dropped. Returns the grant and the scope the search
    engine must still apply to every hit (`Scope.allows`), since a window that overlaps the
    requisition's ranges may also reach beyond them.
    """
    req = _require_open(requisition, "search")
    grant = authorise(site, user, "search")
    u = site.user(user)
    if cameras is None:
        allowed = tuple(c for c in req.scope.cameras if u.sees(c))
        if not allowed:
            raise AccessDenied(f"{user} may see none of the cameras of requisition "
                               f"{req.reference}")
    else:
        allowed = tuple(dict.fromkeys(str(c) for c in cameras))
        _require_cameras(site, user, allowed)
        outside = [c for c in allowed if c not in req.scope.cameras]
        if outside:
            raise AccessDenied(f"camera {', '.join(outside)} is outside requisition "
                               f"{req.reference} (cameras {', '.join(req.scope.cameras)})")
    for start, end in windows:
        if not any(r.overlaps(start, end) for r in req.scope.ranges):
            raise AccessDenied(f"the time asked is outside requisition {req.reference}'s "
                               "time ranges")
    return grant, Scope(allowed, req.scope.ranges)


def check_synopsis(site: Site, user: str, requisition: "Requisition | None", camera: str,
                   start: datetime, end: datetime) -> tuple[Grant, Scope]:
    """May `user` make a synopsis of `camera` over the UTC window [start, end) under
    `requisition`? The camera must be one of its cameras the user may see, and the whole
    window inside one of its time ranges (the synopsis shows the window's footage itself, so
    a window reaching beyond the ranges is refused, not cut). Returns the grant and the
    scope the search of its passages applies."""
    req = _require_open(requisition, "synopsis")
    grant = authorise(site, user, "synopsis")
    _require_cameras(site, user, [camera])
    if camera not in req.scope.cameras:
        raise AccessDenied(f"camera {camera} is outside requisition {req.reference} "
                           f"(cameras {', '.join(req.scope.cameras)})")
    if not any(r.start <= start and end <= r.end for r in req.scope.ranges):
        raise AccessDenied(f"the window asked is not inside one of requisition "
                           f"{req.reference}'s time ranges")
    return grant, Scope((camera,), req.scope.ranges)


def check_hits(site: Site, user: str, requisition: "Requisition | None", ids: Iterable[int],
               hits: Iterable, action: str = "export") -> Grant:
    """May `user` `action` (view, export, hold...) the sightings `ids` under `requisition`?

    `hits` are those of `ids` that exist, with `sighting_id`, `camera`, `first_utc`,
    `last_utc` (like `search.engine.Hit`). Refused as a whole if any id is unknown, outside
    the user's cameras or outside the requisition's scope, with one answer for all three so
    that a refusal never tells whether a sighting exists beyond the scope.
    """
    req = _require_open(requisition, action)
    grant = authorise(site, user, action)
    u = site.user(user)
    inside = {h.sighting_id for h in hits
              if u.sees(h.camera) and req.scope.allows(h.camera, h.first_utc, h.last_utc)}
    if outside := [i for i in ids if i not in inside]:
        raise AccessDenied(out_of_reach("sighting", ", ".join(f"#{i}" for i in outside), req,
                                        user))
    return grant


def out_of_reach(kind: str, names: str, requisition: "Requisition", user: str) -> str:
    """The one refusal for a thing that is unknown or outside the scope (same words for both)."""
    return (f"no {kind} {names} within requisition {requisition.reference} and {user}'s "
            "cameras")


def can_read(site: Site, user: str, requisition: "Requisition") -> bool:
    """Whether `user` may list `requisition` or read its audit extract."""
    u = site.user(user)
    if any(r in u.roles for r in ("auditor", "magistrate")):
        return True
    return "investigator" in u.roles and all(u.sees(c) for c in requisition.scope.cameras)


def _require_open(requisition: "Requisition | None", action: str) -> "Requisition":
    if requisition is None:
        raise AccessDenied(f"{action} needs an open requisition (`relecture requisition open`)")
    if requisition.status != "open":
        raise AccessDenied(f"requisition {requisition.reference} is closed: no {action} "
                           "under it")
    return requisition


def _require_cameras(site: Site, user: str, cameras: Iterable[str]) -> None:
    u = site.user(user)
    if hidden := [c for c in cameras if not u.sees(c)]:
        raise AccessDenied(f"{user} may not see camera {', '.join(hidden)}")
