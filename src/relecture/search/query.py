"""Investigators' search phrases, French or English, turned into a structured `Query`.

`parse_query(text, now, default_tz)` understands, in any order: cameras ("caméra 12",
"cam 3, 4", "caméras 1 à 5", "cam12"), days ("hier", "yesterday", "le 30/01/2023",
"30 janvier", "2023-01-30", "lundi"), times ("14h-16h", "de 14h à 16h30", "2pm to 4pm",
"after 22h", "before 8h", "vers 14h", "ce matin"), vehicle types, colours, body styles
("break", "taxi", "dépanneuse"), a direction of travel ("qui s'éloigne", "sortant à gauche":
`query_travel.py`), a plate pattern ("plaque AB-123-CD", "AB123CD", "AB-1?3-*",
"1234 AB 56") and a like-sighting ("comme #42").
Stop words are dropped; other words are kept as free text for embedding ranking. Anything
else ("-1", "%", a lone "caméra" or "plaque") is refused with a QueryError naming it:
dropping it would run a wider search than the one asked.

Decisions a user may need to know (`describe` shows the result of each):
- Times are the camera's local time (true time; the camera's clock offset is corrected by
  the catalog). Day/month order is French: 03/04 is 3 April.
- A time without a day is its most recent occurrence: "14h-16h" at 10:00 means yesterday;
  under a requisition it is each day of the requisition's ranges instead (`on_days`).
- A day without a year is its most recent occurrence up to today.
- "after T" runs to midnight, or, for T from 18:00, to 06:00 the next morning (the end of
  that night); "before T" starts at midnight; a single time "14h" means 13:30-14:30.
- A range whose end is before its start ("22h-2h") crosses midnight only when it starts in
  the afternoon or evening and ends in the morning; "de 16h à 14h" is refused.
- Night is 20:00-06:00, morning 06:00-12:00, afternoon 12:00-18:00, evening 18:00-24:00.
- Negations ("pas rouge", "not red", "sauf", "sans") are refused rather than ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relecture.errors import QueryError
from relecture.search import lexicon as lx
from relecture.search.plates import PlatePattern
from relecture.search.query_travel import TravelAsk, describe_travel, take_travel
from relecture.sightings import check_sighting_id
from relecture.times import DEFAULT_TZ

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


@dataclass(frozen=True)
class Query:
    """A search as understood: every field is a filter except `text` and `like` (ranking)
    and `colours`, `styles` and `travel`, which rank by their evidence unless `strict` makes
    them filters.

    Several values in one field mean any of them; fields combine with AND.
    `windows` are in UTC; `tz` is the zone they were read in (to show them back and to
    re-read them for cameras in another zone).
    """

    cameras: tuple[str, ...] = ()
    windows: tuple[TimeWindow, ...] = ()
    tz: str = DEFAULT_TZ
    types: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    plate: PlatePattern | None = None
    text: tuple[str, ...] = ()
    like: int | None = None
    styles: tuple[str, ...] = ()  # body styles (`indexer.body_style.STYLES`)
    travel: TravelAsk = TravelAsk()
    strict: bool = False
    # local time ranges (minutes after midnight) asked without a day: their windows are the
    # latest occurrence, until `on_days` spreads them over the days a requisition covers
    daily: tuple[tuple[int, int], ...] = ()
    days: tuple[date, ...] = ()  # the days `on_days` applied them to, to show them back

    @property
    def free_text(self) -> str:
        return " ".join(self.text)


# -- time helpers ---------------------------------------------------------------------------

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


def flag_time(value: datetime | None, tz: str) -> datetime | None:
    """A command-line instant as naive UTC: aware values keep their zone, naive ones are `tz`."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return local_to_utc(value, tz)


# -- normalisation --------------------------------------------------------------------------

def _fold(text: str) -> str:
    """Lower case without accents, one character for one (so spans map back to the input)."""
    out = []
    for c in text.lower().replace("\u2019", "'"):
        base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
        out.append(base if len(base) == 1 else c)
    return "".join(out).replace("\u2013", "-").replace("\u2014", "-")


# -- patterns -------------------------------------------------------------------------------

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

