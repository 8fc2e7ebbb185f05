"""What licence plates look like, and which characters OCR mixes up: the one place for plate
format knowledge, used by the reader (`indexer/plates.py`) and by search (`search/plates.py`).

Plate text is normalised everywhere: upper case, A-Z and 0-9 only (`normalise_plate`).

French formats (letters never I, O or U, and never the block SS):
- SIV (since 2009) `AA-123-AA`: no 000; WW only as the first block (temporary plates); and
  the W garage plates of professionals, `W-123-AA`.
- FNI (1950-2009, still on the road) `1234 AB 56`: a number 1-9999 (no leading zero), a
  series of 1-3 letters, then the department: 01-95, 2A/2B (Corsica) or 971-976 (overseas).
  `1234 W 56` is a W garage plate, `123 WW 56` a temporary one.
Either may be written on two lines (motorcycles, square rear plates): the reader joins the
lines top to bottom, so the grammar sees one text.

Other European plates are generic 5-8 alphanumerics, with a small preference for layouts we
know (Slovak, Czech, British) and the Czech sticker slot skipped when OCR read it as a
character.

`interpret` turns one OCR text into plausible plates, fixing confusions position by position
where a French format wants a letter or a digit (an `O` where a SIV letter must be is a `Q`,
an `S` where a digit must be is a `5`...), and stripping the EU band letter ("F") in front
or the department band digits behind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SIV_LETTERS = frozenset("ABCDEFGHJKLMNPQRSTVWXYZ")  # no I, O, U (mistaken for 1, 0, V)
_SIV_RE = re.compile(r"^([A-Z]{2})(\d{3})([A-Z]{2})$")
_SIV_GARAGE_RE = re.compile(r"^W(\d{3})([A-Z]{2})$")
DEPARTMENT = r"0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6]"
_FNI_RE = re.compile(rf"^([1-9]\d{{0,3}})([A-Z]{{1,3}})({DEPARTMENT})$")
_GENERIC_RE = re.compile(r"^[A-Z0-9]{5,8}$")
FORMATS = ("siv", "fni", "foreign")  # what evaluation reports per format

# ------------------------------------------------------------------ OCR confusions
# Characters OCR mixes up, one class each: search treats a confusion as a near match (and
# the catalog's plate_grams index stores each class by its first character, so changing a
# class means rebuilding plate_grams); the reader fixes within a class cheaply.
CONFUSIONS: tuple[str, ...] = ("0ODQ", "1ILT", "2Z", "5S", "8B", "6G")
_CLASS_OF = {c: group for group in CONFUSIONS for c in group}
# Canonical form: each character replaced by its class's first one, so that a confusion
# becomes an equality ("BO12" and "8D1Z" -> "8012"); FROM/TO for SQL translate().
CANON_FROM = "".join(c for group in CONFUSIONS for c in group[1:])
CANON_TO = "".join(group[0] * (len(group) - 1) for group in CONFUSIONS)
_CANON = str.maketrans(CANON_FROM, CANON_TO)

# what a character read in the wrong place most likely was (beyond the classes: glyphs of
# similar shape that OCR gives for a worn or blurred character)
TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "L": "1", "T": "1", "J": "1",
            "Z": "2", "S": "5", "B": "8", "G": "6", "A": "4", "E": "8"}
TO_LETTER = {"0": "D", "1": "T", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "7": "T"}
TO_LETTER_EU = {**TO_LETTER, "0": "O", "1": "I"}  # elsewhere O and I are letters like any
# letters French plates never use, and what OCR most likely saw instead (a Q's tail is
# easily lost)
FORBIDDEN_TO_LETTER = {"O": "Q", "I": "T", "U": "V"}


def confusion_class(c: str) -> str | None:
    """The characters OCR mixes up with `c` (its class, `c` included), or None."""
    return _CLASS_OF.get(c)


def confusable(a: str, b: str) -> bool:
    """Whether OCR commonly reads `b` for `a` (two characters of one confusion class)."""
    return a != b and b in (_CLASS_OF.get(a) or "")


def canonical_plate(text: str) -> str:
    """`text` with each OCR-confusable character replaced by its class's representative."""
    return text.translate(_CANON)


_UNICODE_FIXES = str.maketrans({"·": " ", "•": " ", "—": "-", "–": "-", "|": "I", "丨": "I",
                                "О": "O", "Е": "E", "А": "A", "В": "B", "С": "C", "Н": "H",
                                "К": "K", "М": "M", "Р": "P", "Т": "T", "Х": "X", "У": "Y"})


