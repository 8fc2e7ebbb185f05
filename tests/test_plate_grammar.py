"""The plate grammar shared by the reader and search: French SIV/FNI rules, OCR fixes, and
one confusion table."""

from __future__ import annotations

import pytest

from relecture.indexer.plate_text import TextBox, candidates_from_text
from relecture.plate_grammar import (
    CANON_FROM, CANON_TO, CONFUSIONS, best_interpretation, canonical_plate, format_family,
    normalise_plate, normalise_read, normalise_with_alternatives, plate_format,
)
from relecture.search.plates import CONFUSION_COST, substitution_cost


@pytest.mark.parametrize("plate", [
    "1A01", "12B2A", "123AB2B", "1234AB95", "9999ZZZ976", "123ABC971", "1234W75", "45WW13",
])
def test_every_fni_layout_is_french(plate):
    # 1-4 digits, 1-3 letters, departments 01-95, Corsica 2A/2B, overseas 971-976
    assert plate_format(plate) == "fni"
    assert format_family(plate) == "fni"


@pytest.mark.parametrize("plate", [
    "0123AB56",  # numbers have no leading zero
    "1234AB00", "1234AB96", "1234AB977",  # no such department
    "1234SS75",  # the SS series is not issued
    "1234AO75", "1234IB75", "1234UB75",  # no I, O, U in a series
    "12345AB75", "12ABCD75",  # too many digits, too many letters
])
def test_what_fni_never_issued_is_not_fni(plate):
    assert plate_format(plate) != "fni"


def test_siv_rules_and_w_garage_plates():
    assert plate_format("W178JZ") == "siv"  # W garage: W-123-AB
    assert plate_format("WW238BB") == "siv"  # temporary
    assert plate_format("W000AB") != "siv" and plate_format("AB123WW") != "siv"
    assert format_family("RK708AI") == "foreign" and format_family("ABC") == "foreign"


@pytest.mark.parametrize("raw, plate", [
    ("12 A 2B", "12A2B"),
    ("1234 W 75", "1234W75"),  # W garage, FNI
    ("9 ABC 974", "9ABC974"),
    ("91485266", "9148SZ66"),  # 5/S and 2/Z where the series' letters must be
    ("1234 A8 56", "1234AB56"),  # 8 where a letter must be
    ("12O4 AB 56", "1204AB56"),  # O where a digit must be
    ("W-178-JZ", "W178JZ"),
])
def test_fni_and_garage_reads_are_fixed(raw, plate):
    assert normalise_read(raw) == plate


def test_normalise_maps_look_alikes_and_drops_separators():
    assert normalise_plate("ab-123·cd") == "AB123CD"
    assert normalise_plate("АВ-123-СD") == "AB123CD"  # Cyrillic A, V(B), S(C)


def test_search_and_reader_share_one_confusion_table():
    for group in CONFUSIONS:
        for a in group:
            for b in group:
                assert substitution_cost(a, b) == (0.0 if a == b else CONFUSION_COST)
                assert canonical_plate(a) == canonical_plate(b)
    assert substitution_cost("A", "4") == 1.0  # a fix the reader guesses, not a confusion
    assert len(CANON_FROM) == len(CANON_TO)


def _box(text, x1, y1, x2, y2, conf=0.9):
    import numpy as np

    return TextBox(text, conf, np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32))


def test_a_plate_on_two_lines_is_read_top_then_bottom():
    # a motorcycle or square rear plate: "1234 AB" over "56"
    found = candidates_from_text([_box("56", 30, 34, 60, 54), _box("1234 AB", 10, 10, 90, 30)],
                                 "test", 1.0)
    best = max(found, key=lambda x: x[0])[1]
    assert best.text == "1234AB56"
    assert best.box == (10.0, 10.0, 90.0, 54.0)


def test_lines_far_apart_are_not_joined():
    found = candidates_from_text([_box("AB-123", 10, 10, 90, 30), _box("CD", 30, 90, 60, 110)],
                                 "test", 1.0)
    assert "AB123CD" not in {c.text for _, c in found}


def _sure_of(text: str) -> list[dict[str, float]]:
    """Alternatives of a recogniser that read every character of `text` at 0.9."""
    return [{c: 0.9} for c in text]


def test_the_recognisers_second_choice_picks_the_fix():
    # an O where SIV wants a letter: by the tables it is a Q; when the recogniser saw a D
    # there too, it is that D
    hesitant = _sure_of("AB123CO")
    hesitant[6] = {"O": 0.6, "D": 0.3, "Q": 0.01}
    assert best_interpretation("AB123CO", True)[0] == "AB123CQ"
    assert best_interpretation("AB123CO", True, tuple(hesitant))[0] == "AB123CD"


def test_a_close_second_choice_makes_a_french_read_of_an_unbanded_plate():
    # with no band seen, a clearly read O keeps the text foreign; an O the recogniser nearly
    # read as D is a French plate
    clear = _sure_of("AB123CO")
    assert best_interpretation("AB123CO", None, tuple(clear))[:2] == ("AB123CO", "generic")
    hesitant = _sure_of("AB123CO")
    hesitant[6] = {"O": 0.6, "D": 0.3}
    assert best_interpretation("AB123CO", None, tuple(hesitant))[:2] == ("AB123CD", "siv")
    faint = _sure_of("AB123CO")
    faint[6] = {"O": 0.9, "D": 0.002}  # far below ALT_SUPPORT of the O: not a second choice
    assert best_interpretation("AB123CO", None, tuple(faint))[0] == "AB123CO"


def test_alternatives_follow_the_characters_normalisation_keeps():
    text, alts = normalise_with_alternatives("ab-1", ({"A": 0.9}, {"B": 0.8}, {}, {"1": 0.7}))
    assert text == "AB1" and alts == ({"A": 0.9}, {"B": 0.8}, {"1": 0.7})
    assert normalise_with_alternatives("ab-1", ({"A": 0.9},)) == ("AB1", None)  # misaligned


@pytest.mark.parametrize("raw, plate", [("E972DY", "EE972DY"), ("AL33SM", "AL333SM"),
                                        ("AB123CD", "AB123CD")])
def test_a_repeated_character_the_recogniser_merged_is_restored(raw, plate):
    # CTC decoding merges a doubled character it sees no gap in: one more of it makes the
    # read a French plate; a read that already fits a layout (a W garage plate, an SIV
    # plate) is left as read
    assert best_interpretation(raw)[0] == plate
    assert best_interpretation("W238BB")[0] == "W238BB"


def test_no_character_is_doubled_on_a_plate_showing_a_foreign_band():
    assert best_interpretation("E972DY", french=False)[:2] == ("E972DY", "generic")
    # nor when a known EU layout fits after a stripped character: the repair costs more
    assert best_interpretation("RK101A0")[0] == "RK101AO"