_CAM_ID = r"\d+[a-z]?(?![a-z0-9])"
_CAM_SEP = r"\s*(?:,|/|\+|&|-|(?:jusqu'?a|and|au|to|et|ou|or|a)\b)\s*"
_CAMERAS = re.compile(
    rf"\b(?:cameras?|cams?)\s*(?:n[o°]\.?\s*|#|numero\s*|number\s*|no\.?\s*)?"
    rf"(?P<list>{_CAM_ID}(?:{_CAM_SEP}{_CAM_ID})*)"
)
_PLATE_KW = re.compile(
    r"\b(?:plaques?|plates?|immatriculations?|immat|numberplate|registration|reg)\b"
    r"(?:\s+d'immatriculation)?\s*[:#]?\s*"
)
_LIKE = re.compile(
    r"\b(?:comme|like|similar to|similaire a|semblable a|ressemblant a|resembling)\s+"
    r"(?:(?:le|la|the|au|a)\s+)?(?:sighting|passage|vehicule|vehicle|observation)?\s*#\s*(?P<id>\d+)\b"
)
_SIV = re.compile(r"\b[a-z]{2}[\s-]?\d{3}[\s-]?[a-z]{2}\b")
_FNI = re.compile(r"\b\d{1,4}[\s-]?(?P<l>[a-z]{1,3})[\s-]?(?:\d{2}|2a|2b)\b")
_TOKEN = re.compile(r"[^\s,;!]+")
NEGATION_SCAN = re.compile(rf"\b({'|'.join(sorted(lx.NEGATIONS))})\b")


class _Text:
    """The folded text with the parts already understood blanked out."""

    def __init__(self, original: str):
        self.original = original
        self.folded = _fold(original)

    def take(self, pattern: re.Pattern) -> Iterable[re.Match]:
        """Yield each match of `pattern` and blank it out (matches are found left to right)."""
        for m in list(pattern.finditer(self.folded)):
            if self.folded[m.start():m.end()].strip() == "":
                continue
            yield m
            self.blank(m.start(), m.end())

    def blank(self, start: int, end: int) -> None:
        self.folded = self.folded[:start] + " " * (end - start) + self.folded[end:]

    def tokens(self) -> list[tuple[str, str, int, int]]:
        """Remaining tokens as (folded, original, start, end), edge punctuation dropped."""
        out = []
        for m in _TOKEN.finditer(self.folded):
            s, e = m.start(), m.end()
            while s < e and self.folded[s] in "\"'()[].:":
                s += 1
            while e > s and self.folded[e - 1] in "\"'()[].:":
                e -= 1
            if s < e:
                out.append((self.folded[s:e], self.original[s:e], s, e))
        return out


# -- parsing --------------------------------------------------------------------------------

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


