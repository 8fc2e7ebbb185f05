"""Colour as evidence, not a label: how likely each sighting is the colour asked.

Each sighting stores its colour distribution (catalog column colour_p, see
`indexer.colour.distribution`); older rows have only a name and a second choice, read as
`sightings.fallback_distribution`. A colour query ranks by its *evidence*: the probability
of the colours asked, plus `NEIGHBOUR_SHARE` of the probability of the colours an estimator
easily mistakes for them (`lexicon.NEIGHBOUR_COLOURS`: white/silver/grey...), at most 1.
Nothing is filtered out by colour unless the search is strict (`strict_sql`): then only
sightings named, or second-choice, one of the colours asked pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from relecture.search import lexicon as lx
from relecture.sightings import ALT_MASS, fallback_distribution

# Chosen on half of the labelled videos (BENCHMARKS.md, "Requisitions"): a neighbour's
# probability counts this much towards the colour asked.
NEIGHBOUR_SHARE = 0.25


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def neighbours(colours: tuple[str, ...]) -> tuple[str, ...]:
    """The neighbouring colours of those asked, not themselves asked, in order."""
    return tuple(dict.fromkeys(n for c in colours for n in lx.NEIGHBOUR_COLOURS.get(c, ())
                               if n not in colours))


def p_sql(colour: str, stored: bool) -> str:
    """SQL for the probability that sighting `s` is `colour`: its stored distribution
    (`stored`: the catalog has the column), else its name and second choice."""
    c = _lit(colour)
    fallback = (f"CASE WHEN s.colour = {c} THEN (CASE WHEN s.colour_alt IS NOT NULL AND "
                f"s.colour_alt <> s.colour THEN {1 - ALT_MASS} ELSE 1.0 END) "
                f"WHEN s.colour_alt = {c} THEN {ALT_MASS} ELSE 0.0 END")
    return f"coalesce(s.colour_p.{colour}, {fallback})" if stored else fallback


def hundredths_sql(expr: str) -> str:
    """SQL for `expr` (>= 0) rounded to 0.01. DuckDB's round(x, 2) costs about 9 ns a row,
    four times round(x): a whole-catalog ranking evaluates it on every sighting."""
    return f"(round(({expr}) * 100) / 100)"


def evidence_sql(colours: tuple[str, ...], stored: bool) -> str:
    """SQL for the colour evidence of `s` (see the module docstring), rounded to 0.01 so
    that sightings of about equal evidence are ordered by type and time, not by noise."""
    terms = [p_sql(c, stored) for c in colours]
    terms += [f"{NEIGHBOUR_SHARE} * {p_sql(n, stored)}" for n in neighbours(colours)]
    return hundredths_sql(f"least(1.0, {' + '.join(terms)})")


@dataclass(frozen=True)
class EvidenceBound:
    """A cheap condition (`sql`) that every sighting whose colour evidence exceeds `above`
    meets: a first page whose every row exceeds `above` is then the same with it as without."""

    sql: str
    above: float


def evidence_bound(colours: tuple[str, ...], stored: bool, least_asked: float) -> EvidenceBound | None:
    """The bound of a sum of the asked colours' stored probabilities of at least
    `least_asked` (None without the stored distributions).

    A sighting whose asked probabilities sum to A < least_asked has evidence at most
    A + NEIGHBOUR_SHARE * (1 - A) (the rest of its mass on neighbours): below
    `above`, to the rounding. One without a stored distribution falls back to its name
    (`p_sql`): above that only when it is named one of the colours asked, hence the
    name test. For one colour the condition is a comparison of one stored field, which
    DuckDB evaluates in the scan itself."""
    if not stored:
        return None
    share = NEIGHBOUR_SHARE if neighbours(colours) else 0.0
    asked = " + ".join(f"s.colour_p.{c}" for c in colours)
    named = ", ".join(_lit(c) for c in colours)
    return EvidenceBound(f"(({asked}) >= {least_asked} OR (s.colour_p IS NULL AND s.colour IN "
                         f"({named})))",
                         round(least_asked + share * (1 - least_asked) + 0.005, 3))


def strict_sql(colours: tuple[str, ...]) -> str:
    """SQL true when `s` is named, or has as second choice, one of `colours`."""
    listed = ", ".join(_lit(c) for c in colours)
    return f"(s.colour IN ({listed}) OR s.colour_alt IN ({listed}))"


def probabilities(colour_p: dict | None, name: str | None, alt: str | None) -> dict[str, float]:
    """A hit's colour distribution as stored, or from its name and second choice."""
    if colour_p:
        return {c: float(p) for c, p in colour_p.items() if p}
    return dict(fallback_distribution(name, alt))


def reason(probs: dict[str, float], colours: tuple[str, ...], evidence: float) -> str:
    """Why a hit ranks where it does on colour, e.g. "colour grey 0.41 (+ 0.25 x silver
    0.20) = 0.46"."""
    asked = ", ".join(f"{c} {probs.get(c, 0.0):.2f}" for c in colours)
    near = [f"{n} {probs[n]:.2f}" for n in neighbours(colours) if probs.get(n, 0.0) >= 0.01]
    if not near:
        return f"colour {asked}"
    return f"colour {asked} (+ {NEIGHBOUR_SHARE:g} x {', '.join(near)}) = {evidence:.2f}"