def normalise_plate(text: str) -> str:
    """Plate text as the catalog stores it: upper case, Cyrillic look-alikes mapped, every
    character but A-Z and 0-9 dropped."""
    return re.sub(r"[^A-Z0-9]", "", text.upper().translate(_UNICODE_FIXES))


# Per character of a normalised text, the recogniser's probability of each plate character
# there (what it would have read instead): `indexer/plate_models.CharacterAlternatives`.
Alternatives = tuple[Mapping[str, float], ...]


def normalise_with_alternatives(text: str, alternatives: Alternatives | None
                                ) -> tuple[str, Alternatives | None]:
    """`normalise_plate(text)`, and the alternatives of the characters it keeps (None when
    there are none, or they do not match the text)."""
    if alternatives is None or len(alternatives) != len(text):
        return normalise_plate(text), None
    chars: list[str] = []
    kept: list[Mapping[str, float]] = []
    for c, alt in zip(text, alternatives):
        for n in normalise_plate(c):
            chars.append(n)
            kept.append(alt if len(n) == 1 else {})
    return "".join(chars), tuple(kept)


# ------------------------------------------------------------------ formats


def plate_format(text: str) -> str | None:
    """'siv', 'fni', 'generic' or None for an already normalised text."""
    m = _SIV_RE.match(text)
    if m and _siv_ok(*m.groups()):
        return "siv"
    m = _SIV_GARAGE_RE.match(text)
    if m and set(m.group(2)) <= SIV_LETTERS and m.group(1) != "000":
        return "siv"
    m = _FNI_RE.match(text)
    if m and set(m.group(2)) <= SIV_LETTERS and m.group(2) != "SS":
        return "fni"
    if _GENERIC_RE.match(text) and any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
        return "generic"
    return None


def format_family(text: str) -> str:
    """'siv', 'fni' or 'foreign' (anything else) for a normalised plate: how evaluation
    groups its labels."""
    fmt = plate_format(text)
    return fmt if fmt in ("siv", "fni") else "foreign"


def is_french(text: str) -> bool:
    """Whether a normalised text is a valid SIV or FNI plate."""
    return plate_format(text) in ("siv", "fni")


def _siv_ok(a: str, digits: str, b: str) -> bool:
    return (set(a + b) <= SIV_LETTERS and digits != "000"
            and a != "SS" and b not in ("SS", "WW"))  # WW-123-AB: temporary plates


# ------------------------------------------------------------------ reading OCR text

# well-known European layouts (Slovak LL DDD LL, Czech 1A2 3456 / 1AB 2345 / ABC 1234,
# British AB12 CDE) and where their emblem or inspection sticker sits
# (OCR sometimes reads it as a character; None: nothing there)
EU_TEMPLATES = {"LLDDDLL": 2, "DLDDDDD": 3, "DLLDDDD": 3, "LLLDDDD": 3, "LLDDLLL": None}
EU_BONUS = 0.02
STICKER_COST = 0.02
UNKNOWN_LAYOUT_COST = 0.05  # a generic read that fits no layout we know
COLLAPSE_COST = 0.2  # a repeated character the recogniser merged (`_collapse_options`)
# a 0 or 1 glyph where SIV wants a letter: OCR tells D, T or L from 0 and 1 well, while an
# O or I read as 0 or 1 is common, and SIV has neither: more likely a foreign plate
UNLIKELY_AS_LETTER = "01"
FORMAT_WEIGHT = {"siv": 1.0, "fni": 0.97, "generic": 0.86}
FORBIDDEN_COST = 0.2  # on top of the fix itself
SHORT_COST = {4: 0.06, 5: 0.03, 6: 0.015}  # most plates have 7 or 8 characters
MAX_FIXES = 3  # more fixed characters than this is not a read any more
FNI_TAIL_COST = 0.05  # per character stripped behind an FNI plate, on top of the strip
BAND_LETTERS = "FDI1LEBJ"  # what OCR makes of the EU band's country letter
# A fix the recogniser itself offers (its probability of the character the template wants,
# at least ALT_SUPPORT of its probability of the one it read) is its own near second
# choice: it costs ALT_COST, and no penalty for a clearly read forbidden or unlikely glyph
ALT_SUPPORT = 0.05
ALT_COST = 0.03
_DIGITS = frozenset("0123456789")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _fix(text: str, template: str, french: bool = True, banded: bool = False,
         alternatives: Alternatives | None = None) -> tuple[str, float] | None:
    """`text` forced onto a template of 'L' (letter), 'D' (digit) and 'X' (digit, or the A/B
    of Corsica's 2A/2B) positions, and the cost of the fixes; None when a character cannot
    be mapped. With the recogniser's `alternatives`, a character that does not fit becomes
    the one it found likeliest among those that do, and costs little when it was a close
    second choice."""
    out, cost, fixes = [], 0.0, 0
    for i, (c, kind) in enumerate(zip(text, template)):
        if kind == "X" and c in "AB" and out and out[-1] == "2":
            out.append(c)  # Corsica: 2A, 2B
            continue
        allowed = (_DIGITS if kind in "DX" else SIV_LETTERS if french else _LETTERS)
        if c in allowed:
            out.append(c)
            continue
        offered = _offered(alternatives[i] if alternatives else {}, c, allowed)
        if offered is not None and offered[1]:
            new, step = offered[0], ALT_COST
        else:
            new = offered[0] if offered else _table_fix(c, kind, french)
            if new is None:
                return None
            step = _fix_cost(c, new, french, banded)
        cost += step
        fixes += 1
        out.append(new)
    if fixes > MAX_FIXES:
        return None
    return "".join(out), cost