def parse_query(text: str, now: datetime, default_tz: str = DEFAULT_TZ) -> Query:
    """Understand a search phrase (French or English, any order) relative to `now`.

    `now` is an aware datetime or naive UTC; it is never read from the clock here.
    Raises QueryError naming the words when a time, date, range or plate cannot be right.
    """
    zone(default_tz)
    now_utc = now.astimezone(timezone.utc).replace(tzinfo=None) if now.tzinfo else now
    now_local = utc_to_local(now_utc, default_tz)
    today = now_local.date()
    t = _Text(text)

    for word in NEGATION_SCAN.findall(t.folded):
        raise QueryError(
            f"negation ({word!r}) is not supported: search without it and read the results"
        )

    like = None
    for m in t.take(_LIKE):
        like = check_sighting_id(int(m.group("id")), "#" + m.group("id"))

    travel = take_travel(t)  # before times and cameras: "vers la caméra", "de gauche à droite"
    plate = _explicit_plate(t)

    dates: list[date] = []
    ranges: list[tuple[int, int]] = []
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
            absolute.append(TimeWindow(local_to_utc(local + timedelta(minutes=span[0]), default_tz),
                                       local_to_utc(local + timedelta(minutes=span[1]), default_tz)))
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

    cameras: list[str] = []
    for m in t.take(_CAMERAS):
        cameras.extend(_camera_list(m["list"]))

    if plate is None:
        plate = _implicit_plate(t)

    types: list[str] = []
    colours: list[str] = []
    styles: list[str] = []
    words: list[str] = []
    unknown: list[str] = []
    folded = t.folded
    for phrase, token in lx.PHRASES.items():
        folded = re.sub(rf"\b{re.escape(phrase)}\b", lambda m: token.ljust(len(m.group(0))), folded)
    t.folded = folded
    for word, original, _, _ in t.tokens():
        if elided := re.match(r"(?:l|d|qu|j|n|s|c)'(?=.)", word):
            word, original = word[elided.end():], original[elided.end():]
        found, style = lx.lookup_types(word), lx.lookup_style(word)
        if found or style:
            types.extend(x for x in found if x not in types)
            styles.extend(x for x in (style,) if x and x not in styles)
        elif colour := lx.lookup_colour(word):
            if colour not in colours:
                colours.append(colour)
        elif word in lx.STOP_WORDS or word in lx.MODIFIERS:
            continue
        elif re.fullmatch(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", word) and len(word) > 1 and \
                word not in {"cam", "cams", "camera", "cameras", "plaque", "plate"}:
            words.append(original)
        else:
            unknown.append(original)
    if unknown:  # dropping them would run a wider search than the one asked
        raise QueryError(f"not understood: {' '.join(unknown)} (rephrase, or use --camera, "
                         "--from, --to, --type, --colour, --plate)")

    return Query(
        cameras=tuple(dict.fromkeys(cameras)),
        windows=_windows(dates, ranges, absolute, now_local, default_tz),
        tz=default_tz,
        daily=() if dates else tuple(ranges),
        types=tuple(types),
        colours=tuple(colours),
        plate=plate,
        text=tuple(words),
        like=like,
        styles=tuple(styles),
        travel=travel,
    )


def _windows(dates: list[date], ranges: list[tuple[int, int]], absolute: list[TimeWindow],
             now_local: datetime, tz: str) -> tuple[TimeWindow, ...]:
    """Days x time ranges, in UTC. Ranges without a day take their latest start up to now."""
    out = list(absolute)
    days = list(dict.fromkeys(dates))
    for d in days:
        for start, end in ranges or [(0, 24 * 60)]:
            out.append(_window(d, start, end, tz))
    if not days:
        for start, end in ranges:
            d = now_local.date()
            if datetime.combine(d, time()) + timedelta(minutes=start) > now_local:
                d -= timedelta(days=1)
            out.append(_window(d, start, end, tz))
    return tuple(dict.fromkeys(out))


def on_days(query: Query, spans: Iterable[tuple[datetime, datetime]]) -> Query:
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
    spread = {d: [_window(d, a, b, query.tz) for a, b in query.daily] for d in sorted(days)}
    meets = {d: ws for d, ws in spread.items()
             if any(w.start < e and s < w.end for w in ws for s, e in spans)}
    if not meets:
        return query  # none of the days has these hours: the search is refused as asked
    kept = [w for w in query.windows if not w.wall_clock]  # "last 2 hours" stays as asked
    windows = kept + [w for ws in meets.values() for w in ws]
    return replace(query, windows=tuple(dict.fromkeys(windows)), days=tuple(meets))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def _window(d: date, start: int, end: int, tz: str) -> TimeWindow:
    base = datetime.combine(d, time())
    return TimeWindow(local_to_utc(base + timedelta(minutes=start), tz),
                      local_to_utc(base + timedelta(minutes=end), tz))


def _camera_list(text: str) -> list[str]:
    """"3, 4" -> [3, 4]; "1 a 5" -> [1..5]."""
    parts = re.split(rf"({_CAM_SEP})", text)
    ids, pending_range = [], False
    for part in parts:
        sep = part.strip()
        if not sep:
            continue
        if re.fullmatch(_CAM_ID, sep):
            if pending_range and ids and ids[-1].isdigit() and sep.isdigit():
                lo, hi = sorted((int(ids[-1]), int(sep)))
                if hi - lo > 500:
                    raise QueryError(f"camera range {text!r} is too wide (more than 500 cameras)")
                ids.extend(str(i) for i in range(lo + 1, hi + 1) if str(i) not in ids)
                ids[:] = list(dict.fromkeys(ids))
            else:
                ids.append(sep)
            pending_range = False
        else:
            pending_range = sep in {"-", "a", "au", "to"} or sep.startswith("jusqu")
    return ids


def _explicit_plate(t: _Text) -> PlatePattern | None:
    """"plaque AB-123-CD", "plate 1234 AB 56": the words after a plate keyword."""
    plate = None
    for m in list(_PLATE_KW.finditer(t.folded)):
        rest = t.folded[m.end():]
        first = re.match(r"[^\s,;]+", rest)
        if not first or lx.is_known_word(first.group(0)) or first.group(0).startswith(("cam", "#")):
            continue  # a bare "plaque": left to the words (reported as not understood)
        chunks, end = [first.group(0).rstrip(".:")], m.end() + first.end()
        # "1234 AB 56", "AB 123 CD": following chunks join while letters and digits alternate
        while len(chunks) < 3:
            nxt = re.match(r"\s+([a-z0-9?*]{1,4})(?![^\s,;])", t.folded[end:])
            if not nxt or lx.is_known_word(nxt.group(1)):
                break
            prev, cur = chunks[-1][-1], nxt.group(1)[0]
            if prev.isdigit() == cur.isdigit() or not chunks[-1][-1].isalnum():
                break
            chunks.append(nxt.group(1))
            end += nxt.end()
        typed = t.original[m.end():end].strip()
        if not re.search(r"[0-9?*]", typed):
            continue  # "plaque inconnue": no French plate is letters only
        new = PlatePattern.parse(typed)
        if plate is not None and plate != new:
            raise QueryError(f"two plates given ({plate.pattern}, {new.pattern}): search one at a time")
        plate = new
        t.blank(m.start(), end)
    return plate


def _implicit_plate(t: _Text) -> PlatePattern | None:
    """A plate written without its keyword: SIV, FNI, a pattern with ? or *, or a word of
    4+ characters mixing letters and digits."""
    found: list[tuple[int, int]] = []
    for m in list(_SIV.finditer(t.folded)):
        found.append((m.start(), m.end()))
    for m in list(_FNI.finditer(t.folded)):
        if not lx.is_known_word(m["l"]) and not any(s <= m.start() < e for s, e in found):
            found.append((m.start(), m.end()))
    for word, _, s, e in t.tokens():
        if any(a <= s < b for a, b in found) or lx.is_known_word(word) or lx.lookup_types(word):
            continue
        alnum = re.sub(r"[^a-z0-9]", "", word)
        if re.fullmatch(r"[a-z0-9?*\-]+", word) and (
            ("?" in word or "*" in word) and alnum
            or (len(alnum) >= 4 and re.search(r"[a-z]", alnum) and re.search(r"\d", alnum))
        ):
            found.append((s, e))
    plate = None
    for s, e in sorted(found):
        new = PlatePattern.parse(t.original[s:e])
        if plate is not None and plate != new:
            raise QueryError(f"two plates given ({plate.pattern}, {new.pattern}): search one at a time")
        plate = new
        t.blank(s, e)
    return plate


# -- flags and display ----------------------------------------------------------------------

def _words_to(values: Iterable[str] | None, lookup, kind: str, names: tuple[str, ...]) -> tuple[str, ...] | None:
    if values is None:
        return None
    out: list[str] = []
    for v in values:
        found = lookup(_fold(v.strip()))
        found = (found,) if isinstance(found, str) else found
        if not found:
            raise QueryError(f"unknown {kind} {v!r} (known: {', '.join(names)})")
        out.extend(x for x in found if x not in out)
    return tuple(out)


def merge_flags(query: Query, cameras: Iterable[str] | None = None, start: datetime | None = None,
                end: datetime | None = None, types: Iterable[str] | None = None,
                colours: Iterable[str] | None = None, plate: str | None = None,
                like: int | None = None, strict: bool = False) -> Query:
    """The query with command-line flags replacing what the text said (None: keep the text's);
    `strict` makes its colours, body styles and direction of travel filters.

    Naive `start`/`end` are local time in the query's zone; giving either replaces every
    time window of the text with [start, end).
    """
    changes: dict = {}
    if cameras is not None:
        changes["cameras"] = tuple(dict.fromkeys(str(c).strip() for c in cameras))
    if start is not None or end is not None:
        s, e = flag_time(start, query.tz), flag_time(end, query.tz)
        if s is not None and e is not None and e <= s:
            raise QueryError(f"--to ({end}) must be after --from ({start})")
        aware = any(v is not None and v.tzinfo is not None for v in (start, end))
        changes["windows"] = (TimeWindow(s, e, wall_clock=not aware),)
        changes["daily"] = ()
    if (found := _words_to(types, lx.lookup_types, "vehicle type", lx.VEHICLE_TYPES)) is not None:
        changes["types"] = found
    if (found := _words_to(colours, lx.lookup_colour, "colour", lx.COLOURS)) is not None:
        changes["colours"] = found
    if plate is not None:
        changes["plate"] = PlatePattern.parse(plate)
    if like is not None:
        changes["like"] = check_sighting_id(like)
    if strict:
        changes["strict"] = True
    return replace(query, **changes)


def _fmt_window(w: TimeWindow, tz: str) -> str:
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


def describe(query: Query) -> str:
    """What the search will do, in one line: "understood as ..." for the investigator."""
    parts = []
    if query.cameras:
        parts.append(("camera " if len(query.cameras) == 1 else "cameras ") + ", ".join(query.cameras))
    if query.days:
        hours = ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in query.daily)
        parts.append(f"{hours} ({query.tz}) on each day of the requisition: "
                     + ", ".join(d.isoformat() for d in query.days))
    elif query.windows:
        parts.append("; ".join(_fmt_window(w, query.tz) for w in query.windows) + f" ({query.tz})")
    if query.types:
        parts.append(" or ".join(query.types))
    if query.colours:
        colours = " or ".join(query.colours)
        parts.append(f"{colours} only (strict)" if query.strict
                     else f"{colours} (ranked by colour likelihood, not a filter)")
    if query.styles:
        styles = " or ".join(s.replace("_", " ") for s in query.styles)
        parts.append(f"body {styles} only (strict)" if query.strict
                     else f"body {styles} (ranked by style likelihood, not a filter)")
    if query.travel:
        travel = describe_travel(query.travel)
        parts.append(f"{travel} only (strict)" if query.strict
                     else f"{travel} (ranked by direction of travel, not a filter)")
    if query.plate:
        parts.append(f"plate {query.plate.pattern}")
    if query.like is not None:
        parts.append(f"like sighting #{query.like}")
    if query.text:
        parts.append(f'text "{query.free_text}"')
    return " · ".join(parts) if parts else "every sighting"
