"""Times as users type them, and the one default camera time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from relecture.errors import UsageError

# The zone of a camera, a search or a requisition range when nothing says otherwise.
DEFAULT_TZ = "Europe/Paris"


def iso_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time as people write it (a space for the T is fine; naive =
    local time); ValueError when it is not one."""
    return datetime.fromisoformat(text.strip().replace(" ", "T", 1))


def parse_instant(text: Optional[str], what: str) -> Optional[datetime]:
    """`iso_instant(text)` typed on the command line, or None; `what` (the flag, e.g.
    "--from") names it in the UsageError."""
    if text is None:
        return None
    try:
        return iso_instant(text)
    except ValueError:
        raise UsageError(f"{what} {text!r}: use ISO 8601, e.g. 2023-01-30T14:00 or "
                         "2023-01-30T14:00+01:00") from None
