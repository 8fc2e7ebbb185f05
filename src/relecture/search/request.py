"""A search as asked: the phrase and the flags that replace parts of it, turned into a
`Query` and into the line the audit log keeps (as an HMAC reference)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Optional

from relecture.errors import UsageError
from relecture.search.query import Query, merge_flags, parse_query
from relecture.search.query_time import on_days
from relecture.times import DEFAULT_TZ, parse_instant


@dataclass(frozen=True)
class SearchRequest:
    """What the investigator typed: `text` and flags (None or empty: keep the text's).

    `start`/`end` are ISO 8601 as typed (camera local time unless they carry an offset or
    `utc`); `strict` makes the colours, body styles and direction asked filters instead of
    rankings.
    """

    text: str = ""
    cameras: tuple[str, ...] = ()
    start: Optional[str] = None
    end: Optional[str] = None
    types: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    plate: Optional[str] = None
    like: Optional[int] = None
    strict: bool = False
    utc: bool = False

    def query(self, now: datetime, scope_cameras: Iterable[str] = (),
              scope_ranges: Iterable[tuple[datetime, datetime]] = ()) -> Query:
        """The query understood relative to `now`; cameras typed as "cam 3" or "3" named as
        `scope_cameras` (the requisition's) name them, and hours asked without a day apply
        to each day of `scope_ranges` (the requisition's UTC ranges)."""
        query = parse_query(self.text, now, "UTC" if self.utc else DEFAULT_TZ)
        query = merge_flags(query, cameras=self.cameras or None,
                            start=parse_instant(self.start, "--from"),
                            end=parse_instant(self.end, "--to"), types=self.types or None,
                            colours=self.colours or None, plate=self.plate, like=self.like,
                            strict=self.strict)
        query = on_days(query, scope_ranges)
        if self.strict and not (query.colours or query.styles or query.travel):
            raise UsageError("--strict filters on the colour, body style or direction asked: name "
                             "a colour, a style or a direction")
        if self.utc:  # times typed are instants in UTC, not wall-clock times of each camera
            query = replace(query, windows=tuple(replace(w, wall_clock=False)
                                                 for w in query.windows))
        if query.cameras and scope_cameras:
            query = replace(query, cameras=tuple(_named_as(query.cameras, scope_cameras)))
        return query

    def line(self) -> str:
        """The search as one command line (what the audit's query HMAC is computed over)."""
        return shlex.join([self.text, *(f"--{k}={v}" for k, v in (
            ("camera", ",".join(self.cameras)), ("from", self.start), ("to", self.end),
            ("type", ",".join(self.types)), ("colour", ",".join(self.colours)),
            ("plate", self.plate), ("like", self.like), ("utc", self.utc or None),
            ("strict", self.strict or None)) if v)])


def _named_as(asked: Iterable[str], scope_cameras: Iterable[str]) -> list[str]:
    """Cameras typed as "cam 3", "CAM03" or "3" named as the requisition names them."""
    from relecture.search.filters import camera_key

    by_key = {camera_key(c): c for c in scope_cameras}
    return list(dict.fromkeys(by_key.get(camera_key(a), a) for a in asked))
