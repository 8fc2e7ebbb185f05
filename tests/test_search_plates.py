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
