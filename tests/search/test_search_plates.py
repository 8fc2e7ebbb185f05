"""Plate patterns: normalisation, wildcards, OCR-tolerant distance, and the SQL prefilter."""

from __future__ import annotations

import re

import duckdb
import pytest

from relecture.errors import QueryError
from relecture.search.plates import CONFUSION_COST, PlatePattern


def test_typed_forms_normalise_to_the_stored_form():
    assert PlatePattern.parse("ab-123-cd").pattern == "AB123CD"
    assert PlatePattern.parse("1234 AB 56").pattern == "1234AB56"
    assert PlatePattern.parse("AB-1?3-**").pattern == "AB1?3*"
    assert PlatePattern.parse("123").pattern == "*123*"  # a short fragment: contains


@pytest.mark.parametrize("typed", ["AB#12", "*", "A?", "é123"])
def test_malformed_patterns_are_refused(typed):
    with pytest.raises(QueryError):
        PlatePattern.parse(typed)


def test_wildcards_match_exactly():
    p = PlatePattern.parse("AB-1?3-*")
    assert p.matches_exactly("AB123CD") and p.matches_exactly("AB1Z3")
    assert not p.matches_exactly("AB12CD") and not p.matches_exactly("XAB123CD")


@pytest.mark.parametrize("read,distance", [
    ("AB123CD", 0.0),
    ("A8123CD", CONFUSION_COST),  # 8/B
    ("AB1Z3CD", CONFUSION_COST),  # 2/Z
    ("AB123C0", CONFUSION_COST),  # 0/D
    ("A8I23C0", 3 * CONFUSION_COST),
    ("AB12CD", 1.0),  # a character missed
    ("AB1234CD", 1.0),  # a character added
    ("FAB123CD", 1.0),  # one added in front (the EU band's F read as part of the plate)
    ("AB123CDX", 1.0),  # one added behind
    ("AB173CD", 1.0),  # a real misread
    ("XY987ZZ", None),  # too far: not offered
])
def test_tolerant_distance(read, distance):
    m = PlatePattern.parse("AB-123-CD").match(read, 0.8)
    assert (m.distance if m else None) == distance


def test_short_fragment_tolerates_only_confusions():
    p = PlatePattern.parse("123")
    assert p.match("AB123CD", 0.9).exact
    assert p.match("ABI23CD", 0.9).distance == CONFUSION_COST
    assert p.match("AB173CD", 0.9) is None


def test_best_read_wins_on_distance_then_confidence():
    p = PlatePattern.parse("AB123CD")
    best = p.best([("A8123CD", 0.99), ("AB123CD", 0.2), ("AB123CD", 0.6), (None, 0.0)])
    assert best.text == "AB123CD" and best.confidence == 0.6


READS = ["AB123CD", "A8123CD", "AB12CD", "AB1234CD", "AB173CD", "XY987ZZ", "ABI23C0", "B123CD",
         "CD123AB", "AB123CDE", "1234AB56", "AB-123"]


@pytest.mark.parametrize("typed", ["AB-123-CD", "AB-1?3-*", "123", "*CD", "1234 AB 56", "AB*"])
def test_sql_prefilter_never_drops_an_offered_read(typed):
    p = PlatePattern.parse(typed)
    db = duckdb.connect()
    kept = {r for r in READS
            if db.execute("SELECT regexp_full_match(?, ?)", [r, p.sql_regex()]).fetchone()[0]}
    offered = {r for r in READS if p.match(r, 1.0) is not None}
    assert offered <= kept
    # and it is a real filter: unrelated reads do not pass
    assert "XY987ZZ" not in kept


def test_sql_prefilter_agrees_with_python_regex():
    p = PlatePattern.parse("AB-123-CD")
    assert re.fullmatch(p.sql_regex(), "A8I23CD") and not re.fullmatch(p.sql_regex(), "ZZ999ZZ")


