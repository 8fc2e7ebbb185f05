"""`eval attributes` on hand-built sightings: labels read from the passages' notes and
directions, agreement counted, the shown mark chosen on one half."""

from __future__ import annotations

import pytest

from relecture.evaluation.attributes import (
    body_labels, choose_threshold, direction_scores, label_video, side_labels, style_counts,
)
from relecture.sightings import ColourResult, PlateResult, Sighting, TypeResult, Travel


def sighting(first, last, body=(), motion=None, entry="inside", exit_="inside"):
    return Sighting(track_id=0, first_t=first, last_t=last, boxes=(),
                    vehicle_type=TypeResult("car", 0.9, body=body),
                    colour=ColourResult("white", 0.9), plate=PlateResult(None, 0.0),
                    best_t=first, thumbnail_jpeg=b"", travel=Travel(entry, exit_, motion, 0.8))


def row(pid, first, last, direction="", notes=""):
    return {"passage_id": pid, "t_first": str(first), "t_last": str(last),
            "direction": direction, "notes": notes, "confidence": "high"}


@pytest.mark.parametrize("notes, styles", [
    ("Silver SUV, already mid-field at t=0", {"suv"}),
    ("Green-and-white taxi.", {"taxi"}),
    ("white minivan (Grand Caravan-type, counted as car)", {"minivan"}),
    ("Silver wagon/compact MPV.", {"estate", "minivan"}),
    ("White sedan.", set()),
    ("FAR.", None),
    ("white box truck (cutaway box van)", {"box_truck"}),
])
def test_the_notes_name_the_body(notes, styles):
    got = body_labels(notes)
    assert (set(got) if got is not None else None) == styles


def test_sides_stated_in_the_direction_text():
    assert side_labels("towards camera (right lane), leaves bottom-right") == (
        frozenset(), frozenset({"bottom", "right"}))
    assert side_labels("background road top-right: enters at right edge, right-to-left (away)") \
        == (frozenset({"right"}), frozenset())
    assert side_labels("towards camera on the oncoming carriageway, leaves at the left edge") \
        == (frozenset(), frozenset({"left"}))


def test_direction_agreement_counts_unknown_as_not_agreeing():
    rows = [row("a", 0, 2, "away from camera"), row("b", 5, 7, "towards camera, leaves bottom"),
            row("c", 10, 12, "away from camera"), row("d", 20, 22, "parked")]
    sightings = [sighting(0, 2, motion="away"), sighting(5, 7, motion="towards", exit_="bottom"),
                 sighting(10, 12, motion=None), sighting(20, 22, motion="away")]
    scores = direction_scores(label_video("v", rows, sightings))
    assert (scores["motion_n"], scores["motion_agree"], scores["motion_decided"]) == (3, 2, 2)
    assert scores["motion_agreement_decided"] == 1.0
    assert (scores["exit_n"], scores["exit_agreement"]) == (1, 1.0)
    assert scores["direction_confusion"] == {"away": {"away": 1, "unknown": 1},
                                             "towards": {"towards": 1}}


def test_the_mark_is_the_one_that_separates_the_labelled_half():
    rows = [row("a", 0, 2, notes="taxi"), row("b", 5, 7, notes="sedan"),
            row("c", 10, 12, notes="taxi"), row("d", 20, 22, notes="hatchback")]
    sightings = [sighting(0, 2, body=(("taxi", 0.35),)), sighting(5, 7, body=(("taxi", 0.12),)),
                 sighting(10, 12, body=(("taxi", 0.22),)), sighting(20, 22, body=(("taxi", 0.02),))]
    items = label_video("v", rows, sightings)
    assert choose_threshold(items) == 0.125  # the lowest above 0.12 (a sedan)
    counts = style_counts(items, 0.15)["taxi"]
    assert (counts["tp"], counts["fp"], counts["fn"], counts["positives"]) == (2, 0, 0, 2)


def test_style_auc_says_how_well_the_probability_ranks():
    from relecture.evaluation.attributes import style_auc

    rows = [row("a", 0, 2, notes="taxi"), row("b", 5, 7, notes="sedan"),
            row("c", 10, 12, notes="taxi"), row("d", 20, 22, notes="FAR.")]
    sightings = [sighting(0, 2, body=(("taxi", 0.35),)), sighting(5, 7, body=(("taxi", 0.30),)),
                 sighting(10, 12, body=(("taxi", 0.22),)), sighting(20, 22, body=(("taxi", 0.9),))]
    auc = style_auc(label_video("v", rows, sightings))
    assert auc["taxi"] == 0.5  # one taxi above the sedan, one below; "FAR." is not labelled
    assert auc["suv"] is None  # no SUV among the labelled bodies


def test_the_cli_runs_attributes_on_a_passages_folder_and_refuses_a_bad_one(tmp_path):
    from typer.testing import CliRunner

    from relecture.cli import app

    (tmp_path / "passages").mkdir()
    (tmp_path / "videos").mkdir()
    result = CliRunner().invoke(app, ["eval", "attributes", "--data", str(tmp_path / "passages")])
    assert result.exit_code == 2 and "no passage CSV files" in result.output, result.output
    result = CliRunner().invoke(app, ["eval", "colours", "--data", str(tmp_path / "passages"),
                                      "--videos", str(tmp_path / "videos")])
    assert result.exit_code == 2 and "or `eval attributes`" in " ".join(result.output.split())
