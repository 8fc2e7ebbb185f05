"""What a requisition covers: a set of cameras times a set of UTC time ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from relecture.errors import UsageError


@dataclass(frozen=True)
class TimeRange:
    """A half-open interval [start, end) of naive UTC instants."""

    start: datetime
    end: datetime

    def overlaps(self, start: datetime | None, end: datetime | None) -> bool:
        """Whether [start, end] meets this range; None is unbounded on that side."""
        return (start is None or start < self.end) and (end is None or end >= self.start)


@dataclass(frozen=True)
class Scope:
    """Every listed camera during every listed range (cameras x ranges)."""

    cameras: tuple[str, ...]
    ranges: tuple[TimeRange, ...]

    def allows(self, camera: str, start: datetime | None, end: datetime | None) -> bool:
        """Whether something seen on `camera` from `start` to `end` (naive UTC) is in scope.

        A sighting is in scope when it meets a range, even if it began or ended just outside.
        """
        return camera in self.cameras and any(r.overlaps(start, end) for r in self.ranges)

    def as_dict(self) -> dict:
        return {"cameras": list(self.cameras),
                "ranges": [[iso_utc(r.start), iso_utc(r.end)] for r in self.ranges]}


def make_scope(cameras: Iterable[str], ranges: Iterable[tuple[datetime, datetime]]) -> Scope:
    """A checked `Scope`. Aware datetimes are converted to UTC; naive ones are taken as UTC.

    Raises UsageError for no camera, no range, an empty or reversed range.
    """
    cams = tuple(dict.fromkeys(str(c).strip() for c in cameras))
    if not cams or any(not c or c == "*" for c in cams):
        raise UsageError("a requisition names its cameras explicitly (at least one, no '*')")
    out = []
    for start, end in ranges:
        start, end = to_utc(start), to_utc(end)
        if not start < end:
            raise UsageError(f"time range {iso_utc(start)} .. {iso_utc(end)} is empty or reversed")
        out.append(TimeRange(start, end))
    if not out:
        raise UsageError("a requisition needs at least one time range")
    return Scope(cams, tuple(sorted(out, key=lambda r: (r.start, r.end))))


def scope_from_dict(data: dict) -> Scope:
    """The inverse of `Scope.as_dict`."""
    return Scope(tuple(data["cameras"]),
                 tuple(TimeRange(parse_utc(a), parse_utc(b)) for a, b in data["ranges"]))


def to_utc(value: datetime) -> datetime:
    """A naive UTC datetime: aware values are converted, naive ones taken as UTC already."""
    if not isinstance(value, datetime):
        raise UsageError(f"not a date and time: {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def parse_utc(text: str) -> datetime:
    """Read back what `iso_utc` wrote (or any ISO 8601 instant) as naive UTC."""
    try:
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise UsageError(f"not an ISO 8601 date and time: {text!r}") from None


def iso_utc(value: datetime) -> str:
    """A naive UTC datetime as ISO 8601 with a Z."""
    return value.isoformat() + "Z"
