"""The text of a search phrase while it is parsed: folded (lower case, no accents, one
character for one, so that spans map back to what was typed), with the parts already
understood blanked out; what is left is the words still to place."""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

TOKEN = re.compile(r"[^\s,;!]+")


def fold(text: str) -> str:
    """Lower case without accents, one character for one (so spans map back to the input)."""
    out = []
    for c in text.lower().replace("\u2019", "'"):
        base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
        out.append(base if len(base) == 1 else c)
    return "".join(out).replace("\u2013", "-").replace("\u2014", "-")


class Text:
    """The folded text with the parts already understood blanked out."""

    def __init__(self, original: str):
        self.original = original
        self.folded = fold(original)

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
        for m in TOKEN.finditer(self.folded):
            s, e = m.start(), m.end()
            while s < e and self.folded[s] in "\"'()[].:":
                s += 1
            while e > s and self.folded[e - 1] in "\"'()[].:":
                e -= 1
            if s < e:
                out.append((self.folded[s:e], self.original[s:e], s, e))
        return out
