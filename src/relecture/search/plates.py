"""Plate patterns and OCR-tolerant plate matching.

A pattern is what the investigator typed, normalised: upper case letters and digits, `?` for
exactly one unknown character and `*` for any run (possibly empty). Dashes, spaces and dots
are dropped, as in every stored plate. A pattern without `*` shorter than 5 characters
("123", "AB1") is read as a fragment: the plate contains it (`*123*`).

Distance between a pattern and a stored read is a weighted edit distance in which a
substitution between characters OCR mixes up (0/O/D/Q, 1/I/L/T, 2/Z, 5/S, 8/B, 6/G: the
confusion table of `relecture.plate_grammar`, shared with the reader) costs
`CONFUSION_COST`, any other substitution, insertion or deletion costs 1, and wildcards cost
nothing. Distance 0 is an exact match; the engine sorts on distance first, so an exact match
never ranks below an approximate one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from relecture.errors import QueryError
from relecture.plate_grammar import canonical_plate, confusable, confusion_class

CONFUSION_COST = 0.25
FRAGMENT_BELOW = 5  # a pattern shorter than this, without '*', is searched as a fragment
_VALID = re.compile(r"^[A-Z0-9?*]+$")


def substitution_cost(a: str, b: str) -> float:
    """Cost of reading `b` where the plate says `a`: 0 equal, small if OCR confuses them."""
    if a == b:
        return 0.0
    return CONFUSION_COST if confusable(a, b) else 1.0


@dataclass(frozen=True)
class PlateMatch:
    """How well one stored read matches the pattern."""

    text: str
    confidence: float
    distance: float

    @property
    def exact(self) -> bool:
        return self.distance == 0.0


@dataclass(frozen=True)
class PlatePattern:
    """A normalised plate pattern (`AB1?3*`); build it with `PlatePattern.parse`."""

    pattern: str

    @classmethod
    def parse(cls, typed: str) -> "PlatePattern":
        """Normalise what was typed; QueryError when it cannot be a plate pattern."""
        cleaned = re.sub(r"[\s.\-_]", "", typed.upper())
        cleaned = re.sub(r"\*+", "*", cleaned)
        if not cleaned or not _VALID.match(cleaned):
            bad = sorted({c for c in cleaned if not re.match(r"[A-Z0-9?*]", c)})
            raise QueryError(
                f"plate pattern {typed!r} is malformed: only letters, digits, '?' (one "
                f"character) and '*' (any run) are allowed" + (f", not {' '.join(bad)}" if bad else "")
            )
        fixed = sum(c.isalnum() for c in cleaned)
        if fixed < 2:
            raise QueryError(
                f"plate pattern {typed!r} matches almost any plate: give at least 2 known characters"
            )
        if "*" not in cleaned and len(cleaned) < FRAGMENT_BELOW:
            cleaned = f"*{cleaned}*"
        return cls(cleaned)

    @cached_property
    def fixed_chars(self) -> int:
        return sum(c.isalnum() for c in self.pattern)

    @cached_property
    def max_distance(self) -> float:
        """How far a read may be and still be offered: one OCR error on a long pattern,
        only confusable characters on a short one (else a fragment matches everything)."""
        return 1.0 if self.fixed_chars >= 5 else 2 * CONFUSION_COST

    def display(self) -> str:
        return self.pattern

    @cached_property
    def _exact_re(self) -> re.Pattern:
        return re.compile(
            "".join("." if c == "?" else ".*" if c == "*" else c for c in self.pattern)
        )

    def sql_like(self) -> str:
        """The pattern as a LIKE pattern: what `matches_exactly` accepts (patterns hold only
        A-Z, 0-9, `?` and `*`, none of them special to LIKE)."""
        return "".join(map(_like, self.pattern))

    def matches_exactly(self, text: str) -> bool:
        """True when `text` fits the pattern with no OCR tolerance."""
        return self._exact_re.fullmatch(text) is not None

    def distance(self, text: str, limit: float = float("inf")) -> float:
        """Weighted edit distance from the pattern to `text` (wildcards are free).

        Past `limit` the exact value does not matter: the result is then only known to be
        greater than `limit` (the computation stops as soon as every path costs more)."""
        p, n = self.pattern, len(text)
        inf = float("inf")
        # prev[j]: cost of matching pattern[:i] against text[:j]; before any pattern character,
        # each character read costs one insertion (an extra character in front of the plate)
        prev = [float(j) for j in range(n + 1)]
        for pc in p:
            cur = [inf] * (n + 1)
            if pc == "*":
                best = inf
                for j in range(n + 1):
                    best = min(best, prev[j])
                    cur[j] = best
            else:
                cur[0] = prev[0] + (0.0 if pc == "?" else 1.0)
                for j in range(1, n + 1):
                    sub = 0.0 if pc == "?" else substitution_cost(pc, text[j - 1])
                    # substitution, pattern character missing from the read, extra character read
                    cur[j] = min(prev[j - 1] + sub, prev[j] + 1.0, cur[j - 1] + 1.0)
            prev = cur
            if min(prev) > limit:  # costs never decrease along the pattern
                return min(prev)
        return prev[n]

    def match(self, text: str | None, confidence: float) -> PlateMatch | None:
        """The read scored against the pattern, or None when it is too far to offer."""
        if not text:
            return None
        if self.matches_exactly(text):
            return PlateMatch(text, confidence, 0.0)
        if "*" not in self.pattern and abs(len(text) - len(self.pattern)) > self.max_distance:
            return None  # each character too many or too few costs a whole edit
        d = self.distance(text, limit=self.max_distance)
        return PlateMatch(text, confidence, d) if d <= self.max_distance else None

    def best(self, reads: list[tuple[str | None, float]]) -> PlateMatch | None:
        """The best of every stored read of a sighting: smallest distance, then confidence."""
        found = [m for text, conf in reads if (m := self.match(text, conf or 0.0)) is not None]
        return min(found, key=lambda m: (m.distance, -m.confidence), default=None)

    def sql_prefilter(self, column: str) -> str:
        """A cheap SQL condition on `column` (LIKE and length only) that every offered read
        satisfies; `sql_regex` then narrows what passes, and `distance` scores the rest.

        Within the tolerance a read either differs from the pattern only by OCR confusions
        (the pattern with its confusable characters made `_` matches it), or, when one real
        edit is allowed (which costs the whole tolerance, so no confusion comes with it), by
        exactly one edit: that edit falls in one half of the pattern, so the other half matches
        exactly, as a prefix or as a suffix (pigeonhole). A read without `*` is also at most
        one character longer or shorter than the pattern.
        """
        tokens = list(self.pattern)
        confusable = "".join(map(_confusable_like, tokens))
        edits = int(self.max_distance)  # real edits allowed: each costs 1
        if edits > 1:
            return "TRUE"  # the prefilter below reasons about one edit at most
        width = sum(c != "*" for c in tokens)  # characters a read must supply, `?` included
        if "*" in tokens:
            length = f"length({column}) >= {width - edits}"
        else:
            length = f"length({column}) BETWEEN {width - edits} AND {width + edits}"
        cases = [f"{column} LIKE '{confusable}'"]
        if edits == 1:
            # with a tolerance below 1 + CONFUSION_COST the untouched half has no confusion
            # either; otherwise it may, and its confusable characters become `_` too
            like = _like if self.max_distance < 1 + CONFUSION_COST else _confusable_like
            half = _balanced_split(tokens)
            cases.append(f"{column} LIKE '{''.join(map(like, tokens[:half]))}%'")
            cases.append(f"{column} LIKE '%{''.join(map(like, tokens[half:]))}'")
        return f"({length} AND ({' OR '.join(cases)}))"

    def canonical(self) -> "PlatePattern":
        """The pattern in canonical form (see `canonical_plate`); wildcards are unchanged.

        Every read offered for this pattern has its canonical form offered for the canonical
        pattern: canonicalising turns a confusion (cost CONFUSION_COST) into an equality
        (cost 0) and leaves every other substitution a different character (cost 1), so
        no distance grows; `sql_prefilter` and `sql_regex` of the canonical pattern, applied
        to canonical keys, therefore keep every offered read too."""
        return PlatePattern(canonical_plate(self.pattern))

    def sql_regex(self) -> str:
        """A regular expression (RE2, full match) that every offered read satisfies.

        Each character becomes its confusion class, and when the tolerance allows one
        edit the expression is the alternation of every one-edit variant; the database
        evaluates it cheaply, and `distance` then scores the few candidates exactly.
        """
        tokens = [_token_regex(c) for c in self.pattern]
        if self.max_distance < 1.0:
            return "".join(tokens)
        variants = {"".join(tokens)}
        for i, c in enumerate(self.pattern):
            if c in "?*":
                continue
            variants.add("".join(tokens[:i] + ["."] + tokens[i + 1:]))  # substitution
            variants.add("".join(tokens[:i] + tokens[i + 1:]))  # OCR dropped a character
        for i in range(len(tokens) + 1):
            variants.add("".join(tokens[:i] + ["."] + tokens[i:]))  # OCR added one
        return "|".join(f"(?:{v})" for v in sorted(variants))


def _token_regex(c: str) -> str:
    if c == "?":
        return "."
    if c == "*":
        return ".*"
    group = confusion_class(c)
    return f"[{group}]" if group else c


def _like(c: str) -> str:
    """One pattern character as LIKE syntax (patterns hold only A-Z, 0-9, `?` and `*`)."""
    return "_" if c == "?" else "%" if c == "*" else c


def _confusable_like(c: str) -> str:
    """As `_like`, with a character OCR confuses (any of its class may be read) as `_`."""
    return "_" if confusion_class(c) else _like(c)


def _balanced_split(tokens: list[str]) -> int:
    """Where to cut the pattern so that both halves hold about as many known characters."""
    fixed = [i for i, c in enumerate(tokens) if c.isalnum()]
    return fixed[len(fixed) // 2] if len(fixed) >= 2 else len(tokens) // 2
