"""The catalog's read side: typed records of what is stored, and the SQL that reads them.

`SightingRef` is what an access check needs of a sighting (`access.check_hits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SightingRef:
    """Where and when a sighting is: enough to check it against a requisition's scope."""

    sighting_id: int
    camera: str
    first_utc: datetime | None
    last_utc: datetime | None


def sighting_refs(db, ids: list[int]) -> list[SightingRef]:
    """The refs of each of `ids` that exists, in the order asked (an unknown id is left out:
    `access.check_hits` refuses it as it refuses one out of scope)."""
    if not ids:
        return []
    rows = db.execute("SELECT sighting_id, camera, first_utc, last_utc FROM sightings "
                      "WHERE sighting_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()
    found = {r[0]: SightingRef(*r) for r in rows}
    return [found[i] for i in ids if i in found]
