"""Refused actions are audited too: who asked for what (as references) and why it was refused.

An access check that refuses raises `AccessDenied`; `audited` turns that refusal into a
"refused" event through the one audit write path (`audit.append`) before letting it go on to
the user. Callers name what was asked before they check anything, so the entry says what a
refused user tried to reach (sightings, cameras, a query's HMAC), never what is there.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from relecture.errors import AccessDenied
from relecture.requisitions import audit
from relecture.requisitions.access import ACTION_ROLES
from relecture.requisitions.site import Site
from relecture.settings import Home

if TYPE_CHECKING:
    from relecture.requisitions.requisition import Requisition


@contextmanager
def audited(home: Home, site: Site, user: str, action: str,
            requisition: "Requisition | None" = None,
            asked: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Run the block; when it raises AccessDenied, audit the refusal of `action`, then re-raise.

    `asked` holds audit object references (see `audit.OBJECT_KEYS`) of what was asked.
    """
    try:
        yield
    except AccessDenied as refusal:
        audit.append(home, refused_event(site, user, action, requisition, asked or {},
                                         str(refusal)), site.audit_checkpoint_every)
        raise


def refused_event(site: Site, user: str, action: str, requisition: "Requisition | None",
                  asked: Mapping[str, Any], why: str) -> audit.AuditEvent:
    """The "refused" event: the role the user would have acted in (null when undeclared)."""
    declared = {u.name: u for u in site.users}.get(user)
    roles = declared.roles if declared else ()
    role = next((r for r in ACTION_ROLES[action] if r in roles), roles[0] if roles else None)
    return audit.AuditEvent(
        actor=user, role=role, action=action, objects=dict(asked),
        requisition=requisition.reference if requisition else None,
        requisition_type=requisition.type if requisition else None,
        reason=why, result="refused")
