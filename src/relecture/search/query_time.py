"""Days and times of day in a search phrase, and the UTC windows they make.

Part of `query.parse_query` (its docstring lists the decisions: French day/month order,
a time without a day is its latest occurrence or, under a requisition, each of its days
(`on_days`), "after T", "before T", "vers 14h", ranges across midnight, day parts).
Times are the camera's local time in the query's zone; windows are naive UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relecture.errors import QueryError
from relecture.search import lexicon as lx
from relecture.search.query_text import Text

if TYPE_CHECKING:
    from relecture.search.query import Query

NIGHT = (20 * 60, 30 * 60)
DAY_PARTS = {
    "matin": (6 * 60, 12 * 60), "morning": (6 * 60, 12 * 60),
    "apres-midi": (12 * 60, 18 * 60), "afternoon": (12 * 60, 18 * 60),
    "soir": (18 * 60, 24 * 60), "soiree": (18 * 60, 24 * 60), "evening": (18 * 60, 24 * 60),
    "nuit": NIGHT, "night": NIGHT,
}
AROUND_MIN = 30  # a single time "14h" covers 13:30-14:30


@dataclass(frozen=True)
class TimeWindow:
    """A half-open interval [start, end) of naive UTC instants; None is unbounded.

    `wall_clock` windows were read as local times ("hier 8h-9h") and are re-read in each
    camera's own zone; others ("last 2 hours", an aware --from) are absolute instants.
    """

    start: datetime | None
    end: datetime | None
    wall_clock: bool = True


def in_camera_zone(window: TimeWindow, query_tz: str, camera_tz: str) -> TimeWindow:
    """`window` as a camera in `camera_tz` meets it: a wall-clock window read in `query_tz`
    ("8h-9h") is re-read as the same wall-clock times in the camera's zone; an absolute
    window is unchanged."""
    if not window.wall_clock or camera_tz == query_tz:
        return window

    def reread(t: datetime | None) -> datetime | None:
        return local_to_utc(utc_to_local(t, query_tz), camera_tz) if t else None

    return TimeWindow(reread(window.start), reread(window.end), wall_clock=False)


def zone(name: str) -> ZoneInfo:
    """The time zone, or QueryError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"unknown time zone {name!r} (expected e.g. Europe/Paris)") from None


def local_to_utc(local: datetime, tz: str) -> datetime:
    """Naive local wall time in `tz` -> naive UTC."""
    return local.replace(tzinfo=zone(tz)).astimezone(timezone.utc).replace(tzinfo=None)


def utc_to_local(utc: datetime, tz: str) -> datetime:
    """Naive UTC -> naive local wall time in `tz`."""
    return utc.replace(tzinfo=timezone.utc).astimezone(zone(tz)).replace(tzinfo=None)


def camera_time(utc: datetime, tz: str | None, clock_offset_s: float | None) -> datetime:
    """Naive UTC -> what a camera's clock showed then: its zone (the default when unknown)
    plus its clock offset."""
    from relecture.times import DEFAULT_TZ

    return utc_to_local(utc, tz or DEFAULT_TZ) + timedelta(seconds=clock_offset_s or 0.0)


