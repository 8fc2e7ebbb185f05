"""Investigators' search phrases, French or English, turned into a structured `Query`.

`parse_query(text, now, default_tz)` understands, in any order: cameras ("caméra 12",
"cam 3, 4", "caméras 1 à 5", "cam12"), days ("hier", "yesterday", "le 30/01/2023",
"30 janvier", "2023-01-30", "lundi"), times ("14h-16h", "de 14h à 16h30", "2pm to 4pm",
"after 22h", "before 8h", "vers 14h", "ce matin"), vehicle types, colours, body styles
("break", "taxi", "dépanneuse"), a direction of travel ("qui s'éloigne", "sortant à gauche":
`query_travel.py`; days and times: `query_time.py`), a plate pattern ("plaque AB-123-CD", "AB123CD", "AB-1?3-*",
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
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Iterable

from relecture.errors import QueryError
from relecture.search import lexicon as lx
from relecture.search.plates import PlatePattern
from relecture.search.query_text import Text, fold
from relecture.search.query_time import (TimeWindow, flag_time, fmt_window, hhmm, take_dates,
                                         take_ranges, take_spans, utc_to_local, windows, zone)
from relecture.search.query_travel import TravelAsk, describe_travel, take_travel
from relecture.sightings import check_sighting_id
from relecture.times import DEFAULT_TZ

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
NEGATION_SCAN = re.compile(rf"\b({'|'.join(sorted(lx.NEGATIONS))})\b")


@dataclass(frozen=True)
class Query:
    """A search as understood: cameras, times and plates are filters; `text` and `like`
    rank; `types`, `colours`, `styles` and `travel` rank by their evidence (other types come
    after the types asked and their neighbours) unless `strict` makes them filters.

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


def parse_query(text: str, now: datetime, default_tz: str = DEFAULT_TZ) -> Query:
    """Understand a search phrase (French or English, any order) relative to `now`.

    `now` is an aware datetime or naive UTC; it is never read from the clock here.
    Raises QueryError naming the words when a time, date, range or plate cannot be right.
    """
    zone(default_tz)
    now_utc = now.astimezone(timezone.utc).replace(tzinfo=None) if now.tzinfo else now
    now_local = utc_to_local(now_utc, default_tz)
    today = now_local.date()
    t = Text(text)

    for word in NEGATION_SCAN.findall(t.folded):
        raise QueryError(
            f"negation ({word!r}) is not supported: search without it and read the results"
        )

    like = None
    for m in t.take(_LIKE):
        like = check_sighting_id(int(m.group("id")), "#" + m.group("id"))

    travel = take_travel(t)  # before times and cameras: "vers la caméra", "de gauche à droite"
    plate = _explicit_plate(t)
    absolute = take_spans(t, now_utc, today, default_tz)
    dates = take_dates(t, today)
    ranges = take_ranges(t)

    cameras: list[str] = []
    for m in t.take(_CAMERAS):
        cameras.extend(_camera_list(m["list"]))

    if plate is None:
        plate = _implicit_plate(t)
    types, colours, styles, words = _words(t)
    return Query(
        cameras=tuple(dict.fromkeys(cameras)),
        windows=windows(dates, ranges, absolute, now_local, default_tz),
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


def _words(t: Text) -> tuple[list[str], list[str], list[str], list[str]]:
    """(types, colours, body styles, free words) from the words left; anything else is
    refused (QueryError naming it)."""
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
    return types, colours, styles, words


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


def _explicit_plate(t: Text) -> PlatePattern | None:
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


def _implicit_plate(t: Text) -> PlatePattern | None:
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
        found = lookup(fold(v.strip()))
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
    `strict` makes its types, colours, body styles and direction of travel filters.

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


def describe(query: Query) -> str:
    """What the search will do, in one line: "understood as ..." for the investigator."""
    parts = []
    if query.cameras:
        parts.append(("camera " if len(query.cameras) == 1 else "cameras ") + ", ".join(query.cameras))
    if query.days:
        hours = ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in query.daily)
        parts.append(f"{hours} ({query.tz}) on each day of the requisition: "
                     + ", ".join(d.isoformat() for d in query.days))
    elif query.windows:
        parts.append("; ".join(fmt_window(w, query.tz) for w in query.windows) + f" ({query.tz})")
    if query.types:
        types = " or ".join(query.types)
        parts.append(f"{types} only (strict)" if query.strict
                     else f"{types} first, other types after (not a filter)")
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