def _offered(alternatives: Mapping[str, float], read: str, allowed: frozenset
             ) -> tuple[str, bool] | None:
    """The likeliest character of `allowed` among the recogniser's alternatives for a
    character read as `read`, and whether it was a close second choice; None when it
    offered none."""
    options = [(p, ch) for ch, p in alternatives.items() if ch in allowed]
    if not options:
        return None
    p, ch = max(options)
    return ch, p >= ALT_SUPPORT * alternatives.get(read, 1.0)


def _table_fix(c: str, kind: str, french: bool) -> str | None:
    """What a character that does not fit its position most likely was, by the tables."""
    if kind in "DX":
        return TO_DIGIT.get(c)
    if c.isdigit():
        return TO_LETTER.get(c) if french else TO_LETTER_EU.get(c)
    return FORBIDDEN_TO_LETTER.get(c)


def _fix_cost(c: str, new: str, french: bool, banded: bool) -> float:
    """The cost of reading `new` where OCR read `c`, with no help from the recogniser."""
    unsure = french and not banded and new.isalpha()  # a French letter where no band shows
    forbidden = FORBIDDEN_COST if unsure and c in FORBIDDEN_TO_LETTER else 0.0
    return forbidden + (0.20 if unsure and c in UNLIKELY_AS_LETTER
                        else 0.06 if confusable(c, new) or FORBIDDEN_TO_LETTER.get(c) == new
                        else 0.15)


def _french_templates(n: int) -> list[str]:
    """Templates of every French layout `n` characters long: SIV, SIV W garage, and FNI
    with 1-4 digits, 1-3 letters and a 2- or 3-character department."""
    found = ["LLDDDLL"] if n == 7 else ["LDDDLL"] if n == 6 else []
    for dept in (2, 3):
        for letters in (1, 2, 3):
            digits = n - dept - letters
            if 1 <= digits <= 4:
                found.append("D" * digits + "L" * letters + ("DX" if dept == 2 else "DDD"))
    return found


def interpret(text: str, french: bool | None = None, alternatives: Alternatives | None = None
              ) -> list[tuple[str, str, float]]:
    """Every plausible plate in one normalised OCR text: (plate, format, cost), cheapest first.

    Tries the text as it is and with a band character stripped at the start or department
    characters at the end; French formats are fixed position by position. `french`: True
    when the plate shows the French blue bands (French fixes are then cheap and foreign
    layouts dear), False when it shows only the EU band, None when unknown. `alternatives`:
    the recogniser's, one per character of `text` (see `_fix`)."""
    found: dict[str, tuple[str, float]] = {}
    n = len(text)
    if alternatives is not None and len(alternatives) != n:
        alternatives = None
    for head in range(0, 3):
        for tail in range(0, 4):
            core = text[head:n - tail]
            alts = alternatives[head:n - tail] if alternatives else None
            if len(core) < 4:
                continue
            strip_cost = 0.03 * head + 0.03 * tail
            if head and not all(c in BAND_LETTERS for c in text[:head]):
                strip_cost += 0.10 * head  # not a band letter: stripping is a guess
            options = (_french_options(core, french, tail, alts)
                       + _foreign_options(core, french, tail, alts)
                       + (_collapse_options(core, french, tail, alts) if french is not False
                          else []))
            for plate, fmt, cost in options:
                if plate not in found or found[plate][1] > strip_cost + cost:
                    found[plate] = (fmt, strip_cost + cost)
    return sorted(((p, f, c) for p, (f, c) in found.items()), key=lambda x: x[2])