def flag_time(value: datetime | None, tz: str) -> datetime | None:
    """A command-line instant as naive UTC: aware values keep their zone, naive ones are `tz`."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return local_to_utc(value, tz)


_MER = r"[ap]\.?m\.?(?![a-z])"
_TIME = (
    r"(?:\d{1,2}\s?h(?:\d{2})?(?![a-z0-9])|\d{1,2}\s?heures?(?:\s?\d{2})?(?![a-z0-9])"
    rf"|\d{{1,2}}:\d{{2}}(?:\s?{_MER})?|\d{{1,2}}(?:[.:]\d{{2}})?\s?{_MER}"
    r"|midi|minuit|noon|midnight)"
)
_BARE = r"\d{1,2}(?![\d:/.])"
_TO = r"(?:-|a|au|to|till|until|jusqu'?a|through)"
_BETWEEN = re.compile(
    rf"\b(?:entre|between)\s+(?P<a>{_TIME}|{_BARE})\s*(?:et|and|-)\s*(?P<b>{_TIME})"
)
_RANGE = re.compile(
    rf"(?:\b(?:de|from|du)\s+)?(?<![\w:])(?P<a>{_TIME}|{_BARE})\s*{_TO}\s*(?P<b>{_TIME})"
)
_AFTER = re.compile(rf"\b(?:apres|after|a partir de|a compter de|des|since|depuis|from)\s+(?P<t>{_TIME})")
_BEFORE = re.compile(rf"\b(?:avant|before|jusqu'?a|until|till|up to)\s+(?P<t>{_TIME})")
_AROUND = re.compile(
    rf"(?:\b(?:vers|around|about|environ|autour de|aux alentours de|a|at)\s+)?(?<![\w:])(?P<t>{_TIME})"
)
_BAD_TIME = re.compile(r"(?<![\w:])\d{1,3}\s?h\d{0,3}(?![a-z])|(?<![\w:])\d{1,3}:\d{2,3}(?![\d])")

_MONTH = "|".join(sorted(lx.MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(lx.WEEKDAYS)
_ORD = r"(?:er|re|st|nd|rd|th)?"
_DATE_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_DATE_NUM = re.compile(r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})(?:[/.](?P<y>\d{4}|\d{2}))?\b")
_DATE_DM = re.compile(
    rf"\b(?:(?:{_WEEKDAY})\s+)?(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon>{_MONTH})\.?(?:\s+(?P<y>\d{{4}}))?\b"
)
_DATE_MD = re.compile(
    rf"\b(?:(?:{_WEEKDAY}),?\s+)?(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORD}(?:,?\s+(?P<y>\d{{4}}))?\b"
)
_RELATIVE_DAYS = (
    (re.compile(r"\b(?:avant[- ]hier|the day before yesterday|day before yesterday)\b"), -2),
    (re.compile(r"\b(?:hier|yesterday)\b"), -1),
    (re.compile(r"\b(?:aujourd'?\s?hui|today|ce jour)\b"), 0),
)
_DAYS_AGO = re.compile(r"\b(?:il y a\s+(?P<a>\d{1,3})\s+jours?|(?P<b>\d{1,3})\s+days?\s+ago)\b")
_WEEKDAY_RE = re.compile(rf"\b(?:(?:last)\s+)?(?P<w>{_WEEKDAY})(?:\s+(?P<last>dernier))?\b")
_LAST = r"(?:last|past|dernieres?|derniers?)"
_LAST_SPAN = re.compile(
    rf"\b(?:(?:depuis|dans) (?:la |les? )?(?:(?P<n1>\d{{1,3}}) )?(?:{_LAST} )?"
    rf"|(?:la |les? |the )?{_LAST} (?:(?P<n2>\d{{1,3}}) )?|les (?P<n3>\d{{1,3}}) {_LAST} )"
    r"(?P<u>heures?|hours?|jours?|days?|minutes?|mins?)\b"
)
_NAMED_SPANS = (
    (re.compile(r"\b(?:cette nuit|la nuit derniere|last night|overnight)\b"), -1, NIGHT),
    (re.compile(r"\b(?:ce matin|this morning)\b"), 0, DAY_PARTS["matin"]),
    (re.compile(r"\b(?:cet apres[- ]midi|this afternoon)\b"), 0, DAY_PARTS["apres-midi"]),
    (re.compile(r"\b(?:ce soir|this evening|tonight)\b"), 0, DAY_PARTS["soir"]),
)
_DAY_PART = re.compile(r"\b(?P<p>matin|morning|apres[- ]midi|afternoon|soiree|soir|evening|nuit|night)\b")


def _minutes(token: str, meridiem: str | None = None) -> int:
    """Minutes after midnight of one time token ("14h30", "2pm", "midi"); QueryError if none."""
    t = token.replace(" ", "").replace(".", ":").rstrip(":")
    named = {"midi": 720, "noon": 720, "minuit": 0, "midnight": 0}
    if t in named:
        return named[t]
    m = re.fullmatch(r"(\d{1,2})(?:h|heures?)?(?::|h)?(\d{2})?(?:heures?)?(am|a:m|pm|p:m)?", t)
    if not m:
        raise QueryError(f"{token!r} is not a time of day")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    mer = (m.group(3) or meridiem or "").replace(":", "")
    if mer:
        if not 1 <= hour <= 12:
            raise QueryError(f"{token!r} is not a time of day (12-hour clock: 1 to 12)")
        hour = hour % 12 + (12 if mer == "pm" else 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise QueryError(f"{token!r} is not a time of day")
    return hour * 60 + minute


def _meridiem(token: str) -> str | None:
    m = re.search(r"([ap])\.?m\.?$", token.strip())
    return m.group(1) + "m" if m else None


def _range(a: str, b: str) -> tuple[int, int]:
    """A start-end range in minutes from midnight; the end may pass 24:00 (next morning)."""
    mer_b = _meridiem(b)
    end = _minutes(b)
    if _meridiem(a) is None and mer_b is not None and not re.search(r"[h:]", a):
        # "2 to 4pm": the first end shares the meridiem unless that puts it after the end
        start = _minutes(a, mer_b)
        if start > end:
            start = _minutes(a, "am")
    else:
        start = _minutes(a)
    if end == start:
        raise QueryError(f"time range {a}-{b} is empty")
    if end < start:
        if start >= 12 * 60 and end <= 12 * 60:
            end += 24 * 60
        else:
            raise QueryError(
                f"time range {a} to {b} ends before it starts (a range crosses midnight only "
                f"from the afternoon or evening to the morning, e.g. 22h-2h)"
            )
    return start, end


def _date(y: int | None, m: int, d: int, today: date, shown: str) -> date:
    """A calendar date; without a year, its latest occurrence up to today."""
    try:
        if y is not None:
            return date(y + 2000 if y < 100 else y, m, d)
        date(2000, m, d)  # a leap year: accepts 29/02, refuses 30/02 and 31/04
    except ValueError:
        raise QueryError(f"{shown!r} is not a date that exists") from None
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = date(year, m, d)
        except ValueError:  # 29/02 outside a leap year
            continue
        if candidate <= today:
            return candidate
    raise QueryError(f"{shown!r} is not a date that exists")


def take_spans(t: Text, now_utc: datetime, today: date, tz: str) -> list[TimeWindow]:
    """Spans counted back from now ("les 2 dernières heures") and named parts of today or
    last night ("ce matin", "cette nuit"), as windows."""
    absolute: list[TimeWindow] = []
    for m in t.take(_LAST_SPAN):
        n = int(m["n1"] or m["n2"] or m["n3"] or 1)
        unit = m.group("u")
        span = timedelta(days=n) if unit.startswith(("jour", "day")) else \
            timedelta(minutes=n) if unit.startswith("min") else timedelta(hours=n)
        absolute.append(TimeWindow(now_utc - span, now_utc, wall_clock=False))
    for pattern, offset, span in _NAMED_SPANS:
        for _ in t.take(pattern):
            local = datetime.combine(today + timedelta(days=offset), time())
            absolute.append(TimeWindow(local_to_utc(local + timedelta(minutes=span[0]), tz),
                                       local_to_utc(local + timedelta(minutes=span[1]), tz)))
    return absolute


def take_dates(t: Text, today: date) -> list[date]:
    """The days named: ISO, numeric (French order), with a month name, relative, weekdays."""
    dates: list[date] = []
    for m in t.take(_DATE_ISO):
        dates.append(_date(int(m["y"]), int(m["m"]), int(m["d"]), today, m.group(0)))
    for m in t.take(_DATE_DM):
        dates.append(_date(int(m["y"]) if m["y"] else None, lx.MONTHS[m["mon"]], int(m["d"]),
                           today, t.original[m.start():m.end()]))
    for m in t.take(_DATE_MD):
        dates.append(_date(int(m["y"]) if m["y"] else None, lx.MONTHS[m["mon"]], int(m["d"]),
                           today, t.original[m.start():m.end()]))
    for m in t.take(_DATE_NUM):
        dates.append(_date(int(m["y"]) if m["y"] else None, int(m["m"]), int(m["d"]), today,
                           m.group(0)))
    for pattern, offset in _RELATIVE_DAYS:
        for _ in t.take(pattern):
            dates.append(today + timedelta(days=offset))
    for m in t.take(_DAYS_AGO):
        dates.append(today - timedelta(days=int(m["a"] or m["b"])))
    for m in t.take(_WEEKDAY_RE):
        back = (today.weekday() - lx.WEEKDAYS[m["w"]]) % 7
        if back == 0 and (m["last"] or m.group(0).startswith("last")):
            back = 7
        dates.append(today - timedelta(days=back))
    return dates


def take_ranges(t: Text) -> list[tuple[int, int]]:
    """Times of day as (start, end) minutes after midnight; the end may pass 24:00. A word
    that looks like a time but is none is refused (QueryError)."""
    ranges: list[tuple[int, int]] = []
    for pattern in (_BETWEEN, _RANGE):
        for m in t.take(pattern):
            ranges.append(_range(m["a"], m["b"]))
    for m in t.take(_AFTER):
        start = _minutes(m["t"])
        ranges.append((start, 30 * 60 if start >= 18 * 60 else 24 * 60))
    for m in t.take(_BEFORE):
        end = _minutes(m["t"])
        if end == 0:
            raise QueryError(f"{m.group(0)!r} is an empty time range")
        ranges.append((0, end))
    for m in t.take(_AROUND):
        at = _minutes(m["t"])
        ranges.append((at - AROUND_MIN, at + AROUND_MIN))
    for m in t.take(_DAY_PART):
        ranges.append(DAY_PARTS[m["p"].replace(" ", "-")])
    for m in t.take(_BAD_TIME):
        _minutes(m.group(0))  # raises: a time-like word that is not a time
        raise QueryError(f"{m.group(0)!r} is not a time of day")
    return ranges


def windows(dates: list[date], ranges: list[tuple[int, int]], absolute: list[TimeWindow],
             now_local: datetime, tz: str) -> tuple[TimeWindow, ...]:
    """Days x time ranges, in UTC. Ranges without a day take their latest start up to now."""
    out = list(absolute)
    days = list(dict.fromkeys(dates))
    for d in days:
        for start, end in ranges or [(0, 24 * 60)]:
            out.append(window(d, start, end, tz))
    if not days:
        for start, end in ranges:
            d = now_local.date()
            if datetime.combine(d, time()) + timedelta(minutes=start) > now_local:
                d -= timedelta(days=1)
            out.append(window(d, start, end, tz))
    return tuple(dict.fromkeys(out))


def on_days(query: "Query", spans: Iterable[tuple[datetime, datetime]]) -> "Query":
    """The query with its times asked without a day ("entre 14h et 16h") applied to each
    local day of the UTC `spans` (a requisition's time ranges) whose window meets a span,
    instead of their latest occurrence; other queries are returned as they are."""
    spans = list(spans)
    if not query.daily or not spans:
        return query
    days: set[date] = set()
    for start, end in spans:
        d = utc_to_local(start, query.tz).date()
        last = utc_to_local(end - timedelta(microseconds=1), query.tz).date()  # end excluded
        while d <= last:
            days.add(d)
            d += timedelta(days=1)
    spread = {d: [window(d, a, b, query.tz) for a, b in query.daily] for d in sorted(days)}
    meets = {d: ws for d, ws in spread.items()
             if any(w.start < e and s < w.end for w in ws for s, e in spans)}
    if not meets:
        return query  # none of the days has these hours: the search is refused as asked
    kept = [w for w in query.windows if not w.wall_clock]  # "last 2 hours" stays as asked
    windows = kept + [w for ws in meets.values() for w in ws]
    return replace(query, windows=tuple(dict.fromkeys(windows)), days=tuple(meets))


def hhmm(minutes: int) -> str:
    """Minutes after midnight as HH:MM (past 24:00 wraps: 26:00 is 02:00)."""
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def window(d: date, start: int, end: int, tz: str) -> TimeWindow:
    """Day `d` from `start` to `end` minutes after its local midnight in `tz`, in UTC."""
    base = datetime.combine(d, time())
    return TimeWindow(local_to_utc(base + timedelta(minutes=start), tz),
                      local_to_utc(base + timedelta(minutes=end), tz))


def fmt_window(w: TimeWindow, tz: str) -> str:
    """A window shown back in local time: a day, hours of a day, or from/to."""
    s = utc_to_local(w.start, tz) if w.start else None
    e = utc_to_local(w.end, tz) if w.end else None
    if s and e:
        if s.time() == time() and e == s + timedelta(days=1):
            return f"{s:%d/%m/%Y}"
        if e.date() == s.date():
            return f"{s:%d/%m/%Y %H:%M}-{e:%H:%M}"
        if e == datetime.combine(s.date() + timedelta(days=1), time()):
            return f"{s:%d/%m/%Y %H:%M}-24:00"
        if e - s < timedelta(days=1):
            return f"{s:%d/%m/%Y %H:%M}-{e:%H:%M} (next day)"
        return f"{s:%d/%m/%Y %H:%M} to {e:%d/%m/%Y %H:%M}"
    if s:
        return f"from {s:%d/%m/%Y %H:%M}"
    if e:
        return f"until {e:%d/%m/%Y %H:%M}"
    return "any time"