def _one_edit_neighbours(text: str) -> set[str]:
    """Every read one unit edit (or one OCR confusion) away from `text`."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    out = set()
    for i in range(len(text) + 1):
        out |= {text[:i] + c + text[i:] for c in alphabet}  # OCR added a character
        if i < len(text):
            out.add(text[:i] + text[i + 1:])  # OCR dropped one
            out |= {text[:i] + c + text[i + 1:] for c in alphabet}  # misread or confusion
    return out


@pytest.mark.parametrize("typed,plate", [
    ("AB-123-CD", "AB123CD"), ("FG373JK", "FG373JK"), ("1234 AB 56", "1234AB56"),
    ("AB-1?3-*", "AB173XY"), ("AB123*", "AB123XY"), ("*23CD", "XY123CD"), ("123", "AB123CD"),
    ("0O8B1", "0O8B1"),
])
def test_like_prefilter_keeps_every_offered_read(typed, plate):
    """The cheap LIKE/length prefilter (and it with the regex, as the engine runs them)
    never drops a read within the tolerance: insertions, deletions and substitutions at
    every position, and stacked confusions, are all kept."""
    p = PlatePattern.parse(typed)
    reads = _one_edit_neighbours(plate) | set(READS)
    reads |= {plate.translate(str.maketrans("BO0I1", "80D1I")), plate.replace("2", "Z")}
    db = duckdb.connect()
    db.execute("CREATE TABLE r (text VARCHAR)")
    db.executemany("INSERT INTO r VALUES (?)", [[r] for r in sorted(reads)])
    pre = {r for (r,) in db.execute(f"SELECT text FROM r WHERE {p.sql_prefilter('text')}").fetchall()}
    both = {r for (r,) in db.execute(
        f"SELECT text FROM r WHERE {p.sql_prefilter('text')} AND regexp_full_match(text, ?)",
        [p.sql_regex()]).fetchall()}
    offered = {r for r in reads if p.match(r, 1.0) is not None}
    assert offered and offered <= both <= pre
    if p.max_distance >= 1.0:  # one real edit allowed: far reads still do not pass
        assert "XY987ZZ" not in pre


def test_like_prefilter_is_a_real_filter():
    p = PlatePattern.parse("FG373JK")
    db = duckdb.connect()
    kept = [r for r in ["ZZ999ZZ", "AB123CD", "QQ373QQ", "FG373JKXX"]
            if db.execute(f"SELECT {p.sql_prefilter('t')} FROM (SELECT ?::VARCHAR AS t)",
                          [r]).fetchone()[0]]
    assert kept == []


def test_prefilter_agrees_with_distance_on_random_reads():
    """Random patterns (with `?` and `*`) against random reads up to two edits away: every
    read `match` offers passes the SQL prefilter and regex the engine runs."""
    import random

    rng = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    db = duckdb.connect()
    for _ in range(40):
        plate = "".join(rng.choice(alphabet) for _ in range(rng.choice([5, 7, 8])))
        typed = list(plate)
        if rng.random() < 0.3:
            typed[rng.randrange(len(typed))] = "?"
        if rng.random() < 0.3:
            typed = typed[:rng.randrange(3, len(typed))] + ["*"]
        p = PlatePattern.parse("".join(typed))
        reads = set()
        for _ in range(60):
            r = list(plate)
            for _ in range(rng.choice([0, 1, 1, 2])):
                i = rng.randrange(len(r) + 1)
                op = rng.choice("sid")
                if op == "s" and i < len(r):
                    r[i] = rng.choice(alphabet)
                elif op == "d" and i < len(r):
                    del r[i]
                else:
                    r.insert(i, rng.choice(alphabet))
            reads.add("".join(r))
        offered = {r for r in reads if p.match(r, 1.0) is not None}
        for r in reads:  # the shortcuts in `match` (length, early stop) change no decision
            full = 0.0 if p.matches_exactly(r) else p.distance(r)
            m = p.match(r, 1.0)
            assert (m.distance if m else None) == (full if full <= p.max_distance else None)
        kept = {r for (r,) in db.execute(
            f"SELECT t FROM (SELECT unnest(?::VARCHAR[]) AS t) "
            f"WHERE {p.sql_prefilter('t')} AND regexp_full_match(t, ?)",
            [sorted(reads), p.sql_regex()]).fetchall()}
        assert offered <= kept, (p.pattern, offered - kept)