def _french_options(core: str, french: bool | None, tail: int,
                    alternatives: Alternatives | None = None) -> list[tuple[str, str, float]]:
    """`core` fixed onto each French layout of its length: (plate, format, cost). `tail`:
    characters stripped behind it, as a department band; an FNI plate has none (its
    department is part of the text), so there they were a guess."""
    out = []
    for template in _french_templates(len(core)):
        fixed = _fix(core, template, banded=french is True, alternatives=alternatives)
        if fixed is None:
            continue
        fmt = plate_format(fixed[0])
        if fmt == "siv" and template.startswith("LL"):
            out.append((fixed[0], fmt, fixed[1] + (0.05 if french is False else 0.0)))
        elif fmt in ("siv", "fni"):  # W garage (either system) or FNI
            guess = FNI_TAIL_COST * tail if fmt == "fni" else 0.0
            out.append((fixed[0], fmt, fixed[1] + guess + SHORT_COST.get(len(core), 0.0)))
    return out


def _collapse_options(core: str, french: bool | None, tail: int,
                      alternatives: Alternatives | None = None) -> list[tuple[str, str, float]]:
    """`core` with one character doubled, onto each French layout: a recogniser decoding
    CTC merges a repeated character unless it sees a gap between the two (`EE-972-DY` read
    `E972DY`, `AL-333-SM` read `AL33SM`). The repair costs COLLAPSE_COST, more than an
    unexplained substitution (0.15), so it never beats the text as read when that fits a
    layout, nor a known EU layout one stripped character away. Not tried on a plate showing
    a foreign EU band (`interpret`): a foreign layout may be what the text is."""
    out = []
    for i in range(len(core)):
        if i and core[i] == core[i - 1]:
            continue  # doubling either of a pair gives the same text
        doubled = core[:i + 1] + core[i:]
        alts = alternatives[:i + 1] + alternatives[i:] if alternatives else None
        out += [(p, f, c + COLLAPSE_COST) for p, f, c in _french_options(doubled, french, tail, alts)]
    return out


def _foreign_options(core: str, french: bool | None, tail: int,
                     alternatives: Alternatives | None = None) -> list[tuple[str, str, float]]:
    """`core` as a foreign plate, as read and fixed onto each known European layout."""
    if len(core) < 5:
        return []
    # French bands make a foreign plate unlikely; department bands (stripped tail) are French
    extra = (0.10 if french else 0.0) + 0.03 * tail
    out = []
    if plate_format(core) == "generic":
        out.append((core, "generic", extra + UNKNOWN_LAYOUT_COST + SHORT_COST.get(len(core), 0.0)))
    for template, slot in EU_TEMPLATES.items():
        if len(core) == len(template):
            fixed, cost = _fix(core, template, french=False, alternatives=alternatives), 0.0
        elif len(core) == len(template) + 1 and slot is not None:
            skipped = alternatives[:slot] + alternatives[slot + 1:] if alternatives else None
            fixed = _fix(core[:slot] + core[slot + 1:], template, french=False,
                         alternatives=skipped)
            cost = STICKER_COST
        else:
            continue
        if fixed and plate_format(fixed[0]) == "generic":
            out.append((fixed[0], "generic", extra + fixed[1] + cost - EU_BONUS))
    return out


def best_interpretation(text: str, french: bool | None = None,
                        alternatives: Alternatives | None = None
                        ) -> tuple[str, str, float] | None:
    """The best (plate, format, score factor) of an OCR text, or None when nothing fits;
    `french` and `alternatives` (one per character of the normalised text) as in
    `interpret`."""
    options = [(p, f, FORMAT_WEIGHT[f] - c)
               for p, f, c in interpret(normalise_plate(text), french, alternatives)]
    return max(options, key=lambda o: o[2], default=None)


def normalise_read(text: str) -> str:
    """The plate an OCR text most likely shows (format-fixed when a format fits), else the
    text normalised to A-Z0-9."""
    best = best_interpretation(text)
    return best[0] if best else normalise_plate(text)
