"""Body style and direction of travel as evidence, like colour (`search/colours.py`).

Body style: each sighting stores the classifier's pooled probability of every style
(catalog column body_p, `indexer.body_style`). A style query ranks by the probability of
the styles asked (summed, at most 1); a sighting with no stored styles (indexed before
they were kept, or with type refinement off) counts 0. With --strict only sightings whose
probability reaches `body_style.SHOWN_AT` (the style is shown on the hit) pass.

Direction: each sighting stores its entry and exit borders and away/towards
(catalog column travel, `indexer.direction`). Each part asked scores 1 when the sighting
has it, 0 when it has the opposite (the other motion, another border), and `UNKNOWN` when
it cannot tell (no stored direction, motion unknown, appeared or vanished inside the
picture); the parts multiply. With --strict only sightings that have every part asked pass.

Style and direction evidence multiply into one figure, `attr_p`, ranked after colour.
"""

from __future__ import annotations

from relecture.indexer.body_style import SHOWN_AT
from relecture.search.colours import hundredths_sql
from relecture.search.query_travel import TravelAsk
from relecture.sightings import INSIDE

UNKNOWN = 0.5  # a direction the sighting cannot tell: between a match and a mismatch


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _style_p(style: str, stored: bool) -> str:
    return f"coalesce(s.body_p.{style}, 0.0)" if stored else "0.0"


def style_sql(styles: tuple[str, ...], stored: bool) -> str:
    """SQL for the style evidence of `s` (`stored`: the catalog has body_p)."""
    return f"least(1.0, {' + '.join(_style_p(x, stored) for x in styles)})"


def _part_sql(column: str, value: str, unknown_when: str) -> str:
    return (f"CASE WHEN s.travel.{column} = {_lit(value)} THEN 1.0 "
            f"WHEN s.travel.{column} IS NULL{unknown_when} THEN {UNKNOWN} ELSE 0.0 END")


def _travel_parts(ask: TravelAsk) -> list[str]:
    inside = f" OR s.travel.{{c}} = {_lit(INSIDE)}"
    parts = []
    if ask.motion:
        parts.append(_part_sql("motion", ask.motion, ""))
    if ask.entry:
        parts.append(_part_sql("entry", ask.entry, inside.format(c="entry")))
    if ask.exit:
        parts.append(_part_sql("exit", ask.exit, inside.format(c="exit")))
    return parts


def evidence_sql(styles: tuple[str, ...], ask: TravelAsk, body_stored: bool,
                 travel_stored: bool) -> str:
    """SQL for `attr_p`: style evidence times direction evidence, to 0.01 (1 when neither is
    asked). Without the travel column every direction asked is unknown."""
    terms = [style_sql(styles, body_stored)] if styles else []
    if ask:
        terms += _travel_parts(ask) if travel_stored else [str(UNKNOWN ** len(_travel_parts(ask)))]
    return hundredths_sql(' * '.join(terms) or '1.0')


def strict_sql(styles: tuple[str, ...], ask: TravelAsk, body_stored: bool,
               travel_stored: bool) -> list[str]:
    """SQL clauses that --strict adds: a style asked is shown, every direction part asked is
    the sighting's."""
    clauses = []
    if styles:
        clauses.append("(" + " OR ".join(f"{_style_p(x, body_stored)} >= {SHOWN_AT}"
                                         for x in styles) + ")")
    if ask:
        wanted = [(c, v) for c, v in (("motion", ask.motion), ("entry", ask.entry),
                                      ("exit", ask.exit)) if v]
        clauses += ([f"s.travel.{c} = {_lit(v)}" for c, v in wanted] if travel_stored
                    else ["FALSE"])
    return clauses


def reason(styles: tuple[str, ...], ask: TravelAsk, body_p: dict | None,
           travel: dict | None) -> list[str]:
    """Why a hit ranks where it does on style and direction, e.g. ["style taxi 0.31",
    "direction away (asked away)"]."""
    out = []
    if styles:
        probs = body_p or {}
        out.append("style " + ", ".join(f"{x.replace('_', ' ')} {float(probs.get(x) or 0.0):.2f}"
                                        for x in styles)
                   + ("" if body_p else " (no style recorded)"))
    if ask:
        out.append(f"direction {travel_text(travel)} (asked {describe_ask(ask)})")
    return out


def describe_ask(ask: TravelAsk) -> str:
    """The parts of a direction asked, short ("away, out left")."""
    parts = [ask.motion] if ask.motion else []
    parts += [f"in {ask.entry}"] if ask.entry else []
    parts += [f"out {ask.exit}"] if ask.exit else []
    return ", ".join(parts)


def travel_text(travel: dict | None) -> str:
    """A stored direction of travel in words: "away · in bottom edge → vanished inside"."""
    if not travel:
        return "unknown"
    entry = ("appeared inside" if travel.get("entry") == INSIDE
             else f"in {travel.get('entry')} edge")
    exit_ = ("vanished inside" if travel.get("exit") == INSIDE
             else f"out {travel.get('exit')} edge")
    return f"{travel.get('motion') or 'across/unsure'} · {entry} → {exit_}"
