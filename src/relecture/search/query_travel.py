"""Direction of travel in a search phrase, French or English (on the folded text: lower
case, no accents): away from or towards the camera, and the picture border a vehicle
entered or left by.

- away: "qui s'éloigne", "s'éloignant", "away from the camera", "driving away", "de dos";
- towards: "qui s'approche", "qui arrive", "towards the camera", "approaching", "oncoming",
  "de face";
- leaving: "sortant à gauche", "qui sort par la droite", "leaving left", "exiting right",
  "exits at the top";
- entering: "entrant par la droite", "venant de gauche", "entering from the left",
  "coming in at the bottom";
- both: "de gauche à droite", "from left to right" (entered left, left right).

Asking both ways ("qui s'éloigne ou s'approche") or two sides for one border is refused:
a search has one direction of travel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Protocol

from relecture.errors import QueryError

SIDE_WORDS = {"gauche": "left", "left": "left", "droite": "right", "right": "right",
              "haut": "top", "top": "top", "bas": "bottom", "bottom": "bottom"}
_SIDE = r"(?P<side>gauche|droite|haut|bas|left|right|top|bottom)"
_OF = r"(?:(?:par|a|au|en|de|du|depuis|vers|sur|on|at|to|from|via|by|the|la|le|l')\s*)*"
_FRAME = r"(?:\s+(?:edge|side|border|of the (?:picture|frame|image)|du cadre|de l'image))?"
_AWAY = re.compile(
    r"\b(?:s'eloign\w*|s eloign\w*|eloignant\w*|de dos|(?:(?:driving|going|moving|heading|"
    r"travelling|traveling|seen)\s+)?away(?:\s+from(?:\s+the)?\s+camera)?|receding)\b")
_TOWARDS = re.compile(
    r"\b(?:s'approch\w*|s approch\w*|se rapproch\w*|approchant\w*|de face|"
    r"arrivant vers la camera|(?:qui )?arrivent? vers la camera|vers la camera|"
    r"(?:(?:driving|coming|moving|heading|travelling|traveling)\s+)?towards?(?:\s+the)?\s+camera|"
    r"approaching(?:\s+the\s+camera)?|oncoming)\b")
_LEAVING = re.compile(
    r"\b(?:sortant|sortent|sort|sortie|quittant|quitte|partant|leaving|leaves|leave|exiting|"
    r"exits|exit)\s+(?:(?:the\s+)?(?:frame|picture|image)\s+)?(?:l'image\s+|le cadre\s+)?"
    rf"{_OF}{_SIDE}{_FRAME}\b")
_ENTERING = re.compile(
    r"\b(?:entrant|entrent|entre|entree|arrivant|arrivent|arrive|venant|provenant|entering|"
    r"enters|enter|entered|coming\s+in|coming|arriving)\s+(?:(?:the\s+)?(?:frame|picture|"
    rf"image)\s+)?(?:dans l'image\s+|dans le cadre\s+)?{_OF}{_SIDE}{_FRAME}\b")
_ACROSS = re.compile(
    r"\b(?:de|from)\s+(?:la\s+|the\s+)?(?P<a>gauche|droite|haut|bas|left|right|top|bottom)"
    r"\s+(?:a|vers|to)\s+(?:la\s+|the\s+)?(?P<b>gauche|droite|haut|bas|left|right|top|bottom)\b")


class _Taker(Protocol):
    def take(self, pattern: re.Pattern) -> Iterable[re.Match]: ...


@dataclass(frozen=True)
class TravelAsk:
    """The direction of travel a search asks for (None: not asked)."""

    motion: str | None = None  # "away" | "towards"
    entry: str | None = None  # a side: left, right, top, bottom
    exit: str | None = None

    def __bool__(self) -> bool:
        return any((self.motion, self.entry, self.exit))


def _one(found: list[str], what: str) -> str | None:
    values = list(dict.fromkeys(found))
    if len(values) > 1:
        raise QueryError(f"two {what} given ({', '.join(values)}): search one at a time")
    return values[0] if values else None


def take_travel(text: _Taker) -> TravelAsk:
    """The direction of travel named in `text` (`query_text.Text`: each phrase found is blanked
    out); QueryError when it asks for two motions or two sides of one border."""
    motions, entries, exits = [], [], []
    for m in text.take(_ACROSS):
        entries.append(SIDE_WORDS[m["a"]])
        exits.append(SIDE_WORDS[m["b"]])
    for m in text.take(_LEAVING):
        exits.append(SIDE_WORDS[m["side"]])
    for m in text.take(_ENTERING):
        entries.append(SIDE_WORDS[m["side"]])
    motions += ["away" for _ in text.take(_AWAY)]
    motions += ["towards" for _ in text.take(_TOWARDS)]
    return TravelAsk(_one(motions, "directions (away, towards)"),
                     _one(entries, "entry sides"), _one(exits, "exit sides"))


def describe_travel(ask: TravelAsk) -> str:
    """The direction asked, in words ("away from the camera, leaving by the left")."""
    parts = []
    if ask.motion:
        parts.append(f"{ask.motion} {'from ' if ask.motion == 'away' else ''}the camera")
    if ask.entry:
        parts.append(f"entering by the {ask.entry}")
    if ask.exit:
        parts.append(f"leaving by the {ask.exit}")
    return ", ".join(parts)
